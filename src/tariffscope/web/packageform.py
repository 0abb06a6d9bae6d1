"""The partner's side of a package edited in the /scenarios form: its rows (partner tariffs on US goods,
purchase commitments, investment pledges), read from the form in its units (%, bn USD, years) into the web
schemas' items (fractions, USD), and the scenario schema's errors about them put in the form's words.

Presentation only: the items become the scenario's ``partner_tariffs``, ``purchases`` and ``investment``
(``web.app._package_dict``), which ``tariffscope.scenarios`` validates and runs.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from tariffscope import api
from tariffscope.errors import InputError, TariffscopeError
from tariffscope.web import schemas as W

# (prefix of the field names, rows shown, the item's name in messages, the scenario list it feeds, its fields).
# Without JavaScript the form shows a fixed number of rows of each.
SIDE_FORM: tuple[tuple[str, int, str, str, tuple[str, ...]], ...] = (
    ("pt", 3, "partner tariff", "partner_tariffs", ("products", "from", "to", "base")),
    ("pu", 3, "purchase", "purchases", ("what", "products", "value", "first", "last", "add", "low", "high")),
    ("iv", 2, "investment pledge", "investment", ("amount", "horizon", "text", "exports", "imports")),
)
SIDE_KEYS = tuple(key for _, _, _, key, _ in SIDE_FORM)
BN = 1e9  # the form takes money in bn USD; the scenario schema in USD
ROW_FIELD = re.compile(r"^(c|pt|pu|iv)\d+_")  # a field of a row of the edited package (a US change or the partner side)
_SIDE_PATH = re.compile(r"\b(partner_tariffs|purchases|investment)\[(\d+)\]")


def side_rows(form: Any) -> dict[str, list[dict[str, str]]]:
    """The partner-side rows typed in the form (or a permalink's query), every row, as text."""
    return {prefix: [{f: str(form.get(f"{prefix}{i}_{f}") or "").strip() for f in fields} for i in range(rows)]
            for prefix, rows, _, _, fields in SIDE_FORM}


def side_offsets(base: str) -> dict[str, int]:
    """How many items of each partner-side list the built-in ``base`` brings (the user's come after them)."""
    try:
        spec = api.load_scenario(base).to_dict()
    except TariffscopeError:  # no such built-in: its own error is the one the page shows
        return {}
    return {key: len(spec.get(key) or []) for key in SIDE_KEYS}


def form_words(message: str, offsets: Mapping[str, int]) -> str:
    """A scenario error about an edited package in the form's words: 'purchases[3].prefixes[0]: ...' is
    'purchase 1 (products): ...' when the starting package brings 2 purchases; '<uploaded scenario>: ' goes."""
    names = {key: what for _, _, what, key, _ in SIDE_FORM}

    def one(m: re.Match) -> str:
        key, k = m.group(1), int(m.group(2))
        n = k - offsets.get(key, 0)
        return f"{names[key]} {n + 1}" if n >= 0 else f"the starting package's {names[key]} {k + 1}"

    text = _SIDE_PATH.sub(one, message.replace("<uploaded scenario>: ", ""))
    text = re.sub(r"\.prefixes(\[\d+\])?", " (products)", text)
    # the run's advice names the YAML key; the form's field takes bn USD
    return re.sub(r"give base: \(US exports to (\S+) in these products, USD a year\)",
                  r"fill in 'US exports in these products' (to \1, bn USD a year)", text)


def _optional(row: Mapping[str, str], key: str, label: str, what: str, lo: float, hi: float) -> float | None:
    """A number typed in a row, within [lo, hi] in the form's unit, or None when empty; InputError naming the row and field."""
    text = row[key].rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{what}: {label} must be a number, got {row[key][:20]!r}") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise InputError(f"{what}: {label} must be between {lo:,g} and {hi:,g}, got {text[:20]}")
    return value


def _required(row: Mapping[str, str], key: str, label: str, what: str, lo: float, hi: float) -> float:
    value = _optional(row, key, label, what, lo, hi)
    if value is None:
        raise InputError(f"{what}: {label} is required")
    return value


def _year(row: Mapping[str, str], key: str, label: str, what: str) -> int:
    value = _required(row, key, label, what, 2000, 2100)
    if value != int(value):
        raise InputError(f"{what}: {label} must be a whole year, got {value:g}")
    return int(value)


def _products(row: Mapping[str, str], what: str) -> str:
    text = row["products"]
    if not text:
        raise InputError(f"{what}: products (HS prefixes) is required")
    for p in re.split(r"[ ,]+", text):
        digits = p.replace(".", "")
        if p and not (digits.isdigit() and 2 <= len(digits) <= 10):
            raise InputError(f"{what}: products: {p[:14]!r} is not an HS prefix (2-10 digits, e.g. 02 or 1005)")
    return text


def _text(row: Mapping[str, str], key: str, label: str, what: str, limit: int) -> str:
    if len(row[key]) > limit:
        raise InputError(f"{what}: {label} is limited to {limit} characters")
    return row[key]


def _usd(bn: float | None) -> float | None:
    return None if bn is None else bn * BN


def _tariff(row: Mapping[str, str], what: str) -> W.PartnerTariffItem:
    return W.PartnerTariffItem(
        products=_products(row, what),
        rate_from=_required(row, "from", "tariff now, %", what, 0, W.MAX_RATE * 100) / 100,
        rate_to=_required(row, "to", "new tariff, %", what, 0, W.MAX_RATE * 100) / 100,
        base=_usd(_optional(row, "base", "US exports in these products, bn USD a year", what, 0, W.MAX_USD / BN)))


def _purchase(row: Mapping[str, str], what: str) -> W.PurchaseItem:
    products = _products(row, what)
    value = _required(row, "value", "value, bn USD a year", what, 0, W.MAX_USD / BN)
    first, last = _year(row, "first", "first year", what), _year(row, "last", "last year", what)
    if last < first:
        raise InputError(f"{what}: last year ({last}) is before first year ({first})")
    add = _required(row, "add", "additional share, %", what, 0, 100)
    low = _optional(row, "low", "additional share low, %", what, 0, 100)
    high = _optional(row, "high", "additional share high, %", what, 0, 100)
    if (low is None) != (high is None):
        raise InputError(f"{what}: give both ends of the additional share's range (low and high) or neither")
    if low is not None and high is not None and not low <= add <= high:
        raise InputError(f"{what}: the range {low:g}-{high:g}% must contain the additional share {add:g}%")
    return W.PurchaseItem(what=_text(row, "what", "what", what, 120), products=products, per_year=value * BN, first_year=first,
                          last_year=last, additionality=add / 100, low=None if low is None else low / 100,
                          high=None if high is None else high / 100)


def _investment(row: Mapping[str, str], what: str) -> W.InvestmentItem:
    effect = W.MAX_USD / BN
    return W.InvestmentItem(
        amount=_required(row, "amount", "amount, bn USD", what, 0, 1e14 / BN) * BN,
        horizon=_text(row, "horizon", "horizon", what, 80), text=_text(row, "text", "what", what, 200),
        exports_per_year=_usd(_optional(row, "exports", "effect on US exports, bn USD a year", what, -effect, effect)),
        imports_per_year=_usd(_optional(row, "imports", "effect on US imports, bn USD a year", what, -effect, effect)))


def side_items(form: Any) -> dict[str, list[Any]]:
    """The partner-side items typed in the form, in the schema's units (rates and shares as fractions, USD),
    by scenario list; a row counts when any of its fields is filled. InputError in the form's words (row,
    field, unit, bounds)."""
    rows = side_rows(form)
    readers = {"pt": _tariff, "pu": _purchase, "iv": _investment}
    return {key: [readers[prefix](row, f"{what} {i + 1}") for i, row in enumerate(rows[prefix]) if any(row.values())]
            for prefix, _, what, key, _ in SIDE_FORM}
