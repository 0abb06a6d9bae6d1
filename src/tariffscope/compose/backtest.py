"""Backtest of the PE model against realized US imports: the tariff path that applied, month by month.

For every month m of the period the PE model is solved on the 2024 HS10 x partner import lines (Census
import weights, all partners) with the tariff engine's day-weighted rates of month m against those of
the same month a year earlier (months before the catalogue's coverage, i.e. 2024, take the reference
regime: the rates in force on 2025-01-01 by default, or MFN only). A cell (partner x HS2, and partner x
HS4 in chapters 84/85/87) gets the predicted year-on-year change of its 2024 HS10 mix, which is applied
to its realized value a year earlier:

    predicted_m = realized_{m-12} * (1 + g_partner) * (1 + PE value change_m)

``g_partner`` is the partner's non-tariff growth, the one calibrated quantity: the mean over the
*calibration months* of (1 + realized y/y) / (1 + PE y/y) - 1 for the partner's total. Scores are computed
on the held-out months only (and, separately labelled, on the calibration months); ``calibration=()``
gives the raw PE (g = 0). Parameters (elasticities by horizon, exporter absorption) are never fitted
here: they come from the cited data files (models/elasticities.py).

Metrics per set of months: mean absolute error of cell y/y changes in percentage points, sign hit rate
(share of cell-months where predicted and realized y/y have the same sign), and the error of the total
(predicted minus realized imports, USD and percent). Monte Carlo draws over sigma, the import-demand
elasticity and absorption give parameter bands; multiplying each draw by residual noise sized on the calibration
months' log residuals (Student t, one scale per size quartile of cells and of partner totals; totals use the
totals' own residuals) gives predictive bands. The predictive bands are the reported ones (predicted_p05/p95,
annual bands and ``realized_in_band``); the parameter bands are kept alongside (param_p05/p95). Both report their
coverage of the held-out realized outcomes.

Data access goes through ``trade.realized`` and ``tariffs.monthly`` (no SQL here).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.models import elasticities as el, uncertainty as unc
from tariffscope.models.pe import absorbed_solve, first_lines, line_groups, solve_pe, weighted_setup
from tariffscope.models.retail import basis_text as retail_basis_text, describe as describe_retail, retail_pass_through
from tariffscope.tariffs.monthly import REFERENCE_DEFAULT, monthly_rates
from tariffscope.tariffs.panel import sorted_factorize
from tariffscope.trade import realized as rz

__all__ = ["BacktestResult", "backtest", "months_between", "DEFAULT_CALIBRATION", "HS4_CHAPTERS"]

HS4_CHAPTERS = ("84", "85", "87")
# The first quarter of 2025: before the April 2025 duties, so the partner's non-tariff growth is measured
# where tariffs explain least (front-loading ahead of announced duties is in it too: said in the docs).
DEFAULT_CALIBRATION = ("2025-01", "2025-02", "2025-03")
BAND_LEVEL = 0.90  # 5th-95th percentiles
SIZE_CLASSES = 4  # cells' residual noise is sized per quartile of cell size (value a year earlier)
MC_MONTH_CHUNK = 4  # months per closed-form Monte Carlo solve: ~4 x lines x 8 bytes per temporary array


def months_between(start: str, end: str) -> list[str]:
    """YYYY-MM months from start to end inclusive (InputError on a bad month or an empty range)."""
    out = []
    try:
        y, m = int(start[:4]), int(start[5:7])
        ye, me = int(end[:4]), int(end[5:7])
        dt.date(y, m, 1), dt.date(ye, me, 1)
        if len(start) != 7 or len(end) != 7 or start[4] != "-" or end[4] != "-":
            raise ValueError
    except ValueError:
        raise InputError(f"bad month {start!r} or {end!r}: use YYYY-MM") from None
    while (y, m) <= (ye, me):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if not out:
        raise InputError(f"period ends ({end}) before it starts ({start})")
    return out


def _year_before(month: str) -> str:
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


@dataclass
class BacktestResult:
    """Predicted vs realized US imports by month and cell, with metrics, bands and what they rest on."""

    partners: list[str]
    months: list[str]
    calibration_months: list[str]
    score_months: list[str]
    horizon: str
    reference: str
    base: str                      # base lines: source and year
    data_basis: str                # realized data: sources and vintage
    cells: list[dict]              # partner x product x month rows
    totals: list[dict]             # partner x month rows (sum over HS2 cells)
    annual: list[dict]             # partner (x product) for the calendar year(s) in the period
    metrics: dict[str, Any]
    coverage: dict[str, Any]
    parameters: dict[str, Any]
    drift: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def meta(self) -> dict[str, Any]:
        return {"horizon": self.horizon, "horizon_label": el.horizon_label(self.horizon), "reference": self.reference,
                "base": self.base, "base_year": 2024, "data_basis": self.data_basis,
                "calibration_months": self.calibration_months, "score_months": self.score_months}

    def to_dict(self) -> dict[str, Any]:
        return {"partners": self.partners, "from": self.months[0], "to": self.months[-1], **self.meta(),
                "parameters": self.parameters, "drift": self.drift, "metrics": self.metrics, "coverage": self.coverage,
                "annual": self.annual, "totals": self.totals, "cells": self.cells, "notes": self.notes}

    def to_frame(self, what: str = "cells"):  # -> pandas.DataFrame
        """Rows of ``cells`` (default), ``totals`` or ``annual``, with horizon, reference and base columns."""
        import pandas as pd

        if what not in ("cells", "totals", "annual"):
            raise InputError(f"bad table {what!r}: cells, totals or annual")
        df = pd.DataFrame(getattr(self, what))
        df["horizon"], df["reference"], df["base_year"], df["data_basis"] = self.horizon, self.reference, 2024, self.data_basis
        return df


# --- the model run -----------------------------------------------------------------------------

@dataclass
class _Problem:
    months: list[str]
    prev_rate: np.ndarray        # (n_months, n_lines) rate a year earlier
    rate: np.ndarray             # (n_months, n_lines)
    product: np.ndarray          # HS10 index per line
    value: np.ndarray
    sigma: np.ndarray
    eta: np.ndarray
    absorption: np.ndarray
    ab_low: np.ndarray
    ab_high: np.ndarray
    ab_row: np.ndarray
    cell_ids: dict[str, np.ndarray]   # level -> cell index per line (-1: not scored)
    n_cells: dict[str, int]
    retail: np.ndarray                # downstream pass-through r per line (retail_pass_through.yaml)
    rt_low: np.ndarray
    rt_high: np.ndarray
    rt_row: np.ndarray


def _solve_months(pb: _Problem, sigma: np.ndarray, eta: np.ndarray, absorption: np.ndarray,
                  check: bool = True, retail: np.ndarray | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Per level, (n_months, n_cells) ratios new/base of value, volume, importer and exporter price."""
    out = {lv: {k: np.empty((len(pb.months), n)) for k in ("value", "volume", "importer_price", "exporter_price", "duty")}
           for lv, n in pb.n_cells.items()}
    for i in range(len(pb.months)):
        res = solve_pe(pb.product, pb.value, pb.prev_rate[i], pb.rate[i], sigma, eta, np.inf, absorption=absorption,
                       check=check, retail=retail)
        for lv, ids in pb.cell_ids.items():
            keep = ids >= 0
            ci, v, n = ids[keep], pb.value[keep], pb.n_cells[lv]
            base = np.bincount(ci, weights=v, minlength=n)
            safe = np.where(base > 0, base, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[lv]["value"][i] = np.where(base > 0, np.bincount(ci, weights=res.value_new[keep], minlength=n) / safe, 1.0)
                out[lv]["volume"][i] = np.where(base > 0, np.bincount(ci, weights=res.volume_new[keep], minlength=n) / safe, 1.0)
                # statutory duty on the new values, per unit of base value (for duty collected vs predicted)
                out[lv]["duty"][i] = np.where(base > 0, np.bincount(ci, weights=res.revenue_new[keep], minlength=n) / safe, 0.0)
                # price ratios: base-value-weighted geometric means (the first-order index of the cell)
                for k, arr in (("importer_price", res.importer_price), ("exporter_price", res.exporter_price)):
                    lw = np.bincount(ci, weights=v * np.log(arr[keep]), minlength=n)
                    out[lv][k][i] = np.where(base > 0, np.exp(lw / safe), 1.0)
    return out


def _resolve_partners(con, partner: str | Sequence[str] | None) -> list[str]:
    have = rz.covered_partners(con, "hs2")
    if partner is None or (isinstance(partner, str) and partner.upper() in ("ALL", "WLD")):
        return have
    from tariffscope.tariffs.engine import resolve_origin

    names = [partner] if isinstance(partner, str) else list(partner)
    out = []
    for p in names:
        code = resolve_origin(p)
        if code not in have:
            raise DataNotFoundError(f"no realized monthly imports by HS2 for {code}: partners with data are {', '.join(have)}")
        out.append(code)
    return out


def backtest(con, partner: str | Sequence[str] | None = "JPN", start: str = "2025-01", end: str = "2025-12", *,
             horizon: str = "short", reference: str = REFERENCE_DEFAULT,
             calibration: Sequence[str] | None = None, draws: int = 200, seed: int = 0,
             absorption: float | dict[str, float] | None = None, hs4: bool = True,
             options: dict | None = None, retail: float | dict[str, float] | None = None) -> BacktestResult:
    """Run the PE backtest for ``partner`` (ISO3, a list, or 'ALL') over months ``start``..``end`` (YYYY-MM).

    ``calibration``: months whose realized totals set each partner's non-tariff growth (default: the first
    quarter of 2025 when inside the data; ``()`` for the raw PE); scores use the other months.
    ``absorption``: override the exporter absorption (one share, or {"JPN": 0.5, "JPN:8703": 0.8}).
    ``retail``: override the downstream (retail) pass-through (one share, or {"8703": 0.5}).
    """
    el.check_horizon(horizon)
    el.pass_through(np.empty(0, dtype=object), np.empty(0, dtype=object), absorption)  # bad shares fail before any work
    retail_pass_through(np.empty(0, dtype=object), retail)
    months = months_between(start, end)
    calib = list(DEFAULT_CALIBRATION) if calibration is None else list(calibration)
    for m in calib:
        months_between(m, m)
    have = rz.covered_periods(con, "hs2")
    missing = [m for m in months + [_year_before(m) for m in months] if m not in have]
    if missing:
        span = f"{have[0]}..{have[-1]}" if have else "none loaded"
        raise DataNotFoundError(f"no realized monthly imports for {missing[0]} (a backtest month or the month a year "
                                f"before it): monthly HS2 imports cover {span}")
    calib = [m for m in calib if m in months] if calibration is None else calib
    bad = [m for m in calib if m not in months]
    if bad:
        raise InputError(f"calibration month {bad[0]} is outside the backtest period {months[0]}..{months[-1]}")
    score = [m for m in months if m not in calib]
    if not score:
        raise InputError("every month is a calibration month: leave some months to score")
    partners = _resolve_partners(con, partner)

    # base lines: restricted to HS10 products the scored partners trade (other products cannot move them)
    base = rz.base_lines(con)
    # membership through integer codes: np.isin on object arrays is quadratic-slow
    p_u, p_inv = sorted_factorize(base.partner)
    scored = np.array([p in set(partners) for p in p_u], dtype=bool)[p_inv]
    h_u, h_inv = sorted_factorize(base.hts10)
    traded = np.zeros(len(h_u), dtype=bool)
    traded[h_inv[scored]] = True
    keep = traded[h_inv]
    hts10, origin, value = base.hts10[keep], base.partner[keep], base.value[keep]
    base_label = f"{base.source} ({base.period}, HS10 x partner, {base.vintage})"
    del base, p_inv, h_inv, scored, keep  # every line's codes as Python strings: tens of MB not needed below
    codes, product = sorted_factorize(hts10)

    rate_months = sorted(set(months) | {_year_before(m) for m in months})
    mr = monthly_rates(con, rate_months, hts10, origin, reference=reference, options=options)
    pos = {m: i for i, m in enumerate(rate_months)}
    rate = mr.rates[[pos[m] for m in months]]
    prev = mr.rates[[pos[_year_before(m)] for m in months]]
    rate_revisions, rate_reference = mr.hts_revisions, mr.reference
    del mr  # the rates of every month and its year-earlier month (~50 MB), now in rate and prev

    asg = el.assign(codes, horizon=horizon)
    pt = el.pass_through(origin, hts10, absorption)
    rt = retail_pass_through(hts10, retail)

    # cells: partner x HS2 for every scored partner; partner x HS4 (ch. 84/85/87) where HS4 data exist
    real2 = rz.realized_imports(con, "hs2", partners, sorted(set(months) | {_year_before(m) for m in months}))
    levels = {"hs2": real2}
    if hs4:
        have4 = set(rz.covered_partners(con, "hs4"))
        p4 = [p for p in partners if p in have4]
        if p4:
            levels["hs4"] = rz.realized_imports(con, "hs4", p4, sorted(set(months) | {_year_before(m) for m in months}))
    cell_keys: dict[str, list[tuple[str, str]]] = {}
    cell_ids: dict[str, np.ndarray] = {}
    # each line's cell through its distinct origin and code (a few hundred and ~17k): a lookup per line in Python
    # cost a tenth of a second per level
    o_u, o_inv = sorted_factorize(origin)
    for lv, real in levels.items():
        width = 2 if lv == "hs2" else 4
        keys = sorted(set(zip(real.partner.tolist(), real.product.tolist(), strict=True)))
        p_u, p_of_code = sorted_factorize(np.array([c[:width] for c in codes], dtype=object))
        o_pos, p_pos = {o: i for i, o in enumerate(o_u)}, {q: i for i, q in enumerate(p_u)}
        table = np.full((len(o_u), len(p_u)), -1, dtype=np.int64)
        for i, (o, q) in enumerate(keys):
            if o in o_pos and q in p_pos:
                table[o_pos[o], p_pos[q]] = i
        cell_keys[lv], cell_ids[lv] = keys, table[o_inv, p_of_code[product]]
    pb = _Problem(months, prev, rate, product, value, asg.sigma[product], asg.eta[product], pt.absorption, pt.low,
                  pt.high, pt.row, cell_ids, {lv: len(k) for lv, k in cell_keys.items()}, rt.r, rt.low, rt.high, rt.row)
    del hts10, origin, o_inv  # the lines' codes as strings (~40 MB): the problem has them as indices

    point = _solve_months(pb, pb.sigma, pb.eta, pb.absorption, retail=pb.retail)
    # realized values per level: (cells, months) now and a year before
    obs = {}
    for lv, real in levels.items():
        index = {k: i for i, k in enumerate(cell_keys[lv])}
        mpos = {m: i for i, m in enumerate(months)}
        ppos = {_year_before(m): i for i, m in enumerate(months)}
        now = np.full((len(months), len(index)), np.nan)
        before = np.full((len(months), len(index)), np.nan)
        for p, c, per, v in zip(real.partner, real.product, real.period, real.value, strict=True):
            j = index[(p, c)]
            if per in mpos:
                now[mpos[per], j] = v
            if per in ppos:
                before[ppos[per], j] = v
        obs[lv] = (np.nan_to_num(now), np.nan_to_num(before))

    # partner-level drift from the calibration months (HS2 cells sum to the partner's total)
    part_of = np.array([p for p, _ in cell_keys["hs2"]], dtype=object)
    now2, before2 = obs["hs2"]
    cal_idx = [months.index(m) for m in calib]
    drift = {}
    for p in partners:
        cols = part_of == p
        if not cal_idx:
            drift[p] = 0.0
            continue
        pred = (before2[cal_idx][:, cols] * point["hs2"]["value"][cal_idx][:, cols]).sum(axis=1)
        real_t = now2[cal_idx][:, cols].sum(axis=1)
        drift[p] = float(np.mean(real_t / pred) - 1.0)
    g_cells = {lv: np.array([drift[p] for p, _ in cell_keys[lv]]) for lv in levels}

    def predicted(ratio: dict[str, np.ndarray], lv: str, with_drift: bool = True) -> np.ndarray:
        return obs[lv][1] * ratio["value"] * ((1.0 + g_cells[lv]) if with_drift else 1.0)

    score_idx = [months.index(m) for m in score]
    metrics = {
        "held_out": _metrics(obs, point, predicted, score_idx, cell_keys),
        "calibration": _metrics(obs, point, predicted, cal_idx, cell_keys) if cal_idx else None,
        "raw_pe_held_out": _metrics(obs, point, lambda r, lv: predicted(r, lv, False), score_idx, cell_keys),
    }

    # Monte Carlo: parameter draws, then residuals from the calibration months for predictive bands
    coverage: dict[str, Any] = {"draws": int(draws), "level": BAND_LEVEL, "reported_bands": "predictive"}
    bands = None
    if draws > 0:
        param = _monte_carlo(pb, obs, cell_keys, drift, horizon, draws, seed, calib, months)
        bands = _predictive(param, obs, predicted, point, cal_idx, cell_keys, partners, seed)
        coverage.update(_coverage(bands, obs, score_idx, cell_keys, partners))

    cells_rows, totals_rows, annual_rows = _rows(months, partners, cell_keys, obs, point, g_cells, drift, bands, score)
    duty = rz.realized_duty(con, partners, months)
    for row in totals_rows:
        row["realized_calculated_duty"] = duty.get((row["partner"], row["month"]))
    metrics["duty"] = _duty_metrics(totals_rows, score)
    par = el.horizon_parameters(horizon)
    params = {"horizon": horizon, "elasticities": {k: {kk: v[kk] for kk in ("what", "value", "source", "citation") if kk in v}
                                                   for k, v in par.items()},
              "sigma_sources": asg.source_counts()["sigma"], "eta_sources": asg.source_counts()["eta"],
              "absorption": [{"origin": r["origin"], "product": r["product"], "absorption": r["absorption"],
                              "range": [r["low"], r["high"]], "evidence": r["evidence"]} for r in el.pass_through_rows()],
              "absorption_override": absorption,
              "retail_pass_through": describe_retail(retail)}
    basis = f"{real2.source} ({real2.vintage})" + (f"; {levels['hs4'].source} ({levels['hs4'].vintage})" if "hs4" in levels else "")
    notes = [
        "Predicted = realized value a year earlier x (1 + partner's non-tariff growth from the calibration months) x PE value ratio.",
        "PE value ratio: 2024 HS10 x partner lines (all origins in the same HS10 compete), rates = day-weighted monthly"
        " statutory rates from the tariff engine, against the same month a year earlier (2024 months: the reference regime).",
        "World areas (USA Trade Online 'Europe') are left out: the HS10 base has countries, not areas.",
        f"Buyers' prices: {retail_basis_text()}" + (f"; overridden: {retail}" if retail is not None else "") +
        ". The rest of the landed price change stays in US importers' and dealers' margins.",
        "predicted_duty: statutory rates x predicted general imports; realized_calculated_duty (where loaded: Japan,"
        " census_japan_monthly_totals) is Census calculated duty on imports for consumption, a different basis.",
        f"Tariff rates: HTS revisions {', '.join(rate_revisions[:1])}..{rate_revisions[-1] if rate_revisions else ''}.",
    ]
    return BacktestResult(partners, months, calib, score, horizon, rate_reference, base_label, basis,
                          cells_rows, totals_rows, annual_rows, metrics, coverage, params, drift, notes)


def _yy(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, now / np.where(before > 0, before, 1.0) - 1.0, np.nan)


def _metrics(obs, point, predicted, idx: list[int], cell_keys) -> dict[str, Any]:
    """MAE of cell y/y (pp), sign hit rate and error of the total, per level, over the months ``idx``."""
    out: dict[str, Any] = {"months": len(idx)}
    if not idx:
        return out
    for lv in obs:
        now, before = obs[lv][0][idx], obs[lv][1][idx]
        pred = predicted(point[lv], lv)[idx]
        real_yy, pred_yy = _yy(now, before), _yy(pred, before)
        ok = np.isfinite(real_yy) & np.isfinite(pred_yy) & (before > 0) & (now > 0)
        err = np.abs(pred_yy[ok] - real_yy[ok])
        tot_p, tot_r = float(pred.sum()), float(now.sum())
        out[lv] = {"cell_months": int(ok.sum()),
                   "mae_yy_pp": float(100 * err.mean()) if err.size else None,
                   "mae_yy_pp_weighted": float(100 * (err * before[ok]).sum() / before[ok].sum()) if err.size else None,
                   "sign_hit_rate": float(np.mean(np.sign(pred_yy[ok]) == np.sign(real_yy[ok]))) if err.size else None,
                   "total_predicted": tot_p, "total_realized": tot_r, "total_error": tot_p - tot_r,
                   "total_error_pct": (tot_p / tot_r - 1.0) if tot_r else None}
    return out


def _monte_carlo(pb: _Problem, obs, cell_keys, drift, horizon, draws, seed, calib, months,
                 merge: bool = True) -> dict[str, np.ndarray]:
    """Draws of predicted values per level: (draws, months, cells), parameter-only and with residuals.
    ``merge=False``: every line on its own (the reference the merged draws are tested against)."""
    from tariffscope.parallel import spawn_seeds

    par = el.horizon_parameters(horizon)
    codes_first = np.full(pb.product.max() + 1, -1)
    codes_first[pb.product[::-1]] = np.arange(pb.product.shape[0])[::-1]
    sig_g, eta_g = pb.sigma[codes_first], pb.eta[codes_first]
    out = {lv: np.empty((draws, len(months), n)) for lv, n in pb.n_cells.items()}
    # what no parameter draw changes, once: the drifted observed values, each chunk's closed-form setup (log
    # tariff changes, expenditure shares) and each level's cell bins and their base values
    drifted = {lv: obs[lv][1] * (1.0 + np.array([drift[p] for p, _ in cell_keys[lv]])) for lv in out}
    chunks = [slice(c0, min(c0 + MC_MONTH_CHUNK, len(months))) for c0 in range(0, len(months), MC_MONTH_CHUNK)]
    # Lines that no draw tells apart (one product, the same log tariff change in every month, the same absorption
    # and retail inputs, the same cell at each level) have the same ratios in every draw: the draws run on them
    # merged, with summed values and expenditures (Japan: 265k lines -> 130k; the scored lines stay apart, so the
    # cell sums below add the same terms, and only the price indices sum in another order)
    ltau = np.log1p(pb.rate) - np.log1p(pb.prev_rate)
    draw_inputs = (pb.absorption, pb.ab_low, pb.ab_high, pb.ab_row, pb.retail, pb.rt_low, pb.rt_high, pb.rt_row)
    groups = (line_groups([pb.product, *draw_inputs, *ltau, *pb.cell_ids.values()]) if merge
              else np.arange(pb.value.shape[0]))
    rep = first_lines(groups)
    m = rep.shape[0]
    product, value = pb.product[rep], np.bincount(groups, weights=pb.value, minlength=m)
    setups = [weighted_setup(product, np.stack([np.bincount(groups, weights=pb.value * (1.0 + pb.prev_rate[i]), minlength=m)
                                                for i in range(sl.start, sl.stop)]), ltau[sl][:, rep]) for sl in chunks]
    del ltau
    ab_point, ab_low, ab_high, ab_row, rt_point, rt_low, rt_high, rt_row = (x[rep] for x in draw_inputs)
    # the value ratios are needed on the lines of some cell only (the scored partners' lines, a few percent);
    # every line still enters the price indices
    cell_ids = {lv: ids[rep] for lv, ids in pb.cell_ids.items()}
    sel = np.flatnonzero(np.any([ids >= 0 for ids in cell_ids.values()], axis=0))
    bins = {}
    for lv, ids in cell_ids.items():
        keep, every = ids >= 0, pb.cell_ids[lv] >= 0
        # the cells' base values summed over every line, as without the merge
        den = np.bincount(pb.cell_ids[lv][every], weights=pb.value[every], minlength=pb.n_cells[lv])
        bins[lv] = (keep[sel], ids[keep], value[keep], den > 0, np.where(den > 0, den, 1.0))
    for d, ss in enumerate(spawn_seeds(seed, draws)):
        rng = np.random.default_rng(ss)
        if horizon == "short":
            te, imp = par["trade_elasticity"], par["import_demand"]
            s = 1.0 + unc.draw_scalar(rng, float(te["value"]), float(te["low"]), float(te["high"]))
            e = unc.draw_scalar(rng, float(imp["value"]), float(imp["low"]), float(imp["high"]))
            sig, eta = np.full(m, s), np.full(m, e)
        else:
            sd = unc.log_sd(sig_g, np.full_like(sig_g, np.nan))
            sg, eg = unc.draw(rng, sig_g, sd, eta_g, unc.log_sd(eta_g, np.full_like(eta_g, np.nan)))
            sig, eta = sg[product], eg[product]
        # on the merged lines: the same draws as on every line (one per evidence row), line for line
        ab = unc.draw_absorption(rng, ab_row, ab_low, ab_high, ab_point)
        # drawn after the other parameters so that their draws stay as they were without a retail row
        rr = unc.draw_absorption(rng, rt_row, rt_low, rt_high, rt_point)
        for lv in out:
            out[lv][d] = drifted[lv]
        # the closed form of the same PE (every line has an absorption), a few months at a time for memory
        for sl, setup in zip(chunks, setups, strict=True):
            val, _, _ = absorbed_solve(setup, sig, eta, ab, retail=rr, lines=sel)
            k = val.shape[0]
            for lv in pb.cell_ids:
                keep, ids_keep, v_keep, has, den = bins[lv]
                n = pb.n_cells[lv]
                flat = (np.arange(k)[:, None] * n + ids_keep[None, :]).ravel()
                num = np.bincount(flat, weights=(val[:, keep] * v_keep).ravel(), minlength=k * n).reshape(k, n)
                out[lv][d, sl] *= np.where(has, num / den, 1.0)
    return out


def _log_resid(now: np.ndarray, pred: np.ndarray) -> np.ndarray:
    ok = (now > 0) & (pred > 0)
    return np.log(now[ok] / pred[ok])


@dataclass
class _Bands:
    """Monte Carlo draws of predicted values: parameter-only and predictive (with residual noise)."""

    cells: dict[str, np.ndarray]            # level -> (draws, months, cells), parameter draws
    cells_pred: dict[str, np.ndarray]       # the same with residual noise: the reported bands
    totals: np.ndarray                      # (draws, months, partners), parameter draws of partner totals
    totals_pred: np.ndarray                 # with the totals' residual noise
    residual_scale: dict[str, Any]          # log standard deviation of the noise and its residual count, per set


def _noise(rng: np.random.Generator, resid: np.ndarray | None, shape: tuple[int, ...], fitted: int = 0) -> tuple[np.ndarray, dict]:
    """Multiplicative residual noise exp(s * sqrt(1 + 1/n) * T_df) for draws of shape ``shape``.

    s is the root of the n calibration-month squared log residuals over df = n - ``fitted`` (their mean included:
    a bias seen on the calibration months widens the band rather than shifting it); ``fitted`` counts the means
    fitted on those same months (the partner drifts: a partner total's calibration residuals are deviations from
    its own fitted mean, so their plain root mean square understates the error on new months). Student t and
    the sqrt(1 + 1/n) factor make it the textbook predictive interval of a new observation when s is estimated
    from few values. No residuals (calibration=()): no noise, the predictive band is the parameter band.
    """
    if resid is None or not resid.size:
        return np.ones(shape), {"log_sd": None, "residuals": 0}
    n = int(resid.size)
    df = max(n - fitted, 1)
    sd = float(np.sqrt(np.sum(resid ** 2) / df))
    return np.exp(sd * np.sqrt(1.0 + 1.0 / n) * rng.standard_t(df, size=shape)), {"log_sd": sd, "residuals": n, "df": df}


def _classed_noise(rng: np.random.Generator, now: np.ndarray, pred: np.ndarray, size: np.ndarray, cal_idx: list[int],
                   shape: tuple[int, ...], fitted_per_col: bool) -> tuple[np.ndarray, list[dict]]:
    """Noise for (draws, months, columns) draws with one residual scale per size quartile of the columns.

    A $3 bn/month cell moves far less, in percent, than a $3 m one: one pooled residual scale gave the big cells
    bands of +-100% and the small ones too narrow ones.
    """
    edges = np.quantile(size, np.linspace(0, 1, SIZE_CLASSES + 1)[1:-1]) if size.size else np.empty(0)
    cls = np.searchsorted(edges, size, side="right")
    noise = np.ones(shape)
    scales = []
    for c in range(SIZE_CLASSES):
        cols = cls == c
        if not cols.any():
            continue
        resid = _log_resid(now[cal_idx][:, cols], pred[cal_idx][:, cols]) if cal_idx else None
        fitted = int(cols.sum()) if fitted_per_col else 0
        noise[:, :, cols], sc = _noise(rng, resid, (shape[0], shape[1], int(cols.sum())), fitted)
        scales.append({"size_from": float(size[cols].min()), "size_to": float(size[cols].max()), **sc})
    return noise, scales


def _predictive(param: dict[str, np.ndarray], obs, predicted, point, cal_idx: list[int], cell_keys,
                partners: list[str], seed: int) -> _Bands:
    """Predictive draws: each parameter draw times residual noise, for cells (per level) and partner totals.

    Totals get their own noise, sized on the totals' residuals: summing independently noised cells would let
    the cell noise average out and give totals bands narrower than their calibration errors.
    """
    rng = np.random.default_rng([seed, 7919])  # its own stream: the parameter draws stay as they are
    cells_pred, scale = {}, {}
    for lv, draws in param.items():
        now, before = obs[lv]
        noise, scale[f"{lv}_cells"] = _classed_noise(rng, now, predicted(point[lv], lv), before.mean(axis=0), cal_idx,
                                                     draws.shape, False)
        cells_pred[lv] = draws * noise
    totals = _partner_totals(param["hs2"], cell_keys, partners)
    tot_real = _partner_totals(obs["hs2"][0], cell_keys, partners)
    tot_pred = _partner_totals(predicted(point["hs2"], "hs2"), cell_keys, partners)
    tot_before = _partner_totals(obs["hs2"][1], cell_keys, partners)
    noise, scale["partner_totals"] = _classed_noise(rng, tot_real, tot_pred, tot_before.mean(axis=0), cal_idx,
                                                    totals.shape, True)
    return _Bands(param, cells_pred, totals, totals * noise, scale)


def _coverage(bands: _Bands, obs, score_idx: list[int], cell_keys, partners: list[str]) -> dict[str, Any]:
    """Share of held-out realized outcomes inside the 5-95% bands, parameter and predictive (the reported one)."""
    res: dict[str, Any] = {}

    def cover(draws: np.ndarray, real: np.ndarray, mask: np.ndarray) -> float | None:
        if not mask.any():
            return None
        lo, hi = np.percentile(draws, [5.0, 95.0], axis=0)
        return float(((real >= lo) & (real <= hi))[mask].mean())

    sel = np.zeros(next(iter(obs.values()))[0].shape[0], dtype=bool)
    sel[score_idx] = True
    for lv in bands.cells:
        now, before = obs[lv]
        ok = sel[:, None] & (before > 0) & (now > 0)
        res[f"{lv}_cell_months"] = int(ok.sum())
        res[f"{lv}_cells_parameter_bands"] = cover(bands.cells[lv], now, ok)
        res[f"{lv}_cells_predictive_bands"] = cover(bands.cells_pred[lv], now, ok)
    tot_real = _partner_totals(obs["hs2"][0], cell_keys, partners)
    mask = np.broadcast_to(sel[:, None], tot_real.shape) & (tot_real > 0)
    res["partner_month_totals"] = int(mask.sum())
    res["partner_month_totals_parameter_bands"] = cover(bands.totals, tot_real, mask)
    res["partner_month_totals_predictive_bands"] = cover(bands.totals_pred, tot_real, mask)
    res["residual_scale"] = bands.residual_scale
    res["note"] = ("reported bands (predicted_p05/p95 in cells, totals and annual rows) are predictive: parameter draws"
                   " (sigma, the import-demand elasticity, exporter absorption) times residual noise sized on the"
                   " calibration months' log residuals (Student t, one scale per size quartile of cells, per level, and"
                   " of partner totals, whose degrees of freedom count the drifts fitted on those months; months"
                   " independent). Parameter bands (param_p05/p95) leave out non-tariff shocks and cover few realized"
                   " monthly values.")
    return res


def _partner_totals(a: np.ndarray, cell_keys, partners: list[str]) -> np.ndarray:
    """(..., months, HS2 cells) -> (..., months, partners): sums of each partner's HS2 cells."""
    part_of = np.array([p for p, _ in cell_keys["hs2"]], dtype=object)
    return np.stack([a[..., part_of == p].sum(axis=-1) for p in partners], axis=-1)


def _duty_metrics(totals: list[dict], score: list[str]) -> dict[str, Any] | None:
    """Predicted statutory duty vs Census calculated duty over the held-out months that have both."""
    rows = [t for t in totals if t["month"] in score and t.get("realized_calculated_duty") is not None]
    if not rows:
        return None
    pred, real = sum(t["predicted_duty"] for t in rows), sum(t["realized_calculated_duty"] for t in rows)
    return {"partners": sorted({t["partner"] for t in rows}), "months": len({t["month"] for t in rows}),
            "predicted": pred, "realized": real, "error_pct": pred / real - 1.0 if real else None,
            "basis": "predicted: statutory rates x predicted general imports; realized: Census calculated duty, imports for consumption"}


def _yy1(now: float, before: float) -> float | None:
    """Scalar y/y change (None without a base): the row builders call it per row, so no numpy here."""
    return now / before - 1.0 if before > 0 else None


def _rows(months, partners, cell_keys, obs, point, g_cells, drift, bands: _Bands | None, score) -> tuple[list, list, list]:
    """Cell, partner-total and calendar-year rows; predicted_p05/p95 are the predictive bands, param_p05/p95 the
    parameter-only ones."""
    cells: list[dict] = []
    totals: list[dict] = []
    annual: list[dict] = []
    years = sorted({m[:4] for m in months})
    year_idx = {y: [i for i, m in enumerate(months) if m[:4] == y] for y in years}
    scored = [m in score for m in months]
    for lv, keys in cell_keys.items():
        now, before = obs[lv]
        r = point[lv]
        pred = before * r["value"] * (1.0 + g_cells[lv])
        raw = before * r["value"]
        pct = np.percentile(bands.cells_pred[lv], [5.0, 95.0], axis=0) if bands is not None else None
        ppct = np.percentile(bands.cells[lv], [5.0, 95.0], axis=0) if bands is not None else None
        cols = {"realized_year_before": before, "realized": now, "predicted": pred,
                "pe_value_change": r["value"] - 1, "pe_volume_change": r["volume"] - 1,
                "pe_importer_price_change": r["importer_price"] - 1, "pe_exporter_price_change": r["exporter_price"] - 1}
        if pct is not None and ppct is not None:
            cols["predicted_p05"], cols["predicted_p95"] = pct[0], pct[1]
            cols["param_p05"], cols["param_p95"] = ppct[0], ppct[1]
        lists = {k: v.T.tolist() for k, v in cols.items()}  # (cells, months) as Python floats
        for j, (p, c) in enumerate(keys):
            for i, m in enumerate(months):
                row = {"level": lv, "partner": p, "product": c, "month": m, "scored": scored[i]}
                row.update({k: v[j][i] for k, v in lists.items()})
                row["realized_yy"] = _yy1(row["realized"], row["realized_year_before"])
                row["predicted_yy"] = _yy1(row["predicted"], row["realized_year_before"])
                cells.append(row)
        # calendar-year sums per cell, with bands of the sum over the draws
        for y in years:
            ii = year_idx[y]
            sums = {k: a[ii].sum(axis=0) for k, a in (("realized", now), ("realized_year_before", before),
                                                       ("predicted", pred), ("predicted_raw_pe", raw))}
            band = np.percentile(bands.cells_pred[lv][:, ii].sum(axis=1), [5.0, 95.0], axis=0) if bands is not None else None
            for j, (p, c) in enumerate(keys):
                annual.append(_annual_row(p, c, lv, y, months, ii, {k: float(v[j]) for k, v in sums.items()},
                                          None if band is None else (float(band[0, j]), float(band[1, j])), drift[p]))
    # partner totals (sums of the HS2 cells) per month and per calendar year
    now2, before2 = obs["hs2"]
    part_of = np.array([p for p, _ in cell_keys["hs2"]], dtype=object)
    pred2 = before2 * point["hs2"]["value"] * (1.0 + g_cells["hs2"])
    raw2 = before2 * point["hs2"]["value"]
    duty2 = before2 * point["hs2"]["duty"] * (1.0 + g_cells["hs2"])
    for k, p in enumerate(partners):
        cols_p = part_of == p
        t_now, t_bef, t_pred, t_raw, t_duty = (a[:, cols_p].sum(axis=1) for a in (now2, before2, pred2, raw2, duty2))
        band = bands.totals_pred[:, :, k] if bands is not None else None  # (draws, months)
        mpct = np.percentile(band, [5.0, 95.0], axis=0) if band is not None else None
        ppct_t = np.percentile(bands.totals[:, :, k], [5.0, 95.0], axis=0) if bands is not None else None
        for i, m in enumerate(months):
            row = {"partner": p, "month": m, "scored": scored[i], "realized_year_before": float(t_bef[i]),
                   "realized": float(t_now[i]), "predicted": float(t_pred[i]), "predicted_raw_pe": float(t_raw[i]),
                   "predicted_duty": float(t_duty[i])}
            row.update(realized_yy=_yy1(row["realized"], row["realized_year_before"]),
                       predicted_yy=_yy1(row["predicted"], row["realized_year_before"]),
                       raw_pe_yy=_yy1(row["predicted_raw_pe"], row["realized_year_before"]))
            if mpct is not None and ppct_t is not None:
                row["predicted_p05"], row["predicted_p95"] = float(mpct[0, i]), float(mpct[1, i])
                row["param_p05"], row["param_p95"] = float(ppct_t[0, i]), float(ppct_t[1, i])
            totals.append(row)
        for y in years:
            ii = year_idx[y]
            sums = {"realized": float(t_now[ii].sum()), "realized_year_before": float(t_bef[ii].sum()),
                    "predicted": float(t_pred[ii].sum()), "predicted_raw_pe": float(t_raw[ii].sum())}
            yb = None if band is None else tuple(float(x) for x in np.percentile(band[:, ii].sum(axis=1), [5.0, 95.0]))
            annual.append(_annual_row(p, "TOTAL", "hs2", y, months, ii, sums, yb, drift[p]))
    return cells, totals, annual


def _annual_row(p, product, lv, year, months, ii, sums: dict[str, float], band: tuple[float, ...] | None,
                drift: float) -> dict:
    before = sums["realized_year_before"]
    row = {"partner": p, "product": product, "level": lv, "year": year, "months": f"{months[ii[0]]}..{months[ii[-1]]}",
           **sums, "realized_yy": _yy1(sums["realized"], before), "predicted_yy": _yy1(sums["predicted"], before),
           "raw_pe_yy": _yy1(sums["predicted_raw_pe"], before), "drift": drift}
    if band is not None:
        row["predicted_p05"], row["predicted_p95"] = band
        row["yy_p05"], row["yy_p95"] = _yy1(band[0], before), _yy1(band[1], before)
        row["realized_in_band"] = bool(band[0] <= sums["realized"] <= band[1])
    return row


