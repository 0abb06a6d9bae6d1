"""Measure catalogue: schema validation (unknown keys, date order, negative rates, overlapping windows, lists),
the derived lists' provenance, and the check against the HTS with its known discrepancies."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from tariffscope.errors import InputError, RuleError
from tariffscope.tariffs import measures as M

KNOWN = yaml.safe_load((Path(__file__).parent / "cases" / "tariffs_catalogue_discrepancies.yaml").read_text())


@pytest.fixture(scope="module")
def con(warehouse):
    return warehouse  # the session warehouse with the embedded data (read only)


def test_catalogue_loads_and_covers_the_fact_sheet():
    cat = M.load()
    ids = {m.id for m in cat.measures}
    # every measure family of the fact sheet (docs/us-tariff-measures.md) for 2025-01-01..2026-06-30
    for need in ("s232_steel_50", "s232_steel_uk_25", "s232_steel_derivatives_content", "s232_aluminum_50", "s232_autos",
                 "s232_auto_parts", "s232_copper", "s232_mhd_trucks", "s232_buses", "s232_semiconductors",
                 "s232_metals_annex_1a", "ieepa_recip_baseline", "ieepa_recip_phase1", "ieepa_recip_phase2",
                 "ieepa_fentanyl_canada_35", "ieepa_fentanyl_mexico", "ieepa_fentanyl_china_20", "ieepa_recip_china_125",
                 "s301_china", "s201_solar", "s122_blanket", "deal_japan_floor", "deal_japan_autos", "deal_eu_floor",
                 "deal_korea_floor", "deal_swiss_floor", "deal_uk_autos"):
        assert need in ids, need
    assert all(m.citation.text and m.citation.note for m in cat.measures)
    # IEEPA measures all stop on 2026-02-24 (collection ended); Section 122 stops after 150 days
    import datetime as dt

    for m in cat.measures:
        if m.authority.startswith("ieepa") or m.replaces == "ieepa_reciprocal":
            assert m.effective_until is not None and m.effective_until <= dt.date(2026, 2, 24), m.id
            # the ruling (2026-02-20) is the named alternative end of whatever was still collected then
            if m.effective_until == dt.date(2026, 2, 24):
                assert m.until({"ieepa_end": "ruling"}) == dt.date(2026, 2, 20), m.id
            assert m.until({"ieepa_end": "collection"}) == m.effective_until, m.id
    # India's additional 25% ends on its termination (compiler's note of 2026_rev_3), not with IEEPA
    assert cat.get("ieepa_india_25").effective_until == dt.date(2026, 2, 7)
    s122 = cat.get("s122_blanket")
    assert (s122.effective_until - s122.effective_from).days == 150


def _copy_catalogue(tmp_path: Path) -> Path:
    dst = tmp_path / "catalogue"
    shutil.copytree(M.CATALOGUE_DIR, dst)
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("old, new, message", [
    ("    rate: 0.25\n    priority: 50", "    rate: 0.25\n    priority: 50\n    colour: red", "Extra inputs are not permitted"),
    ("effective_from: 2025-01-01\n    effective_until: 2025-03-12", "effective_from: 2025-01-01\n    effective_until: 2024-12-31",
     "is not after effective_from"),
    ("    rate: 0.25\n    priority: 50", "    rate: -0.25\n    priority: 50", "greater than or equal to 0"),
    ('headings: ["9903.94.01"]', 'headings: ["99.03.94"]', "9903.xx.xx"),
    ("products: {lists: [{list: s232_auto_parts}]}", "products: {lists: [{list: no_such_list}]}", "no_such_list"),
    ("origins: {include: [all]}\n    products: {prefixes: [\"87032201\"", "origins: {include: [Japan]}\n    products: {prefixes: [\"87032201\"", "Japan"),
])
def test_catalogue_validation_errors(tmp_path, old, new, message):
    d = _copy_catalogue(tmp_path)
    _edit(d / "s232.yaml", old, new)
    M.load.cache_clear()
    try:
        with pytest.raises(RuleError, match=message):
            M.load(str(d))
    finally:
        M.load.cache_clear()


def test_overlapping_windows_of_one_measure_are_rejected(tmp_path):
    d = _copy_catalogue(tmp_path)
    doc = yaml.safe_load((d / "other.yaml").read_text())
    twin = dict(doc["measures"][-1])
    twin["effective_from"] = "2026-05-01"
    doc["measures"].append(twin)
    (d / "other.yaml").write_text(yaml.safe_dump(doc))
    M.load.cache_clear()
    try:
        with pytest.raises(RuleError, match="s122_blanket: windows overlap"):
            M.load(str(d))
    finally:
        M.load.cache_clear()


def test_yaml_is_read_with_safe_loading(tmp_path):
    d = _copy_catalogue(tmp_path)
    (d / "evil.yaml").write_text("catalogue_version: x\nmeasures: !!python/object/apply:os.system ['true']\n")
    M.load.cache_clear()
    try:
        # read through the one safe loader (tariffscope.ingest.safeyaml): refused, nothing constructed
        with pytest.raises(InputError, match="python/object/apply"):
            M.load(str(d))
    finally:
        M.load.cache_clear()


@pytest.mark.raw
def test_lists_match_their_provenance(raw):
    prov = yaml.safe_load((M.LISTS_DIR / "PROVENANCE.yaml").read_text())
    for name, p in prov["lists"].items():
        path = M.LISTS_DIR / f"{name}.csv"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == p["sha256"], f"{name}: rebuild with scripts/build_measure_lists.py"
        for src in p["sources"]:
            assert hashlib.sha256((raw / src["path"]).read_bytes()).hexdigest() == src["sha256"], src["path"]
    # Phase 2 Japan rate read from the HTS text of 9903.02.30
    rows = {(r[0], r[2]): (r[1], float(r[3])) for r in M.read_list("reciprocal_country_rates")}
    assert rows[("ieepa_recip_phase2", "JPN")] == ("9903.02.30", 0.15)
    assert rows[("ieepa_recip_phase1", "JPN")] == ("9903.01.53", 0.24)
    assert rows[("ieepa_recip_phase2", "CHE")] == ("9903.02.58", 0.39)


def test_check_against_hts(con):
    rows = M.check(con)
    assert len(rows) > 150
    bad = {(r["measure_id"], r["heading"], r["status"]) for r in rows if r["status"] != "ok"}
    known = {(k["measure_id"], k["heading"], k["status"]) for k in KNOWN["discrepancies"]}
    assert bad == known, "new mismatches between the catalogue and the HTS: review and record them"
    assert not any(r["status"] == "missing" for r in rows)
    # a deal published after its legal date starts at publication and keeps the legal date for deal_dates='legal'
    cat = M.load()
    for mid in ("deal_japan_floor", "deal_eu_autos", "deal_korea_autos", "deal_korea_floor"):
        m = cat.get(mid)
        assert m.effective_from_legal is not None and m.effective_from_legal < m.effective_from, mid


def test_cli_measures_and_etr(con, capsys, monkeypatch):
    import json

    from tariffscope import api
    from tariffscope.cli import main

    monkeypatch.setattr(api, "_tariff_con", lambda c=None: con)
    assert main(["measures", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed["measures"]) == len(M.load().measures)
    assert main(["measures", "show", "deal_japan_floor"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["headings"] == ["9903.02.72", "9903.02.73"] and "15 percent" in shown["citation"]["text"]
    assert main(["measures", "show", "no_such_measure"]) == 1
    assert "unknown measure" in capsys.readouterr().err
    assert main(["measures", "check"]) == 0  # known discrepancies only, nothing missing
    assert "to review" in capsys.readouterr().out
    assert main(["etr", "--partner", "JPN", "--date", "2025-10-15", "--by", "hs2", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"partner", "date", "etr", "by"} and out["partner"] == "JPN"
    assert sum(b["contribution"] for b in out["by"]) == pytest.approx(out["etr"], rel=1e-6)
    assert main(["etr", "--partner", "JPN", "--from", "2025-04-01", "--to", "2025-04-03", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("partner,date,etr") and len(lines) == 4
    assert main(["etr", "--partner", "JPN"]) == 1
    assert "give --date" in capsys.readouterr().err


def test_every_chapter99_heading_is_accounted_for(con):
    """Issue 12: every heading of every loaded revision is a catalogue measure's or an out-of-scope entry with a reason."""
    rows = M.completeness(con)
    from tariffscope import db

    revisions = set(db.query(con, "SELECT DISTINCT revision FROM chapter99_lines").column(0).to_pylist())
    assert len(revisions) == 44
    headings = set(db.query(con, "SELECT DISTINCT heading FROM chapter99_lines").column(0).to_pylist())
    per_heading = [r for r in rows if r["status"] in ("mapped", "out_of_scope", "unmapped")]
    assert len(per_heading) == len(headings)
    assert [r["heading"] for r in per_heading if r["status"] == "unmapped"] == []
    # the Taiwan agreement and the UK metals headings are the catalogue's (they were missing)
    mapped = {r["heading"]: r["measure_id"] for r in per_heading if r["status"] == "mapped"}
    for h in ("9903.94.66", "9903.94.67", "9903.94.68", "9903.94.69", "9903.85.15", "9903.81.98"):
        assert h in mapped, h
    # every out-of-scope entry still matches a heading (no stale entries) and never shadows a measure's heading
    every = {h for h in headings}
    for e in M.out_of_scope():
        hit = set().union(*(M._expand_all(spec, every) for spec in e.headings))
        assert hit, f"out-of-scope entry matches no heading: {e.headings}"
        assert not {M._pretty(h) for h in hit} & set(mapped), f"out-of-scope entry shadows a catalogue heading: {e.headings}"


def test_completeness_flags_a_new_unmapped_heading(con):
    """A revision bringing a heading nobody accounts for makes the check (and so the suite) fail."""
    import duckdb

    from tariffscope import db

    mem = duckdb.connect()
    revs = db.query(con, "SELECT * FROM hts_revisions")
    lines = db.query(con, "SELECT * FROM chapter99_lines WHERE revision IN ('2026_rev_9', '2026_rev_10')")
    mem.register("revs_src", revs)
    mem.register("lines_src", lines)
    mem.execute("CREATE TABLE hts_revisions AS SELECT * FROM revs_src")
    mem.execute("CREATE TABLE chapter99_lines AS SELECT * FROM lines_src")
    mem.execute("INSERT INTO chapter99_lines (revision, heading, general_text, description) "
                "VALUES ('2026_rev_10', '99039970', '+ 30%', 'Articles the product of Atlantis')")
    rows = M.completeness(mem)
    assert [r["heading"] for r in rows if r["status"] == "unmapped"] == ["9903.99.70"]
    # and a measure's heading dropped from a later revision while the measure is open-ended is reported
    mem.execute("DELETE FROM chapter99_lines WHERE revision = '2026_rev_10' AND heading = '99039405'")
    gone = [r for r in M.completeness(mem) if r["status"] == "vanished"]
    assert [(r["measure_id"], r["heading"], r["revision"]) for r in gone] == [("s232_auto_parts", "9903.94.05", "2026_rev_10")]
    # a rate the catalogue does not know is reported
    mem.execute("UPDATE chapter99_lines SET general_text = 'The duty provided in the applicable subheading + 35%' "
                "WHERE heading = '99039401'")
    assert any(r["status"] == "rate_text" and r["heading"] == "9903.94.01" for r in M.completeness(mem))


def test_origin_groups_are_the_country_codes_groups():
    """Issue 12: the catalogue's EU27 is codes.countries' group, not a list of its own: the two cannot diverge, and no
    module of the tariff package spells out the membership again."""
    import re
    from pathlib import Path

    from tariffscope.codes.countries import group_members

    for name, members in M.GROUPS.items():
        assert members == frozenset(group_members(name)), name
    cat = M.load()
    named = {c for m in cat.measures for c in m.origins.include + m.origins.exclude if c != "all" and not re.fullmatch(r"[A-Z]{3}", c)}
    assert named <= set(M.GROUPS) and "EU27" in named
    pkg = Path(M.__file__).parent
    eu = sorted(group_members("EU27"))
    for src in pkg.rglob("*.py"):
        text = src.read_text()
        spelled = sum(f'"{iso}"' in text for iso in eu)
        assert spelled < 10, f"{src.name} spells out {spelled} EU members: use codes.countries.group_members('EU27')"


def test_product_list_prefixes_are_at_most_ten_digits(tmp_path, monkeypatch):
    """Issue 12: a list row longer than an HTS10 code (annex_ii had 850511007000) matches nothing and hid a line; the
    loader refuses one, and every shipped product list passes."""
    for path in sorted(M.LISTS_DIR.glob("*.csv")):
        M.read_list(path.stem)  # raises RuleError on a bad prefix
    (tmp_path / "bad.csv").write_text("prefix,effective_from,effective_until,value\n850511007000,2025-09-08,,annex_ii\n")
    monkeypatch.setattr(M, "LISTS_DIR", tmp_path)
    M.read_list.cache_clear()
    try:
        with pytest.raises(RuleError, match="0 to 10 digits"):
            M.read_list("bad")
    finally:
        M.read_list.cache_clear()
