"""Strict parsing of numbers as statistical agencies print them in CSV exports.

Accepted: ``1234``, ``1,234,567``, ``-1,234.5``, ``(1,234)`` (accounting negative), ``1.5e9``, with
surrounding blanks. Blank cells are missing (``None``), never zero. Anything else (``12,34``,
``1.234,5``, ``12a``, ``--3``) is an error: a figure we cannot read exactly is not guessed.

``parse_number`` handles one cell; ``parse_numbers`` does a whole Arrow column at once and names
the first offending row, so readers stay vectorized and still report file, line and reason.
"""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

# Digits with correctly placed thousands separators, or plain digits; optional fraction, exponent.
_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|[+-]?\.\d+"
_NUMBER_RE = re.compile(rf"^(?:{_NUMBER})$")
_PAREN_RE = re.compile(r"^\((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\)$")


class NumberFormatError(ValueError):
    """A cell that is not a number; ``index`` is its 0-based position in the column."""

    def __init__(self, text: str, index: int | None = None) -> None:
        self.text, self.index = text, index
        super().__init__(f"not a number: {text!r}")


def parse_number(text: str | None, blank: tuple[str, ...] = ()) -> float | None:
    """One cell -> float, or None when blank (empty, spaces, or one of ``blank`` e.g. FRED's '.')."""
    if text is None:
        return None
    s = text.strip()
    if s == "" or s in blank:
        return None
    if _NUMBER_RE.match(s):
        return float(s.replace(",", ""))
    if _PAREN_RE.match(s):
        return -float(s[1:-1].replace(",", ""))
    raise NumberFormatError(text)


def parse_numbers(values: pa.Array | pa.ChunkedArray, blank: tuple[str, ...] = ()) -> pa.Array:
    """A string column -> float64 column (nulls for blanks); raises NumberFormatError at the first bad cell."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        return pc.cast(values, pa.float64())
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    s = pc.utf8_trim_whitespace(values)
    is_blank = pc.equal(s, "")
    for b in blank:
        is_blank = pc.or_(is_blank, pc.equal(s, b))
    is_blank = pc.fill_null(is_blank, True)
    # one regex pass decides every cell (the same grammar as parse_number)
    ok = pc.fill_null(pc.or_(is_blank, pc.match_substring_regex(s, f"^(?:{_NUMBER})$|{_PAREN_RE.pattern}")), True)
    if not pc.all(ok).as_py():
        idx = pc.index(ok, False).as_py()
        raise NumberFormatError(values[idx].as_py(), idx)
    # Blanks -> null; parentheses -> negative; strip separators; cast.
    cleaned = pc.if_else(is_blank, pa.scalar(None, pa.string()), s)
    neg = pc.fill_null(pc.starts_with(s, "("), False)
    cleaned = pc.replace_substring(cleaned, ",", "")
    any_neg = pc.any(neg).as_py()
    if any_neg:
        cleaned = pc.replace_substring(pc.replace_substring(cleaned, "(", ""), ")", "")
    out = pc.cast(cleaned, pa.float64())
    if any_neg:
        out = pc.if_else(neg, pc.negate(out), out)
    return out
