//! The ONNX runners through the real CLI and dlopened plugins: the README's main job, backend
//! choice (availability → `--runner-opt backend=` → the `onnx.backend` annotation →
//! priority), `pack --onnx` followed by `run`. The runners' own conformance suite
//! (`runners/onnx/tests/`) covers every model and error case in-process.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_webc-host");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model(name: &str) -> PathBuf {
    root().join("models").join(name)
}

/// Where scripts/install-onnxruntime.sh puts the library (or ORT_DYLIB_PATH). `None` when
/// it is missing outside CI (the ort cases are then skipped); under CI a missing library
/// fails, as the issue requires.
fn onnxruntime() -> Option<PathBuf> {
    let path = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/onnxruntime/libonnxruntime.so"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} is missing: run scripts/install-onnxruntime.sh",
        path.display()
    );
    eprintln!("skipping the ort cases: {} is missing", path.display());
    None
}

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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(o: &Output) -> Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
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
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let line = out.lines().find(|l| l.starts_with("runner:")).unwrap();
    for name in ["onnx-ort", "onnx-tract"] {
        if line.contains(&format!("({name} ")) {
            return name.to_owned();
        }
    }
    panic!("{line}");
}

#[test]
fn the_readme_main_job_prints_the_mlps_probabilities_on_both_backends() {
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
    if onnxruntime().is_some() {
        assert_close(
            &ok(&run(
                &["--runner-opt", "backend=ort", pkg, "infer"],
                &input,
                &[],
            )),
            &want,
        );
    }
}

#[test]
fn backend_choice_availability_user_annotation_priority() {
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
    assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert!(
        e.contains("--runner-opt backend=ort: onnx-ort: unavailable"),
        "{e}"
    );
    assert!(e.contains("/nonexistent/libonnxruntime.so"), "{e}");
    let Some(_) = onnxruntime() else { return };
    // With it: ort by priority, tract when the user or the package asks.
    assert_eq!(explain_runner(&[pkg, "infer"], &[]), "onnx-ort");
    assert_eq!(
        explain_runner(&["--runner-opt", "backend=tract", pkg, "infer"], &[]),
        "onnx-tract"
    );
    assert_eq!(
        explain_runner(&["--runner", "onnx=onnx-tract", pkg, "infer"], &[]),
        "onnx-tract"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(model("mlp.onnx"), dir.path().join("mlp.onnx")).unwrap();
    std::fs::write(
        dir.path().join("wasmer.toml"),
        "[package]\nname = \"test/mlp\"\nversion = \"0.1.0\"\n\n\
         [[module]]\nname = \"mlp\"\nsource = \"mlp.onnx\"\nkind = \"onnx\"\n\n\
         [[command]]\nname = \"infer\"\nmodule = \"mlp\"\nrunner = \"onnx\"\n\n\
         [command.annotations.onnx]\nbackend = \"tract\"\n",
    )
    .unwrap();
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

#[test]
fn pack_onnx_then_run_and_describe() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cnn.webc");
    let o = Command::new(BIN)
        .args(["pack", "--onnx"])
        .arg(model("cnn.onnx"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let pkg = out.to_str().unwrap();
    let o = run(
        &["--runner-opt", "backend=tract", pkg, "infer", "--describe"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let d = text(&o.stdout);
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
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("nope"), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("panicked"));
}
