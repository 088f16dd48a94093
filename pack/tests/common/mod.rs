//! Helpers shared by the `webc-pack` integration tests: building package directories with
//! fixed modification times, and running both our packer and `wasmer-package` 0.704.2.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use filetime::FileTime;
use webc_container::Container;

/// A package directory under construction.
pub struct Project {
    pub tmp: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Self {
        Project {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.tmp.path().canonicalize().unwrap()
    }

    /// Writes `content` at `rel`, creating parent directories.
    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    pub fn dir(&self, rel: &str) -> &Self {
        std::fs::create_dir_all(self.tmp.path().join(rel)).unwrap();
        self
    }

    pub fn symlink(&self, rel: &str, target: &str) -> &Self {
        let p = self.tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
        self
    }

    pub fn manifest(&self, toml: &str) -> &Self {
        self.file("wasmer.toml", toml)
    }

    /// Gives every file, directory and symlink (including the root) a distinct fixed
    /// modification time, children before their directory so nothing disturbs them after.
    pub fn fix_times(&self) -> &Self {
        let mut counter = 0u64;
        fix(self.tmp.path(), &mut counter);
        self
    }

    pub fn ours(&self) -> webc_pack::Result<(Vec<u8>, String)> {
        let pkg = webc_pack::Package::from_dir(self.tmp.path())?;
        Ok((pkg.to_bytes()?, pkg.file_name))
    }

    /// What `wasmer package build` does: `Package::from_manifest(...).serialize()`.
    pub fn wasmer(&self) -> Result<Vec<u8>, String> {
        let pkg =
            wasmer_package::package::Package::from_manifest(self.tmp.path().join("wasmer.toml"))
                .map_err(|e| format!("{:#}", anyhow_chain(&e)))?;
        pkg.serialize()
            .map(|b| b.to_vec())
            .map_err(|e| format!("{e:#}"))
    }

    /// Asserts our bytes equal Wasmer's, that ours verify, and that Wasmer's `webc` crate
    /// reads and validates them. Returns the bytes.
    pub fn assert_same(&self) -> Vec<u8> {
        let (ours, _) = self
            .ours()
            .unwrap_or_else(|e| panic!("webc-pack failed: {e}"));
        let theirs = self
            .wasmer()
            .unwrap_or_else(|e| panic!("wasmer-package failed: {e}"));
        if ours != theirs {
            panic!(
                "webc-pack and wasmer-package differ ({} vs {} bytes):\n{}",
                ours.len(),
                theirs.len(),
                describe_difference(&ours, &theirs)
            );
        }
        let c = Container::from_bytes(ours.clone()).unwrap();
        let report = c.verify();
        assert!(report.is_ok(), "verify failed: {report:?}");
        let theirs = webc::Container::from_bytes_and_version(
            bytes::Bytes::from(ours.clone()),
            webc::Version::V3,
        )
        .unwrap();
        theirs.validate().unwrap();
        ours
    }
}

fn anyhow_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn fix(path: &Path, counter: &mut u64) {
    let meta = path.symlink_metadata().unwrap();
    if meta.is_dir() {
        let mut children: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        children.sort();
        for child in children {
            fix(&child, counter);
        }
    }
    *counter += 1;
    let t = FileTime::from_system_time(
        UNIX_EPOCH + Duration::from_secs(1_600_000_000 + *counter * 1_001),
    );
    filetime::set_symlink_file_times(path, t, t).unwrap();
}

/// A readable account of where two containers differ.
pub fn describe_difference(ours: &[u8], theirs: &[u8]) -> String {
    let (a, b) = match (
        Container::from_bytes(ours.to_vec()),
        Container::from_bytes(theirs.to_vec()),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => return format!("open: ours {:?}, theirs {:?}", a.err(), b.err()),
    };
    let mut out = String::new();
    if a.manifest_bytes() != b.manifest_bytes() {
        out += &format!(
            "manifest differs:\n ours   {:?}\n theirs {:?}\n",
            a.manifest(),
            b.manifest()
        );
    }
    if a.atom_names().unwrap() != b.atom_names().unwrap() {
        out += &format!(
            "atoms: {:?} vs {:?}\n",
            a.atom_names().unwrap(),
            b.atom_names().unwrap()
        );
    }
    let va: Vec<_> = a.volume_names().map(str::to_owned).collect();
    let vb: Vec<_> = b.volume_names().map(str::to_owned).collect();
    if va != vb {
        out += &format!("volumes: {va:?} vs {vb:?}\n");
    }
    for name in va.iter().filter(|n| vb.contains(n)) {
        let la = listing(&a, name);
        let lb = listing(&b, name);
        if la != lb {
            out += &format!("volume {name}:\n ours   {la:#?}\n theirs {lb:#?}\n");
        }
    }
    if out.is_empty() {
        out = "same logical content; layout differs".into();
    }
    out
}

fn listing(c: &Container, volume: &str) -> Vec<String> {
    let v = c.volume(volume).unwrap();
    let root = v.root().unwrap();
    let mut out = vec![format!("/ dir mtime={:?}", root.modified())];
    v.walk(|path, e| {
        out.push(format!(
            "{path} {:?} len={} mtime={:?} target={:?}",
            e.node.kind(),
            e.node.len(),
            e.node.modified(),
            e.node.symlink_target()
        ));
        Ok(())
    })
    .unwrap();
    out
}

/// Wasm bytes from WAT.
pub fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap()
}

pub const HELLO_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hello\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 8))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))))"#;

pub const SIMD_WAT: &str = r#"(module
  (func (export "f") (result v128)
    (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 1 1 1 1))))"#;

pub const BULK_MEMORY_WAT: &str = r#"(module
  (memory 1)
  (func (export "f") (memory.copy (i32.const 0) (i32.const 8) (i32.const 4))))"#;

pub const MULTI_VALUE_WAT: &str = r#"(module
  (func (export "f") (result i32 i64) (i32.const 1) (i64.const 2)))"#;

pub const EXCEPTIONS_WAT: &str = r#"(module
  (tag $e (param i32))
  (func (export "f") (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw $e (i32.const 7)))
      (i32.const 0))))"#;

pub const TAIL_CALL_WAT: &str = r#"(module
  (func $g (result i32) (i32.const 1))
  (func (export "f") (result i32) (return_call $g)))"#;

pub const RELAXED_SIMD_WAT: &str = r#"(module
  (func (export "f") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))))"#;

pub const MEMORY64_WAT: &str = r#"(module (memory i64 1) (func (export "f")))"#;
