//! The plugin metadata cache: each plugin's [`RunnerInfo`] (or the reason it was
//! quarantined), keyed by the file's canonical path and identity (device, inode, size and
//! the inode change time `ctime`: [`crate::cache::FileIdentity`]), so `run` can choose a
//! runner without dlopening every plugin.
//!
//! `ctime` is what makes the key trustworthy: the file's owner can set size and mtime (and
//! put back an old mtime after a change, `touch -d`), but not `ctime` — the kernel sets it
//! to the current time on every write, `chmod`, `chown`, rename or `utime`, and only a
//! privileged process can change the clock. So a record outlives no change to the file,
//! its contents or its permissions (a quarantine recorded for an unreadable plugin does not
//! survive `chmod 644`).
//!
//! One race remains, as in git's index: inode times move with the kernel's clock tick (a
//! few ms), so a file changed again within the tick of the change we saw keeps its `ctime`.
//! A description is therefore not remembered while the file's `ctime` is less than
//! [`crate::cache::RACY`] old ([`FileKey::is_racy`]); it is read again next time and
//! remembered then.
//!
//! The cache is one JSON file whose location the caller chooses (typically
//! `<cache dir>/plugins.json`). It is written whole, through a temporary file and a rename,
//! only when something changed. A cache written by another host or interface version, or
//! one that cannot be read or parsed, is ignored and rebuilt: it only ever saves time.

use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use webc_runner_api::RunnerInfo;
use webc_runner_api::abi::INTERFACE_VERSION;

/// Format of the file; bump when the layout changes.
const FORMAT: u32 = 2;
/// Larger files are not ours (or are corrupt): ignored.
const MAX_BYTES: u64 = 16 << 20;
/// Entries kept at most (the oldest-named are dropped first; they are re-read on demand).
const MAX_ENTRIES: usize = 4096;

/// What identifies one version of a plugin file: the cache's [`FileIdentity`] (device,
/// inode, size, `ctime`), the same key as the verified-atom records.
pub(crate) type FileKey = crate::cache::FileIdentity;

/// What was learnt from loading a plugin once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Described {
    /// It loaded and described itself.
    Info(RunnerInfo),
    /// It could not be used, for this one-line reason.
    Quarantined(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    key: FileKey,
    #[serde(flatten)]
    described: Described,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    host: String,
    interface: String,
    /// Canonical path (UTF-8 only; other paths are simply not cached) → record.
    plugins: BTreeMap<String, Record>,
}

/// The cache in memory.
#[derive(Debug, Default)]
pub(crate) struct MetadataCache {
    path: Option<PathBuf>,
    plugins: BTreeMap<String, Record>,
    dirty: bool,
}

impl MetadataCache {
    /// Reads the cache at `path` (`None`: no cache, nothing is remembered). Anything wrong
    /// with the file makes an empty cache that will be rewritten.
    pub(crate) fn open(path: Option<&Path>) -> MetadataCache {
        let Some(path) = path else {
            return MetadataCache::default();
        };
        let mut cache = MetadataCache {
            path: Some(path.to_owned()),
            ..MetadataCache::default()
        };
        match read(path) {
            Ok(Some(file)) => cache.plugins = file.plugins,
            Ok(None) => cache.dirty = true,
            Err(reason) => {
                tracing::debug!(cache = %path.display(), "ignoring the plugin metadata cache: {reason}");
                cache.dirty = true;
            }
        }
        cache
    }

    /// The remembered description of `canonical` if the file is still the same.
    pub(crate) fn lookup(&self, canonical: &Path, key: &FileKey) -> Option<&Described> {
        let record = self.plugins.get(canonical.to_str()?)?;
        (record.key == *key).then_some(&record.described)
    }

    /// Remembers a description.
    pub(crate) fn store(&mut self, canonical: &Path, key: FileKey, described: Described) {
        let Some(name) = canonical.to_str() else {
            return;
        };
        let record = Record { key, described };
        if self
            .plugins
            .get(name)
            .is_none_or(|old| old.key != record.key || old.described != record.described)
        {
            self.plugins.insert(name.to_owned(), record);
            self.dirty = true;
        }
    }

    /// Forgets what is known about `canonical`.
    pub(crate) fn forget(&mut self, canonical: &Path) {
        if let Some(name) = canonical.to_str()
            && self.plugins.remove(name).is_some()
        {
            self.dirty = true;
        }
    }

    /// Writes the cache if it changed. Entries of plugins that were not seen in this
    /// discovery are kept while their file is unchanged (another invocation may search other
    /// directories) and dropped otherwise. Failures are logged, never fatal.
    pub(crate) fn save(&mut self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let before = self.plugins.len();
        self.plugins.retain(|name, record| {
            std::fs::metadata(name).is_ok_and(|m| FileKey::of(&m) == record.key)
        });
        while self.plugins.len() > MAX_ENTRIES {
            self.plugins.pop_first();
        }
        if !self.dirty && self.plugins.len() == before {
            return;
        }
        let file = CacheFile {
            format: FORMAT,
            host: env!("CARGO_PKG_VERSION").to_owned(),
            interface: INTERFACE_VERSION.to_owned(),
            plugins: std::mem::take(&mut self.plugins),
        };
        let result = serde_json::to_vec_pretty(&file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(parent)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                crate::cache::write_atomic(&path, &bytes).map_err(|e| e.to_string())
            });
        self.plugins = file.plugins;
        match result {
            Ok(()) => self.dirty = false,
            Err(e) => tracing::warn!(
                cache = %path.display(),
                "cannot write the plugin metadata cache: {e}"
            ),
        }
    }
}

/// `Ok(None)`: no cache yet.
fn read(path: &Path) -> Result<Option<CacheFile>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_BYTES {
        return Err(format!(
            "{} bytes is more than a cache ever holds",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let file: CacheFile = serde_json::from_slice(&bytes).map_err(|e| format!("corrupt: {e}"))?;
    if file.format != FORMAT
        || file.host != env!("CARGO_PKG_VERSION")
        || file.interface != INTERFACE_VERSION
    {
        return Err(format!(
            "written by webc-host {} (interface {}, format {})",
            file.host, file.interface, file.format
        ));
    }
    Ok(Some(file))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt as _;

    use super::*;

    #[test]
    fn round_trip_and_invalidation() {
        let tmp = tempfile::tempdir().unwrap();
        let cache_path = tmp.path().join("sub/plugins.json");
        let plugin = tmp.path().join("p.so");
        std::fs::write(&plugin, b"one").unwrap();
        let key = FileKey::of(&std::fs::metadata(&plugin).unwrap());

        let mut cache = MetadataCache::open(Some(&cache_path));
        assert!(cache.lookup(&plugin, &key).is_none());
        cache.store(&plugin, key, Described::Quarantined("nope".into()));
        cache.save();
        assert!(cache_path.exists());

        let cache = MetadataCache::open(Some(&cache_path));
        assert_eq!(
            cache.lookup(&plugin, &key),
            Some(&Described::Quarantined("nope".into()))
        );
        // A different file identity is a miss.
        std::fs::write(&plugin, b"three").unwrap();
        let key2 = FileKey::of(&std::fs::metadata(&plugin).unwrap());
        assert_ne!(key, key2);
        assert!(cache.lookup(&plugin, &key2).is_none());

        // Saving drops the stale entry.
        let mut cache = MetadataCache::open(Some(&cache_path));
        cache.dirty = true;
        cache.save();
        let cache = MetadataCache::open(Some(&cache_path));
        assert!(cache.plugins.is_empty());
    }

    /// The owner can put back size and mtime after a change; `ctime` still tells.
    #[test]
    fn a_change_with_the_old_mtime_restored_is_a_miss() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let cache_path = tmp.path().join("plugins.json");
        let plugin = tmp.path().join("p.so");
        std::fs::write(&plugin, b"junk").unwrap();
        let meta = std::fs::metadata(&plugin).unwrap();
        let mtime = filetime::FileTime::from_last_modification_time(&meta);
        let key = FileKey::of(&meta);
        let mut cache = MetadataCache::open(Some(&cache_path));
        cache.store(&plugin, key, Described::Quarantined("unreadable".into()));
        cache.save();

        // Inode timestamps tick with the kernel's clock (a few ms): let one tick pass.
        let tick = || std::thread::sleep(std::time::Duration::from_millis(30));
        let cache = MetadataCache::open(Some(&cache_path));
        let changes: [(&str, &dyn Fn()); 2] = [
            ("chmod", &|| {
                let mode = std::fs::Permissions::from_mode(0o600);
                std::fs::set_permissions(&plugin, mode).unwrap();
            }),
            ("same-size rewrite", &|| {
                std::fs::write(&plugin, b"JUNK").unwrap();
                filetime::set_file_mtime(&plugin, mtime).unwrap();
            }),
        ];
        for (what, change) in changes {
            tick();
            change();
            let now = std::fs::metadata(&plugin).unwrap();
            assert_eq!(
                (now.len(), now.mtime(), now.mtime_nsec(), now.ino()),
                (meta.len(), meta.mtime(), meta.mtime_nsec(), meta.ino()),
                "{what}: what the owner controls is unchanged"
            );
            let now = FileKey::of(&now);
            assert_ne!(now, key, "{what}");
            assert!(cache.lookup(&plugin, &now).is_none(), "{what}: a miss");
        }
    }

    #[test]
    fn garbage_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let cache_path = tmp.path().join("plugins.json");
        for garbage in [
            &b"\xff\xfe\x00garbage"[..],
            b"{\"format\": 1}",
            b"[]",
            b"{\"format\":1,\"host\":\"0.0.0-other\",\"interface\":\"0.1.0\",\"plugins\":{}}",
            b"",
        ] {
            std::fs::write(&cache_path, garbage).unwrap();
            let cache = MetadataCache::open(Some(&cache_path));
            assert!(cache.plugins.is_empty());
            assert!(cache.dirty, "a bad cache is rewritten");
        }
        std::fs::create_dir(tmp.path().join("dir.json")).unwrap();
        let mut cache = MetadataCache::open(Some(&tmp.path().join("dir.json")));
        cache.store(
            &cache_path,
            FileKey::of(&std::fs::metadata(&cache_path).unwrap()),
            Described::Quarantined("x".into()),
        );
        cache.save(); // cannot write over a directory: logged, not fatal
    }
}
