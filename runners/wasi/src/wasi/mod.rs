//! The WASI ABI: `wasi_snapshot_preview1` and the legacy `wasi_unstable` (preview0), defined
//! on a wasmtime [`Linker`] with `func_wrap`, one module per family of calls.
//!
//! Both module names share one implementation; [`Abi`] only translates the layouts that
//! differ in preview0 (`filestat`, `whence`, `subscription`; see [`Abi`]). Every function
//! reaches guest memory through [`GuestMem`] and returns an errno; only `proc_exit` and the
//! time limit end the call with an error: the limit reached while sleeping in
//! `poll_oneoff`, a stdio stream reporting it (`ErrorKind::TimedOut`, as `webc-host`'s stdin
//! does for a read blocked past the deadline), or the deadline found passed after any call.

use std::time::Instant;

use wasmtime::{Caller, Extern, Linker};

use crate::ctx::Ctx;
use crate::errno::WasiResult;
use crate::limits::TimedOut;
use crate::mem::GuestMem;

mod args_env;
mod clock_random;
mod fd;
mod path;
mod poll;
mod proc;
mod sock;

pub(crate) use clock_random::thread_cpu_nanos;
pub(crate) use proc::Exit;

/// Module name of WASI preview1.
pub(crate) const PREVIEW1: &str = "wasi_snapshot_preview1";
/// Module name of WASI preview0.
pub(crate) const PREVIEW0: &str = "wasi_unstable";

/// Which module a function is defined for.
///
/// Preview0 differs from preview1 in: `filestat.nlink` is `u32` (the record is 56 bytes, not
/// 64); `whence` numbers `cur`=0, `end`=1, `set`=2 (preview1: `set`=0, `cur`=1, `end`=2);
/// `subscription_clock` starts with a `u64` identifier (the subscription is 56 bytes, not
/// 48); `rights` has no `sock_accept` bit, and there is no `sock_accept` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abi {
    P0,
    P1,
}

impl Abi {
    pub(crate) fn module(self) -> &'static str {
        match self {
            Abi::P0 => PREVIEW0,
            Abi::P1 => PREVIEW1,
        }
    }
}

/// Defines the module of `abi` on `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<Ctx>, abi: Abi) -> wasmtime::Result<()> {
    args_env::add(linker, abi)?;
    clock_random::add(linker, abi)?;
    fd::add(linker, abi)?;
    path::add(linker, abi)?;
    poll::add(linker, abi)?;
    proc::add(linker, abi)?;
    sock::add(linker, abi)?;
    Ok(())
}

/// Whether `module`.`name` is a function this runner defines.
pub(crate) fn provides(module: &str, name: &str) -> bool {
    let abi = match module {
        PREVIEW1 => Abi::P1,
        PREVIEW0 => Abi::P0,
        _ => return false,
    };
    NAMES.contains(&name) && !(abi == Abi::P0 && name == "sock_accept")
}

/// Every preview1 function name.
pub(crate) const NAMES: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// The guest's exported memory (cached in the context once instantiated).
fn memory(caller: &mut Caller<'_, Ctx>) -> Option<wasmtime::Memory> {
    match caller.data().memory {
        Some(m) => Some(m),
        None => caller.get_export("memory").and_then(Extern::into_memory),
    }
}

/// Runs one WASI call: `f` gets the context and the checked memory view; the result
/// becomes the errno returned to the guest (0 on success). When a stdio stream reported
/// the time limit (`ErrorKind::TimedOut`) or the deadline passed while the call was running
/// (it blocked across it), the call fails with [`TimedOut`] instead, which ends the run as a
/// timeout. (A call that starts after the deadline runs normally: the epoch check stops the
/// program at its next loop or function entry.)
pub(crate) fn call(
    caller: &mut Caller<'_, Ctx>,
    f: impl FnOnce(&mut Ctx, &mut GuestMem<'_>) -> WasiResult<()>,
) -> wasmtime::Result<i32> {
    let Some(memory) = memory(caller) else {
        return Ok(crate::errno::Errno::FAULT.code());
    };
    let (bytes, ctx) = memory.data_and_store_mut(caller);
    let before_deadline = ctx.deadline.is_some_and(|d| Instant::now() < d);
    let errno = match f(ctx, &mut GuestMem::new(bytes)) {
        Ok(()) => 0,
        Err(e) => e.code(),
    };
    if ctx.timed_out || (before_deadline && ctx.out_of_time()) {
        return Err(wasmtime::Error::new(TimedOut));
    }
    Ok(errno)
}

/// Defines one WASI function: `func!(linker, abi, "name", |ctx, mem, a: i32, …| { body })`
/// where the body evaluates to `WasiResult<()>`.
macro_rules! func {
    ($linker:expr, $abi:expr, $name:literal, |$ctx:ident, $mem:ident $(, $arg:ident : $ty:ty)*| $body:block) => {
        $linker.func_wrap(
            $abi.module(),
            $name,
            move |mut caller: ::wasmtime::Caller<'_, $crate::ctx::Ctx> $(, $arg: $ty)*| -> ::wasmtime::Result<i32> {
                $crate::wasi::call(&mut caller, |$ctx, $mem| $body)
            },
        )?;
    };
}
pub(crate) use func;

/// Guest `i32` arguments are unsigned WASI values (pointers, sizes, fds, flags).
pub(crate) fn u(v: i32) -> u32 {
    v as u32
}

/// Validates a flags argument of `bits` width against the defined `mask`.
pub(crate) fn flags(v: i32, mask: u32) -> WasiResult<u32> {
    let v = u(v);
    if v & !mask != 0 {
        return Err(crate::errno::Errno::INVAL);
    }
    Ok(v)
}

/// `rights` bits (preview1).
pub(crate) mod rights {
    pub(crate) const FD_DATASYNC: u64 = 1 << 0;
    pub(crate) const FD_READ: u64 = 1 << 1;
    pub(crate) const FD_SEEK: u64 = 1 << 2;
    pub(crate) const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub(crate) const FD_SYNC: u64 = 1 << 4;
    pub(crate) const FD_TELL: u64 = 1 << 5;
    pub(crate) const FD_WRITE: u64 = 1 << 6;
    pub(crate) const FD_ADVISE: u64 = 1 << 7;
    pub(crate) const FD_ALLOCATE: u64 = 1 << 8;
    pub(crate) const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub(crate) const PATH_CREATE_FILE: u64 = 1 << 10;
    pub(crate) const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub(crate) const PATH_LINK_TARGET: u64 = 1 << 12;
    pub(crate) const PATH_OPEN: u64 = 1 << 13;
    pub(crate) const FD_READDIR: u64 = 1 << 14;
    pub(crate) const PATH_READLINK: u64 = 1 << 15;
    pub(crate) const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub(crate) const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub(crate) const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub(crate) const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub(crate) const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub(crate) const FD_FILESTAT_GET: u64 = 1 << 21;
    pub(crate) const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub(crate) const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub(crate) const PATH_SYMLINK: u64 = 1 << 24;
    pub(crate) const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub(crate) const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub(crate) const POLL_FD_READWRITE: u64 = 1 << 27;
    #[allow(dead_code, reason = "part of the complete table")]
    pub(crate) const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub(crate) const SOCK_ACCEPT: u64 = 1 << 29;
    /// Every defined right.
    pub(crate) const ALL: u64 = (1 << 30) - 1;
}

/// `fdflags` bits.
pub(crate) mod fdflags {
    pub(crate) const APPEND: u32 = 1;
    pub(crate) const DSYNC: u32 = 2;
    pub(crate) const NONBLOCK: u32 = 4;
    pub(crate) const RSYNC: u32 = 8;
    pub(crate) const SYNC: u32 = 16;
    pub(crate) const ALL: u32 = 31;
}

/// `filetype` of a file-system entry.
pub(crate) fn filetype(t: Option<webc_runner_api::fs::FileType>) -> u8 {
    t.map_or(0, |t| t as u8)
}

/// `filetype::directory`.
pub(crate) const FILETYPE_DIRECTORY: u8 = 3;
