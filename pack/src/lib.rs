//! `webc-pack` turns a directory holding a `wasmer.toml` into a webc v3 container, byte for
//! byte what `wasmer package build` (`wasmer-package` 0.704.2) writes from the same files and
//! modification times: the manifest converted as Wasmer converts it (atoms with sha256
//! signatures and detected `wasm.features`, commands with runner URIs and merged
//! annotations, `wapm` without name/version/description, `fs` mappings, bindings, `use`),
//! one volume per `[fs]` directory walked with `.wasmerignore` rules plus a `metadata` volume,
//! written by [`webc_container::write::Writer`]. Where Wasmer would write a package that
//! cannot run (a command naming a module that does not exist) or would panic, this crate
//! returns an [`Error`] naming the key, file or line instead.
//!
//! ```no_run
//! # fn main() -> webc_pack::Result<()> {
//! let dir = std::path::Path::new("my-package");
//! let pkg = webc_pack::Package::from_dir(dir)?;
//! std::fs::write(pkg.default_output(dir), pkg.to_bytes()?).ok();
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod convert;
mod error;
mod features;
mod single;
mod volumes;
mod wasmer_toml;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use error::{Error, Result};
pub use single::{KIND_ELF, KIND_ONNX, RUNNER_ONNX, RUNNER_POSIX, SingleAtom, posix_annotation};

/// The manifest file name.
pub const MANIFEST_FILE: &str = "wasmer.toml";

/// Follows [`Package::from_dir_with_progress`] as it reads the project's files, e.g. to
/// draw a progress indicator. Does nothing by default; `()` ignores everything.
pub trait Progress {
    /// A file (a module, or a file of a volume) of `bytes` bytes has been read.
    fn read_file(&mut self, path: &Path, bytes: u64) {
        let _ = (path, bytes);
    }
}

impl Progress for () {}

/// A package read from a directory, ready to be written.
#[derive(Debug)]
pub struct Package {
    /// The logical container content.
    pub writer: webc_container::write::Writer,
    /// The file name `wasmer package build` would pick: `ns-name-1.0.0.webc`, else
    /// `ns-name-sha256:<hex>.webc` (no version), else `sha256:<hex>.webc` (no name).
    pub file_name: String,
}

impl Package {
    /// Reads `dir/wasmer.toml` (or `dir` itself when it is a file) and everything it
    /// references.
    ///
    /// # Errors
    ///
    /// [`Error::MissingManifest`] without a manifest, [`Error::Toml`] (with line and column)
    /// when it does not parse, and the other [`Error`] variants for the files, modules,
    /// commands and directories it names.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Self::from_dir_with_progress(dir, &mut ())
    }

    /// [`Package::from_dir`], telling `progress` about each file as it is read.
    ///
    /// # Errors
    ///
    /// As [`Package::from_dir`].
    pub fn from_dir_with_progress(dir: &Path, progress: &mut dyn Progress) -> Result<Self> {
        let manifest_path = if dir.is_dir() {
            let p = dir.join(MANIFEST_FILE);
            if !p.is_file() {
                return Err(Error::MissingManifest {
                    dir: dir.to_path_buf(),
                });
            }
            p
        } else if dir.is_file() {
            dir.to_path_buf()
        } else {
            return Err(Error::MissingManifest {
                dir: dir.to_path_buf(),
            });
        };
        let manifest_path = manifest_path
            .canonicalize()
            .map_err(|e| Error::io(&manifest_path, e))?;
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
        let manifest = wasmer_toml::parse(&manifest_path, &text)?;
        let base_dir = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();

        for (guest, host) in &manifest.fs {
            let resolved = base_dir.join(host);
            if !resolved.exists() {
                return Err(Error::FsPathMissing {
                    guest: guest.clone(),
                    host: host.clone(),
                    resolved,
                });
            }
        }

        let converted = convert::convert(&manifest, &base_dir, progress)?;
        let metadata_files = convert::metadata_files(&manifest, &base_dir)?;

        let mut writer = webc_container::write::Writer {
            atoms: converted.atoms,
            ..Default::default()
        };
        ciborium::into_writer(&converted.manifest, &mut writer.manifest).map_err(|e| {
            Error::Container(webc_container::Error::Write(format!(
                "encoding the manifest: {e}"
            )))
        })?;
        for host in manifest.fs.values() {
            let name = convert::sanitize_path(host);
            if let std::collections::btree_map::Entry::Vacant(slot) =
                writer.volumes.entry(name.clone())
            {
                slot.insert(volumes::fs_volume(&base_dir, host, &name, progress)?);
            }
        }
        writer.volumes.insert(
            convert::METADATA_VOLUME.to_owned(),
            volumes::metadata_volume(&base_dir, &metadata_files, progress)?,
        );

        let pkg = manifest.package.as_ref();
        let name = pkg.and_then(|p| p.name.as_deref());
        let version = pkg.and_then(|p| p.version.as_ref());
        let file_name = match (name, version) {
            (Some(name), Some(version)) => format!("{}-{version}.webc", name.replace('/', "-")),
            (name, _) => {
                let bytes = writer.to_bytes(webc_container::Version::V3)?;
                let hash = package_hash(&bytes);
                match name {
                    Some(name) => format!("{}-{hash}.webc", name.replace('/', "-")),
                    None => format!("{hash}.webc"),
                }
            }
        };
        Ok(Package { writer, file_name })
    }

    /// The v3 container bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Container`] if the writer rejects the content (it should not for a package
    /// built by [`Package::from_dir`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.writer.to_bytes(webc_container::Version::V3)?)
    }

    /// `dir.join(file_name)`. Note that `wasmer package build` without `-o` writes into the
    /// *current* directory, so pass that to get Wasmer's default.
    pub fn default_output(&self, dir: &Path) -> PathBuf {
        dir.join(&self.file_name)
    }
}

/// Wasmer's package hash of container bytes: `sha256:` + lowercase hex.
pub fn package_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
