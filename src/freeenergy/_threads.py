"""Run small torch work on one thread.

Torch splits even small matrix products and element-wise ops over its intra-op thread pool.
When another process keeps a core busy, every such op waits for the busy core, and a small run
can take a hundred times longer on two threads than on one. Work this small gains nothing from
threads, so it runs on one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

SMALL_WORK = 2**23
"""Multiply-adds per step below which one thread is used (a 100 x 784 x 100 product is ~2^23)."""


@contextlib.contextmanager
def threads_for(work: int) -> Iterator[None]:
    """Limit torch to one intra-op thread inside the block when ``work < SMALL_WORK``.

    ``work`` is the size of the step's largest operation in multiply-adds. The previous thread
    count is restored on exit (also after an error).
    """
    previous = torch.get_num_threads()
    if work >= SMALL_WORK or previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
