//! What a backend implements: [`Backend`] (names its runner, loads models) and [`Model`] (a
//! loaded model: its signature, one run), and what it is given: [`Settings`].

use webc_runner_api::Availability;

use crate::Error;
use crate::codec::{Signature, Tensor};
use crate::serve::ModelCache;

/// What names an `infer` runner and what it serves: everything its
/// [`RunnerInfo`](webc_runner_api::RunnerInfo) says, and the names its messages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerParams {
    /// The runner's name, what `--runner URI=NAME` selects (`onnx-tract`); errors about
    /// options name it.
    pub name: &'static str,
    /// The runner's version (usually the backend crate's `CARGO_PKG_VERSION`).
    pub version: &'static str,
    /// One line describing the runner.
    pub description: &'static str,
    /// The runner URI served (any version), e.g. `https://webc.org/runner/onnx`.
    pub uri: &'static str,
    /// The one atom kind accepted, e.g. `https://webc.org/kind/onnx`.
    pub atom_kind: &'static str,
    /// The host's preference among the runners available for the URI (higher first).
    pub priority: i32,
    /// The backend's name (`tract`): the runner's `backend`, the value of the `backend`
    /// option that this runner accepts, and the `backend` field of its `tracing` events.
    pub backend: &'static str,
    /// Every backend serving the URI (`["tract", "ort"]`), named by the `backend` option's
    /// help and by the error for a value naming another one.
    pub backends: &'static [&'static str],
    /// The backend's own options beyond `threads` and `backend`, as (key, help) in the order
    /// the runner's info lists them (`library` for ONNX Runtime); [`Settings::option`] reads
    /// them, any other key is refused.
    pub options: &'static [(&'static str, &'static str)],
    /// Where the protocol is documented, named by the usage message (`docs/onnx-infer.md`).
    pub docs: &'static str,
}

/// A job's runner options (`--runner-opt KEY=VALUE`), checked against the runner's
/// [`RunnerParams`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Threads the backend may use for one inference (`threads=N`, 1 to 1024; default 1).
    pub threads: usize,
    /// The backend's own options ([`RunnerParams::options`]), in the order given.
    pub(crate) options: Vec<(String, String)>,
}

impl Settings {
    /// The value of the backend's own option `key` (the last one given), if any.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A loaded, optimised model.
pub trait Model: Send + Sync {
    /// Inputs and outputs in model order.
    fn signature(&self) -> &Signature;

    /// Runs one batch: `inputs` are one tensor per [`Signature::inputs`] entry, in that
    /// order, already checked against the signature (dtype, rank, fixed dimensions); the
    /// result is one tensor per [`Signature::outputs`] entry, in that order.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the engine fails (its message becomes `inference failed: …`).
    fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, Error>;
}

/// An inference engine behind the `infer` protocol. [`InferRunner`](crate::InferRunner)
/// calls, for each job: [`Backend::prepare`], then (unless the model is in
/// [`Backend::cache`]) [`Backend::load`], then [`Model::run`] once per request.
pub trait Backend: Send + Sync + 'static {
    /// The backend's loaded model.
    type Model: Model;

    /// What the runner is called and what it serves.
    fn params(&self) -> &RunnerParams;

    /// The process-wide cache of this backend's models: a `static`, so every runner value
    /// of the process shares it (`static CACHE: ModelCache<M> = ModelCache::new();`).
    fn cache(&self) -> &ModelCache<Self::Model>;

    /// Whether the backend is usable here (e.g. its shared library is found); the default
    /// is always.
    fn availability(&self) -> Availability {
        Availability::Available
    }

    /// Makes the backend ready for a job with `settings` (e.g. loads its runtime library),
    /// before its model is looked up in the cache or loaded; the default does nothing.
    ///
    /// # Errors
    ///
    /// Any [`Error`]; it converts to the job's [`RunnerError`](webc_runner_api::RunnerError)
    /// as usual (e.g. [`Error::Unavailable`] → `Unavailable`), never to a refusal.
    fn prepare(&self, settings: &Settings) -> Result<(), Error> {
        let _ = settings;
        Ok(())
    }

    /// Loads and optimises the model in the atom's bytes for `settings`.
    ///
    /// # Errors
    ///
    /// [`Error::Load`] for a model the backend cannot load (the runner refuses the job with
    /// the message on one line, so the host may try another runner for the URI).
    fn load(&self, atom: &[u8], settings: &Settings) -> Result<Self::Model, Error>;
}
