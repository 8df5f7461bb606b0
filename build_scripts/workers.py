"""The one worker pool: `parallel_map` runs an importable function over items on every usable CPU.

Chart rendering and package validation use it. A worker costs a Python start and its imports, so a
stage says how many items make a worker worth starting; below that, everything runs in this process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(items: int, min_per_worker: int) -> int:
    """Processes worth starting for `items` tasks: at most one per CPU, each with enough work."""
    return max(1, min(usable_cpus(), items // max(min_per_worker, 1)))


def parallel_map(fn: Callable[[T], R], items: Iterable[T], min_per_worker: int = 1) -> list[R]:
    """[fn(x) for x in items], in order, on a process pool when there is enough work for two processes.

    `fn` must be a module-level function (it is pickled by name); an exception in a worker is raised
    here, as if the call had run in this process. Workers are forked from a spawn context so that no
    state of this process (open files, threads of vl-convert) leaks into them.
    """
    items = list(items)
    workers = worker_count(len(items), min_per_worker)
    if workers < 2:
        return [fn(x) for x in items]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        # a few chunks per worker: thousands of small tasks (charts at N = 1000) one by one cost more in pickling
        return list(pool.map(fn, items, chunksize=max(1, len(items) // (workers * 8))))
