"""CLI of the codes area: `tariffscope codes country|hts|rate|sectors` (exact messages, exit codes)."""
from __future__ import annotations

import json

import tariffscope.clicmd.codes  # noqa: F401 - registers the 'codes' commands until cli._register imports it
from tariffscope.cli import main


def test_country_json(capsys) -> None:
    assert main(["codes", "country", "Korea, South", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d == {"iso3": "KOR", "iso2": "KR", "name": "South Korea", "census_code": "5800", "m49": "410",
                 "japan_customs_code": "103"}


def test_country_unknown(capsys) -> None:
    assert main(["codes", "country", "Japn"]) == 1
    err = capsys.readouterr().err
    assert "Error: unknown country 'Japn': did you mean JPN (Japan)?" in err


def test_rate(capsys) -> None:
    assert main(["codes", "rate", "4.4¢/kg + 6%"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["form"] == "compound" and d["ad_valorem"] == 0.06 and d["specific_rate"] == 0.044


def test_bad_hts_code(capsys) -> None:
    assert main(["codes", "hts", "8703.2"]) == 1
    assert "has 5 digits; it must have 2, 4, 6, 8 or 10" in capsys.readouterr().err


def test_sectors_json(capsys) -> None:
    assert main(["codes", "sectors", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["sector"] == "passenger_vehicles" and rows[0]["examples"] == ["8703"]


def test_hts_describe_on_warehouse(warehouse, capsys) -> None:
    assert main(["codes", "hts", "8703.23.01.40", "--revision", "2026_rev_10", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["sector"] == "passenger_vehicles" and d["general_rate_text"] == "2.5%" and d["rate_from"] == "8703.23.01"
    assert d["full_description"].endswith("Other: New: Having engines with not more than 4 cylinders: Other")
    assert d["rate"]["ad_valorem"] == 0.025


def test_hts_valid_only_in_other_revisions(warehouse, capsys) -> None:
    # 0201.30.50.85 is in the HTS 2025 basic .. 2026 rev 1 JSON files and not in 2026 rev 10
    assert main(["codes", "hts", "0201.30.50.85", "--revision", "2026_rev_10"]) == 1
    assert ("Error: HTS 0201.30.50.85 is not in revision 2026_rev_10; nearest: 0201.30.50.91, 0201.30.50.75, "
            "0201.30.50.97; it is valid in 2025_basic .. 2026_rev_1 (35 revisions)") in " ".join(capsys.readouterr().err.split())
