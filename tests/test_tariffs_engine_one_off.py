"""``duty(..., one_off=True)`` compiles the catalogue for one line and origin instead of for the line's whole HTS
revision (the brief's worked examples): every layer, heading, base, rule and exclusion must be what the
revision-wide index gives, on the hand-checked cases and on a sample of lines, origins and dates."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from tariffscope.errors import InputError

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "tariffs_duty.yaml").read_text())["cases"]


@pytest.fixture(scope="module")
def con(warehouse):
    return warehouse  # the session warehouse with the embedded data (read only)


def _both(con, code: str, origin: str, date: str, value: float = 100.0, **kw) -> tuple[dict, dict]:
    from tariffscope.tariffs.engine import duty

    return (duty(con, code, origin, date, value, **kw).to_dict(),
            duty(con, code, origin, date, value, one_off=True, **kw).to_dict())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_one_off_equals_the_revision_index_on_every_case(con, case):
    full, one = _both(con, case["hts10"], case["origin"], case["date"], case.get("value", 100.0), options=case.get("options"))
    assert one == full


def test_one_off_equals_the_revision_index_on_a_sample(con):
    # lines of the revision in force, origins with their own rules (USMCA, column 2, deals, China, US goods
    # returned), dates before and after the 2025 measures; a metal share and a quantity on some
    import datetime as dt

    from tariffscope.tariffs import hts
    from tariffscope.tariffs.engine import duty

    rng = np.random.default_rng(7)
    origins = ["JPN", "CHN", "CAN", "MEX", "RUS", "KOR", "DEU", "GBR", "VNM", "IND", "BRA", "CHE", "USA"]
    checked = 0
    for date in ("2025-01-15", "2025-04-10", "2025-08-10", "2025-10-01", "2025-12-31"):
        table = hts.mfn_table(con, hts.revision_in_force(con, dt.date.fromisoformat(date)).revision)
        picks = list(rng.choice(table.hts10, 40, replace=False)) + ["8703230140", "8708295060", "8708993000", "7208100000", "8429520000", "8802400060"]
        for i, code in enumerate(picks):
            origin = origins[i % len(origins)]
            kw = {"metal_share": 0.3} if i % 5 == 0 else {}
            if i % 7 == 0:
                kw["quantity"] = 12.0
            got = []
            for one_off in (False, True):
                try:
                    got.append(duty(con, str(code), origin, date, 25_000.0, one_off=one_off, **kw).to_dict())
                except InputError as exc:  # a code the revision lacks: both ways must say the same
                    got.append({"error": str(exc)})
            full, one = got
            if "error" in full:
                assert one == full
                continue
            assert one == full, (code, origin, date, kw)
            checked += 1
    assert checked >= 200
