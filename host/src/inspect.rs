//! [`PackageInfo`]: what `webc-host inspect` shows, as a serde-serialisable model.
//!
//! The JSON form (`inspect --json`) is a stable interface, described field by field in
//! `docs/inspect-json.md`; [`FORMAT`] is bumped on any incompatible change. Hashes shown
//! for volume entries are the ones the container *records* (not recomputed; `verify` does
//! that); atom sizes, SHA-256s and the signature check, and the package hash, are computed.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use webc_container::manifest::parse_atom_signature;
use webc_container::{Container, EntryKind, Volume};

use crate::error::Result;
use crate::json::cbor_to_json;

/// Version of the `inspect --json` document layout.
pub const FORMAT: u32 = 1;

/// Everything `inspect` reports about a package.
#[derive(Debug, Clone, Serialize)]
pub struct PackageInfo {
    /// [`FORMAT`].
    pub format: u32,
    /// Container version: `"001"`, `"002"` or `"003"`.
    pub version: String,
    /// Size of the whole file in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the whole file (Wasmer's package hash).
    pub package_hash: String,
    /// `package.wapm`, if present.
    pub package: Option<PackageMeta>,
    /// The manifest's `entrypoint`.
    pub entrypoint: Option<String>,
    /// The command run by default: the entrypoint, else the only command.
    pub default_command: Option<String>,
    /// Atoms, sorted by name: those stored and those the manifest lists.
    pub atoms: Vec<AtomInfo>,
    /// Commands, in manifest order.
    pub commands: Vec<CommandInfo>,
    /// `package.fs` mappings, in manifest order.
    pub fs: Vec<FsInfo>,
    /// Volumes, sorted by name, each with all its entries.
    pub volumes: Vec<VolumeInfo>,
    /// The whole manifest, converted from CBOR (see [`cbor_to_json`]).
    pub manifest: Json,
}

/// Package metadata (`package.wapm`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageMeta {
    /// `namespace/name`.
    pub name: Option<String>,
    /// Semver version.
    pub version: Option<String>,
    /// One-line description.
    pub description: Option<String>,
    /// SPDX license expression.
    pub license: Option<String>,
    /// Source repository URL.
    pub repository: Option<String>,
    /// Homepage URL.
    pub homepage: Option<String>,
    /// README location (`{"volume", "path"}`).
    pub readme: Option<VolumePathInfo>,
    /// License file location.
    pub license_file: Option<VolumePathInfo>,
}

/// A file inside a named volume.
#[derive(Debug, Clone, Serialize)]
pub struct VolumePathInfo {
    /// Volume name.
    pub volume: String,
    /// Path inside the volume.
    pub path: String,
}

/// One atom.
#[derive(Debug, Clone, Serialize)]
pub struct AtomInfo {
    /// Atom name.
    pub name: String,
    /// Kind URL from the manifest (`None` if the manifest does not list the atom).
    pub kind: Option<String>,
    /// Size in bytes (`None` if the atom is not stored).
    pub size: Option<u64>,
    /// Lower-case hex SHA-256 of the stored bytes (computed).
    pub sha256: Option<String>,
    /// The manifest's `signature` (`sha256:<base64>`).
    pub signature: Option<String>,
    /// True when the atom is stored and its SHA-256 equals the manifest signature.
    pub signature_ok: bool,
    /// Is the atom present in the atoms section?
    pub stored: bool,
    /// Does the manifest list it?
    pub in_manifest: bool,
}

/// One command.
#[derive(Debug, Clone, Serialize)]
pub struct CommandInfo {
    /// Command name.
    pub name: String,
    /// Runner URI as written in the manifest.
    pub runner: String,
    /// The atom the command runs, resolved as Wasmer does (`None` if it cannot be told).
    pub atom: Option<String>,
    /// All annotations, converted from CBOR.
    pub annotations: Json,
}

/// One `package.fs` mapping.
#[derive(Debug, Clone, Serialize)]
pub struct FsInfo {
    /// Dependency alias the volume comes from (`None`: this package).
    pub from: Option<String>,
    /// Volume name.
    pub volume: String,
    /// Directory inside the volume that is mounted (v2 `host_path`); `None` = the root.
    pub host_path: Option<String>,
    /// Where the guest sees it.
    pub mount_path: String,
}

/// One volume and all its entries.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeInfo {
    /// Volume name as stored (`/assets`, `atom`, `metadata`, ...).
    pub name: String,
    /// Number of regular files.
    pub files: u64,
    /// Number of directories below the root.
    pub dirs: u64,
    /// Number of symlinks.
    pub symlinks: u64,
    /// Sum of the file sizes.
    pub total_size: u64,
    /// v3: the root directory's modification time (seconds since the epoch).
    pub modified: Option<u64>,
    /// v3: the root directory's recorded Merkle hash (hex).
    pub hash: Option<String>,
    /// Every entry below the root, depth-first pre-order, children sorted by name bytes
    /// (empty from [`PackageInfo::summary`]).
    pub entries: Vec<EntryInfo>,
}

/// One volume entry.
#[derive(Debug, Clone, Serialize)]
pub struct EntryInfo {
    /// Absolute path inside the volume, e.g. `/nested/a.txt`.
    pub path: String,
    /// `"dir"`, `"file"` or `"symlink"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// File size in bytes (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Symlink target as stored (symlinks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The SHA-256 the container records (hex): of a file's content, of a symlink's
    /// target, or a v3 directory's Merkle hash. Absent in v1, and for v2 directories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// v3 modification time in seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<u64>,
}

impl PackageInfo {
    /// Collects everything about `container`. Reads (and hashes) the whole file once for
    /// the package hash, and every atom for its signature check.
    ///
    /// # Errors
    /// A volume or the atoms section that cannot be parsed, or a volume tree the walk
    /// refuses (a shared directory record, nesting deeper than [`webc_container::MAX_DEPTH`]).
    pub fn from_container(container: &Container) -> Result<Self> {
        Self::collect(container, true)
    }

    /// Like [`PackageInfo::from_container`] but without the volume entries: each
    /// [`VolumeInfo`] has its counts and an empty `entries` list. Memory stays small
    /// however many entries a volume has; the trees are still walked (and refused) alike.
    ///
    /// # Errors
    /// As [`PackageInfo::from_container`].
    pub fn summary(container: &Container) -> Result<Self> {
        Self::collect(container, false)
    }

    fn collect(container: &Container, with_entries: bool) -> Result<Self> {
        let manifest = container.manifest();
        let bytes = container.as_bytes();
        let package = manifest
            .package
            .as_ref()
            .and_then(|p| p.wapm.as_ref())
            .map(|w| PackageMeta {
                name: w.name.clone(),
                version: w.version.clone(),
                description: w.description.clone(),
                license: w.license.clone(),
                repository: w.repository.clone(),
                homepage: w.homepage.clone(),
                readme: w.readme.as_ref().map(|v| VolumePathInfo {
                    volume: v.volume.clone(),
                    path: v.path.clone(),
                }),
                license_file: w.license_file.as_ref().map(|v| VolumePathInfo {
                    volume: v.volume.clone(),
                    path: v.path.clone(),
                }),
            });

        let stored = container.atom_names()?;
        let mut names: BTreeSet<String> = stored.iter().cloned().collect();
        names.extend(manifest.atoms().map(|(n, _)| n.clone()));
        let mut atoms = Vec::with_capacity(names.len());
        for name in names {
            let meta = manifest.atoms.as_ref().and_then(|m| m.get(&name));
            let data = if stored.contains(&name) {
                Some(container.atom(&name)?)
            } else {
                None
            };
            let digest: Option<[u8; 32]> = data.as_ref().map(|d| Sha256::digest(d).into());
            let expected = meta.and_then(|m| parse_atom_signature(&m.signature));
            atoms.push(AtomInfo {
                kind: meta.map(|m| m.kind.clone()),
                size: data.as_ref().map(|d| d.len() as u64),
                sha256: digest.map(hex::encode),
                signature: meta.map(|m| m.signature.clone()),
                signature_ok: digest.is_some() && digest == expected,
                stored: data.is_some(),
                in_manifest: meta.is_some(),
                name,
            });
        }

        let commands = manifest
            .commands()
            .map(|(name, cmd)| CommandInfo {
                name: name.clone(),
                runner: cmd.runner.clone(),
                atom: manifest.command_atom(name),
                annotations: cbor_to_json(&cmd.annotations.to_cbor_value()),
            })
            .collect();

        let fs = manifest
            .fs()
            .iter()
            .map(|m| FsInfo {
                from: m.from.clone(),
                volume: m.volume_name.clone(),
                host_path: m.source_path().map(str::to_owned),
                mount_path: m.mount_path.clone(),
            })
            .collect();

        let mut volumes = Vec::new();
        let names: Vec<String> = container.volume_names().map(str::to_owned).collect();
        for name in names {
            volumes.push(walk_volume(&container.volume(&name)?, with_entries)?);
        }

        // The container decoded these bytes already, so this only fails on CBOR that
        // ciborium's generic decoder refuses (e.g. nesting deeper than its limit).
        let manifest_json =
            ciborium::from_reader::<ciborium::Value, _>(&container.manifest_bytes()[..])
                .map(|v| cbor_to_json(&v))
                .map_err(|e| webc_container::Error::Manifest {
                    location: "(whole manifest)".into(),
                    reason: format!("cannot convert to JSON: {e}"),
                })?;

        Ok(PackageInfo {
            format: FORMAT,
            version: container.version().as_str().to_owned(),
            size: bytes.len() as u64,
            package_hash: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
            package,
            entrypoint: manifest.entrypoint.clone(),
            default_command: manifest.default_command().map(str::to_owned),
            atoms,
            commands,
            fs,
            volumes,
            manifest: manifest_json,
        })
    }
}

/// Walks a whole volume into a [`VolumeInfo`].
///
/// # Errors
/// The volume's header is malformed, or its tree is refused by [`Volume::walk`].
pub fn volume_info(volume: &Volume) -> Result<VolumeInfo> {
    walk_volume(volume, true)
}

fn walk_volume(volume: &Volume, with_entries: bool) -> Result<VolumeInfo> {
    let root = volume.root()?;
    let mut info = VolumeInfo {
        name: volume.name().to_owned(),
        files: 0,
        dirs: 0,
        symlinks: 0,
        total_size: 0,
        modified: root.modified(),
        hash: root.stored_hash().map(hex::encode),
        entries: Vec::new(),
    };
    volume.walk(|path, entry| {
        let node = &entry.node;
        let kind = node.kind();
        match kind {
            EntryKind::Dir => info.dirs += 1,
            EntryKind::File => {
                info.files += 1;
                info.total_size += node.len();
            }
            EntryKind::Symlink => info.symlinks += 1,
        }
        if !with_entries {
            return Ok(());
        }
        info.entries.push(EntryInfo {
            path: path.to_owned(),
            kind: kind.as_str(),
            size: (kind == EntryKind::File).then(|| node.len()),
            target: node.symlink_target().map(str::to_owned),
            hash: node.stored_hash().map(hex::encode),
            modified: node.modified(),
        });
        Ok(())
    })?;
    Ok(info)
}
