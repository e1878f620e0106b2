"""Test-session set-up shared by every test module."""

import threading

import pytest
import torch
from tqdm import tqdm

# tqdm's default write lock includes a multiprocessing semaphore shared by forked processes; a
# forked test process killed while holding it (mutation testing forks one per mutant and kills
# those that time out) would leave every later progress bar waiting forever. The tests run in
# one process, so a thread lock is all they need.
tqdm.set_lock(threading.RLock())


@pytest.fixture
def two_threads():
    """torch on two threads for the test, the caller's thread count restored after it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)
