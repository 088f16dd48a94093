//! The atom `wasm.features` annotation, detected exactly as `wasmer-types` 7.4.2
//! (`Features::detect_from_wasm`, used by `wasmer-package` 0.704.2) does it.
//!
//! That detection starts from Wasmer's *default* feature set (threads, reference types,
//! SIMD, bulk memory, multi-value, multi-memory and extended-const on), validates the module
//! twice with wasmparser 0.257 and turns more features on when a validation error message
//! mentions them, then scans custom-section names. So every module that parses gets at least
//! `simd, bulk-memory, reference-types, multi-value, threads, multi-memory`, and a module that
//! does not parse gets no annotation at all. We reproduce it, quirks included, because the
//! list ends up in the container's bytes.

use wasmparser_detect::{Parser, Payload, Validator, WasmFeatures};

/// `wasmer_types::Features`, only the flags that matter here.
#[derive(Debug, Clone, Copy)]
struct Features {
    threads: bool,
    reference_types: bool,
    simd: bool,
    bulk_memory: bool,
    multi_value: bool,
    tail_call: bool,
    multi_memory: bool,
    memory64: bool,
    exceptions: bool,
    wide_arithmetic: bool,
}

impl Default for Features {
    /// `wasmer_types::Features::new()`.
    fn default() -> Self {
        Features {
            threads: true,
            reference_types: true,
            simd: true,
            bulk_memory: true,
            multi_value: true,
            tail_call: false,
            multi_memory: true,
            memory64: false,
            exceptions: false,
            wide_arithmetic: false,
        }
    }
}

/// The proposals both of Wasmer's validation passes enable (exceptions is toggled per pass).
const PROPOSALS: [WasmFeatures; 8] = [
    WasmFeatures::BULK_MEMORY,
    WasmFeatures::REFERENCE_TYPES,
    WasmFeatures::SIMD,
    WasmFeatures::MULTI_VALUE,
    WasmFeatures::THREADS,
    WasmFeatures::TAIL_CALL,
    WasmFeatures::MULTI_MEMORY,
    WasmFeatures::MEMORY64,
];

/// The feature names Wasmer writes for `bytes`, in its order; `None` when the bytes do not
/// parse as a module (then Wasmer writes no `wasm` annotation).
pub(crate) fn detect(bytes: &[u8]) -> Option<Vec<&'static str>> {
    let mut f = Features::default();

    let mut no_exceptions = WasmFeatures::default();
    for flag in PROPOSALS {
        no_exceptions.set(flag, true);
    }
    no_exceptions.set(WasmFeatures::EXCEPTIONS, false);
    if let Err(e) = Validator::new_with_features(no_exceptions).validate_all(bytes)
        && e.to_string().contains("exception")
    {
        f.exceptions = true;
    }

    let mut all = WasmFeatures::default();
    for flag in PROPOSALS {
        all.set(flag, true);
    }
    all.set(WasmFeatures::EXCEPTIONS, true);
    all.set(WasmFeatures::RELAXED_SIMD, false);
    if let Err(e) = Validator::new_with_features(all).validate_all(bytes) {
        let msg = e.to_string().to_lowercase();
        let has = |s: &str| msg.contains(s);
        if has("exception") || has("try/catch") {
            f.exceptions = true;
        }
        if has("bulk memory") {
            f.bulk_memory = true;
        }
        if has("reference type") {
            // `reference_types(true)` also turns bulk memory on.
            f.reference_types = true;
            f.bulk_memory = true;
        }
        // "relaxed simd" sets a flag Wasmer never writes; plain "simd" sets `simd`.
        if !has("relaxed simd") && has("simd") {
            f.simd = true;
        }
        if has("multi value") || has("multiple values") {
            f.multi_value = true;
        }
        if has("thread") || has("shared memory") {
            f.threads = true;
        }
        if has("tail call") {
            f.tail_call = true;
        }
        if has("multi memory") {
            f.multi_memory = true;
        }
        if has("memory64") {
            f.memory64 = true;
        }
        if has("wide arithmetic") {
            f.wide_arithmetic = true;
        }
    }

    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::CustomSection(section) = payload.ok()?
            && section.name().contains("exception")
        {
            f.exceptions = true;
        }
    }

    // `wasmer_package::utils::features_to_wasm_annotations`.
    let mut out = Vec::new();
    for (on, name) in [
        (f.simd, "simd"),
        (f.bulk_memory, "bulk-memory"),
        (f.reference_types, "reference-types"),
        (f.multi_value, "multi-value"),
        (f.threads, "threads"),
        (f.exceptions, "exception-handling"),
        (f.memory64, "memory64"),
        (f.wide_arithmetic, "wide-arithmetic"),
        (f.tail_call, "tail-call"),
        (f.multi_memory, "multi-memory"),
    ] {
        if on {
            out.push(name);
        }
    }
    Some(out)
}
