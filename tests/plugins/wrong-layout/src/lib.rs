//! Test-only plugin: exports a `webc_runner` root module with the host's own interface
//! version (`webc_runner_api::abi::INTERFACE_VERSION`) but a different
//! layout: `info` takes an argument and returns a number. The host must refuse it with
//! `LoadError::Layout`, without calling anything in it.

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;

/// A root module whose first field does not match `webc_runner_api::abi::RunnerMod`.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = RunnerModRef)))]
#[sabi(missing_field(panic))]
pub struct RunnerMod {
    /// Not what the host expects.
    pub info: extern "C" fn(u32) -> u64,
    /// Neither is this.
    #[sabi(last_prefix_field)]
    pub run: extern "C" fn(u64),
}

impl RootModule for RunnerModRef {
    abi_stable::declare_root_module_statics! {RunnerModRef}
    const BASE_NAME: &'static str = "webc_runner";
    const NAME: &'static str = "webc_runner";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(webc_runner_api::abi::INTERFACE_VERSION);
}

extern "C" fn info(x: u32) -> u64 {
    u64::from(x)
}

extern "C" fn run(_: u64) {}

#[abi_stable::export_root_module]
fn root() -> RunnerModRef {
    RunnerMod { info, run }.leak_into_prefix()
}
