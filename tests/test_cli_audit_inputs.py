"""Gaps the audit of issue 15 found by hand: inputs that still printed a traceback or stored a partial file.

* A CSV field longer than Python's csv limit (131,072 characters) raised ``_csv.Error`` out of every csv
  reader: ``data ingest`` of a FRED or Comtrade file, and ``balance --partner-figures``. Each is now one
  line naming the file.
* Half of an HTS JSON export cut at a record boundary is still valid JSON, and was stored as a complete
  revision (only the CSV export was checked for chapters 01 to 99). It is refused, the warehouse unchanged.
* A file with its header and no rows raised IndexError in five readers. It is refused: no data rows.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from _clierr import one_line_error
from tariffscope.cli import main

HUGE = "1" * 200_000  # above csv.field_size_limit() (131,072 by default)


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
    line = one_line_error(capsys)
    assert str(path) in line and "131,072 characters" in line


def test_partner_figures_with_an_oversized_field_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(f'period,flow,value,currency\n2024,balance,"{HUGE}",JPY\n')
    assert main(["balance", "--reporter", "JPN", "--partner", "USA", "--period", "2024", "--by", "none",
                 "--currency", "JPY", "--partner-figures", str(path)]) == 1
    assert "131,072 characters" in one_line_error(capsys)


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


def _header_only(raw: Path, tmp_path: Path, kind: str) -> Path:
    """A real file of ``kind`` cut to its header: what a download that stopped early, or an empty query, gives."""
    import gzip

    import pyarrow.parquet as pq

    if kind == "census parquet":
        path = tmp_path / "5880.parquet"
        pq.write_table(pq.read_table(raw / "census/hs10_imports_2024_by_partner/5880.parquet").slice(0, 0), path)
        return path
    if kind == "census json":
        path = tmp_path / "census_imports.json"
        path.write_text('[["CTY_CODE","time","CON_VAL_YR"]]\n')
        return path
    source, name, lines = {
        "import weights": ("census/import_weights_hs10_country_2024.csv.gz", "import_weights_hs10_country_2024.csv", 1),
        "comtrade": ("autos/us_auto_imports_8703_8704.csv", "us_auto_imports_8703_8704.csv", 1),
        "usatradeonline": ("census/usatradeonline_imports_hs2_monthly/asia-others.csv", "asia-others.csv", 3),
    }[kind]
    data = raw / source
    text = gzip.decompress(data.read_bytes()).decode() if source.endswith(".gz") else data.read_text()
    path = tmp_path / name
    path.write_text("".join(text.splitlines(keepends=True)[:lines]))
    return path


@pytest.mark.raw
@pytest.mark.parametrize("kind", ["census parquet", "census json", "import weights", "comtrade", "usatradeonline"])
def test_a_file_with_a_header_and_no_rows_is_refused_in_one_line(kind: str, raw: Path, tmp_path: Path) -> None:
    """A header with no rows raised IndexError in five readers (an empty column's 'all valid' is null, not true)."""
    from tariffscope import db
    from tariffscope.errors import IngestError
    from tariffscope.ingest import core

    path = _header_only(raw, tmp_path, kind)
    con = db.connect(tmp_path / "w.duckdb")
    try:
        with pytest.raises(IngestError, match="no data rows") as ei:
            core.ingest(path, con=con)
        assert str(path) in str(ei.value) and "\n" not in str(ei.value)
        assert con.execute("SELECT count(*) FROM ingest_log").fetchall() == [(0,)]
    finally:
        con.close()
