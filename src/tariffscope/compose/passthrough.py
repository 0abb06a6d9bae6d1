"""Calibrate exporter absorption (pass-through) for one origin x product from realized prices.

Prices come from a user's price index file (``ingest.price_index_csv``: exporter or importer basis, any
currency), read directly or ingested into the warehouse, or, without one, from monthly unit values in the
warehouse (``trade.unit_values``: exporter basis). The duty path is the tariff engine's day-weighted monthly rate (``tariffs.monthly``) averaged over
the origin's HS10 lines of the product with their 2024 US imports as weights; months before the measure
catalogue take the reference regime. Each month of the period is compared with the same month a year
earlier (default) or with the mean of a base window; ``models.passthrough`` turns the paired log changes
into the absorption, its standard error and range. Non-dollar prices are converted with the warehouse's
monthly exchange rates first, since the model's absorption is about the exporter's dollar price.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tariffscope.codes.countries import resolve_country
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.ingest.price_index_csv import PriceIndexFile, read as read_prices
from tariffscope.models import elasticities as el
from tariffscope.models.passthrough import MIN_TARIFF_CHANGE, estimate_absorption
from tariffscope.tariffs.monthly import REFERENCE_DEFAULT, monthly_rates
from tariffscope.trade._common import monthly_rates as fx_monthly_rates
from tariffscope.trade.unit_values import hs10_weights, stored_price_indices, unit_values

__all__ = ["PassThroughCalibration", "calibrate_pass_through", "month_range"]


def _month(text: str, what: str) -> tuple[int, int]:
    t = str(text).strip()
    try:
        if len(t) != 7 or t[4] != "-":
            raise ValueError
        dt.date(int(t[:4]), int(t[5:7]), 1)
    except ValueError:
        raise InputError(f"bad {what} {text!r}: a month YYYY-MM") from None
    return int(t[:4]), int(t[5:7])


def month_range(start: str, end: str, what: str = "period") -> list[str]:
    """YYYY-MM months from ``start`` to ``end`` inclusive (InputError on a bad month or an empty range)."""
    y, m = _month(start, f"{what} start")
    ye, me = _month(end, f"{what} end")
    if (y, m) > (ye, me):
        raise InputError(f"the {what} starts after it ends: {start} > {end}")
    out = []
    while (y, m) <= (ye, me):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _year_before(month: str) -> str:
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


@dataclass
class PassThroughCalibration:
    """Exporter absorption calibrated for one origin x product, with the data and months it rests on."""

    origin: str
    product: str
    basis: str                       # exporter | importer: what the prices measure
    absorption: float                # bounded to [0, 1]: use this in a run
    raw: float
    se: float | None
    low: float
    high: float
    comparison: str                  # how months were paired
    months_used: list[str]
    months_dropped: list[str]
    rows: list[dict[str, Any]]       # one per month of the period
    prices: dict[str, Any]           # the price data: kind, source/file, vintage, currency, unit
    tariffs: dict[str, Any]          # reference regime, HTS revisions, weights
    exchange_rates: dict[str, str]   # source -> what, when prices were converted to dollars
    cited: dict[str, Any]            # the pass_through.yaml default for this origin x product
    notes: list[str] = field(default_factory=list)

    @property
    def override(self) -> dict[str, float]:
        """The calibrated share as an absorption override (``ts.backtest(absorption=...)``)."""
        return {f"{self.origin}:{self.product}": round(self.absorption, 4)}

    @property
    def use_with(self) -> str:
        """The command line that runs the backtest with this absorption."""
        return f"tariffscope backtest --partner {self.origin} --absorption {self.origin}:{self.product}={self.absorption:.2f}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"override": self.override, "use_with": self.use_with}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)


def _file_vintage(path: str) -> str:
    p = Path(path)
    when = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).date().isoformat() if p.is_file() else "unknown"
    return f"file {p.name} as of {when} (file date; read directly, not ingested)"


def _cited(origin: str, product: str) -> dict[str, Any]:
    pt = el.pass_through(np.array([origin], dtype=object), np.array([product], dtype=object))
    row = el.pass_through_rows()[int(pt.row[0])]
    return {"origin": row["origin"], "product": row["product"], "absorption": float(pt.absorption[0]),
            "range": [float(pt.low[0]), float(pt.high[0])], "evidence": list(row.get("evidence") or []),
            "file": "data/elasticities/pass_through.yaml"}


def calibrate_pass_through(con, origin: str, product: str, start: str, end: str, *,
                           prices: str | Path | PriceIndexFile | None = None, price_source: str | None = None,
                           basis: str | None = None,
                           base_start: str | None = None, base_end: str | None = None,
                           reference: str = REFERENCE_DEFAULT, options: dict | None = None,
                           min_change: float = MIN_TARIFF_CHANGE) -> PassThroughCalibration:
    """Absorption of ``origin``'s ``product`` (an HS prefix) over months ``start``..``end``.

    ``prices``: a price index file (path or parsed), read without storing it. None: the series ingested into
    the warehouse (``price_source`` names the source when several hold it), else monthly unit values.
    ``basis``: which series of the file to use when it holds both. ``base_start``/``base_end``: compare each
    month with the mean of this base window instead of the same month a year earlier.
    """
    iso = resolve_country(origin).iso3
    code = str(product).strip().replace(".", "")
    if not (code.isdigit() and 2 <= len(code) <= 10):
        raise InputError(f"bad product {product!r}: an HS prefix of 2 to 10 digits (e.g. 8703)")
    if basis is not None and basis not in ("exporter", "importer"):
        raise InputError(f"bad basis {basis!r}: 'exporter' or 'importer'")
    months = month_range(start, end)
    if (base_start is None) != (base_end is None):
        raise InputError("give both ends of the base window (base_start and base_end) or neither")
    if base_start is not None and base_end is not None:
        base = month_range(base_start, base_end, "base window")
        if set(base) & set(months):
            raise InputError(f"the base window {base[0]}..{base[-1]} overlaps the period {months[0]}..{months[-1]}")
        pairs = {m: base for m in months}
        comparison = f"each month against the mean of {base[0]}..{base[-1]}"
    else:
        pairs = {m: [_year_before(m)] for m in months}
        comparison = "each month against the same month a year earlier"
    needed = sorted(set(months) | {b for bs in pairs.values() for b in bs})

    # prices: log price per month, in dollars
    if prices is not None and price_source is not None:
        raise InputError("give a price file or a warehouse price source, not both")
    pf: PriceIndexFile | None = None
    if prices is not None:
        pf = prices if isinstance(prices, PriceIndexFile) else read_prices(prices)
    else:
        stored = stored_price_indices(con, iso, code)
        if price_source is not None:
            hit = [s for s in stored if s.source == price_source]
            if not hit:
                holders = ", ".join(s.source or "" for s in stored) or "none"
                raise DataNotFoundError(f"no {iso} {code} price indices under source {price_source!r} (sources holding "
                                        f"them: {holders}; 'tariffscope data status' lists what is loaded)")
            pf = hit[0]
        elif len(stored) > 1:  # two ingested series of one product: which one is the user's to say
            raise InputError(f"{len(stored)} warehouse sources hold {iso} {code} price indices "
                             f"({', '.join(s.source or '' for s in stored)}): choose one (--price-source, price_source=)")
        elif stored:
            pf = stored[0]
    if pf is not None:
        series = pf.series(iso, code)
        if not series:
            raise DataNotFoundError(f"{pf.path}: no rows for {iso} {code} (it holds: {', '.join(pf.keys())})")
        bases = sorted({r.basis for r in series})
        if basis is None and len(bases) > 1:
            raise InputError(f"{pf.path} holds {iso} {code} on both bases: choose one (--basis / basis= exporter or importer)")
        use_basis = basis or bases[0]
        series = [r for r in series if r.basis == use_basis]
        if not series:
            raise DataNotFoundError(f"{pf.path}: no {use_basis}-basis rows for {iso} {code}")
        level = {r.period: r.index for r in series}
        currencies = sorted({r.currency for r in series})
        if len(currencies) > 1:  # files of one source in two currencies: the changes would mix in exchange rates
            raise InputError(f"{pf.path}: the {iso} {code} {use_basis} series mixes currencies {currencies}")
        currency = currencies[0]
        price_meta: dict[str, Any] = {"kind": "price index file", "file": pf.path, "currency": currency,
                                      "series": f"{iso} {code} {use_basis}"}
        if pf.source is not None:
            price_meta = {"kind": "price index (warehouse)", "source": pf.source, "vintage": pf.vintage,
                          "currency": currency, "series": f"{iso} {code} {use_basis}"}
        else:
            price_meta["vintage"] = _file_vintage(pf.path)
    else:
        if basis == "importer":
            raise InputError("unit values from trade data are exporter-basis (before duty): basis importer needs a price index file")
        use_basis = "exporter"
        uv = unit_values(con, iso, code, needed)
        level, currency = uv.unit_value, uv.currency
        price_meta = {"kind": "unit values", "source": uv.source, "vintage": uv.vintage, "flow": uv.flow,
                      "value_basis": uv.value_basis, "currency": currency, "quantity_unit": uv.quantity_unit,
                      "product_level": uv.product_level}
    missing = [m for m in needed if m not in level]
    if missing:
        role = "a month of the period" if missing[0] in months else "a comparison month"
        covered = sorted(level)
        raise DataNotFoundError(f"no {iso} {code} price for {missing[0]} ({role}"
                                + (f"; {len(missing) - 1} more months missing" if len(missing) > 1 else "")
                                + f"): the prices cover {covered[0]}..{covered[-1]}")
    lp = {m: math.log(level[m]) for m in needed}
    fx_meta: dict[str, str] = {}
    if currency != "USD":  # the model's absorption is about the dollar price: take exchange-rate moves out
        fx = fx_monthly_rates(con, currency, needed)
        lp = {m: v - math.log(fx.rate[m]) for m, v in lp.items()}
        fx_meta = fx.sources_used(needed)

    # duty path: day-weighted monthly rates over the origin's HS10 lines, base-year import weights
    w = hs10_weights(con, iso, code)
    mr = monthly_rates(con, needed, w.hts10, np.array([iso] * len(w.hts10), dtype=object), reference=reference,
                       options=options)
    share = w.value / w.value.sum()
    tau = {m: float(share @ (1.0 + mr.rates[i])) for i, m in enumerate(needed)}
    ltau = {m: math.log(t) for m, t in tau.items()}

    x = np.array([ltau[m] - np.mean([ltau[b] for b in pairs[m]]) for m in months])
    y = np.array([lp[m] - np.mean([lp[b] for b in pairs[m]]) for m in months])
    est = estimate_absorption(months, x, y, use_basis, min_change=min_change)
    used = set(est.months_used)
    by_month = dict(zip(est.months_used, est.monthly, strict=True))
    rows = []
    for i, m in enumerate(months):
        then = pairs[m]
        rows.append({"period": m, "compared_with": then[0] if len(then) == 1 else f"{then[0]}..{then[-1]}",
                     "tariff_then": float(np.mean([tau[b] for b in then]) - 1.0), "tariff_now": tau[m] - 1.0,
                     "dln_tariff_factor": float(x[i]), "price_change": math.expm1(float(y[i])),
                     "absorption": by_month.get(m), "used": m in used})
    cited = _cited(iso, code)
    notes = list(est.notes)
    lo_c, hi_c = cited["range"]
    where = "inside" if lo_c <= est.absorption <= hi_c else "outside"
    notes.append(f"the cited default for {cited['origin']} {cited['product']} is {cited['absorption']:.2f} "
                 f"(range {lo_c:.2f}-{hi_c:.2f}); this calibration, {est.absorption:.2f}, is {where} that range")
    if price_meta["kind"] == "unit values":
        notes.append("unit values move with the mix of goods shipped as well as with prices: this estimate is rougher "
                     "than one from a price index")
    tariffs = {"reference": mr.reference, "hts_revisions": mr.hts_revisions,
               "weights": f"{w.source} ({w.period} US imports of {len(w.hts10)} HS10 lines)",
               "months_from_reference_regime": [m for m, e in zip(needed, mr.from_engine, strict=True) if not e]}
    return PassThroughCalibration(iso, code, use_basis, est.absorption, est.raw, est.se, est.low, est.high, comparison,
                                  est.months_used, est.months_dropped, rows, price_meta, tariffs, fx_meta, cited, notes)
