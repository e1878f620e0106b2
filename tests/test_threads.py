"""Small torch work runs on one thread; the caller's thread count always comes back."""

import pytest
import torch

from freeenergy._threads import SMALL_WORK, threads_for


def test_small_work_uses_one_thread_and_restores(two_threads):
    with threads_for(SMALL_WORK - 1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_large_work_keeps_the_pool(two_threads):
    with threads_for(SMALL_WORK):
        assert torch.get_num_threads() == 2


def test_thread_count_restored_after_an_error(two_threads):
    with pytest.raises(RuntimeError), threads_for(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2
