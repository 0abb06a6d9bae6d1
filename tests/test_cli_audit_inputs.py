"""Gaps the audit of issue 15 found by hand: inputs that still printed a traceback or stored a partial file.

* A CSV field longer than Python's csv limit (131,072 characters) raised ``_csv.Error`` out of every csv
  reader: ``data ingest`` of a FRED or Comtrade file, and ``balance --partner-figures``. Each is now one
  line naming the file.
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
