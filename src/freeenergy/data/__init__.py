"""Data: user spectrum files and image data sets for the learning models.

- :func:`load_table`, :func:`load_spectrum` read energy levels (``.npy``, ``.txt``, ``.csv``).
- :func:`load_digits` gives scikit-learn's embedded 8x8 digits (no download).
- :func:`load_mnist` gives MNIST from IDX files, the classic ``mnist.pkl.gz``, or a
  checksummed one-time download into a cache directory.

Both image loaders return a :class:`DataSet` (float64 pixels in [0, 1], grey or binarised).
"""

from freeenergy.data._dataset import DataFileError, DataSet
from freeenergy.data.digits import load_digits
from freeenergy.data.mnist import DownloadError, default_cache_dir, load_mnist
from freeenergy.data.tables import SpectrumFileError, load_spectrum, load_table

__all__ = [
    "DataFileError",
    "DataSet",
    "DownloadError",
    "SpectrumFileError",
    "default_cache_dir",
    "load_digits",
    "load_mnist",
    "load_spectrum",
    "load_table",
]
