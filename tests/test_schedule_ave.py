"""MFN ad valorem equivalents: the conversion, and checks against realized 2024 duties and quantities."""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tariffscope import db
from tariffscope.codes.countries import from_census, group_members, resolve_country
from tariffscope.tariffs.schedule import MFN_REFERENCE_PARTNERS, ave, mfn_ave_table, parse_rate


def test_ave_closed_forms() -> None:
    assert ave(parse_rate("Free")) == (0.0, "free")
    assert ave(parse_rate("2.5%")) == (0.025, "ad_valorem")
    # 1.5¢/kg on goods worth $3/kg = 0.5% of value
    a, basis = ave(parse_rate("1.5¢/kg"), unit_value=3.0)
    assert math.isclose(a, 0.005) and basis == "unit_value"
    # 5% + 3¢/kg, 1,000 kg worth $600: 5% + 30/600 = 10%
    a, _ = ave(parse_rate("5% + 3¢/kg"), quantity=1000, value=600)
    assert math.isclose(a, 0.10)
    # two parts in the same unit add up; in another unit the second is left out and said so
    a, _ = ave(parse_rate("0.7¢/kg on copper content + 0.7¢/kg on lead content"), unit_value=1.4)
    assert math.isclose(a, 0.01)
    a, basis = ave(parse_rate("36¢ each + 5.6% + 2¢/jewel"), unit_value=3.6)
    assert math.isclose(a, 0.156) and "per jewel not converted" in basis
    assert ave(parse_rate("1.5¢/kg")) == (None, "no_unit_value")
    assert ave(parse_rate("See additional U.S. note 3")) == (None, "unparsed")


def _xlsx(raw: Path) -> dict[str, list[dict]]:
    wb = openpyxl.load_workbook(raw / "census" / "dataweb_imports_2024_selected_hts10_with_quantities.xlsx", read_only=True)
    out = {}
    for sheet in ("Customs Value", "First Unit of Quantity", "Dutiable Value", "Calculated Duties"):
        rows = list(wb[sheet].iter_rows(values_only=True))
        out[sheet] = [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r[1]]  # rows without a country are blank
    return out


@pytest.fixture(scope="module")
def xlsx(raw: Path) -> dict[str, list[dict]]:
    return _xlsx(raw)


def _hts_texts(raw: Path, rev: str) -> dict[str, str]:
    """HTS10 -> the general rate text it takes (own, else the 8-digit line's)."""
    from tariffscope.tariffs.schedule import inherit_rate_text

    with gzip.open(raw / "hts" / f"hts_{rev}.json.gz", "rt", encoding="utf-8") as fh:
        doc = [x for x in json.load(fh) if x["htsno"]]
    inh = inherit_rate_text([x["htsno"] for x in doc], [x["general"] for x in doc])
    return {x["htsno"].replace(".", ""): t for x, (t, _) in zip(doc, inh, strict=False)}


@pytest.mark.raw
def test_parsed_ad_valorem_matches_realized_duty(raw: Path, xlsx) -> None:
    """DataWeb 2024: calculated duties / dutiable value from the partners paying the general rate equals the
    parsed column-1 rate. (The 184 lines of this file are all ad valorem or free in the 2025 basic edition:
    it has no specific-rate line, so the specific conversion is checked below with its quantities.)"""
    texts = _hts_texts(raw, "2025_basic")
    ref = set(MFN_REFERENCE_PARTNERS) | set(group_members("EU27"))
    agg: dict[str, list[float]] = {}
    for dv, cd in zip(xlsx["Dutiable Value"], xlsx["Calculated Duties"], strict=False):
        assert (dv["Country"], dv["HTS Number"]) == (cd["Country"], cd["HTS Number"])
        if resolve_country(dv["Country"]).iso3 in ref:
            a = agg.setdefault(dv["HTS Number"], [0.0, 0.0])
            a[0] += dv["Dutiable Value"] or 0
            a[1] += cd["Calculated Duties"] or 0
    # Photovoltaic generators 8501.71/8501.72.10 also paid the Section 201 safeguard on solar cells in
    # 2024 (realized 9.6% and 3.0% vs MFN 2.5%): above MFN, as they should be.
    safeguard = {"8501710000", "8501721000"}
    checked = 0
    for code, (dutiable, duty) in agg.items():
        p = parse_rate(texts.get(code, ""))
        if p.form != "ad_valorem" or dutiable < 1e6:
            continue
        checked += 1
        if code in safeguard:
            assert duty / dutiable > p.ad_valorem + 0.004
        else:
            assert abs(duty / dutiable - p.ad_valorem) < 0.0005, (code, duty / dutiable, p.ad_valorem)
    assert checked >= 100


def _census_flows(raw: Path, partners: set[str]) -> pa.Table:
    parts = []
    for f in sorted((raw / "census" / "hs10_imports_2024_by_partner").glob("*.parquet")):
        iso = from_census(f.stem).iso3
        if iso not in partners:
            continue
        t = pq.read_table(f, columns=["HS10", "imports", "duty"])
        n = t.num_rows
        parts.append(pa.table({
            "reporter": ["USA"] * n, "partner": [iso] * n, "flow": ["imports"] * n, "trade_regime": ["consumption"] * n,
            "period": ["2024"] * n, "frequency": ["A"] * n, "classification": ["HTS"] * n,
            "product_code": t["HS10"], "product_level": pa.array([10] * n, pa.int32()), "value": t["imports"],
            "calculated_duty": t["duty"], "value_basis": ["customs"] * n, "currency": ["USD"] * n,
            "source": ["census_hs10_imports_2024"] * n}))
    return pa.concat_tables(parts)


def _insert(con, table: str, t: pa.Table) -> None:
    con.register("_t", t)
    con.execute(f"INSERT INTO {table} ({', '.join(t.column_names)}) SELECT * FROM _t")
    con.unregister("_t")


def _hts_lines(raw: Path, rev: str) -> pa.Table:
    with gzip.open(raw / "hts" / f"hts_{rev}.json.gz", "rt", encoding="utf-8") as fh:
        doc = [x for x in json.load(fh) if x["htsno"] and not x["htsno"].startswith("9903")]
    rows = []
    for x in doc:
        code, p = x["htsno"].replace(".", ""), parse_rate(x["general"])
        rows.append(dict(revision=rev, hts_code=code, level=len(code), general_text=x["general"] or None,
                         rate_form=p.form, ad_valorem=p.ad_valorem, specific_rate=p.specific_rate,
                         specific_unit=p.specific_unit, specific_rate_2=p.specific_rate_2, specific_unit_2=p.specific_unit_2,
                         parse_note=p.note))
    return pa.Table.from_pylist(rows)


@pytest.fixture(scope="module")
def ave_con(raw: Path):
    con = db.memory()
    _insert(con, "hts_lines", _hts_lines(raw, "2025_basic"))
    _insert(con, "trade_flows", _census_flows(raw, set(MFN_REFERENCE_PARTNERS) | {"JPN", "CAN"}))
    yield con
    con.close()


@pytest.mark.raw
def test_mfn_ave_table_bases(ave_con, raw: Path) -> None:
    t = mfn_ave_table(ave_con, "2025_basic")
    rows = {r["hts10"]: r for r in t.to_pylist()}
    assert len(rows) > 18_000 and all(r["ave_basis"] for r in rows.values())
    # ad valorem and free lines: the AVE is the rate itself
    assert rows["8703230140"]["ave"] == 0.025 and rows["8703230140"]["ave_basis"] == "ad_valorem"
    spec = [r for r in rows.values() if r["specific_rate"] is not None]
    converted = [r for r in spec if r["ave"] is not None]
    assert len(converted) / len(spec) > 0.85
    # realized basis: recompute one line by hand from the raw Census files (reference partners only)
    r = next(r for r in spec if r["ave_basis"] == "realized_hs10" and r["specific_rate_2"] is None
             and r["hts10"].startswith("2009"))
    flows = _census_flows(raw, set(MFN_REFERENCE_PARTNERS))
    sel = flows.filter(pc.equal(flows["product_code"], r["hts10"]))
    expected = pc.sum(sel["calculated_duty"]).as_py() / pc.sum(sel["value"]).as_py()
    assert math.isclose(r["ave"], expected, rel_tol=1e-9)
    # partial bases (watches: '% on the case', '% on the battery'; ores: '¢/kg on lead content') take only the
    # realized route: never a unit value of the goods
    part = [r for r in rows.values() if parse_rate(r["general_text"]).partial_base]
    assert part and all(r["ave_basis"] in ("realized_hs10", "partial_base_no_realized_duty") for r in part)
    watch = rows["9102111000"]   # 44¢ each + 6% on the case + 14% on the strap ... + 5.3% on the battery
    assert watch["ave_basis"] in ("realized_hs10", "partial_base_no_realized_duty")
    # Canada (USMCA, duty free) and Japan (2020 agreement) are not reference partners: adding their
    # trade must not change any realized AVE
    assert "CAN" not in MFN_REFERENCE_PARTNERS and "JPN" not in MFN_REFERENCE_PARTNERS


@pytest.mark.raw
def test_specific_conversion_with_dataweb_quantities(raw: Path, xlsx) -> None:
    """The quantity route on real quantities: give line 7318.15.20 (bolts, kg) a specific rate of 1.5¢/kg in a
    test revision; its AVE must be 0.015 * kg / customs value summed over the DataWeb rows with a quantity."""
    code = "7318152061"
    cv = {(r["Country"], r["HTS Number"]): r["Customs Value"] for r in xlsx["Customs Value"]}
    rows = [(r["Country"], r["First Unit of Quantity"], cv[(r["Country"], r["HTS Number"])], r["Quantity Description"])
            for r in xlsx["First Unit of Quantity"] if r["HTS Number"] == code]
    rows = [r for r in rows if r[1] and r[2]]
    assert rows and {r[3] for r in rows} == {"kilograms"}
    kg, value = sum(r[1] for r in rows), sum(r[2] for r in rows)
    con = db.memory()
    _insert(con, "hts_lines", pa.Table.from_pylist([
        dict(revision="test_rev", hts_code="73181520", level=8, general_text="1.5¢/kg", rate_form="specific",
             specific_rate=0.015, specific_unit="kg"),
        dict(revision="test_rev", hts_code=code, level=10, general_text=None, rate_form="none")]))
    n = len(rows)
    _insert(con, "trade_flows", pa.table({
        "reporter": ["USA"] * n, "partner": [resolve_country(r[0]).iso3 for r in rows], "flow": ["imports"] * n,
        "trade_regime": ["consumption"] * n, "period": ["2024"] * n, "frequency": ["A"] * n,
        "classification": ["HTS"] * n, "product_code": [code] * n, "product_level": pa.array([10] * n, pa.int32()),
        "value": pa.array([float(r[2]) for r in rows]), "quantity": pa.array([float(r[1]) for r in rows]),
        "quantity_unit": ["kilograms"] * n, "value_basis": ["customs"] * n, "currency": ["USD"] * n,
        "source": ["dataweb_test"] * n}))
    (r,) = mfn_ave_table(con, "test_rev").to_pylist()
    assert r["ave_basis"] == "unit_value_hs10" and r["rate_from"] == "73181520"
    assert math.isclose(r["ave"], 0.015 * kg / value, rel_tol=1e-12)
    assert math.isclose(r["unit_value"], value / kg, rel_tol=1e-12)
