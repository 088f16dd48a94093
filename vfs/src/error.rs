//! Errors of building a [`crate::Vfs`]. Runtime file operations report [`Errno`]s instead.
//!
//! [`Errno`]: webc_runner_api::fs::Errno

use std::path::PathBuf;

/// Why a [`crate::VfsBuilder`] could not set up the namespace.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VfsError {
    /// A guest path is not usable as a mount point.
    #[error("invalid guest path {path:?}: {reason}")]
    GuestPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A host directory to grant could not be opened.
    #[error("cannot open host directory {path}: {source}")]
    HostDir {
        /// The host path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The container refused a volume operation (missing volume, malformed header, ...).
    #[error("volume {volume:?}: {source}")]
    Volume {
        /// The volume name.
        volume: String,
        /// The container's error.
        source: webc_container::Error,
    },
    /// The directory of a volume to mount does not exist or is not a directory.
    #[error("volume {volume:?} has no directory {path:?} to mount at {guest:?}: {reason}")]
    SourceDir {
        /// The volume name.
        volume: String,
        /// The directory inside the volume.
        path: String,
        /// The guest mount point.
        guest: String,
        /// What is wrong.
        reason: String,
    },
    /// An `fs` mapping takes its volume from a dependency (`from`), which is not supported.
    #[error(
        "the fs mapping of {mount_path:?} uses volume {volume:?} of dependency {from:?}; \
         mounting volumes of dependencies is not supported"
    )]
    DependencyMapping {
        /// The dependency alias.
        from: String,
        /// The volume name.
        volume: String,
        /// The guest mount point.
        mount_path: String,
    },
}

/// `Result` of building a [`crate::Vfs`].
pub type Result<T, E = VfsError> = std::result::Result<T, E>;
