"""One execution seam for embarrassingly parallel work: Monte Carlo draws, scenario grids, GE experiments.

``get_executor()`` returns an :class:`Executor` with one core method, ``map(fn, items)``, which runs
``fn(item)`` for every item and returns the results **in the order of the items**, whatever the
backend:

- ``serial``  — in this process (debugging, tiny jobs, reference results);
- ``process`` — local worker processes (default; ``forkserver`` start, one task per process at a time);
- ``dask``    — a Dask distributed cluster: ``cluster='tcp://HOST:PORT'`` connects to a running
  scheduler, ``cluster='local:N'`` starts a ``LocalCluster`` of N single-threaded worker processes.

Determinism: draw random numbers only from per-task seeds made by :func:`spawn_seeds` (numpy
``SeedSequence.spawn``); a task's stream then depends on its index, never on which worker ran it or
when, so every backend gives identical results for the same seed.

Failures: an exception inside ``fn`` becomes a :class:`TaskError` (a ``ModelError``) naming the task
index, chained to the original exception (``__cause__``) and carrying the remote traceback text.
With Dask a task whose worker dies is re-run elsewhere (the scheduler's ``allowed-failures``; plus
``retries=`` on submit); if it keeps failing the map raises a clear ``ModelError``. The result count
is always checked: a map never returns silently missing results.

Functions are shipped with cloudpickle, so lambdas and closures work on every backend; the modules
they import must be importable on the workers (install tariffscope there).
"""
from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, Protocol, Self, TypeVar, runtime_checkable

import cloudpickle
import numpy as np

from tariffscope.errors import InputError, ModelError

T = TypeVar("T")
R = TypeVar("R")
Backend = Literal["serial", "process", "dask"]
BACKENDS: tuple[str, ...] = ("serial", "process", "dask")

#: Environment variable read when no ``cluster`` is given: e.g. ``tcp://10.0.0.5:8786``.
CLUSTER_ENV = "TARIFFSCOPE_CLUSTER"


# --- seeds --------------------------------------------------------------------------------------


def spawn_seeds(seed: int | np.random.SeedSequence | None, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (numpy ``SeedSequence.spawn``), one per task.

    Child ``i`` depends only on ``(seed, i)``, so a task's random stream is independent of scheduling.
    Use ``np.random.default_rng(child)`` inside the task. ``seed=None`` draws fresh OS entropy
    (not reproducible).
    """
    if n < 0:
        raise InputError(f"spawn_seeds: n must be >= 0, got {n}")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return root.spawn(n)


def seed_int(child: np.random.SeedSequence) -> int:
    """A 64-bit integer summary of a child seed (for tidy output tables; ``default_rng(int)`` re-creates a stream)."""
    return int(child.generate_state(1, dtype=np.uint64)[0])


# --- errors -------------------------------------------------------------------------------------


class TaskError(ModelError):
    """Task ``index`` raised; the original exception is ``__cause__`` (and ``.original``)."""

    def __init__(self, index: int, total: int, desc: str | None, original: BaseException | None,
                 error_type: str, message: str, remote_traceback: str = "") -> None:
        self.index, self.total, self.original = index, total, original
        self.error_type, self.remote_traceback = error_type, remote_traceback
        what = f" of {desc!r}" if desc else ""
        super().__init__(f"task {index} (of {total}){what} failed: {error_type}: {message}")


@dataclass
class _Failure:
    """What a worker sends back when ``fn`` raised (the exception itself may not pickle)."""

    index: int
    error_type: str
    message: str
    remote_traceback: str
    exc_bytes: bytes | None


def _run_chunk(fn_bytes: bytes, start: int, items: Sequence[Any]) -> list[Any] | _Failure:
    """Run ``fn`` over one chunk in a worker; stop at the first failure and report its task index."""
    fn = cloudpickle.loads(fn_bytes)
    out = []
    for offset, item in enumerate(items):
        try:
            out.append(fn(item))
        except Exception as exc:  # noqa: BLE001 - reported to the caller with its index
            try:
                exc_bytes = cloudpickle.dumps(exc)
                cloudpickle.loads(exc_bytes)
            except Exception:  # noqa: BLE001 - unpicklable exception: keep its text only
                exc_bytes = None
            return _Failure(start + offset, type(exc).__name__, str(exc), traceback.format_exc(), exc_bytes)
    return out


def _raise_failure(f: _Failure, total: int, desc: str | None) -> NoReturn:
    original = cloudpickle.loads(f.exc_bytes) if f.exc_bytes is not None else None
    err = TaskError(f.index, total, desc, original, f.error_type, f.message, f.remote_traceback)
    raise err from original


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _default_chunksize(n: int, workers: int) -> int:
    # About four chunks per worker: enough for load balancing, few enough to amortise the overhead.
    return max(1, math.ceil(n / max(1, workers * 4)))


# --- progress -----------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar on stderr (no-op when ``enabled`` is false)."""

    def __init__(self, total: int, desc: str | None, enabled: bool, backend: str) -> None:
        self._bar = None
        if enabled and total > 0:
            from rich.console import Console
            from rich.markup import escape
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=False)
            self._task = self._bar.add_task(escape(f"{desc or 'tasks'} [{backend}]"), total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def advance(self, k: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, k)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


# --- executors ----------------------------------------------------------------------------------


@runtime_checkable
class Executor(Protocol):
    """What every backend offers. Use as a context manager, or call ``close()``."""

    backend: str
    workers: int

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, desc: str | None = None,
            chunksize: int | None = None, progress: bool = True) -> list[R]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class _Base:
    backend = "base"
    workers = 1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden where there is something to close
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend} workers={self.workers}>"


class SerialExecutor(_Base):
    """Runs every task in this process, in order."""

    backend = "serial"

    def __init__(self) -> None:
        self.workers = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, desc: str | None = None,
            chunksize: int | None = None, progress: bool = True) -> list[R]:
        items = list(items)
        n = len(items)
        fn_bytes = cloudpickle.dumps(fn)  # same path as the other backends: fn must pickle everywhere
        out: list[Any] = []
        with _Progress(n, desc, progress, self.backend) as bar:
            for start, stop in _chunks(n, chunksize or max(1, n)):
                res = _run_chunk(fn_bytes, start, items[start:stop])
                if isinstance(res, _Failure):
                    _raise_failure(res, n, desc)
                out.extend(res)
                bar.advance(stop - start)
        return out


class ProcessExecutor(_Base):
    """Local worker processes (``forkserver``: safe with threads in the parent, e.g. the progress bar)."""

    backend = "process"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = int(workers or os.cpu_count() or 1)
        if self.workers < 1:
            raise InputError(f"workers must be >= 1, got {workers}")
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context(method))
        return self._pool

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, desc: str | None = None,
            chunksize: int | None = None, progress: bool = True) -> list[R]:
        items = list(items)
        n = len(items)
        if n == 0:
            return []
        fn_bytes = cloudpickle.dumps(fn)
        size = chunksize or _default_chunksize(n, self.workers)
        pool = self._get_pool()
        results: dict[int, list[Any]] = {}
        with _Progress(n, desc, progress, self.backend) as bar:
            pending = {pool.submit(_run_chunk, fn_bytes, s, items[s:e]): (s, e) for s, e in _chunks(n, size)}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        s, e = pending.pop(fut)
                        res = fut.result()
                        if isinstance(res, _Failure):
                            _raise_failure(res, n, desc)
                        results[s] = res
                        bar.advance(e - s)
            except BrokenProcessPool as exc:
                self._pool = None
                raise ModelError(f"a worker process died while running {desc or 'tasks'} "
                                 f"({len(results)} of {len(_chunks(n, size))} chunks done): {exc}") from exc
            finally:
                for fut in pending:
                    fut.cancel()
        return _assemble(results, n, desc)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(_Base):
    """Tasks on a Dask distributed cluster: an existing scheduler, or a LocalCluster we start and own."""

    backend = "dask"

    def __init__(self, cluster: str | None = None, workers: int | None = None, retries: int = 2,
                 client: Any = None, no_worker_timeout: float = 60.0) -> None:
        from dask.distributed import Client, LocalCluster

        self.retries = retries
        self.no_worker_timeout = no_worker_timeout
        self._own_cluster = None
        self.address = cluster
        if client is not None:
            self.client = client
            self._own_client = False
        else:
            if cluster is None or cluster.startswith("local"):
                from_spec = int(cluster.split(":", 1)[1]) if cluster and ":" in cluster else None
                n = workers or from_spec or (os.cpu_count() or 1)
                # silence_logs=ERROR: the nanny's "still alive after 4 s, killing" at close is routine.
                self._own_cluster = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True,
                                                 dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self._own_cluster, set_as_default=False)
            else:
                try:
                    self.client = Client(cluster, set_as_default=False, timeout="20s")
                except OSError as exc:
                    raise InputError(f"cannot connect to the Dask scheduler at {cluster}: {exc}") from exc
            self._own_client = True
        self.workers = self._count_workers()

    def _count_workers(self) -> int:
        if _accepts_n_workers(self.client):
            info = self.client.scheduler_info(n_workers=-1)
        else:
            info = self.client.scheduler_info()
        return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, desc: str | None = None,
            chunksize: int | None = None, progress: bool = True) -> list[R]:
        from dask.distributed import as_completed
        from distributed.scheduler import KilledWorker

        items = list(items)
        n = len(items)
        if n == 0:
            return []
        self.workers = self._count_workers()
        fn_bytes = cloudpickle.dumps(fn)
        fn_future = self.client.scatter(fn_bytes, broadcast=True) if len(fn_bytes) > 100_000 else fn_bytes
        size = chunksize or _default_chunksize(n, self.workers)
        futures = {}
        for s, e in _chunks(n, size):
            key = f"tariffscope-{desc or 'task'}-{s}-{os.urandom(4).hex()}"
            fut = self.client.submit(_run_chunk, fn_future, s, items[s:e], pure=False, retries=self.retries, key=key)
            futures[fut] = (s, e)
        results: dict[int, list[Any]] = {}
        what = desc or "tasks"
        # with_results: each result is fetched as soon as its task finishes, so a worker that dies later
        # cannot take finished results with it.
        ac = as_completed(list(futures), loop=self.client.loop, with_results=True, raise_errors=False)
        with _Progress(n, desc, progress, self.backend) as bar:
            try:
                no_workers_since: float | None = None
                last_check = 0.0
                while len(results) < len(futures):
                    if not ac.has_ready():
                        now = time.monotonic()
                        if now - last_check > 2.0:  # a cluster with no workers would wait forever
                            last_check = now
                            if not self.client.nthreads():
                                no_workers_since = no_workers_since or now
                                if now - no_workers_since > self.no_worker_timeout:
                                    raise ModelError(
                                        f"{what}: no Dask worker connected to {self.address or 'the cluster'} for "
                                        f"{self.no_worker_timeout:g} s; {len(results)} of {len(futures)} chunks "
                                        "finished — no partial result is returned")
                            else:
                                no_workers_since = None
                        time.sleep(0.02)
                        continue
                    for fut, res in ac.next_batch(block=False):
                        s, e = futures[fut]
                        if isinstance(res, tuple) and len(res) == 3 and isinstance(res[1], BaseException):
                            res = res[1]  # an errored future yields (type, exception, traceback)
                        if isinstance(res, KilledWorker):
                            raise ModelError(
                                f"tasks {s}..{e - 1} of {what} were lost: the workers running them died repeatedly "
                                f"({res}); {len(results)} of {len(futures)} chunks finished — no partial result "
                                "is returned") from res
                        if isinstance(res, BaseException):
                            raise ModelError(f"tasks {s}..{e - 1} of {what} failed on the cluster: "
                                             f"{type(res).__name__}: {res}") from res
                        if isinstance(res, _Failure):
                            _raise_failure(res, n, desc)
                        results[s] = res
                        bar.advance(e - s)
            finally:
                pending = [f for f in futures if not f.done()]
                if pending:
                    self.client.cancel(pending)
        return _assemble(results, n, desc)

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._own_cluster is not None:
            self._own_cluster.close()
            self._own_cluster = None


def _accepts_n_workers(client: Any) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


def _assemble(results: dict[int, list[Any]], n: int, desc: str | None) -> list[Any]:
    out: list[Any] = []
    for start in sorted(results):
        if start != len(out):
            break
        out.extend(results[start])
    if len(out) != n:  # never hand back a silently incomplete result
        raise ModelError(f"{desc or 'tasks'}: got {len(out)} results for {n} tasks")
    return out


def get_executor(backend: str = "process", workers: int | None = None, cluster: str | None = None,
                 *, retries: int = 2) -> Executor:
    """The executor for ``backend``: ``'process'`` (default), ``'serial'`` or ``'dask'``.

    ``cluster`` (implies ``dask``): ``'tcp://HOST:PORT'`` connects to a running scheduler;
    ``'local:N'`` starts a LocalCluster of N single-threaded worker processes (closed with the
    executor). With ``backend='dask'`` and no ``cluster``, ``$TARIFFSCOPE_CLUSTER`` is used if set,
    else a LocalCluster of ``workers`` processes. ``retries``: re-runs of a Dask task that failed.
    """
    if cluster is None and backend == "dask":
        cluster = os.environ.get(CLUSTER_ENV) or None
    if cluster is not None:
        if not (cluster.startswith("tcp://") or cluster.startswith("tls://") or cluster.startswith("local")):
            raise InputError(f"cluster must be 'tcp://HOST:PORT' or 'local:N', got {cluster!r}")
        if cluster.startswith("local:"):
            try:
                if int(cluster.split(":", 1)[1]) < 1:
                    raise ValueError
            except ValueError:
                raise InputError(f"cluster 'local:N' needs a worker count N >= 1, got {cluster!r}") from None
        backend = "dask"
    if backend == "serial":
        return SerialExecutor()
    if backend == "process":
        return ProcessExecutor(workers)
    if backend == "dask":
        return DaskExecutor(cluster, workers=workers, retries=retries)
    raise InputError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
