//! `webc-pack` turns a directory holding a `wasmer.toml` into a webc v3 container, byte for
//! byte what `wasmer package build` writes from the same files and modification times.
//!
//! (Being implemented: the API below is the contract the `webc-host pack` command uses.)

use std::path::{Path, PathBuf};

/// Errors while reading `wasmer.toml` or the files it names.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A package read from a directory, ready to be written.
#[derive(Debug)]
pub struct Package {
    /// The logical container content.
    pub writer: webc_container::write::Writer,
    /// The file name `wasmer package build` would pick (`ns-name-1.0.0.webc`).
    pub file_name: String,
}

impl Package {
    /// Reads `dir/wasmer.toml` and everything it references.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Err(Error::Other(format!(
            "packing {} is not implemented yet",
            dir.display()
        )))
    }

    /// The v3 container bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.writer
            .to_bytes(webc_container::Version::V3)
            .map_err(|e| Error::Other(e.to_string()))
    }

    /// Where `wasmer package build DIR` would write by default.
    pub fn default_output(&self, dir: &Path) -> PathBuf {
        dir.join(&self.file_name)
    }
}
