"""The duty on one entry: HTS10 x origin x entry date x customs value, layer by layer.

``duty()`` validates its inputs, takes the MFN line from the HTS revision in force on the entry date,
runs the stacking rules of ``tariffscope.tariffs.rules`` (the same vectorized code the panel uses, on
one cell) and returns a ``DutyResult`` with every layer (measure, legal heading, authority, rate, base,
amount), the rules that fired, the measures that did not and why, the total duty and the effective rate.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

from tariffscope.codes.countries import resolve_country
from tariffscope.codes.products import normalize_hts
from tariffscope.errors import InputError
from tariffscope.tariffs import hts as hts_mod, usmca as usmca_mod
from tariffscope.tariffs.coverage import data_coverage
from tariffscope.tariffs.measures import Catalogue, Measure, load
from tariffscope.tariffs.rules import (
    COLUMN2_ORIGINS,
    OPTIONS,
    RULES,
    US_GOODS_RETURNED,
    US_ORIGIN,
    Compiled,
    resolve_options,
)
from tariffscope.tariffs.vocabulary import AUTHORITY_OF_BUCKET, BUCKETS, DISPLACED_BY_232


@dataclass
class Layer:
    measure_id: str
    heading: str
    authority: str
    rate: float  # fraction of the base
    base: float  # value the rate applies to (customs value, or its metal / non-metal share)
    amount: float
    rate_form: str = "add_on"
    citation: str = ""
    share: float = 1.0  # conditional scope: the share of the value the measure holds for (``share_option``)
    share_option: str = ""  # the option giving ``share`` (change it with options={name: value})


@dataclass
class DutyResult:
    hts10: str
    origin: str
    date: dt.date
    customs_value: float
    quantity: float | None
    layers: list[Layer]
    total_duty: float
    effective_rate: float
    rules_fired: list[dict] = field(default_factory=list)
    rules_excluded: list[dict] = field(default_factory=list)
    description: str = ""
    mfn_text: str = ""
    mfn_basis: str = ""
    hts_revision: str = ""
    catalogue_version: str = ""
    options: dict = field(default_factory=dict)
    usmca: dict = field(default_factory=dict)  # Canada/Mexico: the USMCA claim share used and where it comes from

    def to_dict(self) -> dict:
        return {
            "hts10": self.hts10, "origin": self.origin, "date": self.date.isoformat(), "customs_value": self.customs_value,
            "quantity": self.quantity,
            "layers": [{"measure_id": ly.measure_id, "heading": ly.heading, "authority": ly.authority,
                        "rate": round(ly.rate, 6), "base": round(ly.base, 6), "amount": round(ly.amount, 6),
                        "rate_form": ly.rate_form}
                       | ({"share": round(ly.share, 6), "share_option": ly.share_option} if ly.share_option else {})
                       for ly in self.layers],
            "total_duty": round(self.total_duty, 6), "effective_rate": round(self.effective_rate, 6),
            "rules_fired": self.rules_fired, "rules_excluded": self.rules_excluded,
            "description": self.description, "mfn_text": self.mfn_text, "mfn_basis": self.mfn_basis,
            "hts_revision": self.hts_revision, "catalogue_version": self.catalogue_version, "options": self.options,
        } | ({"usmca": self.usmca} if self.usmca else {})

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([asdict(ly) for ly in self.layers])


def parse_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"bad date {value!r}: use YYYY-MM-DD") from None


def check_date(date: dt.date) -> None:
    lo, hi = data_coverage().catalogue
    if not (lo <= date < hi):
        raise InputError(f"date {date} is outside the measure catalogue's coverage ({lo} to {hi - dt.timedelta(days=1)})")


def normalize_hts10(text: str) -> str:
    code = normalize_hts(text)
    if not re.fullmatch(r"\d{10}", code or ""):
        raise InputError(f"bad HTS code {text!r}: give the 10-digit statistical number, e.g. 8703.23.01.40")
    return code


def resolve_origin(text: str) -> str:
    c = resolve_country(text)
    if getattr(c, "is_group", False):
        raise InputError(f"origin {text!r} is a group; give one country (ISO3), e.g. DEU for a good of the EU")
    return c.iso3


def lookup_line(con, code: str, date: dt.date) -> tuple[hts_mod.MfnTable, int, hts_mod.Revision]:
    rev = hts_mod.revision_in_force(con, date)
    table = hts_mod.mfn_table(con, rev.revision)
    pos = table.position(code)
    if pos is None:
        pretty = f"{code[:4]}.{code[4:6]}.{code[6:8]}.{code[8:]}"
        others = [r for r in hts_mod.revisions_with_code(con, code) if r != rev.revision]
        if others:
            span = others[0] if len(others) == 1 else f"{others[0]} .. {others[-1]}"
            raise InputError(f"HTS {pretty} is not in {rev.revision} (in force on {date}); it is valid only in {span}")
        raise InputError(f"unknown HTS code {pretty}: not in any loaded HTS revision")
    return table, pos, rev


def _col2_rate(table: hts_mod.MfnTable, pos: int, customs_value: float, quantity: float | None) -> tuple[float, str]:
    """Column 2 rate of the line (general note 3(b), rule R12): on the given quantity when its specific part has one."""
    text = str(table.other_text[pos]) if table.other_text is not None and table.other_text[pos] else ""
    if table.col2_ave is None or not text:
        return _mfn_rate(table, pos, customs_value, quantity)
    av, spec, unit, spec2, unit2, ok = hts_mod._parse2(text)
    if ok and quantity is not None and not np.isnan(spec):
        amount = av * customs_value + spec * quantity + (0.0 if np.isnan(spec2) else spec2 * quantity)
        return amount / customs_value, f"column 2 specific part on the given quantity ({quantity:g} {unit or 'units'})"
    return float(table.col2_ave[pos]), str(table.col2_basis[pos]) if table.col2_basis is not None else ""


def _mfn_rate(table: hts_mod.MfnTable, pos: int, customs_value: float, quantity: float | None) -> tuple[float, str]:
    spec = table.specific_rate[pos]
    if quantity is not None and not np.isnan(spec):
        amount = table.ad_valorem[pos] * customs_value + spec * quantity
        if not np.isnan(table.specific_rate_2[pos]):
            amount += table.specific_rate_2[pos] * quantity
        return amount / customs_value, f"specific part on the given quantity ({quantity:g} {table.specific_unit[pos] or 'units'})"
    return float(table.ave[pos]), str(table.ave_basis[pos])


_compiled_cache: dict[tuple, Compiled] = {}
COMPILED_KEEP = 1
_compiled_lock = threading.Lock()


def compiled_for(catalogue: Catalogue, codes: tuple[str, ...], origins: tuple[str, ...]) -> Compiled:
    key = (catalogue.version, id(catalogue), codes, origins)
    c = _compiled_cache.get(key)
    if c is None:
        with _compiled_lock:  # web threads asking for the same index compile it once
            c = _compiled_cache.get(key)
            if c is None:
                # A compiled index over a revision's codes x every origin holds ~125 MB: keep only the latest
                # (a series over 2025 touches a dozen revisions; a server kept them all, >1 GB while idle).
                while len(_compiled_cache) >= COMPILED_KEEP:
                    _compiled_cache.pop(next(iter(_compiled_cache)))
                c = _compiled_cache[key] = Compiled(catalogue, list(codes), list(origins))
    return c


def drop_caches() -> int:
    """Forget the compiled catalogue indexes and the MFN tables: the next duty rebuilds them (about a second).
    A server that has gone idle hands their ~200 MB back (``web.idle``). The caches are the process's: call
    it only where nothing else computes meanwhile (a server with no request in flight), never from a
    process that runs other work beside it. Returns how many entries went."""
    with _compiled_lock:
        n = len(_compiled_cache) + len(_by_table)
        _compiled_cache.clear()
        _by_table.clear()
    return n + hts_mod.drop_tables()


_ORIGINS: tuple[str, ...] | None = None
_by_table: dict[tuple, tuple[Compiled, dict[str, int], hts_mod.MfnTable]] = {}


def compiled_for_table(catalogue: Catalogue, table: hts_mod.MfnTable) -> tuple[Compiled, dict[str, int]]:
    """The catalogue compiled once against every HTS10 line of an MFN table and every origin (the panel's index,
    shared with it through ``compiled_for``), with the origin positions. Revisions with the same lines share a
    table (``hts.canonical``), so a handful of compilations serve any HTS10 x origin x date."""
    global _ORIGINS
    key = (catalogue.version, id(catalogue), id(table))
    got = _by_table.get(key)
    if got is None:
        from tariffscope.tariffs.panel import default_origins

        if _ORIGINS is None:
            _ORIGINS = tuple(default_origins())
        comp = compiled_for(catalogue, tuple(table.hts10), _ORIGINS)
        got = (comp, comp.o_pos, table)  # holding the table keeps id(table) from being reused while cached
        if len(_by_table) > 32:
            _by_table.clear()
        _by_table[key] = got
    return got[0], got[1]


def ieepa_end_date(cat: Catalogue, opts: dict) -> dt.date | None:
    """The first day without IEEPA duties under the options (``ieepa_end``): the latest end of the IEEPA measures."""
    ends = [m.until(opts) for m in cat.measures if m.authority.startswith("ieepa")]
    return max((e for e in ends if e is not None), default=None) if ends and None not in ends else None


def _runner_up_layer(comp: Compiled, out: dict, layers: list[Layer], at: int, fired: list[dict], hi: int, oi: int, day: dt.date,
                     mfn_floor: float, customs_value: float, ms: float, top: Measure) -> None:
    """R11: the 232 layer of the value outside the winning measure's conditional scope (``Compiled._runner_up``)."""
    nidx = int(out["s232_next_measure"][0])
    rest = float(out["s232_next_share"][0])
    amount_rate = float(out["s232_next"][0])
    if nidx < 0 or rest <= 0.0 or amount_rate <= 0.0:
        return
    cm = comp.measures[nidx]
    m = cm.m
    nominal = float(out["s232_next_rate"][0])
    if m.rate_form == "on_metal_content":
        base, rate = ms * rest * customs_value, nominal
    else:
        base, rate = rest * customs_value, amount_rate / rest
    heading = comp.heading_for(cm, hi, oi, day, mfn_floor, nominal)
    fired.append({"rule": "R11_conditional_scope", "text": RULES["R11_conditional_scope"][0],
                  "note": RULES["R11_conditional_scope"][1], "measure_id": m.id})
    if m.rate_form == "floor_inclusive_of_mfn":
        fired.append({"rule": "R2_floor", "text": RULES["R2_floor"][0], "note": RULES["R2_floor"][1], "measure_id": m.id})
    layers.insert(at, Layer(m.id, heading, AUTHORITY_OF_BUCKET["s232"] if m.authority != "deal" else "deal", rate, base,
                        amount_rate * customs_value, m.rate_form,
                        f"note {m.citation.note}; on the {100 * rest:.4g}% of the value outside {top.id}'s conditional scope (R11)",
                        rest, ""))


def _real(x: object) -> bool:
    """A real number (numpy scalars too), not a bool or a string that looks like one."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def duty(con, hts10: str, origin: str, date: str | dt.date, customs_value: float = 1.0, quantity: float | None = None,
         metal_share: float | None = None, options: dict | None = None, catalogue: Catalogue | None = None,
         one_off: bool = False) -> DutyResult:
    """Every layer of duty on one entry. Raises InputError (one line) on bad input.

    ``one_off``: compile the catalogue for this one line and origin (a few ms, not kept) rather than for every line
    of its HTS revision and every origin (~0.2 s and ~50 MB, kept: then each answer takes about a millisecond, what
    a server wants). The layers are the same either way (tests/test_tariffs_engine_one_off.py)."""
    code = normalize_hts10(hts10)
    iso3 = resolve_origin(origin)
    day = parse_date(date)
    check_date(day)
    # inf and NaN compare in surprising ways (inf > 0, nan < 0 is False): test finiteness first
    if not _real(customs_value) or not math.isfinite(customs_value) or not customs_value > 0:
        raise InputError(f"customs value must be a finite number above 0, got {customs_value!r}")
    if quantity is not None and (not _real(quantity) or not math.isfinite(quantity) or quantity < 0):
        raise InputError(f"quantity must be a finite number >= 0, got {quantity!r}")
    if metal_share is not None and not (0.0 <= metal_share <= 1.0):
        raise InputError(f"metal share must be between 0 and 1, got {metal_share}")
    opts = resolve_options(options)
    cat = catalogue or load()
    table, pos, rev = lookup_line(con, code, day)
    column2 = iso3 in COLUMN2_ORIGINS
    mfn, basis = (_col2_rate if column2 else _mfn_rate)(table, pos, customs_value, quantity)
    if one_off:  # this one cell, compiled for the call and dropped (not through the cache: it would evict others)
        comp, hi, oi = Compiled(cat, [code], [iso3]), 0, 0
    else:
        full, o_pos = compiled_for_table(cat, table)
        o_at = o_pos.get(iso3)
        if o_at is None:  # an origin outside the country list (e.g. USA): compile this one cell
            comp, hi, oi = compiled_for(cat, (code,), (iso3,)), 0, 0
        else:  # the table's compilation sliced to this one product (cached): small arrays from here on
            comp, hi, oi = full.cell(pos), 0, o_at
    h = np.array([hi])
    o = np.array([oi])
    # the column 2 rate goes in as the MFN of the cell (R12): the panel takes it from the table the same way
    out = comp.evaluate(day, h, o, np.array([mfn]), opts, metal_share=metal_share)
    ms = float(opts["metal_share"] if metal_share is None else metal_share)
    covered = float(out["covered_232"][0])
    if iso3 == US_ORIGIN:  # R0: US goods returned enter free under chapter 98; no Chapter 99 measure reaches them
        basis = f"US goods returned: {US_GOODS_RETURNED} Free (column 1 of {code} not applied)"
        layers = [Layer("mfn", US_GOODS_RETURNED, "mfn", 0.0, customs_value, 0.0, "add_on", f"chapter 98: {basis}")]
        fired: list[dict] = [{"rule": "R0_us_origin", "text": RULES["R0_us_origin"][0], "note": RULES["R0_us_origin"][1]}]
    else:
        cite = (f"column 2 (general note 3(b)): {table.other_text[pos] if table.other_text is not None else ''} ({basis})"
                if column2 else f"column 1 general: {table.general_text[pos] or ''} ({basis})")
        layers = [Layer("mfn", code, "mfn", float(out["mfn"][0]), customs_value, float(out["mfn"][0]) * customs_value,
                        "add_on", cite)]
        rid = "R12_column2" if column2 else "R1_mfn"
        fired = [{"rule": rid, "text": RULES[rid][0], "note": RULES[rid][1]}]
    excluded: list[dict] = []
    at232 = None  # where the 232 layers end (the runner-up layer of R11 goes there)
    for bucket in BUCKETS:
        if bucket != "s232" and at232 is None:
            at232 = len(layers)
        idx = int(out[f"{bucket}_measure"][0])
        if idx < 0:
            continue
        cm = comp.measures[idx]
        m = cm.m
        amount_rate = float(out[f"{bucket}_top"][0] if f"{bucket}_top" in out else out[bucket][0])
        nominal = float(out[f"{bucket}_rate"][0])
        if m.rate_form == "on_metal_content":
            base, rate = ms * customs_value, nominal
        elif bucket in DISPLACED_BY_232 and covered > 0:
            base = (1.0 - covered) * customs_value
            rate = amount_rate / (1.0 - covered) if covered < 1 else 0.0
        else:
            base, rate = customs_value, amount_rate
        if m.rate_form == "floor_inclusive_of_mfn":
            rate = amount_rate / (1.0 - covered) if bucket != "s232" and covered < 1 else amount_rate
        heading = comp.heading_for(cm, hi, oi, day, float(out["mfn"][0]) if opts["floor_mfn_base"] == "special" else mfn, nominal)
        share = float(out[f"{bucket}_share"][0])
        app = m.applicability
        if app is not None and share < 1.0:  # R11: the measure holds for this share of the value only
            fired.append({"rule": "R11_conditional_scope", "text": RULES["R11_conditional_scope"][0],
                          "note": RULES["R11_conditional_scope"][1], "measure_id": m.id})
            if share <= 0.0:
                excluded.append({"measure_id": m.id, "heading": heading,
                                 "reason": f"excluded: conditional scope at share 0 (option {app.option}={opts[app.option]:g})"})
                continue
            base *= share
            if m.rate_form != "on_metal_content":
                rate /= share
        if amount_rate == 0.0 and bucket == "fentanyl":
            why = "excluded: USMCA-qualifying (R8)" if comp.usmca_o[oi] else "excluded: good under a 232 duty (R7)"
            excluded.append({"measure_id": m.id, "heading": heading, "reason": why})
            continue
        if amount_rate == 0.0 and bucket in DISPLACED_BY_232 and covered >= 1.0:
            excluded.append({"measure_id": m.id, "heading": heading,
                             "reason": "excluded: good under a 232 duty on its full value (R4, note 2(v)(vi)-(xi))"})
            continue
        if m.rate_form == "floor_inclusive_of_mfn":
            fired.append({"rule": "R2_floor", "text": RULES["R2_floor"][0], "note": RULES["R2_floor"][1], "measure_id": m.id})
        layers.append(Layer(m.id, heading, AUTHORITY_OF_BUCKET[bucket] if m.authority != "deal" else "deal", rate, base,
                            amount_rate * customs_value, m.rate_form, f"note {m.citation.note}",
                            share if app is not None and share < 1.0 else 1.0,
                            app.option if app is not None and share < 1.0 else ""))
    top232 = int(out["s232_measure"][0])
    if top232 >= 0:
        _runner_up_layer(comp, out, layers, len(layers) if at232 is None else at232, fired, hi, oi, day,
                         mfn if opts["floor_mfn_base"] == "general" else float(out["mfn"][0]), customs_value, ms,
                         comp.measures[top232].m)
    # rules that shaped the result
    if covered > 0:
        rid = "R3_one_232"
        fired.append({"rule": rid, "text": RULES[rid][0], "note": RULES[rid][1]})
        if any(ly.authority in ("ieepa_reciprocal", "deal", "122") for ly in layers[1:]) or covered >= 1:
            fired.append({"rule": "R4_232_displaces_reciprocal", "text": RULES["R4_232_displaces_reciprocal"][0],
                          "note": RULES["R4_232_displaces_reciprocal"][1]})
    chosen = {int(out[f"{b}_measure"][0]) for b in BUCKETS} | {int(out["s232_next_measure"][0])}
    for e in comp.explain(day, hi, oi, opts):
        mid = e["measure_id"]
        idx = next(i for i, cm in enumerate(comp.measures) if cm.m.id == mid)
        if idx in chosen:
            continue
        won = int(out[f"{e['bucket']}_measure"][0])
        if e["applicable"] and won < 0:
            reason = "exempt: the product is exempt from every measure of this stacking bucket (see the excluded measure)"
        elif e["applicable"]:
            winner = comp.measures[won].m.id
            reason = f"superseded by {winner} (higher priority in the same stacking bucket: R3/R6)"
        else:
            reason = e["reason"]
            if "annex_ii" in reason:
                fired.append({"rule": "R5_annex_ii", "text": RULES["R5_annex_ii"][0], "note": RULES["R5_annex_ii"][1]})
        if reason.startswith("origin") or reason == "product not in scope":
            continue  # not relevant to this entry; keep the report short
        excluded.append({"measure_id": mid, "heading": comp.measures[idx].m.headings[0], "reason": reason})
    def fire(rule: str) -> None:
        fired.append({"rule": rule, "text": RULES[rule][0], "note": RULES[rule][1]})

    if any(ly.authority == "301" for ly in layers):
        fire("R9_301")
    usmca_info: dict = {}
    if comp.usmca_o[oi]:
        if opts["usmca"] is None:  # the default: the claim share of the line's sector on that date
            usmca_info = usmca_mod.explain(code, iso3, day, opts["usmca_shares"]) | {"option": "usmca_shares"}
            share = usmca_info["share"]
            how = (f"USMCA claim share {share:.4g} (set {usmca_info['set']}, GTAP sector {usmca_info['gtap_code']}; "
                   "option usmca=true|false|SHARE for one entry, usmca_shares=2024|post2025|none)")
        else:
            share = float(opts["usmca"])
            usmca_info = {"share": share, "set": "option usmca", "option": "usmca"}
            how = "USMCA-qualifying: special rate Free" if share >= 1 else f"USMCA share {share:g}"
        if share > 0:
            fire("R8_usmca")
            basis = f"{basis}; {how}"
    if any("R7" in e["reason"] for e in excluded):
        fire("R7_fentanyl_232")
    if any(e["reason"].startswith("superseded") and e["measure_id"].startswith(("ieepa_recip", "deal")) for e in excluded):
        fire("R6_one_reciprocal")
    ieepa_end = ieepa_end_date(cat, opts)
    if ieepa_end is not None and day >= ieepa_end and iso3 != "USA":
        fired.append({"rule": "R10_ieepa_end", "text": RULES["R10_ieepa_end"][0], "note": RULES["R10_ieepa_end"][1]})
    total = sum(ly.amount for ly in layers)
    mfn_text = str(table.general_text[pos] or "")
    if column2 and table.other_text is not None and table.other_text[pos]:
        mfn_text = f"column 2: {table.other_text[pos]} (column 1 general: {mfn_text})"
    seen, uniq = set(), []
    for f in fired:
        k = (f["rule"], f.get("measure_id"))
        if k not in seen:
            seen.add(k)
            uniq.append(f)
    return DutyResult(code, iso3, day, float(customs_value), quantity, layers, total, total / customs_value, uniq, excluded,
                      str(table.description[pos]), mfn_text, basis, rev.revision, cat.version,
                      {k: opts[k] for k in OPTIONS} | ({"metal_share": ms}), usmca_info)
