//! The Linux sandbox the POSIX runner runs a native program in.
//!
//! [`run`] starts the program from a sealed memfd in fresh user, mount, pid, ipc, uts, cgroup
//! (where the kernel allows it) and (unless [`Network::Host`]) network namespaces, on a fresh
//! read-only tmpfs root that holds only the configured binds, four `/dev` nodes (and the
//! terminal when asked), `/proc` of the new pid namespace and an optional size-limited `/tmp`.
//! On top of the namespaces: `PR_SET_NO_NEW_PRIVS`, rlimits, a pids cgroup, landlock on the
//! same paths and modes, and a seccomp filter. [`probe`] says cheaply whether the kernel
//! offers all of it.
//!
//! Process structure: the (multi-threaded) host forks process A, which joins the run's pids
//! cgroup, unshares the namespaces and maps uid/gid 0 to the invoking user; A forks B, pid 1
//! of the new pid namespace, which builds the root and `pivot_root`s into it; B forks C, the
//! guest, which applies the remaining layers and `execveat`s the memfd. B stays as a minimal
//! init that reaps orphans and, when C ends, hands C's wait status to the host and exits,
//! which makes the kernel kill whatever is left in the namespace.

mod cgroup;
mod child;
mod filter;

use std::ffi::{CStr, CString};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use landlock::{ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr};

/// Why a sandbox could not be set up or run. Every variant is one line naming the step.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The [`Config`] is invalid (a relative guest path, `..`, a NUL byte, ...).
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    /// The kernel or the host lacks a layer the sandbox needs; the message says how to enable it.
    #[error("the sandbox is unavailable: {0}")]
    Unavailable(String),
    /// Setting up the sandbox failed at the named step.
    #[error("sandbox setup failed: {0}")]
    Setup(String),
    /// The program could not be executed (not an executable for this machine, missing ELF
    /// interpreter, ...).
    #[error("cannot execute the program: {0}")]
    Exec(String),
    /// Copying the guest's standard streams failed.
    #[error("guest stdio: {0}")]
    Io(#[source] std::io::Error),
}

/// A host path bind-mounted into the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// The host file or directory (must exist).
    pub host: PathBuf,
    /// Where it appears in the sandbox: absolute, without `.` or `..` components.
    pub guest: String,
    /// Read-write when true; read-only otherwise (enforced by the mount and by landlock).
    pub writable: bool,
}

/// The guest's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// A fresh, empty network namespace (`lo` down); only `AF_UNIX` sockets can be created.
    #[default]
    None,
    /// A fresh network namespace with its own `lo` up. This is *not* the host's loopback:
    /// listeners on the host's 127.0.0.1 are not reachable.
    Loopback,
    /// The host's network namespace (the network namespace is not unshared).
    Host,
}

/// Resource limits of the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Address space and data segment limit in bytes (`RLIMIT_AS`, `RLIMIT_DATA`).
    pub memory: Option<u64>,
    /// CPU time (`RLIMIT_CPU`; `SIGXCPU` at the limit, `SIGKILL` one second later).
    pub cpu: Option<Duration>,
    /// Maximum number of processes and threads of the guest (with its descendants): enforced
    /// by the run's pids cgroup (whose `pids.max` is this plus the sandbox's two helper
    /// processes) and by `RLIMIT_NPROC`, which the kernel ignores for a host running as root
    /// and which, for a non-root host, counts every process of the invoking user.
    pub nproc: u64,
    /// Maximum number of open files (`RLIMIT_NOFILE`).
    pub nofile: u64,
    /// Maximum size of a written file in bytes (`RLIMIT_FSIZE`).
    pub fsize: Option<u64>,
    /// Wall-clock limit; when it passes the whole sandbox is killed and [`Exit::TimedOut`]
    /// returned.
    pub wall: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: None,
            cpu: None,
            nproc: 256,
            nofile: 1024,
            fsize: None,
            wall: None,
        }
    }
}

/// What to run and what the sandbox holds.
#[derive(Debug, Clone)]
pub struct Config {
    /// The ELF image; it is copied into a sealed memfd and executed from there.
    pub exe: Vec<u8>,
    /// `argv[0]`.
    pub argv0: String,
    /// `argv[1..]`.
    pub args: Vec<String>,
    /// The complete environment of the guest (nothing else is inherited).
    pub env: Vec<(String, String)>,
    /// The guest's working directory (a guest path; `/` by default).
    pub cwd: String,
    /// Host paths bind-mounted into the sandbox, in any order (parents are mounted first).
    pub mounts: Vec<Bind>,
    /// `Some(n)`: a private tmpfs at `/tmp` of at most `n` bytes. `None`: no `/tmp`.
    pub tmp_size: Option<u64>,
    /// Bind the host's `/usr`, `/lib*`, `/etc/ld.so.cache` and `/etc/ld.so.conf(.d)` read-only,
    /// so that dynamically linked programs can run.
    pub host_libs: bool,
    /// The guest's network.
    pub network: Network,
    /// Resource limits.
    pub limits: Limits,
    /// When stdin is a terminal (with [`Stdio::Inherit`] or [`Stdio::Fds`]), bind it at
    /// `/dev/tty` and keep the guest in the terminal's session.
    pub tty: bool,
    /// Allow running without a pids cgroup when the host is root (then nothing bounds the
    /// number of guest processes). Only when the user asked to weaken the sandbox.
    pub allow_no_pids_limit: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            exe: Vec::new(),
            argv0: "guest".to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: "/".to_owned(),
            mounts: Vec::new(),
            tmp_size: None,
            host_libs: false,
            network: Network::None,
            limits: Limits::default(),
            tty: false,
            allow_no_pids_limit: false,
        }
    }
}

/// The guest's standard streams.
pub enum Stdio<'a> {
    /// File descriptors 0, 1 and 2 of this process.
    Inherit,
    /// These descriptors as stdin, stdout and stderr.
    Fds([BorrowedFd<'a>; 3]),
    /// Pumped through pipes by threads (within the call). Copying into the guest's stdin
    /// stops at the reader's end of file, or with no error when the guest has exited or closed
    /// its stdin: a guest that does not read does not hold up the run. The run does wait for
    /// the reader's current `read` to return, so the reader must not block indefinitely (use
    /// [`Stdio::Inherit`] or [`Stdio::Fds`] for a terminal). `None` gives the guest an
    /// empty stdin.
    Streams {
        /// The guest's stdin.
        stdin: Option<&'a mut (dyn Read + Send)>,
        /// Receives the guest's stdout.
        stdout: &'a mut (dyn Write + Send),
        /// Receives the guest's stderr.
        stderr: &'a mut (dyn Write + Send),
    },
}

impl std::fmt::Debug for Stdio<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stdio::Inherit => f.write_str("Inherit"),
            Stdio::Fds(fds) => f.debug_tuple("Fds").field(fds).finish(),
            Stdio::Streams { stdin, .. } => f
                .debug_struct("Streams")
                .field("stdin", &stdin.is_some())
                .finish_non_exhaustive(),
        }
    }
}

/// How the guest ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// It was killed by this signal (shells report 128 + n).
    Signal(i32),
    /// The wall-clock limit passed and the sandbox was killed.
    TimedOut,
}

/// What [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// The landlock ABI version in effect (the lower of the kernel's and the crate's).
    pub landlock_abi: i32,
    /// A pids cgroup can be created for a run.
    pub pids_cgroup: bool,
    /// Cgroup namespaces can be created.
    pub cgroup_namespace: bool,
}

/// Checks cheaply that user namespaces (with mount, pid and network namespaces), landlock and
/// seccomp are usable.
///
/// # Errors
///
/// [`SandboxError::Unavailable`] naming every missing layer and how to enable it.
pub fn probe() -> Result<Features, SandboxError> {
    let mut missing = Vec::new();
    // SAFETY: prctl(PR_GET_SECCOMP) only reads the calling thread's seccomp mode.
    if unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } < 0 {
        missing.push(format!(
            "seccomp ({}): the kernel needs CONFIG_SECCOMP_FILTER",
            std::io::Error::last_os_error()
        ));
    }
    let found = child::probe_child().map_err(SandboxError::Setup)?;
    if let Some(errno) = found.userns_errno {
        missing.push(format!(
            "user namespaces ({}): enable them with `sysctl -w kernel.unprivileged_userns_clone=1` \
             and `sysctl -w user.max_user_namespaces=15000` (and, on Ubuntu, \
             `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`)",
            std::io::Error::from_raw_os_error(errno)
        ));
    }
    if found.landlock_abi < 1 {
        missing.push(
            "landlock: boot the kernel with landlock in the LSM list (e.g. `lsm=landlock,lockdown,yama,integrity,apparmor` \
             on the kernel command line; CONFIG_SECURITY_LANDLOCK=y)"
                .to_owned(),
        );
    }
    if !missing.is_empty() {
        return Err(SandboxError::Unavailable(missing.join("; ")));
    }
    Ok(Features {
        landlock_abi: found.landlock_abi,
        pids_cgroup: cgroup::PidsCgroup::create(4).is_ok(),
        cgroup_namespace: found.cgroupns,
    })
}

/// The newest landlock ABI this code was written and tested against.
pub(crate) const LANDLOCK_ABI: ABI = ABI::V7;

/// The landlock rule set requirements: V1 file system rights are required; newer rights,
/// scopes are best effort.
pub(crate) fn landlock_ruleset() -> Result<landlock::RulesetCreated, landlock::RulesetError> {
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI::V1))?
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(LANDLOCK_ABI))?
        .scope(landlock::Scope::from_all(LANDLOCK_ABI))?
        .create()
}

fn invalid(msg: impl Into<String>) -> SandboxError {
    SandboxError::Config(msg.into())
}

fn cstring(what: &str, s: impl Into<Vec<u8>>) -> Result<CString, SandboxError> {
    CString::new(s).map_err(|_| invalid(format!("{what} contains a NUL byte")))
}

/// Checks a guest path: absolute, no `.`/`..`, no NUL. Returns it normalised (no repeated or
/// trailing slashes).
fn guest_path(p: &str) -> Result<String, SandboxError> {
    if !p.starts_with('/') {
        return Err(invalid(format!("guest path {p:?} is not absolute")));
    }
    let mut out = String::new();
    for c in p.split('/').filter(|c| !c.is_empty()) {
        if c == "." || c == ".." {
            return Err(invalid(format!("guest path {p:?} contains {c:?}")));
        }
        if c.contains('\0') {
            return Err(invalid(format!("guest path {p:?} contains a NUL byte")));
        }
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Staging directories for the new root (any existing directory works: the staging mount is
/// private to the sandbox's mount namespace, and bind sources are opened before it).
const STAGES: &[&str] = &["/mnt", "/media", "/srv", "/opt", "/var", "/run", "/home"];

const HOST_LIB_DIRS: &[&str] = &["/usr", "/lib", "/lib64", "/lib32", "/libx32"];
const HOST_LIB_FILES: &[&str] = &["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"];
const DEV_NODES: &[&str] = &["null", "zero", "random", "urandom"];
/// Parts of /proc made read-only on top of landlock (writable by a guest mapped to host root).
const PROC_RO: &[&str] = &["sys", "sysrq-trigger", "irq", "bus", "fs"];

fn write_memfd(exe: &[u8]) -> Result<OwnedFd, SandboxError> {
    let name = c"webc-guest";
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: `name` is a valid NUL-terminated string; memfd_create has no other inputs.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | libc::MFD_EXEC) };
    if fd < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // Kernels before 6.3 do not know MFD_EXEC (and make every memfd executable).
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(SandboxError::Setup(format!(
            "memfd_create: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: `fd` was just returned by memfd_create and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(fd);
    file.write_all(exe)
        .map_err(|e| SandboxError::Setup(format!("writing the program to its memfd: {e}")))?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS on a memfd we own; takes an int argument.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(SandboxError::Setup(format!(
            "sealing the memfd: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(file.into())
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(SandboxError::Setup(format!(
            "pipe2: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Duplicates `fd` to a new CLOEXEC descriptor >= 3.
fn dup_high(fd: RawFd) -> Result<OwnedFd, SandboxError> {
    // SAFETY: F_DUPFD_CLOEXEC only duplicates; an invalid `fd` gives EBADF.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(SandboxError::Setup(format!(
            "duplicating stdio descriptor {fd}: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: `new` was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

fn tty_name(fd: RawFd) -> Option<CString> {
    // SAFETY: isatty only inspects the descriptor.
    if unsafe { libc::isatty(fd) } != 1 {
        return None;
    }
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: `buf` is writable for its full length, which is passed.
    if unsafe { libc::ttyname_r(fd, buf.as_mut_ptr(), buf.len()) } != 0 {
        return None;
    }
    // SAFETY: on success ttyname_r wrote a NUL-terminated string into `buf`.
    Some(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_owned())
}

/// Builds the plan of the sandbox: every path, string and table the children need, made before
/// fork so that they mostly make system calls.
fn plan(config: &Config, tty: Option<CString>) -> Result<child::Plan, SandboxError> {
    let stage = STAGES
        .iter()
        .find(|s| Path::new(s).is_dir())
        .ok_or_else(|| SandboxError::Setup("no directory to stage the new root on".to_owned()))?;
    let staged = |guest: &str| -> Result<CString, SandboxError> {
        cstring("guest path", format!("{stage}{guest}"))
    };
    let prefixes = |guest: &str| -> Result<Vec<CString>, SandboxError> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let comps: Vec<&str> = guest.split('/').filter(|c| !c.is_empty()).collect();
        for c in comps.iter().take(comps.len().saturating_sub(1)) {
            cur.push('/');
            cur.push_str(c);
            out.push(staged(&cur)?);
        }
        Ok(out)
    };

    let mut binds: Vec<(String, PathBuf, child::BindKind)> = Vec::new();
    let mut symlinks = Vec::new();
    if config.host_libs {
        for dir in HOST_LIB_DIRS.iter().chain(HOST_LIB_FILES) {
            let Ok(meta) = std::fs::symlink_metadata(dir) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(dir)
                    .map_err(|e| SandboxError::Setup(format!("reading link {dir}: {e}")))?;
                symlinks.push((
                    cstring("link", target.into_os_string().into_encoded_bytes())?,
                    staged(dir)?,
                    prefixes(dir)?,
                ));
            } else {
                binds.push((
                    dir.to_string(),
                    PathBuf::from(dir),
                    child::BindKind::ReadOnly,
                ));
            }
        }
    }
    for m in &config.mounts {
        let guest = guest_path(&m.guest)?;
        if guest == "/" {
            return Err(invalid("a bind cannot be mounted at /"));
        }
        let mut reserved = vec!["/proc", "/dev"];
        if config.tmp_size.is_some() {
            reserved.push("/tmp");
        }
        if let Some(r) = reserved
            .iter()
            .find(|r| guest == **r || guest.starts_with(&format!("{r}/")))
        {
            return Err(invalid(format!(
                "a bind cannot be mounted at {guest}: {r} belongs to the sandbox"
            )));
        }
        let kind = if m.writable {
            child::BindKind::Writable
        } else {
            child::BindKind::ReadOnly
        };
        binds.push((guest, m.host.clone(), kind));
    }
    for node in DEV_NODES {
        binds.push((
            format!("/dev/{node}"),
            PathBuf::from(format!("/dev/{node}")),
            child::BindKind::Device,
        ));
    }
    if let Some(tty) = &tty {
        binds.push((
            "/dev/tty".to_owned(),
            PathBuf::from(tty.to_str().unwrap_or("/dev/tty")),
            child::BindKind::Device,
        ));
    }
    // Parents before children.
    binds.sort_by(|a, b| {
        a.0.matches('/')
            .count()
            .cmp(&b.0.matches('/').count())
            .then_with(|| a.0.cmp(&b.0))
    });
    for w in binds.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(invalid(format!("two binds at {}", w[0].0)));
        }
    }
    let mut landlock_rw = Vec::new();
    let mut planned = Vec::new();
    for (guest, host, kind) in &binds {
        if *kind != child::BindKind::ReadOnly {
            landlock_rw.push(PathBuf::from(guest));
        }
        planned.push(child::PlannedBind {
            src: cstring(
                "host path",
                host.clone().into_os_string().into_encoded_bytes(),
            )?,
            src_display: host.display().to_string(),
            prefixes: prefixes(guest)?,
            target: staged(guest)?,
            kind: *kind,
        });
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let link = format!("/dev/{name}");
        symlinks.push((cstring("link", target)?, staged(&link)?, prefixes(&link)?));
    }
    let tmp = match config.tmp_size {
        Some(size) => {
            landlock_rw.push(PathBuf::from("/tmp"));
            Some((
                staged("/tmp")?,
                cstring("tmp", format!("size={size},mode=1777"))?,
            ))
        }
        None => None,
    };
    let cwd = guest_path(&config.cwd)?;

    let mut argv = vec![cstring("argv[0]", config.argv0.as_str())?];
    for a in &config.args {
        argv.push(cstring("an argument", a.as_str())?);
    }
    let mut envp = Vec::new();
    for (k, v) in &config.env {
        if k.is_empty() || k.contains('=') {
            return Err(invalid(format!("environment variable name {k:?}")));
        }
        envp.push(cstring("the environment", format!("{k}={v}"))?);
    }

    let mut rlimits = vec![
        (libc::RLIMIT_NPROC, config.limits.nproc),
        (libc::RLIMIT_NOFILE, config.limits.nofile),
    ];
    if let Some(m) = config.limits.memory {
        rlimits.push((libc::RLIMIT_AS, m));
        rlimits.push((libc::RLIMIT_DATA, m));
    }
    if let Some(f) = config.limits.fsize {
        rlimits.push((libc::RLIMIT_FSIZE, f));
    }
    let cpu = config.limits.cpu.map(|c| c.as_secs().max(1));

    // SAFETY: these getters cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let mut unshare_flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    if config.network != Network::Host {
        unshare_flags |= libc::CLONE_NEWNET;
    }
    Ok(child::Plan {
        unshare_flags,
        uid_map: format!("0 {uid} 1\n").into_bytes(),
        gid_map: format!("0 {gid} 1\n").into_bytes(),
        loopback: config.network == Network::Loopback,
        stage: cstring("stage", *stage)?,
        binds: planned,
        symlinks,
        proc_dir: staged("/proc")?,
        proc_ro: PROC_RO
            .iter()
            .map(|p| staged(&format!("/proc/{p}")))
            .collect::<Result<_, _>>()?,
        tmp,
        cwd: cstring("cwd", cwd)?,
        setsid: tty.is_none(),
        rlimits,
        cpu,
        landlock_rw,
        argv,
        envp,
        ..child::Plan::default()
    })
}

/// The host's ends of the stream pipes: stdin (with its source), stdout and stderr.
type Pumps<'a> = (
    Option<(OwnedFd, &'a mut (dyn Read + Send))>,
    (OwnedFd, &'a mut (dyn Write + Send)),
    (OwnedFd, &'a mut (dyn Write + Send)),
);

/// Runs `config.exe` in the sandbox and waits for it (and, with [`Limits::wall`], at most that
/// long).
///
/// Nothing outlives the call: every process of the sandbox is in its pid namespace, which the
/// kernel empties when its init exits; every mount is in its mount namespace.
///
/// # Errors
///
/// [`SandboxError::Config`] for an invalid configuration, [`SandboxError::Unavailable`] when a
/// required layer is missing (a root host without a pids cgroup), [`SandboxError::Setup`]
/// naming the failed step and errno, [`SandboxError::Exec`] when the program cannot be
/// executed, [`SandboxError::Io`] when copying streams fails.
pub fn run(config: &Config, stdio: Stdio<'_>) -> Result<Exit, SandboxError> {
    if !config.exe.starts_with(b"\x7fELF") {
        return Err(SandboxError::Exec(
            "the program is not an ELF executable".to_owned(),
        ));
    }
    // The guest's stdio: descriptors >= 3 that A moves to 0, 1, 2.
    let mut host_pumps: Option<Pumps<'_>> = None;
    let (child_stdio, tty) = match stdio {
        Stdio::Inherit | Stdio::Fds(_) => {
            let raw = match &stdio {
                Stdio::Fds(fds) => [fds[0].as_raw_fd(), fds[1].as_raw_fd(), fds[2].as_raw_fd()],
                _ => [0, 1, 2],
            };
            let tty = if config.tty { tty_name(raw[0]) } else { None };
            (
                [dup_high(raw[0])?, dup_high(raw[1])?, dup_high(raw[2])?],
                tty,
            )
        }
        Stdio::Streams {
            stdin,
            stdout,
            stderr,
        } => {
            let (in_r, in_w) = pipe()?;
            let (out_r, out_w) = pipe()?;
            let (err_r, err_w) = pipe()?;
            // No stdin: the write end is dropped now, so the guest reads EOF.
            let stdin_pump = stdin.map(|r| (in_w, r));
            host_pumps = Some((stdin_pump, (out_r, stdout), (err_r, stderr)));
            ([in_r, out_w, err_w], None)
        }
    };

    let memfd = write_memfd(&config.exe)?;
    let bpf = filter::compile(config.network)?;
    let mut plan = plan(config, tty)?;
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let cgroup = match cgroup::PidsCgroup::create(config.limits.nproc.saturating_add(2)) {
        Ok(cg) => Some(cg),
        Err(e) if root && !config.allow_no_pids_limit => {
            return Err(SandboxError::Unavailable(format!(
                "the host runs as root, where RLIMIT_NPROC does not apply, and no pids cgroup \
                 could be made to limit the guest's processes ({e}); run as a non-root user, \
                 give this process a writable pids cgroup, or weaken the sandbox explicitly"
            )));
        }
        Err(e) => {
            tracing::debug!(error = %e, "no pids cgroup; relying on RLIMIT_NPROC");
            None
        }
    };

    plan.memfd = memfd.as_raw_fd();
    plan.bpf = bpf;
    plan.stdio = [
        child_stdio[0].as_raw_fd(),
        child_stdio[1].as_raw_fd(),
        child_stdio[2].as_raw_fd(),
    ];
    plan.cgroup_procs = match &cgroup {
        Some(cg) => Some(cstring(
            "cgroup path",
            cg.procs_file().into_os_string().into_encoded_bytes(),
        )?),
        None => None,
    };
    let (pid_r, pid_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (status_r, status_w) = pipe()?;
    let (release_r, release_w) = pipe()?;
    plan.pid_w = pid_w.as_raw_fd();
    plan.err_w = err_w.as_raw_fd();
    plan.status_w = status_w.as_raw_fd();
    plan.release_r = release_r.as_raw_fd();
    plan.argv_ptrs = plan.argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    plan.argv_ptrs.push(std::ptr::null_mut());
    plan.envp_ptrs = plan.envp.iter().map(|a| a.as_ptr().cast_mut()).collect();
    plan.envp_ptrs.push(std::ptr::null_mut());
    // SAFETY: getpid cannot fail.
    plan.host_pid = unsafe { libc::getpid() };

    // SAFETY: the child only runs `child::process_a`, which makes system calls, uses the
    // allocator (made usable after fork by glibc) and never returns (it ends with _exit).
    let a_pid = unsafe { libc::fork() };
    if a_pid < 0 {
        return Err(SandboxError::Setup(format!(
            "fork: {}",
            std::io::Error::last_os_error()
        )));
    }
    if a_pid == 0 {
        child::process_a(&plan);
    }
    // Host: drop the children's ends.
    drop((pid_w, err_w, status_w, release_r, child_stdio));
    let deadline = config.limits.wall.map(|w| Instant::now() + w);

    let result = std::thread::scope(|scope| {
        let mut pump_threads = Vec::new();
        if let Some((stdin, (out_r, stdout), (err_r, stderr))) = host_pumps.take() {
            if let Some((in_w, reader)) = stdin {
                scope.spawn(move || pump_stdin(reader, in_w));
            }
            pump_threads.push(scope.spawn(move || copy_out(out_r, stdout)));
            pump_threads.push(scope.spawn(move || copy_out(err_r, stderr)));
        }
        let outcome = supervise(
            a_pid, &pid_r, &err_r, &status_r, release_w, deadline, config,
        );
        let mut io_error = None;
        for t in pump_threads {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => io_error = Some(e),
                Err(_) => io_error = Some(std::io::Error::other("a stdio thread panicked")),
            }
        }
        match (outcome, io_error) {
            (Ok(exit), Some(e)) if exit != Exit::TimedOut => Err(SandboxError::Io(e)),
            (outcome, _) => outcome,
        }
    });
    drop(cgroup);
    result
}

/// Waits for the sandbox: B's pid, then the error pipe (EOF once the guest has executed),
/// then the guest's wait status, within the deadline. Always kills B (the whole pid
/// namespace), releases and reaps A before returning.
fn supervise(
    a_pid: libc::pid_t,
    pid_r: &OwnedFd,
    err_r: &OwnedFd,
    status_r: &OwnedFd,
    release_w: OwnedFd,
    deadline: Option<Instant>,
    config: &Config,
) -> Result<Exit, SandboxError> {
    let mut b_pid = None;
    let mut buf = [0u8; 4];
    if let Ok(4) = read_full(pid_r, &mut buf, None) {
        b_pid = Some(libc::pid_t::from_ne_bytes(buf));
    }
    let outcome = (|| {
        let mut msg = Vec::new();
        match read_to_end(err_r, &mut msg, deadline) {
            Ok(()) => {}
            Err(ReadEnd::TimedOut) => return Ok(Exit::TimedOut),
            Err(ReadEnd::Io(e)) => {
                return Err(SandboxError::Setup(format!("reading the setup pipe: {e}")));
            }
        }
        if !msg.is_empty() {
            return Err(child_error(&msg, config));
        }
        if b_pid.is_none() {
            return Err(SandboxError::Setup(
                "the sandbox's first process ended before starting the guest".to_owned(),
            ));
        }
        match read_full(status_r, &mut buf, deadline) {
            Ok(4) => {
                let status = libc::c_int::from_ne_bytes(buf);
                if libc::WIFEXITED(status) {
                    Ok(Exit::Code(libc::WEXITSTATUS(status)))
                } else if libc::WIFSIGNALED(status) {
                    Ok(Exit::Signal(libc::WTERMSIG(status)))
                } else {
                    Err(SandboxError::Setup(format!(
                        "unexpected wait status {status:#x}"
                    )))
                }
            }
            Ok(_) => Err(SandboxError::Setup(
                "the sandbox's init ended without reporting the guest's status".to_owned(),
            )),
            Err(ReadEnd::TimedOut) => Ok(Exit::TimedOut),
            Err(ReadEnd::Io(e)) => Err(SandboxError::Setup(format!("reading the status: {e}"))),
        }
    })();
    if let Some(b) = b_pid {
        // A holds B unreaped until released, so `b` still names B (or its zombie).
        // SAFETY: kill with a pid we own (B is A's unreaped child) and a valid signal.
        unsafe { libc::kill(b, libc::SIGKILL) };
    }
    drop(release_w);
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child A; `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(a_pid, &mut status, 0) };
        if r >= 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    outcome
}

/// Turns a child's error message (`step\0errno\0detail`) into an error.
fn child_error(msg: &[u8], config: &Config) -> SandboxError {
    let mut parts = msg.splitn(3, |&b| b == 0);
    let step = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let errno: i32 = String::from_utf8_lossy(parts.next().unwrap_or_default())
        .parse()
        .unwrap_or(0);
    let detail = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let os = std::io::Error::from_raw_os_error(errno);
    if step == "execveat" {
        return match errno {
            libc::ENOENT => match webc_container::elf::inspect(&config.exe)
                .ok()
                .and_then(|info| info.interpreter)
            {
                Some(interp) => SandboxError::Exec(format!(
                    "the program's ELF interpreter {interp} is not in the sandbox (a dynamically \
                     linked program needs posix.host-libs granted)"
                )),
                None => SandboxError::Exec(format!("execveat: {os}")),
            },
            libc::ENOEXEC => SandboxError::Exec(format!(
                "not an executable for this machine (execveat: {os})"
            )),
            _ => SandboxError::Exec(format!("execveat: {os}")),
        };
    }
    let mut text = step;
    if !detail.is_empty() {
        text.push_str(": ");
        text.push_str(&detail);
    }
    if errno != 0 {
        text.push_str(": ");
        text.push_str(&os.to_string());
    }
    SandboxError::Setup(text)
}

enum ReadEnd {
    TimedOut,
    Io(std::io::Error),
}

/// Waits until `fd` is readable or the deadline passes.
fn wait_readable(fd: &OwnedFd, deadline: Option<Instant>) -> Result<(), ReadEnd> {
    loop {
        let timeout = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ReadEnd::TimedOut);
                }
                libc::c_int::try_from(left.as_millis().saturating_add(1)).unwrap_or(i32::MAX)
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout) };
        if r > 0 {
            return Ok(());
        }
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(ReadEnd::Io(e));
            }
        }
    }
}

fn read_some(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize, ReadEnd> {
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n.unsigned_abs());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(ReadEnd::Io(e));
        }
    }
}

fn read_full(fd: &OwnedFd, buf: &mut [u8], deadline: Option<Instant>) -> Result<usize, ReadEnd> {
    let mut got = 0;
    while got < buf.len() {
        wait_readable(fd, deadline)?;
        let n = read_some(fd, &mut buf[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

fn read_to_end(fd: &OwnedFd, out: &mut Vec<u8>, deadline: Option<Instant>) -> Result<(), ReadEnd> {
    let mut buf = [0u8; 512];
    loop {
        wait_readable(fd, deadline)?;
        let n = read_some(fd, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn copy_out(fd: OwnedFd, out: &mut (dyn Write + Send)) -> std::io::Result<()> {
    let mut file = std::fs::File::from(fd);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
    }
    out.flush()
}

/// Copies the caller's stdin into the guest's until either side ends. SIGPIPE is blocked in
/// this thread, so a guest that closed its stdin gives EPIPE here, which ends the copy.
fn pump_stdin(reader: &mut (dyn Read + Send), fd: OwnedFd) {
    // SAFETY: sigset manipulation on a local set, then masking this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let mut file = std::fs::File::from(fd);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if file.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}
