//! Test-only plugin built as one for interface 1.0 was: its root module ends at `run`
//! (no `run_with_host`) and claims interface `1.0.0`. `docs/abi-evolution.md` promises such
//! a plugin still loads and runs on a 1.x host, which then calls `run` without services.

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RSlice, RStr, RString};
use api::abi::{FsBox, LogBox, StreamBox};
use api::{Job, Materialise, Outcome, Runner, RunnerError, RunnerInfo};

/// The root module of interface 1.0.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = RunnerModRef)))]
#[sabi(missing_field(panic))]
pub struct RunnerMod {
    /// `RunnerInfo` as JSON.
    pub info: extern "C" fn() -> RResult<RString, RString>,
    /// `Availability` as JSON.
    pub availability: extern "C" fn() -> RResult<RString, RString>,
    /// The host's log sink.
    pub set_logger: extern "C" fn(sink: LogBox, max_level: u8),
    /// Runs a job.
    #[sabi(last_prefix_field)]
    pub run: extern "C" fn(
        spec: RStr<'_>,
        atom: RSlice<'_, u8>,
        fs: FsBox<'_>,
        stdin: StreamBox<'_>,
        stdout: StreamBox<'_>,
        stderr: StreamBox<'_>,
    ) -> RResult<RString, RString>,
}

impl RootModule for RunnerModRef {
    abi_stable::declare_root_module_statics! {RunnerModRef}
    const BASE_NAME: &'static str = "webc_runner";
    const NAME: &'static str = "webc_runner";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.0.0");
}

struct Older;

impl Runner for Older {
    fn info(&self) -> RunnerInfo {
        RunnerInfo::new("older-minor", "1.0.0", "test-only: a plugin of interface 1.0")
            .serves("https://webc-host.test/runner/older", "*")
            .atom_kind("*")
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        // Without `run_with_host` the host's services are not reachable.
        let services = match job.host.materialise(&Materialise::Atom) {
            Ok(_) => "services".to_owned(),
            Err(e) => format!("no services ({e})"),
        };
        writeln!(job.stdout, "ran on interface 1.0 with {services}")
            .map_err(|e| RunnerError::Other(e.to_string()))?;
        Ok(Outcome::Exit(0))
    }
}


extern "C" fn info() -> RResult<RString, RString> {
    api::abi::plugin::info(&Older)
}
extern "C" fn availability() -> RResult<RString, RString> {
    api::abi::plugin::availability(&Older)
}
extern "C" fn set_logger(sink: LogBox, max_level: u8) {
    api::abi::plugin::set_logger(sink, max_level)
}
extern "C" fn run(
    spec: RStr<'_>,
    atom: RSlice<'_, u8>,
    fs: FsBox<'_>,
    stdin: StreamBox<'_>,
    stdout: StreamBox<'_>,
    stderr: StreamBox<'_>,
) -> RResult<RString, RString> {
    api::abi::plugin::run(&Older, spec, atom, fs, stdin, stdout, stderr)
}

#[abi_stable::export_root_module]
fn root() -> RunnerModRef {
    RunnerMod {
        info,
        availability,
        set_logger,
        run,
    }
    .leak_into_prefix()
}
