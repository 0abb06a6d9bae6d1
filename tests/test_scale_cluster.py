"""A real Dask cluster: a scheduler and workers as separate processes on 127.0.0.1 (the ``dask`` CLI).

A sweep through the cluster equals the serial table exactly; a worker killed mid-sweep costs a retry,
not a row; a task that keeps killing its workers ends in a clear ``ModelError``. The scheduler runs
with ``allowed-failures = 1`` so that the second death of the same task is final.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import pytest

from tariffscope.compose.sweep import run_sweep
from tariffscope.errors import ModelError
from tariffscope.parallel import get_executor

pytestmark = pytest.mark.cluster
cloudpickle.register_pickle_by_value(sys.modules[__name__])

BIN = Path(sys.executable).parent


def slow_model(params: dict, seed: int) -> dict:
    """Closed form plus a little wall time, so a sweep is still running when a worker is killed."""
    time.sleep(0.04)
    x, y = params["x"], params["y"]
    return {"f": (1 + x) ** -3 * (1 + y) ** 2, "g": x * y + (seed % 1000) / 1000}


def poison_model(params: dict, seed: int) -> dict:
    if params["x"] == 2:
        os._exit(13)  # kills whichever worker runs it, every time
    time.sleep(0.02)
    return {"f": params["x"]}


SPEC = {"name": "cl", "model": f"python:{__name__}:slow_model", "seed": 5, "batch": 3,
        "grid": [{"name": "x", "from": 0.0, "to": 0.3, "step": 0.02}, {"name": "y", "values": [0.1, 0.2, 0.3, 0.4, 0.5]}]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(address: str, name: str) -> subprocess.Popen:
    # Keep the caller's PYTHONPATH too, so workers import the tariffscope under test, not an installed one.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent),
                                                                    os.environ.get("PYTHONPATH")])))
    return subprocess.Popen(
        [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
         "--host", "127.0.0.1", "--name", name],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


class Cluster:
    def __init__(self) -> None:
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")
        self.scheduler = subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.workers = [_worker(self.address, "w1"), _worker(self.address, "w2")]

    def add_worker(self, name: str) -> subprocess.Popen:
        w = _worker(self.address, name)
        self.workers.append(w)
        return w

    def stop(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in [*self.workers, self.scheduler]:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        ex = _connect(c.address)
        ex.client.wait_for_workers(2, timeout=60)
        yield c, ex
        ex.close()
    finally:
        c.stop()


def _connect(address: str):
    deadline = time.monotonic() + 60
    while True:
        try:
            return get_executor(cluster=address, retries=0)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_sweep_on_cluster_equals_serial(cluster):
    c, ex = cluster
    ref = run_sweep(SPEC, backend="serial", progress=False)
    res = run_sweep(SPEC, executor=ex, progress=False)
    assert res.backend == "dask" and res.workers == 2
    assert res.table.equals(ref.table)
    assert res.table.num_rows == 16 * 5 * 2


def test_worker_killed_mid_sweep_is_retried(cluster):
    c, ex = cluster
    ref = run_sweep(SPEC, backend="serial", progress=False)
    box: dict = {}

    def run():
        try:
            box["res"] = run_sweep(SPEC, executor=ex, progress=False)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["err"] = exc

    t = threading.Thread(target=run)
    t.start()
    # Kill worker w1 once the sweep is under way (both workers busy with 0.12 s tasks).
    deadline = time.monotonic() + 30
    while not any(ex.client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert t.is_alive(), "the sweep finished before the worker could be killed"
    os.kill(c.workers[0].pid, signal.SIGKILL)
    t.join(timeout=120)
    assert not t.is_alive()
    assert "err" not in box, box.get("err")
    # Every grid point is there, with exactly the serial values: the lost tasks ran again on w2.
    assert box["res"].table.equals(ref.table)
    assert c.workers[0].wait(timeout=10) == -signal.SIGKILL


def test_task_that_keeps_killing_workers_is_a_clear_error(cluster):
    c, ex = cluster
    c.add_worker("w3")
    ex.client.wait_for_workers(2, timeout=60)
    spec = {"name": "poison", "model": f"python:{__name__}:poison_model", "batch": 1,
            "grid": [{"name": "x", "values": [0, 1, 2, 3, 4, 5]}]}
    # Usually the lost task is the poison point itself (2); a task queued on the same worker when it died
    # is counted as suspicious too, so it may be the one that reaches the limit first.
    with pytest.raises(ModelError, match=r"tasks \d+\.\.\d+ of sweep poison were lost: the workers running them "
                                         r"died repeatedly .*no partial result is returned"):
        run_sweep(spec, executor=ex, progress=False)
