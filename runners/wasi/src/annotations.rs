//! The command's `wasi` annotation (Wasmer's `webc::metadata::annotations::Wasi`).

use ciborium::Value;
use webc_runner_api::RunnerError;

/// What a command's `wasi` annotation says. Unknown keys are ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct WasiAnnotation {
    /// `wasi.atom`: the atom (already chosen by the host; validated only).
    pub(crate) atom: Option<String>,
    /// `wasi.env`: `KEY=VALUE` entries, in order.
    pub(crate) env: Vec<(String, String)>,
    /// `wasi.main-args`: arguments placed before the user's.
    pub(crate) main_args: Vec<String>,
    /// `wasi.cwd`: the working directory (`/` when absent).
    pub(crate) cwd: Option<String>,
    /// `wasi.exec-name`: argv\[0\].
    pub(crate) exec_name: Option<String>,
}

fn invalid(key: &str, what: &str) -> RunnerError {
    RunnerError::InvalidJob(format!("annotation `wasi.{key}` {what}"))
}

fn text(key: &str, v: Value) -> Result<String, RunnerError> {
    match v {
        Value::Text(s) => Ok(s),
        _ => Err(invalid(key, "must be a string")),
    }
}

fn texts(key: &str, v: Value) -> Result<Vec<String>, RunnerError> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Text(s) => Ok(s),
                _ => Err(invalid(key, "must be a list of strings")),
            })
            .collect(),
        _ => Err(invalid(key, "must be a list of strings")),
    }
}

impl WasiAnnotation {
    /// Parses the command annotations (a CBOR map; empty bytes mean no annotations).
    pub(crate) fn parse(annotations: &[u8]) -> Result<WasiAnnotation, RunnerError> {
        if annotations.is_empty() {
            return Ok(WasiAnnotation::default());
        }
        let map: Value = ciborium::from_reader(annotations).map_err(|e| {
            RunnerError::InvalidJob(format!("the command annotations are not valid CBOR: {e}"))
        })?;
        let Value::Map(entries) = map else {
            return Err(RunnerError::InvalidJob(
                "the command annotations are not a CBOR map".into(),
            ));
        };
        let Some(wasi) = entries
            .into_iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == "wasi"))
            .map(|(_, v)| v)
        else {
            return Ok(WasiAnnotation::default());
        };
        let fields = match wasi {
            Value::Map(fields) => fields,
            Value::Null => return Ok(WasiAnnotation::default()),
            _ => {
                return Err(RunnerError::InvalidJob(
                    "annotation `wasi` must be a map".into(),
                ));
            }
        };
        let mut out = WasiAnnotation::default();
        for (k, v) in fields {
            let Value::Text(key) = k else { continue };
            // Wasmer writes absent optional fields as null.
            if v.is_null() {
                continue;
            }
            match key.as_str() {
                "atom" => out.atom = Some(text("atom", v)?),
                "env" => {
                    out.env = texts("env", v)?
                        .into_iter()
                        .map(|item| match item.split_once('=') {
                            Some((k, v)) => (k.to_owned(), v.to_owned()),
                            None => (item, String::new()),
                        })
                        .collect();
                }
                "main-args" | "main_args" => out.main_args = texts("main-args", v)?,
                "cwd" => out.cwd = Some(text("cwd", v)?),
                "exec-name" | "exec_name" => out.exec_name = Some(text("exec-name", v)?),
                _ => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbor(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(v, &mut out).unwrap();
        out
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn parses_all_fields_and_ignores_unknown_keys() {
        let ann = Value::Map(vec![
            (t("permissions"), Value::Map(vec![])),
            (
                t("wasi"),
                Value::Map(vec![
                    (t("atom"), t("hello")),
                    (t("env"), Value::Array(vec![t("A=1"), t("B=x=y"), t("C")])),
                    (t("main-args"), Value::Array(vec![t("--from-manifest")])),
                    (t("cwd"), t("/assets")),
                    (t("exec-name"), t("hello-bin")),
                    (t("future-key"), Value::Integer(3.into())),
                    (t("package"), Value::Null),
                ]),
            ),
        ]);
        let w = WasiAnnotation::parse(&cbor(&ann)).unwrap();
        assert_eq!(w.atom.as_deref(), Some("hello"));
        assert_eq!(
            w.env,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "x=y".into()),
                ("C".into(), String::new())
            ]
        );
        assert_eq!(w.main_args, vec!["--from-manifest".to_string()]);
        assert_eq!(w.cwd.as_deref(), Some("/assets"));
        assert_eq!(w.exec_name.as_deref(), Some("hello-bin"));
    }

    #[test]
    fn absent_or_empty() {
        assert_eq!(
            WasiAnnotation::parse(&[]).unwrap(),
            WasiAnnotation::default()
        );
        let ann = Value::Map(vec![(t("other"), t("x"))]);
        assert_eq!(
            WasiAnnotation::parse(&cbor(&ann)).unwrap(),
            WasiAnnotation::default()
        );
    }

    #[test]
    fn malformed_values_name_the_key() {
        for (key, value, named) in [
            ("env", t("A=1"), "wasi.env"),
            (
                "env",
                Value::Array(vec![Value::Integer(1.into())]),
                "wasi.env",
            ),
            ("main-args", t("x"), "wasi.main-args"),
            ("cwd", Value::Integer(1.into()), "wasi.cwd"),
            ("exec-name", Value::Array(vec![]), "wasi.exec-name"),
            ("atom", Value::Bool(true), "wasi.atom"),
        ] {
            let ann = Value::Map(vec![(t("wasi"), Value::Map(vec![(t(key), value)]))]);
            match WasiAnnotation::parse(&cbor(&ann)) {
                Err(RunnerError::InvalidJob(m)) => assert!(m.contains(named), "{m}"),
                other => panic!("{key}: {other:?}"),
            }
        }
        let ann = Value::Map(vec![(t("wasi"), t("nope"))]);
        assert!(matches!(
            WasiAnnotation::parse(&cbor(&ann)),
            Err(RunnerError::InvalidJob(_))
        ));
        assert!(matches!(
            WasiAnnotation::parse(&[0xff, 0x00]),
            Err(RunnerError::InvalidJob(_))
        ));
    }
}
