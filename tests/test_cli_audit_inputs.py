"""Gaps the audit of issue 15 found by hand: inputs that still printed a traceback or stored a partial file.

* A CSV field longer than Python's csv limit (131,072 characters) raised ``_csv.Error`` out of every csv
  reader: ``data ingest`` of a FRED or Comtrade file, and ``balance --partner-figures``. Each is now one
  line naming the file.
* Half of an HTS JSON export cut at a record boundary is still valid JSON, and was stored as a complete
  revision (only the CSV export was checked for chapters 01 to 99). It is refused, the warehouse unchanged.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tariffscope.cli import main

HUGE = "1" * 200_000  # above csv.field_size_limit() (131,072 by default)


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    return lines[0]


@pytest.mark.parametrize("name, text", [
    ("DEXJPUS.csv", f'observation_date,DEXJPUS\n2024-01-02,"{HUGE}"\n'),
    ("comtrade.csv", f'refYear,reporterCode,partnerCode,cmdCode,cifvalue,qty,qtyUnitAbbr,netWgt\n2019,842,124,8703,"{HUGE}",1,u,1\n'),
])
def test_ingest_of_an_oversized_csv_field_is_one_line(name: str, text: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(tmp_path / "home"))
    path = tmp_path / name
    path.write_text(text)
    assert main(["data", "ingest", str(path)]) == 1
    line = _one_line_error(capsys)
    assert str(path) in line and "131,072 characters" in line


def test_partner_figures_with_an_oversized_field_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(f'period,flow,value,currency\n2024,balance,"{HUGE}",JPY\n')
    assert main(["balance", "--reporter", "JPN", "--partner", "USA", "--period", "2024", "--by", "none",
                 "--currency", "JPY", "--partner-figures", str(path)]) == 1
    assert "131,072 characters" in _one_line_error(capsys)


@pytest.mark.raw
@pytest.mark.parametrize("part, reason", [("first", "a full revision ends in chapter 99"),
                                          ("second", "a full revision starts in chapter 01")])
def test_half_an_hts_json_is_not_a_revision(part: str, reason: str, raw: Path, tmp_path: Path) -> None:
    """Half of an HTS JSON export, cut at a record boundary, is still valid JSON; it was stored as a complete
    revision (the CSV export was checked for chapters 01..99, the JSON export was not)."""
    import gzip
    import hashlib
    import json

    from tariffscope import db
    from tariffscope.errors import IngestError
    from tariffscope.ingest import core

    doc = json.loads(gzip.decompress((raw / "hts/hts_2025_rev_17.json.gz").read_bytes()))
    half = doc[: len(doc) // 2] if part == "first" else doc[len(doc) // 2:]
    bad = tmp_path / "hts_2025_rev_17.json.gz"
    bad.write_bytes(gzip.compress(json.dumps(half).encode()))
    wpath = tmp_path / "w.duckdb"
    con = db.connect(wpath)
    try:
        con.execute("CHECKPOINT")
        before = hashlib.sha256(wpath.read_bytes()).hexdigest()
        with pytest.raises(IngestError) as ei:
            core.ingest(bad, con=con)
        assert reason in ei.value.reason and "looks truncated" in ei.value.reason and str(bad) in str(ei.value)
        assert con.execute("SELECT count(*) FROM hts_revisions").fetchall() == [(0,)]
        con.execute("CHECKPOINT")
        assert hashlib.sha256(wpath.read_bytes()).hexdigest() == before
    finally:
        con.close()
