"""The HTS rate-of-duty text format: column 1 ("general") and Chapter 99 rate texts read into components.

``parse_rate(text)`` reads every rate-text shape found in the USITC HTS JSON revisions 2025 basic ..
2026 rev 10: ``Free``, ``2.5%``, ``1.5¢/kg``, ``$1.20/doz.``, ``5% + 3¢/kg``, ``4.4¢/kg + 6%``,
``36¢ each + 5.6% + 2¢/jewel``, ``25¢/kg on drained weight``, the Chapter 99 ``The duty provided in the
applicable subheading + 25%`` and the HTML debris some revisions carry (``$1.13/m<sup>3</sup>``).
Cents become US dollars; percentages become fractions. It never raises: text it cannot read
(``The rate applicable to each garment in the ensemble if separately entered``, ``See additional U.S.
note 3``) comes back as ``form='unparsed'`` with the reason in ``note``.

This is a file format, so it lives in ingest: the HTS readers store the parsed columns of every line
(``hts_json``, the embedded loader), and the tariff domain (``tariffs.schedule``: inheritance, coverage,
ad valorem equivalents) builds on it. It imports nothing of tariffscope.
"""
from __future__ import annotations

import functools
import html
import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

RateForm = Literal["free", "ad_valorem", "specific", "compound", "subheading_plus", "none", "unparsed"]
RATE_FORMS: tuple[str, ...] = ("free", "ad_valorem", "specific", "compound", "subheading_plus", "none", "unparsed")


@dataclass(frozen=True)
class ParsedRate:
    """A column-1 rate text read into components.

    ``ad_valorem`` is a fraction of customs value (0.025 for 2.5%); ``specific_rate`` is US dollars
    per ``specific_unit`` (``'kg'``, ``'liter'``, ``'each'``, ``'doz'``, ...); a second specific
    component (``36¢ each + 5.6% + 2¢/jewel``) goes to ``specific_rate_2``/``specific_unit_2``.
    For ``subheading_plus`` (Chapter 99), ``ad_valorem`` is the add-on to the duty of the applicable
    subheading (0.0 for "The duty provided in the applicable subheading" or "No change").
    ``note`` carries qualifiers (``on drained weight``), approximations and the reason for ``unparsed``.
    """

    form: RateForm
    ad_valorem: float | None = None
    specific_rate: float | None = None
    specific_unit: str | None = None
    specific_rate_2: float | None = None
    specific_unit_2: str | None = None
    note: str | None = None

    @property
    def has_specific(self) -> bool:
        return self.specific_rate is not None

    @property
    def partial_base(self) -> bool:
        """A part of the rate applies to a component of the value or to a content quantity (see note)."""
        return self.note is not None and PARTIAL_BASE in self.note

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FREE = ParsedRate("free", ad_valorem=0.0)
PARTIAL_BASE = "partial base"
_WHOLE_VALUE = {"on the entire set", "on the full value"}
# specific parts on a content quantity, a threshold, a sliding scale or a cap: no unit value converts them
_CONTENT_BASE = re.compile(r"content|drained weight|total sugars|^over\b|degree|not exceed", re.IGNORECASE)
NONE = ParsedRate("none")

_TAG = re.compile(r"<[^>]*>")
_NUM = r"\d[\d,]*(?:\.\d+)?|\.\d+"
_AV = re.compile(rf"^({_NUM})\s*(?:%|percent\b)\s*(.*)$", re.IGNORECASE)
# '1.5¢/kg ...', '$1.20/doz. ...', '0.9¢ each', '0.2¢ for each other piece or part, ...'
_SPEC = re.compile(
    rf"^(\$)?\s*({_NUM})\s*(¢)?\s*(?:/\s*(?P<unit>[^\s].*)|(?P<each>(?:for\s+)?each\b.*))$",
    re.IGNORECASE,
)
_SUBHEADING = re.compile(
    r"^the\s+duty\s+(?:rate\s+)?provided\s+(?:for\s+)?in\s*(?:the\s+)?"
    r"(?P<which>applicable\s+subheading|such\s+subheading|subheadings?\s+[\d.,\sor]+?)\s*"
    rf"(?:(?P<op>\+|plus|minus)\s*(?:a\s+duty\s+of\s+)?(?P<num>{_NUM})\s*%\s*(?P<rest>.*?))?\s*\.?$",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"^(the\s+rate\s+(?:of\s+duty\s+)?applicable|see\s|a\s+duty\b|the\s+duty\b)", re.IGNORECASE
)
# Units as written -> short canonical names (per-unit rates are USD per that unit).
_UNIT_ALIASES = {
    "kg": "kg", "clean kg": "clean kg", "liter": "liter", "l": "liter", "pf.liter": "pf.liter",
    "pf. liter": "pf.liter", "proof liter": "pf.liter", "doz.": "doz", "doz": "doz", "pr.": "pr", "pr": "pr",
    "gross": "gross", "head": "head", "t": "t", "m2": "m2", "m3": "m3", "bbl": "bbl", "1000": "1000",
    "thousand": "1000", "jewel": "jewel", "article": "article", "each": "each", "no.": "each",
}


def clean_rate_text(text: object) -> str:
    """Rate text with HTML tags/entities removed and spaces collapsed ('' for None/NaN)."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return _clean_str(text if isinstance(text, str) else str(text))


@functools.lru_cache(maxsize=16384)
def _clean_str(text: str) -> str:
    if not text:
        return ""
    s = html.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    return " ".join(s.split())


def _to_float(num: str, scale: int = 1) -> float:
    """'1,234.5' -> 1234.5 / scale, exact in decimal before the one rounding to float."""
    value = float(Decimal(num.replace(",", "")) / scale)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {num[:20]}")
    return value


def _unit_and_qualifier(rest: str) -> tuple[str, str]:
    """Split 'kg on drained weight' -> ('kg', 'on drained weight'); '1,000 pins' -> ('1000 pins', '')."""
    rest = rest.strip()
    m = re.match(r"^(.*?)\s+((?:on|of|less|but|in|if|over)\b.*)$", rest, re.IGNORECASE)
    unit, qual = (m.group(1), m.group(2)) if m else (rest, "")
    unit = re.sub(r"\s*/\s*", "/", unit.strip().rstrip(",").strip())
    unit = re.sub(r"(?<=\d),(?=\d{3})", "", unit)
    canon = _UNIT_ALIASES.get(unit.lower())
    if canon is None:
        canon = _UNIT_ALIASES.get(unit.lower().rstrip("."), unit.lower().rstrip("."))
    return canon, qual.strip()


def _component(part: str) -> tuple[str, float, str | None, str] | None:
    """One '+'-separated component: ('av', fraction, None, qualifier) or ('sp', usd, unit, qualifier)."""
    part = part.strip()
    m = _AV.match(part)
    if m:
        return "av", _to_float(m.group(1), 100), None, m.group(2).strip()
    m = _SPEC.match(part)
    if m:
        dollar, num, cent = m.group(1), m.group(2), m.group(3)
        if bool(dollar) == bool(cent):  # exactly one currency marker, or it is not a rate
            return None
        value = _to_float(num, 100 if cent else 1)
        if m.group("each") is not None:
            each = m.group("each")
            mm = re.match(r"^(?:for\s+)?each\s*(.*)$", each, re.IGNORECASE)
            tail = mm.group(1) if mm else ""
            if tail.lower().startswith("other piece"):  # '0.2¢ for each other piece or part, but ...'
                return "sp", value, "piece", f"for each {tail}"
            return "sp", value, "each", tail.strip()
        unit, qual = _unit_and_qualifier(m.group("unit"))
        if not unit or len(unit) > 24:
            return None
        return "sp", value, unit, qual
    return None


def _split_plus(text: str) -> list[str]:
    """Split on '+' that joins components (not inside parentheses)."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        if ch == "+" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


@functools.lru_cache(maxsize=8192)
def _parse_clean(s: str) -> ParsedRate:
    if not s:
        return NONE
    low = s.lower()
    if low.startswith("free"):
        rest = s[4:].strip(" ,;")
        if rest and not rest.startswith("("):
            return ParsedRate("free", ad_valorem=0.0, note=rest)
        return FREE if not rest else ParsedRate("free", ad_valorem=0.0, note=f"programs {rest}")
    if low.rstrip(".") == "no change":
        return ParsedRate("subheading_plus", ad_valorem=0.0, note="no change")
    m = _SUBHEADING.match(s)
    if m:
        which = " ".join(m.group("which").split())
        notes: list[str] = [] if which.lower() == "applicable subheading" else [f"base: {which}"]
        if m.group("num") is None:
            return ParsedRate("subheading_plus", ad_valorem=0.0, note="; ".join(notes) or None)
        plus = _to_float(m.group("num"), 100)
        if m.group("op").lower() == "minus":
            plus = -plus
        rest = (m.group("rest") or "").strip().rstrip(".")
        if rest:
            notes.append(rest)
        return ParsedRate("subheading_plus", ad_valorem=plus, note="; ".join(notes) or None)
    if _REFERENCE.match(s):
        return ParsedRate("unparsed", note=f"reference rate, not a number: {s}")
    comps = []
    for part in _split_plus(s):
        c = _component(part)
        if c is None:
            return ParsedRate("unparsed", note=f"cannot read component {part!r}")
        comps.append(c)
    avs = [c for c in comps if c[0] == "av"]
    sps = [c for c in comps if c[0] == "sp"]
    if len(sps) > 2:
        return ParsedRate("unparsed", note=f"{len(sps)} specific components (at most 2 supported)")
    notes = []
    av = avs[0][1] if avs else None
    # A part levied on a component of the value ('6% on the case', '5.3% on the battery'), on a content
    # quantity ('1.7¢/kg on lead content', '... on drained weight', '2¢/jewel over 17'), on a sliding scale
    # (raw sugar by degree of polarity) or under a cap cannot be turned into a rate on customs value from
    # the text: flagged 'partial base' (its AVE needs realized duties). These are exactly the lines the
    # USITC tariff database marks as not computable (rate types T, K, X).
    partial = any(c[3] and c[3].lower() not in _WHOLE_VALUE and c[3].lower().startswith("on") for c in avs) or any(
        _CONTENT_BASE.search(c[3] or "") for c in sps)
    if partial:
        notes.append(PARTIAL_BASE)
    for i, c in enumerate(avs):
        if i == 0:
            if c[3]:
                notes.append(f"ad valorem {c[3]}")
        else:
            pct = float(Decimal(str(c[1])) * 100)
            notes.append(f"further ad valorem part {pct:g}% {c[3]} not in ad_valorem".strip())
    for i, sp in enumerate(sps):
        if sp[3]:
            notes.append(f"specific{'' if i == 0 else ' 2'} {sp[3]}")
    form: RateForm = "compound" if (avs and sps) else ("specific" if sps else "ad_valorem")
    return ParsedRate(
        form,
        ad_valorem=av,
        specific_rate=sps[0][1] if sps else None,
        specific_unit=sps[0][2] if sps else None,
        specific_rate_2=sps[1][1] if len(sps) > 1 else None,
        specific_unit_2=sps[1][2] if len(sps) > 1 else None,
        note="; ".join(notes) or None,
    )


def parse_rate(text: object) -> ParsedRate:
    """Parse one HTS rate text (column 1 general, or a Chapter 99 general text). Never raises."""
    try:
        return _parse_clean(clean_rate_text(text))
    except (InvalidOperation, ValueError, OverflowError) as exc:  # e.g. absurd numbers in fuzzed text
        return ParsedRate("unparsed", note=f"cannot read: {exc.__class__.__name__}")
