//! Process-wide engines, one per configuration, each with its WASI linker built once.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, Linker};

use crate::ctx::Ctx;

/// The settings that change compiled code (and so select an engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct EngineKey {
    /// Fuel metering (`--runner-opt fuel=N`).
    pub(crate) fuel: bool,
}

/// An engine, its linker (all WASI imports, both module names) and its fingerprint.
pub(crate) struct EngineEntry {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<Ctx>,
    /// SHA-256 of wasmtime's precompile-compatibility hash of this engine's config.
    pub(crate) fingerprint: [u8; 32],
}

impl std::fmt::Debug for EngineEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineEntry")
            .field("fingerprint", &hex::encode(self.fingerprint))
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
    // Always on, so timed and untimed runs share one engine and one compiled artifact; an
    // untimed store's deadline is simply never reached.
    c.epoch_interruption(true);
    c.consume_fuel(key.fuel);
    c
}

fn build(key: EngineKey) -> Result<EngineEntry, String> {
    let engine =
        Engine::new(&config(key)).map_err(|e| format!("cannot create the wasmtime engine: {e}"))?;
    let mut linker = Linker::new(&engine);
    crate::wasi::add_to_linker(&mut linker)
        .map_err(|e| format!("cannot define the WASI imports: {e}"))?;
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    key.hash(&mut h);
    let fingerprint = h.0.finalize().into();
    Ok(EngineEntry {
        engine,
        linker,
        fingerprint,
    })
}

/// The engine for `key`, created on first use and shared by every later run.
pub(crate) fn get(key: EngineKey) -> Result<&'static EngineEntry, String> {
    static PLAIN: OnceLock<Result<EngineEntry, String>> = OnceLock::new();
    static FUELED: OnceLock<Result<EngineEntry, String>> = OnceLock::new();
    let cell = if key.fuel { &FUELED } else { &PLAIN };
    cell.get_or_init(|| build(key))
        .as_ref()
        .map_err(Clone::clone)
}
