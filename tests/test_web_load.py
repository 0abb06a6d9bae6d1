"""The web app under load (issue 14 "Limits"): duty answers are not stuck behind page work, pages are bounded
and deferred to duties for a bounded time, whole page answers are kept as bytes until the data change."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi.testclient import TestClient

from tariffscope.errors import InputError
from tariffscope.web import app as web, gate as G
from tariffscope.web.idle import IdleRelease, drop_after_default
from tariffscope.web.pagecache import PageCache, ResponseCache, response_weight

pytestmark = pytest.mark.xdist_group("web")

DUTY = "/duty?hts=8703230140&origin=JPN&date=2025-06-15&value=100000"


# ---------------------------------------------------------------- the gate's rule, on one event loop
def test_a_page_waits_while_a_duty_is_in_flight_and_goes_when_it_ends():
    async def scenario():
        slots = G.Slots(2, defer_s=5.0)
        slots.priority_enter()  # a duty in flight
        page = asyncio.ensure_future(slots.acquire(timeout=10))
        await asyncio.sleep(0.05)
        assert not page.done() and slots.stats()["waiting"] == 1
        slots.priority_exit()  # the duty answered
        assert await asyncio.wait_for(page, 1) is True
        assert slots.stats()["active"] == 1 and slots.stats()["aged"] == 0

    asyncio.run(scenario())


def test_a_page_is_deferred_at_most_defer_s_while_duties_keep_coming():
    async def scenario():
        slots = G.Slots(1, defer_s=0.2)
        slots.priority_enter()  # a duty that never ends: the page goes anyway once deferred 0.2 s
        t0 = time.monotonic()
        assert await slots.acquire(timeout=5) is True
        waited = time.monotonic() - t0
        assert 0.19 <= waited < 2.0, waited
        assert slots.stats()["aged"] == 1

    asyncio.run(scenario())


def test_pages_are_bounded_first_come_first_served_and_time_out():
    async def scenario():
        slots = G.Slots(1)
        assert await slots.acquire(timeout=1) is True
        order: list[int] = []

        async def page(i: int) -> None:
            assert await slots.acquire(timeout=5)
            order.append(i)
            slots.release()

        waiting = [asyncio.ensure_future(page(i)) for i in range(3)]
        await asyncio.sleep(0.05)
        assert order == [] and slots.stats()["waiting"] == 3
        assert await slots.acquire(timeout=0.05) is False  # no slot came free: the caller answers 503
        slots.release()
        await asyncio.gather(*waiting)
        assert order == [0, 1, 2] and slots.stats()["timeouts"] == 1 and slots.stats()["active"] == 0

    asyncio.run(scenario())


def test_without_duties_in_flight_a_page_is_not_held_back():
    async def scenario():
        slots = G.Slots(1, defer_s=10.0)
        t0 = time.monotonic()
        assert await slots.acquire(timeout=1) is True
        assert time.monotonic() - t0 < 0.5

    asyncio.run(scenario())


def test_bad_gate_settings_are_one_clear_error(monkeypatch):
    monkeypatch.setenv("TARIFFSCOPE_WEB_PAGE_SLOTS", "two")
    with pytest.raises(InputError, match="TARIFFSCOPE_WEB_PAGE_SLOTS must be a whole number"):
        G.page_slots_default()
    monkeypatch.setenv("TARIFFSCOPE_WEB_PAGE_SLOTS", "3")
    assert G.page_slots_default() == 3
    monkeypatch.setenv("TARIFFSCOPE_WEB_PAGE_SLOTS", "0")  # no gate: create_app leaves the middleware out
    assert G.page_slots_default() == 0
    monkeypatch.setenv("TARIFFSCOPE_WEB_PAGE_DEFER_MS", "-1")
    with pytest.raises(InputError, match="TARIFFSCOPE_WEB_PAGE_DEFER_MS"):
        G.page_defer_default()
    monkeypatch.setenv("TARIFFSCOPE_WEB_PAGE_DEFER_MS", "400")
    assert G.page_defer_default() == 0.4
    with pytest.raises(InputError, match="at least one slot"):
        G.Slots(0)


# ---------------------------------------------------------------- the middleware, with stand-in routes
async def _call(app, path: str, method: str = "GET", query: bytes = b"") -> tuple[int, bytes]:
    """One request through an ASGI app: (status, body)."""
    out: dict = {"body": b""}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        else:
            out["body"] += message.get("body", b"")

    await app({"type": "http", "method": method, "path": path, "query_string": query, "headers": []}, receive, send)
    return out["status"], out["body"]


async def _respond(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def test_the_gate_lets_duties_through_while_pages_wait():
    async def scenario():
        release_page = asyncio.Event()

        async def routes(scope, receive, send):
            if scope["path"] == "/slow":
                await release_page.wait()
            await _respond(send, 200, scope["path"].encode())

        slots = G.Slots(1, defer_s=5.0)
        gate = G.PageGate(routes, slots, wait_s=5)
        slow = asyncio.ensure_future(_call(gate, "/slow"))
        await asyncio.sleep(0.02)
        queued = asyncio.ensure_future(_call(gate, "/balance"))
        await asyncio.sleep(0.02)
        assert slots.stats()["active"] == 1 and slots.stats()["waiting"] == 1
        assert await asyncio.wait_for(_call(gate, "/duty"), 1) == (200, b"/duty")  # straight through
        assert await asyncio.wait_for(_call(gate, "/api/duty"), 1) == (200, b"/api/duty")
        assert not queued.done()
        release_page.set()
        assert await asyncio.wait_for(slow, 1) == (200, b"/slow")
        assert await asyncio.wait_for(queued, 1) == (200, b"/balance")
        assert slots.stats()["active"] == 0 and slots.stats()["priority_in_flight"] == 0

    asyncio.run(scenario())


def test_a_page_that_finds_no_slot_gets_503_with_retry_after():
    async def scenario():
        hold = asyncio.Event()

        async def routes(scope, receive, send):
            await hold.wait()
            await _respond(send, 200, b"ok")

        gate = G.PageGate(routes, G.Slots(1), wait_s=0.05)
        first = asyncio.ensure_future(_call(gate, "/timeline"))
        await asyncio.sleep(0.01)
        status, body = await _call(gate, "/balance")
        hold.set()
        await first
        return status, body

    status, body = asyncio.run(scenario())
    assert status == 503 and b"server is busy" in body


def test_a_model_run_hands_its_page_slot_back():
    async def scenario():
        started, finish = threading.Event(), threading.Event()

        def model_run() -> None:  # in a worker thread, as the routes run a comparison
            G.yield_slot()
            started.set()
            finish.wait(5)

        async def routes(scope, receive, send):
            if scope["path"] == "/scenarios":
                await asyncio.to_thread(model_run)
            await _respond(send, 200, b"ok")

        slots = G.Slots(1)
        gate = G.PageGate(routes, slots, wait_s=2)
        run = asyncio.ensure_future(_call(gate, "/scenarios", "POST"))
        await asyncio.to_thread(started.wait, 5)
        assert await asyncio.wait_for(_call(gate, "/balance"), 1) == (200, b"ok")  # the run's slot was free
        finish.set()
        assert (await run)[0] == 200
        assert slots.stats()["active"] == 0  # handed back once, not twice

    asyncio.run(scenario())


def test_response_cache_keeps_200_get_answers_per_url_until_the_data_change():
    state = {"v": 1}
    calls: list[tuple[str, bytes]] = []

    async def routes(scope, receive, send):
        calls.append((scope["path"], scope["query_string"]))
        status = 400 if scope["query_string"] == b"bad=1" else 200
        await _respond(send, status, b"page %d %s" % (state["v"], scope["query_string"]))

    cache = PageCache(lambda: state["v"], probe_s=0.0, weigh=response_weight, max_weight=10_000)
    app = ResponseCache(routes, cache, paths=["/balance"])

    async def scenario():
        a = await _call(app, "/balance", query=b"partner=JPN")
        b = await _call(app, "/balance", query=b"partner=JPN")
        c = await _call(app, "/balance", query=b"partner=KOR")
        assert a == b == (200, b"page 1 partner=JPN") and c == (200, b"page 1 partner=KOR")
        assert calls == [("/balance", b"partner=JPN"), ("/balance", b"partner=KOR")]  # the repeat was not routed
        await _call(app, "/balance", query=b"bad=1")
        await _call(app, "/balance", query=b"bad=1")
        assert calls.count(("/balance", b"bad=1")) == 2  # a 400 is not kept
        await _call(app, "/balance", "POST", b"partner=JPN")
        await _call(app, "/duty", query=b"partner=JPN")
        await _call(app, "/duty", query=b"partner=JPN")
        assert calls.count(("/duty", b"partner=JPN")) == 2 and calls.count(("/balance", b"partner=JPN")) == 2  # POST and other paths pass
        state["v"] = 2  # an ingest appended to the log: every kept page goes
        assert await _call(app, "/balance", query=b"partner=JPN") == (200, b"page 2 partner=JPN")

    asyncio.run(scenario())
    assert cache.stats()["resets"] == 1


def test_response_cache_is_bounded_in_bytes():
    cache = PageCache(lambda: 0, probe_s=0.0, weigh=response_weight, max_weight=2_500)
    for i in range(5):
        cache.put(("/p", str(i).encode()), (200, [], b"x" * 1000))
    assert cache.stats()["entries"] == 2 and cache.stats()["weight"] <= 2_500
    assert cache.peek(("/p", b"4")) is not None and cache.peek(("/p", b"0")) is None
    cache.put(("/p", b"big"), (200, [], b"x" * 5000))  # above the whole budget: not kept, nothing dropped for it
    assert cache.peek(("/p", b"big")) is None and cache.stats()["entries"] == 2


# ---------------------------------------------------------------- the real app, requests from threads
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    application = web.create_app(tmp_path_factory.mktemp("webload") / "warehouse.duckdb", page_slots=1, page_defer_s=0.05)
    gate_open = threading.Event()

    def slow_page() -> dict:
        """A page that takes as long as the test says (stands in for a page computed for seconds)."""
        gate_open.wait(30)
        return {"slow": True}

    application.add_api_route("/slow", slow_page)
    application.state.test_gate_open = gate_open
    yield application
    application.state.con.close()


def test_duty_answers_are_not_stuck_behind_a_slow_page(app):
    client = TestClient(app, base_url="http://localhost")
    assert client.get(DUTY).status_code == 200  # warm: the engine's tables are built
    results: dict[str, int] = {}

    def get(name: str, url: str) -> None:
        results[name] = TestClient(app, base_url="http://localhost").get(url).status_code

    slow = threading.Thread(target=get, args=("slow", "/slow"))
    slow.start()
    slots = app.state.page_slots
    deadline = time.monotonic() + 30
    while slots.stats()["active"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    page = threading.Thread(target=get, args=("page", "/balance?partner=JPN"))
    page.start()
    while slots.stats()["waiting"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slots.stats()["active"] == 1 and slots.stats()["waiting"] == 1  # the slow page holds the only slot
    for _ in range(3):
        r = client.get(DUTY)
        assert r.status_code == 200 and 'id="total-duty"' in r.text
    assert "page" not in results and "slow" not in results  # the duties were answered while both pages waited
    app.state.test_gate_open.set()
    slow.join(30)
    page.join(60)
    assert results == {"slow": 200, "page": 200}
    assert slots.stats()["active"] == 0


# ---------------------------------------------------------------- idle: memory back, rebuildable caches dropped
def test_idle_drops_the_rebuildable_caches_once_and_never_under_a_request():
    drops: list[float] = []
    inside = asyncio.Event()
    leave = asyncio.Event()

    async def routes(scope, receive, send):
        inside.set()
        await leave.wait()
        await _respond(send, 200, b"ok")

    idle = IdleRelease(routes, quiet_s=0.0, every_s=3600, drop=lambda: drops.append(time.monotonic()), drop_s=0.05)

    async def scenario():
        request = asyncio.ensure_future(_call(idle, "/duty"))
        await inside.wait()
        await asyncio.sleep(0.1)
        idle.tick()
        assert drops == []  # a request is in flight: its tables stay
        leave.set()
        await request
        idle.tick()
        assert drops == []  # quiet for less than drop_s
        await asyncio.sleep(0.1)
        idle.tick()
        idle.tick()
        assert len(drops) == 1 and idle.drops == 1  # once per quiet spell
        leave.set()
        await _call(idle, "/duty")  # activity again: the next quiet spell drops again
        await asyncio.sleep(0.1)
        idle.tick()
        assert len(drops) == 2

    asyncio.run(scenario())


@pytest.fixture
def engine_caches_restored():
    """The engine's caches are the process's: put back what a test dropped, so that the tests after it
    build their tables in the same order as without it (an MFN table built beside a warm AVE cache skips
    the AVEs of a few new lines, so the order can move a reference output)."""
    from tariffscope.tariffs import engine, hts

    saved = [(d, dict(d)) for d in (engine._compiled_cache, engine._by_table, hts._CACHE, hts._AVE_CACHE)]
    yield
    for d, content in saved:
        d.clear()
        d.update(content)


def test_engine_caches_drop_and_rebuild_with_the_same_answer(app, engine_caches_restored):
    from tariffscope.tariffs import engine

    client = TestClient(app, base_url="http://localhost")
    before = client.get("/api/duty", params={"hts": "8703230140", "origin": "JPN", "date": "2025-06-15"}).json()
    assert engine.drop_caches() > 0  # the compiled index and the MFN tables were held, now gone
    assert engine.drop_caches() == 0
    after = client.get("/api/duty", params={"hts": "8703230140", "origin": "JPN", "date": "2025-06-15"}).json()
    assert after == before and after["total_duty"] > 0


def test_bad_idle_setting_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("TARIFFSCOPE_WEB_IDLE_DROP_S", "soon")
    with pytest.raises(InputError, match="TARIFFSCOPE_WEB_IDLE_DROP_S must be a whole number"):
        drop_after_default()
    monkeypatch.setenv("TARIFFSCOPE_WEB_IDLE_DROP_S", "0")
    assert drop_after_default() == 0.0


def test_pages_are_paced_one_per_pace_s():
    async def scenario():
        slots = G.Slots(8, pace_s=0.1)
        t0 = time.monotonic()
        admitted: list[float] = []

        async def page() -> None:
            assert await slots.acquire(timeout=5)
            admitted.append(time.monotonic() - t0)
            slots.release()

        await asyncio.gather(*(page() for _ in range(4)))
        gaps = [b - a for a, b in zip(admitted, admitted[1:], strict=False)]
        assert admitted[0] < 0.05 and all(g >= 0.09 for g in gaps), admitted  # slots were free: the pace held them
        assert admitted[-1] < 2.0

    asyncio.run(scenario())


def test_a_page_right_after_another_waits_the_pace_not_the_deferral():
    async def scenario():
        slots = G.Slots(2, defer_s=5.0, pace_s=0.05)
        assert await slots.acquire(timeout=1)
        slots.release()
        t0 = time.monotonic()
        assert await slots.acquire(timeout=10)  # no duty in flight: only the pace holds it
        return time.monotonic() - t0

    waited = asyncio.run(scenario())
    assert 0.03 <= waited < 1.0, waited


def test_mfn_lookups_survive_the_tables_being_dropped_meanwhile(warehouse, monkeypatch, engine_caches_restored):
    """An idle server drops the MFN tables (web.idle); a lookup on another thread at that moment answers from
    what it loaded instead of reading the emptied cache again (that second read raised KeyError)."""
    from tariffscope.tariffs import hts

    revs = [r[0] for r in warehouse.execute("SELECT DISTINCT revision FROM hts_lines ORDER BY 1").fetchall()]
    distinct = list({hts.canonical(warehouse, r): r for r in revs}.values())[-2:]  # two that build two tables
    assert len(distinct) == 2
    want = {r: list(hts.mfn_table(warehouse, r).hts10) for r in distinct}
    real = hts._build

    def build_then_drop(con, revision, t):  # the drop lands while the lookup builds its second table
        table = real(con, revision, t)
        hts.drop_tables()
        return table

    hts.drop_tables()
    monkeypatch.setattr(hts, "_build", build_then_drop)
    hts.prefetch(warehouse, distinct)
    for r in distinct:
        assert list(hts.mfn_table(warehouse, r).hts10) == want[r]
