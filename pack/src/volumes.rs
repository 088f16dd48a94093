//! Volumes from disk, as `wasmer-package` 0.704.2 (`FsVolume`) and `webc` 12.0.1
//! (`Directory::from_path_with_walker`) build them.
//!
//! * One volume per `[fs]` host directory, named by its sanitized path. Its root holds the
//!   directory's contents; the root record itself gets modification time 0 (Wasmer copies
//!   the children into a fresh default directory). Sub-directories, files and symlinks keep
//!   their real modification times (seconds; directories through `stat`, symlinks through
//!   `lstat`). Symlinks are stored, never followed. The walk uses the `ignore` crate
//!   configured as `wasmer_ignore_walker()`: `.wasmerignore` files (in the directory, below
//!   it and in its parents) apply, and if no ancestor has one, `.git` is skipped.
//! * The `metadata` volume holds readme, license and bindings files at their paths relative
//!   to the package directory; intermediate directories (and the root) get time 0. Missing
//!   files, and anything that is neither a file nor a symlink, are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::Metadata;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use webc_container::write::{Directory, Entry};

use crate::error::{Error, Result};

/// Seconds since the epoch of a file's modification time.
fn mtime(path: &Path, meta: &Metadata) -> Result<u64> {
    let modified = meta.modified().map_err(|e| Error::io(path, e))?;
    modified
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Error::Timestamp {
            path: path.to_path_buf(),
        })
}

/// A name as stored in a directory entry.
fn segment(name: &std::ffi::OsStr, full: &Path) -> Result<String> {
    let s = name.to_str().ok_or_else(|| Error::NonUtf8Path {
        path: full.to_path_buf(),
    })?;
    if s.is_empty() || s == "." || s == ".." || s.contains('/') {
        return Err(Error::UnsupportedPath {
            path: full.to_path_buf(),
            reason: format!("{s:?} cannot be a name inside a volume"),
        });
    }
    // Wasmer stores such names, but its reader cannot look them up and our writer refuses them.
    if s.contains([':', '\\', '\0']) {
        return Err(Error::UnsupportedPath {
            path: full.to_path_buf(),
            reason: format!(
                "{s:?}: names containing ':' or '\\' cannot be stored in a webc volume"
            ),
        });
    }
    Ok(s.to_owned())
}

fn file_entry(path: &Path, progress: &mut dyn crate::Progress) -> Result<Entry> {
    let meta = path.metadata().map_err(|e| Error::io(path, e))?;
    let modified = mtime(path, &meta)?;
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    progress.read_file(path, data.len() as u64);
    Ok(Entry::File {
        data: Bytes::from(data),
        modified,
    })
}

/// A symlink entry, its target checked the way `webc`'s writer checks it for a link at
/// `link` (segments inside `volume`).
fn symlink_entry(path: &Path, link: &[String], volume: &str) -> Result<Entry> {
    let meta = path.symlink_metadata().map_err(|e| Error::io(path, e))?;
    let target = std::fs::read_link(path).map_err(|e| Error::io(path, e))?;
    let target = target
        .into_os_string()
        .into_string()
        .map_err(|_| Error::NonUtf8Path {
            path: path.to_path_buf(),
        })?;
    if !target_stays_inside(link, &target) {
        return Err(Error::SymlinkEscapes {
            path: path.to_path_buf(),
            target,
            volume: volume.to_owned(),
        });
    }
    Ok(Entry::Symlink {
        target,
        modified: mtime(path, &meta)?,
    })
}

/// `webc::volume::resolve_relative_symlink_target(..).is_some()`.
fn target_stays_inside(link: &[String], target: &str) -> bool {
    if target.is_empty() || target.starts_with(['/', '\\']) || Path::new(target).is_absolute() {
        return false;
    }
    let mut depth = link.len().saturating_sub(1);
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            s if s.contains(['\\', ':']) => return false,
            _ => depth += 1,
        }
    }
    true
}

fn dir_entry(path: &Path) -> Result<Directory> {
    let meta = path.metadata().map_err(|e| Error::io(path, e))?;
    Ok(Directory {
        modified: mtime(path, &meta)?,
        entries: BTreeMap::new(),
    })
}

/// `wasmer_package::package::wasmer_ignore_walker()` for `root`.
fn walker(root: &Path) -> Result<ignore::Walk> {
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .follow_links(false)
        .parents(true)
        .add_custom_ignore_filename(".wasmerignore");
    let has_wasmerignore = root.ancestors().any(|p| p.join(".wasmerignore").is_file());
    if !has_wasmerignore {
        let mut overrides = ignore::overrides::OverrideBuilder::new(root);
        let walk_err = |e: ignore::Error| Error::Walk {
            path: root.to_path_buf(),
            message: e.to_string(),
        };
        overrides.add("!.git").map_err(walk_err)?;
        builder.overrides(overrides.build().map_err(walk_err)?);
    }
    Ok(builder.build())
}

/// The volume for one `[fs]` host directory (`base_dir.join(host)`), named `volume`.
pub(crate) fn fs_volume(
    base_dir: &Path,
    host: &Path,
    volume: &str,
    progress: &mut dyn crate::Progress,
) -> Result<Directory> {
    let path = base_dir.join(host);
    let meta = path.symlink_metadata().map_err(|e| Error::io(&path, e))?;
    let mut root = Directory::default();

    if meta.file_type().is_symlink() || meta.is_file() {
        // Wasmer stores a mapped file or symlink at the root, named by its relative path.
        let relative = path
            .strip_prefix(base_dir)
            .map_err(|_| Error::UnsupportedPath {
                path: path.clone(),
                reason: "a mapped file or symlink must be inside the package directory".into(),
            })?;
        let name = segment(relative.as_os_str(), &path)?;
        let entry = if meta.file_type().is_symlink() {
            symlink_entry(&path, std::slice::from_ref(&name), volume)?
        } else {
            file_entry(&path, progress)?
        };
        root.entries.insert(name, entry);
        return Ok(root);
    }

    for item in walker(&path)? {
        let item = item.map_err(|e| Error::Walk {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let full = item.path();
        let relative = full
            .strip_prefix(&path)
            .map_err(|_| Error::UnsupportedPath {
                path: full.to_path_buf(),
                reason: format!("not below {}", path.display()),
            })?;
        let names = relative
            .iter()
            .map(|s| segment(s, full))
            .collect::<Result<Vec<String>>>()?;
        let Some((last, parents)) = names.split_last() else {
            continue; // the walk root itself
        };

        let smeta = full.symlink_metadata().map_err(|e| Error::io(full, e))?;
        // The container's one nesting limit, checked as the tree is built (the writer
        // would refuse it later, after building and dropping a tree of any depth).
        if parents.len() + usize::from(smeta.is_dir()) > webc_container::MAX_DEPTH {
            return Err(Error::UnsupportedPath {
                path: full.to_path_buf(),
                reason: format!(
                    "directories nested more than {} levels deep",
                    webc_container::MAX_DEPTH
                ),
            });
        }
        let path_len: usize = names.iter().map(|n| n.len() + 1).sum();
        if path_len > webc_container::MAX_PATH_LEN {
            return Err(Error::UnsupportedPath {
                path: full.to_path_buf(),
                reason: format!(
                    "the path inside the volume is longer than {} bytes",
                    webc_container::MAX_PATH_LEN
                ),
            });
        }
        let leaf = if smeta.file_type().is_symlink() {
            Some(symlink_entry(full, &names, volume)?)
        } else if full.is_file() {
            Some(file_entry(full, progress)?)
        } else {
            None // a directory (or anything else that is not a file: Wasmer makes it one)
        };

        let mut dir_path = path.clone();
        let mut cursor = Some(&mut root);
        for name in parents {
            dir_path.push(name);
            let Some(dir) = cursor else { break };
            let next = match dir.entries.entry(name.clone()) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(Entry::Dir(dir_entry(&dir_path)?))
                }
            };
            // Like Wasmer, an entry below something that is not a directory is dropped.
            cursor = match next {
                Entry::Dir(d) => Some(d),
                _ => None,
            };
        }
        let Some(cursor) = cursor else { continue };
        match leaf {
            Some(entry) => {
                cursor.entries.insert(last.clone(), entry);
            }
            None => {
                if !cursor.entries.contains_key(last) {
                    cursor
                        .entries
                        .insert(last.clone(), Entry::Dir(dir_entry(full)?));
                }
            }
        }
    }
    Ok(root)
}

/// The `metadata` volume from the absolute paths of its files.
pub(crate) fn metadata_volume(
    base_dir: &Path,
    files: &BTreeSet<PathBuf>,
    progress: &mut dyn crate::Progress,
) -> Result<Directory> {
    let mut root = Directory::default();
    for file in files {
        let Ok(meta) = file.symlink_metadata() else {
            continue; // missing: Wasmer's lossy mode leaves it out
        };
        let is_symlink = meta.file_type().is_symlink();
        if !meta.is_file() && !is_symlink {
            continue;
        }
        let relative = file
            .strip_prefix(base_dir)
            .map_err(|_| Error::OutsideBaseDir {
                field: "metadata file".into(),
                path: file.clone(),
                base_dir: base_dir.to_path_buf(),
            })?;
        // `webc::ToPathSegments for Path` on "/" + relative: `.` skipped, `..` pops.
        let mut names: Vec<String> = Vec::new();
        for component in relative.components() {
            match component {
                std::path::Component::Normal(s) => names.push(segment(s, file)?),
                std::path::Component::ParentDir => {
                    names.pop();
                }
                _ => {}
            }
        }
        let Some((last, parents)) = names.split_last() else {
            continue;
        };
        let entry = if is_symlink {
            symlink_entry(file, &names, crate::convert::METADATA_VOLUME)?
        } else {
            file_entry(file, progress)?
        };
        let mut cursor = &mut root;
        for name in parents {
            let next = cursor
                .entries
                .entry(name.clone())
                .or_insert_with(|| Entry::Dir(Directory::default()));
            cursor = match next {
                Entry::Dir(d) => d,
                _ => {
                    return Err(Error::UnsupportedPath {
                        path: file.clone(),
                        reason: format!("{name:?} is both a file and a directory"),
                    });
                }
            };
        }
        cursor.entries.insert(last.clone(), entry);
    }
    Ok(root)
}
