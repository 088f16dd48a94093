//! `poll_oneoff`.
//!
//! As wasmtime-wasi 48 for the descriptors that exist here: regular files and stdio are
//! always ready (a read subscription on a file reports `nbytes` 1, with `hangup` at end of
//! file; stdin is reported ready and a following read blocks until input arrives), other
//! descriptors are `EBADF`, the CPU-time clocks are `EINVAL`, and an empty subscription
//! list is `EINVAL`. When no descriptor is ready the call sleeps until the earliest clock
//! subscription (relative, or absolute on the realtime or monotonic clock) and reports
//! every clock due by then. More than 2^20 subscriptions is `EINVAL`. A sleep never outlasts the run's time limit: reaching it ends
//! the run as a timeout.

use std::time::{Duration, Instant};

use wasmtime::Caller;
use webc_runner_api::fs::Whence;

use super::clock_random::{MONOTONIC, REALTIME, monotonic_nanos, realtime_nanos};
use super::{Abi, Defs, Get, u};
use crate::ctx::{Ctx, Desc};
use crate::errno::{Errno, WasiResult};
use crate::limits::TimedOut;
use crate::mem::GuestMem;

const EVENT_SIZE: u32 = 32;
/// Most subscriptions one call may pass (`EINVAL` beyond), bounding the work of a call.
const MAX_SUBSCRIPTIONS: u32 = 1 << 20;
const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCK_ABSTIME: u16 = 1;
const FD_READWRITE_HANGUP: u16 = 1;

fn sub_size(abi: Abi) -> u32 {
    match abi {
        Abi::P1 => 48,
        Abi::P0 => 56,
    }
}

/// One decoded subscription.
#[derive(Debug, Clone, Copy)]
enum Sub {
    Clock {
        userdata: u64,
        /// Due time on the guest's monotonic timeline.
        due: u64,
        relative: bool,
    },
    Fd {
        userdata: u64,
        kind: u8,
        fd: u32,
    },
}

/// The clocks' readings at the start of the call (both passes use the same).
#[derive(Debug, Clone, Copy)]
struct Now {
    mono: u64,
    real: u64,
}

fn decode(abi: Abi, ctx: &Ctx, mem: &GuestMem<'_>, at: u32, now: Now) -> WasiResult<Sub> {
    let field = |off: u32| at.checked_add(off).ok_or(Errno::FAULT);
    let userdata = mem.read_u64(at)?;
    let tag = mem.read_u8(field(8)?)?;
    match tag {
        EVENTTYPE_CLOCK => {
            // Preview0's subscription_clock starts with a u64 `identifier`.
            let base = match abi {
                Abi::P1 => 16,
                Abi::P0 => 24,
            };
            let id = mem.read_u32(field(base)?)?;
            let timeout = mem.read_u64(field(base + 8)?)?;
            let fl = mem.read_u16(field(base + 24)?)?;
            if fl & !SUBCLOCK_ABSTIME != 0 {
                return Err(Errno::INVAL);
            }
            let absolute = fl & SUBCLOCK_ABSTIME != 0;
            let due = match (id, absolute) {
                (MONOTONIC | REALTIME, false) => now.mono.saturating_add(timeout),
                (MONOTONIC, true) => timeout,
                (REALTIME, true) => now.mono.saturating_add(timeout.saturating_sub(now.real)),
                _ => return Err(Errno::INVAL),
            };
            Ok(Sub::Clock {
                userdata,
                due,
                relative: !absolute,
            })
        }
        EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
            let fd = mem.read_u32(field(16)?)?;
            match (tag, ctx.fds.get(fd)?) {
                (EVENTTYPE_FD_READ, Desc::Stdin | Desc::File { .. })
                | (EVENTTYPE_FD_WRITE, Desc::Stdout | Desc::Stderr | Desc::File { .. }) => {}
                _ => return Err(Errno::BADF),
            }
            Ok(Sub::Fd {
                userdata,
                kind: tag,
                fd,
            })
        }
        _ => Err(Errno::INVAL),
    }
}

fn event(userdata: u64, kind: u8, nbytes: u64, flags: u16) -> [u8; EVENT_SIZE as usize] {
    let mut b = [0u8; EVENT_SIZE as usize];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[10] = kind;
    b[16..24].copy_from_slice(&nbytes.to_le_bytes());
    b[24..26].copy_from_slice(&flags.to_le_bytes());
    b
}

/// Sleeps until `due` on the guest's monotonic timeline, or fails at the run's deadline.
fn sleep_until(ctx: &Ctx, due: u64) -> Result<(), TimedOut> {
    let target = ctx.clock_base.checked_add(Duration::from_nanos(due));
    loop {
        let now = Instant::now();
        if target.is_some_and(|t| now >= t) {
            return Ok(());
        }
        if ctx.deadline.is_some_and(|d| now >= d) {
            return Err(TimedOut);
        }
        let until = match (target, ctx.deadline) {
            (Some(t), Some(d)) => t.min(d),
            (Some(t), None) => t,
            (None, Some(d)) => d,
            // Due beyond what `Instant` can represent and no limit: sleep in long steps.
            (None, None) => now + Duration::from_secs(3600),
        };
        std::thread::sleep(until.saturating_duration_since(now));
    }
}

fn poll_oneoff(
    abi: Abi,
    ctx: &mut Ctx,
    mem: &mut GuestMem<'_>,
    subs: u32,
    events: u32,
    n: u32,
    ret: u32,
) -> Result<WasiResult<()>, TimedOut> {
    let size = sub_size(abi);
    let check = || -> WasiResult<()> {
        if n == 0 {
            // Indefinite sleeping is not supported in preview1 (as wasmtime-wasi).
            return Err(Errno::INVAL);
        }
        mem.check_array(subs, n, size)?;
        mem.check_array(events, n, EVENT_SIZE)?;
        mem.range(ret, 4)?;
        if n > MAX_SUBSCRIPTIONS {
            return Err(Errno::INVAL);
        }
        Ok(())
    };
    if let Err(e) = check() {
        return Ok(Err(e));
    }
    let now = Now {
        mono: monotonic_nanos(ctx),
        real: match realtime_nanos() {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        },
    };
    let at = |i: u32| subs + i * size; // in bounds: checked above
    // Pass 1: validate everything and find what to wait for.
    let mut earliest: Option<u64> = None;
    let mut fd_ready = false;
    for i in 0..n {
        match decode(abi, ctx, mem, at(i), now) {
            Ok(Sub::Clock { due, .. }) => {
                earliest = Some(earliest.map_or(due, |e| e.min(due)));
            }
            Ok(Sub::Fd { .. }) => fd_ready = true,
            Err(e) => return Ok(Err(e)),
        }
    }
    if let (false, Some(due)) = (fd_ready, earliest) {
        sleep_until(ctx, due)?;
    }
    // Pass 2: report what is ready.
    let ready_at = monotonic_nanos(ctx);
    let single_relative_clock = n == 1;
    let mut count: u32 = 0;
    for i in 0..n {
        let ev = match decode(abi, ctx, mem, at(i), now) {
            Ok(Sub::Clock {
                userdata,
                due,
                relative,
            }) => {
                if due > ready_at {
                    continue;
                }
                // wasmtime-wasi reports nbytes 1 for a lone relative sleep, 0 otherwise.
                let nbytes = u64::from(single_relative_clock && relative);
                event(userdata, EVENTTYPE_CLOCK, nbytes, 0)
            }
            Ok(Sub::Fd { userdata, kind, fd }) => {
                let mut flags = 0;
                if let (EVENTTYPE_FD_READ, Ok(Desc::File { handle, .. })) = (kind, ctx.fds.get(fd))
                {
                    let fs = ctx.fs();
                    let at_end = fs
                        .fstat(*handle)
                        .and_then(|st| fs.seek(*handle, 0, Whence::Cur).map(|pos| st.size <= pos));
                    match at_end {
                        Ok(true) => flags = FD_READWRITE_HANGUP,
                        Ok(false) => {}
                        Err(e) => return Ok(Err(e.into())),
                    }
                }
                event(userdata, kind, 1, flags)
            }
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = mem.write(events + count * EVENT_SIZE, &ev) {
            return Ok(Err(e));
        }
        count += 1;
    }
    Ok(mem.write_u32(ret, count))
}

pub(super) fn add<T: 'static, G: Get<T>>(
    linker: &mut Defs<'_, T, G>,
    abi: Abi,
) -> wasmtime::Result<()> {
    let get = linker.get;
    linker.linker.func_wrap(
        abi.module(),
        "poll_oneoff",
        move |mut caller: Caller<'_, T>,
              subs: i32,
              events: i32,
              n: i32,
              ret: i32|
              -> wasmtime::Result<i32> {
            let mut outcome = Ok(());
            let errno = super::call(&mut caller, get, |ctx, mem| {
                match poll_oneoff(abi, ctx, mem, u(subs), u(events), u(n), u(ret)) {
                    Ok(r) => r,
                    Err(t) => {
                        outcome = Err(t);
                        Ok(())
                    }
                }
            })?;
            outcome.map(|()| errno).map_err(wasmtime::Error::new)
        },
    )?;
    Ok(())
}
