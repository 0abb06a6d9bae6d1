"""Saved reference outputs (``tests/reference_outputs/``, written by ``scripts/reference_outputs.py``,
``make reference``) recomputed and compared: the built-in PE scenarios (point estimates and two
fixed-seed Monte Carlo runs), the GE experiments shipped with the package (``data/ge``) and headline duty/ETR/balance calls.

A failure names the first differing fields. If the change is intended, regenerate with ``make reference``
and commit the JSON diff together with the change that explains it.
"""
from __future__ import annotations

import json

import pytest

from _scripts import load_script

ref = load_script("reference_outputs")
CASES = ref.cases()


def _param(case):
    marks = [pytest.mark.raw] if case.raw else []
    return pytest.param(case, id=case.path, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_reference_output_unchanged(case) -> None:
    target = ref.OUT_DIR / case.path
    assert target.exists(), f"no reference file {case.path}: run `make reference`"
    expected = json.loads(target.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(ref.compute(case)))  # the same JSON round trip as the saved file
    diffs = list(ref.compare(expected, got, rel_tol=case.rel_tol, column_scale=case.column_scale))
    assert not diffs, f"{case.path}: {len(diffs)} field(s) differ from the reference:\n" + "\n".join(diffs[:15])


def test_every_reference_file_has_a_case() -> None:
    """A file left behind by a removed scenario or experiment would never be checked again."""
    saved = {p.relative_to(ref.OUT_DIR).as_posix() for p in ref.OUT_DIR.rglob("*.json")}
    assert saved == {c.path for c in CASES}


def test_compare_names_the_field_that_differs() -> None:
    expected = {"headline": [{"name": "imports", "unit": "usd", "value": 1.0e9}],
                "by_sector": [{"sector": "autos", "value_change_pct": 0.25}]}
    same = json.loads(json.dumps(expected))
    same["headline"][0]["value"] *= 1 + 1e-12  # float noise passes
    assert list(ref.compare(expected, same)) == []
    moved = json.loads(json.dumps(expected))
    moved["by_sector"][0]["value_change_pct"] = 0.2501
    assert [d.split(":")[0] for d in ref.compare(expected, moved)] == [".by_sector[0].value_change_pct"]
    renamed = {"headline": expected["headline"], "by_sectors": expected["by_sector"]}
    assert sorted(ref.compare(expected, renamed)) == [
        ".by_sector: missing from the new output", ".by_sectors: new in the output (not in the reference)"]


def test_noise_floor_is_by_unit() -> None:
    """A cent of money is noise around zero; the same 0.004 on a rate is a real change."""
    assert list(ref.compare({"unit": "usd", "value": 0.0}, {"unit": "usd", "value": 0.004})) == []
    assert list(ref.compare({"unit": "fraction", "value": 0.0}, {"unit": "fraction", "value": 0.004}))
    assert list(ref.compare({"value_change": 1e-5}, {"value_change": -2e-5})) == []
    assert list(ref.compare({"value_change_pct": 0.171}, {"value_change_pct": 0.175}))


def test_column_scale_allows_noise_of_the_column_not_of_the_cell() -> None:
    """Estimated fits: a near-zero cell may move by 1e-4 of its column's largest value, no more."""
    expected = {"countries": [{"country": "A", "pct": 30.0}, {"country": "B", "pct": 0.01}]}
    noisy = {"countries": [{"country": "A", "pct": 30.0}, {"country": "B", "pct": 0.0101}]}
    assert list(ref.compare(expected, noisy, rel_tol=1e-4)) != []
    assert list(ref.compare(expected, noisy, rel_tol=1e-4, column_scale=True)) == []
    moved = {"countries": [{"country": "A", "pct": 30.0}, {"country": "B", "pct": 0.02}]}
    assert [d.split(":")[0] for d in ref.compare(expected, moved, rel_tol=1e-4, column_scale=True)] == [
        ".countries[1].pct"]
