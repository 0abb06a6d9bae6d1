"""The tariff vocabulary: the names every layer uses for legal authorities, stacking buckets and rate columns.

One place for the words that tie the catalogue (``authority`` of a measure), the stacking rules (buckets a
measure lands in), the duty panel (one ``rate_<authority>`` column per authority) and the front ends (short
and long labels). Everything here is a plain table; nothing imports the engine, so any module may use it.

* **authority**: the legal basis a catalogue measure cites (``Measure.authority``); ``deal`` measures
  replace a 232 or reciprocal duty and are reported under the authority they replace.
* **bucket**: where the stacking rules put a measure; at most one measure per bucket applies to a line.
  Order matters: it is the order of the layers in a duty result and of the add-ons in a total.
* **column**: the duty panel's add-on column of an authority (fractions of customs value).
"""
from __future__ import annotations

from typing import Literal

from tariffscope.errors import InputError

__all__ = [
    "AUTHORITIES", "Authority", "REPLACEABLE", "BUCKETS", "AUTHORITY_OF_BUCKET", "BUCKET_OF_AUTHORITY",
    "DISPLACED_BY_232", "AUTHORITY_COLUMNS", "COLUMN_BUCKETS", "PANEL_KEY_COLUMNS", "RATE_COLUMNS",
    "SHORT_LABELS", "AUTHORITY_LABELS", "authority_label", "column_of_authority", "column_of_bucket",
]

# Legal authorities a catalogue measure may cite (keep in step with the Literal below: tested).
AUTHORITIES: tuple[str, ...] = ("232", "ieepa_reciprocal", "ieepa_fentanyl", "301", "201", "122", "deal")
Authority = Literal["232", "ieepa_reciprocal", "ieepa_fentanyl", "301", "201", "122", "deal"]
# What a deal may replace (``Measure.replaces``).
REPLACEABLE = Literal["232", "ieepa_reciprocal"]

# Stacking buckets in layer order. 232 programs and the deals replacing them share ``s232``; reciprocal
# measures and the floors replacing them share ``reciprocal``; ``reciprocal_extra`` stacks on top of it.
BUCKETS: tuple[str, ...] = ("s232", "reciprocal", "reciprocal_extra", "fentanyl", "s301", "s201", "s122")
AUTHORITY_OF_BUCKET: dict[str, str] = {
    "s232": "232", "reciprocal": "ieepa_reciprocal", "reciprocal_extra": "ieepa_reciprocal",
    "fentanyl": "ieepa_fentanyl", "s301": "301", "s201": "201", "s122": "122",
}
# The bucket of a non-deal authority (ieepa_reciprocal: 'reciprocal' unless the measure stacks on it).
BUCKET_OF_AUTHORITY: dict[str, str] = {
    "232": "s232", "ieepa_reciprocal": "reciprocal", "ieepa_fentanyl": "fentanyl", "301": "s301", "201": "s201", "122": "s122",
}
# Buckets charged only on the part of the value a 232 duty does not cover (note 2(v)(vi)-(xi), rule R4).
DISPLACED_BY_232: tuple[str, ...] = ("reciprocal", "reciprocal_extra", "s122")

# The duty panel's add-on column per authority, and the buckets summed into each column. Deal floors are
# reported under the authority they replace (a Japan 232 auto floor under rate_232).
AUTHORITY_COLUMNS: dict[str, str] = {
    "232": "rate_232", "ieepa_reciprocal": "rate_ieepa_reciprocal", "ieepa_fentanyl": "rate_ieepa_fentanyl",
    "301": "rate_301", "201": "rate_201", "122": "rate_122",
}
COLUMN_BUCKETS: dict[str, tuple[str, ...]] = {
    col: tuple(b for b in BUCKETS if AUTHORITY_OF_BUCKET[b] == auth) for auth, col in AUTHORITY_COLUMNS.items()
}
# Columns of a duty panel that are not an authority's add-on.
PANEL_KEY_COLUMNS: tuple[str, ...] = ("hts10", "origin", "mfn_rate", "total_rate")
# The rate components that sum to total_rate: MFN then each authority's add-on.
RATE_COLUMNS: tuple[str, ...] = ("mfn_rate", *AUTHORITY_COLUMNS.values())

# Short headers for narrow tables (CLI), keyed by panel column.
SHORT_LABELS: dict[str, str] = {
    "mfn_rate": "mfn", "rate_232": "232", "rate_ieepa_reciprocal": "recip", "rate_ieepa_fentanyl": "fent",
    "rate_301": "301", "rate_201": "201", "rate_122": "122",
}
# Long labels for charts and briefs, keyed by authority, bucket or ETR component key.
AUTHORITY_LABELS: dict[str, str] = {
    "mfn": "MFN (column 1)", "s232": "Section 232", "232": "Section 232", "ieepa_reciprocal": "IEEPA reciprocal",
    "reciprocal": "IEEPA reciprocal", "ieepa_fentanyl": "IEEPA fentanyl", "fentanyl": "IEEPA fentanyl",
    "s301": "Section 301", "301": "Section 301", "s201": "Section 201", "201": "Section 201", "s122": "Section 122",
    "122": "Section 122",
}


def authority_label(key: str) -> str:
    """The long label of an authority, bucket or component key; unknown keys are shown as written."""
    return AUTHORITY_LABELS.get(str(key), str(key).replace("_", " "))


def column_of_bucket(bucket: str) -> str:
    """The duty panel column a stacking bucket is reported under."""
    try:
        return AUTHORITY_COLUMNS[AUTHORITY_OF_BUCKET[bucket]]
    except KeyError:
        raise InputError(f"unknown stacking bucket {bucket!r} (known: {', '.join(BUCKETS)})") from None


def column_of_authority(authority: str) -> str:
    """The duty panel column of a non-deal authority (a deal's column is that of the bucket it replaces)."""
    col = AUTHORITY_COLUMNS.get(authority)
    if col is None:
        raise InputError(f"no duty panel column for authority {authority!r} (known: {', '.join(AUTHORITY_COLUMNS)})")
    return col
