//! The command's `wasi` annotation, decoded by the container's own typed struct
//! ([`webc_container::manifest::Wasi`], the one definition the host also uses), which
//! accepts what Wasmer's `webc::metadata::annotations::Wasi` accepts: kebab-case keys, a
//! required `atom`, `null` read as absent; unknown keys — among them the snake_case
//! `main_args`/`exec_name` of legacy files, which Wasmer ignores too — are ignored.

use webc_container::manifest::{CommandAnnotations, Wasi};
use webc_runner_api::RunnerError;

/// What a command's `wasi` annotation says, as the runner uses it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct WasiAnnotation {
    /// `wasi.atom`: the atom (already chosen by the host; validated only).
    pub(crate) atom: Option<String>,
    /// `wasi.env`: `KEY=VALUE` entries, in order (an entry without `=` is `KEY=`).
    pub(crate) env: Vec<(String, String)>,
    /// `wasi.main-args`: arguments placed before the user's.
    pub(crate) main_args: Vec<String>,
    /// `wasi.cwd`: the working directory (`/` when absent).
    pub(crate) cwd: Option<String>,
    /// `wasi.exec-name`: argv\[0\].
    pub(crate) exec_name: Option<String>,
}

impl From<Wasi> for WasiAnnotation {
    fn from(w: Wasi) -> WasiAnnotation {
        WasiAnnotation {
            atom: Some(w.atom),
            env: w
                .env
                .unwrap_or_default()
                .iter()
                .map(|item| crate::split_env_entry(item))
                .collect(),
            main_args: w.main_args.unwrap_or_default(),
            cwd: w.cwd,
            exec_name: w.exec_name,
        }
    }
}

impl WasiAnnotation {
    /// Decodes the command annotations (a CBOR map; empty bytes mean no annotations) and
    /// takes their `wasi` entry (absent or `null`: the defaults).
    pub(crate) fn parse(annotations: &[u8]) -> Result<WasiAnnotation, RunnerError> {
        let decoded = CommandAnnotations::from_cbor(annotations)
            .map_err(|e| RunnerError::InvalidJob(format!("bad command annotations: {e}")))?;
        Ok(decoded.wasi.map(WasiAnnotation::from).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use ciborium::Value;

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
            let mut fields = vec![(t(key), value)];
            if key != "atom" {
                fields.push((t("atom"), t("main")));
            }
            let ann = Value::Map(vec![(t("wasi"), Value::Map(fields))]);
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

    /// What Wasmer's `webc` 12 accepts: `atom` is required (its `Wasi::atom` is a plain
    /// `String`), snake_case keys are unknown fields and ignored (`rename_all =
    /// "kebab-case"`, no aliases), even when their values have another shape.
    #[test]
    fn accepts_what_wasmer_accepts() {
        let ann = Value::Map(vec![(
            t("wasi"),
            Value::Map(vec![(t("main-args"), Value::Array(vec![t("x")]))]),
        )]);
        match WasiAnnotation::parse(&cbor(&ann)) {
            Err(RunnerError::InvalidJob(m)) => {
                assert!(m.contains("wasi") && m.contains("atom"), "{m}")
            }
            other => panic!("a wasi map without atom: {other:?}"),
        }
        let ann = Value::Map(vec![(
            t("wasi"),
            Value::Map(vec![
                (t("atom"), t("main")),
                (t("main_args"), t("--legacy as a string")),
                (t("exec_name"), Value::Array(vec![t("old")])),
                (t("package"), Value::Null),
            ]),
        )]);
        assert_eq!(
            WasiAnnotation::parse(&cbor(&ann)).unwrap(),
            WasiAnnotation {
                atom: Some("main".into()),
                ..WasiAnnotation::default()
            }
        );
        let ann = Value::Map(vec![(t("wasi"), Value::Null)]);
        assert_eq!(
            WasiAnnotation::parse(&cbor(&ann)).unwrap(),
            WasiAnnotation::default()
        );
    }
}
