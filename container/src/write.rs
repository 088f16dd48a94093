//! Writing v2 and v3 containers byte-identically to Wasmer's `webc` writer.
//!
//! The layout rules (section order, DFS header order, sorted names, the `+20 %` index
//! allocation, timestamps) are those of `webc` 12's `v2/write` and `v3/write` modules; see
//! `shared/webc-format.md` §2. Feed the same logical package and the bytes are the same.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use bytes::Bytes;
use ciborium::Value;
use sha2::{Digest, Sha256};

use crate::Version;
use crate::container::{TAG_ATOMS, TAG_INDEX, TAG_MANIFEST, TAG_VOLUME};
use crate::error::{Error, Result};
use crate::volume::{TAG_DIR, TAG_FILE, TAG_SYMLINK};

/// A directory to be written: a modification time (seconds; v3 only) and named entries.
/// `BTreeMap<String, _>` orders names by their UTF-8 bytes, as Wasmer's writer does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// Modification time in seconds since the epoch (written by v3 only).
    pub modified: u64,
    /// Entries by name.
    pub entries: BTreeMap<String, Entry>,
}

/// An entry of a [`Directory`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A subdirectory.
    Dir(Directory),
    /// A file.
    File {
        /// Content.
        data: Bytes,
        /// Modification time in seconds (v3 only).
        modified: u64,
    },
    /// A symbolic link (v3 only): relative, must stay inside the volume.
    Symlink {
        /// Link target.
        target: String,
        /// Modification time in seconds.
        modified: u64,
    },
}

impl Directory {
    /// Inserts `entry` at the slash-separated `path`, creating parent directories (with
    /// modification time `parents_modified`).
    pub fn insert(&mut self, path: &str, entry: Entry, parents_modified: u64) -> Result<()> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let Some((last, parents)) = segments.split_last() else {
            return Err(Error::Write(format!("empty path {path:?}")));
        };
        let dirs = parents.len() + usize::from(matches!(entry, Entry::Dir(_)));
        if dirs > MAX_DEPTH {
            return Err(too_deep(path));
        }
        let len: usize = segments.iter().map(|s| s.len() + 1).sum();
        if len > crate::MAX_PATH_LEN {
            return Err(Error::Write(crate::volume::too_long_reason(path)));
        }
        let mut dir = self;
        for seg in parents {
            check_segment(seg)?;
            let next = dir.entries.entry((*seg).to_owned()).or_insert_with(|| {
                Entry::Dir(Directory {
                    modified: parents_modified,
                    entries: BTreeMap::new(),
                })
            });
            dir = match next {
                Entry::Dir(d) => d,
                _ => {
                    return Err(Error::Write(format!(
                        "{path:?}: {seg:?} is not a directory"
                    )));
                }
            };
        }
        check_segment(last)?;
        dir.entries.insert((*last).to_owned(), entry);
        Ok(())
    }
}

/// Deepest directory nesting the writer accepts, and that [`directory_of`] and
/// [`Directory::insert`] build: the crate-wide [`crate::MAX_DEPTH`]. The writer (and
/// dropping a [`Directory`]) recurses once per level, so without a bound a hostile
/// container of a few KiB could overflow the stack of whoever rewrites it; 256 levels stay
/// well within a 2 MiB thread stack even unoptimised.
pub use crate::volume::MAX_DEPTH;

fn too_deep(path: &str) -> Error {
    Error::Write(crate::volume::too_deep_reason(path))
}

/// Whether sections get a SHA-256 checksum in the index (Wasmer writes `Sha256`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checksum {
    /// `checksum-sha256` (the default, what `wasmer package build` writes).
    #[default]
    Sha256,
    /// `checksum-none`.
    None,
}

/// The logical content of a package: manifest, atoms and volumes.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    /// The manifest's CBOR bytes, written verbatim.
    pub manifest: Vec<u8>,
    /// Atoms by name (written sorted by name).
    pub atoms: BTreeMap<String, Bytes>,
    /// Volumes by name (written sorted by name).
    pub volumes: BTreeMap<String, Directory>,
    /// Section checksums.
    pub checksum: Checksum,
}

/// Path segments must be names Wasmer accepts.
fn check_segment(seg: &str) -> Result<()> {
    if seg.is_empty() || seg == "." || seg == ".." || seg.contains(['/', '\\', ':', '\0']) {
        return Err(Error::Write(format!("invalid path segment {seg:?}")));
    }
    Ok(())
}

/// Is `target` a relative link that stays inside the volume when placed in `dir_depth` dirs?
fn check_symlink(target: &str, dir_depth: usize) -> Result<()> {
    if target.starts_with(['/', '\\']) {
        return Err(Error::Write(format!(
            "symlink target {target:?} is absolute"
        )));
    }
    let mut depth = dir_depth as isize;
    for seg in target.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if seg.contains([':', '\\']) {
            return Err(Error::Write(format!(
                "symlink target {target:?} has an invalid segment"
            )));
        }
        depth += if seg == ".." { -1 } else { 1 };
        if depth < 0 {
            return Err(Error::Write(format!(
                "symlink target {target:?} leaves the volume"
            )));
        }
    }
    Ok(())
}

pub(crate) fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn patch_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

struct VolumeWriter {
    v3: bool,
    header: Vec<u8>,
    data: Vec<u8>,
}

impl VolumeWriter {
    /// Writes a directory record and its subtree; returns its v3 hash.
    fn dir(&mut self, dir: &Directory, depth: usize) -> Result<[u8; 32]> {
        if depth > MAX_DEPTH {
            let first = dir.entries.keys().next().map_or("", String::as_str);
            return Err(too_deep(&format!(".../{first}")));
        }
        let rec = self.header.len();
        self.header.push(TAG_DIR);
        put_u64(&mut self.header, 0);
        let hash_at = self.header.len() + 24;
        if self.v3 {
            put_u64(&mut self.header, 0);
            put_u64(&mut self.header, dir.modified);
            put_u64(&mut self.header, 0);
            self.header.extend_from_slice(&[0; 32]);
        }
        let mut slots = Vec::with_capacity(dir.entries.len());
        for name in dir.entries.keys() {
            check_segment(name)?;
            slots.push(self.header.len());
            put_u64(&mut self.header, 0);
            if self.v3 {
                self.header.extend_from_slice(&[0; 32]);
            }
            put_u64(&mut self.header, name.len() as u64);
            self.header.extend_from_slice(name.as_bytes());
        }
        let body_len = (self.header.len() - rec - 9) as u64;
        patch_u64(&mut self.header, rec + 1, body_len);
        let mut hasher = Sha256::new();
        for (slot, entry) in slots.into_iter().zip(dir.entries.values()) {
            let child = self.header.len() as u64;
            let hash = self.entry(entry, depth)?;
            patch_u64(&mut self.header, slot, child);
            if self.v3 {
                self.header[slot + 8..slot + 40].copy_from_slice(&hash);
            }
            hasher.update(hash);
        }
        let hash: [u8; 32] = hasher.finalize().into();
        if self.v3 {
            self.header[hash_at..hash_at + 32].copy_from_slice(&hash);
        }
        Ok(hash)
    }

    fn entry(&mut self, entry: &Entry, depth: usize) -> Result<[u8; 32]> {
        match entry {
            Entry::Dir(d) => self.dir(d, depth + 1),
            Entry::File { data, modified } => {
                let hash = sha256(data);
                self.header.push(TAG_FILE);
                put_u64(&mut self.header, self.data.len() as u64);
                self.data.extend_from_slice(data);
                put_u64(&mut self.header, self.data.len() as u64);
                self.header.extend_from_slice(&hash);
                if self.v3 {
                    put_u64(&mut self.header, 0);
                    put_u64(&mut self.header, *modified);
                    put_u64(&mut self.header, 0);
                }
                Ok(hash)
            }
            Entry::Symlink { target, modified } => {
                if !self.v3 {
                    return Err(Error::Write("webc v2 cannot store symlinks".into()));
                }
                check_symlink(target, depth)?;
                let hash = sha256(target.as_bytes());
                self.header.push(TAG_SYMLINK);
                put_u64(&mut self.header, target.len() as u64);
                self.header.extend_from_slice(target.as_bytes());
                self.header.extend_from_slice(&hash);
                put_u64(&mut self.header, 0);
                put_u64(&mut self.header, *modified);
                put_u64(&mut self.header, 0);
                Ok(hash)
            }
        }
    }

    /// `u64 header_len, header, u64 data_len, data`.
    fn finish(self, out: &mut Vec<u8>) {
        put_u64(out, self.header.len() as u64);
        out.extend_from_slice(&self.header);
        put_u64(out, self.data.len() as u64);
        out.extend_from_slice(&self.data);
    }
}

pub(crate) fn volume_body(v3: bool, dir: &Directory, out: &mut Vec<u8>) -> Result<()> {
    let mut w = VolumeWriter {
        v3,
        header: Vec::new(),
        data: Vec::new(),
    };
    w.dir(dir, 0)?;
    w.finish(out);
    Ok(())
}

pub(crate) struct Sec {
    pub(crate) tag: u8,
    pub(crate) data: Vec<u8>,
}

impl Sec {
    fn framed_len(&self, v3: bool) -> u64 {
        self.data.len() as u64 + if v3 { 41 } else { 9 }
    }
}

/// Frames `sections` (manifest, atoms, volumes named `names`, in that order) behind a
/// header and an index, exactly as Wasmer's writer does.
pub(crate) fn assemble(
    v3: bool,
    checksum: Checksum,
    sections: &[Sec],
    names: &[&str],
) -> Result<Vec<u8>> {
    let checksums: Vec<Option<[u8; 32]>> = sections
        .iter()
        .map(|s| {
            if v3 || checksum == Checksum::Sha256 {
                Some(sha256(&s.data))
            } else {
                None
            }
        })
        .collect();

    // Index: spans laid out from 0, sized, then shifted (webc's writer, exactly).
    let lens: Vec<u64> = sections.iter().map(|s| s.framed_len(v3)).collect();
    let index_ck: Vec<Option<[u8; 32]>> = checksums
        .iter()
        .map(|ck| {
            if checksum == Checksum::Sha256 {
                *ck
            } else {
                None
            }
        })
        .collect();
    let index_at = |delta: u64| -> Value {
        let mut offset = delta;
        let spans: Vec<IndexSpan> = lens
            .iter()
            .zip(&index_ck)
            .map(|(&len, &checksum)| {
                let span = IndexSpan {
                    start: offset,
                    len,
                    checksum,
                };
                offset += len;
                span
            })
            .collect();
        index_value(&spans, names)
    };
    let est = 1 + 8 + cbor(&index_at(0)).len() as u64;
    let allocated = est + est / 5;
    let delta = 8 + 1 + 8 + allocated;
    let mut index = cbor(&index_at(delta));
    if index.len() as u64 > allocated {
        return Err(Error::Write(format!(
            "index needs {} bytes but only {allocated} were allocated",
            index.len()
        )));
    }
    index.resize(allocated as usize, 0);

    let total: u64 = delta + sections.iter().map(|s| s.framed_len(v3)).sum::<u64>();
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(crate::container::MAGIC);
    out.extend_from_slice(if v3 { b"003" } else { b"002" });
    out.push(TAG_INDEX);
    put_u64(&mut out, index.len() as u64);
    out.extend_from_slice(&index);
    for (s, ck) in sections.iter().zip(&checksums) {
        out.push(s.tag);
        if v3 {
            out.extend_from_slice(&ck.unwrap_or_else(|| sha256(&s.data)));
        }
        put_u64(&mut out, s.data.len() as u64);
        out.extend_from_slice(&s.data);
    }
    Ok(out)
}

impl Writer {
    /// Serialises the package as `version` (v2 or v3).
    pub fn to_bytes(&self, version: Version) -> Result<Vec<u8>> {
        let v3 = match version {
            Version::V3 => true,
            Version::V2 => false,
            Version::V1 => return Err(Error::Write("webc v1 is read-only".into())),
        };
        let mut sections = vec![Sec {
            tag: TAG_MANIFEST,
            data: self.manifest.clone(),
        }];
        let atoms = Directory {
            modified: 0,
            entries: self
                .atoms
                .iter()
                .map(|(n, d)| {
                    (
                        n.clone(),
                        Entry::File {
                            data: d.clone(),
                            modified: 0,
                        },
                    )
                })
                .collect(),
        };
        let mut data = Vec::new();
        volume_body(v3, &atoms, &mut data)?;
        sections.push(Sec {
            tag: TAG_ATOMS,
            data,
        });
        for (name, dir) in &self.volumes {
            let mut data = Vec::new();
            put_u64(&mut data, name.len() as u64);
            data.extend_from_slice(name.as_bytes());
            volume_body(v3, dir, &mut data)?;
            sections.push(Sec {
                tag: TAG_VOLUME,
                data,
            });
        }
        let names: Vec<&str> = self.volumes.keys().map(String::as_str).collect();
        assemble(v3, self.checksum, &sections, &names)
    }

    /// The logical content of an opened container (manifest re-encoded from its typed form),
    /// ready to be written again, e.g. as another version.
    pub fn from_container(c: &crate::Container) -> Result<Self> {
        let mut w = Writer {
            manifest: c.manifest().to_cbor(),
            ..Default::default()
        };
        for name in c.atom_names()? {
            let data = c.atom(&name)?;
            w.atoms.insert(name, data);
        }
        let names: Vec<String> = c.volume_names().map(str::to_owned).collect();
        for name in names {
            w.volumes
                .insert(name.clone(), directory_of(&c.volume(&name)?)?);
        }
        if c.sections()
            .iter()
            .any(|s| s.kind != crate::SectionKind::Index && s.index_checksum.is_none())
            && c.version() != Version::V1
        {
            w.checksum = Checksum::None;
        }
        Ok(w)
    }

    /// Writes the package to `path` atomically: a temporary file in the same directory,
    /// fsynced, then renamed over `path`. A failure leaves no partial file behind.
    pub fn write_to(&self, version: Version, path: &Path) -> Result<()> {
        let bytes = self.to_bytes(version)?;
        write_atomic(path, &bytes)
    }
}

/// Reads a whole volume into a [`Directory`] (file contents stay zero-copy).
pub fn directory_of(v: &crate::Volume) -> Result<Directory> {
    let root = v.root()?;
    let mut out = Directory {
        modified: root.modified().unwrap_or(0),
        entries: BTreeMap::new(),
    };
    v.walk(|path, e| {
        if e.node.is_dir() && path.matches('/').count() > MAX_DEPTH {
            return Err(too_deep(path));
        }
        let entry = match e.node.kind() {
            crate::EntryKind::Dir => Entry::Dir(Directory {
                modified: e.node.modified().unwrap_or(0),
                entries: BTreeMap::new(),
            }),
            crate::EntryKind::File => Entry::File {
                data: v.file_content(&e.node).unwrap_or_default(),
                modified: e.node.modified().unwrap_or(0),
            },
            crate::EntryKind::Symlink => Entry::Symlink {
                target: e.node.symlink_target().unwrap_or_default().to_owned(),
                modified: e.node.modified().unwrap_or(0),
            },
        };
        insert_raw(&mut out, path, entry)
    })?;
    Ok(out)
}

/// Like [`Directory::insert`] but without Wasmer's segment rules (names come from a container).
fn insert_raw(root: &mut Directory, path: &str, entry: Entry) -> Result<()> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((last, parents)) = segments.split_last() else {
        return Ok(());
    };
    let mut dir = root;
    for seg in parents {
        dir = match dir.entries.get_mut(*seg) {
            Some(Entry::Dir(d)) => d,
            _ => {
                return Err(Error::Write(format!(
                    "{path:?}: parent {seg:?} is not a directory"
                )));
            }
        };
    }
    dir.entries.insert((*last).to_owned(), entry);
    Ok(())
}

/// Writes `bytes` to `path` via a synced temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".webc-tmp-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    // A package is a public artifact: rw-r--r-- like any file `cp` or Wasmer would write
    // (the temporary file starts private, 0600).
    {
        use std::os::unix::fs::PermissionsExt as _;
        let perms = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(perms).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// One index entry: a section's span and checksum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexSpan {
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) checksum: Option<[u8; 32]>,
}

/// The index as Wasmer's writer encodes it: spans in order manifest, atoms, volumes.
pub(crate) fn index_value(spans: &[IndexSpan], volume_names: &[&str]) -> Value {
    let entry = |s: &IndexSpan| {
        let checksum = match s.checksum {
            Some(h) => vec![
                text("tag", "checksum-sha256"),
                (t("value"), Value::Bytes(h.to_vec())),
            ],
            None => vec![
                text("tag", "checksum-none"),
                (t("value"), Value::Bytes(Vec::new())),
            ],
        };
        Value::Map(vec![
            (
                t("span"),
                Value::Map(vec![(t("start"), s.start.into()), (t("len"), s.len.into())]),
            ),
            (t("checksum"), Value::Map(checksum)),
        ])
    };
    let mut entries = spans.iter().map(entry);
    let manifest = entries.next().unwrap_or(Value::Null);
    let atoms = entries.next().unwrap_or(Value::Null);
    let volumes = volume_names
        .iter()
        .map(|n| Value::Text((*n).to_owned()))
        .zip(entries)
        .collect();
    Value::Map(vec![
        (t("manifest"), manifest),
        (t("atoms"), atoms),
        (t("volumes"), Value::Map(volumes)),
        (
            t("signature"),
            Value::Map(vec![
                text("tag", "signature-none"),
                (t("value"), Value::Bytes(Vec::new())),
            ]),
        ),
    ])
}

pub(crate) fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn text(k: &str, v: &str) -> (Value, Value) {
    (t(k), t(v))
}

pub(crate) fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a `Value` into a `Vec` cannot fail.
    let _ = ciborium::into_writer(v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_packages_are_world_readable() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.webc");
        write_atomic(&path, b"x").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn symlink_targets_must_stay_inside() {
        assert!(check_symlink("a/b", 0).is_ok());
        assert!(check_symlink("../x", 1).is_ok());
        assert!(check_symlink("../x", 0).is_err());
        assert!(check_symlink("/etc/passwd", 3).is_err());
        assert!(check_symlink("a/../../x", 1).is_ok());
        assert!(check_symlink("a/../../../x", 1).is_err());
    }

    /// Found while fuzzing: rewriting a ~30 KiB container whose directories nest 1000
    /// deep overflowed a 2 MiB stack (the writer recurses per level).
    #[test]
    fn nesting_is_bounded() {
        let nested = |depth: usize| {
            let mut d = Directory::default();
            let path = vec!["d"; depth].join("/");
            d.insert(&path, Entry::Dir(Directory::default()), 0)
                .map(|()| d)
        };
        let writer = |dir: Directory| Writer {
            manifest: vec![0xa0],
            volumes: [("v".to_owned(), dir)].into(),
            ..Default::default()
        };
        let ok = writer(nested(MAX_DEPTH).unwrap());
        let bytes = ok.to_bytes(Version::V2).unwrap();
        let c = crate::Container::from_bytes(bytes).unwrap();
        assert!(Writer::from_container(&c).is_ok());
        // `insert` refuses to build a deeper tree; the writer refuses one built by hand.
        assert!(matches!(nested(MAX_DEPTH + 1), Err(Error::Write(_))));
        let deep = Directory {
            modified: 0,
            entries: [("d".to_owned(), Entry::Dir(nested(MAX_DEPTH).unwrap()))].into(),
        };
        assert!(matches!(
            writer(deep).to_bytes(Version::V3),
            Err(Error::Write(_))
        ));

        // A hand-made v2 volume of 1000 nested directories: `directory_of` refuses it
        // instead of building a tree the writer cannot handle.
        let n = 1000u64;
        let rec = 9 + 17;
        let mut header = Vec::new();
        for i in 0..=n {
            header.push(TAG_DIR);
            header.extend_from_slice(&(if i == n { 0u64 } else { 17 }).to_le_bytes());
            if i < n {
                header.extend_from_slice(&((i + 1) * rec).to_le_bytes());
                header.extend_from_slice(&1u64.to_le_bytes());
                header.push(b'd');
            }
        }
        let v = crate::Volume::new(
            "v".into(),
            Version::V2,
            Bytes::from(header),
            0,
            Bytes::new(),
            0,
        );
        let err = directory_of(&v);
        assert!(
            matches!(&err, Err(Error::Malformed { reason, .. }) if reason.contains("more than 256 levels")),
            "{err:?}"
        );
    }

    #[test]
    fn insert_creates_parents() {
        let mut d = Directory::default();
        d.insert(
            "/a/b/c.txt",
            Entry::File {
                data: Bytes::from_static(b"x"),
                modified: 5,
            },
            7,
        )
        .unwrap();
        let Entry::Dir(a) = &d.entries["a"] else {
            panic!()
        };
        assert_eq!(a.modified, 7);
        assert!(
            d.insert("/a/b/c.txt/d", Entry::Dir(Directory::default()), 0)
                .is_err()
        );
        assert!(
            d.insert("/a/../x", Entry::Dir(Directory::default()), 0)
                .is_err()
        );
    }
}
