#!/usr/bin/env bash
# The ONNX runner's per-inference latency, one thread everywhere, for models/mlp and models/cnn
# (issue 5 item 7). Prints a markdown table. Not run in CI. Rows:
#   (a) `webc-host run --runner-opt backend=B M.webc infer --jsonl` with N request lines piped in:
#       (time for N lines - time for 1 line) / (N - 1), so process start and model load cancel
#       out (medians of ROUNDS runs each, interleaved);
#   (b) the backend called directly in Rust (tract-onnx, ort): bench/onnx/direct.rs, median;
#   (c) Python onnxruntime (InferenceSession, 1 intra-op and 1 inter-op thread), median;
#   (d) the infer codec alone (decode the JSON request + encode the response with
#       webc_runner_onnx::codec), median; boundary overhead = (a) - (b) - (d);
#   (f)/(g) the runner's request loop in-process (bench/onnx/boundary.rs): `infer --jsonl`
#       through webc_host::run::Host with in-memory stdio, (f) the runner linked in, (g) dlopened
#       from its release plugin; per line = (t(LOOP_LINES) - t(1)) / (LOOP_LINES - 1), median of
#       ROUNDS. In-process boundary = (g) - (b) - (d): the request loop, the host and the plugin
#       boundary, without pipes or process noise (issue 10 §5's measure);
#   (h) where the request loop's time goes, CNN on the dlopened ort plugin, by sampling
#       (`perf record --call-graph dwarf` of (g), when perf works here): the share of samples
#       under the runner's `serve` that are in neither the JSON decode, ONNX Runtime nor the
#       response encode — the boundary as issue 10 §5 defines it, measured inside one run
#       instead of as a difference of separately timed loops (which runs each part hot);
#   (e) the CNN's `.npy` request on the ort path, one request per process: per-process time of
#       `infer < cnn-input.npy` minus `infer --describe` (same start-up and model load, no
#       inference), and the whole process against a Python process doing the same
#       (import onnxruntime, load, np.load, run, print).
#
# What it builds and where (nothing goes into the shared dev target directory): webc-host and
# both ONNX plugins with `--release`, and the direct bench (`cargo bench --bench onnx`, bench
# profile = release), into $BENCH_TARGET (default target/bench-release, shared with
# bench/wasi.sh). libonnxruntime: scripts/install-onnxruntime.sh (or $ORT_DYLIB_PATH); Python:
# target/py (scripts/python-env.sh).
#
# Knobs: LINES (default 10000) request lines for (a), LOOP_LINES (default 2000) for (f)/(g), ROUNDS (default 20) runs of each (a)/(e)
# command, ITERS (default 2000) loop iterations for (b)-(d), SKIP_BUILD=1 reuses the build.
# Usage: bench/onnx.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bench_target="${BENCH_TARGET:-$root/target/bench-release}"
lines="${LINES:-10000}"
loop_lines="${LOOP_LINES:-2000}"
rounds="${ROUNDS:-20}"
iters="${ITERS:-2000}"
work="$bench_target/onnx-bench"
mkdir -p "$work"

log() { printf '%s\n' "$*" >&2; }

ort_lib=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH="$ort_lib"
python="$root/target/py/bin/python"
[[ -x "$python" ]] || scripts/python-env.sh >&2

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building webc-host and the ONNX plugins (release) into $bench_target"
  CARGO_TARGET_DIR="$bench_target" nice cargo build --release -p webc-host \
    -p webc-runner-onnx-tract-plugin -p webc-runner-onnx-ort-plugin >&2
  log "building the direct bench (bench profile) into $bench_target"
  CARGO_TARGET_DIR="$bench_target" nice cargo bench -p webc-bench --bench onnx --bench onnx-boundary --no-run >&2
fi
webc_host="$bench_target/release/webc-host"
for f in "$webc_host" "$bench_target/release/libwebc_runner_onnx_tract.so" \
         "$bench_target/release/libwebc_runner_onnx_ort.so"; do
  [[ -e "$f" ]] || { log "error: $f is missing (run without SKIP_BUILD=1)"; exit 1; }
done

# Nothing from the environment changes what webc-host loads or logs.
unset WEBC_LOG WEBC_HOST_PLUGINS WEBC_HOST_CACHE
export XDG_DATA_HOME="$work/xdg"
cache="$work/cache"

# Request files: the committed samples on one line, N copies and 1 copy.
"$python" - "$work" "$lines" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
for m in ("mlp", "cnn"):
    line = json.dumps(json.load(open(f"models/{m}-input.json")), separators=(",", ":")) + "\n"
    open(f"{work}/{m}-1.jsonl", "w").write(line)
    open(f"{work}/{m}-{n}.jsonl", "w").write(line * n)
    open(f"{work}/{m}-request.json", "w").write(line)
PY

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results="$work/results"
rm -rf "$results"
mkdir -p "$results"

# --- (b) and (d): direct Rust --------------------------------------------------------------
for m in mlp cnn; do
  log "timing (b)+(d) $m: cargo bench --bench onnx -- $root/models/$m.onnx $work/$m-request.json $iters $ort_lib"
  CARGO_TARGET_DIR="$bench_target" nice cargo bench -q -p webc-bench --bench onnx -- \
    "$root/models/$m.onnx" "$work/$m-request.json" "$iters" "$ort_lib" > "$results/direct-$m.jsonl"
done
log "timing (d) cnn .npy: codec (and tract) only"
CARGO_TARGET_DIR="$bench_target" nice cargo bench -q -p webc-bench --bench onnx -- \
  "$root/models/cnn.onnx" "$root/models/cnn-input.npy" "$iters" > "$results/direct-cnn-npy.jsonl"

# --- (f) and (g): the request loop in-process -----------------------------------------------
for m in mlp cnn; do
  log "timing (f)+(g) $m: cargo bench --bench onnx-boundary -- models/$m.webc $work/$m-request.json $loop_lines $rounds $bench_target/release"
  CARGO_TARGET_DIR="$bench_target" nice cargo bench -q -p webc-bench --bench onnx-boundary -- \
    "$root/models/$m.webc" "$work/$m-request.json" "$loop_lines" "$rounds" "$bench_target/release" \
    > "$results/loop-$m.jsonl"
done

# --- (h): sampled attribution of (g) for the CNN on ort -------------------------------------
boundary_bin=$(ls -t "$bench_target"/release/deps/onnx_boundary-* 2>/dev/null | grep -v '\.d$' | head -1)
if command -v perf >/dev/null && perf record -o /dev/null true >/dev/null 2>&1 && [[ -n "$boundary_bin" ]]; then
  log "sampling (h): perf record of loop-plugin-ort on the CNN"
  ONLY=loop-plugin-ort perf record -q --call-graph dwarf,16384 -F 1500 -o "$work/perf.data" \
    "$boundary_bin" "$root/models/cnn.webc" "$work/cnn-request.json" "$loop_lines" 3 \
    "$bench_target/release" >/dev/null 2>&1
  perf report -i "$work/perf.data" --children --sort symbol --stdio 2>/dev/null \
    | grep -E '^ +[0-9.]+%' > "$results/perf-cnn-ort.txt" || true
else
  log "(h) skipped: perf does not work here"
  : > "$results/perf-cnn-ort.txt"
fi

# --- (c): Python onnxruntime ---------------------------------------------------------------
log "timing (c): python onnxruntime"
"$python" - "$iters" "$results/python.json" <<'PY'
import json, statistics, sys, time
import numpy as np
import onnxruntime as ort
iters, out = int(sys.argv[1]), sys.argv[2]
res = {}
for m in ("mlp", "cnn"):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(f"models/{m}.onnx", so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    if m == "cnn":
        x = np.load("models/cnn-input.npy")
    else:
        x = np.array(json.load(open("models/mlp-input.json"))["x"], dtype=np.float32)
    feed = {name: x}
    for _ in range(50):
        s.run(None, feed)
    ts = []
    for _ in range(iters):
        t = time.perf_counter_ns()
        s.run(None, feed)
        ts.append((time.perf_counter_ns() - t) / 1e3)
    res[m] = {"median_us": statistics.median(ts), "min_us": min(ts), "iters": iters,
              "version": ort.__version__}
json.dump(res, open(out, "w"))
PY

# --- (a) and (e): through webc-host ---------------------------------------------------------
check() {  # BACKEND MODEL: N lines in, N responses out, no error.
  local out
  out=$("$webc_host" run --cache-dir "$cache" --runner-opt "backend=$1" "models/$2.webc" infer --jsonl \
        < "$work/$2-$lines.jsonl") || { log "error: $1 $2 --jsonl failed"; exit 1; }
  [[ $(grep -c '"outputs"' <<<"$out") == "$lines" ]] ||
    { log "error: $1 $2 --jsonl did not answer $lines lines"; exit 1; }
}
for b in tract ort; do for m in mlp cnn; do check "$b" "$m"; done; done
"$webc_host" run --cache-dir "$cache" --runner-opt backend=ort models/cnn.webc infer \
  < models/cnn-input.npy | grep -q '"outputs"' || { log "error: .npy request failed"; exit 1; }

log "timing (a)+(e): $rounds rounds, interleaved"
"$python" - "$results/process.json" "$rounds" "$webc_host" "$cache" "$work" "$lines" <<'PY'
import json, os, statistics, subprocess, sys, time
out, rounds, host, cache, work, lines = sys.argv[1:]
rounds, lines = int(rounds), int(lines)
run = [host, "run", "--cache-dir", cache]
specs = {}
for b in ("tract", "ort"):
    for m in ("mlp", "cnn"):
        for n in (1, lines):
            specs[f"jsonl-{b}-{m}-{n}"] = (run + ["--runner-opt", f"backend={b}", f"models/{m}.webc",
                                                  "infer", "--jsonl"], f"{work}/{m}-{n}.jsonl")
specs["npy-ort-cnn"] = (run + ["--runner-opt", "backend=ort", "models/cnn.webc", "infer"],
                        "models/cnn-input.npy")
specs["describe-ort-cnn"] = (run + ["--runner-opt", "backend=ort", "models/cnn.webc", "infer",
                                    "--describe"], None)
py = ("import sys, numpy as np, onnxruntime as ort\n"
      "so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1\n"
      "s = ort.InferenceSession('models/cnn.onnx', so, providers=['CPUExecutionProvider'])\n"
      "x = np.load(sys.stdin.buffer)\n"
      "print(s.run(None, {s.get_inputs()[0].name: x})[0].tolist())\n")
specs["npy-python-cnn"] = ([sys.executable, "-c", py], "models/cnn-input.npy")
times = {k: [] for k in specs}
devnull = open(os.devnull, "wb")
for r in range(rounds + 1):          # round 0 is a warm-up
    for name, (argv, stdin) in specs.items():
        f = open(stdin, "rb") if stdin else subprocess.DEVNULL
        t = time.perf_counter()
        p = subprocess.run(argv, stdin=f, stdout=devnull)
        dt = time.perf_counter() - t
        if stdin:
            f.close()
        if p.returncode != 0:
            sys.exit(f"{name} failed with {p.returncode}")
        if r > 0:
            times[name].append(dt)
json.dump({k: {"median": statistics.median(v), "min": min(v), "runs": len(v)}
           for k, v in times.items()}, open(out, "w"))
PY

# --- table ---------------------------------------------------------------------------------
"$python" - "$results" "$lines" "$rounds" "$iters" <<'PY'
import json, os, sys
results, lines, rounds, iters = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def jl(path):
    return {d["what"]: d for d in map(json.loads, open(path))}
direct = {m: jl(f"{results}/direct-{m}.jsonl") for m in ("mlp", "cnn")}
loop = {m: jl(f"{results}/loop-{m}.jsonl") for m in ("mlp", "cnn")}
npy_codec = jl(f"{results}/direct-cnn-npy.jsonl")["codec"]["median_us"]
py = json.load(open(f"{results}/python.json"))
proc = json.load(open(f"{results}/process.json"))
def per_line(b, m):
    return (proc[f"jsonl-{b}-{m}-{lines}"]["median"] - proc[f"jsonl-{b}-{m}-1"]["median"]) / (lines - 1) * 1e6
us = lambda x: f"{x:.1f} µs"
print(f"| model | backend | (a) webc-host --jsonl, per line | (b) direct Rust | (c) Python onnxruntime | (d) JSON codec | boundary (a)−(b)−(d) | boundary / (b) |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for m in ("mlp", "cnn"):
    codec = direct[m]["codec"]["median_us"]
    for b in ("tract", "ort"):
        a = per_line(b, m)
        d = direct[m][b]["median_us"]
        c = us(py[m]["median_us"]) if b == "ort" else "—"
        boundary = a - d - codec
        print(f"| {m} | {b} | {us(a)} | {us(d)} | {c} | {us(codec)} | {us(boundary)} | {boundary / d * 100:.1f} % |")
print()
print("In-process (issue 10 §5): the request loop through `Host::run` with in-memory stdio, per line.")
print()
print("| model | backend | (f) static runner | (g) dlopened plugin | (b) direct | (d) codec | boundary (g)−(b)−(d) | boundary / (g) | plugin cost (g)−(f) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for m in ("mlp", "cnn"):
    codec = direct[m]["codec"]["median_us"]
    for b in ("tract", "ort"):
        f = loop[m][f"loop-static-{b}"]["median_us"]
        g = loop[m][f"loop-plugin-{b}"]["median_us"]
        d = direct[m][b]["median_us"]
        boundary = g - d - codec
        print(f"| {m} | {b} | {us(f)} | {us(g)} | {us(d)} | {us(codec)} | {us(boundary)} | {boundary / g * 100:.1f} % | {us(g - f)} |")
print()
def share(pattern):
    import re
    for l in open(f"{results}/perf-cnn-ort.txt"):
        m = re.match(r"\s*([0-9.]+)%\s+[0-9.]+%\s+\[\.\]\s+(.*?)\s*$", l)
        name = re.sub(r"(\s+-)+\s*$", "", m.group(2)).strip() if m else ""
        if m and re.search(pattern, name):
            return float(m.group(1))
    return None
serve = share(r"^webc_runner_infer::serve::serve$")
parts = [share(r"^webc_runner_infer::codec::decode_request$"),
         share(r"OrtModel as webc_runner_infer::backend::Model>::run$"),
         share(r"^webc_runner_infer::serve::write_outputs$")]
sampled = None
if serve and all(p is not None for p in parts):
    sampled = (serve - sum(parts)) / serve * 100
    print("Sampled (h), CNN on the dlopened ort plugin: share of the request loop's samples (`serve` = 100 %).")
    print()
    print("| JSON decode | ONNX Runtime | response encode | everything else (boundary) |")
    print("|---:|---:|---:|---:|")
    print(f"| {parts[0] / serve * 100:.1f} % | {parts[1] / serve * 100:.1f} % | {parts[2] / serve * 100:.1f} % | {sampled:.1f} % |")
    print()
ort_cnn = direct["cnn"]["ort"]["median_us"]
pyc = py["cnn"]["median_us"]
npy = proc["npy-ort-cnn"]["median"] * 1e3
desc = proc["describe-ort-cnn"]["median"] * 1e3
pyproc = proc["npy-python-cnn"]["median"] * 1e3
b_cnn = per_line("ort", "cnn") - ort_cnn - direct["cnn"]["codec"]["median_us"]
print("| target (issue 5) | measured | verdict |")
print("|---|---:|---|")
print(f"| ort ≤ 0.8× python onnxruntime, CNN, per inference (b)/(c) | {ort_cnn / pyc:.2f}× ({us(ort_cnn)} vs {us(pyc)}) | {'OK' if ort_cnn / pyc <= 0.8 else 'MISS'} |")
print(f"| ort ≤ 0.8× python, CNN `.npy` request, whole process | {npy / pyproc:.2f}× ({npy:.1f} ms vs {pyproc:.1f} ms) | {'OK' if npy / pyproc <= 0.8 else 'MISS'} |")
print(f"| boundary overhead ≤ 5 % of backend time, CNN, ort | {b_cnn / ort_cnn * 100:.1f} % ({us(b_cnn)}) | {'OK' if b_cnn / ort_cnn <= 0.05 else 'MISS'} |")
g_cnn = loop["cnn"]["loop-plugin-ort"]["median_us"]
b_in = g_cnn - ort_cnn - direct["cnn"]["codec"]["median_us"]
print(f"| in-process boundary ≤ 5 % of the per-line time, CNN, ort (issue 10) | {b_in / g_cnn * 100:.1f} % ({us(b_in)} of {us(g_cnn)}) | {'OK' if b_in / g_cnn <= 0.05 else 'MISS'} |")
if sampled is not None:
    print(f"| sampled boundary ≤ 5 % of the request loop, CNN, ort plugin (issue 10, (h)) | {sampled:.1f} % | {'OK' if sampled <= 5 else 'MISS'} |")
b_cnn_t = per_line("tract", "cnn") - direct["cnn"]["tract"]["median_us"] - direct["cnn"]["codec"]["median_us"]
print(f"| boundary overhead ≤ 5 % of backend time, CNN, tract | {b_cnn_t / direct['cnn']['tract']['median_us'] * 100:.1f} % ({us(b_cnn_t)}) | {'OK' if b_cnn_t / direct['cnn']['tract']['median_us'] <= 0.05 else 'MISS'} |")
print()
print("| (e) CNN `.npy` request, one per process (ort) | median (min) |")
print("|---|---:|")
for label, k in (("`infer < cnn-input.npy`", "npy-ort-cnn"), ("`infer --describe` (baseline: start, load, no inference)", "describe-ort-cnn"),
                 ("python: import onnxruntime, load, np.load(stdin), run, print", "npy-python-cnn")):
    print(f"| {label} | {proc[k]['median'] * 1e3:.1f} ms ({proc[k]['min'] * 1e3:.1f} ms) |")
print(f"| difference `infer` − `--describe` (inference + .npy decode + JSON encode; noisy at this scale) | {npy - desc:.2f} ms |")
print(f"| .npy codec alone (decode the .npy request + encode the response) | {us(npy_codec)} |")
print()
print(f"Python onnxruntime {py['cnn']['version']}; (a): {lines} lines vs 1 line, median of {rounds} runs each; (b)-(d): median of {iters} iterations after 50 warm-up.")
PY
cat <<EOF

Load average before: $load_before. libonnxruntime: $ort_lib. Commands:
- (a) \`$webc_host run --cache-dir $cache --runner-opt backend=tract|ort models/{mlp,cnn}.webc infer --jsonl < $work/{mlp,cnn}-{1,$lines}.jsonl\`
- (b)+(d) \`CARGO_TARGET_DIR=$bench_target cargo bench -p webc-bench --bench onnx -- $root/models/{mlp,cnn}.onnx $work/{mlp,cnn}-request.json $iters $ort_lib\`
- (f)+(g) \`CARGO_TARGET_DIR=$bench_target cargo bench -p webc-bench --bench onnx-boundary -- $root/models/{mlp,cnn}.webc $work/{mlp,cnn}-request.json $loop_lines $rounds $bench_target/release\`
- (c) target/py/bin/python, onnxruntime.InferenceSession (intra/inter-op threads 1), \`s.run\` loop
- (e) \`$webc_host run --cache-dir $cache --runner-opt backend=ort models/cnn.webc infer < models/cnn-input.npy\` and \`… infer --describe\`
EOF
