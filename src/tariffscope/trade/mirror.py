"""Mirror estimates and their reconciliation with a partner's own published figures.

Without the partner's statistics, its trade with the US is estimated from the US side (its exports =
US imports from it, its imports = US exports to it) and converted with monthly average exchange rates:
the *mirror estimate*. When the user supplies the partner's figures (a small CSV: period, flow, value,
currency), ``reconcile`` splits the gap between the published figure P and the mirror M0 into steps that
move the mirror, one at a time, onto the partner's recording conventions:

1. exchange rate: monthly average rates -> an approximation of the customs rate the partner uses
   (Japan Customs converts at a weekly rate set from the rates of the week before last; approximated
   by the daily H.10 rates shifted back ``customs_rate_lag_days``);
2. valuation: the partner's imports are CIF while US exports are FAS: multiplied by ``cif_factor``;
   the partner's exports are FOB, like the US customs value of imports (no international freight or
   insurance), so ``fob_factor`` defaults to 1;
3. timing (optional, ``lag_months=1``): goods leave the partner a month before the US records them
   (exports), and arrive a month after the US exported them (imports);
4. residual: everything else (country of origin vs consignment, goods routed through third countries,
   coverage, revisions, confidentiality), P - M3.

The steps add up to the gap exactly (they are sequential differences); their order is fixed and
stated, because with interactions a different order would share the gap slightly differently. Beside
them, every row carries the **Shapley** attribution of the same gap (``shapley_*``): each of the three
adjustments gets its average contribution over all orders in which the adjustments can be applied, so
the split does not depend on an order; the residual is the same in both (partner figure minus the
mirror with every adjustment applied).
"""
from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.errors import DataNotFoundError, IngestError, InputError
from tariffscope.trade import _flows
from tariffscope.trade._common import (
    SourceRef,
    jsonable,
    lagged_daily_rate,
    monthly_rates,
    parse_period,
    resolve_partner,
    source_refs,
    using_warehouse,
)
from tariffscope.trade.balance import MIRROR_LABEL, _roles

# CIF/customs-value ratio of US imports from Japan in the USITC DataWeb 2024 extract
# (census/dataweb_imports_2024_selected_hts10_with_quantities.xlsx, 156 HTS10 lines with both values:
# CIF 4,047,461,117 / customs 3,923,699,319 USD = 1.0315; all origins in the file: 1.0297).
# Freight and insurance on the same Pacific route, used for Japan's CIF imports from the US.
# Recompute with ``cif_factor_from_dataweb``; IMF DOTS uses a flat 1.06 when nothing better is known.
CIF_FACTOR = 1.0315
FOB_FACTOR = 1.0
CUSTOMS_RATE_LAG_DAYS = 14
FLOWS = ("exports", "imports", "balance")
COMPONENTS = ("exchange_rate", "valuation", "timing", "residual")


@dataclass
class PartnerFigure:
    period: str
    flow: str
    value: float
    currency: str
    note: str = ""


@dataclass
class ReconcileRow:
    period: str
    flow: str                  # reporter's perspective: exports | imports | balance
    currency: str
    partner_figure: float      # P: the partner's own published figure
    mirror_estimate: float     # M0: US statistics at monthly average rates
    gap: float                 # P - M0
    exchange_rate: float       # M1 - M0
    valuation: float           # M2 - M1
    timing: float              # M3 - M2
    residual: float            # P - M3
    mirror_usd: float          # the US figure behind M0, in USD
    shapley_exchange_rate: float = 0.0   # order-free shares of M3 - M0 (add up to it exactly)
    shapley_valuation: float = 0.0
    shapley_timing: float = 0.0


@dataclass
class ReconcileResult:
    reporter: str
    partner: str
    rows: list[ReconcileRow] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    sources: list[SourceRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist([jsonable(r) for r in self.rows])

    def to_frame(self):
        return self.to_arrow().to_pandas()


PUBLISHED_JPY_COLUMNS = {"period", "reporter", "partner", "flow", "product", "value_jpy_bn"}


def read_partner_figures(path: str | Path, skipped: list[str] | None = None) -> list[PartnerFigure]:
    """The partner-figures CSV: header ``period,flow,value,currency`` (optional ``note``); '#' lines are comments.

    ``value`` is in whole units of ``currency`` (yen, not thousands of yen); flow is exports, imports or balance.
    Also reads the published-figures layout (``period,reporter,partner,flow,product,value_jpy_bn,precision,source``,
    as in the raw data's japan_mof/ folder): its all-goods rows with the US; rows it cannot reconcile (other
    partners, product groups) are listed in ``skipped`` when a list is given.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"partner-figures file not found: {p}")
    lines = [(i, ln) for i, ln in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1)
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise IngestError(str(p), None, "no rows")
    header = {h.strip().lower() for h in next(csv.reader([lines[0][1]]))}
    if header >= PUBLISHED_JPY_COLUMNS:
        return _read_published_jpy(p, lines, skipped)
    reader = csv.DictReader([ln for _, ln in lines])
    need = {"period", "flow", "value", "currency"}
    if not reader.fieldnames or not need <= {f.strip().lower() for f in reader.fieldnames}:
        raise IngestError(str(p), lines[0][0],
                          f"header must contain {', '.join(sorted(need))}; got {reader.fieldnames}")
    out = []
    for (lineno, _), row in zip(lines[1:], reader, strict=False):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        try:
            parse_period(row["period"])
        except InputError as exc:
            raise IngestError(str(p), lineno, str(exc)) from None
        flow = row["flow"].lower()
        if flow not in FLOWS:
            raise IngestError(str(p), lineno, f"flow must be exports, imports or balance, not {row['flow']!r}")
        try:
            value = float(row["value"].replace(",", "").replace("_", ""))
        except ValueError:
            raise IngestError(str(p), lineno, f"bad number {row['value']!r}") from None
        cur = row["currency"].upper()
        if not cur.isalpha() or len(cur) != 3:
            raise IngestError(str(p), lineno, f"bad currency {row['currency']!r} (ISO code such as JPY)")
        out.append(PartnerFigure(row["period"], flow, value, cur, row.get("note", "")))
    return out


def _read_published_jpy(p: Path, lines: list[tuple[int, str]], skipped: list[str] | None) -> list[PartnerFigure]:
    """Rows of the published-figures layout: all goods with the US, ¥ bn -> yen, with rounding and source as note."""
    out = []
    for (lineno, _), row in zip(lines[1:], csv.DictReader([ln for _, ln in lines]), strict=False):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        flow, product = row["flow"].lower(), row["product"].lower()
        if row["partner"].upper() != "USA" or product != "total" or flow not in FLOWS:
            if skipped is not None:
                skipped.append(f"{row['period']} {row['reporter']}-{row['partner']} {flow} ({product}): not reconciled "
                               f"(only all-goods figures with the US have a mirror here)")
            continue
        try:
            parse_period(row["period"])
            value = float(row["value_jpy_bn"].replace(",", "")) * 1e9
        except (InputError, ValueError):
            raise IngestError(str(p), lineno, f"bad period or value {row['period']!r}, {row['value_jpy_bn']!r}") from None
        note = "; ".join(x for x in (row.get("precision", ""), row.get("source", "")) if x)
        out.append(PartnerFigure(row["period"], flow, value, "JPY", note))
    if not out:
        raise IngestError(str(p), None, "no all-goods rows with partner USA")
    return out


def cif_factor_from_dataweb(path: str | Path, country: str | None = "Japan") -> tuple[float, int]:
    """(CIF import value / customs value, number of lines) from a DataWeb imports workbook with both sheets."""
    import pandas as pd

    sheets = pd.read_excel(path, sheet_name=["Customs Value", "CIF Import Value"])
    cv, cif = sheets["Customs Value"], sheets["CIF Import Value"]
    key = ["Country", "Year", "HTS Number"]
    m = cv[key + ["Customs Value"]].merge(cif[key + ["CIF Import Value"]], on=key)
    m = m[m["Data Type"].isna()] if "Data Type" in m else m
    for c in ("Customs Value", "CIF Import Value"):
        m[c] = pd.to_numeric(m[c], errors="coerce")
    m = m.dropna()
    if country:
        m = m[m["Country"] == country]
    m = m[m["Customs Value"] > 0]
    return float(m["CIF Import Value"].sum() / m["Customs Value"].sum()), int(len(m))


def shapley_values(players: Sequence[Hashable], value: Callable[[frozenset], float]) -> dict[Hashable, float]:
    """The Shapley value of each player for a set function ``value`` (``value(frozenset())`` is the start).

    phi_i = sum over coalitions S without i of |S|! (n - |S| - 1)! / n! x (value(S + i) - value(S)): the average,
    over every order of the players, of what i adds when it joins. They add up to value(all) - value(empty)
    and do not depend on the order the players are listed in. ``value`` is called once per coalition.
    """
    ps = list(dict.fromkeys(players))
    n = len(ps)
    cache: dict[frozenset, float] = {}

    def v(c: frozenset) -> float:
        if c not in cache:
            cache[c] = float(value(c))
        return cache[c]

    out: dict[Hashable, float] = {}
    for i in ps:
        others = [q for q in ps if q != i]
        total = 0.0
        for k in range(n):
            w = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            for combo in itertools.combinations(others, k):
                c = frozenset(combo)
                total += w * (v(c | {i}) - v(c))
        out[i] = total
    return out


def _us_monthly(con, us_flow: str, partner: str, months: list[str]) -> dict[str, float]:
    regime = "total" if us_flow == "exports" else "general"
    sql, params = _flows._select(_flows.MONTHLY_TOTALS, us_flow, [partner], months, regime)
    return dict(con.execute(f"SELECT period, sum(value) FROM ({sql}) GROUP BY 1", params).fetchall())


def reconcile(partner_figures: str | Path | list[PartnerFigure], reporter: str = "JPN", partner: str = "USA",
              cif_factor: float = CIF_FACTOR, fob_factor: float = FOB_FACTOR, lag_months: int = 0,
              customs_rate_lag_days: int = CUSTOMS_RATE_LAG_DAYS, con: db.Connection | None = None) -> ReconcileResult:
    """Split the gap between the partner's published figures and the mirror estimate (see module doc)."""
    skipped: list[str] = []
    figs = partner_figures if isinstance(partner_figures, list) else read_partner_figures(partner_figures, skipped)
    if lag_months not in (0, 1):
        raise InputError("lag_months is 0 or 1")
    if cif_factor <= 0 or fob_factor <= 0:
        raise InputError("CIF/FOB factors must be positive")
    rep, part = resolve_partner(reporter), resolve_partner(partner)
    with using_warehouse(con) as con:
        perspective, us_partners = _roles(rep, part)
        if perspective != MIRROR_LABEL:
            raise InputError("reconcile compares a partner's own figures with the mirror: use --reporter <partner> "
                             "--partner USA (e.g. --reporter JPN --partner USA)")
        us = us_partners[0]
        res = ReconcileResult(rep, part, parameters={
            "cif_factor": cif_factor, "fob_factor": fob_factor, "lag_months": lag_months,
            "customs_rate_lag_days": customs_rate_lag_days,
            "order": "exchange_rate -> valuation -> timing -> residual",
            "shapley": "exchange_rate, valuation, timing: average over all 6 orders; residual as above"})
        used: dict[str, str] = {}
        for fig in figs:
            per = parse_period(fig.period)
            months = per.months()
            comp: dict[str, dict[str, float]] = {}
            for flow, uf, factor in (("exports", "imports", fob_factor), ("imports", "exports", cif_factor)):
                if fig.flow not in (flow, "balance"):
                    continue
                usd = _us_monthly(con, uf, us, months)
                if len(usd) != len(months):
                    raise DataNotFoundError(
                        f"the mirror needs monthly US {uf} with {rep} for every month of {per.text}: loaded for "
                        f"{len(usd)} of {len(months)} months ({_flows.MONTHLY_TOTALS})")
                used[_flows.MONTHLY_TOTALS] = "monthly US exports and general imports (mirror)"
                if fig.currency == "USD":
                    avg = cust = {m: 1.0 for m in months}
                else:
                    rates = monthly_rates(con, fig.currency, months)
                    used.update(rates.sources_used(months))
                    avg = rates.rate
                    cust = {m: lagged_daily_rate(con, fig.currency, m, customs_rate_lag_days) for m in months}
                    used["fred_dexjpus"] = f"daily rates shifted {customs_rate_lag_days} days (customs-rate proxy)"
                shifted_usd = None  # US values of the partner's months, a month later/earlier (timing)
                if lag_months:
                    shift = 1 if flow == "exports" else -1  # exports arrive in the US a month later
                    shifted = [parse_period(m).shift(shift).text for m in months]
                    usd_s = _us_monthly(con, uf, us, shifted)
                    if len(usd_s) == len(shifted):
                        shifted_usd = {m: usd_s[s] for m, s in zip(months, shifted, strict=True)}
                    else:
                        miss = sorted(set(shifted) - set(usd_s))
                        res.notes.append(f"{per.text} {flow}: timing shift not applied, US {uf} for "
                                         f"{', '.join(miss)} not loaded (the shift falls into the residual)")

                def mirror(adj: frozenset, usd=usd, avg=avg, cust=cust, factor=factor, shifted_usd=shifted_usd,
                           months=months) -> float:
                    """The mirror with the adjustments in ``adj`` applied (any subset, in no order)."""
                    vals = shifted_usd if "timing" in adj and shifted_usd is not None else usd
                    rate = cust if "exchange_rate" in adj else avg
                    return sum(vals[m] * rate[m] for m in months) * (factor if "valuation" in adj else 1.0)

                steps = ["exchange_rate", "valuation", "timing"]
                seq = [mirror(frozenset(steps[:k])) for k in range(4)]  # M0..M3 in the stated order
                comp[flow] = {"m0": seq[0], "m1": seq[1], "m2": seq[2], "m3": seq[3], "usd": sum(usd.values()),
                              **{f"sh_{k}": v for k, v in shapley_values(steps, mirror).items()}}
            if fig.flow == "balance":
                c = {k: comp["exports"][k] - comp["imports"][k] for k in comp["exports"]}  # Shapley is linear
            else:
                c = comp[fig.flow]
            p = fig.value
            res.rows.append(ReconcileRow(fig.period, fig.flow, fig.currency, p, c["m0"], p - c["m0"],
                                         c["m1"] - c["m0"], c["m2"] - c["m1"], c["m3"] - c["m2"], p - c["m3"],
                                         c["usd"], c["sh_exchange_rate"], c["sh_valuation"], c["sh_timing"]))
            if fig.note:
                res.notes.append(f"{fig.period} {fig.flow}: {fig.note}")
        res.notes.insert(0, f"partner figures: {rep}'s own statistics as supplied by the user; mirror: US statistics "
                            f"({MIRROR_LABEL})")
        res.notes.extend(skipped)
        res.notes = list(dict.fromkeys(res.notes))  # a balance row repeats its flows' notes
        res.sources = source_refs(con, used)
        return res
