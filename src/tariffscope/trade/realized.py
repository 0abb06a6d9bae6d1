"""Realized monthly US imports for a backtest: USA Trade Online general imports by partner x HS2, and by
partner x HS4 in chapters 84/85/87, plus the 2024 HS10 x partner base (Census import weights).

Everything the backtest reads from the warehouse goes through here (the compose layer holds no SQL).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tariffscope import db
from tariffscope.errors import DataNotFoundError
from tariffscope.trade._flows import (
    IMPORTS_HS10_ALL,
    MONTHLY_TOTALS,
    USATO_HS2,
    USATO_HS4,
)

__all__ = ["RealizedImports", "realized_imports", "base_lines", "BaseLines", "LEVELS", "realized_duty"]

LEVELS = {"hs2": (USATO_HS2, 2), "hs4": (USATO_HS4, 4)}
WORLD_AREAS = ("EUROPE",)  # USA Trade Online world areas: no HS10 x country base to match them against


@dataclass
class RealizedImports:
    level: str               # hs2 | hs4
    source: str
    vintage: str
    partner: np.ndarray      # per row
    product: np.ndarray
    period: np.ndarray       # YYYY-MM
    value: np.ndarray        # USD, customs value, general imports


def realized_imports(con, level: str, partners: list[str] | None, periods: list[str]) -> RealizedImports:
    """Monthly rows of ``level`` ('hs2' | 'hs4') for ``partners`` (None: every country in the source, world
    areas left out) and ``periods``."""
    source, plevel = LEVELS[level]
    where = "source = ? AND flow = 'imports' AND trade_regime = 'general' AND product_level = ?"
    params: list = [source, plevel]
    where += f" AND period IN ({','.join('?' * len(periods))})"
    params += list(periods)
    if partners is None:
        where += f" AND partner NOT IN ({','.join('?' * len(WORLD_AREAS))})"
        params += list(WORLD_AREAS)
    else:
        where += f" AND partner IN ({','.join('?' * len(partners))})"
        params += list(partners)
    t = db.query(con, f"""SELECT partner, product_code, period, sum(value) AS value, any_value(vintage) AS vintage
                          FROM trade_flows WHERE {where} GROUP BY partner, product_code, period
                          ORDER BY partner, product_code, period""", params)
    col = lambda name: np.asarray(t.column(name).to_numpy(zero_copy_only=False))  # noqa: E731  (a local column reader)
    vintage = str(t.column("vintage")[0].as_py()) if t.num_rows else ""
    return RealizedImports(level, source, vintage, col("partner").astype(object), col("product_code").astype(object),
                           col("period").astype(object), col("value").astype(float))


def covered_partners(con, level: str) -> list[str]:
    """Partners (ISO3) with monthly rows at ``level``, world areas left out."""
    source, plevel = LEVELS[level]
    rows = db.query(con, "SELECT DISTINCT partner FROM trade_flows WHERE source = ? AND product_level = ? ORDER BY 1",
                    [source, plevel]).column("partner").to_pylist()
    return [p for p in rows if p not in WORLD_AREAS]


def covered_periods(con, level: str = "hs2") -> list[str]:
    source, plevel = LEVELS[level]
    return db.query(con, "SELECT DISTINCT period FROM trade_flows WHERE source = ? AND product_level = ? ORDER BY 1",
                    [source, plevel]).column("period").to_pylist()


@dataclass
class BaseLines:
    source: str
    period: str
    vintage: str
    hts10: np.ndarray
    partner: np.ndarray
    value: np.ndarray


def base_lines(con, source: str = IMPORTS_HS10_ALL) -> BaseLines:
    """HS10 x partner imports of the base year (all partners; groups left out)."""
    t = db.query(con, """SELECT product_code AS hts10, partner, sum(value) AS value, any_value(period) AS period,
                                any_value(vintage) AS vintage FROM trade_flows
                         WHERE source = ? AND flow = 'imports' AND product_level = 10 AND partner NOT IN ('EU27', 'WLD')
                         GROUP BY product_code, partner HAVING sum(value) > 0 ORDER BY product_code, partner""", [source])
    if t.num_rows == 0:
        raise DataNotFoundError(f"no HS10 x partner base imports in {source}: load the data ('tariffscope data status')")
    col = lambda name: np.asarray(t.column(name).to_numpy(zero_copy_only=False))  # noqa: E731  (a local column reader)
    return BaseLines(source, str(t.column("period")[0].as_py()), str(t.column("vintage")[0].as_py() or ""),
                     col("hts10").astype(object), col("partner").astype(object), col("value").astype(float))


def realized_duty(con, partners: list[str], periods: list[str]) -> dict[tuple[str, str], float]:
    """Census calculated duty on imports for consumption by (partner, month), where loaded (Japan's monthly totals)."""
    if not partners or not periods:
        return {}
    rows = db.query(con, f"""SELECT partner, period, sum(calculated_duty) AS duty FROM trade_flows
                             WHERE source = ? AND flow = 'imports' AND trade_regime = 'consumption'
                               AND calculated_duty IS NOT NULL
                               AND partner IN ({','.join('?' * len(partners))}) AND period IN ({','.join('?' * len(periods))})
                             GROUP BY partner, period""", [MONTHLY_TOTALS, *partners, *periods]).to_pylist()
    return {(r["partner"], r["period"]): float(r["duty"]) for r in rows}
