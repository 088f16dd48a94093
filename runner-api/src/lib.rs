//! `webc-runner-api` is the only interface between `webc-host` and its runners. Runner
//! authors implement the plain-Rust [`Runner`] trait — [`Runner::info`] describes the runner
//! URIs and atom kinds it serves, [`Runner::run`] executes one [`Job`]: an atom (zero-copy
//! bytes), its annotations, args and env, the host's [`fs::FileSystem`] (container volumes
//! and granted directories, every permission checked by the host), stdio streams, limits
//! and network grants — and export it from a thin cdylib with [`export_runner!`]. The
//! `abi` module holds all the `abi_stable` machinery: the plugin's root module, the
//! `catch_unwind` wrappers, the FFI-safe file-system/stream/log objects, and the host-side
//! [`abi::LoadedRunner`], which checks the interface version and layout at load and
//! implements [`Runner`] again, so the host treats statically registered and dlopened
//! runners alike. See `docs/writing-a-runner.md`.

#![deny(missing_docs)]

pub mod abi;
pub mod env;
pub mod fs;
mod runner;
pub mod uri;

pub use runner::{
    Availability, HostServices, Job, JobSpec, Limits, Materialise, MountSource, MountSpec, Network,
    NoHostServices, OptionDoc, Outcome, Runner, RunnerError, RunnerInfo, Serves,
};
