"""The web app's JSON API and pages through FastAPI's TestClient: good answers equal the Python API's,
bad input gets the right 4xx status and a one-line JSON message, never a stack trace.

The app gets its own warehouse file (created from the embedded data, then opened read-only), so it
never shares a DuckDB file with the session ``warehouse`` fixture.
"""
from __future__ import annotations

import re

import pytest

from _webclient import web_client
from tariffscope import api
from tariffscope.web import schemas as W

pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webapi")) as c:
        yield c


def error_of(r) -> str:
    body = r.json()
    assert set(body) == {"error"}, body
    assert "Traceback" not in body["error"] and 'File "' not in body["error"]
    return body["error"]


# ---------------------------------------------------------------- meta, docs, safety


def test_health_reports_read_only_warehouse(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    # read from DuckDB's own catalogue (duckdb_databases().readonly) of the server's connection
    assert body["read_only"] is True
    # the file the app was created with, by name only (no directory of the server's machine)
    assert body == {"status": "ok", "read_only": True, "warehouse": "warehouse.duckdb"}


def test_server_connection_refuses_writes(client):
    # The server's connection is attached read-only: DuckDB raises on any write, so no request can change the
    # warehouse. Reads on the same cursor still work (the embedded sources are there).
    cur = client.app.state.con.cursor()
    try:
        n = cur.sql("SELECT count(*) FROM sources").fetchall()[0][0]
        assert n > 0
        with pytest.raises(Exception, match="read-only"):
            cur.execute("INSERT INTO sources (source, title) VALUES ('x_test', 'must not land')")
        with pytest.raises(Exception, match="read-only"):
            cur.execute("DELETE FROM trade_flows")
        assert cur.sql("SELECT count(*) FROM sources").fetchall()[0][0] == n
    finally:
        cur.close()


def test_openapi_and_offline_docs(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/balance", "/api/monitor", "/api/duty", "/api/etr", "/api/etr/series", "/api/scenarios", "/api/compare", "/api/simulate"):
        assert path in spec["paths"], path
    page = client.get("/docs")
    assert page.status_code == 200 and "/api/duty" in page.text
    # nothing loaded from the network: no external src/href anywhere on the page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", page.text)


def test_unknown_api_path_is_json_404(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404
    assert "nothing-here" in error_of(r)


def test_unknown_query_parameter_is_rejected(client):
    r = client.get("/api/balance", params={"partner": "JPN", "file": "/etc/passwd"})
    assert r.status_code == 422
    assert error_of(r) == "file: Extra inputs are not permitted"


def test_internal_errors_do_not_leak(client, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret detail in /home/user/.tariffscope")

    monkeypatch.setattr(api, "balance", boom)
    r = client.get("/api/balance", params={"partner": "JPN", "period": "2024"})
    assert r.status_code == 500
    assert error_of(r) == "internal error"


def test_oversized_body_is_refused_before_parsing(client):
    r = client.post("/api/scenarios/validate", content=b"name: x\n" + b"#" * (W.MAX_BODY_BYTES + 10))
    assert r.status_code == 413
    assert "too large" in error_of(r)


def test_oversized_scenario_text_is_refused(client):
    # 70 KB: under the body cap (96 KB), over the scenario cap (64 KB)
    r = client.post("/api/scenarios/validate", content=b"name: big\n" + b"#" * (70 * 1024))
    assert r.status_code == 413
    assert error_of(r).startswith("scenario file too large")


def test_scenario_yaml_is_parsed_safely(client):
    # a python-object tag would run code under yaml.load; safe_load refuses it
    r = client.post("/api/scenarios/validate", content=b"name: !!python/object/apply:os.system ['true']\n")
    assert r.status_code == 400
    assert "not valid YAML" in error_of(r)
    r = client.post("/api/scenarios/validate", content=b"- just\n- a list\n")
    assert r.status_code == 400
    assert "mapping" in error_of(r)


def test_draws_over_the_limit(client):
    r = client.post("/api/compare", json={"scenarios": ["june-2025", "japan-deal"], "draws": 500})
    assert r.status_code == 422
    assert error_of(r) == "draws: Input should be less than or equal to 200"
    r = client.post("/api/simulate", json={"scenario": "june-2025", "draws": 201})
    assert r.status_code == 422


def test_compare_needs_two_packages(client):
    r = client.post("/api/compare", json={"scenarios": ["june-2025"]})
    assert r.status_code == 400
    assert error_of(r) == "compare takes 2 to 6 packages, got 1"


def test_scenario_names_cannot_be_paths(client):
    r = client.post("/api/simulate", json={"scenario": "../../etc/passwd"})
    assert r.status_code == 422
    assert "scenario" in error_of(r)


# ---------------------------------------------------------------- trade


def test_balance_matches_the_python_api(client):
    r = client.get("/api/balance", params={"partner": "Japan", "period": "2024"})
    assert r.status_code == 200, r.text
    body = r.json()
    ref = api.balance(reporter="USA", partner="JPN", period="2024", by="sector").to_dict()
    for key in ("exports", "imports", "balance"):
        assert body[key] == pytest.approx(ref[key], rel=1e-12), key
    assert body["balance"] == pytest.approx(body["exports"] - body["imports"])
    assert sum(s["share_of_balance"] or 0 for s in body["sectors"]) == pytest.approx(1.0, abs=1e-9)


def test_balance_bad_input(client):
    r = client.get("/api/balance", params={"partner": "Narnia"})
    assert r.status_code == 400
    assert "Narnia" in error_of(r)
    r = client.get("/api/balance", params={"partner": "JPN", "period": "2019"})
    assert r.status_code == 404, r.text
    assert "2019" in error_of(r)
    r = client.get("/api/balance", params={"partner": "JPN", "period": "24"})
    assert r.status_code == 422
    assert error_of(r).startswith("period: String should match pattern")
    r = client.get("/api/balance", params={"partner": "JPN", "by": "hs12"})
    assert r.status_code == 422


def test_monitor(client):
    r = client.get("/api/monitor", params={"partner": "JPN", "month": "2025-05"})
    assert r.status_code == 200, r.text
    body = r.json()
    ref = api.monitor(reporter="USA", partner="JPN", month="2025-05", by="sector").to_dict()
    assert body["series"] == ref["series"]
    assert client.get("/api/monitor", params={"partner": "JPN", "month": "2025-13"}).status_code == 400
    assert client.get("/api/monitor", params={"partner": "JPN", "month": "May 2025"}).status_code == 422


# ---------------------------------------------------------------- tariffs


def test_duty_japanese_car_june_2025(client):
    r = client.get("/api/duty", params={"hts": "8703.23.01.40", "origin": "JPN", "date": "2025-06-15", "value": 30000})
    assert r.status_code == 200, r.text
    body = r.json()
    # HTS 8703.23.01 "2.5%" + 9903.94.01 "+ 25%" (autos of any origin from 2025-04-03): 27.5% of $30,000.
    assert body["total_duty"] == pytest.approx(8250.0)
    assert body["effective_rate"] == pytest.approx(0.275)
    assert "99039401" in {re.sub(r"\D", "", str(layer.get("heading") or "")) for layer in body["layers"]}


def test_duty_bad_input(client):
    r = client.get("/api/duty", params={"hts": "9999.99.99.99", "origin": "JPN", "date": "2025-06-15"})
    assert r.status_code in (400, 404), r.text
    assert "9999" in error_of(r)
    r = client.get("/api/duty", params={"hts": "8703230140", "origin": "Atlantis", "date": "2025-06-15"})
    assert r.status_code == 400
    assert "Atlantis" in error_of(r)
    r = client.get("/api/duty", params={"hts": "8703230140", "origin": "JPN", "date": "1999-01-01"})
    assert r.status_code == 422
    assert error_of(r) == "date: Value error, date must be between 2015-01-01 and 2030-12-31"
    r = client.get("/api/duty", params={"hts": "8703230140", "origin": "JPN", "date": "2025-06-15", "value": -5})
    assert r.status_code == 422
    r = client.get("/api/duty", params={"hts": "87032301<script>", "origin": "JPN", "date": "2025-06-15"})
    assert r.status_code == 422


def test_etr_series_range_limits(client):
    r = client.get("/api/etr/series", params={"partner": "JPN", "start": "2024-01-01", "end": "2026-12-31"})
    assert r.status_code == 422
    assert "limited to 731 days" in error_of(r)
    r = client.get("/api/etr/series", params={"partner": "JPN", "start": "2025-06-01", "end": "2025-01-01"})
    assert r.status_code == 422
    assert error_of(r) == "end is before start"


# ---------------------------------------------------------------- pages


def test_pages_render(client):
    for path in ("/", "/balance", "/timeline", "/scenarios", "/duty", "/docs"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[-500:])
        assert "text/html" in r.headers["content-type"]
        assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", r.text), path


def test_backtest_page(client):
    """/backtest: the chart, the metrics table and the basis (data, horizon, reference, held-out months)."""
    r = client.get("/backtest", params={"partner": "JPN"})
    assert r.status_code == 200, r.text[-500:]
    assert "<svg" in r.text and "predicted vs realized" in r.text
    assert "MAE pp (value-weighted)" in r.text and "Sign hits" in r.text
    assert "horizon short" in r.text and "reference regime 2025-01-01" in r.text and "held-out months 2025-04..2025-12" in r.text
    r = client.get("/backtest", params={"partner": "DEU"})  # no realized monthly data for Germany: said, no numbers
    assert r.status_code == 200 and "no realized monthly imports by HS2 for DEU" in r.text
    r = client.get("/backtest", params={"partner": "Atlantis"})
    assert r.status_code == 400 and 'role="alert"' in r.text


def test_page_errors_are_pages_not_json(client):
    r = client.get("/balance", params={"partner": "JPN", "period": "x"})
    assert r.status_code == 422
    assert "text/html" in r.headers["content-type"] and 'role="alert"' in r.text


# ---------------------------------------------------------------- scenarios


def test_scenarios_list(client):
    r = client.get("/api/scenarios")
    assert r.status_code == 200
    names = [s["name"] for s in r.json()]
    assert {"june-2025", "july-9-hike", "auto-relief", "japan-deal"} <= set(names)


def test_validate_a_good_scenario_file(client):
    text = (b"name: my-floor\nbase: {date: 2025-06-15}\npartner: JPN\nchanges:\n"
            b"  - origins: [JPN]\n    products: {prefixes: ['8703']}\n    mode: floor\n    rate: 0.15\n")
    r = client.post("/api/scenarios/validate", content=text)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True and body["scenario"]["name"] == "my-floor"
    # a rule error names the YAML path
    r = client.post("/api/scenarios/validate", content=text.replace(b"rate: 0.15", b"rate: -1"))
    assert r.status_code == 422
    assert "changes[0]" in error_of(r) and "rate" in error_of(r)


def test_compare_a_builtin_with_an_edited_package(client):
    pkg = {"name": "cars-at-15", "base": "june-2025",
           "changes": [{"origin": "JPN", "products": "8703", "mode": "floor", "rate": 0.15}]}
    r = client.post("/api/compare", json={"scenarios": ["june-2025"], "packages": [pkg], "draws": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    pkgs = {p["name"]: {m["name"]: m["value"] for m in p["headline"]} for p in body["scenarios"]}
    assert set(pkgs) == {"june-2025", "cars-at-15"}
    # a 15% all-in floor on cars replaces the 25% 232 add-on (27.5% -> 15%): more imports from Japan than June 2025
    assert pkgs["cars-at-15"]["imports_from_partner"] > pkgs["june-2025"]["imports_from_partner"]


def test_ge_experiment_by_name_only(client):
    r = client.get("/api/ge", params={"experiment": "../../etc/passwd"})
    assert r.status_code == 422
    r = client.get("/api/ge", params={"experiment": "no-such-experiment"})
    assert r.status_code == 404
    assert "us-tariffs-2025-japan" in error_of(r)
    r = client.get("/api/ge", params={"experiment": "us-tariffs-2025-japan"})
    assert r.status_code == 200, r.text
    jpn = next(c for c in r.json()["countries"] if c["country"] == "JPN")
    assert jpn["real_gdp_change_pct"] < 0  # the spec raises the US tariff on Japan's goods


def test_api_functions_read_only_through_the_given_connection(client, monkeypatch):
    # Point $TARIFFSCOPE_HOME at the server's own warehouse file: any API code that opened its own connection
    # instead of using ``con=`` would now try to open that file read-write while the server holds it
    # read-only, which DuckDB refuses in one process (checked first, so this test can fail).
    from pathlib import Path

    import duckdb

    from tariffscope.ingest.warehouse import open_warehouse

    monkeypatch.setenv("TARIFFSCOPE_HOME", str(Path(client.app.state.warehouse_path).parent))
    with pytest.raises(duckdb.ConnectionException, match="different configuration"):
        open_warehouse(read_only=False)
    # A reader's open_warehouse() is now read-only, which DuckDB allows beside the server's connection: refuse
    # it outright, so an API function that opened its own connection instead of using ``con=`` still fails.
    from tariffscope.ingest import warehouse as _warehouse

    def _own_connection(*a: object, **k: object) -> None:
        raise AssertionError("an API function opened its own warehouse connection instead of using con=")

    monkeypatch.setattr(_warehouse, "open_warehouse", _own_connection)
    cur = client.app.state.con.cursor()
    try:
        bal = api.balance("USA", "JPN", "2024", by=None, con=cur)
        mon = api.monitor("USA", "JPN", "2025-03", con=cur)
        sim = api.simulate("june-2025", draws=0, progress=False, con=cur)
        cmp = api.compare(["june-2025", "japan-deal"], draws=0, progress=False, con=cur)
    finally:
        cur.close()
    monkeypatch.undo()
    # the same answers as the default path (each function opening the session warehouse itself; the
    # scenario runs are not repeated there, they take seconds: simulate and compare agree on june-2025 instead)
    assert bal.to_dict() == api.balance("USA", "JPN", "2024", by=None).to_dict()
    assert mon.to_dict() == api.monitor("USA", "JPN", "2025-03").to_dict()
    packages = cmp.to_dict()["scenarios"]
    assert [p["name"] for p in packages] == ["june-2025", "japan-deal"]
    assert sim.to_dict()["headline"] == packages[0]["headline"]
    assert packages[0]["headline"] != packages[1]["headline"]


def test_scenario_from_dict_validates_with_the_path():
    from tariffscope.errors import RuleError

    spec = api.load_scenario("june-2025").model_dump(mode="json")
    assert api.scenario_from_dict(spec).name == spec["name"]
    spec["changes"] = [{"origins": ["JPN"], "products": "*", "mode": "add", "rate": "lots"}]
    with pytest.raises(RuleError, match=r"<upload>: changes\[0\]"):
        api.scenario_from_dict(spec, source="<upload>")
