"""Effective tariff rates: aggregation checks and the Japan monthly statutory-vs-realized comparison."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def con(warehouse):
    return warehouse  # the session warehouse with the embedded data (read only)


def test_etr_is_the_weighted_panel_rate(con):
    """ETR(JPN, date) = sum(w x total rate) / sum(w) with w = 2024 HS10 imports from Japan, recomputed from the panel."""
    from tariffscope.tariffs.etr import etr, load_weights
    from tariffscope.tariffs.panel import duty_panel

    w = load_weights(con, "JPN")
    panel = duty_panel(con, "2025-10-15", origins=["JPN"], hts10=list(w.hts10))
    rate = dict(zip(panel.column("hts10").to_numpy(zero_copy_only=False), panel.column("total_rate").to_numpy(), strict=False))
    manual = sum(v * float(rate[c]) for c, v in zip(w.hts10, w.value, strict=False)) / w.value.sum()
    res = etr(con, "JPN", date="2025-10-15", by="authority")
    assert res.etr == pytest.approx(manual, rel=1e-6)
    assert sum(b["contribution"] for b in res.series[0]["by"]) == pytest.approx(res.etr, rel=1e-6)
    d = res.to_dict()
    assert set(d) >= {"partner", "date", "etr", "by"} and d["partner"] == "JPN"


def test_etr_by_sector_and_series(con):
    from tariffscope.tariffs.etr import etr

    res = etr(con, "JPN", date="2025-10-15", by="sector")
    rows = res.series[0]["by"]
    assert sum(r["weight_share"] for r in rows) == pytest.approx(1.0)
    assert sum(r["contribution"] for r in rows) == pytest.approx(res.etr, rel=1e-6)
    s = etr(con, "JPN", start="2025-03-30", end="2025-04-12")
    by_day = {r["date"]: r["etr"] for r in s.series}
    assert len(by_day) == 14
    # autos (April 3), baseline (April 5), country rate on April 9 only, pause from April 10
    assert by_day["2025-04-03"] > by_day["2025-04-02"] + 0.03
    assert by_day["2025-04-05"] > by_day["2025-04-04"] + 0.02
    assert by_day["2025-04-09"] > by_day["2025-04-08"] + 0.03
    # back to the April 8 rate; not to the last digit: HTS 2025_rev_10 (in force April 9) changed a few MFN lines
    assert by_day["2025-04-10"] == pytest.approx(by_day["2025-04-08"], abs=5e-4)


def test_japan_statutory_tracks_realized(con):
    """Monthly statutory (that month's mix) vs Census realized rate for Japan, 2024-2025.

    Tolerances: in 2024 only MFN applies and the gap is preferences under the 2020 US-Japan agreement and
    chapter 98 entries (about 0.2 pp): 0.5 pp. From April 2025 the realized rate lags (in-transit goods in
    April, FTZ and drawback, 232 content declared below our 50% default metal share): statutory above realized
    by at most 5 pp. The shape must match: the April jump, the plateau from June, easing after September.
    """
    from tariffscope.tariffs.etr import statutory_vs_realized

    rows = {r["month"]: r for r in statutory_vs_realized(con, "JPN", "2024-01", "2025-12")}
    assert len(rows) == 24
    st = {m: r["statutory"] for m, r in rows.items()}
    rz = {m: r["realized"] for m, r in rows.items()}
    for m in [f"2024-{i:02d}" for i in range(1, 13)]:
        assert abs(st[m] - rz[m]) < 0.005, m
    for m in [f"2025-{i:02d}" for i in range(4, 13)]:
        assert -0.01 < st[m] - rz[m] < 0.05, m
    assert st["2025-04"] - st["2025-03"] > 0.08 and rz["2025-04"] - rz["2025-03"] > 0.05  # April jump
    plateau = [st[f"2025-{i:02d}"] for i in range(6, 10)]
    assert min(plateau) > 0.15 and max(plateau) - min(plateau) < 0.05  # plateau June-September
    assert st["2025-12"] < max(plateau) - 0.02 and rz["2025-12"] < rz["2025-08"] - 0.02  # easing after September
    series = np.array([[st[m], rz[m]] for m in sorted(st)])
    assert np.corrcoef(series.T)[0, 1] > 0.97


def test_etr_takes_the_conditional_scope_shares(con):
    """Issue 12: the auto-parts share reaches the ETR; charging every listed line (share 1) raises Taiwan's rate."""
    from tariffscope.tariffs.etr import etr

    default = etr(con, "TWN", date="2025-10-15").etr
    every_line = etr(con, "TWN", date="2025-10-15", options={"auto_parts_share": 1.0}).etr
    none = etr(con, "TWN", date="2025-10-15", options={"auto_parts_share": 0.0}).etr
    assert none < default < every_line


def test_etr_changes_agree_with_the_etr_series_and_name_their_drivers(con):
    """Issue 12: the change table of the all-partner and top-partner series (docs/tariffs.md) is the ETR series itself,
    reduced to its changes, each with the authority that moved most and the measures that changed that day."""
    from tariffscope.tariffs.etr import etr, etr_changes

    r = etr_changes(con, "2025-04-01", "2025-04-12", top=3)
    assert r.partners[0] == "WLD" and len(r.partners) == 4
    for p in ("WLD", r.partners[1]):
        series = etr(con, p, start="2025-04-01", end="2025-04-12").series
        by_day = {row["date"]: row["etr"] for row in series}
        assert r.first[p] == pytest.approx(series[0]["etr"], abs=1e-7)
        mine = [row for row in r.rows if row["partner"] == p]
        changed = [d for d, prev in zip(list(by_day)[1:], list(by_day)[:-1], strict=True)
                   if abs(by_day[d] - by_day[prev]) * 100 >= 1e-4]
        assert [row["date"] for row in mine] == changed
        for row in mine:
            assert row["etr"] == pytest.approx(by_day[row["date"]], abs=1e-7)
    wld = {row["date"]: row for row in r.rows if row["partner"] == "WLD"}
    assert wld["2025-04-05"]["driver"] == "ieepa_reciprocal" and "ieepa_recip_baseline" in wld["2025-04-05"]["measures"]
    assert any(line.startswith("  2025-04-09") for line in r.lines("WLD", 0.5))
