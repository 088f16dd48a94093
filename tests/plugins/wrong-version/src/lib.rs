//! Test-only plugin: exports a `webc_runner` root module that claims interface version
//! 99.0.0. The host must refuse it with `LoadError::Version` naming both versions. abi_stable
//! checks the version before the layout, so the module's layout is a plausible earlier
//! draft of ours rather than an exact copy.

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RString};

/// The root module of "interface 99".
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = RunnerModRef)))]
#[sabi(missing_field(panic))]
pub struct RunnerMod {
    /// `RunnerInfo` as JSON.
    pub info: extern "C" fn() -> RResult<RString, RString>,
    /// `Availability` as JSON.
    #[sabi(last_prefix_field)]
    pub availability: extern "C" fn() -> RResult<RString, RString>,
}

impl RootModule for RunnerModRef {
    abi_stable::declare_root_module_statics! {RunnerModRef}
    const BASE_NAME: &'static str = "webc_runner";
    const NAME: &'static str = "webc_runner";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("99.0.0");
}

extern "C" fn info() -> RResult<RString, RString> {
    RResult::RErr(RString::from("the host must never call this plugin"))
}

#[abi_stable::export_root_module]
fn root() -> RunnerModRef {
    RunnerMod {
        info,
        availability: info,
    }
    .leak_into_prefix()
}
