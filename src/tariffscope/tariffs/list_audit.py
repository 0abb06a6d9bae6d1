"""Audit of the catalogue's product lists against the Chapter 99 note text that enumerates them.

The lists in ``catalogue/lists`` come partly from secondary sources; the law is the note. For each audited list
this module reads the note's subdivision (``chapter99_us_notes_<revision>.txt``), takes the HTS numbers it prints
at the precision it prints them, and compares them with the list's rows:

* ``wider``: a list row is a leading part of a note code (the list cut the code short: wider scope);
* ``narrower``: a note code is a leading part of a list row (the list goes below the note's precision);
* ``only_list``: a list row the note does not print, at any precision;
* ``only_note``: a note code no list row matches, at any precision.

``scripts/build_measure_lists.py`` uses ``note_codes`` and ``realign`` to build the lists at the note's precision;
the test suite runs ``audit`` and compares it with the recorded differences (tests/cases/tariffs_list_audit.yaml).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NOTE_CODE", "AUDITS", "Audit", "notes_text", "note_codes", "compare", "realign", "audit"]

# An HTS number as the notes print it: 8471, 8471.50, 8471.50.01, 8471.50.0150 or 8471.50.01.50, not part of a longer
# number; dates ("April 29, 2025") are removed first so a year is not read as a heading.
NOTE_CODE = r"(?<![\d.])(\d{4}\.\d{2}\.\d{4}|\d{4}\.\d{2}\.\d{2}\.\d{2}|\d{4}\.\d{2}\.\d{2}|\d{4}\.\d{2}|\d{4})(?![\d.])"
_DATE = (r"(January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2},\s+\d{4}"
         r"|\b(19|20)\d{2}\s+\(\d+\s+FR|\d+\s+FR\s+\d+")
_PAGE = r"Harmonized Tariff Schedule of the United States.*|99 - III - \d+"


@dataclass(frozen=True)
class Audit:
    """One list (rows whose value is in ``values``; all rows when None) against one or more note subdivisions,
    each given by the words that open it and a pattern matching the start of what follows it."""

    list: str
    values: tuple[str, ...] | None
    spans: tuple[tuple[str, str], ...]
    note: str


AUDITS: tuple[Audit, ...] = (
    Audit("s232_derivatives", ("aluminum:9903.85.08",),
          (("(k) The rates of duty in heading 9903.85.08", r"\n\s*\(l\) "),), "19(k)"),
    Audit("s232_auto_parts", None,
          (("(g) Subject to a manufacturer's import adjustment offset", r"\n\s*\(h\) "),), "33(g)"),
    Audit("s232_semis", None,
          (('(b) For the purposes of this note, "semiconductor articles"', r"To be included within"),), "39(b)"),
    Audit("s232_metals_annex", ("1a:aluminum", "1a:steel", "1a:copper"),
          (("(i) Articles of aluminum:", r"\(vi\) Derivative aluminum articles:"),), "16(c)(i)-(v)"),
    Audit("s232_metals_annex", ("1b:aluminum", "1b:steel", "1b:copper"),
          (("(vi) Derivative aluminum articles:", r"\(ix\) Derivative aluminum articles:"),), "16(c)(vi)-(viii)"),
    Audit("s232_metals_annex", ("3:aluminum", "3:steel"),
          (("(ix) Derivative aluminum articles:", r"\(d\) Headings 9903\.82\.04 and 9903\.82\.05"),), "16(c)(ix)-(x)"),
    Audit("s122_civil_aircraft", None,
          (("(iv) As provided in heading 9903.03.05", r"\n\s*\(v\) As provided in heading 9903\.03\.06"),), "2(aa)(iv)"),
)


def notes_text(path: Path) -> str:
    """The note text, NUL bytes dropped (the export has a few), undecodable bytes replaced."""
    return path.read_bytes().replace(b"\x00", b"").decode("utf-8", errors="replace")


def note_codes(text: str, start_marker: str, end_pattern: str) -> set[str]:
    """HTS numbers (digits only, at the note's precision) printed between a subdivision's opening words and the
    start of what follows; chapter 98/99 numbers (the headings the note cites) and dates left out."""
    start = text.index(start_marker)
    nxt = re.search(end_pattern, text[start + len(start_marker):])
    if nxt is None:
        raise ValueError(f"end of the subdivision opened by {start_marker!r} not found")
    block = text[start:start + len(start_marker) + nxt.start()]
    block = re.sub(_DATE, " ", re.sub(_PAGE, " ", block))
    return {re.sub(r"\D", "", c) for c in re.findall(NOTE_CODE, block) if not c.startswith(("98", "99"))}


def compare(note: set[str], listed: set[str]) -> dict[str, set[str]]:
    """The differences between a note's codes and a list's prefixes (see the module docstring)."""
    wider = {p for p in listed - note if any(n.startswith(p) for n in note)}
    narrower = {p for p in listed - note - wider if any(p.startswith(n) for n in note)}
    only_list = listed - note - wider - narrower
    only_note = {n for n in note - listed if not any(n.startswith(p) or p.startswith(n) for p in listed)}
    return {"wider": wider, "narrower": narrower, "only_list": only_list, "only_note": only_note}


def realign(prefixes: list[str], note: set[str]) -> dict[str, list[str]]:
    """For each list prefix, the codes to write at the note's precision: the note codes a cut-short prefix covers
    (``wider``), the note code a too-fine prefix falls under (``narrower``), else the prefix itself."""
    out: dict[str, list[str]] = {}
    for p in prefixes:
        if p in note:
            out[p] = [p]
            continue
        finer = sorted(n for n in note if n.startswith(p))
        if finer:
            out[p] = finer
            continue
        coarser = sorted((n for n in note if p.startswith(n)), key=len)
        out[p] = [coarser[0]] if coarser else [p]
    return out


def audit(text: str, lists_dir: Path) -> list[dict]:
    """Every audited list against its note: one row per (list, note, kind, code)."""
    import csv

    out: list[dict] = []
    for a in AUDITS:
        with (lists_dir / f"{a.list}.csv").open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))[1:]
        listed = {r[0] for r in rows if a.values is None or r[3] in a.values}
        note = set().union(*(note_codes(text, s, e) for s, e in a.spans))
        for kind, codes in compare(note, listed).items():
            out += [{"list": a.list, "note": a.note, "kind": kind, "code": c} for c in sorted(codes)]
    return out
