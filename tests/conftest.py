"""Test-session set-up shared by every test module."""

import os
import sys
import threading

import pytest
import torch
from tqdm import tqdm

from freeenergy import _params

# tqdm's default write lock includes a multiprocessing semaphore shared by forked processes; a
# forked test process killed while holding it (mutation testing forks one per mutant and kills
# those that time out) would leave every later progress bar waiting forever. The tests run in
# one process, so a thread lock is all they need.
tqdm.set_lock(threading.RLock())

# Under mutation testing every mutated function is called through mutmut's trampolines: count
# their frames as the library's, so that warnings are still attributed to the test's line.
if "mutmut" in sys.modules:
    _params.internal_paths.append(os.path.join(os.path.dirname(sys.modules["mutmut"].__file__), ""))


@pytest.fixture
def two_threads():
    """torch on two threads for the test, the caller's thread count restored after it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)
