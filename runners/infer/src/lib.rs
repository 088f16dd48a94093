//! `webc-runner-infer` is the `infer` protocol of the model runners (docs/onnx-infer.md),
//! independent of any inference engine: the request codec ([`codec`]: a JSON object keyed by
//! input name or a `.npy` on stdin, `{"outputs":{…}}` on stdout), the request loop over a
//! job's stdio (one request; `--jsonl` for one request per line; `--describe` for the model's
//! signature), the runner options every backend shares (`threads=N`, `backend=NAME`) and a
//! small process-wide model cache keyed by the atom's SHA-256. An engine plugs in as a
//! [`Backend`] — it names its runner ([`RunnerParams`]: URI, atom kind, name, priority, its
//! own options), loads an atom into a [`Model`], which describes its [`Signature`] and runs
//! one batch of input tensors — and [`InferRunner`] turns it into a
//! [`webc_runner_api::Runner`]. A model the backend cannot load is
//! [`RunnerError::Refused`] (one line), returned before stdin is read or anything written, so
//! the host can hand the atom to another runner for the URI; bad requests are reported on
//! stderr as `error: …` (exit 1; exit 2 for bad program arguments), never a panic. The ONNX
//! runners (`webc-runner-onnx`: tract and ONNX Runtime) are its backends. Debug-level
//! `tracing` events: `loaded model` (backend, cache key, milliseconds) and `model cache hit`.
//!
//! [`Signature`]: codec::Signature

use webc_runner_api::RunnerError;

mod backend;
pub mod codec;
#[doc(hidden)]
pub mod fuzzing;
mod runner;
mod serve;

pub use backend::{Backend, Model, RunnerParams, Settings};
pub use runner::InferRunner;
pub use serve::ModelCache;

/// Errors of the `infer` protocol and its backends.
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
/// this conversion cannot know whether stdio was already used; [`InferRunner`] turns the load
/// errors it meets before serving into [`RunnerError::Refused`] itself.
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
