//! Opening a container: header, index, manifest and atoms eagerly; volumes on first use.

use std::fs::File;
use std::path::Path;
use std::sync::OnceLock;

use bytes::Bytes;
use ciborium::Value;

use crate::Version;
use crate::cbor::Reader;
use crate::cursor::{Cursor, utf8};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::volume::{Node, Volume};

pub(crate) const MAGIC: &[u8; 5] = b"\0webc";

/// Section tags (v2/v3).
pub(crate) const TAG_MANIFEST: u8 = 1;
pub(crate) const TAG_INDEX: u8 = 2;
pub(crate) const TAG_ATOMS: u8 = 3;
pub(crate) const TAG_VOLUME: u8 = 4;

/// v1 fixed header layout.
pub(crate) const V1_CHECKSUM_TYPE: std::ops::Range<usize> = 8..24;
pub(crate) const V1_CHECKSUM: std::ops::Range<usize> = 24..280;
pub(crate) const V1_SIGNATURE_LEN: std::ops::Range<usize> = 280..284;
pub(crate) const V1_HEADER_END: usize = 1308;

/// Reads the version from the first 8 bytes, as `webc::detect` does.
pub fn detect(bytes: &[u8]) -> Result<Version> {
    if bytes.len() < 5 || &bytes[..5] != MAGIC {
        return Err(Error::BadMagic);
    }
    match bytes.get(5..8) {
        Some(b"001") => Ok(Version::V1),
        Some(b"002") => Ok(Version::V2),
        Some(b"003") => Ok(Version::V3),
        Some(other) => Err(Error::UnsupportedVersion(
            String::from_utf8_lossy(other).into_owned(),
        )),
        None => Err(Error::truncated(
            "version digits",
            5,
            3,
            bytes.len() as u64 - 5,
        )),
    }
}

/// Which section a [`Section`] describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind {
    /// The index (v2/v3).
    Index,
    /// The CBOR manifest.
    Manifest,
    /// The atoms volume.
    Atoms,
    /// A named file-system volume.
    Volume(String),
}

impl SectionKind {
    /// Human-readable label, e.g. `volume "/assets"`.
    pub fn label(&self) -> String {
        match self {
            SectionKind::Index => "index".into(),
            SectionKind::Manifest => "manifest".into(),
            SectionKind::Atoms => "atoms".into(),
            SectionKind::Volume(name) => format!("volume {name:?}"),
        }
    }
}

/// Where a section sits in the file and what the container says about its integrity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Which section.
    pub kind: SectionKind,
    /// Absolute offset of the section's first byte (v2/v3: its tag byte).
    pub offset: u64,
    /// Absolute offset of the section's data.
    pub data_offset: u64,
    /// Length of the data.
    pub data_len: u64,
    /// v3: the SHA-256 stored between tag and length.
    pub inline_hash: Option<[u8; 32]>,
    /// v2/v3: the checksum the index records (`None` for the index itself and for `checksum-none`).
    pub index_checksum: Option<[u8; 32]>,
}

impl Section {
    /// Length of the whole section including its framing.
    pub fn total_len(&self) -> u64 {
        self.data_offset - self.offset + self.data_len
    }
}

/// v1 header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Header {
    /// `"----------------"`, `"sha256----------"` or `"sha256-signed---"`.
    pub checksum_type: String,
    /// The stored checksum (first 32 bytes of the 256-byte field) if the type is sha256.
    pub checksum: Option<[u8; 32]>,
    /// Length of the detached OpenPGP signature (0 when unsigned).
    pub signature_len: u32,
}

#[derive(Debug)]
struct VolumeSlot {
    section: Section,
    volume: OnceLock<Volume>,
}

/// An opened webc container (v1, v2 or v3).
///
/// Opening parses the header, the index, the manifest and the atoms header; volumes are
/// parsed on first use. All content is served as zero-copy [`Bytes`] slices of the file
/// (memory-mapped by [`Container::open`]).
#[derive(Debug)]
pub struct Container {
    bytes: Bytes,
    version: Version,
    manifest: Manifest,
    manifest_section: Section,
    atoms_section: Section,
    atoms: Volume,
    index_section: Option<Section>,
    index_cbor_len: u64,
    volumes: Vec<VolumeSlot>,
    v1: Option<V1Header>,
}

impl Container {
    /// Memory-maps and opens the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len == 0 {
            return Self::from_bytes(Bytes::new());
        }
        // The length is known: passing it spares memmap2 a second `fstat`.
        let len = usize::try_from(len).map_err(|_| io(std::io::Error::other("file too large")))?;
        // SAFETY: the map is read-only and private to this process. Another process
        // truncating or rewriting the file while it is mapped could change what we read
        // (or raise SIGBUS); that is the accepted contract of every mmap-based reader
        // (Wasmer's included). All parsing is bounds-checked against the mapped length
        // (the file's length when it was opened), so changed bytes can make results wrong
        // but never make reads go out of bounds.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&file) }.map_err(io)?;
        Self::from_bytes(Bytes::from_owner(map))
    }

    /// Opens a container held in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Result<Self> {
        let bytes = bytes.into();
        match detect(&bytes)? {
            Version::V1 => Self::parse_v1(bytes),
            v @ (Version::V2 | Version::V3) => Self::parse_v2v3(bytes, v),
        }
    }

    /// The container's version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The whole file.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The decoded manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest's raw CBOR bytes.
    pub fn manifest_bytes(&self) -> Bytes {
        self.slice(&self.manifest_section)
    }

    /// The v1 header, for v1 containers.
    pub fn v1_header(&self) -> Option<&V1Header> {
        self.v1.as_ref()
    }

    /// Every section in file order.
    pub fn sections(&self) -> Vec<Section> {
        let mut out = Vec::with_capacity(3 + self.volumes.len());
        out.extend(self.index_section.clone());
        out.push(self.manifest_section.clone());
        out.push(self.atoms_section.clone());
        out.extend(self.volumes.iter().map(|v| v.section.clone()));
        out.sort_by_key(|s| s.offset);
        out
    }

    /// Length of the index's CBOR item (v2/v3); the rest of the index section is padding.
    pub fn index_cbor_len(&self) -> u64 {
        self.index_cbor_len
    }

    /// The atoms section as a volume (a flat directory of atom files).
    pub fn atoms_volume(&self) -> &Volume {
        &self.atoms
    }

    /// Names of the atoms stored in the atoms section, sorted.
    pub fn atom_names(&self) -> Result<Vec<String>> {
        let root = self.atoms.root()?;
        Ok(self
            .atoms
            .entries(&root)?
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.name)
            .collect())
    }

    /// The atom's bytes (zero-copy). For v1 the `{package}:{atom}` spelling is tried first,
    /// as Wasmer did.
    pub fn atom(&self, name: &str) -> Result<Bytes> {
        let missing = || Error::Missing {
            what: "atom",
            name: name.to_owned(),
        };
        if name.contains('/')
            || name.contains('\0')
            || name.is_empty()
            || name == "."
            || name == ".."
        {
            return Err(missing());
        }
        let node = self.atom_node(name)?.ok_or_else(missing)?;
        self.atoms.file_content(&node).ok_or_else(missing)
    }

    /// The atom's bytes after checking their SHA-256 against the manifest's `signature`:
    /// what a host calls before running an atom. An atom the manifest does not list, or whose
    /// signature is not `sha256:<base64>`, is refused too.
    pub fn verified_atom(&self, name: &str) -> Result<Bytes> {
        let what = format!("atom {name:?}");
        let meta = self
            .manifest
            .atoms
            .as_ref()
            .and_then(|a| a.get(name))
            .ok_or_else(|| Error::Missing {
                what: "atom (in the manifest)",
                name: name.to_owned(),
            })?;
        let bytes = self.atom(name)?;
        let offset = self
            .atom_node(name)?
            .and_then(|n| self.atoms.content_offset(&n))
            .unwrap_or(0);
        let expected = crate::manifest::parse_atom_signature(&meta.signature).ok_or_else(|| {
            Error::Integrity {
                what: what.clone(),
                offset,
                reason: format!(
                    "manifest signature {:?} is not \"sha256:<base64>\"",
                    meta.signature
                ),
            }
        })?;
        let actual: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
        if actual != expected {
            return Err(Error::Integrity {
                what,
                offset,
                reason: format!(
                    "content hashes to {} but the manifest says {}",
                    crate::manifest::atom_signature(&actual),
                    meta.signature
                ),
            });
        }
        Ok(bytes)
    }

    /// The atoms-section entry of an atom (for offsets and stored hashes).
    pub fn atom_node(&self, name: &str) -> Result<Option<Node>> {
        if self.version == Version::V1
            && let Some(pkg) = self.manifest.package_name()
            && let Some(node) = self
                .atoms
                .lookup_nofollow(&format!("{pkg}:{name}"))
                .ok()
                .flatten()
        {
            return Ok(Some(node));
        }
        match self.atoms.lookup_nofollow(name) {
            Ok(node) => Ok(node.filter(Node::is_file)),
            Err(Error::InvalidPath { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Names of the volumes, sorted.
    pub fn volume_names(&self) -> impl Iterator<Item = &str> {
        self.volumes.iter().map(slot_name)
    }

    /// A volume by name (parsed on first use, then cached).
    pub fn volume(&self, name: &str) -> Result<Volume> {
        let slot = self
            .volumes
            .binary_search_by(|v| slot_name(v).cmp(name))
            .map(|i| &self.volumes[i])
            .map_err(|_| Error::Missing {
                what: "volume",
                name: name.to_owned(),
            })?;
        if let Some(v) = slot.volume.get() {
            return Ok(v.clone());
        }
        let v = self.parse_volume(name, &slot.section)?;
        Ok(slot.volume.get_or_init(|| v).clone())
    }

    pub(crate) fn slice(&self, s: &Section) -> Bytes {
        self.bytes
            .slice(s.data_offset as usize..(s.data_offset + s.data_len) as usize)
    }

    fn parse_volume(&self, name: &str, section: &Section) -> Result<Volume> {
        let data = self.slice(section);
        // Formatted only for an error.
        let what = || format!("volume {name:?}");
        let mut c = Cursor::new(&data, section.data_offset);
        if self.version == Version::V1 {
            let header_len = c.leb128("header length").map_err(|e| e.prefixed(what))?;
            let header_off = c.offset();
            let header = c
                .bytes(header_len, "header")
                .map_err(|e| e.prefixed(what))?;
            let data_off = c.offset();
            let hs = c.position() - header.len();
            let ds = c.position();
            return Ok(Volume::new(
                name.to_owned(),
                self.version,
                data.slice(hs..ds),
                header_off,
                data.slice(ds..),
                data_off,
            ));
        }
        let name_at = c.offset() + 8;
        let stored = c.u64_prefixed("name").map_err(|e| e.prefixed(what))?;
        let stored = utf8(stored, "name", name_at).map_err(|e| e.prefixed(what))?;
        if stored != name {
            return Err(Error::malformed(
                format!("{} name", what()),
                name_at,
                format!("the section is named {stored:?} but the index lists it as {name:?}"),
            ));
        }
        self.volume_body(name, &data, c)
    }

    /// `u64 header_len, header, u64 data_len, data` (the shared tail of atoms and volume sections).
    fn volume_body(&self, name: &str, data: &Bytes, mut c: Cursor<'_>) -> Result<Volume> {
        // Formatted only for an error.
        let what = || {
            if name.is_empty() {
                "atoms section".to_owned()
            } else {
                format!("volume {name:?}")
            }
        };
        let header = c.u64_prefixed("header").map_err(|e| e.prefixed(what))?;
        let header_off = c.offset() - header.len() as u64;
        let hs = c.position() - header.len();
        let content = c.u64_prefixed("data").map_err(|e| e.prefixed(what))?;
        let data_off = c.offset() - content.len() as u64;
        let ds = c.position() - content.len();
        if !c.is_empty() {
            return Err(Error::malformed(
                what(),
                c.offset(),
                format!("{} unexpected bytes after the data region", c.remaining()),
            ));
        }
        Ok(Volume::new(
            if name.is_empty() {
                "atoms".to_owned()
            } else {
                name.to_owned()
            },
            self.version,
            data.slice(hs..hs + header.len()),
            header_off,
            data.slice(ds..ds + content.len()),
            data_off,
        ))
    }

    fn parse_v2v3(bytes: Bytes, version: Version) -> Result<Self> {
        let v3 = version == Version::V3;
        let file_len = bytes.len() as u64;
        let mut c = Cursor::new(&bytes, 0);
        c.bytes(8, "header")?;
        let index_at = c.offset();
        let tag = c.u8("index section tag")?;
        if tag != TAG_INDEX {
            return Err(Error::malformed(
                "index section",
                index_at,
                format!("expected tag 2 (index), found {tag}"),
            ));
        }
        let index = c.u64_prefixed("index section")?;
        let index_data_at = index_at + 9;
        let index_section = Section {
            kind: SectionKind::Index,
            offset: index_at,
            data_offset: index_data_at,
            data_len: index.len() as u64,
            inline_hash: None,
            index_checksum: None,
        };
        let (manifest_entry, atoms_entry, volume_entries, index_cbor_len) =
            match index_direct(index) {
                Some(decoded) => decoded,
                None => index_general(index, index_data_at)?,
            };
        // Check every span against the file and the section framing found there.
        let frame = |entry: &IndexEntry, kind: SectionKind, tag: u8| -> Result<Section> {
            // Formatted only for an error.
            let label = || kind.label();
            let (start, len) = (entry.start, entry.len);
            let end = start
                .checked_add(len)
                .filter(|&e| e <= file_len)
                .ok_or_else(|| {
                    Error::malformed(
                        format!("index span of {}", label()),
                        index_data_at,
                        format!("span {start}+{len} runs past the end of the {file_len}-byte file"),
                    )
                })?;
            let head = if v3 { 41 } else { 9 };
            let mut sc = Cursor::new(&bytes[start as usize..end as usize], start);
            let found = sc.u8("section tag").map_err(|e| e.prefixed(label))?;
            if found != tag {
                return Err(Error::malformed(
                    format!("{} section", label()),
                    start,
                    format!(
                        "expected tag {tag}, found {found} (the index span points at the wrong place)"
                    ),
                ));
            }
            let inline_hash = if v3 {
                Some(
                    sc.array::<32>("section hash")
                        .map_err(|e| e.prefixed(label))?,
                )
            } else {
                None
            };
            let data_len = sc.u64("section length").map_err(|e| e.prefixed(label))?;
            if data_len.checked_add(head) != Some(len) {
                return Err(Error::malformed(
                    format!("{} section", label()),
                    start,
                    format!(
                        "section length {data_len} + {head} bytes of framing does not match the index span length {len}"
                    ),
                ));
            }
            Ok(Section {
                kind,
                offset: start,
                data_offset: start + head,
                data_len,
                inline_hash,
                index_checksum: entry.checksum,
            })
        };
        let manifest_section = frame(&manifest_entry, SectionKind::Manifest, TAG_MANIFEST)?;
        let atoms_section = frame(&atoms_entry, SectionKind::Atoms, TAG_ATOMS)?;
        let mut volumes = Vec::with_capacity(volume_entries.len());
        for (name, entry) in &volume_entries {
            volumes.push(VolumeSlot {
                section: frame(entry, SectionKind::Volume(name.clone()), TAG_VOLUME)?,
                volume: OnceLock::new(),
            });
        }
        volumes.sort_by(|a, b| slot_name(a).cmp(slot_name(b)));
        // No two sections may overlap, nor overlap the header and index.
        // Spans as (start, end, who): `None` the header and index, else a section; labels
        // are formatted only for an error (and to order identical spans).
        let span = |s: &Section| (s.offset, s.offset + s.total_len());
        let mut spans: Vec<(u64, u64, Option<&Section>)> =
            vec![(0, index_at + 9 + index.len() as u64, None)];
        for s in [&manifest_section, &atoms_section]
            .into_iter()
            .chain(volumes.iter().map(|v| &v.section))
        {
            let (start, end) = span(s);
            spans.push((start, end, Some(s)));
        }
        let label = |who: Option<&Section>| match who {
            None => "header and index".to_owned(),
            Some(s) => s.kind.label(),
        };
        spans.sort_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| label(a.2).cmp(&label(b.2)))
        });
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(Error::malformed(
                    "index",
                    index_data_at,
                    format!(
                        "the spans of {} and {} overlap (at offset {})",
                        label(w[0].2),
                        label(w[1].2),
                        w[1].0
                    ),
                ));
            }
        }
        // ...and together they must cover the file: bytes no span claims are a section
        // the index lost (a damaged "volumes" key silently dropped a 1 MB volume before).
        // Wasmer's writer leaves no gaps, so this refuses nothing it writes.
        let mut covered = 0u64;
        for &(start, end, _) in &spans {
            if start > covered {
                return Err(unlisted_section(&bytes, covered, start, v3));
            }
            covered = end;
        }
        if covered < file_len {
            return Err(unlisted_section(&bytes, covered, file_len, v3));
        }

        let manifest_bytes = &bytes[manifest_section.data_offset as usize
            ..(manifest_section.data_offset + manifest_section.data_len) as usize];
        let manifest = Manifest::from_cbor_at(manifest_bytes, manifest_section.data_offset)?;
        let mut this = Container {
            bytes: bytes.clone(),
            version,
            manifest,
            manifest_section,
            atoms_section: atoms_section.clone(),
            atoms: Volume::new(String::new(), version, Bytes::new(), 0, Bytes::new(), 0),
            index_section: Some(index_section),
            index_cbor_len,
            volumes,
            v1: None,
        };
        let data = this.slice(&atoms_section);
        this.atoms = this.volume_body("", &data, Cursor::new(&data, atoms_section.data_offset))?;
        this.check_atoms_root()?;
        Ok(this)
    }

    fn check_atoms_root(&self) -> Result<()> {
        // Parse the atoms directory now (Wasmer does too): a broken atoms header is an open error.
        let root = self.atoms.root()?;
        self.atoms.entry_count(&root)?;
        Ok(())
    }

    fn parse_v1(bytes: Bytes) -> Result<Self> {
        let file_len = bytes.len() as u64;
        if file_len < V1_HEADER_END as u64 {
            return Err(Error::truncated(
                "v1 header",
                0,
                V1_HEADER_END as u64,
                file_len,
            ));
        }
        let ty = &bytes[V1_CHECKSUM_TYPE];
        let checksum_type = String::from_utf8_lossy(ty).into_owned();
        let checksum = match ty {
            b"----------------" => None,
            b"sha256----------" | b"sha256-signed---" => {
                let mut h = [0u8; 32];
                h.copy_from_slice(&bytes[V1_CHECKSUM][..32]);
                Some(h)
            }
            _ => {
                return Err(Error::malformed(
                    "v1 checksum type",
                    8,
                    format!("unknown checksum type {checksum_type:?}"),
                ));
            }
        };
        let mut sig_len = [0u8; 4];
        sig_len.copy_from_slice(&bytes[V1_SIGNATURE_LEN]);
        let signature_len = u32::from_le_bytes(sig_len).min(1024);

        let mut c = Cursor::new(&bytes[V1_HEADER_END..], V1_HEADER_END as u64);
        let manifest_len = c.leb128("v1 manifest length")?;
        let manifest_at = c.offset();
        let manifest_bytes = c.bytes(manifest_len, "v1 manifest")?;
        let manifest = Manifest::from_cbor_at(manifest_bytes, manifest_at)?;
        let section = |kind, at: u64, len: u64| Section {
            kind,
            offset: at,
            data_offset: at,
            data_len: len,
            inline_hash: None,
            index_checksum: None,
        };
        let manifest_section = section(SectionKind::Manifest, manifest_at, manifest_len);
        let atoms_len = c.leb128("v1 atoms length")?;
        let atoms_at = c.offset();
        c.bytes(atoms_len, "v1 atoms volume")?;
        let atoms_section = section(SectionKind::Atoms, atoms_at, atoms_len);
        let mut volumes: Vec<VolumeSlot> = Vec::new();
        while !c.is_empty() {
            let start = c.offset();
            let name_len = c.leb128("v1 volume name length")?;
            let name_at = c.offset();
            let name = utf8(
                c.bytes(name_len, "v1 volume name")?,
                "v1 volume name",
                name_at,
            )?
            .to_owned();
            let len = c.leb128("v1 volume length")?;
            let data_at = c.offset();
            c.bytes(len, &format!("v1 volume {name:?}"))?;
            if volumes
                .iter()
                .any(|v| v.section.kind == SectionKind::Volume(name.clone()))
            {
                return Err(Error::malformed(
                    "v1 volume name",
                    name_at,
                    format!("duplicate volume {name:?}"),
                ));
            }
            volumes.push(VolumeSlot {
                section: Section {
                    kind: SectionKind::Volume(name),
                    offset: start,
                    data_offset: data_at,
                    data_len: len,
                    inline_hash: None,
                    index_checksum: None,
                },
                volume: OnceLock::new(),
            });
        }
        volumes.sort_by(|a, b| slot_name(a).cmp(slot_name(b)));
        let mut this = Container {
            bytes: bytes.clone(),
            version: Version::V1,
            manifest,
            manifest_section,
            atoms_section: atoms_section.clone(),
            atoms: Volume::new(String::new(), Version::V1, Bytes::new(), 0, Bytes::new(), 0),
            index_section: None,
            index_cbor_len: 0,
            volumes,
            v1: Some(V1Header {
                checksum_type,
                checksum,
                signature_len,
            }),
        };
        this.atoms = this.parse_volume("atoms", &atoms_section)?;
        this.check_atoms_root()?;
        Ok(this)
    }
}

/// The error for bytes `start..end` that no index span claims: names the section found
/// there when its framing can be read (a volume by its stored name).
fn unlisted_section(bytes: &[u8], start: u64, end: u64, v3: bool) -> Error {
    let gap = &bytes[start as usize..end as usize];
    let head = if v3 { 41 } else { 9 };
    let found = match gap.first() {
        Some(&TAG_VOLUME) => {
            // tag, [hash], u64 data length, u64 name length, name
            let mut c = Cursor::new(gap.get(head..).unwrap_or_default(), start + head as u64);
            c.u64_prefixed("")
                .ok()
                .and_then(|name| std::str::from_utf8(name).ok())
                .map(|name| SectionKind::Volume(shorten(name)).label())
        }
        Some(&TAG_MANIFEST) => Some("manifest".to_owned()),
        Some(&TAG_ATOMS) => Some("atoms".to_owned()),
        _ => None,
    };
    let what = match found {
        Some(label) => format!("a {label} section"),
        None => format!("{} bytes", end - start),
    };
    Error::malformed(
        "index",
        start,
        format!(
            "{what} at offset {start} is not listed in the index (the index or the file is damaged)"
        ),
    )
}

/// A name cut to a readable length for an error message.
fn shorten(name: &str) -> String {
    crate::volume::shorten_path(name)
}

fn slot_name(slot: &VolumeSlot) -> &str {
    match &slot.section.kind {
        SectionKind::Volume(n) => n,
        _ => "",
    }
}

/// Decodes exactly one CBOR item from the front of `bytes`; returns it and its length.
pub(crate) fn decode_one_cbor(bytes: &[u8], what: &str, offset: u64) -> Result<(Value, u64)> {
    if let Some((value, used)) = crate::cbor::decode(bytes) {
        return Ok((value, used as u64));
    }
    let mut reader = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, 64)
        .map_err(|e| Error::malformed(what, offset, format!("invalid CBOR: {}", cbor_err(&e))))?;
    let used = (bytes.len() - reader.len()) as u64;
    // ciborium reads some encodings into a value that it writes differently and then reads
    // as another value: a bignum tag over an indefinite-length byte string stays a tag, is
    // written with a definite length, and that reads back as an integer. Settle such input
    // on what its encoding reads as, so decoding what we encode gives what we decoded (the
    // manifest fuzz target found this). Canonical input — whose encoding is the input itself
    // — is unaffected; this fallback path only sees input the fast path declined.
    let mut encoded = Vec::new();
    if ciborium::into_writer(&value, &mut encoded).is_ok()
        && let Ok(settled) =
            ciborium::de::from_reader_with_recursion_limit::<Value, _>(&encoded[..], 64)
    {
        return Ok((settled, used));
    }
    Ok((value, used))
}

pub(crate) fn cbor_err<T: std::fmt::Debug>(e: &ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(e) => format!("unexpected end of data ({e:?})"),
        ciborium::de::Error::Syntax(at) => format!("syntax error at byte {at}"),
        ciborium::de::Error::Semantic(at, msg) => match at {
            Some(at) => format!("{msg} (byte {at})"),
            None => msg.clone(),
        },
        ciborium::de::Error::RecursionLimitExceeded => "nested too deeply".into(),
    }
}

fn take(map: &mut Vec<(Value, Value)>, key: &str) -> Option<Value> {
    let i = map
        .iter()
        .position(|(k, _)| matches!(k, Value::Text(t) if t == key))?;
    Some(map.remove(i).1)
}

/// What the index says: the manifest's and the atoms' entries, the volumes' (in index
/// order), and the length of its CBOR item.
type IndexParts = (IndexEntry, IndexEntry, Vec<(String, IndexEntry)>, u64);

/// The index decoded straight from CBOR, for input in [`crate::cbor`]'s subset that fits the
/// schema; `None` (anything else) sends the caller to [`index_general`], which decides and
/// names the error. Keys are taken as there: the first of each, others ignored.
fn index_direct(bytes: &[u8]) -> Option<IndexParts> {
    let mut r = Reader::new(bytes);
    let n = r.map(0)?;
    let (mut manifest, mut atoms, mut volumes) = (None, None, None);
    for _ in 0..n {
        match r.peek_text(1) {
            Some("manifest") if manifest.is_none() => {
                manifest = Some(index_entry_direct(&mut r, 1)?);
            }
            Some("atoms") if atoms.is_none() => atoms = Some(index_entry_direct(&mut r, 1)?),
            Some("volumes") if volumes.is_none() => {
                let m = r.map(1)?;
                let mut list = Vec::with_capacity(m);
                for _ in 0..m {
                    let name = r.text(2)?.to_owned();
                    list.push((name, index_entry_direct(&mut r, 2)?));
                }
                volumes = Some(list);
            }
            Some(_) => {
                r.value(1)?;
            }
            None => {
                r.value(1)?;
                r.value(1)?;
            }
        }
    }
    Some((
        manifest?,
        atoms?,
        volumes.unwrap_or_default(),
        r.position() as u64,
    ))
}

/// `{"span": {"start", "len"}, "checksum": {"tag", "value"}}` at `depth`.
fn index_entry_direct(r: &mut Reader<'_>, depth: usize) -> Option<IndexEntry> {
    let (mut start, mut len, mut tag, mut value) = (None, None, None, None);
    let (mut span_seen, mut checksum_seen) = (false, false);
    for _ in 0..r.map(depth)? {
        match r.peek_text(depth + 1) {
            Some("span") if !span_seen => {
                span_seen = true;
                for _ in 0..r.map(depth + 1)? {
                    match r.peek_text(depth + 2) {
                        Some("start") if start.is_none() => start = Some(r.uint(depth + 2)?),
                        Some("len") if len.is_none() => len = Some(r.uint(depth + 2)?),
                        key => skip_entry(r, depth + 2, key)?,
                    }
                }
            }
            Some("checksum") if !checksum_seen => {
                checksum_seen = true;
                for _ in 0..r.map(depth + 1)? {
                    match r.peek_text(depth + 2) {
                        Some("tag") if tag.is_none() => tag = Some(r.text(depth + 2)?),
                        Some("value") if value.is_none() => value = Some(r.bytes(depth + 2)?),
                        key => skip_entry(r, depth + 2, key)?,
                    }
                }
            }
            key => skip_entry(r, depth + 1, key)?,
        }
    }
    let checksum = match tag? {
        "checksum-sha256" => Some(<[u8; 32]>::try_from(value?).ok()?),
        "checksum-none" => {
            value?;
            None
        }
        _ => return None,
    };
    Some(IndexEntry {
        start: start?,
        len: len?,
        checksum,
    })
}

/// Skips a map entry whose key (if text) was already read.
fn skip_entry(r: &mut Reader<'_>, depth: usize, key: Option<&str>) -> Option<()> {
    if key.is_none() {
        r.value(depth)?;
    }
    r.value(depth)?;
    Some(())
}

/// For the fuzzers and the corpus replay: decodes the index of a v2/v3 file both ways and
/// panics where they disagree (the direct way answering differently, accepting what the
/// general way refuses, or declining well-formed input in its subset).
pub(crate) fn check_index_decoding(file: &[u8]) {
    let Some(index) = file.get(17..).and_then(|rest| {
        let len = u64::from_le_bytes(file.get(9..17)?.try_into().ok()?);
        rest.get(..usize::try_from(len).ok()?)
    }) else {
        return;
    };
    match (index_direct(index), index_general(index, 17)) {
        (Some(d), Ok(g)) => assert_eq!(d, g, "direct and general index decoding disagree"),
        (Some(_), Err(e)) => panic!("direct index decoding accepts what is refused: {e}"),
        (None, Ok(_)) => assert!(
            crate::cbor::decode(index).is_none(),
            "direct index decoding declines a well-formed index in its subset"
        ),
        (None, Err(_)) => {}
    }
}

/// The index decoded the general way: any CBOR ciborium reads, every error named.
fn index_general(index: &[u8], index_data_at: u64) -> Result<IndexParts> {
    let (index_value, index_cbor_len) = decode_one_cbor(index, "index", index_data_at)?;
    let idx = IndexParser { at: index_data_at };
    let mut map = idx.map(index_value, "index")?;
    let manifest_entry = idx.entry(
        take(&mut map, "manifest").ok_or_else(|| idx.err("index", "missing key \"manifest\""))?,
        "index.manifest",
    )?;
    let atoms_entry = idx.entry(
        take(&mut map, "atoms").ok_or_else(|| idx.err("index", "missing key \"atoms\""))?,
        "index.atoms",
    )?;
    let mut volume_entries = Vec::new();
    if let Some(v) = take(&mut map, "volumes") {
        for (k, v) in idx.map(v, "index.volumes")? {
            let Value::Text(name) = k else {
                return Err(idx.err("index.volumes", "volume name is not text"));
            };
            let loc = format!("index.volumes[{name:?}]");
            volume_entries.push((name, idx.entry(v, &loc)?));
        }
    }

    Ok((manifest_entry, atoms_entry, volume_entries, index_cbor_len))
}

#[derive(Debug, PartialEq)]
struct IndexEntry {
    start: u64,
    len: u64,
    checksum: Option<[u8; 32]>,
}

struct IndexParser {
    at: u64,
}

impl IndexParser {
    fn err(&self, loc: &str, reason: &str) -> Error {
        Error::malformed(format!("index ({loc})"), self.at, reason)
    }

    fn map(&self, v: Value, loc: &str) -> Result<Vec<(Value, Value)>> {
        match v {
            Value::Map(m) => Ok(m),
            _ => Err(self.err(loc, "expected a map")),
        }
    }

    fn uint(&self, v: Option<Value>, loc: &str) -> Result<u64> {
        match v {
            Some(Value::Integer(i)) => {
                u64::try_from(i).map_err(|_| self.err(loc, "expected an unsigned integer"))
            }
            _ => Err(self.err(loc, "expected an unsigned integer")),
        }
    }

    fn entry(&self, v: Value, loc: &str) -> Result<IndexEntry> {
        let mut m = self.map(v, loc)?;
        let mut span = self.map(
            take(&mut m, "span").ok_or_else(|| self.err(loc, "missing \"span\""))?,
            &format!("{loc}.span"),
        )?;
        let start = self.uint(take(&mut span, "start"), &format!("{loc}.span.start"))?;
        let len = self.uint(take(&mut span, "len"), &format!("{loc}.span.len"))?;
        let mut ck = self.map(
            take(&mut m, "checksum").ok_or_else(|| self.err(loc, "missing \"checksum\""))?,
            &format!("{loc}.checksum"),
        )?;
        let tag = match take(&mut ck, "tag") {
            Some(Value::Text(t)) => t,
            _ => return Err(self.err(&format!("{loc}.checksum.tag"), "expected text")),
        };
        let value = match take(&mut ck, "value") {
            Some(Value::Bytes(b)) => b,
            _ => return Err(self.err(&format!("{loc}.checksum.value"), "expected a byte string")),
        };
        let checksum = match tag.as_str() {
            "checksum-sha256" => Some(<[u8; 32]>::try_from(value.as_slice()).map_err(|_| {
                self.err(
                    &format!("{loc}.checksum.value"),
                    &format!("a SHA-256 checksum is 32 bytes, found {}", value.len()),
                )
            })?),
            "checksum-none" => None,
            other => {
                return Err(self.err(
                    &format!("{loc}.checksum.tag"),
                    &format!("unknown checksum algorithm {other:?}"),
                ));
            }
        };
        Ok(IndexEntry {
            start,
            len,
            checksum,
        })
    }
}
