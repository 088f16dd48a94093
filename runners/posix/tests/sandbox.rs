//! Tests of the POSIX runner's sandbox with a small static guest
//! (`tests/sandbox-programs/guest.c`, built here with `musl-gcc -static`, or `gcc -static`).
//!
//! Every test first requires `sandbox::probe()` to pass: a machine without user namespaces,
//! landlock or seccomp fails these tests rather than skipping them.

use std::io::Read;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use webc_runner_posix::sandbox::{self, Bind, Config, Exit, Limits, Network, Stdio};

/// Builds the guest once per test binary.
fn guest() -> &'static [u8] {
    static GUEST: OnceLock<Vec<u8>> = OnceLock::new();
    GUEST.get_or_init(|| {
        if let Err(e) = sandbox::probe() {
            panic!("the sandbox is unavailable on this machine: {e}");
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox-programs/guest.c");
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sandbox-guest");
        let mut last = String::new();
        for cc in ["musl-gcc", "gcc"] {
            match Command::new(cc)
                .args(["-static", "-O2", "-o"])
                .arg(&out)
                .arg(&src)
                .output()
            {
                Ok(o) if o.status.success() => {
                    return std::fs::read(&out).expect("reading the built guest");
                }
                Ok(o) => last = String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => last = e.to_string(),
            }
        }
        panic!("cannot build the test guest with musl-gcc or gcc -static: {last}");
    })
}

struct Ran {
    exit: Exit,
    stdout: String,
    stderr: String,
}

fn config(args: &[&str]) -> Config {
    Config {
        exe: guest().to_vec(),
        argv0: "guest".to_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
        tmp_size: Some(4 << 20),
        limits: Limits {
            wall: Some(Duration::from_secs(30)),
            ..Limits::default()
        },
        ..Config::default()
    }
}

fn run_with(config: &Config, stdin: Option<Vec<u8>>) -> Ran {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut stdin = stdin.map(std::io::Cursor::new);
    let exit = sandbox::run(
        config,
        Stdio::Streams {
            stdin: stdin.as_mut().map(|s| s as &mut (dyn Read + Send)),
            stdout: &mut out,
            stderr: &mut err,
        },
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    Ran {
        exit,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn run(args: &[&str]) -> Ran {
    run_with(&config(args), None)
}

#[test]
fn exit_code_passes_through() {
    assert_eq!(run(&["exit", "0"]).exit, Exit::Code(0));
    assert_eq!(run(&["exit", "42"]).exit, Exit::Code(42));
}

#[test]
fn args_and_env_are_exactly_those_given() {
    let mut c = config(&["args", "one", "two words"]);
    c.argv0 = "my-argv0".to_owned();
    c.env = vec![("GREETING".to_owned(), "hello=world".to_owned())];
    let r = run_with(&c, None);
    assert_eq!(r.exit, Exit::Code(0));
    assert_eq!(
        r.stdout,
        "arg:my-argv0\narg:args\narg:one\narg:two words\nenv:GREETING=hello=world\n"
    );
    assert!(std::env::var_os("PATH").is_some(), "the host has PATH");
    assert!(!r.stdout.contains("PATH="));
}

#[test]
fn stdin_stdout_stderr_streams() {
    let input: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let r = run_with(&config(&["cat"]), Some(input.clone()));
    assert_eq!(r.exit, Exit::Code(3));
    assert_eq!(r.stdout.as_bytes(), &input[..]);
    assert_eq!(r.stderr, "read 200000 bytes\n");
    // No stdin at all reads EOF.
    let r = run_with(&config(&["cat"]), None);
    assert_eq!((r.exit, r.stdout.as_str()), (Exit::Code(3), ""));
}

#[test]
fn a_guest_that_ignores_a_large_stdin_does_not_hang() {
    let start = Instant::now();
    let r = run_with(&config(&["ignore-stdin"]), Some(vec![b'x'; 4 << 20]));
    assert_eq!((r.exit, r.stdout.as_str()), (Exit::Code(0), "done\n"));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn signal_death_is_reported() {
    assert_eq!(run(&["segv"]).exit, Exit::Signal(libc::SIGSEGV));
    assert_eq!(run(&["kill9"]).exit, Exit::Signal(libc::SIGKILL));
}

#[test]
fn guest_is_root_of_its_own_pid_namespace_but_not_pid_1() {
    let r = run(&["ids"]);
    assert_eq!(r.stdout, "uid=0 pid=2 ppid=1\n");
}

#[test]
fn read_only_and_writable_binds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ro = dir.path().join("ro");
    let rw = dir.path().join("rw");
    std::fs::create_dir_all(&ro).expect("mkdir");
    std::fs::create_dir_all(&rw).expect("mkdir");
    std::fs::write(ro.join("data.txt"), "volume data\n").expect("write");
    std::fs::write(dir.path().join("single"), "one file\n").expect("write");
    let binds = |c: &mut Config| {
        c.mounts = vec![
            Bind {
                host: ro.clone(),
                guest: "/data/ro".to_owned(),
                writable: false,
            },
            Bind {
                host: rw.clone(),
                guest: "/data/rw".to_owned(),
                writable: true,
            },
            Bind {
                host: dir.path().join("single"),
                guest: "/etc/single".to_owned(),
                writable: false,
            },
        ];
    };
    let go = |args: &[&str]| {
        let mut c = config(args);
        binds(&mut c);
        run_with(&c, None)
    };
    assert_eq!(go(&["read", "/data/ro/data.txt"]).stdout, "volume data\n");
    assert_eq!(go(&["read", "/etc/single"]).stdout, "one file\n");
    assert_eq!(
        go(&["write", "/data/ro/data.txt"]).stdout,
        format!("open errno={}\n", libc::EROFS)
    );
    assert_eq!(
        go(&["write", "/data/ro/new.txt"]).stdout,
        format!("open errno={}\n", libc::EROFS)
    );
    assert_eq!(
        go(&["write", "/etc/single"]).stdout,
        format!("open errno={}\n", libc::EROFS)
    );
    assert_eq!(go(&["write", "/data/rw/out.txt"]).stdout, "ok\n");
    assert_eq!(
        std::fs::read_to_string(rw.join("out.txt")).expect("written file"),
        "written\n"
    );
    assert_eq!(
        std::fs::read_to_string(ro.join("data.txt")).expect("ro file"),
        "volume data\n"
    );
    // With a working directory.
    let mut c = config(&["read", "data.txt"]);
    binds(&mut c);
    c.cwd = "/data/ro".to_owned();
    assert_eq!(run_with(&c, None).stdout, "volume data\n");
}

#[test]
fn a_missing_bind_source_is_a_setup_error() {
    let mut c = config(&["exit", "0"]);
    c.mounts = vec![Bind {
        host: PathBuf::from("/nonexistent/webc-test"),
        guest: "/data".to_owned(),
        writable: false,
    }];
    let e = sandbox::run(&c, Stdio::Inherit).expect_err("must fail");
    let msg = e.to_string();
    assert!(
        msg.contains("opening a bind source") && msg.contains("/nonexistent/webc-test"),
        "{msg}"
    );
}

#[test]
fn bad_guest_paths_are_refused() {
    for guest in ["relative", "/a/../b", "/", "/proc/x", "/dev", "/tmp/a"] {
        let mut c = config(&["exit", "0"]);
        c.mounts = vec![Bind {
            host: PathBuf::from("/"),
            guest: guest.to_owned(),
            writable: false,
        }];
        assert!(matches!(
            sandbox::run(&c, Stdio::Inherit),
            Err(sandbox::SandboxError::Config(_))
        ));
    }
}

#[test]
fn not_an_executable_is_an_exec_error() {
    let mut c = config(&[]);
    c.exe = b"#!/bin/sh\necho hi\n".to_vec();
    let e = sandbox::run(&c, Stdio::Inherit).expect_err("must fail");
    assert!(matches!(e, sandbox::SandboxError::Exec(_)), "{e}");
    assert!(e.to_string().contains("not an ELF executable"), "{e}");
}

#[test]
fn an_elf_for_another_machine_is_an_exec_error() {
    let mut c = config(&[]);
    // e_machine: aarch64 on x86_64, x86_64 elsewhere.
    let machine: u16 = if cfg!(target_arch = "x86_64") {
        183
    } else {
        62
    };
    c.exe[18..20].copy_from_slice(&machine.to_le_bytes());
    let e = sandbox::run(&c, Stdio::Inherit).expect_err("must fail");
    let msg = e.to_string();
    assert!(
        matches!(e, sandbox::SandboxError::Exec(_))
            && msg.contains("not an executable for this machine"),
        "{msg}"
    );
}

#[test]
fn explicit_descriptors_as_stdio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::fs::File::create(dir.path().join("out")).expect("create");
    let null = std::fs::File::open("/dev/null").expect("/dev/null");
    let c = config(&["args", "x"]);
    let exit = sandbox::run(&c, Stdio::Fds([null.as_fd(), out.as_fd(), out.as_fd()])).expect("run");
    assert_eq!(exit, Exit::Code(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out")).expect("read"),
        "arg:guest\narg:args\narg:x\n"
    );
}

#[test]
fn a_terminal_on_stdin_is_bound_at_dev_tty() {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors; the other pointers may be null.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just made by openpty and are owned here only.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut c = config(&["tty"]);
    c.tty = true;
    let exit = sandbox::run(
        &c,
        Stdio::Fds([slave.as_fd(), slave.as_fd(), slave.as_fd()]),
    )
    .expect("run");
    assert_eq!(exit, Exit::Code(0));
    drop(slave);
    let mut out = Vec::new();
    let _ = std::fs::File::from(master).read_to_end(&mut out); // EIO at the end of a pty
    assert_eq!(
        String::from_utf8_lossy(&out).replace('\r', ""),
        "isatty0=1\nvia-dev-tty\nisatty(/dev/tty)=1\n"
    );
    // Without `tty`, there is no /dev/tty.
    let r = run(&["tty"]);
    assert_eq!(
        r.stdout,
        format!("isatty0=0\nopen /dev/tty errno={}\n", libc::ENOENT)
    );
}

#[test]
fn a_dynamic_program_without_host_libs_names_its_interpreter() {
    let exe = std::fs::read("/bin/true").expect("/bin/true");
    let mut c = config(&[]);
    c.exe = exe.clone();
    let e = sandbox::run(&c, Stdio::Inherit).expect_err("must fail");
    let msg = e.to_string();
    assert!(
        msg.contains("ELF interpreter") && msg.contains("posix.host-libs"),
        "{msg}"
    );
    // With the host's libraries it runs.
    c.host_libs = true;
    assert_eq!(
        sandbox::run(&c, Stdio::Inherit).expect("run"),
        Exit::Code(0)
    );
}

#[test]
fn the_host_file_system_is_not_visible() {
    assert_eq!(
        run(&["read", "/etc/passwd"]).stdout,
        format!("open errno={}\n", libc::ENOENT)
    );
    let mut root: Vec<String> = run(&["ls", "/"]).stdout.lines().map(String::from).collect();
    root.sort();
    assert_eq!(root, ["dev", "proc", "tmp"]);
    // /proc/self/root is the sandbox.
    let mut via_proc: Vec<String> = run(&["ls", "/proc/self/root"])
        .stdout
        .lines()
        .map(String::from)
        .collect();
    via_proc.sort();
    assert_eq!(via_proc, root);
    // /proc/1 is the sandbox's init (whose root is the sandbox too); landlock denies the guest
    // ptrace-mode access to it, so its root link cannot even be followed.
    assert_eq!(
        run(&["ls", "/proc/1/root"]).stdout,
        format!("opendir errno={}\n", libc::EACCES)
    );
    assert_eq!(
        run(&["read", "/proc/1/root/etc/passwd"]).stdout,
        format!("open errno={}\n", libc::EACCES)
    );
    assert_eq!(run(&["readlink", "/proc/self/cwd"]).stdout, "/\n");
    assert_eq!(run(&["readlink", "/proc/self/root"]).stdout, "/\n");
    // `..` from / stays in /.
    let r = run(&["dotdot"]);
    let mut lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.remove(0), "cwd:/");
    lines.sort();
    assert_eq!(lines, ["dev", "proc", "tmp"]);
    // A symlink the guest makes to a host path resolves inside the sandbox.
    assert_eq!(
        run(&["symlink-escape"]).stdout,
        format!("open failed errno={}\n", libc::ENOENT)
    );
    let mut dev: Vec<String> = run(&["ls", "/dev"])
        .stdout
        .lines()
        .map(String::from)
        .collect();
    dev.sort();
    assert_eq!(
        dev,
        [
            "fd", "null", "random", "stderr", "stdin", "stdout", "urandom", "zero"
        ]
    );
}

#[test]
fn sockets_without_network() {
    let eperm = format!("socket failed errno={}\n", libc::EPERM);
    assert_eq!(run(&["socket", "inet"]).stdout, eperm);
    assert_eq!(run(&["socket", "inet6"]).stdout, eperm);
    assert_eq!(run(&["socket", "netlink"]).stdout, eperm);
    assert_eq!(run(&["socket", "unix"]).stdout, "socket ok errno=0\n");
}

#[test]
fn only_the_host_network_reaches_a_host_loopback_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port().to_string();
    let go = |network: Network| {
        let mut c = config(&["connect", &port]);
        c.network = network;
        run_with(&c, None).stdout
    };
    assert_eq!(go(Network::None), format!("socket errno={}\n", libc::EPERM));
    // A fresh network namespace with its own loopback: the host's listener is not there.
    assert_eq!(
        go(Network::Loopback),
        format!("connect failed errno={}\n", libc::ECONNREFUSED)
    );
    assert_eq!(go(Network::Host), "connect ok errno=0\n");
}

/// Landlock is in force (the mounts alone would allow this): with the host network, the
/// guest shares the host's abstract unix sockets, and landlock's scope (ABI 6, Linux 6.12)
/// keeps it from connecting to one made outside the sandbox. Older kernels lack the scope.
#[test]
fn landlock_scopes_abstract_sockets_of_the_host() {
    use std::os::linux::net::SocketAddrExt as _;
    let name = format!("webc-sandbox-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("addr");
    let _listener = std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind");
    let mut c = config(&["abstract", &name]);
    c.network = Network::Host;
    let out = run_with(&c, None).stdout;
    let abi = webc_runner_posix::sandbox::probe()
        .expect("probe")
        .landlock_abi;
    if abi >= 6 {
        assert_eq!(out, format!("abstract failed errno={}\n", libc::EPERM));
    } else {
        assert_eq!(
            out, "abstract ok errno=0\n",
            "landlock ABI {abi} has no scopes"
        );
    }
}

#[test]
fn privileged_operations_are_denied() {
    let r = run(&["privileged"]);
    let eperm = libc::EPERM;
    let expected = format!(
        "ptrace -1 errno={eperm}\nmount -1 errno={eperm}\nunshare -1 errno={eperm}\n\
         clone-newuser -1 errno={eperm}\nmknod -1 errno={eperm}\nsethostname 0\n\
         create-in-root errno={erofs}\nproc-sys-write errno={erofs}\nsysrq errno={erofs}\n\
         landlock-proc-comm errno={erofs}\n",
        erofs = libc::EROFS,
    );
    // /proc/sys is read-only, and for a non-root host also not the guest's (EACCES).
    let stdout = r.stdout.replace(
        &format!("proc-sys-write errno={}\n", libc::EACCES),
        &format!("proc-sys-write errno={}\n", libc::EROFS),
    );
    // Kernels without CONFIG_MAGIC_SYSRQ have no /proc/sysrq-trigger.
    let stdout = stdout.replace(
        &format!("sysrq errno={}\n", libc::ENOENT),
        &format!("sysrq errno={}\n", libc::EROFS),
    );
    assert_eq!(stdout, expected);
}

#[test]
fn hostname_is_not_the_hosts() {
    let r = run(&["hostname"]);
    assert_eq!(r.stdout, "webc\n");
    let mut host = [0u8; 256];
    // SAFETY: gethostname writes at most `host.len()` bytes.
    unsafe { libc::gethostname(host.as_mut_ptr().cast(), host.len()) };
    assert_ne!(&host[..5], b"webc\0", "the host's hostname was changed");
}

#[test]
fn fork_bomb_is_bounded() {
    let marker = format!("forkbomb-{}", std::process::id());
    let mut c = config(&["forkbomb"]);
    c.argv0 = marker.clone();
    c.limits.nproc = 32;
    let start = Instant::now();
    let r = run_with(&c, None);
    assert_eq!(r.exit, Exit::Code(0), "{}", r.stderr);
    let n: u64 = r
        .stdout
        .strip_prefix("forked ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output {:?}", r.stdout));
    assert!(n < 32, "forked {n} processes with nproc = 32");
    assert!(start.elapsed() < Duration::from_secs(20));
    // The paused children died with the sandbox.
    assert_eq!(webc_runner_testkit::processes_with(&marker), []);
}

#[test]
fn memory_bomb_is_bounded() {
    let mut c = config(&["membomb"]);
    c.limits.memory = Some(64 << 20);
    let r = run_with(&c, None);
    match r.exit {
        Exit::Code(0) => {
            let mb: u64 = r
                .stdout
                .trim()
                .strip_prefix("allocated ")
                .and_then(|s| s.split_whitespace().next())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("unexpected output {:?}", r.stdout));
            assert!(mb < 64, "allocated {mb} MiB with a 64 MiB limit");
        }
        Exit::Signal(_) => {}
        other => panic!("unexpected end {other:?}"),
    }
}

#[test]
fn wall_limit_kills_the_whole_sandbox() {
    let marker = format!("spinner-{}", std::process::id());
    let mut c = config(&["spin"]);
    c.argv0 = marker.clone();
    c.limits.wall = Some(Duration::from_millis(700));
    let start = Instant::now();
    let r = run_with(&c, None);
    assert_eq!(r.exit, Exit::TimedOut);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(webc_runner_testkit::processes_with(&marker), []);
}

#[test]
fn cpu_limit_kills_a_spinning_guest() {
    let mut c = config(&["spin"]);
    c.limits.cpu = Some(Duration::from_secs(1));
    let r = run_with(&c, None);
    assert!(
        matches!(r.exit, Exit::Signal(s) if s == libc::SIGXCPU || s == libc::SIGKILL),
        "{:?}",
        r.exit
    );
}

#[test]
fn tmp_is_size_limited() {
    let mut c = config(&["filltmp"]);
    c.tmp_size = Some(1 << 20);
    let r = run_with(&c, None);
    assert_eq!(
        r.stdout,
        format!("wrote {} errno={}\n", 1 << 20, libc::ENOSPC)
    );
}

#[test]
fn probe_reports_the_layers() {
    let f = sandbox::probe().expect("probe");
    assert!(f.landlock_abi >= 1, "{f:?}");
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        assert!(
            f.pids_cgroup,
            "a root host must be able to make a pids cgroup: {f:?}"
        );
    }
}
