"""Benchmark the PE backtest: all partners with monthly data x HS2 (and HS4 in ch. 84/85/87) x 15 months
(2025-01..2026-03), end to end from the warehouse, against a named peer in the same run.

Subjects (each in its own spawned process, wall time and peak RSS):

* ``backtest_all``: ``compose.backtest.backtest(con, "ALL", "2025-01", "2026-03", draws=0)``: data, the
  engine's monthly rates for ~330,000 HS10 x partner lines, 15 PE solves, cells, metrics. Target < 30 s.
* ``backtest_all_mc``: the same with 50 Monte Carlo draws (bands and coverage).
* ``model_tariffscope`` vs ``model_peer_pandas``: the model step alone on identical inputs (lines, monthly
  rates, elasticities, absorption prepared once and saved): tariffscope's closed form
  (``pe.absorbed_ratios`` over all months at once, numpy bincounts) vs a plain pandas evaluation of the
  same formula (groupby-transform per HS10 for the CES index, groupby per partner x HS2 for the cells),
  month by month. Both must agree to 1e-9 on every cell.

CPU seconds (process time) are reported beside wall time: the machine is often shared.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _util import measure, paired, save

START, END = "2025-01", "2026-03"
TARGET_SECONDS = 30.0


def backtest_all(draws: int = 0) -> dict:
    from tariffscope.compose.backtest import backtest
    from tariffscope.ingest.warehouse import open_warehouse

    con = open_warehouse()
    c0 = time.process_time()
    t0 = time.perf_counter()
    r = backtest(con, "ALL", START, END, draws=draws)
    return {"seconds_in_call": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
            "partners": len(r.partners), "months": len(r.months), "cells": len(r.cells),
            "mae_hs2_held_out_weighted_pp": r.metrics["held_out"]["hs2"]["mae_yy_pp_weighted"]}


def _prepare(path: str) -> None:
    """Lines, monthly rates a year apart, elasticities and absorption as the backtest builds them."""
    from tariffscope.compose.backtest import _year_before, months_between
    from tariffscope.ingest.warehouse import open_warehouse
    from tariffscope.models import elasticities as el
    from tariffscope.tariffs.monthly import monthly_rates
    from tariffscope.trade import realized as rz

    con = open_warehouse()
    base = rz.base_lines(con)
    months = months_between(START, END)
    rate_months = sorted(set(months) | {_year_before(m) for m in months})
    mr = monthly_rates(con, rate_months, base.hts10, base.partner)
    pos = {m: i for i, m in enumerate(rate_months)}
    codes, product = np.unique(base.hts10, return_inverse=True)
    asg = el.assign(codes, horizon="short")
    pt = el.pass_through(base.partner, base.hts10)
    partners = rz.covered_partners(con, "hs2")
    hs2 = np.array([h[:2] for h in base.hts10], dtype=object)
    keys = np.array([f"{p}|{h}" if p in set(partners) else "" for p, h in zip(base.partner, hs2, strict=True)], dtype=object)
    cells, cell_id = np.unique(keys, return_inverse=True)
    cell_id = np.where(keys == "", -1, cell_id - (1 if cells[0] == "" else 0))
    np.savez(path, product=product, value=base.value, t0=mr.rates[[pos[_year_before(m)] for m in months]],
             t1=mr.rates[[pos[m] for m in months]], sigma=asg.sigma[product], eta=asg.eta[product], a=pt.absorption,
             cell=cell_id, n_cells=np.array([len(cells) - (1 if cells[0] == "" else 0)]))


def model_tariffscope(path: str) -> dict:
    from tariffscope.models.pe import absorbed_ratios

    d = dict(np.load(path))
    t = time.perf_counter()
    val, _, _ = absorbed_ratios(d["product"], d["value"], d["t0"], d["t1"], d["sigma"], d["eta"], d["a"])
    keep = d["cell"] >= 0
    n, k = int(d["n_cells"][0]), val.shape[0]
    flat = (np.arange(k)[:, None] * n + d["cell"][keep][None, :]).ravel()
    num = np.bincount(flat, weights=(val[:, keep] * d["value"][keep]).ravel(), minlength=k * n).reshape(k, n)
    den = np.bincount(d["cell"][keep], weights=d["value"][keep], minlength=n)
    ratio = num / den
    secs = time.perf_counter() - t
    np.save(path + ".ours.npy", ratio)
    return {"seconds": secs, "lines": int(d["value"].shape[0]), "months": k, "cells": n}


def model_peer_pandas(path: str) -> dict:
    """The same formula as plain pandas: per month, groupby-transform by HS10, then groupby cell."""
    import pandas as pd

    d = dict(np.load(path))
    t = time.perf_counter()
    out = []
    for m in range(d["t1"].shape[0]):
        df = pd.DataFrame({"product": d["product"], "v": d["value"], "t0": d["t0"][m], "t1": d["t1"][m],
                           "sigma": d["sigma"], "eta": d["eta"], "a": d["a"], "cell": d["cell"]})
        df["ltau"] = np.log1p(df.t1) - np.log1p(df.t0)
        df["lp"] = (1 - df.a) * df.ltau
        df["x"] = df.v * (1 + df.t0)
        df["share"] = df.x / df.groupby("product").x.transform("sum")
        df["e"] = df.share * np.exp((1 - df.sigma) * df.lp)
        df["lnP"] = np.log(df.groupby("product").e.transform("sum")) / (1 - df.sigma)
        df["vnew"] = df.v * np.exp(-df.sigma * df.lp + (df.sigma - df.eta) * df.lnP - df.a * df.ltau)
        g = df[df.cell >= 0].groupby("cell")[["vnew", "v"]].sum()
        out.append((g.vnew / g.v).reindex(range(int(d["n_cells"][0]))).to_numpy())
    secs = time.perf_counter() - t
    ours = np.load(path + ".ours.npy")
    peer = np.vstack(out)
    return {"seconds": secs, "max_abs_diff_vs_tariffscope": float(np.nanmax(np.abs(peer - ours)))}


def main() -> None:
    full = measure(backtest_all)
    full_mc = measure(backtest_all, 50)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "problem.npz")
        measure(_prepare, path)
        # interleaved A B A B A B; the ratio is the median of the per-pair ratios of the in-call seconds
        pr = paired(model_peer_pandas, model_tariffscope, path, pairs=3, seconds=lambda r: r["extra"]["seconds"])
        peer, ours = pr["subject"], pr["peer"]
    load = os.getloadavg()
    payload = {"backtest_all_hs2_15_months": full, "backtest_all_hs2_15_months_mc50": full_mc,
               "model_step_tariffscope": ours, "model_step_peer_pandas": peer,
               "ratio_peer_over_tariffscope_model_step": pr["ratio"], "model_step_pairs": pr["ratios"],
               "model_step_load": pr["load"],
               "load_average_1_5_15": load, "targets": {"backtest_all_seconds": TARGET_SECONDS}}
    f = full["extra"]
    print(f"backtest, {f['partners']} partners x HS2 (+HS4 ch. 84/85/87) x {f['months']} months, no draws: "
          f"{full['seconds']:.1f} s wall ({f['cpu_seconds']:.1f} s CPU), peak {full['peak_mb']:.0f} MB "
          f"[target < {TARGET_SECONDS:.0f} s: {'met' if full['seconds'] < TARGET_SECONDS else 'NOT met'}]")
    print(f"  with 50 Monte Carlo draws: {full_mc['seconds']:.1f} s wall ({full_mc['extra']['cpu_seconds']:.1f} s CPU), "
          f"peak {full_mc['peak_mb']:.0f} MB")
    o, p = dict(ours["extra"], seconds=ours["seconds"]), dict(peer["extra"], seconds=peer["seconds"])  # pair medians
    print(f"model step on {o['lines']:,} lines x {o['months']} months -> {o['cells']:,} cells: tariffscope {o['seconds']:.2f} s "
          f"(peak {ours['peak_mb']:.0f} MB), peer pandas groupby {p['seconds']:.2f} s (peak {peer['peak_mb']:.0f} MB); "
          f"ratio {pr['ratio']:.1f}x (median of {len(pr['ratios'])} interleaved pairs); max |diff| {p['max_abs_diff_vs_tariffscope']:.1e}")
    print(f"load average during this run: {load[0]:.1f} on {os.cpu_count()} cores")
    print(f"saved {save('backtest', payload)}")


if __name__ == "__main__":
    main()
