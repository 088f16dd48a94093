//! The ONNX runners through the real CLI and dlopened plugins: the README's main job, backend
//! choice (availability → `--runner-opt backend=` → the `onnx.backend` annotation →
//! priority), `pack --onnx` followed by `run`. The runners' own conformance suite
//! (`runners/onnx/tests/`) covers every model and error case in-process.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use webc_runner_testkit::{Backend, Suite};

use common::{BIN, code, err, out};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model(name: &str) -> PathBuf {
    root().join("models").join(name)
}

/// ONNX Runtime as the host finds it: `webc-host runners --json` lists `onnx-ort` with status
/// `ok` (the runner's own search: ORT_DYLIB_PATH, target/onnxruntime, …), else its reason.
static ORT: Backend = Backend::new(
    "ONNX Runtime",
    "run scripts/install-onnxruntime.sh or set ORT_DYLIB_PATH",
    || {
        let o = Command::new(BIN)
            .args(["runners", "--json"])
            .env_remove("WEBC_HOST_PLUGINS")
            .output()
            .map_err(|e| format!("running {BIN}: {e}"))?;
        let doc: Value = serde_json::from_slice(&o.stdout)
            .map_err(|e| format!("`webc-host runners --json`: {e}"))?;
        let ort = doc["runners"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == "onnx-ort"))
            .ok_or("the onnx-ort plugin is not listed (build webc-runner-onnx-ort-plugin)")?;
        match ort["status"].as_str() {
            Some("ok") => Ok(()),
            _ => Err(format!(
                "onnx-ort: {}",
                ort["reason"].as_str().unwrap_or("?")
            )),
        }
    },
);

fn run(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let cache = tempfile::tempdir().unwrap();
    let mut c = Command::new(BIN);
    c.arg("run")
        .arg("--cache-dir")
        .arg(cache.path())
        .args(args)
        .env_remove("WEBC_LOG")
        .env_remove("WEBC_HOST_PLUGINS")
        .env("XDG_DATA_HOME", cache.path().join("xdg"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    // A run that ends before reading (`--explain`, a refusal) closes its stdin early.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

#[track_caller]
fn ok(o: &Output) -> Value {
    code(o, 0);
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `got` equals the reference within the MLP's tolerance (models/README.md).
#[track_caller]
fn assert_close(got: &Value, want: &Value) {
    let (g, w) = (&got["outputs"]["probs"], &want["outputs"]["probs"]);
    assert_eq!(g["shape"], w["shape"]);
    assert_eq!(g["dtype"], "float32");
    let (g, w) = (g["data"].as_array().unwrap(), w["data"].as_array().unwrap());
    assert_eq!(g.len(), w.len());
    for (g, w) in g.iter().zip(w) {
        let (g, w) = (g.as_f64().unwrap() as f32, w.as_f64().unwrap() as f32);
        assert!((g - w).abs() <= 1e-6 + 1e-5 * w.abs(), "{g} vs {w}");
    }
}

fn explain_runner(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["--explain"];
    all.extend_from_slice(args);
    let o = run(&all, b"", env);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let out = out(&o);
    let line = out.lines().find(|l| l.starts_with("runner:")).unwrap();
    for name in ["onnx-ort", "onnx-tract"] {
        if line.contains(&format!("({name} ")) {
            return name.to_owned();
        }
    }
    panic!("{line}");
}

fn the_readme_main_job_prints_the_mlps_probabilities() {
    let input = std::fs::read(model("mlp-input.json")).unwrap();
    let want: Value =
        serde_json::from_slice(&std::fs::read(model("mlp-output.json")).unwrap()).unwrap();
    let pkg = model("mlp.webc");
    let pkg = pkg.to_str().unwrap();
    // The README's command, whatever backend the host picks.
    assert_close(&ok(&run(&[pkg, "infer"], &input, &[])), &want);
    assert_close(
        &ok(&run(
            &["--runner-opt", "backend=tract", pkg, "infer"],
            &input,
            &[],
        )),
        &want,
    );
}

fn the_readme_main_job_prints_the_mlps_probabilities_on_ort() {
    let input = std::fs::read(model("mlp-input.json")).unwrap();
    let want: Value =
        serde_json::from_slice(&std::fs::read(model("mlp-output.json")).unwrap()).unwrap();
    let pkg = model("mlp.webc");
    let o = run(
        &[
            "--runner-opt",
            "backend=ort",
            pkg.to_str().unwrap(),
            "infer",
        ],
        &input,
        &[],
    );
    assert_close(&ok(&o), &want);
}

fn backend_choice_without_ort() {
    let pkg = model("mlp.webc");
    let pkg = pkg.to_str().unwrap();
    let no_ort = [("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")];
    // Without ONNX Runtime: tract, the only available backend.
    assert_eq!(explain_runner(&[pkg, "infer"], &no_ort), "onnx-tract");
    // Requiring ort then is an error saying why (exit 125).
    let o = run(
        &["--runner-opt", "backend=ort", pkg, "infer"],
        b"{}",
        &no_ort,
    );
    assert_eq!(o.status.code(), Some(125), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("--runner-opt backend=ort: onnx-ort: unavailable"),
        "{e}"
    );
    assert!(e.contains("/nonexistent/libonnxruntime.so"), "{e}");
}

fn backend_choice_with_ort_user_annotation_priority() {
    let pkg = model("mlp.webc");
    let pkg = pkg.to_str().unwrap();
    // ort by priority, tract when the user or the package asks.
    assert_eq!(explain_runner(&[pkg, "infer"], &[]), "onnx-ort");
    assert_eq!(
        explain_runner(&["--runner-opt", "backend=tract", pkg, "infer"], &[]),
        "onnx-tract"
    );
    assert_eq!(
        explain_runner(&["--runner", "onnx=onnx-tract", pkg, "infer"], &[]),
        "onnx-tract"
    );
    let dir = project("mlp", Some("tract"));
    let d = dir.path().to_str().unwrap();
    assert_eq!(explain_runner(&[d, "infer"], &[]), "onnx-tract");
    // The user overrides the package.
    assert_eq!(
        explain_runner(&["--runner-opt", "backend=ort", d, "infer"], &[]),
        "onnx-ort"
    );
    // (The fallback when a suggested backend is unavailable is tested with the registry's
    // unit tests: here both plugins are always present.)
}

fn pack_onnx_then_run_and_describe() {
    let dir = tempfile::tempdir().unwrap();
    let pkg_path = dir.path().join("cnn.webc");
    let o = Command::new(BIN)
        .args(["pack", "--onnx"])
        .arg(model("cnn.onnx"))
        .arg("-o")
        .arg(&pkg_path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let pkg = pkg_path.to_str().unwrap();
    let o = run(
        &["--runner-opt", "backend=tract", pkg, "infer", "--describe"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let d = out(&o);
    assert!(d.contains("image") && d.contains("logits"), "{d}");
    // The .npy sample and the JSON sample give the same logits.
    let npy = std::fs::read(model("cnn-input.npy")).unwrap();
    let json = std::fs::read(model("cnn-input.json")).unwrap();
    let a = ok(&run(
        &["--runner-opt", "backend=tract", pkg, "infer"],
        &npy,
        &[],
    ));
    let b = ok(&run(
        &["--runner-opt", "backend=tract", pkg, "infer"],
        &json,
        &[],
    ));
    assert_eq!(a, b);
    // A bad request: clear error, non-zero exit, no panic.
    let o = run(
        &["--runner-opt", "backend=tract", pkg, "infer"],
        br#"{"nope": [1]}"#,
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("nope"), "{}", err(&o));
    assert!(!err(&o).contains("panicked"));
}

/// A project directory (run packs it in memory) whose command `infer` runs models/`name`.onnx,
/// with the annotation `onnx.backend = backend` when given.
fn project(name: &str, backend: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        model(&format!("{name}.onnx")),
        dir.path().join("model.onnx"),
    )
    .unwrap();
    let mut toml = format!(
        "[package]\nname = \"test/{name}\"\nversion = \"0.1.0\"\n\n\
         [[module]]\nname = \"model\"\nsource = \"model.onnx\"\nkind = \"onnx\"\n\n\
         [[command]]\nname = \"infer\"\nmodule = \"model\"\nrunner = \"onnx\"\n"
    );
    if let Some(b) = backend {
        toml.push_str(&format!(
            "\n[command.annotations.onnx]\nbackend = \"{b}\"\n"
        ));
    }
    std::fs::write(dir.path().join("wasmer.toml"), toml).unwrap();
    dir
}

/// `run --explain` on the project `d` names `first` on its `runner:` line and `then` on the
/// `then:` line right after it.
#[track_caller]
fn assert_order(d: &str, first: &str, then: &str) {
    let o = run(&["--explain", d, "infer"], b"", &[]);
    code(&o, 0);
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("runner:")).unwrap();
    assert!(lines[at].contains(&format!("({first} ")), "{text}");
    let next = lines.get(at + 1).copied().unwrap_or("");
    assert!(
        next.starts_with("then:") && next.contains(&format!("{then} ")),
        "{text}"
    );
}

/// The `note:` lines of a run's stderr.
fn notes(o: &Output) -> Vec<String> {
    err(o)
        .lines()
        .filter(|l| l.starts_with("note:"))
        .map(str::to_owned)
        .collect()
}

/// old-opset.onnx (opset 6): ONNX Runtime refuses it, so the host hands it to tract.
fn old_opset_falls_back_from_ort_to_tract() {
    let dir = project("old-opset", None);
    let d = dir.path().to_str().unwrap();
    // The order: ort first (priority), tract after it.
    assert_order(d, "onnx-ort", "onnx-tract");
    let v = ok(&run(&[d, "infer"], br#"{"x": [[1, 2, 3]]}"#, &[]));
    assert_eq!(
        v["outputs"]["y"]["data"],
        serde_json::json!([2.0, 4.0, 6.0])
    );
    let o = run(&[d, "infer"], br#"{"x": [[1, 2, 3]]}"#, &[]);
    let n = notes(&o);
    assert_eq!(n.len(), 1, "{}", err(&o));
    assert!(
        n[0].starts_with("note: onnx-ort cannot take atom model (")
            && n[0].contains("Add(6)")
            && n[0].ends_with("; using onnx-tract"),
        "{}",
        n[0]
    );
    // --describe and --jsonl fall back the same way (the model loads before any output).
    let o = run(&[d, "infer", "--describe"], b"", &[]);
    assert_eq!(ok(&o)["inputs"][0]["name"], "x", "{}", err(&o));
    assert_eq!(notes(&o).len(), 1, "{}", err(&o));
    let o = run(
        &[d, "infer", "--jsonl"],
        b"{\"x\": [[1, 2, 3]]}\n{\"x\": [[0, 0, 1]]}\n",
        &[],
    );
    code(&o, 0);
    assert_eq!(out(&o).lines().count(), 2, "{}", out(&o));
    assert_eq!(notes(&o).len(), 1, "{}", err(&o));
    // Pinned to ort: no fallback, the model cannot be executed (126), ONNX Runtime's reason.
    for pin in [
        &["--runner-opt", "backend=ort"][..],
        &["--runner", "onnx=onnx-ort"][..],
    ] {
        let mut args = pin.to_vec();
        args.extend([d, "infer"]);
        let o = run(&args, br#"{"x": [[1, 2, 3]]}"#, &[]);
        code(&o, 126);
        assert!(out(&o).is_empty(), "{}", out(&o));
        assert!(notes(&o).is_empty(), "{}", err(&o));
        assert!(err(&o).contains("Add(6)"), "{}", err(&o));
    }
}

/// sequence.onnx (SequenceConstruct, SequenceAt): tract refuses it; with the package
/// suggesting tract (not a pin), the host hands it to ort.
fn sequence_model_falls_back_from_tract_to_ort() {
    let dir = project("sequence", Some("tract"));
    let d = dir.path().to_str().unwrap();
    assert_order(d, "onnx-tract", "onnx-ort");
    let o = run(&[d, "infer"], br#"{"a": [1, 2, 3], "b": [4, 5, 6]}"#, &[]);
    assert_eq!(
        ok(&o)["outputs"]["y"]["data"],
        serde_json::json!([4.0, 5.0, 6.0])
    );
    let n = notes(&o);
    assert_eq!(n.len(), 1, "{}", err(&o));
    assert!(
        n[0].starts_with("note: onnx-tract cannot take atom model (")
            && n[0].contains("SequenceConstruct")
            && n[0].ends_with("; using onnx-ort"),
        "{}",
        n[0]
    );
    // Pinned to tract: 126, tract's reason, no fallback.
    let o = run(
        &["--runner-opt", "backend=tract", d, "infer"],
        br#"{"a": [1, 2, 3], "b": [4, 5, 6]}"#,
        &[],
    );
    code(&o, 126);
    assert!(notes(&o).is_empty(), "{}", err(&o));
    assert!(err(&o).contains("SequenceConstruct"), "{}", err(&o));
}

/// sliced.onnx (a Slice straight on the input): the declared names on each backend.
fn declared_names_on_both_backends(backend: &'static str) {
    let dir = project("sliced", None);
    let d = dir.path().to_str().unwrap();
    let opt = format!("backend={backend}");
    let o = run(&["--runner-opt", &opt, d, "infer", "--describe"], b"", &[]);
    let v = ok(&o);
    assert_eq!(v["inputs"][0]["name"], "x", "{backend}: {v}");
    assert_eq!(v["outputs"][0]["name"], "y", "{backend}: {v}");
    let o = run(
        &["--runner-opt", &opt, d, "infer"],
        br#"{"x": [[0, 1, 2, 3]]}"#,
        &[],
    );
    assert_eq!(
        ok(&o)["outputs"]["y"]["data"],
        serde_json::json!([1.0, 2.0]),
        "{backend}"
    );
}

fn main() {
    let mut suite = Suite::new();
    suite.test(
        "the_readme_main_job_prints_the_mlps_probabilities",
        the_readme_main_job_prints_the_mlps_probabilities,
    );
    suite.needs(
        "the_readme_main_job_prints_the_mlps_probabilities_on_ort",
        &ORT,
        the_readme_main_job_prints_the_mlps_probabilities_on_ort,
    );
    suite.test("backend_choice_without_ort", backend_choice_without_ort);
    suite.needs(
        "backend_choice_with_ort_user_annotation_priority",
        &ORT,
        backend_choice_with_ort_user_annotation_priority,
    );
    suite.test(
        "pack_onnx_then_run_and_describe",
        pack_onnx_then_run_and_describe,
    );
    suite.needs(
        "old_opset_falls_back_from_ort_to_tract",
        &ORT,
        old_opset_falls_back_from_ort_to_tract,
    );
    suite.needs(
        "sequence_model_falls_back_from_tract_to_ort",
        &ORT,
        sequence_model_falls_back_from_tract_to_ort,
    );
    suite.test("declared_names_on_tract", || {
        declared_names_on_both_backends("tract")
    });
    suite.needs("declared_names_on_ort", &ORT, || {
        declared_names_on_both_backends("ort")
    });
    suite.run()
}
