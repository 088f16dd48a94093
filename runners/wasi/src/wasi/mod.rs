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
use crate::wasi_ctx::WasiCtx;

mod args_env;
mod clock_random;
mod fd;
pub(crate) mod path;
mod poll;
mod proc;
mod sock;

pub(crate) use clock_random::thread_cpu_nanos;
pub use proc::Exit;

/// Module name of WASI preview1.
pub const PREVIEW1: &str = "wasi_snapshot_preview1";
/// Module name of WASI preview0.
pub const PREVIEW0: &str = "wasi_unstable";

/// Which module a function is defined for.
///
/// Preview0 differs from preview1 in: `filestat.nlink` is `u32` (the record is 56 bytes, not
/// 64); `whence` numbers `cur`=0, `end`=1, `set`=2 (preview1: `set`=0, `cur`=1, `end`=2);
/// `subscription_clock` starts with a `u64` identifier (the subscription is 56 bytes, not
/// 48); `rights` has no `sock_accept` bit, and there is no `sock_accept` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    /// `wasi_unstable`.
    P0,
    /// `wasi_snapshot_preview1`.
    P1,
}

impl Abi {
    /// The import module name.
    pub fn module(self) -> &'static str {
        match self {
            Abi::P0 => PREVIEW0,
            Abi::P1 => PREVIEW1,
        }
    }
}

/// How a host function reaches the WASI context in its store's data: the context, and
/// whether its job is still running (see [`crate::ctx::with_io`]).
pub(crate) trait Get<T>:
    Fn(&mut T) -> (&mut Ctx, bool) + Send + Sync + Copy + 'static
{
}

impl<T, F> Get<T> for F where F: Fn(&mut T) -> (&mut Ctx, bool) + Send + Sync + Copy + 'static {}

/// A linker being defined, with the way to the context.
pub(crate) struct Defs<'l, T: 'static, G> {
    pub(crate) linker: &'l mut Linker<T>,
    pub(crate) get: G,
}

/// Defines the module of `abi` on `linker`, reaching the context through `get`.
pub(crate) fn add_with<T: 'static>(
    linker: &mut Linker<T>,
    abi: Abi,
    get: impl Get<T>,
) -> wasmtime::Result<()> {
    let defs = &mut Defs { linker, get };
    args_env::add(defs, abi)?;
    clock_random::add(defs, abi)?;
    fd::add(defs, abi)?;
    path::add(defs, abi)?;
    poll::add(defs, abi)?;
    proc::add(defs, abi)?;
    sock::add(defs, abi)?;
    Ok(())
}

/// Defines the module of `abi` on the WASI runner's own linker.
pub(crate) fn add_to_runner_linker(linker: &mut Linker<Ctx>, abi: Abi) -> wasmtime::Result<()> {
    add_with(linker, abi, |ctx: &mut Ctx| (ctx, true))
}

/// Defines every function of WASI module `abi` (`wasi_snapshot_preview1` or
/// `wasi_unstable`) on `linker`, for a store whose data holds a [`WasiCtx`] that `get`
/// reaches (wasmtime-wasi's `p1::add_to_linker_sync` is the model). Another runner adds
/// its own imports (e.g. Emscripten's `env`) beside them; the functions are the WASI
/// runner's own, with the same checks (every guest pointer bounds-checked, `EFAULT`
/// outside memory) and the same time-limit handling. A call on a context whose job has
/// ended traps.
///
/// # Errors
///
/// wasmtime's, when a function is already defined (and shadowing is not allowed).
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    abi: Abi,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> wasmtime::Result<()> {
    add_with(linker, abi, move |data: &mut T| get(data).parts())
}

/// Whether `module`.`name` is a function [`add_to_linker`] defines (a runner checks a
/// module's imports with it before linking, to name what is missing).
pub fn provides(module: &str, name: &str) -> bool {
    let abi = match module {
        PREVIEW1 => Abi::P1,
        PREVIEW0 => Abi::P0,
        _ => return false,
    };
    NAMES.contains(&name) && !(abi == Abi::P0 && name == "sock_accept")
}

/// Every preview1 function name (preview0 has all but `sock_accept`).
pub const NAMES: &[&str] = &[
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

/// A WASI call on a context whose job has ended.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a WASI function was called after its job ended")]
pub(crate) struct Ended;

/// The context of the caller's store, failing (a trap) once its job has ended.
pub(crate) fn live<T>(data: &mut T, get: impl Get<T>) -> wasmtime::Result<&mut Ctx> {
    match get(data) {
        (ctx, true) => Ok(ctx),
        (_, false) => Err(wasmtime::Error::new(Ended)),
    }
}

/// The guest's exported memory (cached in the context once instantiated).
fn memory<T>(
    caller: &mut Caller<'_, T>,
    get: impl Get<T>,
) -> wasmtime::Result<Option<wasmtime::Memory>> {
    Ok(match live(caller.data_mut(), get)?.memory {
        Some(m) => Some(m),
        None => caller.get_export("memory").and_then(Extern::into_memory),
    })
}

/// Runs the body of a host function: `f` gets the store data and the checked memory view
/// (`None` when the module has no memory). When a stdio stream reported the time limit
/// (`ErrorKind::TimedOut`) or the deadline passed while the call was running (it blocked
/// across it), the call fails with [`TimedOut`] instead, which ends the run as a timeout.
/// (A call that starts after the deadline runs normally: the epoch check stops the program
/// at its next loop or function entry.) A call on a context whose job has ended traps.
fn guarded<T, R>(
    caller: &mut Caller<'_, T>,
    get: impl Get<T>,
    f: impl FnOnce(&mut T, &mut GuestMem<'_>) -> R,
) -> wasmtime::Result<Option<R>> {
    let Some(memory) = memory(caller, get)? else {
        return Ok(None);
    };
    let (bytes, data) = memory.data_and_store_mut(caller);
    let before_deadline = live(data, get)?
        .deadline
        .is_some_and(|d| Instant::now() < d);
    let r = f(data, &mut GuestMem::new(bytes));
    let ctx = get(data).0;
    if ctx.timed_out || (before_deadline && ctx.out_of_time()) {
        return Err(wasmtime::Error::new(TimedOut));
    }
    Ok(Some(r))
}

/// Runs one WASI call (see [`guarded`]): `f` gets the context and the checked memory view;
/// the result becomes the errno returned to the guest (0 on success; `EFAULT` without a
/// memory).
pub(crate) fn call<T>(
    caller: &mut Caller<'_, T>,
    get: impl Get<T>,
    f: impl FnOnce(&mut Ctx, &mut GuestMem<'_>) -> WasiResult<()>,
) -> wasmtime::Result<i32> {
    let errno = guarded(caller, get, |data, mem| match f(get(data).0, mem) {
        Ok(()) => 0,
        Err(e) => e.code(),
    })?;
    Ok(errno.unwrap_or(crate::errno::Errno::FAULT.code()))
}

/// Runs the body of another runner's host function as the WASI functions run theirs: `f`
/// gets the store data and the one bounds-checked view of the guest's memory (the
/// module's `memory` export), and afterwards a call that blocked across the job's time
/// limit (or whose stdio reported it) fails with [`TimedOut`], ending the run as a
/// timeout. A call on a context whose job has ended traps.
///
/// # Errors
///
/// [`TimedOut`] as above; an error when the module exports no memory or the job has
/// ended.
pub fn with_guest_memory<T, R>(
    caller: &mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
    f: impl FnOnce(&mut T, &mut GuestMem<'_>) -> R,
) -> wasmtime::Result<R> {
    guarded(caller, move |data: &mut T| get(data).parts(), f)?
        .ok_or_else(|| wasmtime::Error::msg("the module exports no memory named `memory`"))
}

/// Defines one WASI function: `func!(defs, abi, "name", |ctx, mem, a: i32, …| { body })`
/// where `defs` is a [`Defs`] of a function generic over the store data `T`, and the body
/// evaluates to `WasiResult<()>`.
macro_rules! func {
    ($defs:expr, $abi:expr, $name:literal, |$ctx:ident, $mem:ident $(, $arg:ident : $ty:ty)*| $body:block) => {
        let get = $defs.get;
        $defs.linker.func_wrap(
            $abi.module(),
            $name,
            move |mut caller: ::wasmtime::Caller<'_, T> $(, $arg: $ty)*| -> ::wasmtime::Result<i32> {
                $crate::wasi::call(&mut caller, get, |$ctx, $mem| $body)
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
#[allow(missing_docs, reason = "the names are WASI's `rights` flags")]
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    #[allow(dead_code, reason = "part of the complete table")]
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    /// Every defined right.
    pub const ALL: u64 = (1 << 30) - 1;
}

/// `fdflags` bits.
#[allow(missing_docs, reason = "the names are WASI's `fdflags`")]
pub mod fdflags {
    pub const APPEND: u32 = 1;
    pub const DSYNC: u32 = 2;
    pub const NONBLOCK: u32 = 4;
    pub const RSYNC: u32 = 8;
    pub const SYNC: u32 = 16;
    pub const ALL: u32 = 31;
}

/// `filetype` of a file-system entry.
pub(crate) fn filetype(t: Option<webc_runner_api::fs::FileType>) -> u8 {
    t.map_or(0, |t| t as u8)
}

/// `filetype::directory`.
pub(crate) const FILETYPE_DIRECTORY: u8 = 3;
