"""The execution seam: same results on every backend, order kept, task errors named by index."""
from __future__ import annotations

import os
import sys
import time

import cloudpickle
import numpy as np
import pytest

from tariffscope.errors import InputError, ModelError
from tariffscope.parallel import Executor, TaskError, _assemble, get_executor, seed_int, spawn_seeds

# Dask workers cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def seeded_draw(task: tuple[int, np.random.SeedSequence]) -> tuple[int, float]:
    """A Monte-Carlo-like task: its stream depends only on its own child seed."""
    index, child = task
    rng = np.random.default_rng(child)
    x = rng.normal(size=200)
    return index, float(x @ x + rng.gamma(2.0))


def slow_square(i: int) -> int:
    # Early items sleep longest, so they finish last on a parallel backend: order must still hold.
    time.sleep(0.02 * ((20 - i) % 5))
    return i * i


def fail_at_7(i: int) -> int:
    if i == 7:
        raise ValueError(f"bad item {i}")
    return i


@pytest.fixture(scope="module")
def dask_local():
    ex = get_executor(cluster="local:2")
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def process2():
    ex = get_executor("process", workers=2)
    yield ex
    ex.close()


def test_spawn_seeds_are_deterministic_and_distinct():
    a, b = spawn_seeds(42, 5), spawn_seeds(42, 5)
    assert [seed_int(s) for s in a] == [seed_int(s) for s in b]
    assert len({seed_int(s) for s in a}) == 5
    # Child i does not depend on how many siblings were spawned: the first 3 of 5 equal the 3 of 3.
    assert [seed_int(s) for s in spawn_seeds(42, 3)] == [seed_int(s) for s in a[:3]]
    assert seed_int(spawn_seeds(43, 1)[0]) != seed_int(a[0])


def test_same_results_on_every_backend(process2, dask_local):
    tasks = list(enumerate(spawn_seeds(2026, 40)))
    with get_executor("serial") as serial:
        ref = serial.map(seeded_draw, tasks, progress=False)
    # Reference computed directly, without any executor: the seam must not change the numbers.
    direct = [seeded_draw(t) for t in tasks]
    assert ref == direct
    assert process2.map(seeded_draw, tasks, chunksize=3, progress=False) == ref
    assert dask_local.map(seeded_draw, tasks, chunksize=3, progress=False) == ref
    # Chunking does not change results either.
    assert dask_local.map(seeded_draw, tasks, chunksize=1, progress=False) == ref
    assert isinstance(dask_local, Executor) and dask_local.backend == "dask"
    # The cluster was asked for 2 workers; the live count can dip while a nanny restarts one under heavy load.
    assert dask_local._own_cluster is not None and len(dask_local._own_cluster.workers) == 2
    assert 1 <= dask_local.workers <= 2


def test_order_is_preserved(process2, dask_local):
    expected = [i * i for i in range(20)]
    assert process2.map(slow_square, range(20), chunksize=1, progress=False) == expected
    assert dask_local.map(slow_square, range(20), chunksize=1, progress=False) == expected
    # Lambdas and closures travel too (cloudpickle).
    k = 3
    assert process2.map(lambda x: x + k, [1, 2, 3], progress=False) == [4, 5, 6]


@pytest.mark.parametrize("which", ["serial", "process", "dask"])
def test_task_error_names_the_index(which, process2, dask_local):
    ex = {"serial": get_executor("serial"), "process": process2, "dask": dask_local}[which]
    with pytest.raises(TaskError) as info:
        ex.map(fail_at_7, range(12), desc="draws", chunksize=4, progress=False)
    err = info.value
    assert err.index == 7 and err.total == 12
    assert "task 7 (of 12) of 'draws' failed: ValueError: bad item 7" in str(err)
    assert isinstance(err.__cause__, ValueError) and isinstance(err, ModelError)
    assert "fail_at_7" in err.remote_traceback


def test_dead_process_worker_is_a_clear_error():
    with get_executor("process", workers=1) as ex:
        with pytest.raises(ModelError, match="worker process died"):
            ex.map(os._exit, [3], progress=False)
        # The executor recovers: a new pool serves the next map.
        assert ex.map(abs, [-1, -2], progress=False) == [1, 2]


def test_incomplete_results_are_refused():
    # Chunk 0..1 and chunk 3 arrived, chunk 2 did not: only the contiguous prefix (2) counts.
    with pytest.raises(ModelError, match="got 2 results for 5 tasks"):
        _assemble({0: [1, 2], 3: [4]}, 5, None)


def test_bad_backend_and_cluster():
    with pytest.raises(InputError, match="unknown backend 'gpu'"):
        get_executor("gpu")
    with pytest.raises(InputError, match="tcp://HOST:PORT"):
        get_executor(cluster="10.0.0.1:8786")
    with pytest.raises(InputError, match="worker count"):
        get_executor(cluster="local:zero")


def test_progress_bar_renders_on_stderr(capsys):
    with get_executor("serial") as ex:
        assert ex.map(abs, [-1, -2, -3], desc="demo") == [1, 2, 3]
    err = capsys.readouterr().err
    assert "demo [serial]" in err and "3/3" in err
