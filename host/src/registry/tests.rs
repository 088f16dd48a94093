//! Selection through statically registered runners (plugins: `host/tests/registry.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use webc_runner_api::{Availability, Job, Outcome, Runner, RunnerError, RunnerInfo};

use super::*;

/// A static runner with a configurable description and availability.
struct Fake {
    info: RunnerInfo,
    available: Result<(), String>,
    availability_calls: AtomicUsize,
}

impl Runner for Fake {
    fn info(&self) -> RunnerInfo {
        self.info.clone()
    }
    fn availability(&self) -> Availability {
        self.availability_calls.fetch_add(1, Ordering::SeqCst);
        match &self.available {
            Ok(()) => Availability::Available,
            Err(why) => Availability::Unavailable(why.clone()),
        }
    }
    fn run(&self, _job: Job<'_>) -> Result<Outcome, RunnerError> {
        Ok(Outcome::Exit(0))
    }
}

fn fake(name: &str, serves: &[(&str, &str)], kinds: &[&str], priority: i32) -> Fake {
    Fake {
        info: {
            let mut info =
                RunnerInfo::new(name, "1.0.0", format!("fake {name}")).priority(priority);
            for (uri, versions) in serves {
                info = info.serves(*uri, *versions);
            }
            for kind in kinds {
                info = info.atom_kind(*kind);
            }
            info
        },
        available: Ok(()),
        availability_calls: AtomicUsize::new(0),
    }
}

fn unavailable(mut f: Fake, why: &str) -> Fake {
    f.available = Err(why.into());
    f
}

const WASM: &str = "https://webc.org/kind/wasm";
const WASI: &str = "https://webc.org/runner/wasi";
const ONNX: &str = "https://webc.org/runner/onnx";

fn registry(runners: Vec<Fake>) -> Registry {
    let mut r = Registry::new();
    for f in runners {
        r.register_static(Arc::new(f));
    }
    r
}

fn pick(r: &Registry, uri: &str, kind: &str, prefs: &Preferences) -> Result<String, Error> {
    r.select(uri, kind, prefs).map(|s| s.info.name)
}

#[test]
fn uri_matching_table() {
    let r = registry(vec![
        fake("wasi", &[(WASI, "*")], &[WASM], 0),
        fake(
            "wasi-nn",
            &[("https://webc.org/runner/wasi-nn", "*")],
            &[WASM],
            0,
        ),
        fake(
            "strict",
            &[("https://example.org/runner/strict", "1,2")],
            &["*"],
            0,
        ),
    ]);
    let none = Preferences::new();
    let cases: &[(&str, Option<&str>)] = &[
        ("https://webc.org/runner/wasi", Some("wasi")),
        ("https://webc.org/runner/wasi@unstable_", Some("wasi")),
        (
            "https://webc.org/runner/wasi/command@unstable_",
            Some("wasi"),
        ),
        ("webc.org/runner/wasi", Some("wasi")),
        ("wasi", Some("wasi")),
        ("https://webc.org/runner/wasi-nn", Some("wasi-nn")),
        ("https://webc.org/runner/wasi-nn@0.2", Some("wasi-nn")),
        ("https://webc.org/runner/wasix", None),
        ("https://webc.org/runner/was", None),
        ("https://webc.org/runner/wcgi", None),
        ("https://example.org/runner/strict@1", Some("strict")),
        ("https://example.org/runner/strict@2", Some("strict")),
        ("https://example.org/runner/strict@3", None),
        ("https://example.org/runner/strict", None),
    ];
    for (uri, expected) in cases {
        let got = pick(&r, uri, WASM, &none).ok();
        assert_eq!(got.as_deref(), *expected, "{uri}");
    }
    // Version misfit: the error names the versions served.
    let e = pick(&r, "https://example.org/runner/strict@3", WASM, &none).unwrap_err();
    assert!(matches!(e, Error::NoUsable { .. }), "{e}");
    assert!(
        e.to_string().contains("serves versions `1,2`, not `3`"),
        "{e}"
    );
    assert!(!e.is_not_found());
    // Nobody serves it: the error lists what is served.
    let e = pick(&r, "https://webc.org/runner/wcgi", WASM, &none).unwrap_err();
    assert!(e.is_not_found());
    let msg = e.to_string();
    assert!(
        msg.starts_with("no runner serves https://webc.org/runner/wcgi; available: "),
        "{msg}"
    );
    assert!(msg.contains("https://webc.org/runner/wasi (wasi)"), "{msg}");
    assert!(
        msg.contains("https://webc.org/runner/wasi-nn (wasi-nn)"),
        "{msg}"
    );
    // Invalid URI.
    let e = pick(&r, "ftp://x/y", WASM, &none).unwrap_err();
    assert!(matches!(e, Error::InvalidUri { .. }), "{e}");
}

#[test]
fn atom_kinds() {
    let r = registry(vec![
        fake("tract", &[(ONNX, "*")], &["https://webc.org/kind/onnx"], 0),
        fake("any", &[("https://webc.org/runner/any", "*")], &["*"], 0),
    ]);
    let none = Preferences::new();
    assert_eq!(
        pick(&r, ONNX, "https://webc.org/kind/onnx", &none).unwrap(),
        "tract"
    );
    let e = pick(&r, ONNX, WASM, &none).unwrap_err();
    assert!(
        e.to_string()
            .contains("does not accept atom kind https://webc.org/kind/wasm"),
        "{e}"
    );
    // A container that records no kind: every runner of the URI may take it.
    assert_eq!(pick(&r, ONNX, "", &none).unwrap(), "tract");
    assert_eq!(
        pick(&r, "https://webc.org/runner/any", "whatever", &none).unwrap(),
        "any"
    );
}

#[test]
fn availability_then_preference_then_priority_then_name() {
    let r = registry(vec![
        fake("ort", &[(ONNX, "*")], &["*"], 10),
        fake("tract", &[(ONNX, "*")], &["*"], 0),
        fake("b-tract", &[(ONNX, "*")], &["*"], 0),
        unavailable(fake("gpu", &[(ONNX, "*")], &["*"], 100), "no GPU here"),
    ]);
    let none = Preferences::new();
    // gpu has the highest priority but is unavailable; ort is next.
    assert_eq!(pick(&r, ONNX, WASM, &none).unwrap(), "ort");
    // Preference beats priority, in any spelling of the URI.
    let prefs: Preferences = ["onnx=tract".parse::<RunnerPreference>().unwrap()]
        .into_iter()
        .collect();
    assert_eq!(pick(&r, ONNX, WASM, &prefs).unwrap(), "tract");
    assert_eq!(
        pick(&r, "https://webc.org/runner/onnx/command@1", WASM, &prefs).unwrap(),
        "tract"
    );
    // A preference for another URI changes nothing here.
    let mut other = Preferences::new();
    other.prefer("wasi", "tract").unwrap();
    assert_eq!(pick(&r, ONNX, WASM, &other).unwrap(), "ort");
    // Preferring an unavailable runner is an error, not silently ignored.
    let mut p = Preferences::new();
    p.prefer(ONNX, "gpu").unwrap();
    let e = pick(&r, ONNX, WASM, &p).unwrap_err();
    assert!(matches!(e, Error::Preference { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "--runner https://webc.org/runner/onnx=gpu: unavailable: no GPU here"
    );
    // ... and so is an unknown one.
    p.prefer(ONNX, "nope").unwrap();
    let e = pick(&r, ONNX, WASM, &p).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("no runner is called `nope`"), "{msg}");
    assert!(
        msg.contains("ort") && msg.contains("tract") && msg.contains("gpu"),
        "{msg}"
    );

    // Equal priority: by name.
    let r = registry(vec![
        fake("zeta", &[(ONNX, "*")], &["*"], 0),
        fake("alpha", &[(ONNX, "*")], &["*"], 0),
    ]);
    assert_eq!(pick(&r, ONNX, WASM, &none).unwrap(), "alpha");

    // All unavailable: every reason is listed.
    let r = registry(vec![
        unavailable(
            fake("ort", &[(ONNX, "*")], &["*"], 1),
            "libonnxruntime.so not found",
        ),
        unavailable(fake("tract", &[(ONNX, "*")], &["*"], 0), "disabled"),
    ]);
    let e = pick(&r, ONNX, WASM, &none).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no usable runner for https://webc.org/runner/onnx (atom kind https://webc.org/kind/wasm): \
         ort: unavailable: libonnxruntime.so not found; tract: unavailable: disabled"
    );
}

#[test]
fn preference_for_a_runner_of_another_uri() {
    let r = registry(vec![
        fake("wasi", &[(WASI, "*")], &["*"], 0),
        fake("tract", &[(ONNX, "*")], &["*"], 0),
    ]);
    let mut p = Preferences::new();
    p.prefer("wasi", "tract").unwrap();
    let e = pick(&r, WASI, WASM, &p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--runner https://webc.org/runner/wasi=tract: `tract` does not serve https://webc.org/runner/wasi"
    );
}

#[test]
fn availability_is_asked_lazily_and_once() {
    let mut r = Registry::new();
    let high = Arc::new(fake("high", &[(ONNX, "*")], &["*"], 5));
    let low = Arc::new(fake("low", &[(ONNX, "*")], &["*"], 0));
    r.register_static(high.clone());
    r.register_static(low.clone());
    for _ in 0..3 {
        assert_eq!(pick(&r, ONNX, WASM, &Preferences::new()).unwrap(), "high");
    }
    assert_eq!(high.availability_calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        low.availability_calls.load(Ordering::SeqCst),
        0,
        "never needed"
    );
}

#[test]
fn static_names_and_invalid_descriptions() {
    let mut r = registry(vec![
        fake("wasi", &[(WASI, "*")], &["*"], 0),
        fake("wasi", &[(WASI, "*")], &["*"], 9),
        fake("", &[(WASI, "*")], &["*"], 0),
        fake("no-uris", &[], &["*"], 0),
        fake("bad uri", &[(WASI, "*")], &["*"], 0),
        fake("bad-uri", &[("ftp://x/y", "*")], &["*"], 0),
    ]);
    let statuses: Vec<String> = r.entries().iter().map(|e| e.check().to_string()).collect();
    assert_eq!(statuses[0], "ok");
    assert_eq!(
        statuses[1],
        "quarantined: runner name `wasi` is already registered by another static runner"
    );
    assert_eq!(statuses[2], "quarantined: the runner has no name");
    assert_eq!(
        statuses[3],
        "quarantined: runner `no-uris` serves no runner URI"
    );
    assert!(
        statuses[4].contains("contains whitespace"),
        "{}",
        statuses[4]
    );
    assert!(
        statuses[5].contains("unsupported scheme"),
        "{}",
        statuses[5]
    );
    assert!(r.entries().iter().all(Entry::is_static));
    // The priority-9 duplicate is not selected.
    assert_eq!(
        r.select(WASI, WASM, &Preferences::new()).unwrap().source,
        Source::Static
    );
    assert!(r.get("wasi").is_some());
    assert!(r.get("no-uris").is_none());

    // A panicking info() is quarantined, not a crash.
    struct Panics;
    impl Runner for Panics {
        fn info(&self) -> RunnerInfo {
            panic!("no info")
        }
        fn run(&self, _job: Job<'_>) -> Result<Outcome, RunnerError> {
            Ok(Outcome::Exit(0))
        }
    }
    r.register_static(Arc::new(Panics));
    assert_eq!(
        r.entries()[6].check(),
        Status::Quarantined("info() panicked".into())
    );
}

#[test]
fn preferences_parse() {
    let p: RunnerPreference = "https://webc.org/runner/onnx/command@1=onnx-tract"
        .parse()
        .unwrap();
    assert_eq!(p.uri, ONNX);
    assert_eq!(p.runner, "onnx-tract");
    for bad in ["onnx", "onnx=", "=x", "ftp://a/b=x", " = "] {
        let e = bad.parse::<RunnerPreference>().unwrap_err();
        assert!(matches!(e, Error::InvalidPreference { .. }), "{bad}: {e}");
    }
    // A later preference for the same URI replaces the earlier one.
    let prefs: Preferences = ["wasi=a", "https://webc.org/runner/wasi=b"]
        .iter()
        .map(|s| s.parse::<RunnerPreference>().unwrap())
        .collect();
    assert_eq!(prefs.get(WASI), Some("b"));
}

#[test]
fn log_level_mapping() {
    assert_eq!(level_number(LevelFilter::OFF), None);
    assert_eq!(level_number(LevelFilter::ERROR), Some(0));
    assert_eq!(level_number(LevelFilter::WARN), Some(1));
    assert_eq!(level_number(LevelFilter::INFO), Some(2));
    assert_eq!(level_number(LevelFilter::DEBUG), Some(3));
    assert_eq!(level_number(LevelFilter::TRACE), Some(4));
}

#[test]
fn one_line_reasons() {
    assert_eq!(one_line("a\n  b\tc\n"), "a b c");
    assert!(one_line(&"x ".repeat(1000)).chars().count() <= 401);
}

#[test]
fn registry_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Registry>();
    assert_send_sync::<Selected>();
    assert_send_sync::<Error>();
}

#[test]
fn backends_required_by_the_user_preferred_by_the_package() {
    let on = |mut f: Fake, backend: &str| {
        f.info = f.info.backend(backend);
        f
    };
    let r = registry(vec![
        on(fake("onnx-ort", &[(ONNX, "*")], &["*"], 10), "ort"),
        on(fake("onnx-tract", &[(ONNX, "*")], &["*"], 0), "tract"),
        unavailable(
            on(fake("onnx-gpu", &[(ONNX, "*")], &["*"], 100), "gpu"),
            "no GPU here",
        ),
    ]);
    let info = |name: &str| r.get(name).expect(name).info().expect("described").clone();
    assert!(has_backend(&info("onnx-tract"), "tract"));
    assert!(!has_backend(&info("onnx-tract"), "act"));
    assert!(!has_backend(&info("onnx-ort"), "tract"));
    // The backend is what the runner declares, never read out of its name.
    let named_like_one = registry(vec![fake("onnx-tract", &[(ONNX, "*")], &["*"], 0)]);
    let undeclared = named_like_one.get("onnx-tract").expect("registered");
    assert!(!has_backend(undeclared.info().expect("described"), "tract"));
    let with = |backend: &str, required: bool| {
        let mut p = Preferences::new();
        p.set_backend(backend, required, "test");
        p
    };
    // Required: beats priority.
    assert_eq!(
        pick(&r, ONNX, WASM, &with("tract", true)).unwrap(),
        "onnx-tract"
    );
    assert_eq!(
        pick(&r, ONNX, WASM, &with("ort", true)).unwrap(),
        "onnx-ort"
    );
    // Required but unavailable or unknown: an error saying why.
    let e = pick(&r, ONNX, WASM, &with("gpu", true)).unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e}");
    assert_eq!(e.to_string(), "test: onnx-gpu: unavailable: no GPU here");
    let e = pick(&r, ONNX, WASM, &with("cuda", true)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("no runner for https://webc.org/runner/onnx has backend `cuda`"),
        "{msg}"
    );
    assert!(
        msg.contains("onnx-ort") && msg.contains("onnx-tract"),
        "{msg}"
    );
    // Preferred (the package's annotation): chosen when available, else the usual order.
    assert_eq!(
        pick(&r, ONNX, WASM, &with("tract", false)).unwrap(),
        "onnx-tract"
    );
    assert_eq!(
        pick(&r, ONNX, WASM, &with("gpu", false)).unwrap(),
        "onnx-ort"
    );
    assert_eq!(
        pick(&r, ONNX, WASM, &with("cuda", false)).unwrap(),
        "onnx-ort"
    );
    // A required backend is not replaced by a preferred one; --runner beats both.
    let mut p = with("tract", true);
    p.set_backend("ort", false, "annotation");
    assert_eq!(pick(&r, ONNX, WASM, &p).unwrap(), "onnx-tract");
    p.prefer("onnx", "onnx-ort").unwrap();
    assert_eq!(pick(&r, ONNX, WASM, &p).unwrap(), "onnx-ort");
}
