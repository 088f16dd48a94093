//! The host's cache directory: precompiled artifacts per runner, and remembered atom
//! verifications.
//!
//! Location: `--cache-dir`, else `WEBC_HOST_CACHE`, else `$XDG_CACHE_HOME/webc-host`, else
//! `~/.cache/webc-host`. Layout: `artifacts/<runner>/…` (each runner's private directory,
//! handed to it as `JobSpec::cache_dir`), `verified/<key>` (atoms whose SHA-256 was checked),
//! `volumes/<sha256>/` and `atoms/<sha256>` (see [`crate::materialise`]).
//! The cache holds native code (precompiled modules), so it must be ours alone: directories
//! are created `0700`, and a cache directory owned by another user, or writable by group or
//! others, is refused rather than used. Every write is a temporary file + rename, so
//! concurrent runs and `kill -9` leave whole entries or none; readers treat anything
//! unreadable or malformed as a miss.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// An I/O error on `path` of the cache, as [`Error::Cache`].
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::Cache {
        path: path.to_owned(),
        error,
    }
}

/// One cache entry, for `webc-host cache list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CacheEntry {
    /// Path relative to the cache root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// The cache root.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The default location (see the module docs), given an explicit `--cache-dir`.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = explicit {
            return Ok(p.to_owned());
        }
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(p) = env("WEBC_HOST_CACHE") {
            return Ok(p);
        }
        if let Some(p) = env("XDG_CACHE_HOME") {
            return Ok(p.join("webc-host"));
        }
        env("HOME")
            .map(|h| h.join(".cache/webc-host"))
            .ok_or(Error::NoCacheLocation)
    }

    /// Opens (creating, `0700`) the cache at `root`, refusing it if it is not safely ours.
    pub fn open(root: &Path) -> Result<Cache> {
        make_private_dir(root)?;
        Ok(Cache {
            root: root.to_owned(),
        })
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A runner's private artifacts directory (created on demand).
    pub fn runner_dir(&self, runner: &str) -> Result<PathBuf> {
        let safe: String = runner
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let safe = if safe.is_empty() || safe.starts_with('.') {
            format!("_{safe}")
        } else {
            safe
        };
        let dir = self.root.join("artifacts").join(safe);
        make_private_dir(&self.root.join("artifacts"))?;
        make_private_dir(&dir)?;
        Ok(dir)
    }

    fn verified_path(&self, key: &str) -> PathBuf {
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        self.root.join("verified").join(digest)
    }

    /// Was this atom of this exact package file verified before? `file` identifies the
    /// version of the package file that is mapped (see [`FileIdentity`]), so any change to
    /// the file since the record was written is a miss.
    pub fn is_verified(&self, file: &FileIdentity, atom: &str, sha256: &str) -> bool {
        fs::read_to_string(self.verified_path(&file.key(atom))).is_ok_and(|s| s == sha256)
    }

    /// Remembers that the atom was verified.
    pub fn mark_verified(&self, file: &FileIdentity, atom: &str, sha256: &str) -> Result<()> {
        make_private_dir(&self.root.join("verified"))?;
        write_atomic(&self.verified_path(&file.key(atom)), sha256.as_bytes())
    }

    /// The value remembered for `record` of this exact package file (see
    /// [`Cache::is_verified`] for the keying), if any.
    pub fn remembered(&self, file: &FileIdentity, record: &str) -> Option<String> {
        fs::read_to_string(self.verified_path(&file.key(record))).ok()
    }

    /// Remembers `value` for `record` of this package file.
    pub fn remember(&self, file: &FileIdentity, record: &str, value: &str) -> Result<()> {
        make_private_dir(&self.root.join("verified"))?;
        write_atomic(&self.verified_path(&file.key(record)), value.as_bytes())
    }

    /// Creates (`0700`) and checks a directory of the cache.
    pub fn private_dir(&self, dir: &Path) -> Result<()> {
        make_private_dir(dir)
    }

    /// Every file in the cache.
    pub fn list(&self) -> Result<Vec<CacheEntry>> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let rd = match fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&dir)(e)),
            };
            for entry in rd {
                let entry = entry.map_err(io(&dir))?;
                let meta = entry.metadata().map_err(io(&entry.path()))?;
                if meta.is_dir() {
                    stack.push(entry.path());
                } else {
                    let rel = entry
                        .path()
                        .strip_prefix(&self.root)
                        .unwrap_or(&entry.path())
                        .display()
                        .to_string();
                    out.push(CacheEntry {
                        path: rel,
                        size: meta.len(),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Deletes everything in the cache; returns the bytes freed.
    pub fn clean(&self) -> Result<u64> {
        let freed = self.list()?.iter().map(|e| e.size).sum();
        for sub in ["artifacts", "verified", "volumes", "atoms"] {
            let p = self.root.join(sub);
            // Materialised volumes are read-only trees: make them writable first.
            if sub == "volumes" {
                crate::materialise::remove_tree(&p);
            }
            match fs::remove_dir_all(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&p)(e)),
            }
        }
        Ok(freed)
    }
}

/// A file changed less than this long before it was looked at may change again without its
/// `ctime` moving (timestamps tick at most every 10 ms; the rest is margin).
pub const RACY: Duration = Duration::from_millis(100);

/// What identifies one version of a file for the cache: device, inode, size and the
/// inode **change** time (seconds and nanoseconds).
///
/// The change time is the one stamp an unprivileged writer cannot choose: every write,
/// `chmod`, `chown`, rename or `utimes` sets it to the current time, and only the kernel
/// sets it. The modification time, by contrast, is restored by `touch -d` or `utimes`, so
/// a key built on it lets a tampered file pass for the verified one (issue 9's exploit:
/// flip a byte of the atom in place, restore the mtime, and the next run skipped the hash).
///
/// One race remains, as in git's index: inode times move with the kernel's clock tick (a
/// few ms), so a file changed again within the tick of the change we saw keeps its `ctime`.
/// Callers therefore remember nothing under an identity that [`FileIdentity::is_racy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    ctime: i64,
    ctime_nsec: i64,
}

impl FileIdentity {
    /// The identity of the file behind `meta` (take it from the open file that is read, not
    /// from its path, so a rename in between cannot substitute another file).
    pub fn of(meta: &fs::Metadata) -> FileIdentity {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            ctime: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
        }
    }

    /// Was the file changed so shortly before `observed` (a time taken before it was
    /// looked at) that it could change again, within the same clock tick, without changing
    /// this identity? A `ctime` in the future (a clock set back) counts as recent.
    pub fn is_racy(&self, observed: SystemTime) -> bool {
        let (Ok(secs), Ok(nanos)) = (u64::try_from(self.ctime), u32::try_from(self.ctime_nsec))
        else {
            return false; // before 1970: long ago
        };
        let Some(ctime) = SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos)) else {
            return true;
        };
        observed
            .duration_since(ctime)
            .map_or(true, |age| age < RACY)
    }

    fn key(&self, atom: &str) -> String {
        // `c` marks the change-time key (records keyed on the modification time, written
        // by earlier versions, can never match it).
        format!(
            "c:{}:{}:{}:{}.{}:{atom}",
            self.dev, self.ino, self.size, self.ctime, self.ctime_nsec
        )
    }
}

/// Creates `dir` (and parents) with mode 0700 if missing, then checks it is owned by us and
/// not writable by group or others.
fn make_private_dir(dir: &Path) -> Result<()> {
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(io(dir)(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "exists and is not a directory",
            )));
        }
        Err(e) => return Err(io(dir)(e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(io(dir))?;
    let unsafe_dir = |reason: String| Error::UnsafeCache {
        path: dir.to_owned(),
        reason,
    };
    if !meta.is_dir() {
        return Err(unsafe_dir("not a directory (a symlink?)".into()));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(unsafe_dir(format!(
            "owned by uid {}, not by us (uid {me})",
            meta.uid()
        )));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(unsafe_dir(format!(
            "writable by group or others (mode {:o}); run `chmod go-w {}`",
            meta.permissions().mode() & 0o777,
            dir.display()
        )));
    }
    Ok(())
}

/// Writes a cache record whole: temporary file in the same directory, then rename, so a
/// reader sees the old record or the new one, never a part. No fsync: after a power loss a
/// record may be lost or empty, which only costs a miss — every reader treats a record that
/// does not parse or does not match (a verification record must equal the expected digest)
/// as absent — and the fsync was ~0.7 ms of every cold run.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io(path))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirs_and_refusals() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("cache");
        let cache = Cache::open(&root).unwrap();
        assert_eq!(
            fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let d = cache.runner_dir("wasi/../x").unwrap();
        assert!(d.starts_with(root.join("artifacts")), "{}", d.display());
        assert_eq!(d.file_name().unwrap(), "wasi_.._x");
        // Group/world-writable cache: refused.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(Cache::open(&root), Err(Error::UnsafeCache { .. })));
        fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
        // A symlink where the cache should be: refused.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        assert!(matches!(
            Cache::open(&link.join("")),
            Ok(_) | Err(Error::UnsafeCache { .. })
        ));
        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(Cache::open(&file).is_err());
    }

    #[test]
    fn recent_changes_are_racy() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("p.so");
        let before = SystemTime::now();
        fs::write(&file, b"new").unwrap();
        let id = FileIdentity::of(&fs::metadata(&file).unwrap());
        assert!(id.is_racy(SystemTime::now()));
        assert!(id.is_racy(before), "a ctime after the observation");
        assert!(!id.is_racy(SystemTime::now() + RACY + Duration::from_millis(50)));
        let old = FileIdentity { ctime: 1, ..id };
        assert!(!old.is_racy(SystemTime::now()));
    }

    #[test]
    fn verified_atoms_are_keyed_by_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(&tmp.path().join("c")).unwrap();
        let path = tmp.path().join("p.webc");
        fs::write(&path, b"one").unwrap();
        let id = |p: &Path| FileIdentity::of(&fs::metadata(p).unwrap());
        let pkg = id(&path);
        assert!(!cache.is_verified(&pkg, "a", "h1"));
        cache.mark_verified(&pkg, "a", "h1").unwrap();
        assert!(cache.is_verified(&pkg, "a", "h1"));
        assert!(!cache.is_verified(&pkg, "b", "h1"));
        assert!(!cache.is_verified(&pkg, "a", "h2"));
        // Rewriting the file (new size/mtime/inode) is a miss.
        fs::write(&path, b"three").unwrap();
        assert!(!cache.is_verified(&id(&path), "a", "h1"));
        // Rewriting it in place with the same size and restoring its modification time
        // is a miss too: the change time moved.
        cache.mark_verified(&id(&path), "a", "h1").unwrap();
        assert!(cache.is_verified(&id(&path), "a", "h1"));
        let mtime = filetime::FileTime::from_last_modification_time(&fs::metadata(&path).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&path, b"thrEe").unwrap();
        filetime::set_file_mtime(&path, mtime).unwrap();
        let after = fs::metadata(&path).unwrap();
        assert_eq!(
            filetime::FileTime::from_last_modification_time(&after),
            mtime
        );
        assert!(!cache.is_verified(&id(&path), "a", "h1"));
        // A garbled entry is a miss, not a crash.
        cache.mark_verified(&id(&path), "a", "h1").unwrap();
        for e in cache.list().unwrap() {
            fs::write(cache.root().join(&e.path), b"\xff\xfe garbage").unwrap();
        }
        assert!(!cache.is_verified(&id(&path), "a", "h1"));
        assert!(cache.clean().unwrap() > 0);
        assert!(cache.list().unwrap().is_empty());
    }
}
