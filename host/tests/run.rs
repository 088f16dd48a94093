//! `webc-host run` end to end: package → command → permissions → vfs → dlopened runner →
//! exit code, with the echo test plugin (`cargo build -p webc-runner-test-echo-plugin`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]
#![allow(
    clippy::field_reassign_with_default,
    reason = "manifests are built up field by field"
)]

mod common;

use common::{BIN, code, err, out};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ciborium::Value;
use webc_container::Version;
use webc_container::manifest::{
    AtomMeta, Command as Cmd, CommandAnnotations, Manifest, atom_signature,
};
use webc_container::write::{Directory, Entry, Writer};

const ECHO: &str = "https://webc-host.test/runner/echo";

fn plugin_dir() -> PathBuf {
    let dir = Path::new(BIN).parent().unwrap().to_owned();
    let so = dir.join("libwebc_runner_test_echo.so");
    assert!(
        so.exists(),
        "{} is missing: run `cargo build -p webc-runner-test-echo-plugin` first",
        so.display()
    );
    // Only the plugin, so other .so files in target/debug do not get in the way. Tests run
    // in parallel and each `webc-host` they start keeps the plugin mapped until it exits:
    // the copy is made under a temporary name and renamed into place (a new inode), never
    // rewritten in place, which would truncate a library other processes are running
    // (SIGBUS/SIGSEGV in them).
    let only = dir.join("test-plugins-echo");
    std::fs::create_dir_all(&only).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix(".copy-")
        .tempfile_in(&only)
        .unwrap();
    std::fs::copy(&so, tmp.path()).unwrap();
    tmp.persist(only.join("libwebc_runner_test_echo.so"))
        .unwrap();
    only
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

/// A package with commands `echo` (entrypoint), `other`, `web` (wcgi) and optionally a
/// `permissions` annotation on `echo`.
fn package(dir: &Path, permissions: Option<Value>) -> PathBuf {
    use sha2::Digest as _;
    let atom = b"not really a program".to_vec();
    let mut m = Manifest::default();
    m.atoms = Some(
        [(
            "blob".to_owned(),
            AtomMeta {
                kind: "https://example.org/kind/blob".into(),
                signature: atom_signature(&sha2::Sha256::digest(&atom).into()),
                ..Default::default()
            },
        )]
        .into_iter()
        .collect(),
    );
    let mut annotations = CommandAnnotations::default();
    annotations
        .extra
        .insert("atom", Value::Map(vec![(t("name"), t("blob"))]));
    if let Some(p) = permissions {
        annotations.extra.insert("permissions", p);
    }
    let mut other = CommandAnnotations::default();
    other
        .extra
        .insert("atom", Value::Map(vec![(t("name"), t("blob"))]));
    m.commands = Some(
        [
            (
                "echo".to_owned(),
                Cmd {
                    runner: format!("{ECHO}@1"),
                    annotations,
                    ..Default::default()
                },
            ),
            (
                "other".to_owned(),
                Cmd {
                    runner: ECHO.into(),
                    annotations: other.clone(),
                    ..Default::default()
                },
            ),
            (
                "web".to_owned(),
                Cmd {
                    runner: "https://webc.org/runner/wcgi".into(),
                    annotations: other,
                    ..Default::default()
                },
            ),
        ]
        .into_iter()
        .collect(),
    );
    m.entrypoint = Some("echo".into());
    let mut volume = Directory::default();
    volume
        .insert(
            "/hello.txt",
            Entry::File {
                data: Bytes::from_static(b"hi from the volume"),
                modified: 1,
            },
            1,
        )
        .unwrap();
    m.package = Some(webc_container::manifest::PackageAnnotations {
        fs: Some(vec![webc_container::manifest::FsMapping {
            volume_name: "/data".into(),
            mount_path: "/data".into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let w = Writer {
        manifest: m.to_cbor(),
        atoms: [("blob".to_owned(), Bytes::from(atom))]
            .into_iter()
            .collect(),
        volumes: [("/data".to_owned(), volume)].into_iter().collect(),
        ..Default::default()
    };
    let path = dir.join("echo.webc");
    w.write_to(Version::V3, &path).unwrap();
    path
}

struct Env {
    tmp: tempfile::TempDir,
    plugins: PathBuf,
}

impl Env {
    fn new() -> Env {
        Env {
            tmp: tempfile::tempdir().unwrap(),
            plugins: plugin_dir(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("run")
            .arg("--plugins")
            .arg(&self.plugins)
            .arg("--cache-dir")
            .arg(self.tmp.path().join("cache"))
            .args(args)
            .env_remove("WEBC_LOG")
            .env_remove("WEBC_HOST_PLUGINS")
            .env("XDG_DATA_HOME", self.tmp.path().join("xdg"))
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
}

/// Kills `child` with SIGKILL if it is still running after `limit`, so no test waits on a
/// stuck `webc-host` forever (the test then fails on its exit status). Disarmed on drop.
struct Watchdog {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watchdog {
    fn new(child: &std::process::Child, limit: Duration) -> Watchdog {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&done);
        let pid = i32::try_from(child.id()).unwrap();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while start.elapsed() < limit {
                if flag.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !flag.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: signalling our own child, which the test has not reaped yet (the
                // flag is set before it is).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn runs_the_entrypoint_through_the_plugin() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let p = pkg.to_str().unwrap();
    let o = env.run(&[
        "--runner-opt",
        "cat=/data/hello.txt",
        "--runner-opt",
        "behave=exit:7",
        p,
        "--",
        "x",
        "--y",
    ]);
    code(&o, 7);
    let text = out(&o);
    assert!(text.contains("command=echo\n"), "{text}");
    assert!(text.contains("args=[\"x\", \"--y\"]"), "{text}");
    assert!(text.contains("atom=blob bytes=20"), "{text}");
    assert!(
        text.contains("cat /data/hello.txt: hi from the volume"),
        "{text}"
    );
    // A named command; everything after it goes to the program verbatim.
    let o = env.run(&[p, "other", "--", "-v"]);
    code(&o, 0);
    assert!(out(&o).contains("command=other\n"), "{}", out(&o));
    assert!(out(&o).contains("args=[\"--\", \"-v\"]"), "{}", out(&o));
}

#[test]
fn stdin_and_env_grants_reach_the_program() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let mut child = env
        .cmd(&["--env", "A=1", "--env", "HOME", pkg.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = Watchdog::new(&child, Duration::from_secs(120));
    child.stdin.take().unwrap().write_all(b"input!").unwrap();
    let o = child.wait_with_output().unwrap();
    drop(guard);
    code(&o, 0);
    let text = out(&o);
    assert!(text.contains("env A=1\n"), "{text}");
    assert!(
        text.contains(&format!("env HOME={}\n", std::env::var("HOME").unwrap())),
        "{text}"
    );
    assert!(text.contains("stdin=\"input!\""), "{text}");
    // Without a grant, the host environment stays out.
    let o = env.run(&[pkg.to_str().unwrap()]);
    assert!(!out(&o).contains("env "), "{}", out(&o));
}

#[test]
fn unknown_commands_and_runners_exit_127() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let p = pkg.to_str().unwrap();
    let o = env.run(&[p, "nope"]);
    code(&o, 127);
    assert!(
        err(&o).contains("no command \"nope\"") && err(&o).contains("echo, other, web"),
        "{}",
        err(&o)
    );
    let o = env.run(&[p, "web"]);
    code(&o, 127);
    assert!(
        err(&o).contains("https://webc.org/runner/wcgi"),
        "{}",
        err(&o)
    );
    assert!(
        err(&o).contains(ECHO),
        "lists what is available: {}",
        err(&o)
    );
    // The fixtures' WCGI command has no runner.
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/tests/fixtures/sample-v3.webc");
    let o = env.run(&[fixture.to_str().unwrap(), "serve"]);
    code(&o, 127);
    assert!(
        err(&o).contains("https://webc.org/runner/wcgi"),
        "{}",
        err(&o)
    );
}

#[test]
fn runner_failures_map_to_exit_codes() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let p = pkg.to_str().unwrap();
    let o = env.run(&["--runner-opt", "behave=error", p]);
    code(&o, 126);
    assert!(err(&o).contains("asked to fail"), "{}", err(&o));
    let o = env.run(&["--runner-opt", "behave=panic", p]);
    code(&o, 125);
    assert!(
        err(&o).contains("panicked") && err(&o).contains("asked to panic"),
        "{}",
        err(&o)
    );
    let o = env.run(&["--runner-opt", "bogus=1", p]);
    code(&o, 125);
}

#[test]
fn a_hung_runner_is_stopped_at_the_time_limit() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let start = Instant::now();
    let o = env.run(&[
        "--timeout",
        "500ms",
        "--runner-opt",
        "behave=hang",
        pkg.to_str().unwrap(),
    ]);
    code(&o, 124);
    assert!(err(&o).contains("time limit"), "{}", err(&o));
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_closed_stdout_exits_0() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let mut child = env
        .cmd(&["--runner-opt", "behave=flood", pkg.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = Watchdog::new(&child, Duration::from_secs(120));
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 100];
    std::io::Read::read_exact(&mut stdout, &mut buf).unwrap();
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    drop(guard);
    code(&o, 0);
    assert!(err(&o).is_empty(), "{}", err(&o));
}

#[test]
fn tampered_atoms_never_run() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let mut bytes = std::fs::read(&pkg).unwrap();
    let at = bytes.windows(8).position(|w| w == b"not real").unwrap();
    bytes[at] ^= 1;
    std::fs::write(&pkg, &bytes).unwrap();
    let o = env.run(&[pkg.to_str().unwrap()]);
    code(&o, 125);
    assert!(
        err(&o).contains("refusing to run") && err(&o).contains("atom \"blob\""),
        "{}",
        err(&o)
    );
    assert!(out(&o).is_empty());
}

#[test]
fn permissions_are_declared_intersect_granted() {
    let env = Env::new();
    let declared = Value::Map(vec![
        (
            t("fs"),
            Value::Array(vec![Value::Map(vec![
                (t("guest"), t("/out")),
                (t("mode"), t("ro")),
            ])]),
        ),
        (t("env"), Value::Array(vec![t("LANG")])),
    ]);
    let pkg = package(env.tmp.path(), Some(declared));
    let p = pkg.to_str().unwrap();
    let host_dir = env.tmp.path().join("out");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("f.txt"), b"host file").unwrap();
    // A grant beyond the declaration is refused, naming it.
    let o = env.run(&["--env", "HOME=/x", p]);
    code(&o, 125);
    assert!(
        err(&o).contains("--env HOME") && err(&o).contains("declared env: LANG"),
        "{}",
        err(&o)
    );
    let mount = format!("{}:/elsewhere", host_dir.display());
    let o = env.run(&["--mount", &mount, p]);
    code(&o, 125);
    assert!(err(&o).contains("permission refused"), "{}", err(&o));
    // A covered grant works, at the stricter mode; --explain shows declared vs granted.
    let mount = format!("{}:/out:rw", host_dir.display());
    let o = env.run(&["--mount", &mount, "--explain", p]);
    code(&o, 0);
    let text = out(&o);
    assert!(text.contains("/out (ro)"), "{text}");
    assert!(text.contains("absent:   env LANG"), "{text}");
    let o = env.run(&["--mount", &mount, "--runner-opt", "cat=/out/f.txt", p]);
    code(&o, 0);
    assert!(out(&o).contains("cat /out/f.txt: host file"), "{}", out(&o));
    // Declared but not granted: absent.
    let o = env.run(&["--runner-opt", "cat=/out/f.txt", p]);
    code(&o, 0);
    assert!(out(&o).contains("cat /out/f.txt: Noent"), "{}", out(&o));
}

#[test]
fn atom_verification_is_remembered_per_package_file() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let p = pkg.to_str().unwrap();
    // A file changed less than 100 ms before it is opened is not remembered (its change
    // time could repeat): let the new package age first.
    std::thread::sleep(Duration::from_millis(150));
    let first = env
        .cmd(&[p])
        .env("WEBC_LOG", "webc_host=debug")
        .output()
        .unwrap();
    code(&first, 0);
    assert!(!err(&first).contains("cache hit"), "{}", err(&first));
    let second = env
        .cmd(&[p])
        .env("WEBC_LOG", "webc_host=debug")
        .output()
        .unwrap();
    code(&second, 0);
    assert!(
        err(&second).contains("atom verified before (cache hit)"),
        "{}",
        err(&second)
    );
    // Rewriting the file with a tampered atom invalidates the memory (new inode, mtime).
    let mut bytes = std::fs::read(&pkg).unwrap();
    let at = bytes.windows(8).position(|w| w == b"not real").unwrap();
    bytes[at] ^= 1;
    let tmp = pkg.with_extension("tmp");
    std::fs::write(&tmp, &bytes).unwrap();
    std::fs::rename(&tmp, &pkg).unwrap();
    let third = env.run(&[p]);
    code(&third, 125);
    assert!(err(&third).contains("refusing to run"), "{}", err(&third));
}

#[test]
fn ctrl_c_ends_the_run_like_a_shell_expects() {
    use std::os::unix::process::ExitStatusExt as _;
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let mut child = env
        .cmd(&["--runner-opt", "behave=hang", pkg.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = Watchdog::new(&child, Duration::from_secs(120));
    // Wait until the runner is running (it prints its job first).
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 8];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending SIGINT to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    drop(guard);
    // Killed by SIGINT: a shell reports 128 + 2 = 130.
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
}

#[test]
fn directories_and_bare_modules_run_too() {
    let env = Env::new();
    // A wasmer.toml project is packed in memory and run.
    let dir = env.tmp.path().join("project");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m.bin"), b"module bytes").unwrap();
    std::fs::write(
        dir.join("wasmer.toml"),
        format!(
            "[package]\nname = \"t/p\"\nversion = \"0.1.0\"\n\n[[module]]\nname = \"m\"\nsource = \"m.bin\"\n\n\
             [[command]]\nname = \"go\"\nmodule = \"m\"\nrunner = \"{ECHO}\"\n"
        ),
    )
    .unwrap();
    let o = env.run(&[dir.to_str().unwrap(), "--", "arg"]);
    code(&o, 0);
    assert!(
        out(&o).contains("command=go\natom=m bytes=12\nargs=[\"arg\"]"),
        "{}",
        out(&o)
    );
    // A bare module becomes a one-command WASI package named after the file (the WASI
    // plugin sits beside the binary; host/tests/wasi.rs tests it in depth).
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/tests/fixtures/hello.wasm");
    let o = env.run(&[wasm.to_str().unwrap()]);
    code(&o, 0);
    assert_eq!(out(&o), "hello\n");
}

#[test]
fn runner_opt_backend_selects_the_runner_and_is_not_forwarded() {
    let env = Env::new();
    let pkg = package(env.tmp.path(), None);
    let p = pkg.to_str().unwrap();
    // `test-echo` has backend `echo`; the echo runner refuses unknown options, so exit 0
    // also proves `backend` never reached it.
    let o = env.run(&["--runner-opt", "backend=echo", p]);
    code(&o, 0);
    let o = env.run(&["--runner-opt", "backend=gpu", p]);
    code(&o, 125);
    assert!(
        err(&o).contains("--runner-opt backend=gpu: no runner for https://webc-host.test/runner/echo has backend `gpu` (runners: test-echo)"),
        "{}",
        err(&o)
    );
}
