//! Integrity checks: everything a container records about itself, recomputed.

use sha2::{Digest, Sha256};

use crate::Version;
use crate::container::{Container, SectionKind, V1_CHECKSUM, V1_HEADER_END};
use crate::manifest::parse_atom_signature;
use crate::volume::{EntryKind, Volume};
use crate::write::{IndexSpan, cbor, index_value};

/// One check that failed: which entry, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What failed, e.g. `volume "/assets": /nested/a.txt` or `atom "hello"`.
    pub entry: String,
    /// Absolute file offset of the entry (its record, content or section).
    pub offset: u64,
    /// What did not match.
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (offset {}): {}",
            self.entry, self.offset, self.reason
        )
    }
}

/// The outcome of [`Container::verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Number of individual checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failures: Vec<Failure>,
    /// What could not be checked and why (e.g. v1 without a checksum).
    pub notes: Vec<String>,
}

impl Report {
    /// True when nothing failed.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    fn check(
        &mut self,
        ok: bool,
        entry: impl FnOnce() -> String,
        offset: u64,
        reason: impl FnOnce() -> String,
    ) {
        if ok {
            self.passed += 1;
        } else {
            self.failures.push(Failure {
                entry: entry(),
                offset,
                reason: reason(),
            });
        }
    }

    fn fail(&mut self, entry: impl Into<String>, offset: u64, reason: impl Into<String>) {
        self.failures.push(Failure {
            entry: entry.into(),
            offset,
            reason: reason.into(),
        });
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

impl Container {
    /// Recomputes every hash and checks every structural promise the container makes.
    ///
    /// v2/v3: index padding is zero and spans tile the file in order; every section's data
    /// matches its index checksum and (v3) its inline hash; every atom matches its manifest
    /// signature; every file (and v3 symlink) matches its stored SHA-256; every v3 directory
    /// hash matches its children; `fs` mappings name existing volumes.
    /// v1: the file checksum (if any) and the atom signatures; the rest cannot be checked.
    pub fn verify(&self) -> Report {
        let mut r = Report::default();
        match self.version() {
            Version::V1 => self.verify_v1(&mut r),
            Version::V2 | Version::V3 => self.verify_layout(&mut r),
        }
        self.verify_atoms(&mut r);
        self.verify_fs(&mut r);
        if self.version() != Version::V1 {
            let atoms = self.atoms_volume().clone();
            verify_volume(&atoms, "atoms", &mut r);
            let names: Vec<String> = self.volume_names().map(str::to_owned).collect();
            for name in names {
                let label = format!("volume {name:?}");
                match self.volume(&name) {
                    Ok(v) => verify_volume(&v, &label, &mut r),
                    Err(e) => r.fail(label, 0, e.to_string()),
                }
            }
        } else {
            // v1 stores no hashes, but the tree must still parse.
            let names: Vec<String> = self.volume_names().map(str::to_owned).collect();
            for name in names {
                let label = format!("volume {name:?}");
                let result = self.volume(&name).and_then(|v| v.walk(|_, _| Ok(())));
                match result {
                    Ok(()) => r.passed += 1,
                    Err(e) => r.fail(label, 0, e.to_string()),
                }
            }
        }
        r
    }

    fn verify_v1(&self, r: &mut Report) {
        let Some(h) = self.v1_header() else { return };
        match h.checksum {
            Some(stored) => {
                let bytes = self.as_bytes();
                let mut hasher = Sha256::new();
                hasher.update(&bytes[..V1_CHECKSUM.start]);
                hasher.update([0u8; V1_HEADER_END - 24]);
                hasher.update(&bytes[V1_HEADER_END..]);
                let actual: [u8; 32] = hasher.finalize().into();
                r.check(
                    actual == stored,
                    || "v1 file checksum".into(),
                    V1_CHECKSUM.start as u64,
                    || {
                        format!(
                            "stored sha256 {} but the file hashes to {}",
                            hex(&stored),
                            hex(&actual)
                        )
                    },
                );
            }
            None => r.notes.push(
                "v1 container without a checksum: only the atom signatures can be checked".into(),
            ),
        }
        if h.signature_len > 0 {
            r.notes.push(format!(
                "v1 OpenPGP signature ({} bytes) present; signatures are not checked",
                h.signature_len
            ));
        }
        r.notes
            .push("v1 stores no per-file hashes: volume contents cannot be checked".into());
    }

    fn verify_layout(&self, r: &mut Report) {
        let sections = self.sections();
        let file_len = self.as_bytes().len() as u64;
        let mut expected = 8u64;
        let mut order_ok = true;
        for s in &sections {
            if s.offset != expected {
                order_ok = false;
                r.fail(
                    format!("{} section", s.kind.label()),
                    s.offset,
                    format!("expected to start at offset {expected} (sections must follow each other without gaps)"),
                );
            }
            expected = s.offset + s.total_len();
        }
        if expected != file_len {
            order_ok = false;
            r.fail(
                "file",
                expected,
                format!(
                    "{} bytes after the last section",
                    file_len.saturating_sub(expected)
                ),
            );
        }
        let kinds: Vec<&SectionKind> = sections.iter().map(|s| &s.kind).collect();
        let in_order = matches!(kinds.as_slice(), [SectionKind::Index, SectionKind::Manifest, SectionKind::Atoms, rest @ ..]
            if rest.iter().all(|k| matches!(k, SectionKind::Volume(_))));
        r.check(
            in_order,
            || "sections".into(),
            8,
            || "sections are not in the order index, manifest, atoms, volumes".into(),
        );
        if order_ok {
            r.passed += 1;
        }
        for s in &sections {
            let data = self.slice(s);
            if s.kind == SectionKind::Index {
                // The index is fully determined by the sections it describes: re-derive it
                // and compare bytes, so no change to it (even an ignorable one) goes unseen.
                let others: Vec<&crate::Section> = sections
                    .iter()
                    .filter(|x| x.kind != SectionKind::Index)
                    .collect();
                let spans: Vec<IndexSpan> = others
                    .iter()
                    .map(|x| IndexSpan {
                        start: x.offset,
                        len: x.total_len(),
                        checksum: x.index_checksum,
                    })
                    .collect();
                let names: Vec<&str> = self.volume_names().collect();
                let canonical = cbor(&index_value(&spans, &names));
                let stored = &data[..self.index_cbor_len() as usize];
                let first_diff = canonical
                    .iter()
                    .zip(stored)
                    .position(|(a, b)| a != b)
                    .unwrap_or(canonical.len().min(stored.len()));
                r.check(canonical == stored, || "index".into(), s.data_offset + first_diff as u64, || {
                    "the index is not the canonical encoding of the sections it describes (unknown keys, extra entries or reordering)".into()
                });
                let padding = &data[self.index_cbor_len() as usize..];
                let nonzero = padding.iter().position(|&b| b != 0);
                r.check(
                    nonzero.is_none(),
                    || "index padding".into(),
                    s.data_offset + self.index_cbor_len() + nonzero.unwrap_or(0) as u64,
                    || "index padding must be zero bytes".into(),
                );
                continue;
            }
            let actual = sha256(&data);
            let label = || format!("{} section", s.kind.label());
            if let Some(ck) = s.index_checksum {
                r.check(ck == actual, label, s.offset, || {
                    format!(
                        "index checksum {} does not match the data's sha256 {}",
                        hex(&ck),
                        hex(&actual)
                    )
                });
            }
            if let Some(h) = s.inline_hash {
                r.check(h == actual, label, s.offset + 1, || {
                    format!(
                        "inline sha256 {} does not match the data's sha256 {}",
                        hex(&h),
                        hex(&actual)
                    )
                });
            }
        }
    }

    fn verify_atoms(&self, r: &mut Report) {
        let manifest_atoms: Vec<(String, String)> = self
            .manifest()
            .atoms()
            .map(|(n, a)| (n.clone(), a.signature.clone()))
            .collect();
        for (name, signature) in &manifest_atoms {
            let label = || format!("atom {name:?}");
            let node = match self.atom_node(name) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    r.fail(
                        label(),
                        0,
                        "listed in the manifest but missing from the atoms section",
                    );
                    continue;
                }
                Err(e) => {
                    r.fail(label(), 0, e.to_string());
                    continue;
                }
            };
            let offset = self.atoms_volume().content_offset(&node).unwrap_or(0);
            let Some(expected) = parse_atom_signature(signature) else {
                r.fail(
                    label(),
                    offset,
                    format!("manifest signature {signature:?} is not \"sha256:<base64>\""),
                );
                continue;
            };
            let data = self.atoms_volume().file_content(&node).unwrap_or_default();
            let actual = sha256(&data);
            r.check(actual == expected, label, offset, || {
                format!(
                    "content sha256 {} does not match the manifest signature {signature}",
                    hex(&actual)
                )
            });
        }
        if let Ok(names) = self.atom_names() {
            for n in names {
                if !manifest_atoms
                    .iter()
                    .any(|(m, _)| *m == n || n.ends_with(&format!(":{m}")))
                {
                    r.notes.push(format!(
                        "atom {n:?} is stored but not listed in the manifest"
                    ));
                }
            }
        }
    }

    fn verify_fs(&self, r: &mut Report) {
        for (i, m) in self.manifest().fs().iter().enumerate() {
            if m.from.is_some() {
                r.notes.push(format!(
                    "package.fs[{i}] mounts a dependency's volume; dependencies are not checked"
                ));
                continue;
            }
            let label = || format!("package.fs[{i}] (mount {:?})", m.mount_path);
            match self.volume(&m.volume_name) {
                Ok(v) => {
                    let ok = match (self.version(), m.source_path()) {
                        (Version::V3, _) | (_, None) => true,
                        (_, Some(p)) => v.lookup(p).ok().flatten().is_some_and(|n| n.is_dir()),
                    };
                    r.check(ok, label, 0, || {
                        format!(
                            "directory {:?} does not exist in volume {:?}",
                            m.source_path().unwrap_or("/"),
                            m.volume_name
                        )
                    });
                }
                Err(_) => r.fail(
                    label(),
                    0,
                    format!("volume {:?} does not exist", m.volume_name),
                ),
            }
        }
    }
}

fn verify_volume(v: &Volume, label: &str, r: &mut Report) {
    let v3 = v.version() == Version::V3;
    let check_dir = |node: &crate::volume::Node, path: &str, r: &mut Report| -> crate::Result<()> {
        let entries = v.entries(node)?.unwrap_or_default();
        if v3 {
            let mut hasher = Sha256::new();
            for e in &entries {
                let recorded = e.recorded_hash.unwrap_or_default();
                hasher.update(recorded);
                let actual = e.node.stored_hash().unwrap_or_default();
                r.check(
                    recorded == actual,
                    || format!("{label}: {}/{}", path.trim_end_matches('/'), e.name),
                    v.header_offset() + node.id(),
                    || {
                        format!(
                            "the directory records hash {} but the entry's hash is {}",
                            hex(&recorded),
                            hex(&actual)
                        )
                    },
                );
            }
            let computed: [u8; 32] = hasher.finalize().into();
            let stored = node.stored_hash().unwrap_or_default();
            r.check(
                computed == stored,
                || format!("{label}: {}", if path.is_empty() { "/" } else { path }),
                v.header_offset() + node.id(),
                || {
                    format!(
                        "directory hash {} does not match its entries' hash {}",
                        hex(&stored),
                        hex(&computed)
                    )
                },
            );
        }
        Ok(())
    };
    let result = (|| -> crate::Result<()> {
        let root = v.root()?;
        check_dir(&root, "", r)?;
        v.walk(|path, e| {
            let entry = || format!("{label}: {path}");
            match e.node.kind() {
                EntryKind::Dir => check_dir(&e.node, path, r)?,
                EntryKind::File => {
                    if let (Some(stored), Some(data)) =
                        (e.node.stored_hash(), v.file_content(&e.node))
                    {
                        let actual = sha256(&data);
                        r.check(
                            actual == stored,
                            entry,
                            v.content_offset(&e.node).unwrap_or(0),
                            || {
                                format!(
                                    "content sha256 {} does not match the stored {}",
                                    hex(&actual),
                                    hex(&stored)
                                )
                            },
                        );
                    }
                }
                EntryKind::Symlink => {
                    if let (Some(stored), Some(target)) =
                        (e.node.stored_hash(), e.node.symlink_target())
                    {
                        let actual = sha256(target.as_bytes());
                        r.check(
                            actual == stored,
                            entry,
                            v.header_offset() + e.node.id(),
                            || {
                                format!(
                                    "target sha256 {} does not match the stored {}",
                                    hex(&actual),
                                    hex(&stored)
                                )
                            },
                        );
                    }
                }
            }
            Ok(())
        })
    })();
    if let Err(e) = result {
        r.fail(label, v.header_offset(), e.to_string());
    }
}
