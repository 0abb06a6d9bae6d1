"""Downstream (retail) pass-through by product, from ``data/elasticities/retail_pass_through.yaml``.

r is the share of a change in the landed, duty-paid import price that reaches the buyers' price (the price
that drives substitution between origins and demand in ``models.pe``); 1 - r stays in the importer's or
dealer's margin. The file holds cited rows by HS prefix (the longest prefix wins, "*" is every product);
products without a row keep r = 1. ``override`` replaces the file's value: one share for every line or
{"HSprefix": share}, each in [0, 1].
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tariffscope.errors import InputError
from tariffscope.models.elasticities import cited_range_rows

__all__ = ["RetailPassThrough", "retail_rows", "retail_pass_through", "describe", "basis_text", "RETAIL_FILE"]

RETAIL_FILE = "retail_pass_through.yaml"


@lru_cache(maxsize=1)
def retail_rows() -> tuple[dict[str, Any], ...]:
    """The rows of the YAML (product, r, low, high, evidence, note, citations), checked."""
    return cited_range_rows(RETAIL_FILE, "r", ("product",))


@dataclass(frozen=True)
class RetailPassThrough:
    """Retail pass-through per line, its Monte Carlo range and the row of the YAML each line took."""

    r: np.ndarray
    low: np.ndarray
    high: np.ndarray
    row: np.ndarray


def _check_share(key: str, value: Any) -> float:
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise InputError(f"retail pass-through for {key!r} must be in [0, 1], got {v:g}")
    return v


def retail_pass_through(codes: Iterable[str], override: float | Mapping[str, float] | None = None) -> RetailPassThrough:
    """r per line (HS code) from the YAML, most specific prefix first; ``override`` as the module says."""
    import pandas as pd

    # the prefixes are matched on the distinct codes (~17k) and spread back to the lines (~330k HS10 x origin)
    inv, uniq = pd.factorize(np.asarray([str(x) for x in codes], dtype=object))
    c = np.asarray(uniq, dtype=object)
    n = c.shape[0]
    r, lo, hi = np.ones(n), np.ones(n), np.ones(n)
    which = np.full(n, -1, dtype=np.int64)
    rows = retail_rows()
    for i in sorted(range(len(rows)), key=lambda i: len(rows[i]["product"].strip("*"))):
        prefix = rows[i]["product"].strip("*")
        hit = np.array([x.startswith(prefix) for x in c], dtype=bool) if n else np.zeros(0, dtype=bool)
        r[hit], lo[hit], hi[hit], which[hit] = rows[i]["r"], rows[i]["low"], rows[i]["high"], i
    if override is not None:
        items = {"*": override} if isinstance(override, (int, float)) else dict(override)
        for key in sorted(items, key=lambda k: len(str(k).strip("*"))):
            v = _check_share(str(key), items[key])
            prefix = str(key).strip("*")
            if prefix and not prefix.isdigit():
                raise InputError(f"retail pass-through key {key!r}: use '*' or an HS prefix (e.g. 8703)")
            hit = np.array([x.startswith(prefix) for x in c], dtype=bool) if n else np.zeros(0, dtype=bool)
            r[hit], lo[hit], hi[hit] = v, v, v
    return RetailPassThrough(r[inv], lo[inv], hi[inv], which[inv])


def describe(override: float | Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """The rows that differ from r = 1, for outputs: "downstream pass-through r=..., source"."""
    out = [{"product": row["product"], "r": row["r"], "range": [row["low"], row["high"]], "evidence": row["evidence"],
            "source": f"data/elasticities/{RETAIL_FILE}"} for row in retail_rows() if row["r"] != 1.0]
    if override is not None:
        out.append({"override": override})
    return out


def basis_text() -> str:
    """One phrase naming the downstream pass-through in outputs: "downstream pass-through r=..., source"."""
    groups: dict[tuple[float, float, float], list[str]] = {}
    for row in retail_rows():
        if row["r"] != 1.0:
            groups.setdefault((row["r"], row["low"], row["high"]), []).append(row["product"])
    parts = [f"r={r:g} (range {lo:g}-{hi:g}) for HS {', '.join(p)}" for (r, lo, hi), p in groups.items()]
    return (f"downstream pass-through {'; '.join(parts)}, r=1 elsewhere (US retail new-vehicle prices: BLS CPI new "
            f"vehicles CUSR0000SETA01, Kelley Blue Book transaction prices; data/elasticities/{RETAIL_FILE})")
