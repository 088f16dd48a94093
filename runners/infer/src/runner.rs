//! [`InferRunner`]: a [`Backend`] as a [`Runner`].

use webc_runner_api::{Availability, Job, Outcome, Runner, RunnerError, RunnerInfo};

use crate::backend::Backend;
use crate::serve;

/// The `infer` runner on the backend `B`. Stateless apart from the backend's process-wide
/// model cache; one value serves any number of concurrent jobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct InferRunner<B> {
    backend: B,
}

impl<B: Backend + Default> InferRunner<B> {
    /// The runner on `B`'s default value.
    pub fn new() -> InferRunner<B> {
        InferRunner::from_backend(B::default())
    }
}

impl<B: Backend> InferRunner<B> {
    /// The runner on `backend`.
    pub const fn from_backend(backend: B) -> InferRunner<B> {
        InferRunner { backend }
    }
}

impl<B: Backend> Runner for InferRunner<B> {
    fn info(&self) -> RunnerInfo {
        serve::info(self.backend.params())
    }

    fn availability(&self) -> Availability {
        self.backend.availability()
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        let backend = &self.backend;
        let params = backend.params();
        serve::check_kind(&job.spec, params)?;
        let settings = serve::settings(&job.spec, params)?;
        let mode = match serve::mode(&job.spec.args, params.docs) {
            Ok(mode) => mode,
            Err(usage) => return serve::usage(job, &usage),
        };
        backend.prepare(&settings)?;
        let key = if job.spec.atom_sha256.is_empty() {
            String::new()
        } else {
            format!("{}/threads={}", job.spec.atom_sha256, settings.threads)
        };
        let atom = job.atom;
        // Loaded before stdin is read or anything written, for every mode: a model the
        // backend cannot load is refused, and the host may try another runner.
        let model = backend
            .cache()
            .get_or_load(params.backend, key, || backend.load(atom, &settings))
            .map_err(serve::refused)?;
        serve::serve(job, mode, &*model)
    }
}
