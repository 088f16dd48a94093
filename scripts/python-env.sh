#!/usr/bin/env bash
# Creates or updates the project's Python virtualenv at target/py with the packages pinned in
# models/requirements.txt (onnx, numpy, onnxruntime and their dependencies). Idempotent: when the
# venv already matches the requirements and the interpreter, it returns at once without touching
# anything. Quiet except for errors; `-v` / `--verbose` (or VERBOSE=1) shows what it does.
#
# Needs only `python3` (PYTHON=... to choose another) with pip, and access to PyPI. If the
# interpreter lacks the venv module's pip bootstrap (Debian without python3-venv), the venv is
# created without pip and filled by the interpreter's own pip (`pip --python`).
# (WEBC_PY_NO_ENSUREPIP=1 forces that path, to test it.)
#
# Usage: scripts/python-env.sh [-v]     then use target/py/bin/python
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/py"
req="$root/models/requirements.txt"
python="${PYTHON:-python3}"
verbose="${VERBOSE:-0}"
case "${1:-}" in
    -v | --verbose) verbose=1 ;;
    "") ;;
    *) echo "usage: $0 [-v|--verbose]" >&2; exit 2 ;;
esac

log() { if [ "$verbose" = 1 ]; then echo "python-env: $*" >&2; fi; }
die() { echo "python-env: error: $*" >&2; exit 1; }

command -v "$python" >/dev/null 2>&1 || die "$python not found; install Python 3.9+ with pip"
[ -f "$req" ] || die "missing $req"

# The stamp records what the venv was built from: the requirements' text and the interpreter.
stamp_of() {
    {
        cat "$req"
        "$python" -c 'import sys; print(sys.version); print(sys.base_prefix)'
    } | sha256sum | cut -d' ' -f1
}
want="$(stamp_of)" || die "cannot run $python"
stamp="$venv/.webc-host-requirements"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "up to date: $venv"
    exit 0
fi

mkdir -p "$root/target"
# Serialise concurrent callers (tests may call install-onnxruntime.sh in parallel).
exec 9>"$root/target/py.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
    # Another caller may have finished the work while we waited.
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "up to date: $venv"
        exit 0
    fi
fi

pipq=(-q)
if [ "$verbose" = 1 ]; then pipq=(); fi

rm -f "$stamp"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 &&
    [ "$("$venv/bin/python" -c 'import sys; print(sys.version)')" = "$("$python" -c 'import sys; print(sys.version)')" ]; then
    log "updating $venv"
else
    log "creating $venv with $("$python" --version 2>&1)"
    rm -rf "$venv"
    if [ "${WEBC_PY_NO_ENSUREPIP:-0}" != 1 ] && "$python" -m venv "$venv" >/dev/null 2>&1; then
        :
    else
        rm -rf "$venv"
        log "venv with pip failed; creating it without pip"
        "$python" -m venv --without-pip "$venv" || die "python3 -m venv failed (install python3-venv)"
    fi
fi

if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install "${pipq[@]}" --disable-pip-version-check -r "$req" ||
        die "pip install into $venv failed"
else
    "$python" -m pip --version >/dev/null 2>&1 || die "$python has no pip; install python3-pip"
    "$python" -m pip --python "$venv/bin/python" install "${pipq[@]}" --disable-pip-version-check -r "$req" ||
        die "pip --python $venv/bin/python install failed (pip 22.3+ needed)"
fi

"$venv/bin/python" -c 'import onnx, numpy, onnxruntime' || die "packages do not import in $venv"
echo "$want" >"$stamp"
log "ready: $venv"
