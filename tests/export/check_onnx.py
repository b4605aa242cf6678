#!/usr/bin/env python3
"""Independent check of `cltrain export` against `cltrain predict` (tests/cli_export.sh).

The exported ONNX graph is validated by the onnx package (checker with full checks, strict
shape inference), then evaluated node by node by the small numpy interpreter below (float64
arithmetic on the stored float32 tensors), and optionally by onnxruntime; the probabilities
must equal those `cltrain predict` computed on the device within TOL. The JSON export must
hold exactly the ONNX initializers. Exit 1 with one line per problem.

Tolerance 1e-5 (absolute, on probabilities in [0, 1]): the device computes in float32 with
its own summation order (GEMM tiles, exp/tanh of OpenCL); the float32 rounding of a few
layers of width <= 64 stays near 1e-6, an order of magnitude below it, while a wrong
weight, layer order, epsilon or standardisation moves probabilities by far more."""
import argparse
import csv
import json
import math
import sys

import numpy as np
import onnx
from onnx import numpy_helper

TOL = 1e-5
problems = []


def problem(msg):
    problems.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def evaluate(model, features):
    """Run the graph with float64 numpy; returns {output name: array}."""
    env = {init.name: numpy_helper.to_array(init).astype(np.float64) for init in model.graph.initializer}
    env[model.graph.input[0].name] = features.astype(np.float64)
    erf = np.vectorize(math.erf)
    for n in model.graph.node:
        x = [env[i] for i in n.input if i]
        op = n.op_type
        if op == "Constant":
            y = numpy_helper.to_array(attr(n, "value", None)).astype(np.float64)
        elif op == "Sub":
            y = x[0] - x[1]
        elif op == "Div":
            y = x[0] / x[1]
        elif op == "Mul":
            y = x[0] * x[1]
        elif op == "Add":
            y = x[0] + x[1]
        elif op == "Erf":
            y = erf(x[0])
        elif op == "Gemm":
            a = x[0].T if attr(n, "transA", 0) else x[0]
            b = x[1].T if attr(n, "transB", 0) else x[1]
            y = attr(n, "alpha", 1.0) * (a @ b)
            if len(x) > 2:
                y = y + attr(n, "beta", 1.0) * x[2]
        elif op == "BatchNormalization":
            eps = attr(n, "epsilon", 1e-5)
            y = (x[0] - x[3]) / np.sqrt(x[4] + np.float64(np.float32(eps))) * x[1] + x[2]
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "LeakyRelu":
            y = np.where(x[0] > 0, x[0], np.float64(np.float32(attr(n, "alpha", 0.01))) * x[0])
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-x[0]))
        elif op == "Tanh":
            y = np.tanh(x[0])
        elif op == "Identity":
            y = x[0]
        elif op == "Softmax":
            axis = attr(n, "axis", -1)
            z = np.exp(x[0] - x[0].max(axis=axis, keepdims=True))
            y = z / z.sum(axis=axis, keepdims=True)
        else:
            raise SystemExit(f"FAIL: the numpy evaluator does not know op {op}")
        env[n.output[0]] = y
    return {o.name: env[o.name] for o in model.graph.output}


def read_raw(path):
    """The 16 features of the CSV (header names, file order) as float32, as cltrain reads them."""
    with open(path) as f:
        rows = list(csv.reader(f))
    header = rows[0]
    return header, rows[1:]


def read_preds(path):
    with open(path) as f:
        r = csv.DictReader(f)
        rows = list(r)
    probs = np.array([[float(row[f"p_{c}"]) for c in CLASSES] for row in rows])
    return probs, [row["predicted"] for row in rows], r.fieldnames


CLASSES = ["g", "q", "W", "Z", "t"]


def check_structure(model, raw_inputs, name):
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    if model.ir_version != 7 or [(o.domain, o.version) for o in model.opset_import] != [("", 13)]:
        problem(f"{name}: IR version {model.ir_version}, opsets {model.opset_import}; want IR 7, opset 13")
    g = inferred.graph
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    if [(v.name, dims(v)) for v in g.input] != [("features", ["N", 16])]:
        problem(f"{name}: graph input is {[(v.name, dims(v)) for v in g.input]}")
    if [(v.name, dims(v)) for v in g.output] != [("logits", ["N", 5]), ("probabilities", ["N", 5])]:
        problem(f"{name}: graph outputs are {[(v.name, dims(v)) for v in g.output]}")
    ops = [n.op_type for n in g.node]
    if "Dropout" in ops:
        problem(f"{name}: Dropout left in the inference graph")
    if raw_inputs != (ops[:2] == ["Sub", "Div"]):
        problem(f"{name}: raw_inputs={raw_inputs} but the graph starts with {ops[:2]}")
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get("class_names") != "g,q,W,Z,t" or len(meta.get("feature_names", "").split(",")) != 16 \
            or not meta.get("cltrain_version"):
        problem(f"{name}: metadata {meta}")
    return meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw-csv", required=True, help="rows in physical units (cltrain data export --raw)")
    ap.add_argument("--preds", required=True, help="cltrain predict output for --raw-csv")
    ap.add_argument("--onnx", required=True, help="export without --raw-inputs")
    ap.add_argument("--onnx-raw", required=True, help="export with --raw-inputs")
    ap.add_argument("--json", help="JSON export: its tensors must equal the ONNX initializers")
    ap.add_argument("--write-std", help="write the standardised features here (for the C test)")
    ap.add_argument("--c-probs", action="append", default=[], help="probabilities printed by the generated C")
    ap.add_argument("--ort", action="store_true", help="also run onnxruntime")
    ap.add_argument("--model-lines", type=int, help="layers in the model file (JSON check)")
    a = ap.parse_args()

    header, rows = read_raw(a.raw_csv)
    preds, predicted, fields = read_preds(a.preds)
    if len(rows) != len(preds):
        problem(f"{a.preds}: {len(preds)} rows for {len(rows)} data rows")
    std_model = onnx.load(a.onnx)
    raw_model = onnx.load(a.onnx_raw)
    meta = check_structure(std_model, False, a.onnx)
    check_structure(raw_model, True, a.onnx_raw)
    names = meta["feature_names"].split(",")
    cols = [header.index(n) for n in names]
    raw = np.array([[np.float32(float(r[c])) for c in cols] for r in rows], dtype=np.float32)
    mean = np.array([float(v) for v in meta["standardization_mean"].split(",")], dtype=np.float32)
    sd = np.array([float(v) for v in meta["standardization_std"].split(",")], dtype=np.float32)
    # As the training pre-processing standardises: (x - mean) * (1 / std) in double, rounded to float.
    std = ((raw.astype(np.float64) - mean) * (1.0 / sd.astype(np.float64))).astype(np.float32)
    if a.write_std:
        np.savetxt(a.write_std, std, fmt="%.9g")

    def compare(what, probs):
        err = float(np.abs(probs - preds).max())
        print(f"{what}: max |p - predict| = {err:.3g}")
        if not err <= TOL:
            problem(f"{what}: probabilities differ from cltrain predict by {err:.3g} > {TOL}")

    for label, model, inputs in (("numpy std", std_model, std), ("numpy raw", raw_model, raw)):
        out = evaluate(model, inputs)
        compare(f"{label} ({len(inputs)} rows)", out["probabilities"])
        sm = np.exp(out["logits"] - out["logits"].max(1, keepdims=True))
        if np.abs(sm / sm.sum(1, keepdims=True) - out["probabilities"]).max() > 1e-12:
            problem(f"{label}: probabilities are not the softmax of logits")
    # The predicted class is the arg max wherever the top two probabilities are apart.
    ref = evaluate(std_model, std)["probabilities"]
    top = np.sort(ref, axis=1)
    clear = top[:, -1] - top[:, -2] > 1e-4
    wrong = sum(1 for i in np.nonzero(clear)[0] if predicted[i] != CLASSES[int(ref[i].argmax())])
    if wrong:
        problem(f"{wrong} rows with a clear winner have another predicted class")
    if a.ort:
        import onnxruntime as ort
        for label, path, inputs in (("onnxruntime std", a.onnx, std), ("onnxruntime raw", a.onnx_raw, raw)):
            s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            logits, probs = s.run(["logits", "probabilities"], {"features": inputs})
            compare(label, probs)
    for path in a.c_probs:
        compare(f"C {path}", np.loadtxt(path, ndmin=2))
    if a.json:
        with open(a.json) as f:
            doc = json.load(f)
        tensors = {t["name"]: np.array(t["data"], dtype=np.float32).reshape(t["shape"]) for t in doc["tensors"]}
        inits = {i.name: numpy_helper.to_array(i) for i in raw_model.graph.initializer}
        if sorted(tensors) != sorted(inits):
            problem(f"JSON tensors {sorted(tensors)} != ONNX initializers {sorted(inits)}")
        for n, v in inits.items():
            if n in tensors and (tensors[n].shape != v.shape or not np.array_equal(tensors[n], v)):
                problem(f"JSON tensor {n} differs from the ONNX initializer")
        if a.model_lines is not None and len(doc["layers"]) != a.model_lines:
            problem(f"JSON lists {len(doc['layers'])} layers, the model has {a.model_lines}")
        if doc["output"]["class_names"] != CLASSES:
            problem(f"JSON class names {doc['output']['class_names']}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
