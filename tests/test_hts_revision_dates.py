"""HTS revision dates ship with the package: ingest dates a revision without the raw data folder."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tariffscope import config
from tariffscope.ingest import hts_json

REPO = Path(__file__).resolve().parents[1]


def _line(htsno: str, general: str) -> dict:
    return {"htsno": htsno, "indent": "0", "description": "Passenger motor vehicles", "superior": None,
            "units": ["No."], "general": general, "special": "", "other": "", "footnotes": [],
            "quotaQuantity": None, "additionalDuties": None}


def _revision(tmp_path: Path, name: str) -> dict:
    path = tmp_path / f"hts_{name}.json"
    path.write_text(json.dumps([_line("8703.23.01", "2.5%"), _line("9903.94.01", "The duty provided in the applicable subheading + 25%")]))
    return hts_json.parse(path).tables["hts_revisions"].to_pylist()[0]


def test_a_revision_is_dated_from_the_packaged_table_with_no_raw_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TARIFFSCOPE_RAW_DATA", str(tmp_path / "no-raw-data-here"))
    row = _revision(tmp_path, "2025_rev_17")
    assert (row["effective_date"], row["policy_effective_date"]) == (dt.date(2025, 7, 1), dt.date(2025, 8, 1))
    assert "copper 232" in row["policy_event"]
    basic = _revision(tmp_path, "2025_basic")
    assert basic["effective_date"] == dt.date(2025, 1, 1) and basic["policy_effective_date"] is None


def test_an_unlisted_revision_has_no_dates(tmp_path):
    # 2026_rev_8 is editorial only and left out of the dated series
    row = _revision(tmp_path, "2026_rev_8")
    assert row["effective_date"] is None and row["policy_event"] is None


def test_a_dates_file_beside_the_revision_wins(tmp_path):
    (tmp_path / "revision_dates.csv").write_text(
        "revision,effective_date,policy_effective_date,policy_event\n2025_rev_17,2025-07-02,NA,local note\n")
    row = _revision(tmp_path, "2025_rev_17")
    assert (row["effective_date"], row["policy_effective_date"], row["policy_event"]) == (dt.date(2025, 7, 2), None, "local note")


def test_packaged_dates_agree_with_the_embedded_revisions():
    # both come from the same raw revision_dates.csv, by two build scripts
    with open(hts_json.PACKAGED_DATES, newline="", encoding="utf-8") as f:
        packaged = {r["revision"]: r for r in csv.DictReader(f)}
    embedded = pq.read_table(config.EMBEDDED_DIR / "hts_revisions.parquet").to_pylist()
    dated = [r for r in embedded if r["effective_date"] is not None]
    assert len(dated) == len(packaged) == 43
    for r in dated:
        p = packaged[r["revision"]]
        assert p["effective_date"] == r["effective_date"].isoformat()
        assert p["policy_effective_date"] == (r["policy_effective_date"].isoformat() if r["policy_effective_date"] else "")
        assert (p["policy_event"] or None) == r["policy_event"]


def test_provenance_names_the_source_and_the_shipped_file():
    prov = json.loads((hts_json.PACKAGED_DATES.parent / "provenance.json").read_text())
    assert prov["source"]["file"] == "hts/revision_dates.csv" and len(prov["source"]["sha256"]) == 64
    assert prov["output"]["sha256"] == hashlib.sha256(hts_json.PACKAGED_DATES.read_bytes()).hexdigest()


@pytest.mark.raw
def test_the_build_script_reproduces_the_shipped_file(raw, tmp_path):
    spec = importlib.util.spec_from_file_location("build_hts_revision_dates", REPO / "scripts" / "build_hts_revision_dates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(raw, tmp_path)
    assert (tmp_path / "revision_dates.csv").read_bytes() == hts_json.PACKAGED_DATES.read_bytes()
    built = json.loads((tmp_path / "provenance.json").read_text())
    shipped = json.loads((hts_json.PACKAGED_DATES.parent / "provenance.json").read_text())
    assert built["source"] == shipped["source"] and built["output"] == shipped["output"]
