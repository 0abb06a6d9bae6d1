"""The MFN tables of HTS revisions built the fast way (arrays, interned texts, a query reading each revision's lines
once) equal, in every column and line, those of main's code (at ba65d09), kept here as the reference: its query,
its line-by-line builder and its mfn_ave_table. Compared in the test warehouse itself, for every embedded revision,
built alone, batched and one after another, on one DuckDB thread (as the warehouse's readers sum)."""
from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from dataclasses import fields

import numpy as np
import pytest

from tariffscope import db
from tariffscope.ingest.rate_text import parse_rate
from tariffscope.tariffs import hts

ave_mod = importlib.import_module("tariffscope.tariffs.schedule.ave")
# --- main's builder (ba65d09: tariffs/hts.py and schedule/ave.py), verbatim but for names -----------------

def old_mfn_ave_table(con, revision: str, year: int = 2024, source: str = "census_hs10_imports_2024",
                  partners: Sequence[str] = ave_mod.MFN_REFERENCE_PARTNERS):
    """main's mfn_ave_table (its query is unchanged, its Python part converted columns through lists). MFN ad valorem equivalents of every HTS10 line of a revision (chapters 01-97), with their basis.

    Returns a pyarrow Table: ``hts10, rate_from, rate_form, general_text, ad_valorem, specific_rate,
    specific_unit, specific_rate_2, specific_unit_2, unit_value, unit_value_level, specific_ave, ave,
    ave_basis``. ``ave`` is the whole column-1 general rate as a fraction of customs value (ad valorem
    part + specific parts); ``ave_basis`` is one of free, ad_valorem, unit_value_hs10, realized_hs10,
    unit_value_hs8, unit_value_hs6, no_unit_value, unparsed, none (see the comment above
    ``MFN_REFERENCE_PARTNERS``). ``source`` names the trade_flows rows with calculated duty used for the
    realized rates; ``partners`` the origins taken to pay the general rate.
    """
    import numpy as np
    import pyarrow as pa

    units = sorted(ave_mod._QUANTITY_UNITS.items())
    con.register("qunits", pa.table({"quantity_unit": [u for u, _ in units] + [u.upper() for u, _ in units],
                                     "rate_unit": [r for _, r in units] * 2}))
    # 'partial base' is read from the text itself (not the stored parse_note), so lines ingested with an
    # older parser are treated the same
    texts = [r[0] for r in con.execute("SELECT DISTINCT general_text FROM hts_lines WHERE revision = ? AND general_text IS NOT NULL",
                                       [revision]).fetchall()]
    partial_texts = [t_ for t_ in texts if parse_rate(t_).partial_base]
    try:
        rel = con.sql(
            ave_mod._AVE_SQL,
            params={"rev": revision, "source": source, "period": str(year), "partners": list(partners),
                    "partial_texts": partial_texts},
        )
        t = rel.to_arrow_table()
    finally:
        con.unregister("qunits")
    if t.num_rows == 0:
        from tariffscope.errors import DataNotFoundError

        raise DataNotFoundError(f"no HTS10 lines for revision {revision} in the warehouse")
    n = t.num_rows

    def col(name: str) -> np.ndarray:
        return np.array([np.nan if v is None else float(v) for v in t.column(name).to_pylist()], dtype=float)

    form = np.array(t.column("rate_form").to_pylist(), dtype=object)
    av = col("ad_valorem")
    s1, s2 = col("specific_rate"), col("specific_rate_2")
    u1 = np.array(t.column("specific_unit").to_pylist(), dtype=object)
    u2 = np.array(t.column("specific_unit_2").to_pylist(), dtype=object)
    uv_obs, uv8, uv6 = col("uv_obs"), col("uv_hs8"), col("uv_hs6")
    rz_v, rz_d = col("realized_value"), col("realized_duty")

    partial = np.array([bool(v) for v in t.column("partial").to_pylist()], dtype=bool)
    has_spec = ~np.isnan(s1)
    needs = has_spec | partial           # lines whose AVE is not just the ad valorem rate
    convertible = has_spec & ~partial    # specific parts a unit value of the goods can convert
    av0 = np.where(np.isnan(av), 0.0, av)
    same_unit_2 = ~np.isnan(s2) & (u2 == u1)
    s_total = np.where(has_spec, s1 + np.where(same_unit_2, s2, 0.0), np.nan)

    uv = np.full(n, np.nan)
    level = np.full(n, None, dtype=object)
    ave_v = np.full(n, np.nan)
    basis = np.full(n, None, dtype=object)
    # 1. observed HTS10 unit values
    m = convertible & (uv_obs > 0)
    uv[m], level[m], basis[m] = uv_obs[m], "hs10", "unit_value_hs10"
    # 2. realized duty of the line itself (AVE directly); for a convertible line only where the duty exceeds
    #    the ad valorem part (otherwise part of the trade did not pay the rate)
    paid = np.where(partial, rz_d > 0, rz_d - av0 * rz_v > 0)
    m2 = needs & np.isnan(uv) & (rz_v > 0) & paid
    ave_v[m2], basis[m2] = rz_d[m2] / rz_v[m2], "realized_hs10"
    # 3./4. group unit values
    for arr_, name in ((uv8, "hs8"), (uv6, "hs6")):
        m3 = convertible & np.isnan(uv) & (basis == None) & (arr_ > 0)  # noqa: E711 - numpy elementwise
        uv[m3], level[m3], basis[m3] = arr_[m3], name, f"unit_value_{name}"
    with np.errstate(invalid="ignore", divide="ignore"):
        conv = convertible & (uv > 0)
        ave_v[conv] = av0[conv] + s_total[conv] / uv[conv]
    spec_ave = np.where(has_spec & ~np.isnan(ave_v), ave_v - av0, np.nan)
    spec_ave[partial] = np.nan
    basis[convertible & (basis == None)] = "no_unit_value"  # noqa: E711 - numpy elementwise
    basis[partial & (basis == None)] = "partial_base_no_realized_duty"  # noqa: E711 - numpy elementwise
    part2 = convertible & ~np.isnan(s2) & ~same_unit_2 & (basis != "realized_hs10")
    basis[part2] = [f"{b}; second specific part per {u} not converted" for b, u in zip(basis[part2], u2[part2], strict=True)]
    for f in ("free", "ad_valorem"):
        mf = (form == f) & ~needs
        ave_v[mf], basis[mf] = av0[mf], f
    for f in ("none", "unparsed", "subheading_plus"):
        mf = (form == f) & (basis == None)  # noqa: E711 - numpy elementwise
        basis[mf] = f

    def arr(x: np.ndarray) -> pa.Array:
        return pa.array([None if v != v else float(v) for v in x], pa.float64())

    out = t.select(["hts10", "rate_from", "rate_form", "general_text", "ad_valorem", "specific_rate", "specific_unit",
                    "specific_rate_2", "specific_unit_2"])
    out = out.append_column("unit_value", arr(uv)).append_column("unit_value_level", pa.array(level.tolist(), pa.string()))
    out = out.append_column("specific_ave", arr(spec_ave)).append_column("ave", arr(ave_v))
    out = out.append_column("ave_basis", pa.array(basis.tolist(), pa.string()))
    return out


OLD_SQL = """
WITH lines AS (SELECT * FROM hts_lines WHERE revision IN (SELECT unnest(?::VARCHAR[]))),
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

def old_ave_lookup(con, revision: str):
    try:
        t = old_mfn_ave_table(con, revision)
    except Exception:  # noqa: BLE001 - as main's builder did
        return {}
    return {r["hts10"]: (r["ave"], r["ave_basis"]) for r in t.select(["hts10", "ave", "ave_basis"]).to_pylist()}


_OLD_AVE: dict = {}


def old_build(con, revision: str, t) -> hts.MfnTable:
    col = {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}
    adv = np.array([np.nan if v is None else float(v) for v in col["ad_valorem"]], dtype=float)
    spec = np.array([np.nan if v is None else float(v) for v in col["specific_rate"]], dtype=float)
    spec2 = np.array([np.nan if v is None else float(v) for v in col["specific_rate_2"]], dtype=float)
    form = np.array([f or "none" for f in col["rate_form"]], dtype=object)
    ave = np.where(np.isnan(adv), 0.0, adv)
    basis = np.where(form == "free", "free", np.where(form == "ad_valorem", "ad valorem", "")).astype(object)
    needs = ~np.isnan(spec)
    cid = hts.con_key(con)
    # A line's AVE belongs to its revision: the HS8/HS6 unit values behind it pool the revision's own lines, so
    # the same code and text can take another AVE in another revision. It is computed per revision (keyed by
    # revision too); a cache keyed by code and text alone made a line's duty depend on which revision a process
    # had built first.
    if needs.any() and (cid, revision, "*") not in _OLD_AVE:
        where = {c: i for i, c in enumerate(col["hts10"])}
        for code, got in old_ave_lookup(con, revision).items():
            pos = where.get(code)
            if pos is not None:
                _OLD_AVE[(cid, revision, code)] = got
        _OLD_AVE[(cid, revision, "*")] = (None, "computed")
    for i in np.flatnonzero(needs):
        got = _OLD_AVE.get((cid, revision, col["hts10"][i]))
        if got and got[0] is not None and not np.isnan(got[0]):
            ave[i] = float(got[0])
            basis[i] = str(got[1])
        else:
            basis[i] = "specific part without AVE (ad valorem part only)"
    other = basis == ""
    basis[other] = np.array([f"rate form {f}: treated as 0" for f in form[other]], dtype=object)
    units = np.array(col["specific_unit"], dtype=object)
    adv0 = np.where(np.isnan(adv), 0.0, adv)
    col2, col2_basis = old_column2_ave(col["other_text"], adv0, spec, units, ave, basis)
    return hts.MfnTable(revision, col["hts10"].astype(object), col["description"].astype(object), col["general_text"].astype(object),
                    form, adv0, spec, units, spec2, ave, basis,
                    np.array(col["other_text"], dtype=object), col2, col2_basis)


_OLD_PARSED2: dict[str, tuple[float, float, str | None, float, str | None, bool]] = {}


def old_parse2(text: str) -> tuple[float, float, str | None, float, str | None, bool]:
    """(ad valorem, specific, unit, second specific, its unit, parsed) of a column 2 text, cached by text."""
    got = _OLD_PARSED2.get(text)
    if got is None:
        p = parse_rate(text)
        ok = p.form in ("free", "ad_valorem", "specific", "compound")
        got = _OLD_PARSED2[text] = (p.ad_valorem or 0.0, np.nan if p.specific_rate is None else p.specific_rate, p.specific_unit,
                                np.nan if p.specific_rate_2 is None else p.specific_rate_2, p.specific_unit_2, ok)
    return got


def old_column2_ave(other_text, adv1: np.ndarray, spec1: np.ndarray, unit1: np.ndarray, ave1: np.ndarray,
                basis1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column 2 rates as ad valorem equivalents: the ad valorem part, plus specific parts converted with the unit value
    the column 1 AVE implies for the same unit (s1 / (AVE1 - ad valorem1): column 2 taxes the same goods). A line
    without column 2 text, or with text that does not parse, keeps column 1 (and says so)."""
    n = len(ave1)
    out = np.array(ave1, dtype=float, copy=True)
    why = np.full(n, "no column 2 text: column 1 rate", dtype=object)
    for i, text in enumerate(other_text):
        if not text:
            continue
        av, s, u, s_2, u_2, ok = old_parse2(str(text))
        if not ok:
            why[i] = f"column 2 text {text!r} not parsed: column 1 rate"
            continue
        if np.isnan(s):
            out[i], why[i] = av, "column 2 ad valorem"
            continue
        spec_part = ave1[i] - adv1[i]
        if not np.isnan(spec1[i]) and spec1[i] > 0 and unit1[i] == u and spec_part > 0 and "without AVE" not in str(basis1[i]):
            unit_value = spec1[i] / spec_part
            extra = s + (s_2 if not np.isnan(s_2) and u_2 == u else 0.0)
            out[i], why[i] = av + extra / unit_value, f"column 2 specific part at the unit value of column 1's AVE ({basis1[i]})"
        else:
            out[i], why[i] = av, "column 2 specific part without unit value (ad valorem part only)"
    return out, why


# --- the comparisons ------------------------------------------------------------------------------------


def old_tables(con, revisions: list[str]) -> dict[str, hts.MfnTable]:
    """main's tables of ``revisions``, each built from its own lines."""
    _OLD_AVE.clear()
    t = db.query(con, OLD_SQL, [revisions])
    revcol = t.column("revision").to_numpy(zero_copy_only=False).astype(object)
    return {rev: old_build(con, rev, t.take(np.flatnonzero(revcol == rev))) for rev in revisions}


def table_digest(t: hts.MfnTable) -> str:
    """Every column but the revision name: its dtype, then the type and value of each object, or the bytes of each
    number (nan as one nan)."""
    h = hashlib.sha256()
    for f in fields(t):
        v = getattr(t, f.name)
        h.update(f.name.encode())
        if f.name == "revision":
            continue
        if isinstance(v, np.ndarray):
            h.update(v.dtype.str.encode())
            if v.dtype == object:
                h.update(repr([(type(x).__name__, x) for x in v.tolist()]).encode())
            else:
                h.update(np.ascontiguousarray(np.where(np.isnan(v), np.nan, v) if v.dtype.kind == "f" else v).tobytes())
        else:
            h.update(repr(v).encode())
    return h.hexdigest()


@pytest.fixture
def fresh_caches(warehouse):
    """Each test builds from empty caches (the process-wide ones are put back after), summing on one DuckDB thread
    as the warehouse's readers do (ingest/warehouse.py): the session's connection may run several, and a parallel
    sum of doubles moves an AVE's last digit from one run of the same query to the next."""
    saved = [(d, dict(d)) for d in (hts._CACHE, hts._AVE_CACHE)]
    threads = warehouse.execute("SELECT current_setting('threads')").fetchall()[0][0]
    warehouse.execute("SET threads = 1")
    hts.drop_tables()
    yield
    warehouse.execute(f"SET threads = {int(threads)}")
    for d, kept in saved:
        d.clear()
        d.update(kept)


def _revisions(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT revision FROM hts_lines ORDER BY 1").fetchall()]


def test_every_revisions_table_equals_mains_alone_batched_and_in_sequence(warehouse, fresh_caches):
    revs = _revisions(warehouse)
    assert len(revs) == 44
    # main built each canonical revision and handed its table to the revisions with the same lines (canonical)
    canon = {r: hts.canonical(warehouse, r) for r in revs}
    old = {r: table_digest(t) for r, t in old_tables(warehouse, sorted(set(canon.values()))).items()}
    want = {r: old[canon[r]] for r in revs}
    alone = {}
    for rev in revs:  # each built first, from empty caches
        hts.drop_tables()
        alone[rev] = table_digest(hts.mfn_table(warehouse, rev))
    assert [r for r in revs if alone[r] != want[r]] == []
    hts.drop_tables()
    batched = {r: table_digest(t) for r, t in hts.prefetch(warehouse, revs).items()}
    assert [r for r in revs if batched[r] != want[r]] == []
    hts.drop_tables()
    for rev in reversed(revs):  # one at a time, newest first: AVE tables shared with revisions built before
        assert table_digest(hts.mfn_table(warehouse, rev)) == want[rev], rev


def test_column2_from_distinct_texts_equals_line_by_line():
    """The vectorized column 2 AVEs against main's loop, on hand-made lines covering each branch."""
    other = np.array([None, "", "Free", "35%", "4.4¢/kg + 20%", "4.4¢/kg", "4.4¢/kg", "$1/each", "garbled text", "4.4¢/kg"],
                     dtype=object)
    adv = np.array([0.0, 0.0, 0.05, 0.1, 0.02, 0.0, 0.0, 0.0, 0.0, 0.03])
    spec = np.array([np.nan, np.nan, np.nan, np.nan, 0.01, 0.02, 0.02, 0.5, np.nan, 0.01])
    unit = np.array([None, None, None, None, "kg", "kg", "liter", "each", None, "kg"], dtype=object)
    ave1 = np.array([0.0, 0.0, 0.05, 0.1, 0.07, 0.04, 0.04, 0.1, 0.0, 0.03])
    basis = np.array(["free", "free", "ad valorem", "ad valorem", "unit_value_hs10", "realized_hs10", "unit_value_hs8",
                      "unit_value_hs6", "ad valorem", "specific part without AVE (ad valorem part only)"], dtype=object)
    got = hts.column2_ave(other, adv, spec, unit, ave1, basis)
    want = old_column2_ave(other, adv, spec, unit, ave1, basis)
    assert got[0].tobytes() == want[0].tobytes() and got[1].tolist() == want[1].tolist()
    assert len(set(got[1].tolist())) >= 6  # the lines reach the different branches
    assert parse_rate("4.4¢/kg + 20%").form == "compound"
