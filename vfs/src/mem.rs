//! The private `/tmp`: a file system in the process's memory, with a byte budget.
//!
//! Nothing of it touches the host's disk, so no exit — `kill -9` included — can leave
//! anything behind, and a guest cannot fill the host's disk through it. It holds
//! directories, regular files, symlinks and hard links, numbered by inode (`1` is the root;
//! numbers are never reused within a run).
//!
//! **Budget.** Everything the guest can make the host allocate is charged against one byte
//! budget ([`crate::VfsBuilder::tmp_size`], default [`crate::DEFAULT_TMP_SIZE`]): the
//! allocated capacity of every file's contents (a sparse region counts in full: contents are
//! one contiguous buffer), every symlink target, [`INODE_COST`] per inode and
//! [`ENTRY_COST`] plus the name per directory entry — so a million empty files are bounded
//! as well as one huge one. A write, `truncate`, `allocate`, create, `mkdir`, `symlink`,
//! `link` or `rename` that would go beyond it fails with `Nospc`; a write that fits in part
//! writes that part, as POSIX `write` does on a full disk. Space comes back when the last
//! name of an inode is removed and its last open handle is closed.
//!
//! **Errnos** are those Linux gives on tmpfs, so that `/tmp` behaves as a writable host
//! grant does (the crate's tests compare the two operation by operation): names longer than
//! 255 bytes → `Nametoolong`; `unlink` of a directory → `Isdir`; `rmdir` of a non-directory
//! → `Notdir`, of a non-empty one → `Notempty`; `rename` of a directory onto a file →
//! `Notdir`, of a file onto a directory → `Isdir`, of a directory into itself → `Inval`;
//! `link` to a directory → `Perm`; a symlink with an absolute target → `Perm` (as cap-std
//! refuses to create one in a grant). Directory times change when entries are added or
//! removed; file times on write and truncate; nothing updates access times on read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use webc_runner_api::fs::{Errno, FileType, FsResult, SetTime, Stat};

/// Bytes charged per inode besides its contents.
pub(crate) const INODE_COST: u64 = 256;
/// Bytes charged per directory entry besides its name.
pub(crate) const ENTRY_COST: u64 = 64;
/// The longest name of a directory entry (Linux's `NAME_MAX`).
const NAME_MAX: usize = 255;
/// The largest file size (as `off_t`).
const MAX_SIZE: u64 = i64::MAX as u64;
/// Inode number of the root directory.
pub(crate) const ROOT: u64 = 1;

/// The in-memory file system behind the private `/tmp`.
pub(crate) struct MemFs {
    state: Mutex<State>,
}

struct State {
    nodes: HashMap<u64, Inode>,
    next_ino: u64,
    limit: u64,
    used: u64,
}

struct Inode {
    kind: Node,
    /// Directory entries naming this inode (directories: 1 while linked).
    nlink: u64,
    /// Open file handles.
    open: u64,
    atim: u64,
    mtim: u64,
    ctim: u64,
}

enum Node {
    Dir {
        entries: BTreeMap<String, u64>,
        /// The directory holding this one (the root: itself) and this one's name there
        /// (the root: empty), so `..` and paths cost no scan of a directory.
        parent: u64,
        name: String,
        /// Entries that are directories (for `nlink`, without a scan).
        subdirs: u64,
    },
    File {
        data: Vec<u8>,
    },
    Symlink {
        target: String,
    },
}

impl Node {
    fn filetype(&self) -> FileType {
        match self {
            Node::Dir { .. } => FileType::Directory,
            Node::File { .. } => FileType::RegularFile,
            Node::Symlink { .. } => FileType::SymbolicLink,
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn entry_cost(name: &str) -> u64 {
    ENTRY_COST + to_u64(name.len())
}

fn check_name(name: &str) -> FsResult<()> {
    if name.len() > NAME_MAX {
        return Err(Errno::Nametoolong);
    }
    Ok(())
}

fn data_mut(node: &mut Inode) -> FsResult<&mut Vec<u8>> {
    match &mut node.kind {
        Node::File { data } => Ok(data),
        Node::Dir { .. } => Err(Errno::Isdir),
        Node::Symlink { .. } => Err(Errno::Badf),
    }
}

impl State {
    fn node(&self, ino: u64) -> FsResult<&Inode> {
        self.nodes.get(&ino).ok_or(Errno::Noent)
    }

    fn node_mut(&mut self, ino: u64) -> FsResult<&mut Inode> {
        self.nodes.get_mut(&ino).ok_or(Errno::Noent)
    }

    fn entries(&self, dir: u64) -> FsResult<&BTreeMap<String, u64>> {
        match &self.node(dir)?.kind {
            Node::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::Notdir),
        }
    }

    fn entries_mut(&mut self, dir: u64) -> FsResult<&mut BTreeMap<String, u64>> {
        match &mut self.node_mut(dir)?.kind {
            Node::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::Notdir),
        }
    }

    fn charge(&mut self, bytes: u64) -> FsResult<()> {
        let used = self.used.checked_add(bytes).ok_or(Errno::Nospc)?;
        if used > self.limit {
            return Err(Errno::Nospc);
        }
        self.used = used;
        Ok(())
    }

    fn release(&mut self, bytes: u64) {
        self.used = self.used.saturating_sub(bytes);
    }

    /// Counts one subdirectory more (`add`) or less in directory `dir`.
    fn count_subdir(&mut self, dir: u64, add: bool) {
        if let Some(Inode {
            kind: Node::Dir { subdirs, .. },
            ..
        }) = self.nodes.get_mut(&dir)
        {
            *subdirs = if add {
                subdirs.saturating_add(1)
            } else {
                subdirs.saturating_sub(1)
            };
        }
    }

    fn touch_dir(&mut self, dir: u64) {
        let t = now();
        if let Some(n) = self.nodes.get_mut(&dir) {
            n.mtim = t;
            n.ctim = t;
        }
    }

    /// Makes a new inode named `name` in `dir` (which must not have that name yet).
    fn create(&mut self, dir: u64, name: &str, kind: Node) -> FsResult<u64> {
        check_name(name)?;
        let extra = match &kind {
            Node::Symlink { target } => to_u64(target.len()),
            _ => 0,
        };
        let is_dir = matches!(kind, Node::Dir { .. });
        self.entries(dir)?;
        self.charge(INODE_COST + entry_cost(name) + extra)?;
        let ino = self.next_ino;
        self.next_ino += 1;
        let t = now();
        self.nodes.insert(
            ino,
            Inode {
                kind,
                nlink: 1,
                open: 0,
                atim: t,
                mtim: t,
                ctim: t,
            },
        );
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        if is_dir {
            self.count_subdir(dir, true);
        }
        self.touch_dir(dir);
        Ok(ino)
    }

    /// Drops one name of `ino` (the entry itself is already gone) and frees the inode when
    /// nothing names or holds it any more.
    fn unref(&mut self, ino: u64) {
        let Some(node) = self.nodes.get_mut(&ino) else {
            return;
        };
        node.nlink = node.nlink.saturating_sub(1);
        node.ctim = now();
        self.free_if_unused(ino);
    }

    fn free_if_unused(&mut self, ino: u64) {
        let unused = self
            .nodes
            .get(&ino)
            .is_some_and(|n| n.nlink == 0 && n.open == 0);
        if !unused {
            return;
        }
        if let Some(node) = self.nodes.remove(&ino) {
            let bytes = match &node.kind {
                Node::File { data } => to_u64(data.capacity()),
                Node::Symlink { target } => to_u64(target.len()),
                Node::Dir { .. } => 0,
            };
            self.release(INODE_COST + bytes);
        }
    }

    /// Grows file `ino`'s buffer so it can hold `needed` bytes, charging what is allocated:
    /// doubling while the budget allows (amortised appends), exactly what is needed near it.
    fn reserve(&mut self, ino: u64, needed: u64) -> FsResult<()> {
        let remaining = self.limit.saturating_sub(self.used);
        let data = data_mut(self.node_mut(ino)?)?;
        let cap = to_u64(data.capacity());
        if needed <= cap {
            return Ok(());
        }
        if needed - cap > remaining {
            return Err(Errno::Nospc);
        }
        let want = needed.max(cap.saturating_mul(2).min(cap + remaining));
        let extra = usize::try_from(want).map_err(|_| Errno::Nospc)? - data.len();
        data.try_reserve_exact(extra).map_err(|_| Errno::Nomem)?;
        let grown = to_u64(data.capacity()) - cap;
        self.used = self.used.saturating_add(grown);
        Ok(())
    }

    /// Sets file `ino`'s size, zero-filling growth.
    fn set_len(&mut self, ino: u64, size: u64) -> FsResult<()> {
        if size > MAX_SIZE {
            return Err(Errno::Fbig);
        }
        let len = to_u64(data_mut(self.node_mut(ino)?)?.len());
        if size > len {
            self.reserve(ino, size)?;
        }
        let node = self.node_mut(ino)?;
        let data = data_mut(node)?;
        let size = usize::try_from(size).map_err(|_| Errno::Fbig)?;
        data.resize(size, 0);
        let before = to_u64(data.capacity());
        if data.capacity() / 2 > data.len() {
            data.shrink_to_fit();
        }
        let freed = before - to_u64(data.capacity());
        let t = now();
        node.mtim = t;
        node.ctim = t;
        self.release(freed);
        Ok(())
    }

    fn is_ancestor(&self, a: u64, mut of: u64) -> bool {
        loop {
            if of == a {
                return true;
            }
            match self.nodes.get(&of).map(|n| &n.kind) {
                Some(Node::Dir { parent, .. }) if *parent != of => of = *parent,
                _ => return false,
            }
        }
    }
}

impl MemFs {
    /// An empty file system (only its root directory) with a budget of `limit` bytes.
    pub(crate) fn new(limit: u64) -> MemFs {
        let t = now();
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            Inode {
                kind: Node::Dir {
                    entries: BTreeMap::new(),
                    parent: ROOT,
                    name: String::new(),
                    subdirs: 0,
                },
                nlink: 1,
                open: 0,
                atim: t,
                mtim: t,
                ctim: t,
            },
        );
        MemFs {
            state: Mutex::new(State {
                nodes,
                next_ino: ROOT + 1,
                limit,
                // The root is charged like any inode, so the budget bounds it all.
                used: INODE_COST.min(limit),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes charged and the budget.
    pub(crate) fn usage(&self) -> (u64, u64) {
        let st = self.lock();
        (st.used, st.limit)
    }

    /// The inode named `name` in directory `dir`.
    pub(crate) fn lookup(&self, dir: u64, name: &str) -> FsResult<u64> {
        check_name(name)?;
        self.lock()
            .entries(dir)?
            .get(name)
            .copied()
            .ok_or(Errno::Noent)
    }

    /// The type of `ino` (`Noent` once it is gone).
    pub(crate) fn filetype(&self, ino: u64) -> FsResult<FileType> {
        Ok(self.lock().node(ino)?.kind.filetype())
    }

    /// The target of symlink `ino`, `None` for anything else.
    pub(crate) fn symlink_target(&self, ino: u64) -> FsResult<Option<String>> {
        Ok(match &self.lock().node(ino)?.kind {
            Node::Symlink { target } => Some(target.clone()),
            _ => None,
        })
    }

    /// The names leading from the root to directory `dir` (empty for the root).
    pub(crate) fn path_of(&self, dir: u64) -> FsResult<Vec<String>> {
        let st = self.lock();
        let mut names = Vec::new();
        let mut cur = dir;
        while cur != ROOT {
            let Node::Dir { parent, name, .. } = &st.node(cur)?.kind else {
                return Err(Errno::Notdir);
            };
            names.push(name.clone());
            cur = *parent;
            if names.len() > st.nodes.len() {
                // A cycle cannot happen (rename refuses moving a directory into itself).
                return Err(Errno::Io);
            }
        }
        names.reverse();
        Ok(names)
    }

    /// The attributes of `ino`, on device `dev`.
    pub(crate) fn stat(&self, ino: u64, dev: u64) -> FsResult<Stat> {
        let st = self.lock();
        let node = st.node(ino)?;
        let (nlink, size) = match &node.kind {
            Node::Dir { subdirs, .. } => (2 + subdirs, 4096),
            Node::File { data } => (node.nlink, to_u64(data.len())),
            Node::Symlink { target } => (node.nlink, to_u64(target.len())),
        };
        Ok(Stat {
            dev,
            ino,
            filetype: Some(node.kind.filetype()),
            nlink,
            size,
            atim: node.atim,
            mtim: node.mtim,
            ctim: node.ctim,
        })
    }

    /// The entries of directory `dir`, sorted by name: (name, inode, type).
    pub(crate) fn list(&self, dir: u64) -> FsResult<Vec<(String, u64, FileType)>> {
        let st = self.lock();
        Ok(st
            .entries(dir)?
            .iter()
            .map(|(name, &ino)| {
                let ft = st
                    .nodes
                    .get(&ino)
                    .map_or(FileType::Unknown, |n| n.kind.filetype());
                (name.clone(), ino, ft)
            })
            .collect())
    }

    /// Creates an empty regular file `name` in `dir`, opened (see [`MemFs::open_file`]).
    /// `Exist` if the name is taken.
    pub(crate) fn create_file(&self, dir: u64, name: &str) -> FsResult<u64> {
        let mut st = self.lock();
        if st.entries(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        let ino = st.create(dir, name, Node::File { data: Vec::new() })?;
        st.node_mut(ino)?.open += 1;
        Ok(ino)
    }

    /// Counts an open handle of regular file `ino` (truncating it first if asked).
    pub(crate) fn open_file(&self, ino: u64, truncate: bool) -> FsResult<()> {
        let mut st = self.lock();
        data_mut(st.node_mut(ino)?)?;
        if truncate {
            st.set_len(ino, 0)?;
        }
        st.node_mut(ino)?.open += 1;
        Ok(())
    }

    /// Forgets one open handle of `ino`, freeing it if it has no name left.
    pub(crate) fn close_file(&self, ino: u64) {
        let mut st = self.lock();
        if let Some(n) = st.nodes.get_mut(&ino) {
            n.open = n.open.saturating_sub(1);
        }
        st.free_if_unused(ino);
    }

    /// The size of file `ino`.
    pub(crate) fn len(&self, ino: u64) -> FsResult<u64> {
        let mut st = self.lock();
        Ok(to_u64(data_mut(st.node_mut(ino)?)?.len()))
    }

    /// Reads from file `ino` at `pos`.
    pub(crate) fn read_at(&self, ino: u64, buf: &mut [u8], pos: u64) -> FsResult<usize> {
        let mut st = self.lock();
        let data = data_mut(st.node_mut(ino)?)?;
        let Some(rest) = usize::try_from(pos).ok().and_then(|p| data.get(p..)) else {
            return Ok(0);
        };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }

    /// Writes to file `ino` at `pos` (`None`: at its end, atomically). Writes what fits in
    /// the budget; `Nospc` when nothing does. Returns the bytes written and the position
    /// after them.
    pub(crate) fn write_at(
        &self,
        ino: u64,
        buf: &[u8],
        pos: Option<u64>,
    ) -> FsResult<(usize, u64)> {
        let mut st = self.lock();
        let st = &mut *st;
        let len = to_u64(data_mut(st.node_mut(ino)?)?.len());
        let pos = pos.unwrap_or(len);
        if buf.is_empty() {
            return Ok((0, pos));
        }
        if pos >= MAX_SIZE {
            return Err(Errno::Fbig);
        }
        let mut end = pos.saturating_add(to_u64(buf.len())).min(MAX_SIZE);
        if end > len {
            let cap = to_u64(data_mut(st.node_mut(ino)?)?.capacity());
            let affordable = cap.saturating_add(st.limit.saturating_sub(st.used));
            if pos >= affordable {
                return Err(Errno::Nospc);
            }
            end = end.min(affordable);
            st.reserve(ino, end)?;
        }
        let node = st.node_mut(ino)?;
        let data = data_mut(node)?;
        let (p, e) = (
            usize::try_from(pos).map_err(|_| Errno::Fbig)?,
            usize::try_from(end).map_err(|_| Errno::Fbig)?,
        );
        if e > data.len() {
            data.resize(e, 0);
        }
        let n = e - p;
        data[p..e].copy_from_slice(&buf[..n]);
        let t = now();
        node.mtim = t;
        node.ctim = t;
        Ok((n, end))
    }

    /// Sets the size of file `ino`.
    pub(crate) fn set_len(&self, ino: u64, size: u64) -> FsResult<()> {
        self.lock().set_len(ino, size)
    }

    /// Grows file `ino` to at least `end` bytes.
    pub(crate) fn allocate(&self, ino: u64, end: u64) -> FsResult<()> {
        let mut st = self.lock();
        let len = to_u64(data_mut(st.node_mut(ino)?)?.len());
        if end > len {
            st.set_len(ino, end)?;
        }
        Ok(())
    }

    /// Sets the access and modification times of `ino`.
    pub(crate) fn set_times(&self, ino: u64, atime: SetTime, mtime: SetTime) -> FsResult<()> {
        let mut st = self.lock();
        let node = st.node_mut(ino)?;
        let t = now();
        let pick = |s: SetTime| match s {
            SetTime::Omit => None,
            SetTime::Now => Some(t),
            SetTime::At(ns) => Some(ns),
        };
        if let Some(a) = pick(atime) {
            node.atim = a;
        }
        if let Some(m) = pick(mtime) {
            node.mtim = m;
        }
        node.ctim = t;
        Ok(())
    }

    /// Creates directory `name` in `dir`.
    pub(crate) fn mkdir(&self, dir: u64, name: &str) -> FsResult<()> {
        let mut st = self.lock();
        if st.entries(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        st.create(
            dir,
            name,
            Node::Dir {
                entries: BTreeMap::new(),
                parent: dir,
                name: name.to_owned(),
                subdirs: 0,
            },
        )?;
        Ok(())
    }

    /// Creates symlink `name` in `dir` pointing to `target`.
    pub(crate) fn symlink(&self, target: &str, dir: u64, name: &str) -> FsResult<()> {
        let mut st = self.lock();
        if st.entries(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        if target.starts_with('/') {
            return Err(Errno::Perm);
        }
        st.create(
            dir,
            name,
            Node::Symlink {
                target: target.to_owned(),
            },
        )?;
        Ok(())
    }

    /// Removes the non-directory `name` of `dir`.
    pub(crate) fn unlink(&self, dir: u64, name: &str) -> FsResult<()> {
        let mut st = self.lock();
        let ino = *st.entries(dir)?.get(name).ok_or(Errno::Noent)?;
        if matches!(st.node(ino)?.kind, Node::Dir { .. }) {
            return Err(Errno::Isdir);
        }
        st.entries_mut(dir)?.remove(name);
        st.release(entry_cost(name));
        st.touch_dir(dir);
        st.unref(ino);
        Ok(())
    }

    /// Removes the empty directory `name` of `dir`.
    pub(crate) fn rmdir(&self, dir: u64, name: &str) -> FsResult<()> {
        let mut st = self.lock();
        let ino = *st.entries(dir)?.get(name).ok_or(Errno::Noent)?;
        if !st.entries(ino).map_err(|_| Errno::Notdir)?.is_empty() {
            return Err(Errno::Notempty);
        }
        st.entries_mut(dir)?.remove(name);
        st.release(entry_cost(name));
        st.count_subdir(dir, false);
        st.touch_dir(dir);
        st.unref(ino);
        Ok(())
    }

    /// Renames `from_dir/from` to `to_dir/to`, replacing what `to` names as `rename(2)`
    /// does.
    pub(crate) fn rename(&self, from_dir: u64, from: &str, to_dir: u64, to: &str) -> FsResult<()> {
        check_name(to)?;
        let mut st = self.lock();
        let ino = *st.entries(from_dir)?.get(from).ok_or(Errno::Noent)?;
        st.entries(to_dir)?;
        let is_dir = matches!(st.node(ino)?.kind, Node::Dir { .. });
        let old = st.entries(to_dir)?.get(to).copied();
        if old == Some(ino) {
            // Two names of one inode (or the same name): nothing to do.
            return Ok(());
        }
        if is_dir && st.is_ancestor(ino, to_dir) {
            return Err(Errno::Inval);
        }
        if let Some(old) = old {
            match (&st.node(old)?.kind, is_dir) {
                (Node::Dir { entries, .. }, true) if !entries.is_empty() => {
                    return Err(Errno::Notempty);
                }
                (Node::Dir { .. }, false) => return Err(Errno::Isdir),
                (Node::File { .. } | Node::Symlink { .. }, true) => return Err(Errno::Notdir),
                _ => {}
            }
        }
        // The new name is charged before anything changes; the replaced one comes back.
        st.charge(entry_cost(to))?;
        st.entries_mut(from_dir)?.remove(from);
        st.release(entry_cost(from));
        if let Some(old) = old {
            st.release(entry_cost(to));
            if is_dir {
                // The replaced entry was an empty directory.
                st.count_subdir(to_dir, false);
            }
            st.unref(old);
        }
        st.entries_mut(to_dir)?.insert(to.to_owned(), ino);
        if let Node::Dir { parent, name, .. } = &mut st.node_mut(ino)?.kind {
            *parent = to_dir;
            to.clone_into(name);
        }
        if is_dir {
            st.count_subdir(from_dir, false);
            st.count_subdir(to_dir, true);
        }
        st.node_mut(ino)?.ctim = now();
        st.touch_dir(from_dir);
        st.touch_dir(to_dir);
        Ok(())
    }

    /// Gives inode `ino` the new name `name` in `dir`.
    pub(crate) fn link(&self, ino: u64, dir: u64, name: &str) -> FsResult<()> {
        check_name(name)?;
        let mut st = self.lock();
        if st.entries(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        let node = st.node(ino)?;
        if matches!(node.kind, Node::Dir { .. }) {
            return Err(Errno::Perm);
        }
        if node.nlink == 0 {
            // Linux refuses to give an unlinked file a name again.
            return Err(Errno::Noent);
        }
        st.charge(entry_cost(name))?;
        st.entries_mut(dir)?.insert(name.to_owned(), ino);
        let node = st.node_mut(ino)?;
        node.nlink += 1;
        node.ctim = now();
        st.touch_dir(dir);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_contents_inodes_and_names_and_gives_them_back() {
        let fs = MemFs::new(64 * 1024);
        let (base, _) = fs.usage();
        let f = fs.create_file(ROOT, "f").unwrap();
        assert_eq!(fs.usage().0, base + INODE_COST + entry_cost("f"));
        let (n, end) = fs.write_at(f, &[7u8; 1000], None).unwrap();
        assert_eq!((n, end), (1000, 1000));
        assert!(fs.usage().0 >= base + INODE_COST + entry_cost("f") + 1000);
        // Writing past the budget writes what fits, then nothing.
        let (n, _) = fs.write_at(f, &vec![1u8; 100 * 1024], None).unwrap();
        assert!(n > 0 && n < 100 * 1024, "partial write: {n}");
        assert_eq!(fs.write_at(f, b"x", None), Err(Errno::Nospc));
        assert_eq!(fs.usage().0, 64 * 1024);
        assert_eq!(fs.set_len(f, 1 << 30), Err(Errno::Nospc));
        assert_eq!(fs.mkdir(ROOT, "d"), Err(Errno::Nospc));
        // Unlinked but open: still charged; closed: freed.
        fs.unlink(ROOT, "f").unwrap();
        assert_eq!(fs.mkdir(ROOT, "d"), Err(Errno::Nospc));
        fs.close_file(f);
        assert_eq!(fs.usage().0, base);
        fs.mkdir(ROOT, "d").unwrap();
    }

    #[test]
    fn empty_inodes_are_bounded_too() {
        let fs = MemFs::new(100 * 1024);
        let mut made = 0;
        loop {
            match fs.mkdir(ROOT, &format!("d{made}")) {
                Ok(()) => made += 1,
                Err(e) => {
                    assert_eq!(e, Errno::Nospc);
                    break;
                }
            }
            assert!(made < 100_000, "no bound on empty directories");
        }
        assert!(made > 100, "{made}");
        assert!(fs.usage().0 <= 100 * 1024);
    }

    #[test]
    fn rename_keeps_the_tree_a_tree() {
        let fs = MemFs::new(1 << 20);
        fs.mkdir(ROOT, "a").unwrap();
        let a = fs.lookup(ROOT, "a").unwrap();
        fs.mkdir(a, "b").unwrap();
        let b = fs.lookup(a, "b").unwrap();
        assert_eq!(fs.rename(ROOT, "a", b, "c"), Err(Errno::Inval));
        assert_eq!(fs.rename(ROOT, "a", a, "c"), Err(Errno::Inval));
        fs.rename(a, "b", ROOT, "b2").unwrap();
        assert_eq!(fs.path_of(b).unwrap(), ["b2"]);
        fs.rename(ROOT, "a", b, "a").unwrap();
        assert_eq!(fs.path_of(a).unwrap(), ["b2", "a"]);
        assert_eq!(fs.stat(b, 0).unwrap().nlink, 3);
        assert_eq!(fs.stat(ROOT, 0).unwrap().nlink, 3);
        // Replacing an empty directory, then removing: the counts follow.
        fs.mkdir(ROOT, "e").unwrap();
        assert_eq!(fs.stat(ROOT, 0).unwrap().nlink, 4);
        fs.rename(b, "a", ROOT, "e").unwrap();
        assert_eq!(fs.stat(ROOT, 0).unwrap().nlink, 4);
        assert_eq!(fs.stat(b, 0).unwrap().nlink, 2);
        assert_eq!(fs.path_of(a).unwrap(), ["e"]);
        fs.rmdir(ROOT, "e").unwrap();
        assert_eq!(fs.stat(ROOT, 0).unwrap().nlink, 3);
    }
}
