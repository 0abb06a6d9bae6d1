"""Mirror reconciliation: components add up to the gap exactly; each step has its closed form."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from tariffscope.errors import DataNotFoundError, IngestError, InputError
from tariffscope.trade import _sample
from tariffscope.trade.mirror import CIF_FACTOR, cif_factor_from_dataweb, read_partner_figures, reconcile

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def con():
    c = _sample.sample_warehouse()
    yield c
    c.close()


@pytest.fixture()
def figures(tmp_path):
    # hand-made partner figures (made-up numbers for the synthetic warehouse)
    p = tmp_path / "partner.csv"
    p.write_text("# hand-made\nperiod,flow,value,currency,note\n"
                 "2024,exports,400000,JPY,made up\n2024,imports,200000,JPY,\n2024,balance,\"200,000\",JPY,\n"
                 "2024-06,exports,1500,USD,\n")
    return p


def test_components_add_to_gap_exactly(con, figures):
    r = reconcile(figures, "JPN", "USA", con=con, lag_months=1)
    assert [x.flow for x in r.rows] == ["exports", "imports", "balance", "exports"]
    for x in r.rows:
        assert math.isclose(x.exchange_rate + x.valuation + x.timing + x.residual, x.gap, rel_tol=1e-12, abs_tol=1e-9)
    exp, imp, bal = r.rows[:3]
    for k in ("mirror_estimate", "exchange_rate", "valuation", "timing", "residual", "gap"):
        assert math.isclose(getattr(bal, k), getattr(exp, k) - getattr(imp, k), abs_tol=1e-6)


def test_each_step_closed_form(con, figures):
    r = reconcile(figures, "JPN", "USA", con=con, lag_months=1)
    exp, imp = r.rows[0], r.rows[1]
    # M0: US general imports 200+2i at monthly average 150+i
    m0 = sum((200 + 2 * i) * (150 + i) for i in range(1, 13))
    assert math.isclose(exp.mirror_estimate, m0)
    # customs-rate proxy: daily rates 14 days earlier; in January that window starts in Dec 2023 (rate 150)
    assert exp.exchange_rate < 0  # rising yen-per-dollar path: lagged rates are lower
    assert exp.valuation == 0.0  # FOB exports vs US customs value: factor 1
    assert math.isclose(imp.valuation, (CIF_FACTOR - 1) * (imp.mirror_estimate + imp.exchange_rate))
    # timing: Japan's exports in 2024 = US imports Feb 2024..Jan 2025 at the export month's rate -> positive
    assert exp.timing > 0
    # Japan's imports: needs US exports of Dec 2023, not loaded -> no timing, and a note
    assert imp.timing == 0.0 and any("2023-12" in n for n in r.notes)


def test_usd_figures_have_no_exchange_rate_step(con, figures):
    r = reconcile(figures, "JPN", "USA", con=con)
    usd = r.rows[3]
    assert usd.exchange_rate == 0.0 and usd.mirror_estimate == 200 + 2 * 6 and usd.timing == 0.0
    assert usd.residual == 1500 - usd.mirror_estimate


def test_bad_files(tmp_path, con):
    bad = tmp_path / "bad.csv"
    bad.write_text("period,flow,value\n2024,balance,1\n")
    with pytest.raises(IngestError, match="header"):
        read_partner_figures(bad)
    bad.write_text("period,flow,value,currency\n2024,surplus,1,JPY\n")
    with pytest.raises(IngestError, match="line 2"):
        read_partner_figures(bad)
    with pytest.raises(InputError, match="not found"):
        read_partner_figures(tmp_path / "nope.csv")
    bad.write_text("period,flow,value,currency\n2019,balance,1,JPY\n")
    with pytest.raises(DataNotFoundError):
        reconcile(bad, con=con)
    bad.write_text("period,flow,value,currency\n2024,balance,1,JPY\n")
    with pytest.raises(InputError, match="mirror"):
        reconcile(bad, "USA", "JPN", con=con)


@pytest.mark.raw
def test_cif_factor_constant_matches_dataweb(raw):
    factor, n = cif_factor_from_dataweb(raw / "census" / "dataweb_imports_2024_selected_hts10_with_quantities.xlsx")
    assert n > 100 and round(factor, 4) == CIF_FACTOR


def test_article_example_file_parses():
    (fig,) = read_partner_figures(REPO / "docs" / "examples" / "japan_mof_2024_surplus_from_article.csv")
    assert (fig.period, fig.flow, fig.value, fig.currency) == ("2024", "balance", 8.6e12, "JPY")


def test_warehouse_article_reconciliation(warehouse):
    r = reconcile(REPO / "docs" / "examples" / "japan_mof_2024_surplus_from_article.csv", "JPN", "USA", con=warehouse)
    (row,) = r.rows
    # mirror: US deficit 68.25 bn USD at ~151-152 yen -> about 10.3-10.4 tn yen, above Japan's 8.6 tn
    assert 10.0e12 < row.mirror_estimate < 10.7e12
    assert math.isclose(row.exchange_rate + row.valuation + row.timing + row.residual, row.gap, rel_tol=1e-12)
