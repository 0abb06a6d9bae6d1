"""Live pulls against recorded responses built from the real raw files (never the network)."""
from __future__ import annotations

import csv
import gzip
import json

import httpx
import pyarrow.parquet as pq
import pytest

from tariffscope import db
from tariffscope.cli import main
from tariffscope.ingest import fetch


@pytest.fixture()
def con(tmp_path):
    c = db.connect(tmp_path / "w.duckdb")
    yield c
    c.close()


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No sleeping between retries; any request not answered by a test's transport fails loudly."""
    monkeypatch.setattr(fetch, "SLEEP", lambda s: None)

    def refuse(request):
        raise AssertionError(f"unexpected network access: {request.url}")

    monkeypatch.setattr(fetch, "DEFAULT_TRANSPORT", httpx.MockTransport(refuse))


def census_handler(raw, seen):
    """The Census API as recorded: imports/hs from the per-partner pulls, exports/hs HS2 from DataWeb's FAS figures."""
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        p = dict(request.url.params)
        get = p["get"].split(",")
        pred = [k for k in ("COMM_LVL", "CTY_CODE", "time") if k in p]
        if request.url.path.endswith("/imports/hs"):
            t = pq.read_table(raw / f"census/hs10_imports_2024_by_partner/{p['CTY_CODE']}.parquet")
            rows = [[r[c] for c in get] + [r["COMM_LVL"], r["CTY_CODE"], "2024-12"] for r in t.to_pylist()]
        else:
            with open(raw / "census/dataweb_exports_fas_hs2_by_country_2020_2024.csv") as f:
                body = list(csv.reader(f))[3:-1]
            rows = [["JAPAN", r[1], r[2], f"{float(r[8]):.0f}", "HS2", "5880", "2024-12"] for r in body if r[3] == "Japan"]
        return httpx.Response(200, json=[get + pred] + rows)
    return handle


@pytest.mark.raw
def test_pull_census_imports(con, raw):
    seen = []
    res = fetch.pull_census("imports", "Japan", 2024, level="HS10", transport=httpx.MockTransport(census_handler(raw, seen)),
                            con=con, progress=False)
    req = seen[0]
    assert req.url.host == "api.census.gov" and req.url.path == "/data/timeseries/intltrade/imports/hs"
    assert dict(req.url.params) == {"get": "CTY_NAME,I_COMMODITY,I_COMMODITY_SDESC,CON_VAL_YR,CAL_DUT_YR",
                                    "COMM_LVL": "HS10", "CTY_CODE": "5880", "time": "2024-12"}
    assert res.attempts == 1 and res.ingest.rows["trade_flows"] == 10102
    # CATALOG.md: Japan 2024 imports for consumption 151.34 bn, calculated duty 2.28 bn
    got = con.execute("SELECT round(sum(value)/1e9, 2), round(sum(calculated_duty)/1e9, 2), min(period) FROM trade_flows").fetchall()
    assert got == [(151.34, 2.28, "2024")]


@pytest.mark.raw
def test_pull_census_exports_hs2(con, raw):
    seen = []
    res = fetch.pull_census("exports", "JPN", 2024, level="HS2", transport=httpx.MockTransport(census_handler(raw, seen)),
                            con=con, progress=False)
    assert dict(seen[0].url.params)["get"] == "CTY_NAME,E_COMMODITY,E_COMMODITY_SDESC,ALL_VAL_YR"
    assert res.ingest.kind == "census_api"
    # US exports to Japan 2024 (FAS) = 78.98 bn
    assert con.execute("SELECT flow, round(sum(value)/1e9, 2) FROM trade_flows GROUP BY flow").fetchall() == [("exports", 78.98)]


@pytest.mark.raw
def test_retries_with_backoff_then_success(con, raw):
    calls, sleeps = [], []
    inner = census_handler(raw, [])

    def flaky(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if len(calls) == 2:
            return httpx.Response(503, text="busy")
        return inner(request)

    res = fetch.pull_census("imports", "5880", 2024, transport=httpx.MockTransport(flaky), con=con, progress=False,
                            sleep=sleeps.append, backoff=0.5)
    assert res.attempts == 3 and sleeps == [0.5, 1.0]  # exponential backoff
    assert res.ingest.rows["trade_flows"] == 10102


def test_gives_up_and_does_not_retry_client_errors(tmp_path):
    calls = []

    def down(request):
        calls.append(request)
        return httpx.Response(500)

    with pytest.raises(fetch.FetchError, match="failed after 3 attempts"):
        fetch.download("https://example.test/x", tmp_path / "x", transport=httpx.MockTransport(down), retries=3)
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(fetch.FetchError, match="HTTP 404"):
        fetch.download("https://example.test/x", tmp_path / "x", transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(404)))
    assert len(calls) == 1 and not (tmp_path / "x").exists()


@pytest.mark.raw
def test_pull_hts_revision(con, raw):
    body = gzip.decompress((raw / "hts/hts_2025_rev_17.json.gz").read_bytes())

    def handle(request):
        assert str(request.url) == "https://www.usitc.gov/sites/default/files/tata/hts/hts_2025_revision_17_json.json"
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    res = fetch.pull_hts("2025_rev_17", transport=httpx.MockTransport(handle), con=con, progress=False)
    assert res.bytes == len(body)
    assert con.execute("SELECT revision, effective_date::VARCHAR, policy_effective_date::VARCHAR FROM hts_revisions").fetchall() == [
        ("2025_rev_17", "2025-07-01", "2025-08-01")]  # revision_dates.csv
    assert res.ingest.rows["hts_lines"] == con.execute("SELECT count(*) FROM hts_lines").fetchall()[0][0] > 29000


def test_hts_rest_url():
    url, params, _ = fetch.hts_url("2026_rev_10", rest=True)
    assert url == "https://hts.usitc.gov/reststop/exportList"
    assert params == {"from": "0100", "to": "9999", "format": "JSON", "styles": "false"}
    assert fetch.hts_url("2026_basic")[0].endswith("/hts_2026_basic_edition_json.json")


@pytest.mark.raw
def test_cli_pull_fred(raw, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(tmp_path / "home"))
    body = (raw / "fx/DEXJPUS_daily_2021-05_2026-05.csv").read_bytes()
    seen = []
    monkeypatch.setattr(fetch, "DEFAULT_TRANSPORT", httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, content=body)))
    # the CLI opens $TARIFFSCOPE_HOME's warehouse: give it an empty one (no embedded load needed here)
    from tariffscope.ingest import embedded

    monkeypatch.setattr(embedded, "ensure_loaded", lambda con: False)
    assert main(["data", "pull", "fred", "DEXJPUS", "--start", "2021-05-17", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert seen[0].url.params["id"] == "DEXJPUS" and seen[0].url.params["cosd"] == "2021-05-17"
    assert out["ingest"]["rows"] == {"exchange_rates": 1251}
    assert main(["data", "pull", "fred", "DEX JP"]) == 1
    assert "bad FRED series id" in capsys.readouterr().err
