"""The catalogue's product lists against the note text that enumerates them (issue 12, class 2): same codes at
the note's precision, every difference recorded with its reason in tests/cases/tariffs_list_audit.yaml."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tariffscope.tariffs import list_audit as A
from tariffscope.tariffs.measures import LISTS_DIR

pytestmark = pytest.mark.raw
RECORDED = yaml.safe_load((Path(__file__).parent / "cases" / "tariffs_list_audit.yaml").read_text())["differences"]


@pytest.fixture(scope="module")
def notes(raw):
    return A.notes_text(raw / "hts" / "chapter99_us_notes_2026_rev_6.txt")


def test_lists_agree_with_the_note_text(notes):
    found: dict[tuple[str, str, str], set[str]] = {}
    for r in A.audit(notes, LISTS_DIR):
        found.setdefault((r["list"], r["note"], r["kind"]), set()).add(r["code"])
    recorded = {(d["list"], d["note"], d["kind"]): set(d["codes"]) for d in RECORDED}
    assert all(d["why"] for d in RECORDED)
    assert found == recorded, "differences between the lists and the note text: fix the list or record the reason"


def test_note_precision_is_kept(notes):
    """Note 19(k) prints ten-digit lines (3004.90.9244) and the list keeps them; note 39(b) names 6-digit provisions;
    note 16(c) does not print a bare 8471 and the metals annex list no longer carries one."""
    k19 = A.note_codes(notes, "(k) The rates of duty in heading 9903.85.08", r"\n\s*\(l\) ")
    assert "3004909244" in k19 and "30049092" not in k19
    rows = {(r[0], r[3]) for r in __import__("csv").reader((LISTS_DIR / "s232_derivatives.csv").open())}
    assert ("3004909244", "aluminum:9903.85.08") in rows and ("30049092", "aluminum:9903.85.08") not in rows
    semis = {r[0] for r in list(__import__("csv").reader((LISTS_DIR / "s232_semis.csv").open()))[1:]}
    assert semis == {"847150", "847180", "847330"}
    annex = {r[0] for r in list(__import__("csv").reader((LISTS_DIR / "s232_metals_annex.csv").open()))[1:]}
    assert "8471" not in annex


def test_compare_and_realign():
    note = {"3004909244", "847150", "7601"}
    got = A.compare(note, {"30049092", "8471500150", "7601", "8471"})
    assert got == {"wider": {"30049092", "8471"}, "narrower": {"8471500150"}, "only_list": set(), "only_note": set()}
    assert A.realign(["30049092", "8471500150", "7601", "9999"], note) == {
        "30049092": ["3004909244"], "8471500150": ["847150"], "7601": ["7601"], "9999": ["9999"]}
