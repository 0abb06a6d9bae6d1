"""USMCA claim shares (issue 11 item 6): the shipped table's source and dates, the shares the engine, the panel
and the ETR apply by default, the rates they imply checked by hand on a few cells, and the options to change them."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from tariffscope.errors import InputError
from tariffscope.tariffs import usmca

YALE_SHA256 = "884d2af8351cdd4d78bf8e4c6a60a6286ffb3dfe3c6037a63d589943141b5a02"  # measures/usmca/usmca_shares_by_gtap_sector.csv
# post-March-2025 claim shares (Budget Lab at Yale) of the sectors the hand-computed cells fall in
RPP_CAN, RPP_MEX = 0.979047023, 0.936490744  # rubber and plastic products (3923.30: plastic bottles)
MVH_CAN = 0.91364601  # motor vehicles (8703: cars)
RPP24_CAN = 0.970816  # 2024 set (implied by Census calculated duty): Canadian rubber and plastic products
PLASTICS, CAR = "3923300090", "8703230140"  # MFN 3% and 2.5%, neither under a 232 duty (cars: 232 autos, not exempt)


@pytest.fixture(scope="module")
def con(warehouse):
    return warehouse


def _data(name: str):
    return resources.files("tariffscope") / "data" / "usmca" / name


def test_source_is_pinned_with_values():
    prov = usmca.provenance()
    yale = next(i for i in prov["inputs"] if i["key"] == "yale_usmca_shares")
    assert yale["file"] == "measures/usmca/usmca_shares_by_gtap_sector.csv" and yale["sha256"] == YALE_SHA256
    assert "Budget Lab at Yale" in prov["sets"]["post2025"]["source"] and "secondary" in prov["sets"]["post2025"]["source"]
    for name in ("usmca_shares.csv", "hs_gtap.csv"):  # the shipped files are the ones the script wrote
        assert hashlib.sha256(_data(name).read_bytes()).hexdigest() == prov["outputs"][name]["sha256"]
    sets = usmca.share_sets()
    post, y24 = sets["post2025"].by_sector, sets["2024"].by_sector
    assert post["rpp"] == (RPP_CAN, RPP_MEX) and post["mvh"] == (MVH_CAN, 0.714498691)
    assert post["tex"] == (0.0732217, 0.10938059) and post["ely"] == (0.0, 0.0)
    # 2024: implied by calculated duty on dutiable lines; Canadian crude oil entered without claiming (MFN a few cents)
    assert y24["mvh"] == (0.966284, 0.949924) and y24["rpp"] == (RPP24_CAN, 0.909738) and y24["oil"][0] < 0.001
    assert y24["*"] == (0.936706, 0.929124)
    published = usmca.provenance()["sets"]["2024"]["published_country_totals"]
    assert (published["CAN"], published["MEX"]) == (0.38, 0.49)  # recorded for comparison
    # country-wide post2025 shares (weighted by 2024 imports) for products of unknown sector
    assert post["*"] == pytest.approx((0.8802, 0.7915), abs=1e-4)
    assert len(post) == len(y24) == 47  # the 46 GTAP sectors of the published file + '*'


@pytest.mark.raw
def test_post2025_rows_are_the_published_file(raw):
    path = raw / "measures" / "usmca" / "usmca_shares_by_gtap_sector.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == YALE_SHA256
    with path.open() as f:
        published = {r["gtap_code"]: (float(r["canada"]), float(r["mexico"])) for r in csv.DictReader(f)}
    post = dict(usmca.share_sets()["post2025"].by_sector)
    post.pop("*")
    assert post == published


def test_sets_are_dated_by_the_catalogues_exemption():
    from tariffscope.tariffs.measures import load

    exempt = {m.usmca_exempt_from for m in load().measures if m.usmca_exempt_from}
    assert exempt == {dt.date(2025, 3, 7)}  # 9903.01.04 / 9903.01.14
    sets = usmca.share_sets()
    assert sets["2024"].valid_until == sets["post2025"].valid_from == dt.date(2025, 3, 7)
    assert usmca.set_for("dated", dt.date(2025, 3, 6)).name == "2024"
    assert usmca.set_for("dated", dt.date(2025, 3, 7)).name == "post2025"
    assert usmca.set_for("2024", dt.date(2026, 1, 1)).name == "2024" and usmca.set_for("none", dt.date(2026, 1, 1)) is None
    assert dt.date(2025, 3, 7) in usmca.boundaries()


def test_sector_lookup_and_fallbacks():
    assert usmca.gtap_sector(PLASTICS) == "rpp" and usmca.gtap_sector(CAR) == "mvh"
    m = usmca._hs_map()
    # an HS6 absent from the weights takes its HS4's main sector; no HS4 either: the country-wide share
    assert usmca.gtap_sector("8703999999") == m["8703"] == "mvh"
    assert usmca.gtap_sector("0000000000") is None
    tab = usmca.product_shares(np.array(["0000000000", CAR], dtype=object), usmca.share_sets()["post2025"])
    assert tab[0].tolist() == list(usmca.share_sets()["post2025"].by_sector["*"]) and tab[1, 0] == MVH_CAN


def _rates(con, day, codes, origins, options):
    from tariffscope.tariffs.panel import cell_rates_over

    (_, _, comp, _), = list(cell_rates_over(con, day, day, np.array(codes, dtype=object), np.array(origins, dtype=object), options))
    return comp["total_rate"].astype(float)


def test_etr_falls_by_the_hand_computed_amount(con):
    codes, origins, w = [PLASTICS, CAR, PLASTICS], ["CAN", "CAN", "MEX"], np.array([100.0, 300.0, 200.0])
    # 2025-10-15: Canada fentanyl 35% (9903.01.10), Mexico 25% (9903.01.01); cars under 232 autos (no fentanyl, R7)
    none = _rates(con, "2025-10-15", codes, origins, {"usmca_shares": "none"})
    np.testing.assert_allclose(none, [0.03 + 0.35, 0.025 + 0.25, 0.03 + 0.25], atol=1e-6)
    dated = _rates(con, "2025-10-15", codes, origins, None)  # the default
    want = [(0.03 + 0.35) * (1 - RPP_CAN), 0.025 * (1 - MVH_CAN) + 0.25, (0.03 + 0.25) * (1 - RPP_MEX)]
    np.testing.assert_allclose(dated, want, atol=1e-6)
    drop = (w * (none - dated)).sum() / w.sum()
    by_hand = (100 * 0.38 * RPP_CAN + 300 * 0.025 * MVH_CAN + 200 * 0.28 * RPP_MEX) / 600
    assert drop == pytest.approx(by_hand, abs=1e-6) and drop == pytest.approx(0.1608, abs=1e-4)
    # 2025-03-05: fentanyl 25% on every Canadian good (USMCA goods exempt only from 03-07); the 2024 claims
    # take off only the MFN duty
    early = _rates(con, "2025-03-05", [PLASTICS], ["CAN"], None)
    assert early[0] == pytest.approx(0.03 * (1 - RPP24_CAN) + 0.25, abs=1e-6)


def test_all_partner_and_country_etrs_reflect_claims(con):
    from tariffscope.tariffs.etr import etr

    day = "2025-10-15"
    for partner in ("CAN", "MEX"):
        default = etr(con, partner, date=day)
        none = etr(con, partner, date=day, options={"usmca_shares": "none"})
        assert etr(con, partner, date=day, options={"usmca": 0.0}).etr == pytest.approx(none.etr, abs=1e-9)
        assert none.etr - default.etr > 0.10  # claims take more than 10 pp off each country's rate
        assert "post2025" in default.to_dict()["usmca"] and none.to_dict()["usmca"].startswith("usmca_shares=none")
    wld, wld_none = etr(con, "WLD", date=day), etr(con, "WLD", date=day, options={"usmca_shares": "none"})
    assert 0.03 < wld_none.etr - wld.etr < 0.06  # the ~5 pp issue 11 names
    jpn = etr(con, "JPN", date=day)
    assert jpn.etr == pytest.approx(etr(con, "JPN", date=day, options={"usmca_shares": "none"}).etr, abs=1e-12)


def test_dated_series_switches_sets_on_the_exemption_day(con):
    from tariffscope.tariffs.etr import etr

    series = {r["date"]: r["etr"] for r in etr(con, "CAN", start="2025-03-05", end="2025-03-08").series}
    fixed24 = etr(con, "CAN", date="2025-03-06", options={"usmca_shares": "2024"}).etr
    post = etr(con, "CAN", date="2025-03-07", options={"usmca_shares": "post2025"}).etr
    assert series["2025-03-06"] == pytest.approx(fixed24, abs=1e-12) and series["2025-03-07"] == pytest.approx(post, abs=1e-12)


@pytest.mark.parametrize("options", [None, {"usmca_shares": "2024"}, {"usmca_shares": "none"}, {"usmca": 0.5}])
def test_engine_equals_panel_with_shares(con, options):
    from tariffscope.tariffs.engine import duty
    from tariffscope.tariffs.panel import duty_panel

    codes = [PLASTICS, CAR, "8708292120", "7208101500", "0702002002", "6109100011", "2709002010"]
    for day in ("2025-02-15", "2025-06-15", "2026-03-15"):
        panel = duty_panel(con, day, origins=["CAN", "MEX", "JPN"], hts10=codes, options=options)
        h, o = panel.column("hts10").to_pylist(), panel.column("origin").to_pylist()
        tot = panel.column("total_rate").to_numpy()
        for i in range(panel.num_rows):
            res = duty(con, h[i], o[i], day, 1.0, options=options)
            assert res.effective_rate == pytest.approx(float(tot[i]), abs=1e-6), (h[i], o[i], day)


def test_duty_says_which_share_applies(con):
    from tariffscope.tariffs.engine import duty

    res = duty(con, CAR, "CAN", "2025-06-15", 100.0)
    assert res.usmca["share"] == MVH_CAN and res.usmca["set"] == "post2025" and res.usmca["gtap_code"] == "mvh"
    assert "USMCA claim share 0.9136 (set post2025, GTAP sector mvh" in res.mfn_basis
    assert res.to_dict()["usmca"]["option"] == "usmca_shares"
    assert any(f["rule"] == "R8_usmca" for f in res.rules_fired)
    early = duty(con, CAR, "MEX", "2025-02-15", 100.0)
    assert early.usmca["share"] == 0.949924 and early.usmca["set"] == "2024"
    one = duty(con, PLASTICS, "CAN", "2025-10-15", 100.0, options={"usmca": True})
    assert one.total_duty == 0.0 and one.usmca == {"share": 1.0, "set": "option usmca", "option": "usmca"}
    assert duty(con, CAR, "JPN", "2025-06-15", 100.0).usmca == {}


def test_bad_options_are_one_line_errors():
    from tariffscope.tariffs.rules import resolve_options

    with pytest.raises(InputError, match=r"option usmca_shares must be 'dated' or '2024' or 'post2025' or 'none', got '2023'"):
        resolve_options({"usmca_shares": "2023"})
    with pytest.raises(InputError, match=r"option usmca must be a share between 0 and 1, got 1.5"):
        resolve_options({"usmca": 1.5})


def test_cli_sets_the_shares(con, capsys):
    import tariffscope.clicmd.tariffs  # noqa: F401 - registers the tariff commands
    from tariffscope.cli import main

    args = ["duty", "3923.30.00.90", "--origin", "CAN", "--date", "2025-10-15", "--format", "json"]
    assert main(args + ["--option", "usmca_shares=none"]) == 0
    assert json.loads(capsys.readouterr().out)["effective_rate"] == pytest.approx(0.38)
    assert main(args + ["--option", "usmca=0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["effective_rate"] == pytest.approx(0.19)
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["effective_rate"] == pytest.approx(0.38 * (1 - RPP_CAN), abs=1e-6)
    etr_args = ["etr", "--partner", "CAN", "--date", "2025-10-15", "--format", "json"]
    assert main(etr_args + ["--option", "usmca_shares=2024"]) == 0
    assert json.loads(capsys.readouterr().out)["usmca"].startswith("usmca_shares=2024")
    assert main(etr_args + ["--option", "usmca_shares=2023"]) == 1
    assert "Error: option usmca_shares must be 'dated' or '2024' or 'post2025' or 'none', got '2023'" in capsys.readouterr().err


def test_pe_regime_follows_the_shares(con):
    from tariffscope.scenarios import resolve as rs
    from tariffscope.scenarios.schema import parse_scenario

    sc = parse_scenario("name: oct-2025-can\ndescription: regime in force on 2025-10-15\nbase: {date: 2025-10-15}\npartner: CAN\n")
    rates = rs.regime_rates(sc, np.array([PLASTICS], dtype=object), np.array(["CAN"], dtype=object), con=con)
    assert float(rates["total_rate"][0]) == pytest.approx(0.38 * (1 - RPP_CAN), abs=1e-6)
