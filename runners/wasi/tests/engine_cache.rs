//! The precompiled-module cache, observed through `webc_runner_wasi::stats()` and the
//! debug log: a second run loads instead of compiling; a corrupted, truncated or foreign
//! artifact is rejected, deleted, recompiled and rewritten, and the program still runs
//! correctly; an unusable cache directory never stops a run.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};
use webc_runner_api::{Job, JobSpec, Outcome, Runner};
use webc_runner_wasi::{Stats, WasiRunner, stats};
use webc_vfs::VfsBuilder;

/// The counters are process-wide: tests that read them take turns.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn module(text: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "{text}\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (i32.const {}))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
        text.len() + 1
    ))
    .unwrap()
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Run {
    outcome: Outcome,
    stdout: String,
    log: String,
    delta: Stats,
}

fn run(atom: &[u8], cache: Option<&Path>, options: &[(&str, &str)]) -> Run {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let before = stats();
    let vfs = VfsBuilder::new().build().unwrap();
    let mut stdin: &[u8] = b"";
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let spec = JobSpec {
        command: "prog".into(),
        atom_name: "prog".into(),
        atom_sha256: hex::encode(Sha256::digest(atom)),
        cache_dir: cache.map(Path::to_path_buf),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..JobSpec::default()
    };
    let outcome = tracing::subscriber::with_default(subscriber, || {
        WasiRunner::default().run(Job {
            host: &webc_runner_api::NoHostServices,
            spec,
            atom,
            fs: &vfs,
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
        })
    })
    .expect("run");
    let after = stats();
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    Run {
        outcome,
        stdout: String::from_utf8(out).unwrap(),
        log,
        delta: Stats {
            compiles: after.compiles - before.compiles,
            cache_hits: after.cache_hits - before.cache_hits,
            rejected: after.rejected - before.rejected,
            stored: after.stored - before.stored,
        },
    }
}

/// The one artifact file under `dir`.
fn artifact(dir: &Path) -> PathBuf {
    let mut found = Vec::new();
    for engine in std::fs::read_dir(dir).unwrap() {
        let engine = engine.unwrap().path();
        assert!(
            engine
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("wasmtime-48.0.8-")
        );
        for f in std::fs::read_dir(&engine).unwrap() {
            found.push(f.unwrap().path());
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn assert_clean_run(r: &Run, text: &str) {
    assert_eq!(r.outcome, Outcome::Exit(0));
    assert_eq!(r.stdout, format!("{text}\n"));
}

#[test]
fn second_run_loads_instead_of_compiling() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let atom = module("cached");
    let first = run(&atom, Some(dir.path()), &[]);
    assert_clean_run(&first, "cached");
    assert_eq!((first.delta.compiles, first.delta.stored), (1, 1));
    assert!(first.log.contains("compiled module"), "{}", first.log);
    let path = artifact(dir.path());
    assert_eq!(
        path.file_name().unwrap().to_string_lossy(),
        hex::encode(Sha256::digest(&atom))
    );
    let second = run(&atom, Some(dir.path()), &[]);
    assert_clean_run(&second, "cached");
    assert_eq!(second.delta.compiles, 0);
    assert_eq!(second.delta.cache_hits, 1);
    assert!(
        second.log.contains("precompiled module cache hit"),
        "{}",
        second.log
    );
}

/// Damages the artifact with `damage`, then checks the run rejects it, recompiles, still
/// prints the right thing, and leaves a good artifact behind.
fn rejected_after(damage: impl FnOnce(&Path), why: &str) {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let atom = module("intact");
    assert_clean_run(&run(&atom, Some(dir.path()), &[]), "intact");
    damage(&artifact(dir.path()));
    let r = run(&atom, Some(dir.path()), &[]);
    assert_clean_run(&r, "intact");
    assert_eq!(r.delta.rejected, 1, "{}", r.log);
    assert_eq!(
        (r.delta.compiles, r.delta.cache_hits, r.delta.stored),
        (1, 0, 1)
    );
    assert!(
        r.log.contains("precompiled artifact rejected: ") && r.log.contains(why),
        "{why}: {}",
        r.log
    );
    let again = run(&atom, Some(dir.path()), &[]);
    assert_clean_run(&again, "intact");
    assert_eq!((again.delta.cache_hits, again.delta.compiles), (1, 0));
}

#[test]
fn corrupted_payload_byte_is_rejected() {
    rejected_after(
        |p| {
            let mut bytes = std::fs::read(p).unwrap();
            let i = bytes.len() - bytes.len() / 3;
            bytes[i] ^= 0x01;
            std::fs::write(p, bytes).unwrap();
        },
        "payload hash mismatch",
    );
}

#[test]
fn corrupted_header_byte_is_rejected() {
    rejected_after(
        |p| {
            let mut bytes = std::fs::read(p).unwrap();
            bytes[0] ^= 0x20;
            std::fs::write(p, bytes).unwrap();
        },
        "bad magic",
    );
}

#[test]
fn truncated_artifact_is_rejected() {
    rejected_after(
        |p| {
            let len = std::fs::metadata(p).unwrap().len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        },
        "payload is",
    );
}

#[test]
fn empty_artifact_is_rejected() {
    rejected_after(|p| std::fs::write(p, b"").unwrap(), "truncated");
}

#[test]
fn foreign_artifact_is_rejected() {
    // A genuine artifact of another module, put where this module's belongs.
    let other = {
        let _g = serial();
        let dir = tempfile::tempdir().unwrap();
        assert_clean_run(&run(&module("other"), Some(dir.path()), &[]), "other");
        std::fs::read(artifact(dir.path())).unwrap()
    };
    rejected_after(|p| std::fs::write(p, &other).unwrap(), "another atom");
}

#[test]
fn raw_wasmtime_serialization_is_rejected() {
    // What `wasmtime compile` would produce: valid for wasmtime, but not ours.
    let raw = {
        let engine = wasmtime::Engine::default();
        wasmtime::Module::new(&engine, module("raw"))
            .unwrap()
            .serialize()
            .unwrap()
    };
    rejected_after(|p| std::fs::write(p, &raw).unwrap(), "bad magic");
}

#[test]
fn unusable_cache_dir_still_runs() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the cache directory should be: nothing can be read or written.
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let atom = module("no cache");
    for _ in 0..2 {
        let r = run(&atom, Some(&not_a_dir), &[]);
        assert_clean_run(&r, "no cache");
        assert_eq!(
            (r.delta.compiles, r.delta.stored, r.delta.cache_hits),
            (1, 0, 0)
        );
        assert!(
            r.log.contains("cannot write precompiled artifact"),
            "{}",
            r.log
        );
    }
}

#[test]
fn cache_off_and_no_cache_dir_always_compile() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let atom = module("uncached");
    for _ in 0..2 {
        let r = run(&atom, Some(dir.path()), &[("cache", "off")]);
        assert_clean_run(&r, "uncached");
        assert_eq!((r.delta.compiles, r.delta.stored), (1, 0));
        let r = run(&atom, None, &[]);
        assert_clean_run(&r, "uncached");
        assert_eq!((r.delta.compiles, r.delta.stored), (1, 0));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn fuel_engine_has_its_own_artifacts() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let atom = module("fueled");
    assert_clean_run(&run(&atom, Some(dir.path()), &[]), "fueled");
    let r = run(&atom, Some(dir.path()), &[("fuel", "1000000")]);
    assert_clean_run(&r, "fueled");
    assert_eq!((r.delta.compiles, r.delta.cache_hits), (1, 0));
    let engines = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(engines, 2, "one directory per engine configuration");
    let r = run(&atom, Some(dir.path()), &[("fuel", "1000000")]);
    assert_eq!((r.delta.compiles, r.delta.cache_hits), (0, 1));
}
