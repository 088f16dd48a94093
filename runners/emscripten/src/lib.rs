//! Emscripten runner (work in progress: building blocks). The runner will run modules built by
//! emcc 3.1.6 in its default JS-glue mode natively on wasmtime, implementing the `env.*` imports
//! that the glue implements in JS. So far this crate holds only the pure, engine-independent parts:
//! calendar arithmetic in UTC for the time imports ([`time`]), the glue's `strftime` ([`strftime`]),
//! and the guest record layouts and constants of the file-system syscalls ([`layout`]). There is no
//! runner, linker or syscall implementation yet.

pub mod layout;
pub mod strftime;
pub mod time;
