"""Benchmark helpers: run a callable in a fresh process, report wall time and peak memory (RSS), with the
machine's load average beside every figure.

Each subject runs in its own spawned process so that peak RSS belongs to it alone. Two subjects compared
with each other (tariffscope vs a named peer) are measured with ``paired``: subject and peer interleaved
(A B A B ...) in the same run, the ratio the median of the per-pair ratios, so that a load that comes and
goes on a shared machine hits both sides of a pair alike. Never divide figures of runs made at different
times. ``measure`` (one subject, best of ``repeat``) and ``save``/``machine`` keep their signatures.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def loadavg() -> dict[str, float] | None:
    """The 1, 5 and 15 minute load averages (/proc/loadavg), or None where the system has none."""
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    except (OSError, ValueError):
        try:
            one_f, five_f, fifteen_f = os.getloadavg()
        except OSError:
            return None
        return {"1min": round(one_f, 2), "5min": round(five_f, 2), "15min": round(fifteen_f, 2)}
    return {"1min": float(one), "5min": float(five), "15min": float(fifteen)}


def load_text(load: dict[str, float] | None) -> str:
    """'1.23 0.98 0.75' (1/5/15 min), or 'n/a'."""
    return "n/a" if not load else f"{load['1min']:.2f} {load['5min']:.2f} {load['15min']:.2f}"


def _child(queue: mp.Queue, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        t0 = time.perf_counter()
        extra = fn(*args, **kwargs)
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        queue.put({"seconds": seconds, "peak_mb": peak_mb, "extra": extra, "error": None})
    except Exception as exc:  # noqa: BLE001 - any failure is sent to the parent as text, so it does not hang
        queue.put({"seconds": None, "peak_mb": None, "extra": None, "error": repr(exc)})


def _once(fn: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    """One run in a spawned process, with the load average just before and just after it."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    before = loadavg()
    proc = ctx.Process(target=_child, args=(queue, fn, args, kwargs))
    proc.start()
    out = queue.get()
    proc.join()
    if out["error"]:
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} failed: {out['error']}")
    return {**out, "load_before": before, "load_after": loadavg()}


def measure(fn: Callable[..., Any], *args: Any, repeat: int = 1, **kwargs: Any) -> dict[str, Any]:
    """Run ``fn(*args, **kwargs)`` in a spawned process ``repeat`` times; best time, max peak RSS.

    ``fn`` must be importable (a module-level function). What it returns lands in ``extra``;
    ``load_before``/``load_after`` are the load averages around the run whose time is reported.
    """
    runs = [_once(fn, args, kwargs) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    return {
        "seconds": best["seconds"],
        "peak_mb": max(r["peak_mb"] for r in runs),
        "extra": runs[-1]["extra"],
        "repeat": repeat,
        "load_before": best["load_before"],
        "load_after": best["load_after"],
    }


def _side(runs: list[dict[str, Any]], seconds: list[float]) -> dict[str, Any]:
    return {"seconds": statistics.median(seconds), "seconds_min": min(seconds), "seconds_all": seconds,
            "peak_mb": max(r["peak_mb"] for r in runs), "extra": runs[-1]["extra"], "extra_all": [r["extra"] for r in runs]}


def paired(subject: Callable[..., Any], peer: Callable[..., Any], *args: Any, pairs: int = 3,
           subject_args: tuple | None = None, peer_args: tuple | None = None,
           seconds: Callable[[dict[str, Any]], float] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Subject and peer interleaved, A B A B ..., ``pairs`` times, each run in its own spawned process.

    Both get ``*args, **kwargs`` unless ``subject_args``/``peer_args`` are given. ``seconds`` picks the
    time to compare from a run (default: the wall time of the whole call; e.g. ``lambda r:
    r["extra"]["solve_seconds"]`` for a time measured inside). The ratio is subject/peer, the median of
    the per-pair ratios (each pair ran back to back, under about the same load), never a ratio of
    figures taken at different times. Each side reports its median and best time, its peak RSS and what
    each run returned (``extra_all``, for further per-pair ratios: ``pair_ratio``);
    ``load`` lists the load average before and after every run, in the order they ran.
    """
    pick = seconds or (lambda r: r["seconds"])
    a_runs: list[dict[str, Any]] = []
    b_runs: list[dict[str, Any]] = []
    ratios: list[float] = []
    load: list[dict[str, Any]] = []
    for i in range(pairs):
        a = _once(subject, subject_args if subject_args is not None else args, kwargs)
        b = _once(peer, peer_args if peer_args is not None else args, kwargs)
        a_runs.append(a)
        b_runs.append(b)
        ratios.append(pick(a) / pick(b))
        load += [{"pair": i, "run": "subject", "before": a["load_before"], "after": a["load_after"]},
                 {"pair": i, "run": "peer", "before": b["load_before"], "after": b["load_after"]}]
    return {
        "subject": _side(a_runs, [pick(r) for r in a_runs]),
        "peer": _side(b_runs, [pick(r) for r in b_runs]),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "pairs": pairs,
        "order": "interleaved: " + " ".join(["subject peer"] * pairs),
        "load": load,
    }


def pair_ratio(result: dict[str, Any], key: str) -> float:
    """Median over the pairs of ``paired`` of subject/peer for a figure each run returned (``extra[key]``)."""
    a, b = result["subject"]["extra_all"], result["peer"]["extra_all"]
    return statistics.median(x[key] / y[key] for x, y in zip(a, b, strict=True))


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def save(area: str, payload: dict[str, Any]) -> Path:
    """Write ``results/<area>.json`` with the machine, the time and the load average at the end of the run."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{area}.json"
    payload = {"machine": machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "load_at_save": loadavg(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


class TreePeak:
    """Peak summed RSS (MB) of a process tree, sampled every ``interval`` s on a thread while the block runs:
    this process and all its descendants, or only the descendants (``include_self=False``: a spawned subject
    and its workers, when this process only measures). ``ru_maxrss`` is one process's peak, not the tree's."""

    def __init__(self, interval: float = 0.1, include_self: bool = True) -> None:
        import psutil

        self._proc, self._interval, self._self, self.peak_mb = psutil.Process(), interval, include_self, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        total = 0
        for p in [self._proc] * self._self + self._proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a worker that just exited
                total += p.memory_info().rss
        self.peak_mb = max(self.peak_mb, total / 2**20)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
