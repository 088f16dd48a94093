//! Fuzzes what `webc-host inspect --json` does with a package: open arbitrary bytes, build
//! the full inspection model (every volume walked) and serialise it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webc_container::Container;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = Container::from_bytes(bytes::Bytes::copy_from_slice(data)) else {
        return;
    };
    if let Ok(info) = webc_host::PackageInfo::from_container(&c) {
        let json = serde_json::to_vec(&info).expect("the model serialises");
        let _: serde_json::Value = serde_json::from_slice(&json).expect("as valid JSON");
    }
    let _ = webc_host::PackageInfo::summary(&c);
});
