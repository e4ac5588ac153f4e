"""Training of zoo models on the offline datasets: Adam, cosine learning rate, cross-entropy on
``logit_scale * scores``. Deterministic for a given seed on a given machine."""

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import data
from .layers import BinaryConv2d, BinaryLinear

__all__ = ["TrainConfig", "train", "evaluate", "weight_bits"]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    seed: int = 0
    batch_size: int = 100
    lr: float = 0.01
    weight_decay: float = 0.0
    mst_lambda: float = 0.0  # weight of the MST regularizer (bnn/mst.py); 0: none
    mst_every: int = 50
    mst_depth: int | None = None
    train_images: int | None = None  # train on the first N images of the training split (None: all)


def weight_bits(model) -> np.ndarray:
    """All binary weight bits of ``model`` concatenated (for flip statistics)."""
    parts = [m.weight_bits().ravel() for m in model.modules() if isinstance(m, BinaryLinear | BinaryConv2d)]
    return np.concatenate(parts)


@torch.no_grad()
def evaluate(model, images_u8: np.ndarray, labels: np.ndarray, batch_size: int = 500):
    """Test accuracy of ``model`` (eval mode) on uint8 images; returns ``(accuracy, predictions)``."""
    model.eval()
    preds = []
    for start in range(0, len(labels), batch_size):
        x = torch.from_numpy(data.as_float(images_u8[start:start + batch_size]))
        preds.append(model(x).argmax(dim=1).numpy())
    pred = np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)
    return float((pred == labels).mean()) if len(labels) else 0.0, pred


def train(model, dataset: str, cfg: TrainConfig, progress: bool = True):
    """Train ``model`` in place on ``dataset``'s train split; returns a list of per-epoch metrics.

    Each entry: ``epoch``, ``loss`` (mean training loss), ``train_accuracy`` (on the training batches,
    dropout active), ``test_accuracy`` (eval mode, whole test split), ``weight_flip_rate`` (fraction
    of binary weights whose sign changed during the epoch), ``lr``, ``seconds``.
    """
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.use_deterministic_algorithms(True)
    train_set = data.load(dataset, "train")
    test_set = data.load(dataset, "test")
    n = len(train_set.labels) if cfg.train_images is None else min(cfg.train_images, len(train_set.labels))
    x_all = torch.from_numpy(data.as_float(train_set.images[:n]))
    y_all = torch.from_numpy(train_set.labels[:n])
    steps_per_epoch = math.ceil(len(y_all) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    gen = torch.Generator().manual_seed(cfg.seed)
    history = []
    reg = None
    if cfg.mst_lambda > 0:
        from .mst import MSTRegularizer

        reg = MSTRegularizer(model, cfg.mst_lambda, cfg.mst_every, cfg.mst_depth)
    step = 0
    bar = tqdm(range(cfg.epochs), desc=f"train {model.config['model']}", unit="epoch", disable=not progress)
    for epoch in bar:
        t0 = time.perf_counter()
        before = weight_bits(model)
        if hasattr(model, "on_epoch"):
            model.on_epoch(epoch, cfg.epochs)
        model.train()
        order = torch.randperm(len(y_all), generator=gen)
        loss_sum, correct = 0.0, 0
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            x, y = x_all[idx], y_all[idx]
            scores = model(x)
            loss = F.cross_entropy(model.logits(scores), y)
            if reg is not None:
                loss = loss + reg.penalty(step)
            step += 1
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((scores.argmax(1) == y).sum())
        if epoch == cfg.epochs - 1 and hasattr(model, "finalize"):
            model.finalize()  # evaluate the last epoch as it will be exported
        test_acc, _ = evaluate(model, test_set.images, test_set.labels)
        flips = float(np.mean(weight_bits(model) != before))
        history.append(dict(
            epoch=epoch + 1, loss=loss_sum / len(y_all), train_accuracy=correct / len(y_all),
            test_accuracy=test_acc, weight_flip_rate=flips, lr=opt.param_groups[0]["lr"],
            seconds=time.perf_counter() - t0,
        ))
        if reg is not None:
            history[-1]["mst_compression"] = reg.compression()
        bar.set_postfix(loss=f"{history[-1]['loss']:.3f}", test=f"{test_acc:.4f}")
    model.eval()
    return history
