#!/usr/bin/env bash
# The WASI runner against wasmtime's CLI (48.0.8, the engine version we embed): start-up with
# a warm and a cold precompiled cache, and a program reading 1 000 files from a package
# volume versus the same files unpacked in a directory. Prints a markdown table with the
# ratios against the targets of issue 4 (warm <= 1.1x, cold <= 1.1x). Not run in CI.
#
# What it builds and where (nothing goes into the shared dev target directory):
# - webc-host and the WASI plugin with `--release` into a separate target directory,
#   $BENCH_TARGET (default target/bench-release; `release/webc-host` finds
#   `release/libwebc_runner_wasi.so` beside itself);
# - wasmtime: $WASMTIME if set, else `wasmtime` on PATH if it is 48.0.8, else
#   `cargo install wasmtime-cli --version 48.0.8` into $TOOLS (default target/bench-tools;
#   a release build of about 8 minutes, run under nice);
# - hyperfine: $HYPERFINE if set, else on PATH, else `cargo install hyperfine --version 1.20.0`
#   (the newest for Rust 1.95) into $TOOLS;
#   HYPERFINE=none times with a small Python loop instead (median and min of RUNS runs);
# - the C programs in bench/wasi/ with clang --target=wasm32-wasi when it works, else the
#   committed .wasm files; packages and the 1 000 files under $BENCH_TARGET/wasi-bench/.
#
# Knobs: RUNS (default 100) timed runs per command, WARMUP (default 5), INTERLEAVE=1 (time
# with the Python loop, all commands round-robin: steadier ratios on a shared machine).
# Usage: bench/wasi.sh            (SKIP_BUILD=1 reuses the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bench_target="${BENCH_TARGET:-$root/target/bench-release}"
tools="${TOOLS:-$root/target/bench-tools}"
runs="${RUNS:-100}"
warmup="${WARMUP:-5}"
work="$bench_target/wasi-bench"
mkdir -p "$work" "$tools"

log() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------
wasmtime_version=48.0.8
if [[ -z "${WASMTIME:-}" ]]; then
  if command -v wasmtime >/dev/null && [[ "$(wasmtime --version)" == "wasmtime $wasmtime_version"* ]]; then
    WASMTIME=$(command -v wasmtime)
  elif [[ -x "$tools/bin/wasmtime" ]]; then
    WASMTIME="$tools/bin/wasmtime"
  else
    log "installing wasmtime-cli $wasmtime_version into $tools (release build, ~8 min)"
    nice cargo install wasmtime-cli --version "$wasmtime_version" --locked --root "$tools" \
      --no-default-features \
      --features run,compile,cache,cranelift,parallel-compilation,wat,gc,gc-drc,pooling-allocator,component-model
    WASMTIME="$tools/bin/wasmtime"
  fi
fi
if [[ "$("$WASMTIME" --version)" != "wasmtime $wasmtime_version"* ]]; then
  log "warning: $WASMTIME is $("$WASMTIME" --version), not $wasmtime_version"
fi

if [[ -z "${HYPERFINE:-}" ]]; then
  if command -v hyperfine >/dev/null; then
    HYPERFINE=$(command -v hyperfine)
  elif [[ -x "$tools/bin/hyperfine" ]]; then
    HYPERFINE="$tools/bin/hyperfine"
  elif nice cargo install hyperfine --version 1.20.0 --locked --root "$tools" >&2; then
    HYPERFINE="$tools/bin/hyperfine"
  else
    log "hyperfine could not be installed; timing with a Python loop"
    HYPERFINE=none
  fi
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building webc-host and the WASI plugin (release) into $bench_target"
  CARGO_TARGET_DIR="$bench_target" nice cargo build --release -p webc-host -p webc-runner-wasi-plugin >&2
fi
webc_host="$bench_target/release/webc-host"
[[ -x "$webc_host" && -f "$bench_target/release/libwebc_runner_wasi.so" ]] ||
  { log "error: $webc_host or its WASI plugin is missing (run without SKIP_BUILD=1)"; exit 1; }

# --- programs, packages, files -----------------------------------------------------------
for prog in hello readfiles; do
  if clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-all \
      -o "$work/$prog.wasm" "bench/wasi/$prog.c" 2>/dev/null; then
    :
  else
    cp "bench/wasi/$prog.wasm" "$work/$prog.wasm"
  fi
done

python3 - "$work" <<'PY'
import os, random, shutil, sys
work = sys.argv[1]
# 1 000 files of 1 KiB in nested directories: 10 x 10 directories of 10 files, inside the
# readfiles project (its `files/` becomes the package volume /data; wasmtime gets the same
# directory with --dir).
files = os.path.join(work, "readfiles-project", "files")
shutil.rmtree(os.path.join(work, "readfiles-project"), ignore_errors=True)
shutil.rmtree(os.path.join(work, "hello-project"), ignore_errors=True)
rng = random.Random(4)
for a in range(10):
    for b in range(10):
        d = os.path.join(files, f"d{a}", f"e{b}")
        os.makedirs(d)
        for c in range(10):
            with open(os.path.join(d, f"f{c}.txt"), "wb") as f:
                f.write(bytes(rng.randrange(32, 127) for _ in range(1024)))
for name, fs in (("hello", ""), ("readfiles", '[fs]\n"/data" = "files"\n')):
    project = os.path.join(work, f"{name}-project")
    os.makedirs(project, exist_ok=True)
    shutil.copy(os.path.join(work, f"{name}.wasm"), project)
    with open(os.path.join(project, "wasmer.toml"), "w") as f:
        f.write(f'[package]\nname = "bench/{name}"\nversion = "0.1.0"\n\n{fs}\n'
                f'[[module]]\nname = "{name}"\nsource = "{name}.wasm"\nabi = "wasi"\n\n'
                f'[[command]]\nname = "{name}"\nmodule = "{name}"\nrunner = "wasi"\n')
PY
for name in hello readfiles; do
  "$webc_host" pack --force "$work/$name-project" -o "$work/$name.webc" >/dev/null
  "$WASMTIME" compile "$work/$name.wasm" -o "$work/$name.cwasm"
done

# Nothing from the environment changes what webc-host loads or logs.
unset WEBC_LOG WEBC_HOST_PLUGINS WEBC_HOST_CACHE
export XDG_DATA_HOME="$work/xdg"

warm_cache="$work/cache-warm"
cold_cache="$work/cache-cold"
rm -rf "$warm_cache"

# The commands compared (also printed under the table).
webc_warm="$webc_host run --cache-dir $warm_cache $work/hello.webc"
wt_warm="$WASMTIME run --allow-precompiled $work/hello.cwasm"
webc_cold="$webc_host run --cache-dir $cold_cache $work/hello.webc"
wt_cold="$WASMTIME run -C cache=n $work/hello.wasm"
wt_cached="$WASMTIME run $work/hello.wasm"
printf '[cache]\ndirectory = "%s"\n' "$work/wt-cache" > "$work/wt-cache.toml"
wt_cold_store="$WASMTIME run -C cache-config=$work/wt-cache.toml $work/hello.wasm"
prepare_wt_store="rm -rf $work/wt-cache"
wt_cold_epoch="$WASMTIME run -C cache=n -W timeout=3600s $work/hello.wasm"
first_cache="$work/cache-first"
webc_first="$webc_host run --cache-dir $first_cache $work/hello.webc"
prepare_first="rm -rf $first_cache/artifacts $first_cache/verified"
webc_files="$webc_host run --cache-dir $warm_cache $work/readfiles.webc -- /data"
wt_files="$WASMTIME run --allow-precompiled --dir $work/readfiles-project/files::/data $work/readfiles.cwasm /data"
wt_files_jit="$WASMTIME run -C cache=n --dir $work/readfiles-project/files::/data $work/readfiles.wasm /data"
prepare_cold="rm -rf $cold_cache"

# Same output from both before anything is timed.
check() {
  local a b
  a=$($1) || { log "error: '$1' failed"; exit 1; }
  b=$($2) || { log "error: '$2' failed"; exit 1; }
  if [[ "$a" != "$b" ]]; then
    log "error: outputs differ:"; log "  $1 -> $a"; log "  $2 -> $b"; exit 1
  fi
  log "ok: $a"
}
check "$webc_warm" "$wt_warm"
check "$webc_files" "$wt_files"
[[ "$($webc_files)" == "1000 files, 1024000 bytes, "* ]] || { log "error: readfiles did not read 1000 files"; exit 1; }

# --- timing ------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results="$work/results"
rm -rf "$results"
mkdir -p "$results"

"$webc_host" run --cache-dir "$warm_cache" "$work/hello.webc" >/dev/null     # fill the warm cache
"$webc_host" run --cache-dir "$warm_cache" "$work/readfiles.webc" -- /data >/dev/null
$webc_first >/dev/null   # plugin metadata cached; only artifacts/ and verified/ are removed
$wt_cached >/dev/null    # fill wasmtime's own cache

# NAME, PREPARE (run untimed before each timed run), COMMAND.
specs=(
  webc-warm "" "$webc_warm"
  wt-warm "" "$wt_warm"
  webc-cold "$prepare_cold" "$webc_cold"
  wt-cold "" "$wt_cold"
  wt-cold-epoch "" "$wt_cold_epoch"
  wt-cold-store "$prepare_wt_store" "$wt_cold_store"
  webc-first "$prepare_first" "$webc_first"
  wt-cached "" "$wt_cached"
  webc-files "" "$webc_files"
  wt-files "" "$wt_files"
  wt-files-jit "" "$wt_files_jit"
)

if [[ "$HYPERFINE" != none && "${INTERLEAVE:-0}" != 1 ]]; then
  timer="hyperfine $("$HYPERFINE" --version | cut -d' ' -f2), one command after another"
  for ((i = 0; i < ${#specs[@]}; i += 3)); do
    name=${specs[i]} prepare=${specs[i + 1]} cmd=${specs[i + 2]}
    log "timing $name: $cmd"
    prep=()
    [[ -n "$prepare" ]] && prep=(--prepare "$prepare")
    "$HYPERFINE" -N --style none --warmup "$warmup" --runs "$runs" "${prep[@]}" \
      --export-json "$results/$name.hf.json" "$cmd" >&2
    python3 - "$results/$name.hf.json" "$results/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
json.dump({"median": r["median"], "min": r["min"], "mean": r["mean"], "runs": len(r["times"])},
          open(sys.argv[2], "w"))
PY
  done
else
  # Round-robin: every command once per round, so load from other processes on a shared
  # machine hits all of them alike.
  timer="Python loop, commands interleaved round-robin"
  log "timing ${#specs[@]} / 3 commands, $runs rounds (interleaved)"
  python3 - "$results" "$runs" "$warmup" "${specs[@]}" <<'PY'
import json, os, shlex, statistics, subprocess, sys, time
results, runs, warmup, flat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
specs = [(flat[i], flat[i + 1], shlex.split(flat[i + 2])) for i in range(0, len(flat), 3)]
times = {name: [] for name, _, _ in specs}
devnull = os.open(os.devnull, os.O_WRONLY)
def spawn(argv):
    # posix_spawn + waitpid: as little harness time as hyperfine's -N.
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit(f"{shlex.join(argv)} failed: wait status {status}")
for round in range(warmup + runs):
    for name, prepare, argv in specs:
        if prepare:
            spawn(shlex.split(prepare))
        t = time.perf_counter()
        spawn(argv)
        if round >= warmup:
            times[name].append(time.perf_counter() - t)
for name, ts in times.items():
    with open(os.path.join(results, name + ".json"), "w") as f:
        json.dump({"median": statistics.median(ts), "min": min(ts),
                   "mean": statistics.fmean(ts), "runs": len(ts)}, f)
PY
fi

# --- table -------------------------------------------------------------------------------
python3 - "$results" "$runs" <<PY
import json, os, sys
results, runs = sys.argv[1], sys.argv[2]
def r(name):
    return json.load(open(os.path.join(results, name + ".json")))
def ms(x):
    return f"{x * 1e3:.2f} ms"
rows = [
    ("hello, warm (precompiled cache)", "webc-warm", "wt-warm", 1.1),
    ("hello, cold (no cache)", "webc-cold", "wt-cold", 1.1),
    ("1 000 files × 1 KiB, warm (package volume vs --dir)", "webc-files", "wt-files", None),
]
print(f"| benchmark ({runs} runs each) | webc-host median (min) | wasmtime median (min) | ratio (median) | target |")
print("|---|---:|---:|---:|---|")
for label, ours, theirs, target in rows:
    a, b = r(ours), r(theirs)
    ratio = a["median"] / b["median"]
    if target is None:
        verdict = "—"
    else:
        verdict = f"{'OK' if ratio <= target else 'MISS'} (≤ {target}×)"
    print(f"| {label} | {ms(a['median'])} ({ms(a['min'])}) | {ms(b['median'])} ({ms(b['min'])}) | {ratio:.2f}× | {verdict} |")
print()
print("| reference | median (min) |")
print("|---|---:|")
for label, name in (
    ("webc-host, first run of a package (plugin metadata cached; no artifact, no verification record)", "webc-first"),
    ("wasmtime run -C cache=n -W timeout=3600s (epoch interruption on, as the runner always has it)", "wt-cold-epoch"),
    ("wasmtime run hello.wasm with its cache on but empty (compiles and stores, as webc-host cold does)", "wt-cold-store"),
    ("wasmtime run hello.wasm, its own default cache warm", "wt-cached"),
    ("wasmtime readfiles compiled each run (-C cache=n)", "wt-files-jit"),
):
    x = r(name)
    print(f"| {label} | {ms(x['median'])} ({ms(x['min'])}) |")
PY
cat <<EOF

Timed with: $timer; RUNS=$runs, WARMUP=$warmup; load average before: $load_before.
Commands:
- warm:  \`$webc_warm\` vs \`$wt_warm\`
- cold:  \`$webc_cold\` (prepare: \`$prepare_cold\`) vs \`$wt_cold\`
- files: \`$webc_files\` vs \`$wt_files\`
- reference: \`$webc_first\` (prepare: \`$prepare_first\`), \`$wt_cold_epoch\`, \`$wt_cold_store\` (prepare: \`$prepare_wt_store\`), \`$wt_cached\`, \`$wt_files_jit\`
EOF
