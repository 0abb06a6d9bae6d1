"""World panels, queries: sums by product level, a reporter's balance with a partner, an importer's
lines from every origin (the base flows of a PE run on any importer)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.panels.store import PanelInfo, panel_info, scan_sql

PRODUCT_LEVELS = {"total": 0, "hs2": 2, "hs4": 4, "hs6": 6}


def _level(by: str | int) -> int:
    if isinstance(by, int) and by in (0, 2, 4, 6):
        return by
    if isinstance(by, str) and by.lower() in PRODUCT_LEVELS:
        return PRODUCT_LEVELS[by.lower()]
    raise InputError(f"bad product level {by!r}: use total, hs2, hs4 or hs6")


def _product_expr(level: int) -> str:
    return "'TOTAL'" if level == 0 else ("product" if level == 6 else f"substr(product, 1, {level})")


def _years(info: PanelInfo, year: int | Iterable[int] | None) -> list[int]:
    if year is None:
        return info.years
    years = [int(year)] if isinstance(year, (int, str)) else [int(y) for y in year]
    missing = [y for y in years if y not in info.rows_by_year]
    if missing:
        raise DataNotFoundError(f"panel {info.name!r} has no year {', '.join(map(str, missing))} "
                                f"(years: {info.years[0]}-{info.years[-1]})")
    return years


def aggregate_panel(name: str, by: str | int = "hs2", year: int | Iterable[int] | None = None,
                    con: db.Connection | None = None) -> pa.Table:
    """Sum the panel to (year, exporter, importer, product at level ``by``): value in thousand USD."""
    info = panel_info(name)
    years = _years(info, year)
    level = _level(by)
    own = con is None
    con = con or db.memory()
    try:
        where = f"WHERE year IN ({', '.join(map(str, years))})" if year is not None else ""
        return db.query(con, f"""
            SELECT year, exporter, importer, {_product_expr(level)} AS product,
                   sum(value_kusd) AS value_kusd, sum(quantity_t) AS quantity_t
            FROM {scan_sql(name)} {where}
            GROUP BY ALL""")
    finally:
        if own:
            con.close()


def panel_country(text: str) -> str:
    """ISO3 of one country as panels name it (``UNK<code>`` passes through); a group is an error."""
    from tariffscope.codes.countries import resolve_country

    if isinstance(text, str) and re.fullmatch(r"UNK\d{3}", text):
        return text
    c = resolve_country(text)
    if c.is_group:
        raise InputError(f"{c.iso3} is a group: panel balances are for one reporter and one partner country")
    return c.iso3


@dataclass
class PanelBalance:
    """Goods balance of ``reporter`` with ``partner`` from a world panel, in US dollars.

    BACI reconciles each flow into one value (FOB, from both partners' declarations), so the
    reporter's exports to the partner are the partner's imports from it.
    """

    panel: str
    reporter: str
    partner: str
    year: int
    by: str
    rows: list[dict[str, Any]]  # product, exports_usd, imports_usd, balance_usd
    source: str
    vintage: str | None

    @property
    def exports(self) -> float:
        return float(sum(r["exports_usd"] for r in self.rows))

    @property
    def imports(self) -> float:
        return float(sum(r["imports_usd"] for r in self.rows))

    @property
    def balance(self) -> float:
        return self.exports - self.imports

    def to_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        df = pd.DataFrame(self.rows, columns=["product", "exports_usd", "imports_usd", "balance_usd"])
        df.attrs.update(source=self.source, vintage=self.vintage)
        return df

    def to_dict(self) -> dict[str, Any]:
        return {"panel": self.panel, "reporter": self.reporter, "partner": self.partner, "year": self.year,
                "by": self.by, "exports_usd": self.exports, "imports_usd": self.imports,
                "balance_usd": self.balance, "rows": self.rows, "source": self.source, "vintage": self.vintage}


def panel_balance(name: str, reporter: str, partner: str, year: int, by: str = "hs2",
                  con: db.Connection | None = None) -> PanelBalance:
    """Exports, imports and balance of ``reporter`` with ``partner`` in ``year`` by product (USD)."""
    info = panel_info(name)
    (yr,) = _years(info, int(year))
    level = _level(by)
    rep, par = panel_country(reporter), panel_country(partner)
    if rep == par:
        raise InputError(f"reporter and partner are both {rep}")
    own = con is None
    con = con or db.memory()
    try:
        pe = _product_expr(level)
        tbl = db.query(con, f"""
            SELECT {pe} AS product,
                   sum(CASE WHEN exporter = ? THEN value_kusd ELSE 0 END) * 1000 AS exports_usd,
                   sum(CASE WHEN exporter = ? THEN value_kusd ELSE 0 END) * 1000 AS imports_usd
            FROM {scan_sql(name)}
            WHERE year = ? AND ((exporter = ? AND importer = ?) OR (exporter = ? AND importer = ?))
            GROUP BY ALL ORDER BY product""", [rep, par, yr, rep, par, par, rep])
    finally:
        if own:
            con.close()
    rows = [{"product": r["product"], "exports_usd": r["exports_usd"], "imports_usd": r["imports_usd"],
             "balance_usd": r["exports_usd"] - r["imports_usd"]} for r in tbl.to_pylist()]
    if not rows:
        raise DataNotFoundError(f"panel {name!r} has no trade between {rep} and {par} in {yr}")
    return PanelBalance(panel=name, reporter=rep, partner=par, year=yr, by=by if isinstance(by, str) else f"hs{level}",
                        rows=rows, source=info.source, vintage=info.vintage)


def panel_imports(name: str, importer: str, year: int, by: str = "hs6",
                  con: db.Connection | None = None) -> pa.Table:
    """The import lines of ``importer`` in ``year`` from every origin: (product, origin, value_usd,
    quantity_t) — the base flows an importer-wide PE model needs, for any importer of the world."""
    info = panel_info(name)
    (yr,) = _years(info, int(year))
    imp = panel_country(importer)
    own = con is None
    con = con or db.memory()
    try:
        return db.query(con, f"""
            SELECT {_product_expr(_level(by))} AS product, exporter AS origin,
                   sum(value_kusd) * 1000 AS value_usd, sum(quantity_t) AS quantity_t
            FROM {scan_sql(name)} WHERE year = ? AND importer = ?
            GROUP BY ALL ORDER BY product, origin""", [yr, imp])
    finally:
        if own:
            con.close()
