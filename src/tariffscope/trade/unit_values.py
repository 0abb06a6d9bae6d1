"""Prices, unit values and base-year weights of one origin's product, for calibrating exporter absorption.

Price indices a user ingested (table ``price_indices``) are read per source, never joined across sources.

Monthly unit values (value / quantity) come from warehouse rows that carry quantities: US imports from
the origin (customs value, before duty) or the origin's own exports to the US (e.g. Japan Customs, FOB in
yen). Both are exporter-side prices. Rows of one source, one product level and one quantity unit are
summed per month (mixing levels would count a flow twice; mixing units has no meaning). The HS10 weights
of the origin's 2024 US imports (Census import weights) average the engine's rates over the product.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tariffscope import db
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.ingest.price_index_csv import PriceIndexFile, PriceRow
from tariffscope.trade._flows import IMPORTS_HS10_ALL

__all__ = ["UnitValues", "unit_values", "HS10Weights", "hs10_weights", "stored_price_indices"]


@dataclass
class UnitValues:
    """Monthly unit values of one origin x product from one source (exporter basis)."""

    source: str
    vintage: str
    flow: str                 # 'US imports' or '<origin> exports to the US'
    value_basis: str          # customs | fob | cif
    currency: str
    quantity_unit: str
    product_level: int
    unit_value: dict[str, float] = field(default_factory=dict)  # YYYY-MM -> currency per unit
    quantity: dict[str, float] = field(default_factory=dict)


_UV_SQL = """
SELECT source, any_value(vintage) AS vintage, reporter, flow, value_basis, currency, quantity_unit, product_level,
       period, sum(value) AS value, sum(quantity) AS quantity
FROM trade_flows
WHERE frequency = ? AND quantity IS NOT NULL AND quantity > 0 AND starts_with(product_code, ?)
  AND ((reporter = 'USA' AND partner = ? AND flow = 'imports') OR (reporter = ? AND partner = 'USA' AND flow = 'exports'))
GROUP BY ALL ORDER BY source, product_level, period
"""


def unit_values(con: db.Connection, origin: str, product: str, months: list[str]) -> UnitValues:
    """Monthly unit values covering the most of ``months`` (DataNotFoundError when no monthly quantities exist)."""
    rows = db.query(con, _UV_SQL, ["M", product, origin, origin]).to_pylist()
    if not rows:
        annual = db.query(con, _UV_SQL, ["A", product, origin, origin]).to_pylist()
        have = ""
        if annual:
            srcs = sorted({r["source"] for r in annual})
            years = sorted({r["period"] for r in annual})
            have = f" (only annual quantities are loaded: {', '.join(srcs)}, {years[0]}-{years[-1]})"
        raise DataNotFoundError(f"no monthly quantities for {origin} {product}{have}: ingest monthly quantities (e.g. a "
                                "Japan Customs by-commodity CSV) or give a price index file (--prices)")
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["source"], r["reporter"], r["flow"], r["product_level"]), []).append(r)
    # the source and level that cover the most requested months; the finest level on a tie (more detail, same flow)
    want = set(months)
    best = max(groups, key=lambda k: (len({r["period"] for r in groups[k]} & want), k[3]))
    sel = groups[best]
    lacking = want - {r["period"] for r in sel}
    elsewhere = sorted({k[0] for k, g in groups.items() if k != best and lacking & {r["period"] for r in g}})
    if elsewhere:  # one series is read from one source: sources are never mixed silently
        raise DataNotFoundError(f"monthly quantities of {origin} {product} are split across sources ({best[0]}, "
                                f"{', '.join(elsewhere)}): ingest the files of one series under one source id "
                                "(tariffscope data ingest FILE --source-id NAME) to use them together")
    units = sorted({r["quantity_unit"] or "?" for r in sel})
    if len(units) > 1:
        raise InputError(f"quantities of {origin} {product} in {best[0]} are in several units ({', '.join(units)}): "
                         "give a narrower product whose lines share one unit")
    currencies = sorted({r["currency"] for r in sel})
    if len(currencies) > 1:
        raise InputError(f"{best[0]} mixes currencies {currencies} for {origin} {product}")
    first = sel[0]
    flow = "US imports" if first["reporter"] == "USA" else f"{origin} exports to the US"
    out = UnitValues(first["source"], first["vintage"] or "", flow, first["value_basis"], first["currency"], units[0],
                     int(first["product_level"]))
    for r in sel:
        out.unit_value[r["period"]] = float(r["value"]) / float(r["quantity"])
        out.quantity[r["period"]] = float(r["quantity"])
    return out


@dataclass
class HS10Weights:
    """The origin's HS10 lines under a product prefix with their base-year US imports (the rate weights)."""

    source: str
    period: str
    hts10: np.ndarray
    value: np.ndarray


def hs10_weights(con: db.Connection, origin: str, product: str, source: str = IMPORTS_HS10_ALL) -> HS10Weights:
    """HS10 x origin base imports under ``product`` (DataNotFoundError when the origin has none)."""
    t = db.query(con, """SELECT product_code, sum(value) AS value, any_value(period) AS period FROM trade_flows
                         WHERE source = ? AND flow = 'imports' AND product_level = 10 AND partner = ?
                           AND starts_with(product_code, ?)
                         GROUP BY product_code HAVING sum(value) > 0 ORDER BY product_code""", [source, origin, product])
    if t.num_rows == 0:
        raise DataNotFoundError(f"no US imports of {product} from {origin} in {source}: no tariff weights for that product")
    return HS10Weights(source, str(t.column("period")[0].as_py()),
                       np.asarray(t.column("product_code").to_pylist(), dtype=object),
                       np.asarray(t.column("value").to_pylist(), dtype=float))


def stored_price_indices(con: db.Connection, origin: str, product: str) -> list[PriceIndexFile]:
    """Price index series of ``origin`` x ``product`` ingested into the warehouse, one entry per source."""
    t = db.query(con, """SELECT source, vintage, period, origin, product,
                                "index", basis, currency
                         FROM price_indices WHERE origin = ? AND product = ? ORDER BY source, basis, period""",
                 [origin, product]).to_pylist()
    out: dict[str, PriceIndexFile] = {}
    for r in t:
        pf = out.setdefault(r["source"], PriceIndexFile(f"warehouse source {r['source']}", [], r["source"], r["vintage"]))
        pf.rows.append(PriceRow(r["period"], r["origin"], r["product"], float(r["index"]), r["basis"], r["currency"], 0))
    return list(out.values())
