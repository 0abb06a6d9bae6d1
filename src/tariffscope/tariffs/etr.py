"""Trade-weighted effective tariff rates: by partner, sector, HS chapter, authority and date.

ETR(date) = sum over cells of weight x statutory total rate / sum of weights, with weights the customs
value of imports by HS10 x partner of a loaded period (default: ``census_import_weights_2024``). Rates
come from ``panel.cell_rates_over`` (the engine's rules, vectorized, once per constant interval), so a
daily series over 18 months costs a few dozen evaluations. ``statutory_vs_realized`` compares, month by
month, the statutory rate on imports from Japan (that month's mix) with Census calculated duty /
imports for consumption.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from tariffscope import db
from tariffscope.codes.sectors import sector_of
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.tariffs import usmca as usmca_mod
from tariffscope.tariffs.coverage import data_coverage
from tariffscope.tariffs.engine import parse_date, resolve_origin
from tariffscope.tariffs.measures import GROUPS, load
from tariffscope.tariffs.panel import cell_rates_over
from tariffscope.tariffs.rules import resolve_options
from tariffscope.tariffs.vocabulary import RATE_COLUMNS as COMPONENT_COLUMNS

DEFAULT_WEIGHTS = "census_import_weights_2024"
REALIZED_SOURCE = "census_japan_monthly_totals"  # monthly consumption imports with Census calculated duty
BY = ("sector", "authority", "hs2")


@dataclass
class Weights:
    source: str
    period: str
    hts10: np.ndarray
    partner: np.ndarray
    value: np.ndarray
    vintage: str = ""


def load_weights(con, partner: str | None = None, source: str = DEFAULT_WEIGHTS, period: str | None = None) -> Weights:
    """HS10 x partner import values of a loaded period. ``partner``: ISO3, 'EU27', or None/'WLD' for all."""
    params: list = [source]
    where = "source = ? AND flow = 'imports' AND product_level = 10"
    if period:
        where += " AND period = ?"
        params.append(period)
    groups = ("EU27", "WLD")
    if partner in (None, "WLD", "ALL"):
        where += f" AND partner NOT IN {groups}"
    elif partner in GROUPS:
        members = sorted(GROUPS[partner])
        where += f" AND partner IN ({', '.join('?' * len(members))})"
        params += members
    else:
        where += " AND partner = ?"
        params.append(partner)
    t = db.query(con, f"""SELECT product_code AS hts10, partner, sum(value) AS value, any_value(period) AS period,
                                 any_value(vintage) AS vintage
                          FROM trade_flows WHERE {where} GROUP BY product_code, partner HAVING sum(value) > 0""", params)
    if t.num_rows == 0:
        raise DataNotFoundError(f"no import weights in {source}{' for ' + period if period else ''}"
                                f"{' for ' + partner if partner else ''}: load the data ('tariffscope data status')")
    return Weights(source, str(t.column("period")[0].as_py()), t.column("hts10").to_numpy(zero_copy_only=False).astype(object),
                   t.column("partner").to_numpy(zero_copy_only=False).astype(object), t.column("value").to_numpy().astype(float),
                   str(t.column("vintage")[0].as_py() or ""))


def _sector_keys(hts10: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(hts10, return_inverse=True)
    return np.array([sector_of(c) or "Other" for c in uniq], dtype=object)[inv]


def _wmean(weights: np.ndarray, values: np.ndarray, total: float) -> float:
    # elementwise product and sum, not np.dot: BLAS threads spin badly on a shared 2-core machine
    return float((weights * values).sum() / total)


@dataclass
class EtrResult:
    partner: str
    start: dt.date
    end: dt.date
    by: str | None
    series: list[dict]  # one row per day: {date, etr, by: [...], contributions: {...}}
    weights_source: str
    weights_period: str
    catalogue_version: str
    hts_revisions: list[str] = field(default_factory=list)
    usmca: str = ""  # the USMCA claim shares behind the Canada/Mexico rates (option usmca or usmca_shares)

    @property
    def etr(self) -> float:
        return self.series[-1]["etr"]

    def to_dict(self) -> dict:
        meta = {"weights": f"{self.weights_source} ({self.weights_period})", "catalogue_version": self.catalogue_version,
                "hts_revisions": self.hts_revisions} | ({"usmca": self.usmca} if self.usmca else {})
        if self.start == self.end:
            row = self.series[0]
            return {"partner": self.partner, "date": row["date"], "etr": row["etr"], "by": row["by"], **meta}
        return {"partner": self.partner, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "series": [{"date": r["date"], "etr": r["etr"], "by": r["by"]} for r in self.series], **meta}

    def to_frame(self):
        import pandas as pd

        rows = []
        for r in self.series:
            if r["by"]:
                for b in r["by"]:
                    rows.append({"partner": self.partner, "date": r["date"], "etr": r["etr"], **b})
            else:
                rows.append({"partner": self.partner, "date": r["date"], "etr": r["etr"]})
        return pd.DataFrame(rows)


def etr(con, partner: str = "WLD", date: str | dt.date | None = None, start: str | dt.date | None = None,
        end: str | dt.date | None = None, by: str | None = None, weights: str = DEFAULT_WEIGHTS, period: str | None = None,
        options: dict | None = None) -> EtrResult:
    """Trade-weighted ETR for ``partner`` (ISO3, 'EU27' or 'WLD' = all partners) on a date or each day of a range."""
    if by is not None and by not in BY:
        raise InputError(f"unknown breakdown {by!r}: use one of {', '.join(BY)}")
    if (date is None) == (start is None and end is None):
        raise InputError("give either a date or a range (--from and --to)")
    if date is not None:
        d0 = d1 = parse_date(date)
    elif start is None or end is None:  # one end alone used to fail as "bad date None"
        raise InputError("a range needs both ends (--from and --to)")
    else:
        d0, d1 = parse_date(start), parse_date(end)
    if d1 < d0:
        raise InputError(f"range ends ({d1}) before it starts ({d0})")
    code = partner.upper() if partner.upper() in ("WLD", "ALL", *GROUPS) else resolve_origin(partner)
    w = load_weights(con, None if code in ("WLD", "ALL") else code, weights, period)
    keys = None
    if by == "sector":
        keys = _sector_keys(w.hts10)
    elif by == "hs2":
        keys = np.array([c[:2] for c in w.hts10], dtype=object)
    # by sector/hs2: the distinct keys and each weight row's index into them
    key_u, key_i = np.unique(keys, return_inverse=True) if keys is not None else (None, None)
    total_w = w.value.sum()
    series: list[dict] = []
    revs: list[str] = []
    for s, e, comp, rev in cell_rates_over(con, d0, d1, w.hts10, w.partner, options):
        if rev not in revs:
            revs.append(rev)
        tot = comp["total_rate"].astype(float)
        value = _wmean(w.value, tot, total_w)
        contrib = {c: _wmean(w.value, comp[c], total_w) for c in COMPONENT_COLUMNS}
        rows: list[dict] = []
        if by == "authority":
            rows = [{"key": c.replace("_rate", "").replace("rate_", ""), "etr": v, "contribution": v} for c, v in contrib.items()]
        elif key_u is not None and key_i is not None:
            wk = np.bincount(key_i, weights=w.value, minlength=len(key_u))
            dk = np.bincount(key_i, weights=w.value * tot, minlength=len(key_u))
            rows = [{"key": str(k), "etr": float(dk[i] / wk[i]) if wk[i] else 0.0, "weight_share": float(wk[i] / total_w),
                     "contribution": float(dk[i] / total_w)} for i, k in enumerate(key_u)]
        day = s
        while day <= e:
            series.append({"date": day.isoformat(), "etr": value, "by": rows, "contributions": contrib})
            day += dt.timedelta(days=1)
    # the claim shares shape only imports from Canada and Mexico: named where the partner includes them
    covers_usmca = code in ("WLD", "ALL", "CAN", "MEX") or bool(set(GROUPS.get(code, ())) & {"CAN", "MEX"})
    return EtrResult(code, d0, d1, by, series, w.source, w.period, load().version, revs,
                     usmca_basis(options) if covers_usmca else "")


def usmca_basis(options: dict | None) -> str:
    """One line naming the USMCA claim shares the rates use (where the Canada/Mexico figures come from)."""
    opts = resolve_options(options)
    if opts["usmca"] is not None:
        return f"option usmca={opts['usmca']:g} on every Canada/Mexico line"
    choice = opts["usmca_shares"]
    if choice == "none":
        return "usmca_shares=none: no USMCA claims"
    sets = usmca_mod.share_sets()
    names = [s for s in sets if choice in ("dated", s)]
    return f"usmca_shares={choice}: " + "; ".join(
        f"{s} set (from {sets[s].valid_from}{', before ' + str(sets[s].valid_until) if sets[s].valid_until else ''}): {sets[s].label}"
        if choice == "dated" else f"{s} set: {sets[s].label}" for s in names)


# --- Japan: statutory vs realized, month by month ----------------------------------------------

def _monthly_scaled_weights(con, partner: str, month: str, base: Weights) -> tuple[np.ndarray, str]:
    """2024 HS10 mix rescaled to ``month``'s HS2 (and HS4 for chapters 84/85/87) import values."""
    rows = db.query(con, """SELECT product_level, product_code, sum(value) AS v FROM trade_flows
                            WHERE partner = ? AND flow = 'imports' AND period = ?
                              AND source IN ('usato_imports_hs2_monthly', 'usato_imports_hs4_monthly')
                            GROUP BY product_level, product_code""", [partner, month]).to_pylist()
    if not rows:
        return base.value, "2024 mix (no monthly data)"
    m2 = {r["product_code"]: r["v"] for r in rows if r["product_level"] == 2}
    m4 = {r["product_code"]: r["v"] for r in rows if r["product_level"] == 4}
    h2 = np.array([c[:2] for c in base.hts10], dtype=object)
    h4 = np.array([c[:4] for c in base.hts10], dtype=object)
    scale = np.ones(len(base.value))
    for level, keys, monthly in ((2, h2, m2), (4, h4, m4)):
        if not monthly:
            continue
        uk, inv = np.unique(keys, return_inverse=True)
        base_k = np.bincount(inv, weights=base.value, minlength=len(uk))
        target = np.array([monthly.get(k, np.nan) for k in uk])
        f = np.where((base_k > 0) & ~np.isnan(target), target / np.where(base_k > 0, base_k, 1.0), np.nan)
        if level == 4:  # HS4 scaling replaces the HS2 factor where HS4 data exist
            scale = np.where(np.isnan(f[inv]), scale, f[inv])
        else:
            scale = np.where(np.isnan(f[inv]), 0.0 if m2 else 1.0, f[inv])
    return base.value * scale, "2024 HS10 mix scaled to the month's HS2" + (" and HS4 (ch. 84/85/87)" if m4 else "")


def statutory_vs_realized(con, partner: str = "JPN", start: str = "2024-01", end: str | None = None,
                          options: dict | None = None) -> list[dict]:
    """Monthly statutory rate (that month's mix) vs realized rate (Census calculated duty / consumption imports).

    ``end`` defaults to the latest month of the realized series in the warehouse. Months before the
    catalogue's coverage (2024) are rated with the regime in force on its first day (2025-01-01), which for
    Japan is the 2024 regime (MFN; 232 steel under the TRQ, duty-free in quota). Each month's statutory rate is
    the average of its days' rates.
    """
    code = resolve_origin(partner)
    base = load_weights(con, code)
    realized = {r["period"]: r for r in db.query(con, """SELECT period, sum(value) AS value, sum(calculated_duty) AS duty
        FROM trade_flows WHERE source = ? AND partner = ? AND flow = 'imports'
          AND trade_regime = 'consumption' AND product_code = 'TOTAL' GROUP BY period""", [REALIZED_SOURCE, code]).to_pylist()}
    if not realized:
        raise DataNotFoundError(f"no monthly consumption imports with calculated duty for {code} ({REALIZED_SOURCE})")
    cover = data_coverage(con)
    months = _months(start, end or cover.latest_month(REALIZED_SOURCE))
    lo = cover.catalogue[0]
    first = max(lo, dt.date.fromisoformat(months[0] + "-01"))
    last_m = months[-1]
    last = dt.date(int(last_m[:4]), int(last_m[5:]), calendar.monthrange(int(last_m[:4]), int(last_m[5:]))[1])
    # daily rates per HS10 cell over the covered range, as (interval, rates) pieces
    pieces = list(cell_rates_over(con, lo if first > lo else lo, max(last, lo), base.hts10, base.partner, options))
    out = []
    for m in months:
        y, mo = int(m[:4]), int(m[5:])
        days = [dt.date(y, mo, d) for d in range(1, calendar.monthrange(y, mo)[1] + 1)]
        w, basis = _monthly_scaled_weights(con, code, m, base)
        acc = np.zeros(len(base.value))
        comp_acc = {c: np.zeros(len(base.value)) for c in COMPONENT_COLUMNS}
        for d in days:
            dd = max(d, lo)
            for s, e, comp, _ in pieces:
                if s <= dd <= e:
                    acc += comp["total_rate"]
                    for c in COMPONENT_COLUMNS:
                        comp_acc[c] += comp[c]
                    break
        acc /= len(days)
        stat = _wmean(w, acc, w.sum())
        r = realized.get(m)
        real = float(r["duty"] / r["value"]) if r and r["value"] else None
        out.append({"month": m, "statutory": stat, "realized": real, "gap": (stat - real) if real is not None else None,
                    "contributions": {c: _wmean(w, comp_acc[c] / len(days), w.sum()) for c in COMPONENT_COLUMNS},
                    "weights": basis, "imports_for_consumption": r["value"] if r else None,
                    "calculated_duty": r["duty"] if r else None})
    return out


def _months(start: str, end: str) -> list[str]:
    y, m = int(start[:4]), int(start[5:7])
    ye, me = int(end[:4]), int(end[5:7])
    out = []
    while (y, m) <= (ye, me):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


@dataclass
class EtrChanges:
    """Every change of the daily ETR over a range, for all partners together and for the largest partners, each
    with what drives it: the authority whose contribution moved most and the measures that start, end or change
    their lists that day for that partner (``etr_changes``)."""

    start: dt.date
    end: dt.date
    partners: list[str]  # 'WLD' first, then the partners by weight, largest first
    rows: list[dict]  # {partner, date, etr, change_pp, driver, driver_pp, measures}
    first: dict[str, float]  # ETR of each partner on the first day
    weights_source: str
    weights_period: str
    catalogue_version: str

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def lines(self, partner: str, min_pp: float = 0.0) -> list[str]:
        """One line per change of ``partner``'s ETR of at least ``min_pp`` points: date, ETR, change, driver, measures."""
        out = [f"{partner}: {100 * self.first[partner]:.2f}% on {self.start}"]
        for r in self.rows:
            if r["partner"] == partner and abs(r["change_pp"]) >= min_pp:
                why = f"{r['driver']} {r['driver_pp']:+.2f}"
                if r["measures"]:
                    why += f" ({', '.join(r['measures'][:4])}{', ...' if len(r['measures']) > 4 else ''})"
                out.append(f"  {r['date']} {100 * r['etr']:6.2f}% {r['change_pp']:+6.2f} pp  {why}")
        return out


def _changing_measures(comp, s: dt.date, o_idx: np.ndarray | None, opts: dict) -> list[str]:
    """Measures whose state changes on day ``s`` (start, end, or a dated row of their lists) and that reach one of the
    origins ``o_idx`` (all when None)."""
    d = s.toordinal()
    prev = s - dt.timedelta(days=1)
    out = []
    if opts["usmca"] is None and opts["usmca_shares"] == "dated" and s in usmca_mod.boundaries() \
            and (o_idx is None or comp.usmca_o[o_idx].any()):
        out.append(f"USMCA claims ({opts['usmca_shares']} shares)")
    for cm in comp.measures:
        m = cm.m
        if o_idx is not None and np.isnan(cm.orig_rate[o_idx]).all():
            continue
        starts = m.active_on(s, opts) != m.active_on(prev, opts) or m.usmca_exempt_from == s
        rows = m.active_on(s, opts) and bool(np.any(cm.inc_from == d) or np.any(cm.inc_until == d)
                                             or np.any(cm.exc_from == d) or np.any(cm.exc_until == d))
        if starts or rows:
            out.append(m.id)
    return out


def etr_changes(con, start: str | dt.date, end: str | dt.date, top: int = 15, weights: str = DEFAULT_WEIGHTS,
                period: str | None = None, options: dict | None = None, min_pp: float = 1e-4) -> EtrChanges:
    """The daily ETR of all partners together and of the ``top`` partners by weight over [start, end], reduced to the
    days it changes (by at least ``min_pp`` points), each change with its driver. One pass of the rules over every
    HS10 x partner cell of the weights (the all-partner series), aggregated per partner."""
    from tariffscope.tariffs.engine import compiled_for

    d0, d1 = parse_date(start), parse_date(end)
    if d1 < d0:
        raise InputError(f"range ends ({d1}) before it starts ({d0})")
    opts = resolve_options(options)
    w = load_weights(con, None, weights, period)
    olist, o_of_cell = np.unique(w.partner, return_inverse=True)
    by_partner = np.bincount(o_of_cell, weights=w.value, minlength=len(olist))
    order = [str(olist[i]) for i in np.argsort(-by_partner, kind="stable")[:top]]
    tracked = ["WLD", *order]
    pos = {p: int(np.flatnonzero(olist == p)[0]) for p in order}
    cat = load()
    codes = np.unique(np.asarray(w.hts10, dtype=object))
    comp = compiled_for(cat, tuple(codes), tuple(olist))  # the index cell_rates_over compiles (cached)
    cols = list(COMPONENT_COLUMNS)
    rows: list[dict] = []
    first: dict[str, float] = {}
    last: dict[str, tuple[float, dict[str, float]]] = {}
    for s, _e, rates, _rev in cell_rates_over(con, d0, d1, w.hts10, w.partner, options):
        contrib_all = {c: float((w.value * rates[c]).sum()) for c in cols}
        per = {c: np.bincount(o_of_cell, weights=w.value * rates[c], minlength=len(olist)) for c in cols}
        for p in tracked:
            if p == "WLD":
                tot_w, contrib = float(by_partner.sum()), contrib_all
            else:
                tot_w, contrib = float(by_partner[pos[p]]), {c: float(per[c][pos[p]]) for c in cols}
            shares = {c: v / tot_w for c, v in contrib.items()}
            value = sum(shares.values())
            if p not in last:
                first[p] = value
            else:
                before, parts = last[p]
                change = 100 * (value - before)
                if abs(change) >= min_pp:
                    deltas = {c: 100 * (shares[c] - parts[c]) for c in cols}
                    driver = max(deltas, key=lambda c: abs(deltas[c]))
                    o_idx = None if p == "WLD" else np.array([pos[p]])
                    rows.append({"partner": p, "date": s.isoformat(), "etr": value, "change_pp": change,
                                 "driver": driver.replace("_rate", "").replace("rate_", ""), "driver_pp": deltas[driver],
                                 "measures": _changing_measures(comp, s, o_idx, opts)})
            last[p] = (value, shares)
    return EtrChanges(d0, d1, tracked, rows, first, w.source, w.period, cat.version)
