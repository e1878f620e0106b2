"""The shape every result with an uncertainty shares, and the record of the log Z estimators."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from freeenergy._io import jsonable

__all__ = ["Estimate", "Mean", "Uncertain"]


class Uncertain:
    """The common shape of every result that carries an uncertainty.

    ``value`` with ``stderr`` (one standard deviation), an interval ``[lower, upper]`` whose
    meaning the result documents, the ``method`` that produced it and ``n``, the number of
    samples or examples behind it. :class:`Estimate` (log Z), the log-likelihoods of
    :mod:`freeenergy.estimate.likelihood` and :mod:`freeenergy.estimate.variational`, and the
    means of a Helmholtz free energy all offer these names, so code that reports or compares
    results needs no special case.
    """

    __slots__ = ()

    def z_score(self, reference: float) -> float:
        """``(value - reference) / stderr``: how many standard deviations ``value`` is off
        ``reference`` (for a zero stderr: 0 if they are equal, else an infinity of the sign)."""
        diff = self.value - float(reference)
        if self.stderr == 0:
            return 0.0 if diff == 0 else math.copysign(math.inf, diff)
        return diff / self.stderr


@dataclass(frozen=True)
class Mean(Uncertain):
    """A mean with its uncertainty, in the common shape (e.g. a mean free energy)."""

    value: float
    stderr: float
    lower: float
    upper: float
    method: str
    n: int


@dataclass(frozen=True)
class Estimate(Uncertain):
    """An estimate of ``log Z`` (nats) with its uncertainty and diagnostics.

    Attributes
    ----------
    log_z : float
        The estimate of ``log Z`` in nats (float64).
    stderr : float
        One standard deviation of ``log_z`` (not a confidence half-width). Exact methods
        have ``stderr == 0``.
    lower, upper : float
        An interval for ``log Z`` whose meaning the method documents (for example ``log_z -+
        3 stderr``, or a stochastic lower bound). Exact methods have
        ``lower == upper == log_z``.
    method : str
        The estimator, e.g. ``"exact"`` or ``"ais"``.
    n_samples : int
        How many configurations or samples went into the estimate (for ``"exact"``, the
        number of configurations enumerated).
    info : dict
        Method-specific diagnostics (timings, chunking, effective sample sizes, ...).

    Examples
    --------
    >>> from freeenergy.estimate import Estimate
    >>> est = Estimate(12.5, 0.0, 12.5, 12.5, "exact", 1024)
    >>> print(est)
    log Z = 12.500000 ± 0 (exact, n = 1024)
    >>> est.free_energy
    -12.5
    >>> est.as_dict()["method"]
    'exact'
    """

    log_z: float
    stderr: float
    lower: float
    upper: float
    method: str
    n_samples: int
    info: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        for name in ("log_z", "stderr", "lower", "upper"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "n_samples", int(self.n_samples))
        object.__setattr__(self, "method", str(self.method))
        object.__setattr__(self, "info", dict(self.info))

    @property
    def value(self) -> float:
        """``log_z`` (the common name of :class:`Uncertain`)."""
        return self.log_z

    @property
    def n(self) -> int:
        """``n_samples`` (the common name of :class:`Uncertain`)."""
        return self.n_samples

    @property
    def free_energy(self) -> float:
        """``F = -log Z`` at ``T = 1`` (energy units = nats)."""
        return -self.log_z

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain JSON-ready Python values (non-finite floats become strings)."""
        return jsonable(
            {
                "log_z": self.log_z,
                "stderr": self.stderr,
                "lower": self.lower,
                "upper": self.upper,
                "method": self.method,
                "n_samples": self.n_samples,
                "info": self.info,
            }
        )

    def __str__(self) -> str:
        err = "0" if self.stderr == 0 else f"{self.stderr:.3g}"
        interval = ""
        if not (self.lower == self.upper == self.log_z) and math.isfinite(self.log_z):
            interval = f", [{self.lower:.6f}, {self.upper:.6f}]"
        return f"log Z = {self.log_z:.6f} ± {err} ({self.method}, n = {self.n_samples}{interval})"
