//! The one error type of the `webc-host` library.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the library part of `webc-host` can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The container could not be read (malformed, truncated, missing entry, ...).
    #[error(transparent)]
    Container(#[from] webc_container::Error),
    /// A host file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The host path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
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
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
