"""Bilateral and exporter exposure: the US balance with a partner and first-order sector effects abroad.

* Balance: in this partial-equilibrium setting US exports are held fixed (no retaliation, no income
  effects), so the change in the US goods balance with a partner is minus the change in imports
  from it — overall and by sector.
* Exporter: the change in the partner's sector exports to the US, and **first-order** output and
  jobs: output falls one for one with lost exports (no redirection to other markets). Jobs follow three
  channels, reported apart:
  - **direct**: auto manufacturing jobs in proportion to the change in export *volume* (quantities at
    reference prices) over sector output: what exporters absorb in their prices does not move jobs;
  - **supplier-linked**: direct jobs times the supplier linkage of the motor vehicle industry, the output
    of other industries per unit of the industry's own output from the BEA total requirements table
    (``data/facts/auto_multipliers.json``, built by ``scripts/build_embedded_data.py``). Two stated
    approximations: the US input-output structure stands in for the partner's (no partner table is
    loaded), and supplier industries are taken to need as many jobs per unit of output as the auto industry;
  - **margin**: when exporters absorb part of the duty, their revenue on the exports to the US falls by the
    absorbed amount (USD and local currency, share of sector output); a loss of margin, with no jobs attached
    in the first year.
  Jobs that depend on domestic sales are not scaled by export changes: no "auto-related" total is used.
  The published facts used are listed with each result (Japan: JAMA/METI shipments and employment, OICA
  production, Comtrade units and values, FRED yen per dollar) — all read from the package's own data:
  ``data/facts/japan_auto_industry.csv`` and the embedded Comtrade and FRED tables (each with its
  provenance.json), never from raw files.
"""
from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tariffscope.config import EMBEDDED_DIR, PACKAGE_DIR
from tariffscope.errors import DataNotFoundError

__all__ = ["ExporterFacts", "exporter_facts", "exporter_exposure", "AUTO_PREFIXES", "FIRST_ORDER_NOTE",
           "supplier_multiplier", "multiplier_source"]

AUTO_PREFIXES = ("8703", "8704", "8706", "8707", "8708")
FIRST_ORDER_NOTE = ("first-order estimate: sector output falls one for one with lost exports to the US (no redirection "
                    "to other markets); direct jobs in proportion to export volume, supplier-linked jobs through the BEA "
                    "input-output linkage of the motor vehicle industry, and the margin exporters absorb in their prices "
                    "shown apart (no jobs attached)")


@dataclass(frozen=True)
class ExporterFacts:
    """Published facts about a partner's exposed sector (autos and parts)."""

    partner: str
    sector: str
    output_local: float          # sector output (shipments), local currency
    currency: str
    output_year: str
    employment: float            # persons in the sector's manufacturing
    employment_related: float    # persons in sector-related activities (broad)
    production_units: float      # vehicles produced
    usd_per_unit: float          # value of a car exported to the US (Comtrade value / units)
    fx_local_per_usd: float      # average of the trade year
    sources: list[dict[str, str]] = field(default_factory=list)

    @property
    def output_usd(self) -> float:
        return self.output_local / self.fx_local_per_usd

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["output_usd"] = self.output_usd
        return d


#: Published facts shipped with the package (scripts/build_embedded_data.py, provenance.json beside them).
FACTS_DIR = PACKAGE_DIR / "data" / "facts"
COMTRADE_TABLE = EMBEDDED_DIR / "trade_flows__comtrade_us_auto_imports.parquet"
FX_TABLE = EMBEDDED_DIR / "exchange_rates__fred_exjpus.parquet"


def _read_parquet(path: Path, columns: list[str]) -> pa.Table:
    if not path.is_file():
        raise DataNotFoundError(f"package data missing: {path} (run 'make embedded-data')")
    return pq.read_table(path, columns=columns)


def _fx_year_average(year: int) -> float:
    """FRED EXJPUS (yen per dollar, monthly averages): the mean of the year's months."""
    t = _read_parquet(FX_TABLE, ["date", "rate"])
    vals = [r for d, r in zip(t["date"].to_pylist(), t["rate"].to_pylist(), strict=True) if d.year == year and r is not None]
    if not vals:
        raise DataNotFoundError(f"{FX_TABLE.name}: no values for {year}")
    return float(np.mean(vals))


def _car_imports_from_japan(year: int) -> tuple[float, float]:
    """UN Comtrade US imports of HS 8703 from Japan in ``year``: (units, CIF value in USD)."""
    t = _read_parquet(COMTRADE_TABLE, ["partner", "period", "product_code", "value", "quantity"])
    for partner, period, code, value, qty in zip(*(t[c].to_pylist() for c in t.column_names), strict=True):
        if partner == "JPN" and period == str(year) and code == "8703" and qty:
            return float(qty), float(value)
    raise DataNotFoundError(f"no Comtrade 8703 imports from Japan for {year}")


@lru_cache(maxsize=1)
def _multipliers() -> dict[str, Any]:
    import json

    path = FACTS_DIR / "auto_multipliers.json"
    if not path.is_file():
        raise DataNotFoundError(f"package data missing: {path} (run 'make embedded-data')")
    return json.loads(path.read_text(encoding="utf-8"))


def supplier_multiplier() -> float:
    """Output of other industries per unit of the motor vehicle industry's own output (BEA total requirements)."""
    return float(_multipliers()["supplier_output_per_own_output"])


@lru_cache(maxsize=1)
def _provenance() -> dict[str, dict[str, Any]]:
    import json

    path = FACTS_DIR / "provenance.json"
    if not path.is_file():
        raise DataNotFoundError(f"package data missing: {path} (run 'make embedded-data')")
    return dict(json.loads(path.read_text(encoding="utf-8"))["tables"])


def _described(record: dict[str, str], table: str) -> dict[str, str]:
    """``record`` with its source's title, publisher and vintage from provenance.json: these sources are package
    facts, not warehouse sources, so nothing else describes them (the brief's source list showed empty cells)."""
    prov = _provenance().get(table, {})
    return {**record, **{k: str(prov[k]) for k in ("title", "publisher", "vintage") if prov.get(k)}}


def multiplier_source() -> dict[str, str]:
    """The source record of the supplier linkage, as results list their sources."""
    m = _multipliers()
    return _described({"source": m["source"], "item": f"{m['title']}, column {m['industry']} ({m['industry_title']}): "
                       f"total output requirement {m['total_output_requirement']:.4f}, own industry "
                       f"{m['own_industry_requirement']:.4f} -> supplier output per unit of own output "
                       f"{m['supplier_output_per_own_output']:.4f}",
                       "year": m["vintage"], "url": m["url"], "sha256": m["sha256_raw"]}, "auto_multipliers.json")


def _japan_auto_facts() -> dict[str, dict[str, str]]:
    path = FACTS_DIR / "japan_auto_industry.csv"
    if not path.is_file():
        raise DataNotFoundError(f"package data missing: {path} (run 'make embedded-data')")
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["key"]: r for r in csv.DictReader(fh)}


@lru_cache(maxsize=4)
def exporter_facts(partner: str, year: int = 2024) -> ExporterFacts | None:
    """Facts for the partner's auto sector; None when no published facts are at hand (only Japan so far)."""
    if partner != "JPN":
        return None
    rows = _japan_auto_facts()
    missing = [k for k in ("shipments", "employment", "employment_related", "production") if k not in rows]
    if missing:
        raise DataNotFoundError(f"japan_auto_industry.csv: no rows {missing}")
    ship, emp, rel, prod = rows["shipments"], rows["employment"], rows["employment_related"], rows["production"]
    units, value = _car_imports_from_japan(year)
    fx = _fx_year_average(year)
    return ExporterFacts(
        partner="JPN", sector="autos and parts", output_local=float(ship["value"]) * 1e9, currency="JPY",
        output_year=ship["year"], employment=float(emp["value"]) * 1e6, employment_related=float(rel["value"]) * 1e6,
        production_units=float(prod["value"]), usd_per_unit=value / units, fx_local_per_usd=fx,
        sources=[
            *(_described({"source": "japan_auto_industry_facts", "item": r["item"], "year": r["year"], "url": r["url"]},
                         "japan_auto_industry.csv") for r in (ship, emp, rel)),
            # the production row of the same table cites OICA: described by its own row
            {"source": "oica_production", "item": prod["item"], "year": prod["year"], "url": prod["url"],
             "title": prod["item"], "publisher": prod["source"], "vintage": prod["year"]},
            {"source": "comtrade_us_auto_imports", "item": f"US imports of HS 8703 from Japan {year}: "
             f"{value / 1e9:.2f} bn USD, {units:,.0f} units", "year": str(year), "url": "https://comtradeplus.un.org/"},
            {"source": "fred_exjpus", "item": f"JPY per USD, {year} average of monthly values = {fx:.2f}", "year": str(year),
             "url": "https://fred.stlouisfed.org/series/EXJPUS"},
            multiplier_source(),
        ],
    )


def exporter_exposure(delta_exports_usd: float, delta_car_volume_usd: float, facts: ExporterFacts | None, *,
                      delta_volume_usd: float | None = None, absorbed_usd: float = 0.0) -> dict[str, Any]:
    """First-order output and jobs from a change in the sector's exports to the US.

    delta_exports_usd: change in the sector's exports to the US (customs value); delta_car_volume_usd:
    change in passenger-car (HS 8703) volume at reference prices, converted to vehicles with the Comtrade
    unit value; delta_volume_usd: change in the sector's export volume at reference prices (direct jobs
    follow it; None: the value change, i.e. no price effect); absorbed_usd: the part of the duty the
    sector's exporters absorb in their prices (positive = a loss of margin).
    """
    out: dict[str, Any] = {"delta_exports_usd": delta_exports_usd, "note": FIRST_ORDER_NOTE}
    if facts is None:
        out.update(output_share=None, output_local=None, jobs=None, jobs_supplier=None, vehicles=None, inputs=None)
        return out
    share = delta_exports_usd / facts.output_usd
    vol = delta_exports_usd if delta_volume_usd is None else delta_volume_usd
    jobs = vol / facts.output_usd * facts.employment
    out.update(
        output_share=share,
        output_local=delta_exports_usd * facts.fx_local_per_usd,
        currency=facts.currency,
        jobs=jobs,
        jobs_supplier=jobs * supplier_multiplier(),
        jobs_total=jobs * (1.0 + supplier_multiplier()),
        volume_share=vol / facts.output_usd,
        margin_usd=-absorbed_usd,
        margin_local=-absorbed_usd * facts.fx_local_per_usd,
        margin_share_of_output=-absorbed_usd / facts.output_usd,
        vehicles=delta_car_volume_usd / facts.usd_per_unit,
        vehicles_share_of_production=(delta_car_volume_usd / facts.usd_per_unit) / facts.production_units,
        inputs=facts.to_dict(),
    )
    return out
