"""The MFN caches are keyed by database, never by id(con): ids are reused after garbage collection."""
from __future__ import annotations

import gc

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
