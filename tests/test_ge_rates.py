"""Engine tariff rates into GE SPEC changes (tariffscope.compose.ge_rates): the same rates as api.etr."""
from __future__ import annotations

import math

import pytest

from tariffscope import api
from tariffscope.compose.ge_rates import engine_tariff_rates, rates_to_changes
from tariffscope.errors import InputError


def test_engine_rates_equal_api_etr_and_become_spec_changes(warehouse) -> None:
    rates = engine_tariff_rates(["JPN", "USA", "ROM", "XYZ"], "2025-01-01", "2025-12-01", con=warehouse)
    assert list(rates.partner) == ["JPN", "ROM", "XYZ"]  # the importer itself is skipped
    jpn = rates.set_index("partner").loc["JPN"]
    assert jpn.base_rate == api.etr("JPN", date="2025-01-01", con=warehouse).etr
    assert jpn.rate == api.etr("JPN", date="2025-12-01", con=warehouse).etr
    assert jpn.rate > jpn.base_rate and jpn.note == ""
    # the Advanced Guide's legacy code for Romania is asked as ROU
    rom = rates.set_index("partner").loc["ROM"]
    assert rom.rate == api.etr("ROU", date="2025-12-01", con=warehouse).etr
    xyz = rates.set_index("partner").loc["XYZ"]
    assert math.isnan(xyz.rate) and "XYZ" in xyz.note
    changes = rates_to_changes(rates)
    assert [c["exporters"] for c in changes] == [["JPN"], ["ROM"]]
    assert changes[0] == {"tariff": "ad_valorem", "importer": "USA", "exporters": ["JPN"],
                          "base_rate": round(jpn.base_rate, 6), "rate": round(jpn.rate, 6)}


def test_engine_rates_are_us_only() -> None:
    with pytest.raises(InputError, match="US tariffs only"):
        engine_tariff_rates(["JPN"], "2025-01-01", "2025-12-01", importer="JPN")
