"""Rate texts over HTS lines: the text each line takes (statistical lines inherit from the 8-digit line
above: ``inherit_rate_text``) and the parse coverage per revision with every line not read
(``unparsed_report``), so nothing is dropped silently."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tariffscope.ingest.rate_text import RATE_FORMS, clean_rate_text, parse_rate

_NON_DIGIT = re.compile(r"\D")


def _digits(code: object) -> str:
    return code if isinstance(code, str) and code.isdigit() else _NON_DIGIT.sub("", str(code or ""))


def inherit_rate_text(codes: Sequence[str], texts: Sequence[object]) -> list[tuple[str, str | None]]:
    """For each line, the rate text it takes and the code it comes from.

    A line with its own (non-empty) text takes it; a line without takes the text of its nearest
    ancestor (8, then 6, then 4 digits) in the same list; ``('', None)`` if none has any.
    ``codes`` are digits only (dots allowed, they are removed).
    """
    clean = [_digits(c) for c in codes]
    own = {c: t for c, t in zip(clean, map(clean_rate_text, texts), strict=True) if t}
    out: list[tuple[str, str | None]] = []
    for c in clean:
        if c in own:
            out.append((own[c], c))
            continue
        for n in (8, 6, 4):
            if len(c) > n and c[:n] in own:
                out.append((own[c[:n]], c[:n]))
                break
        else:
            out.append(("", None))
    return out


@dataclass
class UnparsedReport:
    """Parse coverage of HTS10 lines per revision, and every line whose rate could not be read."""

    coverage: list[dict[str, Any]] = field(default_factory=list)   # revision, lines, parsed, share, by form
    unparsed: list[dict[str, Any]] = field(default_factory=list)   # revision, hts_code, text, from_code, note

    def to_dict(self) -> dict[str, Any]:
        return {"coverage": self.coverage, "unparsed": self.unparsed}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.unparsed, columns=["revision", "hts_code", "text", "from_code", "note"])

    def coverage_frame(self):
        import pandas as pd

        return pd.DataFrame(self.coverage)


def _columns(revision_lines: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """(revision, hts_code, general_text) columns of a pyarrow Table, a pandas DataFrame or row mappings."""
    names = ("revision", "hts_code", "general_text")
    if hasattr(revision_lines, "column_names"):  # pyarrow.Table
        return tuple(revision_lines.column(n).to_pylist() for n in names)
    if hasattr(revision_lines, "columns") and hasattr(revision_lines, "to_dict"):  # pandas
        return tuple(revision_lines[n].tolist() for n in names)
    rows = list(revision_lines)
    return [r["revision"] for r in rows], [r["hts_code"] for r in rows], [r.get("general_text") for r in rows]


def unparsed_report(revision_lines: Any, include_chapters_98_99: bool = False) -> UnparsedReport:
    """Parse coverage per revision, and the list of lines that did not parse.

    ``revision_lines``: rows (mappings, a pyarrow Table or a pandas DataFrame) with ``revision``,
    ``hts_code`` and ``general_text`` (the ``hts_lines`` columns). The HTS10 leaves are counted after rate
    inheritance (``inherit_rate_text``): the 10-digit lines and the 8-digit lines with none under them
    (reported as code + '00', like the watches of ch. 91); chapters 98/99 are left out unless asked.
    A line counts as parsed when its form is not 'unparsed' and not 'none' (a leaf with no text anywhere
    above it is listed too, with note 'no rate text').
    """
    by_rev: dict[str, tuple[list[str], list[object]]] = {}
    for rev, code, text in zip(*_columns(revision_lines), strict=True):
        codes, texts = by_rev.setdefault(str(rev), ([], []))
        codes.append(_digits(code))
        texts.append(text)
    report = UnparsedReport()
    for rev, (codes, texts) in by_rev.items():
        inherited = inherit_rate_text(codes, texts)
        with_kids = {c[:8] for c in codes if len(c) == 10}
        counts: dict[str, int] = {f: 0 for f in RATE_FORMS}
        n = 0
        for code, (text, src) in zip(codes, inherited, strict=True):
            if not include_chapters_98_99 and code[:2] in ("98", "99"):
                continue
            if len(code) == 8 and code not in with_kids:
                code = code + "00"
            elif len(code) != 10:
                continue
            n += 1
            p = parse_rate(text)
            counts[p.form] += 1
            if p.form in ("unparsed", "none"):
                report.unparsed.append({"revision": rev, "hts_code": code, "text": text, "from_code": src,
                                        "note": p.note or "no rate text"})
        parsed = n - counts["unparsed"] - counts["none"]
        report.coverage.append({"revision": rev, "lines": n, "parsed": parsed,
                                "share": parsed / n if n else None, **counts})
    return report
