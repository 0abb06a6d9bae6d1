"""The brief: built once from the embedded data, then checked section by section against the API.

Each check recomputes a figure through ``tariffscope.api`` (or reads the API result the section kept)
and looks for it, formatted as the page formats it, in the HTML: numbers from the run, not placeholders.
"""
from __future__ import annotations

import re

import pytest

from tariffscope import api
from tariffscope.report import brief as B, fmt, sections as S

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("brief")]

DRAWS = 10  # the CLI default is 50; bands are not what these tests check


@pytest.fixture(scope="module")
def built(warehouse, tmp_path_factory):
    model = B.collect(partner="Japan", draws=DRAWS, progress=False)
    html = B.render(model, "html")
    out = tmp_path_factory.mktemp("brief") / "brief.html"
    out.write_text(html, encoding="utf-8")
    return model, html


def section(model, key):
    sec = next(s for s in model["sections"] if s.key == key)
    assert sec.status == "ok", f"{key}: {sec.message}"
    return sec


def test_every_section_was_computed(built):
    model, html = built
    assert [s.key for s in model["sections"]] == ["balance", "monitor", "timeline", "duty", "scenarios", "backtest", "ge",
                                                  "methods"]
    for s in model["sections"]:
        assert s.status == "ok", f"{s.key}: {s.message}"
        assert f'data-section="{s.key}" data-status="ok"' in html
    assert "not available in this build" not in html
    assert len(model["headline"]) >= 3


def test_no_external_urls(built):
    _, html = built
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html), "external resource in the brief"
    assert "<script" not in html  # nothing to run, nothing to fetch
    assert "<svg" in html


def test_balance_numbers_are_the_apis(built):
    model, html = built
    sec = section(model, "balance")
    ref = api.balance(reporter="USA", partner="JPN", period="2024", by="sector").to_dict()
    for key in ("exports", "imports"):
        assert fmt.money(ref[key]) in html, key
    assert fmt.money(abs(ref["balance"])) in html
    assert sec.data["balance"] == pytest.approx(ref["exports"] - ref["imports"])
    # every sector row of the API is a row of the table
    table = sec.tables[0]
    assert len(table.rows) == len(ref["sectors"]) + 1
    for r in ref["sectors"]:
        assert fmt.money(r["balance"]) in html


def test_monitor_numbers_are_the_apis(built):
    model, html = built
    sec = section(model, "monitor")
    month = sec.data["month"]
    ref = api.monitor(reporter="USA", partner="JPN", month=month, by="sector").to_dict()
    latest = next(r for r in ref["series"] if r["month"] == month)
    assert fmt.money(latest["imports"]) in html
    assert fmt.money(latest["imports_year_ago"]) in html
    assert fmt.pct(latest["imports_yoy"], signed=True) in html
    # the sector table: the largest import sector with its value a year earlier and the change
    top = max((r for r in ref["detail"] if r["flow"] == "imports"), key=lambda r: r["value"])
    table = next(t for t in sec.tables if t.caption.startswith("US imports from Japan by sector"))
    assert table.columns[2:] == ["A year earlier", "Change %"]
    assert table.rows[0][1:] == [fmt.money(top["value"]), fmt.money(top["year_ago"]), fmt.pct(top["pct_change"], signed=True)]


def test_timeline_realized_rates_are_the_apis(built):
    model, html = built
    sec = section(model, "timeline")
    ref = [r for r in api.statutory_vs_realized("JPN", start="2024-01", end="2025-12") if r["realized"] is not None]
    assert len(ref) >= 12
    for r in ref:
        assert fmt.pct(r["realized"], 2) in html, r["month"]
    # the weighted statutory series on a date, recomputed
    series = {r["date"]: r["etr"] for r in sec.data["etr_series"]["series"]}
    assert series["2025-06-15"] == pytest.approx(api.etr("JPN", date="2025-06-15").etr, rel=1e-9)
    assert fmt.pct(series["2025-06-15"], 1) in html


def test_duty_examples_are_the_apis(built):
    model, html = built
    sec = section(model, "duty")
    assert len(sec.data["top_imports"]) == 5
    top = sec.data["top_imports"][0]["sector"]
    # the largest HS10 import from Japan in 2024 is a passenger car line (8703...)
    assert top.startswith("8703")
    d = api.duty(top, "JPN", model["as_of"], customs_value=B.S.EXAMPLE_VALUE).to_dict()
    assert fmt.usd_exact(d["total_duty"]) in html
    for layer in d["layers"]:
        assert fmt.usd_exact(layer["amount"]) in html


def test_scenario_comparison_is_the_apis(built):
    model, html = built
    sec = section(model, "scenarios")
    names = [p["name"] for p in sec.data["scenarios"]]
    assert names == ["june-2025", "july-9-hike", "auto-relief", "japan-deal", "japan-deal-2025"]
    assert f"{DRAWS} Monte Carlo draws" in html
    # point estimates do not depend on the draws: recompute two packages without any
    ref = api.compare(["june-2025", "japan-deal"], draws=0, progress=False).to_dict()
    for pkg in ref["scenarios"]:
        m = next(m for m in pkg["headline"] if m["name"] == "imports_from_partner")
        assert fmt.money(m["value"]) in html, pkg["name"]
    for pkg in sec.data["scenarios"]:  # bands were computed in the run
        m = next(m for m in pkg["headline"] if m["name"] == "imports_from_partner")
        assert m["p05"] is not None and m["p95"] is not None
        assert f"[{fmt.money(m['p05'])}, {fmt.money(m['p95'])}]" in html


def test_scenarios_and_backtest_name_their_basis(built):
    """Every PE output names horizon, reference regime, base year and data; the backtest also its held-out months."""
    model, html = built
    sc = section(model, "scenarios")
    assert sc.data["basis"]["horizon"] == "short" and sc.data["basis"]["reference"] == "2025-01-01"
    assert sc.data["basis"]["text"] in html
    bt = section(model, "backtest")
    d = bt.data
    assert d["horizon"] == "short" and d["reference"] == "2025-01-01" and d["base_year"] == 2024
    assert d["score_months"][0] == "2025-04" and "held-out months 2025-04..2025-12 (9)" in html
    total = next(r for r in d["annual"] if r["partner"] == "JPN" and r["product"] == "TOTAL")
    # the sentence shows the run's own figures, recomputed from its totals
    realized = sum(t["realized"] for t in d["totals"] if t["partner"] == "JPN")
    before = sum(t["realized_year_before"] for t in d["totals"] if t["partner"] == "JPN")
    assert total["realized_yy"] == pytest.approx(realized / before - 1, rel=1e-12)
    assert f"changed by {fmt.pct(total['realized_yy'], 1, signed=True)}" in html
    assert f"predicted {fmt.pct(total['predicted_yy'], 1, signed=True)}" in html
    assert "MAE pp (value-weighted)" in html


def test_ge_results_are_in_the_page(built):
    model, html = built
    sec = section(model, "ge")
    rates = sec.data["rates"]
    assert rates["rate"] == pytest.approx(api.etr("JPN", date=rates["date"]).etr, rel=1e-9)
    jpn = next(c for c in sec.data["countries"] if c["country"] == "JPN")
    assert jpn["real_gdp_change_pct"] < 0  # a higher tariff on Japan's goods lowers Japan's real GDP
    assert fmt.num(jpn["real_gdp_change_pct"], 3) in html
    # the solver line names its diagnostics but not its wall time, which differs run to run (same data, same bytes)
    solver = [n for n in sec.notes if n.startswith("Solver: ")]
    assert len(solver) == 1 and "iterations" in solver[0] and "seconds" not in solver[0]


def test_methods_lists_every_source(built):
    model, html = built
    sec = section(model, "methods")
    used = {str(src["source"]) for s in model["sections"] for src in s.sources}
    assert used and used <= set(sec.data["sources"])
    methods_html = html[html.index('id="methods"'):]
    for src in used:
        assert src in methods_html, src
    assert "Partial equilibrium per product" in methods_html  # the scenario model's assumptions


def test_markdown_has_the_same_numbers(built):
    model, html = built
    md = B.render(model, "md")
    assert "<svg" not in md and "<table" not in md
    for s in model["sections"]:
        assert f"## {s.title}" in md
    bal = section(model, "balance").data
    assert fmt.money(bal["exports"]) in md and fmt.money(bal["imports"]) in md


def test_failing_api_says_what_went_wrong(monkeypatch):
    import datetime as dt

    from tariffscope.errors import ModelError

    def no_solution(*args, **kwargs):
        raise ModelError("the GE solver did not converge in 500 iterations")

    monkeypatch.setattr(api, "ge_simulate", no_solution)
    ctx = S.Context(partner="JPN", partner_name="Japan", as_of=dt.date(2025, 12, 31))
    sec = S.run_builder("ge", "General equilibrium", S.ge_section, ctx)
    assert sec.status == "error"
    assert sec.message == "Could not be computed in this run: the GE solver did not converge in 500 iterations"
    assert not sec.tables and not sec.charts and not sec.sentences
    page = B.render({"partner": "JPN", "partner_name": "Japan", "as_of": "2025-12-31", "draws": 1, "built_at": "now", "version": "x",
                     "sections": [sec], "headline": [], "timings": {}}, "html")
    assert 'data-section="ge" data-status="error"' in page
    assert "did not converge in 500 iterations" in page


def test_renamed_api_function_is_an_error_not_a_skip(monkeypatch):
    # the sections call the API by name: a function that is gone is a defect the page names (and that
    # test_every_section_was_computed catches), never a quietly skipped section
    import datetime as dt

    monkeypatch.delattr(api, "ge_simulate")
    ctx = S.Context(partner="JPN", partner_name="Japan", as_of=dt.date(2025, 12, 31))
    sec = S.run_builder("ge", "General equilibrium", S.ge_section, ctx)
    assert sec.status == "error"
    assert "AttributeError" in sec.message and "ge_simulate" in sec.message


def test_cli_rejects_bad_options(capsys):
    from tariffscope.cli import main

    assert main(["brief", "--format", "pdf"]) == 1
    assert "Error: --format must be html or md, got 'pdf'" in capsys.readouterr().err
    assert main(["brief", "--as-of", "yesterday", "--quiet"]) == 1
    assert "--as-of must be a date like 2025-12-31" in capsys.readouterr().err


def test_a_broken_table_preload_loses_no_section(monkeypatch, warehouse):
    """The second thread's MFN build is a head start, not a section: a defect in it (here a RuntimeError, not a
    TariffscopeError) leaves every section to run and report for itself, as ``run_builder`` does for a defect in one
    section, instead of ending the whole brief."""
    import datetime as dt

    real = api.preload

    def broken(con=None, start=None, end=None):
        if con is None:
            return real()
        raise RuntimeError("table build broke")

    def ok(ctx):
        return S.Section(ctx.partner, "a section")

    monkeypatch.setattr(api, "preload", broken)
    monkeypatch.setattr(S, "BUILDERS", [(k, t, ok) for k, t, _ in S.BUILDERS])
    monkeypatch.setattr(S, "methods_section", lambda ctx, done: S.Section("methods", "Methods and sources"))
    model = B._collect("JPN", "Japan", dt.date(2025, 12, 31), 0, False, warehouse)
    assert len(model["sections"]) == len(S.BUILDERS) + 1
    assert all(s.status == "ok" for s in model["sections"])
