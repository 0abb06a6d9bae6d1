"""Scenario files: the built-ins load, bad files are rejected with the YAML path, and resolution
applies changes as documented (on a small hand-made duty panel, independent of the engine)."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from tariffscope.errors import InputError, RuleError
from tariffscope.scenarios.resolve import measure_prefixes, resolve
from tariffscope.scenarios.run import builtin_names, get_scenario
from tariffscope.scenarios.schema import parse_scenario

GOOD = """
name: t
base: {date: 2025-06-15}
changes:
  - measure: ieepa_recip_phase1
    action: apply
    origins: [JPN]
  - origins: [Japan]
    products: {prefixes: ["8703", "8708"]}
    mode: floor
    rate: 0.15
"""


def test_builtins_load_and_tell_the_story():
    names = builtin_names()
    for n in ("baseline-2024", "june-2025", "july-9-hike", "auto-relief", "japan-deal", "korea-deal"):
        assert n in names
        assert get_scenario(n).name == n
    assert get_scenario("july-9-hike").changes[0].measure == "ieepa_recip_phase1"
    assert get_scenario("japan-deal").base.date == dt.date(2025, 10, 1)
    assert get_scenario("baseline-2024").base.regime == "no_additional_tariffs"


@pytest.mark.parametrize("edit, message", [
    (("rate: 0.15", "rate: -0.15"), "f.yaml: changes[1].rate: must be >= 0"),
    (("ieepa_recip_phase1", "ieepa_recip_phase9"), "f.yaml: changes[0].measure: unknown measure id 'ieepa_recip_phase9'"),
    (("mode: floor", "mode: floor\n    colour: red"), "f.yaml: changes[1].colour: unknown key"),
    (("rate: 0.15", "rate: high"), "f.yaml: changes[1].rate: Input should be a valid number"),
    (("mode: floor", "mode: flor"), "f.yaml: changes[1].mode: Input should be 'add', 'set' or 'floor'"),
    (("origins: [Japan]", "origins: [Japn]"), "f.yaml: changes[1].origins: unknown country 'Japn'"),
    (("action: apply", "action: set"), "f.yaml: changes[0]: action 'set' needs a rate"),
    (("base: {date: 2025-06-15}", "base: {date: 2025-06-15}\nfoo: 1"), "f.yaml: foo: unknown key"),
    (("base: {date: 2025-06-15}", "base: {date: soon}"), "f.yaml: base.date: Input should be a valid date"),
    (("changes:", "changes: 3\nx:"), "f.yaml: changes: Input should be a valid list"),
])
def test_bad_files_rejected_with_yaml_path(edit, message):
    with pytest.raises(RuleError) as err:
        parse_scenario(GOOD.replace(*edit), source="f.yaml")
    assert str(err.value).startswith(message)


def test_overlapping_windows_rejected():
    text = GOOD + """  - origins: [JPN]
    products: {prefixes: ["870323"]}
    rate: 0.1
    window: {from: 2025-01-01}
"""
    with pytest.raises(RuleError, match=r"changes\[2\]\.window: overlaps changes\[1\]"):
        parse_scenario(text, source="f.yaml")
    # The same change in a window that ends before never overlaps an open window starting later.
    ok = GOOD.replace("rate: 0.15", "rate: 0.15\n    window: {from: 2025-07-01}") + """  - origins: [JPN]
    products: {prefixes: ["870323"]}
    rate: 0.1
    window: {until: 2025-07-01}
"""
    assert len(parse_scenario(ok).changes) == 3


def test_measure_prefixes_from_catalogue_lists():
    autos = measure_prefixes("s232_autos")
    assert "870340" in autos
    parts = measure_prefixes("s232_auto_parts")
    assert len(parts) > 100 and all(p.isdigit() for p in parts)


# --- resolution on a hand-made panel ---------------------------------------------------------------

LINES = pa.table({
    "hts10": ["8703230190", "8703230190", "8708999990", "9403600000", "9403600000", "3004909100"],
    "origin": ["JPN", "DEU", "JPN", "JPN", "VNM", "JPN"],
    "value": [100.0, 50.0, 20.0, 10.0, 30.0, 40.0],
})
MFN = {"8703230190": 0.025, "8708999990": 0.025, "9403600000": 0.0, "3004909100": 0.0}
AUTO = ("8703", "8708")


def fake_panel(day, origins=None, hts10=None, options=None):
    """A toy regime: 232 autos/parts 25% from April 2025; reciprocal 10% (JPN 24% on 2025-04-09) except
    autos and pharma (3004, Annex II); JPN floor of 15% all-in from 2025-09-16."""
    # Column names as the engine's panel has them (tariffs.vocabulary): resolve matches them exactly.
    rows = {"hts10": [], "origin": [], "mfn_rate": [], "rate_232": [], "rate_ieepa_reciprocal": [], "total_rate": []}
    for h, mfn in MFN.items():
        for o in origins or ["JPN", "DEU", "VNM"]:
            auto = h.startswith(AUTO)
            s232 = 0.25 if auto and day >= dt.date(2025, 4, 3) else 0.0
            recip = 0.0 if auto or h.startswith("3004") or day < dt.date(2025, 4, 5) else 0.10
            if o == "JPN" and recip and day == dt.date(2025, 4, 9):
                recip = 0.24
            total = mfn + s232 + recip
            if o == "JPN" and day >= dt.date(2025, 9, 16) and not h.startswith("3004"):
                s232, recip, total = 0.0, 0.0, max(mfn, 0.15)
            for k, v in zip(rows, (h, o, mfn, s232, recip, total), strict=False):
                rows[k].append(v)
    return pa.table(rows)


def _rates(name_or_text):
    sc = get_scenario(name_or_text) if "\n" not in name_or_text else parse_scenario(name_or_text)
    t = resolve(sc, duty_panel=fake_panel, lines=LINES)
    return dict(zip(zip(t["hts10"].to_pylist(), t["origin"].to_pylist(), strict=False), t["new_rate"].to_pylist(), strict=False)), t


def test_resolve_builtins_on_toy_panel():
    june, t = _rates("june-2025")
    assert t["base_rate"].to_pylist() == [MFN[h] for h in LINES["hts10"].to_pylist()]
    assert june[("8703230190", "JPN")] == pytest.approx(0.275)
    assert june[("9403600000", "JPN")] == pytest.approx(0.10)
    hike, _ = _rates("july-9-hike")
    assert hike[("9403600000", "JPN")] == pytest.approx(0.24)      # reciprocal raised for Japan
    assert hike[("9403600000", "VNM")] == pytest.approx(0.10)      # not for others
    assert hike[("8703230190", "JPN")] == pytest.approx(0.275)     # 232 goods stay outside
    assert hike[("3004909100", "JPN")] == pytest.approx(0.0)       # Annex II stays exempt
    relief, _ = _rates("auto-relief")
    # 8703230190 is on s232_autos' prefix list (870323...01?) only if listed; 8708 parts are on the parts list.
    in_autos = any("8703230190".startswith(p) for p in measure_prefixes("s232_autos"))
    assert relief[("8703230190", "JPN")] == pytest.approx(0.15 if in_autos else 0.275)
    assert relief[("8703230190", "DEU")] == pytest.approx(0.275)
    assert relief[("9403600000", "JPN")] == pytest.approx(0.10)
    base, _ = _rates("baseline-2024")
    assert base == {k: MFN[k[0]] for k in base}
    deal, _ = _rates("japan-deal")
    assert deal[("9403600000", "JPN")] == pytest.approx(0.15)


def test_rate_changes_add_set_floor_and_windows():
    text = """
name: x
base: {date: 2025-06-15}
changes:
  - origins: [VNM]
    rate: 0.2
  - origins: [JPN]
    products: {prefixes: ["9403"]}
    mode: set
    rate: 0.05
  - origins: [JPN]
    products: {prefixes: ["8703"]}
    mode: floor
    rate: 0.01
  - origins: [DEU]
    rate: 0.5
    window: {from: 2026-01-01}
"""
    r, _ = _rates(text)
    assert r[("9403600000", "VNM")] == pytest.approx(0.30)
    assert r[("9403600000", "JPN")] == pytest.approx(0.05)
    assert r[("8703230190", "JPN")] == pytest.approx(0.025)   # floor below MFN: MFN only
    assert r[("8703230190", "DEU")] == pytest.approx(0.275)   # window not in force on the base date


def test_unknown_scenario_name_suggests():
    with pytest.raises(InputError, match="did you mean 'june-2025'"):
        get_scenario("june-2052")


def test_model_absorption_keys_normalized():
    sc = parse_scenario(GOOD + "model: {absorption: {'Japan:8703': 0.63, KOR: 0.2, '*:8708': 0, '*': 0.1}}\n")
    assert sc.model.absorption == {"JPN:8703": 0.63, "KOR": 0.2, "*:8708": 0.0, "*": 0.1}
    assert parse_scenario(GOOD).model.absorption == {}  # default: the cited pass_through.yaml values


@pytest.mark.parametrize("absorption, message", [
    ("{'JPN:87O3': 0.5}", "absorption key 'JPN:87O3': use '*', an origin (JPN) or ORIGIN:HSprefix"),
    ("{'8703': 0.5}", "absorption key '8703': an HS prefix needs an origin: *:8703"),
    ("{EU: 0.5}", "absorption key 'EU' is a group (EU27)"),
    ("{Japn: 0.5}", "absorption key 'Japn': unknown country 'Japn'"),
    ("{JPN: 1.5}", "absorption for JPN must be a share in [0, 1], got 1.5"),
    ("{JPN: -0.1}", "absorption for JPN must be a share in [0, 1]"),
    ("{JPN: .nan}", "absorption for JPN must be a share in [0, 1], got nan"),
    ("{JPN: true}", "must be a number, not true/false"),
    ("{JPN: 0.5, jpn: 0.2}", "absorption key 'jpn' repeats JPN"),
    ("0.5", "Input should be a valid dictionary"),
])
def test_model_absorption_bad_values_are_one_error(absorption, message):
    with pytest.raises(RuleError) as err:
        parse_scenario(GOOD + f"model: {{absorption: {absorption}}}\n", source="f.yaml")
    assert str(err.value).startswith("f.yaml: model.absorption") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_model_absorption_needs_infinite_omega():
    with pytest.raises(RuleError, match=r"^f.yaml: model: absorption applies with omega: .inf"):
        parse_scenario(GOOD + "model: {omega: 3, absorption: {JPN: 0.5}}\n", source="f.yaml")
