"""Which dates the data speaks for, read from the data itself: the one place coverage dates come from.

* the **measure catalogue**: the ``coverage: {from, until}`` its files state (dates the engine accepts);
* the **HTS revisions** in the warehouse: effective dates of the first and the last revision loaded;
* the **monthly trade tables** in the warehouse: the latest month of each monthly source.

Code that needs "the latest month" or "the last day the engine covers" asks ``data_coverage`` rather than
writing a date down, so loading newer data moves every default with it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tariffscope import db
from tariffscope.errors import DataNotFoundError
from tariffscope.tariffs.measures import load

__all__ = ["DataCoverage", "data_coverage"]


@dataclass(frozen=True)
class DataCoverage:
    """Coverage of the catalogue and, when read from a warehouse, of its HTS revisions and monthly trade."""

    catalogue: tuple[dt.date, dt.date]  # [from, until)
    hts_revisions: tuple[dt.date, dt.date] | None = None  # effective dates of the first and last revision
    monthly: dict[str, str] = field(default_factory=dict)  # source -> latest 'YYYY-MM'

    @property
    def catalogue_last_day(self) -> dt.date:
        return self.catalogue[1] - dt.timedelta(days=1)

    def latest_month(self, source: str) -> str:
        """The latest month ('YYYY-MM') of a monthly source in the warehouse."""
        month = self.monthly.get(source)
        if month is None:
            raise DataNotFoundError(f"no monthly data from {source} in the warehouse"
                                    f" (monthly sources: {', '.join(sorted(self.monthly)) or 'none'})")
        return month


def data_coverage(con: Any = None) -> DataCoverage:
    """Coverage dates from the data: the catalogue always; with a warehouse connection ``con`` also the HTS
    revisions and the latest month of each monthly trade source loaded there."""
    cat = load().coverage
    if con is None:
        return DataCoverage(cat)
    revs = db.query(con, "SELECT min(effective_date) AS lo, max(effective_date) AS hi FROM hts_revisions").to_pylist()[0]
    hts = (_day(revs["lo"]), _day(revs["hi"])) if revs["lo"] is not None else None
    rows = db.query(con, "SELECT source, max(period) AS period FROM trade_flows WHERE frequency = 'M' GROUP BY source").to_pylist()
    return DataCoverage(cat, hts, {r["source"]: r["period"] for r in rows})


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
