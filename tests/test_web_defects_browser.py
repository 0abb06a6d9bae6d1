"""Issue 14's defects, each reproduced in Chromium at a desktop (1200 px) and a phone (390 px) width.

The audit found TestClient tests for these defects but no browser test at both widths for four of them:
Japan's and Korea's packages ticked together (defect 2), the Japan timeline's late-2025 dates (defect 3),
the excavator's hidden metal share (defect 4), and the typos and pick lists of defect 8. Each test does
what the issue's user did, through the form where there is one, and checks the page at both widths.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from test_web_browser import (  # noqa: F401  # pytest fixtures (one uvicorn server + Chromium page) and page probes
    ARTIFACTS,
    SMALLEST_CHART_TEXT_JS,
    UNNAMED_CONTROLS_JS,
    compare_packages,
    page,
    server,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WIDTHS = [1200, 390]


@contextmanager
def at_width(page, width: int) -> Iterator[None]:  # noqa: F811  # the fixture imported above
    """The page at ``width`` px for the block, back to the fixture's 1200 px after it (pass or fail)."""
    page.set_viewport_size({"width": width, "height": 900})
    try:
        yield
    finally:
        page.set_viewport_size({"width": 1200, "height": 900})


def _fits(page, width: int) -> None:  # noqa: F811  # the fixture imported above
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(UNNAMED_CONTROLS_JS) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_japan_and_korea_ticked_together_name_each_partner(server, page, width):  # noqa: F811
    """Defect 2: both partners' results went into one 'US imports from the partner' row, n/a drawn as 0."""
    with at_width(page, width):
        compare_packages(page, server, ["japan-deal", "korea-deal"], draws=0)
        header = page.inner_text("#comparison table thead")
        assert "japan-deal (Japan)" in header and "korea-deal (South Korea)" in header, header
        text = page.inner_text("#comparison")
        assert "from the partner" not in text and "with the partner" not in text
        # Korea has no jobs facts: its bar is left out and the chart says n/a; Japan's bar is drawn
        jobs = page.locator("#comparison figure svg[aria-label*='jobs']")
        assert jobs.count() == 2
        for i in range(jobs.count()):
            chart = jobs.nth(i)
            assert chart.locator("rect").count() == 1, chart.get_attribute("aria-label")
            assert "n/a" in (chart.text_content() or "")
        _fits(page, width)
        assert page.evaluate(SMALLEST_CHART_TEXT_JS) >= (11 if width == 390 else 8)
        page.screenshot(path=str(ARTIFACTS / f"web-scenarios-japan-korea-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_japan_timeline_keeps_the_late_2025_dates(server, page, width):  # noqa: F811
    """Defect 3: the list stopped at 14 entries and lost the Japan deal (09-16), wood (10-14) and trucks (11-01)."""
    with at_width(page, width):
        page.goto(server + "/timeline?partner=JPN")
        body = page.inner_text("main")
        for day in ("2025-09-16", "2025-10-14", "2025-11-01"):
            assert day in body, day
        _fits(page, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_excavator_metal_share_is_seen_and_changed(server, page, width):  # noqa: F811
    """Defect 4: an excavator's 32.5% came from a 50% metal share with no base column and no input."""
    from tariffscope import api
    from tariffscope.report import fmt

    with at_width(page, width):
        page.goto(server + "/duty?hts=8429521010&origin=JPN&date=2025-10-01&value=100000")
        page.wait_for_selector("#duty-result")
        assert "Base (value charged)" in page.inner_text("#duty-result table thead")
        default = api.duty("8429521010", "JPN", "2025-10-01", customs_value=100000)
        assert page.input_value("#share-metal_share") == f"{default.options['metal_share'] * 100:g}"
        assert page.inner_text("#effective-rate") == fmt.pct(default.effective_rate, 2)
        page.fill("#share-metal_share", "20")
        page.click("#duty-form button[type=submit]")
        page.wait_for_selector("#duty-result")
        ref = api.duty("8429521010", "JPN", "2025-10-01", customs_value=100000, options={"metal_share": 0.2})
        assert ref.effective_rate != default.effective_rate
        assert page.inner_text("#effective-rate") == fmt.pct(ref.effective_rate, 2)
        assert "metal share 20%" in page.inner_text("#duty-result")
        assert "metal_share=20" in page.url  # the changed share is part of the result's address
        _fits(page, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_typos_keep_the_form_and_pickers_offer_what_works(server, page, width):  # noqa: F811
    """Defect 8: a typo in a partner replaced the page with an error and no form; the period picker offered
    2020-2023 and the partner picker EU27 and WLD, which all failed."""
    with at_width(page, width):
        for path, form in (("/balance?partner=Jpaan&period=2024", "form[action='/balance']"),
                           ("/scenarios?partner=Jpaan", "#scenario-form"),
                           ("/timeline?partner=Jpaan", "form[action='/timeline']")):
            response = page.goto(server + path)
            assert response is not None and response.status == 400, path
            assert "Jpaan" in page.inner_text("[role=alert]"), path
            assert page.locator(form).is_visible(), path
            _fits(page, width)
        page.goto(server + "/balance")
        values = "els => els.map(e => (e.value || e.textContent).trim())"
        periods = page.eval_on_selector_all("select[name=period] option", values)
        partners = page.eval_on_selector_all("datalist#partners option", values)
        assert periods and partners
        assert not {"2020", "2021", "2022", "2023", "EU27", "WLD"} & {*periods, *partners}, (periods, partners)
        for period in periods:  # everything offered gives a result, not an error
            for partner in partners if width == 1200 else partners[:2]:
                page.goto(server + f"/balance?partner={partner}&period={period}")
                assert page.locator("[role=alert]").count() == 0, (partner, period)
                assert page.locator("main div.scroll > table").count() >= 1, (partner, period)
        _fits(page, width)
