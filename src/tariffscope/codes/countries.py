"""Countries across ISO3, ISO2, names, US Census codes, UN M49 and Japan Customs codes.

The table is ``codes/data/countries.csv``, derived by ``scripts/build_code_lists.py`` from the Census
Schedule C list, two published Census->ISO3 mappings (cross-checked), the Japan Customs code list and
``country_converter``'s data (sources and checksums in ``countries_sources.json``). Nothing here reads
the raw shared data at run time.

``resolve_country`` accepts what people type: ``'JPN'``, ``'JP'``, ``'Japan'``, ``'japan'``,
``'Korea, South'``, ``'UK'``, a 4-digit Census code (``'5880'``) or a 3-digit UN M49 code (``'392'``),
and the groups ``'EU27'`` (Census 0003) and ``'WLD'``. Anything else raises ``InputError`` with a
suggestion. Japan Customs codes are 3-digit too, so they are looked up only by ``from_japan_customs``.
"""
from __future__ import annotations

import csv
import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from tariffscope.errors import InputError

DATA_FILE = Path(__file__).resolve().parent / "data" / "countries.csv"

GROUPS = ("EU27", "WLD")


@dataclass(frozen=True)
class Country:
    """One country or group. Codes missing for it are ``None``."""

    iso3: str
    iso2: str | None
    name: str
    census_code: str | None
    m49: str | None
    japan_customs_code: str | None

    @property
    def is_group(self) -> bool:
        return self.iso3 in GROUPS

    def __str__(self) -> str:
        return f"{self.iso3} ({self.name})"


@dataclass(frozen=True)
class _Tables:
    by_iso3: dict[str, Country]
    by_code: dict[str, Country]          # ISO3, ISO2 (upper case)
    by_census: dict[str, Country]
    by_m49: dict[str, Country]
    by_japan: dict[str, Country]
    by_name: dict[str, Country]          # normalised names and aliases
    regexes: tuple[tuple[re.Pattern[str], Country], ...]
    eu27: tuple[str, ...]


def _norm(text: str) -> str:
    """Lower case, '&' -> 'and', punctuation and the word 'the' dropped, spaces collapsed."""
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\bthe\b", " ", text)
    return " ".join(text.split())


@functools.lru_cache(maxsize=1)
def _tables() -> _Tables:
    by_iso3: dict[str, Country] = {}
    by_code: dict[str, Country] = {}
    by_census: dict[str, Country] = {}
    by_m49: dict[str, Country] = {}
    by_japan: dict[str, Country] = {}
    by_name: dict[str, Country] = {}
    regexes: list[tuple[re.Pattern[str], Country]] = []
    eu27: list[str] = []
    with DATA_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            c = Country(
                iso3=row["iso3"],
                iso2=row["iso2"] or None,
                name=row["name"],
                census_code=row["census_code"] or None,
                m49=row["m49"] or None,
                japan_customs_code=row["japan_customs_code"] or None,
            )
            by_iso3[c.iso3] = by_code[c.iso3] = c
            if c.iso2:
                by_code.setdefault(c.iso2, c)
            for code in filter(None, [c.census_code, *row["census_codes_other"].split("|")]):
                by_census[code] = c
            if c.m49:
                by_m49[c.m49] = c
            if c.japan_customs_code:
                by_japan[c.japan_customs_code] = c
            for name in [row["name"], row["official_name"], *row["aliases"].split("|")]:
                if name:
                    by_name.setdefault(_norm(name), c)
            if row["regex"]:
                regexes.append((re.compile(row["regex"], re.IGNORECASE), c))
            if row["eu27"]:
                eu27.append(c.iso3)
    by_code["EU"] = by_iso3["EU27"]
    return _Tables(by_iso3, by_code, by_census, by_m49, by_japan, by_name, tuple(regexes), tuple(sorted(eu27)))


def all_countries(include_groups: bool = False) -> list[Country]:
    """Every country (ISO3 order), optionally with the groups EU27 and WLD."""
    return [c for c in _tables().by_iso3.values() if include_groups or not c.is_group]


def _suggest(text: str) -> str:
    t = _tables()
    key = text.strip()
    candidates: list[Country] = []
    up = key.upper()
    if re.fullmatch(r"[A-Z]{2,4}\d?", up):
        for m in difflib.get_close_matches(up, list(t.by_code), n=1, cutoff=0.6):
            candidates.append(t.by_code[m])
    for m in difflib.get_close_matches(_norm(key), list(t.by_name), n=1, cutoff=0.6):
        candidates.append(t.by_name[m])
    if re.fullmatch(r"\d{4}", key):
        for m in difflib.get_close_matches(key, list(t.by_census), n=1, cutoff=0.7):
            candidates.append(t.by_census[m])
    seen: list[Country] = []
    for c in candidates:
        if c not in seen:
            seen.append(c)
    hint = "Use an ISO3/ISO2 code, a name or a Census code"
    if seen:
        return f"did you mean {' or '.join(str(c) for c in seen[:2])}? {hint}"
    return f"{hint} (e.g. JPN, JP, Japan, 5880)"


@functools.lru_cache(maxsize=4096)
def resolve_country(text: str) -> Country:
    """The country or group named by ``text`` (ISO3, ISO2, name, Census code, UN M49 code).

    >>> resolve_country("Korea, South").iso3
    'KOR'
    """
    if not isinstance(text, str):
        text = str(text)
    t = _tables()
    key = text.strip()
    if not key:
        raise InputError("empty country: use an ISO3/ISO2 code, a name or a Census code (e.g. JPN, JP, Japan, 5880)")
    up = key.upper()
    if up in t.by_code:
        return t.by_code[up]
    if key.isdigit():
        if len(key) == 4 and key in t.by_census:
            return t.by_census[key]
        if len(key) == 3 and key in t.by_m49:
            return t.by_m49[key]
        raise InputError(f"unknown country code '{key}': {_suggest(key)}")
    name = _norm(key)
    if name in t.by_name:
        return t.by_name[name]
    if "," in key:  # 'Korea, South' -> 'South Korea'
        head, _, tail = key.partition(",")
        swapped = _norm(f"{tail} {head}")
        if swapped in t.by_name:
            return t.by_name[swapped]
    if len(name) >= 4:
        hits = {c.iso3: c for rx, c in t.regexes if rx.search(key)}
        if len(hits) == 1:
            return next(iter(hits.values()))
    raise InputError(f"unknown country '{key}': {_suggest(key)}")


def from_census(code: str | int) -> Country | None:
    """The country of a Census country code ('5880'; ints are zero-padded to 4 digits), else None."""
    return _tables().by_census.get(str(code).strip().zfill(4))


def from_japan_customs(code: str | int) -> Country | None:
    """The country of a Japan Customs (MOF) country code ('304' = USA), else None."""
    return _tables().by_japan.get(str(code).strip())


def from_m49(code: str | int) -> Country | None:
    """The country of a UN M49 numeric code ('392'; zero-padded to 3 digits), else None."""
    return _tables().by_m49.get(str(code).strip().zfill(3))


def group_members(code: str) -> tuple[str, ...]:
    """ISO3 members of a group: 'EU27' (membership since 1 Feb 2020, unchanged through 2026) or
    'WLD' (every country in the table). A single country is its own only member."""
    c = resolve_country(code)
    if c.iso3 == "EU27":
        return _tables().eu27
    if c.iso3 == "WLD":
        return tuple(x.iso3 for x in all_countries())
    return (c.iso3,)


def census_to_iso3_map() -> dict[str, str]:
    """Every Census country code -> ISO3 (groups included: '0003' -> 'EU27'), for vectorized ingest."""
    return {code: c.iso3 for code, c in _tables().by_census.items()}


def iso3_to_census_map() -> dict[str, str]:
    """ISO3 -> primary Census code, for the countries that have one."""
    return {c.iso3: c.census_code for c in _tables().by_iso3.values() if c.census_code}
