//! Volumes: read-only directory trees inside a container, looked up without linear scans.
//!
//! A volume is a header (a tree of directory/file/symlink records) and a data region
//! holding file contents back to back. Nothing is parsed when a volume is opened; each
//! directory is turned into a sorted table (in one pass over its bytes) the first time a
//! lookup passes through it, and that table is kept, so every later lookup costs one binary
//! search per path segment. Small directories (up to 1 KiB of entries) are scanned instead:
//! validated the same way, they need no table.
//! File contents are returned as [`Bytes`] slices of the container's buffer (zero-copy).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;

use crate::Version;
use crate::cursor::{Cursor, utf8};
use crate::error::{Error, Result};

/// Symlinks followed during one lookup before giving up (as Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// Deepest directory nesting any volume may have: a directory's path has at most this many
/// segments (so a file's has at most one more). The one limit every reader and writer of
/// this crate applies: [`Volume::walk`] (and so `inspect`, `verify`, extraction and
/// [`crate::write::directory_of`]), path lookups, [`crate::write::Directory::insert`] and
/// the writer. Without a bound a few KiB of hostile header describe 100 000 nested
/// directories, and whoever walks, prints or rewrites them pays for every level; real
/// packages nest a few dozen levels at most, and Linux's `PATH_MAX` (4096 bytes) already
/// stops a tree of one-letter names at 2048 levels.
pub const MAX_DEPTH: usize = 256;

/// Longest path (in bytes, `/a/b` is 4) an entry of a volume may have, Linux's `PATH_MAX`.
/// Enforced with [`MAX_DEPTH`] by [`Volume::walk`] and [`crate::write::Directory::insert`]:
/// without it, one long directory name above many entries makes every listing that prints
/// full paths (`inspect --json`) quadratic in the header's size; with it, such a listing is
/// at most ~4 KiB per entry. No package Wasmer builds on Linux can exceed it.
pub const MAX_PATH_LEN: usize = 4096;

/// The one-line reason given when a tree nests deeper than [`MAX_DEPTH`].
pub(crate) fn too_deep_reason(path: &str) -> String {
    format!(
        "directories nested more than {MAX_DEPTH} levels deep (at {})",
        shorten_path(path)
    )
}

/// The one-line reason given for a path longer than [`MAX_PATH_LEN`].
pub(crate) fn too_long_reason(path: &str) -> String {
    format!(
        "path longer than {MAX_PATH_LEN} bytes ({})",
        shorten_path(path)
    )
}

/// A path cut to a readable length for an error message (its head and tail, with the
/// total length), so a hostile 100 000-level path cannot flood a terminal.
pub(crate) fn shorten_path(path: &str) -> String {
    const KEEP: usize = 60;
    if path.len() <= 2 * KEEP + 20 {
        return path.to_owned();
    }
    let mut head = KEEP;
    while !path.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = path.len() - KEEP;
    while !path.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}…{} ({} bytes)", &path[..head], &path[tail..], path.len())
}

/// v2/v3 record tags.
pub(crate) const TAG_DIR: u8 = 30;
pub(crate) const TAG_FILE: u8 = 31;
pub(crate) const TAG_SYMLINK: u8 = 32;

/// What kind of entry a [`Node`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link (v3 only).
    Symlink,
}

impl EntryKind {
    /// Lower-case name, as used in `inspect --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Dir => "dir",
            EntryKind::File => "file",
            EntryKind::Symlink => "symlink",
        }
    }
}

/// One entry of a volume: its kind and what the container records about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Offset of the record inside the volume header (v1: of the directory entry record).
    pub(crate) at: u64,
    pub(crate) kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Dir {
        /// Where the directory's entries live: v2/v3 the record offset, v1 the block
        /// offset (`None`: an empty v1 directory has no block).
        table: Option<u64>,
        modified: Option<u64>,
        hash: Option<[u8; 32]>,
    },
    File {
        start: u64,
        end: u64,
        hash: Option<[u8; 32]>,
        modified: Option<u64>,
    },
    Symlink {
        target: Box<str>,
        hash: Option<[u8; 32]>,
        modified: Option<u64>,
    },
}

impl Node {
    /// Directory, file or symlink.
    pub fn kind(&self) -> EntryKind {
        match self.kind {
            NodeKind::Dir { .. } => EntryKind::Dir,
            NodeKind::File { .. } => EntryKind::File,
            NodeKind::Symlink { .. } => EntryKind::Symlink,
        }
    }

    /// Is this a directory?
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir { .. })
    }

    /// Is this a regular file?
    pub fn is_file(&self) -> bool {
        matches!(self.kind, NodeKind::File { .. })
    }

    /// File size in bytes; the target's length for a symlink; 0 for a directory.
    pub fn len(&self) -> u64 {
        match &self.kind {
            NodeKind::File { start, end, .. } => end - start,
            NodeKind::Symlink { target, .. } => target.len() as u64,
            NodeKind::Dir { .. } => 0,
        }
    }

    /// True for empty files and directories.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Modification time in seconds since the Unix epoch (v3 only).
    pub fn modified(&self) -> Option<u64> {
        match &self.kind {
            NodeKind::Dir { modified, .. }
            | NodeKind::File { modified, .. }
            | NodeKind::Symlink { modified, .. } => *modified,
        }
    }

    /// The hash the container stores for this entry: a file's SHA-256 (v2, v3), a
    /// symlink target's SHA-256 or a directory's Merkle hash (v3). `None` in v1.
    pub fn stored_hash(&self) -> Option<[u8; 32]> {
        match &self.kind {
            NodeKind::Dir { hash, .. }
            | NodeKind::File { hash, .. }
            | NodeKind::Symlink { hash, .. } => *hash,
        }
    }

    /// A symlink's target, as stored (relative to the link's directory).
    pub fn symlink_target(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Symlink { target, .. } => Some(target),
            _ => None,
        }
    }

    /// A stable number identifying this entry within its volume (usable as an inode number).
    pub fn id(&self) -> u64 {
        self.at
    }

    /// Byte range of a file's content inside the volume's data region.
    pub(crate) fn file_range(&self) -> Option<(u64, u64)> {
        match self.kind {
            NodeKind::File { start, end, .. } => Some((start, end)),
            _ => None,
        }
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (one path segment).
    pub name: String,
    /// The entry itself.
    pub node: Node,
    /// The hash the parent directory records for this child (v3 only).
    pub recorded_hash: Option<[u8; 32]>,
}

/// A directory's entries, sorted by name bytes, built once per directory.
#[derive(Debug)]
struct DirTable {
    /// [`name_key`] of each entry: a compact array that orders like the names, so a
    /// binary search compares integers and touches the header only at the end.
    keys: Vec<u64>,
    entries: Vec<TableEntry>,
}

/// The first 8 bytes of a name, big-endian, zero-padded. Names contain no NUL byte, so
/// keys order exactly like the names whenever they differ.
fn name_key(name: &[u8]) -> u64 {
    if let Some(head) = name.first_chunk::<8>() {
        return u64::from_be_bytes(*head);
    }
    // Shorter than 8 bytes: shift by at most 56.
    name.iter()
        .enumerate()
        .fold(0, |k, (i, &b)| k | u64::from(b) << (56 - 8 * i))
}

impl DirTable {
    /// Index of the entry named `name`.
    fn find(&self, header: &[u8], name: &[u8]) -> Option<usize> {
        let key = name_key(name);
        let lo = self.keys.partition_point(|&k| k < key);
        let same = self.keys[lo..].partition_point(|&k| k == key);
        let found = self.entries[lo..lo + same].binary_search_by(|e| {
            let start = e.name_start as usize;
            header[start..start + e.name_len as usize].cmp(name)
        });
        found.ok().map(|i| lo + i)
    }
}

#[derive(Debug, Clone, Copy)]
struct TableEntry {
    /// Name position in the header.
    name_start: u64,
    name_len: u32,
    /// Record offset of the child (v1: of the entry record itself).
    node: u64,
    /// Offset of the child hash recorded in the parent entry (v3), else `u64::MAX`.
    hash_at: u64,
}

/// A read-only directory tree of a container. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Volume {
    inner: Arc<VolumeInner>,
}

#[derive(Debug)]
struct VolumeInner {
    name: String,
    version: Version,
    header: Bytes,
    header_off: u64,
    data: Bytes,
    data_off: u64,
    /// The root record, parsed once.
    root: OnceLock<Node>,
    tables: RwLock<Tables>,
}

/// What is known of a directory, by record offset.
type Tables = HashMap<u64, Cached, BuildHasherDefault<OffsetHasher>>;

#[derive(Debug)]
enum Cached {
    /// Its sorted table.
    Table(Arc<DirTable>),
    /// A small directory, scanned once and found well-formed and sorted: later lookups
    /// compare names without validating them again.
    Scanned,
}

/// Hashes record offsets (unique within a volume) with one multiply; SipHash cost more
/// than the rest of a lookup step.
#[derive(Debug, Default, Clone, Copy)]
struct OffsetHasher(u64);

impl std::hash::Hasher for OffsetHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Splits a lookup path into segments: `/` separated, empty and `.` segments skipped,
/// `..` refused (a volume lookup has no parent to climb to).
pub(crate) fn path_segments(path: &str) -> Result<impl DoubleEndedIterator<Item = &str> + Clone> {
    for seg in path.split('/') {
        if seg == ".." {
            return Err(Error::InvalidPath {
                path: path.to_owned(),
                reason: "`..` segments are not allowed in volume paths".into(),
            });
        }
        if seg.contains('\0') {
            return Err(Error::InvalidPath {
                path: path.to_owned(),
                reason: "contains a NUL byte".into(),
            });
        }
    }
    Ok(path.split('/').filter(|s| !s.is_empty() && *s != "."))
}

/// The little-endian u64 at `p` in `bytes`, if there.
fn le_u64(bytes: &[u8], p: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(p..p.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// `name`'s child record offset in a directory body already found well-formed and sorted
/// by [`Volume::scan_dir_entries`]: names are compared, not validated again, and the scan
/// stops at the first larger one. (Reads stay bounds-checked all the same.)
fn find_in_checked_dir(body: &[u8], v3: bool, name: &[u8]) -> Option<u64> {
    let u64_at = |p: usize| le_u64(body, p);
    let hash_len = if v3 { 32 } else { 0 };
    let mut p = if v3 { 24 + 32 } else { 0 };
    while p < body.len() {
        let child = u64_at(p)?;
        let q = p + 8 + hash_len;
        let len = usize::try_from(u64_at(q)?).ok()?;
        let start = q + 8;
        let entry = body.get(start..start.checked_add(len)?)?;
        match entry.cmp(name) {
            std::cmp::Ordering::Less => p = start + len,
            std::cmp::Ordering::Equal => return Some(child),
            std::cmp::Ordering::Greater => return None,
        }
    }
    None
}

/// What [`check_name`] and a UTF-8 check accept together, as one pass over the bytes.
fn is_valid_name(name: &[u8]) -> bool {
    if name.is_empty() || name == b"." || name == b".." {
        return false;
    }
    let mut ascii = true;
    for &b in name {
        if b == b'/' || b == 0 {
            return false;
        }
        ascii &= b < 0x80;
    }
    ascii || std::str::from_utf8(name).is_ok()
}

/// A name stored in a directory must be one usable path segment.
fn check_name(name: &str, what: &str, offset: u64) -> Result<()> {
    let reason = if name.is_empty() {
        "empty name"
    } else if name == "." || name == ".." {
        "name is `.` or `..`"
    } else if name.contains('/') {
        "name contains `/`"
    } else if name.contains('\0') {
        "name contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(Error::malformed(
        what,
        offset,
        format!("{reason}: {name:?}"),
    ))
}

impl Volume {
    pub(crate) fn new(
        name: String,
        version: Version,
        header: Bytes,
        header_off: u64,
        data: Bytes,
        data_off: u64,
    ) -> Self {
        Volume {
            inner: Arc::new(VolumeInner {
                name,
                version,
                header,
                header_off,
                data,
                data_off,
                root: OnceLock::new(),
                tables: RwLock::new(Tables::default()),
            }),
        }
    }

    /// The volume's name (`atom`, `metadata`, `/assets`, … ; the atoms section is named `atoms`).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Container version this volume was read from.
    pub fn version(&self) -> Version {
        self.inner.version
    }

    /// The raw header bytes.
    pub fn header_bytes(&self) -> &Bytes {
        &self.inner.header
    }

    /// The data region (all file contents back to back).
    pub fn data_bytes(&self) -> &Bytes {
        &self.inner.data
    }

    /// Absolute file offset of the header.
    pub fn header_offset(&self) -> u64 {
        self.inner.header_off
    }

    /// Absolute file offset of the data region.
    pub fn data_offset(&self) -> u64 {
        self.inner.data_off
    }

    /// The root directory.
    pub fn root(&self) -> Result<Node> {
        match self.inner.version {
            Version::V1 => Ok(Node {
                at: 0,
                kind: NodeKind::Dir {
                    table: if self.inner.header.is_empty() {
                        None
                    } else {
                        Some(0)
                    },
                    modified: None,
                    hash: None,
                },
            }),
            Version::V2 | Version::V3 => {
                if let Some(root) = self.inner.root.get() {
                    return Ok(root.clone());
                }
                let node = self.parse_node(0)?;
                if !node.is_dir() {
                    return Err(Error::malformed(
                        self.what("root record"),
                        self.inner.header_off,
                        "the root record is not a directory",
                    ));
                }
                Ok(self.inner.root.get_or_init(|| node).clone())
            }
        }
    }

    fn what(&self, thing: &str) -> String {
        format!("{thing} of volume {:?}", self.inner.name)
    }

    /// Adds the volume's name to a structural error. Hot paths pass plain `&'static str`
    /// labels and call this, so nothing is formatted unless something is wrong.
    fn ctx<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| e.relabel(|what| self.what(what)))
    }

    /// Looks `path` up, following symlinks (also in the last segment).
    /// `Ok(None)` when nothing is there.
    pub fn lookup(&self, path: &str) -> Result<Option<Node>> {
        self.resolve(path, true)
    }

    /// Looks `path` up without following a symlink in the last segment.
    pub fn lookup_nofollow(&self, path: &str) -> Result<Option<Node>> {
        self.resolve(path, false)
    }

    /// Looks `path` up and fails with [`Error::NotFound`] when it does not exist.
    pub fn get(&self, path: &str) -> Result<Node> {
        self.lookup(path)?.ok_or_else(|| Error::NotFound {
            volume: self.inner.name.clone(),
            path: path.into(),
        })
    }

    /// A file's content: a zero-copy slice of the container.
    pub fn read_file(&self, path: &str) -> Result<Bytes> {
        let node = self.get(path)?;
        self.file_content(&node).ok_or_else(|| Error::WrongType {
            volume: self.inner.name.clone(),
            path: path.into(),
            reason: format!("is a {}, not a file", node.kind().as_str()),
        })
    }

    /// The content of a file node (`None` for directories and symlinks).
    pub fn file_content(&self, node: &Node) -> Option<Bytes> {
        let (start, end) = node.file_range()?;
        // Ranges were checked against the data region when the node was parsed.
        Some(self.inner.data.slice(start as usize..end as usize))
    }

    /// Absolute file offset of a file node's content.
    pub fn content_offset(&self, node: &Node) -> Option<u64> {
        node.file_range()
            .map(|(start, _)| self.inner.data_off + start)
    }

    /// Lists the directory at `path` (symlinks followed), sorted by name bytes.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>> {
        let node = self.get(path)?;
        self.entries(&node)?.ok_or_else(|| Error::WrongType {
            volume: self.inner.name.clone(),
            path: path.into(),
            reason: format!("is a {}, not a directory", node.kind().as_str()),
        })
    }

    /// Lists a directory node (`Ok(None)` if `node` is not a directory).
    pub fn entries(&self, node: &Node) -> Result<Option<Vec<DirEntry>>> {
        let NodeKind::Dir { table, .. } = node.kind else {
            return Ok(None);
        };
        let Some(table) = table else {
            return Ok(Some(Vec::new()));
        };
        let table = self.table(table)?;
        let mut out = Vec::with_capacity(table.entries.len());
        for e in &table.entries {
            out.push(DirEntry {
                name: self.entry_name(e).to_owned(),
                node: self.parse_node(e.node)?,
                recorded_hash: self.recorded_hash(e),
            });
        }
        Ok(Some(out))
    }

    /// Number of entries of a directory node, without parsing the children.
    pub fn entry_count(&self, node: &Node) -> Result<usize> {
        match node.kind {
            NodeKind::Dir { table: Some(t), .. } => Ok(self.table(t)?.entries.len()),
            _ => Ok(0),
        }
    }

    /// Visits every entry below the root in depth-first pre-order (children sorted by name),
    /// with paths like `/nested/a.txt`. Symlinks are reported, not followed.
    ///
    /// A directory record reached through two parents is an error: writers never share
    /// subtrees, and walking a chain of shared directories would take exponential time.
    /// So is a directory nested deeper than [`MAX_DEPTH`], and a path longer than
    /// [`MAX_PATH_LEN`]. Memory is linear in the depth
    /// (one path buffer, one iterator per open level).
    pub fn walk(&self, mut visit: impl FnMut(&str, &DirEntry) -> Result<()>) -> Result<()> {
        let root = self.root()?;
        let mut seen_dirs = std::collections::HashSet::new();
        if let NodeKind::Dir { table: Some(t), .. } = root.kind {
            seen_dirs.insert(t);
        }
        // Explicit stack (a hostile container could nest directories deeply) and a single
        // path buffer: each level remembers where its prefix ends, so memory grows with the
        // depth, not with its square.
        let mut path = String::new();
        let mut stack: Vec<(usize, std::vec::IntoIter<DirEntry>)> =
            vec![(0, self.entries(&root)?.unwrap_or_default().into_iter())];
        while let Some((prefix_len, iter)) = stack.last_mut() {
            let Some(entry) = iter.next() else {
                stack.pop();
                continue;
            };
            path.truncate(*prefix_len);
            path.push('/');
            path.push_str(&entry.name);
            // This entry's path has `stack.len()` segments.
            if entry.node.is_dir() && stack.len() > MAX_DEPTH {
                return Err(Error::malformed(
                    self.what("directory"),
                    self.inner.header_off + entry.node.at,
                    too_deep_reason(&path),
                ));
            }
            if path.len() > MAX_PATH_LEN {
                return Err(Error::malformed(
                    self.what("directory entry"),
                    self.inner.header_off + entry.node.at,
                    too_long_reason(&path),
                ));
            }
            if let NodeKind::Dir { table: Some(t), .. } = entry.node.kind
                && !seen_dirs.insert(t)
            {
                return Err(Error::malformed(
                    self.what("directory"),
                    self.inner.header_off + t,
                    format!(
                        "{}: the directory record is shared with another directory entry",
                        shorten_path(&path)
                    ),
                ));
            }
            visit(&path, &entry)?;
            if let Some(children) = self.entries(&entry.node)? {
                stack.push((path.len(), children.into_iter()));
            }
        }
        Ok(())
    }

    fn entry_name(&self, e: &TableEntry) -> &str {
        let start = e.name_start as usize;
        let bytes = &self.inner.header[start..start + e.name_len as usize];
        // Validated as UTF-8 when the table was built.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    fn recorded_hash(&self, e: &TableEntry) -> Option<[u8; 32]> {
        if e.hash_at == u64::MAX {
            return None;
        }
        let at = e.hash_at as usize;
        self.inner
            .header
            .get(at..at + 32)
            .and_then(|b| b.try_into().ok())
    }

    fn resolve(&self, path: &str, follow_last: bool) -> Result<Option<Node>> {
        let segments = path_segments(path)?;
        let root = self.root()?;
        // Fast path: walk the segments; switch to the general resolver at the first symlink.
        let mut current = root.clone();
        let mut iter = segments.clone().peekable();
        let mut depth = 0usize;
        while let Some(seg) = iter.next() {
            let Some(child) = self.child(&current, seg, path)? else {
                return Ok(None);
            };
            if matches!(child.kind, NodeKind::Symlink { .. })
                && (iter.peek().is_some() || follow_last)
            {
                return self.resolve_slow(path, follow_last);
            }
            depth += 1;
            if child.is_dir() && depth > MAX_DEPTH {
                return Err(self.lookup_too_deep(&child, path));
            }
            current = child;
        }
        Ok(Some(current))
    }

    /// General resolution with symlinks: keeps the chain of directories so a target's
    /// `..` can climb, and refuses to climb above the volume root.
    fn resolve_slow(&self, path: &str, follow_last: bool) -> Result<Option<Node>> {
        let mut pending: Vec<String> = path_segments(path)?.rev().map(str::to_owned).collect();
        let mut chain: Vec<Node> = vec![self.root()?];
        let mut hops = 0usize;
        while let Some(seg) = pending.pop() {
            if seg == "." {
                continue;
            }
            if seg == ".." {
                if chain.len() == 1 {
                    return Err(
                        self.symlink_err(path, "a symlink target climbs above the volume root")
                    );
                }
                chain.pop();
                continue;
            }
            let parent = chain.last().cloned().unwrap_or(self.root()?);
            let Some(child) = self.child(&parent, &seg, path)? else {
                return Ok(None);
            };
            if let NodeKind::Symlink { target, .. } = &child.kind
                && (!pending.is_empty() || follow_last)
            {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(self.symlink_err(
                        path,
                        &format!("more than {MAX_SYMLINK_HOPS} symlinks (a loop?)"),
                    ));
                }
                if target.starts_with('/') {
                    return Err(
                        self.symlink_err(path, &format!("absolute symlink target {target:?}"))
                    );
                }
                for s in target.split('/').filter(|s| !s.is_empty()).rev() {
                    pending.push(s.to_owned());
                }
                continue;
            }
            // `chain` holds the root too: a directory pushed here is `chain.len()` deep.
            if child.is_dir() && chain.len() > MAX_DEPTH {
                return Err(self.lookup_too_deep(&child, path));
            }
            chain.push(child);
        }
        Ok(chain.pop())
    }

    fn lookup_too_deep(&self, dir: &Node, path: &str) -> Error {
        Error::malformed(
            self.what("directory"),
            self.inner.header_off + dir.at,
            too_deep_reason(path),
        )
    }

    fn symlink_err(&self, path: &str, reason: &str) -> Error {
        Error::Symlink {
            volume: self.inner.name.clone(),
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The entry `name` of directory node `dir` (one binary search in its table; symlinks
    /// are returned, not followed). `Ok(None)` if there is no such entry; an error if `dir`
    /// is not a directory.
    pub fn child_of(&self, dir: &Node, name: &str) -> Result<Option<Node>> {
        self.child(dir, name, name)
    }

    /// The entry `name` of directory `dir`. Errors if `dir` is not a directory.
    fn child(&self, dir: &Node, name: &str, path: &str) -> Result<Option<Node>> {
        let NodeKind::Dir { table, .. } = dir.kind else {
            return Err(Error::WrongType {
                volume: self.inner.name.clone(),
                path: path.into(),
                reason: "a path component is not a directory".into(),
            });
        };
        let Some(table) = table else { return Ok(None) };
        if let Some(found) = self.find_in_small_dir(table, name.as_bytes()) {
            return found.map(|child| self.parse_node(child)).transpose();
        }
        let table = self.table(table)?;
        match table.find(&self.inner.header, name.as_bytes()) {
            Some(i) => Ok(Some(self.parse_node(table.entries[i].node)?)),
            None => Ok(None),
        }
    }

    fn table(&self, at: u64) -> Result<Arc<DirTable>> {
        if let Some(Cached::Table(t)) = self
            .inner
            .tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&at)
        {
            return Ok(Arc::clone(t));
        }
        let table = Arc::new(match self.inner.version {
            Version::V1 => self.parse_v1_block(at)?,
            Version::V2 | Version::V3 => self.parse_dir_table(at)?,
        });
        self.inner
            .tables
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(at, Cached::Table(Arc::clone(&table)));
        Ok(table)
    }

    fn header_cursor(&self, at: u64, what: &str) -> Result<Cursor<'_>> {
        let header = &self.inner.header;
        if at >= header.len() as u64 {
            return Err(Error::malformed(
                self.what(what),
                self.inner.header_off + at,
                format!(
                    "record offset {at} is outside the {}-byte header",
                    header.len()
                ),
            ));
        }
        Ok(Cursor::new(
            &header[at as usize..],
            self.inner.header_off + at,
        ))
    }

    fn check_range(&self, start: u64, end: u64, offset: u64) -> Result<()> {
        let len = self.inner.data.len() as u64;
        if start > end || end > len {
            return Err(Error::malformed(
                self.what("file record"),
                offset,
                format!("content range {start}..{end} does not fit the {len}-byte data region"),
            ));
        }
        Ok(())
    }

    /// Parses the record at header offset `at` (v1: a directory entry record).
    pub(crate) fn parse_node(&self, at: u64) -> Result<Node> {
        if self.inner.version == Version::V1 {
            return self.parse_v1_record(at).map(|(node, _)| node);
        }
        let v3 = self.inner.version == Version::V3;
        let mut c = self.header_cursor(at, "record")?;
        let offset = c.offset();
        let tag = c.u8("record tag")?;
        let kind = match tag {
            TAG_DIR => {
                let body = self.ctx(c.u64_prefixed("directory record"))?;
                let (modified, hash) = if v3 {
                    let mut b = Cursor::new(body, offset + 9);
                    let _accessed = b.u64("directory timestamps")?;
                    let modified = b.u64("directory timestamps")?;
                    let _created = b.u64("directory timestamps")?;
                    (Some(modified), Some(b.array::<32>("directory hash")?))
                } else {
                    (None, None)
                };
                NodeKind::Dir {
                    table: Some(at),
                    modified,
                    hash,
                }
            }
            TAG_FILE => {
                let start = c.u64("file record")?;
                let end = c.u64("file record")?;
                let hash = c.array::<32>("file hash")?;
                let modified = if v3 {
                    let _accessed = c.u64("file timestamps")?;
                    let m = c.u64("file timestamps")?;
                    let _created = c.u64("file timestamps")?;
                    Some(m)
                } else {
                    None
                };
                self.check_range(start, end, offset)?;
                NodeKind::File {
                    start,
                    end,
                    hash: Some(hash),
                    modified,
                }
            }
            TAG_SYMLINK if v3 => {
                let target_at = c.offset() + 8;
                let target = c.u64_prefixed("symlink target")?;
                let target = utf8(target, "symlink target", target_at)?;
                let hash = c.array::<32>("symlink hash")?;
                let _accessed = c.u64("symlink timestamps")?;
                let modified = c.u64("symlink timestamps")?;
                let _created = c.u64("symlink timestamps")?;
                NodeKind::Symlink {
                    target: target.into(),
                    hash: Some(hash),
                    modified: Some(modified),
                }
            }
            other => {
                return Err(Error::malformed(
                    self.what("record"),
                    offset,
                    format!(
                        "unknown record tag {other} (expected 30 directory, 31 file{})",
                        if v3 { ", 32 symlink" } else { "" }
                    ),
                ));
            }
        };
        Ok(Node { at, kind })
    }

    /// v2/v3 directory record → sorted table.
    fn parse_dir_table(&self, at: u64) -> Result<DirTable> {
        let v3 = self.inner.version == Version::V3;
        let mut c = self.header_cursor(at, "directory record")?;
        let offset = c.offset();
        if c.u8("record tag")? != TAG_DIR {
            return Err(Error::malformed(
                self.what("directory record"),
                offset,
                "not a directory record",
            ));
        }
        let body_at = c.offset() + 8;
        let body = self.ctx(c.u64_prefixed("directory record"))?;
        if let Some((entries, keys)) = self.scan_dir_body(body, at, v3) {
            return self.finish_table(entries, offset, keys);
        }
        // Something is wrong with this directory: the careful loop below finds and names it.
        let mut b = Cursor::new(body, body_at);
        if v3 {
            b.bytes(24 + 32, "directory timestamps and hash")?;
        }
        let min_entry = if v3 { 8 + 32 + 8 } else { 8 + 8 };
        let mut entries = Vec::with_capacity(b.remaining() / min_entry);
        let header_len = self.inner.header.len() as u64;
        while !b.is_empty() {
            let entry_at = b.offset();
            let child = b.u64("directory entry")?;
            let hash_at = if v3 {
                let h = b.offset() - self.inner.header_off;
                b.bytes(32, "directory entry hash")?;
                h
            } else {
                u64::MAX
            };
            let name_at = b.offset() + 8;
            let name = b.u64_prefixed("directory entry name")?;
            let name_str = self.ctx(utf8(name, "directory entry name", name_at))?;
            self.ctx(check_name(name_str, "directory entry name", name_at))?;
            // Children come after their parent (the writer emits depth-first pre-order);
            // insisting on it makes cycles impossible.
            if child <= at || child >= header_len {
                return Err(Error::malformed(
                    self.what("directory entry"),
                    entry_at,
                    format!(
                        "child offset {child} must lie after its directory ({at}) and inside the header ({header_len} bytes)"
                    ),
                ));
            }
            entries.push(TableEntry {
                name_start: name_at - self.inner.header_off,
                name_len: u32::try_from(name.len()).map_err(|_| {
                    Error::malformed(
                        self.what("directory entry name"),
                        name_at,
                        "name longer than 4 GiB",
                    )
                })?,
                node: child,
                hash_at,
            });
        }
        self.finish_table(entries, offset, None)
    }

    /// The entries of the well-formed v2/v3 directory body of the record at `at`, in one
    /// tight pass over the bytes, with their keys when the names are strictly increasing
    /// (as writers emit them). `None` at anything wrong, for [`Self::parse_dir_table`]'s
    /// careful loop to name: it accepts exactly what that loop accepts.
    fn scan_dir_body(
        &self,
        body: &[u8],
        at: u64,
        v3: bool,
    ) -> Option<(Vec<TableEntry>, Option<Vec<u64>>)> {
        let min_entry = if v3 { 8 + 32 + 8 } else { 8 + 8 };
        let mut entries = Vec::with_capacity(body.len() / min_entry);
        let mut keys = Vec::with_capacity(entries.capacity());
        let sorted = self.scan_dir_entries(body, at, v3, |entry, key, _| {
            entries.push(entry);
            keys.push(key);
        })?;
        Some((entries, sorted.then_some(keys)))
    }

    /// Calls `each(entry, key, name)` for every entry of a v2/v3 directory body (see
    /// [`Self::scan_dir_body`]); returns whether the names are strictly increasing, or
    /// `None` at anything wrong.
    fn scan_dir_entries<'h>(
        &self,
        body: &'h [u8],
        at: u64,
        v3: bool,
        mut each: impl FnMut(TableEntry, u64, &'h [u8]),
    ) -> Option<bool> {
        let u64_at = |p: usize| le_u64(body, p);
        // Header-relative offset of the body (after the tag and the length).
        let body_rel = at + 9;
        let hash_len = if v3 { 32 } else { 0 };
        let mut p = if v3 { 24 + 32 } else { 0 };
        if p > body.len() {
            return None;
        }
        let header_len = self.inner.header.len() as u64;
        let mut prev: Option<(u64, &[u8])> = None;
        let mut sorted = true;
        while p < body.len() {
            let child = u64_at(p)?;
            let q = p + 8 + hash_len;
            let len = usize::try_from(u64_at(q)?).ok()?;
            let start = q + 8;
            let name = body.get(start..start.checked_add(len)?)?;
            if !is_valid_name(name) || child <= at || child >= header_len {
                return None;
            }
            let key = name_key(name);
            // Keys order like names where they differ: most pairs need no byte compare.
            sorted &= prev.is_none_or(|(prev_key, prev)| match prev_key.cmp(&key) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                std::cmp::Ordering::Equal => prev < name,
            });
            let entry = TableEntry {
                name_start: body_rel + start as u64,
                name_len: u32::try_from(len).ok()?,
                node: child,
                hash_at: if v3 {
                    body_rel + p as u64 + 8
                } else {
                    u64::MAX
                },
            };
            each(entry, key, name);
            prev = Some((key, name));
            p = start + len;
        }
        Some(sorted)
    }

    /// `name` in the small v2/v3 directory whose record is at `at`, found by scanning its
    /// bytes (all of them, validated as a table build would): its child record offset, or
    /// `Some(None)` when it is not there. `None` when the directory is not small, or not
    /// well-formed and sorted — the table then decides. A first lookup through a small
    /// directory so costs no allocation, and scanning a few entries costs about what a
    /// table lookup does.
    fn find_in_small_dir(&self, at: u64, name: &[u8]) -> Option<Option<u64>> {
        /// Directory bodies up to this many bytes are scanned, never tabled.
        const SMALL_DIR: u64 = 1024;
        let v3 = match self.inner.version {
            Version::V1 => return None,
            Version::V2 => false,
            Version::V3 => true,
        };
        let header = &self.inner.header;
        let rec = usize::try_from(at).ok()?;
        if *header.get(rec)? != TAG_DIR {
            return None;
        }
        let len = u64::from_le_bytes(header.get(rec + 1..rec + 9)?.try_into().ok()?);
        if len > SMALL_DIR {
            return None;
        }
        let body = header.get(rec + 9..rec + 9 + len as usize)?;
        let cached = match self
            .inner
            .tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&at)
        {
            Some(Cached::Table(_)) => return None,
            Some(Cached::Scanned) => true,
            None => false,
        };
        if cached {
            return Some(find_in_checked_dir(body, v3, name));
        }
        let mut found = None;
        let sorted = self.scan_dir_entries(body, at, v3, |entry, _, entry_name| {
            if entry_name == name {
                found = Some(entry.node);
            }
        })?;
        if !sorted {
            return None;
        }
        self.inner
            .tables
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(at)
            .or_insert(Cached::Scanned);
        Some(found)
    }

    /// v1: parse one entry record at header offset `at`; returns the node and the record length.
    fn parse_v1_record(&self, at: u64) -> Result<(Node, u64)> {
        let mut c = self.header_cursor(at, "v1 entry record")?;
        let offset = c.offset();
        let word = c.u64("v1 entry record")?;
        let name_len = word & 0x00ff_ffff_ffff_ffff;
        let ty = (word >> 56) as u8;
        let start = c.u64("v1 entry record")?;
        let end = c.u64("v1 entry record")?;
        let name_at = c.offset();
        let name = c.bytes(name_len, "v1 entry name")?;
        let name = self.ctx(utf8(name, "v1 entry name", name_at))?;
        self.ctx(check_name(name, "v1 entry name", name_at))?;
        let kind = match ty {
            0 => {
                let table = if start == end {
                    None
                } else {
                    let header_len = self.inner.header.len() as u64;
                    if start > end || end > header_len || end - start < 8 {
                        return Err(Error::malformed(
                            self.what("v1 directory record"),
                            offset,
                            format!(
                                "child block {start}..{end} does not fit the {header_len}-byte header"
                            ),
                        ));
                    }
                    Some(start)
                };
                NodeKind::Dir {
                    table,
                    modified: None,
                    hash: None,
                }
            }
            1 => {
                self.check_range(start, end, offset)?;
                NodeKind::File {
                    start,
                    end,
                    hash: None,
                    modified: None,
                }
            }
            other => {
                return Err(Error::malformed(
                    self.what("v1 entry record"),
                    offset,
                    format!("unknown entry type {other} (expected 0 directory or 1 file)"),
                ));
            }
        };
        Ok((Node { at, kind }, 24 + name_len))
    }

    /// v1: a directory block (`u64 len` + entry records) → sorted table.
    fn parse_v1_block(&self, block: u64) -> Result<DirTable> {
        let mut c = self.header_cursor(block, "v1 directory block")?;
        let offset = c.offset();
        let len = c.u64("v1 directory block length")?;
        self.ctx(c.bytes(len, "v1 directory block"))?;
        let end = block + 8 + len;
        let mut at = block + 8;
        let mut entries = Vec::with_capacity((len / 24) as usize);
        while at < end {
            let (node, rec_len) = self.parse_v1_record(at)?;
            if at + rec_len > end {
                return Err(Error::malformed(
                    self.what("v1 directory block"),
                    offset,
                    "an entry runs past the block's end",
                ));
            }
            if let NodeKind::Dir {
                table: Some(child), ..
            } = node.kind
                && child <= block
            {
                return Err(Error::malformed(
                    self.what("v1 entry record"),
                    self.inner.header_off + at,
                    format!("child block {child} must lie after its parent block {block}"),
                ));
            }
            let name_len = rec_len - 24;
            entries.push(TableEntry {
                name_start: at + 24,
                name_len: name_len as u32,
                node: at,
                hash_at: u64::MAX,
            });
            at += rec_len;
        }
        self.finish_table(entries, offset, None)
    }

    /// Sorts (stably) and checks `entries` unless `sorted_keys` says they are strictly
    /// increasing already (and gives their keys).
    fn finish_table(
        &self,
        mut entries: Vec<TableEntry>,
        offset: u64,
        sorted_keys: Option<Vec<u64>>,
    ) -> Result<DirTable> {
        if let Some(keys) = sorted_keys {
            return Ok(DirTable { keys, entries });
        }
        let header = &self.inner.header;
        let name = |e: &TableEntry| {
            let s = e.name_start as usize;
            &header[s..s + e.name_len as usize]
        };
        // Writers sort; a reader must not rely on it, so sort when needed (stable).
        if !entries.windows(2).all(|w| name(&w[0]) < name(&w[1])) {
            entries.sort_by(|a, b| name(a).cmp(name(b)));
            if let Some(w) = entries.windows(2).find(|w| name(&w[0]) == name(&w[1])) {
                return Err(Error::malformed(
                    self.what("directory"),
                    offset,
                    format!("duplicate entry {:?}", String::from_utf8_lossy(name(&w[0]))),
                ));
            }
        }
        let keys = entries.iter().map(|e| name_key(name(e))).collect();
        Ok(DirTable { keys, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v2 header of `n + 1` directory records; record `i` has one entry per name in
    /// `names`, all pointing at record `i + 1`.
    fn chain(n: u64, names: &[&str]) -> (Volume, u64) {
        let rec = 9 + names.iter().map(|s| 16 + s.len() as u64).sum::<u64>();
        let mut header = Vec::new();
        for i in 0..=n {
            header.push(TAG_DIR);
            let body_len: u64 = if i == n { 0 } else { rec - 9 };
            header.extend_from_slice(&body_len.to_le_bytes());
            if i < n {
                for name in names {
                    header.extend_from_slice(&((i + 1) * rec).to_le_bytes());
                    header.extend_from_slice(&(name.len() as u64).to_le_bytes());
                    header.extend_from_slice(name.as_bytes());
                }
            }
        }
        let v = Volume::new(
            "v".into(),
            Version::V2,
            Bytes::from(header),
            100,
            Bytes::new(),
            0,
        );
        (v, rec)
    }

    /// Lookups through the integer keys agree with the names, also when names share
    /// their first 8 bytes or are prefixes of each other.
    #[test]
    fn table_keys_find_every_name() {
        let names = [
            "zzzzzzzzzzzz",
            "a",
            "abcdefgh",
            "abcdefgh1",
            "abcdefgh2",
            "abcdefghij",
            "b",
            "\u{e9}t\u{e9}",
        ];
        let (v, _) = chain(1, &names);
        for name in names {
            let found = v.lookup_nofollow(name);
            assert!(found.is_ok_and(|n| n.is_some()), "{name}");
        }
        for missing in ["abcdefg", "abcdefgh0", "abcdefghi", "c", "\u{e9}"] {
            let found = v.lookup_nofollow(missing);
            assert!(found.is_ok_and(|n| n.is_none()), "{missing}");
        }
    }

    /// The one-pass scan leaves unsorted and repeated names to the careful path: unsorted
    /// ones are sorted, a repeated one is an error, and a bad name is named.
    #[test]
    fn unsorted_repeated_and_bad_names() {
        let (v, _) = chain(1, &["zz", "b", "abcdefghij", "abcdefgh"]);
        let names: Vec<String> = v
            .read_dir("/")
            .map(|l| l.into_iter().map(|e| e.name).collect())
            .unwrap_or_default();
        assert_eq!(names, ["abcdefgh", "abcdefghij", "b", "zz"]);
        let (v, _) = chain(1, &["a", "b", "a"]);
        let err = v
            .lookup("/b")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("duplicate entry \"a\""), "{err}");
        // A scanned directory answers the same the second time (names compared only).
        let (v, _) = chain(1, &["a", "abcdefghij", "b"]);
        for _ in 0..2 {
            for (name, there) in [
                ("a", true),
                ("abcdefghij", true),
                ("b", true),
                ("ab", false),
                ("c", false),
                ("0", false),
            ] {
                let found = v.lookup_nofollow(name);
                assert!(found.is_ok_and(|n| n.is_some() == there), "{name}");
            }
        }
        for bad in ["a/b", "..", "", "a\0"] {
            let (v, _) = chain(1, &["x", bad]);
            assert!(v.lookup("/x").is_err(), "{bad:?}");
        }
    }

    /// Found while fuzzing: `n` v2 directory records, each with entries `a` and `b` that
    /// both point at the next record, made `walk` visit 2^(n+1) paths from a ~1 KiB
    /// header (and `Writer::from_container` build a tree that large).
    #[test]
    fn walk_refuses_shared_directories() {
        let n = 64u64;
        let (v, rec) = chain(n, &["a", "b"]);
        // Lookups stay cheap and fine: one path is one path.
        let deep = "/a".repeat(n as usize);
        assert!(v.lookup(&deep).is_ok_and(|n| n.is_some_and(|n| n.is_dir())));
        let mut visited = 0;
        let err = v.walk(|_, _| {
            visited += 1;
            Ok(())
        });
        assert!(
            // Depth first: `/a/a/…/a` goes all the way down, then the deepest `b` is the
            // first second path to a record.
            matches!(&err, Err(Error::Malformed { offset, .. }) if *offset == 100 + rec * n),
            "{err:?}"
        );
        assert_eq!(visited, n as usize, "visited entries");
    }

    /// `walk` used to keep every level's full path prefix: memory quadratic in the depth
    /// (this 2.6 MB header would have needed ~10 GB). Nesting is now capped at
    /// [`MAX_DEPTH`]: the walk stops at the first directory below it, with a one-line error.
    #[test]
    fn walk_of_a_deep_chain_stops_at_max_depth() {
        let n = 100_000u64;
        let (v, rec) = chain(n, &["a"]);
        let mut visited = 0usize;
        let mut longest = 0;
        let walked = v.walk(|path, _| {
            visited += 1;
            longest = longest.max(path.len());
            Ok(())
        });
        let err = walked.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("nested more than 256 levels deep"), "{err:?}");
        // The record of the 257th directory, and a readable message.
        assert!(
            err.contains(&format!("offset {}", 100 + rec * (MAX_DEPTH as u64 + 1))),
            "{err}"
        );
        assert!(err.len() < 300 && !err.contains('\n'), "{err}");
        assert_eq!((visited, longest), (MAX_DEPTH, 2 * MAX_DEPTH));
    }

    /// One 5 000-byte directory name is refused where it would make every path below it
    /// longer than [`MAX_PATH_LEN`]; a 4 000-byte one walks.
    #[test]
    fn walk_refuses_paths_longer_than_path_max() {
        for (len, ok) in [(4_000usize, true), (5_000, false)] {
            let name = "n".repeat(len);
            let (v, _) = chain(1, &[name.as_str()]);
            let mut visited = 0;
            let walked = v.walk(|_, _| {
                visited += 1;
                Ok(())
            });
            if ok {
                assert!(walked.is_ok(), "{walked:?}");
                assert_eq!(visited, 1);
            } else {
                let err = walked.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(err.contains("path longer than 4096 bytes"), "{err}");
                assert!(err.len() < 300, "{err}");
                assert_eq!(visited, 0);
            }
        }
    }

    /// Lookups apply the same limit: a path into a directory deeper than [`MAX_DEPTH`] is an
    /// error, not a successful walk down a hostile chain; at the limit it works.
    #[test]
    fn lookups_stop_at_max_depth() {
        let (v, _) = chain(MAX_DEPTH as u64 + 10, &["a"]);
        let at_limit = "/a".repeat(MAX_DEPTH);
        assert!(
            v.lookup(&at_limit)
                .is_ok_and(|n| n.is_some_and(|n| n.is_dir()))
        );
        let deeper = "/a".repeat(MAX_DEPTH + 1);
        let err = v
            .lookup(&deeper)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("nested more than 256 levels deep"), "{err:?}");
        assert!(err.len() < 300, "{err}");
    }
}
