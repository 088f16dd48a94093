//! The harness of the `inspect_json` fuzz target, shared with the corpus-replay test: what
//! `webc-host inspect --json` does with a package, from arbitrary bytes.

use webc_container::Container;

use crate::PackageInfo;

/// Opens `data` as a container and, if it opens, builds the full inspection model (every
/// volume walked), serialises it and parses the JSON back, and builds the summary.
/// Returns whether `data` opened.
///
/// # Panics
///
/// Only when the model does not serialise to valid JSON (a bug), never because `data` is
/// malformed.
pub fn exercise_inspect(data: &[u8]) -> bool {
    let Ok(c) = Container::from_bytes(bytes::Bytes::copy_from_slice(data)) else {
        return false;
    };
    if let Ok(info) = PackageInfo::from_container(&c) {
        let json = serde_json::to_vec(&info)
            .unwrap_or_else(|e| panic!("the inspection model does not serialise: {e}"));
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&json) {
            panic!("inspect --json writes invalid JSON: {e}");
        }
    }
    let _ = PackageInfo::summary(&c);
    true
}
