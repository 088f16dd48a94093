//! Permissions: what a command declares (its `permissions` annotation), what the user
//! grants (`--mount`, `--env`, `--allow-net`, `--memory`, `--timeout`), and what it gets.
//!
//! - **No `permissions` annotation** (every existing Wasmer package): the program gets its
//!   own volumes read-only and nothing else unless the user grants it; user grants apply as
//!   given, as with wasmtime's `--dir`.
//! - **With the annotation**: every grant must be covered by a declaration — a grant beyond
//!   it is refused, naming the key; for mounts and limits the stricter of declared and
//!   granted wins; a declared permission the user did not grant is simply absent.
//!
//! Default limits (when neither side sets one): memory [`DEFAULT_MEMORY`] (the wasm32
//! address space), no wall-time limit, a private `/tmp` of [`DEFAULT_TMP_SIZE`] bytes (held in
//! memory, so it also counts against the host's memory).
//!
//! ```text
//! "permissions": { "fs":  [ {"guest": "/out", "mode": "rw"} ],
//!                  "net": { "connect": ["127.0.0.1:8080"], "listen": [] },
//!                  "env": ["LANG", "HOME"],
//!                  "limits": { "memory": "256MiB", "time": "30s", "tmp": "16MiB" } }
//! ```

use std::path::PathBuf;
use std::time::Duration;

use ciborium::Value;
use webc_container::manifest::CommandAnnotations;
use webc_runner_api::{Limits, Network};

/// Memory limit when neither the package nor the user sets one: 4 GiB.
pub const DEFAULT_MEMORY: u64 = 4 << 30;

/// Size of the private `/tmp` when neither the package nor the user sets one.
pub const DEFAULT_TMP_SIZE: u64 = webc_vfs::DEFAULT_TMP_SIZE;

use crate::error::{Error, Result};

/// Read-only or read-write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Read-only.
    Ro,
    /// Read-write.
    Rw,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        match s {
            "ro" => Some(Mode::Ro),
            "rw" => Some(Mode::Rw),
            _ => None,
        }
    }

    /// `ro` or `rw`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Ro => "ro",
            Mode::Rw => "rw",
        }
    }
}

/// One declared directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeclaredDir {
    /// Guest path the program expects a host directory at.
    pub guest: String,
    /// The most it needs.
    pub mode: Mode,
}

/// The `permissions` annotation.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Declared {
    /// Host directories it wants.
    pub fs: Vec<DeclaredDir>,
    /// `host:port` it may connect to.
    pub connect: Vec<String>,
    /// `host:port` it may listen on.
    pub listen: Vec<String>,
    /// Host environment variables it may see.
    pub env: Vec<String>,
    /// Memory limit (bytes).
    pub memory: Option<u64>,
    /// Wall-time limit.
    pub time: Option<Duration>,
    /// Size limit of the private `/tmp` (bytes).
    pub tmp: Option<u64>,
}

/// A host directory mounted into the guest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mount {
    /// Host directory.
    pub host: PathBuf,
    /// Guest path (absolute).
    pub guest: String,
    /// Access.
    pub mode: Mode,
}

/// What the user grants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grants {
    /// `--mount HOST:GUEST[:ro|rw]`.
    pub mounts: Vec<Mount>,
    /// `--env K=V` (`Some`) or `--env K` (`None`: the host's value).
    pub env: Vec<(String, Option<String>)>,
    /// `--allow-net connect:HOST:PORT`.
    pub connect: Vec<String>,
    /// `--allow-net listen:HOST:PORT`.
    pub listen: Vec<String>,
    /// `--memory SIZE`.
    pub memory: Option<u64>,
    /// `--timeout DURATION`.
    pub time: Option<Duration>,
    /// `--tmp-size SIZE`.
    pub tmp: Option<u64>,
}

/// What the program gets.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Effective {
    /// Host directories to mount.
    pub mounts: Vec<Mount>,
    /// Host environment passed in (the manifest's own `wasi.env` is separate).
    pub env: Vec<(String, String)>,
    /// Network grants.
    #[serde(skip)]
    pub network: Network,
    /// Limits.
    #[serde(skip)]
    pub limits: Limits,
    /// Size limit of the private `/tmp` (bytes).
    pub tmp_size: u64,
    /// Declared but not granted, for `run --explain`.
    pub not_granted: Vec<String>,
}

fn decl_err(key: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Declaration {
        key: key.into(),
        reason: reason.into(),
    }
}

fn text_list(v: &Value, key: &str) -> Result<Vec<String>> {
    let Value::Array(items) = v else {
        return Err(decl_err(key, "expected an array of strings"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Text(t) => Ok(t.clone()),
            _ => Err(decl_err(format!("{key}[{i}]"), "expected a string")),
        })
        .collect()
}

fn entries<'a>(v: &'a Value, key: &str) -> Result<&'a [(Value, Value)]> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(decl_err(key, "expected a map")),
    }
}

fn key_of<'a>(k: &'a Value, key: &str) -> Result<&'a str> {
    match k {
        Value::Text(t) => Ok(t),
        _ => Err(decl_err(key, "map keys must be strings")),
    }
}

/// Parses the command's `permissions` annotation; `Ok(None)` when it has none.
pub fn declared(annotations: &CommandAnnotations) -> Result<Option<Declared>> {
    let Some(v) = annotations.get("permissions") else {
        return Ok(None);
    };
    let mut d = Declared::default();
    for (k, v) in entries(&v, "permissions")? {
        match key_of(k, "permissions")? {
            "fs" => {
                let Value::Array(items) = v else {
                    return Err(decl_err("permissions.fs", "expected an array"));
                };
                for (i, item) in items.iter().enumerate() {
                    let key = format!("permissions.fs[{i}]");
                    let (mut guest, mut mode) = (None, Mode::Ro);
                    for (k, v) in entries(item, &key)? {
                        match (key_of(k, &key)?, v) {
                            ("guest", Value::Text(g)) => guest = Some(g.clone()),
                            ("mode", Value::Text(m)) => {
                                mode = Mode::parse(m).ok_or_else(|| {
                                    decl_err(
                                        format!("{key}.mode"),
                                        format!("{m:?} is not \"ro\" or \"rw\""),
                                    )
                                })?;
                            }
                            (other, _) => {
                                return Err(decl_err(
                                    format!("{key}.{other}"),
                                    "unknown key or wrong type",
                                ));
                            }
                        }
                    }
                    let guest = guest.ok_or_else(|| decl_err(format!("{key}.guest"), "missing"))?;
                    let guest =
                        normalize_guest(&guest).map_err(|r| decl_err(format!("{key}.guest"), r))?;
                    d.fs.push(DeclaredDir { guest, mode });
                }
            }
            "net" => {
                for (k, v) in entries(v, "permissions.net")? {
                    let name = key_of(k, "permissions.net")?;
                    let key = format!("permissions.net.{name}");
                    let list = text_list(v, &key)?;
                    for addr in &list {
                        check_addr(addr).map_err(|r| decl_err(&key, r))?;
                    }
                    match name {
                        "connect" => d.connect = list,
                        "listen" => d.listen = list,
                        _ => return Err(decl_err(key, "unknown key (expected connect or listen)")),
                    }
                }
            }
            "env" => {
                d.env = text_list(v, "permissions.env")?;
                if let Some(bad) = d
                    .env
                    .iter()
                    .find(|k| k.is_empty() || k.contains('=') || k.contains('\0'))
                {
                    return Err(decl_err(
                        "permissions.env",
                        format!("{bad:?} is not a variable name"),
                    ));
                }
            }
            "limits" => {
                for (k, v) in entries(v, "permissions.limits")? {
                    let name = key_of(k, "permissions.limits")?;
                    let key = format!("permissions.limits.{name}");
                    let Value::Text(t) = v else {
                        return Err(decl_err(
                            key,
                            "expected a string such as \"256MiB\" or \"30s\"",
                        ));
                    };
                    match name {
                        "memory" => d.memory = Some(parse_size(t).map_err(|r| decl_err(&key, r))?),
                        "time" => d.time = Some(parse_duration(t).map_err(|r| decl_err(&key, r))?),
                        "tmp" => d.tmp = Some(parse_size(t).map_err(|r| decl_err(&key, r))?),
                        _ => {
                            return Err(decl_err(
                                key,
                                "unknown limit (expected memory, time or tmp)",
                            ));
                        }
                    }
                }
            }
            other => {
                // Unknown keys grant nothing; a newer package may declare more.
                tracing::warn!("ignoring unknown permission key permissions.{other}");
            }
        }
    }
    Ok(Some(d))
}

/// `/a//b/` → `/a/b`; must be absolute, no `.`/`..`.
fn normalize_guest(path: &str) -> std::result::Result<String, String> {
    if !path.starts_with('/') {
        return Err(format!("guest path {path:?} must be absolute"));
    }
    let mut out = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        if seg == "." || seg == ".." || seg.contains('\0') {
            return Err(format!(
                "guest path {path:?} may not contain `.`, `..` or NUL"
            ));
        }
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

fn is_within(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn check_addr(addr: &str) -> std::result::Result<(), String> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("{addr:?} is not HOST:PORT"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(format!("{addr:?} has no host"));
    }
    port.parse::<u16>()
        .map_err(|_| format!("{addr:?}: port {port:?} is not a number 0-65535"))?;
    Ok(())
}

/// `HOST:GUEST[:ro|rw]` (default rw).
pub fn parse_mount(text: &str) -> Result<Mount> {
    let err = |reason: &str| Error::Grant {
        option: "--mount",
        value: text.into(),
        reason: reason.into(),
    };
    let (rest, mode) = match text.rsplit_once(':') {
        Some((r, m)) if Mode::parse(m).is_some() => (r, Mode::parse(m).unwrap_or(Mode::Rw)),
        _ => (text, Mode::Rw),
    };
    let (host, guest) = rest
        .rsplit_once(':')
        .ok_or_else(|| err("expected HOST:GUEST[:ro|rw]"))?;
    if host.is_empty() {
        return Err(err("empty host path"));
    }
    let guest = normalize_guest(guest).map_err(|r| err(&r))?;
    Ok(Mount {
        host: PathBuf::from(host),
        guest,
        mode,
    })
}

/// `K=V` or `K`.
pub fn parse_env(text: &str) -> Result<(String, Option<String>)> {
    let (k, v) = match text.split_once('=') {
        Some((k, v)) => (k, Some(v.to_owned())),
        None => (text, None),
    };
    if k.is_empty() || k.contains('\0') {
        return Err(Error::Grant {
            option: "--env",
            value: text.into(),
            reason: "expected K=V or K".into(),
        });
    }
    Ok((k.to_owned(), v))
}

/// `connect:HOST:PORT` or `listen:HOST:PORT`; returns (is_listen, addr).
pub fn parse_net(text: &str) -> Result<(bool, String)> {
    let err = |reason: String| Error::Grant {
        option: "--allow-net",
        value: text.into(),
        reason,
    };
    let (kind, addr) = text
        .split_once(':')
        .ok_or_else(|| err("expected connect:HOST:PORT or listen:HOST:PORT".into()))?;
    let listen = match kind {
        "connect" => false,
        "listen" => true,
        _ => return Err(err(format!("{kind:?} is not connect or listen"))),
    };
    check_addr(addr).map_err(err)?;
    Ok((listen, addr.to_owned()))
}

/// `1.5GiB` → (1.5, "GiB"): a non-negative decimal number and the unit after it.
fn number_and_unit<'a>(text: &'a str, what: &str) -> std::result::Result<(f64, &'a str), String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value = num.parse().map_err(|_| format!("{text:?} is not {what}"))?;
    Ok((value, unit.trim()))
}

/// `256MiB`, `1GiB`, `512M` (= MiB), `64k`, `2GB` (decimal), `1000` (bytes).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let (value, unit) = number_and_unit(text, "a size such as 256MiB")?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use B, KiB, MiB, GiB, KB, MB, GB)"
            ));
        }
    };
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

/// `30s`, `500ms`, `2m`, `1h`, `1.5s`, `10` (seconds).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let (value, unit) = number_and_unit(text, "a duration such as 30s")?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use ms, s, m, h)"
            ));
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{text:?} is out of range"))
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Declared ∩ granted. `host_env` looks up the host's variables (for `--env K`).
pub fn effective(
    declared: Option<&Declared>,
    grants: &Grants,
    host_env: impl Fn(&str) -> Option<String>,
) -> Result<Effective> {
    let mut out = Effective::default();
    for m in &grants.mounts {
        let mut mount = m.clone();
        if let Some(d) = declared {
            let cover =
                d.fs.iter()
                    .filter(|dd| is_within(&m.guest, &dd.guest))
                    .max_by_key(|dd| dd.guest.len());
            let Some(cover) = cover else {
                return Err(Error::Refused {
                    grant: format!(
                        "--mount {}:{}:{}",
                        m.host.display(),
                        m.guest,
                        m.mode.as_str()
                    ),
                    declared: describe(
                        d.fs.iter()
                            .map(|f| format!("{}:{}", f.guest, f.mode.as_str())),
                        "fs",
                    ),
                });
            };
            mount.mode = mount.mode.min(cover.mode);
        }
        out.mounts.push(mount);
    }
    for (k, v) in &grants.env {
        if let Some(d) = declared
            && !d.env.iter().any(|e| e == k)
        {
            return Err(Error::Refused {
                grant: format!("--env {k}"),
                declared: describe(d.env.iter().cloned(), "env"),
            });
        }
        let value = match v {
            Some(v) => v.clone(),
            None => host_env(k).ok_or_else(|| Error::Grant {
                option: "--env",
                value: k.clone(),
                reason: "not set in the host environment".into(),
            })?,
        };
        out.env.push((k.clone(), value));
    }
    for (listen, list) in [(false, &grants.connect), (true, &grants.listen)] {
        for addr in list {
            if let Some(d) = declared {
                let allowed = if listen { &d.listen } else { &d.connect };
                if !allowed.iter().any(|a| a == addr) {
                    let kind = if listen { "listen" } else { "connect" };
                    return Err(Error::Refused {
                        grant: format!("--allow-net {kind}:{addr}"),
                        declared: describe(allowed.iter().cloned(), &format!("net.{kind}")),
                    });
                }
            }
            if listen {
                &mut out.network.listen
            } else {
                &mut out.network.connect
            }
            .push(addr.clone());
        }
    }
    out.limits = Limits {
        memory: Some(
            min_opt(declared.and_then(|d| d.memory), grants.memory).unwrap_or(DEFAULT_MEMORY),
        ),
        time: min_opt(declared.and_then(|d| d.time), grants.time),
    };
    out.tmp_size = min_opt(declared.and_then(|d| d.tmp), grants.tmp).unwrap_or(DEFAULT_TMP_SIZE);
    if let Some(d) = declared {
        for f in &d.fs {
            if !out.mounts.iter().any(|m| is_within(&m.guest, &f.guest)) {
                out.not_granted
                    .push(format!("fs {}:{}", f.guest, f.mode.as_str()));
            }
        }
        for e in &d.env {
            if !out.env.iter().any(|(k, _)| k == e) {
                out.not_granted.push(format!("env {e}"));
            }
        }
        for c in &d.connect {
            if !out.network.connect.contains(c) {
                out.not_granted.push(format!("net connect {c}"));
            }
        }
        for l in &d.listen {
            if !out.network.listen.contains(l) {
                out.not_granted.push(format!("net listen {l}"));
            }
        }
    }
    Ok(out)
}

fn describe(items: impl Iterator<Item = String>, key: &str) -> String {
    let list: Vec<String> = items.collect();
    if list.is_empty() {
        format!("it declares no {key}")
    } else {
        format!("declared {key}: {}", list.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(v: Value) -> CommandAnnotations {
        let mut a = CommandAnnotations::default();
        a.extra.insert("permissions", v);
        a
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn sample() -> Declared {
        declared(&annotations(Value::Map(vec![
            (
                t("fs"),
                Value::Array(vec![
                    Value::Map(vec![(t("guest"), t("/out")), (t("mode"), t("rw"))]),
                    Value::Map(vec![(t("guest"), t("/in")), (t("mode"), t("ro"))]),
                ]),
            ),
            (
                t("net"),
                Value::Map(vec![(
                    t("connect"),
                    Value::Array(vec![t("127.0.0.1:8080")]),
                )]),
            ),
            (t("env"), Value::Array(vec![t("LANG")])),
            (
                t("limits"),
                Value::Map(vec![(t("memory"), t("256MiB")), (t("time"), t("30s"))]),
            ),
        ])))
        .unwrap()
        .unwrap()
    }

    fn mount(s: &str) -> Mount {
        parse_mount(s).unwrap()
    }

    #[test]
    fn declaration_parses() {
        let d = sample();
        assert_eq!(d.fs.len(), 2);
        assert_eq!(d.memory, Some(256 << 20));
        assert_eq!(d.time, Some(Duration::from_secs(30)));
        assert_eq!(declared(&CommandAnnotations::default()).unwrap(), None);
    }

    #[test]
    fn malformed_declarations_name_the_key() {
        let bad = [
            (
                Value::Map(vec![(
                    t("fs"),
                    Value::Array(vec![Value::Map(vec![(t("guest"), t("out"))])]),
                )]),
                "permissions.fs[0].guest",
            ),
            (
                Value::Map(vec![(
                    t("fs"),
                    Value::Array(vec![Value::Map(vec![
                        (t("guest"), t("/o")),
                        (t("mode"), t("rwx")),
                    ])]),
                )]),
                "permissions.fs[0].mode",
            ),
            (
                Value::Map(vec![(
                    t("net"),
                    Value::Map(vec![(t("connect"), Value::Array(vec![t("nohost")]))]),
                )]),
                "permissions.net.connect",
            ),
            (
                Value::Map(vec![(
                    t("limits"),
                    Value::Map(vec![(t("memory"), t("lots"))]),
                )]),
                "permissions.limits.memory",
            ),
            (
                Value::Map(vec![(t("env"), Value::Array(vec![t("A=B")]))]),
                "permissions.env",
            ),
            (t("all"), "permissions"),
        ];
        for (v, key) in bad {
            match declared(&annotations(v)) {
                Err(Error::Declaration { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    /// The intersection table.
    #[test]
    fn intersection_table() {
        let d = sample();
        let env = |k: &str| (k == "LANG").then(|| "C.UTF-8".to_owned());
        // Without a declaration, grants apply as given.
        let g = Grants {
            mounts: vec![mount("/tmp/x:/anything")],
            env: vec![("HOME".into(), Some("/h".into()))],
            ..Default::default()
        };
        let e = effective(None, &g, env).unwrap();
        assert_eq!(e.mounts[0].mode, Mode::Rw);
        assert_eq!(e.env, vec![("HOME".to_owned(), "/h".to_owned())]);
        assert_eq!(e.limits.memory, Some(DEFAULT_MEMORY));
        assert_eq!(e.limits.time, None);
        // Nothing granted: nothing at all.
        let e = effective(None, &Grants::default(), env).unwrap();
        assert!(e.mounts.is_empty() && e.env.is_empty() && e.network.connect.is_empty());

        // With a declaration: covered grants pass, modes and limits take the stricter.
        let g = Grants {
            mounts: vec![
                mount("/h/out:/out:rw"),
                mount("/h/in:/in:rw"),
                mount("/h/sub:/out/sub:ro"),
            ],
            env: vec![("LANG".into(), None)],
            connect: vec!["127.0.0.1:8080".into()],
            memory: Some(1 << 30),
            time: Some(Duration::from_secs(5)),
            ..Default::default()
        };
        let e = effective(Some(&d), &g, env).unwrap();
        let modes: Vec<Mode> = e.mounts.iter().map(|m| m.mode).collect();
        assert_eq!(modes, [Mode::Rw, Mode::Ro, Mode::Ro]);
        assert_eq!(e.env, vec![("LANG".to_owned(), "C.UTF-8".to_owned())]);
        assert_eq!(e.network.connect, vec!["127.0.0.1:8080".to_owned()]);
        assert_eq!(e.limits.memory, Some(256 << 20));
        assert_eq!(e.limits.time, Some(Duration::from_secs(5)));
        assert!(e.not_granted.is_empty(), "{:?}", e.not_granted);

        // Declared but not granted: absent, and explained.
        let e = effective(Some(&d), &Grants::default(), env).unwrap();
        assert!(e.mounts.is_empty());
        assert_eq!(
            e.not_granted,
            [
                "fs /out:rw",
                "fs /in:ro",
                "env LANG",
                "net connect 127.0.0.1:8080"
            ]
        );
        assert_eq!(e.limits.time, Some(Duration::from_secs(30)));

        // Grants beyond the declaration are refused, naming the key.
        let refused = [
            Grants {
                mounts: vec![mount("/h:/etc")],
                ..Default::default()
            },
            Grants {
                mounts: vec![mount("/h:/output")],
                ..Default::default()
            },
            Grants {
                env: vec![("HOME".into(), Some("x".into()))],
                ..Default::default()
            },
            Grants {
                connect: vec!["127.0.0.1:9090".into()],
                ..Default::default()
            },
            Grants {
                listen: vec!["127.0.0.1:8080".into()],
                ..Default::default()
            },
        ];
        let keys = [
            "--mount /h:/etc:rw",
            "--mount /h:/output:rw",
            "--env HOME",
            "--allow-net connect:127.0.0.1:9090",
            "--allow-net listen:127.0.0.1:8080",
        ];
        for (g, key) in refused.iter().zip(keys) {
            match effective(Some(&d), g, env) {
                Err(Error::Refused { grant, .. }) => assert_eq!(grant, key),
                other => panic!("{key}: {other:?}"),
            }
        }
        // --env K with K unset on the host is an error, not an empty value.
        let g = Grants {
            env: vec![("NOPE".into(), None)],
            ..Default::default()
        };
        assert!(matches!(effective(None, &g, env), Err(Error::Grant { .. })));
    }

    #[test]
    fn grant_syntax() {
        assert_eq!(
            mount("/a:/b"),
            Mount {
                host: "/a".into(),
                guest: "/b".into(),
                mode: Mode::Rw
            }
        );
        assert_eq!(mount("/a:/b/:ro").mode, Mode::Ro);
        assert_eq!(mount("/a:/b/").guest, "/b");
        assert_eq!(mount("C:/x:/b:rw").host, PathBuf::from("C:/x"));
        for bad in ["/a", "/a:b", ":/b", "/a:/b/../c"] {
            assert!(parse_mount(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_env("K=V=W").unwrap(),
            ("K".into(), Some("V=W".into()))
        );
        assert_eq!(parse_env("K").unwrap(), ("K".into(), None));
        assert!(parse_env("=V").is_err());
        assert_eq!(
            parse_net("connect:127.0.0.1:80").unwrap(),
            (false, "127.0.0.1:80".into())
        );
        assert_eq!(
            parse_net("listen:[::1]:80").unwrap(),
            (true, "[::1]:80".into())
        );
        for bad in [
            "bind:1.2.3.4:5",
            "connect:1.2.3.4",
            "connect::80",
            "connect:h:99999",
        ] {
            assert!(parse_net(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(
            parse_size("ten").is_err()
                && parse_size("5 parsecs").is_err()
                && parse_size("1e999GiB").is_err()
        );
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err() && parse_duration("-1s").is_err());
    }
}
