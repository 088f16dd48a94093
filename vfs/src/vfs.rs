//! [`Vfs`]: the handle table and every [`FileSystem`] operation.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use bytes::Bytes;
use cap_fs_ext::{
    DirExt as _, FollowSymlinks, OpenOptionsFollowExt as _, OpenOptionsMaybeDirExt as _,
};
use cap_std::fs::Metadata;
use webc_runner_api::fs::{
    DirEntry, Errno, FileSystem, FileType, FsResult, Handle, HandleInfo, OpenOptions, Preopen,
    SetTime, Stat, Whence,
};

use crate::host::{
    entry_filetype, host_errno, host_filetype, host_stat, system_time, time_spec, volume_filetype,
    volume_stat,
};
use crate::mem::MemFs;
use crate::ns::{At, Loc, Namespace, SYNTHETIC_DEV, ends_as_dir, rel_or_dot};

/// The host file system of one job: container volumes, granted host directories and a
/// private `/tmp` in one guest namespace. Built by [`crate::VfsBuilder`]; see the crate
/// documentation for the rules. `Send + Sync`: every method takes `&self`.
pub struct Vfs {
    ns: Namespace,
    handles: RwLock<HashMap<u64, Arc<Mutex<Open>>>>,
    next: AtomicU64,
    preopens: Vec<Preopen>,
    /// Serialises "find the end, write there" of append-mode writes.
    append: Mutex<()>,
}

impl std::fmt::Debug for Vfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vfs")
            .field(
                "mounts",
                &self
                    .ns
                    .mounts
                    .iter()
                    .map(|m| m.label.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("open_handles", &read_lock(&self.handles).len())
            .field("tmp_usage", &self.tmp_usage())
            .finish()
    }
}

/// An open handle.
struct Open {
    kind: Kind,
    filetype: FileType,
    read: bool,
    write: bool,
    append: bool,
    pos: u64,
}

enum Kind {
    Dir {
        loc: Loc,
        /// Snapshot taken when listing starts at cookie 0; cookies index into it.
        listing: Option<Arc<Vec<DirEntry>>>,
    },
    /// A volume file: its bytes are a slice of the container (zero-copy).
    VolumeFile {
        data: Bytes,
        stat: Stat,
    },
    HostFile {
        mount: usize,
        file: File,
    },
    /// A regular file of the in-memory `/tmp`.
    MemFile(MemOpen),
}

/// An open file of an in-memory mount: counted as open until dropped, so an unlinked file
/// lives (and stays charged) until its last handle goes.
struct MemOpen {
    fs: Arc<MemFs>,
    dev: u64,
    ino: u64,
}

impl Drop for MemOpen {
    fn drop(&mut self) {
        self.fs.close_file(self.ino);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read_lock<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

fn io<T>(r: std::io::Result<T>) -> FsResult<T> {
    r.map_err(|e| host_errno(&e))
}

/// Retries a host call interrupted by a signal.
fn retry<T>(mut f: impl FnMut() -> std::io::Result<T>) -> FsResult<T> {
    loop {
        match f() {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            r => return io(r),
        }
    }
}

/// `path` without a trailing run of `/` and `.` segments (`"."` if nothing is left).
fn trim_dir_ending(path: &str) -> &str {
    let mut p = path;
    loop {
        let t = p.trim_end_matches('/');
        let t = if t == "." {
            ""
        } else {
            t.strip_suffix("/.").unwrap_or(t)
        };
        if t.len() == p.len() {
            break;
        }
        p = t;
    }
    if p.is_empty() { "." } else { p }
}

fn is_dot(name: &str) -> bool {
    name == "." || name == ".."
}

impl Vfs {
    pub(crate) fn new(ns: Namespace) -> Vfs {
        let mut vfs = Vfs {
            ns,
            handles: RwLock::new(HashMap::new()),
            next: AtomicU64::new(1),
            preopens: Vec::new(),
            append: Mutex::new(()),
        };
        let mut preopens = vec![Preopen {
            guest_path: "/".to_owned(),
            handle: vfs.insert_dir(vfs.ns.root()),
        }];
        // Then the root of every visible mount, in mount order.
        for (i, m) in vfs.ns.mounts.iter().enumerate() {
            let Some(node) = vfs.mnode_of_mount(i) else {
                continue;
            };
            if m.guest.is_empty() {
                continue;
            }
            let loc = vfs.ns.loc_at_mnode(node);
            preopens.push(Preopen {
                guest_path: loc.display(),
                handle: vfs.insert_dir(loc),
            });
        }
        vfs.preopens = preopens;
        vfs
    }

    /// The mount-tree node of mount `i` if that mount is not shadowed.
    fn mnode_of_mount(&self, i: usize) -> Option<usize> {
        let mut at = 0;
        for seg in &self.ns.mounts[i].guest {
            at = *self.ns.tree[at].children.get(seg)?;
        }
        (self.ns.tree[at].mount == Some(i)).then_some(at)
    }

    /// The private `/tmp`'s usage, if there is one: bytes charged against its budget (see
    /// [`crate::VfsBuilder::tmp_size`]) and the budget.
    pub fn tmp_usage(&self) -> Option<(u64, u64)> {
        self.ns
            .mounts
            .iter()
            .find_map(|m| m.mem())
            .map(|fs| fs.usage())
    }

    /// The in-memory file system and inode of a memory location.
    fn mem<'a>(&'a self, loc: &Loc) -> Option<(&'a Arc<MemFs>, u64)> {
        match &loc.at {
            At::Mem { mount, ino } => Some((self.ns.mounts[*mount].mem()?, *ino)),
            _ => None,
        }
    }

    fn insert(&self, open: Open) -> Handle {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        write_lock(&self.handles).insert(id, Arc::new(Mutex::new(open)));
        Handle(id)
    }

    fn insert_dir(&self, loc: Loc) -> Handle {
        self.insert(Open {
            kind: Kind::Dir { loc, listing: None },
            filetype: FileType::Directory,
            read: true,
            write: false,
            append: false,
            pos: 0,
        })
    }

    fn get(&self, h: Handle) -> FsResult<Arc<Mutex<Open>>> {
        read_lock(&self.handles)
            .get(&h.0)
            .cloned()
            .ok_or(Errno::Badf)
    }

    /// The location of a directory handle (`Notdir` for a file).
    fn dir_loc(&self, h: Handle) -> FsResult<Loc> {
        let open = self.get(h)?;
        let open = lock(&open);
        match &open.kind {
            Kind::Dir { loc, .. } => Ok(loc.clone()),
            _ => Err(Errno::Notdir),
        }
    }

    fn writable(&self, loc: &Loc) -> bool {
        match &loc.at {
            At::Host { mount, .. } | At::Mem { mount, .. } => self.ns.mounts[*mount].writable(),
            _ => false,
        }
    }

    /// Identifies the file system a location is on, for `Xdev`.
    fn fs_id(&self, loc: &Loc) -> u64 {
        match &loc.at {
            At::Synthetic(_) => SYNTHETIC_DEV,
            At::Volume { mount, .. } | At::Host { mount, .. } | At::Mem { mount, .. } => {
                self.ns.mounts[*mount].dev
            }
        }
    }

    /// The cap-std directory and relative path of a host location.
    fn host<'a>(&'a self, loc: &'a Loc) -> Option<(&'a cap_std::fs::Dir, &'a std::path::Path)> {
        match &loc.at {
            At::Host { mount, rel } => Some((self.ns.mounts[*mount].dir()?, rel_or_dot(rel))),
            _ => None,
        }
    }

    fn resolve(&self, dir: Handle, path: &str, follow: bool) -> FsResult<Loc> {
        let start = self.dir_loc(dir)?;
        let loc = self.ns.resolve(&start, path, follow)?;
        // A trailing `/` on a host path: it must be a directory (volumes were checked).
        if ends_as_dir(path)
            && let Some((d, p)) = self.host(&loc)
            && !io(d.metadata(p))?.is_dir()
        {
            return Err(Errno::Notdir);
        }
        if !follow && ends_as_dir(path) && matches!(loc.at, At::Mem { .. }) {
            // As on a host grant, where cap-std gets the path without its ending once the
            // whole of it proved to be a directory: a symlink there is the link itself
            // (`readlink("l/")` reads `l`).
            return self.ns.resolve(&start, trim_dir_ending(path), false);
        }
        Ok(loc)
    }

    /// A path ending in `/` (or `/.`) names a directory: for operations on the entry itself
    /// (unlink, rename, link) an existing non-directory there is `Notdir`, as POSIX says.
    /// Returns whether the path has such an ending and names an existing directory.
    fn trailing_dir(&self, dir: Handle, path: &str) -> FsResult<bool> {
        if !ends_as_dir(path) {
            return Ok(false);
        }
        self.resolve(dir, path, true)?;
        Ok(true)
    }

    /// Why creating `path` fails when its parent does not resolve: `Perm` if the deepest
    /// existing ancestor is read-only (write-ish operations are refused before existence is
    /// checked, as wasmtime does for a read-only preopen), else the parent's own error.
    fn create_error(&self, dir: Handle, path: &str, parent_error: Errno) -> Errno {
        let mut prefix = path.trim_end_matches('/');
        while let Some((head, _)) = prefix.rsplit_once('/') {
            prefix = head.trim_end_matches('/');
            let target = if prefix.is_empty() { "." } else { prefix };
            if let Ok(loc) = self.resolve(dir, target, true) {
                return if self.writable(&loc) {
                    parent_error
                } else {
                    Errno::Perm
                };
            }
        }
        match self.dir_loc(dir) {
            Ok(loc) if !self.writable(&loc) => Errno::Perm,
            _ => parent_error,
        }
    }

    /// The directory an entry is to be created in or removed from, and its name.
    fn resolve_parent(&self, dir: Handle, path: &str) -> FsResult<(Loc, String)> {
        let start = self.dir_loc(dir)?;
        self.ns.resolve_parent(&start, path)
    }

    /// Is `name` a mount point inside `parent`?
    fn is_mount_point(&self, parent: &Loc, name: &str) -> bool {
        parent
            .mnode
            .is_some_and(|m| self.ns.tree[m].children.contains_key(name))
    }

    fn stat_loc(&self, loc: &Loc, follow: bool) -> FsResult<Stat> {
        match &loc.at {
            At::Synthetic(idx) => Ok(Stat {
                dev: SYNTHETIC_DEV,
                ino: *idx as u64 + 1,
                filetype: Some(FileType::Directory),
                nlink: 1,
                ..Stat::default()
            }),
            At::Volume { mount, node, .. } => Ok(volume_stat(self.ns.mounts[*mount].dev, node)),
            At::Host { .. } => {
                let (d, p) = self.host(loc).ok_or(Errno::Io)?;
                let md = if follow {
                    d.metadata(p)
                } else {
                    d.symlink_metadata(p)
                };
                Ok(host_stat(&io(md)?))
            }
            At::Mem { mount, ino } => self.ns.mem(*mount)?.stat(*ino, self.ns.mounts[*mount].dev),
        }
    }

    /// The full listing of a directory: `.`, `..`, then the entries sorted by name bytes, with
    /// mount points shadowing same-named entries.
    fn list(&self, loc: &Loc) -> FsResult<Vec<DirEntry>> {
        let mut entries: BTreeMap<String, (u64, FileType)> = BTreeMap::new();
        match &loc.at {
            At::Synthetic(_) => {}
            At::Volume { mount, node, .. } => {
                let volume = self.ns.volume(*mount).ok_or(Errno::Io)?;
                let children = volume
                    .entries(node)
                    .map_err(|e| crate::ns::volume_errno(&e))?
                    .ok_or(Errno::Notdir)?;
                for c in children {
                    let ino = c.node.id().wrapping_add(1);
                    entries.insert(c.name, (ino, volume_filetype(&c.node)));
                }
            }
            At::Host { .. } => {
                let (d, p) = self.host(loc).ok_or(Errno::Io)?;
                for e in io(d.read_dir(p))? {
                    let e = io(e)?;
                    let name = e.file_name();
                    let Some(name) = name.to_str() else {
                        tracing::debug!(name = ?name, dir = %loc.display(), "skipping a non-UTF-8 file name");
                        continue;
                    };
                    let ino = rustix::fs::DirEntryExt::ino(&e);
                    let ft = e.file_type().map_or(FileType::Unknown, entry_filetype);
                    entries.insert(name.to_owned(), (ino, ft));
                }
            }
            At::Mem { mount, ino } => {
                for (name, ino, ft) in self.ns.mem(*mount)?.list(*ino)? {
                    entries.insert(name, (ino, ft));
                }
            }
        }
        if let Some(m) = loc.mnode {
            for (name, &c) in &self.ns.tree[m].children {
                let ino = self
                    .stat_loc(&self.ns.loc_at_mnode(c), true)
                    .map_or(0, |s| s.ino);
                entries.insert(name.clone(), (ino, FileType::Directory));
            }
        }
        let dot = self.stat_loc(loc, true).map_or(0, |s| s.ino);
        let dotdot = self
            .ns
            .resolve(loc, "..", true)
            .and_then(|p| self.stat_loc(&p, true))
            .map_or(0, |s| s.ino);
        let mut out = Vec::with_capacity(entries.len() + 2);
        out.push(DirEntry {
            next: 1,
            ino: dot,
            filetype: FileType::Directory,
            name: ".".to_owned(),
        });
        out.push(DirEntry {
            next: 2,
            ino: dotdot,
            filetype: FileType::Directory,
            name: "..".to_owned(),
        });
        for (name, (ino, filetype)) in entries {
            out.push(DirEntry {
                next: out.len() as u64 + 1,
                ino,
                filetype,
                name,
            });
        }
        Ok(out)
    }

    fn open_host(&self, loc: Loc, o: OpenOptions) -> FsResult<Handle> {
        let At::Host { mount, .. } = &loc.at else {
            return Err(Errno::Io);
        };
        let mount = *mount;
        let (d, p) = self.host(&loc).ok_or(Errno::Io)?;
        let follow = if o.follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        };
        if o.directory {
            let opened = if o.follow {
                d.open_dir(p)
            } else {
                d.open_dir_nofollow(p)
            };
            drop(io(opened)?);
            return Ok(self.insert_dir(loc));
        }
        let write = o.write || o.append;
        let os_write = write || o.create || o.truncate;
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.read(o.read || !os_write).write(os_write);
        if o.create {
            if o.exclusive {
                opts.create_new(true);
            } else {
                opts.create(true);
            }
        }
        if o.truncate {
            opts.truncate(true);
        }
        opts.follow(follow);
        let file = io(d.open_with(p, &opts))?.into_std();
        let md = io(Metadata::from_file(&file))?;
        if md.is_dir() {
            drop(file);
            return Ok(self.insert_dir(loc));
        }
        Ok(self.insert(Open {
            kind: Kind::HostFile { mount, file },
            filetype: host_filetype(&md),
            read: o.read,
            write,
            append: o.append,
            pos: 0,
        }))
    }

    /// Opens an existing entry of an in-memory mount, as `openat(2)` would on tmpfs.
    fn open_mem(&self, loc: Loc, o: OpenOptions) -> FsResult<Handle> {
        let At::Mem { mount, ino } = loc.at else {
            return Err(Errno::Io);
        };
        let fs = self.ns.mem(mount)?;
        if o.create && o.exclusive {
            return Err(Errno::Exist);
        }
        let write = o.write || o.append;
        let os_write = write || o.create || o.truncate;
        match fs.filetype(ino)? {
            FileType::Directory if os_write => Err(Errno::Isdir),
            FileType::Directory => Ok(self.insert_dir(loc)),
            // Only reachable with `follow == false` (`O_NOFOLLOW`).
            FileType::SymbolicLink => Err(Errno::Loop),
            _ if o.directory => Err(Errno::Notdir),
            _ => {
                fs.open_file(ino, o.truncate)?;
                Ok(self.insert_mem_file(fs, mount, ino, o))
            }
        }
    }

    /// Creates and opens `name` in the in-memory directory `parent` (`path` as given).
    fn create_mem(&self, parent: &Loc, name: &str, path: &str, o: OpenOptions) -> FsResult<Handle> {
        if ends_as_dir(path) {
            // Reached only when the path does not resolve: a host grant answers so
            // (cap-std); Linux would say `Isdir`.
            return Err(Errno::Noent);
        }
        let (mut parent, mut name) = (parent.clone(), name.to_owned());
        // A dangling symlink in the last place is followed and its target created, as
        // `open(O_CREAT)` does (not with `exclusive`: then the link itself exists).
        for _ in 0..=crate::ns::MAX_SYMLINK_HOPS {
            let At::Mem { mount, ino: dir } = parent.at else {
                // The link leads into another mount (nested in this one).
                return Err(Errno::Perm);
            };
            let fs = self.ns.mem(mount)?;
            if self.is_mount_point(&parent, &name)
                || (o.exclusive && (is_dot(&name) || fs.lookup(dir, &name).is_ok()))
            {
                return Err(Errno::Exist);
            }
            if is_dot(&name) {
                return Err(Errno::Noent);
            }
            match fs.create_file(dir, &name) {
                Ok(ino) => return Ok(self.insert_mem_file(fs, mount, ino, o)),
                Err(Errno::Exist) if o.follow => {}
                // `O_NOFOLLOW` on a symlink.
                Err(Errno::Exist) => return Err(Errno::Loop),
                Err(e) => return Err(e),
            }
            let Some(target) = fs
                .lookup(dir, &name)
                .and_then(|ino| fs.symlink_target(ino))?
            else {
                // Another creator was faster.
                return Err(Errno::Exist);
            };
            if ends_as_dir(&target) {
                return Err(Errno::Isdir);
            }
            (parent, name) = self.ns.resolve_link_parent(&parent, &target, mount)?;
        }
        Err(Errno::Loop)
    }

    /// Registers a handle for a file of memory mount `mount` already counted as open.
    fn insert_mem_file(&self, fs: &Arc<MemFs>, mount: usize, ino: u64, o: OpenOptions) -> Handle {
        self.insert(Open {
            kind: Kind::MemFile(MemOpen {
                fs: Arc::clone(fs),
                dev: self.ns.mounts[mount].dev,
                ino,
            }),
            filetype: FileType::RegularFile,
            read: o.read,
            write: o.write || o.append,
            append: o.append,
            pos: 0,
        })
    }

    /// Read-only mounts answer `Perm`; a writable mount's handle not opened for writing `Badf`.
    fn check_modify(&self, open: &Open, need_write_handle: bool) -> FsResult<()> {
        let writable_mount = match &open.kind {
            Kind::Dir { loc, .. } => self.writable(loc),
            Kind::VolumeFile { .. } => false,
            Kind::HostFile { mount, .. } => self.ns.mounts[*mount].writable(),
            Kind::MemFile(_) => true,
        };
        if !writable_mount {
            return Err(Errno::Perm);
        }
        if need_write_handle && !open.write {
            return Err(Errno::Badf);
        }
        Ok(())
    }

    fn read_at(kind: &Kind, buf: &mut [u8], pos: u64) -> FsResult<usize> {
        match kind {
            Kind::Dir { .. } => Err(Errno::Badf),
            Kind::VolumeFile { data, .. } => {
                let Ok(start) = usize::try_from(pos) else {
                    return Ok(0);
                };
                let Some(rest) = data.get(start..) else {
                    return Ok(0);
                };
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                Ok(n)
            }
            Kind::HostFile { file, .. } => retry(|| file.read_at(buf, pos)),
            Kind::MemFile(m) => m.fs.read_at(m.ino, buf, pos),
        }
    }

    fn host_file(open: &Open) -> FsResult<&File> {
        match &open.kind {
            Kind::HostFile { file, .. } => Ok(file),
            _ => Err(Errno::Badf),
        }
    }
}

impl FileSystem for Vfs {
    fn preopens(&self) -> Vec<Preopen> {
        self.preopens.clone()
    }

    fn open(&self, dir: Handle, path: &str, o: OpenOptions) -> FsResult<Handle> {
        if o.directory && (o.create || o.exclusive || o.truncate) {
            return Err(Errno::Inval);
        }
        let wants_write = o.write || o.append || o.create || o.truncate;
        if o.create
            && o.exclusive
            && !ends_as_dir(path)
            && let Ok((parent, name)) = self.resolve_parent(dir, path)
            && self.mem(&parent).is_some()
        {
            // Whatever the name is — a symlink too, dangling or not — it exists.
            return self.create_mem(&parent, &name, path, o);
        }
        let loc = match self.resolve(dir, path, o.follow) {
            Ok(loc) => loc,
            Err(Errno::Noent) if wants_write => {
                // Creating in a read-only place is refused as such (as wasmtime does).
                return match self.resolve_parent(dir, path) {
                    Ok((parent, _)) if !self.writable(&parent) => Err(Errno::Perm),
                    Ok((parent, name)) if o.create && self.mem(&parent).is_some() => {
                        self.create_mem(&parent, &name, path, o)
                    }
                    Ok(_) => Err(Errno::Noent),
                    Err(e) => Err(self.create_error(dir, path, e)),
                };
            }
            Err(e) => return Err(e),
        };
        if wants_write && !self.writable(&loc) {
            return Err(Errno::Perm);
        }
        match &loc.at {
            At::Synthetic(_) => Ok(self.insert_dir(loc)),
            At::Volume { mount, node, .. } => match node.kind() {
                webc_container::EntryKind::Dir => Ok(self.insert_dir(loc)),
                // Only reachable with `follow == false`.
                webc_container::EntryKind::Symlink => Err(Errno::Loop),
                webc_container::EntryKind::File => {
                    if o.directory {
                        return Err(Errno::Notdir);
                    }
                    let volume = self.ns.volume(*mount).ok_or(Errno::Io)?;
                    let data = volume.file_content(node).ok_or(Errno::Io)?;
                    let stat = volume_stat(self.ns.mounts[*mount].dev, node);
                    Ok(self.insert(Open {
                        kind: Kind::VolumeFile { data, stat },
                        filetype: FileType::RegularFile,
                        read: o.read,
                        write: false,
                        append: false,
                        pos: 0,
                    }))
                }
            },
            At::Host { .. } => self.open_host(loc, o),
            At::Mem { .. } => self.open_mem(loc, o),
        }
    }

    fn close(&self, handle: Handle) -> FsResult<()> {
        write_lock(&self.handles)
            .remove(&handle.0)
            .map(drop)
            .ok_or(Errno::Badf)
    }

    fn handle_info(&self, handle: Handle) -> FsResult<HandleInfo> {
        let open = self.get(handle)?;
        let open = lock(&open);
        Ok(HandleInfo {
            filetype: Some(open.filetype),
            read: open.read,
            write: open.write,
            append: open.append,
        })
    }

    fn set_append(&self, handle: Handle, append: bool) -> FsResult<()> {
        let open = self.get(handle)?;
        lock(&open).append = append;
        Ok(())
    }

    fn read(&self, handle: Handle, buf: &mut [u8]) -> FsResult<usize> {
        let open = self.get(handle)?;
        let mut open = lock(&open);
        if matches!(open.kind, Kind::Dir { .. }) || !open.read {
            return Err(Errno::Badf);
        }
        let n = Self::read_at(&open.kind, buf, open.pos)?;
        open.pos += n as u64;
        Ok(n)
    }

    fn pread(&self, handle: Handle, buf: &mut [u8], offset: u64) -> FsResult<usize> {
        let open = self.get(handle)?;
        let open = lock(&open);
        if matches!(open.kind, Kind::Dir { .. }) || !open.read {
            return Err(Errno::Badf);
        }
        Self::read_at(&open.kind, buf, offset)
    }

    fn write(&self, handle: Handle, buf: &[u8]) -> FsResult<usize> {
        let open = self.get(handle)?;
        let mut open = lock(&open);
        if !open.write {
            return Err(Errno::Badf);
        }
        if let Kind::MemFile(m) = &open.kind {
            let at = (!open.append).then_some(open.pos);
            let (n, end) = m.fs.write_at(m.ino, buf, at)?;
            open.pos = end;
            return Ok(n);
        }
        let file = Self::host_file(&open)?;
        let (n, end) = if open.append {
            let _append = lock(&self.append);
            let len = io(file.metadata())?.len();
            let n = retry(|| file.write_at(buf, len))?;
            (n, len + n as u64)
        } else {
            let pos = open.pos;
            let n = retry(|| file.write_at(buf, pos))?;
            (n, pos + n as u64)
        };
        open.pos = end;
        Ok(n)
    }

    fn pwrite(&self, handle: Handle, buf: &[u8], offset: u64) -> FsResult<usize> {
        let open = self.get(handle)?;
        let open = lock(&open);
        if !open.write {
            return Err(Errno::Badf);
        }
        if let Kind::MemFile(m) = &open.kind {
            return m.fs.write_at(m.ino, buf, Some(offset)).map(|(n, _)| n);
        }
        let file = Self::host_file(&open)?;
        retry(|| file.write_at(buf, offset))
    }

    fn seek(&self, handle: Handle, offset: i64, whence: Whence) -> FsResult<u64> {
        let open = self.get(handle)?;
        let mut open = lock(&open);
        let base = match whence {
            _ if matches!(open.kind, Kind::Dir { .. }) => return Err(Errno::Badf),
            Whence::Set => 0,
            Whence::Cur => open.pos,
            Whence::End => match &open.kind {
                Kind::VolumeFile { data, .. } => data.len() as u64,
                Kind::HostFile { file, .. } => io(file.metadata())?.len(),
                Kind::MemFile(m) => m.fs.len(m.ino)?,
                Kind::Dir { .. } => return Err(Errno::Badf),
            },
        };
        let new = i128::from(base) + i128::from(offset);
        if new < 0 || new > i128::from(i64::MAX) {
            return Err(Errno::Inval);
        }
        open.pos = new as u64;
        Ok(open.pos)
    }

    fn fstat(&self, handle: Handle) -> FsResult<Stat> {
        let open = self.get(handle)?;
        let open = lock(&open);
        match &open.kind {
            Kind::Dir { loc, .. } => self.stat_loc(loc, true),
            Kind::VolumeFile { stat, .. } => Ok(*stat),
            Kind::HostFile { file, .. } => Ok(host_stat(&io(Metadata::from_file(file))?)),
            Kind::MemFile(m) => m.fs.stat(m.ino, m.dev),
        }
    }

    fn stat(&self, dir: Handle, path: &str, follow: bool) -> FsResult<Stat> {
        let follow = follow || ends_as_dir(path);
        let loc = self.resolve(dir, path, follow)?;
        self.stat_loc(&loc, follow)
    }

    fn readdir(&self, handle: Handle, cookie: u64, max: usize) -> FsResult<Vec<DirEntry>> {
        let open = self.get(handle)?;
        let mut open = lock(&open);
        let Kind::Dir { loc, listing } = &mut open.kind else {
            return Err(Errno::Notdir);
        };
        let list = match listing {
            Some(list) if cookie != 0 => Arc::clone(list),
            _ => {
                let list = Arc::new(self.list(loc)?);
                *listing = Some(Arc::clone(&list));
                list
            }
        };
        let start = usize::try_from(cookie)
            .unwrap_or(usize::MAX)
            .min(list.len());
        let n = max.min(list.len() - start);
        Ok(list[start..start + n].to_vec())
    }

    fn mkdir(&self, dir: Handle, path: &str) -> FsResult<()> {
        let (parent, name) = self
            .resolve_parent(dir, path)
            .map_err(|e| self.create_error(dir, path, e))?;
        if is_dot(&name) || self.is_mount_point(&parent, &name) {
            return Err(Errno::Exist);
        }
        if !self.writable(&parent) {
            return Err(Errno::Perm);
        }
        if let Some((fs, ino)) = self.mem(&parent) {
            return fs.mkdir(ino, &name);
        }
        let (d, p) = self.host(&parent).ok_or(Errno::Io)?;
        io(d.create_dir(p.join(&name)))
    }

    fn unlink(&self, dir: Handle, path: &str) -> FsResult<()> {
        if self.trailing_dir(dir, path)? {
            return Err(Errno::Isdir);
        }
        let (parent, name) = self.resolve_parent(dir, path)?;
        if is_dot(&name) || self.is_mount_point(&parent, &name) {
            return Err(Errno::Isdir);
        }
        if !self.writable(&parent) {
            return Err(Errno::Perm);
        }
        if let Some((fs, ino)) = self.mem(&parent) {
            return fs.unlink(ino, &name);
        }
        let (d, p) = self.host(&parent).ok_or(Errno::Io)?;
        io(d.remove_file_or_symlink(p.join(&name)))
    }

    fn rmdir(&self, dir: Handle, path: &str) -> FsResult<()> {
        let (parent, name) = self.resolve_parent(dir, path)?;
        match name.as_str() {
            "." => return Err(Errno::Inval),
            ".." => return Err(Errno::Notempty),
            _ => {}
        }
        if self.is_mount_point(&parent, &name) {
            return Err(Errno::Busy);
        }
        if !self.writable(&parent) {
            return Err(Errno::Perm);
        }
        if let Some((fs, ino)) = self.mem(&parent) {
            return fs.rmdir(ino, &name);
        }
        let (d, p) = self.host(&parent).ok_or(Errno::Io)?;
        io(d.remove_dir(p.join(&name)))
    }

    fn rename(&self, dir: Handle, path: &str, new_dir: Handle, new_path: &str) -> FsResult<()> {
        self.trailing_dir(dir, path)?;
        if ends_as_dir(new_path)
            && self
                .stat_loc(&self.resolve(dir, path, false)?, false)?
                .filetype
                != Some(FileType::Directory)
        {
            return Err(Errno::Notdir);
        }
        let (from, from_name) = self.resolve_parent(dir, path)?;
        let (to, to_name) = self.resolve_parent(new_dir, new_path)?;
        if is_dot(&from_name)
            || is_dot(&to_name)
            || self.is_mount_point(&from, &from_name)
            || self.is_mount_point(&to, &to_name)
        {
            return Err(Errno::Busy);
        }
        if self.fs_id(&from) != self.fs_id(&to) {
            return Err(Errno::Xdev);
        }
        if !self.writable(&from) {
            return Err(Errno::Perm);
        }
        if let (Some((fs, a)), Some((_, b))) = (self.mem(&from), self.mem(&to)) {
            return fs.rename(a, &from_name, b, &to_name);
        }
        let (d, p) = self.host(&from).ok_or(Errno::Io)?;
        let (_, q) = self.host(&to).ok_or(Errno::Io)?;
        io(d.rename(p.join(&from_name), d, q.join(&to_name)))
    }

    fn symlink(&self, target: &str, dir: Handle, path: &str) -> FsResult<()> {
        if target.contains('\0') {
            return Err(Errno::Inval);
        }
        if target.is_empty() {
            return Err(Errno::Noent);
        }
        let (parent, name) = self
            .resolve_parent(dir, path)
            .map_err(|e| self.create_error(dir, path, e))?;
        if is_dot(&name) || self.is_mount_point(&parent, &name) {
            return Err(Errno::Exist);
        }
        if !self.writable(&parent) {
            return Err(Errno::Perm);
        }
        if let Some((fs, ino)) = self.mem(&parent) {
            return fs.symlink(target, ino, &name);
        }
        let (d, p) = self.host(&parent).ok_or(Errno::Io)?;
        io(d.symlink(target, p.join(&name)))
    }

    fn readlink(&self, dir: Handle, path: &str) -> FsResult<String> {
        let loc = self.resolve(dir, path, false)?;
        match &loc.at {
            At::Volume { node, .. } => node.symlink_target().map(str::to_owned).ok_or(Errno::Inval),
            At::Synthetic(_) => Err(Errno::Inval),
            At::Host { .. } => {
                let (d, p) = self.host(&loc).ok_or(Errno::Io)?;
                io(d.read_link_contents(p))?
                    .into_os_string()
                    .into_string()
                    .map_err(|_| Errno::Inval)
            }
            At::Mem { mount, ino } => self
                .ns
                .mem(*mount)?
                .symlink_target(*ino)?
                .ok_or(Errno::Inval),
        }
    }

    fn link(
        &self,
        dir: Handle,
        path: &str,
        new_dir: Handle,
        new_path: &str,
        follow: bool,
    ) -> FsResult<()> {
        self.trailing_dir(dir, path)?;
        // A host path is checked only by the final call (after the new name), so an error
        // of an in-memory source waits until then too.
        let src = self.resolve(dir, path, follow);
        if ends_as_dir(new_path) {
            // A new name ending in `/` would have to be a directory, and links to
            // directories are not made: it exists (`Exist`) or cannot be created (`Noent`).
            return match self.stat(new_dir, new_path.trim_end_matches('/'), false) {
                Ok(_) => Err(Errno::Exist),
                Err(_) => Err(Errno::Noent),
            };
        }
        let (to, to_name) = self.resolve_parent(new_dir, new_path)?;
        if is_dot(&to_name) || self.is_mount_point(&to, &to_name) {
            return Err(Errno::Exist);
        }
        let src = src?;
        if src.mnode.is_some() {
            // Mount points are directories: no hard links to them.
            return Err(Errno::Perm);
        }
        if self.fs_id(&src) != self.fs_id(&to) {
            return Err(Errno::Xdev);
        }
        if !self.writable(&src) {
            return Err(Errno::Perm);
        }
        if let (Some((fs, ino)), Some((_, dir))) = (self.mem(&src), self.mem(&to)) {
            return fs.link(ino, dir, &to_name);
        }
        let (d, p) = self.host(&src).ok_or(Errno::Io)?;
        let (_, q) = self.host(&to).ok_or(Errno::Io)?;
        let p = if follow {
            io(d.canonicalize(p))?
        } else {
            p.to_owned()
        };
        io(d.hard_link(rel_or_dot(&p), d, q.join(&to_name)))
    }

    fn truncate(&self, handle: Handle, size: u64) -> FsResult<()> {
        let open = self.get(handle)?;
        let open = lock(&open);
        self.check_modify(&open, true)?;
        if let Kind::MemFile(m) = &open.kind {
            return m.fs.set_len(m.ino, size);
        }
        let file = Self::host_file(&open)?;
        retry(|| file.set_len(size))
    }

    fn allocate(&self, handle: Handle, offset: u64, len: u64) -> FsResult<()> {
        let open = self.get(handle)?;
        let open = lock(&open);
        self.check_modify(&open, true)?;
        let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
        if let Kind::MemFile(m) = &open.kind {
            return m.fs.allocate(m.ino, end);
        }
        let file = Self::host_file(&open)?;
        if end > io(file.metadata())?.len() {
            retry(|| file.set_len(end))?;
        }
        Ok(())
    }

    fn set_times(&self, handle: Handle, atime: SetTime, mtime: SetTime) -> FsResult<()> {
        let open = self.get(handle)?;
        let open = lock(&open);
        self.check_modify(&open, false)?;
        match &open.kind {
            Kind::HostFile { file, .. } => {
                let mut times = std::fs::FileTimes::new();
                if let Some(t) = system_time(atime) {
                    times = times.set_accessed(t);
                }
                if let Some(t) = system_time(mtime) {
                    times = times.set_modified(t);
                }
                retry(|| file.set_times(times))
            }
            Kind::Dir { loc, .. } => {
                if let Some((fs, ino)) = self.mem(loc) {
                    return fs.set_times(ino, atime, mtime);
                }
                let (d, p) = self.host(loc).ok_or(Errno::Perm)?;
                io(d.set_times(p, time_spec(atime), time_spec(mtime)))
            }
            Kind::MemFile(m) => m.fs.set_times(m.ino, atime, mtime),
            Kind::VolumeFile { .. } => Err(Errno::Perm),
        }
    }

    fn set_times_at(
        &self,
        dir: Handle,
        path: &str,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> FsResult<()> {
        let loc = self.resolve(dir, path, follow)?;
        if !self.writable(&loc) {
            return Err(Errno::Perm);
        }
        if let Some((fs, ino)) = self.mem(&loc) {
            // `loc` is the symlink itself when not following.
            return fs.set_times(ino, atime, mtime);
        }
        let (d, p) = self.host(&loc).ok_or(Errno::Perm)?;
        if follow {
            io(d.set_times(p, time_spec(atime), time_spec(mtime)))
        } else {
            io(d.set_symlink_times(p, time_spec(atime), time_spec(mtime)))
        }
    }

    fn sync(&self, handle: Handle, data_only: bool) -> FsResult<()> {
        let open = self.get(handle)?;
        let open = lock(&open);
        match &open.kind {
            Kind::HostFile { file, .. } => {
                if data_only {
                    retry(|| file.sync_data())
                } else {
                    retry(|| file.sync_all())
                }
            }
            Kind::Dir { loc, .. } => match self.host(loc) {
                Some((d, p)) => {
                    // Opened for reading (`open_dir` gives a handle `fsync` refuses).
                    let mut opts = cap_std::fs::OpenOptions::new();
                    opts.read(true).maybe_dir(true);
                    let f = io(d.open_with(p, &opts))?.into_std();
                    retry(|| f.sync_all())
                }
                // Volumes and synthetic directories have nothing to flush.
                None => Ok(()),
            },
            // Nothing of memory or of a volume needs flushing.
            Kind::VolumeFile { .. } | Kind::MemFile(_) => Ok(()),
        }
    }
}

// `Vfs` is shared across a runner's threads.
const _: fn() = || {
    fn is<T: Send + Sync>() {}
    is::<Vfs>();
};
