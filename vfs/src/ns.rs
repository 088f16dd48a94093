//! The guest namespace: the mount table, the tree of mount points, and path resolution.
//!
//! A position in the namespace is a [`Loc`]: the lexical guest path (symlink-free for
//! volumes and synthetic directories), the mount-tree node it sits on (if it is a mount point
//! or an ancestor of one) and where it lives ([`At`]). Resolution walks one segment at a time
//! so a `..` can leave a mount into its parent directory of the namespace, mount points shadow
//! what lies beneath them, and volume symlinks are followed with the container's rules.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::Dir;
use webc_container::{EntryKind, Node, Volume};
use webc_runner_api::fs::{Errno, FsResult};

use crate::host::host_errno;
use crate::mem::{self, MemFs};

/// Symlinks followed during one resolution (as Linux's `MAXSYMLINKS`).
pub(crate) const MAX_SYMLINK_HOPS: usize = webc_container::MAX_SYMLINK_HOPS;

/// Device number of synthetic directories; volume mounts use `SYNTHETIC_DEV + 1 + index`.
/// (`"webc"` in the high bytes keeps them away from real device numbers.)
pub(crate) const SYNTHETIC_DEV: u64 = 0x7765_6263_0000_0000;

/// What is mounted.
pub(crate) enum MountKind {
    /// A directory of a container volume, read-only.
    Volume {
        volume: Volume,
        /// Symlink-free volume path of the mounted directory (`""` = the volume root).
        source: String,
        /// The mounted directory itself.
        root: Node,
    },
    /// A host directory opened with cap-std.
    Host { dir: Dir, writable: bool },
    /// The private `/tmp`: a writable file system in memory.
    Mem { fs: Arc<MemFs> },
}

/// One mount.
pub(crate) struct Mount {
    /// Guest path segments of the mount point.
    pub(crate) guest: Vec<String>,
    pub(crate) kind: MountKind,
    /// `st_dev` of volume entries (host entries report the host's device).
    pub(crate) dev: u64,
    /// For `Debug`: what is mounted.
    pub(crate) label: String,
}

impl Mount {
    pub(crate) fn writable(&self) -> bool {
        matches!(
            self.kind,
            MountKind::Host { writable: true, .. } | MountKind::Mem { .. }
        )
    }

    pub(crate) fn dir(&self) -> Option<&Dir> {
        match &self.kind {
            MountKind::Host { dir, .. } => Some(dir),
            MountKind::Volume { .. } | MountKind::Mem { .. } => None,
        }
    }

    pub(crate) fn mem(&self) -> Option<&Arc<MemFs>> {
        match &self.kind {
            MountKind::Mem { fs } => Some(fs),
            MountKind::Volume { .. } | MountKind::Host { .. } => None,
        }
    }
}

/// A node of the mount tree: a mount point or an ancestor of one.
pub(crate) struct MNode {
    pub(crate) parent: Option<usize>,
    /// Guest path segments.
    pub(crate) path: Vec<String>,
    pub(crate) children: BTreeMap<String, usize>,
    /// The mount at exactly this path (the last one added wins).
    pub(crate) mount: Option<usize>,
}

/// The immutable part of a [`crate::Vfs`]: mounts and the tree of their mount points.
pub(crate) struct Namespace {
    pub(crate) mounts: Vec<Mount>,
    pub(crate) tree: Vec<MNode>,
}

/// Where a [`Loc`] lives.
#[derive(Debug, Clone)]
pub(crate) enum At {
    /// A read-only directory that exists only because mount points lie below it.
    Synthetic(usize),
    /// An entry of a volume mount. `vpath` is symlink-free.
    Volume {
        mount: usize,
        vpath: String,
        node: Node,
    },
    /// A path below a host mount's directory; resolved by cap-std when it is used.
    Host { mount: usize, rel: PathBuf },
    /// An inode of an in-memory mount (it existed when resolved).
    Mem { mount: usize, ino: u64 },
}

/// A position in the namespace.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    /// Guest path segments.
    pub(crate) path: Vec<String>,
    /// The mount-tree node at exactly `path`, if any.
    pub(crate) mnode: Option<usize>,
    pub(crate) at: At,
}

impl Loc {
    /// The guest path, for messages.
    pub(crate) fn display(&self) -> String {
        format!("/{}", self.path.join("/"))
    }
}

/// One pending path segment; `floor` is the namespace depth a `..` from a symlink target
/// may not reach (the root of the mount holding the symlink).
struct Seg {
    name: String,
    floor: Option<usize>,
}

/// A relative path as the trait receives it, split.
pub(crate) struct Parsed<'p> {
    /// Segments without empty and `.` ones.
    pub(crate) segs: Vec<&'p str>,
    /// The path ends in `/`, `/.` or is `.`: the result must be a directory.
    pub(crate) must_dir: bool,
}

/// Splits a guest path relative to a directory handle.
///
/// # Errors
/// Empty → `Noent`; absolute → `Notcapable`; NUL byte → `Inval`.
pub(crate) fn parse(path: &str) -> FsResult<Parsed<'_>> {
    if path.is_empty() {
        return Err(Errno::Noent);
    }
    if path.starts_with('/') {
        return Err(Errno::Notcapable);
    }
    if path.contains('\0') {
        return Err(Errno::Inval);
    }
    let must_dir = ends_as_dir(path);
    let segs = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    Ok(Parsed { segs, must_dir })
}

/// Does `path` end so that it must name a directory (`/`, `/.`, or is `.`)?
pub(crate) fn ends_as_dir(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    last.is_empty() || last == "."
}

/// Maps a container lookup error to an errno.
pub(crate) fn volume_errno(e: &webc_container::Error) -> Errno {
    use webc_container::Error as E;
    match e {
        E::NotFound { .. } => Errno::Noent,
        E::WrongType { .. } => Errno::Notdir,
        E::InvalidPath { .. } => Errno::Inval,
        E::Symlink { .. } => Errno::Loop,
        _ => Errno::Io,
    }
}

fn join_vpath(vpath: &str, name: &str) -> String {
    let mut s = String::with_capacity(vpath.len() + 1 + name.len());
    s.push_str(vpath);
    s.push('/');
    s.push_str(name);
    s
}

/// `rel` as cap-std wants it: `.` for the mount root.
pub(crate) fn rel_or_dot(rel: &Path) -> &Path {
    if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    }
}

impl Namespace {
    /// Builds the mount tree over `mounts` (in order: a later mount at the same guest path
    /// shadows an earlier one).
    pub(crate) fn new(mounts: Vec<Mount>) -> Namespace {
        let mut tree = vec![MNode {
            parent: None,
            path: Vec::new(),
            children: BTreeMap::new(),
            mount: None,
        }];
        for (i, m) in mounts.iter().enumerate() {
            let mut at = 0;
            for seg in &m.guest {
                at = match tree[at].children.get(seg) {
                    Some(&c) => c,
                    None => {
                        let mut path = tree[at].path.clone();
                        path.push(seg.clone());
                        tree.push(MNode {
                            parent: Some(at),
                            path,
                            children: BTreeMap::new(),
                            mount: None,
                        });
                        let c = tree.len() - 1;
                        tree[at].children.insert(seg.clone(), c);
                        c
                    }
                };
            }
            tree[at].mount = Some(i);
        }
        Namespace { mounts, tree }
    }

    /// The namespace root.
    pub(crate) fn root(&self) -> Loc {
        self.loc_at_mnode(0)
    }

    /// The mount-tree node at exactly `path`.
    fn mnode_of(&self, path: &[String]) -> Option<usize> {
        let mut at = 0;
        for seg in path {
            at = *self.tree[at].children.get(seg)?;
        }
        Some(at)
    }

    /// The location of a mount-tree node: a mount's root, a directory of the mount that
    /// covers it (listing merged with the mount points below), or a synthetic directory.
    pub(crate) fn loc_at_mnode(&self, idx: usize) -> Loc {
        let node = &self.tree[idx];
        let path = node.path.clone();
        if let Some(m) = node.mount {
            return Loc {
                path,
                mnode: Some(idx),
                at: self.mount_root(m),
            };
        }
        // The nearest ancestor that has a mount covers this path.
        let mut a = idx;
        let cover = loop {
            match self.tree[a].parent {
                Some(p) => {
                    if let Some(m) = self.tree[p].mount {
                        break Some((m, self.tree[p].path.len()));
                    }
                    a = p;
                }
                None => break None,
            }
        };
        let synthetic = Loc {
            path: path.clone(),
            mnode: Some(idx),
            at: At::Synthetic(idx),
        };
        let Some((m, depth)) = cover else {
            return synthetic;
        };
        let rel = &path[depth..];
        match &self.mounts[m].kind {
            MountKind::Volume { volume, source, .. } => {
                let mut vpath = source.clone();
                for seg in rel {
                    vpath.push('/');
                    vpath.push_str(seg);
                }
                match volume.lookup_nofollow(&vpath) {
                    Ok(Some(n)) if n.is_dir() => Loc {
                        path,
                        mnode: Some(idx),
                        at: At::Volume {
                            mount: m,
                            vpath,
                            node: n,
                        },
                    },
                    _ => synthetic,
                }
            }
            MountKind::Host { dir, .. } => {
                let rel: PathBuf = rel.iter().collect();
                match dir.symlink_metadata(&rel) {
                    Ok(md) if md.is_dir() => Loc {
                        path,
                        mnode: Some(idx),
                        at: At::Host { mount: m, rel },
                    },
                    _ => synthetic,
                }
            }
            MountKind::Mem { fs } => {
                let mut ino = mem::ROOT;
                for seg in rel {
                    match fs.lookup(ino, seg) {
                        Ok(i) => ino = i,
                        Err(_) => return synthetic,
                    }
                }
                match fs.filetype(ino) {
                    Ok(webc_runner_api::fs::FileType::Directory) => Loc {
                        path,
                        mnode: Some(idx),
                        at: At::Mem { mount: m, ino },
                    },
                    _ => synthetic,
                }
            }
        }
    }

    fn mount_root(&self, m: usize) -> At {
        match &self.mounts[m].kind {
            MountKind::Volume { source, root, .. } => At::Volume {
                mount: m,
                vpath: source.clone(),
                node: root.clone(),
            },
            MountKind::Host { .. } => At::Host {
                mount: m,
                rel: PathBuf::new(),
            },
            MountKind::Mem { .. } => At::Mem {
                mount: m,
                ino: mem::ROOT,
            },
        }
    }

    /// The volume of a volume mount.
    pub(crate) fn volume(&self, m: usize) -> Option<&Volume> {
        match &self.mounts[m].kind {
            MountKind::Volume { volume, .. } => Some(volume),
            MountKind::Host { .. } | MountKind::Mem { .. } => None,
        }
    }

    /// The in-memory file system of a memory mount.
    pub(crate) fn mem(&self, m: usize) -> FsResult<&Arc<MemFs>> {
        self.mounts[m].mem().ok_or(Errno::Io)
    }

    fn host_dir(&self, m: usize) -> FsResult<&Dir> {
        self.mounts[m].dir().ok_or(Errno::Io)
    }

    /// Fails with `Notdir` when `loc` is known not to be a directory (host paths are
    /// checked by the operation that uses them).
    pub(crate) fn require_dir(&self, loc: &Loc) -> FsResult<()> {
        match &loc.at {
            At::Volume { node, .. } if !node.is_dir() => Err(Errno::Notdir),
            At::Mem { mount, ino } => {
                if self.mem(*mount)?.filetype(*ino)? == webc_runner_api::fs::FileType::Directory {
                    Ok(())
                } else {
                    Err(Errno::Notdir)
                }
            }
            _ => Ok(()),
        }
    }

    /// Resolves `path` relative to the directory `start`. `follow` applies to a symlink in the
    /// last segment (intermediate ones are always followed; a trailing `/` follows too).
    ///
    /// # Errors
    /// `Noent`, `Notdir`, `Loop` (more than 40 symlinks), `Perm` (a symlink leaving its
    /// mount), `Notcapable` (absolute path), `Inval` (NUL byte).
    pub(crate) fn resolve(&self, start: &Loc, path: &str, follow: bool) -> FsResult<Loc> {
        let parsed = parse(path)?;
        self.require_dir(start)?;
        let segs = parsed
            .segs
            .iter()
            .rev()
            .map(|s| Seg {
                name: (*s).to_owned(),
                floor: None,
            })
            .collect();
        let loc = self.walk(start.clone(), segs, follow || parsed.must_dir)?;
        if parsed.must_dir {
            self.require_dir(&loc)?;
        }
        Ok(loc)
    }

    /// Resolves everything but the last segment of `path`: the directory an entry is to be
    /// created in or removed from, and the entry's name (`.` or `..` when the path ends so;
    /// callers refuse those).
    ///
    /// # Errors
    /// As [`Namespace::resolve`].
    pub(crate) fn resolve_parent(&self, start: &Loc, path: &str) -> FsResult<(Loc, String)> {
        let parsed = parse(path)?;
        self.require_dir(start)?;
        let Some((last, init)) = parsed.segs.split_last() else {
            // `.`, `./`, ...: the directory itself.
            return Ok((start.clone(), ".".to_owned()));
        };
        let segs = init
            .iter()
            .rev()
            .map(|s| Seg {
                name: (*s).to_owned(),
                floor: None,
            })
            .collect();
        let parent = self.walk(start.clone(), segs, true)?;
        self.require_dir(&parent)?;
        Ok((parent, (*last).to_owned()))
    }

    /// Where the target of a symlink of mount `mount` sitting in `link_dir` would be created:
    /// the directory (all but the last segment resolved with the symlink rules: an absolute
    /// target or one climbing out of the mount → `Perm`) and the last segment.
    ///
    /// # Errors
    /// As [`Namespace::resolve`].
    pub(crate) fn resolve_link_parent(
        &self,
        link_dir: &Loc,
        target: &str,
        mount: usize,
    ) -> FsResult<(Loc, String)> {
        if target.starts_with('/') {
            return Err(Errno::Perm);
        }
        let floor = Some(self.mounts[mount].guest.len());
        let mut segs: Vec<&str> = target
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        let Some(last) = segs.pop() else {
            return Err(Errno::Isdir);
        };
        if last == ".." {
            return Err(Errno::Isdir);
        }
        let pending = segs
            .iter()
            .rev()
            .map(|s| Seg {
                name: (*s).to_owned(),
                floor,
            })
            .collect();
        let parent = self.walk(link_dir.clone(), pending, true)?;
        self.require_dir(&parent)?;
        Ok((parent, last.to_owned()))
    }

    fn walk(&self, mut cur: Loc, mut pending: Vec<Seg>, follow_last: bool) -> FsResult<Loc> {
        let mut hops = 0usize;
        while let Some(seg) = pending.pop() {
            if seg.name == ".." {
                cur = self.parent(cur, seg.floor)?;
                continue;
            }
            self.require_dir(&cur)?;
            let child = self.child(&cur, &seg.name)?;
            let is_last = pending.is_empty();
            let target = match &child.at {
                At::Volume { node, mount, .. } if node.kind() == EntryKind::Symlink => {
                    if is_last && !follow_last {
                        return Ok(child);
                    }
                    Some((node.symlink_target().unwrap_or_default().to_owned(), *mount))
                }
                At::Mem { mount, ino } => match self.mem(*mount)?.symlink_target(*ino)? {
                    Some(_) if is_last && !follow_last => return Ok(child),
                    Some(target) => Some((target, *mount)),
                    None => None,
                },
                _ => None,
            };
            let Some((target, mount)) = target else {
                cur = child;
                continue;
            };
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(Errno::Loop);
            }
            if target.starts_with('/') {
                // The container's rule: symlink targets are relative to the link's directory.
                return Err(Errno::Perm);
            }
            let floor = Some(self.mounts[mount].guest.len());
            for s in target
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .rev()
            {
                pending.push(Seg {
                    name: s.to_owned(),
                    floor,
                });
            }
            // `cur` stays the link's directory: the target is resolved from there.
        }
        Ok(cur)
    }

    /// The entry `name` of directory `cur`. Mount points shadow the directory's own entries.
    fn child(&self, cur: &Loc, name: &str) -> FsResult<Loc> {
        if let Some(m) = cur.mnode
            && let Some(&c) = self.tree[m].children.get(name)
        {
            return Ok(self.loc_at_mnode(c));
        }
        let mut path = Vec::with_capacity(cur.path.len() + 1);
        path.extend(cur.path.iter().cloned());
        path.push(name.to_owned());
        match &cur.at {
            At::Synthetic(_) => Err(Errno::Noent),
            At::Volume { mount, vpath, node } => {
                if !node.is_dir() {
                    return Err(Errno::Notdir);
                }
                let volume = self.volume(*mount).ok_or(Errno::Io)?;
                let vpath = join_vpath(vpath, name);
                // One binary search in the parent's table, not a walk from the volume root.
                match volume.child_of(node, name) {
                    Ok(Some(node)) => Ok(Loc {
                        path,
                        mnode: None,
                        at: At::Volume {
                            mount: *mount,
                            vpath,
                            node,
                        },
                    }),
                    Ok(None) => Err(Errno::Noent),
                    Err(e) => Err(volume_errno(&e)),
                }
            }
            At::Host { mount, rel } => Ok(Loc {
                path,
                mnode: None,
                at: At::Host {
                    mount: *mount,
                    rel: rel.join(name),
                },
            }),
            At::Mem { mount, ino } => Ok(Loc {
                path,
                mnode: None,
                at: At::Mem {
                    mount: *mount,
                    ino: self.mem(*mount)?.lookup(*ino, name)?,
                },
            }),
        }
    }

    /// `..` of `cur`: the parent inside the same mount, or the namespace parent of a mount
    /// point; `..` of `/` is `/`. A `..` coming from a symlink target (`floor`) may not leave
    /// the mount that holds the symlink.
    fn parent(&self, cur: Loc, floor: Option<usize>) -> FsResult<Loc> {
        self.require_dir(&cur)?;
        let below_floor = |depth: usize| floor.is_some_and(|f| depth <= f);
        match &cur.at {
            At::Host { mount, rel } if !rel.as_os_str().is_empty() => {
                // The lexical parent is wrong after a symlink: ask cap-std where we are.
                let dir = self.host_dir(*mount)?;
                let canon = dir.canonicalize(rel).map_err(|e| host_errno(&e))?;
                if !dir
                    .metadata(rel_or_dot(&canon))
                    .map_err(|e| host_errno(&e))?
                    .is_dir()
                {
                    return Err(Errno::Notdir);
                }
                let mut comps = Vec::new();
                for c in canon.components() {
                    match c {
                        Component::Normal(n) => comps.push(n),
                        Component::CurDir => {}
                        // cap-std's canonical paths stay inside the directory.
                        _ => return Err(Errno::Perm),
                    }
                }
                let guest = &self.mounts[*mount].guest;
                if below_floor(guest.len() + comps.len()) {
                    return Err(Errno::Perm);
                }
                if comps.pop().is_none() {
                    return Ok(self.ns_parent_of_mount(*mount));
                }
                let mut path = guest.clone();
                path.extend(comps.iter().map(|n| n.to_string_lossy().into_owned()));
                if let Some(n) = self.mnode_of(&path) {
                    return Ok(self.loc_at_mnode(n));
                }
                Ok(Loc {
                    path,
                    mnode: None,
                    at: At::Host {
                        mount: *mount,
                        rel: comps.iter().collect(),
                    },
                })
            }
            At::Mem { mount, ino } if *ino != mem::ROOT => {
                // Where the directory is now (it may have been renamed since).
                let mut comps = self.mem(*mount)?.path_of(*ino)?;
                let guest = &self.mounts[*mount].guest;
                if below_floor(guest.len() + comps.len()) {
                    return Err(Errno::Perm);
                }
                comps.pop();
                let mut path = guest.clone();
                path.extend(comps.iter().cloned());
                if let Some(n) = self.mnode_of(&path) {
                    return Ok(self.loc_at_mnode(n));
                }
                let fs = self.mem(*mount)?;
                let mut parent = mem::ROOT;
                for c in &comps {
                    parent = fs.lookup(parent, c)?;
                }
                Ok(Loc {
                    path,
                    mnode: None,
                    at: At::Mem {
                        mount: *mount,
                        ino: parent,
                    },
                })
            }
            At::Volume { mount, vpath, .. }
                if vpath.len() > self.source_len(*mount) && !cur.path.is_empty() =>
            {
                if below_floor(cur.path.len()) {
                    return Err(Errno::Perm);
                }
                let mut path = cur.path.clone();
                path.pop();
                if let Some(n) = self.mnode_of(&path) {
                    return Ok(self.loc_at_mnode(n));
                }
                let cut = vpath.rfind('/').unwrap_or(0);
                let vpath = vpath[..cut].to_owned();
                let volume = self.volume(*mount).ok_or(Errno::Io)?;
                let node = match volume.lookup_nofollow(&vpath) {
                    Ok(Some(n)) => n,
                    Ok(None) => return Err(Errno::Noent),
                    Err(e) => return Err(volume_errno(&e)),
                };
                Ok(Loc {
                    path,
                    mnode: None,
                    at: At::Volume {
                        mount: *mount,
                        vpath,
                        node,
                    },
                })
            }
            _ => {
                // A mount root, a synthetic directory or a merged mount-tree directory.
                if cur.path.is_empty() {
                    return Ok(cur);
                }
                if below_floor(cur.path.len()) {
                    return Err(Errno::Perm);
                }
                let mut path = cur.path.clone();
                path.pop();
                match self.mnode_of(&path) {
                    Some(n) => Ok(self.loc_at_mnode(n)),
                    // Not reachable: the parent of a mount-tree node is one too.
                    None => self.lexical(&path),
                }
            }
        }
    }

    fn source_len(&self, m: usize) -> usize {
        match &self.mounts[m].kind {
            MountKind::Volume { source, .. } => source.len(),
            MountKind::Host { .. } | MountKind::Mem { .. } => 0,
        }
    }

    /// The directory containing mount `m`'s mount point.
    fn ns_parent_of_mount(&self, m: usize) -> Loc {
        let guest = &self.mounts[m].guest;
        let parent = &guest[..guest.len().saturating_sub(1)];
        match self.mnode_of(parent) {
            Some(n) => self.loc_at_mnode(n),
            None => self.root(),
        }
    }

    /// Resolves a symlink-free absolute guest path segment by segment.
    fn lexical(&self, path: &[String]) -> FsResult<Loc> {
        let mut cur = self.root();
        for seg in path {
            cur = self.child(&cur, seg)?;
        }
        Ok(cur)
    }
}
