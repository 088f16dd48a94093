//! End-to-end tests of native programs through the command line: `webc-host pack --posix`
//! and a `wasmer.toml` with `kind = "elf"` packed by the real binary, then `webc-host run`,
//! which loads the POSIX plugin (`libwebc_runner_posix.so`) from beside the binary and hands
//! the guest this process's own descriptors. The programs are the POSIX runner's
//! (`runners/posix/tests/programs`); the sandbox itself is tested case by case in
//! `runners/posix/tests/conformance.rs`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use common::{BIN, code, err, manifest_dir, out};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn program(name: &str) -> PathBuf {
    let path = manifest_dir()
        .join("../runners/posix/tests/programs")
        .join(name);
    assert!(path.exists(), "{} is missing", path.display());
    path
}

struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        common::plugin("webc_runner_posix");
        Env {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// `webc-host pack --posix <program>`, returning the package.
    fn pack_posix(&self, name: &str) -> PathBuf {
        let bin = self.path(name);
        std::fs::copy(program(name), &bin).unwrap();
        let pkg = self.path(&format!("{name}.webc"));
        let o = Command::new(BIN)
            .arg("pack")
            .arg("--posix")
            .arg(&bin)
            .arg("-o")
            .arg(&pkg)
            .output()
            .unwrap();
        code(&o, 0);
        pkg
    }

    fn run(&self, pkg: &Path) -> Command {
        let mut c = common::isolated_run(self.tmp.path());
        c.arg(pkg);
        c
    }
}

#[test]
fn pack_posix_records_the_architecture_and_runs() {
    let env = Env::new();
    let pkg = env.pack_posix("probe");
    let o = Command::new(BIN)
        .args(["inspect", "--json"])
        .arg(&pkg)
        .output()
        .unwrap();
    code(&o, 0);
    let text = out(&o);
    assert!(text.contains("https://webc.org/kind/elf"), "{text}");
    assert!(text.contains("https://webc.org/runner/posix"), "{text}");
    assert!(text.contains(std::env::consts::ARCH), "{text}");

    let o = env.run(&pkg).args(["--", "hello"]).output().unwrap();
    code(&o, 0);
    assert_eq!(out(&o), "hello from a native program\n");
}

#[test]
fn pack_posix_refuses_what_is_not_an_executable() {
    let env = Env::new();
    let not_elf = env.path("script");
    std::fs::write(&not_elf, "#!/bin/sh\necho hi\n").unwrap();
    let o = Command::new(BIN)
        .arg("pack")
        .arg("--posix")
        .arg(&not_elf)
        .arg("-o")
        .arg(env.path("x.webc"))
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(
        err(&o).contains("is not a native executable: not an ELF executable: a script"),
        "{}",
        err(&o)
    );
    assert!(!env.path("x.webc").exists());
}

#[test]
fn exit_codes_and_signals_pass_through() {
    let env = Env::new();
    let pkg = env.pack_posix("probe");
    code(
        &env.run(&pkg).args(["--", "exit", "7"]).output().unwrap(),
        7,
    );
    code(
        &env.run(&pkg).args(["--", "signal", "15"]).output().unwrap(),
        128 + 15,
    );
}

#[test]
fn stdio_is_the_hosts_own() {
    let env = Env::new();
    let pkg = env.pack_posix("probe");
    let mut child = env
        .run(&pkg)
        .args(["--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped through\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    code(&o, 0);
    assert_eq!(out(&o), "piped through\n");
    assert!(err(&o).ends_with("cat: done\n"), "{}", err(&o));
}

#[test]
fn timeout_is_124_and_leaves_no_process() {
    let env = Env::new();
    let pkg = env.pack_posix("probe");
    let marker = format!("cli-spin-{}", std::process::id());
    let started = Instant::now();
    let o = common::isolated_run(env.tmp.path())
        .args(["--timeout", "1s"])
        .arg(&pkg)
        .args(["--", "spin", &marker])
        .output()
        .unwrap();
    code(&o, 124);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(guest_processes(&marker).is_empty());
}

#[test]
fn the_sandbox_dies_with_the_host() {
    let env = Env::new();
    let pkg = env.pack_posix("probe");
    let marker = format!("orphan-spin-{}", std::process::id());
    let mut host = env
        .run(&pkg)
        .args(["--", "spin", &marker])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while guest_processes(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the guest never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    host.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    host.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !guest_processes(&marker).is_empty() {
        assert!(
            Instant::now() < deadline,
            "guest processes outlived the host: {:?}",
            guest_processes(&marker)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn dynamic_programs_need_a_declared_and_granted_host_libs() {
    let env = Env::new();
    let project = env.path("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::copy(program("hello-dyn"), project.join("hello-dyn")).unwrap();
    std::fs::write(
        project.join("wasmer.toml"),
        r#"
[package]
name = "test/hello-dyn"
version = "0.1.0"

[[module]]
name = "hello-dyn"
source = "hello-dyn"
kind = "elf"
abi = "none"

[[command]]
name = "hello-dyn"
module = "hello-dyn"
runner = "posix"

[command.annotations.posix]
host-libs = true
"#,
    )
    .unwrap();
    let pkg = env.path("dyn.webc");
    let o = Command::new(BIN)
        .arg("pack")
        .arg(&project)
        .arg("-o")
        .arg(&pkg)
        .output()
        .unwrap();
    code(&o, 0);

    let o = env.run(&pkg).output().unwrap();
    code(&o, 126);
    assert!(err(&o).contains("dynamically linked"), "{}", err(&o));
    assert!(
        err(&o).contains("--runner-opt host-libs=yes"),
        "{}",
        err(&o)
    );
    assert_eq!(err(&o).lines().count(), 1, "{}", err(&o));

    let o = common::isolated_run(env.tmp.path())
        .args(["--runner-opt", "host-libs=yes"])
        .arg(&pkg)
        .output()
        .unwrap();
    code(&o, 0);
    assert_eq!(out(&o), "hello from a dynamically linked program\n");
}

#[test]
fn runners_lists_the_posix_runner() {
    common::plugin("webc_runner_posix");
    let o = Command::new(BIN)
        .arg("runners")
        .env_remove("WEBC_HOST_PLUGINS")
        .output()
        .unwrap();
    code(&o, 0);
    let text = out(&o);
    let line = text
        .lines()
        .find(|l| l.contains("https://webc.org/runner/posix"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(!line.contains("unavailable"), "{line}");
}

/// A user other than root runs a package with a volume: the volume is materialised into
/// that user's cache (moving a staged directory needs write permission on it, which root
/// never lacks) and the sandbox works without a pids cgroup (`RLIMIT_NPROC` applies).
#[test]
fn an_unprivileged_user_runs_a_package_with_a_volume() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new();
    let project = env.path("project");
    std::fs::create_dir_all(project.join("data")).unwrap();
    std::fs::copy(program("probe"), project.join("probe")).unwrap();
    std::fs::write(project.join("data/hello.txt"), "hello from a volume\n").unwrap();
    std::fs::write(
        project.join("wasmer.toml"),
        "[package]\nname = \"t/v\"\nversion = \"0.1.0\"\n[[module]]\nname = \"probe\"\n\
         source = \"probe\"\nkind = \"elf\"\nabi = \"none\"\n[[command]]\nname = \"probe\"\n\
         module = \"probe\"\nrunner = \"posix\"\n[fs]\n\"/data\" = \"data\"\n",
    )
    .unwrap();
    let pkg = env.path("vol.webc");
    code(
        &Command::new(BIN)
            .arg("pack")
            .arg(&project)
            .arg("-o")
            .arg(&pkg)
            .output()
            .unwrap(),
        0,
    );
    // A directory `nobody` owns for its cache; the package readable by all.
    let home = env.path("nobody");
    std::fs::create_dir(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(65534), Some(65534)).unwrap();
    for p in [env.tmp.path(), pkg.as_path()] {
        let mode = std::fs::metadata(p).unwrap().permissions().mode();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode | 0o755)).unwrap();
    }
    let cache = home.join("cache");
    for round in ["first", "warm"] {
        let o = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                BIN,
                "run",
            ])
            .arg("--cache-dir")
            .arg(&cache)
            .arg(&pkg)
            .args(["--", "read", "/data/hello.txt"])
            .env_remove("WEBC_HOST_PLUGINS")
            .env("XDG_DATA_HOME", home.join("xdg"))
            .env("HOME", &home)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        code(&o, 0);
        assert_eq!(out(&o), "hello from a volume\n", "{round} run");
    }
    let volumes: Vec<String> = std::fs::read_dir(cache.join("volumes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(volumes.len(), 1, "no staging left behind: {volumes:?}");
    assert!(!volumes[0].starts_with(".tmp"), "{volumes:?}");
}

/// On a kernel that gives no user namespaces (simulated inside one of ours whose
/// `user.max_user_namespaces` is 0), `runners` says why and how to enable them, and `run`
/// refuses instead of running the program with less isolation.
#[test]
fn without_user_namespaces_the_runner_is_unavailable_and_says_why() {
    let env = Env::new();
    let pkg = env.pack_posix("probe");
    let plugins = Path::new(BIN).parent().unwrap();
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces || exit 99; \
         \"$0\" runners --plugins '{plugins}'; \
         \"$0\" run --cache-dir '{cache}' '{pkg}' -- hello; echo \"run exit $?\"",
        plugins = plugins.display(),
        cache = env.path("cache").display(),
        pkg = pkg.display(),
    );
    let o = Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c", &script, BIN])
        .env_remove("WEBC_HOST_PLUGINS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = out(&o);
    let line = text
        .lines()
        .find(|l| l.starts_with("posix "))
        .unwrap_or_else(|| panic!("stdout: {text}\nstderr: {}", err(&o)));
    assert!(
        line.contains("unavailable") && line.contains("user namespaces") && line.contains("sysctl"),
        "{line}"
    );
    assert!(!text.contains("hello from a native program"), "{text}");
    assert!(text.contains("run exit 125"), "{text}");
    assert!(err(&o).contains("user namespaces"), "{}", err(&o));
}

/// Host pids of guests whose command line holds `marker` (not the `webc-host run` whose
/// arguments hold it too).
fn guest_processes(marker: &str) -> Vec<u32> {
    webc_runner_testkit::processes_with(marker)
        .into_iter()
        .filter(|(_, cmdline)| !cmdline.contains("webc-host"))
        .map(|(pid, _)| pid)
        .collect()
}
