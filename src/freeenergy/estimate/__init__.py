"""Estimators of ``log Z``; every one returns an :class:`Estimate`.

* :func:`exact_log_partition` (:mod:`freeenergy.estimate.exact`): exact enumeration of one
  layer of an RBM (up to 32 units), chunked and vectorised, float64 accumulation.
* :func:`ais` and :func:`reverse_ais` (:mod:`freeenergy.estimate.ais`): annealed importance
  sampling from a base-rate model (a stochastic lower bound on ``log Z``) and reverse annealing
  from data (a stochastic upper bound), with standard errors and effective sample sizes.
* :func:`log_likelihood` and :func:`bracket` (:mod:`freeenergy.estimate.likelihood`): mean
  ``log p(v)`` of a data set with the uncertainty of ``log Z`` carried through, and the
  conservative / optimistic pair from reverse and forward AIS; :func:`raise_log_likelihood`,
  the per-example reverse-annealing (RAISE) estimate, conservative for any data.
"""

from freeenergy.estimate._result import Estimate
from freeenergy.estimate.ais import ais, base_rate_logits, default_betas, reverse_ais
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.estimate.likelihood import (
    BracketWarning,
    LikelihoodBracket,
    LogLikelihood,
    bracket,
    log_likelihood,
    raise_log_likelihood,
)

__all__ = [
    "BracketWarning",
    "Estimate",
    "LikelihoodBracket",
    "LogLikelihood",
    "ais",
    "base_rate_logits",
    "bracket",
    "default_betas",
    "exact_log_partition",
    "log_likelihood",
    "raise_log_likelihood",
    "reverse_ais",
]
