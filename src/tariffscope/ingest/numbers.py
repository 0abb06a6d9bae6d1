"""Strict parsing of numbers as statistical agencies print them in CSV exports.

Accepted: ``1234``, ``1,234,567``, ``-1,234.5``, ``(1,234)`` (accounting negative), ``1.5e9``, with
surrounding blanks. Blank cells are missing (``None``), never zero. Anything else (``12,34``,
``1.234,5``, ``12a``, ``--3``) is an error: a figure we cannot read exactly is not guessed. So is a
number that is not finite: ``1e999`` overflows to infinity and NaN/infinity in a numeric (Parquet,
JSON, Excel) cell are refused, never stored.

``parse_number`` handles one cell; ``parse_numbers`` does a whole Arrow column at once and names
the first offending row, so readers stay vectorized and still report file, line and reason;
``as_number`` checks one value a JSON or Excel parser already typed; ``first_below`` finds the first
value outside its domain (trade values and quantities are never negative).
"""
from __future__ import annotations

import math
import re

import pyarrow as pa
import pyarrow.compute as pc

# Digits with correctly placed thousands separators, or plain digits; optional fraction, exponent.
_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|[+-]?\.\d+"
_NUMBER_RE = re.compile(rf"^(?:{_NUMBER})$")
_PAREN_RE = re.compile(r"^\((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\)$")


NOT_A_NUMBER = "not a number"
NOT_FINITE = "not a finite number (infinity or NaN)"


class NumberFormatError(ValueError):
    """A cell that is not a finite number; ``index`` is its 0-based position in the column."""

    def __init__(self, text: str, index: int | None = None, reason: str = NOT_A_NUMBER) -> None:
        self.text, self.index, self.reason = text, index, reason
        super().__init__(f"{reason}: {text!r}")


def parse_number(text: str | None, blank: tuple[str, ...] = ()) -> float | None:
    """One cell -> float, or None when blank (empty, spaces, or one of ``blank`` e.g. FRED's '.')."""
    if text is None:
        return None
    s = text.strip()
    if s == "" or s in blank:
        return None
    if _NUMBER_RE.match(s):
        value = float(s.replace(",", ""))
    elif _PAREN_RE.match(s):
        value = -float(s[1:-1].replace(",", ""))
    else:
        raise NumberFormatError(text)
    if not math.isfinite(value):  # e.g. 1e999: a valid spelling whose value overflows a double
        raise NumberFormatError(text, reason=NOT_FINITE)
    return value


def as_number(value: object, minimum: float | None = None) -> float:
    """A value a JSON or Excel parser typed -> float; NumberFormatError unless a finite number >= ``minimum``.

    ``bool`` is refused although Python counts it as an int: ``true`` in a data file is not 1.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NumberFormatError(repr(value) if not isinstance(value, str) else value)
    try:
        out = float(value)
    except OverflowError:  # a JSON integer too large for a double
        out = math.inf
    if not math.isfinite(out):
        raise NumberFormatError(repr(value), reason=NOT_FINITE)
    if minimum is not None and out < minimum:
        raise NumberFormatError(repr(value), reason=f"below {minimum:g}")
    return out


def first_below(values: pa.Array | pa.ChunkedArray, minimum: float) -> int | None:
    """0-based index of the first value below ``minimum`` (nulls ignored), or None."""
    low = pc.fill_null(pc.less(values, minimum), False)
    return pc.index(low, True).as_py() if pc.any(low).as_py() else None


def parse_numbers(values: pa.Array | pa.ChunkedArray, blank: tuple[str, ...] = ()) -> pa.Array:
    """A string column -> float64 column (nulls for blanks); raises NumberFormatError at the first bad cell."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        return _finite(values, pc.cast(values, pa.float64()))
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    s = pc.utf8_trim_whitespace(values)
    is_blank = pc.equal(s, "")
    for b in blank:
        is_blank = pc.or_(is_blank, pc.equal(s, b))
    is_blank = pc.fill_null(is_blank, True)
    # one regex pass decides every cell (the same grammar as parse_number)
    ok = pc.fill_null(pc.or_(is_blank, pc.match_substring_regex(s, f"^(?:{_NUMBER})$|{_PAREN_RE.pattern}")), True)
    if not pc.all(ok, min_count=0).as_py():  # min_count=0: an empty column is all valid (the default answers null)
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
    return _finite(values, out)


def _finite(original: pa.Array, out: pa.Array) -> pa.Array:
    """``out`` unchanged, or NumberFormatError at its first infinite/NaN cell (quoting the original cell)."""
    bad = pc.invert(pc.fill_null(pc.is_finite(out), True))
    if pc.any(bad).as_py():
        idx = pc.index(bad, True).as_py()
        raise NumberFormatError(str(original[idx].as_py()), idx, NOT_FINITE)
    return out
