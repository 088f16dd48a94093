//! `webc-runner-onnx` runs ONNX models (atoms of kind `https://webc.org/kind/onnx`) for the
//! runner URI `https://webc.org/runner/onnx`: two backends of the `infer` protocol
//! (`webc-runner-infer`, docs/onnx-infer.md: a JSON object keyed by input name or a `.npy` on
//! stdin, `{"outputs":{…}}` on stdout; `--jsonl` for one request per line, `--describe` for
//! the model's signature). Two backends are two runners for the same URI, so the host picks
//! (availability → user preference → priority): [`OnnxOrtRunner`] (name `onnx-ort`, feature
//! `ort`, priority 10) on ONNX Runtime, dlopened at run time from the library
//! [`find_onnxruntime`] finds, and [`OnnxTractRunner`] (name `onnx-tract`, feature `tract`,
//! priority 0) on pure-Rust tract, always available. Each model is loaded and optimised once
//! per run and kept in a small in-memory cache keyed by the atom's SHA-256 (and the options
//! that shape it), so a long-lived process (an embedder, `--jsonl`) loads a model once.
//! Options: `threads=N` (default 1), and for ort `library=PATH`. Bad requests are reported on
//! stderr as `error: …` (exit 1; exit 2 for bad program arguments) — never a panic; a model
//! the backend cannot load is [`RunnerError::Refused`] (naming, e.g., the operators it lacks),
//! returned before stdin is read or anything written, so the host can hand the atom to the
//! other backend. Both backends refuse models with external tensor data (a model is one
//! atom). Input and output names are the ONNX graph's declared ones on both backends.
//! Debug-level `tracing` events: `loaded model` (backend, sha256, milliseconds) and
//! `model cache hit`.
//!
//! [`RunnerError::Refused`]: webc_runner_api::RunnerError::Refused

pub use webc_runner_infer::{Error, codec};

#[cfg(any(feature = "tract", feature = "ort"))]
mod external;

#[cfg(feature = "ort")]
mod ort_backend;
#[cfg(feature = "tract")]
mod tract_backend;

#[cfg(feature = "ort")]
pub use ort_backend::{OnnxOrtRunner, OrtBackend, find_onnxruntime};
#[cfg(feature = "tract")]
pub use tract_backend::{OnnxTractRunner, TractBackend};

/// The runner URI served (any version).
pub const URI: &str = "https://webc.org/runner/onnx";
/// The atom kind accepted.
pub const ATOM_KIND: &str = "https://webc.org/kind/onnx";

/// The backends serving [`URI`], as the `backend` option names them.
#[cfg(any(feature = "tract", feature = "ort"))]
const BACKENDS: &[&str] = &["tract", "ort"];

/// The protocol's documentation, named by the usage message.
#[cfg(any(feature = "tract", feature = "ort"))]
const DOCS: &str = "docs/onnx-infer.md";
