//! `webc-container` reads, writes and verifies Wasmer's webc containers, byte-compatible
//! with Wasmer's own `webc` crate: [`Container`] opens v1, v2 and v3 files (memory-mapped,
//! zero-copy: every file and atom is a [`bytes::Bytes`] slice of the map), parsing the
//! header, index, manifest and atoms eagerly and each [`Volume`] lazily; path lookups build
//! a sorted table per (larger) directory on first use so they cost O(log n) per segment,
//! and v3 symlinks are resolved inside their volume, bounded. [`Manifest`] types the
//! well-known manifest parts (decoded straight from the CBOR) and keeps everything else, so
//! decode → encode reproduces the original CBOR; [`well_known`] names the runner URIs and
//! atom kinds. [`write::Writer`] produces v2 and v3 files byte-identical to Wasmer's writer, and
//! [`Container::verify`] recomputes every hash the container records. The format itself is
//! described in `docs/webc-format.md`. Nothing here panics on malformed input: every
//! problem is an [`Error`] naming what was wrong and its file offset.
//!
//! ```no_run
//! # fn main() -> webc_container::Result<()> {
//! let pkg = webc_container::Container::open("python.webc")?;
//! let volume = pkg.volume("/lib")?;
//! let bytes = volume.read_file("/python3.11/os.py")?;
//! assert!(pkg.verify().is_ok());
//! # let _ = bytes; Ok(()) }
//! ```

#![deny(missing_docs)]

mod cbor;
mod container;
mod cursor;
pub mod elf;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod manifest;
mod verify;
mod volume;
pub mod well_known;
pub mod write;

pub use container::{Container, Section, SectionKind, V1Header, detect};
pub use error::{Error, Result};
pub use manifest::Manifest;
pub use verify::{Failure, Report};
pub use volume::{DirEntry, EntryKind, MAX_DEPTH, MAX_PATH_LEN, MAX_SYMLINK_HOPS, Node, Volume};

/// A webc format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// `\0webc001` (legacy; read-only).
    V1,
    /// `\0webc002`.
    V2,
    /// `\0webc003` (what `wasmer package build` writes today).
    V3,
}

impl Version {
    /// The three digits in the header: `001`, `002`, `003`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "001",
            Version::V2 => "002",
            Version::V3 => "003",
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
