//! Host overhead: open a package, resolve its command, select and load the runner plugin,
//! call it — with a runner that does (almost) nothing, the echo test plugin.
//!
//! - `host/in-process`: `Package::open` + `Host::builder()…build()` (plugin discovery with a
//!   warm metadata cache) + `plan` (permissions, runner selection, dlopen — already mapped
//!   after the first iteration, as in a long-lived embedder) + `run`.
//! - `host/process`: the whole `webc-host run` process, cold: exec, discovery, a fresh
//!   dlopen of the plugin, run, exit. Needs the release binary and plugin:
//!   `cargo build --release -p webc-host -p webc-runner-test-echo-plugin` (bench/run.sh does it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio as ProcStdio};

use bytes::Bytes;
use ciborium::Value;
use criterion::{Criterion, criterion_group, criterion_main};
use webc_container::Version;
use webc_container::manifest::{
    AtomMeta, Command as Cmd, CommandAnnotations, Manifest, atom_signature,
};
use webc_container::write::Writer;
use webc_host::run::{Host, Package, RunOptions, Stdio};

const ECHO: &str = "https://webc-host.test/runner/echo";

fn release_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("release")
}

fn package(dir: &Path) -> PathBuf {
    use sha2::Digest as _;
    let atom = b"atom".to_vec();
    let mut annotations = CommandAnnotations::default();
    annotations.extra.insert(
        "atom",
        Value::Map(vec![(Value::Text("name".into()), Value::Text("a".into()))]),
    );
    let manifest = Manifest {
        atoms: Some(
            [(
                "a".to_owned(),
                AtomMeta {
                    kind: "x-bench".into(),
                    signature: atom_signature(&sha2::Sha256::digest(&atom).into()),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
        ),
        commands: Some(
            [(
                "go".to_owned(),
                Cmd {
                    runner: ECHO.into(),
                    annotations,
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
        ),
        ..Default::default()
    };
    let w = Writer {
        manifest: manifest.to_cbor(),
        atoms: [("a".to_owned(), Bytes::from(atom))].into_iter().collect(),
        ..Default::default()
    };
    let path = dir.join("echo.webc");
    w.write_to(Version::V3, &path)
        .expect("write the bench package");
    path
}

fn host_benches(c: &mut Criterion) {
    let plugin = release_dir().join("libwebc_runner_test_echo.so");
    let bin = release_dir().join("webc-host");
    assert!(
        plugin.exists() && bin.exists(),
        "build first: cargo build --release -p webc-host -p webc-runner-test-echo-plugin"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::copy(&plugin, plugins.join("libwebc_runner_test_echo.so")).expect("copy plugin");
    let pkg = package(tmp.path());
    let cache = tmp.path().join("cache");

    let mut g = c.benchmark_group("host");
    g.bench_function("in-process", |b| {
        b.iter(|| {
            let host = Host::builder()
                .plugin_dir(&plugins)
                .cache_dir(&cache)
                .build()
                .expect("host");
            let package = Package::open(&pkg).expect("open");
            let (mut stdin, mut stdout, mut stderr) = (&b""[..], Vec::new(), Vec::new());
            let stdio = Stdio {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
            };
            host.run(&package, &RunOptions::default(), stdio)
                .expect("run")
        })
    });
    g.bench_function("process", |b| {
        b.iter(|| {
            let status = Command::new(&bin)
                .args(["run", "--plugins"])
                .arg(&plugins)
                .arg("--cache-dir")
                .arg(&cache)
                .arg(&pkg)
                .env("XDG_DATA_HOME", tmp.path())
                .env_remove("WEBC_HOST_PLUGINS")
                .stdin(ProcStdio::null())
                .stdout(ProcStdio::null())
                .status()
                .expect("spawn");
            assert!(status.success());
        })
    });
    g.finish();
}

criterion_group!(benches, host_benches);
criterion_main!(benches);
