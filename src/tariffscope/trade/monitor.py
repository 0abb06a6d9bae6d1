"""Monthly monitor: level and year-on-year change of exports, imports and the balance, by sector where
monthly detail exists, and value = volume x unit value where quantities exist.

Monthly detail in the warehouse: totals with Japan (exports and general imports, revised country
series), US general imports by HS2 for every partner, by HS4 in chapters 84/85/87 for ten partners.
Monthly US exports by product and monthly quantities are not loaded: the result says so instead of
guessing. Quantities (units of cars and trucks, UN Comtrade) are annual, so the volume/price split is
annual and labelled with its years.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.trade import _flows
from tariffscope.trade._common import (
    US,
    SourceRef,
    jsonable,
    month_range,
    monthly_rates,
    parse_period,
    pct,
    resolve_partner,
    source_refs,
    using_warehouse,
)
from tariffscope.trade.balance import (
    MIRROR_LABEL,
    OFFICIAL_BASIS,
    _aggregate,
    _roles,
    sector_map,
    unsplit_label,
)

BY_CHOICES = (None, "sector", "hs2", "hs4")


@dataclass
class MonthRow:
    month: str
    exports: float | None
    imports: float | None
    balance: float | None
    exports_year_ago: float | None
    imports_year_ago: float | None
    balance_year_ago: float | None
    exports_yoy: float | None          # fraction
    imports_yoy: float | None
    balance_change: float | None       # absolute change of the balance from a year earlier
    vintage: str = ""                  # vintage of the rows used (revised series name / release)
    other_vintages: str = ""           # the same month in another loaded vintage, if any


@dataclass
class DetailRow:
    sector: str
    flow: str                          # reporter's perspective
    value: float
    year_ago: float | None
    pct_change: float | None           # fraction
    level: str = ""


@dataclass
class VolumePriceRow:
    product: str                       # HS code
    flow: str
    year: str
    base_year: str
    value: float
    value_base: float
    quantity: float
    quantity_base: float
    unit: str
    value_change: float                # fraction: (1+value_change) = (1+volume_change)(1+unit_value_change)
    volume_change: float
    unit_value_change: float
    unit_value: float
    unit_value_base: float
    source: str


@dataclass
class MonitorResult:
    reporter: str
    partner: str
    month: str
    currency: str
    perspective: str
    by: str | None
    series: list[MonthRow] = field(default_factory=list)
    detail: list[DetailRow] = field(default_factory=list)
    volume_price: list[VolumePriceRow] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)
    sources: list[SourceRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    basis: str = ""                    # the series' basis and release (the balance headline's, where loaded)

    @property
    def latest(self) -> MonthRow:
        return next(r for r in self.series if r.month == self.month)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able; the month's own figures are also at the top level (exports, exports_year_ago, ...)."""
        d = jsonable(self)
        latest = jsonable(self.latest)
        for k in ("exports", "imports", "balance"):
            d[k] = latest[k]
            d[f"{k}_year_ago"] = latest[f"{k}_year_ago"]
        d["exports_yoy"], d["imports_yoy"] = latest["exports_yoy"], latest["imports_yoy"]
        d["balance_change"] = latest["balance_change"]
        d["sectors"] = d["detail"]
        return d

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist([jsonable(r) for r in self.series])

    def to_frame(self):
        return self.to_arrow().to_pandas()

    def detail_frame(self):
        return pa.Table.from_pylist([jsonable(r) for r in self.detail]).to_pandas()


def _flow_source(con, us_flow: str, partners: list[str], months: list[str]) -> tuple[str, str, str] | None:
    """(source, regime, level) for a monthly total of one US flow, or None when not loaded."""
    regime = "total" if us_flow == "exports" else "general"
    if _flows.covered(con, _flows.MONTHLY_TOTALS, us_flow, partners, months, regime):
        return _flows.MONTHLY_TOTALS, regime, "TOTAL"
    if us_flow == "imports" and _flows.covered(con, _flows.USATO_HS2, us_flow, partners, months, regime):
        return _flows.USATO_HS2, regime, "HS2 summed"
    return None


def _monthly_totals(con, source: str, us_flow: str, regime: str, partners, months, rates
                    ) -> dict[str, tuple[float, str]]:
    sql, params = _flows._select(source, us_flow, partners, months, regime)
    rows = con.execute(f"SELECT period, sum(value), string_agg(DISTINCT vintage, '; ') FROM ({sql}) GROUP BY 1",
                       params).fetchall()
    return {p: (v * rates.rate[p], vin or "") for p, v, vin in rows}


def _other_vintages(con, us_flow: str, partner: str, months: list[str], used_source: str) -> dict[str, list[str]]:
    """The same month and flow from another loaded vintage: other TOTAL rows, and (for general imports
    read from the revised country series) the HS2 monthly report summed, which predates the revision."""
    regime = "total" if us_flow == "exports" else "general"
    ph = ",".join("?" * len(months))
    rows = con.execute(
        f"""SELECT period, source, string_agg(DISTINCT vintage, '; '), sum(value) FROM trade_flows
            WHERE reporter = '{US}' AND partner = ? AND flow = ? AND trade_regime = ? AND frequency = 'M'
              AND period IN ({ph}) AND source <> ?
              AND (product_level = 0 OR (source = '{_flows.USATO_HS2}' AND ? = '{_flows.MONTHLY_TOTALS}'))
            GROUP BY period, source""",
        [partner, us_flow, regime, *months, used_source, used_source],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for p, s, v, val in rows:
        what = " (HS2 summed)" if s == _flows.USATO_HS2 else ""
        out.setdefault(p, []).append(f"US {us_flow} {val / 1e6:,.1f} mn USD in {s}{what} ({v})")
    return out


def monitor(reporter: str, partner: str, month: str | None = None, by: str | None = None, from_: str | None = None,
            to: str | None = None, currency: str = "USD", con: db.Connection | None = None,
            sector_map_table: pa.Table | None = None) -> MonitorResult:
    """Level and y/y change of exports, imports and balance of ``reporter`` with ``partner``.

    ``month`` 'YYYY-MM' is the month of the detail (``by``) and of the volume/price split; ``from_``/``to``
    give the series (default: just ``month``).
    """
    by = None if by in ("none", "") else by
    month = month or to
    if month is None:
        raise InputError("give a month 'YYYY-MM' (or --to)")
    if by not in BY_CHOICES:
        raise InputError(f"bad breakdown {by!r} for the monitor: choose sector, hs2, hs4 or none")
    per = parse_period(month)
    if per.month is None:
        raise InputError(f"the monitor takes a month 'YYYY-MM', not {month!r}")
    rep, part = resolve_partner(reporter), resolve_partner(partner)
    if rep == part:
        raise InputError(f"reporter and partner are both {rep}")
    months = month_range(from_ or month, to or month)
    if month not in months:
        months = sorted(set(months) | {month})
    ya = [parse_period(m).year_ago().text for m in months]
    currency = (currency or "USD").upper()
    with using_warehouse(con) as con:
        perspective, us_partners = _roles(rep, [part])
        # reporter's flow -> US flow
        us_flow = {"exports": "exports", "imports": "imports"} if perspective == "direct" else \
            {"exports": "imports", "imports": "exports"}
        rates = monthly_rates(con, currency, sorted(set(months) | set(ya)))
        res = MonitorResult(rep, part, month, currency, perspective, by)
        used: dict[str, str] = {}
        vals: dict[str, dict[str, tuple[float, str]]] = {}
        others: dict[str, list[str]] = {}
        for flow, uf in us_flow.items():
            src = _flow_source(con, uf, us_partners, [m for m in months + ya])
            if src is None:
                src_now = _flow_source(con, uf, us_partners, months)
                if src_now is None:
                    vals[flow] = {}
                    res.notes.append(f"{flow}: no monthly US {uf} loaded for {rep}-{part} "
                                     f"({', '.join(months[:1] + months[-1:])}); shown as n/a")
                    continue
                src = src_now
            source, regime, level = src
            vals[flow] = _monthly_totals(con, source, uf, regime, us_partners, months + ya, rates)
            res.levels[flow] = f"{'general imports' if regime == 'general' else 'total exports'}, {level} ({source})"
            used[source] = used.get(source, "") + ("; " if source in used else "") + f"{flow} of {rep}"
            for p, lst in _other_vintages(con, uf, us_partners[0], months, source).items():
                others.setdefault(p, []).extend(lst)
        res.basis = _basis(res.levels, perspective, f"{rep}-{part}")
        if not any(vals.values()):
            raise DataNotFoundError(f"no monthly trade of {rep} with {part} loaded for {months[0]}..{months[-1]}")
        for m, y in zip(months, ya, strict=True):
            e, i = vals.get("exports", {}).get(m), vals.get("imports", {}).get(m)
            ey, iy = vals.get("exports", {}).get(y), vals.get("imports", {}).get(y)
            ev, iv = (e or (None,))[0], (i or (None,))[0]
            eyv, iyv = (ey or (None,))[0], (iy or (None,))[0]
            bal = ev - iv if ev is not None and iv is not None else None
            baly = eyv - iyv if eyv is not None and iyv is not None else None
            vint = "; ".join(sorted({x[1] for x in (e, i) if x and x[1]}))
            res.series.append(MonthRow(m, ev, iv, bal, eyv, iyv, baly, pct(ev, eyv), pct(iv, iyv),
                                       bal - baly if bal is not None and baly is not None else None,
                                       vint, " | ".join(others.get(m, []))))
        if by is not None:
            _detail(con, res, us_flow, us_partners, per, by, rates, used, sector_map_table)
            _detail_to_series(res)
        _volume_price(con, res, us_flow, us_partners, per, used)
        if currency != "USD":
            used.update(rates.sources_used(sorted(set(months) | set(ya))))
            res.notes.append(f"converted to {currency} month by month at monthly average rates: year-on-year "
                             f"changes include the exchange-rate change")
        if perspective != "direct":
            res.notes.insert(0, f"{MIRROR_LABEL}: {rep}'s exports = US imports from {rep}, {rep}'s imports = US "
                                f"exports to {rep} (US statistics, not {rep}'s own)")
        res.sources = source_refs(con, used)
        return res


def _basis(levels: dict[str, str], perspective: str, rep: str) -> str:
    """The series' basis: the Census one (total exports FAS - general imports) in one release, or what it is."""
    srcs = [v.rsplit("(", 1)[-1].rstrip(")") for k, v in levels.items() if k in ("exports", "imports")]
    regimes = " ".join(levels.get(k, "") for k in ("exports", "imports"))
    if len(srcs) == 2 and "total exports" in regimes and "general imports" in regimes:
        release = _flows.release_of(srcs)
        what = OFFICIAL_BASIS if perspective == "direct" else f"{MIRROR_LABEL} of the Census basis ({OFFICIAL_BASIS})"
        return f"{what}; {_flows.RELEASE_TEXT.get(release, 'release: ' + release)}"
    return "; ".join(f"{k}: {v}" for k, v in levels.items() if k in ("exports", "imports")) + \
        f" (one flow is not loaded monthly for {rep}: no balance on the Census basis)"


def _detail_to_series(res: MonitorResult) -> None:
    """Say how the detail rows (another source, maybe another release) add up to the month's total in the series."""
    latest = res.latest
    for flow in ("exports", "imports"):
        rows = [r for r in res.detail if r.flow == flow]
        total = getattr(latest, flow)
        if not rows or total is None:
            continue
        det = sum(r.value for r in rows)
        src_d = res.levels.get(f"{flow}_detail", "").rsplit("(", 1)[-1].rstrip(")")
        src_t = res.levels.get(flow, "").rsplit("(", 1)[-1].rstrip(")")
        rel_d, rel_t = _flows.release_of(src_d.split("+")), _flows.release_of([src_t])
        if rel_d != rel_t or abs(total - det) > 1e-9 * max(abs(total), 1.0):
            res.notes.append(
                f"{flow} by {res.by}: the rows add up to {det / 1e9:,.2f} bn {res.currency} ({src_d}, {rel_d}); the "
                f"series has {total / 1e9:,.2f} bn ({src_t}, {rel_t}): {(total - det) / 1e9:+,.2f} bn"
                + (" (annual revision)" if rel_d != rel_t else ""))


def _detail(con, res: MonitorResult, us_flow, us_partners, per, by, rates, used, smap) -> None:
    """Per-sector (or HS) levels and y/y for every flow that has monthly product detail."""
    from tariffscope.trade._flows import _usato_hs2_hs4

    ya = per.year_ago()
    for flow, uf in us_flow.items():
        if uf != "imports":
            res.notes.append(f"{flow} by {by}: monthly US exports by product are not loaded (annual HS2 only), "
                             f"so only the total is shown")
            continue
        if not _flows.covered(con, _flows.USATO_HS2, "imports", us_partners, [per.text, ya.text], "general"):
            res.notes.append(f"{flow} by {by}: no monthly HS2 detail for {per.text} and {ya.text}")
            continue
        now = _usato_hs2_hs4(con, us_partners, [per.text])
        old = _usato_hs2_hs4(con, us_partners, [ya.text])
        table: dict[str, dict[str, tuple[float | None, int | None]]] = {}  # row -> now/old -> (imports, level)
        for key, s, m in (("now", now, per.text), ("old", old, ya.text)):
            # reuse the balance engine with the slice as the 'imports' role (converted at that month's rate)
            agg = _aggregate(con, {"imports": s}, by, [{"role": "imports", "period": m, "rate": rates.rate[m]}],
                             (smap if smap is not None else sector_map()) if by == "sector" else None, False)
            for r in agg.to_pylist():
                name = r["sector"]
                if name.startswith("#"):
                    _, code = name[1:].split(":")
                    name = unsplit_label(code, r["level"], flow)
                table.setdefault(name, {})[key] = (r["imports"], r["level"])
            for src in s.sources:
                used[src] = used.get(src, "") + ("; " if src in used else "") + f"{flow} by {by} ({m})"
        res.levels[f"{flow}_detail"] = f"general imports, {now.level} ({now.source})"
        rows = []
        for name, d in table.items():
            v, lvl = d.get("now", (0.0, None))
            vo = d.get("old", (None, None))[0]
            rows.append(DetailRow(name, flow, v or 0.0, vo, pct(v, vo), f"HS{lvl}" if lvl else ""))
        rows.sort(key=lambda r: -r.value)
        res.detail.extend(rows)


def _volume_price(con, res: MonitorResult, us_flow, us_partners, per, used) -> None:
    """value = volume x unit value for products with quantities: annual Comtrade units (HS 8703/8704)."""
    uf = "imports"
    flow = next(f for f, u in us_flow.items() if u == uf)
    years = [r[0] for r in con.execute(
        "SELECT DISTINCT period FROM trade_flows WHERE source = ? AND partner = ? AND flow = 'imports' "
        "AND quantity IS NOT NULL ORDER BY 1", [_flows.COMTRADE_AUTOS, us_partners[0]]).fetchall()]
    res.notes.append("volume/unit value: monthly quantities are not loaded (the monthly files carry values only)"
                     + (f"; the split uses annual UN Comtrade units, latest {years[-1]} vs {int(years[-1]) - 1}"
                        if years else ""))
    if not years:
        return
    year = min(str(per.year), years[-1])
    base = str(int(year) - 1)
    if base not in years:
        return
    rows = con.execute(
        "SELECT product_code, period, sum(value), sum(quantity), any_value(quantity_unit), "
        "string_agg(DISTINCT vintage, ';') "
        "FROM trade_flows WHERE source = ? AND partner = ? AND flow = 'imports' AND period IN (?, ?) "
        "GROUP BY 1, 2 ORDER BY 1, 2", [_flows.COMTRADE_AUTOS, us_partners[0], base, year]).fetchall()
    by_code: dict[str, dict[str, tuple]] = {}
    for code, p, v, q, unit, _vintage in rows:
        by_code.setdefault(code, {})[p] = (v, q, unit)
    for code, d in sorted(by_code.items()):
        if base not in d or year not in d or not d[base][1] or not d[year][1]:
            continue
        (v0, q0, unit), (v1, q1, _) = d[base], d[year]
        res.volume_price.append(VolumePriceRow(
            code, flow, year, base, v1, v0, q1, q0, unit or "", v1 / v0 - 1, q1 / q0 - 1,
            (v1 / q1) / (v0 / q0) - 1, v1 / q1, v0 / q0, _flows.COMTRADE_AUTOS))
    used[_flows.COMTRADE_AUTOS] = f"units and values of HS 8703/8704, {base}-{year} (annual, USD)"
