"""Benchmark the two-sided package comparison with 200 Monte Carlo draws (issue 13: under 30 s).

Subject: ``api.compare(['japan-deal', 'japan-deal-2025'], draws=200)``: both packages' US regimes resolved
against the engine, the PE point solve, 200 draws of the US side on 2 worker processes, plus the partner side
(export base, export-elasticity and additionality draws, the official-basis levels from ``trade.balance``).
Peer: the one-sided comparison ``api.compare(['june-2025', 'japan-deal'], draws=200)`` in the same run, the
comparison the tool had before packages had a partner side; the ratio says what the partner side costs.
Each runs in a fresh spawned process (peak RSS of its own) on the same warehouse.
"""
from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _util import measure, save

DRAWS = 200
LIMIT_S = 30.0
PACKAGE = ["japan-deal", "japan-deal-2025"]
PEER = ["june-2025", "japan-deal"]


def _cpu() -> float:
    # this process and its finished children (the Monte Carlo workers): CPU seconds, independent of the load
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_compare(names: list[str], draws: int) -> dict:
    from tariffscope import api

    cpu0 = _cpu()
    res = api.compare(names, draws=draws, seed=0, workers=2, progress=False)
    last = res.packages[-1]
    bal = next(m for m in last["headline"] if m["name"] == "balance_with_partner")
    return {"balance_p05": bal.get("p05"), "balance_p95": bal.get("p95"), "two_sided": "two_sided" in last,
            "cpu_s": _cpu() - cpu0}


def main() -> None:
    from tariffscope.ingest.warehouse import open_warehouse

    open_warehouse().close()  # the embedded data are loaded once, before either subject is timed
    ours = measure(run_compare, PACKAGE, DRAWS)
    peer = measure(run_compare, PEER, DRAWS)
    print(f"{'subject':<58}{'s':>9}{'peak MB':>10}")
    print(f"{'compare ' + ' '.join(PACKAGE) + f' --draws {DRAWS}':<58}{ours['seconds']:>9.2f}{ours['peak_mb']:>10.0f}")
    print(f"{'peer: compare ' + ' '.join(PEER) + f' --draws {DRAWS}':<58}{peer['seconds']:>9.2f}{peer['peak_mb']:>10.0f}")
    x = ours["extra"]
    load = os.getloadavg()[0]
    print(f"CPU (this process and its reaped workers): package {x['cpu_s']:.1f} s, one-sided {peer['extra']['cpu_s']:.1f} s -> on 2 free cores about "
          f"{x['cpu_s'] / 2:.1f} s for the package (load average during this run: {load:.1f} on {os.cpu_count()} cores)")
    print(f"ratio package / one-sided = {ours['seconds'] / peer['seconds']:.2f}x; balance band of japan-deal-2025 "
          f"[{x['balance_p05'] / 1e9:+.2f}, {x['balance_p95'] / 1e9:+.2f}] bn; two-sided rows: {x['two_sided']}; "
          f"limit {LIMIT_S:g} s: {'ok' if ours['seconds'] < LIMIT_S else 'EXCEEDED'}")
    path = save("package", {"task": f"two-sided package comparison, {DRAWS} draws, 2 workers",
                            "tariffscope": ours, "one_sided_peer": peer, "ratio": ours["seconds"] / peer["seconds"],
                            "limit_s": LIMIT_S, "load_average": load})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
