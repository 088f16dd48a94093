#!/usr/bin/env bash
# Regenerates models/old-opset.onnx, sequence.onnx and sliced.onnx (see generate-fallback.py) in
# the pinned venv of scripts/python-env.sh.
#   models/generate-fallback.sh           rewrite them
#   models/generate-fallback.sh --check   verify they are reproduced byte for byte and that
#                                         onnxruntime refuses / runs them as documented
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/python-env.sh"
exec "$root/target/py/bin/python" "$root/models/generate-fallback.py" "$@"
