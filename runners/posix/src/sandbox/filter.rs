//! The seccomp filters installed last in the guest process, compiled with `seccompiler` in the
//! host before any fork.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::{Network, SandboxError};

/// System calls the guest never needs: they could reach outside the namespaces (mount table,
/// kernel keyring, modules, BPF, tracing, clocks, ...). Denied with `EPERM`.
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pidfd_getfd,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_fsconfig,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_bpf,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_perf_event_open,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_userfaultfd,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_acct,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_settimeofday,
    libc::SYS_adjtimex,
    libc::SYS_syslog,
    libc::SYS_quotactl,
    libc::SYS_open_by_handle_at,
    libc::SYS_vhangup,
    // io_uring can open sockets and files without passing through this filter.
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
];

/// The namespace flags `clone` must not carry (a guest that could make namespaces could make a
/// user namespace of its own and mount there).
const CLONE_NS_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

fn arch() -> Result<TargetArch, SandboxError> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|e| {
        SandboxError::Unavailable(format!(
            "seccomp filters are not supported on {}: {e}",
            std::env::consts::ARCH
        ))
    })
}

fn cond(
    index: u8,
    len: SeccompCmpArgLen,
    op: SeccompCmpOp,
    value: u64,
) -> Result<SeccompCondition, SandboxError> {
    SeccompCondition::new(index, len, op, value).map_err(compile_error)
}

fn compile_error(e: impl std::fmt::Display) -> SandboxError {
    SandboxError::Setup(format!("compiling the seccomp filter: {e}"))
}

/// The first system call number the guard filter refuses (`ENOSYS`): every number from here up
/// is either newer than this filter (467 is `open_tree_attr`, which can clone a mount with
/// its read-only flag cleared) or, on x86_64, an x32-ABI call (`nr | 0x4000_0000`), through
/// which a kernel built with x32 support would run every call this filter denies under another
/// number. Numbers from 424 up are shared by every architecture.
pub(crate) const FIRST_UNKNOWN_SYSCALL: u32 = 467;

/// Modes a guest may not give a file: set-user-ID and set-group-ID. `nosuid` disarms them
/// inside the sandbox, but a writable mount is a host directory, where another user could later
/// run what the guest left there (as root on a root host).
const SET_ID_BITS: [u64; 2] = [libc::S_ISUID as u64, libc::S_ISGID as u64];

/// Where the mode argument is, for the calls that set a file's mode.
const MODE_ARGS: &[(libc::c_long, u8)] = &[
    (libc::SYS_fchmod, 1),
    (libc::SYS_fchmodat, 2),
    (libc::SYS_fchmodat2, 2),
    (libc::SYS_openat, 3),
    (libc::SYS_mknodat, 2),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_chmod, 1),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_open, 2),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_creat, 1),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_mknod, 1),
];

/// The guard: a classic-BPF prologue that refuses every system call number from
/// [`FIRST_UNKNOWN_SYSCALL`] up with `ENOSYS`. `seccompiler` matches exact numbers only (and
/// does not handle x32), so this comparison is written here; it checks the architecture first,
/// as every seccomp filter must, and kills a process of another architecture.
fn guard() -> Result<BpfProgram, SandboxError> {
    use seccompiler::sock_filter;
    const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
    const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    // struct seccomp_data { int nr; __u32 arch; ... }
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    // AUDIT_ARCH_*: the ELF machine | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE (linux/audit.h).
    const ARCH_64_LE: u32 = 0x8000_0000 | 0x4000_0000;
    let audit_arch = match std::env::consts::ARCH {
        "x86_64" => 62 | ARCH_64_LE,
        "aarch64" => 183 | ARCH_64_LE,
        "riscv64" => 243 | ARCH_64_LE,
        other => {
            return Err(SandboxError::Unavailable(format!(
                "seccomp filters are not supported on {other}"
            )));
        }
    };
    let stmt = |code: u16, k: u32| sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u16, k: u32, jt: u8, jf: u8| sock_filter { code, jt, jf, k };
    Ok(vec![
        stmt(LD_W_ABS, ARCH),
        jump(JEQ_K, audit_arch, 1, 0),
        stmt(RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, NR),
        jump(JGE_K, FIRST_UNKNOWN_SYSCALL, 0, 1),
        stmt(RET_K, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        stmt(RET_K, libc::SECCOMP_RET_ALLOW),
    ])
}

/// Compiles the filters (installed in this order): the guard (numbers this filter does not
/// know, x32 calls: `ENOSYS`), the `EPERM` filter, and one that makes `clone3` fail with
/// `ENOSYS` (its flags are in memory a filter cannot read; libcs fall back to `clone`, whose
/// flags the `EPERM` filter checks).
pub(crate) fn compile(network: Network) -> Result<Vec<BpfProgram>, SandboxError> {
    let arch = arch()?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for &nr in DENIED {
        rules.insert(nr, vec![]);
    }
    let mut clone_rules = Vec::new();
    for &flag in CLONE_NS_FLAGS {
        let flag = flag as u64;
        clone_rules.push(
            SeccompRule::new(vec![cond(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )?])
            .map_err(compile_error)?,
        );
    }
    rules.insert(libc::SYS_clone, clone_rules);
    // socket(domain, ...): AF_UNIX always; AF_INET/AF_INET6 only when the network is granted.
    let mut allowed_domains = vec![libc::AF_UNIX];
    if network != Network::None {
        allowed_domains.extend([libc::AF_INET, libc::AF_INET6]);
    }
    let socket_conditions = allowed_domains
        .iter()
        .map(|&d| {
            cond(
                0,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Ne,
                u64::from(d.unsigned_abs()),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(
        libc::SYS_socket,
        vec![SeccompRule::new(socket_conditions).map_err(compile_error)?],
    );
    // Terminal input injection into a shared terminal.
    rules.insert(
        libc::SYS_ioctl,
        vec![
            SeccompRule::new(vec![cond(
                1,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                libc::TIOCSTI,
            )?])
            .map_err(compile_error)?,
            SeccompRule::new(vec![cond(
                1,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                libc::TIOCLINUX,
            )?])
            .map_err(compile_error)?,
        ],
    );
    // No set-user-ID or set-group-ID bits on any file the guest creates or changes.
    for &(nr, arg) in MODE_ARGS {
        let mut mode_rules = Vec::new();
        for bit in SET_ID_BITS {
            mode_rules.push(
                SeccompRule::new(vec![cond(
                    arg,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(bit),
                    bit,
                )?])
                .map_err(compile_error)?,
            );
        }
        rules.insert(nr, mode_rules);
    }
    // openat2 takes its mode in a struct the filter cannot read: refuse it (`ENOSYS` below), as
    // for clone3, so libcs use openat.
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(compile_error)?;

    let mut clone3 = BTreeMap::new();
    clone3.insert(libc::SYS_clone3, vec![]);
    clone3.insert(libc::SYS_openat2, vec![]);
    let clone3 = SeccompFilter::new(
        clone3,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(compile_error)?;

    Ok(vec![
        guard()?,
        deny.try_into().map_err(compile_error)?,
        clone3.try_into().map_err(compile_error)?,
    ])
}
