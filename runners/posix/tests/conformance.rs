//! The POSIX runner's conformance suite: real packages (`tests/programs/probe`, a static
//! musl program, and `hello-dyn`, a glibc one; built by `scripts/build-posix-tests.sh`) run
//! through a real host (`webc_host::run::Host`, which writes volumes with `materialise` and
//! builds the mount table) with the runner registered statically **and** dlopened from
//! `libwebc_runner_posix.so`. Every positive path and every denial of the issue is a case.
//! The sandbox is the backend: where user namespaces, landlock or seccomp are missing the
//! cases are ignored locally with the reason and fail under CI.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]
#![allow(clippy::expect_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use webc_container::Container;
use webc_host::permissions::{Grants, Mode, Mount};
use webc_host::run::{Host, Package, RunOptions, Stdio};
use webc_runner_api::{Outcome, Runner, RunnerError};
use webc_runner_posix::PosixRunner;
use webc_runner_testkit::{Backend, Suite, Way, processes_with, reach};

const PLUGIN: &str = "webc_runner_posix";

static SANDBOX: Backend = Backend::new(
    "the POSIX sandbox (user namespaces, landlock, seccomp)",
    "see docs/posix.md: enable unprivileged user namespaces and landlock",
    || {
        webc_runner_posix::sandbox::probe()
            .map(|_| ())
            .map_err(|e| e.to_string())
    },
);

fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs")
}

fn program(name: &str) -> Vec<u8> {
    std::fs::read(programs().join(name)).unwrap()
}

/// A package from a `wasmer.toml` and files, packed in memory as `webc-host pack` would.
fn package(toml: &str, files: &[(&str, &[u8])]) -> Package {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wasmer.toml"), toml).unwrap();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let bytes = webc_pack::Package::from_dir(dir.path())
        .unwrap()
        .to_bytes()
        .unwrap();
    Package {
        container: Container::from_bytes(bytes).unwrap(),
        file: None,
        identity: None,
    }
}

/// A package whose one command, `name`, runs module `name` (of atom kind `kind`) on the
/// POSIX runner; `posix` is the body of the command's `posix` annotation, `fs` the `[fs]`
/// table's body.
fn one_program_package(
    name: &str,
    kind: &str,
    posix: &str,
    fs: &str,
    files: &[(&str, &[u8])],
) -> Package {
    let toml = format!(
        r#"
[package]
name = "test/{name}"
version = "0.1.0"

[[module]]
name = "{name}"
source = "{name}"
kind = "{kind}"
abi = "none"

[[command]]
name = "{name}"
module = "{name}"
runner = "posix"

[command.annotations.posix]
{posix}

[fs]
{fs}
"#
    );
    package(&toml, files)
}

/// The probe as command `probe`, with volume `data` (holding `hello.txt`) at `/data`.
fn probe_package() -> Package {
    one_program_package(
        "probe",
        "elf",
        r#"env = ["FROM_PACKAGE=yes"]"#,
        r#""/data" = "data""#,
        &[
            ("probe", &program("probe")),
            ("data/hello.txt", b"hello from a volume\n"),
            ("data/sub/deep.txt", b"deep\n"),
        ],
    )
}

fn dyn_package(declares_host_libs: bool) -> Package {
    one_program_package(
        "hello-dyn",
        "elf",
        &format!("host-libs = {declares_host_libs}"),
        "",
        &[("hello-dyn", &program("hello-dyn"))],
    )
}

struct Ran {
    result: Result<Outcome, webc_host::Error>,
    out: String,
    err: String,
}

impl Ran {
    fn exit(&self) -> i32 {
        match &self.result {
            Ok(Outcome::Exit(c)) => *c,
            other => panic!("expected an exit, got {other:?}; stderr: {}", self.err),
        }
    }

    /// Exit 0 and stdout.
    fn ok(&self) -> &str {
        assert_eq!(self.exit(), 0, "stdout: {}\nstderr: {}", self.out, self.err);
        &self.out
    }

    fn runner_error(&self) -> &RunnerError {
        match &self.result {
            Err(webc_host::Error::Runner { error, .. }) => error,
            other => panic!("expected a runner error, got {other:?}"),
        }
    }
}

struct Ctx {
    way: Way,
    runner: Arc<dyn Runner>,
    cache: tempfile::TempDir,
}

impl Ctx {
    fn new(way: Way) -> Ctx {
        Ctx {
            way,
            runner: reach(way, Arc::new(PosixRunner::new()), PLUGIN),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn host(&self) -> Host {
        Host::builder()
            .register(Arc::clone(&self.runner))
            .cache_dir(self.cache.path())
            .build()
            .unwrap()
    }

    fn run_with(&self, pkg: &Package, opts: RunOptions, stdin: &[u8]) -> Ran {
        let mut input = stdin;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = self.host().run(
            pkg,
            &opts,
            Stdio {
                stdin: &mut input,
                stdout: &mut out,
                stderr: &mut err,
            },
        );
        Ran {
            result,
            out: String::from_utf8_lossy(&out).into_owned(),
            err: String::from_utf8_lossy(&err).into_owned(),
        }
    }

    /// `probe ARGS` in the plain probe package, with `grants` and `--runner-opt`s.
    fn probe(&self, args: &[&str], grants: Grants, runner_opts: &[(&str, &str)]) -> Ran {
        self.run_with(&probe_package(), options(args, grants, runner_opts), b"")
    }
}

fn options(args: &[&str], grants: Grants, runner_opts: &[(&str, &str)]) -> RunOptions {
    RunOptions {
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        grants,
        runner_options: runner_opts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..RunOptions::default()
    }
}

fn mount(host: &Path, guest: &str, mode: Mode) -> Grants {
    Grants {
        mounts: vec![Mount {
            host: host.to_owned(),
            guest: guest.to_owned(),
            mode,
        }],
        ..Grants::default()
    }
}

fn line_of<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {text:?}"))
}

type Case = fn(&Ctx);

fn cases() -> Vec<(&'static str, Case)> {
    vec![
        // --- positive paths
        ("hello", |c| {
            assert_eq!(
                c.probe(&["hello"], Grants::default(), &[]).ok(),
                "hello from a native program\n"
            );
        }),
        ("args_and_argv0", |c| {
            let r = c.probe(&["args", "a b", "-x"], Grants::default(), &[]);
            assert_eq!(
                r.ok(),
                "argv[0]=probe\nargv[1]=args\nargv[2]=a b\nargv[3]=-x\n"
            );
        }),
        ("env_is_the_package_and_the_grant_only", |c| {
            let grants = Grants {
                env: vec![("GRANTED".into(), Some("1".into()))],
                ..Grants::default()
            };
            let r = c.probe(&["env"], grants, &[]);
            let mut lines: Vec<&str> = r.ok().lines().collect();
            lines.sort_unstable();
            // Nothing of the host's (this process has HOME, PATH, CARGO_*, ...).
            assert_eq!(lines, ["FROM_PACKAGE=yes", "GRANTED=1"], "{}", r.out);
        }),
        ("stdin_stdout_stderr", |c| {
            let r = c.run_with(
                &probe_package(),
                options(&["cat"], Grants::default(), &[]),
                b"line 1\nline 2\n",
            );
            assert_eq!(r.ok(), "line 1\nline 2\n");
            assert_eq!(r.err, "cat: done\n");
        }),
        ("exit_code", |c| {
            assert_eq!(c.probe(&["exit", "42"], Grants::default(), &[]).exit(), 42);
        }),
        ("signal_death_is_128_plus_n", |c| {
            assert_eq!(
                c.probe(&["signal", "11"], Grants::default(), &[]).exit(),
                128 + 11
            );
            assert_eq!(
                c.probe(&["signal", "9"], Grants::default(), &[]).exit(),
                128 + 9
            );
            assert_eq!(
                c.probe(&["signal", "6"], Grants::default(), &[]).exit(),
                128 + 6
            );
        }),
        ("reads_its_volume", |c| {
            let r = c.probe(&["read", "/data/hello.txt"], Grants::default(), &[]);
            assert_eq!(r.ok(), "hello from a volume\n");
            let r = c.probe(&["read", "/data/sub/deep.txt"], Grants::default(), &[]);
            assert_eq!(r.ok(), "deep\n");
        }),
        ("volumes_are_materialised_once_read_only", |c| {
            c.probe(&["hello"], Grants::default(), &[]).ok();
            let volumes = c.cache.path().join("volumes");
            let entries: Vec<_> = std::fs::read_dir(&volumes).unwrap().flatten().collect();
            assert_eq!(entries.len(), 1, "{entries:?}");
            let dir = entries[0].path();
            assert_eq!(dir.file_name().unwrap().len(), 64, "keyed by SHA-256");
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join("hello.txt"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o222, 0, "read-only: {mode:o}");
            let before = std::fs::metadata(&dir).unwrap().modified().unwrap();
            c.probe(&["read", "/data/hello.txt"], Grants::default(), &[])
                .ok();
            assert_eq!(std::fs::metadata(&dir).unwrap().modified().unwrap(), before);
            assert_eq!(std::fs::read_dir(&volumes).unwrap().count(), 1);
        }),
        ("writes_a_granted_rw_dir", |c| {
            let out = tempfile::tempdir().unwrap();
            let r = c.probe(
                &["write", "/out/result.txt", "written"],
                mount(out.path(), "/out", Mode::Rw),
                &[],
            );
            assert_eq!(r.ok(), "write /out/result.txt: ok\n");
            assert_eq!(
                std::fs::read_to_string(out.path().join("result.txt")).unwrap(),
                "written"
            );
        }),
        ("dynamic_program_with_host_libs_granted", |c| {
            let r = c.run_with(
                &dyn_package(true),
                options(&[], Grants::default(), &[("host-libs", "yes")]),
                b"",
            );
            assert_eq!(r.ok(), "hello from a dynamically linked program\n");
        }),
        ("own_loopback_with_a_loopback_grant", |c| {
            let grants = Grants {
                listen: vec!["127.0.0.1:0".into()],
                ..Grants::default()
            };
            assert_eq!(
                c.probe(&["listen-self"], grants, &[]).ok(),
                "listen-self: ok\n"
            );
        }),
        // --- denials
        ("no_host_etc_passwd", |c| {
            let r = c.probe(&["read", "/etc/passwd"], Grants::default(), &[]);
            assert_eq!(r.ok(), "read /etc/passwd: No such file or directory\n");
        }),
        ("volume_is_read_only", |c| {
            let r = c.probe(&["write", "/data/hello.txt", "x"], Grants::default(), &[]);
            assert!(r.ok().starts_with("write /data/hello.txt: "), "{}", r.out);
            assert!(!r.out.contains(": ok"), "{}", r.out);
            let r = c.probe(&["write", "/data/new.txt", "x"], Grants::default(), &[]);
            assert!(!r.ok().contains(": ok"), "{}", r.out);
        }),
        ("ro_grant_is_read_only", |c| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("in.txt"), "input\n").unwrap();
            let r = c.probe(
                &["read", "/in/in.txt"],
                mount(dir.path(), "/in", Mode::Ro),
                &[],
            );
            assert_eq!(r.ok(), "input\n");
            let r = c.probe(
                &["write", "/in/in.txt", "x"],
                mount(dir.path(), "/in", Mode::Ro),
                &[],
            );
            assert!(!r.ok().contains(": ok"), "{}", r.out);
            assert_eq!(
                std::fs::read_to_string(dir.path().join("in.txt")).unwrap(),
                "input\n"
            );
        }),
        ("root_is_read_only_and_holds_only_the_sandbox", |c| {
            let r = c.probe(&["write", "/new.txt", "x"], Grants::default(), &[]);
            assert!(!r.ok().contains(": ok"), "{}", r.out);
            let r = c.probe(&["ls", "/"], Grants::default(), &[]);
            let mut names: Vec<&str> = r.ok().lines().collect();
            names.sort_unstable();
            assert_eq!(names, ["data", "dev", "proc", "tmp"], "{}", r.out);
        }),
        ("escape_via_dotdot", |c| {
            let r = c.probe(&["escape-dotdot"], Grants::default(), &[]);
            assert_eq!(line_of(r.ok(), "cwd"), "cwd /");
            assert!(
                !r.out
                    .lines()
                    .any(|l| ["etc", "home", "root", "usr"].contains(&l)),
                "{}",
                r.out
            );
        }),
        ("escape_via_a_symlink_it_creates", |c| {
            let r = c.probe(&["symlink-escape", "/tmp"], Grants::default(), &[]);
            assert_eq!(
                r.ok(),
                "read /tmp/up/etc/passwd: No such file or directory\n"
            );
            let out = tempfile::tempdir().unwrap();
            let r = c.probe(
                &["symlink-escape", "/out"],
                mount(out.path(), "/out", Mode::Rw),
                &[],
            );
            assert_eq!(
                r.ok(),
                "read /out/up/etc/passwd: No such file or directory\n"
            );
        }),
        ("escape_via_proc_1_root", |c| {
            let r = c.probe(&["read", "/proc/1/root/etc/passwd"], Grants::default(), &[]);
            assert!(
                r.ok().starts_with("read /proc/1/root/etc/passwd: "),
                "{}",
                r.out
            );
            assert!(!r.out.contains("root:"), "{}", r.out);
            let r = c.probe(&["ls", "/proc/1/root"], Grants::default(), &[]);
            assert!(
                !r.ok().lines().any(|l| ["etc", "home", "usr"].contains(&l)),
                "{}",
                r.out
            );
        }),
        ("escape_via_proc_self_cwd", |c| {
            let r = c.probe(
                &["read", "/proc/self/cwd/../../../etc/passwd"],
                Grants::default(),
                &[],
            );
            assert!(!r.ok().contains("root:"), "{}", r.out);
            assert!(
                r.out.contains("No such file or directory") || r.out.contains("Permission denied"),
                "{}",
                r.out
            );
        }),
        ("no_network_sockets_without_a_grant", |c| {
            for family in ["inet", "inet6", "netlink", "packet"] {
                let r = c.probe(&["socket", family], Grants::default(), &[]);
                assert_eq!(
                    r.ok(),
                    format!("socket {family}: Operation not permitted\n")
                );
            }
            assert_eq!(
                c.probe(&["socket", "unix"], Grants::default(), &[]).ok(),
                "socket unix: ok\n"
            );
        }),
        ("cannot_reach_a_host_loopback_listener", |c| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port().to_string();
            let r = c.probe(&["connect", "127.0.0.1", &port], Grants::default(), &[]);
            assert_eq!(r.ok(), "connect: socket: Operation not permitted\n");
            // A loopback grant is the sandbox's own loopback, not the host's.
            let grants = Grants {
                connect: vec![format!("127.0.0.1:{port}")],
                ..Grants::default()
            };
            let r = c.probe(&["connect", "127.0.0.1", &port], grants, &[]);
            assert_eq!(r.ok(), "connect: Connection refused\n");
            listener.set_nonblocking(true).unwrap();
            assert!(
                listener.accept().is_err(),
                "nothing reached the host's listener"
            );
        }),
        ("fork_bomb_is_bounded", |c| {
            let r = c.probe(&["forkbomb"], Grants::default(), &[("nproc", "32")]);
            let line = line_of(&r.out, "forkbomb: stopped after ");
            let n: u64 = line["forkbomb: stopped after ".len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(n < 32, "{line}");
            assert!(n > 0, "{line}");
        }),
        ("memory_bomb_is_bounded", |c| {
            let grants = Grants {
                memory: Some(64 << 20),
                ..Grants::default()
            };
            let r = c.probe(&["membomb", "1024"], grants, &[]);
            let line = line_of(&r.out, "membomb: ");
            assert!(line.ends_with("refused"), "{line}");
        }),
        ("cpu_loop_times_out_and_leaves_nothing", |c| {
            let marker = format!("spin-marker-{}-{:?}", std::process::id(), c.way);
            let grants = Grants {
                time: Some(Duration::from_millis(500)),
                ..Grants::default()
            };
            let started = std::time::Instant::now();
            let r = c.probe(&["spin", &marker], grants, &[]);
            assert!(matches!(r.result, Ok(Outcome::Timeout)), "{:?}", r.result);
            assert!(started.elapsed() < Duration::from_secs(10));
            assert_eq!(processes_with(&marker), [], "stray guest processes");
        }),
        ("filling_tmp_stops_at_its_size", |c| {
            let grants = Grants {
                tmp: Some(8 << 20),
                ..Grants::default()
            };
            let r = c.probe(&["fill", "/tmp/big"], grants, &[]);
            let line = line_of(&r.out, "fill: ");
            assert!(line.ends_with("No space left on device"), "{line}");
            let mib: u64 = line["fill: ".len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(mib <= 8, "{line}");
        }),
        ("file_size_limit", |c| {
            let out = tempfile::tempdir().unwrap();
            let r = c.probe(
                &["fill", "/out/big"],
                mount(out.path(), "/out", Mode::Rw),
                &[("fsize", "2097152")],
            );
            assert_eq!(r.exit(), 128 + 25, "SIGXFSZ: {}", r.out);
            let written = std::fs::metadata(out.path().join("big")).unwrap().len();
            assert_eq!(written, 2 << 20);
        }),
        ("dev_nodes_work_but_cannot_be_changed", |c| {
            let r = c.probe(&["write", "/dev/null", "discarded"], Grants::default(), &[]);
            assert_eq!(r.ok(), "write /dev/null: ok\n");
            let r = c.probe(&["chmod", "/dev/null", "0"], Grants::default(), &[]);
            assert_eq!(r.ok(), "chmod /dev/null: Read-only file system\n");
            let r = c.probe(&["chmod", "/proc/slabinfo", "666"], Grants::default(), &[]);
            assert!(r.ok().starts_with("chmod /proc/slabinfo: "), "{}", r.out);
            assert!(!r.out.contains(": ok"), "{}", r.out);
        }),
        ("no_set_id_files", |c| {
            let out = tempfile::tempdir().unwrap();
            let r = c.probe(
                &["setid", "/out/f"],
                mount(out.path(), "/out", Mode::Rw),
                &[],
            );
            assert_eq!(
                r.ok(),
                "create 4755: Operation not permitted\nchmod 4755: Operation not permitted\n\
                 chmod 2755: Operation not permitted\nchmod 755: ok\n"
            );
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(out.path().join("f"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o7777, 0o755);
        }),
        ("unknown_and_x32_syscalls_are_refused", |c| {
            let r = c.probe(&["syscall", "467"], Grants::default(), &[]);
            assert_eq!(r.ok(), "syscall 467: Function not implemented\n");
            // getpid through the x32 ABI: refused whether or not the kernel has x32.
            let r = c.probe(&["syscall", "1073741863"], Grants::default(), &[]);
            assert_eq!(r.ok(), "syscall 1073741863: Function not implemented\n");
            let r = c.probe(&["syscall", "39"], Grants::default(), &[]);
            assert!(r.ok().starts_with("syscall 39: returned "), "{}", r.out);
        }),
        ("kernel_interfaces_are_denied", |c| {
            for (cmd, expect) in [
                ("ptrace", "ptrace: Operation not permitted"),
                ("mount", "mount: Operation not permitted"),
                ("unshare", "unshare: Operation not permitted"),
                ("mknod", "mknod: Operation not permitted"),
            ] {
                let r = c.probe(&[cmd], Grants::default(), &[]);
                assert_eq!(r.ok().trim_end(), expect);
            }
            // It cannot become another user: only its own uid is mapped.
            let r = c.probe(&["setuid"], Grants::default(), &[]);
            assert!(!r.ok().contains(": ok"), "{}", r.out);
        }),
        ("setuid_binaries_give_nothing", |c| {
            use std::os::unix::fs::PermissionsExt as _;
            let dir = tempfile::tempdir().unwrap();
            let suid = dir.path().join("suid-probe");
            std::fs::write(&suid, program("probe")).unwrap();
            std::os::unix::fs::chown(&suid, Some(1000), Some(1000)).unwrap();
            std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
            let r = c.probe(
                &["exec", "/bin/suid-probe", "id"],
                mount(dir.path(), "/bin", Mode::Ro),
                &[],
            );
            let out = r.ok();
            assert!(!out.contains("euid 1000"), "{out}");
            assert!(
                out.starts_with("uid 0 euid 0") || out.contains("exec /bin/suid-probe: "),
                "{out}"
            );
        }),
        ("dev_holds_only_the_safe_nodes", |c| {
            let r = c.probe(&["ls", "/dev"], Grants::default(), &[]);
            let mut names: Vec<&str> = r.ok().lines().collect();
            names.sort_unstable();
            for n in &names {
                assert!(
                    [
                        "null", "zero", "random", "urandom", "fd", "stdin", "stdout", "stderr",
                        "shm", "pts", "ptmx"
                    ]
                    .contains(n),
                    "unexpected /dev/{n}: {names:?}"
                );
            }
            assert!(
                names.contains(&"null") && names.contains(&"urandom"),
                "{names:?}"
            );
            assert_eq!(
                c.probe(&["read", "/dev/sda"], Grants::default(), &[]).ok(),
                "read /dev/sda: No such file or directory\n"
            );
        }),
        ("hostname_is_its_own", |c| {
            let r = c.probe(&["hostname"], Grants::default(), &[]);
            let host = rustix_hostname();
            assert_ne!(line_of(r.ok(), "hostname "), format!("hostname {host}"));
            let _ = c.probe(&["sethostname"], Grants::default(), &[]);
            assert_eq!(rustix_hostname(), host, "the host's name is unchanged");
        }),
        ("pid_namespace", |c| {
            let r = c.probe(&["pid"], Grants::default(), &[]);
            // Pid 1 is the sandbox's init; the guest is its child.
            assert_eq!(r.ok(), "pid 2 ppid 1\n");
        }),
        // --- bad atoms and refusals: one line, exit 126, nothing started
        ("dynamic_program_without_host_libs", |c| {
            let r = c.run_with(
                &dyn_package(true),
                options(&[], Grants::default(), &[]),
                b"",
            );
            let RunnerError::CannotExecute(msg) = r.runner_error() else {
                panic!("{:?}", r.result)
            };
            assert!(
                msg.contains("dynamically linked") && msg.contains("host-libs=yes"),
                "{msg}"
            );
            let r = c.run_with(
                &dyn_package(false),
                options(&[], Grants::default(), &[]),
                b"",
            );
            let RunnerError::CannotExecute(msg) = r.runner_error() else {
                panic!("{:?}", r.result)
            };
            assert!(msg.contains("does not declare posix.host-libs"), "{msg}");
            // Granting what the command does not declare is refused.
            let r = c.run_with(
                &dyn_package(false),
                options(&[], Grants::default(), &[("host-libs", "yes")]),
                b"",
            );
            assert!(
                matches!(r.runner_error(), RunnerError::InvalidJob(m) if m.contains("does not declare")),
                "{:?}",
                r.result
            );
        }),
        ("bad_atoms", |c| {
            let mut other_arch = program("probe");
            other_arch[18] = 0xB7; // e_machine = EM_AARCH64
            other_arch[19] = 0;
            let mut truncated = program("probe");
            truncated.truncate(40);
            for (bytes, expect) in [
                (
                    b"\0asm\x01\0\0\0".to_vec(),
                    "not an ELF executable: a WebAssembly module",
                ),
                (
                    b"#!/bin/sh\necho hi\n".to_vec(),
                    "not an ELF executable: a script",
                ),
                (
                    other_arch,
                    "an ELF executable for aarch64; this machine is x86_64",
                ),
                (truncated, "malformed ELF"),
            ] {
                let pkg = one_program_package(
                    "bad",
                    "https://webc.org/kind/elf",
                    "",
                    "",
                    &[("bad", &bytes)],
                );
                let r = c.run_with(&pkg, options(&[], Grants::default(), &[]), b"");
                let RunnerError::CannotExecute(msg) = r.runner_error() else {
                    panic!("{:?}", r.result)
                };
                assert!(
                    msg.contains("atom \"bad\"") && msg.contains(expect),
                    "{msg}"
                );
                assert_eq!(msg.lines().count(), 1, "{msg}");
                assert!(r.out.is_empty() && r.err.is_empty());
            }
        }),
        ("unknown_runner_options_are_refused", |c| {
            let r = c.probe(&["hello"], Grants::default(), &[("colour", "red")]);
            assert!(
                matches!(r.runner_error(), RunnerError::InvalidJob(m) if m.contains("colour")),
                "{:?}",
                r.result
            );
        }),
        ("one_atom_per_architecture", |c| {
            let toml = r#"
[package]
name = "test/multi"
version = "0.1.0"

[[module]]
name = "probe"
source = "probe"
kind = "elf"
abi = "none"

[[module]]
name = "probe-arm"
source = "probe-arm"
kind = "elf"
abi = "none"

[[command]]
name = "multi"
module = "probe-arm"
runner = "posix"

[command.annotations.posix]
atoms = ["probe-arm", "probe"]
"#;
            let mut arm = program("probe");
            arm[18] = 0xB7;
            arm[19] = 0;
            let pkg = package(toml, &[("probe", &program("probe")), ("probe-arm", &arm)]);
            let r = c.run_with(&pkg, options(&["hello"], Grants::default(), &[]), b"");
            assert_eq!(r.ok(), "hello from a native program\n");
            let toml = toml.replace(
                r#"atoms = ["probe-arm", "probe"]"#,
                r#"atoms = ["probe-arm"]"#,
            );
            let pkg = package(&toml, &[("probe", &program("probe")), ("probe-arm", &arm)]);
            let r = c.run_with(&pkg, options(&["hello"], Grants::default(), &[]), b"");
            match &r.result {
                Err(e @ webc_host::Error::NoPlatformAtom(msg)) => {
                    assert!(
                        msg.contains("no atom for this machine (x86_64-linux)")
                            && msg.contains("probe-arm (aarch64-linux)"),
                        "{msg}"
                    );
                    assert_eq!(e.exit_code(), 126);
                }
                other => panic!("{other:?}"),
            }
        }),
    ]
}

fn rustix_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

fn main() {
    let mut suite = Suite::new();
    for way in Way::ALL {
        for (name, case) in cases() {
            suite.needs(format!("{name}_{}", way.as_str()), &SANDBOX, move || {
                case(&Ctx::new(way));
            });
        }
    }
    suite.run()
}
