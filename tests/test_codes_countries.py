"""Country code lists: every spelling people type resolves; the rest fails with a suggestion."""
from __future__ import annotations

import csv
import gzip
import importlib.util
from pathlib import Path

import pytest

from tariffscope.codes import countries as cc
from tariffscope.errors import InputError


@pytest.mark.parametrize(
    "text, iso3",
    [
        ("JPN", "JPN"), ("JP", "JPN"), ("Japan", "JPN"), ("japan", "JPN"), (" JAPAN ", "JPN"),
        ("5880", "JPN"),           # Census Schedule C code for Japan (CATALOG.md)
        ("392", "JPN"),            # UN M49 for Japan
        ("South Korea", "KOR"), ("Korea, South", "KOR"), ("Republic of Korea", "KOR"), ("5800", "KOR"),
        ("North Korea", "PRK"),
        ("United States", "USA"), ("USA", "USA"), ("U.S.", "USA"), ("1000", "USA"),
        ("UK", "GBR"), ("United Kingdom", "GBR"), ("GB", "GBR"), ("4120", "GBR"),
        ("Germany", "DEU"), ("4280", "DEU"), ("Viet Nam", "VNM"), ("Vietnam", "VNM"),
        ("Burma", "MMR"), ("Turkey", "TUR"), ("Czech Republic", "CZE"), ("Taiwan", "TWN"),
        ("Hong Kong", "HKG"), ("5082", "PSE"), ("5083", "PSE"), ("4803", "XKX"),
        ("Gaza Strip Administered by Israel", "PSE"), ("Congo (Kinshasa)", "COD"), ("Congo (Brazzaville)", "COG"),
        ("Niger", "NER"), ("Nigeria", "NGA"), ("Dominica", "DMA"), ("Dominican Republic", "DOM"),
        ("Sudan", "SDN"), ("South Sudan", "SSD"), ("Northern Ireland", "GBR"), ("Macau", "MAC"),
        ("EU27", "EU27"), ("EU", "EU27"), ("European Union", "EU27"), ("0003", "EU27"),
        ("WLD", "WLD"), ("World", "WLD"),
    ],
)
def test_resolve_spellings(text: str, iso3: str) -> None:
    assert cc.resolve_country(text).iso3 == iso3


def test_japan_record_matches_catalog() -> None:
    # CATALOG.md: "Census country code for Japan = 5880; ISO3 JPN; UN M49 392; Japan Customs code for the USA = 304."
    jp = cc.resolve_country("Japan")
    assert (jp.iso3, jp.iso2, jp.census_code, jp.m49) == ("JPN", "JP", "5880", "392")
    assert cc.from_japan_customs("304").iso3 == "USA"
    assert cc.from_japan_customs(304) == cc.resolve_country("USA")
    assert cc.from_census(5880).iso3 == "JPN" and cc.from_census("0003").iso3 == "EU27"
    assert cc.from_m49(392).iso3 == "JPN" and cc.from_m49("4").iso3 == "AFG"
    assert cc.from_census("9999") is None and cc.from_japan_customs("999") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Japn", "unknown country 'Japn': did you mean JPN (Japan)? Use an ISO3/ISO2 code, a name or a Census code"),
        ("Germny", "did you mean DEU (Germany)"),
        ("JAP", "did you mean JPN (Japan)"),
        ("9999", "unknown country code '9999'"),
        ("12", "unknown country code '12'"),   # M49 codes are 3 digits
        ("", "empty country"),
    ],
)
def test_unknown_country_suggests(text: str, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        cc.resolve_country(text)
    msg = str(exc.value)
    assert expected in msg and "\n" not in msg


def test_eu27_members() -> None:
    members = cc.group_members("EU27")
    assert len(members) == 27 and "DEU" in members and "GBR" not in members and "HRV" in members
    assert cc.group_members("JPN") == ("JPN",)
    assert len(cc.group_members("WLD")) > 240


@pytest.mark.raw
def test_every_census_code_in_raw_lists_resolves(raw: Path) -> None:
    # Every Census code in Schedule C and every partner of the 2024 import weights (233 partners).
    mapping = cc.census_to_iso3_map()
    sched = [ln[:4] for ln in (raw / "census" / "census_country_codes.txt").read_text(encoding="latin-1").splitlines()
             if ln[:4].isdigit()]
    assert len(sched) == 240 and all(code in mapping for code in sched)
    with gzip.open(raw / "census" / "import_weights_hs10_country_2024.csv.gz", "rt") as fh:
        partners = {row["cty_code"] for row in csv.DictReader(fh)}
    assert len(partners) == 233
    assert partners <= set(mapping)
    # The published Census -> ISO3 mapping agrees with ours on every code it lists.
    with open(raw / "census" / "census_to_iso3.csv") as fh:
        for row in csv.DictReader(fh):
            assert mapping[row["cty_code"]] == row["iso3"], row


@pytest.mark.raw
def test_trade_file_country_names_resolve(raw: Path) -> None:
    # Every partner name of the USA Trade Online and DataWeb files resolves, except the region 'Europe'.
    names: set[str] = set()
    for f in (raw / "census" / "usatradeonline_imports_hs2_monthly").glob("*.csv"):
        lines = f.read_text(encoding="utf-8-sig").splitlines()
        start = next(i for i, ln in enumerate(lines) if ln.lstrip('"').startswith("Commodity"))
        names |= {r["Country"] for r in csv.DictReader(lines[start:]) if r.get("Country")}
    lines = (raw / "census" / "dataweb_exports_fas_hs2_by_country_2020_2024.csv").read_text(encoding="utf-8-sig").splitlines()
    start = next(i for i, ln in enumerate(lines) if "Country" in ln)
    names |= {r["Country"] for r in csv.DictReader(lines[start:]) if r.get("Country")}
    bad = set()
    for n in names:
        try:
            cc.resolve_country(n)
        except InputError:
            bad.add(n)
    assert len(names) > 200 and bad <= {"Europe"}, bad


@pytest.mark.raw
def test_japan_customs_codes_resolve(raw: Path) -> None:
    with open(raw / "census" / "japan_customs_country_codes.csv") as fh:
        rows = list(csv.DictReader(fh))
    matched = [r for r in rows if cc.from_japan_customs(r["Code"])]
    # 235 codes; 11 are territories/special areas without an ISO3 of their own (see countries_sources.json)
    assert len(rows) == 235 and len(matched) == 224
    assert cc.from_japan_customs("105").iso3 == "CHN" and cc.from_japan_customs("213").iso3 == "DEU"


def test_table_unique_and_normalisation_in_step() -> None:
    rows = list(csv.DictReader(cc.DATA_FILE.open(encoding="utf-8")))
    iso3 = [r["iso3"] for r in rows]
    assert len(iso3) == len(set(iso3))
    census = [r["census_code"] for r in rows if r["census_code"]]
    assert len(census) == len(set(census))
    spec = importlib.util.spec_from_file_location("bcl", Path(__file__).parents[1] / "scripts" / "build_code_lists.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for s in ["Korea, South", "Côte d'Ivoire", "Trinidad & Tobago", "The Bahamas"]:
        assert mod.norm(s) == cc._norm(s)


def test_lookups_are_cached_and_fast() -> None:
    import time

    cc.resolve_country("Japan")
    t0 = time.perf_counter()
    for _ in range(10_000):
        cc.resolve_country("Japan")
    assert time.perf_counter() - t0 < 0.5
