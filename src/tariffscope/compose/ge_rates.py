"""US tariff rates from the tariff engine, as GE SPEC changes: the engine's effective rates feed the GE.

``engine_tariff_rates`` asks the engine (``tariffscope.tariffs.etr.etr``, what ``api.etr`` calls) for
each partner's trade-weighted US rate on two dates; ``rates_to_changes`` turns them into the ``changes``
block of a SPEC (``tariffscope.models.ge_spec``). It lives here, above the domain, because it feeds one
area's results (tariffs) into another's model (GE).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tariffscope import db
from tariffscope.errors import InputError
from tariffscope.ingest.warehouse import open_warehouse
from tariffscope.tariffs.etr import etr

__all__ = ["LEGACY_CODES", "engine_tariff_rates", "rates_to_changes"]

#: Advanced Guide country codes that differ from ISO3 today.
LEGACY_CODES = {"ROM": "ROU"}


def engine_tariff_rates(partners: list[str], base_date: str, date: str, *, importer: str = "USA",
                        con: db.Connection | None = None) -> pd.DataFrame:
    """US trade-weighted effective tariff rates by partner from the tariff engine on ``base_date`` and
    ``date``: columns ``partner, base_rate, rate, weights, catalogue_version, note``.

    Only the United States' tariffs are in the engine (``importer`` must be USA). Partners the engine
    cannot resolve are reported with ``note`` and no rate. ``con``: a warehouse connection (default:
    the warehouse, opened once for all partners).
    """
    if importer != "USA":
        raise InputError("the tariff engine covers US tariffs only (importer USA)")
    own = con is None
    con = open_warehouse() if con is None else con
    try:
        return pd.DataFrame(_rates(con, partners, base_date, date, importer))
    finally:
        if own:
            con.close()


def _rates(con: db.Connection, partners: list[str], base_date: str, date: str, importer: str) -> list[dict[str, Any]]:
    rows = []
    for p in partners:
        if p == importer:
            continue
        code = LEGACY_CODES.get(p, p)
        try:
            r0 = etr(con, code, date=base_date)
            r1 = etr(con, code, date=date)
            rows.append({"partner": p, "base_rate": r0.etr, "rate": r1.etr,
                         "weights": f"{r1.weights_source} ({r1.weights_period})",
                         "catalogue_version": r1.catalogue_version, "note": ""})
        except Exception as exc:  # noqa: BLE001 - one partner's failure is reported, not fatal
            rows.append({"partner": p, "base_rate": np.nan, "rate": np.nan, "weights": "",
                         "catalogue_version": "", "note": f"{type(exc).__name__}: {exc}"})
    return rows


def rates_to_changes(rates: pd.DataFrame, importer: str = "USA") -> list[dict[str, Any]]:
    """SPEC ``changes`` entries (one tariff change per partner) from ``engine_tariff_rates`` output."""
    out = []
    for r in rates.dropna(subset=["rate"]).itertuples():
        out.append({"tariff": "ad_valorem", "importer": importer, "exporters": [r.partner],
                    "base_rate": round(float(r.base_rate), 6), "rate": round(float(r.rate), 6)})
    return out
