#!/usr/bin/env bash
# Rebuilds the WASI test programs and records their checksums; optionally re-records the
# conformance goldens from wasmtime.
#
#   scripts/build-wasi-tests.sh            build every *.c in the program directories into a
#                                          .wasm next to it, write SOURCES.sha256 there
#   scripts/build-wasi-tests.sh --check    only verify that SOURCES.sha256 matches (no clang)
#   scripts/build-wasi-tests.sh --goldens  build, then re-record the goldens of the cases
#                                          whose expected output comes from wasmtime
#                                          (needs WASMTIME=/path/to/wasmtime 48.0.8, default
#                                          /work/tools/wasmtime-48/bin/wasmtime or `wasmtime`)
#
# Program directories: runners/wasi/tests/programs/ (the conformance suite) and
# host/tests/wasi-programs/ (end-to-end tests), whichever exist.
# Needs Debian's clang, lld and wasi-libc:
#   apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32
# The .wasm files and SOURCES.sha256 are committed, so tests and CI need no clang; the test
# `conformance::sources_match_their_recorded_checksums` fails when a source changed without
# a rebuild (or a binary without its source).
set -euo pipefail
cd "$(dirname "$0")/.."

DIRS=()
for d in runners/wasi/tests/programs host/tests/wasi-programs; do
    [ -d "$d" ] && DIRS+=("$d")
done

CFLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -Wl,--strip-all)

mode=build
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    --goldens) mode=goldens ;;
    *) echo "usage: $0 [--check|--goldens]" >&2; exit 2 ;;
esac

if [ "$mode" = check ]; then
    for d in "${DIRS[@]}"; do
        [ -f "$d/SOURCES.sha256" ] || { echo "$d/SOURCES.sha256 missing" >&2; exit 1; }
        (cd "$d" && sha256sum --quiet -c SOURCES.sha256)
    done
    echo "checksums match"
    exit 0
fi

command -v clang >/dev/null || { echo "clang not found: apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32" >&2; exit 1; }

for d in "${DIRS[@]}"; do
    (
        cd "$d"
        shopt -s nullglob
        srcs=(*.c)
        for c in "${srcs[@]}"; do
            out="${c%.c}.wasm"
            clang "${CFLAGS[@]}" -o "$out.tmp" "$c"
            mv "$out.tmp" "$out"
            echo "built $d/$out ($(stat -c %s "$out") bytes)"
        done
        # One line per source, shared header and binary (sha256sum format, sorted by name).
        files=(*.c *.h *.wasm)
        printf '%s\n' "${files[@]}" | LC_ALL=C sort | xargs -d '\n' sha256sum -- > SOURCES.sha256
        echo "wrote $d/SOURCES.sha256"
    )
done

if [ "$mode" = goldens ]; then
    WASMTIME="${WASMTIME:-}"
    if [ -z "$WASMTIME" ]; then
        if [ -x /work/tools/wasmtime-48/bin/wasmtime ]; then
            WASMTIME=/work/tools/wasmtime-48/bin/wasmtime
        else
            WASMTIME="$(command -v wasmtime || true)"
        fi
    fi
    [ -n "$WASMTIME" ] || { echo "wasmtime not found: set WASMTIME" >&2; exit 1; }
    version="$("$WASMTIME" --version)"
    case "$version" in
        "wasmtime 48.0.8"*) ;;
        *) echo "goldens are recorded with wasmtime 48.0.8, found: $version" >&2; exit 1 ;;
    esac
    # The harness creates the same fixtures it runs our runner on, runs wasmtime on them and
    # writes runners/wasi/tests/goldens/*.out for every case marked as a wasmtime golden.
    WASMTIME="$WASMTIME" WASI_RECORD_GOLDENS=1 cargo test -p webc-runner-wasi --test conformance \
        -- --ignored --exact record_goldens --nocapture
fi
