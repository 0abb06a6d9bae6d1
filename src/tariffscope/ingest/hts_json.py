"""USITC HTS JSON exports, one revision per file (``hts/hts_2025_rev_17.json.gz``).

The file is a list of objects ``{htsno, indent, description, superior, units, general, special,
other, footnotes, quotaQuantity, additionalDuties}``. We keep every numbered line: Chapter 99
headings 9903.xx.xx (the additional duties: Section 232, 301, IEEPA, 122 ...) go to
``chapter99_lines`` with the add-on rate read from their text; every other line (chapters 01-97 and
the rest of chapter 99) goes to ``hts_lines`` with its raw rate texts and the column-1 general rate
parsed by ``tariffscope.ingest.rate_text.parse_rate`` (on the line's own text: statistical lines
that inherit the rate of the 8-digit line above keep an empty text, see ``tariffs.schedule.inherit_rate_text``).
Un-numbered header rows (``superior``) carry no code and are counted in the notes.

The revision name comes from the file name (``2025_basic``, ``2025_rev_17``, ``2026_rev_10``) and its
dates from ``revision_dates.csv`` beside the file, else from the copy shipped with the package
(``data/hts/revision_dates.csv``, built by ``scripts/build_hts_revision_dates.py``), where listed.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tariffscope import config
from tariffscope.errors import IngestError
from tariffscope.ingest.common import CHAPTER99_LINES, HTS_LINES, HTS_REVISIONS, ParsedFile, make_table, read_bytes
from tariffscope.ingest.rate_text import ParsedRate, parse_rate

KIND = "hts_json"
PUBLISHER = "US International Trade Commission (Harmonized Tariff Schedule)"
FIELDS = ("htsno", "indent", "description", "units", "general", "special", "other", "footnotes")
_NAME = re.compile(r"(?:hts_)?(\d{4})_(basic|rev_(\d+))", re.IGNORECASE)


RATE_COLUMNS = ["rate_form", "ad_valorem", "specific_rate", "specific_unit", "specific_rate_2", "specific_unit_2", "parse_note"]


@functools.cache
def _rate(text: str) -> ParsedRate:
    return parse_rate(text)


def ch99_addon(p: ParsedRate) -> float | None:
    """The ad valorem add-on a Chapter 99 heading's general text gives ('... subheading + 25%' -> 0.25)."""
    return p.ad_valorem if p.form in ("subheading_plus", "ad_valorem", "free") else None


def rate_table(texts: list[str | None]) -> pa.Table:
    """Parsed column-1 rate components for each distinct text (key: the text, '' for none).

    One function for the reader and the embedded loader, so both give the same parsed columns.
    """
    keys = sorted({t or "" for t in texts})
    ps = [_rate(k) for k in keys]
    cols = {"rate_key": pa.array(keys, pa.string())}
    for c in RATE_COLUMNS:
        attr = "form" if c == "rate_form" else "note" if c == "parse_note" else c
        cols[c] = pa.array([getattr(p, attr) for p in ps], HTS_LINES.field(c).type)
    cols["ch99_ad_valorem"] = pa.array([ch99_addon(p) for p in ps], pa.float64())
    return pa.table(cols)


def revision_name(path: Path) -> tuple[str, int, int]:
    """'hts_2025_rev_17.json.gz' -> ('2025_rev_17', 2025, seq 202517); basic editions are rev 0."""
    m = _NAME.search(path.name)
    if not m:
        raise IngestError(path, None, "cannot tell the revision from the file name (expected hts_YYYY_basic or hts_YYYY_rev_N)")
    year, rev = int(m.group(1)), int(m.group(3) or 0)
    return (f"{year}_basic" if rev == 0 else f"{year}_rev_{rev}"), year, year * 100 + rev


# Shipped with the package (derived from the raw hts/revision_dates.csv, see provenance.json beside it):
# ingest never reads the raw data folder at run time.
PACKAGED_DATES = config.PACKAGE_DIR / "data" / "hts" / "revision_dates.csv"


@functools.cache
def _revision_dates(csv_path: Path) -> dict[str, dict[str, str]]:
    out = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            name = r["revision"]
            out[name if name.startswith("20") else f"2025_{name}"] = r
    return out


def _date(v: str | None) -> dt.date | None:
    return dt.date.fromisoformat(v) if v and v != "NA" else None


def revision_row(path: Path, sha256: str, revision: str, year: int, seq: int, dates_csv: Path | None = None) -> dict:
    for cand in (dates_csv, path.parent / "revision_dates.csv", PACKAGED_DATES):
        if cand is not None and Path(cand).is_file():
            info = _revision_dates(Path(cand)).get(revision)
            break
    else:
        info = None
    event = info.get("policy_event") if info else None
    return dict(
        revision=revision, year=year, seq=seq,
        effective_date=_date(info.get("effective_date")) if info else None,
        policy_effective_date=_date(info.get("policy_effective_date")) if info else None,
        policy_event=None if event in (None, "", "NA") else event,
        source_file=path.name, sha256=sha256,
    )


def _text(v) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _footnotes(v) -> str | None:
    if not v:
        return None
    parts = [" ".join(str(f.get("value", "")).split()) for f in v if isinstance(f, dict)]
    return " | ".join(p for p in parts if p) or None


def parse(path: str | Path, source: str | None = None, vintage: str | None = None, revision: str | None = None,
          dates_csv: Path | None = None, sha256: str | None = None) -> ParsedFile:
    """``sha256``: the file's digest when the caller has it (``core.ingest`` hashes every file once)."""
    path = Path(path)
    data = read_bytes(path)
    sha = sha256 or hashlib.sha256(Path(path).read_bytes()).hexdigest()
    rev, year, seq = revision_name(Path(revision + ".json") if revision else path)
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(path, getattr(exc, "lineno", None), f"not valid JSON ({exc})") from None
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        raise IngestError(path, 1, "wrong header: expected the USITC HTS JSON list of line objects")
    missing = [f for f in FIELDS if f not in doc[0]]
    if missing:
        raise IngestError(path, 1, f"wrong header: entry 1 has no {missing}")
    return build(path, doc, rev, year, seq, sha, source, vintage, dates_csv)


def build(path: Path, doc: list[dict], rev: str, year: int, seq: int, sha: str, source: str | None = None,
          vintage: str | None = None, dates_csv: Path | None = None, kind: str = KIND) -> ParsedFile:
    """HTS line objects (as in the JSON export) -> hts_lines, chapter99_lines and the hts_revisions row."""
    # Column-wise: validate once over the whole file, then build each column with one comprehension.
    need = set(FIELDS)
    bad = next((i for i, e in enumerate(doc, 1) if not isinstance(e, dict) or not need <= e.keys()), None)
    if bad is not None:
        raise IngestError(path, bad, f"entry {bad}: not an HTS line object with fields {list(FIELDS)}")
    numbered = [(i, e) for i, e in enumerate(doc, 1) if (e["htsno"] or "").strip()]
    headers = len(doc) - len(numbered)
    htsno = pa.array([e["htsno"].strip() for _, e in numbered], pa.string())
    ok = pc.match_substring_regex(htsno, r"^\d{4}(\.\d{2}){0,3}$")
    if not pc.all(ok).as_py():
        j = pc.index(ok, False).as_py()
        i = numbered[j][0]
        raise IngestError(path, i, f"entry {i}: bad HTS number {htsno[j].as_py()!r}")
    codes = pc.replace_substring(htsno, ".", "").to_pylist()
    if len(set(codes)) != len(codes):
        seen: set[str] = set()
        for (i, _), c in zip(numbered, codes, strict=False):
            if c in seen:
                raise IngestError(path, i, f"entry {i}: HTS number {c} appears twice")
            seen.add(c)
    indents = []
    for i, e in numbered:
        v = e["indent"]
        try:
            indents.append(int(v) if v not in (None, "") else None)
        except (TypeError, ValueError):
            raise IngestError(path, i, f"entry {i}: bad indent {v!r}") from None
    is99 = [c.startswith("9903") for c in codes]
    general = [_text(e["general"]) for _, e in numbered]
    parsed = {t: _rate(t or "") for t in set(general)}
    keep = [not x for x in is99]

    def col(values: list, mask: list[bool]) -> list:
        return [v for v, m in zip(values, mask, strict=False) if m]

    desc = [_text(e["description"]) for _, e in numbered]
    notes_col = [_footnotes(e["footnotes"]) for _, e in numbered]
    g_lines = col(general, keep)
    p_lines = [parsed[g] for g in g_lines]
    units = [", ".join(str(u) for u in e["units"]) if isinstance(e["units"], list) and e["units"] else
             (None if isinstance(e["units"], list) else _text(e["units"])) for _, e in numbered]
    lines = {
        "revision": [rev] * len(p_lines), "hts_code": col(codes, keep), "level": [len(c) for c in col(codes, keep)],
        "indent": col(indents, keep), "description": col(desc, keep), "units": col(units, keep), "general_text": g_lines,
        "special_text": col([_text(e["special"]) for _, e in numbered], keep),
        "other_text": col([_text(e["other"]) for _, e in numbered], keep), "footnotes": col(notes_col, keep),
        "rate_form": [p.form for p in p_lines], "ad_valorem": [p.ad_valorem for p in p_lines],
        "specific_rate": [p.specific_rate for p in p_lines], "specific_unit": [p.specific_unit for p in p_lines],
        "specific_rate_2": [p.specific_rate_2 for p in p_lines], "specific_unit_2": [p.specific_unit_2 for p in p_lines],
        "parse_note": [p.note for p in p_lines],
    }
    g99 = col(general, is99)
    ch99 = {
        "revision": [rev] * len(g99), "heading": col(codes, is99), "indent": col(indents, is99),
        "description": col(desc, is99), "general_text": g99,
        "ad_valorem": [ch99_addon(parsed[g]) for g in g99],
        "footnotes": col(notes_col, is99),
    }
    hts = pa.table({f.name: pa.array(lines[f.name], f.type) for f in HTS_LINES}, schema=HTS_LINES)
    c99 = pa.table({f.name: pa.array(ch99[f.name], f.type) for f in CHAPTER99_LINES}, schema=CHAPTER99_LINES)
    rrow = revision_row(path, sha, rev, year, seq, dates_csv)
    revs = make_table(HTS_REVISIONS, 1, {k: pa.array([v], HTS_REVISIONS.field(k).type) for k, v in rrow.items()})
    notes = [f"{headers} un-numbered header rows not stored"] if headers else []
    if rrow["effective_date"] is None:
        notes.append(f"{rev} is not listed in revision_dates.csv: no effective date recorded")
    return ParsedFile(
        kind, path, {"hts_lines": hts, "chapter99_lines": c99, "hts_revisions": revs},
        source or f"hts_{rev}", f"Harmonized Tariff Schedule of the United States, {rev.replace('_', ' ')}",
        PUBLISHER, vintage or rev, notes,
    )


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["hts_lines"]
