"""Benchmark the tariff engine: the full rate panel for one date and the daily ETR series, against named peers.

Subjects (each in a spawned process: time and peak RSS):

1. ``panel``: ``duty_panel`` for 2025-10-15 over every HTS10 leaf of the revision in force x every country
   (~23,200 x 255 = 5.9 million cells), all layers.
   Peer ``pandas_merge``: the textbook long-format implementation of the same rules on the same inputs — for each
   measure in force a cross merge of its product rows with its origin rows, concatenated, the winner per
   (cell, stacking bucket) by groupby, pivoted, then the stacking formulas. It runs on the first 30 origins
   and is extrapolated linearly to all origins (it would need several GB for all); its rates are checked equal
   to tariffscope's on those origins.
2. ``series``: the daily ETR series 2025-01-01..2026-06-30 (546 days) for Japan and for all partners (2024 HS10
   weights, ~334,000 HS10 x partner cells).
   Peer ``daily``: the same rules evaluated day by day (no interval encoding), timed on 20 days and
   extrapolated to 546.
3. ``duty``: warm ``duty()`` on single entries (a fixed mix of lines, origins and dates, after one warm-up call per
   revision), median and 95th percentile per call.
   Peer ``panel_cell``: the same entries through ``duty_panel(hts10=[code], origins=[origin])``, the vectorized path
   asked for one cell.

Targets (issues 3 and 12): panel < 10 s and < 2 GB; series < 60 s; warm duty() < 5 ms.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _util import paired, save

DATE = "2025-10-15"
PEER_ORIGINS = 30
PEER_DAYS = 20


def _con():
    from tariffscope.ingest.warehouse import open_warehouse

    return open_warehouse()


def run_panel() -> dict:
    from tariffscope.tariffs.panel import duty_panel

    con = _con()
    t0 = time.perf_counter()
    t = duty_panel(con, DATE)
    return {"cells": t.num_rows, "seconds_inner": time.perf_counter() - t0,
            "hts10": len(set(t.column("hts10").chunk(0).dictionary.to_pylist())) if t.num_rows else 0}


def run_pandas_peer() -> dict:
    """Long-format merges in pandas (see module docstring), on the first PEER_ORIGINS origins."""
    import numpy as np
    import pandas as pd

    from tariffscope.tariffs import hts
    from tariffscope.tariffs.measures import load
    from tariffscope.tariffs.panel import default_origins, duty_panel
    from tariffscope.tariffs.rules import Compiled, resolve_options

    con = _con()
    day = dt.date.fromisoformat(DATE)
    opts = resolve_options(None)
    origins = default_origins()[:PEER_ORIGINS]
    table = hts.mfn_table(con, hts.revision_in_force(con, day).revision)
    t0 = time.perf_counter()
    comp = Compiled(load(), table.hts10, origins)  # the same inputs: measure scopes over the same codes
    d = day.toordinal()
    parts, blocked = [], []
    for cm in comp.active(day, opts):
        pr = cm.product_rates(d, comp.n_h)
        prod = pd.DataFrame({"h": np.flatnonzero(~np.isnan(pr)), "prate": pr[~np.isnan(pr)]})
        orr = cm.orig_rate
        orig = pd.DataFrame({"o": np.flatnonzero(~np.isnan(orr)), "orate": orr[~np.isnan(orr)]})
        cells = prod.merge(orig, how="cross")
        cells["rate"] = cells["orate"] if cm.m.rates_list else cells["prate"]
        cells["bucket"], cells["priority"], cells["form"] = cm.m.bucket, cm.m.priority, cm.m.rate_form
        cells["m"] = cm.idx
        parts.append(cells[["h", "o", "bucket", "priority", "rate", "form", "m"]])
        blk = cm.blocked_products(d, comp.n_h)
        if blk is not None:  # exemptions from the whole bucket (e.g. civil aircraft of Japan)
            bl = pd.DataFrame({"h": np.flatnonzero(blk)}).merge(orig[["o"]], how="cross")
            bl["bucket"] = cm.m.bucket
            blocked.append(bl)
    long = pd.concat(parts, ignore_index=True)
    long = long.sort_values(["h", "o", "bucket", "priority"]).groupby(["h", "o", "bucket"], as_index=False).last()
    if blocked:
        bl = pd.concat(blocked).drop_duplicates()
        bl["blocked"] = True
        long = long.merge(bl, on=["h", "o", "bucket"], how="left")
        long = long[long["blocked"].isna()].drop(columns="blocked")
    wide_rate = long.pivot_table(index=["h", "o"], columns="bucket", values="rate", aggfunc="first")
    wide_form = long.pivot_table(index=["h", "o"], columns="bucket", values="form", aggfunc="first")
    wide_m = long.pivot_table(index=["h", "o"], columns="bucket", values="m", aggfunc="first")
    grid = pd.MultiIndex.from_product([range(comp.n_h), range(len(origins))], names=["h", "o"])
    r = wide_rate.reindex(grid).fillna(0.0)
    f = wide_form.reindex(grid)
    mid = wide_m.reindex(grid)
    h = grid.get_level_values("h").to_numpy()
    o = grid.get_level_values("o").to_numpy()
    mfn = table.ave[h]

    def col(name: str) -> np.ndarray:
        return r[name].to_numpy() if name in r else np.zeros(len(r))

    def fcol(name: str) -> np.ndarray:
        return f[name].to_numpy() if name in f else np.full(len(f), None)

    ms = opts["metal_share"]
    if opts["usmca"] is None:  # the default: each line's USMCA claim share (its GTAP sector, the set in force)
        from tariffscope.tariffs import usmca as usmca_mod

        tab = usmca_mod.product_shares(comp.hts10, usmca_mod.set_for(opts["usmca_shares"], dt.date.fromisoformat(DATE)))
        col_o = np.array([{"CAN": 0, "MEX": 1}.get(x, -1) for x in origins])[o]
        us = np.where(col_o >= 0, tab[h, np.maximum(col_o, 0)], 0.0)
    else:
        us = np.where(np.isin(np.array(origins, dtype=object)[o], ["CAN", "MEX"]), opts["usmca"], 0.0)
    s232 = np.where(fcol("s232") == "floor_inclusive_of_mfn", np.maximum(col("s232") - mfn, 0),
                    np.where(fcol("s232") == "on_metal_content", col("s232") * ms, col("s232")))
    covered = np.where(fcol("s232") == "on_metal_content", ms, np.where(pd.isna(fcol("s232")), 0.0, 1.0))
    rec = np.where(fcol("reciprocal") == "floor_inclusive_of_mfn", np.maximum(col("reciprocal") - mfn, 0), col("reciprocal"))
    fmid = mid["fentanyl"].to_numpy() if "fentanyl" in mid else np.full(len(mid), np.nan)
    ex232 = np.array([bool(comp.measures[int(x)].m.excluded_by_232) if x == x else False for x in fmid]) & (covered > 0)
    fent = np.where(ex232, 0.0, col("fentanyl") * (1 - us))
    total = mfn * (1 - us) + s232 + (rec + col("reciprocal_extra") + col("s122")) * (1 - covered) + fent + col("s301") + col("s201")
    seconds = time.perf_counter() - t0
    # check against tariffscope on the same cells
    ours = duty_panel(con, DATE, origins=origins).column("total_rate").to_numpy()
    diff = float(np.max(np.abs(ours - total)))
    return {"cells": len(total), "seconds_inner": seconds, "max_abs_diff_vs_tariffscope": diff,
            "origins": len(origins), "origins_all": len(default_origins())}


def run_series() -> dict:
    from tariffscope.tariffs.etr import etr

    con = _con()
    t0 = time.perf_counter()
    jp = etr(con, "JPN", start="2025-01-01", end="2026-06-30")
    t1 = time.perf_counter()
    world = etr(con, "WLD", start="2025-01-01", end="2026-06-30")
    t2 = time.perf_counter()
    return {"days": len(jp.series), "japan_seconds": t1 - t0, "world_seconds": t2 - t1,
            "japan_etr_2025_10_15": next(r["etr"] for r in jp.series if r["date"] == "2025-10-15"),
            "world_etr_2025_10_15": next(r["etr"] for r in world.series if r["date"] == "2025-10-15")}


def run_daily_peer() -> dict:
    """Evaluate the same rules for each day separately (no interval compression), on PEER_DAYS days."""
    import numpy as np

    from tariffscope.tariffs import hts
    from tariffscope.tariffs.engine import compiled_for
    from tariffscope.tariffs.etr import load_weights
    from tariffscope.tariffs.measures import load
    from tariffscope.tariffs.panel import _mfn_for
    from tariffscope.tariffs.rules import resolve_options

    con = _con()
    opts = resolve_options(None)
    t0 = time.perf_counter()
    out = 0.0
    for partner in ("JPN", None):
        w = load_weights(con, partner)
        codes, h = np.unique(w.hts10, return_inverse=True)
        olist, o = np.unique(w.partner, return_inverse=True)
        comp = compiled_for(load(), tuple(codes), tuple(olist))
        start = dt.date(2025, 1, 1)
        for k in range(PEER_DAYS):
            day = start + dt.timedelta(days=k * 27)
            mfn = _mfn_for(hts.mfn_table(con, hts.revision_in_force(con, day).revision), codes)[1]
            res = comp.evaluate(day, h, o, mfn[h], opts)  # every cell, every day
            out += float((w.value * res["total"]).sum() / w.value.sum())
    return {"days_timed": PEER_DAYS, "seconds_inner": time.perf_counter() - t0, "checksum": out}


def _panel_inner(r: dict) -> float:
    """The panel time to compare: ours inside the call; the peer's extrapolated from its origins to all."""
    e = r["extra"]
    return e["seconds_inner"] * e["origins_all"] / e["origins"] if "origins_all" in e else e["seconds_inner"]


def _series_inner(r: dict) -> float:
    """The series time to compare: ours for Japan and all partners; the peer's extrapolated to 546 days."""
    e = r["extra"]
    return e["seconds_inner"] * 546 / PEER_DAYS if "japan_seconds" not in e else e["japan_seconds"] + e["world_seconds"]


DUTY_CASES = [("8703230140", "JPN", "2025-10-15"), ("8482105044", "VNM", "2025-10-15"), ("8471500150", "TWN", "2026-02-01"),
              ("9401614011", "GBR", "2025-12-10"), ("7208510030", "DEU", "2025-06-15"), ("6109100012", "CUB", "2025-10-15"),
              ("8708295160", "MEX", "2026-03-01"), ("8413200000", "DEU", "2026-03-01"), ("8427104000", "JPN", "2026-06-15"),
              ("0201100510", "CHN", "2025-05-20")]
DUTY_ROUNDS = 20


def _timed_calls(fn) -> list[float]:
    out = []
    for _ in range(DUTY_ROUNDS):
        for code, origin, day in DUTY_CASES:
            t0 = time.perf_counter()
            fn(code, origin, day)
            out.append(time.perf_counter() - t0)
    return out


def run_duty() -> dict:
    import numpy as np

    from tariffscope.tariffs.engine import duty

    con = _con()
    for code, origin, day in DUTY_CASES:  # warm-up: compile the catalogue against each revision's table once
        duty(con, code, origin, day, 100.0)
    ms = np.array(_timed_calls(lambda c, o, d: duty(con, c, o, d, 100.0))) * 1000
    return {"calls": len(ms), "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95))}


def run_duty_peer() -> dict:
    import numpy as np

    from tariffscope.tariffs.panel import duty_panel

    con = _con()
    for code, origin, day in DUTY_CASES:
        duty_panel(con, day, origins=[origin], hts10=[code])
    ms = np.array(_timed_calls(lambda c, o, d: duty_panel(con, d, origins=[o], hts10=[c]))) * 1000
    return {"calls": len(ms), "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95))}


def main() -> None:
    home = os.environ.get("TARIFFSCOPE_HOME") or tempfile.mkdtemp(prefix="tariffscope_bench_")
    os.environ["TARIFFSCOPE_HOME"] = home
    _con().close()  # build the warehouse once, before timing
    # each subject and its peer interleaved (A B A B); ratios are medians of the per-pair ratios of the
    # inner times (the peer's extrapolated to the whole task), never of runs at different times
    pp = paired(run_panel, run_pandas_peer, pairs=2, seconds=_panel_inner)
    panel, peer = pp["subject"], pp["peer"]
    sp = paired(run_series, run_daily_peer, pairs=2, seconds=_series_inner)
    series, daily = sp["subject"], sp["peer"]
    peer_full = _panel_inner({"extra": peer["extra"]})
    daily_full = _series_inner({"extra": daily["extra"]})
    series_inner = _series_inner({"extra": series["extra"]})
    wp = paired(run_duty, run_duty_peer, pairs=2, seconds=lambda r: r["extra"]["median_ms"])
    warm, warm_peer = wp["subject"], wp["peer"]
    payload = {
        "panel_one_date": {"tariffscope": panel, "peer_pandas_merge": peer,
                           "peer_seconds_extrapolated_to_all_origins": peer_full,
                           "ratio_peer_over_tariffscope": 1 / pp["ratio"], "pairs": pp["ratios"], "load": pp["load"],
                           "target": "< 10 s and < 2 GB"},
        "etr_series_2025_01_01_to_2026_06_30": {"tariffscope": series, "peer_daily": daily,
                                                "peer_seconds_extrapolated_to_546_days": daily_full,
                                                "ratio_peer_over_tariffscope": 1 / sp["ratio"], "pairs": sp["ratios"],
                                                "load": sp["load"],
                                                "target": "< 60 s"},
        "duty_warm": {"tariffscope": warm, "peer_panel_cell": warm_peer,
                      "ratio_peer_over_tariffscope": 1 / wp["ratio"], "pairs": wp["ratios"], "load": wp["load"],
                      "target": "< 5 ms per call"},
    }
    path = save("tariffs", payload)
    print(f"panel {DATE}: {panel['extra']['cells']:,} cells in {panel['seconds']:.1f} s "
          f"(inner {panel['extra']['seconds_inner']:.1f} s), peak {panel['peak_mb']:.0f} MB")
    print(f"  peer pandas merge: {peer['extra']['seconds_inner']:.1f} s on {peer['extra']['origins']} origins -> "
          f"{peer_full:.0f} s for all (x{1 / pp['ratio']:.1f}, median of {len(pp['ratios'])} interleaved pairs), peak {peer['peak_mb']:.0f} MB, "
          f"max |diff| {peer['extra']['max_abs_diff_vs_tariffscope']:.2e}")
    print(f"series 546 days, Japan + all partners: {series_inner:.1f} s (Japan {series['extra']['japan_seconds']:.1f} s, "
          f"all {series['extra']['world_seconds']:.1f} s), peak {series['peak_mb']:.0f} MB")
    print(f"  peer day-by-day: {daily['extra']['seconds_inner']:.1f} s for {PEER_DAYS} days -> {daily_full:.0f} s "
          f"(x{1 / sp['ratio']:.1f}, median of {len(sp['ratios'])} interleaved pairs), peak {daily['peak_mb']:.0f} MB")
    print(f"warm duty(): median {warm['extra']['median_ms']:.2f} ms, p95 {warm['extra']['p95_ms']:.2f} ms over "
          f"{warm['extra']['calls']} calls; peer duty_panel one cell: median {warm_peer['extra']['median_ms']:.2f} ms "
          f"(x{1 / wp['ratio']:.1f}, median of {len(wp['ratios'])} interleaved pairs)")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
