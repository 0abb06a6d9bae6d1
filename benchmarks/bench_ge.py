"""Benchmark the GE solver against gegravity 0.3 (the named peer) on the same one-sector inputs.

Sizes: 30 countries (gegravity's sample, its Canada-Japan PTA), 69 (the Advanced Guide's 2006 data,
a Japan-US PTA), 120 and 200 (synthetic worlds generated deterministically from the seed below),
plus 69 countries x 20 sectors (multi-sector exact solve with a US tariff on 10 sectors).
Each subject runs in its own spawned process (peak RSS is its own). Two times per subject: end to
end in the fresh process (imports, reading the table, building, solving, results) and solve only
(from the in-memory table to country results: gegravity's build_baseline + define_experiment +
simulate; ours: cost matrices + solve + results). tariffscope runs the gegravity convention (same equations,
checked to agree) and the exact closure.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from _util import measure, pair_ratio, paired, save

SIGMA = 5.0
COEFS = {"lndist": -0.3898623, "contiguity": 0.891577, "common_language": 0.0326249, "pta": 0.4711383,
         "international": -3.412584, "constant": 16.32434}
PAIR = {30: ("CAN", "JPN"), 69: ("JPN", "USA"), 120: ("C000", "C001"), 200: ("C000", "C001")}


def world(n: int):
    """A gegravity-style table (exporter, importer, year, trade, Y, E, covariates) with n countries."""
    import pandas as pd

    from tariffscope.config import raw_data_dir

    if n == 30:
        d = pd.read_csv(raw_data_dir() / "gravity" / "gegravity_sample" / "sample_data_set.dlm")
    elif n == 69:
        d = pd.read_stata(raw_data_dir() / "gravity" / "advanced_guide_2016" / "1_TradeWithoutBorder.dta")
        d = d.replace({"exporter": {"ZZZ": "DEU"}, "importer": {"ZZZ": "DEU"}})
        d = pd.DataFrame({"exporter": d.exporter, "importer": d.importer, "year": 2006, "trade": d.trade,
                          "Y": d.Y, "E": d.E, "pta": 0, "contiguity": d.CNTG, "common_language": d.LANG,
                          "lndist": d.ln_DIST, "international": d.INTL_BRDR})
    else:
        rng = np.random.default_rng(20061 + n)
        names = [f"C{i:03d}" for i in range(n)]
        xy = rng.uniform(0, 100, size=(n, 2))
        dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) + 1.0
        np.fill_diagonal(dist, 0.5)
        lang = rng.integers(0, 6, size=n)
        y = rng.lognormal(11, 1.3, size=n)
        e = y * rng.uniform(0.85, 1.15, size=n)
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        i, j = i.ravel(), j.ravel()
        d = pd.DataFrame({"exporter": np.array(names)[i], "importer": np.array(names)[j], "year": 2006,
                          "trade": 1.0, "Y": y[i], "E": e[j], "pta": (rng.random(n * n) < 0.05).astype(int),
                          "contiguity": ((dist[i, j] < 12) & (i != j)).astype(int),
                          "common_language": (lang[i] == lang[j]).astype(int), "lndist": np.log(dist[i, j]),
                          "international": (i != j).astype(int)})
    d["constant"] = 1
    return d.sort_values(["exporter", "importer"]).reset_index(drop=True)


def _experiment(d, n):
    a, b = PAIR[n]
    x = d.copy()
    m = ((x.exporter == a) & (x.importer == b)) | ((x.exporter == b) & (x.importer == a))
    x.loc[m, "pta"] = 1
    return x


def tariffscope_run(n: int, closure: str) -> dict:
    import time

    from tariffscope.models import ge

    d = world(n)
    t_start = time.perf_counter()
    x = _experiment(d, n)
    names = sorted(d.exporter.unique())
    k = len(names)
    t0 = np.exp(sum(d[c].to_numpy(float) * v for c, v in COEFS.items())).reshape(k, k)
    t1 = np.exp(sum(x[c].to_numpy(float) * v for c, v in COEFS.items())).reshape(k, k)
    y = d.groupby("exporter").Y.mean().reindex(names).to_numpy()
    e = d.groupby("importer").E.mean().reindex(names).to_numpy()
    ref = "DEU" if "DEU" in names else names[-1]
    if closure == "gegravity":
        r = ge.solve_gegravity_convention(t0, t1, y, e, SIGMA, ref, countries=names)
    else:
        flows = ge.structural_flows(t0, y, e, names.index(ref))
        r = ge.solve_one_sector(flows, SIGMA, t1 / t0, countries=names, tariff_revenue=False)
    f = r.to_frame()
    return {"gdp": f["real_gdp_change_pct"].to_dict(), "iterations": r.diagnostics["iterations"],
            "solve_seconds": time.perf_counter() - t_start}


def gegravity_run(n: int) -> dict:
    warnings.filterwarnings("ignore")
    import gegravity as gg
    import pandas as pd

    d = world(n)
    names = sorted(d.exporter.unique())
    ref = "DEU" if "DEU" in names else names[-1]
    base = gg.BaselineData(d, imp_var_name="importer", exp_var_name="exporter", year_var_name="year",
                           trade_var_name="trade", expend_var_name="E", output_var_name="Y")
    ests = pd.DataFrame([(k, v, 0.1) for k, v in COEFS.items()], columns=["var", "beta", "stderr"])
    cc = gg.CostCoeffs(estimates=ests, identifier_col="var", coeff_col="beta", stderr_col="stderr")
    m = gg.OneSectorGE(base, year="2006", reference_importer=ref, sigma=SIGMA, cost_coeff_values=cc,
                       cost_variables=list(COEFS), quiet=True)
    import time

    t_start = time.perf_counter()
    m.build_baseline(omr_rescale=1)
    a, b = PAIR[n]
    x = m.baseline_data.copy()
    x.loc[((x.exporter == a) & (x.importer == b)) | ((x.exporter == b) & (x.importer == a)), "pta"] = 1
    m.define_experiment(x)
    m.simulate()
    solve = time.perf_counter() - t_start
    ok = all(r.success for r in m.solver_diagnostics.values())
    return {"gdp": m.country_results["GDP change (percent)"].astype(float).to_dict(), "converged": bool(ok),
            "solve_seconds": solve}


def multisector_run(n_sectors: int = 20) -> dict:
    from tariffscope.models import ge

    d = world(69)
    names = sorted(d.exporter.unique())
    k = len(names)
    flows = d.trade.to_numpy(float).reshape(k, k)
    rng = np.random.default_rng(2006)
    shares = rng.dirichlet(np.ones(n_sectors), size=(k, k))  # sector split of each flow
    x = flows[:, :, None] * shares
    sigma = np.linspace(3.0, 10.0, n_sectors)
    tau1 = np.zeros_like(x)
    usa = names.index("USA")
    tau1[:, usa, : n_sectors // 2] = 0.15
    tau1[usa, usa, :] = 0.0
    r = ge.solve_multi_sector(x, sigma, None, None, tau1, countries=names)
    return {"usa_gdp": float(100 * (r.real_gdp_change[usa] - 1)), "iterations": r.diagnostics["iterations"],
            "solve_seconds": r.diagnostics["seconds"]}


def main() -> None:
    rows = []
    for n in (30, 69, 120, 200):
        # the peer and our solver on gegravity's equations interleaved (A B A B A B): speed-ups are medians
        # of per-pair ratios; our exact solver has no peer and is timed alone (best of 3)
        pr = paired(gegravity_run, tariffscope_run, pairs=3, subject_args=(n,), peer_args=(n, "gegravity"))
        gg_m, ours_gg = pr["subject"], pr["peer"]
        ours_ex = measure(tariffscope_run, n, "exact", repeat=3)
        a = np.array([ours_gg["extra"]["gdp"][c] for c in sorted(ours_gg["extra"]["gdp"])])
        b = np.array([gg_m["extra"]["gdp"][c] for c in sorted(ours_gg["extra"]["gdp"])])
        agree = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-6)))
        rows.append({"countries": n, "gegravity_s": gg_m["seconds"], "gegravity_peak_mb": gg_m["peak_mb"],
                     "gegravity_converged": gg_m["extra"]["converged"],
                     "ours_gegravity_convention_s": ours_gg["seconds"], "ours_gegravity_convention_peak_mb": ours_gg["peak_mb"],
                     "ours_exact_s": ours_ex["seconds"], "ours_exact_peak_mb": ours_ex["peak_mb"],
                     "exact_iterations": ours_ex["extra"]["iterations"],
                     "speedup_vs_gegravity": pr["ratio"], "speedup_pairs": pr["ratios"], "load": pr["load"],
                     "gegravity_solve_s": gg_m["extra"]["solve_seconds"],
                     "ours_gegravity_convention_solve_s": ours_gg["extra"]["solve_seconds"],
                     "ours_exact_solve_s": ours_ex["extra"]["solve_seconds"],
                     "solve_speedup_vs_gegravity": pair_ratio(pr, "solve_seconds"),
                     "max_rel_diff_gdp_change": agree})
        r = rows[-1]
        print(f"N={n:4d}  gegravity {r['gegravity_s']:8.2f} s ({r['gegravity_peak_mb']:.0f} MB)   "
              f"tariffscope [gegravity eqs] {r['ours_gegravity_convention_s']:.3f} s ({r['ours_gegravity_convention_peak_mb']:.0f} MB)   "
              f"[exact] {r['ours_exact_s']:.3f} s ({r['ours_exact_peak_mb']:.0f} MB)   "
              f"speed-up x{r['speedup_vs_gegravity']:.0f}   max rel diff of GDP changes {agree:.1e}\n"
              f"        solve only (after reading the table): gegravity {r['gegravity_solve_s']:.2f} s, "
              f"tariffscope [gegravity eqs] {r['ours_gegravity_convention_solve_s']:.4f} s, [exact] {r['ours_exact_solve_s']:.4f} s "
              f"({r['exact_iterations']} iterations), speed-up x{r['solve_speedup_vs_gegravity']:.0f}", flush=True)
    ms = measure(multisector_run, 20, repeat=3)
    print(f"69 countries x 20 sectors (exact, US tariff 15% on 10 sectors): {ms['seconds']:.3f} s end to end, "
          f"{ms['extra']['solve_seconds']:.3f} s solve, "
          f"peak {ms['peak_mb']:.0f} MB, {ms['extra']['iterations']} iterations (target < 30 s)", flush=True)
    path = save("ge", {"one_sector": rows, "multi_sector_69x20": {"seconds": ms["seconds"], "peak_mb": ms["peak_mb"],
                                                                   "iterations": ms["extra"]["iterations"],
                                                                   "solve_seconds": ms["extra"]["solve_seconds"]},
                       "peer": "gegravity 0.3 (OneSectorGE, default solver settings)", "sigma": SIGMA})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
