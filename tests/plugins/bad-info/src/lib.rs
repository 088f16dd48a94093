//! Test-only plugin: a real `export_runner!` plugin whose `info()` returns a description
//! with no name and no runner URIs. The host must refuse it with `LoadError::Info`.

use webc_runner_api::{Job, Outcome, Runner, RunnerError, RunnerInfo};

struct EmptyInfo;

impl Runner for EmptyInfo {
    fn info(&self) -> RunnerInfo {
        RunnerInfo::new("", "0.0.0", "describes nothing")
    }

    fn run(&self, _job: Job<'_>) -> Result<Outcome, RunnerError> {
        Err(RunnerError::Other("never loaded, never run".into()))
    }
}

webc_runner_api::export_runner!(EmptyInfo);
