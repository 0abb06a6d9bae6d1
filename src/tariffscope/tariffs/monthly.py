"""Monthly tariff paths for chosen cells: the day-weighted average statutory rate of each month.

A month's rate on a cell (HTS10 x origin) is the mean of its daily rates, from the engine's constant
intervals (``panel.cell_rates_over``), so a duty that starts on April 5 counts for 26/30 of April. Months
before the catalogue's coverage (2024, the base year of the backtest) take the *reference regime*: the
rates in force on a reference date (default 2025-01-01, i.e. the 2024 regime including the 2018-19
Section 232/301 duties) or MFN only (``reference="mfn"``: column 1 general rates on 2025-01-01).
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np

from tariffscope.errors import InputError
from tariffscope.tariffs.coverage import data_coverage
from tariffscope.tariffs.panel import cell_rates_over

__all__ = ["MonthlyRates", "monthly_rates", "month_days", "REFERENCE_DEFAULT"]

REFERENCE_DEFAULT = "2025-01-01"


@dataclass
class MonthlyRates:
    months: list[str]           # YYYY-MM, in order
    rates: np.ndarray           # (n_months, n_cells) total rate, fractions of customs value
    reference: str              # 'YYYY-MM-DD' (regime in force that day) or 'mfn'
    reference_rates: np.ndarray  # (n_cells,) rates of the reference regime
    from_engine: list[bool]     # per month: rated by the engine (True) or the reference regime (False)
    hts_revisions: list[str]


def month_days(month: str) -> tuple[dt.date, dt.date]:
    y, m = int(month[:4]), int(month[5:7])
    return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])


def _reference_date(reference: str, coverage: tuple[dt.date, dt.date]) -> tuple[dt.date, bool]:
    if reference == "mfn":
        return coverage[0], True
    try:
        day = dt.date.fromisoformat(reference)
    except ValueError:
        raise InputError(f"bad reference {reference!r}: a date YYYY-MM-DD or 'mfn'") from None
    if not coverage[0] <= day < coverage[1]:
        raise InputError(f"reference date {day} is outside the measure catalogue's coverage "
                         f"({coverage[0]} to {coverage[1] - dt.timedelta(days=1)})")
    return day, False


def monthly_rates(con, months: list[str], hts10: np.ndarray, origins: np.ndarray, reference: str = REFERENCE_DEFAULT,
                  options: dict | None = None) -> MonthlyRates:
    """Day-weighted monthly total rates for cells (hts10[i], origins[i]) and the reference regime's rates."""
    coverage = data_coverage().catalogue  # [from, until) as the catalogue files state it
    ref_day, mfn_only = _reference_date(reference, coverage)
    n = len(hts10)
    out = np.empty((len(months), n))
    engine = [month_days(m)[1] >= coverage[0] for m in months]
    for m, e in zip(months, engine, strict=True):
        if e and (month_days(m)[0] < coverage[0] or month_days(m)[1] >= coverage[1]):
            raise InputError(f"month {m} is only partly inside the measure catalogue's coverage")
    rated = [m for m, e in zip(months, engine, strict=True) if e]
    # one pass over the engine's constant intervals, covering the rated months and the reference day
    lo = min([month_days(m)[0] for m in rated] + [ref_day])
    hi = max([month_days(m)[1] for m in rated] + [ref_day])
    acc = {m: np.zeros(n) for m in rated}
    ref_rates = None
    revs: list[str] = []
    for s, e, comp, rev in cell_rates_over(con, lo, hi, hts10, origins, options):
        if rev not in revs:
            revs.append(rev)
        tot = comp["total_rate"].astype(np.float64)
        if s <= ref_day <= e:
            ref_rates = (comp["mfn_rate"] if mfn_only else comp["total_rate"]).astype(np.float64)
        for m in rated:
            m0, m1 = month_days(m)
            days = (min(e, m1) - max(s, m0)).days + 1
            if days > 0:
                acc[m] += tot * (days / m1.day)  # m1.day = days in the month
    assert ref_rates is not None  # the loop's range includes ref_day
    for i, m in enumerate(months):
        out[i] = acc[m] if engine[i] else ref_rates
    return MonthlyRates(list(months), out, "mfn" if mfn_only else ref_day.isoformat(), ref_rates, engine, revs)
