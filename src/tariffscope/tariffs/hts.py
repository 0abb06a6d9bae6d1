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
from dataclasses import dataclass

import numpy as np

from tariffscope import db
from tariffscope.errors import DataNotFoundError, InputError


@dataclass(frozen=True)
class Revision:
    revision: str
    effective_date: dt.date
    policy_effective_date: dt.date | None
    policy_event: str | None


def revisions(con) -> list[Revision]:
    rows = db.query(con, """SELECT revision, effective_date, policy_effective_date, policy_event FROM hts_revisions
                            WHERE effective_date IS NOT NULL ORDER BY effective_date, seq""").to_pylist()
    if not rows:
        raise DataNotFoundError("no HTS revisions in the warehouse: run 'tariffscope data status' to load the embedded data")
    return [Revision(r["revision"], _d(r["effective_date"]), _d(r["policy_effective_date"]), r["policy_event"]) for r in rows]


def _d(v) -> dt.date | None:
    if v is None:
        return None
    return v.date() if isinstance(v, dt.datetime) else v


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

    def position(self, hts10: str) -> int | None:
        i = int(np.searchsorted(self.hts10, hts10))
        return i if i < len(self.hts10) and self.hts10[i] == hts10 else None


_SQL = """
WITH lines AS (SELECT * FROM hts_lines WHERE revision = ?),
leaves AS (
    SELECT hts_code AS hts10, hts_code AS own FROM lines WHERE level = 10
    UNION ALL
    SELECT l.hts_code || '00', l.hts_code FROM lines l
    WHERE l.level = 8 AND NOT EXISTS (SELECT 1 FROM lines c WHERE c.level = 10 AND substr(c.hts_code, 1, 8) = l.hts_code)
)
SELECT lv.hts10,
       coalesce(t.description, '') AS description,
       CASE WHEN t.rate_form IN ('none') OR t.general_text IS NULL THEN p.general_text ELSE t.general_text END AS general_text,
       CASE WHEN t.rate_form IN ('none') OR t.general_text IS NULL THEN p.rate_form ELSE t.rate_form END AS rate_form,
       CASE WHEN t.rate_form IN ('none') OR t.general_text IS NULL THEN p.ad_valorem ELSE t.ad_valorem END AS ad_valorem,
       CASE WHEN t.rate_form IN ('none') OR t.general_text IS NULL THEN p.specific_rate ELSE t.specific_rate END AS specific_rate,
       CASE WHEN t.rate_form IN ('none') OR t.general_text IS NULL THEN p.specific_unit ELSE t.specific_unit END AS specific_unit,
       CASE WHEN t.rate_form IN ('none') OR t.general_text IS NULL THEN p.specific_rate_2 ELSE t.specific_rate_2 END AS specific_rate_2
FROM leaves lv
JOIN lines t ON t.hts_code = lv.own
LEFT JOIN lines p ON p.hts_code = substr(lv.hts10, 1, 8) AND p.level = 8
ORDER BY lv.hts10
"""


def _ave_lookup(con, revision: str):
    """AVEs of specific rates from the schedule module (codes helper), if it provides them: {hts10: (ave, basis)}."""
    try:
        from tariffscope.tariffs.schedule import mfn_ave_table  # type: ignore[attr-defined]
    except ImportError:
        return {}
    try:
        t = mfn_ave_table(con, revision)
    except Exception:  # noqa: BLE001 - an AVE table we cannot build is reported by the basis column
        return {}
    cols = set(t.column_names)
    code = "hts10" if "hts10" in cols else "hts_code"
    ave = "ave" if "ave" in cols else "mfn_ave"
    basis = "ave_basis" if "ave_basis" in cols else ("basis" if "basis" in cols else None)
    out = {}
    for r in t.select([c for c in (code, ave, basis) if c]).to_pylist():
        out[r[code]] = (r[ave], r[basis] if basis else "schedule.mfn_ave_table")
    return out


_CACHE: dict[tuple[str, str], MfnTable] = {}


def _key(con) -> str:
    try:
        return str(db.query(con, "SELECT current_database() AS d, (SELECT count(*) FROM hts_lines) AS n").to_pylist()[0]) + str(id(con))
    except Exception:  # noqa: BLE001
        return str(id(con))


def mfn_table(con, revision: str) -> MfnTable:
    key = (_key(con), revision)
    if key in _CACHE:
        return _CACHE[key]
    t = db.query(con, _SQL, [revision])
    if t.num_rows == 0:
        raise DataNotFoundError(f"no HTS lines for revision {revision} in the warehouse")
    col = {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}
    adv = np.array([np.nan if v is None else float(v) for v in col["ad_valorem"]], dtype=float)
    spec = np.array([np.nan if v is None else float(v) for v in col["specific_rate"]], dtype=float)
    spec2 = np.array([np.nan if v is None else float(v) for v in col["specific_rate_2"]], dtype=float)
    form = np.array([f or "none" for f in col["rate_form"]], dtype=object)
    ave = np.where(np.isnan(adv), 0.0, adv)
    basis = np.where(form == "free", "free", np.where(form == "ad_valorem", "ad valorem", "")).astype(object)
    lookup = _ave_lookup(con, revision)
    needs = ~np.isnan(spec)
    for i in np.flatnonzero(needs):
        got = lookup.get(col["hts10"][i])
        if got and got[0] is not None and not np.isnan(got[0]):
            ave[i] = float(got[0])
            basis[i] = str(got[1])
        else:
            basis[i] = "specific part without AVE (ad valorem part only)"
    other = (basis == "")
    basis[other] = np.array([f"rate form {f}: treated as 0" for f in form[other]], dtype=object)
    table = MfnTable(revision, col["hts10"].astype(object), col["description"].astype(object), col["general_text"].astype(object),
                     form, np.where(np.isnan(adv), 0.0, adv), spec, np.array(col["specific_unit"], dtype=object), spec2, ave, basis)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = table
    return table


def revisions_with_code(con, hts10: str) -> list[str]:
    rows = db.query(con, """SELECT DISTINCT l.revision, r.effective_date FROM hts_lines l JOIN hts_revisions r USING (revision)
                            WHERE l.hts_code = ? ORDER BY r.effective_date""", [hts10]).to_pylist()
    return [r["revision"] for r in rows]
