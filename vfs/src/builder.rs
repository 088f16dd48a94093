//! [`VfsBuilder`]: volumes from the manifest, user grants, then `/tmp`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use webc_container::{Container, EntryKind, Version, Volume};
use webc_runner_api::{MountSource, MountSpec};

use crate::error::{Result, VfsError};
use crate::mem::MemFs;
use crate::ns::{Mount, MountKind, Namespace, SYNTHETIC_DEV};
use crate::vfs::Vfs;

/// Access mode of a granted host directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Reads only: every write-ish operation fails with `Errno::Perm`.
    ReadOnly,
    /// Reads and writes.
    ReadWrite,
}

struct VolumeMount {
    guest: Vec<String>,
    volume: Volume,
    source: String,
    root: webc_container::Node,
}

struct Grant {
    guest: Vec<String>,
    dir: Dir,
    host: PathBuf,
    mode: Mode,
}

/// The default byte budget of the private `/tmp` ([`VfsBuilder::tmp_size`]): 256 MiB.
pub const DEFAULT_TMP_SIZE: u64 = 256 << 20;

/// Builds a [`Vfs`]. Mount order, whatever the order of the calls: container volumes (in
/// the order they were added), then granted host directories (in order), then the private
/// `/tmp`; a later mount at the same guest path shadows an earlier one, mounts nested below
/// another stay visible.
pub struct VfsBuilder {
    volumes: Vec<VolumeMount>,
    grants: Vec<Grant>,
    tmp: bool,
    tmp_size: u64,
}

impl Default for VfsBuilder {
    fn default() -> Self {
        VfsBuilder {
            volumes: Vec::new(),
            grants: Vec::new(),
            tmp: false,
            tmp_size: DEFAULT_TMP_SIZE,
        }
    }
}

impl std::fmt::Debug for VfsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VfsBuilder")
            .field(
                "volumes",
                &self
                    .volumes
                    .iter()
                    .map(|v| (guest_string(&v.guest), v.volume.name(), &v.source))
                    .collect::<Vec<_>>(),
            )
            .field(
                "grants",
                &self
                    .grants
                    .iter()
                    .map(|g| (guest_string(&g.guest), &g.host, g.mode))
                    .collect::<Vec<_>>(),
            )
            .field("tmp", &self.tmp)
            .field("tmp_size", &self.tmp_size)
            .finish()
    }
}

fn guest_string(segs: &[String]) -> String {
    format!("/{}", segs.join("/"))
}

/// Splits a guest mount path into segments (a missing leading `/` is implied).
fn guest_segments(path: &str) -> Result<Vec<String>> {
    let bad = |reason: &str| VfsError::GuestPath {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if path.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    let mut segs = Vec::new();
    for s in path.split('/') {
        match s {
            "" | "." => {}
            ".." => return Err(bad("`..` is not allowed in a mount point")),
            s => segs.push(s.to_owned()),
        }
    }
    Ok(segs)
}

impl VfsBuilder {
    /// An empty namespace (only `/`), without `/tmp`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mounts the container's volumes with Wasmer's `package.fs` semantics
    /// (`shared/webc-format.md` §6): each mapping mounts volume `volume_name` at
    /// `mount_path` — in v3 the volume's root, in v1/v2 its directory `host_path` (default
    /// `/`). Without `fs`, a v1/v2 container mounts volume `atom` (if present) at `/` and a
    /// v3 container mounts nothing.
    ///
    /// # Errors
    /// A mapping from a dependency (`from`), a missing volume, a `host_path` that is not a
    /// directory, or a malformed volume.
    pub fn volume_mounts_from(mut self, container: &Container) -> Result<Self> {
        let manifest = container.manifest();
        let mappings = manifest.package.as_ref().and_then(|p| p.fs.as_ref());
        let volume = |name: &str| {
            container.volume(name).map_err(|source| VfsError::Volume {
                volume: name.to_owned(),
                source,
            })
        };
        match mappings {
            Some(mappings) => {
                for m in mappings {
                    if let Some(from) = &m.from {
                        return Err(VfsError::DependencyMapping {
                            from: from.clone(),
                            volume: m.volume_name.clone(),
                            mount_path: m.mount_path.clone(),
                        });
                    }
                    let source = match container.version() {
                        Version::V3 => "/",
                        Version::V1 | Version::V2 => m.source_path().unwrap_or("/"),
                    };
                    self = self.mount_volume(&m.mount_path, volume(&m.volume_name)?, source)?;
                }
            }
            None => {
                if container.version() != Version::V3
                    && container.volume_names().any(|n| n == "atom")
                {
                    self = self.mount_volume("/", volume("atom")?, "/")?;
                }
            }
        }
        Ok(self)
    }

    /// Mounts directory `source_dir` of `volume` read-only at `guest`.
    ///
    /// # Errors
    /// `guest` contains `..`; `source_dir` is missing, not a directory, or reached through
    /// a symlink.
    pub fn mount_volume(mut self, guest: &str, volume: Volume, source_dir: &str) -> Result<Self> {
        let segs = guest_segments(guest)?;
        let bad = |reason: String| VfsError::SourceDir {
            volume: volume.name().to_owned(),
            path: source_dir.to_owned(),
            guest: guest.to_owned(),
            reason,
        };
        // Walk the source path without following symlinks so the stored path is canonical.
        let mut source = String::new();
        let mut node = volume.root().map_err(|e| bad(e.to_string()))?;
        for seg in source_dir.split('/').filter(|s| !s.is_empty() && *s != ".") {
            if seg == ".." {
                return Err(bad("`..` is not allowed".into()));
            }
            source.push('/');
            source.push_str(seg);
            node = match volume.lookup_nofollow(&source) {
                Ok(Some(n)) => n,
                Ok(None) => return Err(bad(format!("{source} does not exist"))),
                Err(e) => return Err(bad(e.to_string())),
            };
            if node.kind() == EntryKind::Symlink {
                return Err(bad(format!("{source} is a symlink")));
            }
        }
        if !node.is_dir() {
            return Err(bad("not a directory".into()));
        }
        self.volumes.push(VolumeMount {
            guest: segs,
            volume,
            source,
            root: node,
        });
        Ok(self)
    }

    /// Grants the host directory `host` at `guest` with `mode`. Only this directory is opened
    /// with ambient authority; everything below it is reached through it (cap-std), so `..`
    /// and symlinks cannot leave it.
    ///
    /// # Errors
    /// `guest` contains `..`, or `host` cannot be opened as a directory.
    pub fn grant_dir(mut self, host: impl AsRef<Path>, guest: &str, mode: Mode) -> Result<Self> {
        let host = host.as_ref();
        let segs = guest_segments(guest)?;
        let dir = Dir::open_ambient_dir(host, ambient_authority()).map_err(|source| {
            VfsError::HostDir {
                path: host.to_owned(),
                source,
            }
        })?;
        // The real path, for runners that bind it (the mount table): no symlink, no `..`.
        let host = std::fs::canonicalize(host).map_err(|source| VfsError::HostDir {
            path: host.to_owned(),
            source,
        })?;
        self.grants.push(Grant {
            guest: segs,
            dir,
            host,
            mode,
        });
        Ok(self)
    }

    /// Whether to mount a private, writable `/tmp`. Off by default. It lives in the
    /// process's memory, never on the host's disk — nothing to remove afterwards, nothing
    /// left behind however the process ends — and holds at most
    /// [`tmp_size`](VfsBuilder::tmp_size) bytes.
    pub fn tmp(mut self, on: bool) -> Self {
        self.tmp = on;
        self
    }

    /// The byte budget of the private `/tmp` (default [`DEFAULT_TMP_SIZE`], 256 MiB): file
    /// contents (as allocated), symlink targets, and a fixed overhead per inode (256 bytes)
    /// and per directory entry (64 bytes plus the name), so many empty files are bounded
    /// as well as large ones. Writes, `truncate`, `allocate` and creations beyond it fail with
    /// `Errno::Nospc`; removing files gives the space back. Has no effect without
    /// [`tmp(true)`](VfsBuilder::tmp).
    pub fn tmp_size(mut self, bytes: u64) -> Self {
        self.tmp_size = bytes;
        self
    }

    /// The mount table of the namespace [`build`](VfsBuilder::build) makes, in mount order
    /// (what a job's [`JobSpec::mounts`](webc_runner_api::JobSpec::mounts) carries): volume
    /// directories, granted host directories by their canonical path, then `/tmp`.
    pub fn mount_table(&self) -> Vec<MountSpec> {
        let mut out = Vec::new();
        for v in &self.volumes {
            out.push(MountSpec {
                guest: guest_string(&v.guest),
                writable: false,
                source: MountSource::Volume {
                    volume: v.volume.name().to_owned(),
                    path: if v.source.is_empty() {
                        "/".to_owned()
                    } else {
                        v.source.clone()
                    },
                },
            });
        }
        for g in &self.grants {
            out.push(MountSpec {
                guest: guest_string(&g.guest),
                writable: g.mode == Mode::ReadWrite,
                source: MountSource::Host {
                    path: g.host.clone(),
                },
            });
        }
        if self.tmp {
            out.push(MountSpec {
                guest: "/tmp".to_owned(),
                writable: true,
                source: MountSource::Tmp {
                    size: self.tmp_size,
                },
            });
        }
        out
    }

    /// Builds the namespace.
    ///
    /// # Errors
    /// None today (kept for mounts that may fail to set up).
    pub fn build(self) -> Result<Vfs> {
        let mut mounts = Vec::new();
        for v in self.volumes {
            let label = format!(
                "volume {:?}:{} at {}",
                v.volume.name(),
                if v.source.is_empty() { "/" } else { &v.source },
                guest_string(&v.guest)
            );
            mounts.push(Mount {
                guest: v.guest,
                kind: MountKind::Volume {
                    volume: v.volume,
                    source: v.source,
                    root: v.root,
                },
                dev: 0,
                label,
            });
        }
        for g in self.grants {
            let label = format!(
                "host {} at {} ({})",
                g.host.display(),
                guest_string(&g.guest),
                match g.mode {
                    Mode::ReadOnly => "ro",
                    Mode::ReadWrite => "rw",
                }
            );
            mounts.push(Mount {
                guest: g.guest,
                kind: MountKind::Host {
                    dir: g.dir,
                    writable: g.mode == Mode::ReadWrite,
                },
                dev: 0,
                label,
            });
        }
        if self.tmp {
            mounts.push(Mount {
                guest: vec!["tmp".to_owned()],
                kind: MountKind::Mem {
                    fs: Arc::new(MemFs::new(self.tmp_size)),
                },
                dev: 0,
                label: format!("private tmp in memory ({} bytes)", self.tmp_size),
            });
        }
        for (i, m) in mounts.iter_mut().enumerate() {
            m.dev = SYNTHETIC_DEV + 1 + i as u64;
        }
        Ok(Vfs::new(Namespace::new(mounts)))
    }
}
