//! `proc_exit`, `proc_raise`, `sched_yield`.
//!
//! `proc_exit(code)` ends the run with that exit code, whatever its value (as Wasmer does;
//! wasmtime-wasi refuses codes of 126 and above with a trap). `proc_raise` is unsupported
//! (`ENOTSUP`, as wasmtime-wasi) and `sched_yield` does nothing (but end the run at its time
//! limit).

use wasmtime::Caller;

use super::{Abi, Defs, Get, func, u};
use crate::errno::Errno;
use crate::limits::TimedOut;

/// The program exited with this code: `proc_exit` fails its call with it (as
/// `wasmtime::Error::new(Exit(code))`), and [`crate::run_instance`] turns it into
/// `Outcome::Exit(code)`. Another runner's own exit import raises it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the program exited with code {0}")]
pub struct Exit(pub i32);

pub(super) fn add<T: 'static, G: Get<T>>(
    linker: &mut Defs<'_, T, G>,
    abi: Abi,
) -> wasmtime::Result<()> {
    linker.linker.func_wrap(
        abi.module(),
        "proc_exit",
        |_caller: Caller<'_, T>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(Exit(code)))
        },
    )?;
    func!(linker, abi, "proc_raise", |_ctx, _mem, sig: i32| {
        if u(sig) > 30 {
            return Err(Errno::INVAL);
        }
        Err(Errno::NOTSUP)
    });
    let get = linker.get;
    linker.linker.func_wrap(
        abi.module(),
        "sched_yield",
        move |mut caller: Caller<'_, T>| -> wasmtime::Result<i32> {
            // A loop of yields is a busy wait: it ends at the time limit like any other call.
            if super::live(caller.data_mut(), get)?.out_of_time() {
                return Err(wasmtime::Error::new(TimedOut));
            }
            Ok(0)
        },
    )?;
    Ok(())
}
