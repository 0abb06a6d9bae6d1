"""Benchmark helpers: run a callable in a fresh process, report wall time and peak memory (RSS).

Each subject runs in its own spawned process so that peak RSS belongs to it alone, and subjects
compared with each other (tariffscope vs a named peer) run in the same benchmark run.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _child(queue: mp.Queue, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        t0 = time.perf_counter()
        extra = fn(*args, **kwargs)
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        queue.put({"seconds": seconds, "peak_mb": peak_mb, "extra": extra, "error": None})
    except Exception as exc:  # noqa: BLE001 - any failure is sent to the parent as text, so it does not hang
        queue.put({"seconds": None, "peak_mb": None, "extra": None, "error": repr(exc)})


def measure(fn: Callable[..., Any], *args: Any, repeat: int = 1, **kwargs: Any) -> dict[str, Any]:
    """Run ``fn(*args, **kwargs)`` in a spawned process ``repeat`` times; best time, max peak RSS.

    ``fn`` must be importable (a module-level function). What it returns lands in ``extra``.
    """
    ctx = mp.get_context("spawn")
    runs = []
    for _ in range(repeat):
        queue: mp.Queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(queue, fn, args, kwargs))
        proc.start()
        out = queue.get()
        proc.join()
        if out["error"]:
            raise RuntimeError(f"{getattr(fn, '__name__', fn)} failed: {out['error']}")
        runs.append(out)
    return {
        "seconds": min(r["seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "extra": runs[-1]["extra"],
        "repeat": repeat,
    }


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def save(area: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{area}.json"
    payload = {"machine": machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
