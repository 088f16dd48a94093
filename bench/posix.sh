#!/usr/bin/env bash
# The POSIX runner against bubblewrap and a plain exec (issue 12, "Benchmark"): whole-process
# time of a static hello (`probe hello` from runners/posix/tests/programs/, a static musl
# binary printing one line),
# (1) `webc-host run --cache-dir C pkg.webc -- hello` warm (volumes already materialised in C,
#     C kept between runs), for the package of `webc-host pack --posix probe` (no volume) and
#     for packages that also carry a read-only volume at /data (a tiny one, 16 MiB, 64 MiB);
# (2) the same with C removed (untimed) before each run: the first run, which materialises the
#     volumes into C (and rebuilds the plugin index); first-run minus warm per MiB of volume;
# (3) `bwrap --unshare-all --die-with-parent --ro-bind probe /probe --ro-bind vol /data
#     --proc /proc --dev /dev --tmpfs /tmp /probe hello` (Debian bubblewrap, the isolation of
#     issue 12), with the tiny volume extracted to a directory (bwrap needs paths), and without
#     the /data bind for the volume-less package;
# (4) a plain exec of the extracted probe binary, `probe hello` (no sandbox).
# Prints a markdown table with ratios to bwrap and the target of issue 12 (warm <= 1.0x bwrap,
# like for like: the tiny-volume package against bwrap with the /data bind). Not run in CI.
#
# What it builds and where (nothing goes into the shared dev target directory):
# - webc-host and the POSIX plugin with `--release` into $BENCH_TARGET (default
#   target/bench-release, shared with the other bench scripts; `release/webc-host` finds
#   `release/libwebc_runner_posix.so` beside itself), under `nice -n 19`. BUILD=debug instead
#   uses the existing debug binaries in target/debug (builds nothing; the table says "DEBUG
#   build, not release numbers") — for checking the script only.
# - under $BENCH_TARGET/posix-bench/: probe.webc (`webc-host pack --posix`), probe-vol{0,16,64}
#   .webc (`webc-host pack` of a generated wasmer.toml: module kind "elf", command runner
#   "posix", `[fs] "/data" = "data"`; data/ holds two small text files, or 4 files of random
#   bytes totalling 16 or 64 MiB), and `webc-host extract` copies of probe.webc and
#   probe-vol0.webc (the binary for bwrap and the plain exec, the volume for bwrap's /data).
#
# Every command's stdout is compared byte for byte with "hello from a native program\n", and
# its exit status with 0, before anything is timed. Any mismatch stops the script.
#
# Timing: a Python loop (posix_spawn + waitpid, stdin from /dev/null, stdout/stderr to
# /dev/null), every command once per round, round-robin, so load from other processes hits all
# alike; a first-run command's cache dir is removed (untimed) before each of its runs.
# Two more rows run the warm tiny-volume command and its bwrap counterpart after 0.2 s of
# untimed idle (they run first in each round, bwrap then ours, so all other runs of ours follow
# a run of ours directly): the per-run pids cgroup is joined by writing cgroup.procs, which on
# cgroup v1 can wait for an RCU grace period (5-15 ms here) when no cgroup migration happened
# just before; back to back, as in the round-robin rows, that cost mostly hides. A single CLI
# invocation after a pause is the idle case.
# Reference rows: `webc-host --version` (process start-up floor of the host binary) and
# `webc-host run --explain` on the tiny-volume package (start-up, plugin index and load, the
# runner's availability check — it forks a child that unshares namespaces and tries landlock —
# and the pids-cgroup check, package open and command resolution; no sandbox, nothing runs).
#
# Environment: WEBC_LOG, WEBC_HOST_PLUGINS and WEBC_HOST_CACHE are unset; XDG_DATA_HOME points
# into the work dir.
#
# Knobs: ROUNDS (default 20) timed rounds, WARMUP (default 2) untimed rounds, BWRAP (default
# /usr/bin/bwrap), BUILD=release|debug, SKIP_BUILD=1 reuses the release build, BENCH_TARGET.
# Usage: bench/posix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bench_target="${BENCH_TARGET:-$root/target/bench-release}"
rounds="${ROUNDS:-20}"
warmup="${WARMUP:-2}"
build="${BUILD:-release}"
bwrap="${BWRAP:-/usr/bin/bwrap}"
work="$bench_target/posix-bench"
probe_src="$root/runners/posix/tests/programs/probe"
mkdir -p "$work"

log() { printf '%s\n' "$*" >&2; }

case "$build" in
  release)
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
      log "building webc-host and the POSIX plugin (release) into $bench_target"
      CARGO_TARGET_DIR="$bench_target" nice -n 19 cargo build --release -p webc-host \
        -p webc-runner-posix-plugin >&2
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
[[ -x "$webc_host" && -f "$bin_dir/libwebc_runner_posix.so" ]] ||
  { log "error: $webc_host or libwebc_runner_posix.so beside it is missing"; exit 1; }
# The peer is installed like the other bench scripts install theirs (Debian's bubblewrap).
if [[ ! -x "$bwrap" && "$bwrap" == /usr/bin/bwrap && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  log "installing bubblewrap (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >&2; }
fi
[[ -x "$bwrap" ]] || { log "error: bwrap not found at $bwrap (set BWRAP; Debian: apt-get install bubblewrap)"; exit 1; }
[[ -x "$probe_src" ]] || { log "error: $probe_src is missing"; exit 1; }

# Nothing from the environment changes what webc-host loads or logs.
unset WEBC_LOG WEBC_HOST_PLUGINS WEBC_HOST_CACHE
export XDG_DATA_HOME="$work/xdg"

# --- packages ----------------------------------------------------------------------------
rm -rf "$work/projects" "$work/pkgs" "$work/extract" "$work"/cache-*
mkdir -p "$work/projects" "$work/pkgs" "$work/extract"
"$webc_host" -q pack --posix "$probe_src" -o "$work/pkgs/probe.webc" >/dev/null
for mib in 0 16 64; do
  project="$work/projects/vol$mib"
  mkdir -p "$project/data"
  cp "$probe_src" "$project/probe"
  if [[ $mib == 0 ]]; then  # the conformance tests' volume: two small files, one nested
    mkdir -p "$project/data/sub"
    printf 'hello from a volume\n' >"$project/data/hello.txt"
    printf 'deep\n' >"$project/data/sub/deep.txt"
  else
    for i in 1 2 3 4; do
      head -c $((mib * 1024 * 1024 / 4)) /dev/urandom >"$project/data/blob$i.bin"
    done
  fi
  cat >"$project/wasmer.toml" <<EOF
[package]
name = "bench/probe-vol$mib"
version = "0.1.0"

[[module]]
name = "probe"
source = "probe"
kind = "elf"
abi = "none"

[[command]]
name = "probe"
module = "probe"
runner = "posix"

[fs]
"/data" = "data"
EOF
  "$webc_host" -q pack "$project" -o "$work/pkgs/probe-vol$mib.webc" >/dev/null
done
# bwrap and the plain exec need paths: the atom, and the tiny volume for bwrap's /data.
"$webc_host" -q extract "$work/pkgs/probe.webc" "$work/extract/probe" >/dev/null
"$webc_host" -q extract "$work/pkgs/probe-vol0.webc" "$work/extract/vol0" >/dev/null
probe_bin="$work/extract/probe/atoms/probe"
vol0_dir="$work/extract/vol0/volumes/data"
[[ -f "$probe_bin" ]] || { log "error: extract did not write $probe_bin"; exit 1; }
[[ -f "$vol0_dir/hello.txt" ]] || { log "error: extract did not write $vol0_dir/hello.txt"; exit 1; }
chmod +x "$probe_bin"

# --- check, time, table ------------------------------------------------------------------
# Not under an extra `nice`: the timed processes should compete with the machine's other
# load on equal terms (run the whole script under `nice` if you like; the build above uses it).
python3 - "$work" "$webc_host" "$bwrap" "$probe_bin" "$vol0_dir" "$rounds" "$warmup" "$label" <<'PY'
import os, shlex, shutil, statistics, subprocess, sys, time

work, webc_host, bwrap, probe_bin, vol0_dir, rounds, warmup, label = sys.argv[1:]
rounds, warmup = int(rounds), int(warmup)
EXPECTED = b"hello from a native program\n"
env = dict(os.environ)
pkg = lambda name: os.path.join(work, "pkgs", name + ".webc")

IDLE = 0.2  # s of idle (untimed) before the "after idle" rows
class Cmd:
    def __init__(self, key, argv, cache=None, first=False, check=True, idle=False):
        self.key, self.argv, self.cache, self.first, self.check = key, argv, cache, first, check
        self.idle = idle
    def prepare(self):
        if self.first:
            shutil.rmtree(self.cache, ignore_errors=True)
        if self.idle:
            time.sleep(IDLE)

def ours(key, name, first, idle=False):
    cache = os.path.join(work, f"cache-{'first' if first else 'warm'}-{name}")
    return Cmd(key, [webc_host, "run", "--cache-dir", cache, pkg(name), "--", "hello"],
               cache, first, idle=idle)

bw = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", probe_bin, "/probe"]
bw_tail = ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/probe", "hello"]
VOLS = {"probe-vol0": 0, "probe-vol16": 16, "probe-vol64": 64}  # MiB of volume (0: ~25 bytes)
cmds = [
    ours("warm, no volume", "probe", False),
    ours("warm, tiny /data volume", "probe-vol0", False),
    ours("warm, 16 MiB volume", "probe-vol16", False),
    ours("warm, 64 MiB volume", "probe-vol64", False),
    ours("first run, no volume", "probe", True),
    ours("first run, tiny /data volume", "probe-vol0", True),
    ours("first run, 16 MiB volume", "probe-vol16", True),
    ours("first run, 64 MiB volume", "probe-vol64", True),
    Cmd("bwrap, no /data", bw + bw_tail),
    Cmd("bwrap, ro /data", bw + ["--ro-bind", vol0_dir, "/data"] + bw_tail),
    ours("warm, tiny /data volume, after 0.2 s idle", "probe-vol0", False, idle=True),
    Cmd("bwrap, ro /data, after 0.2 s idle",
        bw + ["--ro-bind", vol0_dir, "/data"] + bw_tail, idle=True),
    Cmd("plain exec", [probe_bin, "hello"]),
    Cmd("webc-host --version", [webc_host, "--version"], check=False),
    Cmd("webc-host run --explain (no sandbox)",
        [webc_host, "run", "--explain", "--cache-dir",
         os.path.join(work, "cache-warm-probe-vol0"), pkg("probe-vol0"), "--", "hello"],
        check=False),
]
by_key = {c.key: c for c in cmds}
# Run order in a round: the two idle rows first (bwrap, then ours), so every other run of ours
# directly follows a run of ours (no idle gap before it); the table keeps the order above.
run_order = sorted((c for c in cmds if c.idle), key=lambda c: c.key.startswith("warm"))
run_order += [c for c in cmds if not c.idle]

# --- verify every command's stdout and exit status ----------------------------------------
os.chdir(work)
for c in cmds:
    c.prepare()
    if c.cache and not c.first and not c.idle:  # populate the warm cache (materialise the volume), then check
        subprocess.run(c.argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    p = subprocess.run(c.argv, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    if p.returncode != 0 or (c.check and p.stdout != EXPECTED):
        print(f"error: {c.key} differs from the expected output:\n"
              f"  command: {shlex.join(c.argv)}\n  exit {p.returncode}, expected 0\n"
              f"  stdout   {p.stdout[:400]!r}\n  expected {EXPECTED!r}\n"
              f"  stderr   {p.stderr[-600:]!r}", file=sys.stderr)
        sys.exit(1)
print(f"ok: {len(cmds)} commands (stdout and exit status checked)", file=sys.stderr)
# The warm caches hold each volume materialised once: check they do, so "warm" means warm.
for name, mib in VOLS.items():
    vols = os.path.join(by_key[f"warm, {'tiny /data volume' if mib == 0 else f'{mib} MiB volume'}"].cache, "volumes")
    if not os.path.isdir(vols) or not os.listdir(vols):
        sys.exit(f"error: {vols} is missing or empty after a run of {name}: is the volume materialised?")

# --- time, round-robin --------------------------------------------------------------------
devnull = os.open(os.devnull, os.O_RDWR)
def spawn(c):
    pid = os.posix_spawn(c.argv[0], c.argv, env, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
        (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

load_before = open("/proc/loadavg").read().split()[:3]
times = {c.key: [] for c in cmds}
print(f"timing {len(cmds)} commands, {warmup} + {rounds} rounds (interleaved)", file=sys.stderr)
for rnd in range(warmup + rounds):
    for c in run_order:
        c.prepare()
        t = time.perf_counter()
        code = spawn(c)
        dt = time.perf_counter() - t
        if code != 0:
            sys.exit(f"error: {shlex.join(c.argv)} exited {code}, expected 0")
        if rnd >= warmup:
            times[c.key].append(dt)
load_after = open("/proc/loadavg").read().split()[:3]

# --- table --------------------------------------------------------------------------------
med = lambda k: statistics.median(times[k])
mean = lambda k: statistics.fmean(times[k])
ms = lambda x: f"{x * 1e3:.2f}"
ref = med("bwrap, ro /data")
ref_plain = med("bwrap, no /data")

heading = "" if label == "release" else f"**{label}**\n\n"
print(heading, end="")
print(f"| command ({rounds} rounds) | median ms | mean ms | min ms | ratio to bwrap (median) |")
print("|---|---:|---:|---:|---:|")
for c in cmds:
    k = c.key
    # the volume-less rows against bwrap without /data, the rest against bwrap with /data
    base = ref_plain if k.endswith("no volume") or k == "bwrap, no /data" else ref
    if c.idle:
        base = med("bwrap, ro /data, after 0.2 s idle")
    print(f"| {k} | {ms(med(k))} | {ms(mean(k))} | {ms(min(times[k]))} | {med(k) / base:.2f}× |")
print()
print("Ratios: rows without a volume (and bwrap without /data) against `bwrap, no /data`; the "
      "\"after 0.2 s idle\" rows (0.2 s of untimed sleep just before the run: no other "
      "process of the bench ran in between) against bwrap after the same idle; all others "
      "against `bwrap, ro /data`.")
print()
def target(ours_key, bw_key):
    r = med(ours_key) / med(bw_key)
    verdict = "met" if r <= 1.0 else "missed"
    by = (1.0 - r) if r <= 1.0 else (r - 1.0)
    return f"target: warm <= 1.0x bwrap: {verdict} by {by * 100:.0f}% ({ours_key} {r:.2f}× {bw_key})"
print(target("warm, tiny /data volume", "bwrap, ro /data"))
print(target("warm, no volume", "bwrap, no /data"))
print(target("warm, tiny /data volume, after 0.2 s idle", "bwrap, ro /data, after 0.2 s idle"))
print()
print("First-run cost (first run minus warm, medians):")
for name, mib, label_ in (("probe", None, "no volume"), ("probe-vol0", 0, "tiny /data volume"),
                          ("probe-vol16", 16, "16 MiB volume"), ("probe-vol64", 64, "64 MiB volume")):
    d = med(f"first run, {label_}") - med(f"warm, {label_}")
    per = f", {d * 1e3 / mib:.2f} ms/MiB" if mib else ""
    print(f"- {label_}: +{ms(d)} ms{per}")
slope = ((med("first run, 64 MiB volume") - med("first run, 16 MiB volume")) -
         (med("warm, 64 MiB volume") - med("warm, 16 MiB volume"))) / 48
print(f"- marginal (64 MiB minus 16 MiB, over 48 MiB): {slope * 1e3:.2f} ms/MiB "
      f"({1 / slope / 1024 if slope > 0 else float('inf'):.2f} GiB/s)")
print()
print(f"Build: {label}. Timed with a Python loop (posix_spawn + waitpid), all commands "
      f"round-robin; ROUNDS={rounds}, WARMUP={warmup}; {os.cpu_count()} CPUs; load average "
      f"before: {' '.join(load_before)}, after: {' '.join(load_after)}; kernel "
      f"{os.uname().release}; "
      f"{subprocess.run([bwrap, '--version'], capture_output=True, text=True).stdout.strip()}. "
      f"stdout and exit status of every command checked before timing.")
print("Commands:")
for k in ("warm, tiny /data volume", "first run, 64 MiB volume", "bwrap, ro /data", "plain exec"):
    c = by_key[k]
    extra = f" (before each run: `rm -rf {c.cache}`)" if c.first else ""
    print(f"- {k}: `{shlex.join(c.argv)}`{extra}")
PY
