"""Pages for every partner (issue 14): scenario packages ticked and labelled by partner, every dated
measure on the timeline, pick lists that offer only what has data, and typos that keep the form."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from _webclient import web_client
from tariffscope import api
from tariffscope.errors import DataNotFoundError
from tariffscope.report import sections as S

pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webpartners")) as c:
        yield c


def _checked(page: str) -> set[str]:
    return set(re.findall(r'name="builtin" value="([^"]+)" checked', page))


def _dated_measures(iso3: str, through: dt.date) -> list[tuple[str, str]]:
    """(legal date, title) of every catalogue measure reaching iso3 from 2025-01-01 through ``through``."""
    out = []
    for m in api.measures().measures:
        day = m.effective_from_legal or m.effective_from
        if S.reaches(m, iso3) and dt.date(2025, 1, 1) <= day <= through:
            out.append((day.isoformat(), m.title))
    return sorted(out)


@pytest.mark.parametrize(("partner", "group"), [("KOR", "KOR"), ("Germany", "EU27"), ("JPN", "JPN"), ("MEX", "MEX")])
def test_scenarios_page_ticks_the_partners_packages(client, partner, group):
    r = client.get("/scenarios", params={"partner": partner})
    assert r.status_code == 200
    assert _checked(r.text) == set(S.PACKAGES_BY_PARTNER[group])


def test_scenarios_page_without_a_package_keeps_the_form(client):
    r = client.get("/scenarios", params={"partner": "BRA"})
    assert r.status_code == 200 and 'id="scenario-form"' in r.text
    assert "no built-in package for BRA" in r.text and not _checked(r.text)
    r = client.get("/scenarios", params={"partner": "Jpaan"})
    assert r.status_code == 400 and 'id="scenario-form"' in r.text and 'role="alert"' in r.text


def test_builtin_packages_are_listed_with_their_partner(client):
    page = html.unescape(client.get("/scenarios").text)
    assert re.search(r'value="korea-deal"\s*> korea-deal <span class="note">\(South Korea\)</span>', page)
    assert re.search(r'value="eu-deal"\s*> eu-deal <span class="note">\(European Union \(27\)\)</span>', page)


@pytest.mark.slow
def test_comparison_across_partners_names_each_column(client):
    r = client.post("/scenarios", data={"builtin": ["japan-deal", "korea-deal"], "draws": "0"},
                    headers={"Origin": "http://localhost"})
    assert r.status_code == 200, r.text[-400:]
    page = html.unescape(r.text)
    head = re.search(r"<thead>(.*?)</thead>", page[page.index('id="comparison"'):], re.S).group(1)
    assert "japan-deal (Japan)" in head and "korea-deal (South Korea)" in head
    assert "US imports from each package&#39;s partner" in r.text or "US imports from each package's partner" in page
    assert "US imports from the partner" not in page


@pytest.mark.parametrize("partner", ["JPN", "CHN"])
def test_timeline_lists_every_dated_measure(client, partner):
    r = client.get("/timeline", params={"partner": partner})
    assert r.status_code == 200
    page = html.unescape(r.text)
    expected = _dated_measures(partner, S.last_covered_day())
    assert len(expected) > 14  # the old list stopped at 14
    rows = re.findall(r"<tr><td[^>]*>(\d+)</td><td[^>]*>(\d{4}-\d{2}-\d{2})</td><td[^>]*>(.*?)</td>", page)
    assert rows, re.findall(r'class="(?:error|note)[^"]*">(.*?)</', page)[:5]  # an empty list: say what the page said
    assert [(d, t) for _, d, t in rows] == expected
    if partner == "JPN":
        days = {d for _, d, _ in rows}
        assert {"2025-09-16", "2025-10-14", "2025-11-01"} <= days


def test_timeline_through_a_date_and_bad_input_keep_the_form(client):
    r = client.get("/timeline", params={"partner": "JPN", "through": "2025-06-30"})
    assert r.status_code == 200
    days = re.findall(r"<td[^>]*>(2025-\d{2}-\d{2})</td>", r.text)
    assert days and max(days) <= "2025-06-30"
    for params in ({"partner": "Jpaan"}, {"partner": "JPN", "through": "2031-01-01"}, {"partner": "JPN", "through": "soon"}):
        r = client.get("/timeline", params=params)
        assert r.status_code == 400, params
        assert 'role="alert"' in r.text and 'action="/timeline"' in r.text and 'name="partner"' in r.text


def test_balance_picker_offers_only_years_with_data(client):
    page = client.get("/balance").text
    offered = re.findall(r"<option(?: selected)?>(\d{4})</option>", page)
    assert offered
    for year in offered:
        assert api.balance(partner="JPN", period=year).to_dict()["imports"] > 0
    for year in {"2020", "2021", "2022", "2023"} - set(offered):
        with pytest.raises(DataNotFoundError):
            api.balance(partner="JPN", period=year)
    assert "EU27" not in page and "WLD" not in page


def test_balance_typo_keeps_the_form(client):
    r = client.get("/balance", params={"partner": "Jpaan", "period": "2024"})
    assert r.status_code == 400
    assert 'role="alert"' in r.text and 'action="/balance"' in r.text and 'value="Jpaan"' in r.text


@pytest.mark.slow
def test_a_change_matching_nothing_warns(client):
    form = {"builtin": ["june-2025"], "draws": "0", "custom_name": "typo", "custom_base": "june-2025",
            "c0_origin": "JPN", "c0_products": "9999", "c0_mode": "add", "c0_rate": "10",
            "c1_origin": "JPN", "c1_products": "8703", "c1_mode": "add", "c1_rate": "10"}
    r = client.post("/scenarios", data=form)
    assert r.status_code == 200, r.text[-400:]
    warnings = re.findall(r'<p class="unavailable warning" role="status">(.*?)</p>', html.unescape(r.text))
    assert warnings == ["change 1: no HTS line starts with 9999, so it changes nothing (typo shows june-2025's figures there)"]
