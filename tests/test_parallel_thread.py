"""The thread backend (``parallel.ThreadExecutor``): the brief's Monte Carlo draws run on it, so it must give the
serial backend's results in item order, name a failing task, and the scenario draws must not depend on it."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from tariffscope.errors import InputError, ModelError
from tariffscope.models.uncertainty import run_draws
from tariffscope.parallel import TaskError, get_executor


def _draw(item):
    i, seed = item
    return np.random.default_rng(seed).standard_normal(3) + i


def test_thread_backend_matches_serial_in_order():
    serial = run_draws(_draw, 23, seed=7, backend="serial", progress=False)
    threaded = run_draws(_draw, 23, seed=7, backend="thread", workers=3, progress=False)
    assert threaded.shape == (23, 3)
    assert np.array_equal(serial, threaded)


def test_thread_backend_runs_on_several_threads():
    seen: set[int] = set()
    barrier = threading.Barrier(2, timeout=10)

    def task(x: int) -> int:
        seen.add(threading.get_ident())
        if x < 2:  # the first two tasks only finish once both run at the same time
            barrier.wait()
        return x * x

    with get_executor("thread", workers=2) as ex:
        assert ex.backend == "thread"
        assert ex.map(task, range(6), chunksize=1, progress=False) == [x * x for x in range(6)]
    assert len(seen) == 2


def test_thread_backend_names_the_failing_task():
    def task(x: int) -> int:
        if x == 4:
            raise ValueError("bad item")
        return x

    with get_executor("thread", workers=2) as ex, pytest.raises(TaskError, match="task 4") as info:
        ex.map(task, range(8), chunksize=1, progress=False)
    assert isinstance(info.value, ModelError)
    assert isinstance(info.value.__cause__, ValueError)


def test_thread_backend_rejects_no_workers():
    with pytest.raises(InputError, match="workers must be >= 1"):
        get_executor("thread", workers=-1)
