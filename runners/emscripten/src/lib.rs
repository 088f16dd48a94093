//! `webc-runner-emscripten` runs programs built by emcc (3.1.6, Debian's) in its default
//! JS-glue mode natively on wasmtime: [`EmscriptenRunner`] (runner name `emscripten`) serves
//! `https://webc.org/runner/emscripten` (any version) for wasm atoms. The `env.*` imports
//! that the generated `.js` implements are implemented here in Rust with that glue as the
//! reference (memory growth, `setTempRet0`, time in **UTC**, `exit`/`abort`/`__assert_fail`,
//! C++ exceptions and `setjmp`/`longjmp` through the `invoke_*` trampolines of any
//! signature, and a tested subset of the `__syscall_*` family); `wasi_snapshot_preview1.*`
//! comes from the WASI runner used as a library, on the same descriptor table and over the
//! host's file-system handle, so volumes, mounts and permissions behave as for WASI. A
//! module that is not an Emscripten module, or that imports something not provided, is
//! refused before it runs with one line naming what is missing. What is not implemented,
//! and where the runner differs from node running the glue, is listed in
//! `docs/emscripten.md`; the pure building blocks are [`time`], [`strftime`] and [`layout`].

use webc_runner_api::{Job, Outcome, Runner, RunnerError, RunnerInfo};

mod env;
mod error;
mod exec;
mod fs;
pub mod layout;
pub mod strftime;
pub mod time;

/// The atom kind accepted: [`webc_container::well_known::KIND_WASM`].
pub use webc_container::well_known::KIND_WASM as ATOM_KIND;
/// The runner URI served (any version): [`webc_container::well_known::RUNNER_EMSCRIPTEN`].
pub use webc_container::well_known::RUNNER_EMSCRIPTEN as URI;

/// The runner options (the WASI library's shared ones).
const OPTIONS: [(&str, &str); 3] = [
    (
        "fuel",
        "meter execution: stop (trap) after about N wasm instructions",
    ),
    (
        "cache",
        "on (default) | off: use the precompiled-module cache",
    ),
    (
        "max-fds",
        "most descriptors the program may hold at once, stdio and preopens included (default 1024; at least 5)",
    ),
];

/// The Emscripten runner. It holds no state (engines and the module cache are the WASI
/// library's, process-wide), so one value serves any number of jobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmscriptenRunner {
    _private: (),
}

impl EmscriptenRunner {
    /// The runner.
    pub fn new() -> EmscriptenRunner {
        EmscriptenRunner::default()
    }
}

impl Runner for EmscriptenRunner {
    fn info(&self) -> RunnerInfo {
        let info = RunnerInfo::new(
            "emscripten",
            env!("CARGO_PKG_VERSION"),
            "emcc-built programs (default JS-glue mode) on wasmtime 48",
        )
        .serves(URI, "*")
        .atom_kind(ATOM_KIND);
        OPTIONS
            .iter()
            .fold(info, |info, (name, help)| info.option(*name, *help))
    }
    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        exec::run(job)
    }
}
