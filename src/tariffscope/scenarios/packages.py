"""Two-sided packages: the partner's side of a scenario (its tariffs on US goods, its purchase commitments and
investment memos) as a change in US exports to the partner, and the two-sided outputs of a run.

The US side (US tariffs -> US imports) is the PE of ``scenarios.run``; this module adds the export side
(``models.exports``: export-demand response to the partner's tariffs, the additional part of purchases,
user-given investment effects) on the base of US exports (FAS) to the partner by HS2 in the trade year,
and reports US exports, imports and the bilateral balance with the levels on the official basis
(``trade.balance`` without a breakdown: total exports FAS minus general imports, one vintage).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tariffscope import db
from tariffscope.errors import DataNotFoundError, RuleError, TariffscopeError
from tariffscope.models import exports as xm
from tariffscope.scenarios.schema import Scenario

__all__ = ["EXPORT_SOURCE", "PackageSide", "package_side", "export_base", "official_levels", "two_sided_block",
           "TWO_SIDED_ASSUMPTION"]

EXPORT_SOURCE = "dataweb_exports_hs2"  # USITC DataWeb total exports, FAS value, by HS2 x country (embedded)
_E_STREAM, _A_STREAM = 0x2517, 0x2518  # seed streams of the export-side draws (independent of the US side's)

TWO_SIDED_ASSUMPTION = (
    "Two-sided packages: US exports to the partner respond to the partner's tariff changes (rates given by the user; "
    "no partner schedule is loaded) with the export-demand elasticity of data/elasticities/export_demand.yaml "
    "(perfectly elastic US supply); of each purchase commitment only the additional share moves exports, and the "
    "part that would have happened anyway is capped at the base exports of its products (reported when it binds); "
    "investment pledges are memo items with no trade effect unless one is given. The export and import effects are "
    "added: no income, exchange-rate or retaliation feedback, and no netting of purchases against tariff responses "
    "in the same products. Monte Carlo: the export elasticity is drawn over its range (one draw per draw, shared by "
    "the packages), each purchase's additionality uniformly over its stated range.")


def export_base(partner: str, year: int, con: Any = None) -> tuple[dict[str, float], str]:
    """US exports (FAS) to ``partner`` (a country or a group, members summed) by HS2 in ``year``, and the vintage."""
    from tariffscope.scenarios.resolve import _expand_origins

    members = sorted(_expand_origins([partner]) or [])
    sql = ("SELECT product_code, SUM(value) AS value, MIN(vintage) AS vintage FROM trade_flows WHERE source = ? "
           "AND flow = 'exports' AND product_level = 2 AND period = ? AND partner IN ("
           + ",".join("?" * len(members)) + ") GROUP BY 1")
    params = [EXPORT_SOURCE, str(year), *members]
    if con is None:
        from tariffscope.ingest import warehouse

        own = warehouse.open_warehouse()  # a reader: runs beside `serve` and other readers
        try:
            t = db.query(own, sql, params)
        finally:
            own.close()
    else:
        t = db.query(con, sql, params)
    if t.num_rows == 0:
        raise DataNotFoundError(f"no {year} US exports to {partner} in the warehouse (source {EXPORT_SOURCE}): "
                                "the partner's side of the package has no base")
    codes, values = t.column("product_code").to_pylist(), t.column("value").to_pylist()
    vintage = next((v for v in t.column("vintage").to_pylist() if v), "")
    return {str(c): float(v or 0.0) for c, v in zip(codes, values, strict=True)}, str(vintage)


@dataclass
class PackageSide:
    """The partner's side of one scenario, as arrays for the point run and the Monte Carlo."""

    name: str
    tariff_base: np.ndarray
    tariff_from: np.ndarray
    tariff_to: np.ndarray
    purchase_value: np.ndarray     # USD a year (the average of the yearly values)
    purchase_base: np.ndarray      # base exports of the purchase's products (the cap of the non-additional part)
    purchase_share: np.ndarray     # additionality (point)
    purchase_low: np.ndarray
    purchase_high: np.ndarray
    investment_exports: float
    investment_imports: float
    years: float
    tariffs: list[dict[str, Any]] = field(default_factory=list)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    investment: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def exports_point(self, elasticity: float) -> dict[str, float]:
        """Changes in US exports a year (times ``years``) by channel at the point values."""
        tar = float(xm.export_response(self.tariff_base, self.tariff_from, self.tariff_to, elasticity).sum())
        pur = float(xm.purchase_effect(self.purchase_value, self.purchase_base, self.purchase_share).sum())
        out = {"partner_tariffs": tar * self.years, "purchases": pur * self.years,
               "investment": self.investment_exports * self.years}
        out["total"] = out["partner_tariffs"] + out["purchases"] + out["investment"]
        return out

    def exports_draws(self, e: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Total change in US exports per draw: elasticity draws ``e`` (draws x 1), uniforms ``u`` (draws x n)."""
        tar = xm.export_response(self.tariff_base[None, :], self.tariff_from[None, :], self.tariff_to[None, :], e).sum(axis=1)
        share = xm.additionality_draws(u, self.purchase_share, self.purchase_low, self.purchase_high)
        pur = xm.purchase_effect(self.purchase_value[None, :], self.purchase_base[None, :], share).sum(axis=1)
        return np.asarray((tar + pur + self.investment_exports) * self.years)


def _chapter_sum(base: dict[str, float], prefixes: list[str]) -> float:
    return float(sum(base.get(c, 0.0) for c in sorted({p[:2] for p in prefixes})))


def package_side(sc: Scenario, base: dict[str, float] | None, year: int, elasticity: float) -> PackageSide:
    """The arrays of ``sc``'s partner side on the export ``base`` (None: the scenario has none, all zero)."""
    base = base or {}
    yrs = float(sc.model.years)
    tb, tf, tt, tariffs = [], [], [], []
    for i, pt in enumerate(sc.partner_tariffs):
        fine = [p for p in pt.prefixes if len(p) > 2]
        if pt.base is not None:
            b, how = float(pt.base), "given in the scenario"
        elif fine:
            raise RuleError(f"partner_tariffs[{i}].prefixes: {fine[0]!r} is finer than the loaded US export base "
                            f"(HS2, {EXPORT_SOURCE}): give base: (US exports to {sc.partner} in these products, USD a year)")
        else:
            b, how = _chapter_sum(base, pt.prefixes), f"{EXPORT_SOURCE}, {year}"
        tb.append(b)
        tf.append(pt.start)
        tt.append(pt.new_rate)
        d = float(xm.export_response(b, pt.start, pt.new_rate, elasticity)) * yrs
        tariffs.append({"prefixes": pt.prefixes, "from": pt.start, "to": pt.new_rate, "base": b, "base_source": how,
                        "exports_change": d, "note": pt.note or ""})
    pv, pb, ps, plo, phi, purchases, notes = [], [], [], [], [], [], []
    for i, pu in enumerate(sc.purchases):
        b = _chapter_sum(base, pu.prefixes)
        lo, hi = pu.bounds
        used = float(xm.additional_share(pu.per_year, b, pu.additionality))
        bound = "HS2 chapters " + ", ".join(sorted({p[:2] for p in pu.prefixes}))
        finer = any(len(p) > 2 for p in pu.prefixes)
        over = {y: v for y, v in sorted(pu.values.items()) if v > b}
        label = pu.what or ", ".join(pu.prefixes)
        if over:
            notes.append(f"purchases[{i}] ({label}): the commitment ({', '.join(f'{y}: {_bn(v)}' for y, v in over.items())}) "
                         f"exceeds {year} US exports to {sc.partner} in {bound} ({_bn(b)}); the part above that base cannot be "
                         f"trade that would have happened anyway, so at least {float(xm.additional_share(pu.per_year, b, 0.0)):.2f} "
                         f"of it counts as additional (share used: {used:.2f}; given: {pu.additionality:.2f}; no cap on "
                         f"the commitment itself)")
        pv.append(pu.per_year)
        pb.append(b)
        ps.append(pu.additionality)
        plo.append(lo)
        phi.append(hi)
        purchases.append({"what": pu.what, "prefixes": pu.prefixes, "values": {str(y): v for y, v in sorted(pu.values.items())},
                          "per_year": pu.per_year, "additionality": pu.additionality,
                          "additionality_range": [lo, hi], "additionality_used": used, "base": b,
                          "base_note": f"{year} US exports to {sc.partner} in {bound}"
                                       + (" (an upper bound: exports are loaded by HS2 only)" if finer else ""),
                          "exceeds_base": bool(over), "exports_change": pu.per_year * used * yrs, "source": pu.source})
    inv_x = float(sum(iv.exports_per_year or 0.0 for iv in sc.investment))
    inv_m = float(sum(iv.imports_per_year or 0.0 for iv in sc.investment))
    investment = [{"amount": iv.amount, "horizon": iv.horizon, "text": iv.text, "source": iv.source,
                   "exports_per_year": iv.exports_per_year, "imports_per_year": iv.imports_per_year,
                   "trade_effect": "given by the user" if iv.exports_per_year or iv.imports_per_year else "none (memo item)"}
                  for iv in sc.investment]
    arr = lambda x: np.asarray(x, dtype=float)  # noqa: E731 - a local shorthand for the ten arrays below
    return PackageSide(sc.name, arr(tb), arr(tf), arr(tt), arr(pv), arr(pb), arr(ps), arr(plo), arr(phi), inv_x, inv_m,
                       yrs, tariffs, purchases, investment, notes)


def _bn(v: float) -> str:
    return f"{v / 1e9:,.2f} bn USD"


def export_draws(sides: list[PackageSide], draws: int, seed: int, horizon: str) -> np.ndarray:
    """(draws, n_sides) changes in US exports: one elasticity draw per Monte Carlo draw shared by every
    scenario, and additionality uniforms shared by position, so equal commitments draw equally."""
    e = xm.draw_elasticity(np.random.default_rng([seed, _E_STREAM]), draws, horizon)
    n = max([s.purchase_value.shape[0] for s in sides] + [1])
    u = np.random.default_rng([seed, _A_STREAM]).random((draws, n))
    return np.stack([s.exports_draws(e, u) for s in sides], axis=1)


def official_levels(partner: str, year: int, con: Any = None) -> dict[str, Any] | None:
    """The trade year's exports, imports and balance on the official basis (``trade.balance`` headline), or
    None when the warehouse cannot give them for this partner."""
    from tariffscope.trade.balance import balance

    try:
        res = balance("USA", partner, str(year), by=None, con=con)
    except TariffscopeError:
        return None
    head = res.to_dict().get("headline") or {}
    if not head:
        return None
    return {"exports": head.get("exports"), "imports": head.get("imports"), "balance": head.get("balance"),
            "basis": head.get("basis", ""), "vintage": head.get("vintage", ""), "sources": head.get("sources", []),
            "year": int(year)}


_ROWS: tuple[tuple[str, str, str], ...] = (
    ("exports_to_partner", "US exports to the partner (FAS value)", "usd"),
    ("exports_from_partner_tariffs", "  of which: response to the partner's tariff changes", "usd"),
    ("exports_from_purchases", "  of which: additional purchases", "usd"),
    ("exports_from_investment", "  of which: investment (user-given effect)", "usd"),
    ("imports_from_partner", "US imports from the partner (customs value)", "usd"),
    ("balance_with_partner", "US goods balance with the partner (exports minus imports)", "usd"),
    ("partner_sector_exports", "Partner's auto and parts exports to the US", "usd"),
    ("exporter_sector_output", "Partner's auto sector output (first-order)", "fraction"),
    ("exporter_sector_jobs", "Partner's auto manufacturing jobs, direct (first-order)", "persons"),
)
TWO_SIDED_KEYS = tuple(k for k, _, _ in _ROWS)


def two_sided_block(side: PackageSide, ref: PackageSide | None, elasticity: float, x_samples: np.ndarray | None,
                    headline: list[dict[str, Any]], levels: dict[str, Any] | None, basis: dict[str, Any],
                    export_vintage: str, partner: str) -> dict[str, Any]:
    """The two-sided outputs of one package: changes in US exports (by channel), imports and the balance, the
    partner's auto sector, with bands; the trade year's levels on the official basis; the package's items."""
    from tariffscope.models import uncertainty as unc

    x = side.exports_point(elasticity)
    if ref is not None:
        rx = ref.exports_point(elasticity)
        x = {k: x[k] - rx[k] for k in x}
    by_name = {m["name"]: m for m in headline}
    comp = {"exports_to_partner": x["total"], "exports_from_partner_tariffs": x["partner_tariffs"],
            "exports_from_purchases": x["purchases"], "exports_from_investment": x["investment"]}
    xb = unc.bands(x_samples[:, None])[0].to_dict() if x_samples is not None and x_samples.shape[0] else None
    rows = []
    for key, label, unit in _ROWS:
        if key in comp:
            row: dict[str, Any] = {"name": key, "label": label, "unit": unit, "value": comp[key]}
            if key == "exports_to_partner" and xb is not None:
                row.update(xb)
        else:
            m = by_name[key]
            row = {**m, "label": label}
        rows.append(row)
    lv = None
    if levels is not None:
        d_x, d_m = comp["exports_to_partner"], by_name["imports_from_partner"]["value"]
        lv = {**levels, "rows": [
            {"name": "exports", "base": levels["exports"], "change": d_x},
            {"name": "imports", "base": levels["imports"], "change": d_m},
            {"name": "balance", "base": levels["balance"],
             "change": (d_x - d_m) if d_m is not None else None}]}
        for r in lv["rows"]:
            r["new"] = r["base"] + r["change"] if r["base"] is not None and r["change"] is not None else None
    par = xm.export_elasticity(basis.get("horizon", "short"))
    return {
        "partner": partner, "rows": rows, "levels": lv,
        "partner_tariffs": side.tariffs, "purchases": side.purchases, "investment": side.investment,
        "notes": list(side.notes) + ([] if ref is None else [f"against {ref.name}: its own partner side is subtracted"]),
        "export_model": {"elasticity": elasticity, "low": par["low"], "high": par["high"], "what": par["what"],
                         "source": par["citation"], "data": par["data"]},
        "basis": {"exports_base": f"{EXPORT_SOURCE}: US total exports (FAS value) to {partner} by HS2, "
                                  f"{basis.get('base_year')} ({export_vintage or 'vintage n/a'})",
                  "changes": "changes against " + str(basis.get("reference_label", "the reference")) + f" at the "
                             f"{basis.get('horizon')} horizon; imports from the PE on HTS10 imports for consumption, "
                             "exports on the HS2 base above",
                  "levels": (f"{levels['year']} levels on the official basis: {levels['basis']} ({levels['vintage']})"
                             if levels else "no official-basis levels for this partner in the warehouse")},
    }
