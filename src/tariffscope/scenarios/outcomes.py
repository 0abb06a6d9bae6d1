"""Named PE outcomes: the headline of one scenario's solve (``Headline``, one field per outcome), its
labels and units, the two ways to compute it (``headline`` from a full solve, ``fast_headline`` in
closed form for the Monte Carlo, through ``models.pe.absorbed_solve``) and the difference of two headlines.

The partner's imports are shown split four ways (value, volume, importer price, exporter price) so that
what exporters absorb in their prices and what US buyers pay are visible side by side.

Both kernels build a ``Headline`` by field name, so their outcomes cannot drift apart by position; the
field order is the column order of the (scenarios x outcomes) and (draws x scenarios x outcomes) arrays.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tariffscope.models.pe import PELines, absorbed_solve, first_lines, line_groups, price_index_change, weighted_setup

__all__ = ["Headline", "HEADLINE", "HEADLINE_KEYS", "headline", "precompute", "fast_headline", "difference"]


class Headline(NamedTuple):
    """One scenario's headline outcomes: changes against the reference regime (or ``against``)."""

    imports_from_partner: float
    partner_import_volume: float
    partner_importer_price: float
    partner_export_price: float
    balance_with_partner: float
    tariff_revenue: float
    importer_price_index: float
    partner_sector_exports: float
    exporter_sector_output: float
    exporter_sector_jobs: float
    exporter_supplier_jobs: float
    partner_auto_margin: float
    trade_diversion: float
    deadweight_loss: float
    us_importer_margin: float


# label, unit per outcome
_LABELS: dict[str, tuple[str, str]] = {
    "imports_from_partner": ("US imports from the partner (customs value)", "usd"),
    "partner_import_volume": ("US import volume from the partner (at reference prices)", "usd"),
    "partner_importer_price": ("US importer price of the partner's goods (tariff-inclusive)", "fraction"),
    "balance_with_partner": ("US goods balance with the partner", "usd"),
    "tariff_revenue": ("US tariff revenue (all origins)", "usd"),
    "importer_price_index": ("US import price index (tariff-inclusive)", "fraction"),
    "partner_export_price": ("Partner's export price (pre-tariff)", "fraction"),
    "partner_sector_exports": ("Partner's auto and parts exports to the US", "usd"),
    "exporter_sector_output": ("Partner's auto sector output (first-order)", "fraction"),
    "exporter_sector_jobs": ("Partner's auto manufacturing jobs, direct (export volume, first-order)", "persons"),
    "exporter_supplier_jobs": ("Partner's supplier jobs linked to autos (BEA input-output linkage)", "persons"),
    "partner_auto_margin": ("Partner's auto exporters' revenue given up in prices (margin channel)", "usd"),
    "trade_diversion": ("Imports diverted to other origins", "usd"),
    "deadweight_loss": ("US deadweight loss", "usd"),
    # the downstream (retail) pass-through: landed duty-paid cost not passed on to buyers' prices
    "us_importer_margin": ("US importers' and dealers' margin absorbing landed costs (downstream pass-through)", "usd"),
}

# key, label, unit, in the order of Headline's fields
HEADLINE: tuple[tuple[str, str, str], ...] = tuple((k, *_LABELS[k]) for k in Headline._fields)
HEADLINE_KEYS: tuple[str, ...] = Headline._fields

# Outcomes that are price ratios: differences of two runs are ratios, not subtractions.
_RATIOS = ("importer_price_index", "partner_importer_price", "partner_export_price")


def headline(res: PELines, arr: dict[str, np.ndarray], k: int) -> Headline:
    """The headline of scenario k's solve; flows scaled by ``years``."""
    yrs = arr["years"][k]
    pm, am = arr["partner_mask"][k], arr["auto_mask"][k]
    dval = res.value_new - res.value_base
    d_imp = float(dval[pm].sum())
    d_auto = float(dval[am].sum())
    share = d_auto / arr["output_usd"][k]
    jobs = float((res.volume_new - res.volume_base)[am].sum()) / arr["output_usd"][k] * arr["employment"][k]
    w = res.value_base[pm] * res.volume_new[pm] / np.where(res.volume_base[pm] > 0, res.volume_base[pm], 1.0)
    exp_price = float(np.expm1(np.sum(w * np.log(res.exporter_price[pm])) / w.sum())) if w.sum() > 0 else 0.0
    div = res.trade_diversion[~pm]
    return Headline(
        imports_from_partner=d_imp * yrs,
        partner_import_volume=float((res.volume_new - res.volume_base)[pm].sum()) * yrs,
        partner_importer_price=price_index_change(res, pm),
        partner_export_price=exp_price,
        balance_with_partner=-d_imp * yrs,
        tariff_revenue=float((res.revenue_new - res.revenue_base).sum()) * yrs,
        importer_price_index=price_index_change(res),
        partner_sector_exports=d_auto * yrs,
        exporter_sector_output=share,
        exporter_sector_jobs=jobs,
        exporter_supplier_jobs=jobs * float(arr["supplier_multiplier"]),
        partner_auto_margin=float((res.value_new - res.volume_new)[am].sum()) * yrs,
        trade_diversion=float(div[div > 0].sum()) * yrs,
        deadweight_loss=float(res.dwl_change.sum()) * yrs,
        us_importer_margin=float(res.importer_margin.sum()) * yrs if res.importer_margin is not None else 0.0,
    )


# The per-line inputs of a draw besides the product: the absorption and retail evidence rows, point values and
# ranges (``run.draw_parameters`` draws them per row, so equal inputs give equal draws).
DRAW_LINE_KEYS = ("absorption", "ab_low", "ab_high", "ab_row", "retail", "rt_low", "rt_high", "rt_row")


def _package_key(pidx: np.ndarray, draw_line: np.ndarray, ltau: np.ndarray, partner: np.ndarray,
                 auto: np.ndarray) -> list[np.ndarray]:
    """The merge key of one package's lines (``line_groups`` columns): product, draw line and the two masks packed
    in one integer (each column costs a hash pass), and the log tariff change."""
    n_draw = int(draw_line.max()) + 1 if draw_line.size else 1
    return [((pidx * n_draw + draw_line) * 2 + partner) * 2 + auto, ltau]


def precompute(arr: dict[str, np.ndarray], merge: bool = False) -> dict[str, Any]:
    """Draw-independent pieces of the closed-form solve, once per worker.

    ``merge``: run the draws on merged lines. Two lines of one product with the same log tariff change, the same
    draw inputs (``DRAW_LINE_KEYS``) and the same partner and auto membership get the same value, volume and price
    ratios in every draw, and every headline outcome is a sum over lines linear in their weights (value,
    expenditure, rate x value), or, for trade diversion, a sum of positive parts whose sign the shared ratios set.
    So a merged line with summed weights gives the same headline (to rounding: the sums run in another order;
    a test holds it to 1e-12). Each package merges on its own rates and masks: Japan's brief comparison has
    334k lines, 68k per package before the deal and 123k after it (the deal's rates differ by line more).
    ``draw`` is what ``run.draw_parameters`` draws on: one line per distinct set of draw inputs (5 for Japan), the
    same draws as on every line, line for line; ``groups`` maps each line to its draw line (None: not merged)
    and each package's ``sub`` each of its merged lines.
    """
    t0, v, t1 = arr["base_rate"], arr["value"], arr["new_rate"]
    n_sc = t1.shape[0]
    ltau = np.log1p(t1) - np.log1p(t0)[None, :]
    expend = v * (1.0 + t0)
    same_as = [same_inputs(arr, k) for k in range(n_sc)]
    groups = draw = None
    if merge:  # the draws run on one line per distinct set of draw inputs (a handful), each package's solve on its own merge
        groups = line_groups([arr[key] for key in DRAW_LINE_KEYS])
        draw = {**arr, **{key: arr[key][first_lines(groups)] for key in DRAW_LINE_KEYS}}
    per: list[dict[str, Any] | None] = []
    for k in range(n_sc):
        if same_as[k] is not None or not np.isinf(arr["omega"][k]):  # a twin's draw is copied; finite omega: full solve
            per.append(None)
            continue
        w = {"value": v, "expend": expend, "new_rate_value": t1[k] * v, "mid_rate_value": 0.5 * (t0 + t1[k]) * v}
        pm, am = arr["partner_mask"][k], arr["auto_mask"][k]
        sub = None
        if groups is not None:
            g = line_groups(_package_key(arr["pidx"], groups, ltau[k], pm, am))
            rep = first_lines(g)
            w = {name: np.bincount(g, weights=x, minlength=rep.shape[0]) for name, x in w.items()}
            sub = groups[rep]  # the draw line each merged line takes its absorption and retail draws from
            pidx, lt, pm, am = arr["pidx"][rep], ltau[k][rep], pm[rep], am[rep]
        else:
            pidx, lt = arr["pidx"], ltau[k]
        per.append({**w, "pidx": pidx, "ltau": lt, "sub": sub,
                    # the closed form's own draw-independent part (log tariff changes, expenditure shares)
                    "absorbed": weighted_setup(pidx, w["expend"], lt[None, :]),
                    # the partner's and its autos' lines as indices: each draw works on those few lines only, in the
                    # order a boolean mask takes them (the sums are the same to the last bit)
                    "partner_idx": np.flatnonzero(pm), "auto_idx": np.flatnonzero(am), "other_mask": ~pm})
    return {"per": per, "base_revenue": float((t0 * v).sum()), "same_as": same_as, "groups": groups,
            "draw": draw if draw is not None else arr}


_PER_SCENARIO = ("new_rate", "omega", "partner_mask", "auto_mask", "output_usd", "employment", "years")


def same_inputs(arr: dict[str, np.ndarray], k: int) -> int | None:
    """An earlier scenario whose every per-scenario input of the headline equals scenario k's (its headline is
    then the same for every draw: e.g. a package dated later with the same rates), or None."""
    for j in range(k):
        if all(np.array_equal(arr[key][j], arr[key][k], equal_nan=True) for key in _PER_SCENARIO):
            return j
    return None


def _wmean_expm1(w: np.ndarray, x: np.ndarray) -> float:
    tot = w.sum()
    return float(np.expm1((w * x).sum() / tot)) if tot > 0 else 0.0


def fast_headline(arr: dict[str, np.ndarray], pre: dict[str, Any], k: int, sigma_g: np.ndarray,
                  eta_g: np.ndarray, absorption: np.ndarray, retail: np.ndarray | None = None) -> Headline:
    """``headline(solve_pe(..., absorption=absorption))`` in closed form (``pe.absorbed_solve``) when every line
    has an exporter absorption (omega = inf; absorption 0 is full pass-through).

    The same equations as ``models.pe`` with ŵ fixed by the absorption; the Monte Carlo uses it because it
    is several times faster; a test checks both agree field by field. ``retail``: downstream pass-through r per
    line (None: the problem's ``retail`` array, else 1), as ``solve_pe(..., retail=...)``. ``absorption`` and
    ``retail`` are per line of ``pre["draw"]`` (the merged lines when ``precompute`` merged them).
    """
    if retail is None and "retail" in arr:  # the problem's cited r, as the full solve (scenarios.run._solve) uses
        retail = pre["draw"]["retail"]
    L = pre["per"][k]
    if L["sub"] is not None:  # this package's merged lines take the draws of their first draw line
        absorption = absorption[L["sub"]]
        retail = retail[L["sub"]] if retail is not None else None
    p, v, expend = L["pidx"], L["value"], L["expend"]
    yrs = arr["years"][k]
    pi, ai, other = L["partner_idx"], L["auto_idx"], L["other_mask"]
    ltau = L["ltau"]
    sig = sigma_g[p]
    val, vol, pimp, zl = (a[0] for a in absorbed_solve(L["absorbed"], sig, eta_g[p], absorption, log_index=True,
                                                          retail=retail))
    v_p, v_a, vol_p = v[pi], v[ai], vol[pi]
    d_imp = float((v_p * (val[pi] - 1.0)).sum())
    d_auto = float((v_a * (val[ai] - 1.0)).sum())
    share = d_auto / arr["output_usd"][k]
    jobs = float((v_a * (vol[ai] - 1.0)).sum()) / arr["output_usd"][k] * arr["employment"][k]
    revenue = float((L["new_rate_value"] * val).sum() - pre["base_revenue"])
    lw_p = -absorption[pi] * ltau[pi]  # ln ŵ of the partner's lines
    log_pimp = np.log(pimp)
    lq = log_pimp if retail is None else retail * log_pimp  # ln q̂: the buyers' price drives substitution
    # the other origins are most of the lines: computed on every line and masked (gathers would cost more)
    div = (v * np.exp(-absorption * ltau) * np.expm1(-sig * (lq - zl)))[other]
    margin = 0.0 if retail is None else float((expend * vol * (pimp - np.exp(lq))).sum())
    dwl = -float((L["mid_rate_value"] * (vol - 1.0)).sum())
    return Headline(
        imports_from_partner=d_imp * yrs,
        partner_import_volume=float((v_p * (vol_p - 1.0)).sum()) * yrs,
        partner_importer_price=_wmean_expm1(expend[pi], log_pimp[pi]),
        partner_export_price=_wmean_expm1(v_p * vol_p, lw_p),
        balance_with_partner=-d_imp * yrs,
        tariff_revenue=revenue * yrs,
        importer_price_index=_wmean_expm1(expend, log_pimp),
        partner_sector_exports=d_auto * yrs,
        exporter_sector_output=share,
        exporter_sector_jobs=jobs,
        exporter_supplier_jobs=jobs * float(arr["supplier_multiplier"]),
        partner_auto_margin=float((v_a * (val[ai] - vol[ai])).sum()) * yrs,
        trade_diversion=float(div[div > 0].sum()) * yrs,
        deadweight_loss=dwl * yrs,
        us_importer_margin=margin * yrs,
    )


def difference(h: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Headline arrays (last axis: outcomes in ``Headline`` order) of ``h`` against ``ref``."""
    out = h - ref
    for key in _RATIOS:
        j = HEADLINE_KEYS.index(key)
        out[..., j] = (1 + h[..., j]) / (1 + ref[..., j]) - 1
    return out
