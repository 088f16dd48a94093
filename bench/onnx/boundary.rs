//! The ONNX runner's request loop measured in-process, for bench/onnx.sh (issue 10 §5): the
//! per-line cost of `infer --jsonl` through `webc_host::run::Host`, once with the runner
//! linked in (static) and once dlopened from its plugin, without process start-up, model
//! load or pipes. Each round times a run of 1 request line and a run of N lines; the per-line
//! cost is `(t(N) - t(1)) / (N - 1)` (the model stays loaded in the runner's model cache, so
//! both runs pay the same fixed costs), and the median over the rounds is reported.
//!
//! Usage: `cargo bench -p webc-bench --bench onnx-boundary -- MODEL.webc REQUEST.json LINES
//! ROUNDS PLUGIN_DIR` (REQUEST on one line). Prints one JSON object per line:
//! `{"what":"loop-static-ort"|"loop-plugin-ort"|…,"median_us":..,"min_us":..,"rounds":..}`;
//! ort rows need `ORT_DYLIB_PATH` (the script sets it). Every run's output is checked: N
//! responses, each with `"outputs"`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use webc_host::run::{Host, Notes, Package, RunOptions, Stdio};
use webc_runner_api::{Availability, Outcome, Runner};
use webc_runner_onnx::{OnnxOrtRunner, OnnxTractRunner};

/// Runs `infer --jsonl` on `input`; returns the seconds it took.
fn run(host: &Host, pkg: &Package, backend: &str, input: &[u8], lines: usize) -> Result<f64> {
    let opts = RunOptions {
        command: Some("infer".into()),
        args: vec!["--jsonl".into()],
        runner_options: vec![("backend".into(), backend.into())],
        notes: Notes::silent(),
        ..Default::default()
    };
    let mut stdin = input;
    let mut stdout = Vec::with_capacity(lines * 256);
    let mut stderr = Vec::new();
    let start = Instant::now();
    let outcome = host.run(
        pkg,
        &opts,
        Stdio {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        },
    )?;
    let took = start.elapsed().as_secs_f64();
    if outcome != Outcome::Exit(0) {
        bail!(
            "{backend}: {outcome:?}: {}",
            String::from_utf8_lossy(&stderr)
        );
    }
    let answered = stdout
        .split(|&b| b == b'\n')
        .filter(|l| l.windows(9).any(|w| w == b"\"outputs\""))
        .count();
    if answered != lines {
        bail!("{backend}: {answered} responses for {lines} lines");
    }
    Ok(took)
}

/// Whether the row `what` is wanted: all of them, or those named in `$ONLY` (comma-separated;
/// bench/onnx.sh profiles one row at a time).
fn wanted(what: &str) -> bool {
    std::env::var("ONLY").map_or(true, |only| only.split(',').any(|w| w == what))
}

fn measure(
    what: &str,
    host: &Host,
    pkg: &Package,
    backend: &str,
    line: &[u8],
    n: usize,
    rounds: usize,
) -> Result<()> {
    if !wanted(what) {
        return Ok(());
    }
    let one = line.to_vec();
    let many = line.repeat(n);
    run(host, pkg, backend, &one, 1)?; // loads the model into the runner's cache
    run(host, pkg, backend, &many, n)?;
    let mut per_line = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t1 = run(host, pkg, backend, &one, 1)?;
        let tn = run(host, pkg, backend, &many, n)?;
        per_line.push((tn - t1) / (n - 1) as f64 * 1e6);
    }
    per_line.sort_by(f64::total_cmp);
    let median = per_line[per_line.len() / 2];
    let min = per_line[0];
    println!(
        "{{\"what\":\"{what}\",\"median_us\":{median:.3},\"min_us\":{min:.3},\"rounds\":{rounds}}}"
    );
    Ok(())
}

fn main() -> Result<()> {
    // `cargo bench` appends `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [model, request, lines, rounds, plugin_dir] = args.as_slice() else {
        bail!("usage: onnx-boundary MODEL.webc REQUEST.json LINES ROUNDS PLUGIN_DIR");
    };
    let n: usize = lines.parse().context("LINES")?;
    let rounds: usize = rounds.parse().context("ROUNDS")?;
    if n < 2 || rounds == 0 {
        bail!("LINES must be at least 2 and ROUNDS at least 1");
    }
    let mut line = std::fs::read(request).with_context(|| request.clone())?;
    while line.last().is_some_and(u8::is_ascii_whitespace) {
        line.pop();
    }
    if line.contains(&b'\n') {
        bail!("{request}: the request must be on one line");
    }
    line.push(b'\n');
    let pkg = Package::open(Path::new(model))?;
    let ort = matches!(OnnxOrtRunner::new().availability(), Availability::Available);

    for backend in ["tract", "ort"] {
        if backend == "ort" && !ort {
            eprintln!("onnx-boundary: ONNX Runtime not found; ort rows left out");
            continue;
        }
        let runner: Arc<dyn Runner> = if backend == "ort" {
            Arc::new(OnnxOrtRunner::new())
        } else {
            Arc::new(OnnxTractRunner::new())
        };
        let statics = Host::builder().register(runner).no_cache().build()?;
        measure(
            &format!("loop-static-{backend}"),
            &statics,
            &pkg,
            backend,
            &line,
            n,
            rounds,
        )?;
        let plugins = Host::builder()
            .plugin_dir(PathBuf::from(plugin_dir))
            .no_cache()
            .build()?;
        measure(
            &format!("loop-plugin-{backend}"),
            &plugins,
            &pkg,
            backend,
            &line,
            n,
            rounds,
        )?;
    }
    Ok(())
}
