//! `webc-runner-wasi` as a library, used only through its public API as another runner
//! (Emscripten) uses it: a store data type wrapping [`WasiCtx`] with a field of its own,
//! WASI linked with [`add_to_linker`] beside a custom `env` import, descriptors opened and
//! duplicated from Rust and then used by the guest, and the shared run/outcome mapping.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use wasmtime::{Caller, Linker};
use webc_runner_api::fs::{FileSystem, OpenOptions};
use webc_runner_api::{JobSpec, Outcome};
use webc_runner_wasi::{
    Abi, CWD_FD, DupAt, EngineKey, Errno, Exit, FdKind, JobIo, Options, ROOT_FD, WasiCtx,
    WasiCtxBuilder, add_to_linker, engine, load_module, rights, run_instance,
};
use webc_vfs::{Vfs, VfsBuilder};

/// Another runner's store data: the WASI context and its own state.
struct EmCtx {
    wasi: WasiCtx,
    /// Descriptor the guest asks for with `env.get_fd`.
    fd: u32,
    /// Sum of the arguments of every `env.bump` call (shared with the test).
    bumps: Arc<AtomicU32>,
}

const WAT: &str = r#"(module
  (import "env" "bump" (func $bump (param i32) (result i32)))
  (import "env" "get_fd" (func $get_fd (result i32)))
  (import "env" "exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hello from wasi\n")
  (func (export "_start") (local $code i32)
    ;; the custom import: its result becomes the exit code
    (local.set $code (call $bump (i32.const 7)))
    ;; stdout: the greeting
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; read the descriptor the host opened into 200.., then echo what was read
    (i32.store (i32.const 16) (i32.const 200))
    (i32.store (i32.const 20) (i32.const 64))
    (if (call $fd_read (call $get_fd) (i32.const 16) (i32.const 1) (i32.const 24))
      (then (call $exit (i32.const 99))))
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.load (i32.const 24)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (local.get $code))))"#;

fn vfs_with_file(contents: &[u8]) -> Vfs {
    let vfs = VfsBuilder::new().tmp(true).build().unwrap();
    let root = vfs
        .preopens()
        .into_iter()
        .find(|p| p.guest_path == "/")
        .unwrap()
        .handle;
    let rw = OpenOptions {
        read: true,
        write: true,
        create: true,
        ..OpenOptions::default()
    };
    let h = vfs.open(root, "tmp/data.txt", rw).unwrap();
    assert_eq!(vfs.write(h, contents).unwrap(), contents.len());
    vfs.close(h).unwrap();
    vfs
}

struct Ran {
    outcome: Outcome,
    stdout: String,
    bumps: u32,
}

/// Runs `WAT` with the descriptor `open` returns (given the context before the run).
fn run(vfs: &Vfs, open: impl FnOnce(&mut WasiCtx) -> u32) -> Ran {
    let spec = JobSpec {
        command: "prog".into(),
        ..JobSpec::default()
    };
    let options = Options::parse(&spec.options).unwrap();
    let entry = engine(EngineKey::for_job(&spec, &options)).unwrap();
    let wasm = wat::parse_str(WAT).unwrap();
    let module = load_module(entry, &spec, &wasm, options.cache).unwrap();
    let mut linker = Linker::<EmCtx>::new(entry.engine());
    add_to_linker(&mut linker, Abi::P1, |d: &mut EmCtx| &mut d.wasi).unwrap();
    linker
        .func_wrap("env", "bump", |caller: Caller<'_, EmCtx>, n: i32| -> i32 {
            caller.data().bumps.fetch_add(n as u32, Ordering::SeqCst);
            n
        })
        .unwrap();
    linker
        .func_wrap("env", "get_fd", |caller: Caller<'_, EmCtx>| -> i32 {
            caller.data().fd as i32
        })
        .unwrap();
    linker
        .func_wrap(
            "env",
            "exit",
            |_: Caller<'_, EmCtx>, code: i32| -> wasmtime::Result<()> {
                Err(wasmtime::Error::new(Exit(code)))
            },
        )
        .unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    let bumps = Arc::new(AtomicU32::new(0));
    let mut stdin: &[u8] = b"";
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let io = JobIo {
        fs: vfs,
        stdin: &mut stdin,
        stdout: &mut out,
        stderr: &mut err,
    };
    let builder = WasiCtxBuilder::for_job(&spec, &options).unwrap();
    let outcome = builder
        .run(io, |mut wasi| {
            let fd = open(&mut wasi);
            let data = EmCtx {
                wasi,
                fd,
                bumps: bumps.clone(),
            };
            run_instance(
                entry,
                &pre,
                data,
                |d: &mut EmCtx| &mut d.wasi,
                &spec,
                &options,
                |store, instance| {
                    let start = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
                    start.call(store, ())
                },
            )
        })
        .unwrap()
        .unwrap();
    assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
    Ran {
        outcome,
        stdout: String::from_utf8(out).unwrap(),
        bumps: bumps.load(Ordering::SeqCst),
    }
}

const READ: u32 = 0;
const NO_OFLAGS: u32 = 0;

#[test]
fn custom_import_and_wasi_output_share_the_store() {
    let vfs = vfs_with_file(b"file contents\n");
    let r = run(&vfs, |wasi| {
        wasi.open(
            ROOT_FD,
            "tmp/data.txt",
            READ,
            NO_OFLAGS,
            rights::FD_READ,
            0,
            0,
        )
        .unwrap()
    });
    assert_eq!(r.outcome, Outcome::Exit(7));
    assert_eq!(r.bumps, 7);
    assert_eq!(r.stdout, "hello from wasi\nfile contents\n");
}

#[test]
fn a_descriptor_opened_and_duplicated_from_rust_is_read_by_the_guest() {
    let vfs = vfs_with_file(b"shared description\n");
    let r = run(&vfs, |wasi| {
        // An absolute path goes under the root preopen whatever the descriptor.
        let fd = wasi
            .open(
                CWD_FD,
                "/tmp/data.txt",
                READ,
                NO_OFLAGS,
                rights::FD_READ,
                0,
                0,
            )
            .unwrap();
        assert_eq!(wasi.kind(fd), Ok(FdKind::File));
        assert_eq!(wasi.kind(0), Ok(FdKind::Stdin));
        assert_eq!(wasi.kind(ROOT_FD), Ok(FdKind::Directory));
        assert_eq!(wasi.filestat(fd).unwrap().size, 19);
        let dup = wasi.dup(fd, DupAt::LowestFrom(10)).unwrap();
        assert_eq!(dup, 10);
        // Closing the original leaves the duplicate's open file description open.
        wasi.close(fd).unwrap();
        assert_eq!(wasi.kind(fd), Err(Errno::BADF));
        dup
    });
    assert_eq!(r.outcome, Outcome::Exit(7));
    assert_eq!(r.stdout, "hello from wasi\nshared description\n");
}

#[test]
fn path_calls_share_the_wasi_checks() {
    let vfs = vfs_with_file(b"x");
    let spec = JobSpec::default();
    let mut stdin: &[u8] = b"";
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let io = JobIo {
        fs: &vfs,
        stdin: &mut stdin,
        stdout: &mut out,
        stderr: &mut err,
    };
    let builder = WasiCtxBuilder::for_job(&spec, &Options::parse(&[]).unwrap()).unwrap();
    let leaked = builder
        .run(io, |mut wasi| {
            // `..` may not climb above the directory descriptor (root is `/`: it may).
            let tmp = wasi
                .open(ROOT_FD, "tmp", READ, 2, rights::FD_READDIR, 0, 0)
                .unwrap();
            assert_eq!(wasi.path_filestat(tmp, "../tmp", true), Err(Errno::PERM));
            wasi.create_directory(tmp, "d").unwrap();
            wasi.symlink("d", tmp, "l").unwrap();
            assert_eq!(wasi.readlink(tmp, "l").unwrap(), "d");
            assert_eq!(
                wasi.path_filestat(tmp, "l", true).unwrap().filetype,
                wasi.path_filestat(tmp, "d", false).unwrap().filetype
            );
            assert_ne!(
                wasi.path_filestat(tmp, "l", false).unwrap().filetype,
                wasi.path_filestat(tmp, "d", false).unwrap().filetype
            );
            wasi.rename(tmp, "data.txt", ROOT_FD, "/tmp/d/moved")
                .unwrap();
            let mut names: Vec<String> = wasi
                .readdir(tmp, 0, 64)
                .unwrap()
                .into_iter()
                .map(|e| e.name)
                .collect();
            names.sort();
            assert_eq!(names, [".", "..", "d", "l"]);
            assert_eq!(wasi.remove_directory(tmp, "d"), Err(Errno::NOTEMPTY));
            wasi.unlink_file(tmp, "d/moved").unwrap();
            wasi.unlink_file(tmp, "l").unwrap();
            wasi.remove_directory(tmp, "d").unwrap();
            assert_eq!(wasi.path_filestat(tmp, "d", true), Err(Errno::NOENT));
            // fdflags round-trip through fd_fdstat_set_flags' rules.
            let f = wasi
                .open(tmp, "new", READ, 1, rights::FD_WRITE, 0, 0)
                .unwrap();
            wasi.set_fdflags(f, webc_runner_wasi::fdflags::APPEND as u16)
                .unwrap();
            assert_eq!(
                wasi.fdstat(f).unwrap().flags,
                webc_runner_wasi::fdflags::APPEND as u16
            );
            assert_eq!(
                wasi.set_fdflags(f, webc_runner_wasi::fdflags::SYNC as u16),
                Err(Errno::INVAL)
            );
            // dup3 onto an open descriptor replaces it.
            assert_eq!(wasi.dup(f, DupAt::Exactly(tmp)), Ok(tmp));
            assert_eq!(wasi.kind(tmp), Ok(FdKind::File));
            wasi
        })
        .unwrap();
    // Out of its job's scope the context refuses everything.
    let mut leaked = leaked;
    assert_eq!(leaked.kind(0), Err(Errno::IO));
    assert_eq!(
        leaked.open(ROOT_FD, "tmp", READ, 2, rights::FD_READDIR, 0, 0),
        Err(Errno::IO)
    );
}
