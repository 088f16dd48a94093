#!/usr/bin/env bash
# Builds the Emscripten runner's test programs (JS-glue mode: prog.js + prog.wasm) with Debian's
# emcc 3.1.6, records their checksums, and records node's behaviour on every case as goldens.
#
#   scripts/build-emscripten-tests.sh           build all programs, write SHA256SUMS, record goldens
#   scripts/build-emscripten-tests.sh --build   build and write SHA256SUMS only
#   scripts/build-emscripten-tests.sh --check   only verify SHA256SUMS (needs neither emcc nor node)
#
# Inputs and outputs, all under runners/emscripten/tests/:
#   programs/*.c, *.cpp         sources; the PROGRAMS table below holds each one's exact emcc command
#   programs/<p>.js, <p>.wasm   committed build outputs (default mode, no NODERAWFS)
#   programs/cases.json         the cases: name, program, args, guest env, stdin file, fs, exit
#   programs/fixtures/          the file layout of the `fs` cases (data/, ro/, work/)
#   programs/SHA256SUMS         sha256 of sources, fixtures, cases.json and outputs
#   goldens/<case>.stdout/.exit what `node --no-experimental-fetch` printed and returned
#   goldens/<case>.stderr       node's stderr, for reference only (temp paths replaced by <tmp>,
#                               lines clipped to 200 characters)
#
# How node is run for a case (the recording variant, built in a temp dir, never committed):
#   * every program is rebuilt with the same flags plus `--pre-js` of a 5-line file that copies
#     the JSON object in $EMTEST_GUEST_ENV into emscripten's ENV before main (emscripten's glue
#     does not pass node's own environment to the guest); the script checks with `cmp` that the
#     recording variant's .wasm is byte-identical to the committed one and says so;
#   * `fs` cases are built with -sNODERAWFS=1 (guest file calls go to the real file system) and run
#     with cwd = a temp dir holding a copy of fixtures/, inside `unshare -rm` where data/ and ro/
#     are read-only bind mounts (so writes there fail with EROFS as they would in a read-only mount);
#   * node's own environment is only PATH and TZ=UTC (emscripten's _tzset_js/_localtime_js read
#     the JS Date of the host, not the guest's TZ);
#   * stdin is the case's file, or /dev/null.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PROG=runners/emscripten/tests/programs
GOLD=runners/emscripten/tests/goldens

# name | source | extra emcc flags (all get: -O2 -Wall). The exact command per program is
#   emcc -O2 -Wall <flags> <source> -o <name>.js      (em++ for .cpp), run in $PROG.
PROGRAMS=(
    "hello         | hello.c          |"
    "hello_cpp     | hello_cpp.cpp    |"
    "args_env      | args_env.c       |"
    "stdin_echo    | stdin_echo.c     |"
    "files         | files.c          |"
    "files_bigint  | files.c          | -sWASM_BIGINT"
    "malloc_grow   | malloc_grow.c    | -sALLOW_MEMORY_GROWTH=1"
    "time_strftime | time_strftime.c  |"
    "exit_code     | exit_code.c      |"
    "exit_code_rt  | exit_code.c      | -sEXIT_RUNTIME=1"
    "abort         | abort.c          |"
    "assert        | assert.c         |"
    "exceptions    | exceptions.cpp   | -fexceptions"
    "setjmp        | setjmp.c         |"
    "denied        | denied.c         |"
)
# Programs whose cases touch files: their recording variant uses -sNODERAWFS=1.
FS_PROGRAMS=" files files_bigint denied "

mode=all
case "${1:-}" in
    "") ;;
    --build) mode=build ;;
    --check) mode=check ;;
    *) echo "usage: $0 [--build|--check]" >&2; exit 2 ;;
esac

if [ "$mode" = check ]; then
    (cd "$PROG" && sha256sum --quiet -c SHA256SUMS)
    echo "checksums match"
    exit 0
fi

if ! command -v emcc >/dev/null; then
    echo "emcc not found: installing Debian's emscripten" >&2
    apt-get install -y emscripten >&2
fi
export NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs   # emcc's acorn-optimizer needs 'acorn'
unset EM_CACHE                                         # Debian's frozen system cache

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/node"
cat > "$TMP/guest-env.js" <<'EOF'
Module['preRun'] = Module['preRun'] || [];
Module['preRun'].push(function () {
  var e = process.env['EMTEST_GUEST_ENV'];
  if (e && typeof ENV != 'undefined') { var o = JSON.parse(e); for (var k in o) ENV[k] = o[k]; }
});
EOF

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

for row in "${PROGRAMS[@]}"; do
    IFS='|' read -r name src flags <<<"$row"
    name=$(trim "$name"); src=$(trim "$src"); flags=$(trim "$flags")
    cc=emcc; [[ $src == *.cpp ]] && cc=em++
    # shellcheck disable=SC2086
    (cd "$PROG" && $cc -O2 -Wall $flags "$src" -o "$name.js")
    echo "built $PROG/$name.js + $name.wasm ($(stat -c %s "$PROG/$name.wasm") bytes): $cc -O2 -Wall $flags $src -o $name.js"
    [ "$mode" = build ] && continue
    extra=(--pre-js "$TMP/guest-env.js")
    [[ $FS_PROGRAMS == *" $name "* ]] && extra+=(-sNODERAWFS=1)
    # shellcheck disable=SC2086
    (cd "$PROG" && $cc -O2 -Wall $flags "${extra[@]}" "$src" -o "$TMP/node/$name.js")
    if cmp -s "$PROG/$name.wasm" "$TMP/node/$name.wasm"; then
        echo "  recording variant (${extra[*]/$TMP\//}): .wasm identical"
    else
        echo "  recording variant (${extra[*]/$TMP\//}): .wasm DIFFERS from the committed one"
    fi
done

# Checksums: sources, fixtures, cases, stdin files and build outputs (sorted, relative to $PROG).
(cd "$PROG" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum > SHA256SUMS)
echo "wrote $PROG/SHA256SUMS"
[ "$mode" = build ] && exit 0

mkdir -p "$GOLD"
cat > "$TMP/record.js" <<'EOF'
// Runs every case of cases.json under node and writes the goldens.
const fs = require('fs'), path = require('path'), cp = require('child_process');
const [prog, gold, tmp] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(path.join(prog, 'cases.json'), 'utf8')).cases;
let bad = 0;
const names = new Set();
for (const c of cases) {
  if (names.has(c.name)) { console.error(`duplicate case ${c.name}`); bad++; }
  names.add(c.name);
  const js = path.join(tmp, 'node', c.program + '.js');
  const env = { PATH: process.env.PATH, TZ: 'UTC', EMTEST_GUEST_ENV: JSON.stringify(c.env || {}) };
  const stdinFd = fs.openSync(c.stdin ? path.join(prog, c.stdin) : '/dev/null', 'r');
  let cmd, args, cwd = prog;
  if (c.fs) {
    const dir = path.join(tmp, 'fs-' + c.name);
    const root = path.join(dir, 'root');
    fs.mkdirSync(dir);
    cp.execFileSync('cp', ['-r', path.join(prog, 'fixtures'), root]);
    const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = [
      'set -e', `cd ${q(root)}`,
      'for d in data ro; do mount --bind "$d" "$d"; mount -o remount,bind,ro "$d"; done',
      'exec node --no-experimental-fetch ' + [js, ...c.args].map(q).join(' '),
    ].join('\n');
    cmd = 'unshare'; args = ['-rm', 'sh', '-c', script]; cwd = root;
  } else {
    cmd = 'node'; args = ['--no-experimental-fetch', js, ...c.args];
  }
  const r = cp.spawnSync(cmd, args, { cwd, env, stdio: [stdinFd, 'pipe', 'pipe'] });
  fs.closeSync(stdinFd);
  const code = r.status === null ? 128 + (require('os').constants.signals[r.signal] || 0) : r.status;
  // node echoes the whole (one-line, minified) glue source on an uncaught error: clip long lines
  const stderr = r.stderr.toString('latin1').split(tmp).join('<tmp>')
    .split('\n').map((l) => l.length > 200 ? l.slice(0, 200) + ' [...]' : l).join('\n');
  fs.writeFileSync(path.join(gold, c.name + '.stdout'), r.stdout);
  fs.writeFileSync(path.join(gold, c.name + '.exit'), code + '\n');
  fs.writeFileSync(path.join(gold, c.name + '.stderr'), Buffer.from(stderr, 'latin1'));
  const ok = code === c.exit;
  if (!ok) bad++;
  console.log(`${ok ? 'ok  ' : 'EXIT'} ${c.name}: exit ${code}${ok ? '' : ` (cases.json says ${c.exit})`}, ` +
              `${r.stdout.length} bytes stdout, ${r.stderr.length} bytes stderr`);
}
for (const f of fs.readdirSync(gold)) {
  const base = f.replace(/\.(stdout|stderr|exit)$/, '');
  if (!names.has(base)) { fs.unlinkSync(path.join(gold, f)); console.log(`removed stale ${f}`); }
}
if (bad) { console.error(`${bad} case(s) disagree with cases.json`); process.exit(1); }
EOF
node "$TMP/record.js" "$ROOT/$PROG" "$ROOT/$GOLD" "$TMP"
echo "goldens written to $GOLD"
