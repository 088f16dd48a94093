//! Smoke tests: small WAT programs through `WasiRunner::run` with a real `webc_vfs::Vfs`.

use std::time::Duration;

use webc_runner_api::uri::RunnerUri;
use webc_runner_api::{Job, JobSpec, Limits, Outcome, Runner, RunnerError};
use webc_vfs::{Mode, Vfs, VfsBuilder};

use super::*;

pub(crate) struct Ran {
    pub(crate) result: Result<Outcome, RunnerError>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn run_with(wat: &str, spec: JobSpec, vfs: &Vfs, stdin: &[u8]) -> Ran {
    let wasm = wat::parse_str(wat).expect("valid WAT");
    let mut input = stdin;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = WasiRunner::default().run(Job {
        host: &webc_runner_api::NoHostServices,
        spec,
        atom: &wasm,
        fs: vfs,
        stdin: &mut input,
        stdout: &mut out,
        stderr: &mut err,
    });
    Ran {
        result,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn vfs() -> Vfs {
    VfsBuilder::new().tmp(true).build().expect("vfs")
}

fn spec() -> JobSpec {
    JobSpec {
        command: "prog".into(),
        atom_name: "prog".into(),
        ..JobSpec::default()
    }
}

fn run(wat: &str) -> Ran {
    run_with(wat, spec(), &vfs(), b"")
}

/// A module that prints its argv and environ, one per line, with `print` helpers.
const PRINT_LIB: &str = r#"
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $n))
  ;; writes the NUL-terminated string at $p and a newline to stdout
  (func $puts (param $p i32)
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (call $strlen (local.get $p)))
    (i32.store (i32.const 8) (i32.const 12))
    (i32.store (i32.const 12) (i32.const 1))
    (i32.store8 (i32.const 16) (i32.const 10))
    (i32.store (i32.const 8) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 20))))
"#;

#[test]
fn hello() {
    let r = run(r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hello\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 6))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#);
    assert_eq!(r.result, Ok(Outcome::Exit(0)));
    assert_eq!(r.stdout, "hello\n");
}

#[test]
fn args_and_env() {
    let wat = format!(
        r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      {PRINT_LIB}
      (func $all (param $count i32) (param $ptrs i32) (local $i i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
          (call $puts (i32.load (i32.add (local.get $ptrs) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l))))
      (func (export "_start")
        (drop (call $args_sizes_get (i32.const 100) (i32.const 104)))
        (drop (call $args_get (i32.const 1024) (i32.const 2048)))
        (call $all (i32.load (i32.const 100)) (i32.const 1024))
        (drop (call $environ_sizes_get (i32.const 100) (i32.const 104)))
        (drop (call $environ_get (i32.const 4096) (i32.const 8192)))
        (call $all (i32.load (i32.const 100)) (i32.const 4096))))"#
    );
    let mut s = spec();
    s.args = vec!["a b".into(), "c".into()];
    s.env = vec![
        ("HOME".into(), "/home/x".into()),
        ("GREETING".into(), "granted".into()),
    ];
    s.annotations = {
        use ciborium::Value;
        let t = |x: &str| Value::Text(x.into());
        let v = Value::Map(vec![(
            t("wasi"),
            Value::Map(vec![
                (t("atom"), t("main")),
                (
                    t("env"),
                    Value::Array(vec![t("GREETING=hi"), t("ONLY=manifest")]),
                ),
                (t("main-args"), Value::Array(vec![t("--from-manifest")])),
                (t("exec-name"), t("hello-bin")),
            ]),
        )]);
        let mut out = Vec::new();
        ciborium::into_writer(&v, &mut out).unwrap();
        out
    };
    let r = run_with(&wat, s, &vfs(), b"");
    assert_eq!(r.result, Ok(Outcome::Exit(0)), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "hello-bin\n--from-manifest\na b\nc\nGREETING=granted\nONLY=manifest\nHOME=/home/x\n"
    );
}

#[test]
fn proc_exit_code() {
    let r = run(r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call $exit (i32.const 42)) unreachable))"#);
    assert_eq!(r.result, Ok(Outcome::Exit(42)));
    assert_eq!(r.stderr, "");
}

#[test]
fn trap_reports_on_stderr() {
    let r = run(r#"(module
      (memory (export "memory") 1)
      (func $inner unreachable)
      (func (export "_start") (call $inner)))"#);
    assert_eq!(r.result, Ok(Outcome::Trap));
    assert!(
        r.stderr.starts_with("error: the program trapped: ") && r.stderr.contains("unreachable"),
        "{}",
        r.stderr
    );
}

#[test]
fn memory_limit_fails_growth_and_initial_size() {
    // memory.grow beyond the limit returns -1; the program reports it with its exit code.
    let grow = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (call $exit (i32.add (i32.const 10) (memory.grow (i32.const 100))))))"#;
    let mut s = spec();
    s.limits = Limits {
        memory: Some(4 * 65536),
        time: None,
    };
    let r = run_with(grow, s.clone(), &vfs(), b"");
    assert_eq!(r.result, Ok(Outcome::Exit(9)), "grow returned -1");
    let r = run_with(grow, spec(), &vfs(), b"");
    assert_eq!(
        r.result,
        Ok(Outcome::Exit(11)),
        "unlimited: grow returned 1"
    );
    let big = r#"(module (memory (export "memory") 10) (func (export "_start")))"#;
    match run_with(big, s, &vfs(), b"").result {
        Err(RunnerError::CannotExecute(m)) => assert!(m.contains("memory limit"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn time_limit_stops_an_infinite_loop() {
    let mut s = spec();
    s.limits.time = Some(Duration::from_millis(200));
    let r = run_with(
        r#"(module (memory (export "memory") 1)
          (func (export "_start") (loop $l (br $l))))"#,
        s.clone(),
        &vfs(),
        b"",
    );
    assert_eq!(r.result, Ok(Outcome::Timeout));
    // A sleep past the deadline is cut short too.
    let r = run_with(
        r#"(module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            ;; one relative monotonic clock subscription of 60 s at 0
            (i32.store8 (i32.const 8) (i32.const 0))
            (i32.store (i32.const 16) (i32.const 1))
            (i64.store (i32.const 24) (i64.const 60000000000))
            (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))"#,
        s,
        &vfs(),
        b"",
    );
    assert_eq!(r.result, Ok(Outcome::Timeout));
}

#[test]
fn fuel_runs_out() {
    let mut s = spec();
    s.options = vec![("fuel".into(), "10000".into())];
    let r = run_with(
        r#"(module (memory (export "memory") 1)
          (func (export "_start") (loop $l (br $l))))"#,
        s,
        &vfs(),
        b"",
    );
    assert_eq!(r.result, Ok(Outcome::Trap));
    assert!(r.stderr.contains("fuel"), "{}", r.stderr);
}

#[test]
fn preview0_import_and_layouts() {
    // wasi_unstable: fd_write, and fd_seek with preview0's whence (2 = SET, 0 = CUR) on a
    // file in /tmp, then filestat's u32 nlink / size at offset 24.
    let r = run(r#"(module
      (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_unstable" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_unstable" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
      (import "wasi_unstable" "fd_filestat_get" (func $stat (param i32 i32) (result i32)))
      (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 64) "tmp/p0.txt")
      (data (i32.const 80) "0123456789")
      (func (export "_start") (local $fd i32)
        ;; open /tmp/p0.txt through fd 4 ("/") with creat|trunc, rights read+write
        (if (call $open (i32.const 4) (i32.const 1) (i32.const 64) (i32.const 10)
              (i32.const 9) (i64.const 0x42) (i64.const 0) (i32.const 0) (i32.const 96))
          (then (call $exit (i32.const 1))))
        (local.set $fd (i32.load (i32.const 96)))
        (i32.store (i32.const 0) (i32.const 80))
        (i32.store (i32.const 4) (i32.const 10))
        (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
        ;; whence 2 is SET in preview0
        (if (call $seek (local.get $fd) (i64.const 3) (i32.const 2) (i32.const 104))
          (then (call $exit (i32.const 2))))
        (if (i64.ne (i64.load (i32.const 104)) (i64.const 3)) (then (call $exit (i32.const 3))))
        ;; whence 0 is CUR in preview0
        (drop (call $seek (local.get $fd) (i64.const 2) (i32.const 0) (i32.const 104)))
        (if (i64.ne (i64.load (i32.const 104)) (i64.const 5)) (then (call $exit (i32.const 4))))
        (if (call $stat (local.get $fd) (i32.const 200)) (then (call $exit (i32.const 5))))
        ;; preview0 filestat: nlink u32 at 20, size u64 at 24
        (if (i32.ne (i32.load (i32.const 220)) (i32.const 1)) (then (call $exit (i32.const 6))))
        (if (i64.ne (i64.load (i32.const 224)) (i64.const 10)) (then (call $exit (i32.const 7))))
        (call $exit (i32.const 0))))"#);
    assert_eq!(r.result, Ok(Outcome::Exit(0)), "{}", r.stderr);
}

#[test]
fn bad_pointers_are_efault_not_crashes() {
    let r = run(r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        ;; iovec pointing past the end of memory
        (i32.store (i32.const 0) (i32.const 65530))
        (i32.store (i32.const 4) (i32.const 100))
        (if (i32.ne (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)) (i32.const 21))
          (then (call $exit (i32.const 1))))
        ;; iovec array itself out of bounds, and a huge count
        (if (i32.ne (call $fd_write (i32.const 1) (i32.const -8) (i32.const 1) (i32.const 8)) (i32.const 21))
          (then (call $exit (i32.const 2))))
        (if (i32.ne (call $fd_write (i32.const 1) (i32.const 0) (i32.const -1) (i32.const 8)) (i32.const 21))
          (then (call $exit (i32.const 3))))
        (if (i32.ne (call $args_get (i32.const -4) (i32.const 0)) (i32.const 21))
          (then (call $exit (i32.const 4))))
        (call $exit (i32.const 0))))"#);
    assert_eq!(r.result, Ok(Outcome::Exit(0)), "{}", r.stderr);
    assert_eq!(r.stdout, "");
}

#[test]
fn refuses_what_it_cannot_run_with_clear_messages() {
    let cases: &[(&str, &str)] = &[
        ("(module (memory (export \"memory\") 1))", "_start"),
        ("(module (func (export \"_start\")))", "memory"),
        (
            "(module (import \"env\" \"foo\" (func)) (memory (export \"memory\") 1) (func (export \"_start\")))",
            "`env`.`foo`",
        ),
        (
            "(module (import \"wasi_snapshot_preview1\" \"nope\" (func)) (memory (export \"memory\") 1) (func (export \"_start\")))",
            "`wasi_snapshot_preview1`.`nope`",
        ),
        (
            "(module (import \"wasi_snapshot_preview1\" \"fd_write\" (func (param i32))) (memory (export \"memory\") 1) (func (export \"_start\")))",
            "fd_write",
        ),
        (
            "(module (import \"wasi_unstable\" \"sock_accept\" (func (param i32 i32 i32) (result i32))) (memory (export \"memory\") 1) (func (export \"_start\")))",
            "sock_accept",
        ),
    ];
    for (wat, needle) in cases {
        match run(wat).result {
            Err(RunnerError::CannotExecute(m)) => assert!(m.contains(needle), "{m}"),
            other => panic!("{wat}: {other:?}"),
        }
    }
    let mut input: &[u8] = b"";
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let vfs = vfs();
    let r = WasiRunner::default().run(Job {
        host: &webc_runner_api::NoHostServices,
        spec: spec(),
        atom: b"\0asm\x01\0\0\0garbage",
        fs: &vfs,
        stdin: &mut input,
        stdout: &mut out,
        stderr: &mut err,
    });
    assert!(matches!(r, Err(RunnerError::CannotExecute(m)) if m.contains("not a valid")));
}

#[test]
fn cwd_must_exist() {
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("file"), "x").unwrap();
    let vfs = VfsBuilder::new()
        .grant_dir(host.path(), "/data", Mode::ReadOnly)
        .unwrap()
        .build()
        .unwrap();
    let wat = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;
    let with_cwd = |cwd: &str| {
        let mut s = spec();
        let v = ciborium::Value::Map(vec![(
            ciborium::Value::Text("wasi".into()),
            ciborium::Value::Map(vec![
                (
                    ciborium::Value::Text("atom".into()),
                    ciborium::Value::Text("main".into()),
                ),
                (
                    ciborium::Value::Text("cwd".into()),
                    ciborium::Value::Text(cwd.into()),
                ),
            ]),
        )]);
        ciborium::into_writer(&v, &mut s.annotations).unwrap();
        run_with(wat, s, &vfs, b"").result
    };
    assert_eq!(with_cwd("/data"), Ok(Outcome::Exit(0)));
    match with_cwd("/nope") {
        Err(RunnerError::InvalidJob(m)) => assert!(m.contains("does not exist"), "{m}"),
        other => panic!("{other:?}"),
    }
    match with_cwd("/data/file") {
        Err(RunnerError::InvalidJob(m)) => assert!(m.contains("not a directory"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn serves_every_wasmer_spelling() {
    let info = WasiRunner::default().info();
    for uri in [
        "https://webc.org/runner/wasi",
        "https://webc.org/runner/wasi@unstable_",
        "https://webc.org/runner/wasi/command@unstable_",
        "wasi",
    ] {
        let parsed = RunnerUri::parse(uri).unwrap();
        assert!(
            info.serves.iter().any(|s| parsed.matches(s)),
            "{uri} not served"
        );
    }
    for uri in [
        "https://webc.org/runner/wasix",
        "https://webc.org/runner/wasi-nn",
    ] {
        let parsed = RunnerUri::parse(uri).unwrap();
        assert!(!info.serves.iter().any(|s| parsed.matches(s)), "{uri}");
    }
    assert_eq!(info.atom_kinds, [ATOM_KIND]);
}
