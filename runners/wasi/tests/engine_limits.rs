//! Limits across the shared engines: concurrent runs in one process with different time
//! limits (or none) never stop each other, and the memory budget covers every memory and
//! table of a store.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::time::{Duration, Instant};

use webc_runner_api::{Job, JobSpec, Limits, Outcome, Runner, RunnerError};
use webc_runner_wasi::WasiRunner;
use webc_vfs::VfsBuilder;

fn run(wat: &str, limits: Limits) -> (Result<Outcome, RunnerError>, Duration) {
    let wasm = wat::parse_str(wat).unwrap();
    let vfs = VfsBuilder::new().build().unwrap();
    let mut stdin: &[u8] = b"";
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let r = WasiRunner::default().run(Job {
        host: &webc_runner_api::NoHostServices,
        spec: JobSpec {
            command: "prog".into(),
            limits,
            ..JobSpec::default()
        },
        atom: &wasm,
        fs: &vfs,
        stdin: &mut stdin,
        stdout: &mut out,
        stderr: &mut err,
    });
    (r, started.elapsed())
}

const SPIN: &str = r#"(module (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))"#;

/// Sleeps `ms` milliseconds with poll_oneoff, then exits with `code`.
fn sleeper(ms: u64, code: u32) -> String {
    format!(
        r#"(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func $spin_a_little (local $i i32)
        (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 1000)))))
      (func (export "_start")
        (i32.store8 (i32.const 8) (i32.const 0))
        (i32.store (i32.const 16) (i32.const 1))
        (i64.store (i32.const 24) (i64.const {ns}))
        (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
        ;; run some wasm after the sleep, so a stray epoch deadline would be noticed
        (call $spin_a_little)
        (call $exit (i32.const {code}))))"#,
        ns = ms * 1_000_000
    )
}

fn timed(ms: u64) -> Limits {
    Limits {
        memory: None,
        time: Some(Duration::from_millis(ms)),
    }
}

#[test]
fn concurrent_runs_keep_their_own_deadlines() {
    std::thread::scope(|s| {
        let short = s.spawn(|| run(SPIN, timed(200)));
        let long = s.spawn(|| run(SPIN, timed(900)));
        let untimed = s.spawn(|| run(&sleeper(500, 7), Limits::default()));
        let roomy = s.spawn(|| run(&sleeper(500, 9), timed(20_000)));
        let (r, took) = short.join().unwrap();
        assert_eq!(r, Ok(Outcome::Timeout));
        assert!(took >= Duration::from_millis(200), "{took:?}");
        let (r, took) = long.join().unwrap();
        assert_eq!(r, Ok(Outcome::Timeout));
        assert!(
            took >= Duration::from_millis(900),
            "stopped early by another run's deadline: {took:?}"
        );
        assert_eq!(untimed.join().unwrap().0, Ok(Outcome::Exit(7)));
        assert_eq!(roomy.join().unwrap().0, Ok(Outcome::Exit(9)));
    });
    // The ticker thread ends with the last timed run and starts again for the next one.
    assert_eq!(run(SPIN, timed(50)).0, Ok(Outcome::Timeout));
}

#[test]
fn memory_budget_covers_all_memories_and_tables() {
    let four_pages = Limits {
        memory: Some(4 * 65536),
        time: None,
    };
    // Two memories of 2 pages fit; growing the second by one page does not.
    let two = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 2)
      (memory $b 2)
      (func (export "_start")
        (call $exit (i32.add (i32.const 10) (memory.grow $b (i32.const 1))))))"#;
    assert_eq!(run(two, four_pages).0, Ok(Outcome::Exit(9)));
    assert_eq!(run(two, Limits::default()).0, Ok(Outcome::Exit(12)));
    // Two memories of 3 pages: the second does not fit at instantiation.
    let big = r#"(module (memory (export "memory") 3) (memory 3) (func (export "_start")))"#;
    match run(big, four_pages).0 {
        Err(RunnerError::CannotExecute(m)) => assert!(m.contains("memory limit"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Tables count too (a pointer per element): 100 000 elements do not fit in 256 KiB.
    let table = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (table $t 0 funcref)
      (func (export "_start")
        (call $exit (i32.add (i32.const 10) (table.grow $t (ref.null func) (i32.const 100000))))))"#;
    assert_eq!(run(table, four_pages).0, Ok(Outcome::Exit(9)));
    assert_eq!(run(table, Limits::default()).0, Ok(Outcome::Exit(10)));
}
