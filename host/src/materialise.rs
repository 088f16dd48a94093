//! The `materialise` host service: package volumes and atoms written once, read-only, into
//! the cache, for runners whose programs need real paths (the POSIX runner bind-mounts
//! them; a TensorFlow loader opens a directory).
//!
//! Layout: `volumes/<key>/` holds a volume's tree, `atoms/<sha256>` an atom. A volume's
//! `<key>` is the SHA-256 of its bytes as the package stores them (header and data), so a
//! directory is only ever reused for identical content: nothing a package declares about
//! itself picks it. Which key a package file's volume has is remembered under that file's
//! identity (as atom verifications are), so a later run of the same file finds the
//! directory without reading the volume again.
//!
//! Writing: [`crate::extract`] (which refuses names and symlinks that would leave the
//! volume, and checks v2/v3 file hashes) into a staging directory `volumes/.tmp-*` in the
//! same file system, files synced, then everything made read-only and the tree renamed to
//! its key. Concurrent writers of one key each stage their own copy; the first rename wins
//! and the others discard theirs. A writer killed half-way leaves only a staging directory,
//! which no reader looks at and a later materialise removes once it is an hour old.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};
use webc_container::Container;

use crate::cache::{Cache, FileIdentity, io};
use crate::error::{Error, Result};
use crate::extract::{ExtractOptions, extract, volume_dir};

/// Staging directories older than this are a dead writer's and are removed.
const STALE: Duration = Duration::from_secs(3600);

/// The content key of volume `name`: SHA-256 over its length-prefixed header and its data.
pub fn volume_key(container: &Container, name: &str) -> Result<String> {
    let volume = container.volume(name).map_err(|e| Error::Materialise {
        what: format!("volume {name:?}"),
        reason: e.to_string(),
    })?;
    let mut h = Sha256::new();
    // The container version and the layout of what is written: the same bytes read as another
    // version (or written by another layout) are another tree.
    h.update(b"webc-host volume 1\0");
    h.update(format!("{:?}\0", container.version()).as_bytes());
    h.update((volume.header_bytes().len() as u64).to_le_bytes());
    h.update(volume.header_bytes());
    h.update(volume.data_bytes());
    Ok(hex::encode(h.finalize()))
}

/// Writes volume `name` of `container` into the cache (once) and returns its directory.
/// `file` is the identity of the package file, when it has one, under which the volume's
/// key is remembered.
pub fn volume(
    cache: &Cache,
    container: &Container,
    file: Option<&FileIdentity>,
    name: &str,
) -> Result<PathBuf> {
    let record = format!("volume:{name}");
    let remembered = file.and_then(|f| cache.remembered(f, &record));
    let key = match remembered.clone() {
        Some(k) if k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()) => k,
        _ => volume_key(container, name)?,
    };
    let root = cache.root().join("volumes");
    let target = root.join(&key);
    if !target.is_dir() {
        cache.private_dir(&root)?;
        remove_stale(&root);
        let staging = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&root)
            .map_err(io(&root))?;
        let options = ExtractOptions {
            atoms: false,
            volumes: Some(vec![name.to_owned()]),
            max_output: None,
        };
        extract(container, staging.path(), &options).map_err(|e| Error::Materialise {
            what: format!("volume {name:?}"),
            reason: e.to_string(),
        })?;
        let tree = staging.path().join("volumes").join(volume_dir(name)?);
        // Everything below the top directory is made read-only before the rename, the top
        // directory after it: moving a directory to another parent rewrites its `..`, which
        // needs write permission on it (root skips that check, other users do not).
        let placed = read_only_below(&tree).and_then(|()| match fs::rename(&tree, &target) {
            Ok(()) => set_mode(&target, 0o555),
            // Another run renamed the same content into place first: use theirs.
            Err(_) if target.is_dir() => Ok(()),
            Err(e) => Err(io(&target)(e)),
        });
        // The staging directory may hold a read-only tree (ours, when another run won or
        // the rename failed), which a plain removal cannot delete.
        remove_tree(staging.path());
        placed?;
    }
    if let Some(f) = file
        && remembered.as_deref() != Some(key.as_str())
    {
        // Only saves time: a failure to remember is not an error.
        let _ = cache.remember(f, &record, &key);
    }
    Ok(target)
}

/// Writes `atom` (whose SHA-256 is `sha256`, already verified) into the cache once and
/// returns its path.
pub fn atom(cache: &Cache, atom: &[u8], sha256: &str) -> Result<PathBuf> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Materialise {
            what: "the atom".into(),
            reason: format!("{sha256:?} is not a SHA-256 digest"),
        });
    }
    let root = cache.root().join("atoms");
    let target = root.join(sha256);
    if target.is_file() {
        return Ok(target);
    }
    cache.private_dir(&root)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(&root)
        .map_err(io(&root))?;
    std::io::Write::write_all(&mut tmp, atom).map_err(io(&target))?;
    tmp.as_file().sync_all().map_err(io(&target))?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o444)).map_err(io(&target))?;
    tmp.persist(&target).map_err(|e| io(&target)(e.error))?;
    Ok(target)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))
}

/// Makes what a staged directory holds read-only: directories and files `0555` (volume files
/// keep no mode of their own, and a native program may run a helper from its volume),
/// symlinks as they are. The directory itself keeps its mode.
fn read_only_below(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            read_only_below(&path)?;
            set_mode(&path, 0o555)?;
        } else if kind.is_file() {
            set_mode(&path, 0o555)?;
        }
    }
    Ok(())
}

/// Removes a tree that may hold read-only directories (best effort).
pub fn remove_tree(path: &Path) {
    fn writable(dir: &Path) {
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    writable(&e.path());
                }
            }
        }
    }
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        writable(path);
        let _ = fs::remove_dir_all(path);
    } else {
        let _ = fs::remove_file(path);
    }
}

/// Removes staging directories of writers that died more than [`STALE`] ago.
fn remove_stale(root: &Path) {
    let Ok(rd) = fs::read_dir(root) else { return };
    let now = SystemTime::now();
    for e in rd.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > STALE));
        if old && e.file_name().to_string_lossy().starts_with(".tmp-") {
            remove_tree(&e.path());
        }
    }
}
