"""HS/HTS codes: normalisation, hierarchy, descriptions and validation against HTS revisions."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pytest

from tariffscope import db
from tariffscope.codes import products as pr
from tariffscope.errors import InputError


@pytest.mark.parametrize("text, digits", [
    ("8703.23.01.40", "8703230140"), ("8703230140", "8703230140"), ("8703 23", "870323"),
    ("8703.23", "870323"), ("87", "87"), (" 8708.29 ", "870829"), ("0101.21.00.10", "0101210010"),
])
def test_normalize(text: str, digits: str) -> None:
    assert pr.normalize_hts(text) == digits


@pytest.mark.parametrize("text, message", [
    ("87032301400", "has 11 digits; it must have 2, 4, 6, 8 or 10 (did you mean 8703.23.01.40?)"),
    ("101210010", "(did you mean 0101.21.00.10 (leading zero)?)"),
    ("8703.2", "HTS code '8703.2' has 5 digits; it must have 2, 4, 6, 8 or 10 (did you mean 8703?)"),
    ("87O3", "characters other than digits"),
    ("", "empty HTS code"),
])
def test_normalize_rejects_with_suggestion(text: str, message: str) -> None:
    with pytest.raises(InputError) as exc:
        pr.normalize_hts(text)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_hierarchy() -> None:
    assert pr.parents("8703.23.01.40") == ["87", "8703", "870323", "87032301"]
    assert pr.parents("87") == []
    assert pr.level("8703.23") == 6
    assert pr.format_hts("8703230140") == "8703.23.01.40" and pr.format_hts("870323") == "8703.23"


def _load(con, path: Path, rev: str) -> None:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    rows = [dict(revision=rev, hts_code=x["htsno"].replace(".", ""), level=len(x["htsno"].replace(".", "")),
                 indent=int(x["indent"]), description=x["description"], units=",".join(x["units"] or []),
                 general_text=x["general"] or None) for x in doc if x["htsno"]]
    con.register("_tmp", pa.Table.from_pylist(rows))
    con.execute("INSERT INTO hts_lines (revision, hts_code, level, indent, description, units, general_text) "
                "SELECT * FROM _tmp")
    con.unregister("_tmp")


@pytest.fixture(scope="module")
def hts(raw: Path):
    """Two real revisions (2025 basic, 2026 rev 10) in an in-memory warehouse."""
    con = db.memory()
    _load(con, raw / "hts" / "hts_2025_basic.json.gz", "2025_basic")
    _load(con, raw / "hts" / "hts_2026_rev_10.json.gz", "2026_rev_10")
    yield con
    con.close()


@pytest.mark.raw
def test_describe_walks_up_indents_with_header_rows(hts) -> None:
    d = pr.describe("8703.23.01.40", "2026_rev_10", con=hts)
    # HTS text: 8703 > "Other vehicles, with only spark-ignition ...:" > 8703.23.01 "Of a cylinder capacity
    # exceeding 1,500 cc but not exceeding 3,000 cc" > "Other:" > "New:" > "Having engines with not more
    # than 4 cylinders:" > 8703.23.01.40 "Other".
    assert [c["description"] for c in d.chain][1:] == [
        "Other vehicles, with only spark-ignition internal combustion piston engines:",
        "Of a cylinder capacity exceeding 1,500 cc but not exceeding 3,000 cc",
        "Other:", "New:", "Having engines with not more than 4 cylinders:", "Other"]
    assert d.description == "Other" and d.dotted == "8703.23.01.40"
    # the statistical line has no rate of its own: it takes the 2.5% of 8703.23.01
    assert (d.general_text, d.rate_text, d.rate_from) == (None, "2.5%", "87032301")
    assert d.full_description.startswith("Motor cars and other motor vehicles")
    assert pr.describe("8703230140", con=hts).revision == "2026_rev_10"   # latest loaded by default


@pytest.mark.raw
def test_describe_hs6_without_own_line(hts) -> None:
    d = pr.describe("8704.21", "2026_rev_10", con=hts)   # only line is 8704.21.01.00
    assert d.code == "8704210100" and "G.V.W. not exceeding 5 metric tons" in d.full_description
    assert "compression-ignition" in d.full_description


@pytest.mark.raw
def test_validate_hts10(hts) -> None:
    assert pr.validate_hts10("8703.23.01.40", "2025_basic", con=hts) == "8703230140"
    with pytest.raises(InputError, match=r"HTS 8703.23.01.99 is not in revision 2026_rev_10; nearest: 8703.23.01.90"):
        pr.validate_hts10("8703.23.01.99", "2026_rev_10", con=hts)
    # 0201.30.50.85 exists in the 2025 basic edition and not in 2026 rev 10 (checked in the JSON files)
    with pytest.raises(InputError, match=r"not in revision 2026_rev_10; nearest: .*; it is valid in 2025_basic"):
        pr.validate_hts10("0201.30.50.85", "2026_rev_10", con=hts)
    with pytest.raises(InputError, match="8 digits; a 10-digit statistical line is needed; lines under it: 8703.23.01.10"):
        pr.validate_hts10("8703.23.01", "2026_rev_10", con=hts)
    # 9102.11.10 (watches) has no statistical suffixes in the HTS JSON: its leaf is 9102.11.10.00
    assert pr.validate_hts10("9102.11.10.00", "2026_rev_10", con=hts) == "9102111000"
    with pytest.raises(InputError, match="9102.11.10 has no statistical suffixes in the HTS; use 9102.11.10.00"):
        pr.validate_hts10("9102.11.10.10", "2026_rev_10", con=hts)
    assert "battery" in pr.describe("9102111000", "2026_rev_10", con=hts).rate_text
    with pytest.raises(InputError, match="unknown HTS revision '2026_rev_9': did you mean 2026_rev_10"):
        pr.validate_hts10("8703230140", "2026_rev_9", con=hts)
