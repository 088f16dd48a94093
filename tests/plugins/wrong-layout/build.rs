//! Reads the interface version (`webc-runner-api`'s version, which is the main workspace's
//! `[workspace.package] version`) so this plugin claims exactly the host's version.

use std::path::Path;

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../runner-api/Cargo.toml");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    println!("cargo:rerun-if-changed={}", workspace.display());
    let version = package_version(&manifest, "[package]")
        .or_else(|| package_version(&workspace, "[workspace.package]"));
    match version {
        Some(v) => println!("cargo:rustc-env=WEBC_INTERFACE_VERSION={v}"),
        None => panic!(
            "cannot find the interface version in {} or {}",
            manifest.display(),
            workspace.display()
        ),
    }
}

/// The literal `version = "x.y.z"` in `table` of the TOML file, if any.
fn package_version(path: &Path, table: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut in_table = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == table;
        } else if in_table {
            let Some(rest) = line.strip_prefix("version") else {
                continue;
            };
            let rest = rest.trim_start();
            if let Some(value) = rest.strip_prefix('=') {
                let value = value.trim();
                if let Some(v) = value.strip_prefix('"').and_then(|v| v.split('"').next()) {
                    return Some(v.to_owned());
                }
            }
        }
    }
    None
}
