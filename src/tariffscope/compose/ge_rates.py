"""US tariff rates from the tariff engine, as GE SPEC changes: the engine's effective rates feed the GE.

``engine_tariff_rates`` asks ``tariffscope.api.etr`` for each partner's trade-weighted US rate on two
dates; ``rates_to_changes`` turns them into the ``changes`` block of a SPEC (``tariffscope.models.ge_spec``).
It lives here, above the domain, because it composes two areas (tariffs and the GE model) through the API.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tariffscope.errors import InputError

__all__ = ["LEGACY_CODES", "engine_tariff_rates", "rates_to_changes"]

#: Advanced Guide country codes that differ from ISO3 today.
LEGACY_CODES = {"ROM": "ROU"}


def engine_tariff_rates(partners: list[str], base_date: str, date: str, *, importer: str = "USA") -> pd.DataFrame:
    """US trade-weighted effective tariff rates by partner from the tariff engine (``tariffscope.api.etr``)
    on ``base_date`` and ``date``: columns ``partner, base_rate, rate, weights, catalogue_version, note``.

    Only the United States' tariffs are in the engine (``importer`` must be USA). Partners the engine
    cannot resolve are reported with ``note`` and no rate.
    """
    if importer != "USA":
        raise InputError("the tariff engine covers US tariffs only (importer USA)")
    from tariffscope import api  # at call time: api imports the domain, which must not import back up

    rows = []
    for p in partners:
        if p == importer:
            continue
        code = LEGACY_CODES.get(p, p)
        try:
            r0 = api.etr(code, date=base_date)
            r1 = api.etr(code, date=date)
            rows.append({"partner": p, "base_rate": r0.etr, "rate": r1.etr,
                         "weights": f"{r1.weights_source} ({r1.weights_period})",
                         "catalogue_version": r1.catalogue_version, "note": ""})
        except Exception as exc:  # noqa: BLE001 - one partner's failure is reported, not fatal
            rows.append({"partner": p, "base_rate": np.nan, "rate": np.nan, "weights": "",
                         "catalogue_version": "", "note": f"{type(exc).__name__}: {exc}"})
    return pd.DataFrame(rows)


def rates_to_changes(rates: pd.DataFrame, importer: str = "USA") -> list[dict[str, Any]]:
    """SPEC ``changes`` entries (one tariff change per partner) from ``engine_tariff_rates`` output."""
    out = []
    for r in rates.dropna(subset=["rate"]).itertuples():
        out.append({"tariff": "ad_valorem", "importer": importer, "exporters": [r.partner],
                    "base_rate": round(float(r.base_rate), 6), "rate": round(float(r.rate), 6)})
    return out
