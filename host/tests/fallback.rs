//! A runner that refuses the atom before starting hands the job to the next runner for the
//! URI (issue 10 §2), through the embedding API, with a statically registered runner and the
//! dlopened echo plugin each on either side of the refusal.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use std::sync::{Arc, Mutex};

use webc_host::Error;
use webc_host::registry::Preferences;
use webc_host::run::{EXIT_CANNOT_EXECUTE, Host, Notes, Package, RunOptions, Stdio};
use webc_runner_api::{Outcome, RunnerError};
use webc_runner_test_echo::{EchoRunner, URI};

fn package() -> Package {
    common::blob_package(URI, "go", "a", b"atom")
}

/// A host with the echo plugin (`test-echo`, priority 0) and a static echo runner called
/// `name` with priority `priority`.
fn host(name: &str, priority: i32) -> Host {
    let plugin = common::plugin("webc_runner_test_echo");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&plugin, dir.path().join("libwebc_runner_test_echo.so")).unwrap();
    let host = Host::builder()
        .plugin_dir(dir.path())
        .register(Arc::new(EchoRunner::named(name, priority)))
        .no_cache()
        .build()
        .unwrap();
    // Plugins stay mapped once loaded; the copy may go.
    host.registry().get("test-echo").unwrap().load().unwrap();
    host
}

struct Run {
    result: Result<Outcome, Error>,
    stdout: String,
    notes: Vec<String>,
}

fn run(host: &Host, behave: &[&str], preferences: Preferences) -> Run {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&notes);
    let opts = RunOptions {
        runner_options: behave
            .iter()
            .map(|b| ("behave".to_owned(), (*b).to_owned()))
            .collect(),
        preferences,
        notes: Notes::to(move |n| sink.lock().unwrap().push(n.to_owned())),
        ..Default::default()
    };
    let (mut stdin, mut stdout, mut stderr) = (&b"typed"[..], Vec::new(), Vec::new());
    let result = host.run(
        &package(),
        &opts,
        Stdio {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        },
    );
    let notes = notes.lock().unwrap().clone();
    Run {
        result,
        stdout: String::from_utf8(stdout).unwrap(),
        notes,
    }
}

#[test]
fn a_static_runner_refuses_and_the_plugin_runs() {
    let host = host("echo-first", 5);
    let r = run(&host, &["refuse:echo-first"], Preferences::new());
    assert_eq!(r.result.unwrap(), Outcome::Exit(0));
    assert!(r.stdout.starts_with("runner=test-echo\n"), "{}", r.stdout);
    assert!(r.stdout.contains("stdin=\"typed\""), "{}", r.stdout);
    assert_eq!(
        r.notes,
        ["echo-first cannot take atom a (echo-first was asked to refuse); using test-echo"]
    );
}

#[test]
fn the_plugin_refuses_and_a_static_runner_runs() {
    let host = host("echo-last", -5);
    let r = run(&host, &["refuse:test-echo"], Preferences::new());
    assert_eq!(r.result.unwrap(), Outcome::Exit(0));
    assert!(r.stdout.starts_with("runner=echo-last\n"), "{}", r.stdout);
    assert!(r.stdout.contains("stdin=\"typed\""), "{}", r.stdout);
    assert_eq!(
        r.notes,
        ["test-echo cannot take atom a (test-echo was asked to refuse); using echo-last"]
    );
}

#[test]
fn without_a_refusal_the_first_runner_runs_and_nothing_is_noted() {
    let host = host("echo-first", 5);
    let r = run(&host, &[], Preferences::new());
    assert_eq!(r.result.unwrap(), Outcome::Exit(0));
    assert!(r.stdout.starts_with("runner=echo-first\n"), "{}", r.stdout);
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn a_pinned_runner_that_refuses_is_not_replaced() {
    let host = host("echo-first", 5);
    let mut pinned = Preferences::new();
    pinned.prefer(URI, "echo-first").unwrap();
    let r = run(&host, &["refuse:echo-first"], pinned);
    let e = r.result.unwrap_err();
    assert!(
        matches!(&e, Error::Runner { runner, error: RunnerError::Refused(_) } if runner == "echo-first"),
        "{e:?}"
    );
    assert_eq!(e.exit_code(), EXIT_CANNOT_EXECUTE);
    assert_eq!(r.stdout, "");
    assert!(r.notes.is_empty(), "{:?}", r.notes);

    // A required backend pins too: both runners have backend `echo`, so the order is the
    // usual one, but the user asked for the backend and gets no silent change.
    let mut backend = Preferences::new();
    backend.set_backend("echo", true, "--runner-opt backend=echo");
    let r = run(&host, &["refuse:echo-first"], backend);
    assert!(
        matches!(
            r.result,
            Err(Error::Runner {
                error: RunnerError::Refused(_),
                ..
            })
        ),
        "{:?}",
        r.result
    );
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn a_refusal_after_using_stdio_is_an_error_not_a_fallback() {
    let host = host("echo-first", 5);
    let r = run(&host, &["refuse-late:echo-first"], Preferences::new());
    let e = r.result.unwrap_err();
    assert!(
        matches!(&e, Error::Runner { runner, error: RunnerError::Refused(why) }
            if runner == "echo-first" && why.contains("after reading stdin")),
        "{e:?}"
    );
    // The output the refusing runner wrote is all there is: the next runner never ran.
    assert_eq!(
        r.stdout,
        "runner=echo-first\ncommand=go\natom=a bytes=4\nargs=[]\n"
    );
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn when_every_runner_refuses_each_reason_is_reported() {
    let host = host("echo-first", 5);
    let r = run(
        &host,
        &["refuse:echo-first", "refuse:test-echo"],
        Preferences::new(),
    );
    let e = r.result.unwrap_err();
    assert_eq!(
        e.to_string(),
        "no runner for https://webc-host.test/runner/echo can take atom a: \
         echo-first: echo-first was asked to refuse; test-echo: test-echo was asked to refuse"
    );
    assert_eq!(e.exit_code(), EXIT_CANNOT_EXECUTE);
    assert_eq!(r.stdout, "");
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
}

#[test]
fn the_order_is_what_explain_shows() {
    let host = host("echo-first", 5);
    let pkg = package();
    let opts = RunOptions::default();
    let plan = host.plan(&pkg, &opts).unwrap();
    let order: Vec<String> = host
        .fallback_order(&pkg, &opts, &plan)
        .unwrap()
        .into_iter()
        .map(|s| s.info.name)
        .collect();
    assert_eq!(order, ["echo-first", "test-echo"]);

    let mut pinned = opts.clone();
    pinned.preferences.prefer(URI, "test-echo").unwrap();
    let plan = host.plan(&pkg, &pinned).unwrap();
    assert!(plan.selected.pinned);
    let order: Vec<String> = host
        .fallback_order(&pkg, &pinned, &plan)
        .unwrap()
        .into_iter()
        .map(|s| s.info.name)
        .collect();
    assert_eq!(order, ["test-echo"]);
}
