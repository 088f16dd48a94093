//! `clock_res_get`, `clock_time_get`, `random_get`.
//!
//! Realtime is Unix time; monotonic counts from the start of the run (as wasmtime-wasi);
//! the CPU-time clocks (process and thread, which are the same for a single-threaded
//! guest) report the CPU time of the thread running the program since the run started.
//! Unknown clock ids are `EINVAL`.

use std::time::{SystemTime, UNIX_EPOCH};

use rustix::time::{ClockId, Timespec};

use super::{Abi, Defs, Get, func, u};
use crate::ctx::Ctx;
use crate::errno::{Errno, WasiResult};

pub(crate) const REALTIME: u32 = 0;
pub(crate) const MONOTONIC: u32 = 1;
pub(crate) const PROCESS_CPUTIME: u32 = 2;
pub(crate) const THREAD_CPUTIME: u32 = 3;

fn nanos(ts: Timespec) -> u64 {
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let ns = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(ns)
}

/// CPU time of the calling thread, in nanoseconds.
pub(crate) fn thread_cpu_nanos() -> u64 {
    nanos(rustix::time::clock_gettime(ClockId::ThreadCPUTime))
}

/// Nanoseconds since the Unix epoch.
pub(crate) fn realtime_nanos() -> WasiResult<u64> {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Errno::OVERFLOW)?;
    u64::try_from(d.as_nanos()).map_err(|_| Errno::OVERFLOW)
}

/// The guest's monotonic clock: nanoseconds since the run started.
pub(crate) fn monotonic_nanos(ctx: &Ctx) -> u64 {
    u64::try_from(ctx.clock_base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Current value of clock `id`.
pub(crate) fn now(ctx: &Ctx, id: u32) -> WasiResult<u64> {
    match id {
        REALTIME => realtime_nanos(),
        MONOTONIC => Ok(monotonic_nanos(ctx)),
        PROCESS_CPUTIME | THREAD_CPUTIME => Ok(thread_cpu_nanos().saturating_sub(ctx.cpu_base)),
        _ => Err(Errno::INVAL),
    }
}

fn resolution(id: u32) -> WasiResult<u64> {
    let clock = match id {
        REALTIME => ClockId::Realtime,
        MONOTONIC => ClockId::Monotonic,
        PROCESS_CPUTIME | THREAD_CPUTIME => ClockId::ThreadCPUTime,
        _ => return Err(Errno::INVAL),
    };
    Ok(nanos(rustix::time::clock_getres(clock)).max(1))
}

pub(super) fn add<T: 'static, G: Get<T>>(
    linker: &mut Defs<'_, T, G>,
    abi: Abi,
) -> wasmtime::Result<()> {
    func!(
        linker,
        abi,
        "clock_res_get",
        |_ctx, mem, id: i32, ret: i32| {
            let res = resolution(u(id))?;
            mem.write_u64(u(ret), res)
        }
    );
    func!(
        linker,
        abi,
        "clock_time_get",
        |ctx, mem, id: i32, _precision: i64, ret: i32| {
            let t = now(ctx, u(id))?;
            mem.write_u64(u(ret), t)
        }
    );
    func!(
        linker,
        abi,
        "random_get",
        |_ctx, mem, buf: i32, len: i32| {
            let out = mem.slice_mut(u(buf), u(len))?;
            getrandom::fill(out).map_err(|_| Errno::IO)
        }
    );
    Ok(())
}
