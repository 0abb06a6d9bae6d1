"""Bilateral and exporter exposure: the US balance with a partner and first-order sector effects abroad.

* Balance: in this partial-equilibrium setting US exports are held fixed (no retaliation, no income
  effects), so the change in the US goods balance with a partner is minus the change in imports
  from it — overall and by sector.
* Exporter: the change in the partner's sector exports to the US, and **first-order** output and
  jobs at risk: output falls one for one with lost exports (no redirection to other markets, no
  input-output multipliers), jobs in proportion to output. The published facts used are listed with
  each result (Japan: JAMA/METI shipments and employment, OICA production, Comtrade units and values,
  FRED yen per dollar) — all read from the raw files in ``raw_data_dir()/autos`` and ``fx``.
"""
from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tariffscope.errors import DataNotFoundError

__all__ = ["ExporterFacts", "exporter_facts", "exporter_exposure", "AUTO_PREFIXES", "FIRST_ORDER_NOTE"]

AUTO_PREFIXES = ("8703", "8704", "8706", "8707", "8708")
FIRST_ORDER_NOTE = ("first-order estimate: sector output falls one for one with lost exports to the US and jobs "
                    "in proportion to output (no redirection to other markets, no input-output multipliers)")


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


def _raw() -> Path:
    from tariffscope.config import raw_data_dir

    return raw_data_dir()


def _fx_year_average(path: Path, year: int) -> float:
    vals = []
    with path.open(newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 2 and row[0].startswith(str(year)):
                try:
                    vals.append(float(row[1]))
                except ValueError:
                    continue
    if not vals:
        raise DataNotFoundError(f"{path}: no values for {year}")
    return float(np.mean(vals))


@lru_cache(maxsize=4)
def exporter_facts(partner: str, year: int = 2024) -> ExporterFacts | None:
    """Facts for the partner's auto sector; None when no published facts are at hand (only Japan so far)."""
    if partner != "JPN":
        return None
    raw = _raw()
    autos = raw / "autos"
    facts_path = autos / "japan_auto_industry_facts.csv"
    if not facts_path.exists():
        raise DataNotFoundError(f"{facts_path} not found (set TARIFFSCOPE_RAW_DATA)")
    rows = list(csv.DictReader(facts_path.open(newline="", encoding="utf-8")))

    def pick(prefix: str) -> dict[str, str]:
        for r in rows:
            if r["item"].startswith(prefix):
                return r
        raise DataNotFoundError(f"{facts_path}: no row {prefix!r}")

    ship = pick("auto manufacturing shipments")
    emp = pick("auto manufacturing employment")
    rel = pick("auto-related employment")
    prod = pick("motor vehicle production")
    units = value = None
    with (autos / "us_auto_imports_8703_8704.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            if r["refYear"] == str(year) and r["partnerCode"] == "392" and r["cmdCode"] == "8703":
                units, value = float(r["qty"]), float(r["cifvalue"])
    if not units:
        raise DataNotFoundError(f"no Comtrade 8703 imports from Japan for {year}")
    fx_path = raw / "fx" / "EXJPUS_monthly_to_2024-12.csv"
    fx = _fx_year_average(fx_path, year)
    return ExporterFacts(
        partner="JPN", sector="autos and parts", output_local=float(ship["value"]) * 1e9, currency="JPY",
        output_year=ship["year"], employment=float(emp["value"]) * 1e6, employment_related=float(rel["value"]) * 1e6,
        production_units=float(prod["value"]), usd_per_unit=value / units, fx_local_per_usd=fx,
        sources=[
            {"source": "japan_auto_industry_facts", "item": ship["item"], "year": ship["year"], "url": ship["source_url"]},
            {"source": "japan_auto_industry_facts", "item": emp["item"], "year": emp["year"], "url": emp["source_url"]},
            {"source": "japan_auto_industry_facts", "item": rel["item"], "year": rel["year"], "url": rel["source_url"]},
            {"source": "oica_production", "item": prod["item"], "year": prod["year"], "url": prod["source_url"]},
            {"source": "comtrade_us_auto_imports", "item": f"US imports of HS 8703 from Japan {year}: "
             f"{value / 1e9:.2f} bn USD, {units:,.0f} units", "year": str(year), "url": "https://comtradeplus.un.org/"},
            {"source": "fred_exjpus", "item": f"JPY per USD, {year} average of monthly values = {fx:.2f}", "year": str(year),
             "url": "https://fred.stlouisfed.org/series/EXJPUS"},
        ],
    )


def exporter_exposure(delta_exports_usd: float, delta_car_volume_usd: float, facts: ExporterFacts | None) -> dict[str, Any]:
    """First-order output and jobs at risk from a change in the sector's exports to the US.

    delta_exports_usd: change in the sector's exports to the US (customs value); delta_car_volume_usd:
    change in passenger-car (HS 8703) volume at base prices, converted to vehicles with the Comtrade
    unit value.
    """
    out: dict[str, Any] = {"delta_exports_usd": delta_exports_usd, "note": FIRST_ORDER_NOTE}
    if facts is None:
        out.update(output_share=None, output_local=None, jobs=None, vehicles=None, inputs=None)
        return out
    share = delta_exports_usd / facts.output_usd
    out.update(
        output_share=share,
        output_local=delta_exports_usd * facts.fx_local_per_usd,
        currency=facts.currency,
        jobs=share * facts.employment,
        jobs_related=share * facts.employment_related,
        vehicles=delta_car_volume_usd / facts.usd_per_unit,
        vehicles_share_of_production=(delta_car_volume_usd / facts.usd_per_unit) / facts.production_units,
        inputs=facts.to_dict(),
    )
    return out
