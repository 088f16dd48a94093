//! Process-wide engines, one per configuration, each with its WASI linkers built once
//! (public: another wasmtime runner shares them, and so the precompiled-module cache).
//!
//! A linker is built on first need for the WASI module names a program imports (preview1
//! alone, preview0 alone, or both), so a process that runs one preview1 program defines
//! only the preview1 functions; every later run with the same engine reuses it.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, Linker};
use webc_runner_api::{JobSpec, RunnerError};

use crate::ctx::Ctx;
use crate::wasi::Abi;

/// The settings that change compiled code (and so select an engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngineKey {
    /// Fuel metering (`--runner-opt fuel=N`).
    pub fuel: bool,
    /// Epoch interruption (a time limit is set). Off otherwise: the checks it compiles into
    /// every loop and function entry cost ~10 % of a cold start and some run time, and a
    /// timed and an untimed run of one atom then keep separate artifacts.
    pub epochs: bool,
}

impl EngineKey {
    /// The engine a job needs: fuel when `options.fuel` is set, epochs when the job has a
    /// time limit.
    pub fn for_job(spec: &JobSpec, options: &crate::Options) -> EngineKey {
        EngineKey {
            fuel: options.fuel.is_some(),
            epochs: spec.limits.time.is_some(),
        }
    }
}

/// Which WASI modules a linker defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Imports {
    Preview1,
    Preview0,
    Both,
}

impl Imports {
    fn abis(self) -> &'static [Abi] {
        match self {
            Imports::Preview1 => &[Abi::P1],
            Imports::Preview0 => &[Abi::P0],
            Imports::Both => &[Abi::P1, Abi::P0],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A process-wide engine with its fingerprint (and the WASI runner's lazily built linkers).
pub struct EngineEntry {
    pub(crate) engine: Engine,
    key: EngineKey,
    linkers: [OnceLock<Result<Linker<Ctx>, String>>; 3],
    fingerprint: OnceLock<[u8; 32]>,
}

impl std::fmt::Debug for EngineEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineEntry")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Feeds a `Hash` into SHA-256, giving a fingerprint that is stable across processes.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let d = self.0.clone().finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_le_bytes(b)
    }
}

fn config(key: EngineKey) -> Config {
    let mut c = Config::new();
    c.epoch_interruption(key.epochs);
    c.consume_fuel(key.fuel);
    c
}

impl EngineEntry {
    fn new(key: EngineKey) -> Result<EngineEntry, String> {
        let engine = Engine::new(&config(key))
            .map_err(|e| format!("cannot create the wasmtime engine: {e}"))?;
        Ok(EngineEntry {
            engine,
            key,
            linkers: Default::default(),
            fingerprint: OnceLock::new(),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The configuration it was made for.
    pub fn key(&self) -> EngineKey {
        self.key
    }

    /// The linker defining `imports`.
    pub(crate) fn linker(&self, imports: Imports) -> Result<&Linker<Ctx>, String> {
        self.linkers[imports.index()]
            .get_or_init(|| {
                let mut linker = Linker::new(&self.engine);
                for &abi in imports.abis() {
                    crate::wasi::add_to_runner_linker(&mut linker, abi)
                        .map_err(|e| format!("cannot define the WASI imports: {e}"))?;
                }
                Ok(linker)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// SHA-256 of wasmtime's precompile-compatibility hash of this engine (and our key):
    /// the precompiled-module cache keeps artifacts per fingerprint.
    pub fn fingerprint(&self) -> [u8; 32] {
        *self.fingerprint.get_or_init(|| {
            let mut h = ShaHasher(Sha256::new());
            self.engine.precompile_compatibility_hash().hash(&mut h);
            self.key.hash(&mut h);
            h.0.finalize().into()
        })
    }
}

/// The engine for `key`, created on first use and shared by every later run.
pub(crate) fn get(key: EngineKey) -> Result<&'static EngineEntry, String> {
    static ENGINES: [OnceLock<Result<EngineEntry, String>>; 4] = [const { OnceLock::new() }; 4];
    let cell = &ENGINES[usize::from(key.fuel) * 2 + usize::from(key.epochs)];
    cell.get_or_init(|| EngineEntry::new(key))
        .as_ref()
        .map_err(Clone::clone)
}

/// The process-wide engine for `key`, created on first use and shared by every later run
/// (of any runner linking this crate).
///
/// # Errors
///
/// [`RunnerError::Unavailable`] when wasmtime cannot create the engine.
pub fn engine(key: EngineKey) -> Result<&'static EngineEntry, RunnerError> {
    get(key).map_err(RunnerError::Unavailable)
}
