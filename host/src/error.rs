//! The one error type of the `webc-host` library.

use std::path::PathBuf;

use webc_runner_api::RunnerError;

use crate::registry::Rejection;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the library part of `webc-host` can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The container could not be read (malformed, truncated, missing entry, ...).
    #[error(transparent)]
    Container(#[from] webc_container::Error),
    /// A host file-system operation failed. (The cause is part of the message and not a
    /// `source()`, so printing the error chain shows it once.)
    #[error("{}: {error}", shown_path(path))]
    Io {
        /// The host path involved.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The cache directory (or an entry in it) could not be created, read or written.
    #[error("cache {}: {error}", shown_path(path))]
    Cache {
        /// The cache path involved.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A volume or atom name cannot be turned into a safe relative path.
    #[error("cannot extract {what} {name:?}: {reason}")]
    UnsafeName {
        /// `volume` or `atom`.
        what: &'static str,
        /// The name as stored in the container.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// An entry of a volume would land outside the extraction directory, or cannot be
    /// represented safely on disk (an escaping symlink, a content hash mismatch, ...).
    #[error("refusing to extract {path} in volume {volume:?}: {reason}")]
    UnsafeEntry {
        /// The volume holding the entry.
        volume: String,
        /// The entry's path inside the volume.
        path: String,
        /// Why it was refused.
        reason: String,
    },
    /// The destination already holds something that extraction must not write through.
    #[error("{}: {reason}", path.display())]
    Destination {
        /// The offending host path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The package could not be read, packed or understood (for `run`).
    #[error("{0}")]
    Package(String),
    /// No such command (or no default command).
    #[error("{0}")]
    NoCommand(String),
    /// The atom failed verification: it is not run.
    #[error("refusing to run: {0}")]
    Integrity(String),
    /// The program's file system could not be set up (e.g. a granted directory is missing).
    #[error("cannot set up the program's file system: {0}")]
    Fs(String),
    /// The runner failed.
    #[error("runner {runner}: {error}")]
    Runner {
        /// The runner's name.
        runner: String,
        /// What it reported.
        error: RunnerError,
    },
    /// The `permissions` annotation is malformed.
    #[error("invalid `permissions` annotation: {key}: {reason}")]
    Declaration {
        /// Where, e.g. `permissions.fs[0].mode`.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A command-line grant could not be parsed.
    #[error("invalid {option} {value:?}: {reason}")]
    Grant {
        /// The option, e.g. `--mount`.
        option: &'static str,
        /// What was given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A grant the package does not declare.
    #[error("permission refused: {grant} is not declared by the package ({declared})")]
    Refused {
        /// The grant, e.g. `--mount /src:/data:rw`.
        grant: String,
        /// What the package declares for that key.
        declared: String,
    },
    /// The command lists one atom per architecture and none is for this machine.
    #[error("{0}")]
    NoPlatformAtom(String),
    /// A volume or atom could not be written to disk for a runner (`materialise`).
    #[error("cannot materialise {what}: {reason}")]
    Materialise {
        /// `volume "name"` or `the atom`.
        what: String,
        /// Why.
        reason: String,
    },
    /// No cache directory could be determined (no `HOME`).
    #[error("no cache directory: set --cache-dir, WEBC_HOST_CACHE, XDG_CACHE_HOME or HOME")]
    NoCacheLocation,
    /// The cache directory is not safely ours.
    #[error("refusing cache directory {}: {reason}", path.display())]
    UnsafeCache {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The command's runner string is not a runner URI.
    #[error("invalid runner URI {uri:?}: {reason}")]
    InvalidUri {
        /// As written.
        uri: String,
        /// What is wrong.
        reason: String,
    },
    /// A `--runner URI=NAME` argument is malformed.
    #[error("invalid --runner {arg:?}: {reason}")]
    InvalidPreference {
        /// As written.
        arg: String,
        /// What is wrong.
        reason: String,
    },
    /// No runner serves this runner URI at all (any version).
    #[error("no runner serves {uri}; available: {}{}", list_or_none(available), quarantined_hint(*quarantined))]
    NoRunner {
        /// The URI asked for (normalised, with its version).
        uri: String,
        /// Every runner URI that is served, as `URI (runner, …)`.
        available: Vec<String>,
        /// How many plugins are quarantined (they might have served it).
        quarantined: usize,
    },
    /// Every runner tried for this command refused its atom before starting.
    #[error("no runner for {uri} can take atom {}: {}", shown(atom), refusals.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    AllRefused {
        /// The command's runner URI.
        uri: String,
        /// The atom.
        atom: String,
        /// Each runner tried, in order, and why it refused.
        refusals: Vec<crate::registry::Rejection>,
    },
    /// Runners exist for this URI but none can run this command.
    #[error("no usable runner for {uri} (atom kind {atom_kind}): {}", rejected.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    NoUsable {
        /// The URI asked for.
        uri: String,
        /// The atom kind asked for.
        atom_kind: String,
        /// Each runner serving the URI's name, and why it was not used.
        rejected: Vec<Rejection>,
    },
    /// The backend the user asked for (`--runner-opt backend=B`) cannot be used.
    #[error("{origin}: {reason}")]
    Backend {
        /// Where the requirement came from.
        origin: String,
        /// The runner URI (normalised).
        uri: String,
        /// Why no runner with that backend can run the command.
        reason: String,
    },
    /// The runner named by `--runner URI=NAME` cannot be used.
    #[error("--runner {uri}={runner}: {reason}")]
    Preference {
        /// The URI the preference is for.
        uri: String,
        /// The runner preferred.
        runner: String,
        /// Why it cannot be used (unknown, does not serve the URI, unavailable, …).
        reason: String,
    },
}

/// Exit code: a host-side failure (bad package, permission refused, plugin failure).
pub const EXIT_HOST: u8 = 125;
/// Exit code: the runner cannot execute the atom.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// Exit code: no such command, or no runner for it.
pub const EXIT_NOT_FOUND: u8 = 127;

impl Error {
    /// Is this "no such runner" (no runner serves the URI, or the URI is invalid), as
    /// opposed to runners that exist but cannot be used?
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NoRunner { .. } | Error::InvalidUri { .. })
    }

    /// The process exit code for this failure (`webc-host run`'s table).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NoCommand(_) | Error::NoRunner { .. } | Error::InvalidUri { .. } => {
                EXIT_NOT_FOUND
            }
            Error::Runner {
                error: RunnerError::CannotExecute(_) | RunnerError::Refused(_),
                ..
            }
            | Error::AllRefused { .. }
            | Error::NoPlatformAtom(_) => EXIT_CANNOT_EXECUTE,
            _ => EXIT_HOST,
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none (no runner plugins were found; see `webc-host runners`)".into()
    } else {
        items.join(", ")
    }
}

fn quarantined_hint(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (1 plugin is quarantined; see `webc-host runners`)".into(),
        n => format!(" ({n} plugins are quarantined; see `webc-host runners`)"),
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| Error::Io { path, error }
    }
}

/// Longest text taken from the input (a path, a name) shown as is in a message.
pub const SHOWN_MAX: usize = 160;

/// `text` as shown in a one-line message: as is when short, else its start, an ellipsis
/// and its full length in bytes, so a 10 KB path or a 50 MiB name does not flood the
/// terminal yet stays recognisable.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= SHOWN_MAX {
        return text.into();
    }
    let mut end = SHOWN_MAX - 40;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len()).into()
}

/// A path as shown in a message (see [`shown`]).
pub fn shown_path(path: &std::path::Path) -> String {
    shown(&path.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_cut_with_its_size() {
        assert_eq!(shown("short"), "short");
        let long = "é".repeat(5000);
        let s = shown(&long);
        assert!(s.len() < SHOWN_MAX + 20, "{s}");
        assert!(s.ends_with("… (10000 bytes)"), "{s}");
        let e = Error::Io {
            path: PathBuf::from("/x".repeat(5000)),
            error: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let msg = format!("{:#}", anyhow_like(&e));
        assert!(msg.contains("(10000 bytes): entity not found"), "{msg}");
        // The cause appears once in the whole chain.
        assert_eq!(msg.matches("entity not found").count(), 1, "{msg}");
    }

    /// The message and every `source()` below it, as `anyhow`'s `{:#}` prints them.
    fn anyhow_like(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cur = c.source();
        }
        out
    }
}
