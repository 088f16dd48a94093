"""Generates the models of models/ that only one ONNX backend loads, and one whose first node
consumes its input directly (what tract's optimised graph renames). Byte-reproducible (no random
data); run through models/generate-fallback.sh, which sets up the pinned venv.

    generate-fallback.py [--out DIR]   write the models into DIR (default: this script's directory)
    generate-fallback.py --check       verify the committed files are reproduced byte for byte, and
                                       that onnxruntime refuses old-opset.onnx and runs the others

- old-opset.onnx: y = x + x at opset 6 (IR 3). ONNX Runtime 1.32 has no Add kernel before opset 7
  (`Could not find an implementation for Add(6)`); tract runs it.
- sequence.onnx: y = SequenceAt(SequenceConstruct(a, b), 1), i.e. y = b. tract 0.23 lacks the
  sequence operators; ONNX Runtime runs it.
- sliced.onnx: y = x[:, 1:3], a Slice on the input as the graph's first node (declared names
  `x` and `y`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

PRODUCER = "webc-host models/generate-fallback.py"


def _model(graph: onnx.GraphProto, opset: int, ir: int, doc: str) -> onnx.ModelProto:
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name=PRODUCER,
        producer_version="1",
        doc_string=doc,
    )
    model.ir_version = ir
    onnx.checker.check_model(model, full_check=True)
    return model


def build_old_opset() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"], name="double")],
        "old_opset",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
    )
    return _model(graph, 6, 3, "y = x + x at opset 6: ONNX Runtime >= 1.2x cannot load it, tract can.")


def build_sequence() -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("SequenceConstruct", ["a", "b"], ["seq"], name="construct"),
            helper.make_node("SequenceAt", ["seq", "one"], ["y"], name="at"),
        ],
        "sequence",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [3]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        initializer=[numpy_helper.from_array(np.array(1, dtype=np.int64), name="one")],
    )
    return _model(graph, 13, 7, "y = SequenceAt(SequenceConstruct(a, b), 1): ONNX Runtime only.")


def build_sliced() -> onnx.ModelProto:
    init = [
        numpy_helper.from_array(np.array([1], dtype=np.int64), name="starts"),
        numpy_helper.from_array(np.array([3], dtype=np.int64), name="ends"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), name="axes"),
    ]
    graph = helper.make_graph(
        [helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["y"], name="cut")],
        "sliced",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        initializer=init,
    )
    return _model(graph, 13, 7, "y = x[:, 1:3]: a Slice straight on the input.")


MODELS = {
    "old-opset": build_old_opset,
    "sequence": build_sequence,
    "sliced": build_sliced,
}


def generate(out: str) -> None:
    for name, build in MODELS.items():
        with open(os.path.join(out, f"{name}.onnx"), "wb") as f:
            f.write(build().SerializeToString())


def session(path: str) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def check(committed: str) -> int:
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        for name in MODELS:
            with open(os.path.join(tmp, f"{name}.onnx"), "rb") as a:
                fresh = a.read()
            try:
                with open(os.path.join(committed, f"{name}.onnx"), "rb") as b:
                    if b.read() != fresh:
                        problems.append(f"{name}.onnx differs from a fresh build")
            except OSError as e:
                problems.append(f"{name}.onnx: {e}")
    try:
        session(os.path.join(committed, "old-opset.onnx"))
        problems.append("onnxruntime loads old-opset.onnx (it must refuse it)")
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        if "Add(6)" not in str(e):
            problems.append(f"old-opset.onnx: unexpected onnxruntime error: {e}")
    a, b = np.array([1, 2, 3], np.float32), np.array([4, 5, 6], np.float32)
    (y,) = session(os.path.join(committed, "sequence.onnx")).run(None, {"a": a, "b": b})
    if not np.array_equal(y, b):
        problems.append(f"sequence.onnx gives {y}, want {b}")
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    (y,) = session(os.path.join(committed, "sliced.onnx")).run(None, {"x": x})
    if not np.array_equal(y, x[:, 1:3]):
        problems.append(f"sliced.onnx gives {y}, want {x[:, 1:3]}")
    for p in problems:
        print(f"generate-fallback: {p}", file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        return check(os.path.dirname(os.path.abspath(__file__)))
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
