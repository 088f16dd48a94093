#!/usr/bin/env bash
# Regenerates everything in models/ (ONNX models, sample inputs, reference outputs from python
# onnxruntime, manifest.json) from fixed seeds, in the pinned venv of scripts/python-env.sh.
#   models/generate.sh           rewrite the files
#   models/generate.sh --check   verify the committed files are reproduced byte for byte and that
#                                onnxruntime's outputs match the committed references
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/python-env.sh"
exec "$root/target/py/bin/python" "$root/models/generate.py" "$@"
