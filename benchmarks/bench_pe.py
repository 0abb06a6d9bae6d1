"""Benchmark the PE model: one run over all HS10 x all origins (2024 import weights, ~335,000 lines)
and 1,000 Monte Carlo draws on 2 worker processes, against a named peer in the same run.

Peer: a straightforward per-product loop with ``scipy.optimize.brentq`` on the same equations
(finite export supply elasticity, so every product needs a root), timed on a random subsample of
products and extrapolated linearly to all products. tariffscope solves the same model vectorised
(Newton over all products at once). Both are checked to agree on the subsample.

Lines and values: the raw 2024 import-weights file (read with tariffscope's ingest parser); rates:
the engine's 2025-06-15 regime when ``tariffscope.api.duty_panel`` is available, else a stylised one
(MFN 2.5%; +10% on all origins, +24% on Japan) — the solve time does not depend on rate values.
"""
from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _util import measure, paired, save

OMEGA = 5.0
PEER_PRODUCTS = 400


def _problem():
    from tariffscope.config import raw_data_dir
    from tariffscope.ingest import import_weights
    from tariffscope.models import elasticities as el, uncertainty as unc
    from tariffscope.models.exposure import supplier_multiplier

    t = import_weights.read(raw_data_dir() / "census" / "import_weights_hs10_country_2024.csv.gz")
    h = np.asarray(t.column("product_code").to_numpy(zero_copy_only=False)).astype(str)
    o = np.asarray(t.column("partner").to_numpy(zero_copy_only=False)).astype(str)
    v = np.asarray(t.column("value").to_numpy(zero_copy_only=False), dtype=float)
    products, pidx = np.unique(h, return_inverse=True)
    asg = el.assign(products)
    pt = el.pass_through(o, h)
    base = np.full(h.shape[0], 0.025)
    new = base + 0.10 + np.where(o == "JPN", 0.14, 0.0)
    return {
        "pidx": pidx.astype(np.int64), "value": v, "base_rate": base, "new_rate": new[None, :],
        "omega": np.array([np.inf]), "sigma": asg.sigma, "eta": asg.eta,
        "sigma_sd": unc.log_sd(asg.sigma, asg.sigma_se), "eta_sd": unc.log_sd(asg.eta, asg.eta_se),
        "partner_mask": (o == "JPN")[None, :], "auto_mask": ((o == "JPN") & np.char.startswith(h, "8703"))[None, :],
        "car_mask": ((o == "JPN") & np.char.startswith(h, "8703"))[None, :], "output_usd": np.array([4.1e11]),
        "employment": np.array([883000.0]), "years": np.array([1.0]),
        # what scenarios.run.Problem.arrays() also carries: cited absorption, long horizon, no overrides
        "absorption": pt.absorption, "ab_low": pt.low, "ab_high": pt.high, "ab_row": pt.row,
        "short_ranges": np.empty(0), "fixed": np.array([False, False]),
        "supplier_multiplier": np.array(supplier_multiplier()),
    }


def pe_run(omega: float) -> dict:
    from tariffscope.models.pe import solve_pe

    arr = _problem()
    p = arr["pidx"]
    t0 = time.perf_counter()
    res = solve_pe(p, arr["value"], arr["base_rate"], arr["new_rate"][0], arr["sigma"][p], arr["eta"][p], omega)
    secs = time.perf_counter() - t0
    return {"lines": int(p.shape[0]), "products": int(arr["sigma"].shape[0]), "solve_seconds": secs,
            "iterations": res.iterations, "value_change_bn": float(res.value_change.sum() / 1e9)}


def peer_scipy(n_products: int = PEER_PRODUCTS) -> dict:
    """Per-product brentq on ln P̂ (same equations), subsample of products, extrapolated."""
    from scipy.optimize import brentq

    from tariffscope.models.pe import solve_pe

    arr = _problem()
    p = arr["pidx"]
    rng = np.random.default_rng(0)
    n_prod = arr["sigma"].shape[0]
    chosen = rng.choice(n_prod, size=min(n_products, n_prod), replace=False)
    order = np.argsort(p, kind="stable")
    starts = np.searchsorted(p[order], np.arange(n_prod + 1))
    t0 = time.perf_counter()
    peer_z = {}
    for g in chosen:
        idx = order[starts[g]:starts[g + 1]]
        v, t_0, t_1 = arr["value"][idx], arr["base_rate"][idx], arr["new_rate"][0][idx]
        sig, eta = arr["sigma"][g], arr["eta"][g]
        s = v * (1 + t_0)
        s = s / s.sum()
        ltau = np.log1p(t_1) - np.log1p(t_0)
        a = OMEGA * ltau / (OMEGA + sig)
        b = (sig - eta) / (OMEGA + sig)

        def f(z, s=s, sig=sig, a=a, b=b):  # this group's values, bound now (brentq calls f(z))
            return np.log(np.sum(s * np.exp((1 - sig) * (a + b * z)))) / (1 - sig) - z

        peer_z[g] = brentq(f, -5, 5, xtol=1e-14)
    secs = time.perf_counter() - t0
    # Agreement with the vectorised solve on the same products.
    res = solve_pe(p, arr["value"], arr["base_rate"], arr["new_rate"][0], arr["sigma"][p], arr["eta"][p], OMEGA)
    first = np.full(n_prod, -1)
    first[p[::-1]] = np.arange(p.shape[0])[::-1]
    ours = np.log(res.price_index[first[chosen]])
    diff = float(np.max(np.abs(ours - np.array([peer_z[g] for g in chosen]))))
    return {"products_timed": int(len(chosen)), "seconds_subsample": secs,
            "seconds_extrapolated": secs * n_prod / len(chosen), "max_abs_diff_lnP": diff}


def mc_run(draws: int = 1000, workers: int = 2) -> dict:
    from tariffscope.models import uncertainty as unc
    from tariffscope.scenarios import run as sr

    arr = _problem()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "problem.npz")
        np.savez(path, **arr)
        t0 = time.perf_counter()
        samples = unc.run_draws(partial(sr._mc_task, path), draws, 7, backend="process", workers=workers,
                                progress=False)
        secs = time.perf_counter() - t0
    b = unc.bands(samples.reshape(draws, -1))
    return {"draws": draws, "workers": workers, "seconds": secs,
            "imports_from_partner_bn": [b[0].p5 / 1e9, b[0].p50 / 1e9, b[0].p95 / 1e9]}


def mc_cpu_per_draw(n: int = 40) -> dict:
    """CPU seconds per draw (process_time, one process): the machine-load-independent cost of a draw."""
    import tempfile

    from tariffscope.parallel import spawn_seeds
    from tariffscope.scenarios import run as sr

    arr = _problem()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "problem.npz")
        np.savez(path, **arr)
        sr._mc_task(path, (0, spawn_seeds(0, 1)[0]))  # load + precompute outside the timer
        c0 = time.process_time()
        for i, s in enumerate(spawn_seeds(1, n)):
            sr._mc_task(path, (i, s))
        return {"draws": n, "cpu_seconds_per_draw": (time.process_time() - c0) / n}


def main() -> None:
    vec = measure(pe_run, np.inf, repeat=3)
    # the peer and our omega=5 solve interleaved (A B A B A B); each run's time is the one measured inside
    # (the peer's extrapolated to every product, ours the solve), the ratio the median of per-pair ratios
    pr = paired(peer_scipy, pe_run, pairs=3, subject_args=(), peer_args=(OMEGA,),
                seconds=lambda r: r["extra"]["seconds_extrapolated"] if "seconds_extrapolated" in r["extra"]
                else r["extra"]["solve_seconds"])
    peer, vec_f = pr["subject"], pr["peer"]
    mc = measure(mc_run)
    cpu = measure(mc_cpu_per_draw)
    load = os.getloadavg()
    solve = vec["extra"]["solve_seconds"]
    solve_f = vec_f["seconds"]  # medians over the pairs
    peer_secs = peer["seconds"]
    payload = {
        "pe_run_full_passthrough": vec, "pe_run_omega5": vec_f, "peer_scipy_brentq_per_product": peer, "monte_carlo": mc,
        "ratio_peer_over_tariffscope_omega5": pr["ratio"], "ratio_pairs": pr["ratios"], "ratio_load": pr["load"],
        "monte_carlo_cpu": cpu, "load_average_1_5_15": load,
        "mc_1000_estimated_seconds_on_2_free_cores": cpu["extra"]["cpu_seconds_per_draw"] * 1000 / 2,
        "targets": {"pe_run_seconds": 2.0, "mc_1000_seconds": 60.0},
    }
    print(f"lines: {vec['extra']['lines']:,}  products: {vec['extra']['products']:,}")
    print(f"tariffscope PE solve, omega=inf: {solve:.3f} s (process incl. data load {vec['seconds']:.1f} s, peak {vec['peak_mb']:.0f} MB)")
    print(f"tariffscope PE solve, omega={OMEGA:g}: {solve_f:.3f} s, {vec_f['extra']['iterations']} Newton iterations "
          f"(peak {vec_f['peak_mb']:.0f} MB)")
    print(f"peer scipy brentq per product: {peer['extra']['seconds_subsample']:.2f} s for {peer['extra']['products_timed']} products "
          f"-> {peer_secs:.1f} s extrapolated (peak {peer['peak_mb']:.0f} MB); max |diff ln P| = {peer['extra']['max_abs_diff_lnP']:.2e}")
    print(f"ratio peer / tariffscope (omega={OMEGA:g}): {pr['ratio']:.0f}x (median of {len(pr['ratios'])} interleaved pairs)")
    print(f"Monte Carlo: {mc['extra']['draws']} draws on {mc['extra']['workers']} workers: {mc['extra']['seconds']:.1f} s "
          f"(peak parent {mc['peak_mb']:.0f} MB); imports from JPN p5/p50/p95 (bn): "
          + ", ".join(f"{x:.2f}" for x in mc["extra"]["imports_from_partner_bn"]))
    per = cpu["extra"]["cpu_seconds_per_draw"]
    print(f"Monte Carlo CPU per draw: {per * 1000:.1f} ms -> 1,000 draws on 2 free cores ~ {per * 500:.1f} s "
          f"(load average during this run: {load[0]:.1f} on {os.cpu_count()} cores)")
    print(f"saved {save('pe', payload)}")


if __name__ == "__main__":
    main()
