"""How many packages one comparison runs, through the form and its permalink (issue 14, limits; issue 15,
silent acceptances).

The page cut the ticked packages to the first six without a word (a seventh box, or a permalink naming
eight, ran six and dropped the rest), and a permalink naming one package fifty times ran it six times. Now
the list is the user's, once each: more than six is refused with the bound, and the form is kept.
"""
from __future__ import annotations

import html
import re

import pytest

from _webclient import web_client
from tariffscope.web import schemas as W

pytestmark = pytest.mark.xdist_group("web")

SEVEN = ["june-2025", "japan-deal", "korea-deal", "eu-deal", "uk-deal", "july-9-hike", "auto-relief"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webcount")) as c:
        yield c


def _alert(page: str) -> str:
    found = re.findall(r'role="alert"[^>]*>(.*?)</', page, re.S)
    return html.unescape(found[0]) if found else ""


def test_more_packages_than_the_bound_are_refused_not_dropped(client):
    assert len(SEVEN) == W.MAX_PACKAGES + 1
    r = client.get("/scenarios", params={"run": ",".join(SEVEN), "draws": "0"})
    assert r.status_code == 422
    assert f"at most {W.MAX_PACKAGES}" in _alert(r.text)
    assert 'id="scenario-form"' in r.text and 'id="comparison"' not in r.text
    r = client.post("/scenarios", data={"builtin": SEVEN, "draws": "0"}, headers={"Origin": "http://localhost"})
    assert r.status_code == 422 and f"at most {W.MAX_PACKAGES}" in _alert(r.text)


def test_a_package_named_twice_runs_once(client):
    r = client.get("/scenarios", params={"run": ",".join(["japan-deal"] * 50), "draws": "0"})
    assert r.status_code == 400
    assert "compare takes 2 to 6 packages, got 1" in _alert(r.text)
