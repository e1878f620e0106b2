"""Reading the IDX files MNIST is distributed in (LeCun's format, optionally gzip-compressed).

An IDX file is a big-endian header followed by raw unsigned bytes::

    images: int32 magic 2051, int32 count, int32 rows, int32 cols, count*rows*cols bytes
    labels: int32 magic 2049, int32 count, count bytes
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from freeenergy.data._dataset import DataFileError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def read_bytes(path: Path) -> bytes:
    """The content of ``path``, decompressed when its name ends in ``.gz``."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFileError(f"{path}: cannot read it ({exc}); the file is corrupt or truncated") from None


def _header(path: Path, raw: bytes, magic: int, n_dims: int) -> tuple[int, ...]:
    size = 4 * (1 + n_dims)
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    if len(raw) < 4:
        raise DataFileError(f"{path}: {len(raw)} bytes is too short for an IDX file; it is truncated")
    found = struct.unpack(">i", raw[:4])[0]
    if found != magic:
        raise DataFileError(
            f"{path}: magic number {found} is not {magic} (IDX {kind}, unsigned bytes); "
            f"this is not an MNIST {kind} file"
        )
    if len(raw) < size:
        raise DataFileError(
            f"{path}: {len(raw)} bytes is too short for an IDX {kind} header ({size} bytes); "
            "the file is truncated"
        )
    dims = struct.unpack(f">{n_dims}i", raw[4:size])
    expected = size + int(np.prod(dims, dtype=np.int64))
    if min(dims) < 0 or len(raw) != expected:
        raise DataFileError(
            f"{path}: the header announces dimensions {tuple(dims)}, i.e. {expected} bytes, "
            f"but the data holds {len(raw)}; the file is truncated or corrupt"
        )
    return tuple(dims)


def read_images(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Images of ``path`` as float64 in [0, 1] (byte / 255), shape (n, rows * cols)."""
    raw = read_bytes(path)
    n, rows, cols = _header(path, raw, IMAGES_MAGIC, 3)
    if (rows, cols) != shape:
        raise DataFileError(f"{path}: images are {rows}x{cols}, expected {shape[0]}x{shape[1]}")
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols)
    return pixels / 255.0


def read_labels(path: Path) -> np.ndarray:
    """Labels of ``path`` as int64 digits 0-9, shape (n,)."""
    raw = read_bytes(path)
    _header(path, raw, LABELS_MAGIC, 1)
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8).astype(np.int64)
    if labels.size and labels.max() > 9:
        raise DataFileError(f"{path}: found label {labels.max()}, expected digits 0-9")
    return labels
