//! The one error type of this crate.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading, writing or looking into a container.
///
/// Errors about malformed input always carry the absolute file offset of the
/// structure that was wrong, so a user (or a fuzzer) can find it with a hex dump.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The first bytes are not `\0webc`.
    #[error("not a webc container: bad magic at offset 0 (expected \"\\0webc\")")]
    BadMagic,
    /// The three version digits name a version this crate does not know.
    #[error("unsupported webc version {0:?} at offset 5 (supported: 001, 002, 003)")]
    UnsupportedVersion(String),
    /// A structure runs past the end of the data it lives in.
    #[error("truncated {what} at offset {offset}: needs {needed} bytes, only {available} remain")]
    Truncated {
        /// What was being read.
        what: String,
        /// Absolute file offset of the structure.
        offset: u64,
        /// Bytes needed.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// A structure is present but its content is invalid.
    #[error("malformed {what} at offset {offset}: {reason}")]
    Malformed {
        /// What was being read.
        what: String,
        /// Absolute file offset of the structure.
        offset: u64,
        /// Why it is invalid.
        reason: String,
    },
    /// The manifest CBOR does not match the webc manifest schema.
    #[error("invalid manifest: {location}: {reason}")]
    Manifest {
        /// Where in the manifest, e.g. `commands.hello.annotations.wasi.atom`.
        location: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A path given to a lookup is not acceptable (e.g. contains `..`).
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: String,
    },
    /// A path does not exist in a volume.
    #[error("{path}: no such file or directory in volume {volume:?}")]
    NotFound {
        /// The volume searched.
        volume: String,
        /// The path looked up.
        path: String,
    },
    /// A path names something of the wrong type (e.g. a directory where a file was needed).
    #[error("{path} in volume {volume:?}: {reason}")]
    WrongType {
        /// The volume searched.
        volume: String,
        /// The path looked up.
        path: String,
        /// What was expected and found.
        reason: String,
    },
    /// Symbolic links could not be resolved: a loop, too many hops, or a target outside the volume.
    #[error("{path} in volume {volume:?}: {reason}")]
    Symlink {
        /// The volume searched.
        volume: String,
        /// The path being resolved.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// No volume or atom of that name.
    #[error("no {what} named {name:?} in this container")]
    Missing {
        /// `volume` or `atom`.
        what: &'static str,
        /// The name asked for.
        name: String,
    },
    /// Content does not match the hash the container records for it.
    #[error("{what} at offset {offset} failed its integrity check: {reason}")]
    Integrity {
        /// What was checked, e.g. `atom "hello"`.
        what: String,
        /// Absolute file offset of the content.
        offset: u64,
        /// Expected vs actual.
        reason: String,
    },
    /// Doing what was asked would cost more than the limit set for it (e.g. extraction
    /// writing more than its output budget). Nothing was done.
    #[error("refusing {what}: {reason}")]
    Limit {
        /// What was refused, e.g. `to extract "pkg.webc"`.
        what: String,
        /// The cost, the limit and how to raise it.
        reason: String,
    },
    /// The writer was given something it cannot encode.
    #[error("cannot write container: {0}")]
    Write(String),
}

impl Error {
    pub(crate) fn truncated(
        what: impl Into<String>,
        offset: u64,
        needed: u64,
        available: u64,
    ) -> Self {
        Error::Truncated {
            what: what.into(),
            offset,
            needed,
            available,
        }
    }

    pub(crate) fn malformed(
        what: impl Into<String>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        Error::Malformed {
            what: what.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// Puts `prefix()` before the `what` of a structural error (others are returned as
    /// they are). Hot paths read with short static labels and call this on failure, so
    /// nothing is formatted while the input is fine.
    pub(crate) fn prefixed(self, prefix: impl FnOnce() -> String) -> Self {
        self.relabel(|what| format!("{} {what}", prefix()))
    }

    /// Rewrites the `what` of a structural error (others are returned as they are).
    pub(crate) fn relabel(mut self, f: impl FnOnce(&str) -> String) -> Self {
        if let Error::Truncated { what, .. } | Error::Malformed { what, .. } = &mut self {
            *what = f(what);
        }
        self
    }

    pub(crate) fn manifest(location: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Manifest {
            location: location.into(),
            reason: reason.into(),
        }
    }
}
