//! Helpers every host integration test shares (`mod common;` in each test file): the
//! binary, output accessors, fixtures, the plugins built beside the binary, and small
//! packages whose one command runs a blob on a given runner URI.

#![allow(dead_code, reason = "each test file uses the part it needs")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use bytes::Bytes;
use ciborium::Value;
use webc_container::manifest::{AtomMeta, Command, CommandAnnotations, Manifest, atom_signature};
use webc_container::write::Writer;
use webc_container::{Container, Version};
use webc_host::run::Package;

/// The `webc-host` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_webc-host");
/// The echo runner's URI (`runners/test-echo`).
pub const ECHO_URI: &str = webc_runner_test_echo::URI;

/// The host crate's directory.
pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A container fixture of `container/tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    manifest_dir()
        .join("../container/tests/fixtures")
        .join(name)
}

/// A program's stdout, lossily.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A program's stderr, lossily.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
#[track_caller]
pub fn code(o: &Output, expected: i32) {
    assert_eq!(
        o.status.code(),
        Some(expected),
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        out(o),
        err(o)
    );
}

/// `webc-host run --cache-dir <tmp>/cache` with nothing inherited that changes what runs
/// (plugin path, cache, logging; plugin metadata under `<tmp>/xdg`) and no stdin; add the
/// arguments.
pub fn isolated_run(tmp: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(BIN);
    c.arg("run")
        .arg("--cache-dir")
        .arg(tmp.join("cache"))
        .env_remove("WEBC_LOG")
        .env_remove("WEBC_HOST_PLUGINS")
        .env_remove("WEBC_HOST_CACHE")
        .env("XDG_DATA_HOME", tmp.join("xdg"))
        .stdin(Stdio::null());
    c
}

/// The plugin `lib<name>.so` built beside the binary; fails saying how to build it.
pub fn plugin(name: &str) -> PathBuf {
    let so = Path::new(BIN)
        .parent()
        .unwrap()
        .join(format!("lib{name}.so"));
    assert!(
        so.exists(),
        "{} is missing: run `cargo build --workspace --all-targets` first (scripts/test.sh does)",
        so.display()
    );
    so
}

/// A v3 container whose only command, `command` (the entrypoint), runs atom `atom` (kind
/// `x-test`, content `data`) on runner URI `uri`.
pub fn blob_container(uri: &str, command: &str, atom: &str, data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut annotations = CommandAnnotations::default();
    annotations.extra.insert(
        "atom",
        Value::Map(vec![(Value::Text("name".into()), Value::Text(atom.into()))]),
    );
    let manifest = Manifest {
        atoms: Some(
            [(
                atom.to_owned(),
                AtomMeta {
                    kind: "x-test".into(),
                    signature: atom_signature(&sha2::Sha256::digest(data).into()),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
        ),
        commands: Some(
            [(
                command.to_owned(),
                Command {
                    runner: uri.into(),
                    annotations,
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
        ),
        entrypoint: Some(command.into()),
        ..Default::default()
    };
    Writer {
        manifest: manifest.to_cbor(),
        atoms: [(atom.to_owned(), Bytes::copy_from_slice(data))]
            .into_iter()
            .collect(),
        ..Default::default()
    }
    .to_bytes(Version::V3)
    .unwrap()
}

/// [`blob_container`] as an in-memory [`Package`] for the embedding API.
pub fn blob_package(uri: &str, command: &str, atom: &str, data: &[u8]) -> Package {
    Package {
        container: Container::from_bytes(Bytes::from(blob_container(uri, command, atom, data)))
            .unwrap(),
        file: None,
        identity: None,
    }
}
