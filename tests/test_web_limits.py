"""The web app's limits (issue 14, defects 5, 6, 8): YAML alias bombs refused with a short answer, error
bodies capped, chunked oversized bodies get 413, a bounded number of model runs (503 + Retry-After),
cross-origin posts refused and the Host header checked."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tariffscope.errors import InputError
from tariffscope.web import app as web, schemas as W

pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    application = web.create_app(tmp_path_factory.mktemp("weblimits") / "warehouse.duckdb", model_runs=1, model_wait_s=0.2)
    yield application
    application.state.con.close()


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as c:
        yield c


def _bomb(levels: int) -> bytes:
    lines = ['a0: &a0 ["xxxxxxxxxx","xxxxxxxxxx","xxxxxxxxxx","xxxxxxxxxx","xxxxxxxxxx","xxxxxxxxxx","xxxxxxxxxx"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["name: bomb", f"base: [*a{levels}]"]
    return "\n".join(lines).encode()


@pytest.mark.parametrize("levels", [4, 6])
def test_yaml_alias_bomb_gets_a_short_answer(client, levels):
    text = _bomb(levels)
    assert len(text) < 700
    r = client.post("/api/scenarios/validate", content=text)
    assert r.status_code == 400
    assert r.json() == {"error": "scenario YAML may not use aliases (*name), found one at line 2, column 10: write the value out"}
    assert len(r.content) < 300


def test_error_bodies_are_capped(client):
    # a 50 KB name fails the name pattern; the answer says so without echoing 50 KB
    r = client.post("/api/scenarios/validate", content=b"name: " + b"Q" * 50_000 + b"\nbase: 2025-06-15\n")
    assert r.status_code in (400, 422)
    assert "name" in r.json()["error"] and len(r.content) <= web.MAX_ERROR_CHARS + 100


def test_chunked_oversized_post_is_413(client):
    def chunks():
        for _ in range(W.MAX_BODY_BYTES // 8192 + 4):
            yield b"#" * 8192

    r = client.post("/api/scenarios/validate", content=chunks())
    assert r.status_code == 413
    assert r.json() == {"error": f"request body too large (limit {W.MAX_BODY_BYTES // 1024} KB)"}


def test_chunked_small_post_still_reaches_the_route(client):
    r = client.post("/api/scenarios/validate", content=iter([b"name: small\n", b"base: 2025-06-15\n"]))
    assert r.status_code == 200 and r.json()["scenario"]["name"] == "small"


def test_unknown_host_is_refused(client):
    r = client.get("/api/health", headers={"Host": "attacker.example"})
    assert r.status_code == 400 and r.json()["error"].startswith("host not allowed")
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200, host


def test_cross_origin_posts_are_refused(client):
    form = {"builtin": ["june-2025", "japan-deal"], "draws": "0"}
    r = client.post("/scenarios", data=form, headers={"Origin": "http://attacker.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["error"]
    r = client.post("/api/compare", json={"scenarios": ["june-2025", "japan-deal"]}, headers={"Referer": "http://attacker.example/x"})
    assert r.status_code == 403
    r = client.post("/api/scenarios/validate", content=b"name: x\nbase: 2025-06-15\n", headers={"Origin": "null"})
    assert r.status_code == 403
    # the server's own pages (same origin) and API clients without an Origin pass
    r = client.post("/api/scenarios/validate", content=b"name: x\nbase: 2025-06-15\n", headers={"Origin": "http://localhost"})
    assert r.status_code == 200


def test_model_runs_are_bounded(app, client):
    slots = app.state.model_slots
    assert slots.slots == 1
    assert slots._sem.acquire(timeout=1)  # a run in progress holds the only slot
    try:
        r = client.post("/api/compare", json={"scenarios": ["june-2025", "japan-deal"], "draws": 0})
        assert r.status_code == 503 and r.headers["Retry-After"] == str(web.RETRY_AFTER_S)
        assert "model run" in r.json()["error"]
        r = client.post("/scenarios", data={"builtin": ["june-2025", "japan-deal"], "draws": "0"})
        assert r.status_code == 503 and r.headers["Retry-After"] == str(web.RETRY_AFTER_S)
        assert 'role="alert"' in r.text and 'id="scenario-form"' in r.text
        assert client.get("/api/health").status_code == 200  # everything else keeps answering
    finally:
        slots._sem.release()


def test_model_runs_setting(monkeypatch):
    monkeypatch.setenv("TARIFFSCOPE_WEB_MODEL_RUNS", "3")
    assert web.model_runs_default() == 3
    monkeypatch.setenv("TARIFFSCOPE_WEB_MODEL_RUNS", "0")
    with pytest.raises(InputError, match="TARIFFSCOPE_WEB_MODEL_RUNS must be a whole number >= 1, got '0'"):
        web.model_runs_default()
    monkeypatch.delenv("TARIFFSCOPE_WEB_MODEL_RUNS")
    assert web.model_runs_default() >= 1
