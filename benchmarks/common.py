"""Timing helpers shared by the benchmarks: best-of-n wall time and a uniform report line."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def report(name: str, seconds: float, baseline_name: str, baseline_seconds: float, note: str = ""):
    """Print one benchmark line: our time, the baseline's, and their ratio."""
    ratio = baseline_seconds / seconds
    print(
        f"{name}: {seconds:.3f} s | baseline ({baseline_name}): {baseline_seconds:.3f} s | "
        f"speed-up x{ratio:.2f}" + (f" | {note}" if note else "")
    )
    return ratio
