//! Issue 9's host-side regressions, through the real `webc-host` binary and the real WASI
//! plugin (beside the binary, as `scripts/test.sh` builds it): trust that a writer of the
//! package could forge, a cache that cannot be written, long input echoed in errors, the time
//! limit on a program blocked on input, and signals arriving at any moment of a run.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use common::{BIN, code, err, fixture, manifest_dir, out};

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tool() -> PathBuf {
    manifest_dir().join("tests/wasi-programs/tool.wasm")
}

/// The WASI plugin is built beside the binary (fails saying how to build it).
fn check_plugin() {
    common::plugin("webc_runner_wasi");
}

/// `webc-host run` with only the plugins beside the binary, no inherited logging, and
/// `env` applied (HOME and the cache variables are the test's to choose).
fn run_cmd(args: &[&str], tmp: &Path) -> Command {
    check_plugin();
    let mut c = Command::new(BIN);
    c.arg("run")
        .args(args)
        .env_remove("WEBC_LOG")
        .env_remove("WEBC_HOST_PLUGINS")
        .env_remove("WEBC_HOST_CACHE")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", tmp.join("home"))
        .env("XDG_DATA_HOME", tmp.join("xdg"))
        .stdin(Stdio::null());
    c
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------
// Trust: the verified-atom record

/// Flips one byte of the atom's printed text in place and restores the file's modification
/// time: size, inode and mtime are what they were, only the change time moved.
fn tamper_keeping_mtime(pkg: &Path) {
    let before = std::fs::metadata(pkg).unwrap();
    let mtime = filetime::FileTime::from_last_modification_time(&before);
    let mut bytes = std::fs::read(pkg).unwrap();
    let wasm = std::fs::read(fixture("hello.wasm")).unwrap();
    let atom_at = bytes
        .windows(wasm.len())
        .position(|w| w == wasm.as_slice())
        .expect("the fixture's atom is stored as is");
    let text_at = atom_at
        + wasm
            .windows(5)
            .position(|w| w == b"hello")
            .expect("the module prints hello");
    bytes[text_at + 4] = b'p';
    // In place: the same inode, the same size.
    let mut f = std::fs::OpenOptions::new().write(true).open(pkg).unwrap();
    f.write_all(&bytes).unwrap();
    f.sync_all().unwrap();
    drop(f);
    filetime::set_file_mtime(pkg, mtime).unwrap();
    let after = std::fs::metadata(pkg).unwrap();
    use std::os::unix::fs::MetadataExt as _;
    assert_eq!(
        (after.ino(), after.len(), after.mtime(), after.mtime_nsec()),
        (
            before.ino(),
            before.len(),
            before.mtime(),
            before.mtime_nsec()
        ),
        "the tampering must be invisible to (inode, size, mtime)"
    );
}

#[test]
fn a_tampered_atom_with_its_mtime_restored_never_runs() {
    for cache_opt in [None, Some("cache=off")] {
        let tmp = tempfile::tempdir().unwrap();
        let pkg = tmp.path().join("pkg.webc");
        std::fs::copy(fixture("sample-v3.webc"), &pkg).unwrap();
        let cache = tmp.path().join("cache");
        let mut args = vec!["--cache-dir", s(&cache)];
        if let Some(o) = cache_opt {
            args.extend(["--runner-opt", o]);
        }
        args.extend([s(&pkg), "hello"]);
        // The first run verifies the atom and remembers it (a file changed less than
        // 100 ms ago is not remembered, so let the copy age first).
        std::thread::sleep(Duration::from_millis(150));
        let o = run_cmd(&args, tmp.path()).output().unwrap();
        code(&o, 0);
        assert_eq!(out(&o), "hello\n");
        let records = std::fs::read_dir(cache.join("verified")).unwrap().count();
        assert_eq!(records, 1, "the verification was remembered");
        // Let the clock move past the change time the record saw.
        std::thread::sleep(Duration::from_millis(20));
        tamper_keeping_mtime(&pkg);
        let o = run_cmd(&args, tmp.path()).output().unwrap();
        code(&o, 125);
        assert!(
            err(&o).contains("refusing to run"),
            "{cache_opt:?}: {}",
            err(&o)
        );
        assert_eq!(out(&o), "", "{cache_opt:?}: nothing of the package ran");
    }
}

// ---------------------------------------------------------------------------------------
// A cache that cannot be used is a warning; an unsafe one is refused

#[test]
fn an_unusable_cache_is_a_warning_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let pkg = fixture("sample-v3.webc");
    let below_file = file.join("cache");
    /// (what, extra arguments, extra environment)
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, PathBuf)>);
    let cases: Vec<Case<'_>> = vec![
        (
            "cache path is a file",
            vec!["--cache-dir", s(&file)],
            vec![],
        ),
        (
            "cache below a file",
            vec!["--cache-dir", s(&below_file)],
            vec![],
        ),
        (
            "HOME below a file",
            vec![],
            vec![("HOME", file.join("home"))],
        ),
    ];
    for (what, extra, env) in cases {
        for opts in [&[][..], &["--runner-opt", "cache=off"][..]] {
            let mut args = extra.clone();
            args.extend(opts);
            args.extend([s(&pkg), "hello"]);
            let mut c = run_cmd(&args, tmp.path());
            for (k, v) in &env {
                c.env(k, v);
            }
            let o = c.output().unwrap();
            code(&o, 0);
            assert_eq!(out(&o), "hello\n", "{what}");
            let e = err(&o);
            assert_eq!(
                e.matches("running without a cache").count(),
                1,
                "{what}: one warning\n{e}"
            );
        }
    }
    // No location at all (no HOME, no XDG_CACHE_HOME): the same.
    let o = run_cmd(&[s(&pkg), "hello"], tmp.path())
        .env_remove("HOME")
        .output()
        .unwrap();
    code(&o, 0);
    assert!(err(&o).contains("running without a cache"), "{}", err(&o));
}

#[test]
fn an_unsafe_cache_is_still_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o770)).unwrap();
    let o = run_cmd(
        &[
            "--cache-dir",
            s(&cache),
            s(&fixture("sample-v3.webc")),
            "hello",
        ],
        tmp.path(),
    )
    .output()
    .unwrap();
    code(&o, 125);
    assert!(err(&o).contains("refusing cache directory"), "{}", err(&o));
    assert!(err(&o).contains("chmod go-w"), "{}", err(&o));
    assert_eq!(out(&o), "");
}

#[test]
fn a_cache_error_names_the_cache_and_its_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f-file");
    std::fs::write(&file, b"x").unwrap();
    let o = Command::new(BIN)
        .args(["cache", "list", "--cache-dir", s(&file)])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = err(&o);
    assert!(e.starts_with("error: cache "), "{e}");
    assert_eq!(e.matches("not a directory").count(), 1, "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

// ---------------------------------------------------------------------------------------
// Long input echoed in errors

#[test]
fn a_very_long_path_is_cut_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let long = format!("/{}", "x/".repeat(5000));
    let o = run_cmd(&[&long], tmp.path()).output().unwrap();
    code(&o, 125);
    let e = err(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.len() < 400, "{} bytes: {e}", e.len());
    assert!(e.contains(&format!("({} bytes)", long.len())), "{e}");
}

// ---------------------------------------------------------------------------------------
// Time limit on a program blocked on input

#[test]
fn the_time_limit_ends_a_read_blocked_on_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    // Standard input is a pipe nobody writes to and nobody closes until the run ends.
    let mut child = run_cmd(
        &[
            "--cache-dir",
            s(&tmp.path().join("cache")),
            "--timeout",
            "1s",
            s(&tool()),
            "--",
            "stdin",
        ],
        tmp.path(),
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stdin = child.stdin.take();
    let o = wait_bounded(child, Duration::from_secs(60));
    drop(stdin);
    code(&o, 124);
    // The runner reported the limit itself; the host's backstop (the limit plus a grace
    // period, for runners that never return) did not have to stop it.
    assert!(err(&o).contains("time limit exceeded"), "{}", err(&o));
    assert!(!err(&o).contains("the program was stopped"), "{}", err(&o));
}

/// Waits for `child`, killing it (and failing) past `limit`.
fn wait_bounded(mut child: std::process::Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "webc-host did not end within {limit:?}\n--- stderr\n{}",
                err(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------
// Signals at any moment

/// A small deterministic generator (the moments differ between iterations, not between
/// runs of the test).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn interrupts_at_any_moment_end_the_run_by_that_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let cache = tmp.path().join("cache");
    let tool = tool();
    for i in 0..24 {
        let signal = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP][i % 3];
        // Every other run compiles from scratch (no artifact cache): signals land during
        // start-up, plugin discovery, compilation and the guest's endless loop.
        let mut args = vec!["--cache-dir", s(&cache)];
        if i % 2 == 0 {
            args.extend(["--runner-opt", "cache=off"]);
        }
        args.extend([s(&tool), "--", "loop"]);
        let child = run_cmd(&args, tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(next(&mut rng) % 250));
        let pid = i32::try_from(child.id()).unwrap();
        // SAFETY: signalling our own child, which has not been waited for yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let o = wait_bounded(child, Duration::from_secs(60));
        assert_eq!(
            o.status.signal(),
            Some(signal),
            "iteration {i}: {:?}\n{}",
            o.status,
            err(&o)
        );
    }
}

// ---------------------------------------------------------------------------------------
// The private /tmp is bounded

#[test]
fn tmp_size_bounds_the_private_tmp() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let text = "x".repeat(64 << 10);
    let write = |size: &str| {
        run_cmd(
            &[
                "--cache-dir",
                s(&cache),
                "--tmp-size",
                size,
                s(&tool()),
                "--",
                "write",
                "/tmp/big",
                &text,
            ],
            tmp.path(),
        )
        .output()
        .unwrap()
    };
    // 64 KiB into a 16 KiB /tmp: the guest sees ENOSPC.
    let o = write("16KiB");
    code(&o, 1);
    assert!(err(&o).contains("No space left on device"), "{}", err(&o));
    // The same into 1 MiB succeeds.
    let o = write("1MiB");
    code(&o, 0);
    // A bad size is a usage error naming the option.
    let o = write("lots");
    assert_ne!(o.status.code(), Some(0));
    assert!(err(&o).contains("--tmp-size"), "{}", err(&o));
}

// ---------------------------------------------------------------------------------------
// An interrupted extract leaves nothing behind

#[test]
fn an_interrupted_extract_leaves_no_staging_directory() {
    let tmp = tempfile::tempdir().unwrap();
    // A package of many small files: extraction (a temporary file, fsync and rename for
    // each) takes long enough to be interrupted in the middle.
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("data")).unwrap();
    for i in 0..3000 {
        std::fs::write(project.join(format!("data/f{i:05}")), [b'x'; 512]).unwrap();
    }
    std::fs::write(
        project.join("wasmer.toml"),
        "[package]\nname = \"t/many\"\nversion = \"0.1.0\"\n\n[fs]\n\"/data\" = \"data\"\n",
    )
    .unwrap();
    let pkg = tmp.path().join("many.webc");
    let o = Command::new(BIN)
        .args(["pack", s(&project), "-o", s(&pkg)])
        .output()
        .unwrap();
    code(&o, 0);
    let mut interrupted = 0;
    for (i, delay) in [40u64, 80, 120, 200, 300].into_iter().enumerate() {
        let dest = tmp.path().join(format!("out{i}"));
        let child = Command::new(BIN)
            .args(["extract", s(&pkg), s(&dest)])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let pid = i32::try_from(child.id()).unwrap();
        // SAFETY: signalling our own child, which has not been waited for yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
        let o = wait_bounded(child, Duration::from_secs(120));
        match o.status.signal() {
            Some(sig) => {
                assert_eq!(sig, libc::SIGINT, "{:?}\n{}", o.status, err(&o));
                interrupted += 1;
            }
            // Finished before the signal: then it must have succeeded.
            None => code(&o, 0),
        }
        let left: Vec<String> = std::fs::read_dir(&dest)
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(".webc-extract-"))
                    .collect()
            })
            .unwrap_or_default();
        assert!(left.is_empty(), "delay {delay} ms left {left:?}");
    }
    assert!(
        interrupted > 0,
        "no extract was interrupted: make the package larger"
    );
}
