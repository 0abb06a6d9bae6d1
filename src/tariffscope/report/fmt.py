"""Number formatting for people: money in USD with a scale word, rates as percentages.

Shared by the HTML/Markdown brief and the web app so a figure reads the same everywhere.
"""
from __future__ import annotations

import math
from typing import Any, TypeGuard


def is_number(x: Any) -> TypeGuard[float]:  # a finite int or float, so callers may do arithmetic
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def money(x: Any, currency: str = "USD", digits: int = 1) -> str:
    """12_345_678_901 -> '$12.3 bn' (USD) or '¥1.9 tn' (JPY); negative values keep their sign."""
    if not is_number(x):
        return "n/a"
    x = float(x)
    sign = "-" if x < 0 else ""
    a = abs(x)
    symbol = {"USD": "$", "JPY": "¥"}.get(currency, "")
    for scale, word in ((1e12, "tn"), (1e9, "bn"), (1e6, "mn"), (1e3, "k")):
        if a >= scale:
            body = f"{a / scale:,.{digits}f} {word}"
            break
    else:
        body = f"{a:,.0f}"
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"


def usd_exact(x: Any) -> str:
    """Whole dollars with thousands separators: 1234.5 -> '$1,234.50' (duty examples)."""
    if not is_number(x):
        return "n/a"
    return f"{'-' if x < 0 else ''}${abs(float(x)):,.2f}"


def pct(x: Any, digits: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: 0.275 -> '27.5%'."""
    if not is_number(x):
        return "n/a"
    s = f"{float(x) * 100:{'+' if signed else ''},.{digits}f}%"
    return s


def num(x: Any, digits: int = 0) -> str:
    if not is_number(x):
        return "n/a"
    return f"{float(x):,.{digits}f}"


def auto(x: Any, kind: str = "money", currency: str = "USD") -> str:
    """Format by kind: 'money' | 'pct' | 'pp' (percentage points of a fraction) | 'num' | 'text'."""
    if kind == "money":
        return money(x, currency)
    if kind == "pct":
        return pct(x)
    if kind == "pctchg":
        return pct(x, signed=True)
    if kind == "num":
        return num(x)
    if kind == "usd":
        return usd_exact(x)
    return "" if x is None else str(x)
