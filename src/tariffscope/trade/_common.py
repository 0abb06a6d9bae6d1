"""Shared plumbing of the trade area: periods, partners, sources, exchange rates, result helpers.

Private to ``tariffscope.trade``; the public surface is ``balance``, ``monitor`` and ``reconcile``.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.codes.countries import resolve_country
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.ingest import warehouse

US = "USA"
GROUP_CODES = {"EU27", "WLD"}
# The currency each reporter publishes its own figures in (for mirror estimates in the home currency).
HOME_CURRENCY = {"USA": "USD", "JPN": "JPY"}
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Period:
    """'YYYY' (annual) or 'YYYY-MM' (monthly)."""

    text: str
    year: int
    month: int | None

    @property
    def frequency(self) -> str:
        return "A" if self.month is None else "M"

    def months(self) -> list[str]:
        if self.month is None:
            return [f"{self.year}-{m:02d}" for m in range(1, 13)]
        return [self.text]

    def shift(self, months: int) -> Period:
        """The period ``months`` later (negative: earlier); annual periods shift by whole years."""
        if self.month is None:
            return parse_period(str(self.year + months // 12))
        idx = self.year * 12 + (self.month - 1) + months
        return parse_period(f"{idx // 12}-{idx % 12 + 1:02d}")

    def year_ago(self) -> Period:
        return self.shift(-12)


@contextlib.contextmanager
def using_warehouse(con: db.Connection | None) -> Iterator[db.Connection]:
    """The caller's connection as is, or the warehouse opened (and closed) for this call."""
    if con is not None:
        yield con
        return
    own = warehouse.open_warehouse()
    try:
        yield own
    finally:
        own.close()


def parse_period(text: str | int) -> Period:
    s = str(text).strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", s)
    if not m or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
        raise InputError(f"bad period {s!r}: use 'YYYY' or 'YYYY-MM' (e.g. 2024 or 2025-05)")
    return Period(s, int(m.group(1)), int(m.group(2)) if m.group(2) else None)


def month_range(start: str, end: str) -> list[str]:
    a, b = parse_period(start), parse_period(end)
    if a.month is None or b.month is None:
        raise InputError("--from/--to take months 'YYYY-MM'")
    out, p = [], a
    while (p.year, p.month) <= (b.year, b.month):
        out.append(p.text)
        p = p.shift(1)
    if not out:
        raise InputError(f"empty month range {start}..{end}")
    return out


def resolve_partner(text: str) -> str:
    """ISO3 of a country name/code; group codes (EU27, WLD) pass through."""
    s = str(text).strip()
    if s.upper() in GROUP_CODES:
        return s.upper()
    if s.upper() == US:  # the reporter of every loaded series: skip loading the country tables
        return US
    return resolve_country(s).iso3


def country_name(iso3: str) -> str:
    if iso3 in GROUP_CODES:
        return {"EU27": "European Union (27)", "WLD": "World"}[iso3]
    try:
        from tariffscope.codes.countries import resolve_country

        return resolve_country(iso3).name
    except InputError:  # an unknown code: naming is cosmetic; never fail a figure over it
        return iso3


@dataclass
class SourceRef:
    """A source line shown under every figure."""

    source: str
    title: str
    vintage: str | None = None
    used_for: str = ""

    def line(self) -> str:
        v = f", vintage {self.vintage}" if self.vintage else ""
        u = f" [{self.used_for}]" if self.used_for else ""
        return f"{self.source}: {self.title}{v}{u}"


def source_refs(con: db.Connection, used: dict[str, str]) -> list[SourceRef]:
    """SourceRefs for ``{source_id: what it was used for}`` from the warehouse ``sources`` table.

    The vintage shown is the one recorded on the rows actually used when the sources table lacks one.
    """
    if not used:
        return []
    ids = list(used)
    ph = ",".join("?" * len(ids))
    meta = {r[0]: (r[1], r[2]) for r in con.execute(f"SELECT source, title, vintage FROM sources WHERE source IN ({ph})", ids).fetchall()}
    out = []
    for sid in ids:
        title, vintage = meta.get(sid, (sid, None))
        if vintage is None:
            row_v = con.execute(
                "SELECT string_agg(DISTINCT vintage, '; ') FROM (SELECT vintage FROM trade_flows WHERE source = ? UNION ALL "
                "SELECT vintage FROM exchange_rates WHERE source = ?)",
                [sid, sid],
            ).fetchall()[0][0]
            vintage = row_v
        out.append(SourceRef(sid, title, vintage, used[sid]))
    return out


# --- exchange rates -----------------------------------------------------------------------------


@dataclass
class MonthlyRates:
    """Monthly average rates (quote currency per 1 USD) with the source of each month.

    ``others`` lists, per source used, the other loaded sources of the same series that were not used
    (older ingests or the embedded vintage): one vintage per month, never an average across vintages.
    """

    quote: str
    rate: dict[str, float] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    frequency: dict[str, str] = field(default_factory=dict)
    others: dict[str, list[str]] = field(default_factory=dict)

    def sources_used(self, months: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for m in months:
            s = self.source[m]
            out[s] = "monthly average" if self.frequency.get(m) == "M" else "daily rates averaged by month"
        notes = {}
        for k, v in out.items():
            skipped = self.others.get(k)
            notes[k] = f"{self.quote} per USD, {v}" + (
                f"; the latest ingest of the series (not mixed with {', '.join(skipped)})" if skipped else "")
        return notes


# The series' sources, newest ingest first: a user's newer vintage is preferred to the embedded one
# (ingest ids grow with each ingest; the embedded load is the first), ties by source id for stable output.
_FX_SQL = """
WITH ranked AS (
    SELECT source, frequency, max(coalesce(ingest_id, 0)) AS latest
    FROM exchange_rates WHERE base_currency = 'USD' AND quote_currency = $q AND frequency IN ('M', 'D')
    GROUP BY source, frequency)
SELECT strftime(e.date, '%Y-%m') AS m, e.frequency, e.source, avg(e.rate), any_value(r.latest) AS latest
FROM exchange_rates e JOIN ranked r USING (source, frequency)
WHERE e.base_currency = 'USD' AND e.quote_currency = $q AND e.frequency IN ('M', 'D')
GROUP BY 1, 2, 3
ORDER BY 1, 2, latest DESC, e.source
"""


def monthly_rates(con: db.Connection, quote: str, months: list[str]) -> MonthlyRates:
    """Monthly average rates for ``months``: the published monthly average where loaded (FRED EXJPUS),
    else the mean of the daily rates of that month (FRED DEXJPUS; holidays are blank and skipped).

    When several sources hold the series (an edited file ingested under its own source id beside the
    embedded vintage), each month comes from one of them, the latest ingest that has the month; the
    others are named in the note, never averaged in.

    Raises InputError when a month has no rate at all (a currency without rates).
    """
    quote = quote.upper()
    res = MonthlyRates(quote)
    if quote == "USD":
        for m in months:
            res.rate[m], res.source[m] = 1.0, "identity"
        return res
    rows = con.execute(_FX_SQL, {"q": quote}).fetchall()
    monthly: dict[str, tuple[float, str]] = {}
    daily: dict[str, tuple[float, str]] = {}
    sources: dict[str, set[str]] = {"M": set(), "D": set()}
    for m, f, src, r, _ in rows:  # ordered newest ingest first within a month
        (monthly if f == "M" else daily).setdefault(m, (r, src))
        sources[f].add(src)
    missing = []
    for m in months:
        hit, freq = (monthly[m], "M") if m in monthly else (daily.get(m), "D")
        if hit is None:
            missing.append(m)
            continue
        res.rate[m], res.source[m], res.frequency[m] = float(hit[0]), hit[1], freq
        skipped = sorted(sources[freq] - {hit[1]})
        if skipped:
            res.others[hit[1]] = skipped
    if missing:
        have = sorted(set(monthly) | set(daily))
        span = f"loaded {have[0]}..{have[-1]}" if have else "none loaded"
        raise InputError(f"no USD/{quote} exchange rate for {missing[0]}" + (f" (and {len(missing) - 1} more months)" if len(missing) > 1 else "") + f": {span}")
    return res


def lagged_daily_rate(con: db.Connection, quote: str, month: str, lag_days: int = 14) -> float:
    """Average of the daily rates of ``month`` shifted back ``lag_days`` (an approximation of a customs
    rate fixed from the rates of an earlier week, e.g. Japan Customs' weekly rate), from one source:
    the latest ingest of the daily series that has rates in that window."""
    y, mo = int(month[:4]), int(month[5:7])
    start = _dt.date(y, mo, 1)
    end = _dt.date(y + (mo == 12), mo % 12 + 1, 1)
    shift = _dt.timedelta(days=lag_days)
    rows = con.execute(
        """SELECT source, avg(rate), max(coalesce(ingest_id, 0)) AS latest FROM exchange_rates
           WHERE base_currency = 'USD' AND quote_currency = ? AND frequency = 'D' AND date >= ? AND date < ?
           GROUP BY source ORDER BY latest DESC, source LIMIT 1""",
        [quote.upper(), start - shift, end - shift],
    ).fetchall()
    if not rows:
        raise InputError(f"no daily USD/{quote} rates around {month} for a lagged customs rate")
    return float(rows[0][1])


# --- results ------------------------------------------------------------------------------------


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows)


def jsonable(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):  # private fields (``_name``) are working state, not output
        return {f.name: jsonable(getattr(obj, f.name)) for f in fields(obj) if not f.name.startswith("_")}
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float):
        return None if obj != obj else obj  # NaN -> null
    return obj


def fmt_money(v: float | None, currency: str = "USD") -> str:
    """1.23 bn / 456.7 mn / 12,345 with the currency."""
    if v is None:
        return "n/a"
    a = abs(v)
    if a >= 1e12:
        return f"{v / 1e12:,.3f} tn {currency}"
    if a >= 1e9:
        return f"{v / 1e9:,.2f} bn {currency}"
    if a >= 1e6:
        return f"{v / 1e6:,.1f} mn {currency}"
    return f"{v:,.0f} {currency}"


def pct(a: float | None, b: float | None) -> float | None:
    """Change from b to a as a fraction; None when undefined."""
    if a is None or b is None or b == 0:
        return None
    return a / b - 1.0


def require(cond: bool, message: str) -> None:
    if not cond:
        raise DataNotFoundError(message)
