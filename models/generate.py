"""Generates the ONNX test models of models/, their sample inputs and reference outputs.

Everything is derived from fixed seeds, so a second run writes the same bytes. Reference outputs are
computed with python onnxruntime (one thread). Run through models/generate.sh, which sets up the
pinned venv (scripts/python-env.sh).

    generate.py [--out DIR]   write everything into DIR (default: this script's directory)
    generate.py --check       regenerate into a temporary directory and verify that the committed
                              models, inputs and manifest are reproduced byte for byte, that the
                              committed reference outputs agree with a fresh onnxruntime run (within
                              the stated tolerance; bytes differ only across CPUs), and that the
                              committed sample inputs, read back with the infer protocol's rules,
                              give the committed references under onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7  # the IR version of opset 13 (ONNX 1.8); tract 0.23.9 and onnxruntime 1.32 load it
PRODUCER = "webc-host models/generate.py"

# Tolerances the conformance tests use when comparing a backend's float outputs with the references
# (|got - want| <= atol + rtol * |want|, NaN equals NaN, infinities exactly). Integers and bools exact.
TOLERANCE = {
    "mlp": {"rtol": 1e-5, "atol": 1e-6},
    "cnn": {"rtol": 1e-4, "atol": 1e-5},
    "masked": {"rtol": 0.0, "atol": 0.0},
    "pair": {"rtol": 1e-6, "atol": 1e-6},
    "dtypes": {"rtol": 0.0, "atol": 0.0},
}

NP_OF_ONNX = {
    TensorProto.FLOAT: np.float32,
    TensorProto.DOUBLE: np.float64,
    TensorProto.FLOAT16: np.float16,
    TensorProto.INT64: np.int64,
    TensorProto.INT32: np.int32,
    TensorProto.INT8: np.int8,
    TensorProto.UINT8: np.uint8,
    TensorProto.BOOL: np.bool_,
}


# ---------------------------------------------------------------------------------------------
# Models


def _finish(graph: onnx.GraphProto, doc: str) -> onnx.ModelProto:
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version="1",
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def _init(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array, name=name)


def build_mlp() -> onnx.ModelProto:
    """x[N,4] float32 -> Gemm(16) -> Relu -> Gemm(3) -> Softmax(axis 1) -> probs[N,3]."""
    rng = np.random.default_rng(20260501)
    w1 = (rng.standard_normal((4, 16)) * 0.7).astype(np.float32)
    b1 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((16, 3)) * 0.5).astype(np.float32)
    b2 = (rng.standard_normal(3) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="dense1"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["logits"], name="dense2"),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 3])],
        initializer=[_init("w1", w1), _init("b1", b1), _init("w2", w2), _init("b2", b2)],
    )
    return _finish(graph, "MLP 4 -> 16 (ReLU) -> 3, softmax probabilities; dynamic batch N.")


def build_cnn() -> onnx.ModelProto:
    """image[1,1,28,28] -> 2 x (Conv 3x3 pad 1, Relu, MaxPool 2) -> Flatten -> Gemm -> logits[1,10]."""
    rng = np.random.default_rng(20260502)
    c1 = (rng.standard_normal((4, 1, 3, 3)) * 0.5).astype(np.float32)
    c1b = (rng.standard_normal(4) * 0.05).astype(np.float32)
    c2 = (rng.standard_normal((8, 4, 3, 3)) * 0.25).astype(np.float32)
    c2b = (rng.standard_normal(8) * 0.05).astype(np.float32)
    fw = (rng.standard_normal((8 * 7 * 7, 10)) * 0.08).astype(np.float32)
    fb = (rng.standard_normal(10) * 0.05).astype(np.float32)
    conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 1]}
    pool = {"kernel_shape": [2, 2], "strides": [2, 2]}
    nodes = [
        helper.make_node("Conv", ["image", "c1", "c1b"], ["y1"], name="conv1", **conv),
        helper.make_node("Relu", ["y1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", **pool),
        helper.make_node("Conv", ["p1", "c2", "c2b"], ["y2"], name="conv2", **conv),
        helper.make_node("Relu", ["y2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", **pool),
        helper.make_node("Flatten", ["p2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fw", "fb"], ["logits"], name="dense"),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        initializer=[
            _init("c1", c1),
            _init("c1b", c1b),
            _init("c2", c2),
            _init("c2b", c2b),
            _init("fw", fw),
            _init("fb", fb),
        ],
    )
    return _finish(graph, "Small CNN: 1x1x28x28 image -> 10 logits (random weights).")


def build_masked() -> onnx.ModelProto:
    """int64 ids and a bool mask in; int64 and bool outputs (Add, Where, Cast, ReduceSum, Greater, And)."""
    nodes = [
        helper.make_node("Add", ["ids", "offset"], ["shifted"], name="add_offset"),
        helper.make_node("Where", ["mask", "shifted", "fill"], ["masked_ids"], name="where"),
        helper.make_node("Cast", ["mask"], ["mask_i64"], name="cast", to=TensorProto.INT64),
        helper.make_node("ReduceSum", ["mask_i64", "axis1"], ["count"], name="count", keepdims=0),
        helper.make_node("Greater", ["ids", "threshold"], ["big"], name="greater"),
        helper.make_node("And", ["big", "mask"], ["flagged"], name="and"),
    ]
    graph = helper.make_graph(
        nodes,
        "masked",
        [
            helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", "T"]),
            helper.make_tensor_value_info("mask", TensorProto.BOOL, ["N", "T"]),
        ],
        [
            helper.make_tensor_value_info("masked_ids", TensorProto.INT64, ["N", "T"]),
            helper.make_tensor_value_info("count", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("flagged", TensorProto.BOOL, ["N", "T"]),
        ],
        initializer=[
            _init("offset", np.array(100, dtype=np.int64)),
            _init("fill", np.array(-1, dtype=np.int64)),
            _init("axis1", np.array([1], dtype=np.int64)),
            _init("threshold", np.array(5, dtype=np.int64)),
        ],
    )
    return _finish(
        graph,
        "masked_ids = mask ? ids + 100 : -1; count = number of true mask entries per row; "
        "flagged = mask and ids > 5.",
    )


def build_pair() -> onnx.ModelProto:
    """Two inputs, two outputs: sum = a + b (float32), dot = row-wise sum(a * b) as float64."""
    nodes = [
        helper.make_node("Add", ["a", "b"], ["sum"], name="add"),
        helper.make_node("Mul", ["a", "b"], ["prod"], name="mul"),
        helper.make_node("ReduceSum", ["prod", "axis1"], ["dot32"], name="reduce", keepdims=0),
        helper.make_node("Cast", ["dot32"], ["dot"], name="cast", to=TensorProto.DOUBLE),
    ]
    graph = helper.make_graph(
        nodes,
        "pair",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 3]),
        ],
        [
            helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("dot", TensorProto.DOUBLE, ["N"]),
        ],
        initializer=[_init("axis1", np.array([1], dtype=np.int64))],
    )
    return _finish(graph, "sum = a + b; dot = float64(sum over axis 1 of a * b).")


def build_dtypes() -> onnx.ModelProto:
    """One input of each remaining protocol dtype (float16, int32, int8, uint8); a 0-d float64 output."""
    nodes = [
        helper.make_node("Cast", ["h"], ["h32"], name="h_to_f32", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["h32", "two"], ["h32x2"], name="double"),
        helper.make_node("Cast", ["h32x2"], ["h_twice"], name="to_f16", to=TensorProto.FLOAT16),
        helper.make_node("Add", ["i", "one"], ["i_next"], name="add_one"),
        helper.make_node("Neg", ["s"], ["s_neg"], name="neg"),
        helper.make_node("Cast", ["u"], ["u_wide"], name="u_to_i32", to=TensorProto.INT32),
        helper.make_node("Add", ["u_wide", "i"], ["ui"], name="add_u"),
        helper.make_node("Cast", ["ui"], ["ui64"], name="to_f64", to=TensorProto.DOUBLE),
        helper.make_node("ReduceSum", ["ui64"], ["total"], name="total", keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "dtypes",
        [
            helper.make_tensor_value_info("h", TensorProto.FLOAT16, ["N"]),
            helper.make_tensor_value_info("i", TensorProto.INT32, ["N"]),
            helper.make_tensor_value_info("s", TensorProto.INT8, ["N"]),
            helper.make_tensor_value_info("u", TensorProto.UINT8, ["N"]),
        ],
        [
            helper.make_tensor_value_info("h_twice", TensorProto.FLOAT16, ["N"]),
            helper.make_tensor_value_info("i_next", TensorProto.INT32, ["N"]),
            helper.make_tensor_value_info("s_neg", TensorProto.INT8, ["N"]),
            helper.make_tensor_value_info("total", TensorProto.DOUBLE, []),
        ],
        initializer=[
            _init("two", np.array(2.0, dtype=np.float32)),
            _init("one", np.array(1, dtype=np.int32)),
        ],
    )
    return _finish(
        graph,
        "h_twice = float16(2 * h); i_next = i + 1; s_neg = -s (int8); "
        "total = float64(sum(u + i)) as a 0-d tensor.",
    )


MODELS = {
    "mlp": build_mlp,
    "cnn": build_cnn,
    "masked": build_masked,
    "pair": build_pair,
    "dtypes": build_dtypes,
}


# ---------------------------------------------------------------------------------------------
# Sample inputs: (file name, model, {input: array}, form) with form "nested", "explicit" or "npy".


def _digit_seven() -> np.ndarray:
    """A 28x28 hand-drawn-looking '7' (values in [0, 1], two decimals)."""
    img = np.zeros((28, 28), dtype=np.float64)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float64)

    def stroke(x0: float, y0: float, x1: float, y1: float, width: float) -> None:
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        dist = np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))
        np.maximum(img, np.clip(1.0 - (dist - width) / 1.5, 0.0, 1.0), out=img)

    stroke(6, 6, 21, 6, 1.2)
    stroke(21, 6, 11, 23, 1.2)
    return np.round(img, 2).astype(np.float32).reshape(1, 1, 28, 28)


def samples() -> list[tuple[str, str, dict[str, np.ndarray], str]]:
    rng = np.random.default_rng(20260510)

    def f32(shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
        return np.round(rng.standard_normal(shape) * scale, 3).astype(np.float32)

    image = _digit_seven()
    nonfinite_a = np.array(
        [[np.inf, 1.0, 2.0], [np.nan, 0.0, 0.0], [-np.inf, 1.5, -2.5], [np.inf, -np.inf, 0.0]],
        dtype=np.float32,
    )
    nonfinite_b = np.array(
        [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0], [0.0, 2.0, 2.0], [1.0, 1.0, 0.0]], dtype=np.float32
    )
    return [
        ("mlp-input.json", "mlp", {"x": f32((2, 4))}, "nested"),
        ("mlp-input-explicit.json", "mlp", {"x": f32((3, 4))}, "explicit"),
        ("cnn-input.json", "cnn", {"image": image}, "nested"),
        ("cnn-input.npy", "cnn", {"image": image}, "npy"),
        (
            "masked-input.json",
            "masked",
            {
                "ids": rng.integers(0, 10, size=(2, 5), dtype=np.int64),
                "mask": np.array(
                    [[True, True, True, False, False], [True, False, True, True, True]]
                ),
            },
            "nested",
        ),
        (
            "masked-input-explicit.json",
            "masked",
            {
                "ids": np.array([[3, 7, -2, 9]], dtype=np.int64),
                "mask": np.array([[True, True, False, True]]),
            },
            "explicit",
        ),
        ("pair-input.json", "pair", {"a": f32((2, 3)), "b": f32((2, 3))}, "nested"),
        ("pair-input-nonfinite.json", "pair", {"a": nonfinite_a, "b": nonfinite_b}, "explicit"),
        (
            "dtypes-input.json",
            "dtypes",
            {
                "h": np.array([0.5, -1.25, 3.0e4, 6.1e-5, np.inf, np.nan], dtype=np.float16),
                "i": np.array([0, -7, 2147483000, 5, -2147483000, 100], dtype=np.int32),
                "s": np.array([0, 1, -1, 127, -127, 42], dtype=np.int8),
                "u": np.array([0, 1, 255, 128, 7, 200], dtype=np.uint8),
            },
            "nested",
        ),
        (
            "dtypes-input-explicit.json",
            "dtypes",
            {
                "h": np.array([1.0, -0.0], dtype=np.float16),
                "i": np.array([1, 2], dtype=np.int32),
                "s": np.array([-5, 5], dtype=np.int8),
                "u": np.array([10, 20], dtype=np.uint8),
            },
            "explicit",
        ),
    ]


def expected_name(sample: str) -> str:
    """mlp-input-explicit.json -> mlp-output-explicit.json; cnn-input.npy -> cnn-output.json."""
    stem = sample.rsplit(".", 1)[0]
    return stem.replace("-input", "-output", 1) + ".json"


# ---------------------------------------------------------------------------------------------
# JSON in the infer protocol's form (written by hand so the bytes are stable and floats shortest).


def fmt_scalar(value: object, dtype: np.dtype) -> str:
    if dtype == np.bool_:
        return "true" if bool(value) else "false"
    if np.issubdtype(dtype, np.integer):
        return str(int(value))
    v = float(value)
    if math.isnan(v):
        return '"NaN"'
    if math.isinf(v):
        return '"Infinity"' if v > 0 else '"-Infinity"'
    # Shortest text that reads back as the same value of this precision.
    if dtype == np.float64:
        return repr(v)
    return str(dtype.type(value))


def fmt_flat(array: np.ndarray) -> str:
    return "[" + ",".join(fmt_scalar(v, array.dtype) for v in array.reshape(-1)) + "]"


def fmt_nested(array: np.ndarray, indent: int) -> str:
    if array.ndim == 0:
        return fmt_scalar(array.item(), array.dtype)
    if array.ndim == 1:
        return fmt_flat(array)
    pad = " " * (indent + 1)
    inner = (",\n" + pad).join(fmt_nested(sub, indent + 1) for sub in array)
    return "[" + inner + "]"


def tensor_json(array: np.ndarray) -> str:
    shape = "[" + ",".join(str(d) for d in array.shape) + "]"
    return '{"shape":%s,"dtype":"%s","data":%s}' % (shape, array.dtype.name, fmt_flat(array))


def request_json(inputs: dict[str, np.ndarray], form: str) -> str:
    parts = []
    for name, array in inputs.items():
        key = json.dumps(name)
        if form == "nested":
            parts.append("  %s: %s" % (key, fmt_nested(array, 4 + len(key))))
        else:
            parts.append("  %s: %s" % (key, tensor_json(array)))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def response_json(outputs: dict[str, np.ndarray]) -> str:
    parts = ["    %s: %s" % (json.dumps(n), tensor_json(a)) for n, a in outputs.items()]
    return '{"outputs": {\n' + ",\n".join(parts) + "\n}}\n"


DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "int8": np.int8,
    "uint8": np.uint8,
    "bool": np.bool_,
}


def parse_value(v: object) -> object:
    if isinstance(v, str):
        specials = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if v not in specials:
            raise ValueError("unexpected string %r" % v)
        return specials[v]
    return v


def parse_tensor(value: object, dtype: type | None) -> np.ndarray:
    """One request or response value, read with the infer protocol's rules."""
    if isinstance(value, dict):
        array = np.array([parse_value(v) for v in value["data"]], dtype=DTYPES[value["dtype"]])
        return array.reshape(value["shape"])

    def walk(v: object) -> object:
        return [walk(x) for x in v] if isinstance(v, list) else parse_value(v)

    return np.array(walk(value), dtype=dtype)


# ---------------------------------------------------------------------------------------------


def session(model_bytes: bytes) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def run(sess: ort.InferenceSession, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, inputs)))


def describe(model: onnx.ModelProto) -> dict[str, list[dict[str, object]]]:
    def info(vi: onnx.ValueInfoProto) -> dict[str, object]:
        t = vi.type.tensor_type
        dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in t.shape.dim]
        return {"name": vi.name, "dtype": np.dtype(NP_OF_ONNX[t.elem_type]).name, "shape": dims}

    return {
        "inputs": [info(v) for v in model.graph.input],
        "outputs": [info(v) for v in model.graph.output],
    }


def generate(out: str) -> None:
    """Writes every model, sample, reference output and manifest.json into `out`."""
    os.makedirs(out, exist_ok=True)
    model_bytes = {}
    manifest_models = []
    for name, build in MODELS.items():
        data = build().SerializeToString()
        # The same build twice must give the same bytes (seeded, no timestamps).
        if build().SerializeToString() != data:
            raise SystemExit("error: %s is not reproducible within one run" % name)
        model_bytes[name] = data
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(data)
        entry = {"name": name, "file": name + ".onnx", "opset": OPSET, "ir_version": IR_VERSION}
        entry.update(describe(onnx.load_from_string(data)))
        entry["tolerance"] = TOLERANCE[name]
        manifest_models.append(entry)

    manifest_samples = []
    sessions = {name: session(data) for name, data in model_bytes.items()}
    for file, model, inputs, form in samples():
        path = os.path.join(out, file)
        if form == "npy":
            (array,) = inputs.values()
            with open(path, "wb") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array), version=(1, 0))
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(request_json(inputs, form))
        outputs = run(sessions[model], inputs)
        with open(os.path.join(out, expected_name(file)), "w", encoding="utf-8", newline="\n") as f:
            f.write(response_json(outputs))
        manifest_samples.append(
            {"model": model, "input": file, "form": form, "expected": expected_name(file)}
        )

    manifest = {
        "generator": "models/generate.sh",
        "versions": {"onnx": onnx.__version__, "numpy": np.__version__, "onnxruntime": ort.__version__},
        "models": manifest_models,
        "samples": manifest_samples,
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")


def close_enough(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> bool:
    if got.dtype != want.dtype or got.shape != want.shape:
        return False
    if not np.issubdtype(want.dtype, np.floating):
        return bool(np.array_equal(got, want))
    g, w = got.astype(np.float64), want.astype(np.float64)
    with np.errstate(invalid="ignore"):
        same_nan = np.isnan(g) == np.isnan(w)
        same_inf = np.where(np.isinf(w), g == w, True)
        near = np.where(np.isfinite(w), np.abs(g - w) <= atol + rtol * np.abs(w), True)
    return bool(np.all(same_nan) and np.all(same_inf) and np.all(near))


def read_expected(path: str) -> dict[str, np.ndarray]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return {name: parse_tensor(t, None) for name, t in doc["outputs"].items()}


def read_request(path: str, model: onnx.ModelProto) -> dict[str, np.ndarray]:
    if path.endswith(".npy"):
        array = np.load(path, allow_pickle=False)
        return {model.graph.input[0].name: array}
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    types = {vi.name: NP_OF_ONNX[vi.type.tensor_type.elem_type] for vi in model.graph.input}
    return {name: parse_tensor(v, types[name]) for name, v in doc.items()}


def check(committed: str) -> int:
    failures = []
    with tempfile.TemporaryDirectory(prefix="webc-models-") as fresh:
        generate(fresh)
        with open(os.path.join(fresh, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        tol = {m["name"]: m["tolerance"] for m in manifest["models"]}
        exact = ["manifest.json"] + [m["file"] for m in manifest["models"]]
        exact += [s["input"] for s in manifest["samples"]]
        for file in exact:
            mine = os.path.join(committed, file)
            if not os.path.exists(mine):
                failures.append("%s: missing (run models/generate.sh)" % file)
                continue
            with open(mine, "rb") as a, open(os.path.join(fresh, file), "rb") as b:
                if a.read() != b.read():
                    failures.append("%s: differs from a fresh generation" % file)
        for s in manifest["samples"]:
            rtol, atol = tol[s["model"]]["rtol"], tol[s["model"]]["atol"]
            want_path = os.path.join(committed, s["expected"])
            if not os.path.exists(want_path):
                failures.append("%s: missing" % s["expected"])
                continue
            want = read_expected(want_path)
            fresh_out = read_expected(os.path.join(fresh, s["expected"]))
            # The committed sample, read back by the protocol's rules, through onnxruntime.
            model_path = os.path.join(committed, s["model"] + ".onnx")
            with open(model_path, "rb") as f:
                model_data = f.read()
            try:
                model = onnx.load_from_string(model_data)
                inputs = read_request(os.path.join(committed, s["input"]), model)
                got = run(session(model_data), inputs)
            except Exception as e:  # a corrupt committed file: report it with the others
                failures.append("%s on %s: %s" % (s["input"], model_path, str(e).splitlines()[0]))
                continue
            for label, outs in (("fresh generation", fresh_out), ("onnxruntime on the sample", got)):
                if sorted(outs) != sorted(want):
                    failures.append("%s: output names differ (%s)" % (s["expected"], label))
                    continue
                for name in want:
                    if not close_enough(outs[name], want[name], rtol, atol):
                        failures.append(
                            "%s: output %r does not match (%s)" % (s["expected"], name, label)
                        )
            sample_failed = any(f.startswith(s["expected"] + ":") for f in failures)
            with open(want_path, "rb") as a, open(os.path.join(fresh, s["expected"]), "rb") as b:
                if a.read() != b.read() and not sample_failed:
                    print(
                        "note: %s agrees within tolerance but not byte for byte (another CPU?)"
                        % s["expected"],
                        file=sys.stderr,
                    )
    for f in failures:
        print("check failed: " + f, file=sys.stderr)
    if failures:
        return 1
    print("models: %d files reproduced, references verified with onnxruntime %s"
          % (len(exact), ort.__version__))
    return 0


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=here, help="output directory (default: models/)")
    parser.add_argument("--check", action="store_true", help="verify the committed files")
    args = parser.parse_args()
    if args.check:
        return check(here)
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
