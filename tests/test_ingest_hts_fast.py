"""The two readers of the HTS JSON export give the same tables.

``hts_json.parse`` reads a well-formed file with DuckDB (one SQL pass, each distinct text handled once)
and hands any file it does not take as is to the reference reader (``json.loads`` + ``build``, per-entry
Python), which refuses it naming the entry. Both must store the same rows: checked here on real
revisions (against the reference reader and against row counts and checksums of the stored tables),
on entries written to probe every rule of the text handling (white space, nulls, units, footnotes), and
on hostile entries, where the result or the refusal must be the reference reader's.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tariffscope import db
from tariffscope.errors import IngestError
from tariffscope.ingest import core, hts_json
from tariffscope.ingest.common import ParsedFile

REVISIONS = ["hts_2025_basic.json.gz", "hts_2025_rev_17.json.gz", "hts_2026_rev_10.json.gz"]


def reference(path: Path, monkeypatch: pytest.MonkeyPatch) -> ParsedFile:
    """The file as the reference reader (json.loads + build) reads it."""
    with monkeypatch.context() as m:
        m.setattr(hts_json, "_read_duckdb", lambda path, data: None)
        return hts_json.parse(path, sha256="0" * 64)


def outcome(path: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> Any:
    """The tables (as Python rows) and notes a parse gives, or the refusal (line, reason)."""
    try:
        parsed = reference(path, monkeypatch) if monkeypatch else hts_json.parse(path, sha256="0" * 64)
    except IngestError as exc:
        return ("refused", exc.line, exc.reason)
    return ({n: (t.schema, t.to_pylist()) for n, t in parsed.tables.items()}, parsed.notes)


def write(path: Path, doc: Any, text: str | None = None) -> Path:
    path.write_bytes(gzip.compress((text if text is not None else json.dumps(doc)).encode("utf-8"), mtime=0))
    return path


def entry(htsno: Any = "0101.21.00", **fields: Any) -> dict[str, Any]:
    e = {"htsno": htsno, "indent": "2", "description": "Purebred breeding animals", "superior": None, "units": ["No."],
         "general": "Free", "special": "", "other": "Free", "footnotes": [], "quotaQuantity": None, "additionalDuties": None}
    e.update(fields)
    return e


def test_whitespace_is_what_python_strips() -> None:
    assert set(hts_json.WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


@pytest.mark.raw
@pytest.mark.parametrize("name", REVISIONS)
def test_real_revisions_read_alike(raw: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = raw / "hts" / name
    assert hts_json._read_duckdb(path, hts_json.read_bytes(path)) is not None, "a real revision takes the DuckDB reader"
    fast, ref = hts_json.parse(path, sha256="0" * 64), reference(path, monkeypatch)
    assert fast.notes == ref.notes and fast.source == ref.source and fast.vintage == ref.vintage
    for name_, table in ref.tables.items():
        assert fast.tables[name_].schema == table.schema
        assert fast.tables[name_].equals(table), name_


def _table_digest(con: db.Connection, table: str) -> tuple[int, str]:
    """Row count and a digest of every row's values (in the order of their text; ingest ids left out)."""
    ids = "EXCLUDE (ingest_id)" if "ingest_id" in [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()] else ""
    n, h = con.execute(f"SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) FROM "
                       f"(SELECT * {ids} FROM {table}) t").fetchall()[0]
    return int(n), str(h)


@pytest.mark.raw
def test_stored_rows_are_the_reference_readers(raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of three revisions and two Census pulls stores, row for row, what the reference reader
    stores (every column compared through a digest of the ordered rows), and the row counts of the
    issue-15 workload's files."""
    files = [raw / "hts" / n for n in REVISIONS] + [raw / "census/hs10_imports_2024_by_partner" / f"{c}.parquet"
                                                     for c in ("5880", "0003")]
    got = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(hts_json, "_read_duckdb", lambda path, data: None)
            con = db.connect(tmp_path / f"w{fast}.duckdb")
            res = core.ingest_many(files, con=con)
            got.append(([(Path(r.path).name, r.rows) for r in res],
                        *(_table_digest(con, t) for t in ("hts_lines", "chapter99_lines", "hts_revisions", "trade_flows"))))
            con.close()
    assert got[0] == got[1]
    rows = dict(got[0][0])
    assert rows["hts_2026_rev_10.json.gz"] == {"hts_lines": 29095, "chapter99_lines": 502, "hts_revisions": 1}
    assert rows["5880.parquet"] == {"trade_flows": 10102}


def test_text_rules_read_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries that exercise each rule of the text handling give the same tables either way."""
    doc = [
        entry("0101", indent="0", description="Live horses:", units=[], general="", other="", footnotes=None),
        entry("", indent="1", description="Horses:", superior="true"),  # a header row: not stored, counted
        entry(None, indent=None),
        entry("  0101.21.00 ", indent="002", description="\u3000 Pure\xa0bred \x1c", general=" 6.8% ",
              special="Free (A,AU)", other=None, units=["kg", "No."],
              footnotes=[{"columns": ["general"], "value": " See\u2009 9903.88.15. ", "type": "endnote"},
                         {"columns": ["general"], "value": " \n ", "type": "endnote"},
                         {"columns": ["other"], "value": "Second\tnote", "type": "footnote", "marker": "1"}]),
        entry("0101.21.00.10", indent="", units=[""], general="1.5¢/kg + 3%", footnotes=[{"value": ""}]),
        entry("0101.21.00.20", indent="3", units=None, description="", general="\xa0", special="  ", other="Free"),
        entry("0101.29.00", units=["", ""], general="$1.20/doz.", description="a\x00b"),
        entry("0102.21.00", description='He said "hi" \\ caf\u00e9 / \U0001d11e\ttab', special="A*,\u00a0B"),
        entry("9903.01.25", indent="1", general="The duty provided in the applicable subheading + 25%", units=[]),
        entry("9903.88.15", indent="1", general="No change", footnotes=[{"value": "Note 20(b)"}]),
    ]
    path = write(tmp_path / "hts_2026_rev_10.json.gz", doc)
    assert hts_json._read_duckdb(path, hts_json.read_bytes(path)) is not None
    assert outcome(path) == outcome(path, monkeypatch)
    lines = hts_json.parse(path, sha256="0" * 64).tables["hts_lines"].to_pylist()
    pure = next(r for r in lines if r["hts_code"] == "01012100")
    assert pure["description"] == "Pure\xa0bred" and pure["footnotes"] == "See 9903.88.15. | Second note"


HOSTILE: dict[str, tuple[Any, str | None]] = {
    "a number for the HTS number": ([entry(), entry(101)], None),
    "a number for the indent": ([entry(indent=2)], None),
    "an indent with spaces": ([entry(indent=" 2")], None),
    "a bad indent": ([entry(indent="two")], None),
    "a huge indent": ([entry(indent="12345678901")], None),
    "a number for the description": ([entry(description=5.0)], None),
    "a list for the general rate": ([entry(general=["Free"])], None),
    "units as a string": ([entry(units=" No. ")], None),
    "a number among the units": ([entry(units=["No.", 1])], None),
    "a null among the units": ([entry(units=[None])], None),
    "footnotes as a string": ([entry(footnotes="See note")], None),
    "a footnote that is no object": ([entry(footnotes=["See note"])], None),
    "a footnote without a value": ([entry(footnotes=[{"columns": []}])], None),
    "a footnote with a null value": ([entry(footnotes=[{"value": None}])], None),
    "a missing field": ([entry(), {k: v for k, v in entry("0102").items() if k != "other"}], None),
    "an entry that is no object": ([entry(), 5], None),
    "a bad HTS number": ([entry("0101.2l.00")], None),
    "an HTS number twice": ([entry(), entry(" 0101.21.00")], None),
    "an empty list": ([], None),
    "an object, not a list": (entry(), None),
    "a key twice (the last one counts in Python)": (None, '[{"htsno": "0101", "htsno": "0102", "indent": "0", '
                                                           '"description": "x", "units": [], "general": "", "special": "", '
                                                           '"other": "", "footnotes": []}]'),
    "a footnote value twice": (None, '[{"htsno": "0101", "indent": "0", "description": "x", "units": [], "general": "", '
                                     '"special": "", "other": "", "footnotes": [{"value": "a", "value": "b"}]}]'),
    "a trailing comma in an entry": (None, '[{"htsno": "0101", "indent": "0", "description": "x", "units": [], '
                                           '"general": "", "special": "", "other": "", "footnotes": [],}]'),
    "NaN in a field not stored": (None, '[{"htsno": "0101", "indent": "0", "description": "x", "units": [], '
                                        '"general": "", "special": "", "other": "", "footnotes": [], "quotaQuantity": NaN}]'),
    "cut inside an entry": (None, '[{"htsno": "0101", "indent": "0", "description": "x", "units": [], "gen'),
    "invalid UTF-8": (None, '[{"htsno": "0101", "indent": "0", "description": "\udcff", "units": [], '
                            '"general": "", "special": "", "other": "", "footnotes": []}]'),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_entries_get_the_reference_readers_answer(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc, text = HOSTILE[case]
    path = tmp_path / "hts_2026_rev_10.json.gz"
    if text is not None and "\udcff" in text:
        path.write_bytes(gzip.compress(text.encode("utf-8", "surrogateescape"), mtime=0))
    else:
        write(path, doc, text)
    assert outcome(path) == outcome(path, monkeypatch)


@pytest.mark.raw
def test_an_odd_entry_in_a_real_revision(raw: Path, tmp_path: Path) -> None:
    """One odd entry among 35,000 sends the file to the reference reader: it names a bad one, and stores
    one it takes (a number among the units) as it always did."""
    doc = json.loads(gzip.decompress((raw / "hts/hts_2026_rev_10.json.gz").read_bytes()))
    numbered = [i for i, e in enumerate(doc) if (e["htsno"] or "").strip() and not e["htsno"].startswith("9903")]
    odd, bad = numbered[1000], numbered[20000]
    doc[odd]["units"] = ["No.", 7]
    doc[bad]["indent"] = "x"
    path = write(tmp_path / "hts_2026_rev_10.json.gz", doc)
    with pytest.raises(IngestError) as ei:
        hts_json.parse(path)
    assert ei.value.line == bad + 1 and "bad indent 'x'" in ei.value.reason
    doc[bad]["indent"] = "3"
    path = write(path, doc)
    assert hts_json._read_duckdb(path, hts_json.read_bytes(path)) is None
    lines = hts_json.parse(path).tables["hts_lines"]
    assert lines.num_rows == 29095
    code = doc[odd]["htsno"].replace(".", "")
    assert next(r for r in lines.to_pylist() if r["hts_code"] == code)["units"] == "No., 7"


def test_the_digest_sees_a_changed_value() -> None:
    """The stored-rows comparison above would see a changed value."""
    con = db.memory()
    con.execute("INSERT INTO hts_revisions VALUES ('2025_basic', 2025, 202500, NULL, NULL, NULL, 'a', 'x')")
    a = _table_digest(con, "hts_revisions")
    con.execute("UPDATE hts_revisions SET source_file = 'b'")
    b = _table_digest(con, "hts_revisions")
    assert a[0] == b[0] == 1 and a[1] != b[1]
    con.close()


def test_non_text_fields_are_refused_naming_the_entry(tmp_path: Path) -> None:
    """A number or a list where the export has text was stored as its Python repr ("['Free']"), and a
    number for the HTS number crashed: now each is refused with its entry."""
    for field, value in (("htsno", 101), ("general", ["Free"]), ("description", 5.0)):
        path = write(tmp_path / "hts_2026_rev_10.json.gz", [entry(), {**entry("0102"), field: value}])
        with pytest.raises(IngestError, match=f"entry 2: {field} is "):
            hts_json.parse(path)
    path = write(tmp_path / "hts_2026_rev_10.json.gz", [entry(indent="12345678901")])
    with pytest.raises(IngestError, match="entry 1: bad indent"):
        hts_json.parse(path)


def test_no_temporary_folder_falls_back_to_the_reference_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB reads a decompressed copy in the temporary folder; without one the file is still read."""
    path = write(tmp_path / "hts_2026_rev_10.json.gz", [entry("0101"), entry()])
    expected = outcome(path)

    def no_room(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(hts_json.tempfile, "mkstemp", no_room)
    assert hts_json._read_duckdb(path, hts_json.read_bytes(path)) is None
    assert outcome(path) == expected
