"""HTS revisions and MFN lines as the engine needs them: which revision is in force on a date, and the
HTS10 lines of a revision with their column 1 general rate as an ad valorem equivalent.

Revision in force: the last revision whose ``effective_date`` (the date the revision took effect as the
schedule, from ``revision_dates.csv``) is on or before the entry date. The legal dates of the measures
themselves live in the catalogue, not here — many revisions were published days or weeks after (or
before) the policy they carry (``policy_effective_date``), so the two must not be confused.
Statistical lines inherit the rate text of their 8-digit parent (the HTS prints it only there).
"""
from __future__ import annotations

import datetime as dt
import itertools
import sys
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from tariffscope import db
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.ingest.rate_text import parse_rate
from tariffscope.tariffs.schedule import mfn_ave_table


@dataclass(frozen=True)
class Revision:
    revision: str
    effective_date: dt.date
    policy_effective_date: dt.date | None
    policy_event: str | None


_REVS: dict[object, list[Revision]] = {}
_CON_KEYS: dict[int, tuple[weakref.ref, object]] = {}
_TOKENS = itertools.count(1)


def con_key(con) -> object:
    """A cache key for the database behind ``con``: its file (shared by its cursors) and the HTS data it holds.

    Not ``id(con)``: ids are reused after a connection is garbage-collected, which would hand one
    warehouse's MFN tables to another. In-memory databases get a token of their own per connection.
    """
    hit = _CON_KEYS.get(id(con))
    if hit is not None and hit[0]() is con:
        return hit[1]
    path = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    stamp = con.sql("SELECT count(*), coalesce(max(ingest_id), 0) FROM hts_lines").fetchall()[0]
    key = (path or f"memory#{next(_TOKENS)}", tuple(stamp))
    _CON_KEYS[id(con)] = (weakref.ref(con), key)
    return key


def revisions(con) -> list[Revision]:
    """Revisions with an effective date, in order (cached per connection: the HTS does not change under a session)."""
    key = con_key(con)
    if key in _REVS:
        return _REVS[key]
    rows = db.query(con, """SELECT revision, effective_date, policy_effective_date, policy_event FROM hts_revisions
                            WHERE effective_date IS NOT NULL ORDER BY effective_date, seq""").to_pylist()
    if not rows:
        raise DataNotFoundError("no HTS revisions in the warehouse: run 'tariffscope data status' to load the embedded data")
    out = [Revision(r["revision"], _day(r["effective_date"]), _d(r["policy_effective_date"]), r["policy_event"]) for r in rows]
    _REVS[key] = out
    return out


def _day(v: dt.date) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


def _d(v: dt.date | None) -> dt.date | None:
    return None if v is None else _day(v)


def revision_in_force(con, date: dt.date) -> Revision:
    best = None
    for r in revisions(con):
        if r.effective_date <= date:
            best = r
    if best is None:
        raise InputError(f"no HTS revision in force on {date} (the first loaded revision starts {revisions(con)[0].effective_date})")
    return best


@dataclass
class MfnTable:
    """HTS10 leaves of one revision: codes, descriptions, raw general text and its ad valorem equivalent."""

    revision: str
    hts10: np.ndarray  # object array of 10-digit strings, sorted
    description: np.ndarray
    general_text: np.ndarray
    rate_form: np.ndarray
    ad_valorem: np.ndarray  # ad valorem part (fraction), 0 for Free
    specific_rate: np.ndarray  # USD per unit, nan if none
    specific_unit: np.ndarray
    specific_rate_2: np.ndarray
    ave: np.ndarray  # total ad valorem equivalent used by default
    ave_basis: np.ndarray  # how the AVE was obtained
    # column 2 (general note 3(b): the rates for Belarus, Cuba, North Korea and Russia), as an AVE with its basis
    other_text: np.ndarray | None = None
    col2_ave: np.ndarray | None = None
    col2_basis: np.ndarray | None = None

    def position(self, hts10: str) -> int | None:
        i = int(np.searchsorted(self.hts10, hts10))
        return i if i < len(self.hts10) and self.hts10[i] == hts10 else None


# lines: read once (materialized: it is joined three times) with only the columns used, and filtered by a list
# test the scan applies itself rather than a join against the list of revisions
_SQL = """
WITH lines AS MATERIALIZED (
    SELECT revision, hts_code, level, description, general_text, rate_form, ad_valorem, specific_rate, specific_unit,
           specific_rate_2, other_text
    FROM hts_lines WHERE list_contains(?::VARCHAR[], revision)),
kids AS (SELECT DISTINCT revision, substr(hts_code, 1, 8) AS h8 FROM lines WHERE level = 10),
leaves AS (
    SELECT revision, hts_code AS hts10, hts_code AS own FROM lines WHERE level = 10
    UNION ALL
    SELECT l.revision, l.hts_code || '00', l.hts_code FROM lines l
    LEFT JOIN kids k ON k.revision = l.revision AND k.h8 = l.hts_code
    WHERE l.level = 8 AND k.h8 IS NULL
),
inherit AS (
    SELECT lv.revision, lv.hts10, coalesce(t.description, '') AS description,
           (t.rate_form = 'none' OR t.general_text IS NULL) AND p.hts_code IS NOT NULL AS up, t, p
    FROM leaves lv
    JOIN lines t ON t.revision = lv.revision AND t.hts_code = lv.own
    LEFT JOIN lines p ON p.revision = lv.revision AND p.hts_code = substr(lv.hts10, 1, 8) AND p.level = 8
)
SELECT revision, hts10, description,
       CASE WHEN up THEN p.general_text ELSE t.general_text END AS general_text,
       CASE WHEN up THEN p.rate_form ELSE t.rate_form END AS rate_form,
       CASE WHEN up THEN p.ad_valorem ELSE t.ad_valorem END AS ad_valorem,
       CASE WHEN up THEN p.specific_rate ELSE t.specific_rate END AS specific_rate,
       CASE WHEN up THEN p.specific_unit ELSE t.specific_unit END AS specific_unit,
       CASE WHEN up THEN p.specific_rate_2 ELSE t.specific_rate_2 END AS specific_rate_2,
       -- column 2 ("other"): printed on the 8-digit line like column 1, so statistical lines inherit it
       coalesce(nullif(trim(t.other_text), ''), p.other_text) AS other_text
FROM inherit
ORDER BY revision, hts10
"""


def _ave_lookup(con, revision: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AVEs of specific rates from the schedule module: (hts10, ave, basis) arrays, codes sorted with each
    code's last row kept (as a dict built over the rows kept it); empty when the table cannot be built."""
    try:
        t = mfn_ave_table(con, revision)
    except Exception:  # noqa: BLE001 - an AVE table we cannot build is reported by the basis column
        return np.array([], dtype="U10"), np.array([], dtype=float), np.array([], dtype=object)
    codes = t.column("hts10").to_numpy(zero_copy_only=False).astype(str)
    ave = t.column("ave").to_numpy(zero_copy_only=False).astype(float)
    basis = _texts(t.column("ave_basis"))
    # np.unique keeps each code's first row: taking it over the reversed rows keeps the last
    uniq, first = np.unique(codes[::-1], return_index=True)
    keep = len(codes) - 1 - first
    return uniq, ave[keep], basis[keep]


_CACHE: dict[tuple[object, str], MfnTable] = {}  # (con_key, revision)
_BUILD_LOCK = threading.RLock()  # re-entrant: a build that came to need another table must not wait on itself


_CANON: dict[object, dict[str, str]] = {}
# (con_key, revision) -> the revision's AVEs of specific rates (``_ave_lookup``: sorted codes, AVE with nan where
# none is available, basis)
_AVE_CACHE: dict[tuple[object, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def drop_tables() -> int:
    """Forget the MFN tables and the AVEs (rebuilt from the warehouse on next use, as in a new process); how
    many entries went. Only with no table being built: ``_build`` reads the AVEs back as it fills them
    (``mfn_table`` and ``prefetch`` themselves answer from what they loaded, not from a second read).
    Both go together, so nothing of a dropped table outlives it."""
    n = len(_CACHE) + len(_AVE_CACHE)
    _CACHE.clear()
    _AVE_CACHE.clear()
    return n


def canonical(con, revision: str) -> str:
    """The first revision with exactly the same chapter 1-98 lines and rate texts (most revisions only change
    chapter 99): revisions sharing a fingerprint share one MFN table."""
    key = con_key(con)
    if key not in _CANON:
        rows = db.query(con, """SELECT l.revision, sum(hash(l.hts_code || '|' || coalesce(l.general_text, '') || '|' || coalesce(l.other_text, ''))) AS fp,
                                       min(r.seq) AS seq
                                FROM hts_lines l JOIN hts_revisions r USING (revision)
                                WHERE l.level >= 8 AND l.hts_code NOT LIKE '99%' GROUP BY l.revision ORDER BY seq""").to_pylist()
        first: dict = {}
        _CANON[key] = {}
        for r in rows:
            _CANON[key][r["revision"]] = first.setdefault(r["fp"], r["revision"])
    return _CANON[key].get(revision, revision)


def mfn_table(con, revision: str) -> MfnTable:
    """The HTS10 leaves of ``revision`` with their MFN AVE (cached per connection)."""
    got = _CACHE.get((con_key(con), revision))
    return got if got is not None else prefetch(con, [revision])[revision]


def prefetch(con, revisions_: list[str]) -> dict[str, MfnTable]:
    """Load the MFN tables of several revisions in one query; revisions with identical lines share a table.

    Returns the tables by revision, read from what this call found or built: the cache itself may be
    cleared by another thread meanwhile (the bound below; a server dropping it while idle), which made a
    second read of it raise KeyError."""
    ck = con_key(con)
    if len(_CACHE) > 64:  # bound the cache (whole: tables are shared between aliased revisions)
        _CACHE.clear()
    out: dict[str, MfnTable] = {}
    for r in dict.fromkeys(revisions_):
        got = _CACHE.get((ck, r))
        if got is not None:
            out[r] = got
    canon = {r: canonical(con, r) for r in dict.fromkeys(revisions_) if r not in out}
    for r, c in canon.items():
        got = _CACHE.get((ck, c))
        if got is not None:
            out[r] = got
    todo = sorted({c for r, c in canon.items() if r not in out})
    if todo:
        # one builder at a time: two threads asking for the same revision (the brief's backtest and timeline) built
        # it twice; the second now waits and takes the first's table
        with _BUILD_LOCK:
            built: dict[str, MfnTable] = {}
            for rev in todo:
                got = _CACHE.get((ck, rev))
                if got is not None:
                    built[rev] = got
            rest = [rev for rev in todo if rev not in built]
            if rest:
                t = db.query(con, _SQL, [rest])
                revcol = t.column("revision").to_numpy(zero_copy_only=False).astype(object)
                for rev in rest:
                    idx = np.flatnonzero(revcol == rev)
                    if len(idx) == 0:
                        raise DataNotFoundError(f"no HTS lines for revision {rev} in the warehouse")
                    built[rev] = _build(con, rev, t.take(idx))
                    _CACHE[(ck, rev)] = built[rev]  # under its canonical revision too: later aliases find it
        for r, c in canon.items():
            if r not in out:
                out[r] = built[c]
    for r, table in out.items():
        _CACHE[(ck, r)] = table
    return out


def _texts(column, null: str | None = None) -> np.ndarray:
    """A string column as an object array in which equal texts are one (interned) object: the ~30,000 lines of a
    table repeat a few hundred rate texts, and the tables of several revisions share codes and descriptions, so
    each text is held once instead of once per line and revision. Dictionary-encoding finds the distinct texts
    in C; only those are interned."""
    enc = column.combine_chunks().dictionary_encode() if hasattr(column, "combine_chunks") else column.dictionary_encode()
    distinct = np.empty(len(enc.dictionary) + 1, dtype=object)
    distinct[:-1] = [sys.intern(v) for v in enc.dictionary.to_pylist()]
    distinct[-1] = null  # what NULL becomes
    return distinct[enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)]


def _each(values: np.ndarray, fmt) -> list:
    """``fmt`` of each value, computed once per distinct value (one shared text per distinct result)."""
    memo: dict = {}
    return [memo[v] if v in memo else memo.setdefault(v, fmt(v)) for v in values.tolist()]


def _build(con, revision: str, t) -> MfnTable:
    # DOUBLE columns come as float64 with nan for NULL
    adv, spec, spec2 = (t.column(c).to_numpy(zero_copy_only=False).astype(float, copy=False)
                        for c in ("ad_valorem", "specific_rate", "specific_rate_2"))
    form = _texts(t.column("rate_form"), null="none")
    form[form == ""] = "none"
    hts10 = _texts(t.column("hts10"))
    ave = np.where(np.isnan(adv), 0.0, adv)
    basis = np.full(len(form), "", dtype=object)
    basis[form == "free"] = "free"
    basis[form == "ad_valorem"] = "ad valorem"
    needs = np.flatnonzero(~np.isnan(spec))
    cid = con_key(con)
    # A line's AVE belongs to its revision: the HS8/HS6 unit values behind it pool the revision's own lines, so
    # the same code and text can take another AVE in another revision. It is computed per revision (keyed by
    # revision too); a cache keyed by code and text alone made a line's duty depend on which revision a process
    # had built first.
    if len(needs):
        got = _AVE_CACHE.get((cid, revision))
        if got is None:
            got = _AVE_CACHE[(cid, revision)] = _ave_lookup(con, revision)
        codes, aves, bases = got
        want = hts10[needs].astype(str)
        pos = np.minimum(np.searchsorted(codes, want), max(len(codes) - 1, 0))
        found = codes[pos] == want if len(codes) else np.zeros(len(needs), dtype=bool)
        found[found] = ~np.isnan(aves[pos[found]])
        ave[needs[found]] = aves[pos[found]]
        basis[needs[found]] = _each(bases[pos[found]], str)
        basis[needs[~found]] = "specific part without AVE (ad valorem part only)"
    other = np.flatnonzero(basis == "")
    basis[other] = _each(form[other], lambda f: f"rate form {f}: treated as 0")
    units = _texts(t.column("specific_unit"))
    adv0 = np.where(np.isnan(adv), 0.0, adv)
    other_text = _texts(t.column("other_text"))
    col2, col2_basis = column2_ave(other_text, adv0, spec, units, ave, basis)
    return MfnTable(revision, hts10, _texts(t.column("description")), _texts(t.column("general_text")),
                    form, adv0, spec, units, spec2, ave, basis, other_text, col2, col2_basis)


_PARSED2: dict[str, tuple[float, float, str | None, float, str | None, bool]] = {}


def _parse2(text: str) -> tuple[float, float, str | None, float, str | None, bool]:
    """(ad valorem, specific, unit, second specific, its unit, parsed) of a column 2 text, cached by text."""
    got = _PARSED2.get(text)
    if got is None:
        p = parse_rate(text)
        ok = p.form in ("free", "ad_valorem", "specific", "compound")
        got = _PARSED2[text] = (p.ad_valorem or 0.0, np.nan if p.specific_rate is None else p.specific_rate, p.specific_unit,
                                np.nan if p.specific_rate_2 is None else p.specific_rate_2, p.specific_unit_2, ok)
    return got


def column2_ave(other_text, adv1: np.ndarray, spec1: np.ndarray, unit1: np.ndarray, ave1: np.ndarray,
                basis1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column 2 rates as ad valorem equivalents: the ad valorem part, plus specific parts converted with the unit value
    the column 1 AVE implies for the same unit (s1 / (AVE1 - ad valorem1): column 2 taxes the same goods). A line
    without column 2 text, or with text that does not parse, keeps column 1 (and says so)."""
    n = len(ave1)
    out = np.array(ave1, dtype=float, copy=True)
    why = np.full(n, "no column 2 text: column 1 rate", dtype=object)
    texts = np.asarray(other_text, dtype=object)
    has = np.flatnonzero([bool(v) for v in texts.tolist()])
    if not len(has):
        return out, why
    # each distinct text is parsed once; its parts are then spread over the lines that carry it
    distinct, inverse = np.unique(np.array([str(v) for v in texts[has].tolist()], dtype=object), return_inverse=True)
    parsed = [_parse2(v) for v in distinct.tolist()]
    av, s, s_2 = (np.array([p[k] for p in parsed], dtype=float)[inverse] for k in (0, 1, 3))
    u, u_2, ok = (np.array([p[k] for p in parsed], dtype=object)[inverse] for k in (2, 4, 5))
    ok = ok.astype(bool)
    bad = has[~ok]
    why[bad] = _each(texts[bad], lambda v: f"column 2 text {v!r} not parsed: column 1 rate")
    adv_only = ok & np.isnan(s)
    out[has[adv_only]], why[has[adv_only]] = av[adv_only], "column 2 ad valorem"
    spec = ok & ~np.isnan(s)
    i = has[spec]
    av, s, s_2, u, u_2 = av[spec], s[spec], s_2[spec], u[spec], u_2[spec]
    spec_part = ave1[i] - adv1[i]
    with np.errstate(invalid="ignore"):
        conv = (~np.isnan(spec1[i]) & (spec1[i] > 0) & np.array([a == b for a, b in zip(unit1[i].tolist(), u.tolist(), strict=True)], dtype=bool)
                & (spec_part > 0) & np.array(["without AVE" not in str(b) for b in basis1[i].tolist()], dtype=bool))
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_value = spec1[i] / spec_part
        same_2 = ~np.isnan(s_2) & np.array([a == b for a, b in zip(u_2.tolist(), u.tolist(), strict=True)], dtype=bool)
        extra = s + np.where(same_2, s_2, 0.0)
        out[i] = np.where(conv, av + extra / unit_value, av)
    why[i[conv]] = _each(basis1[i[conv]], lambda b: f"column 2 specific part at the unit value of column 1's AVE ({b})")
    why[i[~conv]] = "column 2 specific part without unit value (ad valorem part only)"
    return out, why


def revisions_with_code(con, hts10: str) -> list[str]:
    rows = db.query(con, """SELECT DISTINCT l.revision, r.effective_date FROM hts_lines l JOIN hts_revisions r USING (revision)
                            WHERE l.hts_code = ? ORDER BY r.effective_date""", [hts10]).to_pylist()
    return [r["revision"] for r in rows]
