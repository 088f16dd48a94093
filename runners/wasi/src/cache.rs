//! The precompiled-module cache and the process-wide compile counters.
//!
//! Layout: `<cache dir>/wasmtime-48.0.8-<16 hex digits of the engine fingerprint>/<atom
//! sha256 hex>`. An artifact is this crate's header followed by the bytes of
//! `Module::serialize`:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `WEBCWASI` |
//! | 4 | format version (LE u32, currently 2) |
//! | 32 | SHA-256 of the atom |
//! | 32 | engine fingerprint (SHA-256 of wasmtime's precompile-compatibility hash) |
//! | 2 + n | wasmtime version (LE u16 length, UTF-8) |
//! | 2 + n | runner version (LE u16 length, UTF-8) |
//! | 8 | payload length (LE u64) |
//! | 32 | BLAKE3 hash of the payload |
//! | … | payload |
//!
//! `Module::deserialize` trusts its input (bad bytes are undefined behaviour), so the header,
//! the whole key and the payload's hash are checked before it is called. The payload hash
//! is BLAKE3 rather than SHA-256: as strong, and about five times faster here (0.2 ms
//! instead of 1 ms for a 1.4 MB artifact), which matters because it is paid on every warm
//! start; anything wrong is
//! logged at debug level as `precompiled artifact rejected: <why>`, the file is deleted and
//! the module is compiled and written again. Writes go to a temporary file in the same
//! directory and are renamed into place, so readers see a whole file or none.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{Engine, Module};

/// The wasmtime this crate is built against (pinned `=48.0.8` in Cargo.toml).
pub(crate) const WASMTIME_VERSION: &str = "48.0.8";
const MAGIC: &[u8; 8] = b"WEBCWASI";
const FORMAT: u32 = 2;

/// Counters of what the WASI runner did in this process, for tests and embedders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Modules compiled from wasm bytes.
    pub compiles: u64,
    /// Modules loaded from a precompiled artifact.
    pub cache_hits: u64,
    /// Artifacts found but rejected (corrupt, truncated, foreign, stale) and deleted.
    pub rejected: u64,
    /// Artifacts written.
    pub stored: u64,
}

static COMPILES: AtomicU64 = AtomicU64::new(0);
static CACHE_HITS: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);
static STORED: AtomicU64 = AtomicU64::new(0);

/// The process-wide counters (they only grow; compare two readings).
pub fn stats() -> Stats {
    Stats {
        compiles: COMPILES.load(Ordering::Relaxed),
        cache_hits: CACHE_HITS.load(Ordering::Relaxed),
        rejected: REJECTED.load(Ordering::Relaxed),
        stored: STORED.load(Ordering::Relaxed),
    }
}

pub(crate) fn count_compile() {
    COMPILES.fetch_add(1, Ordering::Relaxed);
}

/// What an artifact must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    pub(crate) atom_sha256: [u8; 32],
    pub(crate) fingerprint: [u8; 32],
}

impl Key {
    /// Where this artifact lives under `cache_dir`.
    pub(crate) fn path(&self, cache_dir: &Path) -> PathBuf {
        cache_dir
            .join(format!(
                "wasmtime-{WASMTIME_VERSION}-{}",
                hex::encode(&self.fingerprint[..8])
            ))
            .join(hex::encode(self.atom_sha256))
    }

    fn header(&self, payload: &[u8]) -> Vec<u8> {
        let mut h = Vec::with_capacity(160);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&FORMAT.to_le_bytes());
        h.extend_from_slice(&self.atom_sha256);
        h.extend_from_slice(&self.fingerprint);
        for s in [WASMTIME_VERSION, env!("CARGO_PKG_VERSION")] {
            let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
            h.extend_from_slice(&len.to_le_bytes());
            h.extend_from_slice(&s.as_bytes()[..usize::from(len)]);
        }
        h.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        h.extend_from_slice(blake3::hash(payload).as_bytes());
        h
    }
}

/// A cursor over the header that fails with a reason.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err(format!("truncated ({what})"));
        }
        let (a, b) = self.bytes.split_at(n);
        self.bytes = b;
        Ok(a)
    }

    fn text(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = self.take(2, what)?;
        let len = u16::from_le_bytes([len[0], len[1]]);
        self.take(usize::from(len), what)
    }
}

/// Checks an artifact against `key`; returns the payload (the serialized module).
fn verify<'a>(bytes: &'a [u8], key: &Key) -> Result<&'a [u8], String> {
    let mut r = Reader { bytes };
    if r.take(8, "magic")? != MAGIC {
        return Err("not an artifact of this runner (bad magic)".into());
    }
    let format = r.take(4, "format")?;
    let format = u32::from_le_bytes([format[0], format[1], format[2], format[3]]);
    if format != FORMAT {
        return Err(format!("format version {format}, expected {FORMAT}"));
    }
    if r.take(32, "atom hash")? != key.atom_sha256 {
        return Err("it was compiled from another atom".into());
    }
    if r.take(32, "engine fingerprint")? != key.fingerprint {
        return Err("it was compiled with another engine configuration".into());
    }
    if r.text("wasmtime version")? != WASMTIME_VERSION.as_bytes() {
        return Err("it was compiled by another wasmtime version".into());
    }
    if r.text("runner version")? != env!("CARGO_PKG_VERSION").as_bytes() {
        return Err("it was written by another runner version".into());
    }
    let len = r.take(8, "payload length")?;
    let mut l = [0u8; 8];
    l.copy_from_slice(len);
    let len = u64::from_le_bytes(l);
    let hash = r.take(32, "payload hash")?;
    if r.bytes.len() as u64 != len {
        return Err(format!(
            "payload is {} bytes, the header says {len}",
            r.bytes.len()
        ));
    }
    if blake3::hash(r.bytes).as_bytes().as_slice() != hash {
        return Err("payload hash mismatch".into());
    }
    Ok(r.bytes)
}

fn reject(path: &Path, why: &str) {
    tracing::debug!(path = %path.display(), "precompiled artifact rejected: {why}");
    REJECTED.fetch_add(1, Ordering::Relaxed);
    let _ = fs::remove_file(path);
}

/// Loads the artifact at `path` if it exists and is exactly what this runner wrote for
/// `key`; a bad artifact is rejected and deleted (`None`: compile instead).
pub(crate) fn load(engine: &Engine, path: &Path, key: &Key) -> Option<Module> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::debug!(path = %path.display(), "cannot read precompiled artifact: {e}");
            return None;
        }
    };
    let payload = match verify(&bytes, key) {
        Ok(p) => p,
        Err(why) => {
            reject(path, &why);
            return None;
        }
    };
    // SAFETY: `Module::deserialize` requires bytes produced by `Module::serialize` of a
    // compatible engine. These are: the header names this atom, this engine fingerprint,
    // this wasmtime and this runner, and the payload has exactly the length and BLAKE3
    // hash that this runner recorded when it serialized the module (`store`), so they are
    // the bytes it wrote, not a torn or altered file. The cache directory is private to the
    // user (created 0700 and owner-checked by the host), so no other user can plant a file
    // with a matching hash; wasmtime still checks its own header and the engine settings.
    match unsafe { Module::deserialize(engine, payload) } {
        Ok(m) => {
            CACHE_HITS.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(path = %path.display(), "precompiled module cache hit");
            Some(m)
        }
        Err(e) => {
            reject(path, &format!("wasmtime refused it: {e}"));
            None
        }
    }
}

/// Writes `module`'s artifact at `path` (temporary file + rename). Failures are logged
/// and otherwise ignored: the cache is an optimisation.
pub(crate) fn store(path: &Path, key: &Key, module: &Module) {
    if let Err(e) = try_store(path, key, module) {
        tracing::warn!(path = %path.display(), "cannot write precompiled artifact: {e}");
    }
}

fn try_store(path: &Path, key: &Key, module: &Module) -> std::io::Result<()> {
    let payload = module.serialize().map_err(std::io::Error::other)?;
    let header = key.header(&payload);
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("artifact path has no parent"))?;
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".tmp-{}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let result = (|| {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&header)?;
        f.write_all(&payload)?;
        // No fsync: after a crash a torn or empty file fails the length/hash check and is
        // simply recompiled, so durability is not needed for safety.
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    STORED.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(path = %path.display(), "stored precompiled module");
    sweep_stale_temporaries(dir, STALE_TEMPORARY);
    Ok(())
}

/// A temporary artifact older than this was left by a writer that died (a write takes
/// milliseconds to seconds).
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes `.tmp-*` files older than `age` from `dir` (what `kill -9` during a store leaves
/// behind). Runs after a compile, never on the warm path; errors are ignored.
fn sweep_stale_temporaries(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for e in entries.flatten() {
        if !e.file_name().as_encoded_bytes().starts_with(b".tmp-") {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|d| d > age);
        if old && fs::remove_file(e.path()).is_ok() {
            tracing::debug!(path = %e.path().display(), "removed a stale temporary artifact");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_are_swept_fresh_ones_and_artifacts_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for name in [".tmp-1-0-old", "artifact-old"] {
            let f = fs::File::create(dir.path().join(name)).expect("create");
            f.set_modified(old).expect("set mtime");
        }
        fs::write(dir.path().join(".tmp-2-0-fresh"), b"x").expect("write");
        sweep_stale_temporaries(dir.path(), STALE_TEMPORARY);
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        left.sort();
        assert_eq!(left, [".tmp-2-0-fresh", "artifact-old"]);
    }

    #[test]
    fn header_roundtrip_and_every_field_checked() {
        let key = Key {
            atom_sha256: [1; 32],
            fingerprint: [2; 32],
        };
        let payload = b"payload bytes".to_vec();
        let mut art = key.header(&payload);
        art.extend_from_slice(&payload);
        assert_eq!(verify(&art, &key).unwrap(), &payload[..]);
        // Any single flipped byte, any truncation, is refused.
        for i in 0..art.len() {
            let mut bad = art.clone();
            bad[i] ^= 0x40;
            assert!(verify(&bad, &key).is_err(), "flip at {i}");
        }
        for n in 0..art.len() {
            assert!(verify(&art[..n], &key).is_err(), "truncated to {n}");
        }
        let other = Key {
            atom_sha256: [3; 32],
            ..key
        };
        assert!(verify(&art, &other).unwrap_err().contains("another atom"));
        let mut longer = art.clone();
        longer.push(0);
        assert!(verify(&longer, &key).is_err());
    }
}
