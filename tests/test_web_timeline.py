"""The timeline page's controls (issue 14): a date range through the latest data, one authority or one
sector, the rate on a chosen day; all GET parameters (a view is a permalink), bad input keeps the form.
And the page cache behind it: a page is computed once and recomputed when the warehouse's ingest log changes."""
from __future__ import annotations

import datetime as dt
import html
import re
import threading

import pytest

from _webclient import web_client
from tariffscope import api
from tariffscope.report import fmt, sections as S
from tariffscope.web.pagecache import PageCache

pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webtimeline")) as c:
        yield c


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _legal_rows(page: str) -> list[tuple[str, str]]:
    """(legal date, measure title) of the key-dates table on a page."""
    body = page[page.index("Key legal dates"):]
    body = body[body.index("<tbody"):body.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    out = []
    for r in rows:
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)]
        out.append((cells[1], cells[2]))
    return out


def test_form_offers_every_control_with_the_data_range(client):
    r = client.get("/timeline", params={"partner": "JPN"})
    assert r.status_code == 200
    last = S.last_covered_day().isoformat()
    for name in ("partner", "from", "through", "authority", "sector", "on"):
        assert f'name="{name}"' in r.text, name
    assert f'name="through" value="{last}" min="2025-01-01" max="{last}"' in r.text  # through the latest day the data cover
    assert '<option value="232">Section 232</option>' in r.text and '<option value="steel">' in r.text


def test_authority_filter_lists_only_that_authoritys_measures_and_its_part_of_the_rate(client, warehouse):
    params = {"partner": "JPN", "authority": "232", "from": "2025-03-01", "through": "2025-12-31"}
    r = client.get("/timeline", params=params)
    assert r.status_code == 200, _text(r.text)[:400]
    rows = _legal_rows(r.text)
    cat = api.measures()
    expected = sorted(((m.effective_from_legal or m.effective_from).isoformat(), m.title) for m in cat.measures
                      if S.reaches(m, "JPN") and m.bucket == "s232"
                      and "2025-03-01" <= (m.effective_from_legal or m.effective_from).isoformat() <= "2025-12-31")
    assert rows == expected and rows
    # the line is the 232 add-on's contribution, as the API computes it on the last day
    series = api.etr_series("JPN", start="2025-12-30", end="2025-12-31", by="authority", con=warehouse).to_dict()["series"][-1]
    part = next(b["contribution"] for b in series["by"] if b["key"] == "232")
    assert f"and {fmt.pct(part, 1)} on 2025-12-31" in _text(r.text)
    assert 'selected>Section 232</option>' in r.text.replace('<option value="232" selected>', 'selected>')  # the choice stays


def test_sector_filter_gives_the_sectors_rate_and_its_measures(client, warehouse):
    r = client.get("/timeline", params={"partner": "KOR", "sector": "steel", "through": "2025-10-31"})
    assert r.status_code == 200
    text = _text(r.text)
    day = api.etr("KOR", date="2025-10-31", by="sector", con=warehouse).to_dict()
    steel = next(b["etr"] for b in day["by"] if b["key"] == "steel")
    assert "steel goods from South Korea was" in text and f"{fmt.pct(steel, 1)} on 2025-10-31" in text
    titles = [t for _, t in _legal_rows(r.text)]
    assert any("steel" in t.lower() for t in titles)
    assert not any("passenger vehicles" in t.lower() for t in titles)  # autos-only measures do not touch steel


def test_rate_on_a_chosen_day_matches_the_api(client, warehouse):
    r = client.get("/timeline", params={"partner": "JPN", "on": "2025-09-16"})
    assert r.status_code == 200
    res = api.etr("JPN", date="2025-09-16", by="authority", con=warehouse).to_dict()
    assert f"On 2025-09-16 the trade-weighted statutory rate on goods from Japan was {fmt.pct(res['etr'], 1)}." in _text(r.text)
    assert "on 2025-09-16, by authority" in _text(r.text)


@pytest.mark.parametrize(("params", "message"), [
    ({"partner": "JPN", "authority": "tariff"}, "authority must be one of"),
    ({"partner": "JPN", "sector": "spaceships"}, "unknown sector"),
    ({"partner": "JPN", "sector": "steel", "authority": "232"}, "not both"),
    ({"partner": "JPN", "from": "2025-11-01", "through": "2025-05-01"}, "is after through"),
    ({"partner": "JPN", "on": "2031-01-01"}, "on must be between"),
    ({"partner": "JPN", "from": "2024-06-01"}, "from must be between"),
])
def test_bad_controls_keep_the_form_and_say_why(client, params, message):
    r = client.get("/timeline", params=params)
    assert r.status_code == 400
    assert message in _text(r.text) and 'role="alert"' in r.text and 'action="/timeline"' in r.text


def test_a_page_is_computed_once_then_served_from_the_cache(client):
    # the repeat is answered whole from the response cache (web.pagecache.ResponseCache), before the sections' cache
    sections, cache = client.app.state.page_cache, client.app.state.response_cache
    params = {"partner": "CAN", "authority": "ieepa_fentanyl"}
    first = client.get("/timeline", params=params)
    before, sections_before = cache.stats(), sections.stats()
    again = client.get("/timeline", params=params)
    after = cache.stats()
    assert first.status_code == again.status_code == 200
    assert after["hits"] == before["hits"] + 1 and after["misses"] == before["misses"]
    assert sections.stats()["misses"] == sections_before["misses"]  # nothing computed again
    assert again.text == first.text


def test_cache_recomputes_when_the_data_state_changes_and_computes_once_under_concurrency():
    state = {"v": 1}
    calls: list[int] = []
    gate = threading.Event()
    cache = PageCache(lambda: state["v"], probe_s=0.0)

    def compute() -> int:
        gate.wait(5)
        calls.append(state["v"])
        return state["v"] * 10

    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(cache.get("k", compute))) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert out == [10] * 8 and calls == [1]  # eight requests, one computation
    state["v"] = 2  # an ingest appended to the log
    assert cache.get("k", compute) == 20 and calls == [1, 2]
    assert cache.stats()["resets"] == 1


def test_failed_pages_are_not_kept():
    cache = PageCache(lambda: 0, probe_s=0.0, keep=lambda v: v != "error")
    seq = iter(["error", "ok"])
    assert cache.get("k", lambda: next(seq)) == "error"
    assert cache.get("k", lambda: next(seq)) == "ok"


def test_brief_timeline_unchanged_by_the_view_defaults(warehouse):
    ctx = S.Context(partner="JPN", partner_name="Japan", as_of=dt.date(2025, 12, 31), con=warehouse)
    a = S.run_builder("timeline", "t", S.timeline_section, ctx)
    b = S.run_builder("timeline", "t", lambda c: S.timeline_section(c, S.TimelineView()), ctx)
    assert a.status == b.status == "ok", (a.message, b.message)
    assert a.sentences == b.sentences and [t.rows for t in a.tables] == [t.rows for t in b.tables]
