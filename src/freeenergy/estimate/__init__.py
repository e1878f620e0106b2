"""Estimators of ``log Z``; every one returns an :class:`Estimate`.

* :func:`exact_log_partition` (:mod:`freeenergy.estimate.exact`): exact enumeration of one
  layer of an RBM (up to 32 units), chunked and vectorised, float64 accumulation.
"""

from freeenergy.estimate._result import Estimate
from freeenergy.estimate.exact import exact_log_partition

__all__ = ["Estimate", "exact_log_partition"]
