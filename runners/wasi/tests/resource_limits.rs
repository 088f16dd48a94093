//! Resources a guest could take from the host: descriptors are capped per run (`EMFILE` to
//! the guest), and the time limit holds for every blocking call.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use webc_runner_api::{Job, JobSpec, Limits, Outcome, Runner, RunnerError};
use webc_runner_wasi::WasiRunner;
use webc_vfs::{Mode, Vfs, VfsBuilder};

/// Runs `wat` on `vfs` with `limits` and runner `options`; returns the outcome and stdout.
fn run(
    wat: &str,
    vfs: &Vfs,
    limits: Limits,
    options: &[(&str, &str)],
    stdin: &mut (dyn Read + Send),
) -> (Result<Outcome, RunnerError>, Vec<u8>) {
    let wasm = wat::parse_str(wat).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let r = WasiRunner::default().run(Job {
        host: &webc_runner_api::NoHostServices,
        spec: JobSpec {
            command: "prog".into(),
            limits,
            options: options
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..JobSpec::default()
        },
        atom: &wasm,
        fs: vfs,
        stdin,
        stdout: &mut out,
        stderr: &mut err,
    });
    (r, out)
}

/// Runs `f` on its own thread and fails the test if it has not finished after 30 s (so a
/// regression cannot hang the suite).
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the run did not end within 30 s")
}

/// Opens `data/f` (a file of a granted host directory: each open holds a host descriptor)
/// until `path_open` fails; writes to stdout the number opened, the errno, and the errno of
/// one more open after closing one descriptor (0 = it worked); exits 0.
const OPEN_UNTIL_REFUSED: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "data/f")
  (func $open_f (result i32)
    ;; fd 4 is `/`; follow symlinks; read right; the new fd goes to 100.
    (call $open (i32.const 4) (i32.const 1) (i32.const 16) (i32.const 6) (i32.const 0)
      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 100)))
  (func (export "_start") (local $n i32) (local $err i32)
    (block $done
      (loop $l
        (local.set $err (call $open_f))
        (br_if $done (local.get $err))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        ;; a runaway guard: the host's own limit is far above any cap tested here
        (br_if $done (i32.ge_u (local.get $n) (i32.const 100000)))
        (br $l)))
    (i32.store (i32.const 200) (local.get $n))
    (i32.store (i32.const 204) (local.get $err))
    ;; fd 5 is the first file opened: closing it makes room for one more.
    (drop (call $close (i32.const 5)))
    (i32.store (i32.const 208) (call $open_f))
    (i32.store (i32.const 300) (i32.const 200))
    (i32.store (i32.const 304) (i32.const 12))
    (drop (call $write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 400)))))"#;

const EMFILE: u32 = 33;

fn opened_errno_reopened(out: &[u8]) -> (u32, u32, u32) {
    assert_eq!(out.len(), 12, "{out:?}");
    let word = |i: usize| u32::from_le_bytes(out[i..i + 4].try_into().unwrap());
    (word(0), word(4), word(8))
}

fn grant() -> (tempfile::TempDir, Vfs) {
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("f"), b"x").unwrap();
    let vfs = VfsBuilder::new()
        .grant_dir(host.path(), "/data", Mode::ReadOnly)
        .unwrap()
        .tmp(true)
        .build()
        .unwrap();
    (host, vfs)
}

#[test]
fn a_guest_holds_at_most_max_fds_descriptors_and_gets_emfile() {
    bounded(|| {
        let (_host, vfs) = grant();
        // Default: 1024 in all, of which stdio and the two preopens are 5.
        let (r, out) = run(
            OPEN_UNTIL_REFUSED,
            &vfs,
            Limits::default(),
            &[],
            &mut &b""[..],
        );
        assert_eq!(r, Ok(Outcome::Exit(0)));
        assert_eq!(opened_errno_reopened(&out), (1024 - 5, EMFILE, 0));
        // The runner option sets another cap.
        let (r, out) = run(
            OPEN_UNTIL_REFUSED,
            &vfs,
            Limits::default(),
            &[("max-fds", "40")],
            &mut &b""[..],
        );
        assert_eq!(r, Ok(Outcome::Exit(0)));
        assert_eq!(opened_errno_reopened(&out), (40 - 5, EMFILE, 0));
        // Nothing of the guest's descriptors outlives the run.
        let again = run(
            OPEN_UNTIL_REFUSED,
            &vfs,
            Limits::default(),
            &[("max-fds", "40")],
            &mut &b""[..],
        );
        assert_eq!(opened_errno_reopened(&again.1), (40 - 5, EMFILE, 0));
    });
}

fn timed(ms: u64) -> Limits {
    Limits {
        memory: None,
        time: Some(Duration::from_millis(ms)),
    }
}

/// Sleeps 60 s with one relative clock subscription of `poll_oneoff`, then exits 7.
const SLEEP_60S: &str = r#"(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 60000000000))
    (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
    (call $exit (i32.const 7))))"#;

#[test]
fn a_long_sleep_ends_at_the_time_limit() {
    let outcome = bounded(|| {
        let vfs = VfsBuilder::new().build().unwrap();
        run(SLEEP_60S, &vfs, timed(1000), &[], &mut &b""[..]).0
    });
    assert_eq!(outcome, Ok(Outcome::Timeout));
}

/// Yields forever.
const YIELD_LOOP: &str = r#"(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (drop (call $yield)) (br $l))))"#;

#[test]
fn a_yield_loop_ends_at_the_time_limit() {
    let outcome = bounded(|| {
        let vfs = VfsBuilder::new().build().unwrap();
        run(YIELD_LOOP, &vfs, timed(300), &[], &mut &b""[..]).0
    });
    assert_eq!(outcome, Ok(Outcome::Timeout));
}

/// Reads stdin until end of file or an error; exits 100 + errno on an error, 0 at the end.
const READ_STDIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $err i32)
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 256))
    (loop $l
      (local.set $err (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
      (if (local.get $err) (then (call $exit (i32.add (i32.const 100) (local.get $err)))))
      (br_if $l (i32.load (i32.const 16))))
    (call $exit (i32.const 0))))"#;

/// Stdin as `webc-host` gives it to a timed run: a real pipe, read on a helper thread, whose
/// reads fail with `ErrorKind::TimedOut` once the run's deadline has passed.
struct DeadlineStdin {
    chunks: mpsc::Receiver<Vec<u8>>,
    deadline: std::time::Instant,
}

impl DeadlineStdin {
    fn new(mut pipe: std::io::PipeReader, limit: Duration) -> DeadlineStdin {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        DeadlineStdin {
            chunks: rx,
            deadline: std::time::Instant::now() + limit,
        }
    }
}

impl Read for DeadlineStdin {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        match self.chunks.recv_timeout(left) {
            Ok(chunk) => {
                // The test writes chunks smaller than any read buffer.
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(std::io::ErrorKind::TimedOut.into()),
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(0),
        }
    }
}

#[test]
fn a_read_blocked_on_stdin_ends_the_run_as_a_timeout() {
    let (reader, mut writer) = std::io::pipe().unwrap();
    let outcome = bounded(move || {
        let vfs = VfsBuilder::new().build().unwrap();
        let mut stdin = DeadlineStdin::new(reader, Duration::from_millis(800));
        run(READ_STDIN, &vfs, timed(800), &[], &mut stdin).0
    });
    // Not an errno for the program (before: EIO, exit 129): the run timed out.
    assert_eq!(outcome, Ok(Outcome::Timeout));
    // The writer stayed open all along, so the read really was blocked.
    let _ = std::io::Write::write_all(&mut writer, b"late");
}

/// Writes "tick" to stdout forever.
const WRITE_LOOP: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "tick")
  (func (export "_start") (local $err i32)
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 4))
    (loop $l
      (local.set $err (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (if (local.get $err) (then (call $exit (i32.add (i32.const 100) (local.get $err)))))
      (br $l))))"#;

/// A stdout whose writes fail with `ErrorKind::TimedOut` after `ok` successful ones, as the
/// host's stdout does for a write blocked past the deadline.
struct TimedOutAfter {
    ok: usize,
    written: Vec<u8>,
}

impl std::io::Write for TimedOutAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.ok == 0 {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.ok -= 1;
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_write_timing_out_on_stdout_ends_the_run_as_a_timeout() {
    let (outcome, written) = bounded(|| {
        let vfs = VfsBuilder::new().build().unwrap();
        let wasm = wat::parse_str(WRITE_LOOP).unwrap();
        let mut stdout = TimedOutAfter {
            ok: 3,
            written: Vec::new(),
        };
        let r = WasiRunner::default().run(Job {
            host: &webc_runner_api::NoHostServices,
            spec: JobSpec {
                command: "prog".into(),
                ..JobSpec::default()
            },
            atom: &wasm,
            fs: &vfs,
            stdin: &mut &b""[..],
            stdout: &mut stdout,
            stderr: &mut Vec::new(),
        });
        (r, stdout.written)
    });
    assert_eq!(outcome, Ok(Outcome::Timeout));
    assert_eq!(written, b"ticktickticktick"[..12].to_vec());
}
