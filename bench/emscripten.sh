#!/usr/bin/env bash
# The Emscripten runner against node running the emcc JS glue (issue 11): whole-process time
# of each test program of runners/emscripten/tests/programs/ that needs no file-system layout,
# (1) `webc-host run pkg.webc` with a warm precompiled cache, (2) its first run with an empty
# cache dir (compile cost), (3) `node --no-experimental-fetch prog.js` with the same
# arguments and stdin. Prints a markdown table with ours/node against the target of issue 11
# (warm <= 0.2x node). Not run in CI.
#
# What it builds and where (nothing goes into the shared dev target directory):
# - webc-host and the Emscripten plugin with `--release` into $BENCH_TARGET (default
#   target/bench-release, shared with bench/wasi.sh and bench/onnx.sh; `release/webc-host`
#   finds `release/libwebc_runner_emscripten.so` beside itself). BUILD=debug instead uses the
#   existing debug binaries in target/debug (builds nothing; the table says "DEBUG build, not
#   release numbers") — for checking the script only.
# - one package per program under $BENCH_TARGET/emscripten-bench/: `webc-host pack` of a
#   generated wasmer.toml whose command has `runner = "emscripten"`.
# node: $NODE (default /usr/bin/node, v20), run with TZ=UTC as the goldens were recorded. Cases
# with an `env` in cases.json run a copy of the glue with the 5-line `--pre-js` that
# scripts/build-emscripten-tests.sh used when recording (the glue does not pass node's
# environment to the guest); the others run the committed .js unchanged.
#
# Every command's stdout is compared byte for byte with goldens/<case>.stdout, and its exit
# status with goldens/<case>.exit, before anything is timed (the runner's status for abort,
# assert and exceptions_uncaught is 134, a trap, where node's is its artefact 7: see
# runners/emscripten/tests/conformance.rs). Any mismatch stops the script.
#
# Skipped: the `fs` cases (files, files_bigint, denied). Their goldens come from a NODERAWFS
# rebuild of the glue run inside `unshare -rm` with read-only bind mounts; the committed glue
# uses MEMFS and cannot reproduce them, so node's side would need emcc.
#
# Timing: a Python loop (posix_spawn + waitpid, stdout/stderr to /dev/null, stdin from the
# case's file or /dev/null), every command of every case once per round, round-robin, so load
# from other processes hits all alike; the first-run command's cache dir is removed (untimed)
# before each of its runs. Reference rows: `webc-host --version` and `node -e 0` (process
# start-up floors).
#
# Environment: WEBC_LOG, WEBC_HOST_PLUGINS, WEBC_HOST_CACHE, NODE_OPTIONS and
# NODE_EXTRA_CA_CERTS are unset; XDG_DATA_HOME points into the work dir; TZ=UTC for all.
#
# Knobs: ROUNDS (default 20) timed rounds, WARMUP (default 2) untimed rounds, CASES (space-
# separated case names; default all non-fs cases), NODE, BUILD=release|debug,
# SKIP_BUILD=1 reuses the release build.
# Usage: bench/emscripten.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bench_target="${BENCH_TARGET:-$root/target/bench-release}"
rounds="${ROUNDS:-20}"
warmup="${WARMUP:-2}"
build="${BUILD:-release}"
node="${NODE:-/usr/bin/node}"
work="$bench_target/emscripten-bench"
programs="$root/runners/emscripten/tests/programs"
mkdir -p "$work"

log() { printf '%s\n' "$*" >&2; }

case "$build" in
  release)
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
      log "building webc-host and the Emscripten plugin (release) into $bench_target"
      CARGO_TARGET_DIR="$bench_target" nice cargo build --release -p webc-host \
        -p webc-runner-emscripten-plugin >&2
    fi
    bin_dir="$bench_target/release"
    label="release"
    ;;
  debug)
    bin_dir="$root/target/debug"
    label="DEBUG build (target/debug), not release numbers"
    ;;
  *) log "error: BUILD must be release or debug"; exit 2 ;;
esac
webc_host="$bin_dir/webc-host"
[[ -x "$webc_host" && -f "$bin_dir/libwebc_runner_emscripten.so" ]] ||
  { log "error: $webc_host or libwebc_runner_emscripten.so beside it is missing"; exit 1; }
[[ -x "$node" ]] || { log "error: node not found at $node (set NODE)"; exit 1; }

# Nothing from the environment changes what webc-host loads or logs.
unset WEBC_LOG WEBC_HOST_PLUGINS WEBC_HOST_CACHE
export XDG_DATA_HOME="$work/xdg"
export TZ=UTC
# Nor node's: NODE_EXTRA_CA_CERTS alone (set on some CI images) makes node parse a certificate
# bundle at start-up, ~50 ms here, which would flatter the ratio.
unset NODE_OPTIONS NODE_EXTRA_CA_CERTS

# --- packages: one per program, `runner = "emscripten"` ----------------------------------
rm -rf "$work/projects" "$work/pkgs"
mkdir -p "$work/projects" "$work/pkgs"
progs=$(python3 -c '
import json, sys
cases = json.load(open(sys.argv[1]))["cases"]
print(" ".join(sorted({c["program"] for c in cases if not c["fs"]})))' "$programs/cases.json")
for prog in $progs; do
  project="$work/projects/$prog"
  mkdir -p "$project"
  cp "$programs/$prog.wasm" "$project/"
  cat >"$project/wasmer.toml" <<EOF
[package]
name = "bench/${prog//_/-}"
version = "0.1.0"

[[module]]
name = "$prog"
source = "$prog.wasm"

[[command]]
name = "$prog"
module = "$prog"
runner = "emscripten"
EOF
  "$webc_host" pack --force "$project" -o "$work/pkgs/$prog.webc" >/dev/null
done

# --- check, time, table ------------------------------------------------------------------
# Not under an extra `nice`: the timed processes should compete with the machine's other
# load on equal terms (run the whole script under `nice` if you like; builds above use it).
python3 - "$root" "$work" "$webc_host" "$node" "$rounds" "$warmup" "${CASES:-}" "$label" <<'PY'
import json, os, shlex, shutil, statistics, subprocess, sys, time

root, work, webc_host, node, rounds, warmup, only, label = sys.argv[1:]
rounds, warmup = int(rounds), int(warmup)
tests = os.path.join(root, "runners/emscripten/tests")
programs = os.path.join(tests, "programs")
goldens = os.path.join(tests, "goldens")
ABORTS = {"abort", "assert", "exceptions_uncaught"}  # node: 7 (its artefact); runner: trap, 134

cases = [c for c in json.load(open(os.path.join(programs, "cases.json")))["cases"] if not c["fs"]]
if only:
    wanted = only.split()
    unknown = set(wanted) - {c["name"] for c in cases}
    if unknown:
        sys.exit(f"error: CASES names unknown or fs cases: {' '.join(sorted(unknown))}")
    cases = [c for c in cases if c["name"] in wanted]

# The glue with the recording's --pre-js (copies $EMTEST_GUEST_ENV into ENV in preRun), for
# cases that set a guest environment. emcc puts --pre-js right after `var Module = …;`.
PRE_JS = """Module['preRun'] = Module['preRun'] || [];
Module['preRun'].push(function () {
  var e = process.env['EMTEST_GUEST_ENV'];
  if (e && typeof ENV != 'undefined') { var o = JSON.parse(e); for (var k in o) ENV[k] = o[k]; }
});
"""
FIRST = 'var Module=typeof Module!="undefined"?Module:{};'
env_glue = os.path.join(work, "node-env")
shutil.rmtree(env_glue, ignore_errors=True)
os.makedirs(env_glue)

base_env = dict(os.environ)
base_env["TZ"] = "UTC"
warm_cache = os.path.join(work, "cache-warm")
first_cache = os.path.join(work, "cache-first")
shutil.rmtree(warm_cache, ignore_errors=True)

class Cmd:
    def __init__(self, argv, env, stdin, prepare=None):
        self.argv, self.env, self.stdin, self.prepare = argv, env, stdin, prepare

def rm_first():
    shutil.rmtree(first_cache, ignore_errors=True)

specs = []  # (case, {kind: Cmd})
for c in cases:
    prog = c["program"]
    stdin = os.path.join(programs, c["stdin"]) if c["stdin"] else os.devnull
    env_flags = [a for k, v in c["env"].items() for a in ("--env", f"{k}={v}")]
    tail = [os.path.join(work, "pkgs", prog + ".webc")] + (["--"] + c["args"] if c["args"] else [])
    ours = lambda cache: [webc_host, "run", "--cache-dir", cache] + env_flags + tail
    js = os.path.join(programs, prog + ".js")
    node_env = base_env
    if c["env"]:
        text = open(js).read()
        if not text.startswith(FIRST):
            sys.exit(f"error: {js} does not start with {FIRST!r}; cannot add the env pre-js")
        js = os.path.join(env_glue, prog + ".js")
        if not os.path.exists(js):
            open(js, "w").write(FIRST + "\n" + PRE_JS + text[len(FIRST):])
            shutil.copy(os.path.join(programs, prog + ".wasm"), env_glue)
        node_env = dict(base_env, EMTEST_GUEST_ENV=json.dumps(c["env"]))
    specs.append((c, {
        "warm": Cmd(ours(warm_cache), base_env, stdin),
        "first": Cmd(ours(first_cache), base_env, stdin, rm_first),
        "node": Cmd([node, "--no-experimental-fetch", js] + c["args"], node_env, stdin),
    }))
refs = {
    "webc-host --version": Cmd([webc_host, "--version"], base_env, os.devnull),
    "node -e 0": Cmd([node, "--no-experimental-fetch", "-e", "0"], base_env, os.devnull),
}

def expected_exit(c, kind):
    golden = int(open(os.path.join(goldens, c["name"] + ".exit")).read())
    return 134 if kind != "node" and c["name"] in ABORTS else golden

# --- verify every command's stdout and exit status ----------------------------------------
os.chdir(work)
for c, cmds in specs:
    golden = open(os.path.join(goldens, c["name"] + ".stdout"), "rb").read()
    for kind in ("first", "warm", "node"):  # first fills nothing: it has its own cache dir
        cmd = cmds[kind]
        if cmd.prepare:
            cmd.prepare()
        if kind == "warm":  # populate the warm cache, then check the warm run
            subprocess.run(cmd.argv, env=cmd.env, stdin=open(cmd.stdin, "rb"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p = subprocess.run(cmd.argv, env=cmd.env, stdin=open(cmd.stdin, "rb"),
                           capture_output=True)
        want = expected_exit(c, kind)
        if p.stdout != golden or p.returncode != want:
            print(f"error: {c['name']} ({kind}) differs from the golden:\n"
                  f"  command: {shlex.join(cmd.argv)}\n"
                  f"  exit {p.returncode}, expected {want}\n"
                  f"  stdout   {p.stdout[:400]!r}\n  golden   {golden[:400]!r}\n"
                  f"  stderr   {p.stderr[-600:]!r}", file=sys.stderr)
            sys.exit(1)
    print(f"ok: {c['name']} (ours warm, ours first run, node: golden stdout and exit)",
          file=sys.stderr)

# --- time, round-robin --------------------------------------------------------------------
devnull = os.open(os.devnull, os.O_WRONLY)
def spawn(cmd):
    fd = os.open(cmd.stdin, os.O_RDONLY)
    try:
        pid = os.posix_spawn(cmd.argv[0], cmd.argv, cmd.env, file_actions=[
            (os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2)])
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status)

load_before = open("/proc/loadavg").read().split()[:3]
times = {(c["name"], k): [] for c, cmds in specs for k in cmds}
times.update({(r, "ref"): [] for r in refs})
print(f"timing {len(specs)} cases x 3 commands, {warmup} + {rounds} rounds (interleaved)",
      file=sys.stderr)
for rnd in range(warmup + rounds):
    jobs = [((c["name"], k), cmd, expected_exit(c, k)) for c, cmds in specs for k, cmd in cmds.items()]
    jobs += [((r, "ref"), cmd, 0) for r, cmd in refs.items()]
    for key, cmd, want in jobs:
        if cmd.prepare:
            cmd.prepare()
        t = time.perf_counter()
        code = spawn(cmd)
        dt = time.perf_counter() - t
        if code != want:
            sys.exit(f"error: {shlex.join(cmd.argv)} exited {code}, expected {want}")
        if rnd >= warmup:
            times[key].append(dt)
load_after = open("/proc/loadavg").read().split()[:3]

# --- table --------------------------------------------------------------------------------
TARGET = 0.2
med = lambda key: statistics.median(times[key])
ms = lambda x: f"{x * 1e3:.1f} ms"
def geomean(xs):
    xs = list(xs)
    return statistics.geometric_mean(xs)

heading = "" if label == "release" else f"**{label}**\n\n"
print(heading, end="")
print(f"| case ({rounds} rounds) | ours warm, median (min) | ours first run (empty cache) | "
      f"node, median (min) | ours/node warm | target ≤ {TARGET}× | first run/node |")
print("|---|---:|---:|---:|---:|---|---:|")
ratios, first_ratios, n_ok = [], [], 0
for c, _ in specs:
    n = c["name"]
    w, f, nd = med((n, "warm")), med((n, "first")), med((n, "node"))
    r, fr = w / nd, f / nd
    ratios.append(r)
    first_ratios.append(fr)
    ok = r <= TARGET
    n_ok += ok
    print(f"| {n} | {ms(w)} ({ms(min(times[(n, 'warm')]))}) | {ms(f)} | "
          f"{ms(nd)} ({ms(min(times[(n, 'node')]))}) | {r:.2f}× | {'OK' if ok else 'MISS'} | {fr:.2f}× |")
names = [c["name"] for c, _ in specs]
gw = geomean(med((n, "warm")) for n in names)
gf = geomean(med((n, "first")) for n in names)
gn = geomean(med((n, "node")) for n in names)
print(f"| **all {len(names)} (geometric mean)** | {ms(gw)} | {ms(gf)} | {ms(gn)} | "
      f"{gw / gn:.2f}× (worst {max(ratios):.2f}×) | "
      f"{'OK' if n_ok == len(names) else 'MISS'} ({n_ok}/{len(names)} cases OK) | {gf / gn:.2f}× |")
print()
print("| reference (process start-up floor) | median (min) |")
print("|---|---:|")
for r in refs:
    print(f"| `{r}` | {ms(med((r, 'ref')))} ({ms(min(times[(r, 'ref')]))}) |")
ex = next(((c, cmds) for c, cmds in specs if c["name"] == "args_env"), specs[0])
print()
print(f"Build: {label}. Timed with a Python loop (posix_spawn + waitpid), all commands "
      f"round-robin; ROUNDS={rounds}, WARMUP={warmup}; {os.cpu_count()} CPUs; load average "
      f"before: {' '.join(load_before)}, after: {' '.join(load_after)}; node "
      f"{subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip()}. "
      f"Skipped: the fs cases (files, files_bigint, denied). stdout and exit status of every "
      f"command checked against goldens/ before timing.")
print("Commands (e.g. case " + ex[0]["name"] + "; stdin from the case's file or /dev/null, TZ=UTC):")
print(f"- ours warm: `{shlex.join(ex[1]['warm'].argv)}`")
print(f"- ours first run: `{shlex.join(ex[1]['first'].argv)}` (before each run: `rm -rf {first_cache}`)")
node_cmd = shlex.join(ex[1]['node'].argv)
if ex[0]["env"]:
    node_cmd = f"EMTEST_GUEST_ENV={shlex.quote(json.dumps(ex[0]['env']))} " + node_cmd
print(f"- node: `{node_cmd}`")
PY
