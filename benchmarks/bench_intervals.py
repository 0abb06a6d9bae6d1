"""Benchmark incremental rule evaluation over constant intervals (``panel.cell_rates_over``, issue 14).

Subject ``incremental``: ``monthly_rates`` over 2024-01..2025-12 (the backtest's months: 2024 takes the reference
regime, 2025 the engine's ~50 constant intervals) on the base year's traded cells (HS10 x partner, ~334,000),
where each interval after the first re-evaluates only the cells something changed for.
Peer ``full``: the same call evaluating every cell on every interval (``cell_rates_over(incremental=False)``).

Each side runs in its own spawned process, interleaved A B A B; the time compared is the CPU of a warm call (the
second in the process: the first builds the MFN tables and compiles the catalogue for the cells, work both sides
share), with the first call's CPU and the peak RSS reported too. Both sides' rates are checked equal.
Usage: python benchmarks/bench_intervals.py [--pairs N]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _util import paired, save

MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]


def _run(incremental: bool, home: str) -> dict:
    os.environ["TARIFFSCOPE_HOME"] = home
    import numpy as np

    from tariffscope.ingest.warehouse import open_warehouse
    from tariffscope.tariffs import monthly, panel
    from tariffscope.trade import realized as rz

    if not incremental:  # the peer: monthly_rates over a cell_rates_over that evaluates every cell on every interval
        full = panel.cell_rates_over

        def every_cell(*args, **kwargs):
            return full(*args, **kwargs, incremental=False)

        monthly.cell_rates_over = every_cell  # type: ignore[assignment]  # the peer's one difference
    con = open_warehouse()
    base = rz.base_lines(con)
    cpu = []
    for _ in range(2):
        t0 = time.process_time()
        mr = monthly.monthly_rates(con, MONTHS, base.hts10, base.partner)
        cpu.append(time.process_time() - t0)
    con.close()
    return {"cells": len(base.hts10), "cpu_first": cpu[0], "cpu_warm": cpu[1],
            "rates_sha256": hashlib.sha256(np.ascontiguousarray(mr.rates).tobytes()).hexdigest()}


def run_incremental(home: str) -> dict:
    return _run(True, home)


def run_full(home: str) -> dict:
    return _run(False, home)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        os.environ["TARIFFSCOPE_HOME"] = home
        from tariffscope.ingest.warehouse import open_warehouse

        open_warehouse().close()  # build the warehouse once; both sides read it
        res = paired(run_incremental, run_full, home, pairs=args.pairs, seconds=lambda r: r["extra"]["cpu_warm"])
    inc, full = res["subject"], res["peer"]
    same = {r["rates_sha256"] for r in inc["extra_all"] + full["extra_all"]}
    if len(same) != 1:
        raise SystemExit("the incremental and the full evaluation gave different rates")
    payload = {"monthly_rates_2024_2025_base_cells": {
        "incremental": inc, "peer_full": full, "ratio_full_over_incremental_warm_cpu": 1 / res["ratio"],
        "pairs": res["ratios"], "load": res["load"], "cells": inc["extra"]["cells"], "target": ">= 3x warm"}}
    path = save("intervals", payload)
    print(f"{'side':<12} {'warm cpu s':>10} {'first cpu s':>11} {'peak MB':>8}")
    for name, side in (("incremental", inc), ("full", full)):
        print(f"{name:<12} {side['seconds']:>10.3f} {side['extra']['cpu_first']:>11.3f} {side['peak_mb']:>8.0f}")
    print(f"ratio full/incremental (warm CPU, median of pairs): {1 / res['ratio']:.1f}x; saved {path}")


if __name__ == "__main__":
    main()
