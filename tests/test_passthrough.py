"""Calibrating exporter absorption from realized prices: the estimator in closed form, the price index reader's
strictness, the composition on the warehouse (engine rates, exchange rates, unit values), the Japanese cars
case on the embedded data, the API and the CLI (one line, exit 1, on bad input)."""
from __future__ import annotations

import datetime as dt
import json
import math
import shutil

import numpy as np
import pytest

import tariffscope as ts
from tariffscope import db
from tariffscope.cli import main
from tariffscope.compose.passthrough import calibrate_pass_through, month_range
from tariffscope.errors import DataNotFoundError, IngestError, InputError
from tariffscope.ingest import core, price_index_csv
from tariffscope.models import elasticities as el
from tariffscope.models.passthrough import estimate_absorption
from tariffscope.tariffs.monthly import monthly_rates
from tariffscope.trade._common import monthly_rates as fx_rates
from tariffscope.trade.unit_values import hs10_weights

HEADER = "period,origin,product,index,basis,currency\n"


def write(path, text: str):
    path.write_text(text)
    return path


# --- the estimator ----------------------------------------------------------------------------------

MONTHS = [f"2025-{m:02d}" for m in range(4, 13)]


def test_exporter_index_with_known_absorption_is_recovered():
    x = np.linspace(0.05, 0.25, len(MONTHS))  # log tariff-factor changes
    for a in (0.0, 0.3, 0.6325, 1.0):
        est = estimate_absorption(MONTHS, x, -a * x, "exporter")
        assert est.raw == pytest.approx(a, abs=1e-12) and est.absorption == pytest.approx(a, abs=1e-12)
        assert est.se == pytest.approx(0.0, abs=1e-12) and est.low == pytest.approx(a) and est.high == pytest.approx(a)
        # the same absorption seen from the importer's duty-paid price: dln p = (1 - a) dln tau
        imp = estimate_absorption(MONTHS, x, (1 - a) * x, "importer")
        assert imp.raw == pytest.approx(a, abs=1e-12)


def test_pooled_estimate_and_standard_error_by_hand():
    x = np.array([0.20, 0.22, 0.21, 0.10])
    y = np.array([-0.15, -0.10, -0.14, -0.02])  # exporter price changes: noisy absorption
    est = estimate_absorption(["2025-05", "2025-06", "2025-07", "2025-08"], x, y, "exporter")
    z = -y
    a = float((x * z).sum() / (x * x).sum())
    resid = z - a * x
    se = math.sqrt(float((resid ** 2).sum()) / (3 * float((x * x).sum())))
    assert est.raw == pytest.approx(a, rel=1e-12) and est.se == pytest.approx(se, rel=1e-12)
    assert est.low == pytest.approx(0.2) and est.high == pytest.approx(0.75)  # 0.02/0.10 and 0.15/0.20
    assert est.monthly == pytest.approx(list(z / x))


def test_months_without_a_duty_change_are_left_out_and_named():
    x = np.array([0.0, 0.001, 0.2])
    est = estimate_absorption(["2025-01", "2025-02", "2025-05"], x, np.array([0.05, -0.03, -0.1]), "exporter")
    assert est.months_used == ["2025-05"] and est.months_dropped == ["2025-01", "2025-02"]
    assert est.raw == pytest.approx(0.5) and est.se is None
    assert any("2025-01, 2025-02" in n for n in est.notes)
    with pytest.raises(InputError, match="did not change in any compared month"):
        estimate_absorption(["2025-01"], np.array([0.0]), np.array([0.1]), "exporter")


def test_estimates_outside_0_1_are_bounded_with_a_note():
    x = np.array([0.2, 0.2])
    over = estimate_absorption(["2025-05", "2025-06"], x, np.array([-0.30, -0.26]), "exporter")
    assert over.raw == pytest.approx(1.4) and over.absorption == 1.0 and "above 1" in over.notes[0]
    under = estimate_absorption(["2025-05", "2025-06"], x, np.array([0.02, 0.02]), "exporter")
    assert under.raw == pytest.approx(-0.1) and under.absorption == 0.0 and "below 0" in under.notes[0]


def test_estimator_refuses_bad_input():
    with pytest.raises(InputError, match="bad basis"):
        estimate_absorption(["2025-05"], np.array([0.2]), np.array([-0.1]), "fob")
    with pytest.raises(InputError, match="finite"):
        estimate_absorption(["2025-05"], np.array([0.2]), np.array([np.nan]), "exporter")


# --- the price index reader -------------------------------------------------------------------------

def test_reader_reads_a_good_file(tmp_path):
    p = write(tmp_path / "p.csv", HEADER + "2024-05,Japan,8703,100,exporter,jpy\n2025-05,JPN,87.03,81.5,exporter,JPY\n"
                                           "2025-05,KOR,8703,99,importer,\n")
    pf = price_index_csv.read(p)
    assert [(r.period, r.origin, r.product, r.index, r.basis, r.currency, r.line) for r in pf.rows] == [
        ("2024-05", "JPN", "8703", 100.0, "exporter", "JPY", 2), ("2025-05", "JPN", "8703", 81.5, "exporter", "JPY", 3),
        ("2025-05", "KOR", "8703", 99.0, "importer", "USD", 4)]
    assert pf.keys() == ["JPN 8703 exporter", "KOR 8703 importer"]
    # the currency column is optional: dollars
    q = price_index_csv.read(write(tmp_path / "q.csv", "period,origin,product,index,basis\n2025-01,JPN,8703,1.5,importer\n"))
    assert q.rows[0].currency == "USD"


@pytest.mark.parametrize("body, line, message", [
    ("2025-05,JPN,8703,0,exporter,JPY\n", 2, "index is 0: a price index must be above 0"),
    ("2025-05,JPN,8703,-3,exporter,JPY\n", 2, "index is -3: a price index must be above 0"),
    ("2025-05,JPN,8703,nan,exporter,JPY\n", 2, "bad number 'nan' in column 'index'"),
    ("2025-05,JPN,8703,inf,exporter,JPY\n", 2, "bad number 'inf' in column 'index'"),
    ("2025-05,JPN,8703,,exporter,JPY\n", 2, "the index is blank"),
    ("2025-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,101,exporter,JPY\n", 3,
     "duplicate row: JPN 8703 exporter 2025-05 is also on line 2"),
    ("2025-05,Atlantis,8703,100,exporter,JPY\n", 2, "unknown country 'Atlantis'"),
    ("2025-13,JPN,8703,100,exporter,JPY\n", 2, "bad period '2025-13': a month YYYY-MM"),
    ("2025-05,JPN,87A3,100,exporter,JPY\n", 2, "bad product '87A3'"),
    ("2025-05,JPN,8703,100,fob,JPY\n", 2, "bad basis 'fob'"),
    ("2025-05,JPN,8703,100,exporter,YEN1\n", 2, "bad currency 'YEN1'"),
    ("2025-05,JPN,8703,100,exporter\n", 2, "row has 5 fields, header has 6"),
])
def test_reader_refuses_bad_rows_naming_the_line(tmp_path, body, line, message):
    p = write(tmp_path / "p.csv", HEADER + body)
    with pytest.raises(IngestError, match=message) as exc:
        price_index_csv.read(p)
    assert exc.value.line == line and "\n" not in str(exc.value)


def test_reader_refuses_bad_files(tmp_path):
    with pytest.raises(IngestError, match="wrong header"):
        price_index_csv.read(write(tmp_path / "a.csv", "month,origin,product,index,basis\n2025-05,JPN,8703,1,exporter\n"))
    with pytest.raises(IngestError, match="empty file"):
        price_index_csv.read(write(tmp_path / "b.csv", ""))
    with pytest.raises(IngestError, match="no rows after the header"):
        price_index_csv.read(write(tmp_path / "c.csv", HEADER))
    with pytest.raises(IngestError, match="looks truncated"):  # the last line cut short: refused, not read
        price_index_csv.read(write(tmp_path / "d.csv", HEADER + "2025-05,JPN,8703,100,exporter,JPY\n2025-06,JPN,8703,9"))
    with pytest.raises(IngestError, match="mixes currencies"):
        price_index_csv.read(write(tmp_path / "e.csv", HEADER + "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,1,exporter,USD\n"))
    with pytest.raises(IngestError, match="no such file"):
        price_index_csv.read(tmp_path / "missing.csv")


def test_price_files_are_detected_for_data_ingest(tmp_path):
    p = write(tmp_path / "prices.csv", HEADER + "2025-05,JPN,8703,100,exporter,JPY\n")
    assert core.detect_kind(p) == "price_index_csv"
    parsed = price_index_csv.parse(p, vintage="BoJ CGPI release of 2025-06-11")
    t = parsed.tables["price_indices"]
    assert parsed.source == "price_index_csv:prices" and t.num_rows == 1
    assert t.to_pylist() == [{"period": "2025-05", "origin": "JPN", "product": "8703", "basis": "exporter", "currency": "JPY",
                              "index": 100.0, "source": "price_index_csv:prices", "vintage": "BoJ CGPI release of 2025-06-11"}]


def test_month_range():
    assert month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(InputError, match="starts after it ends"):
        month_range("2025-05", "2025-04")
    with pytest.raises(InputError, match="bad period start '2025-5'"):
        month_range("2025-5", "2025-06")


# --- composition on the warehouse -------------------------------------------------------------------

def _tau(con, origin: str, product: str, months: list[str]) -> dict[str, float]:
    """The trade-weighted tariff factor per month, from the engine's monthly rates (the composition's input)."""
    w = hs10_weights(con, origin, product)
    mr = monthly_rates(con, months, w.hts10, np.array([origin] * len(w.hts10), dtype=object))
    share = w.value / w.value.sum()
    return {m: float(share @ (1 + mr.rates[i])) for i, m in enumerate(months)}


def test_synthetic_index_on_the_engine_path_recovers_its_absorption(warehouse, tmp_path):
    months = month_range("2025-04", "2025-12")
    before = [f"2024{m[4:]}" for m in months]
    tau = _tau(warehouse, "JPN", "8703", months + before)
    fx = fx_rates(warehouse, "JPY", months + before).rate
    a = 0.45
    usd, jpy = [], []
    for m in months + before:
        p = 100 * tau[m] ** -a  # the exporter's dollar price under absorption a
        usd.append(f"{m},JPN,8703,{p!r},exporter,USD\n")
        jpy.append(f"{m},JPN,8703,{p * fx[m]!r},exporter,JPY\n")  # the same price in yen
        usd.append(f"{m},JPN,8703,{p * tau[m]!r},importer,USD\n")  # and duty paid
    f_usd = write(tmp_path / "usd.csv", HEADER + "".join(usd))
    f_jpy = write(tmp_path / "jpy.csv", HEADER + "".join(jpy))
    exp = calibrate_pass_through(warehouse, "JPN", "8703", "2025-04", "2025-12", prices=f_usd, basis="exporter")
    assert exp.raw == pytest.approx(a, abs=1e-9) and exp.se == pytest.approx(0, abs=1e-9)
    assert exp.months_used == months and exp.months_dropped == []  # April too: the car duty applies from April 3
    imp = calibrate_pass_through(warehouse, "JPN", "8703", "2025-04", "2025-12", prices=f_usd, basis="importer")
    assert imp.raw == pytest.approx(a, abs=1e-9)
    yen = calibrate_pass_through(warehouse, "JPN", "8703", "2025-04", "2025-12", prices=f_jpy)
    assert yen.raw == pytest.approx(a, abs=1e-9) and set(yen.exchange_rates) == {"fred_exjpus", "fred_dexjpus"}
    # a base window instead of the same months a year earlier
    win = calibrate_pass_through(warehouse, "JPN", "8703", "2025-05", "2025-12", prices=f_usd, basis="exporter",
                                 base_start="2024-06", base_end="2024-12")
    assert win.raw == pytest.approx(a, abs=1e-9) and win.rows[0]["compared_with"] == "2024-06..2024-12"
    with pytest.raises(InputError, match="on both bases"):
        calibrate_pass_through(warehouse, "JPN", "8703", "2025-04", "2025-12", prices=f_usd)


def test_japanese_cars_from_the_reported_boj_export_price(warehouse, tmp_path):
    # The BoJ export price index for passenger cars to North America, as reported for May 2025: about -19% y/y
    # (pass_through.yaml, evidence boj_cgpi_cars_2025), read as a yen index. With the engine's duty path on
    # Japan's 2024 HS 8703 lines (2.5% in May 2024, 27.4% trade-weighted in May 2025) and FRED yen rates
    # (155.87 -> 144.88 yen per dollar) the dollar export price fell 12.9%: absorption 0.63, inside the cited
    # range 0.4-0.95 and next to its default 0.6 (whose note works the same figures by hand to "about 0.63").
    p = write(tmp_path / "boj.csv", HEADER + "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,81,exporter,JPY\n")
    res = calibrate_pass_through(warehouse, "JPN", "8703", "2025-05", "2025-05", prices=p)
    row = res.rows[0]
    assert row["tariff_then"] == pytest.approx(0.025, abs=1e-6)
    assert row["tariff_now"] == pytest.approx(0.274, abs=5e-4)
    fx = fx_rates(warehouse, "JPY", ["2024-05", "2025-05"]).rate
    assert (round(fx["2024-05"], 2), round(fx["2025-05"], 2)) == (155.87, 144.88)
    assert row["price_change"] == pytest.approx(0.81 * fx["2024-05"] / fx["2025-05"] - 1, rel=1e-12)
    assert row["price_change"] == pytest.approx(-0.129, abs=5e-4)
    assert res.absorption == pytest.approx(0.6325, abs=5e-4) and res.se is None
    cited = res.cited
    assert (cited["origin"], cited["product"], cited["absorption"], cited["range"]) == ("JPN", "8703", 0.6, [0.4, 0.95])
    assert cited["range"][0] <= res.absorption <= cited["range"][1]
    assert abs(res.absorption - cited["absorption"]) < 0.05
    # read in dollars instead, the same -19% is nearly full absorption: the top of the cited range
    q = write(tmp_path / "boj_usd.csv", HEADER + "2024-05,JPN,8703,100,exporter,USD\n2025-05,JPN,8703,81,exporter,USD\n")
    usd = calibrate_pass_through(warehouse, "JPN", "8703", "2025-05", "2025-05", prices=q)
    assert usd.absorption == pytest.approx(-math.log(0.81) / row["dln_tariff_factor"], rel=1e-12)
    assert 0.95 < usd.absorption < 0.98
    # the result plugs into the model's absorption override
    pt = el.pass_through(np.array(["JPN", "JPN", "KOR"], dtype=object),
                         np.array(["8703230140", "8704310020", "8703230140"], dtype=object), res.override)
    assert pt.absorption.tolist() == [round(res.absorption, 4), 0.0, 0.0]


def test_unit_values_from_the_embedded_data_are_annual_only(warehouse):
    with pytest.raises(DataNotFoundError, match=r"only annual quantities are loaded: comtrade_us_auto_imports, 2019-2024"):
        calibrate_pass_through(warehouse, "JPN", "8703", "2025-04", "2025-12")
    with pytest.raises(InputError, match="basis importer needs a price index file"):
        calibrate_pass_through(warehouse, "JPN", "8703", "2025-04", "2025-12", basis="importer")


def _japan_customs_csv(path, year: int, qty: list[float], value_kyen: list[float]):
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    header = (["Exp or Imp", "Year", "HS", "Country", "Unit1", "Unit2"] + [f"Quantity1-{m}" for m in months]
              + [f"Quantity2-{m}" for m in months] + [f"Value-{m}" for m in months])
    row = (["1", str(year), "870323915", "304", "NO", "KG"] + [f"{q:g}" for q in qty] + ["0"] * 12
           + [f"{v:.0f}" for v in value_kyen])
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    return path


@pytest.fixture()
def warehouse_copy(warehouse, tmp_path, monkeypatch):
    """A writable copy of the session warehouse as $TARIFFSCOPE_HOME/warehouse.duckdb."""
    warehouse.execute("CHECKPOINT")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(db.config.warehouse_path(), home / "warehouse.duckdb")
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(home))
    con = db.connect(home / "warehouse.duckdb")
    yield con
    con.close()


def test_unit_values_from_an_ingested_japan_customs_file(warehouse_copy, tmp_path):
    # Japan's exports to the US of HS 870323915 with units and yen values: the unit value of May 2025 is 19%
    # below May 2024's (the reported BoJ change), so the calibration matches the index route to the digit.
    q24, q25 = [1000.0] * 12, [900.0] * 12
    v24 = [1000.0 * 4000.0] * 12  # thousand yen: 4,000,000 yen a car
    v25 = [900.0 * 4000.0 * 0.81] * 12
    files = [_japan_customs_csv(tmp_path / f"jp_{year}.csv", year, q, v) for year, q, v in ((2024, q24, v24), (2025, q25, v25))]
    for f in files:  # each file its own source: the series is not put together from two sources
        core.ingest(f, con=warehouse_copy)
    with pytest.raises(DataNotFoundError, match=r"split across sources \(japan_customs_csv:jp_202[45], japan_customs_csv:jp_202[45]\)"):
        calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05")
    for f in files:  # one source id for the two years of one series (new files: the same bytes are ingested once)
        again = f.with_name(f"cars_{f.name}")
        again.write_text(f.read_text() + "\n")
        core.ingest(again, con=warehouse_copy, source="mof_cars")
    res = calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05")
    assert res.prices["kind"] == "unit values" and res.prices["source"] == "mof_cars"
    assert (res.prices["currency"], res.prices["quantity_unit"], res.prices["flow"]) == ("JPY", "NO", "JPN exports to the US")
    idx = write(tmp_path / "boj.csv", HEADER + "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,81,exporter,JPY\n")
    ref = calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05", prices=idx)
    assert res.raw == pytest.approx(ref.raw, rel=1e-12)
    # all twelve months of 2025 against 2024: the months before the April duty are left out, not used
    full = calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-01", "2025-12")
    assert full.months_dropped == ["2025-01", "2025-02", "2025-03"] and len(full.months_used) == 9
    assert full.se is not None and full.low <= full.raw <= full.high


def test_ingested_price_indices_are_used_and_named(warehouse_copy, tmp_path, capsys):
    body = "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,81,exporter,JPY\n"
    f = write(tmp_path / "boj_cars.csv", HEADER + body)
    res = core.ingest(f, con=warehouse_copy, source="boj_cars", vintage="as reported, June 2025")
    assert res.kind == "price_index_csv" and res.rows == {"price_indices": 2}
    assert core.ingest(f, con=warehouse_copy).status == "already"  # the same bytes twice: a no-op
    st = {s["source"]: s for s in core.data_status(warehouse_copy).sources}
    assert st["boj_cars"]["rows"] == {"price_indices": 2} and st["boj_cars"]["periods"] == "2024-05 .. 2025-05"
    assert st["boj_cars"]["contents"] == "JPN 8703 exporter"
    stored = calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05")
    direct = calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05", prices=f)
    assert stored.raw == pytest.approx(direct.raw, rel=1e-15)
    assert stored.prices == {"kind": "price index (warehouse)", "source": "boj_cars", "vintage": "as reported, June 2025",
                             "currency": "JPY", "series": "JPN 8703 exporter"}
    # a bad file writes nothing (the whole file or none of it)
    bad = write(tmp_path / "bad.csv", HEADER + "2024-06,JPN,8703,100,exporter,JPY\n2025-06,JPN,8703,0,exporter,JPY\n")
    with pytest.raises(IngestError, match="line 3: index is 0"):
        core.ingest(bad, con=warehouse_copy)
    assert warehouse_copy.execute("SELECT count(*) FROM price_indices").fetchall() == [(2,)]
    # a second source with the same series: the user says which one
    core.ingest(write(tmp_path / "other.csv", HEADER + body.replace("81,", "85,")), con=warehouse_copy)
    with pytest.raises(InputError, match=r"2 warehouse sources hold JPN 8703 price indices \(boj_cars, price_index_csv:other\)"):
        calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05")
    other = calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05", price_source="price_index_csv:other")
    assert other.raw < stored.raw
    with pytest.raises(DataNotFoundError, match="no JPN 8703 price indices under source 'nope'"):
        calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05", price_source="nope")
    with pytest.raises(InputError, match="not both"):
        calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05", prices=f, price_source="boj_cars")


def test_stored_series_in_two_currencies_is_refused(warehouse_copy, tmp_path):
    # two files under one source id, each consistent alone: the series they make together mixes yen and dollars
    core.ingest(write(tmp_path / "a.csv", HEADER + "2024-05,JPN,8703,100,exporter,JPY\n"), con=warehouse_copy, source="cars")
    core.ingest(write(tmp_path / "b.csv", HEADER + "2025-05,JPN,8703,0.6,exporter,USD\n"), con=warehouse_copy, source="cars")
    with pytest.raises(InputError, match=r"JPN 8703 exporter series mixes currencies \['JPY', 'USD'\]"):
        calibrate_pass_through(warehouse_copy, "JPN", "8703", "2025-05", "2025-05")


def test_cli_ingest_then_calibrate(warehouse_copy, tmp_path, capsys):
    warehouse_copy.close()  # the CLI opens the warehouse itself
    f = write(tmp_path / "boj_cars.csv", HEADER + "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,81,exporter,JPY\n")
    assert main(["data", "ingest", str(f), "--source-id", "boj_cars"]) == 0
    assert "ingested 2 price_indices as source boj_cars (price_index_csv" in capsys.readouterr().out
    assert main(["calibrate", "pass-through", "--from", "2025-05", "--to", "2025-05"]) == 0
    out = capsys.readouterr().out
    assert "prices: price index source boj_cars (JPN 8703 exporter, JPY;" in out and "0.63" in out


def test_period_without_prices_or_tariffs(warehouse, tmp_path):
    p = write(tmp_path / "p.csv", HEADER + "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,81,exporter,JPY\n")
    with pytest.raises(DataNotFoundError, match=r"no JPN 8703 price for 2024-06 \(a comparison month; 1 more months missing\)"):
        calibrate_pass_through(warehouse, "JPN", "8703", "2025-05", "2025-06", prices=p)
    with pytest.raises(DataNotFoundError, match="no rows for KOR 8703"):
        calibrate_pass_through(warehouse, "KOR", "8703", "2025-05", "2025-05", prices=p)
    with pytest.raises(DataNotFoundError, match="no US imports of 8703 from ATA"):
        calibrate_pass_through(warehouse, "ATA", "8703", "2025-05", "2025-05",
                               prices=write(tmp_path / "q.csv", HEADER + "2024-05,ATA,8703,1,exporter,USD\n2025-05,ATA,8703,1,exporter,USD\n"))
    with pytest.raises(InputError, match="overlaps the period"):
        calibrate_pass_through(warehouse, "JPN", "8703", "2025-05", "2025-05", prices=p, base_start="2025-01", base_end="2025-05")
    with pytest.raises(InputError, match="bad product"):
        calibrate_pass_through(warehouse, "JPN", "87x", "2025-05", "2025-05", prices=p)


# --- API and CLI --------------------------------------------------------------------------------------

def test_api_result(warehouse, tmp_path):
    p = write(tmp_path / "p.csv", HEADER + "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,81,exporter,JPY\n")
    res = ts.calibrate_pass_through("Japan", "8703", "2025-05", "2025-05", prices=p, con=warehouse)
    assert isinstance(res, ts.PassThroughCalibration) and res.origin == "JPN"
    d = res.to_dict()
    assert d["override"] == {"JPN:8703": round(res.absorption, 4)}
    assert d["use_with"] == f"tariffscope backtest --partner JPN --absorption JPN:8703={res.absorption:.2f}"
    assert d["tariffs"]["reference"] == "2025-01-01" and d["tariffs"]["months_from_reference_regime"] == ["2024-05"]
    assert d["tariffs"]["weights"].startswith("census_import_weights_2024 (2024 US imports of ")
    assert d["prices"] == {"kind": "price index file", "file": str(p), "currency": "JPY", "series": "JPN 8703 exporter",
                           "vintage": f"file p.csv as of {dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).date()} "
                                      "(file date; read directly, not ingested)"}
    assert list(res.to_frame()["period"]) == ["2025-05"]


def _prices(tmp_path, body: str = "2024-05,JPN,8703,100,exporter,JPY\n2025-05,JPN,8703,81,exporter,JPY\n"):
    return str(write(tmp_path / "prices.csv", HEADER + body))


def test_cli_formats(warehouse, tmp_path, capsys):
    f = _prices(tmp_path)
    args = ["calibrate", "pass-through", "--origin", "JPN", "--product", "8703", "--from", "2025-05", "--to", "2025-05",
            "--prices", f]
    assert main([*args, "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["absorption"] == pytest.approx(0.6325, abs=5e-4) and d["months_used"] == ["2025-05"]
    assert main([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "period,compared_with,tariff_then,tariff_now,dln_tariff_factor,price_change,absorption,used"
    assert lines[1].startswith("2025-05,2024-05,")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Exporter absorption, JPN 8703 (exporter-basis prices): 0.63" in out
    assert "use it: tariffscope backtest --partner JPN --absorption JPN:8703=0.63" in out


@pytest.mark.parametrize("body, extra, message", [
    ("2024-05,JPN,8703,0,exporter,JPY\n", [], "line 2: index is 0: a price index must be above 0"),
    ("2024-05,JPN,8703,100,exporter,JPY\n2024-05,JPN,8703,100,exporter,JPY\n", [], "duplicate row"),
    ("2024-05,Narnia,8703,100,exporter,JPY\n", [], "unknown country 'Narnia'"),
    (None, ["--origin", "Narnia"], "unknown country 'Narnia'"),
    (None, ["--from", "2025-06", "--to", "2025-06"], "no JPN 8703 price for 2024-06"),
    (None, ["--format", "xml"], "bad --format 'xml'"),
    (None, ["--from", "2025-5"], "bad period start '2025-5'"),
])
def test_cli_bad_input_is_one_line_and_exit_1(warehouse, tmp_path, capsys, body, extra, message):
    f = _prices(tmp_path) if body is None else _prices(tmp_path, body)
    args = ["calibrate", "pass-through", "--from", "2025-05", "--to", "2025-05", "--prices", f]
    assert main([*args, *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1
