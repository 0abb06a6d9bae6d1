"""The derived elasticity table and its mapping to product lines (values checked against the raw files)."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from tariffscope.errors import InputError
from tariffscope.models import elasticities as el


def test_table_provenance_matches_the_file():
    prov = el.provenance()
    data = (el.DATA_DIR / "elasticities.csv.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == prov["output"]["sha256"]
    assert {i["key"] for i in prov["inputs"]} == {"bw_hts10", "bw_hs3", "hauk_hs10", "hauk_hs6", "hauk_subst_hs6"}


@pytest.mark.raw
def test_provenance_hashes_match_raw_files(raw):
    for item in el.provenance()["inputs"]:
        assert hashlib.sha256((raw / item["file"]).read_bytes()).hexdigest() == item["sha256"], item["file"]


@pytest.mark.raw
def test_values_come_from_the_raw_files(raw):
    # CATALOG: Broda-Weinstein 73-country file, USA HS3 870 = 25.03 (clipped to SIGMA_BOUNDS[1] = 10 in use).
    b3 = pd.read_stata(raw / "elasticities/broda_weinstein/Sigmas73countries_9403_HS3digit.dta")
    us870 = float(b3[(b3.cname == "USA") & (b3.hs_3digit == 870)].sigma.iloc[0])
    tab = el.table()
    row = tab[(tab.param == "sigma") & (tab.source == "bw_hs3_usa") & (tab.code == "870")]
    assert float(row.value.iloc[0]) == pytest.approx(us870, rel=1e-6) and us870 == pytest.approx(25.03, abs=0.01)
    # BW HTS10 first data row of the xls: 0101110010 -> 108.18641 (clipped to the upper bound in use).
    a = el.assign(["0101110010"], clip=False)
    assert a.sigma[0] == pytest.approx(108.18641, rel=1e-6) and a.sigma_source[0] == "bw_hts10:hs10"
    assert el.assign(["0101110010"]).sigma[0] == el.SIGMA_BOUNDS[1]
    # Hauk HS10: only positive and 5%-significant rows are kept; eta = impliedelasticity = 1 - demandprice.
    h = pd.read_stata(raw / "elasticities/hauk_usitc/imports_hs10imports_hs10elasticities.dta")
    ok = h[(h.positive == 1) & (h.sigat5per == 1)]
    bad = h[(h.positive == 0)]
    code_ok = str(int(ok.hs10.iloc[0])).zfill(10)
    e = el.assign([code_ok], clip=False)
    assert e.eta_source[0] == "hauk_hs10:hs10"
    assert e.eta[0] == pytest.approx(float(ok[ok.hs10 == ok.hs10.iloc[0]].impliedelasticity.median()), rel=1e-5)
    code_bad = str(int(bad.hs10.iloc[0])).zfill(10)
    if code_bad not in set(str(int(c)).zfill(10) for c in ok.hs10):
        assert el.assign([code_bad]).eta_source[0] != "hauk_hs10:hs10"


def test_fallback_chain_and_source_labels():
    a = el.assign(["9999999999", "8703230190"])
    assert a.sigma_source[0].startswith("bw_hs3_usa_median:all") and a.eta_source[0].startswith("hauk_hs10_median:all")
    assert (a.sigma >= el.SIGMA_BOUNDS[0]).all() and (a.sigma <= el.SIGMA_BOUNDS[1]).all()
    hauk = el.assign(["8703230190"], "hauk")
    assert hauk.sigma.shape == (1,)


def test_overrides():
    a = el.assign(["8703230190", "8708999990", "0101210010"], sigma={"87": 4.0, "8708": 3.0}, eta=1.5)
    np.testing.assert_allclose(a.sigma[:2], [4.0, 3.0])
    assert a.sigma_source[1] == "override:8708" and (a.eta == 1.5).all() and (a.eta_source == "override").all()
    with pytest.raises(InputError):
        el.assign(["87"], source="gtap")
    with pytest.raises(InputError):
        el.assign(["87"], sigma=-1.0)


def test_monte_carlo_distribution_documented():
    from tariffscope.models import uncertainty as unc

    sd = unc.log_sd(np.array([2.0, 2.0, 2.0]), np.array([np.nan, 0.5, 10.0]), np.array([False, False, True]))
    np.testing.assert_allclose(sd, [unc.DEFAULT_LOG_SD, 0.25, 0.0])
    rng = np.random.default_rng(0)
    s, e = unc.draw(rng, np.full(20000, 4.0), np.full(20000, 0.25), np.full(20000, 1.0), np.full(20000, 0.0))
    assert np.median(s) == pytest.approx(4.0, rel=0.02) and (e == 1.0).all()
    assert np.std(np.log(s)) == pytest.approx(0.25, rel=0.03)
