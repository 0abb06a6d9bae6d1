"""simulate/compare end to end: expected signs, reproducible Monte Carlo, the CLI, exposure facts.

Small runs use the hand-made duty panel and lines of test_scenarios_schema (no engine needed); the
built-in scenarios on the embedded data run when the engine's duty_panel and the warehouse exist.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tariffscope.errors import InputError
from tariffscope.scenarios import outcomes as so, resolve as rs, run as sr
from test_scenarios_schema import LINES, fake_panel

NAMES = ["june-2025", "july-9-hike", "auto-relief", "japan-deal"]


def _h(pkg):
    return {m["name"]: m for m in pkg["headline"]}


def test_compare_signs_against_june():
    c = sr.compare(NAMES[1:], against="june-2025", draws=0, duty_panel=fake_panel, lines=LINES).to_dict()
    hike, relief, deal = (_h(p) for p in c["scenarios"])
    # July 9 hike: Japan's furniture line goes 10% -> 24%: imports from Japan fall, revenue and DWL rise,
    # other origins gain (diversion), the balance with Japan "improves" (less negative).
    assert hike["imports_from_partner"]["value"] < 0 < hike["balance_with_partner"]["value"]
    assert hike["tariff_revenue"]["value"] > 0 and hike["deadweight_loss"]["value"] > 0
    assert hike["trade_diversion"]["value"] > 0
    assert hike["partner_sector_exports"]["value"] == 0  # autos are under 232, not the reciprocal
    # Auto relief: cars and parts from Japan 27.5% -> 15%: auto exports and jobs up, revenue down.
    assert relief["partner_sector_exports"]["value"] > 0 and relief["exporter_sector_jobs"]["value"] > 0
    assert relief["tariff_revenue"]["value"] < 0 and relief["importer_price_index"]["value"] < 0
    assert deal["imports_from_partner"]["value"] > 0
    for pkg in (hike, relief, deal):
        assert all(m["value"] is None or math.isfinite(m["value"]) for m in pkg.values())


@pytest.mark.parametrize("horizon", ["short", "long"])
def test_simulate_matches_hand_computation_on_one_product(horizon):
    """The 9403600000 market (JPN 10 at 10%, VNM 30 at 10%) under july-9-hike, from the reference (the toy
    regime of 2025-01-01 is MFN only): JPN's tariff-inclusive price rises 24% and VNM's 10% (full pass-through
    outside Japanese cars); with sigma/eta of the horizon (short: the one-year literature values, the default;
    long: the package table) the analytic Armington solution gives the line values."""
    from tariffscope.models.elasticities import assign

    r = sr.simulate("july-9-hike", duty_panel=fake_panel, lines=LINES, horizon=None if horizon == "short" else horizon)
    assert r.to_dict()["basis"]["horizon"] == horizon
    e = assign(["9403600000"], horizon=horizon)
    sig, eta = e.sigma[0], e.eta[0]
    s = np.array([10.0, 30.0]) / 40.0
    tau = np.array([1.24, 1.10])
    P = (s @ tau ** (1 - sig)) ** (1 / (1 - sig))
    x = tau ** (-sig) * P ** (sig - eta)
    by_origin = {row["origin"]: row for row in r.to_dict()["by_origin"]}
    # VNM has only this line: its value change is 30 * (x_VNM - 1).
    assert by_origin["VNM"]["value_change"] == pytest.approx(30 * (x[1] - 1), rel=1e-9)


@pytest.mark.slow
def test_monte_carlo_reproducible_across_backends():
    a = sr.compare(NAMES[:2], draws=6, seed=11, backend="serial", progress=False, duty_panel=fake_panel, lines=LINES)
    b = sr.compare(NAMES[:2], draws=6, seed=11, backend="process", workers=2, progress=False, duty_panel=fake_panel,
                   lines=LINES)
    c = sr.compare(NAMES[:2], draws=6, seed=12, backend="serial", progress=False, duty_panel=fake_panel, lines=LINES)
    assert a.to_dict()["scenarios"] == b.to_dict()["scenarios"]
    assert a.to_dict()["scenarios"] != c.to_dict()["scenarios"]
    m = _h(a.to_dict()["scenarios"][1])["imports_from_partner"]
    assert m["p05"] <= m["p50"] <= m["p95"] and m["p05"] < m["p95"]


def test_exporter_facts_for_japan():
    from tariffscope.models.exposure import exporter_exposure, exporter_facts

    f = exporter_facts("JPN", 2024)
    # 62,794.2 bn yen of shipments at the 2024 average of 151.46 yen per dollar; 40.77 bn USD / 1,388,330 cars.
    assert f.output_usd == pytest.approx(62794.2e9 / 151.458425, rel=1e-6)
    assert f.usd_per_unit == pytest.approx(40.77e9 / 1388330, rel=2e-3)
    e = exporter_exposure(-f.output_usd * 0.01, 0.0, f)
    assert e["jobs"] == pytest.approx(-8830.0) and e["output_share"] == pytest.approx(-0.01)
    # supplier-linked jobs: BEA total requirements, column 3361MV: (2.7737176 - 1.4108194) / 1.4108194 per direct job
    assert e["jobs_supplier"] == pytest.approx(-8830.0 * (2.7737176 - 1.4108194) / 1.4108194, rel=1e-6)
    # a price cut with volume unchanged: no direct jobs lost, the absorbed duty is margin
    m = exporter_exposure(-f.output_usd * 0.01, 0.0, f, delta_volume_usd=0.0, absorbed_usd=f.output_usd * 0.01)
    assert m["jobs"] == 0.0 and m["margin_usd"] == pytest.approx(-f.output_usd * 0.01)
    assert m["margin_share_of_output"] == pytest.approx(-0.01) and "jobs_related" not in m
    assert exporter_facts("KOR") is None


@pytest.fixture()
def _toy_backend(monkeypatch):
    monkeypatch.setattr(rs, "_default_panel", lambda: fake_panel)
    monkeypatch.setattr(rs, "_lines_cached", lambda year: LINES)


def test_cli_compare_and_simulate(_toy_backend, capsys, tmp_path):
    from tariffscope.cli import main

    chart = tmp_path / "c.png"
    assert main(["compare", "june-2025", "july-9-hike", "--draws", "0", "--format", "json", "--chart", str(chart)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in d["scenarios"]] == ["june-2025", "july-9-hike"]
    assert {m["name"] for m in d["metrics"]} == set(sr.HEADLINE_KEYS)
    assert chart.stat().st_size > 1000
    assert main(["simulate", "auto-relief", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("scenario,name,label,unit,value") and len(out) == 1 + len(sr.HEADLINE)
    assert main(["simulate", "nope-2025"]) == 1
    assert "unknown scenario 'nope-2025'" in capsys.readouterr().err


@pytest.mark.slow
def test_builtins_on_embedded_data():
    """Headline numbers of the built-ins on the real 2024 flows and the engine's regimes."""
    from tariffscope import api

    assert hasattr(api, "duty_panel")
    c = sr.compare(NAMES, draws=0).to_dict()
    june, hike, relief, deal = (_h(p) for p in c["scenarios"])
    for pkg in (june, hike, relief, deal):
        for m in pkg.values():
            assert m["value"] is None or math.isfinite(m["value"])
        assert pkg["tariff_revenue"]["value"] > 0             # every 2025 regime is above MFN
        assert pkg["importer_price_index"]["value"] > 0
    # June 2025 and the hike tax Japan's goods more than MFN: imports from Japan fall, the hike more so.
    assert hike["imports_from_partner"]["value"] < june["imports_from_partner"]["value"] < 0
    # Relief on autos (27.5% -> 15% all-in) and the deal raise Japan's auto exports and jobs against June.
    for pkg in (relief, deal):
        assert pkg["partner_sector_exports"]["value"] > june["partner_sector_exports"]["value"]
        assert pkg["exporter_sector_jobs"]["value"] > june["exporter_sector_jobs"]["value"]


def test_fast_monte_carlo_kernel_equals_full_solve():
    """The closed-form kernel used by the Monte Carlo (omega = inf, exporter absorption per line) gives the
    full solver's headline, outcome by outcome (both are ``Headline``s built by field name), for the cited
    absorption and for a drawn one (Japanese cars absorb part of the duty: the exporter price moves)."""
    problem = sr.prepare([sr.get_scenario(n) for n in NAMES], duty_panel=fake_panel, lines=LINES)
    arr = problem.arrays()
    pre = so.precompute(arr)
    rng = np.random.default_rng(5)
    s = problem.sigma * np.exp(0.3 * rng.standard_normal(problem.sigma.shape))
    e = problem.eta * np.exp(0.3 * rng.standard_normal(problem.eta.shape))
    drawn = sr.draw_parameters(arr, rng)[2]
    assert drawn[(problem.origin == "JPN") & np.char.startswith(problem.hts10.astype(str), "8703")].min() >= 0.4
    for k, ab in [(k, ab) for k in range(len(NAMES)) for ab in (arr["absorption"], drawn)]:
        full = so.headline(sr._solve(arr, k, s, e, absorption=ab), arr, k)
        fast = so.fast_headline(arr, pre, k, s, e, ab)
        assert isinstance(full, so.Headline) and isinstance(fast, so.Headline)
        for name in so.Headline._fields:
            assert getattr(fast, name) == pytest.approx(getattr(full, name), rel=1e-9, abs=1e-9), (NAMES[k], name)
        np.testing.assert_allclose(fast, full, rtol=1e-9, atol=1e-9)



def test_a_package_with_the_same_inputs_reuses_the_earlier_draws(tmp_path):
    """Two packages whose per-scenario inputs are equal (the same rates, masks, facts and years) give the same
    headline in every draw, so the Monte Carlo computes it once; a package that differs in anything is solved."""
    problem = sr.prepare([sr.get_scenario(n) for n in [NAMES[0], NAMES[1], NAMES[0]]], duty_panel=fake_panel, lines=LINES)
    arr = problem.arrays()
    assert so.precompute(arr)["same_as"] == [None, None, 0]
    path = tmp_path / "p.npz"
    np.savez(path, **arr)
    draws = sr._mc_task(str(path), (0, np.random.SeedSequence(3)))
    assert np.array_equal(draws[2], draws[0]) and not np.array_equal(draws[1], draws[0])
    arr["years"] = arr["years"] * np.array([1.0, 1.0, 2.0])  # the third now runs over two years: its own solve
    assert so.precompute(arr)["same_as"] == [None, None, None]
    np.savez(path, **arr)
    sr._CACHE.clear()
    again = sr._mc_task(str(path), (0, np.random.SeedSequence(3)))
    assert np.array_equal(again[0], draws[0]) and not np.array_equal(again[2], again[0])


def test_headline_labels_follow_the_named_outcomes():
    """Labels, units and array columns come from ``Headline``'s fields, in its order; against-differences
    subtract flows and take ratios of the price indices, by name."""
    assert so.Headline._fields == so.HEADLINE_KEYS
    assert [k for k, _, _ in so.HEADLINE] == list(so.Headline._fields)
    assert all(label and unit for _, label, unit in so.HEADLINE)
    n = len(so.Headline._fields)
    h = np.arange(1.0, n + 1) / 10
    ref = np.full(n, 0.05)
    d = so.Headline(*so.difference(h, ref))
    assert d.imports_from_partner == pytest.approx(h[0] - 0.05)
    j = so.HEADLINE_KEYS.index("importer_price_index")
    assert d.importer_price_index == pytest.approx((1 + h[j]) / 1.05 - 1)
    assert d.importer_price_index != pytest.approx(h[j] - 0.05)


def test_simulate_against_breakdowns_are_differences():
    """With --against, by_origin changes equal the difference of the two runs from the reference."""
    a = sr.simulate("july-9-hike", duty_panel=fake_panel, lines=LINES).to_dict()
    b = sr.simulate("june-2025", duty_panel=fake_panel, lines=LINES).to_dict()
    d = sr.simulate("july-9-hike", against="june-2025", duty_panel=fake_panel, lines=LINES).to_dict()
    va = {r["origin"]: r["value_change"] for r in a["by_origin"]}
    vb = {r["origin"]: r["value_change"] for r in b["by_origin"]}
    for r in d["by_origin"]:
        assert r["value_change"] == pytest.approx(va[r["origin"]] - vb[r["origin"]], abs=1e-9)
    imp = {m["name"]: m["value"] for m in d["headline"]}["imports_from_partner"]
    assert sum(x["imports_change"] for x in d["exposure"]["balance_by_sector"]) == pytest.approx(imp, abs=1e-9)


def test_hs6_level_runs_and_differs_from_hs10():
    text = sr.builtin_path("july-9-hike").read_text().replace("name: july-9-hike", "name: hike-hs6")
    text += "model: {level: hs6}\n"
    from tariffscope.scenarios.schema import parse_scenario

    sc = parse_scenario(text)
    h6 = {m["name"]: m["value"] for m in sr.simulate(sc, duty_panel=fake_panel, lines=LINES).to_dict()["headline"]}
    assert h6["imports_from_partner"] < 0 and math.isfinite(h6["tariff_revenue"])


def test_outputs_hs2_and_lines():
    from tariffscope.scenarios.schema import parse_scenario

    text = sr.builtin_path("july-9-hike").read_text() + "outputs: {by: [sector, origin, hs2], lines: true}\n"
    d = sr.simulate(parse_scenario(text), duty_panel=fake_panel, lines=LINES).to_dict()
    assert {r["hs2"] for r in d["by_hs2"]} == {"87", "94", "30"}
    assert len(d["lines"]) == LINES.num_rows
    assert sum(r["value_change"] for r in d["by_hs2"]) == pytest.approx(sum(r["value_change"] for r in d["lines"]))


def test_reference_regime_is_what_changes_are_measured_from():
    """Default reference: the regime in force on 2025-01-01 (the toy panel's is MFN only); a later reference
    date that already has the 232 duty on cars makes june-2025's car duty no change at all."""
    from tariffscope.scenarios.schema import parse_scenario

    d = sr.simulate("june-2025", duty_panel=fake_panel, lines=LINES).to_dict()
    assert d["basis"]["reference"] == "2025-01-01" and "2025-01-01" in d["against"]
    assert _h(d)["partner_sector_exports"]["value"] < 0  # 2.5% -> 27.5% on Japan's cars and parts
    text = sr.builtin_path("june-2025").read_text() + "reference: 2025-05-01\n"
    late = sr.simulate(parse_scenario(text), duty_panel=fake_panel, lines=LINES).to_dict()
    assert late["basis"]["reference_label"] == "the regime in force on 2025-05-01"
    assert _h(late)["partner_sector_exports"]["value"] == pytest.approx(0.0, abs=1e-9)
    mfn = sr.simulate("june-2025", duty_panel=fake_panel, lines=LINES, reference="mfn").to_dict()
    assert mfn["basis"]["reference"] == "mfn" and "MFN only" in mfn["against"]


def test_bad_reference_and_horizon_are_one_line(_toy_backend, capsys):
    from tariffscope.cli import main
    from tariffscope.errors import InputError, RuleError
    from tariffscope.scenarios.schema import parse_scenario

    with pytest.raises(InputError, match=r"reference date 2019-01-01 is outside the data: the measure catalogue covers"):
        sr.simulate("june-2025", duty_panel=fake_panel, lines=LINES, reference="2019-01-01")
    with pytest.raises(RuleError, match=r"reference: bad reference 'last year'"):
        parse_scenario(sr.builtin_path("june-2025").read_text() + "reference: last year\n")
    with pytest.raises(RuleError, match=r"model.horizon"):
        parse_scenario(sr.builtin_path("june-2025").read_text() + "model: {horizon: medium}\n")
    assert main(["simulate", "june-2025", "--horizon", "medium"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Error: unknown horizon 'medium': choose short or long"]
    assert main(["compare", "june-2025", "--draws", "0", "--reference", "2030-01-01"]) == 1
    assert "reference date 2030-01-01 is outside the data" in capsys.readouterr().err


def test_japan_deal_autos_below_the_pre_tariff_world():
    """Issue 11: with the defaults (short horizon, cited absorption, reference 2025-01-01) the deal no longer
    shows Japan's auto exports above the pre-tariff world; Japanese cars keep volume while their dollar export
    price falls (the 2025 evidence); the long horizon, named, still shows the substitution gain."""
    short = sr.simulate("japan-deal").to_dict()
    h = _h(short)
    assert short["basis"]["horizon"] == "short" and short["basis"]["base_year"] == 2024
    assert h["partner_sector_exports"]["value"] < 0
    # jobs follow volume, which Japanese cars keep; the price cut is a loss of margin, reported apart
    e = short["exposure"]
    assert h["partner_auto_margin"]["value"] < 0 and e["margin_usd"] == pytest.approx(h["partner_auto_margin"]["value"])
    assert np.sign(h["exporter_sector_jobs"]["value"]) == np.sign(e["volume_share"]) and "jobs_related" not in e
    assert h["exporter_supplier_jobs"]["value"] == pytest.approx(h["exporter_sector_jobs"]["value"] * 0.966033, rel=1e-5)
    car = short["exposure"]["cars_hs8703"]
    assert car["exporter_price"] < -0.03 and car["volume_change_pct"] > car["value_change_pct"]
    assert h["partner_export_price"]["value"] < 0 < h["partner_importer_price"]["value"]
    long = _h(sr.simulate("japan-deal", horizon="long").to_dict())
    assert long["partner_sector_exports"]["value"] > 0


def test_cited_absorption_on_us_lines_full_pass_through_on_world_panels():
    us = sr.prepare([sr.get_scenario("june-2025")], duty_panel=fake_panel, lines=LINES)
    jp_cars = (us.origin == "JPN") & np.char.startswith(us.hts10.astype(str), "8703")
    assert (us.absorption[jp_cars] == 0.6).all() and (us.absorption[~jp_cars] == 0.0).all()
    panel = sr.prepare([sr.get_scenario("june-2025")], duty_panel=fake_panel, lines=LINES, us_pass_through=False)
    assert (panel.absorption == 0.0).all() and (panel.ab_high == 0.0).all()


def test_csv_rows_name_the_basis(_toy_backend, capsys):
    from tariffscope.cli import main

    assert main(["simulate", "auto-relief", "--format", "csv", "--horizon", "long"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(",horizon,reference,base_year")
    assert lines[1].endswith(",long,2025-01-01,2024")


def _with_absorption(name, absorption):
    d = sr.get_scenario(name).model_dump(by_alias=True)
    d["model"]["absorption"] = absorption
    from tariffscope.scenarios.schema import scenario_from_dict

    return scenario_from_dict(d)


def test_model_absorption_overrides_the_cited_values():
    sc = _with_absorption("june-2025", {"JPN:8703": 0.95, "DEU": 0.3})
    us = sr.prepare([sc], duty_panel=fake_panel, lines=LINES)
    o, jp_cars = us.origin, (us.origin == "JPN") & np.char.startswith(us.hts10.astype(str), "8703")
    assert jp_cars.any() and (o == "DEU").any()
    assert (us.absorption[jp_cars] == 0.95).all() and (us.ab_low[jp_cars] == 0.95).all() and (us.ab_high[jp_cars] == 0.95).all()
    assert (us.absorption[o == "KOR"] == 0.3).all()
    assert (us.absorption[(o == "JPN") & ~jp_cars] == 0.0).all()  # the rest keeps the cited values (full pass-through)
    # on a world panel the override applies over full pass-through, not over the US evidence
    panel = sr.prepare([sc], duty_panel=fake_panel, lines=LINES, us_pass_through=False)
    assert (panel.absorption[jp_cars] == 0.95).all() and (panel.absorption[o == "KOR"] == 0.3).all()
    assert (panel.absorption[~jp_cars & (o != "DEU")] == 0.0).all()
    # exporters bearing the whole duty: Japan's importer prices do not move, its export prices fall
    full = _h(sr.simulate(_with_absorption("june-2025", {"JPN": 1.0}), duty_panel=fake_panel, lines=LINES).to_dict())
    cited = _h(sr.simulate("june-2025", duty_panel=fake_panel, lines=LINES).to_dict())
    assert full["partner_importer_price"]["value"] == pytest.approx(0.0, abs=1e-12)
    assert full["partner_export_price"]["value"] < cited["partner_export_price"]["value"] <= 0
    assert cited["partner_importer_price"]["value"] > 0


def test_compare_needs_one_absorption():
    with pytest.raises(InputError, match="different model.absorption"):
        sr.compare([_with_absorption("june-2025", {"JPN": 0.5}), "july-9-hike"], draws=0,
                   duty_panel=fake_panel, lines=LINES)


def test_cli_absorption_option(_toy_backend, capsys):
    from tariffscope.cli import main

    assert main(["simulate", "june-2025", "--format", "json", "--absorption", "JPN:8703=0.95"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["basis"]["pass_through"].endswith("overridden by model.absorption: JPN:8703=0.95")
    assert main(["simulate", "june-2025", "--format", "json", "--absorption", "JPN=1"]) == 0
    assert _h(json.loads(capsys.readouterr().out))["partner_importer_price"]["value"] == pytest.approx(0.0, abs=1e-12)
    # compare sets it on every package and on --against, so they can run together
    assert main(["compare", "june-2025", "july-9-hike", "--against", "baseline-2024", "--draws", "0",
                 "--format", "json", "--absorption", "0.5"]) == 0
    assert "overridden by model.absorption: *=0.5" in json.loads(capsys.readouterr().out)["basis"]["pass_through"]
    for bad, msg in (("JPN:8703=1.5", "Error: --absorption: model.absorption: absorption for JPN:8703 must be a share in [0, 1], got 1.5"),
                     ("JPN:8703=high", "Error: bad --absorption 'JPN:8703=high': a share (0.5) or ORIGIN[:HS]=share pairs (JPN:8703=0.8)")):
        assert main(["simulate", "june-2025", "--absorption", bad]) == 1
        assert capsys.readouterr().err.strip().splitlines() == [msg]
