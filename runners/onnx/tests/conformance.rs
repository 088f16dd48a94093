//! Conformance: every sample of models/manifest.json on both backends against the python
//! onnxruntime references (tolerance per model from the manifest: `|got - want| <= atol +
//! rtol·|want|` for floats after rounding the reference to the output's float type; NaN only
//! matches NaN, infinities exactly; integers and bools exactly), `--describe`, `--jsonl`, and
//! the error cases; each case on each backend, reached both ways (the runner linked in, and its
//! plugin library dlopened through the ABI). A libtest-mimic suite: the ort cases run when
//! libonnxruntime is found (scripts/install-onnxruntime.sh), are reported *ignored* when it is
//! missing locally, and *fail* when it is missing under CI.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use webc_runner_api::{Job, JobSpec, Limits, Outcome, Runner, RunnerError};
use webc_runner_onnx::{OnnxOrtRunner, OnnxTractRunner, find_onnxruntime};
use webc_runner_testkit::{Backend, Suite, Way, reach};

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(models_dir().join(name)).unwrap_or_else(|e| panic!("models/{name}: {e}"))
}

fn manifest() -> Value {
    serde_json::from_slice(&read("manifest.json")).expect("manifest.json")
}

/// ONNX Runtime, found as the `onnx-ort` runner finds it ([`find_onnxruntime`]).
static ORT: Backend = Backend::new(
    "ONNX Runtime",
    "run scripts/install-onnxruntime.sh or set ORT_DYLIB_PATH",
    || find_onnxruntime().map(|_| ()),
);

/// A backend's runner reached `way`: statically linked, or its plugin library.
fn runner(backend: &str, way: Way) -> Arc<dyn Runner> {
    match backend {
        "tract" => reach(
            way,
            Arc::new(OnnxTractRunner::new()),
            "webc_runner_onnx_tract",
        ),
        _ => reach(way, Arc::new(OnnxOrtRunner::new()), "webc_runner_onnx_ort"),
    }
}

struct Run {
    result: Result<Outcome, RunnerError>,
    stdout: String,
    stderr: String,
    /// Bytes of stdin the runner did not read.
    unread: usize,
}

fn run_with(
    runner: &dyn Runner,
    model: &str,
    atom: &[u8],
    args: &[&str],
    stdin: &[u8],
    spec: JobSpec,
) -> Run {
    let fs = webc_vfs::VfsBuilder::new().build().expect("vfs");
    let mut stdin = stdin;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let spec = JobSpec {
        command: "infer".into(),
        runner_uri: webc_runner_onnx::URI.into(),
        atom_name: model.into(),
        atom_kind: webc_runner_onnx::ATOM_KIND.into(),
        // A stand-in cache key, unique per model file.
        atom_sha256: format!("test-{model}"),
        args: args.iter().map(|s| s.to_string()).collect(),
        ..spec
    };
    let result = runner.run(Job {
        host: &webc_runner_api::NoHostServices,
        spec,
        atom,
        fs: &fs,
        stdin: &mut stdin,
        stdout: &mut out,
        stderr: &mut err,
    });
    Run {
        result,
        unread: stdin.len(),
        stdout: String::from_utf8(out).expect("utf-8 stdout"),
        stderr: String::from_utf8(err).expect("utf-8 stderr"),
    }
}

fn run(runner: &dyn Runner, model: &str, args: &[&str], stdin: &[u8]) -> Run {
    run_with(
        runner,
        model,
        &read(&format!("{model}.onnx")),
        args,
        stdin,
        JobSpec::default(),
    )
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("number"),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        Value::Bool(b) => f64::from(u8::from(*b)),
        other => panic!("not a number: {other}"),
    }
}

fn round_to(dtype: &str, x: f64) -> f64 {
    match dtype {
        "float32" => f64::from(x as f32),
        "float16" => f64::from(half::f16::from_f64(x).to_f32()),
        _ => x,
    }
}

fn compare(ctx: &str, got: &Value, want: &Value, tol: &Value) {
    let rtol = tol["rtol"].as_f64().unwrap_or(0.0);
    let atol = tol["atol"].as_f64().unwrap_or(0.0);
    let (got, want) = (&got["outputs"], &want["outputs"]);
    let want_map = want.as_object().expect("reference outputs");
    let got_map = got
        .as_object()
        .unwrap_or_else(|| panic!("{ctx}: no outputs in {got}"));
    assert_eq!(
        got_map.keys().collect::<Vec<_>>(),
        want_map.keys().collect::<Vec<_>>(),
        "{ctx}: output names and order"
    );
    for (name, w) in want_map {
        let g = &got[name];
        assert_eq!(g["shape"], w["shape"], "{ctx}: {name} shape");
        assert_eq!(g["dtype"], w["dtype"], "{ctx}: {name} dtype");
        let dtype = w["dtype"].as_str().expect("dtype");
        let (gd, wd) = (
            g["data"].as_array().expect("data"),
            w["data"].as_array().expect("data"),
        );
        assert_eq!(gd.len(), wd.len(), "{ctx}: {name} length");
        let float = dtype.starts_with("float");
        for (i, (a, b)) in gd.iter().zip(wd).enumerate() {
            if !float {
                assert_eq!(a, b, "{ctx}: {name}[{i}]");
                continue;
            }
            let (a, b) = (round_to(dtype, num(a)), round_to(dtype, num(b)));
            let ok = if b.is_nan() {
                a.is_nan()
            } else if b.is_infinite() {
                a == b
            } else {
                (a - b).abs() <= atol + rtol * b.abs()
            };
            assert!(
                ok,
                "{ctx}: {name}[{i}] = {a}, want {b} (rtol {rtol}, atol {atol})"
            );
        }
    }
}

fn every_sample_on_every_backend_matches_the_reference(
    backend: &'static str,
    runner: Arc<dyn Runner>,
) {
    let m = manifest();
    let samples = m["samples"].as_array().expect("samples");
    assert!(samples.len() >= 10, "manifest lists the samples");
    {
        for s in samples {
            let model = s["model"].as_str().expect("model");
            let input = s["input"].as_str().expect("input");
            let tol = &m["models"]
                .as_array()
                .expect("models")
                .iter()
                .find(|x| x["name"] == model)
                .expect("model in manifest")["tolerance"];
            let ctx = format!("{backend} {input}");
            let r = run(&*runner, model, &[], &read(input));
            assert_eq!(r.result, Ok(Outcome::Exit(0)), "{ctx}: stderr {}", r.stderr);
            let got: Value = serde_json::from_str(&r.stdout)
                .unwrap_or_else(|e| panic!("{ctx}: {e}: {}", r.stdout));
            let want: Value =
                serde_json::from_slice(&read(s["expected"].as_str().expect("expected")))
                    .expect("reference");
            compare(&ctx, &got, &want, tol);
        }
    }
}

fn describe_matches_the_manifest(backend: &'static str, runner: Arc<dyn Runner>) {
    {
        for model in manifest()["models"].as_array().expect("models") {
            let name = model["name"].as_str().expect("name");
            let r = run(&*runner, name, &["--describe"], b"");
            assert_eq!(
                r.result,
                Ok(Outcome::Exit(0)),
                "{backend} {name}: {}",
                r.stderr
            );
            let got: Value = serde_json::from_str(&r.stdout).expect("describe JSON");
            assert_eq!(got["inputs"], model["inputs"], "{backend} {name} inputs");
            assert_eq!(got["outputs"], model["outputs"], "{backend} {name} outputs");
        }
    }
}

fn jsonl_answers_every_line_and_fails_at_the_end(backend: &'static str, runner: Arc<dyn Runner>) {
    let good = String::from_utf8(read("mlp-input.json")).expect("utf-8");
    let good: Value = serde_json::from_str(&good).expect("json");
    let good = serde_json::to_string(&good).expect("one line");
    {
        let input = format!("{good}\n{{\"x\": [[1, 2, 3]]}}\nnot json\n\n{good}\n");
        let r = run(&*runner, "mlp", &["--jsonl"], input.as_bytes());
        assert_eq!(r.result, Ok(Outcome::Exit(1)), "{backend}");
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            4,
            "{backend}: one response per non-empty line: {}",
            r.stdout
        );
        let want: Value = serde_json::from_slice(&read("mlp-output.json")).expect("reference");
        let tol = serde_json::json!({"rtol": 1e-5, "atol": 1e-6});
        for i in [0, 3] {
            compare(
                backend,
                &serde_json::from_str(lines[i]).expect("json"),
                &want,
                &tol,
            );
        }
        let e1: Value = serde_json::from_str(lines[1]).expect("error line");
        assert!(
            e1["error"]
                .as_str()
                .expect("error")
                .contains("dimension 1 must be 4"),
            "{e1}"
        );
        let e2: Value = serde_json::from_str(lines[2]).expect("error line");
        assert!(
            e2["error"]
                .as_str()
                .expect("error")
                .contains("not valid JSON"),
            "{e2}"
        );
        assert!(
            r.stderr.contains("2 of 4 request lines failed"),
            "{}",
            r.stderr
        );

        let ok = run(
            &*runner,
            "mlp",
            &["--jsonl"],
            format!("{good}\n{good}").as_bytes(),
        );
        assert_eq!(ok.result, Ok(Outcome::Exit(0)), "{backend}: {}", ok.stderr);
        assert_eq!(ok.stdout.lines().count(), 2);
    }
}

fn bad_requests_exit_1_with_a_message(backend: &'static str, runner: Arc<dyn Runner>) {
    let cases: &[(&str, &str, &str)] = &[
        ("mlp", r#"{"y": [[1,2,3,4]]}"#, "unknown input `y`"),
        ("pair", r#"{"a": [[1,2,3]]}"#, "missing input `b`"),
        ("mlp", r#"{"x": [1,2,3,4]}"#, "expected rank 2"),
        ("cnn", r#"{"image": [[[[1]]]]}"#, "dimension 2 must be 28"),
        (
            "mlp",
            r#"{"x": {"shape":[1,4],"dtype":"float64","data":[1,2,3,4]}}"#,
            "wrong dtype float64",
        ),
        ("mlp", r#"{"x": [[1,2,3,4],[1,2,3]]}"#, "x[1]: ragged"),
        (
            "mlp",
            r#"{"x": [[1,2,3,4],[1,"two",3,4]]}"#,
            "x[1][1]: expected a number",
        ),
        (
            "masked",
            r#"{"ids": [[1,"NaN"]], "mask": [[true,false]]}"#,
            "ids[0][1]: NaN is not allowed for int64",
        ),
        (
            "masked",
            r#"{"ids": [[1,2]], "mask": [[true,"Infinity"]]}"#,
            "not allowed for bool",
        ),
        (
            "dtypes",
            r#"{"h":[1],"i":[1],"s":[128],"u":[1]}"#,
            "s[0]: 128 is out of range for int8",
        ),
        ("pair", "\u{93}NUMPY", "not valid JSON"),
    ];
    {
        for (model, body, want) in cases {
            let r = run(&*runner, model, &[], body.as_bytes());
            assert_eq!(r.result, Ok(Outcome::Exit(1)), "{backend} {body}");
            assert!(
                r.stderr.starts_with("error: ") && r.stderr.contains(want),
                "{backend} {body}: {}",
                r.stderr
            );
            assert!(r.stdout.is_empty());
        }
        // A .npy for a two-input model.
        let r = run(&*runner, "pair", &[], &read("cnn-input.npy"));
        assert!(r.stderr.contains("model has 2 inputs"), "{}", r.stderr);
        // The memory limit bounds the request.
        let spec = JobSpec {
            limits: Limits {
                memory: Some(1000),
                time: None,
            },
            ..JobSpec::default()
        };
        let r = run_with(
            &*runner,
            "cnn",
            &read("cnn.onnx"),
            &[],
            &read("cnn-input.json"),
            spec.clone(),
        );
        assert_eq!(r.result, Ok(Outcome::Exit(1)));
        assert!(
            r.stderr.contains("memory limit of 1000 bytes"),
            "{}",
            r.stderr
        );
        let r = run_with(
            &*runner,
            "cnn",
            &read("cnn.onnx"),
            &[],
            &read("cnn-input.npy"),
            spec,
        );
        assert!(
            r.stderr.contains("memory limit of 1000 bytes"),
            "{}",
            r.stderr
        );
        // Bad program arguments and options.
        let r = run(&*runner, "mlp", &["--frobnicate"], b"");
        assert_eq!(r.result, Ok(Outcome::Exit(2)));
        assert!(
            r.stderr.contains("usage: infer [--jsonl | --describe]"),
            "{}",
            r.stderr
        );
        let spec = JobSpec {
            options: vec![("threads".into(), "zero".into())],
            ..JobSpec::default()
        };
        let r = run_with(&*runner, "mlp", &read("mlp.onnx"), &[], b"", spec);
        assert!(
            matches!(r.result, Err(RunnerError::InvalidJob(ref m)) if m.contains("threads=zero")),
            "{:?}",
            r.result
        );
        let spec = JobSpec {
            options: vec![("colour".into(), "red".into())],
            ..JobSpec::default()
        };
        let r = run_with(&*runner, "mlp", &read("mlp.onnx"), &[], b"", spec);
        assert!(
            matches!(r.result, Err(RunnerError::InvalidJob(ref m)) if m.contains("unknown option `colour`")),
            "{:?}",
            r.result
        );
    }
}

fn threads_option_gives_the_same_answers(backend: &'static str, runner: Arc<dyn Runner>) {
    {
        let spec = JobSpec {
            options: vec![
                ("threads".into(), "2".into()),
                ("backend".into(), backend.into()),
            ],
            ..JobSpec::default()
        };
        let r = run_with(
            &*runner,
            "cnn",
            &read("cnn.onnx"),
            &[],
            &read("cnn-input.npy"),
            spec,
        );
        assert_eq!(r.result, Ok(Outcome::Exit(0)), "{backend}: {}", r.stderr);
        let want: Value = serde_json::from_slice(&read("cnn-output.json")).expect("reference");
        compare(
            backend,
            &serde_json::from_str(&r.stdout).expect("json"),
            &want,
            &serde_json::json!({"rtol": 1e-4, "atol": 1e-5}),
        );
        let other = if backend == "ort" { "tract" } else { "ort" };
        let spec = JobSpec {
            options: vec![("backend".into(), other.into())],
            ..JobSpec::default()
        };
        let r = run_with(&*runner, "cnn", &read("cnn.onnx"), &[], b"", spec);
        assert!(
            matches!(r.result, Err(RunnerError::InvalidJob(_))),
            "{:?}",
            r.result
        );
    }
}

/// A minimal protobuf writer for hand-made ONNX models.
fn field(num: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(num << 3 | 2));
    out.extend(varint(payload.len() as u64));
    out.extend(payload);
    out
}

fn int_field(num: u32, v: u64) -> Vec<u8> {
    let mut out = varint(u64::from(num << 3));
    out.extend(varint(v));
    out
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// `y = <op_type>(x)`, x and y float32 [1].
fn model_with_op(op_type: &str) -> Vec<u8> {
    model_with(op_type, &[])
}

/// `y = <op_type>(x, …)` with extra graph fields (e.g. initializers).
fn model_with(op_type: &str, extra_graph: &[u8]) -> Vec<u8> {
    let value_info = |name: &str| {
        let dim = field(1, &int_field(1, 1));
        let shape = field(2, &dim);
        let tensor_type = [int_field(1, 1), shape].concat();
        let ty = field(1, &tensor_type);
        [field(1, name.as_bytes()), field(2, &ty)].concat()
    };
    let node = [
        field(1, b"x"),
        if extra_graph.is_empty() {
            vec![]
        } else {
            field(1, b"w")
        },
        field(2, b"y"),
        field(3, b"n0"),
        field(4, op_type.as_bytes()),
    ]
    .concat();
    let graph = [
        field(1, &node),
        field(2, b"g"),
        field(11, &value_info("x")),
        field(12, &value_info("y")),
        extra_graph.to_vec(),
    ]
    .concat();
    let opset = [field(1, b""), int_field(2, 13)].concat();
    [int_field(1, 7), field(7, &graph), field(8, &opset)].concat()
}

fn handmade_model_runs_and_unknown_ops_are_named(backend: &'static str, runner: Arc<dyn Runner>) {
    {
        // The hand-made encoding is right: Relu runs.
        let r = run_with(
            &*runner,
            "relu",
            &model_with_op("Relu"),
            &[],
            br#"{"x": [-2.5]}"#,
            JobSpec::default(),
        );
        assert_eq!(r.result, Ok(Outcome::Exit(0)), "{backend}: {}", r.stderr);
        assert_eq!(
            r.stdout,
            "{\"outputs\":{\"y\":{\"shape\":[1],\"dtype\":\"float32\",\"data\":[0.0]}}}\n"
        );
        let r = run_with(
            &*runner,
            "frob",
            &model_with_op("Frobnicate"),
            &[],
            b"{}",
            JobSpec::default(),
        );
        match r.result {
            Err(RunnerError::Refused(m)) => {
                assert!(m.contains("Frobnicate"), "{backend}: {m}")
            }
            other => panic!("{backend}: {other:?}"),
        }
        let r = run_with(
            &*runner,
            "garbage",
            b"\x08\x07\xff\xff\xff",
            &[],
            b"{}",
            JobSpec::default(),
        );
        assert!(
            matches!(r.result, Err(RunnerError::Refused(_))),
            "{backend}: {:?}",
            r.result
        );
    }
}

fn ort_is_available_wherever_it_is_found(backend: &'static str, runner: Arc<dyn Runner>) {
    if backend == "ort" {
        assert_eq!(
            runner.availability(),
            webc_runner_api::Availability::Available
        );
    }
}

fn jsonl_refuses_a_line_over_the_memory_limit_and_goes_on(
    backend: &'static str,
    runner: Arc<dyn Runner>,
) {
    let good: Value = serde_json::from_slice(&read("mlp-input.json")).expect("json");
    let good = serde_json::to_string(&good).expect("one line");
    let long = format!("{{\"x\": [[{}1]]}}", "1, ".repeat(400));
    {
        let spec = JobSpec {
            limits: Limits {
                memory: Some(300),
                time: None,
            },
            ..JobSpec::default()
        };
        let input = format!("{good}\n{long}\n{good}\n");
        let r = run_with(
            &*runner,
            "mlp",
            &read("mlp.onnx"),
            &["--jsonl"],
            input.as_bytes(),
            spec,
        );
        assert_eq!(r.result, Ok(Outcome::Exit(1)), "{backend}: {}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{backend}: {}", r.stdout);
        assert!(lines[0].starts_with("{\"outputs\"") && lines[2].starts_with("{\"outputs\""));
        assert!(
            lines[1].contains("larger than the memory limit of 300 bytes"),
            "{}",
            lines[1]
        );
    }
}

fn jsonl_stops_between_lines_at_the_time_limit(_backend: &'static str, runner: Arc<dyn Runner>) {
    let spec = JobSpec {
        limits: Limits {
            memory: None,
            time: Some(std::time::Duration::ZERO),
        },
        ..JobSpec::default()
    };
    let r = run_with(
        &*runner,
        "mlp",
        &read("mlp.onnx"),
        &["--jsonl"],
        b"{}\n",
        spec,
    );
    assert_eq!(r.result, Ok(Outcome::Timeout));
    assert!(r.stdout.is_empty());
}

fn models_with_external_data_are_refused(backend: &'static str, runner: Arc<dyn Runner>) {
    let entry = [field(1, b"location"), field(2, b"w.bin")].concat();
    let tensor = [
        int_field(1, 1),
        int_field(2, 1),
        field(8, b"w"),
        field(13, &entry),
        int_field(14, 1),
    ]
    .concat();
    let model = model_with("Add", &field(5, &tensor));
    {
        let r = run_with(
            &*runner,
            "ext",
            &model,
            &[],
            br#"{"x": [1]}"#,
            JobSpec::default(),
        );
        match r.result {
            Err(RunnerError::Refused(m)) => {
                assert!(m.contains("external tensor data"), "{backend}: {m}")
            }
            other => panic!("{backend}: {other:?}"),
        }
    }
    // The same model with the weight inline runs.
    let inline = [
        int_field(1, 1),
        int_field(2, 1),
        field(8, b"w"),
        field(9, &2.5f32.to_le_bytes()),
    ]
    .concat();
    let model = model_with("Add", &field(5, &inline));
    {
        let r = run_with(
            &*runner,
            "inline",
            &model,
            &[],
            br#"{"x": [1]}"#,
            JobSpec::default(),
        );
        assert_eq!(r.result, Ok(Outcome::Exit(0)), "{backend}: {}", r.stderr);
        assert!(
            r.stdout.contains("\"data\":[3.5]"),
            "{backend}: {}",
            r.stdout
        );
    }
}

fn names_are_the_graphs_declared_ones(backend: &'static str, runner: Arc<dyn Runner>) {
    // sliced.onnx: y = x[:, 1:3], the Slice straight on the input (tract's optimised graph
    // calls the input after that node).
    {
        let r = run(&*runner, "sliced", &["--describe"], b"");
        assert_eq!(r.result, Ok(Outcome::Exit(0)), "{backend}: {}", r.stderr);
        assert_eq!(
            r.stdout,
            "{\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[\"N\",4]}],\
             \"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[\"N\",2]}]}\n",
            "{backend}"
        );
        let r = run(
            &*runner,
            "sliced",
            &[],
            br#"{"x": [[0, 1, 2, 3], [4, 5, 6, 7]]}"#,
        );
        assert_eq!(r.result, Ok(Outcome::Exit(0)), "{backend}: {}", r.stderr);
        assert_eq!(
            r.stdout,
            "{\"outputs\":{\"y\":{\"shape\":[2,2],\"dtype\":\"float32\",\"data\":[1.0,2.0,5.0,6.0]}}}\n",
            "{backend}"
        );
    }
}

fn a_model_the_backend_cannot_load_is_refused_before_any_io(
    backend: &'static str,
    runner: Arc<dyn Runner>,
) {
    // old-opset.onnx: ONNX Runtime lacks Add(6), tract runs it; sequence.onnx: tract lacks the
    // sequence operators, ONNX Runtime runs it.
    let cases = [
        ("ort", "old-opset", "Add(6)"),
        ("tract", "sequence", "SequenceConstruct"),
    ];
    {
        for (refuser, model, why) in cases {
            for args in [&[][..], &["--jsonl"], &["--describe"]] {
                let r = run(&*runner, model, args, b"{\"x\": [[1, 2, 3]]}\n");
                let ctx = format!("{backend} {model} {args:?}");
                if backend == refuser {
                    match &r.result {
                        Err(RunnerError::Refused(m)) => {
                            assert!(m.contains(why) && !m.contains('\n'), "{ctx}: {m}")
                        }
                        other => panic!("{ctx}: {other:?}"),
                    }
                    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""), "{ctx}");
                    assert_eq!(r.unread, 19, "{ctx}: stdin was read");
                } else if args == ["--describe"] {
                    assert_eq!(r.result, Ok(Outcome::Exit(0)), "{ctx}: {}", r.stderr);
                }
            }
        }
    }
    let r = run(
        &OnnxTractRunner::new(),
        "old-opset",
        &[],
        br#"{"x": [[1, 2, 3]]}"#,
    );
    assert_eq!(r.result, Ok(Outcome::Exit(0)), "{}", r.stderr);
    assert!(r.stdout.contains("[2.0,4.0,6.0]"), "{}", r.stdout);
}

/// A case: the backend's name and its runner.
type Case = fn(&'static str, Arc<dyn Runner>);

/// Every case on each backend, each reached statically and through its plugin library
/// (`<case>::<backend>::<static|plugin>`); the ort ones need ONNX Runtime (ignored when it is
/// missing locally, failed under CI).
fn main() {
    let cases: &[(&str, Case)] = &[
        (
            "every_sample_on_every_backend_matches_the_reference",
            every_sample_on_every_backend_matches_the_reference,
        ),
        (
            "describe_matches_the_manifest",
            describe_matches_the_manifest,
        ),
        (
            "jsonl_answers_every_line_and_fails_at_the_end",
            jsonl_answers_every_line_and_fails_at_the_end,
        ),
        (
            "bad_requests_exit_1_with_a_message",
            bad_requests_exit_1_with_a_message,
        ),
        (
            "threads_option_gives_the_same_answers",
            threads_option_gives_the_same_answers,
        ),
        (
            "handmade_model_runs_and_unknown_ops_are_named",
            handmade_model_runs_and_unknown_ops_are_named,
        ),
        (
            "ort_is_available_wherever_it_is_found",
            ort_is_available_wherever_it_is_found,
        ),
        (
            "jsonl_refuses_a_line_over_the_memory_limit_and_goes_on",
            jsonl_refuses_a_line_over_the_memory_limit_and_goes_on,
        ),
        (
            "jsonl_stops_between_lines_at_the_time_limit",
            jsonl_stops_between_lines_at_the_time_limit,
        ),
        (
            "models_with_external_data_are_refused",
            models_with_external_data_are_refused,
        ),
        (
            "names_are_the_graphs_declared_ones",
            names_are_the_graphs_declared_ones,
        ),
        (
            "a_model_the_backend_cannot_load_is_refused_before_any_io",
            a_model_the_backend_cannot_load_is_refused_before_any_io,
        ),
    ];
    let mut suite = Suite::new();
    for &(name, case) in cases {
        for way in Way::ALL {
            suite.test(format!("{name}::tract::{way}"), move || {
                case("tract", runner("tract", way))
            });
            suite.needs(format!("{name}::ort::{way}"), &ORT, move || {
                case("ort", runner("ort", way))
            });
        }
    }
    suite.run()
}
