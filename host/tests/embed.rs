//! The embedding API: static and dlopened runners through `Host`, captured stdio, and plugin
//! logs forwarded to the embedder's `tracing` subscriber.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use webc_host::run::{Host, Package, RunOptions, Stdio};
use webc_runner_api::Outcome;

fn package() -> Package {
    common::blob_package(common::ECHO_URI, "go", "a", b"atom")
}

fn run(host: &Host) -> (Outcome, String) {
    let opts = RunOptions {
        args: vec!["one".into()],
        ..Default::default()
    };
    let (mut stdin, mut stdout, mut stderr) = (&b"typed"[..], Vec::new(), Vec::new());
    let outcome = host
        .run(
            &package(),
            &opts,
            Stdio {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
            },
        )
        .unwrap();
    (outcome, String::from_utf8(stdout).unwrap())
}

#[test]
fn static_runner_with_captured_stdio() {
    let host = Host::builder()
        .register(Arc::new(webc_runner_test_echo::EchoRunner))
        .no_cache()
        .build()
        .unwrap();
    let (outcome, out) = run(&host);
    assert_eq!(outcome, Outcome::Exit(0));
    assert_eq!(
        out,
        "runner=test-echo\ncommand=go\natom=a bytes=4\nargs=[\"one\"]\nstdin=\"typed\"\n"
    );
}

/// Collects `tracing` events (message + target) for the plugin log test.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<String>>>);

impl tracing::Subscriber for Collect {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct V(String);
        impl tracing::field::Visit for V {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={v:?} ", f.name()));
            }
        }
        let mut v = V(format!("{} ", event.metadata().target()));
        event.record(&mut v);
        self.0.lock().unwrap().push(v.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn dlopened_runner_same_output_and_logs_forwarded() {
    let dir = Path::new(env!("CARGO_BIN_EXE_webc-host"))
        .parent()
        .unwrap()
        .to_owned();
    let so = dir.join("libwebc_runner_test_echo.so");
    assert!(
        so.exists(),
        "{} missing: run `cargo build -p webc-runner-test-echo-plugin` first",
        so.display()
    );
    let plugins = tempfile::tempdir().unwrap();
    std::fs::copy(&so, plugins.path().join("libwebc_runner_test_echo.so")).unwrap();
    let collect = Collect::default();
    let events = collect.0.clone();
    tracing::subscriber::with_default(collect, || {
        let host = Host::builder()
            .plugin_dir(plugins.path())
            .no_cache()
            .build()
            .unwrap();
        let (outcome, out) = run(&host);
        assert_eq!(outcome, Outcome::Exit(0));
        assert_eq!(
            out,
            "runner=test-echo\ncommand=go\natom=a bytes=4\nargs=[\"one\"]\nstdin=\"typed\"\n"
        );
    });
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("webc_runner ") && e.contains("echo runner starting")),
        "plugin events reach the host subscriber: {events:#?}"
    );
}
