//! Choosing a runner for a command: candidates, preferences, errors.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use webc_runner_api::uri::RunnerUri;
use webc_runner_api::{Availability, Runner, RunnerInfo};

use super::{Entry, Registry, Source, one_line};
use crate::Error;

/// The runner chosen for a command.
#[derive(Clone)]
pub struct Selected {
    /// The runner (a dlopened plugin or a static runner).
    pub runner: Arc<dyn Runner>,
    /// Its description.
    pub info: RunnerInfo,
    /// Where it comes from.
    pub source: Source,
    /// The runner URI asked for, normalised.
    pub uri: RunnerUri,
    /// The user chose this runner (`--runner URI=NAME`, `--runner-opt backend=B`): when it
    /// refuses the atom, no other runner is tried.
    pub pinned: bool,
}

impl fmt::Debug for Selected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selected")
            .field("name", &self.info.name)
            .field("source", &self.source)
            .field("uri", &self.uri)
            .field("pinned", &self.pinned)
            .finish_non_exhaustive()
    }
}

/// One `--runner URI=NAME`: for runner URI `uri` (normalised name, no version) use the
/// runner called `runner`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerPreference {
    /// The normalised runner URI (e.g. `https://webc.org/runner/onnx` for `onnx`).
    pub uri: String,
    /// The runner name (as `webc-host runners` shows it).
    pub runner: String,
}

impl FromStr for RunnerPreference {
    type Err = Error;

    /// Parses `URI=NAME` (`onnx=onnx-tract`, `https://webc.org/runner/wasi=wasi`).
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidPreference {
            arg: s.to_owned(),
            reason,
        };
        let Some((uri, runner)) = s.rsplit_once('=') else {
            return Err(invalid("expected URI=NAME, e.g. onnx=onnx-tract".into()));
        };
        let runner = runner.trim();
        if runner.is_empty() {
            return Err(invalid("the runner name after `=` is empty".into()));
        }
        let uri = RunnerUri::parse(uri).map_err(invalid)?;
        Ok(RunnerPreference {
            uri: uri.name,
            runner: runner.to_owned(),
        })
    }
}

/// The user's runner preferences: normalised runner URI → runner name (`--runner`), and a
/// backend for the command being run (`--runner-opt backend=B`, or the command's own
/// `<runner>.backend` annotation). A later preference for the same URI replaces an earlier
/// one.
///
/// A *backend* is what a runner declares in [`RunnerInfo::backend`]: runner `onnx-tract`
/// has backend `tract`. A backend the user asked
/// for is required — if no available runner has it, selection fails saying why; one the
/// package suggests is only preferred — if unavailable, the usual order applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    by_uri: BTreeMap<String, String>,
    backend: Option<BackendPreference>,
}

/// A backend preference and how binding it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendPreference {
    /// The backend, e.g. `tract`.
    pub backend: String,
    /// Required (the user asked) or merely preferred (the package suggests).
    pub required: bool,
    /// Where it came from, for messages (`--runner-opt backend=tract`, `annotation onnx.backend`).
    pub origin: String,
}

/// Is the runner described by `info` built on `backend` (its [`RunnerInfo::backend`])?
pub fn has_backend(info: &RunnerInfo, backend: &str) -> bool {
    info.backend.as_deref() == Some(backend)
}

impl Preferences {
    /// No preferences.
    pub fn new() -> Preferences {
        Preferences::default()
    }

    /// Prefers `runner` for runner URI `uri` (any spelling: `onnx`, `…/onnx/command@x`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPreference`] when `uri` is not a runner URI.
    pub fn prefer(&mut self, uri: &str, runner: &str) -> Result<(), Error> {
        let parsed = RunnerUri::parse(uri).map_err(|reason| Error::InvalidPreference {
            arg: format!("{uri}={runner}"),
            reason,
        })?;
        self.by_uri.insert(parsed.name, runner.to_owned());
        Ok(())
    }

    /// The runner preferred for a normalised runner URI.
    pub fn get(&self, uri: &str) -> Option<&str> {
        self.by_uri.get(uri).map(String::as_str)
    }

    /// Requires (`required`) or prefers `backend` for the command being run; `origin` says
    /// where the wish comes from. A required backend is not replaced by a preferred one.
    pub fn set_backend(&mut self, backend: &str, required: bool, origin: &str) {
        if self
            .backend
            .as_ref()
            .is_some_and(|b| b.required && !required)
        {
            return;
        }
        self.backend = Some(BackendPreference {
            backend: backend.to_owned(),
            required,
            origin: origin.to_owned(),
        });
    }

    /// The backend preference, if any.
    pub fn backend(&self) -> Option<&BackendPreference> {
        self.backend.as_ref()
    }

    /// No preference at all?
    pub fn is_empty(&self) -> bool {
        self.by_uri.is_empty() && self.backend.is_none()
    }
}

impl Extend<RunnerPreference> for Preferences {
    fn extend<T: IntoIterator<Item = RunnerPreference>>(&mut self, iter: T) {
        for p in iter {
            self.by_uri.insert(p.uri, p.runner);
        }
    }
}

impl FromIterator<RunnerPreference> for Preferences {
    fn from_iter<T: IntoIterator<Item = RunnerPreference>>(iter: T) -> Self {
        let mut p = Preferences::new();
        p.extend(iter);
        p
    }
}

/// A runner that exists for the URI but was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Its name.
    pub runner: String,
    /// Why it cannot run this command (one line).
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.runner, self.reason)
    }
}

/// Does the runner accept this atom kind? `*` accepts anything; an empty requested kind
/// (a container that records none) is accepted by everyone.
fn accepts_kind(info: &RunnerInfo, kind: &str) -> bool {
    let kind = kind.trim();
    kind.is_empty()
        || info
            .atom_kinds
            .iter()
            .any(|k| k.trim() == "*" || k.trim() == kind)
}

/// Why an entry serving `uri`'s name does not fit this command, or `None` if it does.
fn misfit(info: &RunnerInfo, uri: &RunnerUri, kind: &str) -> Option<String> {
    if !info.serves.iter().any(|s| uri.matches(s)) {
        let versions: Vec<&str> = info
            .serves
            .iter()
            .filter(|s| RunnerUri::parse(&s.uri).is_ok_and(|d| d.name == uri.name))
            .map(|s| s.versions.as_str())
            .collect();
        return Some(format!(
            "serves versions `{}`, not {}",
            versions.join(","),
            uri.version
                .as_deref()
                .map_or_else(|| "an unversioned URI".to_owned(), |v| format!("`{v}`"))
        ));
    }
    if !accepts_kind(info, kind) {
        return Some(format!(
            "does not accept atom kind {kind} (accepts: {})",
            info.atom_kinds.join(", ")
        ));
    }
    None
}

fn serves_name(info: &RunnerInfo, uri: &RunnerUri) -> bool {
    info.serves
        .iter()
        .any(|s| RunnerUri::parse(&s.uri).is_ok_and(|d| d.name == uri.name))
}

/// Loads the entry and checks it is available and still fits.
fn try_use(entry: &Entry, uri: &RunnerUri, kind: &str, pinned: bool) -> Result<Selected, String> {
    let runner = entry.load()?;
    if let Availability::Unavailable(why) = entry.availability() {
        return Err(format!("unavailable: {}", one_line(&why)));
    }
    let info = entry.info.clone().unwrap_or_else(|| runner.info());
    if let Some(why) = misfit(&info, uri, kind) {
        return Err(why);
    }
    Ok(Selected {
        runner,
        info,
        source: entry.source.clone(),
        uri: uri.clone(),
        pinned,
    })
}

/// Picks the runner for a command, passing over the runners named in `excluded` (those
/// that already refused the atom).
pub(super) fn select(
    registry: &Registry,
    uri_text: &str,
    atom_kind: &str,
    preferences: &Preferences,
    excluded: &[String],
) -> Result<Selected, Error> {
    let uri = RunnerUri::parse(uri_text).map_err(|reason| Error::InvalidUri {
        uri: uri_text.to_owned(),
        reason,
    })?;
    let usable = || {
        registry
            .entries
            .iter()
            .filter(|e| e.quarantine.is_none())
            .filter_map(|e| e.info.as_ref().map(|i| (e, i)))
    };
    let mut rejected = Vec::new();
    let mut candidates = Vec::new();
    for (entry, info) in usable()
        .filter(|(_, i)| serves_name(i, &uri))
        .filter(|(_, i)| !excluded.contains(&i.name))
    {
        match misfit(info, &uri, atom_kind) {
            Some(reason) => rejected.push(Rejection {
                runner: info.name.clone(),
                reason,
            }),
            None => candidates.push((entry, info)),
        }
    }
    if candidates.is_empty() && rejected.is_empty() {
        return Err(Error::NoRunner {
            uri: uri.to_string(),
            available: registry.served_uris(),
            quarantined: registry
                .entries
                .iter()
                .filter(|e| e.quarantine.is_some() && !e.is_static())
                .count(),
        });
    }

    if let Some(wanted) = preferences.get(&uri.name) {
        let refuse = |reason: String| Error::Preference {
            uri: uri.name.clone(),
            runner: wanted.to_owned(),
            reason,
        };
        let Some(entry) = registry.get(wanted) else {
            let reason = match registry.entries.iter().find(|e| e.name() == Some(wanted)) {
                Some(q) => format!(
                    "`{wanted}` is quarantined: {}",
                    q.quarantine_reason().unwrap_or("unknown reason")
                ),
                None => {
                    let mut names: Vec<&str> =
                        candidates.iter().map(|(_, i)| i.name.as_str()).collect();
                    names.extend(rejected.iter().map(|r| r.runner.as_str()));
                    format!(
                        "no runner is called `{wanted}`; runners for {}: {}",
                        uri.name,
                        names.join(", ")
                    )
                }
            };
            return Err(refuse(reason));
        };
        if !candidates.iter().any(|(e, _)| std::ptr::eq(*e, entry)) {
            let why = rejected.iter().find(|r| r.runner == wanted).map_or_else(
                || format!("`{wanted}` does not serve {}", uri.name),
                |r| r.reason.clone(),
            );
            return Err(refuse(why));
        }
        return try_use(entry, &uri, atom_kind, true).map_err(refuse);
    }

    let backend = preferences.backend();
    let matches = |info: &RunnerInfo| backend.is_some_and(|b| has_backend(info, &b.backend));
    if let Some(b) = backend.filter(|b| b.required) {
        let refuse = |reason: String| Error::Backend {
            origin: b.origin.clone(),
            uri: uri.name.clone(),
            reason,
        };
        if !candidates.iter().any(|(_, i)| matches(i)) {
            let mut names: Vec<&str> = candidates.iter().map(|(_, i)| i.name.as_str()).collect();
            names.extend(rejected.iter().map(|r| r.runner.as_str()));
            return Err(refuse(format!(
                "no runner for {} has backend `{}` (runners: {})",
                uri.name,
                b.backend,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )));
        }
        candidates.retain(|(_, i)| matches(i));
    }
    // Preferred backend first, then priority, then name.
    candidates.sort_by(|(_, a), (_, b)| {
        matches(b)
            .cmp(&matches(a))
            .then_with(|| b.priority.cmp(&a.priority))
            .then_with(|| a.name.cmp(&b.name))
    });
    if let Some(b) = backend.filter(|b| !b.required)
        && candidates.first().is_some_and(|(_, i)| !matches(i))
    {
        tracing::debug!(
            backend = b.backend.as_str(),
            origin = b.origin.as_str(),
            "no runner with the suggested backend; using the usual order"
        );
    }
    for (entry, info) in candidates {
        match try_use(entry, &uri, atom_kind, backend.is_some_and(|b| b.required)) {
            Ok(selected) => return Ok(selected),
            Err(reason) => rejected.push(Rejection {
                runner: info.name.clone(),
                reason,
            }),
        }
    }
    if let Some(b) = backend.filter(|b| b.required) {
        return Err(Error::Backend {
            origin: b.origin.clone(),
            uri: uri.name.clone(),
            reason: rejected
                .iter()
                .map(Rejection::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    Err(Error::NoUsable {
        uri: uri.to_string(),
        atom_kind: atom_kind.to_owned(),
        rejected,
    })
}
