"""Browser test of the timeline controls (issue 14): Chromium fills the form, the result is a permalink
(every control in the address), and opening that address again shows the same view with the choices kept."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from test_web_browser import ARTIFACTS, page, server  # noqa: F401  # pytest fixtures: one uvicorn server + Chromium page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_timeline_controls_make_a_permalink(server, page):  # noqa: F811  # the fixtures imported above
    page.goto(server + "/timeline?partner=JPN")
    page.fill("input[name=from]", "2025-03-01")
    page.fill("input[name=through]", "2025-11-30")
    page.select_option("select[name=authority]", "232")
    page.fill("input[name=on]", "2025-09-16")
    page.click("form[action='/timeline'] button[type=submit]")
    page.wait_for_selector("text=Key legal dates")
    query = parse_qs(urlparse(page.url).query)
    assert query["from"] == ["2025-03-01"] and query["through"] == ["2025-11-30"]
    assert query["authority"] == ["232"] and query["on"] == ["2025-09-16"] and query["partner"] == ["JPN"]
    body = page.inner_text("main")
    assert "On 2025-09-16 the trade-weighted statutory rate on goods from Japan was" in body
    assert "Section 232 part of the trade-weighted statutory rate" in body
    permalink = page.url
    page.goto(server + "/")
    page.goto(permalink)  # the address alone brings the view back, choices kept in the form
    assert page.input_value("select[name=authority]") == "232"
    assert page.input_value("input[name=on]") == "2025-09-16"
    assert page.input_value("input[name=from]") == "2025-03-01"
    page.screenshot(path=str(ARTIFACTS / "web-timeline-controls.png"), full_page=True)
    # a bad choice keeps the form and says why
    page.goto(server + "/timeline?partner=JPN&sector=steel&authority=232")
    assert "not both" in page.inner_text("[role=alert]")
    assert page.locator("form[action='/timeline']").count() == 1
