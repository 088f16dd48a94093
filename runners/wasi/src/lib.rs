//! `webc-runner-wasi` runs WASI commands on wasmtime 48: [`WasiRunner`] (runner name `wasi`)
//! serves `https://webc.org/runner/wasi` in every Wasmer spelling (`wasi`,
//! `…/wasi@unstable_`, `…/wasi/command@unstable_`: the host's URI parser drops `/command` and
//! splits `@version`, and any version is accepted) for atoms of kind
//! `https://webc.org/kind/wasm`. It implements WASI **preview1** (`wasi_snapshot_preview1`)
//! itself, over the host's [`FileSystem`](webc_runner_api::fs::FileSystem) handle (container
//! volumes served without unpacking, granted directories, `/tmp`) and the job's stdio
//! streams, and the legacy **preview0** (`wasi_unstable`) with the same code: only the
//! layouts that differ are translated (`filestat.nlink` is `u32`, `whence` numbers
//! `cur, end, set`, clock subscriptions carry an extra `identifier`, there is no
//! `sock_accept`). Every guest pointer goes through one bounds-checked accessor (out of
//! bounds → `EFAULT`; wasmtime-wasi traps instead), paths must be UTF-8 (`EILSEQ`), and
//! errnos from the file system pass through unchanged since both use WASI's numbering;
//! semantics follow the WASI spec with wasmtime-wasi 48's preview1 adapter as the reference,
//! and each family module (`args_env`, `clock_random`, `fd`, `path`, `poll`, `proc`, `sock`)
//! documents where it deliberately differs.
//!
//! **Program environment (as Wasmer).** argv is `[wasi.exec-name, or else the command name;
//! wasi.main-args…; the user's args…]`. The environment is `wasi.env` followed by the host
//! variables the user granted; a later value of a key replaces an earlier one. fds 0–2 are
//! the job's stdin/stdout/stderr, streamed (each `fd_write` is written through and
//! flushed). fd 3 is a preopen named `.`: the directory `wasi.cwd` (default `/`), which must
//! exist and be a directory or the job is refused; fd 4 is a preopen named `/`: the
//! namespace root. Finding on wasi-libc (2022-05, Debian's; read from its `preopens.c` and
//! `chdir.c`): when registering preopens it strips leading `/` and `./` from their names, so
//! `.` and `/` both become the empty prefix; to resolve a path it strips the leading `/` (a
//! relative path is first joined to its own cwd, which starts as `/`) and takes the longest
//! matching prefix, preferring the most recently registered preopen on a tie. Both preopens
//! match every path with length 0 and fd 4 is registered last, so C (and Rust std) programs
//! resolve **all** paths, relative ones included, under `/` (fd 4): absolute paths are
//! always right, and `wasi.cwd` reaches only programs that use fd 3 directly (ordering `.`
//! last would instead resolve absolute paths under the cwd, which is worse).
//!
//! **Limits and outcome.** Memory (`JobSpec.limits.memory`) is enforced by a wasmtime
//! `ResourceLimiter` over all memories and tables, initial sizes included (a module whose
//! initial memory exceeds the limit is refused with [`RunnerError::CannotExecute`]; later
//! growth beyond it fails `memory.grow`). Wall time uses epoch interruption (compiled in only
//! for runs with a time limit, so those keep their own engine and artifact) with a per-store
//! deadline, checked also by sleeps in `poll_oneoff` and `sched_yield`, and after any call
//! that blocked across it; a stdio stream failing with `ErrorKind::TimedOut` (the host's
//! stdin does at the deadline) ends the run as a timeout too, not as an errno for the
//! program. The clock starts at instantiation (compilation is not counted). The
//! `fuel=N` runner option meters execution (running out traps); `max-fds=N` caps the
//! descriptors a program holds at once (default 1024, stdio and preopens included; one
//! more `path_open` is `EMFILE`, before the host opens anything). `proc_exit(n)` →
//! [`Outcome::Exit`]`(n)`, returning from `_start` → `Exit(0)`, the time limit →
//! [`Outcome::Timeout`], a trap → [`Outcome::Trap`] after writing
//! `error: the program trapped: <message>` and the wasm backtrace to the program's stderr.
//! Modules that are invalid, lack `_start` or a `memory` export, or import anything this
//! runner does not define are refused with a message naming the problem (and the import).
//!
//! **Engines and cache.** Engines are process-wide, one per configuration (fuel, epoch
//! interruption), each with its WASI linker built once, so an embedder running many jobs pays setup
//! once. With `JobSpec.cache_dir` set (and no `cache=off` option), compiled modules are kept
//! as `<cache_dir>/wasmtime-48.0.8-<engine fingerprint>/<atom sha256>`: a header (magic,
//! format, atom hash, engine fingerprint, wasmtime and runner versions, payload length and
//! BLAKE3 hash) followed by `Module::serialize` bytes. Deserializing untrusted bytes is unsound
//! in wasmtime, so everything in the header and the payload hash are checked first; a bad
//! artifact is deleted and recompiled. Writes are temporary file + rename (temporaries a killed
//! writer left behind are swept, once an hour old, after the next compile). Debug-level
//! `tracing` events say what happened — `compiled module`, `precompiled module cache hit`,
//! `precompiled artifact rejected: <why>` — and [`stats`] counts compiles, hits, rejections
//! and stores for the whole process.
//!
//! **As a library** (for another wasmtime runner, e.g. Emscripten, which links this rlib;
//! `docs/wasi-library.md` walks through it). Everything the WASI runner does per job is
//! public and is what the runner itself calls: [`Options::parse_with`] (the shared `fuel`,
//! `cache`, `max-fds` options, others handed back), [`engine`]`(`[`EngineKey::for_job`]`)`
//! (the process-wide engines), [`load_module`] (compile, or load through the precompiled
//! cache with its checks), [`WasiCtxBuilder`] ([`for_job`](WasiCtxBuilder::for_job) sets argv,
//! environ, `wasi.cwd`, `max-fds` and the memory limit as above;
//! [`run`](WasiCtxBuilder::run) opens fds 0–4 over a [`JobIo`] and hands over the
//! [`WasiCtx`] for the job's duration), [`add_to_linker`] (every preview1 or preview0
//! function on a `Linker<T>` for any store data `T` holding a [`WasiCtx`]), and
//! [`run_instance`] (store, memory/time/fuel limits, instantiation, the outcome mapping
//! with [`Exit`] and [`TimedOut`], flushing and closing). [`WasiCtx`]'s methods (`open`,
//! `close`, `dup`, `filestat`, `path_filestat`, `readdir`, `create_directory`, `rename`,
//! `readlink`, `symlink`, …) are the WASI calls' own code on the same descriptor table, so
//! a descriptor opened from Rust is one the guest uses with `fd_read`; their errors are
//! [`Errno`]s (WASI's numbers, which Emscripten's libc uses too). Another runner's own
//! imports reach guest memory through the same bounds-checked [`GuestMem`]
//! ([`with_guest_memory`]). The job's borrowed I/O has its lifetime erased once, inside
//! this crate; a [`WasiCtx`] works only while [`WasiCtxBuilder::run`]'s closure runs
//! (afterwards its methods answer `EIO` and its WASI calls trap), so the API is safe.

use webc_runner_api::{Job, Outcome, Runner, RunnerError, RunnerInfo};

mod annotations;
mod cache;
mod ctx;
mod engine;
mod errno;
mod exec;
mod limits;
mod mem;
mod wasi;
mod wasi_ctx;

pub use cache::{Stats, stats};
pub use ctx::{DEFAULT_MAX_FDS, DupAt, FdKind, JobIo};
pub use engine::{EngineEntry, EngineKey, engine};
pub use errno::{Errno, WasiResult};
pub use exec::{Options, OtherOptions, load_module, merge_environ, run_instance, split_env_entry};
pub use limits::TimedOut;
pub use mem::GuestMem;
pub use wasi::{
    Abi, Exit, NAMES, PREVIEW0, PREVIEW1, add_to_linker, fdflags, provides, rights,
    with_guest_memory,
};
pub use wasi_ctx::{CWD_FD, FdStat, ROOT_FD, WasiCtx, WasiCtxBuilder};

/// The atom kind accepted: [`webc_container::well_known::KIND_WASM`].
pub use webc_container::well_known::KIND_WASM as ATOM_KIND;
/// The runner URI served (any version): [`webc_container::well_known::RUNNER_WASI`].
pub use webc_container::well_known::RUNNER_WASI as URI;

/// The WASI runner. Construct with [`WasiRunner::default`] (or [`WasiRunner::new`]); it
/// holds no state of its own (engines are process-wide), so one value can serve any number of
/// concurrent jobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiRunner {
    _private: (),
}

impl WasiRunner {
    /// The runner.
    pub fn new() -> WasiRunner {
        WasiRunner::default()
    }
}

impl Runner for WasiRunner {
    fn info(&self) -> RunnerInfo {
        RunnerInfo::new(
            "wasi",
            env!("CARGO_PKG_VERSION"),
            "WASI preview1 and wasi_unstable on wasmtime 48",
        )
        .serves(URI, "*")
        .atom_kind(ATOM_KIND)
        .option(
            "fuel",
            "meter execution: stop (trap) after about N wasm instructions",
        )
        .option(
            "cache",
            "on (default) | off: use the precompiled-module cache",
        )
        .option(
            "max-fds",
            "most descriptors the program may hold at once, stdio and preopens included (default 1024; at least 5); one more is EMFILE",
        )
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        exec::run(job)
    }
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
