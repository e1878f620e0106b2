"""The benchmarks' one harness: equal threads, interleaved rounds, and the one ratio line.

Every script that prints a ratio goes through these functions, so that every ratio is measured
and reported the same way:

* :func:`add_arguments` and :func:`setup`: the options every script shares (``--quick``,
  ``--rounds``, ``--warmup``, ``--threads``, ``--no-pin``), and the thread set-up. One thread by
  default, for *both* sides: torch's intra-op pool (``torch.set_num_threads``), every BLAS and
  OpenMP pool that threadpoolctl finds (NumPy's, SciPy's and scikit-learn's OpenBLAS, libgomp),
  numba's, and ``OMP_NUM_THREADS`` & co. for subprocesses; then the whole process (every
  thread) is pinned to that many cores with ``os.sched_setaffinity`` where it exists. A pool
  that is not at the requested size after this is named in the header.
* :func:`measure`: the competitors run interleaved, A, B, A, B, ..., for ``rounds`` rounds
  (>= 5 for a measurement) after ``warmup`` untimed rounds; each call's wall time is recorded,
  plus any timings the callable returns itself (e.g. a training call's own epoch time).
* :func:`ratio_line`: min and median time of each side, and the median over rounds of the
  per-round ratio baseline / ours (> 1: ours is faster), with its range and the ratio of the
  minima; the dtype and the thread count are part of the line.
* :func:`gemm_side` and :func:`rate_line`: for matmul-bound kernels, the same matrix products
  the kernel does (shapes, layouts, dtype), run by ``torch.mm`` alone as one more interleaved
  side: this machine's matmul ceiling for that work. The line gives the kernel's achieved
  GFLOP/s and its fraction of the ceiling.

``--quick`` (also ``FREEENERGY_BENCH_QUICK=1``) shrinks every script to a smoke run of a few
seconds: it checks that the scripts work and measures nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

MIN_ROUNDS = 5
QUICK_ENV = "FREEENERGY_BENCH_QUICK"
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")



class Timings(dict):
    """Figures a side measures itself (seconds, or any per-unit figure), by name: a side that
    returns one has them recorded beside its wall time ``"call"``; other return values are
    ignored."""


Timer = Callable[[], object]
"""A competitor: one call does the timed work (and may return :class:`Timings`)."""


@dataclass(frozen=True)
class Run:
    """What :func:`setup` fixed: the parsed options, threads per pool, the pinned CPUs."""

    quick: bool
    rounds: int
    warmup: int
    threads: int
    cpus: tuple[int, ...] | None

    @property
    def where(self) -> str:
        """``"1 thread, CPU 0"``: the thread part of every report line."""
        text = f"{self.threads} thread{'s' if self.threads > 1 else ''}"
        if self.cpus is not None:
            text += f", CPU{'s' if len(self.cpus) > 1 else ''} {','.join(map(str, self.cpus))}"
        return text


_RUN: Run | None = None
_LIMITS = None  # threadpoolctl's limiter, kept alive: its limits hold until it is restored


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options every benchmark takes; :func:`setup` applies them."""
    parser.add_argument("--quick", action="store_true", default=os.environ.get(QUICK_ENV) == "1",
                        help=f"smoke run: small sizes, 2 rounds; measures nothing (or {QUICK_ENV}=1)")
    parser.add_argument("--rounds", type=int, default=None,
                        help=f"interleaved timed rounds (default {MIN_ROUNDS}; 2 with --quick)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of every pool, ours and the baselines' alike (default 1)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the process to --threads cores")
    return parser


def setup(args: argparse.Namespace, title: str) -> Run:
    """Fix the threads of every pool to ``args.threads``, pin to that many cores, print the header.

    Call it after the script's imports (threadpoolctl only limits libraries already loaded).
    """
    global _RUN, _LIMITS
    import scipy.linalg  # noqa: F401  (load SciPy's BLAS, so that its pool is limited too)
    from threadpoolctl import threadpool_info, threadpool_limits

    n = args.threads
    if n < 1:
        raise SystemExit(f"--threads must be >= 1, got {n}")
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else MIN_ROUNDS)
    os.environ.update(dict.fromkeys(_THREAD_ENV, str(n)))  # for subprocesses
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # only settable before the first inter-op work; unused by the benchmarks
        pass
    _LIMITS = threadpool_limits(limits=n)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    cpus = _pin(n) if not args.no_pin else None
    _RUN = Run(args.quick, rounds, args.warmup, n, cpus)

    pools = {"torch": torch.get_num_threads()}
    for info in threadpool_info():
        pools[f"{info['internal_api']} ({info['prefix']})"] = info["num_threads"]
    if "numba" in sys.modules:
        pools["numba"] = sys.modules["numba"].get_num_threads()
    off = {k: v for k, v in pools.items() if v != n}
    print(f"# {title}")
    print(f"# {_cpu_model()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{_RUN.where}; pools: " + ", ".join(sorted({f'{k} {v}' for k, v in pools.items()})))
    print(f"# python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}; "
          f"{rounds} interleaved rounds after {args.warmup} warm-up; ratio = baseline time / ours "
          f"(> 1: ours faster), median of per-round ratios")
    if off:
        print(f"# WARNING: pools not at {n} thread(s): {off}")
    if cpus is not None and len(cpus) < n:
        print(f"# WARNING: {n} threads share {len(cpus)} allowed CPU(s)")
    if args.quick:
        print("# --quick: a smoke run at small sizes; the numbers below measure nothing")
    elif rounds < MIN_ROUNDS:
        print(f"# WARNING: {rounds} rounds (< {MIN_ROUNDS}): not a measurement")
    return _RUN


def _pin(n: int) -> tuple[int, ...] | None:
    """Pin every thread of this process (and what it starts later) to ``n`` allowed CPUs."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpus = tuple(sorted(os.sched_getaffinity(0))[:n])
    tasks = [int(t) for t in os.listdir("/proc/self/task")] if os.path.isdir("/proc/self/task") else [0]
    for tid in tasks:
        try:
            os.sched_setaffinity(tid, cpus)
        except OSError:  # a thread that ended meanwhile
            pass
    return cpus


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def current() -> Run:
    """The :class:`Run` of the last :func:`setup`."""
    if _RUN is None:
        raise RuntimeError("call common.setup(args, title) first")
    return _RUN


def measure(sides: Mapping[str, Timer], rounds: int | None = None,
            warmup: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Run the ``sides`` interleaved: ``warmup`` untimed rounds, then ``rounds`` timed ones.

    Each round calls every side once, in the order given (A, B, A, B, ...), so that a change of
    load hits all sides alike and per-round ratios pair runs made seconds apart. Returns, per
    side, arrays (one value per round) of the wall time ``"call"`` and of the
    :class:`Timings` the side returned. Defaults: the rounds of :func:`setup`.
    """
    run = current()
    rounds = run.rounds if rounds is None else rounds
    warmup = run.warmup if warmup is None else warmup
    for _ in range(warmup):
        for fn in sides.values():
            fn()
    out: dict[str, dict[str, list[float]]] = {name: {} for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            start = time.perf_counter()
            extra = fn()
            record = {"call": time.perf_counter() - start}
            if isinstance(extra, Timings):
                record.update(extra)
            for key, value in record.items():
                out[name].setdefault(key, []).append(float(value))
    return {name: {k: np.asarray(v) for k, v in d.items()} for name, d in out.items()}


@dataclass(frozen=True)
class Series:
    """One side's per-round values of one timing, with the name it is printed under."""

    name: str
    values: np.ndarray

    @property
    def min(self) -> float:
        return float(np.min(self.values))

    @property
    def median(self) -> float:
        return float(np.median(self.values))

    def text(self, unit: str = "s") -> str:
        return f"{self.name} min {self.min:.4g} / median {self.median:.4g} {unit}"


def _paired(base: Series, ours: Series) -> dict[str, float]:
    """Median and range of the per-round ratios base / ours, and the ratio of the minima."""
    if base.values.shape != ours.values.shape:
        raise ValueError("per-round ratios need the same rounds on both sides")
    r = base.values / ours.values
    return {"median": float(np.median(r)), "lo": float(r.min()), "hi": float(r.max()),
            "minima": base.min / ours.min, "rounds": r.size}


def ratio_line(label: str, ours: Series, base: Series, *, dtype: str, where: str | None = None,
               unit: str = "s", note: str = "") -> float:
    """Print one comparison; return the median of the per-round ratios ``base / ours``.

    ``dtype`` names the precision of *both* sides (they must compute in the same one) and
    ``where`` the threads (default: :attr:`Run.where`, equal for both sides by construction).
    """
    p = _paired(base, ours)
    where = current().where if where is None else where
    print(f"{label} [{dtype}, {where}]: {ours.text(unit)} | {base.text(unit)} | "
          f"x{p['median']:.2f} (median of {p['rounds']} per-round ratios, range "
          f"x{p['lo']:.2f}-x{p['hi']:.2f}; ratio of minima x{p['minima']:.2f})"
          + (f" | {note}" if note else ""))
    return p["median"]


def times_line(label: str, series: Sequence[Series], *, dtype: str, unit: str = "s",
               note: str = "") -> None:
    """Print min / median of timings that have no baseline."""
    print(f"{label} [{dtype}, {current().where}]: " + "; ".join(s.text(unit) for s in series)
          + (f" | {note}" if note else ""))


def gemm_side(products: Sequence[tuple[str, int, int, int]], dtype: torch.dtype, repeat: int = 1,
              device: str = "cpu") -> tuple[Timer, float]:
    """The ceiling: a callable doing only the given matrix products with ``torch.mm``.

    ``products`` lists ``(layout, m, k, n)`` for ``A (m x k) @ B (k x n)``; ``layout`` is two
    letters, ``n`` for a contiguous operand and ``t`` for a transposed view (as ``W.T`` in the
    kernel), e.g. ``"nt"``. The callable runs the list ``repeat`` times into preallocated
    outputs. Returns it and the FLOPs of one call, ``2 m k n`` per product.
    """
    gen = torch.Generator().manual_seed(0)
    operands: dict[tuple[str, int, int, int], tuple[torch.Tensor, ...]] = {}
    ops, flops = [], 0.0
    for key in products:
        layout, m, k, n = key
        if key not in operands:  # one set of operands per distinct product, reused (as W is)
            a = torch.rand(m, k, generator=gen) if layout[0] == "n" else torch.rand(k, m, generator=gen).T
            b = torch.rand(k, n, generator=gen) if layout[1] == "n" else torch.rand(n, k, generator=gen).T
            operands[key] = (a.to(device=device, dtype=dtype), b.to(device=device, dtype=dtype),
                             torch.empty(m, n, dtype=dtype, device=device))
        ops.append(operands[key])
        flops += 2.0 * m * k * n

    def run() -> None:
        for _ in range(repeat):
            for a, b, out in ops:
                torch.mm(a, b, out=out)
        if device == "cuda":
            torch.cuda.synchronize()

    return run, flops * repeat


def rate_line(label: str, flops: float, ours: Series, ceiling: Series, *, dtype: str, count: str,
              where: str | None = None) -> float:
    """Print the kernel's GFLOP/s beside the ``torch.mm`` ceiling on the same products.

    ``flops`` are the FLOPs of the kernel's matrix products per call (``count`` says how they
    are counted); the fraction of the ceiling is the median of the per-round ratios
    ``ceiling time / kernel time`` (the ceiling does exactly those products). Returns it.
    """
    p = _paired(ceiling, ours)
    where = current().where if where is None else where
    print(f"  {label} [{dtype}, {where}]: matmul work {flops / 1e9:.3g} GFLOP per call ({count}); "
          f"ours {flops / ours.min / 1e9:.1f} GFLOP/s at its minimum (median "
          f"{flops / ours.median / 1e9:.1f}); ceiling torch.mm on the same products "
          f"{flops / ceiling.min / 1e9:.1f} GFLOP/s (median {flops / ceiling.median / 1e9:.1f}) "
          f"-> {p['median']:.2f} of the ceiling (median per round; at the minima {p['minima']:.2f})")
    return p["median"]


def dtype_name(dtype: torch.dtype | np.dtype | type) -> str:
    """``"float32"`` for ``torch.float32``, ``np.float32`` or ``np.dtype("float32")``."""
    return str(dtype).removeprefix("torch.") if isinstance(dtype, torch.dtype) else np.dtype(dtype).name
