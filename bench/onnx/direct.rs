//! Per-inference latency of the ONNX backends called directly (tract-onnx, ONNX Runtime via
//! `ort`) and of the infer protocol's codec alone, for bench/onnx.sh. One thread each.
//!
//! Usage: `cargo bench -p webc-bench --bench onnx -- MODEL.onnx REQUEST ITERS [ORT_LIB]`
//! where REQUEST is a JSON request or a `.npy` file (the infer protocol, decoded with
//! `webc_runner_onnx::codec`). Prints one JSON object per line:
//! `{"what":"tract"|"ort"|"codec","median_us":..,"min_us":..,"iters":..}`; without ORT_LIB
//! the ort line is left out. Every backend's output is checked against tract's first.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use ort::session::Session;
use ort::value::{DynValue, Tensor as OrtTensor};
use tract_onnx::prelude::*;
use webc_runner_onnx::codec::{self, DType, Data, Dim, Signature, TensorInfo};

const WARMUP: usize = 50;

/// Times `f` `iters` times after a warm-up; returns (median, min) in microseconds.
fn time(iters: usize, mut f: impl FnMut() -> Result<()>) -> Result<(f64, f64)> {
    for _ in 0..WARMUP {
        f()?;
    }
    let mut ts = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        f()?;
        ts.push(t.elapsed().as_secs_f64() * 1e6);
    }
    ts.sort_by(f64::total_cmp);
    let median = ts.get(ts.len() / 2).copied().context("no iterations")?;
    let min = ts.first().copied().context("no iterations")?;
    Ok((median, min))
}

fn report(what: &str, iters: usize, (median, min): (f64, f64)) {
    println!(
        "{{\"what\":\"{what}\",\"median_us\":{median:.3},\"min_us\":{min:.3},\"iters\":{iters}}}"
    );
}

/// The model's signature as the runner's tract backend derives it (float32 models only).
fn signature(model: &TypedModel) -> Result<Signature> {
    let info = |outlet: OutletId, name: String| -> Result<TensorInfo> {
        let fact = model.outlet_fact(outlet)?;
        if fact.datum_type != DatumType::F32 {
            bail!(
                "`{name}` is {:?}; this bench handles float32 only",
                fact.datum_type
            );
        }
        let shape = fact
            .shape
            .iter()
            .map(|d| match d.to_i64() {
                Ok(n) => Ok(Dim::Fixed(usize::try_from(n)?)),
                Err(_) => Ok(Dim::Dynamic(d.to_string())),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TensorInfo {
            name,
            dtype: DType::Float32,
            shape: Some(shape),
        })
    };
    let mut sig = Signature::default();
    for &o in model.input_outlets()? {
        sig.inputs.push(info(o, model.node(o.node).name.clone())?);
    }
    for &o in model.output_outlets()? {
        let name = model
            .outlet_label(o)
            .map(str::to_string)
            .unwrap_or_else(|| model.node(o.node).name.clone());
        sig.outputs.push(info(o, name)?);
    }
    Ok(sig)
}

fn floats(t: &codec::Tensor) -> Result<&[f32]> {
    match &t.data {
        Data::Float32(v) => Ok(v),
        other => bail!("expected float32, found {}", other.dtype()),
    }
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-4 + 1e-4 * y.abs())
}

fn main() -> Result<()> {
    // `cargo bench` appends `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [model_path, request_path, iters, rest @ ..] = args.as_slice() else {
        bail!("usage: onnx MODEL.onnx REQUEST(.json|.npy) ITERS [ORT_LIB]");
    };
    let iters: usize = iters.parse().context("ITERS")?;
    let model_bytes = std::fs::read(model_path).with_context(|| model_path.clone())?;
    let request = std::fs::read(request_path).with_context(|| request_path.clone())?;

    // tract, loaded as the runner's tract backend loads it (optimised, single thread).
    let typed = tract_onnx::onnx()
        .model_for_read(&mut &model_bytes[..])?
        .into_typed()?;
    let sig = signature(&typed)?;
    let plan: Arc<TypedRunnableModel> = typed.into_optimized()?.into_runnable()?;

    let inputs = codec::decode_request(&request, &sig, None)?;
    let [input] = inputs.as_slice() else {
        bail!("this bench handles single-input models");
    };
    let shape = input.shape.clone();
    let data = floats(input)?.to_vec();
    let tract_input = tract_onnx::prelude::Tensor::from_shape(&shape, &data)?;

    let first = plan.run(tvec![tract_input.clone().into_tvalue()])?;
    let out = first.first().context("no output")?;
    let out_shape = out.shape().to_vec();
    let expected: Vec<f32> = out.to_plain_array_view::<f32>()?.iter().copied().collect();

    report(
        "tract",
        iters,
        time(iters, || {
            let out = plan.run(tvec![tract_input.clone().into_tvalue()])?;
            black_box(
                out.first()
                    .context("no output")?
                    .to_plain_array_view::<f32>()?
                    .len(),
            );
            Ok(())
        })?,
    );

    // ONNX Runtime, configured as the runner's ort backend (1 intra-op, 1 inter-op thread).
    if let [lib, ..] = rest {
        let env = ort::init_from(lib)?.with_name("bench").build()?;
        let mut session = Session::builder(&env)?
            .with_intra_threads(1)
            .map_err(|e| anyhow!("{e}"))?
            .with_inter_threads(1)
            .map_err(|e| anyhow!("{e}"))?
            .commit_from_memory(&model_bytes)?;
        let in_name = sig.inputs.first().context("no input")?.name.clone();
        let out_name = sig.outputs.first().context("no output")?.name.clone();
        let run = |session: &mut Session| -> Result<Vec<f32>> {
            let value: DynValue = OrtTensor::from_array((shape.clone(), data.clone()))?.into_dyn();
            let outputs = session.run(vec![(in_name.clone(), value)])?;
            let v = outputs.get(&out_name).context("ort: no output")?;
            let (_, d) = v.try_extract_tensor::<f32>()?;
            Ok(d.to_vec())
        };
        let got = run(&mut session)?;
        if !close(&got, &expected) {
            bail!("ort and tract disagree: {got:?} vs {expected:?}");
        }
        report(
            "ort",
            iters,
            time(iters, || {
                black_box(run(&mut session)?);
                Ok(())
            })?,
        );
    }

    // The codec alone: decode the request, encode the response (the model's real output).
    let response = codec::Tensor::new(out_shape, Data::Float32(expected))?;
    let out_name = sig.outputs.first().context("no output")?.name.clone();
    let mut buf = Vec::with_capacity(1 << 16);
    report(
        "codec",
        iters,
        time(iters, || {
            let tensors = codec::decode_request(black_box(&request), &sig, None)?;
            black_box(&tensors);
            buf.clear();
            codec::write_response(&mut buf, &[(out_name.as_str(), &response)])?;
            black_box(&buf);
            Ok(())
        })?,
    );
    Ok(())
}
