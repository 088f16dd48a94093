//! Host services across the boundary (interface 1.1): requests and answers as JSON text.

use std::path::PathBuf;

use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RResult, RStr, RString};

use crate::runner::{HostServices, Materialise, RunnerError};

/// The host's services as the plugin sees them.
#[sabi_trait]
pub trait AbiHost: Send + Sync {
    /// `materialise`: a [`Materialise`] as JSON; the path, or a [`RunnerError`] as JSON.
    #[sabi(last_prefix_field)]
    fn materialise(&self, request: RStr<'_>) -> RResult<RString, RString>;
}

/// The host services handed to a plugin for one job.
pub type HostBox<'a> = AbiHost_TO<'a, RRef<'a, ()>>;

/// Host side: the services of one job.
pub(crate) struct HostSide<'a>(pub(crate) &'a dyn HostServices);

pub(crate) fn host_box<'a>(host: &'a HostSide<'a>) -> HostBox<'a> {
    AbiHost_TO::from_ptr(RRef::new(host), TD_Opaque)
}

fn error_json(e: &RunnerError) -> RString {
    serde_json::to_string(e)
        .unwrap_or_else(|_| "\"unencodable error\"".to_owned())
        .into()
}

impl AbiHost for HostSide<'_> {
    fn materialise(&self, request: RStr<'_>) -> RResult<RString, RString> {
        let what: Materialise = match serde_json::from_str(request.as_str()) {
            Ok(w) => w,
            Err(e) => {
                return RResult::RErr(error_json(&RunnerError::InvalidJob(format!(
                    "cannot decode a materialise request: {e}"
                ))));
            }
        };
        match self.0.materialise(&what) {
            Ok(path) => match path.into_os_string().into_string() {
                Ok(s) => RResult::ROk(s.into()),
                Err(p) => RResult::RErr(error_json(&RunnerError::Other(format!(
                    "the materialised path {p:?} is not UTF-8"
                )))),
            },
            Err(e) => RResult::RErr(error_json(&e)),
        }
    }
}

/// Plugin side: the boundary object as [`HostServices`].
pub(crate) struct PluginHost<'a>(pub(crate) HostBox<'a>);

impl HostServices for PluginHost<'_> {
    fn materialise(&self, what: &Materialise) -> Result<PathBuf, RunnerError> {
        let request = serde_json::to_string(what)
            .map_err(|e| RunnerError::Other(format!("cannot encode a request: {e}")))?;
        match self.0.materialise(RStr::from_str(&request)) {
            RResult::ROk(path) => Ok(PathBuf::from(path.as_str())),
            RResult::RErr(e) => Err(serde_json::from_str(e.as_str())
                .unwrap_or_else(|_| RunnerError::Other(format!("host error: {e}")))),
        }
    }
}
