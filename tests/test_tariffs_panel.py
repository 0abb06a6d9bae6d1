"""The vectorized panel agrees with the single-entry engine on a random sample of (hts10, origin, date) cells."""
from __future__ import annotations

import numpy as np
import pytest

ORIGINS = ["JPN", "CHN", "CAN", "MEX", "DEU", "GBR", "KOR", "BRA", "IND", "VNM", "CHE", "AUS", "HKG", "RUS", "TWN", "USA"]
DATES = ["2025-02-10", "2025-04-09", "2025-05-20", "2025-08-20", "2025-10-15", "2025-12-01", "2026-03-01", "2026-06-15"]


@pytest.fixture(scope="module")
def con(warehouse):
    return warehouse  # the session warehouse with the embedded data (read only)


@pytest.mark.parametrize("date", DATES)
def test_panel_equals_engine_on_random_cells(con, date):
    from tariffscope.tariffs import hts
    from tariffscope.tariffs.engine import duty
    from tariffscope.tariffs.panel import duty_panel

    rng = np.random.default_rng(abs(hash(date)) % 2**32)
    table = hts.mfn_table(con, hts.revision_in_force(con, __import__("datetime").date.fromisoformat(date)).revision)
    chapters = np.array([c[:2] for c in table.hts10])
    keep = (chapters < "98")  # chapters 98/99 are special provisions, not goods lines
    # half the sample from lines where measures bite (72, 73, 76, 84, 85, 87), half anywhere
    busy = keep & np.isin(chapters, ["72", "73", "76", "84", "85", "87"])
    codes = np.concatenate([rng.choice(table.hts10[busy], 60, replace=False), rng.choice(table.hts10[keep], 60, replace=False)])
    panel = duty_panel(con, date, origins=ORIGINS, hts10=list(codes))
    assert panel.num_rows == len(set(codes)) * len(ORIGINS)
    cols = {c: panel.column(c).to_numpy(zero_copy_only=False) for c in panel.column_names}
    comp = cols["mfn_rate"] + cols["rate_232"] + cols["rate_ieepa_reciprocal"] + cols["rate_ieepa_fentanyl"] \
        + cols["rate_301"] + cols["rate_201"] + cols["rate_122"]
    np.testing.assert_allclose(comp, cols["total_rate"], atol=1e-6)  # components add up
    us = cols["origin"] == "USA"  # R0: US goods returned (9801.00.10) pay nothing, in the panel as in the engine
    assert us.any() and not cols["total_rate"][us].any()
    idx = rng.choice(panel.num_rows, 40, replace=False)
    for i in idx:
        res = duty(con, str(cols["hts10"][i]), str(cols["origin"][i]), date, 1.0)
        assert res.effective_rate == pytest.approx(float(cols["total_rate"][i]), abs=1e-6), (cols["hts10"][i], cols["origin"][i])
        by_auth: dict[str, float] = {}
        for layer in res.layers[1:]:
            key = {"deal": None}.get(layer.authority, layer.authority)
            if key is None:  # a deal floor is reported under the authority it replaces
                key = "232" if layer.measure_id.endswith(("autos", "auto_parts")) else "ieepa_reciprocal"
            by_auth[key] = by_auth.get(key, 0.0) + layer.amount
        assert by_auth.get("232", 0.0) == pytest.approx(float(cols["rate_232"][i]), abs=1e-6)
        assert by_auth.get("ieepa_reciprocal", 0.0) == pytest.approx(float(cols["rate_ieepa_reciprocal"][i]), abs=1e-6)


def test_full_panel_shape_and_metadata(con):
    from tariffscope.tariffs.panel import duty_panel

    t = duty_panel(con, "2025-10-15", origins=["JPN", "CHN"])
    n = t.num_rows // 2
    assert n > 17000  # every HTS10 leaf of the revision in force
    assert t.schema.names == ["hts10", "origin", "mfn_rate", "rate_232", "rate_ieepa_reciprocal", "rate_ieepa_fentanyl",
                              "rate_301", "rate_201", "rate_122", "total_rate"]
    meta = {k.decode(): v.decode() for k, v in t.schema.metadata.items()}
    assert meta["hts_revision"] == "2025_rev_27" and meta["date"] == "2025-10-15"
    origin = t.column("origin").to_numpy(zero_copy_only=False)
    total = t.column("total_rate").to_numpy()
    # Japan: every line at least 15% (floor) unless exempt (Annex II) or MFN higher; China higher on average
    assert total[origin == "CHN"].mean() > total[origin == "JPN"].mean() + 0.15


@pytest.mark.parametrize("date", ["2025-10-15", "2026-03-01"])
def test_panel_equals_engine_with_conditional_scope_shares(con, date):
    """Issue 12: applicability shares (rule R11) move the engine and the panel alike, and actually move them."""
    from tariffscope.tariffs.engine import duty
    from tariffscope.tariffs.panel import duty_panel

    codes = ["8471300100", "8471500150", "8482105044", "8501524000", "8708295160", "8413200000", "8411124000", "7326908688"]
    origins = ["JPN", "DEU", "VNM", "CHN", "MEX", "TWN"]
    opts = {"auto_parts_share": 0.3, "semis_share": 0.5, "s122_civil_aircraft_share": 0.6}
    panel = duty_panel(con, date, origins=origins, hts10=codes, options=opts)
    base = duty_panel(con, date, origins=origins, hts10=codes)
    cols = {c: panel.column(c).to_numpy(zero_copy_only=False) for c in panel.column_names}
    for i in range(panel.num_rows):
        res = duty(con, str(cols["hts10"][i]), str(cols["origin"][i]), date, 1.0, options=opts)
        assert res.effective_rate == pytest.approx(float(cols["total_rate"][i]), abs=1e-6), (cols["hts10"][i], cols["origin"][i])
    moved = np.abs(cols["total_rate"] - base.column("total_rate").to_numpy()) > 1e-6
    assert moved.any()


def test_column2_origins_in_panel_series_and_engine(con):
    """Issue 12 / rule R12 (general note 3(b)): Belarus, Cuba, North Korea and Russia pay column 2 in place of column 1,
    in the single-entry engine, the panel and the interval series the ETR uses, alike."""
    import datetime as dt

    from tariffscope.tariffs import hts
    from tariffscope.tariffs.engine import duty
    from tariffscope.tariffs.panel import cell_rates_over, duty_panel

    date = "2025-10-15"
    table = hts.mfn_table(con, hts.revision_in_force(con, dt.date.fromisoformat(date)).revision)
    # 8471.30.01 Free / 35%; 6109.10.00 16.5% / 90%; 0201.10.05 4.4c/kg / 13.2c/kg (specific part through the unit value)
    codes = ["8471300100", "6109100012", "0201100510", "8703230140"]
    origins = ["RUS", "BLR", "CUB", "PRK", "JPN"]
    panel = duty_panel(con, date, origins=origins, hts10=codes)
    cols = {c: panel.column(c).to_numpy(zero_copy_only=False) for c in panel.column_names}
    for i in range(panel.num_rows):
        code, origin = str(cols["hts10"][i]), str(cols["origin"][i])
        pos = table.position(code)
        want = table.ave[pos] if origin == "JPN" else table.col2_ave[pos]
        assert float(cols["mfn_rate"][i]) == pytest.approx(want, abs=1e-6), (code, origin)
        res = duty(con, code, origin, date, 1.0)
        assert res.layers[0].rate == pytest.approx(float(cols["mfn_rate"][i]), abs=1e-6), (code, origin)
        assert res.effective_rate == pytest.approx(float(cols["total_rate"][i]), abs=1e-6), (code, origin)
        assert ("R12_column2" in {r["rule"] for r in res.rules_fired}) == (origin != "JPN")
    rus = cols["origin"] == "RUS"
    assert (cols["mfn_rate"][rus] > cols["mfn_rate"][cols["origin"] == "JPN"]).all()  # column 2 is higher on each line
    h = np.array(codes * len(origins), dtype=object)
    o = np.repeat(np.array(origins, dtype=object), len(codes))
    for _s, _e, comp, _rev in cell_rates_over(con, date, date, h, o):
        for k in range(len(h)):
            row = np.flatnonzero((cols["hts10"] == h[k]) & (cols["origin"] == o[k]))[0]
            assert float(comp["total_rate"][k]) == pytest.approx(float(cols["total_rate"][row]), abs=1e-6)


def test_value_outside_a_conditional_scope_falls_to_the_next_232_measure(con):
    """Issue 12 / rule R11: a Vietnamese bearing (8482.10.50, note 33(g) and note 16(n)) pays 9903.94.05 on its auto-parts
    share and, on the rest, the steel-content duty 9903.81.91 it would pay if it were not a vehicle part; the
    reciprocal duty then reaches only the value neither covers. Engine and panel alike, at any share."""
    from tariffscope.tariffs.engine import duty
    from tariffscope.tariffs.panel import duty_panel

    for share in (0.1, 0.4, 1.0):
        opts = {"auto_parts_share": share}
        t = duty_panel(con, "2025-10-15", origins=["VNM"], hts10=["8482105044"], options=opts)
        rate_232 = float(t.column("rate_232").to_numpy()[0])
        recip = float(t.column("rate_ieepa_reciprocal").to_numpy()[0])
        # 25% on the share; 50% on the steel content (metal share 0.5) of the rest; reciprocal 20% on the remainder
        assert rate_232 == pytest.approx(0.25 * share + 0.5 * 0.5 * (1 - share), abs=1e-6)
        assert recip == pytest.approx(0.20 * (1 - share - 0.5 * (1 - share)), abs=1e-6)
        res = duty(con, "8482105044", "VNM", "2025-10-15", 1.0, options=opts)
        assert res.effective_rate == pytest.approx(float(t.column("total_rate").to_numpy()[0]), abs=1e-6)
        assert ("s232_steel_derivatives_content" in {ly.measure_id for ly in res.layers}) == (share < 1.0)
