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

/// Compiles the two filters (installed in this order): the `EPERM` filter, and one that makes
/// `clone3` fail with `ENOSYS` (its flags are in memory a filter cannot read; libcs fall back
/// to `clone`, whose flags the first filter checks).
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
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(compile_error)?;

    let mut clone3 = BTreeMap::new();
    clone3.insert(libc::SYS_clone3, vec![]);
    let clone3 = SeccompFilter::new(
        clone3,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(compile_error)?;

    Ok(vec![
        deny.try_into().map_err(compile_error)?,
        clone3.try_into().map_err(compile_error)?,
    ])
}
