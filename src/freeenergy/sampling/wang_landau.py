"""Wang-Landau estimation of the density of states of Ising-type spin models.

Wang & Landau, Phys. Rev. Lett. 86, 2050 (2001): a random walk in configuration space accepted
with probability ``min(1, g(E_old) / g(E_new))`` visits every energy equally often once ``g`` is
right; each visit multiplies the running estimate ``g(E)`` by ``f``. ``ln f`` starts at 1 and is
halved whenever the visit histogram is flat, down to ``ln_f_final``. The ``"1/t"`` variant
(Belardinelli & Pereyra, Phys. Rev. E 75, 046701 (2007)) switches to ``ln f = 1/t`` (``t`` =
Monte Carlo time in sweeps) as soon as halving would take ``ln f`` below ``1/t``; its error keeps
falling as ``t^(-1/2)`` where the plain schedule's saturates.

Any model with single-spin-flip moves and pairwise couplings fits through a
:class:`NeighbourTable` (sites, their neighbours, couplings and fields), built for a model by
:func:`neighbour_table` from a dispatch table (IsingLattice and IsingChain are registered; a new
model registers its own builder with :func:`register_neighbour_table`).
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from freeenergy._params import InputError, InputTypeError, check_int, check_real, fail
from freeenergy.sampling import _wl_kernels as kernels
from freeenergy.sampling._wl_kernels import NeighbourTable
from freeenergy.spectra.dos import DensityOfStates
from freeenergy.systems import IsingChain, IsingLattice

__all__ = [
    "NeighbourTable",
    "WangLandauError",
    "WangLandauResult",
    "WangLandauWarning",
    "neighbour_table",
    "register_neighbour_table",
    "wang_landau",
]

_OWNER = "wang_landau"
_MAX_BINS = 4_000_000
_METHODS = ("standard", "1/t")


_BUILDERS: dict[type, Callable[[object], NeighbourTable]] = {}


def register_neighbour_table(cls: type) -> Callable:
    """Decorator: register ``builder(model) -> NeighbourTable`` for models of type ``cls``."""

    def deco(builder: Callable[[object], NeighbourTable]) -> Callable[[object], NeighbourTable]:
        _BUILDERS[cls] = builder
        return builder

    return deco


def neighbour_table(model) -> NeighbourTable:
    """The :class:`NeighbourTable` of ``model`` (looked up by type; a table passes through)."""
    if isinstance(model, NeighbourTable):
        return model
    for cls in type(model).__mro__:
        if cls in _BUILDERS:
            return _BUILDERS[cls](model)
    known = ", ".join(sorted(c.__name__ for c in _BUILDERS))
    raise InputTypeError(
        f"The 'model' parameter of {_OWNER} must be a NeighbourTable or a model with a registered "
        f"neighbour table ({known}). Got {type(model).__name__} instead; register one with "
        "freeenergy.sampling.wang_landau.register_neighbour_table."
    )


@register_neighbour_table(IsingLattice)
def _lattice_table(lat: IsingLattice) -> NeighbourTable:
    idx = np.arange(lat.n_sites).reshape(lat.rows, lat.cols)
    right, down = np.roll(idx, -1, axis=1), np.roll(idx, -1, axis=0)
    bonds = np.concatenate([np.stack([idx, right], -1), np.stack([idx, down], -1)]).reshape(-1, 2)
    return NeighbourTable.from_bonds(lat.n_sites, bonds, lat.J, lat.h)


@register_neighbour_table(IsingChain)
def _chain_table(chain: IsingChain) -> NeighbourTable:
    i = np.arange(chain.n_bonds)
    return NeighbourTable.from_bonds(chain.n, np.stack([i, (i + 1) % chain.n], -1), chain.J, chain.h)


class WangLandauWarning(RuntimeWarning):
    """Issued (with ``quiet=True``) when a run stops at ``max_sweeps`` before ``ln_f_final``."""


class WangLandauError(RuntimeError):
    """Raised when a run stops at ``max_sweeps``; ``.result`` holds the unconverged result."""

    def __init__(self, result: WangLandauResult, msg: str):
        super().__init__(msg)
        self.result = result


@dataclass(frozen=True, eq=False)
class WangLandauResult:
    """A Wang-Landau estimate of ``log g(E)`` and the diagnostics of its run.

    Attributes
    ----------
    dos : DensityOfStates
        The estimate (levels between the lowest and highest visited; never-visited levels have
        ``log_g = -inf``).
    energies, log_g : ndarray, shape (k,)
        The same arrays (energy units; nats). Normalised so that ``sum g = 2^N``, or so that
        the lowest visited level has ``g = ground_degeneracy`` when that was given.
    visited : ndarray of bool, shape (k,)
        Levels the walk reached.
    histogram : ndarray of int, shape (k,)
        Visits during the last stage.
    ln_f_final : float
        The last modification factor used (``1/t`` at the end of a ``"1/t"`` run).
    ln_f_schedule : ndarray
        ``ln f`` of each stage, in order (the ``1/t`` stage appears once, at its final value).
    stage_sweeps : ndarray of int
        Sweeps (``N`` attempted flips each) completed when each stage ended.
    flatness_history : ndarray
        ``min H / mean H`` over visited levels at every flatness check.
    n_iterations : int
        Number of stages (``ln f`` values).
    n_sweeps, n_flips, n_accepted : int
        Monte Carlo time: sweeps, attempted and accepted flips.
    seconds : float
        Wall time of the run.
    method : str
        ``"standard"`` or ``"1/t"``.
    converged : bool
        Whether ``ln_f_final`` was reached before ``max_sweeps``.
    log_g_stderr : ndarray, shape (k,)
        One standard deviation of ``log_g`` at each level, from the spread over independent
        walks (``n_walks >= 2``: ``std(ddof=1) / sqrt(n_walks)`` of the normalised walks; 0 at
        a level fixed by the normalisation); NaN for one walk, and at levels not every walk
        visited.
    walks : tuple of WangLandauResult
        With ``n_walks >= 2``, each walk's own result; the schedule and histogram fields above
        are the first walk's, the Monte Carlo counts and the time are totals. Empty for one walk.
    """

    dos: DensityOfStates
    energies: np.ndarray
    log_g: np.ndarray
    visited: np.ndarray
    histogram: np.ndarray
    ln_f_final: float
    ln_f_schedule: np.ndarray
    stage_sweeps: np.ndarray
    flatness_history: np.ndarray
    n_iterations: int
    n_sweeps: int
    n_flips: int
    n_accepted: int
    seconds: float
    method: str
    converged: bool
    log_g_stderr: np.ndarray | None = None
    walks: tuple = ()

    @property
    def flips_per_second(self) -> float:
        """Attempted flips per second of wall time."""
        return self.n_flips / self.seconds if self.seconds > 0 else math.inf


def _rng_state(seed) -> np.ndarray:
    if isinstance(seed, np.random.Generator):
        state = seed.integers(0, 2**64, size=4, dtype=np.uint64, endpoint=False)
    elif isinstance(seed, np.random.SeedSequence):
        state = seed.generate_state(4, dtype=np.uint64)
    elif seed is None:
        state = np.random.SeedSequence().generate_state(4, dtype=np.uint64)
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        state = np.random.SeedSequence(int(seed)).generate_state(4, dtype=np.uint64)
    else:
        raise fail("seed", _OWNER, "None, an int >= 0, a SeedSequence or a Generator", seed)
    if not state.any():  # xoshiro's one forbidden state
        state[0] = 1
    return state.copy()


def _check_args(method, ln_f_final, ln_f_initial, flatness, ground_degeneracy, bin_width) -> None:
    if method not in _METHODS:
        raise fail("method", _OWNER, "'standard' or '1/t'", method)
    if not 0 < check_real("ln_f_final", ln_f_final, _OWNER) < 1:
        raise fail("ln_f_final", _OWNER, "a number in (0, 1)", ln_f_final)
    if not ln_f_final < check_real("ln_f_initial", ln_f_initial, _OWNER) <= 10:
        raise fail("ln_f_initial", _OWNER, f"a number in (ln_f_final={ln_f_final}, 10]", ln_f_initial)
    if not 0 < check_real("flatness", flatness, _OWNER) < 1:
        raise fail("flatness", _OWNER, "a number in (0, 1)", flatness)
    if ground_degeneracy is not None:
        check_int("ground_degeneracy", ground_degeneracy, _OWNER, 1)
    if bin_width is not None and not check_real("bin_width", bin_width, _OWNER) > 0:
        raise fail("bin_width", _OWNER, "a number > 0 or None", bin_width)


def _grid(table: NeighbourTable, e_start: float, bin_width) -> tuple[float, float, int]:
    """Lowest bin centre, bin width and number of bins covering every possible energy."""
    bound = float(np.abs(table.couplings).sum() / 2 + np.abs(table.field).sum())
    width = bin_width if bin_width is not None else table.energy_step()
    if width == 0:  # no couplings and no field: a single level
        return e_start, 1.0, 1
    below = math.floor((e_start + bound) / width + 1e-9)
    n_bins = below + math.floor((bound - e_start) / width + 1e-9) + 1
    if n_bins > _MAX_BINS:
        raise InputError(
            f"{_OWNER} would need {n_bins} energy bins of width {width:g} (the gcd of the "
            f"couplings and fields); pass a coarser 'bin_width' (at most {_MAX_BINS} bins)."
        )
    return e_start - below * width, width, n_bins


def wang_landau(
    model,
    *,
    ln_f_final: float = 1e-8,
    method: str = "standard",
    flatness: float = 0.8,
    ln_f_initial: float = 1.0,
    check_every: int = 1000,
    max_sweeps: int | None = None,
    ground_degeneracy: int | None = None,
    bin_width: float | None = None,
    seed=None,
    n_walks: int = 1,
    progress: bool = False,
    quiet: bool = False,
) -> WangLandauResult:
    """Estimate the density of states ``log g(E)`` of a spin model by Wang-Landau sampling.

    Parameters
    ----------
    model : IsingLattice, IsingChain, NeighbourTable or a registered model
        Any model with a :func:`neighbour_table` (single-spin flips, pairwise couplings).
    ln_f_final : float
        Stop once ``ln f`` falls below this (standard: halving ends below it; ``"1/t"``: run
        until ``t = 1/ln_f_final`` sweeps). In (0, 1).
    method : {"standard", "1/t"}
        Halve ``ln f`` on every flat histogram, or (Belardinelli & Pereyra 2007) halve it each
        time every visited level has been revisited (``min H > 0``) and switch to
        ``ln f = 1/t`` once a halving would go below ``1/t``.
    flatness : float
        ``"standard"``: a histogram is flat when ``min H >= flatness * mean H`` over visited
        levels (in (0, 1); unused by ``"1/t"``).
    ln_f_initial : float
        First modification factor, ``ln f_0``.
    check_every : int
        Sweeps between flatness checks (each check is one compiled call; each stage lasts at
        least this long).
    max_sweeps : int or None
        Stop after this many sweeps (``None``: no limit), raising :class:`WangLandauError`
        (or warning :class:`WangLandauWarning` when ``quiet=True``).
    ground_degeneracy : int or None
        ``None``: normalise to ``sum g = 2^N``. Otherwise give the lowest visited level this
        degeneracy (e.g. 2 for the ferromagnetic Ising model at h = 0).
    bin_width : float or None
        Energy bin width; ``None`` uses the model's exact level spacing (see
        :meth:`NeighbourTable.energy_step`). Coarser bins count states per bin.
    seed : None, int, SeedSequence or Generator
        Seeds the in-kernel xoshiro256** generator; same seed, bit-identical result.
    n_walks : int
        Independent walks (seeds spawned from ``seed``), >= 1. With 2 or more the estimate is
        their mean normalised ``log g`` and ``log_g_stderr`` its standard error.
    progress : bool
        Show a tqdm bar over the stages.
    quiet : bool
        Warn instead of raising when ``max_sweeps`` is reached.

    Returns
    -------
    WangLandauResult
        ``dos``, ``log_g`` and the run's diagnostics.

    Examples
    --------
    >>> import numpy as np, freeenergy as fe
    >>> from freeenergy.sampling.wang_landau import wang_landau
    >>> res = wang_landau(fe.IsingLattice(2, 2), ln_f_final=1e-4, seed=0)
    >>> res.energies.tolist(), np.round(np.exp(res.log_g)).tolist()  # exact: 2, 12, 2
    ([-8.0, -4.0, 0.0, 4.0, 8.0], [2.0, 0.0, 12.0, 0.0, 2.0])
    """
    table = neighbour_table(model)
    _check_args(method, ln_f_final, ln_f_initial, flatness, ground_degeneracy, bin_width)
    check_every = check_int("check_every", check_every, _OWNER, 1)
    if max_sweeps is not None:
        max_sweeps = check_int("max_sweeps", max_sweeps, _OWNER, 1)
    n_walks = check_int("n_walks", n_walks, _OWNER, 1)
    args = (table, method, ln_f_initial, ln_f_final, flatness, check_every, max_sweeps,
            ground_degeneracy, bin_width, progress)
    if n_walks == 1:
        result = _one_walk(_rng_state(seed), *args)
    else:
        seeds = _spawn(seed, n_walks)
        result = _combine([_one_walk(_rng_state(s), *args) for s in seeds], table, ground_degeneracy)
    if not result.converged:
        msg = (f"{_OWNER} reached max_sweeps={max_sweeps} at ln f = {result.ln_f_final:.3g} "
               f"(> ln_f_final={ln_f_final:g}); the estimate in .result is not converged.")  # fmt: skip
        if not quiet:
            raise WangLandauError(result, msg)
        warnings.warn(msg, WangLandauWarning, stacklevel=2)
    return result


def _spawn(seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (any form :func:`_rng_state` accepts)."""
    if isinstance(seed, np.random.Generator):
        return [np.random.SeedSequence(s) for s in seed.integers(0, 2**63, size=n)]
    if isinstance(seed, np.random.SeedSequence):  # a copy: spawning advances the caller's
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key,
                                      pool_size=seed.pool_size).spawn(n)
    _rng_state(seed)  # validates it
    return np.random.SeedSequence(None if seed is None else int(seed)).spawn(n)


def _one_walk(rng, table, method, ln_f_initial, ln_f_final, flatness, check_every, max_sweeps,
              ground_degeneracy, bin_width, progress) -> WangLandauResult:
    start = time.perf_counter()
    spins = kernels.init_spins(table.n_sites, rng)
    energy = table.energy(spins)
    e_lo, width, n_bins = _grid(table, energy, bin_width)
    walk = _Walk(table, spins, energy, e_lo, 1.0 / width, n_bins, rng)
    schedule, stage_sweeps, flat_hist, converged = walk.run(
        method, ln_f_initial, ln_f_final, flatness, check_every, max_sweeps, progress
    )
    return _result(walk, e_lo, width, ground_degeneracy, method, converged,
                   schedule, stage_sweeps, flat_hist, time.perf_counter() - start)  # fmt: skip


def _normalise(log_g: np.ndarray, visited: np.ndarray, n_sites: int, ground_degeneracy) -> np.ndarray:
    """``log_g`` shifted so that ``sum g = 2^N``, or the lowest level has ``ground_degeneracy``."""
    if ground_degeneracy is None:
        return log_g - (np.logaddexp.reduce(log_g[visited]) - n_sites * math.log(2.0))
    return log_g - (log_g[np.flatnonzero(visited)[0]] - math.log(ground_degeneracy))


def _combine(walks: list[WangLandauResult], table, ground_degeneracy) -> WangLandauResult:
    """The mean normalised ``log g`` of independent walks, with its standard error."""
    energies = np.unique(np.concatenate([w.energies for w in walks]))
    stack = np.full((len(walks), energies.size), -np.inf)
    for i, w in enumerate(walks):
        stack[i, np.searchsorted(energies, w.energies)] = w.log_g
    visited = np.isfinite(stack).all(0)
    mean = np.where(visited, stack.mean(0), -np.inf)
    log_g = _normalise(mean, visited, table.n_sites, ground_degeneracy)
    # the normalisation of each walk is part of its error: compare normalised walks
    spread = np.where(visited, np.std(np.where(visited, stack, 0.0), axis=0, ddof=1), np.nan)
    first = walks[0]
    dos = DensityOfStates(energies, log_g)
    histogram = np.zeros(energies.size, dtype=np.int64)
    histogram[np.searchsorted(energies, first.energies)] = first.histogram
    return WangLandauResult(
        dos=dos, energies=dos.energies, log_g=dos.log_g, visited=visited, histogram=histogram,
        ln_f_final=max(w.ln_f_final for w in walks), ln_f_schedule=first.ln_f_schedule,
        stage_sweeps=first.stage_sweeps, flatness_history=first.flatness_history,
        n_iterations=first.n_iterations, n_sweeps=sum(w.n_sweeps for w in walks),
        n_flips=sum(w.n_flips for w in walks), n_accepted=sum(w.n_accepted for w in walks),
        seconds=sum(w.seconds for w in walks), method=first.method,
        converged=all(w.converged for w in walks), log_g_stderr=spread / math.sqrt(len(walks)),
        walks=tuple(walks),
    )


class _Walk:
    """Mutable state of one run; calls the kernel in chunks of ``check_every`` sweeps."""

    def __init__(self, table, spins, energy, e_lo, inv_width, n_bins, rng):
        self.t, self.spins, self.energy, self.rng = table, spins, energy, rng
        self.e_lo, self.inv_width = e_lo, inv_width
        self.log_g = np.zeros(n_bins)
        self.hist = np.zeros(n_bins, dtype=np.int64)
        self.seen = np.zeros(n_bins, dtype=bool)
        self.flips = self.accepted = 0

    def chunk(self, n_attempts: int, ln_f: float, one_over_t: bool) -> None:
        self.energy, acc = kernels.wl_chunk(
            self.spins, self.t.neighbours, self.t.couplings, self.t.field, self.energy,
            self.e_lo, self.inv_width, self.log_g, self.hist, ln_f, one_over_t,
            float(self.flips), n_attempts, self.rng,
        )  # fmt: skip
        self.flips += n_attempts
        self.accepted += acc
        self.seen |= self.hist > 0

    def flatness(self) -> float:
        h = self.hist[self.seen]
        return float(h.min() / h.mean())

    def run(self, method, ln_f, ln_f_final, flatness, check_every, max_sweeps, progress):
        n = self.t.n_sites
        limit = math.inf if max_sweeps is None else max_sweeps * n
        schedule, ends, flat_hist = [ln_f], [], []
        bar = _bar(progress, math.ceil(math.log2(ln_f / ln_f_final)))
        one_over_t = False
        while self.flips < limit:
            if one_over_t:  # ln f = N / flips until it reaches ln_f_final
                todo = min(check_every * n, math.ceil(n / ln_f_final) - self.flips, limit - self.flips)
                self.chunk(int(todo), 0.0, True)
                schedule[-1] = n / self.flips
                if schedule[-1] <= ln_f_final:
                    break
                continue
            self.chunk(int(min(check_every * n, limit - self.flips)), ln_f, False)
            flat_hist.append(self.flatness())
            if flat_hist[-1] < (flatness if method == "standard" else 1e-300):
                continue  # "1/t": a stage ends once every known level was revisited (BP 2007)
            ends.append(self.flips // n)
            bar.update(1)
            ln_f /= 2
            if ln_f < ln_f_final:
                break
            self.hist[:] = 0
            one_over_t = method == "1/t" and ln_f < n / self.flips
            schedule.append(n / self.flips if one_over_t else ln_f)
        else:
            bar.close()
            return schedule, ends, flat_hist, False
        if one_over_t:
            ends.append(self.flips // n)
        bar.close()
        return schedule, ends, flat_hist, True


class _NoBar:
    def update(self, _n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(progress: bool, total: int):
    if not progress:
        return _NoBar()
    return tqdm(total=total, desc=_OWNER, unit="stage")


def _result(walk, e_lo, width, ground_degeneracy, method, converged,
            schedule, stage_sweeps, flat_hist, seconds) -> WangLandauResult:  # fmt: skip
    first, last = np.flatnonzero(walk.seen)[[0, -1]]
    sl = slice(first, last + 1)
    visited = walk.seen[sl].copy()
    log_g = _normalise(np.where(visited, walk.log_g[sl], -np.inf), visited, walk.t.n_sites,
                       ground_degeneracy)
    energies = e_lo + width * np.arange(first, last + 1)
    dos = DensityOfStates(energies, log_g)
    n = walk.t.n_sites
    return WangLandauResult(
        dos=dos, energies=dos.energies, log_g=dos.log_g, visited=visited,
        histogram=walk.hist[sl].copy(), ln_f_final=float(schedule[-1]),
        ln_f_schedule=np.asarray(schedule), stage_sweeps=np.asarray(stage_sweeps, dtype=np.int64),
        flatness_history=np.asarray(flat_hist), n_iterations=len(schedule),
        n_sweeps=walk.flips // n, n_flips=walk.flips, n_accepted=walk.accepted,
        seconds=seconds, method=method, converged=converged,
        log_g_stderr=np.full(visited.size, np.nan),
    )  # fmt: skip
