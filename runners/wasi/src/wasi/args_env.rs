//! `args_*` and `environ_*`.

use super::{Abi, Defs, Get, func, u};
use crate::errno::{Errno, WasiResult};
use crate::mem::GuestMem;

/// Writes the `(count, total bytes with NULs)` of a string list.
fn sizes(list: &[String], mem: &mut GuestMem<'_>, count_ptr: u32, size_ptr: u32) -> WasiResult<()> {
    let count = u32::try_from(list.len())?;
    let mut size: u32 = 0;
    for s in list {
        let len = u32::try_from(s.len())?;
        size = size
            .checked_add(len)
            .and_then(|n| n.checked_add(1))
            .ok_or(Errno::OVERFLOW)?;
    }
    mem.range(count_ptr, 4)?;
    mem.range(size_ptr, 4)?;
    mem.write_u32(count_ptr, count)?;
    mem.write_u32(size_ptr, size)
}

/// Writes the pointer array at `ptrs` and the NUL-terminated strings at `buf`.
fn strings(list: &[String], mem: &mut GuestMem<'_>, ptrs: u32, buf: u32) -> WasiResult<()> {
    let addr = |a: u64| u32::try_from(a).map_err(|_| Errno::FAULT);
    let mut at = u64::from(buf);
    for (i, s) in list.iter().enumerate() {
        let slot = addr(u64::from(ptrs) + 4 * u64::try_from(i)?)?;
        mem.write_u32(slot, addr(at)?)?;
        mem.write(addr(at)?, s.as_bytes())?;
        at += u64::try_from(s.len())?;
        mem.write(addr(at)?, &[0])?;
        at += 1;
    }
    Ok(())
}

pub(super) fn add<T: 'static, G: Get<T>>(
    linker: &mut Defs<'_, T, G>,
    abi: Abi,
) -> wasmtime::Result<()> {
    func!(linker, abi, "args_get", |ctx, mem, argv: i32, buf: i32| {
        strings(&ctx.args, mem, u(argv), u(buf))
    });
    func!(
        linker,
        abi,
        "args_sizes_get",
        |ctx, mem, count: i32, size: i32| { sizes(&ctx.args, mem, u(count), u(size)) }
    );
    func!(
        linker,
        abi,
        "environ_get",
        |ctx, mem, environ: i32, buf: i32| { strings(&ctx.env, mem, u(environ), u(buf)) }
    );
    func!(
        linker,
        abi,
        "environ_sizes_get",
        |ctx, mem, count: i32, size: i32| { sizes(&ctx.env, mem, u(count), u(size)) }
    );
    Ok(())
}
