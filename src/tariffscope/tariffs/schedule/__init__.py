"""MFN rates from the HTS: parsing column 1 ("general") rate texts, and ad valorem equivalents.

Modules:

- rate texts are read by ``tariffscope.ingest.rate_text`` (``parse_rate`` -> ``ParsedRate``: free, ad
  valorem, specific, compound, Chapter 99 add-ons; never raises, ``form='unparsed'`` with the reason
  otherwise); it sits below the domain because the readers use it when they store a revision, and its
  names are re-exported here.
- ``lines``: rate texts over HTS lines: the text each statistical line inherits (``inherit_rate_text``)
  and the parse coverage per revision (``unparsed_report``).
- ``ave``: ad valorem equivalents: of one parsed rate at a unit value (``ave``) and of every HTS10 line
  of a revision from the warehouse's trade flows (``mfn_ave_table``, with the basis of each AVE).
"""
from __future__ import annotations

from tariffscope.ingest.rate_text import (
    FREE,
    NONE,
    PARTIAL_BASE,
    RATE_FORMS,
    ParsedRate,
    RateForm,
    clean_rate_text,
    parse_rate,
)
from tariffscope.tariffs.schedule.ave import MFN_REFERENCE_PARTNERS, ave, mfn_ave_table, quantity_unit_to_rate_unit
from tariffscope.tariffs.schedule.lines import UnparsedReport, inherit_rate_text, unparsed_report

__all__ = ["MFN_REFERENCE_PARTNERS", "ave", "mfn_ave_table", "quantity_unit_to_rate_unit", "UnparsedReport",
           "inherit_rate_text", "unparsed_report", "FREE", "NONE", "PARTIAL_BASE", "RATE_FORMS", "ParsedRate",
           "RateForm", "clean_rate_text", "parse_rate"]
