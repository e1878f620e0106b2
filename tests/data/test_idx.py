"""Tests of freeenergy.data._idx: MNIST's IDX files (raw or gzip-compressed), read through load_mnist.

The tests write tiny IDX files themselves; the helpers that do so are imported by test_mnist.py.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from freeenergy.data import DataFileError, load_mnist

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


# ----- helpers ---------------------------------------------------------------------------


def idx_images(pixels: np.ndarray, magic: int = 2051) -> bytes:
    n, rows, cols = pixels.shape
    return struct.pack(">4i", magic, n, rows, cols) + pixels.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray, magic: int = 2049) -> bytes:
    return struct.pack(">2i", magic, len(labels)) + labels.astype(np.uint8).tobytes()


def write(path, content: bytes, gz: bool):
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(content))
    else:
        path.write_bytes(content)
    return path


def make_idx_dir(directory, n_train=5, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)),
        "train_labels": rng.integers(0, 10, n_train),
        "test_images": rng.integers(0, 256, (n_test, 28, 28)),
        "test_labels": rng.integers(0, 10, n_test),
    }
    directory.mkdir(exist_ok=True)
    for key, stem in IDX_NAMES.items():
        content = idx_images(arrays[key]) if "images" in key else idx_labels(arrays[key])
        write(directory / stem, content, gz)
    return arrays


# ----- MNIST from IDX files ----------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_directory(tmp_path, gz):
    arrays = make_idx_dir(tmp_path / "mnist", gz=gz)
    data = load_mnist(tmp_path / "mnist", binarize=None)
    assert data.shape == (28, 28) and data.name == "mnist"
    assert data.train.shape == (5, 784) and data.test.shape == (3, 784)
    assert data.train.dtype == np.float64 and data.test_labels.dtype == np.int64
    np.testing.assert_array_equal(data.train, arrays["train_images"].reshape(5, 784) / 255.0)
    np.testing.assert_array_equal(data.test, arrays["test_images"].reshape(3, 784) / 255.0)
    np.testing.assert_array_equal(data.train_labels, arrays["train_labels"])
    np.testing.assert_array_equal(data.test_labels, arrays["test_labels"])
    assert data.source == str(tmp_path / "mnist")


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_truncated(tmp_path, gz):
    make_idx_dir(tmp_path, gz=gz)
    name = IDX_NAMES["train_images"] + (".gz" if gz else "")
    target = tmp_path / name
    content = target.read_bytes()
    target.write_bytes(content[: len(content) - 100])
    with pytest.raises(DataFileError, match=f"{name}.*(truncated|corrupt)"):
        load_mnist(tmp_path)


def test_mnist_idx_foreign_file(tmp_path):
    make_idx_dir(tmp_path)
    # a label file where the images should be: wrong magic number
    (tmp_path / IDX_NAMES["train_images"]).write_bytes(idx_labels(np.arange(5)))
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte: magic number 2049 is not 2051"):
        load_mnist(tmp_path)
    (tmp_path / IDX_NAMES["train_images"]).write_bytes(b"GIF")
    with pytest.raises(DataFileError, match="3 bytes is too short for an IDX file"):
        load_mnist(tmp_path)
    (tmp_path / IDX_NAMES["train_images"]).write_bytes(struct.pack(">3i", 2051, 1, 28))
    with pytest.raises(DataFileError, match="12 bytes is too short for an IDX images header"):
        load_mnist(tmp_path)


def test_mnist_idx_wrong_size_and_counts(tmp_path):
    make_idx_dir(tmp_path)
    images = tmp_path / IDX_NAMES["test_images"]
    images.write_bytes(idx_images(np.zeros((3, 27, 27))))
    with pytest.raises(DataFileError, match="images are 27x27, expected 28x28"):
        load_mnist(tmp_path)
    images.write_bytes(idx_images(np.zeros((4, 28, 28))))
    with pytest.raises(DataFileError, match=r"holds 4 images but .* holds 3 labels"):
        load_mnist(tmp_path)
    images.write_bytes(idx_images(np.zeros((3, 28, 28))))
    (tmp_path / IDX_NAMES["test_labels"]).write_bytes(idx_labels(np.array([1, 2, 12])))
    with pytest.raises(DataFileError, match="found label 12"):
        load_mnist(tmp_path)


def test_mnist_idx_not_gzip(tmp_path):
    make_idx_dir(tmp_path, gz=True)
    (tmp_path / (IDX_NAMES["train_labels"] + ".gz")).write_bytes(b"not gzip at all")
    with pytest.raises(DataFileError, match=r"train-labels-idx1-ubyte.gz: cannot read it"):
        load_mnist(tmp_path)
