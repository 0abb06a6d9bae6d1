"""USITC HTS CSV exports (``hts/hts_2025_basic_edition.csv``): the same lines as the JSON export.

Columns ``HTS Number, Indent, Description, Unit of Quantity, General Rate of Duty, Special Rate of
Duty, Column 2 Rate of Duty, Quota Quantity, Additional Duties`` (``Unit of Quantity`` is a JSON list
such as ``["No."]``; the CSV has no footnotes). Read into the HTS JSON shape and stored exactly as
``hts_json`` stores a revision (``hts_lines``, ``chapter99_lines``, ``hts_revisions``).

A revision is the whole schedule, chapter 01 to chapter 99, in order: a file that does not end with
a line end, or whose numbered lines do not start in chapter 01 and end in chapter 99, was cut short
and is refused (stored, half a schedule would pass for a complete revision).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import ParsedFile, check_chapter_span, check_header, read_text
from tariffscope.ingest.hts_json import build, revision_name

KIND = "hts_csv"
HEADER = ["HTS Number", "Indent", "Description", "Unit of Quantity", "General Rate of Duty", "Special Rate of Duty",
          "Column 2 Rate of Duty", "Quota Quantity", "Additional Duties"]


def parse(path: str | Path, source: str | None = None, vintage: str | None = None, revision: str | None = None,
          sha256: str | None = None) -> ParsedFile:
    """``sha256``: the file's digest when the caller has it (``core.ingest`` hashes every file once)."""
    path = Path(path)
    reader = csv.reader(io.StringIO(read_text(path, whole_lines=True)))
    rows, starts, prev = [], [], 0
    for r in reader:  # descriptions may hold line breaks: remember the file line each record starts on
        rows.append(r)
        starts.append(prev + 1)
        prev = reader.line_num
    if not rows:
        raise IngestError(path, 1, "empty file")
    check_header(path, 1, rows[0], HEADER)
    doc = []
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(HEADER):
            raise IngestError(path, i, f"row has {len(r)} fields, header has {len(HEADER)}")
        units_text = r[3].strip()
        try:
            units = json.loads(units_text) if units_text else []
        except json.JSONDecodeError:
            raise IngestError(path, i, f"bad Unit of Quantity {units_text!r}: expected a JSON list like [\"No.\"]") from None
        doc.append({"htsno": r[0], "indent": r[1], "description": r[2], "units": units, "general": r[4],
                    "special": r[5], "other": r[6], "footnotes": None})
    _check_complete(path, rows, starts)
    rev, year, seq = revision_name(Path(revision + ".csv") if revision else path)
    sha = sha256 or hashlib.sha256(path.read_bytes()).hexdigest()
    return build(path, doc, rev, year, seq, sha, source, vintage, kind=KIND)


def _check_complete(path: Path, rows: list[list[str]], starts: list[int]) -> None:
    """IngestError unless the numbered lines run from chapter 01 to chapter 99 (a cut file ends early)."""
    numbered = [(starts[k], r[0].strip()) for k, r in enumerate(rows) if k and r and r[0].strip()]
    if not numbered:
        raise IngestError(path, starts[-1], "no numbered HTS lines: an HTS revision runs from chapter 01 to chapter 99")
    (i0, first), (i1, last) = numbered[0], numbered[-1]
    check_chapter_span(path, first, last, i0, i1)

def read(path: str | Path) -> pa.Table:
    return parse(path).tables["hts_lines"]
