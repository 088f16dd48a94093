//! Code that runs in the forked processes A (namespace maker), B (pid 1: root builder and
//! init) and C (the guest before `execveat`). It makes system calls on a plan built before
//! fork, reports the first failure through the error pipe as `step\0errno\0detail`, and ends
//! with `_exit`; it never logs or prints.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use landlock::{
    Access, AccessFs, LandlockStatus, PathBeneath, PathFd, RulesetCreatedAttr, RulesetStatus,
};
use seccompiler::BpfProgram;

/// How a bind is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindKind {
    /// Read-only, nosuid, nodev.
    ReadOnly,
    /// Read-write, nosuid, nodev.
    Writable,
    /// A device node: read-write, nosuid, noexec (not nodev).
    Device,
}

/// One bind mount, with its target under the staging root.
#[derive(Debug)]
pub(crate) struct PlannedBind {
    pub(crate) src: CString,
    pub(crate) src_display: String,
    /// The staged ancestors of the target, outermost first.
    pub(crate) prefixes: Vec<CString>,
    pub(crate) target: CString,
    pub(crate) kind: BindKind,
}

/// Everything the children need, prepared by the host before fork.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) host_pid: libc::pid_t,
    pub(crate) stdio: [libc::c_int; 3],
    pub(crate) cgroup_procs: Option<CString>,
    pub(crate) unshare_flags: libc::c_int,
    pub(crate) uid_map: Vec<u8>,
    pub(crate) gid_map: Vec<u8>,
    pub(crate) loopback: bool,
    pub(crate) stage: CString,
    pub(crate) binds: Vec<PlannedBind>,
    /// (link target, staged link path, staged ancestors)
    pub(crate) symlinks: Vec<(CString, CString, Vec<CString>)>,
    pub(crate) proc_dir: CString,
    pub(crate) proc_ro: Vec<CString>,
    /// (staged /tmp, tmpfs options)
    pub(crate) tmp: Option<(CString, CString)>,
    pub(crate) cwd: CString,
    pub(crate) setsid: bool,
    pub(crate) rlimits: Vec<(libc::__rlimit_resource_t, u64)>,
    pub(crate) cpu: Option<u64>,
    /// Guest paths landlock grants read-write (writable binds, devices, /tmp).
    pub(crate) landlock_rw: Vec<PathBuf>,
    pub(crate) bpf: Vec<BpfProgram>,
    pub(crate) memfd: libc::c_int,
    pub(crate) argv: Vec<CString>,
    pub(crate) envp: Vec<CString>,
    pub(crate) argv_ptrs: Vec<*mut libc::c_char>,
    pub(crate) envp_ptrs: Vec<*mut libc::c_char>,
    pub(crate) pid_w: libc::c_int,
    pub(crate) err_w: libc::c_int,
    pub(crate) status_w: libc::c_int,
    pub(crate) release_r: libc::c_int,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            host_pid: 0,
            stdio: [-1; 3],
            cgroup_procs: None,
            unshare_flags: 0,
            uid_map: Vec::new(),
            gid_map: Vec::new(),
            loopback: false,
            stage: CString::default(),
            binds: Vec::new(),
            symlinks: Vec::new(),
            proc_dir: CString::default(),
            proc_ro: Vec::new(),
            tmp: None,
            cwd: CString::default(),
            setsid: true,
            rlimits: Vec::new(),
            cpu: None,
            landlock_rw: Vec::new(),
            bpf: Vec::new(),
            memfd: -1,
            argv: Vec::new(),
            envp: Vec::new(),
            argv_ptrs: Vec::new(),
            envp_ptrs: Vec::new(),
            pid_w: -1,
            err_w: -1,
            status_w: -1,
            release_r: -1,
        }
    }
}

/// A failed step in a child.
struct Fail {
    step: &'static str,
    errno: i32,
    detail: String,
}

type Step<T = ()> = Result<T, Fail>;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn fail(step: &'static str) -> Fail {
    Fail {
        step,
        errno: errno(),
        detail: String::new(),
    }
}

fn fail_at(step: &'static str, what: &str) -> Fail {
    Fail {
        step,
        errno: errno(),
        detail: what.to_owned(),
    }
}

fn check(ret: libc::c_int, step: &'static str) -> Step<libc::c_int> {
    if ret < 0 { Err(fail(step)) } else { Ok(ret) }
}

fn path_str(p: &CString) -> String {
    String::from_utf8_lossy(p.as_bytes()).into_owned()
}

/// Reports `f` on the error pipe and exits.
fn die(err_w: libc::c_int, f: Fail) -> ! {
    let mut msg = Vec::with_capacity(64 + f.detail.len());
    msg.extend_from_slice(f.step.as_bytes());
    msg.push(0);
    msg.extend_from_slice(f.errno.to_string().as_bytes());
    msg.push(0);
    msg.extend_from_slice(f.detail.as_bytes());
    // SAFETY: writing a local buffer to a descriptor; a short or failed write only loses the
    // message. _exit ends the process without running the host's atexit handlers.
    unsafe {
        libc::write(err_w, msg.as_ptr().cast(), msg.len());
        libc::_exit(127)
    }
}

fn write_all(fd: libc::c_int, data: &[u8], step: &'static str) -> Step {
    let mut off = 0;
    while off < data.len() {
        // SAFETY: writing from a valid slice.
        let n = unsafe { libc::write(fd, data[off..].as_ptr().cast(), data.len() - off) };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return Err(fail(step));
        }
        off += n.unsigned_abs();
    }
    Ok(())
}

fn write_file(path: &std::ffi::CStr, data: &[u8], step: &'static str) -> Step {
    // SAFETY: `path` is NUL-terminated.
    let fd = check(
        unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) },
        step,
    )?;
    let r = write_all(fd, data, step);
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    r
}

fn set_pdeathsig() -> Step {
    // SAFETY: prctl with integer arguments.
    check(
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) },
        "prctl(PR_SET_PDEATHSIG)",
    )
    .map(drop)
}

/// Closes every descriptor except those in `keep` (and 0, 1, 2).
fn close_all_except(keep: &mut [libc::c_int]) {
    keep.sort_unstable();
    let mut next: libc::c_uint = 3;
    for &k in keep.iter() {
        let Ok(k) = libc::c_uint::try_from(k) else {
            continue;
        };
        if k > next {
            // SAFETY: closes a range of this process's descriptors none of which are used.
            unsafe { libc::close_range(next, k - 1, 0) };
        }
        if k >= next {
            next = k + 1;
        }
    }
    // SAFETY: as above.
    unsafe { libc::close_range(next, libc::c_uint::MAX, 0) };
}

/// Process A: joins the pids cgroup, unshares the namespaces, maps ids, forks B, reports B's
/// pid, and holds B unreaped until the host releases it.
pub(crate) fn process_a(plan: &Plan) -> ! {
    if let Err(f) = process_a_inner(plan) {
        die(plan.err_w, f);
    }
    // SAFETY: ends this forked child without running the host's atexit handlers.
    unsafe { libc::_exit(0) }
}

fn process_a_inner(plan: &Plan) -> Step {
    set_pdeathsig()?;
    // SAFETY: getppid cannot fail.
    if unsafe { libc::getppid() } != plan.host_pid {
        return Err(Fail {
            step: "checking the parent",
            errno: 0,
            detail: "the host exited".to_owned(),
        });
    }
    for (i, &fd) in plan.stdio.iter().enumerate() {
        let target = i32::try_from(i).unwrap_or(0);
        // SAFETY: dup2 onto 0..2 from descriptors >= 3 made by the host.
        check(unsafe { libc::dup2(fd, target) }, "dup2(stdio)")?;
    }
    let mut keep = [
        plan.pid_w,
        plan.err_w,
        plan.status_w,
        plan.release_r,
        plan.memfd,
    ];
    close_all_except(&mut keep);

    if let Some(procs) = &plan.cgroup_procs {
        write_file(procs, b"0\n", "joining the pids cgroup")?;
    }
    // SAFETY: unshare with namespace flags; A is single-threaded (a fork child).
    let mut r = unsafe { libc::unshare(plan.unshare_flags | libc::CLONE_NEWCGROUP) };
    if r < 0 && errno() == libc::EINVAL {
        // SAFETY: as above, without the cgroup namespace.
        r = unsafe { libc::unshare(plan.unshare_flags) };
    }
    check(r, "unshare(user, mount, pid, ipc, uts, net namespaces)")?;
    write_file(
        c"/proc/self/setgroups",
        b"deny",
        "writing /proc/self/setgroups",
    )?;
    write_file(c"/proc/self/uid_map", &plan.uid_map, "writing uid_map")?;
    write_file(c"/proc/self/gid_map", &plan.gid_map, "writing gid_map")?;
    if plan.loopback {
        loopback_up()?;
    }

    // SAFETY: fork in a single-threaded process; the child runs process_b and _exits.
    let b = check(unsafe { libc::fork() }, "fork (pid namespace init)")?;
    if b == 0 {
        process_b(plan);
    }
    write_all(plan.pid_w, &b.to_ne_bytes(), "reporting the init's pid")?;
    // SAFETY: closing A's copies of the pipes B and C use, so the host sees their EOFs.
    unsafe {
        libc::close(plan.pid_w);
        libc::close(plan.err_w);
        libc::close(plan.status_w);
        libc::close(plan.memfd);
        for fd in 0..3 {
            libc::close(fd);
        }
    }
    // Hold B (unreaped: its pid stays valid for the host's kill) until released.
    let mut byte = 0u8;
    loop {
        // SAFETY: reading one byte into a local.
        let n = unsafe { libc::read(plan.release_r, (&mut byte as *mut u8).cast(), 1) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        break;
    }
    // SAFETY: kill and reap our own child B.
    unsafe {
        libc::kill(b, libc::SIGKILL);
        let mut status = 0;
        while libc::waitpid(b, &mut status, 0) < 0 && errno() == libc::EINTR {}
    }
    Ok(())
}

fn loopback_up() -> Step {
    // SAFETY: creating a socket; checked below.
    let sock = check(
        unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) },
        "socket (bringing lo up)",
    )?;
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the flags member of `req`.
    let r = unsafe {
        if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) < 0 {
            -1
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(sock, libc::SIOCSIFFLAGS, &mut req)
        }
    };
    let f = (r < 0).then(|| fail("bringing lo up"));
    // SAFETY: closing the socket made above.
    unsafe { libc::close(sock) };
    f.map_or(Ok(()), Err)
}

/// Process B: pid 1 of the new pid namespace. Builds the root, forks the guest, reaps.
fn process_b(plan: &Plan) -> ! {
    let c = match build_root(plan) {
        Ok(()) => {
            // SAFETY: fork in a single-threaded process; the child runs process_c.
            let c = unsafe { libc::fork() };
            if c == 0 {
                process_c(plan);
            }
            if c < 0 {
                die(plan.err_w, fail("fork (guest)"));
            }
            c
        }
        Err(f) => die(plan.err_w, f),
    };
    // SAFETY: B keeps only the status pipe; closing the rest releases the host's EOFs.
    unsafe {
        libc::close(plan.err_w);
        libc::close(plan.memfd);
        libc::close(plan.release_r);
        for fd in 0..3 {
            libc::close(fd);
        }
    }
    loop {
        let mut status = 0;
        // SAFETY: reaping any child of this init; `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r == c {
            let _ = write_all(plan.status_w, &status.to_ne_bytes(), "status");
            // SAFETY: ends init; the kernel kills the rest of the namespace.
            unsafe { libc::_exit(0) };
        }
        if r < 0 && errno() != libc::EINTR {
            // SAFETY: as above.
            unsafe { libc::_exit(1) };
        }
    }
}

fn mount(
    src: Option<&std::ffi::CStr>,
    target: &std::ffi::CStr,
    fstype: Option<&std::ffi::CStr>,
    flags: libc::c_ulong,
    data: Option<&std::ffi::CStr>,
    step: &'static str,
) -> Step {
    let ptr = |c: Option<&std::ffi::CStr>| c.map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is NUL-terminated or null as mount(2) allows.
    let r = unsafe {
        libc::mount(
            ptr(src),
            target.as_ptr(),
            ptr(fstype),
            flags,
            ptr(data).cast(),
        )
    };
    if r < 0 {
        return Err(fail_at(step, &path_str(&target.to_owned())));
    }
    Ok(())
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Adds mount attributes (only adds: flags the host locked stay as they are).
fn set_attr(target: &std::ffi::CStr, attrs: u64, recursive: bool) -> Step {
    let attr = MountAttr {
        attr_set: attrs,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: mount_setattr with a valid path and a struct of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            target.as_ptr(),
            flags as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        return Err(fail_at("mount_setattr", &path_str(&target.to_owned())));
    }
    Ok(())
}

fn lstat(p: &std::ffi::CStr) -> Option<libc::stat> {
    // SAFETY: stat is plain data; lstat fills it on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `p` is NUL-terminated and `st` is a valid out pointer.
    (unsafe { libc::lstat(p.as_ptr(), &mut st) } == 0).then_some(st)
}

fn is_type(st: &libc::stat, t: libc::mode_t) -> bool {
    st.st_mode & libc::S_IFMT == t
}

/// Makes the ancestors of a staged target as directories, only on the staging tmpfs (never in
/// a host directory bound earlier) and never through a symlink.
fn make_parents(prefixes: &[CString], stage_dev: libc::dev_t) -> Step {
    let mut parent_dev = stage_dev;
    for p in prefixes {
        match lstat(p) {
            Some(st) if is_type(&st, libc::S_IFDIR) => parent_dev = st.st_dev,
            Some(_) => {
                return Err(Fail {
                    step: "making a mount point",
                    errno: libc::ENOTDIR,
                    detail: path_str(p),
                });
            }
            None => {
                if parent_dev != stage_dev {
                    return Err(Fail {
                        step: "making a mount point inside a bound host directory",
                        errno: libc::ENOENT,
                        detail: path_str(p),
                    });
                }
                // SAFETY: `p` is NUL-terminated.
                if unsafe { libc::mkdir(p.as_ptr(), 0o755) } < 0 {
                    return Err(fail_at("mkdir", &path_str(p)));
                }
            }
        }
    }
    // A target inside a bound host directory must already exist there (see make_target).
    Ok(())
}

/// Makes the mount point itself (a directory or an empty file), on the staging tmpfs only.
fn make_target(bind: &PlannedBind, dir: bool, stage_dev: libc::dev_t) -> Step {
    let parent_dev = bind
        .prefixes
        .last()
        .and_then(|p| lstat(p))
        .map_or(stage_dev, |st| st.st_dev);
    match lstat(&bind.target) {
        Some(st) if is_type(&st, libc::S_IFLNK) => Err(Fail {
            step: "making a mount point",
            errno: libc::ELOOP,
            detail: path_str(&bind.target),
        }),
        Some(_) => Ok(()),
        None if parent_dev != stage_dev => Err(Fail {
            step: "making a mount point inside a bound host directory",
            errno: libc::ENOENT,
            detail: path_str(&bind.target),
        }),
        None if dir => {
            // SAFETY: `target` is NUL-terminated.
            check(unsafe { libc::mkdir(bind.target.as_ptr(), 0o755) }, "mkdir")
                .map(drop)
                .map_err(|mut f| {
                    f.detail = path_str(&bind.target);
                    f
                })
        }
        None => {
            // SAFETY: `target` is NUL-terminated.
            let fd = unsafe {
                libc::open(
                    bind.target.as_ptr(),
                    libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                )
            };
            if fd < 0 {
                return Err(fail_at("creating a mount point", &path_str(&bind.target)));
            }
            // SAFETY: closing the descriptor opened above.
            unsafe { libc::close(fd) };
            Ok(())
        }
    }
}

fn build_root(plan: &Plan) -> Step {
    set_pdeathsig()?;
    // SAFETY: sethostname with a valid buffer and its length.
    let r = unsafe { libc::sethostname(c"webc".as_ptr(), 4) };
    check(r, "sethostname")?;
    mount(
        None,
        c"/",
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
        "making mounts private",
    )?;
    // Open every bind source before the staging mount can hide any of them.
    let mut srcs = Vec::with_capacity(plan.binds.len());
    for b in &plan.binds {
        // SAFETY: `src` is NUL-terminated.
        let fd = unsafe { libc::open(b.src.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(fail_at("opening a bind source", &b.src_display));
        }
        // SAFETY: fstat on the O_PATH descriptor just opened.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above; `st` is a valid out pointer.
        check(unsafe { libc::fstat(fd, &mut st) }, "fstat(bind source)")?;
        srcs.push((fd, is_type(&st, libc::S_IFDIR)));
    }
    mount(
        Some(c"tmpfs"),
        &plan.stage,
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(c"size=1m,mode=0755"),
        "mounting the root tmpfs",
    )?;
    let stage_dev = lstat(&plan.stage)
        .ok_or_else(|| fail("stat(new root)"))?
        .st_dev;

    for (b, &(fd, dir)) in plan.binds.iter().zip(&srcs) {
        make_parents(&b.prefixes, stage_dev)?;
        make_target(b, dir, stage_dev)?;
        let src = CString::new(format!("/proc/self/fd/{fd}")).unwrap_or_default();
        mount(
            Some(&src),
            &b.target,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
            "bind-mounting",
        )
        .map_err(|mut f| {
            f.detail = format!("{} at {}", b.src_display, f.detail);
            f
        })?;
        let attrs = match b.kind {
            BindKind::ReadOnly => MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            BindKind::Writable => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            // Read-only: device nodes stay writable (a read-only mount only refuses changes
            // to the node itself — chmod, chown, times — which on a root host would change
            // the host's node).
            BindKind::Device => MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
        };
        set_attr(&b.target, attrs, true)?;
        // SAFETY: closing the source descriptor.
        unsafe { libc::close(fd) };
    }

    // /proc of the new pid namespace, with the parts that reach the host kernel read-only.
    make_parents(std::slice::from_ref(&plan.proc_dir), stage_dev)?;
    mount(
        Some(c"proc"),
        &plan.proc_dir,
        Some(c"proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
        "mounting /proc",
    )?;
    for p in &plan.proc_ro {
        if lstat(p).is_none() {
            continue;
        }
        mount(
            Some(p),
            p,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
            "bind-mounting /proc parts",
        )?;
        set_attr(
            p,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
            true,
        )?;
    }
    // The whole /proc read-only too: landlock already refuses writes below it, and a
    // read-only mount also refuses chmod of its entries (which for the kernel's own files is
    // global).
    set_attr(
        &plan.proc_dir,
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        true,
    )?;
    if let Some((tmp, opts)) = &plan.tmp {
        make_parents(std::slice::from_ref(tmp), stage_dev)?;
        mount(
            Some(c"tmpfs"),
            tmp,
            Some(c"tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV,
            Some(opts),
            "mounting /tmp",
        )?;
    }
    for (target, link, prefixes) in &plan.symlinks {
        make_parents(prefixes, stage_dev)?;
        // SAFETY: both strings are NUL-terminated.
        if unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) } < 0 && errno() != libc::EEXIST {
            return Err(fail_at("symlink", &path_str(link)));
        }
    }

    // SAFETY: chdir/pivot_root/umount2 with NUL-terminated paths; "." is the new root.
    unsafe {
        check(libc::chdir(plan.stage.as_ptr()), "chdir(new root)")?;
        check(
            libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) as libc::c_int,
            "pivot_root",
        )?;
        check(
            libc::umount2(c".".as_ptr(), libc::MNT_DETACH),
            "detaching the old root",
        )?;
        check(libc::chdir(c"/".as_ptr()), "chdir(/)")?;
    }
    set_attr(
        c"/",
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        false,
    )?;
    // SAFETY: `cwd` is NUL-terminated.
    if unsafe { libc::chdir(plan.cwd.as_ptr()) } < 0 {
        return Err(fail_at(
            "chdir to the working directory",
            &path_str(&plan.cwd),
        ));
    }
    Ok(())
}

/// Process C: the guest. Applies the process-level layers and executes the memfd.
fn process_c(plan: &Plan) -> ! {
    let f = match guest_setup(plan) {
        Ok(()) => {
            // SAFETY: argv/envp are null-terminated arrays of pointers into CStrings owned
            // by `plan`, which outlives this call (it only returns on failure).
            unsafe {
                libc::execveat(
                    plan.memfd,
                    c"".as_ptr(),
                    plan.argv_ptrs.as_ptr(),
                    plan.envp_ptrs.as_ptr(),
                    libc::AT_EMPTY_PATH,
                )
            };
            fail("execveat")
        }
        Err(f) => f,
    };
    die(plan.err_w, f)
}

fn guest_setup(plan: &Plan) -> Step {
    set_pdeathsig()?;
    // SAFETY: getppid cannot fail.
    if unsafe { libc::getppid() } != 1 {
        return Err(Fail {
            step: "checking the parent",
            errno: 0,
            detail: "the sandbox init exited".to_owned(),
        });
    }
    // SAFETY: closing B's status pipe in C.
    unsafe { libc::close(plan.status_w) };
    if plan.setsid {
        // SAFETY: setsid has no arguments.
        check(unsafe { libc::setsid() }, "setsid")?;
    }
    for &(res, value) in &plan.rlimits {
        set_rlimit(res, value, value)?;
    }
    if let Some(cpu) = plan.cpu {
        set_rlimit(libc::RLIMIT_CPU, cpu, cpu.saturating_add(1))?;
    }
    // Everything but 0, 1, 2 is closed at exec (the memfd too: an ELF runs fine from a
    // close-on-exec descriptor).
    // SAFETY: marks descriptors close-on-exec.
    let r = unsafe { libc::close_range(3, libc::c_uint::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) };
    check(r, "close_range")?;
    // SAFETY: prctl with integer arguments.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    check(r, "prctl(PR_SET_NO_NEW_PRIVS)")?;
    apply_landlock(plan)?;
    for prog in &plan.bpf {
        seccompiler::apply_filter(prog).map_err(|e| Fail {
            step: "installing the seccomp filter",
            errno: 0,
            detail: e.to_string(),
        })?;
    }
    Ok(())
}

fn set_rlimit(res: libc::__rlimit_resource_t, soft: u64, hard: u64) -> Step {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit with a valid struct.
    check(unsafe { libc::setrlimit(res, &lim) }, "setrlimit").map(drop)
}

fn landlock_fail(step: &'static str, e: impl std::fmt::Display) -> Fail {
    Fail {
        step,
        errno: 0,
        detail: e.to_string(),
    }
}

fn apply_landlock(plan: &Plan) -> Step {
    let abi = super::LANDLOCK_ABI;
    let mut ruleset =
        super::landlock_ruleset().map_err(|e| landlock_fail("creating the landlock ruleset", e))?;
    let root = PathFd::new("/").map_err(|e| landlock_fail("landlock: opening /", e))?;
    ruleset = ruleset
        .add_rule(PathBeneath::new(root, AccessFs::from_read(abi)))
        .map_err(|e| landlock_fail("landlock: adding /", e))?;
    for p in &plan.landlock_rw {
        let fd = PathFd::new(p).map_err(|e| landlock_fail("landlock: opening a path", e))?;
        let dir = std::fs::metadata(p).map(|m| m.is_dir()).unwrap_or(false);
        let access = if dir {
            AccessFs::from_all(abi)
        } else {
            AccessFs::from_file(abi)
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| landlock_fail("landlock: adding a read-write path", e))?;
    }
    let status = ruleset
        .restrict_self()
        .map_err(|e| landlock_fail("landlock: restrict_self", e))?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(Fail {
            step: "landlock",
            errno: 0,
            detail: format!("the ruleset is not enforced ({:?})", status.landlock),
        });
    }
    Ok(())
}

/// What the probe child found.
pub(crate) struct ProbeResult {
    pub(crate) userns_errno: Option<i32>,
    pub(crate) cgroupns: bool,
    pub(crate) landlock_abi: i32,
}

/// Forks a child that tries the namespaces and landlock, and reports through a pipe.
pub(crate) fn probe_child() -> Result<ProbeResult, String> {
    let (r, w) = super::pipe().map_err(|e| e.to_string())?;
    let w_raw = w.as_raw_fd();
    // SAFETY: the child only makes system calls, builds a landlock ruleset and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        let mut out = [0i32; 3];
        let flags =
            libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWNET;
        // SAFETY: unshare in a single-threaded fork child.
        if unsafe { libc::unshare(flags) } < 0 {
            out[0] = errno();
        } else {
            // SAFETY: as above.
            out[1] = i32::from(unsafe { libc::unshare(libc::CLONE_NEWCGROUP) } == 0);
        }
        out[2] = match super::landlock_ruleset().and_then(|r| r.restrict_self()) {
            Ok(st) => match st.landlock {
                LandlockStatus::Available { effective_abi, .. } => effective_abi as i32,
                _ => 0,
            },
            Err(_) => 0,
        };
        let mut bytes = [0u8; 12];
        for (i, v) in out.iter().enumerate() {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
        }
        let _ = write_all(w_raw, &bytes, "probe");
        // SAFETY: ends the probe child.
        unsafe { libc::_exit(0) };
    }
    drop(w);
    let mut bytes = [0u8; 12];
    let got = super::read_full(&r, &mut bytes, None).unwrap_or(0);
    let mut status = 0;
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if got != 12 {
        return Err("the probe process ended without reporting".to_owned());
    }
    let v = |i: usize| {
        i32::from_ne_bytes([
            bytes[i * 4],
            bytes[i * 4 + 1],
            bytes[i * 4 + 2],
            bytes[i * 4 + 3],
        ])
    };
    Ok(ProbeResult {
        userns_errno: (v(0) != 0).then(|| v(0)),
        cgroupns: v(1) == 1,
        landlock_abi: v(2),
    })
}
