"""USMCA claim shares: the share of a Canadian or Mexican good's value entered claiming USMCA preference.

The engine's option ``usmca`` fixes one share for every Canada/Mexico cell; left unset, the share comes from
the dated table built by ``scripts/build_usmca_shares.py`` (``data/usmca/``): by GTAP sector of the product
(HS6 -> GTAP map from the Census import weights) and by date. Option ``usmca_shares`` names the set:

* ``dated`` (default): the ``2024`` set (claims implied by 2024 calculated duty) before the March 2025 exemption of USMCA goods from the fentanyl duties
  (2025-03-07, headings 9903.01.04 / 9903.01.14), the ``post2025`` set from then on;
* ``2024`` or ``post2025``: that set on every date; ``none``: no claims (the engine before issue 11).

A share only matters where a preference saves duty: the MFN rate (USMCA goods enter Free) and the layers the
catalogue marks ``usmca_exempt`` (fentanyl from 2025-03-07, 232 auto parts, Section 122).
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from tariffscope.errors import InputError

SETS: tuple[str, ...] = ("dated", "2024", "post2025", "none")
COUNTRIES: tuple[str, ...] = ("CAN", "MEX")
ANY_SECTOR = "*"  # the row used for a product whose GTAP sector is unknown


@dataclass(frozen=True)
class ShareSet:
    name: str
    valid_from: dt.date
    valid_until: dt.date | None  # exclusive; None: open-ended
    by_sector: dict[str, tuple[float, float]]  # gtap_code -> (CAN, MEX)
    source: str
    label: str = ""  # a few words naming the source, for one-line source notes

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


def _data(name: str):
    return resources.files("tariffscope") / "data" / "usmca" / name


@functools.lru_cache(maxsize=1)
def provenance() -> dict:
    return json.loads(_data("provenance.json").read_text())


@functools.lru_cache(maxsize=1)
def share_sets() -> dict[str, ShareSet]:
    """The shipped sets by name, with their dates and sources."""
    rows: dict[str, list[dict]] = {}
    with _data("usmca_shares.csv").open() as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["set"], []).append(r)
    srcs = provenance()["sets"]
    out = {}
    for name, rr in rows.items():
        until = rr[0]["valid_until"]
        out[name] = ShareSet(name, dt.date.fromisoformat(rr[0]["valid_from"]), dt.date.fromisoformat(until) if until else None,
                             {r["gtap_code"]: (float(r["CAN"]), float(r["MEX"])) for r in rr}, srcs[name]["source"],
                             srcs[name].get("label", ""))
    return out


@functools.lru_cache(maxsize=1)
def _hs_map() -> dict[str, str]:
    with _data("hs_gtap.csv").open() as f:
        return {r["code"]: r["gtap_code"] for r in csv.DictReader(f)}


def gtap_sector(hts10: str) -> str | None:
    """GTAP sector of an HTS10 line: by its HS6, else the main sector of its HS4, else None."""
    m = _hs_map()
    return m.get(hts10[:6]) or m.get(hts10[:4])


def set_for(choice: str, day: dt.date) -> ShareSet | None:
    """The set that applies on ``day`` under option ``usmca_shares`` (None: no claims)."""
    if choice not in SETS:
        raise InputError(f"option usmca_shares must be {' or '.join(repr(s) for s in SETS)}, got {choice!r}")
    if choice == "none":
        return None
    sets = share_sets()
    if choice != "dated":
        return sets[choice]
    for s in sets.values():
        if s.covers(day):
            return s
    # before the first set's dates: the earliest set (claims as in 2024)
    return min(sets.values(), key=lambda s: s.valid_from)


def boundaries() -> list[dt.date]:
    """Days on which the dated shares change."""
    return sorted({s.valid_from for s in share_sets().values()} | {s.valid_until for s in share_sets().values() if s.valid_until})


def product_shares(hts10: np.ndarray, share_set: ShareSet | None) -> np.ndarray:
    """(n, 2) shares (CAN, MEX) for HTS10 codes (strings) under one set; zeros without a set."""
    out = np.zeros((len(hts10), 2))
    if share_set is None:
        return out
    default = share_set.by_sector[ANY_SECTOR]
    # one lookup per distinct HS6, not per line
    hs6, inv = np.unique(np.array([str(c)[:6] for c in hts10], dtype=object), return_inverse=True)
    vals = np.array([share_set.by_sector.get(gtap_sector(c) or ANY_SECTOR, default) for c in hs6], dtype=float).reshape(-1, 2)
    if len(hs6):
        out[:] = vals[inv.reshape(-1)]
    return out


def explain(hts10: str, origin: str, day: dt.date, choice: str) -> dict:
    """Which default share applies to one Canadian or Mexican line, and where it comes from."""
    s = set_for(choice, day)
    sector = gtap_sector(hts10)
    if s is None:
        return {"share": 0.0, "set": "none", "gtap_code": sector, "source": "option usmca_shares=none: no claims"}
    share = s.by_sector.get(sector or ANY_SECTOR, s.by_sector[ANY_SECTOR])[COUNTRIES.index(origin)]
    return {"share": share, "set": s.name, "gtap_code": sector or ANY_SECTOR, "source": s.source,
            "valid_from": s.valid_from.isoformat(), "valid_until": s.valid_until.isoformat() if s.valid_until else None}
