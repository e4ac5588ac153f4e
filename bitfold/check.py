"""``bitfold check``: the software chain, bit for bit.

Pushes the test split (or random inputs) through (a) the torch model (trained runs), (b) qonnx's
``execute_onnx`` on the QONNX file and (c) the IR reference, and compares the class and every
observable integer tensor exactly: the input codes, every binary activation (after each threshold
and each pooling), and the last layer's integer scores.
"""

import time

import numpy as np
from tqdm import tqdm

from hw.errors import BitfoldError
from hw.io import atomic_write_json
from hw.ir import interp
from hw.ir.graph import Conv, Dense, Kind, MaxPool, Quantize, Sign, Threshold

from .provenance import bytes_digest, file_digest, stamp, tool_versions
from .runs import CONFIG_FILE, IR_FILE, MODEL_FILE, QONNX_FILE, open_run

__all__ = ["check_run", "observables", "inputs_for", "fit_images"]

_QONNX_BATCH = 250


def observables(graph):
    """IR nodes whose outputs are compared: input codes, binary activations, last-layer scores."""
    obs = [n for n in graph.nodes if isinstance(n, Quantize | Threshold | Sign | MaxPool)]
    layers = [n for n in graph.nodes if isinstance(n, Dense | Conv)]
    return obs + layers[-1:]


def inputs_for(run, graph, images=None, random=None, seed=0):
    """Float model inputs and labels (None for random inputs) for a run."""
    from bnn import data

    if random is not None:
        if random < 1:
            raise BitfoldError(f"--random must be at least 1, not {random}")
        rng = np.random.default_rng(seed)
        codes = rng.integers(0, 256, size=(random,) + graph.input.shape, dtype=np.uint8)
        return data.as_float(codes), None
    if not run.dataset:
        raise BitfoldError(
            f"{run.path}: the run has no dataset; pass --random N, or import it with --dataset NAME"
        )
    ds = data.load(run.dataset, "test")
    imgs = fit_images(ds.images, graph.input.shape)
    if imgs is None:
        raise BitfoldError(
            f"{run.path}: the model expects inputs of shape {graph.input.shape}, dataset "
            f"{run.dataset!r} has {ds.shape}"
        )
    if images is not None and images < 1:
        raise BitfoldError(f"--images must be at least 1, not {images}")
    n = len(ds) if images is None else min(images, len(ds))
    return data.as_float(imgs[:n]), ds.labels[:n]


def fit_images(images, shape):
    """Dataset images ``(N, C, H, W)`` in the shape a model takes: as they are, or flattened in
    C, H, W order for a model whose input is a vector (``784`` for MNIST, as people write it);
    None when the model takes something else."""
    shape = tuple(shape)
    if tuple(images.shape[1:]) == shape:
        return images
    if len(shape) == 1 and shape[0] == int(np.prod(images.shape[1:])):
        return images.reshape(len(images), shape[0])
    return None


def _to_ir(node, value):
    """A torch / QONNX float tensor -> the IR's integers for ``node``'s output (None if inexact).

    A model that flattens its input before quantizing it has a flat quantizer output where the IR
    keeps the image shape (and flattens right after, in the same C, H, W order): same elements."""
    v = np.asarray(value, dtype=np.float64)
    want = (len(v),) + tuple(node.out.shape)
    if v.shape != want:
        if v.size != int(np.prod(want)):
            return None
        v = v.reshape(want)
    if node.out.kind == Kind.BITS:
        return (v > 0).astype(np.uint8)
    q = v / node.out.scale
    r = np.rint(q)
    if not np.array_equal(q, r):
        return None
    return r.astype(np.int64)


def _run_qonnx(path, x, srcs, progress):
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.change_batchsize import ChangeBatchSize
    from qonnx.transformation.infer_shapes import InferShapes

    from hw.ir.from_qonnx import load_qonnx

    base = load_qonnx(path)  # the same cleanup the IR import ran, so tensor names match
    names = {t.name for t in base.graph.value_info} | {t.name for t in base.graph.output}
    names |= {o for n in base.graph.node for o in n.output}
    srcs = [s for s in srcs if s in names]
    models = {}
    out = {s: [] for s in srcs}
    final = base.graph.output[0].name
    out.setdefault(final, [])
    for start in tqdm(range(0, len(x), _QONNX_BATCH), desc="qonnx", unit="batch", disable=not progress):
        xb = x[start:start + _QONNX_BATCH]
        if len(xb) not in models:
            models[len(xb)] = base.transform(ChangeBatchSize(len(xb))).transform(InferShapes())
        m = models[len(xb)]
        try:
            ctx = execute_onnx(m, {m.graph.input[0].name: xb}, return_full_exec_context=True)
        except Exception as e:  # the model file is the user's: whatever onnxruntime/qonnx make of it
            raise BitfoldError(f"{path}: qonnx could not execute the model ({type(e).__name__}: "
                               f"{str(e).splitlines()[0] if str(e) else ''})", where=path) from None
        for s in out:
            out[s].append(ctx[s])
    return {s: np.concatenate(v) for s, v in out.items()}, final


def check_run(path, images=None, random=None, progress=True, write=True) -> dict:
    """Compare torch, QONNX and the IR reference on a run's test split; returns the JSON summary
    (written to ``check.json`` with the hashes of the files it compared)."""
    run = open_run(path)
    ir_bytes, graph = run.ir()
    inputs = {IR_FILE: bytes_digest(ir_bytes), QONNX_FILE: file_digest(run.qonnx),
              CONFIG_FILE: file_digest(run.file(CONFIG_FILE))}
    x, labels = inputs_for(run, graph, images, random)
    t0 = time.perf_counter()
    ref = interp.run(graph, x, keep=True)
    ref_s = time.perf_counter() - t0
    ref_class = interp.argmax(ref[graph.nodes[-1].name])
    obs = observables(graph)

    layers = [{"name": n.name, "op": n.op, "tensor": n.src, "shape": list(n.out.shape),
               "mismatches_torch": None, "mismatches_qonnx": 0} for n in obs]
    result = {"run": str(run.path), "images": int(len(x)), "inputs": "random" if labels is None else run.dataset}

    # (b) QONNX
    qonnx_out, final = _run_qonnx(run.qonnx, x, [n.src for n in obs if n.src], progress)
    bad_q = np.zeros(len(x), dtype=bool)
    for entry, node in zip(layers, obs, strict=True):
        got = _to_ir(node, qonnx_out[node.src]) if node.src in qonnx_out else None
        if got is None:
            entry["mismatches_qonnx"] = None  # not an exact integer tensor in QONNX: not comparable
            continue
        diff = _diff(got, ref[node.name])
        entry["mismatches_qonnx"] = int(diff.sum())
        bad_q |= diff
        _first(entry, "qonnx", got, ref[node.name], diff)
    qonnx_class = np.argmax(qonnx_out[final].reshape(len(x), -1), axis=1)
    bad_q |= qonnx_class != ref_class
    result["class_mismatches_qonnx"] = int((qonnx_class != ref_class).sum())
    result["mismatches_qonnx"] = int(bad_q.sum())

    # (a) torch
    if run.has_torch:
        inputs[MODEL_FILE] = file_digest(run.file(MODEL_FILE))
        torch_class, bad_t = _check_torch(run, x, obs, ref, layers, ref_class, progress)
        result["class_mismatches_torch"] = int((torch_class != ref_class).sum())
        result["mismatches_torch"] = int(bad_t.sum())
    else:
        torch_class = None
        result["class_mismatches_torch"] = None
        result["mismatches_torch"] = None

    def acc(classes):
        return None if labels is None or classes is None else float((classes == labels).mean())

    result.update({
        "accuracy_torch": acc(torch_class),
        "accuracy_qonnx": acc(qonnx_class),
        "accuracy_reference": acc(ref_class),
        "reference_images_per_s": round(len(x) / ref_s, 1) if ref_s > 0 else None,
        "layers": layers,
    })
    result["ok"] = result["mismatches_qonnx"] == 0 and result["mismatches_torch"] in (0, None)
    cmd = f"bitfold check {run.path}" + (f" --images {images}" if images is not None else "") + (
        f" --random {random}" if random is not None else "")
    result = stamp(result, "check", command=cmd, inputs=inputs, options={"images": images, "random": random},
                   tools=tool_versions("qonnx", "onnxruntime", *(("torch", "brevitas") if run.has_torch else ())))
    if write:
        atomic_write_json(run.file("check.json"), result)
    return result


def _check_torch(run, x, obs, ref, layers, ref_class, progress):
    import torch

    from .flow import load_torch_model

    model = load_torch_model(run)
    batches = []
    for start in tqdm(range(0, len(x), 500), desc="torch", unit="batch", disable=not progress):
        scores, seen = model.trace(torch.from_numpy(x[start:start + 500]))
        batches.append((scores.numpy(), [s.numpy() for s in seen]))
    scores = np.concatenate([b[0] for b in batches])
    seen = [np.concatenate([b[1][i] for b in batches]) for i in range(len(batches[0][1]))]
    if len(seen) != len(obs):
        raise BitfoldError(
            f"{run.path}: the torch model has {len(seen)} observable layers, the IR {len(obs)}; "
            "the QONNX file does not match model.pt"
        )
    bad = np.zeros(len(x), dtype=bool)
    for entry, node, value in zip(layers, obs, seen, strict=True):
        got = _to_ir(node, value)
        if got is None or got.shape != ref[node.name].shape:
            raise BitfoldError(f"{run.path}: torch output of layer {node.name} is not an exact integer tensor")
        diff = _diff(got, ref[node.name])
        entry["mismatches_torch"] = int(diff.sum())
        bad |= diff
        _first(entry, "torch", got, ref[node.name], diff)
    torch_class = scores.argmax(axis=1)
    return torch_class, bad | (torch_class != ref_class)


def _diff(a, b):
    """Per image: does any element differ?"""
    return np.any((a != b).reshape(len(a), -1), axis=1)


def _first(entry, who, got, want, diff):
    if diff.any():
        i = int(np.flatnonzero(diff)[0])
        j = int(np.flatnonzero((got[i] != want[i]).ravel())[0])
        entry[f"first_mismatch_{who}"] = {"image": i, "element": j, "got": int(got[i].ravel()[j]),
                                          "reference": int(want[i].ravel()[j])}
