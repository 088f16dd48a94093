//! Test-only plugin: a real `export_runner!` plugin whose `info()` panics. The boundary
//! catches the panic and the host must refuse the plugin with `LoadError::Info`.

use webc_runner_api::{Job, Outcome, Runner, RunnerError, RunnerInfo};

struct PanicsOnInfo;

impl Runner for PanicsOnInfo {
    fn info(&self) -> RunnerInfo {
        panic!("init-error test plugin: info() fails on purpose")
    }

    fn run(&self, _job: Job<'_>) -> Result<Outcome, RunnerError> {
        Err(RunnerError::Other("never loaded, never run".into()))
    }
}

webc_runner_api::export_runner!(PanicsOnInfo);
