//! `webc-runner-onnx` runs ONNX models (atoms of kind `https://webc.org/kind/onnx`) for the
//! runner URI `https://webc.org/runner/onnx`, speaking the `infer` protocol of
//! docs/onnx-infer.md ([`codec`]: a JSON object keyed by input name or a `.npy` on stdin,
//! `{"outputs":{…}}` on stdout; `--jsonl` for one request per line, `--describe` for the
//! model's signature). Two backends are two runners for the same URI, so the host picks
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
//! other backend. Input and output names are the ONNX graph's declared ones on both backends.
//! Debug-level `tracing` events: `loaded model` (backend, sha256, milliseconds) and
//! `model cache hit`.

use webc_runner_api::RunnerError;

pub mod codec;
#[cfg(any(feature = "tract", feature = "ort"))]
mod external;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(any(feature = "tract", feature = "ort"))]
mod serve;

#[cfg(feature = "ort")]
mod ort_backend;
#[cfg(feature = "tract")]
mod tract_backend;

#[cfg(feature = "ort")]
pub use ort_backend::{OnnxOrtRunner, find_onnxruntime};
#[cfg(feature = "tract")]
pub use tract_backend::OnnxTractRunner;

/// The runner URI served (any version).
pub const URI: &str = "https://webc.org/runner/onnx";
/// The atom kind accepted.
pub const ATOM_KIND: &str = "https://webc.org/kind/onnx";

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is malformed or does not fit the model.
    #[error("{0}")]
    Request(String),
    /// The backend cannot load the model.
    #[error("{0}")]
    Load(String),
    /// The backend failed while running the model.
    #[error("inference failed: {0}")]
    Backend(String),
    /// The backend is not usable here.
    #[error("{0}")]
    Unavailable(String),
    /// A bad runner option.
    #[error("{0}")]
    Option(String),
    /// Reading stdin or writing stdout failed.
    #[error("{0}")]
    Io(String),
    /// A read of stdin was still blocked when the job's time limit passed.
    #[error("reading the request: the time limit was reached")]
    TimedOut,
}

/// The general conversion. A load error converts to [`RunnerError::CannotExecute`] here, since
/// this conversion cannot know whether stdio was already used; the runners turn the load
/// errors they meet before serving into [`RunnerError::Refused`] themselves.
impl From<Error> for RunnerError {
    fn from(e: Error) -> RunnerError {
        match e {
            Error::Load(m) => RunnerError::CannotExecute(m),
            Error::Unavailable(m) => RunnerError::Unavailable(m),
            Error::Option(m) | Error::Request(m) => RunnerError::InvalidJob(m),
            e @ (Error::Backend(_) | Error::Io(_) | Error::TimedOut) => {
                RunnerError::Other(e.to_string())
            }
        }
    }
}
