#!/usr/bin/env bash
# Makes ONNX Runtime's shared library available at a stable path for the ONNX runner's `ort`
# backend (ort's load-dynamic mode dlopens it at run time), and prints that path on stdout:
#
#     target/onnxruntime/libonnxruntime.so   (absolute path printed)
#
# The library comes from the `onnxruntime` PyPI wheel (pinned in models/requirements.txt), installed
# into the project venv target/py by scripts/python-env.sh; the stable path is a symlink to the
# wheel's onnxruntime/capi/libonnxruntime.so.1.* (relative, so the tree may move; only that versioned name ships in the wheel).
# Idempotent and quick on a second run (nothing is reinstalled). Needs python3 + pip + PyPI.
#
# Override: if ORT_DYLIB_PATH is set, nothing is installed; the script checks that the file exists
# and prints it (the runner itself also honours ORT_DYLIB_PATH before the stable path).
#
# Usage: scripts/install-onnxruntime.sh [-v]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
die() { echo "install-onnxruntime: error: $*" >&2; exit 1; }

if [ -n "${ORT_DYLIB_PATH:-}" ]; then
    [ -f "$ORT_DYLIB_PATH" ] || die "ORT_DYLIB_PATH=$ORT_DYLIB_PATH is not a file"
    echo "$ORT_DYLIB_PATH"
    exit 0
fi

"$root/scripts/python-env.sh" "$@"

dest_dir="$root/target/onnxruntime"
dest="$dest_dir/libonnxruntime.so"
shopt -s nullglob
libs=("$root"/target/py/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1.*)
shopt -u nullglob
[ "${#libs[@]}" -eq 1 ] ||
    die "expected one libonnxruntime.so.1.* in target/py's onnxruntime wheel, found ${#libs[@]}"
# A relative link keeps working if the work tree is moved.
lib="../${libs[0]#"$root/target/"}"

mkdir -p "$dest_dir"
if [ "$(readlink "$dest" 2>/dev/null || true)" != "$lib" ]; then
    # Replace atomically so a concurrent reader never sees a missing or half-made link.
    ln -sfn "$lib" "$dest.tmp.$$"
    mv -fT "$dest.tmp.$$" "$dest"
fi
[ -r "$dest" ] || die "$dest is not readable"
echo "$dest"
