"""Browser test of the partner's side of the /scenarios form (issue 14), in Chromium at 1200 and 390 px: the
fields are found by their visible labels, a value the browser accepts but the package cannot hold gives one
error line with the form kept, and the run shows the partner-side outcomes named after the partner."""
from __future__ import annotations

import pytest

from test_web_browser import ARTIFACTS, UNNAMED_CONTROLS_JS, page, server  # noqa: F401  # pytest fixtures: one uvicorn server + Chromium page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("width", [1200, 390])
def test_partner_side_fields_run_and_name_the_partner(server, page, width):  # noqa: F811  # the fixtures imported above
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.goto(server + "/scenarios?partner=JPN")
        for box in page.locator("input[name=builtin]").all():
            box.uncheck()
        page.check("input[name=builtin][value=japan-deal]")
        page.fill("input[name=draws]", "0")
        page.fill("input[name=custom_name]", "meat-and-grain")
        page.select_option("select[name=custom_base]", "japan-deal")
        page.click("#partner-side summary")  # folded until asked for; a details element, no script
        side = page.locator("#partner-side")
        tariff = side.get_by_role("group", name="Partner tariff 1")
        tariff.get_by_label("Partner tariff 1: products (HS prefixes, 2-10 digits)").fill("02")
        tariff.get_by_label("Tariff now, % (0-1000)").fill("20")
        tariff.get_by_label("New tariff, % (0-1000)").fill("10")
        purchase = side.get_by_role("group", name="Purchase 1")
        purchase.get_by_label("Purchase 1: what").fill("grain")
        purchase.get_by_label("Products (HS prefixes, 2-10 digits)").fill("10")
        purchase.get_by_label("Value, bn USD a year (0-10000)").fill("1")
        purchase.get_by_label("First year (2000-2100)").fill("2026")
        purchase.get_by_label("Last year (2000-2100)").fill("2027")
        purchase.get_by_label("Additional share, % (0-100: new trade)").fill("90")
        purchase.get_by_label("Its range, low % (optional)").fill("25")
        purchase.get_by_label("Its range, high % (optional)").fill("75")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(UNNAMED_CONTROLS_JS) == []
        page.click("#scenario-form button[type=submit]")
        # 90% outside its 25-75% range: the browser lets it through, the server says what is wrong in one line
        page.wait_for_selector("[role=alert]")
        assert page.inner_text("[role=alert]") == "purchase 1: the range 25-75% must contain the additional share 90%"
        assert page.locator("#partner-side").get_attribute("open") is not None  # the typed rows stay in view
        assert page.input_value("input[name=pu0_value]") == "1" and page.input_value("input[name=pt0_products]") == "02"
        page.fill("input[name=pu0_add]", "50")
        page.click("#scenario-form button[type=submit]")
        page.wait_for_selector("#comparison table")
        two = page.locator("#comparison table", has_text="Two-sided outcome")
        header = two.locator("thead").inner_text()
        assert "meat-and-grain (Japan)" in header, header
        body = two.locator("tbody").inner_text()
        assert "US exports to Japan (FAS value)" in body and "response to Japan's tariff changes" in body, body
        assert "the partner" not in body
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"web-scenarios-partner-side-{width}.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1200, "height": 900})
