//! The boundary for real: the echo test runner, once linked statically and once loaded from
//! its cdylib (`cargo build -p webc-runner-test-echo-plugin` first; a missing plugin fails).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::PathBuf;
use std::sync::Mutex;

use webc_runner_api::abi::{LoadError, LoadedRunner};
use webc_runner_api::fs::*;
use webc_runner_api::{Job, JobSpec, Outcome, Runner, RunnerError};
use webc_runner_test_echo::EchoRunner;

/// One read-only file at `/hello.txt`.
struct OneFile {
    open: Mutex<Vec<u64>>,
}

impl FileSystem for OneFile {
    fn preopens(&self) -> Vec<Preopen> {
        vec![Preopen {
            guest_path: "/".into(),
            handle: Handle(3),
        }]
    }
    fn open(&self, dir: Handle, path: &str, _o: OpenOptions) -> FsResult<Handle> {
        if dir != Handle(3) {
            return Err(Errno::Badf);
        }
        if path != "hello.txt" {
            return Err(Errno::Noent);
        }
        self.open.lock().unwrap().push(7);
        Ok(Handle(7))
    }
    fn close(&self, h: Handle) -> FsResult<()> {
        let mut open = self.open.lock().unwrap();
        let i = open.iter().position(|x| *x == h.0).ok_or(Errno::Badf)?;
        open.remove(i);
        Ok(())
    }
    fn handle_info(&self, _h: Handle) -> FsResult<HandleInfo> {
        Ok(HandleInfo {
            read: true,
            ..Default::default()
        })
    }
    fn set_append(&self, _h: Handle, _a: bool) -> FsResult<()> {
        Err(Errno::Notsup)
    }
    fn read(&self, h: Handle, buf: &mut [u8]) -> FsResult<usize> {
        self.pread(h, buf, 0)
    }
    fn pread(&self, h: Handle, buf: &mut [u8], offset: u64) -> FsResult<usize> {
        if h != Handle(7) {
            return Err(Errno::Badf);
        }
        let data = &b"hello from the volume"[offset as usize..];
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
    fn write(&self, _h: Handle, _b: &[u8]) -> FsResult<usize> {
        Err(Errno::Rofs)
    }
    fn pwrite(&self, _h: Handle, _b: &[u8], _o: u64) -> FsResult<usize> {
        Err(Errno::Rofs)
    }
    fn seek(&self, _h: Handle, _o: i64, _w: Whence) -> FsResult<u64> {
        Ok(0)
    }
    fn fstat(&self, _h: Handle) -> FsResult<Stat> {
        Ok(Stat {
            size: 21,
            filetype: Some(FileType::RegularFile),
            ..Default::default()
        })
    }
    fn stat(&self, _d: Handle, _p: &str, _f: bool) -> FsResult<Stat> {
        Err(Errno::Noent)
    }
    fn readdir(&self, _h: Handle, _c: u64, _m: usize) -> FsResult<Vec<DirEntry>> {
        Err(Errno::Notdir)
    }
    fn mkdir(&self, _d: Handle, _p: &str) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn unlink(&self, _d: Handle, _p: &str) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn rmdir(&self, _d: Handle, _p: &str) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn rename(&self, _d: Handle, _p: &str, _nd: Handle, _np: &str) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn symlink(&self, _t: &str, _d: Handle, _p: &str) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn readlink(&self, _d: Handle, _p: &str) -> FsResult<String> {
        Err(Errno::Inval)
    }
    fn link(&self, _d: Handle, _p: &str, _nd: Handle, _np: &str, _f: bool) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn truncate(&self, _h: Handle, _s: u64) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn allocate(&self, _h: Handle, _o: u64, _l: u64) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn set_times(&self, _h: Handle, _a: SetTime, _m: SetTime) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn set_times_at(
        &self,
        _d: Handle,
        _p: &str,
        _f: bool,
        _a: SetTime,
        _m: SetTime,
    ) -> FsResult<()> {
        Err(Errno::Rofs)
    }
    fn sync(&self, _h: Handle, _d: bool) -> FsResult<()> {
        Ok(())
    }
}

fn plugin_dir() -> PathBuf {
    // tests run from target/<profile>/deps/
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_owned()
}

fn echo_plugin() -> LoadedRunner {
    let path = plugin_dir().join("libwebc_runner_test_echo.so");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p webc-runner-test-echo-plugin` first",
        path.display()
    );
    LoadedRunner::load(&path).unwrap()
}

fn run(
    runner: &dyn Runner,
    options: &[(&str, &str)],
    stdin: &[u8],
) -> (Result<Outcome, RunnerError>, String) {
    let fs = OneFile {
        open: Mutex::new(Vec::new()),
    };
    let mut input = stdin;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let spec = JobSpec {
        command: "greet".into(),
        atom_name: "blob".into(),
        args: vec!["a b".into(), "ü".into()],
        env: vec![("K".into(), "V=1".into())],
        options: options
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        ..Default::default()
    };
    let job = Job {
        host: &webc_runner_api::NoHostServices,
        spec,
        atom: b"\0asm",
        fs: &fs,
        stdin: &mut input,
        stdout: &mut out,
        stderr: &mut err,
    };
    let result = runner.run(job);
    assert!(fs.open.lock().unwrap().is_empty(), "handles leaked");
    (result, String::from_utf8(out).unwrap())
}

fn same_behaviour(runner: &dyn Runner) {
    let info = runner.info();
    assert_eq!(info.name, "test-echo");
    let (r, out) = run(
        runner,
        &[
            ("cat", "/hello.txt"),
            ("cat", "/missing"),
            ("behave", "exit:3"),
        ],
        b"in",
    );
    assert_eq!(r.unwrap(), Outcome::Exit(3));
    assert_eq!(
        out,
        "runner=test-echo\ncommand=greet\natom=blob bytes=4\nargs=[\"a b\", \"ü\"]\nenv K=V=1\nstdin=\"in\"\n\
         cat /hello.txt: hello from the volume\ncat /missing: Noent (errno 44)\n"
    );
    let (r, _) = run(runner, &[("behave", "error")], b"");
    assert_eq!(
        r.unwrap_err(),
        RunnerError::CannotExecute("asked to fail".into())
    );
    let (r, _) = run(runner, &[("bogus", "1")], b"");
    assert!(matches!(r, Err(RunnerError::InvalidJob(_))));
}

#[test]
fn static_and_dynamic_runners_behave_alike() {
    same_behaviour(&EchoRunner);
    same_behaviour(&echo_plugin());
}

#[test]
fn a_panicking_plugin_becomes_an_error() {
    let plugin = echo_plugin();
    let (r, _) = run(&plugin, &[("behave", "panic")], b"");
    match r {
        Err(RunnerError::Panicked(msg)) => assert!(msg.contains("asked to panic"), "{msg}"),
        other => panic!("{other:?}"),
    }
    // The host lives on and the plugin still works.
    let (r, _) = run(&plugin, &[], b"");
    assert_eq!(r.unwrap(), Outcome::Exit(0));
}

#[test]
fn broken_pipe_crosses_with_its_kind() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let plugin = echo_plugin();
    let fs = OneFile {
        open: Mutex::new(Vec::new()),
    };
    let mut input: &[u8] = b"";
    let mut err = Vec::new();
    let job = Job {
        host: &webc_runner_api::NoHostServices,
        spec: JobSpec::default(),
        atom: b"",
        fs: &fs,
        stdin: &mut input,
        stdout: &mut Closed,
        stderr: &mut err,
    };
    match plugin.run(job) {
        Err(RunnerError::Other(msg)) => assert!(msg.contains("roken pipe"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn load_errors_are_specific() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let missing = dir.join("nope.so");
    assert!(matches!(
        LoadedRunner::load(&missing),
        Err(LoadError::Open { .. })
    ));
    let garbage = dir.join("garbage.so");
    std::fs::write(&garbage, b"not an ELF file").unwrap();
    let e = LoadedRunner::load(&garbage).unwrap_err();
    assert!(matches!(e, LoadError::Open { .. }), "{e}");
    // A real shared library that is not a plugin.
    let libc = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .unwrap();
    let e = LoadedRunner::load(&libc).unwrap_err();
    assert!(matches!(e, LoadError::NotAPlugin { .. }), "{e}");
}
