"""Browser tests: Playwright for Python driving Debian's Chromium against a real uvicorn server.

The server runs in a subprocess on a free 127.0.0.1 port with its own warehouse file (built from the
embedded data, then opened read-only). Screenshots land in test-artifacts/.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _served import free_port, stop, wait_until_serving

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs it")
    port = free_port()
    wh = tmp_path_factory.mktemp("web") / "warehouse.duckdb"
    code = ("import uvicorn; from tariffscope.web.app import create_app; "
            f"uvicorn.run(create_app({str(wh)!r}), host='127.0.0.1', port={port}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base, 300)  # a first start builds the warehouse from the embedded data
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(120_000)
        # Offline proof: any request that leaves 127.0.0.1 fails the test.
        outside: list[str] = []
        pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) and not r.url.startswith("data:") else None)
        yield pg
        assert not outside, f"pages requested outside the server: {outside[:5]}"
        browser.close()


def test_overview(server, page):
    page.goto(server + "/")
    assert page.title().startswith("Overview")
    headline = page.inner_text("#headline")
    # the 2024 balance sentence, computed by the server from the embedded data
    assert "2024" in headline and "imported" in headline, headline
    assert page.locator("figure.chart svg").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "web-overview.png"), full_page=True)


def test_duty_calculator_japanese_car_june_2025(server, page):
    page.goto(server + "/duty")
    page.fill("input[name=hts]", "8703.23.01.40")
    page.fill("input[name=origin]", "JPN")
    page.fill("input[name=date]", "2025-06-15")
    page.fill("input[name=value]", "30000")
    page.click("button[type=submit]")
    page.wait_for_selector("#duty-result")
    text = page.inner_text("#duty-result")
    # HTS 8703.23.01 column 1 general "2.5%" + heading 9903.94.01 "+ 25%" (Proclamation 10908, from 2025-04-03):
    # 27.5% of $30,000 = $8,250.00; the reciprocal add-on does not stack on a 232 good.
    assert "9903.94.01" in text, text
    assert page.inner_text("#total-duty") == "$8,250.00"
    assert page.inner_text("#effective-rate") == "27.50%"
    assert page.locator("#duty-result table tbody tr").count() >= 3  # MFN, 232, total
    page.screenshot(path=str(ARTIFACTS / "web-duty-calculator.png"), full_page=True)


def test_duty_calculator_bad_code_shows_message(server, page):
    page.goto(server + "/duty?hts=9999.99.99.99&origin=JPN&date=2025-06-15&value=1000")
    assert "9999999999" in page.inner_text(".error") or "9999.99" in page.inner_text(".error")


def compare_packages(page, server: str, names: list[str], draws: int) -> None:
    """Tick exactly ``names`` among the built-in packages on /scenarios, set the draws, submit, wait for the table."""
    page.goto(server + "/scenarios")
    for box in page.locator("input[name=builtin]").all():
        box.uncheck()
    for name in names:
        page.check(f"input[name=builtin][value={name}]")
    page.fill("input[name=draws]", str(draws))
    page.click("#scenario-form button[type=submit]")
    page.wait_for_selector("#comparison table")


def test_two_package_comparison(server, page):
    compare_packages(page, server, ["june-2025", "japan-deal"], draws=20)
    header = page.inner_text("#comparison table thead")
    assert "june-2025" in header and "japan-deal" in header, header
    assert page.locator("#comparison figure svg").count() >= 1
    page.locator("#comparison").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "web-scenarios-compare.png"), full_page=True)


def test_balance_and_timeline_pages(server, page):
    page.goto(server + "/balance?partner=Japan&period=2024")
    assert page.locator("table").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "web-balance.png"), full_page=True)
    page.goto(server + "/timeline?partner=JPN")
    assert page.locator("figure.chart svg").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "web-timeline.png"), full_page=True)
    page.goto(server + "/docs")
    assert "/api/duty" in page.inner_text("main")


# ---------------------------------------------------------------- issue 14: every partner, every width
SMALLEST_CHART_TEXT_JS = """() => {
  let smallest = 1e9;
  for (const svg of document.querySelectorAll('#comparison svg, main figure.chart svg')) {
    const vb = svg.viewBox.baseVal;
    if (!vb || !vb.width) continue;
    const scale = svg.getBoundingClientRect().width / vb.width;
    for (const t of svg.querySelectorAll('text')) {
      const size = parseFloat(getComputedStyle(t).fontSize);
      smallest = Math.min(smallest, size * scale);
    }
  }
  return smallest;
}"""

UNNAMED_CONTROLS_JS = """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main svg')]
  .filter(el => el.tagName.toLowerCase() === 'svg'
     ? !(el.getAttribute('role') === 'img' && el.getAttribute('aria-label'))
     : !((el.labels && el.labels.length) || el.getAttribute('aria-label')))
  .map(el => el.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize("width", [1200, 390])
def test_korea_comparison_fits_and_is_labelled(server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.goto(server + "/scenarios?partner=KOR")
        checked = sorted(page.eval_on_selector_all("input[name=builtin]:checked", "els => els.map(e => e.value)"))
        assert checked == ["korea-deal", "korea-june-2025"]
        assert page.evaluate(UNNAMED_CONTROLS_JS) == []
        page.fill("input[name=draws]", "0")
        page.click("#scenario-form button[type=submit]")
        page.wait_for_selector("#comparison table")
        header = page.inner_text("#comparison table thead")
        assert "korea-june-2025 (South Korea)" in header and "korea-deal (South Korea)" in header, header
        assert "Japan" not in page.inner_text("#comparison")
        # jobs (direct and supplier-linked) are n/a for Korea: each chart says n/a and draws no bar
        jobs = page.locator("#comparison figure svg[aria-label*='jobs']")
        assert jobs.count() == 2
        for i in range(2):
            assert jobs.nth(i).locator("rect").count() == 0 and "n/a" in (jobs.nth(i).text_content() or "")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(SMALLEST_CHART_TEXT_JS) >= 8
        assert page.evaluate(UNNAMED_CONTROLS_JS) == []
        page.screenshot(path=str(ARTIFACTS / f"web-scenarios-korea-{width}.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1200, "height": 900})


@pytest.mark.parametrize("width", [1200, 390])
def test_pages_fit_the_width_and_name_their_controls(server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    try:
        for path in ("/", "/balance?partner=KOR", "/timeline?partner=CHN", "/duty?hts=8429521010&origin=JPN&date=2025-10-01&value=100000",
                     "/scenarios"):
            page.goto(server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
            assert page.evaluate(UNNAMED_CONTROLS_JS) == [], path
            if page.locator("main figure.chart svg").count():
                assert page.evaluate(SMALLEST_CHART_TEXT_JS) >= 8, path
        # the China timeline runs past May 2025 (the list used to stop at 14 entries)
        page.goto(server + "/timeline?partner=CHN")
        assert "2025-11-10" in page.inner_text("main")
    finally:
        page.set_viewport_size({"width": 1200, "height": 900})


# ---------------------------------------------------------------- issue 14: the tools analysts expect
TOOL_PAGES = ("/", "/balance?partner=JPN&period=2024", "/duty?hts=8429.52.10.10&origin=JPN&date=2025-10-01&value=100000",
              "/duty?q=excavator", "/timeline?partner=JPN", "/scenarios?run=june-2025,japan-deal&draws=0", "/backtest?partner=JPN",
              "/formula", "/ge?experiment=us-tariffs-2025-japan")
COUNT_JS = """() => ({tables: document.querySelectorAll('main div.scroll > table').length,
  charts: document.querySelectorAll('main figure.chart').length,
  csv: document.querySelectorAll('main a[href*="format=csv"]').length,
  json: document.querySelectorAll('main a[href*="format=json"]').length})"""


@pytest.mark.parametrize("width", [1200, 390])
def test_tool_pages_fit_name_their_charts_and_offer_downloads(server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    try:
        for path in TOOL_PAGES:
            page.goto(server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
            assert page.evaluate(UNNAMED_CONTROLS_JS) == [], path
            if page.locator("main figure.chart svg").count():
                # chart text as drawn: >= 11 px on a 390 px phone (charts keep their full size and scroll in their frame)
                assert page.evaluate(SMALLEST_CHART_TEXT_JS) >= (11 if width == 390 else 8), path
            n = page.evaluate(COUNT_JS)
            assert n["csv"] == n["json"] == n["tables"] + n["charts"], (path, n)
            if "?" in path and "q=" not in path:
                assert page.locator("#permalink").is_visible(), path
            # the skip link is the first thing the keyboard reaches, and it moves focus to the content
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip", path
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "main", path
        page.screenshot(path=str(ARTIFACTS / f"web-ge-{width}.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1200, "height": 900})


@pytest.mark.parametrize("width", [1200, 390])
def test_product_search_fills_the_hts_field(server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.goto(server + "/duty")
        page.fill("#product-q", "excavator")  # typing lists the matches (JavaScript, /api/products)
        page.wait_for_selector("#product-results a.pick")
        assert "Chapter 84 > 8429" in page.inner_text("#product-results")
        last = page.locator("#product-results a.pick").last
        code = last.get_attribute("data-hts")
        last.click()
        assert page.input_value("input[name=hts]") == code and page.url.endswith("/duty")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.click("#duty-form button[type=submit]")
        page.wait_for_selector("#duty-result")
        assert code in page.inner_text("#duty-result")
        page.screenshot(path=str(ARTIFACTS / f"web-product-search-{width}.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1200, "height": 900})


def test_comparison_link_reproduces_the_result(server, page):
    page.goto(server + "/scenarios")
    for box in page.locator("input[name=builtin]").all():
        box.uncheck()
    page.check("input[name=builtin][value=june-2025]")
    page.check("input[name=builtin][value=korea-deal]")
    page.fill("input[name=draws]", "5")
    page.click("#scenario-form button[type=submit]")
    page.wait_for_selector("#comparison table")
    posted = page.inner_text("#comparison table")
    href = page.get_attribute("#permalink", "href")
    assert href.startswith("/scenarios?run=june-2025%2Ckorea-deal&draws=5")
    page.click("#permalink")
    page.wait_for_selector("#comparison table")
    assert page.inner_text("#comparison table") == posted
    assert page.locator("#comparison a[href*='format=csv']").count() >= 1
