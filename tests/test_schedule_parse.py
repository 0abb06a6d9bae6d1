"""HTS column-1 rate text parsing: real texts from the HTS JSON revisions, and property tests."""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tariffscope.tariffs.schedule import (
    RATE_FORMS,
    ParsedRate,
    inherit_rate_text,
    parse_rate,
    unparsed_report,
)

CASES = [
    # text, form, ad_valorem, specific_rate (USD), unit, specific_rate_2, unit_2
    ("Free", "free", 0.0, None, None, None, None),
    ("2.5%", "ad_valorem", 0.025, None, None, None, None),
    ("1.5¢/kg", "specific", None, 0.015, "kg", None, None),
    ("$1.20/doz.", "specific", None, 1.20, "doz", None, None),
    ("5% + 3¢/kg", "compound", 0.05, 0.03, "kg", None, None),
    ("4.4¢/kg + 6%", "compound", 0.06, 0.044, "kg", None, None),
    ("$1.035/kg +13.6%", "compound", 0.136, 1.035, "kg", None, None),
    ("The duty provided in the applicable subheading + 25%", "subheading_plus", 0.25, None, None, None, None),
    ("The duty provided in the applicable subheading", "subheading_plus", 0.0, None, None, None, None),
    ("The duty provided inthe applicable subheading+ 25%", "subheading_plus", 0.25, None, None, None, None),
    ("The duty provided in the applicable subheading + a duty of 50% upon the value of the steel content.",
     "subheading_plus", 0.5, None, None, None, None),
    ("No change", "subheading_plus", 0.0, None, None, None, None),
    ("25¢/kg on drained weight", "specific", None, 0.25, "kg", None, None),
    ("0.9¢ each", "specific", None, 0.009, "each", None, None),
    ("36¢ each + 5.6% + 2¢/jewel", "compound", 0.056, 0.36, "each", 0.02, "jewel"),
    ("4.4¢/liter + 31.4¢/pf. liter", "specific", None, 0.044, "liter", 0.314, "pf.liter"),
    ("0.7¢/kg on copper content + 0.7¢/kg on lead content", "specific", None, 0.007, "kg", 0.007, "kg"),
    ("10¢/1,000 pins + 3.5%", "compound", 0.035, 0.10, "1000 pins", None, None),
    ("20¢/thousand + 3.5%", "compound", 0.035, 0.20, "1000", None, None),
    ("0.3¢/line/ gross + 4.6%", "compound", 0.046, 0.003, "line/gross", None, None),
    ("$1.13/m<sup>3</sup>", "specific", None, 1.13, "m3", None, None),
    ("14.5¢/m<sup>2 </sup>+ 0.4%", "compound", 0.004, 0.145, "m2", None, None),
    ("2.5% <u></u>", "ad_valorem", 0.025, None, None, None, None),
    ("18.7¢/clean kg", "specific", None, 0.187, "clean kg", None, None),
    ("$4.95/t", "specific", None, 4.95, "t", None, None),
    ("68¢/head", "specific", None, 0.68, "head", None, None),
    ("Free (A+,AU,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG)", "free", 0.0, None, None, None, None),
    ("", "none", None, None, None, None, None),
    ("The rate applicable to each garment in the ensemble if separately entered", "unparsed", None, None, None, None, None),
    ("See additional U.S. note 3", "unparsed", None, None, None, None, None),
]


@pytest.mark.parametrize("text, form, av, sp, unit, sp2, unit2", CASES)
def test_real_texts(text, form, av, sp, unit, sp2, unit2) -> None:
    p = parse_rate(text)
    assert p.form == form
    for got, want in [(p.ad_valorem, av), (p.specific_rate, sp), (p.specific_rate_2, sp2)]:
        assert (got is None and want is None) or math.isclose(got, want, rel_tol=1e-12)
    assert (p.specific_unit, p.specific_unit_2) == (unit, unit2)


def test_qualifiers_kept_in_note() -> None:
    assert "drained weight" in parse_rate("25¢/kg on drained weight").note
    assert "telescopic sight" in parse_rate(
        "3.1% on the value of the rifle + 13% on the value of the telescopic sight, if any").note
    assert "reference rate" in parse_rate("See additional U.S. note 3").note
    # Sugar polarity: the rate at 100 degrees, the sliding scale in the note.
    p = parse_rate("3.6606¢/kg less 0.020668¢/kg for each degree under 100 degrees (and fractions of a degree "
                   "in proportion) but not less than 3.143854¢/kg")
    assert p.form == "specific" and math.isclose(p.specific_rate, 0.036606) and "less 0.020668" in p.note


def test_inherit_rate_text() -> None:
    codes = ["0306.17.00", "0306.17.00.03", "0306170006", "8703", "8703.23.01", "8703.23.01.40", "9999999999"]
    texts = ["Free", "", None, "", "2.5%", "", ""]
    got = inherit_rate_text(codes, texts)
    assert got == [("Free", "03061700"), ("Free", "03061700"), ("Free", "03061700"), ("", None),
                   ("2.5%", "87032301"), ("2.5%", "87032301"), ("", None)]


# --- property tests ----------------------------------------------------------------------------

pct = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False, allow_infinity=False)
cents = st.decimals(min_value="0.01", max_value=999, places=3, allow_nan=False, allow_infinity=False)
units = st.sampled_from(["kg", "liter", "doz.", "pr.", "m2", "t", "head", "bbl", "gross", "clean kg"])
canon = {"doz.": "doz", "pr.": "pr"}


def _fmt(d) -> str:
    s = format(d.normalize(), "f")
    return s


@given(pct)
def test_property_ad_valorem_round_trip(p) -> None:
    r = parse_rate(f"{_fmt(p)}%")
    assert r.form == "ad_valorem" and math.isclose(r.ad_valorem, float(p) / 100, rel_tol=1e-12, abs_tol=1e-15)


@given(cents, units, st.booleans())
def test_property_specific_round_trip(c, unit, dollars) -> None:
    text = f"${_fmt(c / 100)}/{unit}" if dollars else f"{_fmt(c)}¢/{unit}"
    r = parse_rate(text)
    assert r.form == "specific", text
    assert math.isclose(r.specific_rate, float(c) / 100, rel_tol=1e-12), text
    assert r.specific_unit == canon.get(unit, unit)


@given(cents, units, pct, st.booleans(), st.sampled_from([" + ", " +", "+ "]))
def test_property_compound_round_trip(c, unit, p, av_first, plus) -> None:
    sp, av = f"{_fmt(c)}¢/{unit}", f"{_fmt(p)}%"
    text = plus.join([av, sp] if av_first else [sp, av])
    r = parse_rate(text)
    assert r.form == "compound", text
    assert math.isclose(r.ad_valorem, float(p) / 100, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(r.specific_rate, float(c) / 100, rel_tol=1e-12)


@given(pct)
def test_property_subheading_plus_round_trip(p) -> None:
    r = parse_rate(f"The duty provided in the applicable subheading + {_fmt(p)}%")
    assert r.form == "subheading_plus" and math.isclose(r.ad_valorem, float(p) / 100, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=400)
@given(st.one_of(st.text(), st.text(alphabet="0123456789.,%¢$/+ kgeachFre<>sup", max_size=40)))
def test_property_parse_never_raises(text) -> None:
    r = parse_rate(text)
    assert isinstance(r, ParsedRate) and r.form in RATE_FORMS
    for v in (r.ad_valorem, r.specific_rate, r.specific_rate_2):
        assert v is None or math.isfinite(v)


# --- coverage on the real HTS revisions ----------------------------------------------------------


def _lines(path: Path) -> list[dict]:
    rev = path.name.removeprefix("hts_").removesuffix(".json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [{"revision": rev, "hts_code": x["htsno"], "general_text": x["general"]}
                for x in json.load(fh) if x.get("htsno")]


@pytest.mark.raw
def test_coverage_one_revision(raw: Path) -> None:
    rep = unparsed_report(_lines(raw / "hts" / "hts_2026_rev_10.json.gz"))
    (cov,) = rep.coverage
    # Every HTS10 line outside ch. 98/99 is either parsed or listed: nothing is dropped.
    assert cov["parsed"] + len(rep.unparsed) == cov["lines"]
    assert cov["lines"] > 19_000 and cov["share"] > 0.98
    # What is left are reference rates ('The rate applicable to ...', 'See additional U.S. note ...').
    assert all(u["note"].startswith("reference rate") for u in rep.unparsed)


@pytest.mark.raw
@pytest.mark.slow
def test_coverage_all_revisions(raw: Path) -> None:
    files = sorted((raw / "hts").glob("hts_*.json.gz"))
    assert len(files) == 44
    rows = [r for f in files for r in _lines(f)]
    rep = unparsed_report(rows)
    assert len(rep.coverage) == 44
    total = sum(c["lines"] for c in rep.coverage)
    parsed = sum(c["parsed"] for c in rep.coverage)
    assert parsed + len(rep.unparsed) == total
    # Measured on 2025 basic .. 2026 rev 10 (docs/codes.md): 869,010 HTS10 leaves of ch. 01-97 (864,830 10-digit
    # lines + 95 x 44 8-digit watch lines of ch. 91 with no statistical suffix), 857,173 parsed (98.64%); the
    # 11,836 left are reference rates, plus 9401.99.30.30 in 2025 rev 16 with no rate text.
    assert (total, parsed) == (869_010, 857_173)
    # only reference rates, plus at most a line with no rate text anywhere above it
    assert sum(1 for u in rep.unparsed if not u["note"].startswith("reference rate")) <= 44


def test_partial_base_flagged() -> None:
    # ad valorem parts on components of the value, specific parts on a content quantity: flagged, numbers kept
    p = parse_rate("44¢ each + 6% on the case + 14% on the strap, band or bracelet + 5.3% on the battery")
    assert p.form == "compound" and p.partial_base and (p.ad_valorem, p.specific_rate) == (0.06, 0.44)
    assert "14% on the strap, band or bracelet not in ad_valorem" in p.note and "5.3% on the battery" in p.note
    for text in ["1.7¢/kg on lead content", "25¢/kg on drained weight", "3.6606¢/kg of total sugars",
                 "2.5% on the value of the lead content", "9¢ each + 1.3¢/jewel over 17 + 4.5% on the case"]:
        assert parse_rate(text).partial_base, text
    for text in ["6.5% on the entire set", "5% + 3¢/kg", "36¢ each + 5.6% + 2¢/jewel", "Free", "2.5%"]:
        assert not parse_rate(text).partial_base, text


@pytest.mark.raw
@pytest.mark.slow
def test_against_usitc_tariff_database_2024(raw: Path) -> None:
    """The USITC tariff database 2024 gives each HTS8's MFN components as numbers. Our parse of the 2025
    basic edition agrees on all but 11 of its 11,257 numeric lines: 7 per-1000 rates it writes per unit
    (0601.10/.20 bulbs, 89.6¢/1000 -> 0.000896), 1 whose two specific parts it lists the other way round
    (6505.00.08), and 3 rates that differ between the two editions (6505.00.01, 8704.42.00, 8708.22.00).
    Every line it marks as not computable (rate types T, K, X) is one we flag as partial base."""
    import openpyxl

    g: dict[str, str] = {}
    with gzip.open(raw / "hts" / "hts_2025_basic.json.gz", "rt", encoding="utf-8") as fh:
        for x in json.load(fh):
            h, t = x["htsno"].replace(".", ""), (x["general"] or "").strip()
            if len(h) in (8, 10) and t and h[:8] not in g:
                g[h[:8]] = t
    wb = openpyxl.load_workbook(raw / "hts" / "usitc_tariff_database_2024.xlsx", read_only=True)
    rows = wb.worksheets[0].iter_rows(values_only=True)
    head = next(rows)
    ix = {k: head.index(k) for k in ("hts8", "mfn_rate_type_code", "mfn_ad_val_rate", "mfn_specific_rate", "mfn_other_rate")}
    numeric = agree = not_computable = flagged = 0
    disagree = set()
    for r in rows:
        h8 = str(r[ix["hts8"]]).zfill(8)
        t = g.get(h8)
        if t is None or h8[:2] in ("98", "99"):
            continue
        p = parse_rate(t)
        if str(r[ix["mfn_rate_type_code"]]) in ("T", "K", "X"):
            not_computable += 1
            flagged += p.partial_base
            continue
        if p.form == "unparsed":
            continue
        numeric += 1
        got = (p.ad_valorem or 0, p.specific_rate or 0, p.specific_rate_2 or 0)
        want = tuple(float(r[ix[k]] or 0) for k in ("mfn_ad_val_rate", "mfn_specific_rate", "mfn_other_rate"))
        if all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(got, want, strict=False)):
            agree += 1
        else:
            disagree.add(h8)
    assert numeric == 11_257 and agree == 11_246
    assert disagree == {"06011015", "06011030", "06011045", "06011060", "06011075", "06011085", "06012010",
                        "65050008", "65050001", "87044200", "87082200"}
    assert not_computable == flagged == 113
