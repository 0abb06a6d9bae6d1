"""The tariff vocabulary is consistent with the catalogue and the panel, and coverage dates come from the data."""
from __future__ import annotations

import datetime as dt
import shutil
import typing

import pytest

from tariffscope.errors import InputError, RuleError
from tariffscope.tariffs import coverage as C, measures as M, vocabulary as V


def test_authorities_buckets_and_columns_fit_together():
    assert typing.get_args(V.Authority) == V.AUTHORITIES
    # every bucket is reported under exactly one panel column, in layer order
    assert [b for col in V.COLUMN_BUCKETS.values() for b in col] == list(V.BUCKETS)
    assert set(V.AUTHORITY_OF_BUCKET) == set(V.BUCKETS)
    assert ("mfn_rate", *V.COLUMN_BUCKETS) == V.RATE_COLUMNS
    assert set(V.SHORT_LABELS) == set(V.RATE_COLUMNS)
    for m in M.load().measures:  # every measure lands in a bucket with a panel column
        assert V.column_of_bucket(m.bucket) in V.AUTHORITY_COLUMNS.values()
    assert V.column_of_bucket(M.load().get("deal_japan_autos").bucket) == "rate_232"
    with pytest.raises(InputError, match="unknown stacking bucket"):
        V.column_of_bucket("s999")


def test_panel_columns_are_the_vocabulary(warehouse):
    from tariffscope.tariffs.panel import duty_panel

    t = duty_panel(warehouse, "2025-06-15", origins=["JPN"], hts10=["8703230190"])
    assert t.column_names == ["hts10", "origin", *V.RATE_COLUMNS, "total_rate"]


def _catalogue_copy(tmp_path):
    d = tmp_path / "catalogue"
    shutil.copytree(M.CATALOGUE_DIR, d)
    return d


def test_catalogue_coverage_is_read_from_its_files(tmp_path):
    d = _catalogue_copy(tmp_path)
    for f in d.glob("*.yaml"):
        f.write_text(f.read_text().replace("until: 2026-07-01}", "until: 2026-09-01}"))
    M.load.cache_clear()
    try:
        assert M.load(str(d)).coverage == (dt.date(2025, 1, 1), dt.date(2026, 9, 1))
        other = d / "other.yaml"
        other.write_text(other.read_text().replace("until: 2026-09-01}", "until: 2026-08-01}"))
        M.load.cache_clear()
        with pytest.raises(RuleError, match="one coverage"):
            M.load(str(d))
    finally:
        M.load.cache_clear()


def test_engine_dates_follow_the_catalogue_coverage(monkeypatch):
    from tariffscope.tariffs.engine import check_date

    check_date(dt.date(2026, 6, 30))
    short = M.load().model_copy(update={"covers": (dt.date(2025, 1, 1), dt.date(2026, 2, 1))})
    monkeypatch.setattr(C, "load", lambda: short)
    with pytest.raises(InputError, match=r"coverage \(2025-01-01 to 2026-01-31\)"):
        check_date(dt.date(2026, 6, 30))


def test_latest_months_from_the_warehouse(warehouse):
    from tariffscope.tariffs.etr import REALIZED_SOURCE, statutory_vs_realized

    cov = C.data_coverage(warehouse)
    assert cov.catalogue == M.load().coverage
    assert cov.hts_revisions is not None and cov.hts_revisions[0] <= cov.catalogue[0] < cov.hts_revisions[1]
    latest = cov.latest_month(REALIZED_SOURCE)
    rows = statutory_vs_realized(warehouse, "JPN", start=latest)  # default end: the latest realized month
    assert [r["month"] for r in rows] == [latest] and rows[0]["realized"] is not None
    with pytest.raises(Exception, match="no monthly data from nope"):
        cov.latest_month("nope")
