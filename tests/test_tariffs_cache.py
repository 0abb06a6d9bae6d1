"""The MFN caches are keyed by database, never by id(con): ids are reused after garbage collection."""
from __future__ import annotations

import gc

import pytest

from tariffscope import db
from tariffscope.tariffs import hts


def test_in_memory_databases_never_share_a_cache_key():
    keys = set()
    for _ in range(20):  # successive connections often get the id of the one just collected
        con = db.memory()
        keys.add(hts.con_key(con))
        con.close()
        del con
        gc.collect()
    assert len(keys) == 20


def test_cursors_of_one_file_share_a_key_and_an_ingest_changes_it(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    key = hts.con_key(con)
    assert hts.con_key(con.cursor()) == key
    con.execute("INSERT INTO hts_lines (revision, hts_code, level, ingest_id) VALUES ('2025_basic', '0101210010', 10, 7)")
    cur = con.cursor()  # a new connection object sees the new HTS data under a new key
    assert hts.con_key(cur) != key


def test_a_full_mfn_cache_is_bounded_without_losing_the_tables_being_loaded(warehouse):
    """More than 64 cached tables: the next prefetch clears the cache first, then loads and aliases what it
    needs (clearing it after aliasing raised KeyError once a long run had filled it)."""
    from tariffscope.tariffs import hts

    revs = [r[0] for r in warehouse.execute("SELECT DISTINCT revision FROM hts_lines ORDER BY 1").fetchall()]
    hts.prefetch(warehouse, revs[:2])
    for i in range(70):  # fill the cache past its bound with entries of other (made-up) connections
        hts._CACHE[(("filler", i), revs[0])] = hts._CACHE[(hts.con_key(warehouse), revs[0])]
    hts.prefetch(warehouse, revs)  # some already cached (aliases), some not: must not raise
    assert len(hts._CACHE) <= 64 + 2 * len(revs)
    for r in revs:
        assert hts.mfn_table(warehouse, r) is not None


def test_a_lines_ave_does_not_depend_on_which_revision_was_built_first(warehouse):
    """A revision built after another once skipped the AVE of its few (<= 25) new specific-rate lines, so their
    duty was the ad valorem part only, or the full AVE, depending on the order tables were built in a process."""
    import numpy as np

    revs = [r[0] for r in warehouse.execute("SELECT DISTINCT revision FROM hts_lines ORDER BY 1").fetchall()]
    saved = (dict(hts._CACHE), dict(hts._AVE_CACHE))
    try:
        alone = {}
        for rev in revs:  # each revision built first, in a fresh cache
            hts.drop_tables()
            t = hts.mfn_table(warehouse, rev)
            alone[rev] = dict(zip(t.hts10, zip(t.ave, t.ave_basis, strict=True), strict=True))
        hts.drop_tables()
        for rev in revs:  # all in one process, oldest first: each after the ones before it
            t = hts.mfn_table(warehouse, rev)
            after = dict(zip(t.hts10, zip(t.ave, t.ave_basis, strict=True), strict=True))
            differ = [c for c, (a, b) in after.items()
                      if not (np.isclose(a, alone[rev][c][0], rtol=0, atol=1e-12) and b == alone[rev][c][1])]
            assert not differ, f"{rev}: {len(differ)} lines' AVE depends on build order, e.g. {differ[:3]}"
    finally:
        hts._CACHE.clear(); hts._CACHE.update(saved[0])  # noqa: E702 - restore the process-wide caches
        hts._AVE_CACHE.clear(); hts._AVE_CACHE.update(saved[1])  # noqa: E702


def test_two_threads_asking_for_one_revision_build_it_once(warehouse, monkeypatch):
    """The brief's backtest and its timeline (beside it, on a cursor of the same file) asked for the same revision
    at once and both built it: ~0.15 s and a second copy of the table. The second now waits for the first's."""
    import threading
    import time

    revs = [r[0] for r in warehouse.execute("SELECT DISTINCT revision FROM hts_lines ORDER BY 1").fetchall()]
    saved = (dict(hts._CACHE), dict(hts._AVE_CACHE))
    built: list[str] = []
    real = hts._build

    def slow_build(con, rev, t):
        built.append(rev)
        time.sleep(0.3)  # both threads are inside prefetch while the first builds
        return real(con, rev, t)

    monkeypatch.setattr(hts, "_build", slow_build)
    cursor = warehouse.cursor()
    got: dict[int, object] = {}
    try:
        hts.drop_tables()

        def ask(i: int, con) -> None:
            got[i] = hts.prefetch(con, [revs[-1]])[revs[-1]]

        threads = [threading.Thread(target=ask, args=(i, c)) for i, c in enumerate((warehouse, cursor))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert built == [revs[-1]]
        assert got[0] is got[1]
    finally:
        cursor.close()
        hts._CACHE.clear(); hts._CACHE.update(saved[0])  # noqa: E702 - restore the process-wide caches
        hts._AVE_CACHE.clear(); hts._AVE_CACHE.update(saved[1])  # noqa: E702


def test_preload_builds_the_tables_of_the_revisions_in_force_over_a_range(warehouse):
    """``api.preload(con, start, end)``: what the brief runs beside its scenarios, so that the backtest and the
    timeline find their MFN tables built. Every revision in force on some day of the range, and no other."""
    import datetime as dt

    import pytest

    from tariffscope import api
    from tariffscope.errors import InputError

    saved = (dict(hts._CACHE), dict(hts._AVE_CACHE))
    try:
        hts.drop_tables()
        api.preload(warehouse, "2025-03-01", "2025-06-30")
        key = hts.con_key(warehouse)
        have = {rev for (k, rev) in hts._CACHE if k == key}
        want = {hts.revision_in_force(warehouse, dt.date(2025, 3, 1) + dt.timedelta(days=i)).revision for i in range(122)}
        assert want and want <= have
        canon = {hts.canonical(warehouse, r) for r in have}
        assert canon <= {hts.canonical(warehouse, r) for r in want}
        with pytest.raises(InputError, match="after end"):
            api.preload(warehouse, "2025-06-30", "2025-03-01")
    finally:
        hts._CACHE.clear(); hts._CACHE.update(saved[0])  # noqa: E702 - restore the process-wide caches
        hts._AVE_CACHE.clear(); hts._AVE_CACHE.update(saved[1])  # noqa: E702


@pytest.mark.parametrize("kwargs", [{"start": "2025-03-01"}, {"end": "2025-06-30"},
                                    {"start": "2025-03-01", "end": "2025-06-30", "con": None}])
def test_preload_refuses_half_a_range(kwargs, warehouse):
    """A range given in part (no end, no start, or no connection to build its tables on) is an input error, not a
    preload that silently builds no table."""
    from tariffscope import api
    from tariffscope.errors import InputError

    args = {"con": warehouse, **kwargs}
    with pytest.raises(InputError, match="preload"):
        api.preload(**args)
