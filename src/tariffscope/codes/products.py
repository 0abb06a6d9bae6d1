"""Product codes: the HS/HTS hierarchy (HS2, HS4, HS6, HTS8, HTS10) and descriptions from the HTS.

``normalize_hts`` accepts what people type (``'8703.23.01.40'``, ``'8703230140'``, ``'8703 23'``,
``'8703.23'``) and returns digits; anything that is not 2, 4, 6, 8 or 10 digits raises ``InputError``
with a suggestion. ``describe`` and ``validate_hts10`` read the warehouse table ``hts_lines`` (one
row per numbered line per HTS revision) through the caller's connection (codes sit below ingest, so
they never open the warehouse themselves: ``api.describe_hts`` does): descriptions are the HTS's own, joined up the indent chain
("Motor cars ...: Other vehicles ...: Other: New: ..."). The HTS's un-numbered header rows ("Other:",
"New:") are not in the warehouse; they ship in ``codes/data/hts_headers.csv.gz`` (built from the 44
revisions 2025 basic .. 2026 rev 10 by ``scripts/build_code_lists.py``). For a revision outside that
set, the chain keeps only numbered ancestors (code prefixes).
"""
from __future__ import annotations

import csv
import functools
import gzip
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tariffscope.errors import InputError

if TYPE_CHECKING:
    from tariffscope import db

VALID_LEVELS = (2, 4, 6, 8, 10)
_DATA = Path(__file__).resolve().parent / "data"
_SEPARATORS = re.compile(r"[\s.\-_/]+")


def normalize_hts(text: str | int) -> str:
    """Digits of an HS/HTS code: '8703.23.01.40' / '8703 23 01 40' / '8703230140' -> '8703230140'.

    >>> normalize_hts("8703.23")
    '870323'
    """
    raw = str(text).strip()
    digits = _SEPARATORS.sub("", raw)
    if not digits:
        raise InputError("empty HTS code: give 2, 4, 6, 8 or 10 digits, e.g. 8703.23.01.40 or 8703230140")
    if not digits.isdigit():
        hint = re.sub(r"\D", "", digits)
        sug = f" (did you mean {format_hts(hint)}?)" if len(hint) in VALID_LEVELS else ""
        raise InputError(f"HTS code '{raw}' has characters other than digits and dots{sug}. "
                         "Use e.g. 8703.23.01.40 or 8703230140")
    if len(digits) not in VALID_LEVELS:
        if len(digits) > 10:
            sug = format_hts(digits[:10])
        elif raw.isdigit() and len(digits) + 1 in VALID_LEVELS:  # a leading zero lost by a spreadsheet (0101..0999)
            sug = f"{format_hts('0' + digits)} (leading zero)"
        else:
            sug = format_hts(digits[:-1]) if len(digits) - 1 in VALID_LEVELS else ""
        hint = f" (did you mean {sug}?)" if sug else ""
        raise InputError(f"HTS code '{raw}' has {len(digits)} digits; it must have 2, 4, 6, 8 or 10{hint}. "
                         "Use e.g. 8703.23.01.40 or 8703230140")
    return digits


def format_hts(code: str) -> str:
    """Dotted HTS form: '8703230140' -> '8703.23.01.40'; '870323' -> '8703.23'; '87' -> '87'."""
    d = re.sub(r"\D", "", str(code))
    if len(d) <= 4:
        return d
    return ".".join([d[:4]] + [d[i:i + 2] for i in range(4, len(d), 2)])


def level(code: str) -> int:
    """Number of digits: 2 (chapter), 4 (heading), 6 (HS subheading), 8 (tariff line), 10 (statistical)."""
    return len(normalize_hts(code))


def parents(code: str) -> list[str]:
    """The strict ancestors at HS2/HS4/HS6/HTS8, top down: '8703230140' -> ['87', '8703', '870323', '87032301']."""
    d = normalize_hts(code)
    return [d[:n] for n in VALID_LEVELS if n < len(d)]


# --- the HTS in the warehouse -------------------------------------------------------------------


def _rev_key(name: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})_(?:basic|rev_(\d+))", name)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)


def _rows(con, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    from tariffscope import db

    return db.query(con, sql, params).to_pylist()


def revisions(con: db.Connection) -> list[str]:
    """HTS revision names in the warehouse, oldest first (by ``hts_revisions.seq``, else by name)."""
    names = {r["revision"] for r in _rows(con, "SELECT DISTINCT revision FROM hts_lines", [])}
    seq = {r["revision"]: r["seq"] for r in _rows(con, "SELECT revision, seq FROM hts_revisions", [])}
    return sorted(names, key=lambda n: (seq.get(n, _rev_key(n)[0] * 100 + _rev_key(n)[1]), n))


def latest_revision(con: db.Connection) -> str:
    revs = revisions(con)
    if not revs:
        from tariffscope.errors import DataNotFoundError

        raise DataNotFoundError("no HTS revisions in the warehouse: run 'tariffscope data status' to load them")
    return revs[-1]


def _check_revision(con, revision: str) -> None:
    revs = revisions(con)
    if revision not in revs:
        import difflib

        near = difflib.get_close_matches(revision, revs, n=1)
        sug = f"did you mean {near[0]}? " if near else ""
        raise InputError(f"unknown HTS revision '{revision}': {sug}Loaded: {revs[0]} .. {revs[-1]}" if revs
                         else f"unknown HTS revision '{revision}': no HTS revisions loaded")


@dataclass(frozen=True)
class HtsDescription:
    """One HTS line and the chain of lines above it (top down)."""

    code: str                       # digits, as found in the revision
    revision: str
    description: str                # the line's own text
    full_description: str           # the chain joined with ': '
    chain: list[dict[str, Any]] = field(default_factory=list)   # [{code, indent, description}], top down
    units: str | None = None
    general_text: str | None = None  # the line's own column-1 text (may be empty on statistical lines)
    source: str = ""
    rate_text: str | None = None     # the column-1 general rate the line takes (own, else the line above's)
    rate_from: str | None = None     # the code that rate text is written on

    @property
    def dotted(self) -> str:
        return format_hts(self.code)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"dotted": self.dotted}


def describe(code: str, revision: str | None = None, *, con: db.Connection) -> HtsDescription:
    """Description of an HS/HTS code in a revision (default: the latest loaded), walking up the indents.

    A code with no line of its own (an HS6 like 8704.21 whose only line is 8704.21.01.00) is described
    by the first line under it. Raises ``InputError`` (with the nearest codes) if nothing matches.
    """
    d = normalize_hts(code)
    revision = revision or latest_revision(con)
    _check_revision(con, revision)
    heading = d[:4]
    lines = _rows(con, """SELECT hts_code, indent, description, units, general_text FROM hts_lines
                          WHERE revision = ? AND starts_with(hts_code, ?) ORDER BY hts_code""",
                  [revision, d[:2] if len(d) == 2 else heading])
    if len(d) == 2:
        heads = [ln for ln in lines if len(ln["hts_code"]) == 4]
        if not heads:
            raise InputError(f"HS chapter {d} has no lines in revision {revision}")
        desc = f"Chapter {d} (headings {format_hts(heads[0]['hts_code'])}-{format_hts(heads[-1]['hts_code'])})"
        return HtsDescription(d, revision, desc, desc, [], None, None, f"HTS {revision}")
    idx = next((i for i, ln in enumerate(lines) if ln["hts_code"] == d), None)
    if idx is None:
        idx = next((i for i, ln in enumerate(lines) if ln["hts_code"].startswith(d)), None)
    if idx is None and len(d) == 10 and d.endswith("00"):  # an 8-digit line without statistical suffixes
        idx = next((i for i, ln in enumerate(lines) if ln["hts_code"] == d[:8]), None)
    if idx is None:
        raise InputError(_not_found_message(con, d, revision))
    target = lines[idx]
    headers = _headers_for(revision, heading) if len(d) > 2 else None
    seq: list[dict[str, Any]] = []
    for ln in lines[: idx + 1]:
        for indent, desc in (headers or {}).get(ln["hts_code"], []):
            seq.append({"hts_code": None, "indent": indent, "description": desc, "general_text": None})
        seq.append(ln)
    chain = [target]
    cur_indent = target["indent"] if target["indent"] is not None else 99
    for ln in reversed(seq[:-1]):
        ind = ln["indent"] if ln["indent"] is not None else 0
        # With the header rows in place the indent walk is exact; without them, numbered ancestors
        # are code prefixes, and a lower-indent line that is not one belongs to a sibling branch.
        if ind < cur_indent and (headers is not None or target["hts_code"].startswith(ln["hts_code"])):
            chain.append(ln)
            cur_indent = ind
            if ind == 0:
                break
    chain.reverse()
    rate_ln = next((ln for ln in reversed(chain) if ln.get("hts_code") and (ln.get("general_text") or "").strip()), None)
    if rate_ln is None:  # the numbered prefixes of the code, even outside the indent chain
        by_code = {ln["hts_code"]: ln for ln in lines}
        rate_ln = next((by_code[target["hts_code"][:n]] for n in (8, 6, 4)
                        if target["hts_code"][:n] in by_code and (by_code[target["hts_code"][:n]]["general_text"] or "").strip()),
                       None)
    parts = [_clean_desc(ln["description"]) for ln in chain]
    return HtsDescription(
        code=target["hts_code"], revision=revision, description=_clean_desc(target["description"]),
        full_description=": ".join(p.rstrip(":") for p in parts if p),
        chain=[{"code": ln["hts_code"], "indent": ln["indent"], "description": _clean_desc(ln["description"])} for ln in chain],
        units=target["units"], general_text=target["general_text"], source=f"HTS {revision}",
        rate_text=rate_ln["general_text"] if rate_ln else None, rate_from=rate_ln["hts_code"] if rate_ln else None,
    )


def _clean_desc(text: str | None) -> str:
    s = re.sub(r"<[^>]*>", "", text or "")
    return " ".join(s.split())


@functools.lru_cache(maxsize=1)
def _header_index() -> tuple[list[str], dict[str, list[tuple[tuple[tuple[int, int], ...], int, int, str, str]]]]:
    """(revision names, {heading4: [((revision ranges), order, indent, description, next_code)]})."""
    meta = json.loads((_DATA / "hts_headers_sources.json").read_text())
    by_heading: dict[str, list] = {}
    with gzip.open(_DATA / "hts_headers.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            spans = []
            for part in r["revisions"].split("|"):
                a, _, b = part.partition("-")
                spans.append((int(a), int(b or a)))
            by_heading.setdefault(r["next_code"][:4], []).append(
                (tuple(spans), int(r["order"]), int(r["indent"]), r["description"], r["next_code"]))
    return meta["revisions"], by_heading


def _headers_for(revision: str, heading: str) -> dict[str, list[tuple[int, str]]] | None:
    """{next_code: [(indent, description), ...] in file order} for a heading, or None if unknown revision."""
    revs, by_heading = _header_index()
    if revision not in revs:
        return None
    ri = revs.index(revision)
    out: dict[str, list[tuple[int, int, str]]] = {}
    for spans, order, indent, desc, code in by_heading.get(heading, []):
        if any(a <= ri <= b for a, b in spans):
            out.setdefault(code, []).append((order, indent, desc))
    return {c: [(i, d) for _, i, d in sorted(v)] for c, v in out.items()}


def _nearest(con, d: str, revision: str, n: int = 3) -> list[str]:
    """Up to n codes of the same length in the revision, sharing the longest prefix, closest in value."""
    for k in range(len(d) - 1, 1, -1):
        rows = _rows(con, "SELECT hts_code FROM hts_lines WHERE revision = ? AND level = ? AND starts_with(hts_code, ?)",
                     [revision, len(d), d[:k]])
        if rows:
            codes = sorted((r["hts_code"] for r in rows), key=lambda c: (abs(int(c) - int(d)), c))
            return codes[:n]
    return []


def _valid_elsewhere(con, d: str, revision: str) -> list[str]:
    rows = _rows(con, "SELECT DISTINCT revision FROM hts_lines WHERE hts_code = ? AND revision <> ?", [d, revision])
    return sorted((r["revision"] for r in rows), key=_rev_key)


def _span(revs: list[str]) -> str:
    return revs[0] if len(revs) == 1 else f"{revs[0]} .. {revs[-1]} ({len(revs)} revisions)"


def _not_found_message(con, d: str, revision: str) -> str:
    msg = f"HTS {format_hts(d)} is not in revision {revision}"
    near = _nearest(con, d, revision)
    if near:
        msg += "; nearest: " + ", ".join(format_hts(c) for c in near)
    other = _valid_elsewhere(con, d, revision)
    if other:
        msg += f"; it is valid in {_span(other)}"
    return msg


def validate_hts10(code: str, revision: str, con: db.Connection) -> str:
    """The 10-digit code if it is a statistical line of ``revision`` (or an 8-digit line without statistical
    suffixes + '00', as the tariff engine keys them); else ``InputError`` naming the nearest lines and the
    revisions where the code is valid."""
    d = normalize_hts(code)
    _check_revision(con, revision)
    if len(d) != 10:
        under = _rows(con, """SELECT hts_code FROM hts_lines WHERE revision = ? AND level = 10 AND starts_with(hts_code, ?)
                              ORDER BY hts_code LIMIT 4""", [revision, d])
        sug = ("; lines under it: " + ", ".join(format_hts(r["hts_code"]) for r in under[:3])
               + (" ..." if len(under) > 3 else "")) if under else ""
        raise InputError(f"HTS {format_hts(d)} has {len(d)} digits; a 10-digit statistical line is needed{sug}")
    found = _rows(con, "SELECT 1 AS ok FROM hts_lines WHERE revision = ? AND hts_code = ? LIMIT 1", [revision, d])
    if found:
        return d
    # An 8-digit line with no statistical suffixes in the HTS (the watches of ch. 91) is the leaf code + '00'.
    leaf8 = _rows(con, """SELECT count(*) FILTER (WHERE level = 8 AND hts_code = ?) AS own,
                                 count(*) FILTER (WHERE level = 10 AND starts_with(hts_code, ?)) AS kids
                          FROM hts_lines WHERE revision = ? AND starts_with(hts_code, ?)""", [d[:8], d[:8], revision, d[:8]])
    if leaf8 and leaf8[0]["own"] and not leaf8[0]["kids"]:
        if d.endswith("00"):
            return d
        raise InputError(f"HTS {format_hts(d)} is not in revision {revision}: {format_hts(d[:8])} has no statistical "
                         f"suffixes in the HTS; use {format_hts(d[:8] + '00')}")
    raise InputError(_not_found_message(con, d, revision))


def search_words(words: list[str], revision: str, limit: int, *, con: db.Connection) -> list[str]:
    """Codes of the numbered lines of ``revision`` whose description *chain* (the line, its numbered
    ancestors and the un-numbered header rows above it) holds every word (lower case, substring match).

    Lines whose own description holds every word come first (all of them, as a search of the line's own
    text finds them), then lines that hold the words only through their chain, in code order within each
    group, at most ``limit``. Of the latter only the topmost numbered line at which the chain first holds
    every word is listed: once a heading such as 8429 ("... excavators ...") matches, the lines below it
    are not repeated (they would all match through it).
    """
    if not words:
        return []
    # Headings with each word somewhere (a line or a header row): every chain stays inside its heading,
    # so only headings that hold all words need walking.
    flags = ", ".join(f"bool_or(contains(lower(description), ?)) AS w{i}" for i in range(len(words)))
    rows = _rows(con, f"SELECT left(hts_code, 4) AS h, {flags} FROM hts_lines WHERE revision = ? GROUP BY h",
                 [*words, revision])
    headers_known = revision in _header_index()[0]
    candidates = []
    for r in rows:
        hdrs = _headers_for(revision, r["h"]) if headers_known else None
        htext = " ".join(d.lower() for rows_ in (hdrs or {}).values() for _, d in rows_)
        if all(r[f"w{i}"] or w in htext for i, w in enumerate(words)):
            candidates.append(r["h"])
    if not candidates:
        return []
    lines = _rows(con, """SELECT hts_code, indent, description FROM hts_lines
                          WHERE revision = ? AND list_contains(?, left(hts_code, 4)) ORDER BY hts_code""",
                  [revision, sorted(candidates)])
    own_hits: list[str] = []
    chain_hits: list[str] = []
    all_words = frozenset(words)
    # stack entries: (indent, code or None for a header row, words held by the chain, a numbered line up
    # the chain already holds every word)
    stack: list[tuple[int, str | None, frozenset[str], bool]] = []
    heading = ""
    headers: dict[str, list[tuple[int, str]]] | None = None
    for ln in lines:
        code = ln["hts_code"]
        if code[:4] != heading:
            heading, stack = code[:4], []
            headers = _headers_for(revision, heading) if headers_known else None
        rows_here = [(ind, None, desc) for ind, desc in (headers or {}).get(code, [])]
        rows_here.append((ln["indent"] if ln["indent"] is not None else 0, code, ln["description"] or ""))
        for ind, c, desc in rows_here:
            # Without header rows a lower indent is an ancestor only if its code is a prefix (as in describe).
            while stack and (stack[-1][0] >= ind or (headers is None and c is not None and stack[-1][1] is not None
                                                     and not c.startswith(stack[-1][1]))):
                stack.pop()
            text = _clean_desc(desc).lower()
            own = frozenset(w for w in words if w in text)
            held = own | (stack[-1][2] if stack else frozenset())
            above_done = stack[-1][3] if stack else False
            if c is not None and own == all_words:  # as before this search looked up the chain
                own_hits.append(c)
            elif c is not None and held == all_words and not above_done:
                chain_hits.append(c)
            stack.append((ind, c, held, above_done or (c is not None and held == all_words)))
    return (own_hits + chain_hits)[:limit]
