"""Test-session set-up shared by every test module."""

import threading

from tqdm import tqdm

# tqdm's default write lock includes a multiprocessing semaphore shared by forked processes; a
# forked test process killed while holding it (mutation testing forks one per mutant and kills
# those that time out) would leave every later progress bar waiting forever. The tests run in
# one process, so a thread lock is all they need.
tqdm.set_lock(threading.RLock())
