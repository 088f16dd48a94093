//! Runner URIs: normalisation and matching.
//!
//! Manifests spell runners many ways: `https://webc.org/runner/wasi`,
//! `https://webc.org/runner/wasi@unstable_`, `https://webc.org/runner/wasi/command@unstable_`,
//! and `wasmer.toml` short names such as `wasi`. All of these name the runner
//! `https://webc.org/runner/wasi`. Unlike Wasmer's prefix match, matching here is on the
//! whole name, so `https://webc.org/runner/wasi-nn` is not WASI.

use std::fmt;

/// The web site under which the well-known runner names live.
pub const WELL_KNOWN_PREFIX: &str = "https://webc.org/runner/";

/// A parsed runner URI: the normalised name and the optional `@version`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunnerUri {
    /// e.g. `https://webc.org/runner/wasi`.
    pub name: String,
    /// The text after `@`, if any (e.g. `unstable_`).
    pub version: Option<String>,
}

impl fmt::Display for RunnerUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl RunnerUri {
    /// Parses and normalises: the scheme is optional (`webc.org/runner/wasi`), a bare name
    /// (`wasi`, `onnx`) means `https://webc.org/runner/<name>`, a trailing `/command` and
    /// trailing slashes are dropped, the host is lower-cased, and `@version` is split off.
    pub fn parse(text: &str) -> Result<RunnerUri, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty runner URI".into());
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "runner URI {text:?} contains whitespace or control characters"
            ));
        }
        let (body, version) = match t.rsplit_once('@') {
            Some((b, v)) if !v.contains('/') => (b, Some(v.to_owned()).filter(|v| !v.is_empty())),
            _ => (t, None),
        };
        let short;
        let (scheme, rest) = match body.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None if !body.contains('/') => {
                short = format!("webc.org/runner/{body}");
                ("https".to_owned(), short.as_str())
            }
            None => ("https".to_owned(), body),
        };
        if scheme != "https" && scheme != "http" {
            return Err(format!(
                "runner URI {text:?} has unsupported scheme {scheme:?}"
            ));
        }
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(format!("runner URI {text:?} has no host"));
        }
        let mut path = path.trim_end_matches('/');
        if let Some(p) = path.strip_suffix("/command") {
            path = p.trim_end_matches('/');
        }
        if path.is_empty() {
            return Err(format!("runner URI {text:?} names no runner (empty path)"));
        }
        // Wasmer's runners live under https; http spellings name the same runner.
        Ok(RunnerUri {
            name: format!("https://{}/{path}", host.to_ascii_lowercase()),
            version,
        })
    }

    /// Does a runner declaring `serves` accept this URI?
    pub fn matches(&self, serves: &crate::Serves) -> bool {
        let Ok(declared) = RunnerUri::parse(&serves.uri) else {
            return false;
        };
        if declared.name != self.name {
            return false;
        }
        let versions = serves.versions.trim();
        if versions == "*" || versions.is_empty() {
            return true;
        }
        let wanted = self.version.as_deref().unwrap_or("-");
        versions.split(',').map(str::trim).any(|v| v == wanted)
    }

    /// The short name for well-known runners (`wasi`), else the full name.
    pub fn short(&self) -> &str {
        self.name
            .strip_prefix(WELL_KNOWN_PREFIX)
            .unwrap_or(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Serves;

    fn wasi(versions: &str) -> Serves {
        Serves {
            uri: "https://webc.org/runner/wasi".into(),
            versions: versions.into(),
        }
    }

    #[test]
    fn matching_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("https://webc.org/runner/wasi", "*", true),
            ("https://webc.org/runner/wasi@unstable_", "*", true),
            ("https://webc.org/runner/wasi/command@unstable_", "*", true),
            ("https://webc.org/runner/wasi/command", "*", true),
            ("https://webc.org/runner/wasi/", "*", true),
            ("HTTPS://WEBC.ORG/runner/wasi", "*", true),
            ("http://webc.org/runner/wasi", "*", true),
            ("webc.org/runner/wasi", "*", true),
            ("wasi", "*", true),
            ("wasi@unstable_", "*", true),
            ("https://webc.org/runner/wasi-nn", "*", false),
            ("https://webc.org/runner/wasix", "*", false),
            ("https://webc.org/runner/wcgi", "*", false),
            ("https://example.org/runner/wasi", "*", false),
            ("https://webc.org/runner/WASI", "*", false),
            ("https://webc.org/runner/wasi@unstable_", "unstable_", true),
            ("https://webc.org/runner/wasi@2", "unstable_", false),
            ("https://webc.org/runner/wasi", "unstable_", false),
            ("https://webc.org/runner/wasi", "-,unstable_", true),
        ];
        for (uri, versions, expected) in cases {
            let parsed = RunnerUri::parse(uri).unwrap();
            assert_eq!(
                parsed.matches(&wasi(versions)),
                *expected,
                "{uri} vs {versions}"
            );
        }
    }

    #[test]
    fn normalisation() {
        let u = RunnerUri::parse("https://webc.org/runner/emscripten/command@unstable_").unwrap();
        assert_eq!(u.name, "https://webc.org/runner/emscripten");
        assert_eq!(u.version.as_deref(), Some("unstable_"));
        assert_eq!(u.short(), "emscripten");
        assert_eq!(
            u.to_string(),
            "https://webc.org/runner/emscripten@unstable_"
        );
        assert_eq!(
            RunnerUri::parse("onnx").unwrap().name,
            "https://webc.org/runner/onnx"
        );
        for bad in [
            "",
            "  ",
            "ftp://x/y",
            "https://",
            "https://webc.org",
            "https://webc.org/",
            "a b",
        ] {
            assert!(RunnerUri::parse(bad).is_err(), "{bad:?}");
        }
    }
}
