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

Two readers of one format, giving the same tables:

- ``_read_duckdb`` (every well-formed file): DuckDB parses the JSON in one pass, giving each entry's
  fields and a summary of its shape; the file's few distinct shapes are checked in Python and the
  columns built with Arrow; each distinct rate text is parsed once (in Python, cached).
- ``json.loads`` + ``build`` (column lists in Python; also what ``hts_csv`` uses): the reference, and
  the reader of any file the first one does not take as is (bad JSON, a missing field, a value of an
  unexpected type, a duplicate key, a bad HTS number ...), so that every refusal names the entry
  exactly as before. ``tests/test_ingest_hts_fast.py`` checks that both give the same tables.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import json
import os
import re
import tempfile
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tariffscope import config, db
from tariffscope.errors import IngestError
from tariffscope.ingest.common import CHAPTER99_LINES, HTS_LINES, HTS_REVISIONS, ParsedFile, make_table, read_bytes
from tariffscope.ingest.rate_text import ParsedRate, parse_rate

KIND = "hts_json"
PUBLISHER = "US International Trade Commission (Harmonized Tariff Schedule)"
FIELDS = ("htsno", "indent", "description", "units", "general", "special", "other", "footnotes")
_NAME = re.compile(r"(?:hts_)?(\d{4})_(basic|rev_(\d+))", re.IGNORECASE)


_TEXT_FIELDS = ("htsno", "description", "general", "special", "other")

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
    fast = _read_duckdb(path, data)
    if fast is not None:
        return assemble(path, *fast, rev, year, seq, sha, source, vintage, dates_csv)
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
    # texts are strings (or null): a number or a list would be stored as its Python repr (or crash .strip())
    odd = next(((i, f) for i, e in enumerate(doc, 1) for f in _TEXT_FIELDS
                if e[f] is not None and not isinstance(e[f], str)), None)
    if odd is not None:
        i, f = odd
        raise IngestError(path, i, f"entry {i}: {f} is {type(doc[i - 1][f]).__name__} {doc[i - 1][f]!r:.40}, not text")
    numbered = [(i, e) for i, e in enumerate(doc, 1) if (e["htsno"] or "").strip()]
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
            if indents[-1] is not None and not -(2**31) <= indents[-1] < 2**31:  # the column is a 32-bit integer
                raise ValueError(v)
        except (TypeError, ValueError):
            raise IngestError(path, i, f"entry {i}: bad indent {v!r:.40}") from None
    units = [", ".join(str(u) for u in e["units"]) if isinstance(e["units"], list) and e["units"] else
             (None if isinstance(e["units"], list) else _text(e["units"])) for _, e in numbered]
    lines = pa.table({
        "code": codes, "indent": indents, "description": [_text(e["description"]) for _, e in numbered], "units": units,
        "general": [_text(e["general"]) for _, e in numbered], "special": [_text(e["special"]) for _, e in numbered],
        "other": [_text(e["other"]) for _, e in numbered], "footnotes": [_footnotes(e["footnotes"]) for _, e in numbered],
    }, schema=NUMBERED)
    return assemble(path, lines, len(doc) - len(numbered), rev, year, seq, sha, source, vintage, dates_csv, kind)


# The numbered lines of a revision, as both readers hand them to ``assemble``: the HTS number without
# dots and the line's texts as stored (stripped, '' -> null; units and footnotes joined).
NUMBERED = pa.schema([("code", pa.string()), ("indent", pa.int32()), ("description", pa.string()), ("units", pa.string()),
                      ("general", pa.string()), ("special", pa.string()), ("other", pa.string()), ("footnotes", pa.string())])


def assemble(path: Path, lines: pa.Table, headers: int, rev: str, year: int, seq: int, sha: str, source: str | None = None,
             vintage: str | None = None, dates_csv: Path | None = None, kind: str = KIND) -> ParsedFile:
    """The numbered lines (``NUMBERED``, checked) and the count of un-numbered header rows -> the ParsedFile:
    Chapter 99 headings 9903 to ``chapter99_lines``, the rest to ``hts_lines``, each general rate text
    parsed once per distinct text."""
    rates = rate_table(lines["general"].to_pylist())
    at = pc.index_in(pc.fill_null(lines["general"], ""), value_set=rates["rate_key"])
    is99 = pc.starts_with(lines["code"], "9903")
    keep = pc.invert(is99)
    mine = lines.filter(keep)
    n = mine.num_rows
    hts = pa.table({
        "revision": pa.repeat(pa.scalar(rev, pa.string()), n), "hts_code": mine["code"],
        "level": pc.cast(pc.utf8_length(mine["code"]), pa.int32()), "indent": mine["indent"],
        "description": mine["description"], "units": mine["units"], "general_text": mine["general"],
        "special_text": mine["special"], "other_text": mine["other"], "footnotes": mine["footnotes"],
        **{c: pc.take(rates[c], at.filter(keep)) for c in RATE_COLUMNS},
    }).cast(HTS_LINES)
    ch = lines.filter(is99)
    c99 = pa.table({
        "revision": pa.repeat(pa.scalar(rev, pa.string()), ch.num_rows), "heading": ch["code"], "indent": ch["indent"],
        "description": ch["description"], "general_text": ch["general"],
        "ad_valorem": pc.take(rates["ch99_ad_valorem"], at.filter(is99)), "footnotes": ch["footnotes"],
    }).cast(CHAPTER99_LINES)
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


# --- the DuckDB reader -----------------------------------------------------------------------------

# What Python's str.strip() takes for white space (str.isspace(); a test checks the list): the DuckDB
# reader strips exactly these (Arrow's utf8_trim), so both readers store the same text.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


# One pass over the file: DuckDB parses each entry once into its fields (raw JSON values) and, beside
# them (a positional join with the entries as whole objects), each entry's keys and whether it holds a
# trailing comma (DuckDB's parser lets those through, Python's does not). ``shape`` sums up everything
# ``build`` would look at for that entry; a file has a handful of distinct shapes, checked in Python.
_FAST_SQL = f"""
SELECT to_json({{'keys': o.keys,
                 'types': [{", ".join(f"json_type({f})" for f in FIELDS)}],
                 'unit_types': json_type(units, '$[*]'),
                 'note_types': json_type(footnotes, '$[*]'),
                 'value_types': json_type(footnotes, '$[*].value'),
                 'note_keys': json_keys(footnotes, '$[*]')}}) AS shape,
       o.comma,
       htsno ->> '$' AS htsno, indent ->> '$' AS indent, description ->> '$' AS description,
       general ->> '$' AS general, special ->> '$' AS special, other ->> '$' AS other,
       CASE WHEN json_array_length(units) > 0 THEN array_to_string(from_json(units, '["VARCHAR"]'), ', ') END AS units,
       json_extract_string(footnotes, '$[*].value') AS notes
FROM read_json($file, format = 'array', compression = 'none',
               columns = {{{", ".join(f"{f}: 'JSON'" for f in FIELDS)}}})
POSITIONAL JOIN (SELECT json_keys(json) AS keys, regexp_matches(json, ',[ \\t\\r\\n]*[\\]}}]') AS comma
                 FROM read_json_objects($file, format = 'array', compression = 'none')) AS o
"""
_TEXT = frozenset({"VARCHAR", "NULL"})


def _plain(shape: dict) -> bool:
    """Whether entries of this shape are read by ``build`` exactly as the DuckDB reader reads them: an
    object with every field once (no key twice), texts that are strings or null, units a list of strings
    (or null), footnotes a list of objects each with one string ``value`` (or null). (A field's type is
    null both when the value is null and when the key is missing: ``keys`` tells them apart.)"""
    keys = shape["keys"] or []
    if len(set(keys)) != len(keys) or not set(FIELDS) <= set(keys):
        return False
    field = dict(zip(FIELDS, [t or "NULL" for t in shape["types"]], strict=True))
    if any(field[f] not in _TEXT for f in ("htsno", "indent", "description", "general", "special", "other")):
        return False
    if field["units"] not in ("ARRAY", "NULL") or any(t != "VARCHAR" for t in shape["unit_types"] or []):
        return False
    if field["footnotes"] == "NULL":
        return True
    notes, values, note_keys = shape["note_types"] or [], shape["value_types"] or [], shape["note_keys"] or []
    return (field["footnotes"] == "ARRAY" and all(t == "OBJECT" for t in notes) and len(values) == len(notes)
            and all(t == "VARCHAR" for t in values) and len(note_keys) == len(notes)
            and all(len(set(k)) == len(k) for k in note_keys))


def _stripped(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """``_text`` of a string column: stripped of ``WHITESPACE``, '' -> null."""
    s = pc.utf8_trim(col, WHITESPACE)
    return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)


def _joined_notes(notes: pa.ChunkedArray) -> pa.Array:
    """``_footnotes`` of a column of lists of footnote texts: each text's white space collapsed, the
    non-empty ones joined with ' | ', null when none. Each distinct text is collapsed once."""
    lists = notes.combine_chunks()
    flat = lists.flatten()
    distinct = pc.unique(flat)
    collapsed = pa.array([" ".join(t.split()) for t in distinct.to_pylist()], pa.string())
    texts = pc.take(collapsed, pc.index_in(flat, value_set=distinct))
    keep = pc.not_equal(texts, "")
    per_row = np.bincount(pc.list_parent_indices(lists).filter(keep).to_numpy(), minlength=len(lists))
    offsets = pa.array(np.concatenate([[0], np.cumsum(per_row)]), pa.int32())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, texts.filter(keep)), " | ")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)


_SCRATCH: list[db.Connection] = []
_SCRATCH_LOCK = threading.Lock()


def _cursor() -> db.Connection:
    """A cursor of this process's in-memory DuckDB for reading files (never the warehouse): one per call,
    so that batch threads each have their own; made under a lock (a connection is not thread-safe)."""
    with _SCRATCH_LOCK:
        if not _SCRATCH:
            _SCRATCH.append(db.memory())
        return _SCRATCH[0].cursor()


def _read_duckdb(path: Path, data: bytes) -> tuple[pa.Table, int] | None:
    """The numbered lines (``NUMBERED``) and the count of header rows, read by DuckDB from ``data`` (the
    file's decompressed bytes); None when any entry is not as ``build`` takes it without question (or
    DuckDB refuses the JSON): ``build`` then reads the file and names the entry at fault."""
    try:
        fd, tmp = tempfile.mkstemp(prefix="tariffscope_hts_", suffix=".json")
    except OSError:  # no writable temporary folder: the Python reader needs none
        return None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError:  # no room for a scratch copy: the Python reader needs none
            return None
        cur = _cursor()
        try:
            got = cur.sql(_FAST_SQL, params={"file": tmp}).to_arrow_table()
        except db.DatabaseError:
            return None
        finally:
            cur.close()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    if got.num_rows == 0 or pc.any(got["comma"]).as_py():
        return None
    if not all(_plain(json.loads(s)) for s in pc.unique(got["shape"]).to_pylist()):
        return None
    dotted = pc.fill_null(pc.utf8_trim(got["htsno"], WHITESPACE), "")
    numbered = pc.not_equal(dotted, "")
    lines, dotted = got.filter(numbered), dotted.filter(numbered)
    indent = pc.fill_null(lines["indent"], "")
    if (pc.all(pc.match_substring_regex(dotted, r"^\d{4}(\.\d{2}){0,3}$")).as_py() is False
            or pc.all(pc.match_substring_regex(indent, r"^[0-9]{0,9}$")).as_py() is False):
        return None  # a bad HTS number or indent: build names the entry
    code = pc.replace_substring(dotted, ".", "")
    if pc.count_distinct(code).as_py() != len(code):  # a code twice: build names both entries
        return None
    out = pa.table({
        "code": code, "indent": pc.cast(pc.if_else(pc.equal(indent, ""), pa.scalar(None, pa.string()), indent), pa.int32()),
        "description": _stripped(lines["description"]), "units": lines["units"],
        "general": _stripped(lines["general"]), "special": _stripped(lines["special"]), "other": _stripped(lines["other"]),
        "footnotes": _joined_notes(lines["notes"]),
    })
    return out.cast(NUMBERED), got.num_rows - lines.num_rows


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["hts_lines"]
