"""Duty engine: the cases of tests/cases/tariffs_duty.yaml (expected layers from the HTS text), bad input, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tariffscope.errors import InputError

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "tariffs_duty.yaml").read_text())["cases"]


@pytest.fixture(scope="module")
def con(warehouse):
    return warehouse  # the session warehouse with the embedded data (read only)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_duty_case(con, case):
    from tariffscope.tariffs.engine import duty

    value = case.get("value", 100.0)
    res = duty(con, case["hts10"], case["origin"], case["date"], value, options=case.get("options"))
    got = [(layer.measure_id, layer.heading, round(layer.rate, 6)) for layer in res.layers]
    want = [(lw["measure_id"], lw.get("heading", case["hts10"] if lw["measure_id"] == "mfn" else None), round(lw["rate"], 6))
            for lw in case["layers"]]
    assert got == want, case["note"]
    for lw, lg in zip(case["layers"], res.layers, strict=False):
        if "base" in lw:
            assert lg.base == pytest.approx(lw["base"]), lw
    assert res.effective_rate == pytest.approx(case["total_rate"], abs=1e-9), case["note"]
    assert res.total_duty == pytest.approx(case["total_rate"] * value, abs=1e-6)
    assert sum(layer.amount for layer in res.layers) == pytest.approx(res.total_duty)


def test_duty_reports_rules_and_exclusions(con):
    from tariffscope.tariffs.engine import duty

    res = duty(con, "8703230140", "JPN", "2025-06-15", 30000)
    rules = {r["rule"] for r in res.rules_fired}
    assert {"R1_mfn", "R3_one_232", "R4_232_displaces_reciprocal"} <= rules
    excluded = {r["measure_id"]: r["reason"] for r in res.rules_excluded}
    assert "full value" in excluded["ieepa_recip_baseline"]  # note 2(v)(x)
    assert res.total_duty == pytest.approx(0.275 * 30000)
    assert res.hts_revision == "2025_rev_16"
    d = res.to_dict()
    assert set(d) >= {"hts10", "origin", "date", "customs_value", "layers", "total_duty", "effective_rate"}
    assert set(d["layers"][0]) >= {"measure_id", "heading", "authority", "rate", "amount"}


def test_quantity_drives_specific_mfn(con):
    # 0201.10.05 (beef carcasses) is '4.4¢/kg' in the HTS: 1000 kg at $5,000 -> $44 -> 0.88%
    from tariffscope.tariffs import hts
    from tariffscope.tariffs.engine import duty

    rev = hts.revision_in_force(con, __import__("datetime").date(2025, 3, 1)).revision
    table = hts.mfn_table(con, rev)
    import numpy as np

    spec = np.flatnonzero(~np.isnan(table.specific_rate) & (table.ad_valorem == 0))
    code = str(table.hts10[spec[0]])
    rate = float(table.specific_rate[spec[0]])
    res = duty(con, code, "AUS", "2025-03-01", 5000.0, quantity=1000.0)
    assert res.layers[0].amount == pytest.approx(rate * 1000.0)
    assert "quantity" in res.mfn_basis


@pytest.mark.parametrize("args, message", [
    (("9999999999", "JPN", "2025-06-15"), "unknown HTS code 9999.99.99.99"),
    (("87032301", "JPN", "2025-06-15"), "10-digit"),
    (("8703230140", "XYZ", "2025-06-15"), "XYZ"),
    (("8703230140", "JPN", "2024-06-15"), "outside the measure catalogue's coverage"),
    (("8703230140", "JPN", "2026-07-01"), "outside the measure catalogue's coverage"),
    (("8703230140", "JPN", "15/06/2025"), "bad date"),
])
def test_bad_input(con, args, message):
    from tariffscope.tariffs.engine import duty

    with pytest.raises(InputError) as err:
        duty(con, *args)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_code_valid_only_in_another_revision(con):
    """A code that exists in some revision but not in the one in force names where it is valid."""
    from tariffscope import db
    from tariffscope.tariffs.engine import duty

    row = db.query(con, """
        WITH tens AS (SELECT revision, hts_code FROM hts_lines WHERE level = 10),
        revs AS (SELECT revision, effective_date FROM hts_revisions WHERE effective_date IS NOT NULL)
        SELECT t.hts_code, max(r.effective_date) AS last_date FROM tens t JOIN revs r USING (revision)
        GROUP BY t.hts_code HAVING max(r.effective_date) < DATE '2026-01-01' AND max(r.effective_date) >= DATE '2025-01-01'
        ORDER BY t.hts_code LIMIT 1""").to_pylist()
    assert row, "the HTS revisions always retire some statistical codes"
    code = row[0]["hts_code"]
    with pytest.raises(InputError, match=r"is not in 2026_rev_\d+ .* it is valid only in"):
        duty(con, code, "JPN", "2026-05-01")


def test_cli_duty_json_and_errors(con, capsys, monkeypatch):
    from tariffscope import api
    from tariffscope.cli import main

    monkeypatch.setattr(api, "_tariff_con", lambda c=None: con)
    assert main(["duty", "8703.23.01.40", "--origin", "JPN", "--date", "2025-10-15", "--value", "30000", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total_duty"] == pytest.approx(4500.0)
    assert [layer["heading"] for layer in out["layers"]] == ["8703230140", "9903.94.41"]
    assert main(["duty", "8703.23.01.40", "--origin", "JPN", "--date", "2025-10-15"]) == 0
    text = capsys.readouterr().out
    assert "9903.94.41" in text and "HTS revision" in text and "catalogue" in text
    assert main(["duty", "8703.23.01.40", "--origin", "Narnia", "--date", "2025-10-15"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:") and len(err.strip().splitlines()) == 1
    assert main(["duty", "8703.23.01.40", "--origin", "JPN", "--date", "2027-01-01"]) == 1


def test_warm_duty_compiles_nothing_per_entry(con, monkeypatch):
    # The single-entry path compiles the catalogue once per HTS table (every line x every origin) and then
    # serves any HTS10 x origin x date of that table without compiling again (it used to compile per entry,
    # ~20-100 ms each, in a 32-entry cache: the web load test's bottleneck).
    import numpy as np

    from tariffscope.tariffs import engine, hts

    dates = ["2025-04-10", "2025-06-15", "2025-10-01"]
    for d in dates:  # warm-up: one entry per date compiles that date's HTS table
        engine.duty(con, "8703230140", "JPN", d, 100.0)

    def no_compile(*a, **k):
        raise AssertionError("compiled the catalogue again on a warm path")

    monkeypatch.setattr(engine, "Compiled", no_compile)
    table = hts.mfn_table(con, hts.revision_in_force(con, engine.parse_date(dates[1])).revision)
    rng = np.random.default_rng(7)
    codes = [str(c) for c in rng.choice(table.hts10, 15, replace=False)]
    for code in codes:
        for origin in ("CHN", "DEU", "MEX", "VNM"):
            for d in dates:
                try:
                    engine.duty(con, code, origin, d, 100.0)
                except InputError as e:  # a line of one revision may be absent on another date
                    assert "is not in" in str(e)


def test_restricted_compilation_equals_full(con):
    # The single-entry engine evaluates a slice of the table's compilation (Compiled.restrict: the same rows,
    # renumbered) instead of the full index: on any cells the slice must give exactly the full result.
    import datetime as dt

    import numpy as np

    from tariffscope.tariffs import engine, hts
    from tariffscope.tariffs.measures import load
    from tariffscope.tariffs.rules import resolve_options

    day = dt.date(2025, 8, 10)
    table = hts.mfn_table(con, hts.revision_in_force(con, day).revision)
    comp, o_pos = engine.compiled_for_table(load(), table)
    rng = np.random.default_rng(3)
    hs = np.unique(np.r_[rng.integers(0, comp.n_h, 200), [table.position("8703230140"), table.position("8802400060") or 0]])
    sub = comp.restrict(hs)
    h = np.repeat(np.arange(len(hs)), 4)
    o = np.array([o_pos[c] for c in ("JPN", "CHN", "CAN", "BRA")] * len(hs))
    opts = resolve_options(None)
    for d in (dt.date(2025, 4, 10), day, dt.date(2026, 3, 1)):
        want = comp.evaluate(d, hs[h], o, table.ave[hs[h]], opts)
        got = sub.evaluate(d, h, o, table.ave[hs[h]], opts)
        assert want.keys() == got.keys()
        for k in want:
            np.testing.assert_array_equal(got[k], want[k], err_msg=k)
        for cm, cs in zip(comp.measures, sub.measures, strict=False):
            np.testing.assert_array_equal(cs.product_rates(d.toordinal(), len(hs)), cm.product_rates(d.toordinal(), comp.n_h)[hs])
    assert comp.cell(int(hs[0])) is comp.cell(int(hs[0]))  # cached per product
