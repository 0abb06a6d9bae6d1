"""The supplier-linkage multiplier shipped as package data is the BEA table's, recomputed from the raw file."""
from __future__ import annotations

import csv
import hashlib
import json

import pytest

from tariffscope.models import exposure as ex


@pytest.mark.raw
def test_multiplier_matches_the_raw_bea_table(raw):
    path = raw / "autos" / "bea_total_requirements_industry_by_industry_summary.csv"
    rows = list(csv.reader(path.open(newline="", encoding="utf-8-sig")))
    header = next(r for r in rows if len(r) > 2 and r[1] == "Industries/Industries")
    col = header.index("3361MV")
    own = next(float(r[col]) for r in rows if r and r[0] == "3361MV")
    total = next(float(r[col]) for r in rows if len(r) > 1 and r[1] == "Total industry output requirement")
    assert ex.supplier_multiplier() == pytest.approx((total - own) / own, rel=1e-12)
    src = ex.multiplier_source()
    assert src["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    prov = json.loads((ex.FACTS_DIR / "provenance.json").read_text())["tables"]["auto_multipliers.json"]
    assert prov["files"][0]["sha256"] == src["sha256"]
    assert prov["sha256"] == hashlib.sha256((ex.FACTS_DIR / "auto_multipliers.json").read_bytes()).hexdigest()
    assert src["source"] == "bea_total_requirements_summary" and "3361MV" in src["item"]


def test_package_fact_sources_are_described(warehouse):
    """Sources read from package facts (not the warehouse) carry their title, publisher and vintage: the
    brief's source table showed them with empty cells (issue 14, defect 8, empty rows in the sources table)."""
    facts = ex.exporter_facts("JPN")
    assert facts is not None
    warehouse_sources = {r[0] for r in warehouse.execute("SELECT source FROM sources").fetchall()}
    package = [s for s in facts.sources if s["source"] not in warehouse_sources]
    assert {s["source"] for s in package} == {"japan_auto_industry_facts", "oica_production", "bea_total_requirements_summary"}
    for s in package:
        assert all(str(s.get(k) or "").strip() for k in ("title", "publisher", "vintage")), s
    assert ex.multiplier_source()["publisher"] == "U.S. Bureau of Economic Analysis"
