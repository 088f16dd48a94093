//! `proc_exit`, `proc_raise`, `sched_yield`.
//!
//! `proc_exit(code)` ends the run with that exit code, whatever its value (as Wasmer does;
//! wasmtime-wasi refuses codes of 126 and above with a trap). `proc_raise` is unsupported
//! (`ENOTSUP`, as wasmtime-wasi) and `sched_yield` does nothing (but end the run at its time
//! limit).

use wasmtime::{Caller, Linker};

use super::{Abi, func, u};
use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::limits::TimedOut;

/// `proc_exit` was called with this code.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the program exited with code {0}")]
pub(crate) struct Exit(pub(crate) i32);

pub(super) fn add(linker: &mut Linker<Ctx>, abi: Abi) -> wasmtime::Result<()> {
    linker.func_wrap(
        abi.module(),
        "proc_exit",
        |_caller: Caller<'_, Ctx>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(Exit(code)))
        },
    )?;
    func!(linker, abi, "proc_raise", |_ctx, _mem, sig: i32| {
        if u(sig) > 30 {
            return Err(Errno::INVAL);
        }
        Err(Errno::NOTSUP)
    });
    linker.func_wrap(
        abi.module(),
        "sched_yield",
        |caller: Caller<'_, Ctx>| -> wasmtime::Result<i32> {
            // A loop of yields is a busy wait: it ends at the time limit like any other call.
            if caller.data().out_of_time() {
                return Err(wasmtime::Error::new(TimedOut));
            }
            Ok(0)
        },
    )?;
    Ok(())
}
