#!/usr/bin/env bash
# Runs the webc-bench benchmarks (ours vs Wasmer's webc crate vs tar) and prints a
# markdown table from criterion's estimates. Extra arguments go to criterion, e.g. a
# filter: `bench/run.sh fixture-v3`. READER_ONLY=1 runs only the container-reader bench
# (no release build of the host and its test plugin). The first run generates a 1 GiB
# package and its tar into target/bench-data/ (~20 s, ~3 GiB of memory, ~2.2 GB of disk);
# later runs reuse them (delete target/bench-data/ to reclaim the space).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

if [[ "${SKIP_RUN:-0}" != 1 ]]; then
  if [[ "${READER_ONLY:-0}" == 1 ]]; then
    cargo bench -p webc-bench --bench reader -- --warm-up-time 1 --measurement-time 3 "$@"
  else
    # The host-overhead bench spawns the release binary and loads the echo test plugin.
    cargo build --release -p webc-host -p webc-runner-test-echo-plugin
    cargo bench -p webc-bench -- --warm-up-time 1 --measurement-time 3 "$@"
  fi
fi

python3 - "$target/criterion" <<'PY'
import json, os, sys

root = sys.argv[1]
rows = {}  # group -> {function: (median ns per element, elements)}
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        meta = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        est = json.load(f)
    elements = (meta.get("throughput") or {}).get("Elements") or 1
    ns = est["median"]["point_estimate"] / elements
    rows.setdefault(meta["group_id"], {})[meta["function_id"]] = (ns, elements)

def fmt(ns):
    if ns is None:
        return ""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"

def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else ""

def get(group, fn):
    v = rows.get(group, {}).get(fn)
    return v[0] if v else None

if not rows:
    sys.exit(f"no criterion results under {root}")

print("| benchmark | ours | webc 12.0.1 | tar | ours / webc | ours / tar |")
print("|---|---:|---:|---:|---:|---:|")
for group in sorted(rows):
    if group == "host":
        continue
    ours, webc, tar = (get(group, f) for f in ("ours", "webc", "tar"))
    per = " (per lookup)" if any(v[1] > 1 for v in rows[group].values()) else ""
    print(f"| {group}{per} | {fmt(ours)} | {fmt(webc)} | {fmt(tar)} | {ratio(ours, webc)} | {ratio(ours, tar)} |")

print()
print("Container open, side by side (issue 10 §5; median of one run, same machine, same moment):")
print()
print("| container open | ours | webc 12.0.1 | ours / webc | target | |")
print("|---|---:|---:|---:|---:|---|")
for group, target in [(f"fixture-v{v}/open+read-small", 0.5) for v in ("1", "2", "3")] + [
    ("big-v3/open-file", 1.0),
    ("big-v3/first-lookup", 1.0),
]:
    o, w = get(group, "ours"), get(group, "webc")
    if o and w:
        ok = "OK" if o <= target * w else "MISS"
        print(f"| {group} | {fmt(o)} | {fmt(w)} | {o / w:.2f}× | <= {target:.2f}× | {ok} |")

print()
print("Targets:")
for v in ("1", "2", "3"):
    for op in ("open+read-small", "open+read-big"):
        g = f"fixture-v{v}/{op}"
        o, w = get(g, "ours"), get(g, "webc")
        if o and w:
            ok = "OK " if o <= 0.5 * w else "MISS"
            print(f"- [{ok}] {g}: ours/webc = {o / w:.2f} (target <= 0.50)")
for big, small in (("big-v3/read-small", "fixture-v3/read-small"),
                   ("big-v3/lookup-random", "fixture-v3/lookup-all")):
    b, s = get(big, "ours"), get(small, "ours")
    if b and s:
        ok = "OK " if b <= 1.5 * s else "MISS"
        print(f"- [{ok}] repeated lookups {big} vs {small}: {fmt(b)} vs {fmt(s)} = {b / s:.2f}× (target <= 1.50)")
host = rows.get("host", {})
if host:
    print()
    print("| host overhead (open + resolve + load plugin + call an empty runner) | time | target |")
    print("|---|---:|---:|")
    for fn in sorted(host):
        ns = host[fn][0]
        print(f"| {fn} | {fmt(ns)} | {'OK' if ns <= 3e6 else 'MISS'} (<= 3 ms) |")
first = get("big-v3/first-lookup", "ours")
if first:
    print(f"- [info] first lookup after open in the 1 GiB package (cold tables): {fmt(first)} (webc: {fmt(get('big-v3/first-lookup', 'webc'))})")
PY
