//! Test-only plugin built as a *later compatible* interface version would build it: its
//! root module comes from a package named `webc-runner-api` at version `<major>.99.0` (this
//! crate, standing in for a later release), claims interface `<major>.99.0`, and has one
//! more function after `run` (a capability this host does not know). `docs/abi-evolution.md` promises that such a
//! plugin loads and runs on this host; the host must never call the extra function.

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RSlice, RStr, RString};
use api::abi::{FsBox, LogBox, StreamBox};
use api::{Job, Outcome, Runner, RunnerError, RunnerInfo};

/// This host's root module, plus a trailing function.
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
    /// What a later interface might add; this host does not know it.
    pub future: extern "C" fn() -> u32,
}

impl RootModule for RunnerModRef {
    abi_stable::declare_root_module_statics! {RunnerModRef}
    const BASE_NAME: &'static str = "webc_runner";
    const NAME: &'static str = "webc_runner";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(FUTURE_VERSION);
}

/// `<this host's major>.99.0`.
const FUTURE_VERSION: &str = {
    assert!(api::abi::INTERFACE_MAJOR == 1, "update the literal");
    "1.99.0"
};

struct Future;

impl Runner for Future {
    fn info(&self) -> RunnerInfo {
        RunnerInfo::new("future-minor", "9.9.9", "test-only: a later compatible plugin")
            .serves("https://webc-host.test/runner/future", "*")
            .atom_kind("*")
    }

    fn run(&self, job: Job<'_>) -> Result<Outcome, RunnerError> {
        job.stdout
            .write_all(b"ran on a newer interface\n")
            .map_err(|e| RunnerError::Other(e.to_string()))?;
        Ok(Outcome::Exit(0))
    }
}

extern "C" fn info() -> RResult<RString, RString> {
    api::abi::plugin::info(&Future)
}
extern "C" fn availability() -> RResult<RString, RString> {
    api::abi::plugin::availability(&Future)
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
    api::abi::plugin::run(&Future, spec, atom, fs, stdin, stdout, stderr)
}
extern "C" fn future() -> u32 {
    std::process::abort()
}

#[abi_stable::export_root_module]
fn root() -> RunnerModRef {
    RunnerMod {
        info,
        availability,
        set_logger,
        run,
        future,
    }
    .leak_into_prefix()
}
