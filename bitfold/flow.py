"""Stages that make run folders: ``train`` (a zoo model) and ``import`` (a QONNX file of the supported ops).

Both end the same way: the QONNX file is imported into the IR, streamlined, checked, and written as
``ir.json``; every later stage treats the two kinds of run alike.
"""

import json
import math
import os
import time
from pathlib import Path

from hw.errors import BitfoldError
from hw.io import atomic_write_bytes, atomic_write_json, atomic_write_text, file_lock
from hw.ir.from_qonnx import from_qonnx, load_qonnx
from hw.ir.verify import verify
from hw.passes import streamline

from . import __version__
from .runs import CONFIG_FILE, IR_FILE, METRICS_FILE, MODEL_FILE, QONNX_FILE, new_run

METADATA_KEY = "bitfold.config"  # as bnn.export writes it

__all__ = ["train_run", "import_run", "lower_to_ir", "build_model", "load_torch_model", "trained_run", "zoo_runs"]


def lower_to_ir(qonnx_path, debug_dir=None):
    """QONNX file -> verified, streamlined IR graph (its ``meta["source"]`` names the run's copy).

    MST schedules saved in the model's metadata (``bitfold.config`` key ``mst``) are attached to
    its binary layers, in order."""
    graph = verify(from_qonnx(qonnx_path), "the frontend")
    graph = verify(streamline(graph, debug_dir=debug_dir), "streamlining")
    meta = model_metadata(graph, qonnx_path)
    mst = meta.get("mst")
    if mst:
        from hw.passes.mst import attach_mst, mst_layers

        names = mst_layers(graph)
        if len(names) != len(mst["layers"]):
            raise BitfoldError(f"{qonnx_path}: the metadata holds {len(mst['layers'])} MST schedules for "
                               f"{len(names)} binary layers", where=qonnx_path)
        for name, parents in zip(names, mst["layers"], strict=True):
            channels = len(graph[name].weights)
            if len(parents) != channels:
                raise BitfoldError(f"{qonnx_path}: bitfold.config metadata: the MST schedule of layer {name} has "
                                   f"{len(parents)} parents for {channels} channels", where=qonnx_path)
        graph = verify(attach_mst(graph, mst["depth_bound"], dict(zip(names, mst["layers"], strict=True))), "mst")
    return graph.replace(meta=graph.meta | {"source": QONNX_FILE})


_META_SCHEMA = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "dataset": {"type": ["string", "null"]},
        "model_config": {"type": "object"},
        "mst": {
            "type": "object", "required": ["depth_bound", "layers"],
            "properties": {
                "depth_bound": {"type": ["integer", "null"], "minimum": 0},
                "lambda": {"type": "number", "minimum": 0},
                "layers": {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": -1}}},
            },
        },
    },
}


def model_metadata(graph, qonnx_path) -> dict:
    """The ``bitfold.config`` metadata of an imported model (``{}`` when it has none): JSON with
    ``model`` (a name), and optionally ``dataset``, ``model_config`` and ``mst`` (trained
    schedules: ``depth_bound`` and one parent list per binary layer)."""
    from jsonschema.exceptions import best_match

    from .schema import describe

    props = graph.meta.get("metadata_props", {})
    if METADATA_KEY not in props:
        return {}
    try:
        meta = json.loads(props[METADATA_KEY])
    except json.JSONDecodeError as e:
        raise BitfoldError(f"{qonnx_path}: the {METADATA_KEY} metadata is not valid JSON ({e.msg}: column "
                           f"{e.colno})", where=qonnx_path) from None
    if not isinstance(meta, dict):
        raise BitfoldError(f"{qonnx_path}: the {METADATA_KEY} metadata must be a JSON object", where=qonnx_path)
    from jsonschema import Draft202012Validator

    err = best_match(Draft202012Validator(_META_SCHEMA).iter_errors(meta))
    if err is not None:
        raise BitfoldError(f"{qonnx_path}: the {METADATA_KEY} metadata: {describe(err)}", where=qonnx_path)
    return meta


def build_model(config: dict):
    """Rebuild the torch model of a trained run from its ``config.json``."""
    from bnn.models import MODELS, build

    mc = config["model_config"]
    if mc["model"] not in MODELS:
        raise BitfoldError(f"config.json: model_config names model {mc['model']!r}, which is not in the zoo "
                           f"({', '.join(MODELS)})", where="config.json")
    try:
        return build(mc["model"], in_shape=tuple(mc["in_shape"]), classes=mc["classes"],
                     input_bits=mc["input_bits"], input_signed=mc["input_signed"])
    except (ValueError, TypeError, RuntimeError) as e:
        raise BitfoldError(f"config.json: model_config does not build a {mc['model']} ({e})",
                           where="config.json") from None


def load_torch_model(run):
    """The trained torch model of a run (``model.pt`` into the model ``config.json`` describes), in
    eval mode; a clear error when the file is damaged or does not fit."""
    import pickle
    import zipfile

    import torch

    path = run.file(MODEL_FILE)
    model = build_model(run.config)
    try:
        state = torch.load(path, weights_only=True)
    except FileNotFoundError:
        raise BitfoldError(f"{path}: missing (a trained run keeps its torch weights there)", where=path) from None
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise BitfoldError(f"{path}: not a readable torch state dict ({type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else ''})", where=path) from None
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as e:
        raise BitfoldError(f"{path}: does not fit the {run.config['model_config']['model']} model of config.json "
                           f"({str(e).splitlines()[0]})", where=path) from None
    return model.eval()


def train_run(model: str, out, dataset: str | None = None, epochs: int | None = None, seed: int = 0,
              input_bits: int | None = None, force: bool = False, progress: bool = True,
              mst_lambda: float | None = None, mst_depth: int | None = None, train_images: int | None = None) -> dict:
    """Train zoo ``model`` and write a run folder at ``out``; returns a summary dict. With
    ``train_images``, on the first that many images of the training split only (a quick run)."""
    import torch

    from bnn import data
    from bnn.export import center_thresholds, export_qonnx_model
    from bnn.models import build, defaults
    from bnn.train import TrainConfig, evaluate, train

    d = defaults(model)
    dataset = dataset or d["dataset"]
    epochs = d["epochs"] if epochs is None else epochs
    input_bits = d.get("input_bits", 8) if input_bits is None else input_bits
    if epochs < 1:
        raise BitfoldError(f"--epochs must be at least 1, not {epochs}", where="--epochs")
    if not 1 <= input_bits <= 16:
        raise BitfoldError(f"--input-bits must be from 1 to 16, not {input_bits}", where="--input-bits")
    if mst_lambda is not None and not (mst_lambda >= 0 and math.isfinite(mst_lambda)):
        raise BitfoldError(f"--mst-lambda must be a finite number of at least 0 (0 = off), not {mst_lambda:g}",
                           where="--mst-lambda")
    if mst_depth is not None and mst_depth < 1:
        raise BitfoldError(f"--mst-depth must be at least 1, not {mst_depth}", where="--mst-depth")
    if train_images is not None and train_images < 1:
        raise BitfoldError(f"--train-images must be at least 1, not {train_images}", where="--train-images")
    test = data.load(dataset, "test")  # fails early (missing data) before any folder is touched
    torch.manual_seed(seed)  # the initial weights are part of "same seed, same result"
    net = build(model, in_shape=test.shape, classes=test.classes, input_bits=input_bits)
    mst = dict(d.get("mst", {}))
    if mst_lambda is not None:
        mst["lam"] = mst_lambda
    if mst_depth is not None:
        mst["depth"] = mst_depth
    cfg = TrainConfig(epochs=epochs, seed=seed, mst_lambda=mst.get("lam", 0.0), mst_every=mst.get("every", 50),
                      mst_depth=mst.get("depth"), train_images=train_images)
    with new_run(out, force=force) as tmp:
        t0 = time.perf_counter()
        history = train(net, dataset, cfg, progress=progress)
        train_s = time.perf_counter() - t0
        adjusted = center_thresholds(net)
        accuracy, _ = evaluate(net, test.images, test.labels)
        config = {
            "bitfold": __version__,
            "source": "train",
            "model": model,
            "dataset": dataset,
            "model_config": net.config,
            "train": {"epochs": epochs, "seed": seed, "batch_size": cfg.batch_size, "lr": cfg.lr,
                      "seconds": round(train_s, 2), "images_limit": train_images},
            "thresholds_centered": adjusted,
        }
        torch.save(net.state_dict(), tmp / MODEL_FILE)
        atomic_write_json(tmp / METRICS_FILE, {"epochs": history, "test_accuracy": accuracy})
        meta = {"model": model, "dataset": dataset, "model_config": net.config}
        if cfg.mst_lambda > 0:  # the trained schedules travel with the model
            from bnn.mst import schedules

            meta["mst"] = {"depth_bound": cfg.mst_depth, "lambda": cfg.mst_lambda,
                           "layers": [list(s.parents) for _, s in schedules(net, cfg.mst_depth)]}
            config["mst"] = {k: v for k, v in meta["mst"].items() if k != "layers"}
        # only what defines the model goes into the file: two runs with one seed export equal files
        export_qonnx_model(net, test.shape, tmp / QONNX_FILE, meta)
        graph = lower_to_ir(tmp / QONNX_FILE)
        atomic_write_text(tmp / IR_FILE, graph.to_json())
        atomic_write_json(tmp / CONFIG_FILE, config)
    return {"run": str(out), "model": model, "dataset": dataset, "epochs": epochs, "seed": seed,
            "train_images": train_images, "test_accuracy": accuracy, "train_s": round(train_s, 2)}


def import_run(file, out, dataset: str | None = None, force: bool = False) -> dict:
    """Make a run folder from a QONNX file of the supported ops; the file is validated and imported before anything
    is written."""
    from bnn import data

    from .check import fit_images

    file = Path(file)
    graph = lower_to_ir(file)
    if dataset is not None:
        ds = data.load(dataset, "test")
        if fit_images(ds.images[:1], graph.input.shape) is None:
            raise BitfoldError(
                f"{file}: the model expects inputs of shape {graph.input.shape}, but dataset "
                f"{dataset!r} has images of shape {ds.shape}", where=file
            )
        if graph.output.shape != (ds.classes,):
            raise BitfoldError(
                f"{file}: the model has {graph.output.shape[0]} outputs, dataset {dataset!r} has {ds.classes} classes"
            )
    cleaned = load_qonnx(file)  # the run keeps the cleaned graph: its tensor names are the IR's
    with new_run(out, force=force) as tmp:
        atomic_write_bytes(tmp / QONNX_FILE, cleaned.model.SerializeToString())
        atomic_write_text(tmp / IR_FILE, graph.to_json())
        config = {
            "bitfold": __version__,
            "source": "import",
            "imported_from": str(file.resolve()),
            "model": model_metadata(graph, file).get("model", file.stem),
            "dataset": dataset,
        }
        atomic_write_json(tmp / CONFIG_FILE, config)
    return {"run": str(out), "source": str(file), "dataset": dataset, "layers": len(graph.nodes),
            "input_shape": list(graph.input.shape)}



def trained_run(model, path, epochs=None, seed=0, mst_lambda=None, progress=False, train_images=None) -> Path:
    """The run folder ``path`` of zoo ``model`` trained for ``epochs`` (default: the model's) with
    ``seed`` (and MST weight ``mst_lambda``, on the first ``train_images`` training images if
    given), training it only when the folder holds another
    training (training is deterministic: same settings, same model). Processes asking for the same
    folder at once take turns (a lock beside it): the later ones find it trained."""
    from bnn.models import defaults

    path = Path(path)
    d = defaults(model)
    want = {"model": model, "epochs": d["epochs"] if epochs is None else epochs, "seed": seed,
            "mst_lambda": d.get("mst", {}).get("lam", 0.0) if mst_lambda is None else float(mst_lambda),
            "train_images": train_images}
    with file_lock(path.parent / f".{path.name}.train.lock"):
        if _training(path) != want:
            train_run(model, path, epochs=want["epochs"], seed=seed, mst_lambda=mst_lambda, force=True,
                      progress=progress, train_images=train_images)
    return path


def _training(path):
    """The settings the run folder ``path`` was trained with (``None`` when there is none)."""
    from .schema import read_json

    if not (path / CONFIG_FILE).exists():
        return None
    try:
        c = read_json(path / CONFIG_FILE, "config")
    except BitfoldError:
        return None  # damaged: train again
    t = c.get("train", {})
    return {"model": c.get("model"), "epochs": t.get("epochs"), "seed": t.get("seed"),
            "mst_lambda": c.get("mst", {}).get("lambda", 0.0), "train_images": t.get("images_limit")}


def runs_root() -> Path:
    """Where the notebooks keep their zoo runs: ``$BITFOLD_NB_RUNS`` if set, else the ``build/``
    folder of the checkout bitfold runs from (whichever folder Jupyter was started in), else
    ``./build`` for an installed package."""
    if os.environ.get("BITFOLD_NB_RUNS"):
        return Path(os.environ["BITFOLD_NB_RUNS"])
    repo = Path(__file__).resolve().parents[1]
    if (repo / "pyproject.toml").is_file() and (repo / "notebooks").is_dir():
        return repo / "build"
    return Path("build").resolve()


def zoo_runs(models, root=None, epochs=None, progress=False, train_images=None) -> dict:
    """``{model: run folder}`` under ``root`` (default :func:`runs_root`): each model trained with
    seed 0 (see :func:`trained_run`). Used by the notebooks."""
    root = runs_root() if root is None else Path(root)
    return {model: trained_run(model, root / model, epochs, progress=progress, train_images=train_images)
            for model in models}
