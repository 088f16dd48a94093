//! `sock_*`. Preview1 cannot create sockets; these act on preopened sockets only, and this
//! runner grants none, so every call answers `EBADF` for a descriptor that does not exist
//! and `ENOTSOCK` for one that is not a socket (as wasmtime-wasi 48's preview1; its
//! preview0 traps instead, here both modules answer alike). Flag arguments are validated
//! first (`EINVAL`).

use super::{Abi, Defs, Get, fdflags, flags, func, u};
use crate::ctx::Ctx;
use crate::errno::{Errno, WasiResult};

fn not_a_socket(ctx: &Ctx, fd: i32) -> WasiResult<()> {
    ctx.fds.get(u(fd))?;
    Err(Errno::NOTSOCK)
}

pub(super) fn add<T: 'static, G: Get<T>>(
    linker: &mut Defs<'_, T, G>,
    abi: Abi,
) -> wasmtime::Result<()> {
    if abi == Abi::P1 {
        func!(
            linker,
            abi,
            "sock_accept",
            |ctx, _mem, fd: i32, fl: i32, _ret: i32| {
                flags(fl, fdflags::ALL)?;
                not_a_socket(ctx, fd)
            }
        );
    }
    func!(
        linker,
        abi,
        "sock_recv",
        |ctx, _mem, fd: i32, _iovs: i32, _n: i32, fl: i32, _ret_len: i32, _ret_flags: i32| {
            flags(fl, 3)?;
            not_a_socket(ctx, fd)
        }
    );
    func!(
        linker,
        abi,
        "sock_send",
        |ctx, _mem, fd: i32, _iovs: i32, _n: i32, fl: i32, _ret: i32| {
            flags(fl, 0xffff)?;
            not_a_socket(ctx, fd)
        }
    );
    func!(
        linker,
        abi,
        "sock_shutdown",
        |ctx, _mem, fd: i32, how: i32| {
            flags(how, 3)?;
            not_a_socket(ctx, fd)
        }
    );
    Ok(())
}
