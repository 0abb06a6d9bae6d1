"""The stacking rules, vectorized: the one implementation behind ``engine.duty`` and ``panel.duty_panel``.

``Compiled`` turns the catalogue into interval-encoded membership arrays over a given product index
(HTS10 codes) and origin index (ISO3): for each measure, rows (product index, valid_from, valid_until,
rate) and an origin rate vector. ``Compiled.evaluate(date, h, o, mfn, ...)`` then computes every layer for
arrays of cells (h[i], o[i]) at once with numpy — no Python loop per cell; the loop is over the ~50
measures. The engine calls it with one cell and asks ``explain`` for the reasons.

Stacking rules (each with the note it comes from) are listed in ``RULES``; ``OPTIONS`` lists the named
choices where sources disagree, with their defaults.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field

import numpy as np

from tariffscope.errors import InputError
from tariffscope.tariffs import usmca as usmca_mod
from tariffscope.tariffs.measures import GROUPS, Catalogue, Measure, list_rows, read_list
from tariffscope.tariffs.vocabulary import BUCKETS

# Goods of US origin: no Chapter 99 measure applies (each covers "articles the product of" a foreign country or of
# "any country" other than the US), and a US good returned without being advanced in value abroad enters free under
# 9801.00.10 (chapter 98). A good advanced abroad takes the origin of that country: the engine models foreign goods.
US_ORIGIN = "USA"
US_GOODS_RETURNED = "9801.00.10"
FOREVER = dt.date(9999, 12, 31).toordinal()
NEVER = dt.date(1900, 1, 1).toordinal()
USMCA = ("CAN", "MEX")
# General note 3(b): products of these countries pay the rates of column 2 ("other"), not column 1 (Cuba and North Korea
# since the Trade Agreements Extension Act of 1951; Russia and Belarus since the Suspending Normal Trade Relations
# with Russia and Belarus Act, 2022-04-09). Chapter 99's reciprocal duty leaves them out for that reason (9903.01.29).
COLUMN2_ORIGINS = ("BLR", "CUB", "PRK", "RUS")

RULES: dict[str, tuple[str, str]] = {
    "R1_mfn": ("MFN (column 1 general) always applies, on the customs value; specific parts through their AVE.",
               "General note 3(a); heading text 'The duty provided in the applicable subheading'"),
    "R2_floor": ("A floor 'inclusive of MFN' replaces the add-on: the layer is max(floor - MFN, 0), so total = max(MFN, floor).",
                 "Notes 2(v)(xix), 33(k)-(t), 16(c): '15%' for MFN < 15%, 'The duty provided in the applicable subheading' for MFN >= 15%"),
    "R3_one_232": ("At most one Section 232 program applies to a good: the highest-priority one (autos/parts and their deals "
                   "over MHD, wood, semiconductors, copper, steel/aluminum).",
                   "Note 33(a)(1): vehicles 'shall not be subject to ... articles of aluminum, of steel, or of copper'; EO 14289"),
    "R4_232_displaces_reciprocal": ("A good under a 232 duty on its full value does not pay the IEEPA reciprocal (or Section 122) add-on; "
                                    "a derivative charged on its metal content pays them on the non-metal share.",
                                    "Note 2(v)(vi)-(xi) ('shall not apply to ... but shall apply to the non-steel content'); 9903.01.33; 9903.03.06"),
    "R5_annex_ii": ("Annex II products (with their own dates) are exempt from the reciprocal add-ons and floors.",
                    "Note 2(v)(iii), heading 9903.01.32"),
    "R6_one_reciprocal": ("One reciprocal rate per good: a country rate (Phase 1, Phase 2, China) or a deal floor replaces the 10% baseline; "
                          "country EOs (Brazil 9903.01.77, India 9903.01.84) stack on top.",
                          "9903.01.25 'except for products described in headings ... 9903.02.02-9903.02.81'; notes 2(x), 2(z)"),
    "R7_fentanyl_232": ("Canada/Mexico fentanyl duties do not apply to goods under a 232 duty; China's stack on everything.",
                        "Note 33(a)(2)-(3); note 19 ('aluminum products shall not be subject to ... 9903.01.10 ... 9903.01.01')"),
    "R8_usmca": ("USMCA-qualifying goods of Canada/Mexico (option usmca) enter MFN-free and are exempt from the fentanyl duties "
                 "(from 2025-03-07), the 232 parts duties and Section 122.",
                 "9903.01.04, 9903.01.14 ('Articles that are entered free of duty under the terms of general note 11'); 9903.94.06; 9903.03.07/.08"),
    "R9_301": ("Section 301 duties on China stack on every other layer, on the full value.", "Notes 20, 31"),
    "R11_conditional_scope": ("A measure whose scope turns on the use or technical parameters of the good (auto parts of passenger "
                              "vehicles, semiconductor articles within the note's thresholds) applies to the share of the value "
                              "its option gives; an exemption for certified civil aircraft articles exempts only its share. The "
                              "rest of the value pays the next measure of the same bucket that applies to it (one whose scope "
                              "does not turn on the same condition: the metals duty on a bearing that is not a car part) and "
                              "the other layers.",
                              "Notes 33(g) ('applies to parts of passenger vehicles ... and light trucks'), 39(b), 2(aa)(iv)"),
    "R12_column2": ("Products of Belarus, Cuba, North Korea and Russia pay the column 2 ('other') rate in place of column 1 "
                    "(specific parts through the unit value of column 1's AVE); Chapter 99 measures stack on it as on column 1.",
                    "General note 3(b) (countries whose products are dutiable at column 2); heading 9903.01.29"),
    "R0_us_origin": ("A good of US origin pays no Chapter 99 duty and enters free under 9801.00.10 (US goods returned "
                     "without having been advanced in value or improved in condition abroad).",
                     "Chapter 98 subheading 9801.00.10 'Free'; Chapter 99 headings apply to 'articles the product of' other countries"),
    "R10_ieepa_end": ("IEEPA duties (reciprocal, fentanyl, the IEEPA floors) stop for entries from 2026-02-24, when CBP stopped "
                      "collecting them (option ieepa_end='collection'); ieepa_end='ruling' ends them on the day of the ruling, 2026-02-20.",
                      "Learning Resources v. Trump (2026-02-20); 2026_rev_4 (effective 2026-02-24)"),
}

OPTIONS: dict[str, tuple[object, str]] = {
    "metal_share": (0.5, "share of customs value that is steel/aluminum/copper content, for 232 duties charged on metal content "
                         "(the entry declares it; 0.5 when unknown)"),
    "usmca": (None, "share of Canada/Mexico value entered as USMCA-qualifying, one figure for every line (True = 1, False = 0); "
                    "unset (default): the claim share of the line's GTAP sector from the table option usmca_shares names"),
    "usmca_shares": ("dated", "USMCA claim shares by GTAP sector used when usmca is unset (tariffs/usmca.py, data/usmca): "
                              "'dated' (default; the 2024 claims implied by Census calculated duty before the 2025-03-07 "
                              "exemption of USMCA goods from the fentanyl duties, the Budget Lab at Yale's post-March-2025 shares "
                              "by sector from then), '2024', 'post2025' (that set on every date) or 'none' (no claims)"),
    "floor_mfn_base": ("general", "MFN rate the deal floors compare with: 'general' (column 1 general, statutory; default) or "
                                  "'special' (the preference rate actually claimed: KORUS/USMCA goods count as 0)"),
    "deal_dates": ("publication", "deals published after their legal date (Japan 2025-09-16 for 2025-08-07, EU autos 2025-09-25 "
                                  "for 2025-08-01, Korea 2025-12-05 for 2025-11-01/14, ...): 'publication' (default; duty as "
                                  "collected at entry) or 'legal' (retroactive, as refunded)"),
    "ieepa_end": ("collection", "last day of the IEEPA duties: 'collection' (default; CBP collected through 2026-02-23, the HTS "
                                "(2026_rev_4) drops them from 2026-02-24) or 'ruling' (the Supreme Court's decision of 2026-02-20: "
                                "entries from that day owe none, as refunded)"),
    # Conditional scopes (issue 12): the share of a product's value for which a measure's condition holds. A measure
    # names its option in ``applicability``; the share multiplies its layer (and, for a 232 duty, the value it
    # displaces other layers from, rule R4); the rest of the value pays the other layers as if the measure were absent.
    "auto_parts_share": (0.1, "share of imports on the general-purpose provisions of note 33(g) (8471 computers, 8482 bearings, "
                              "8483 shafts and gears, 8501 motors, lithium-ion batteries, pumps, filters, ...) that are parts of "
                              "passenger vehicles and light trucks, the only parts 9903.94.05 covers. A judgment default: these "
                              "provisions serve every industry and car parts are a minority of them; vehicle-specific provisions "
                              "(chapter 87 parts, tyres, lamps, seats, engines of chapter 87 vehicles) always count in full. "
                              "1.0 charges every listed line (the reading before issue 12)"),
    "semis_share": (0.05, "share of imports under note 39(b)'s provisions (8471.50, 8471.80, 8473.30) that are semiconductor articles: "
                          "logic ICs, or articles containing one, within the two narrow bands of total processing performance and "
                          "DRAM bandwidth of note 39(b), and not exempt by end use (US data centers, repairs, research, startups: "
                          "9903.79.03-.09). A judgment default: a small class of AI accelerators among all servers and processing units"),
    "s122_civil_aircraft_share": (0.1, "share of imports on the general-purpose provisions of note 2(aa)(iv) (pumps, valves, tubes, "
                                       "bearings, ...) that are civil aircraft articles meeting general note 6, the only goods "
                                       "9903.03.05 exempts from Section 122; aircraft-specific provisions (chapter 88, 8411 "
                                       "turbojets) are exempt in full. A judgment default; 1.0 exempts every listed line"),
}

# Options that are shares of value (0..1).
SHARE_OPTIONS: tuple[str, ...] = ("metal_share", "usmca", "auto_parts_share", "semis_share", "s122_civil_aircraft_share")

# Allowed values of the options that take a name (the others are shares or booleans).
OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "floor_mfn_base": ("general", "special"),
    "deal_dates": ("publication", "legal"),
    "ieepa_end": ("collection", "ruling"),
    "usmca_shares": usmca_mod.SETS,
}


def resolve_options(options: dict | None) -> dict:
    opts = {k: v[0] for k, v in OPTIONS.items()}
    for k, v in (options or {}).items():
        if k not in OPTIONS:
            raise InputError(f"unknown option {k!r}; known: {', '.join(OPTIONS)}")
        opts[k] = v
    if isinstance(opts["usmca_shares"], (int, float)) and not isinstance(opts["usmca_shares"], bool) \
            and float(opts["usmca_shares"]).is_integer():  # --option usmca_shares=2024 arrives as a number
        opts["usmca_shares"] = str(int(opts["usmca_shares"]))
    for name, allowed in OPTION_CHOICES.items():
        if opts[name] not in allowed:
            raise InputError(f"option {name} must be {' or '.join(repr(a) for a in allowed)}, got {opts[name]!r}")
    if isinstance(opts["usmca"], bool):
        opts["usmca"] = 1.0 if opts["usmca"] else 0.0
    for name in SHARE_OPTIONS:
        v = opts[name]
        if name == "usmca" and v is None:  # unset: the dated shares by sector (usmca_shares)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise InputError(f"option {name} must be a share between 0 and 1, got {v!r}")
        opts[name] = float(v)
    return opts


def _ord(text: str | dt.date | None, default: int) -> int:
    if not text:
        return default
    if isinstance(text, dt.date):
        return text.toordinal()
    return dt.date.fromisoformat(text).toordinal()


class PrefixIndex:
    """Prefixes (0-10 digits) grouped by length with sorted integer keys, to match many HTS10 codes at once."""

    def __init__(self, prefixes: list[str]):
        self.n = len(prefixes)
        lens = np.array([len(p) for p in prefixes], dtype=np.int64)
        self.groups = []
        for L in np.unique(lens):
            jj = np.flatnonzero(lens == L)
            keys = np.array([int(prefixes[k]) if L else 0 for k in jj], dtype=np.int64)
            order = np.argsort(keys, kind="stable")
            self.groups.append((int(L), jj, keys[order], order))

    def match(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (code index, prefix index) pairs where the prefix leads the 10-digit code."""
        n = len(codes)
        hs, js = [], []
        for L, jj, ks, order in self.groups:
            if L == 0:
                hs.append(np.repeat(np.arange(n), len(jj)))
                js.append(np.tile(jj, n))
                continue
            hp = codes // 10 ** (10 - L)
            lo = np.searchsorted(ks, hp, "left")
            cnt = np.searchsorted(ks, hp, "right") - lo
            total = int(cnt.sum())
            if total == 0:
                continue
            offs = np.cumsum(cnt) - cnt
            pos = np.arange(total) - np.repeat(offs, cnt) + np.repeat(lo, cnt)
            hs.append(np.repeat(np.arange(n), cnt))
            js.append(jj[order[pos]])
        if not hs:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(hs).astype(np.int64), np.concatenate(js).astype(np.int64)


def match_prefixes(codes: np.ndarray, prefixes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All (product index, prefix index) pairs where prefix is a leading part of the 10-digit code."""
    return PrefixIndex(prefixes).match(codes)


@dataclass
class MeasureRows:
    """A measure's product scope as arrays, independent of any product index (built once per measure)."""

    inc: PrefixIndex
    inc_from: np.ndarray
    inc_until: np.ndarray
    inc_rate: np.ndarray  # nan = the measure's rate; -1 = row without a rate (dropped)
    inc_val: np.ndarray
    exc: PrefixIndex
    exc_from: np.ndarray
    exc_until: np.ndarray
    exc_names: list[str]
    lower: PrefixIndex | None
    exc_blocks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


_ROWS: dict[tuple[int, int], MeasureRows] = {}


def measure_rows(catalogue: Catalogue, i: int) -> MeasureRows:
    key = (id(catalogue), i)
    if key in _ROWS:
        return _ROWS[key]
    m = catalogue.measures[i]
    ps = m.products
    rows: list[tuple[str, str, str, str]] = [(p, "", "", "") for p in ps.prefixes]
    for ref in ps.lists:
        rows += list_rows(ref)
    frm = np.array([_ord(r[1], NEVER) for r in rows], dtype=np.int64)
    unt = np.array([_ord(r[2], FOREVER) for r in rows], dtype=np.int64)
    rate = np.full(len(rows), np.nan)
    for k, (_, _, _, v) in enumerate(rows):
        if m.rates_by_value:
            key2 = v if v in m.rates_by_value else v.rsplit(":", 1)[-1]
            rate[k] = m.rates_by_value.get(key2, -1.0)  # -1: a list row with no rate (e.g. a suspended list)
        if m.value_from and v.rsplit(":", 1)[-1] in m.value_from:
            frm[k] = max(frm[k], m.value_from[v.rsplit(":", 1)[-1]].toordinal())
    erows: list[tuple[str, str, str, str]] = [(p, "", "", "") for p in ps.exclude_prefixes]
    names = ["exclude_prefixes"] * len(erows)
    blocks = [False] * len(erows)
    for ref in ps.exclude_lists:
        rr = list_rows(ref)
        erows += rr
        names += [ref.list] * len(rr)
        blocks += [ref.blocks_bucket] * len(rr)
    lower = None
    if m.rates_by_list:
        lower = PrefixIndex([r[0] for r in read_list(m.rates_by_list.list) if r[3] in set(m.rates_by_list.values)])
    out = MeasureRows(PrefixIndex([r[0] for r in rows]), frm, unt, rate, np.array([r[3] for r in rows], dtype=object),
                      PrefixIndex([r[0] for r in erows]), np.array([_ord(r[1], NEVER) for r in erows], dtype=np.int64),
                      np.array([_ord(r[2], FOREVER) for r in erows], dtype=np.int64), names, lower,
                      np.array(blocks, dtype=bool))
    if len(_ROWS) > 2048:
        _ROWS.clear()
    _ROWS[key] = out
    return out


def _ranges(keys: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """Positions in the sorted ``keys`` equal to any of ``hs``."""
    lo = np.searchsorted(keys, hs, "left")
    cnt = np.searchsorted(keys, hs, "right") - lo
    total = int(cnt.sum())
    offs = np.cumsum(cnt) - cnt
    return np.arange(total) - np.repeat(offs, cnt) + np.repeat(lo, cnt)


@dataclass
class CompiledMeasure:
    m: Measure
    idx: int
    inc_h: np.ndarray  # product index of each include row
    inc_from: np.ndarray
    inc_until: np.ndarray
    inc_rate: np.ndarray  # product-specific rate (nan = the measure's rate)
    inc_val: np.ndarray  # the list row's value (e.g. '3:9903.88.03'), '' for plain prefixes
    exc_h: np.ndarray
    exc_from: np.ndarray
    exc_until: np.ndarray
    exc_what: list[str]  # which list each exclusion row came from
    exc_src: np.ndarray
    orig_rate: np.ndarray  # per origin: rate (rates_list) or 1.0 in scope, nan out of scope
    lower_h: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # rates_by_list override rows
    lower_rate: float = 0.0
    exc_block: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # per exclusion row
    cond_h: np.ndarray | None = None  # products the applicability share bears on (sorted unique), None: no share

    def share_of(self, opts: dict, n_h: int) -> np.ndarray | None:
        """Per product, the share of value the measure holds for under ``opts`` (None: all of it everywhere)."""
        app = self.m.applicability
        if app is None or self.cond_h is None:
            return None
        v = float(opts[app.option])
        out = np.ones(n_h)
        out[self.cond_h] = (1.0 - v) if app.exemption_list else v  # an exemption for a share leaves the rest dutiable
        return out

    @functools.cached_property
    def _row_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Include and exclusion rows sorted by product (row order, sorted products), built on first use."""
        io, eo = np.argsort(self.inc_h, kind="stable"), np.argsort(self.exc_h, kind="stable")
        return io, self.inc_h[io], eo, self.exc_h[eo]

    def restrict(self, hs: np.ndarray) -> CompiledMeasure:
        """This measure over the products ``hs`` only (sorted unique indexes; product k of the result is hs[k]):
        the same rows, renumbered, so evaluation on the result is evaluation on the full index."""
        io, ik, eo, ek = self._row_index
        ir = np.sort(io[_ranges(ik, hs)])
        er = np.sort(eo[_ranges(ek, hs)])
        low = self.lower_h[np.isin(self.lower_h, hs)]
        cond = None if self.cond_h is None else np.searchsorted(hs, self.cond_h[np.isin(self.cond_h, hs)])
        return dataclasses.replace(
            self, cond_h=cond, inc_h=np.searchsorted(hs, self.inc_h[ir]), inc_from=self.inc_from[ir], inc_until=self.inc_until[ir],
            inc_rate=self.inc_rate[ir], inc_val=self.inc_val[ir], exc_h=np.searchsorted(hs, self.exc_h[er]),
            exc_from=self.exc_from[er], exc_until=self.exc_until[er], exc_src=self.exc_src[er],
            lower_h=np.searchsorted(hs, low), exc_block=self.exc_block[er] if self.exc_block.size else self.exc_block)

    @functools.cached_property
    def row_days(self) -> np.ndarray:
        """Sorted day ordinals on which an include or exclusion row starts or stops: ``product_rates`` and
        ``blocked_products`` are the same on two days with none of these in (earlier, later]."""
        return np.unique(np.concatenate([self.inc_from, self.inc_until, self.exc_from, self.exc_until]))

    def rows_change(self, d0: int, d1: int) -> bool:
        """Whether some row starts or stops in (min, max] of the two day ordinals."""
        lo, hi = min(d0, d1), max(d0, d1)
        days = self.row_days
        return bool(np.searchsorted(days, hi, "right") > np.searchsorted(days, lo, "right"))

    def blocked_products(self, d: int, n_h: int) -> np.ndarray | None:
        """Products exempt from the whole stacking bucket on day d (exclusion lists with blocks_bucket), or None."""
        if not self.exc_block.any():
            return None
        out = np.zeros(n_h, dtype=bool)
        live = self.exc_block & (self.exc_from <= d) & (d < self.exc_until)
        out[self.exc_h[live]] = True
        return out

    def product_rates(self, d: int, n_h: int) -> np.ndarray:
        """Rate per product on day ordinal d (nan where the product is not in scope)."""
        out = np.full(n_h, np.nan)
        live = (self.inc_from <= d) & (d < self.inc_until)
        rates = np.where(np.isnan(self.inc_rate[live]), self.m.rate if self.m.rate is not None else 1.0, self.inc_rate[live])
        np.fmax.at(out, self.inc_h[live], rates)
        if self.lower_h.size:
            hit = ~np.isnan(out[self.lower_h])
            out[self.lower_h[hit]] = self.lower_rate
        dead = (self.exc_from <= d) & (d < self.exc_until)
        out[self.exc_h[dead]] = np.nan
        return out


class Compiled:
    """The catalogue compiled against one product index (HTS10 codes) and one origin index (ISO3)."""

    def __init__(self, catalogue: Catalogue, hts10: list[str] | np.ndarray, origins: list[str]):
        self.catalogue = catalogue
        self.hts10 = np.asarray(hts10, dtype=object)
        self.codes = np.array([int(h) for h in self.hts10], dtype=np.int64)
        self.origins = list(origins)
        self.o_pos = {o: i for i, o in enumerate(self.origins)}
        self.n_h, self.n_o = len(self.hts10), len(self.origins)
        self.usmca_o = np.isin(np.array(self.origins, dtype=object), USMCA)
        # column of each origin in the (CAN, MEX) share tables, -1 for the others
        self.usmca_col = np.array([USMCA.index(o) if o in USMCA else -1 for o in self.origins], dtype=np.int64)
        self._usmca_tab: dict[str, np.ndarray] = {}
        self.us_o = np.array([o == US_ORIGIN for o in self.origins], dtype=bool)
        self.col2_o = np.isin(np.array(self.origins, dtype=object), COLUMN2_ORIGINS)  # R12: column 2 origins
        self.measures = [self._compile(i, m) for i, m in enumerate(catalogue.measures)]
        # one bounded cache for two kinds of entry: ("share", measure, option value) -> value shares (None when the
        # measure holds for all of the value), and (measure, day ordinal) -> per-product rates
        self._cache: dict[tuple[str, int, float] | tuple[int, int], np.ndarray | None] = {}
        self._cells: dict[int, Compiled] = {}

    def restrict(self, hs: np.ndarray) -> Compiled:
        """The same compilation over the products ``hs`` only (sorted unique indexes), every origin kept: slicing
        the compiled rows, no catalogue matching. Evaluating the result is evaluating these cells of this one."""
        hs = np.asarray(hs, dtype=np.int64)
        sub = object.__new__(Compiled)
        sub.catalogue, sub.origins, sub.o_pos, sub.n_o, sub.usmca_o = self.catalogue, self.origins, self.o_pos, self.n_o, self.usmca_o
        sub.us_o, sub.usmca_col, sub._usmca_tab, sub.col2_o = self.us_o, self.usmca_col, {}, self.col2_o
        sub.hts10, sub.codes, sub.n_h = self.hts10[hs], self.codes[hs], len(hs)
        sub.measures = [cm.restrict(hs) for cm in self.measures]
        sub._cache, sub._cells = {}, {}
        return sub

    def cell(self, h: int) -> Compiled:
        """``restrict`` to one product, cached (the single-entry engine: product 0 of the result is product h)."""
        got = self._cells.get(h)
        if got is None:
            if len(self._cells) >= 512:
                self._cells.clear()
            got = self._cells[h] = self.restrict(np.array([h]))
        return got

    # -- compilation --------------------------------------------------------------------------
    def _rows(self, ref) -> list[tuple[str, str, str, str]]:
        return list_rows(ref)

    def _compile(self, i: int, m: Measure) -> CompiledMeasure:
        mr = measure_rows(self.catalogue, i)
        h, j = mr.inc.match(self.codes)
        inc_rate = mr.inc_rate[j]
        if m.rates_by_prefix:
            for pre, r in sorted(m.rates_by_prefix.items(), key=lambda kv: len(kv[0])):
                hit = (self.codes[h] // 10 ** (10 - len(pre))) == int(pre)
                inc_rate = np.where(hit, r, inc_rate)
        keep = ~(inc_rate < 0)
        inc_h, inc_from, inc_until, inc_rate = h[keep], mr.inc_from[j][keep], mr.inc_until[j][keep], inc_rate[keep]
        inc_val = mr.inc_val[j][keep]
        eh, ej = mr.exc.match(self.codes)
        names = mr.exc_names
        efrm, eunt = mr.exc_from, mr.exc_until
        erows = names
        # origins
        orig = np.full(self.n_o, np.nan)
        inc = self._expand_origins(m.origins.include)
        exc = self._expand_origins(m.origins.exclude)
        if m.rates_list:
            table = {r[2]: float(r[3]) for r in read_list(m.rates_list) if r[0] == m.id}
            expanded: dict[str, float] = {}
            for code, r in table.items():
                for o in GROUPS.get(code, {code}):
                    expanded[o] = r
            for o, r in expanded.items():
                if o in self.o_pos and o in inc and o not in exc:
                    orig[self.o_pos[o]] = r
        else:
            for o in inc - exc:
                if o in self.o_pos:
                    orig[self.o_pos[o]] = 1.0
        cm = CompiledMeasure(m, i, inc_h, inc_from, inc_until, inc_rate, inc_val, eh, efrm[ej] if len(erows) else efrm,
                             eunt[ej] if len(erows) else eunt, names, ej, orig)
        cm.exc_block = mr.exc_blocks[ej] if len(ej) else np.zeros(0, dtype=bool)
        app = m.applicability
        if app is not None:
            if app.exemption_list is not None:
                # rows of the exemption list exempt only a share: drop them as exclusions, keep their products
                part = np.array([names[j] == app.exemption_list for j in ej], dtype=bool) if len(ej) else np.zeros(0, dtype=bool)
                cond = np.unique(eh[part])
                keep_rows = ~part
                cm.exc_h, cm.exc_from, cm.exc_until, cm.exc_src = eh[keep_rows], cm.exc_from[keep_rows], cm.exc_until[keep_rows], ej[keep_rows]
                cm.exc_block = cm.exc_block[keep_rows] if cm.exc_block.size else cm.exc_block
            else:
                cond = np.unique(inc_h)
            if app.prefixes:
                ph, _ = match_prefixes(self.codes, list(app.prefixes))
                cond = np.intersect1d(cond, np.unique(ph))
            cm.cond_h = cond.astype(np.int64)
        if mr.lower is not None and m.rates_by_list is not None:
            lh, _ = mr.lower.match(self.codes)
            cm.lower_h, cm.lower_rate = np.unique(lh), m.rates_by_list.rate
        return cm

    def heading_for(self, cm: CompiledMeasure, h: int, o: int, date: dt.date, mfn: float, rate: float) -> str:
        """The legal heading of a layer: the arm of a floor pair, the country row of a rate table, the list's heading."""
        m = cm.m
        if m.rates_list:
            origin = self.origins[o]
            for r in read_list(m.rates_list):
                if r[0] == m.id and origin in GROUPS.get(r[2], {r[2]}):
                    return r[1]
        if m.rate_form == "floor_inclusive_of_mfn" and len(m.headings) >= 2:
            return m.headings[0] if mfn >= (m.rate or 0) else m.headings[1]
        if m.rates_by_list and abs(rate - m.rates_by_list.rate) < 1e-12 and rate != m.rate:
            return m.rates_by_list.values[0].rsplit(":", 1)[-1]
        d = date.toordinal()
        live = np.flatnonzero((cm.inc_h == h) & (cm.inc_from <= d) & (d < cm.inc_until))
        for k in live:
            v = str(cm.inc_val[k]).rsplit(":", 1)[-1]
            if v in m.headings:  # a list shared by several measures names one measure's heading: not this one's
                return v
        return m.headings[0]

    def _expand_origins(self, codes: list[str]) -> set[str]:
        out: set[str] = set()
        for c in codes:
            if c == "all":
                out |= set(self.origins) - {US_ORIGIN}  # 'any country' means any foreign country (R0)
            else:
                out |= set(GROUPS.get(c, {c}))
        return out

    # -- evaluation ---------------------------------------------------------------------------
    def active(self, date: dt.date, opts: dict) -> list[CompiledMeasure]:
        out = []
        for cm in self.measures:
            if cm.m.active_on(date, opts):
                out.append(cm)
        return out

    def origin_profiles(self, date: dt.date, opts: dict) -> tuple[np.ndarray, np.ndarray]:
        """Origins that every measure in force treats alike share a profile: (representative origin per profile,
        profile of each origin). Panels evaluate one origin per profile and copy (most countries share the baseline)."""
        act = self.active(date, opts)
        cols = [np.nan_to_num(cm.orig_rate, nan=-1.0) for cm in act] + [self.usmca_col.astype(float), self.us_o.astype(float),
                                                                        self.col2_o.astype(float)]
        mat = np.stack(cols, axis=1)
        _, reps, inv = np.unique(mat, axis=0, return_index=True, return_inverse=True)
        return reps.astype(np.int64), inv.reshape(-1).astype(np.int64)

    def changed_cells(self, a: dt.date, b: dt.date, h: np.ndarray, o: np.ndarray, opts: dict) -> np.ndarray:
        """Cells (h[i], o[i]) whose layers may differ between dates ``a`` and ``b`` for the same MFN (the caller
        compares MFN columns): a bool per cell, False only where ``evaluate`` gives the same result on both dates.

        ``evaluate`` reads the date only through: the measures in force (``active``), each one's per-product rates
        (``product_rates``) and bucket blocks (``blocked_products``), the fentanyl USMCA exemption's start
        (``_usmca_from``) and the USMCA share set (``usmca_shares``). A measure touches a cell only where its
        origin rate is not nan and its product has a rate or a block (``evaluate`` and ``_runner_up`` both mask
        on that), so a cell outside every changed measure's footprint, with the same USMCA shares, has every
        input of ``evaluate`` -- R11's runner-up included, which looks only at measures touching the same cell --
        unchanged. Origin profiles only pick which origin of a group is evaluated, so their regrouping needs nothing.
        """
        da, db = a.toordinal(), b.toordinal()
        parts: list[tuple[np.ndarray, np.ndarray]] = []  # (products, origins) whose cross may change
        for cm in self.measures:
            on_a, on_b = cm.m.active_on(a, opts), cm.m.active_on(b, opts)
            if not (on_a or on_b):
                continue
            start = cm.m.usmca_exempt_from  # _usmca_from: the exemption counts from that day on
            flag = bool(cm.m.usmca_exempt) and start is not None and (start.toordinal() <= da) != (start.toordinal() <= db)
            if on_a == on_b and not flag and not cm.rows_change(da, db):
                continue  # in force on both days with the same rows live: the same rates and blocks
            orig = ~np.isnan(cm.orig_rate)
            pa_, pb_ = self.product_rates_cached(cm, da), self.product_rates_cached(cm, db)
            ba_, bb_ = cm.blocked_products(da, self.n_h), cm.blocked_products(db, self.n_h)
            if on_a != on_b or flag:  # the whole footprint on the date(s) it is in force
                foot = np.zeros(self.n_h, dtype=bool)
                for on, pr, blk in ((on_a, pa_, ba_), (on_b, pb_, bb_)):
                    if on:
                        foot |= ~np.isnan(pr)
                        if blk is not None:
                            foot |= blk
                parts.append((foot, orig))
                continue
            diff = ~((pa_ == pb_) | (np.isnan(pa_) & np.isnan(pb_)))
            if ba_ is not None or bb_ is not None:
                none = np.zeros(self.n_h, dtype=bool)
                diff |= (none if ba_ is None else ba_) != (none if bb_ is None else bb_)
            if diff.any():
                parts.append((diff, orig))
        if opts["usmca"] is None:
            ta, tb = self.usmca_shares(a, opts["usmca_shares"]), self.usmca_shares(b, opts["usmca_shares"])
            if ta is not tb:  # one table per share set: a different set, compare its figures
                parts.append(((ta != tb).any(axis=1), self.usmca_o))
        out = np.zeros(len(h), dtype=bool)
        for ph, po in parts:
            if ph.any() and po.any():
                out |= ph[h] & po[o]
        return out

    def evaluate_cells(self, date: dt.date, h: np.ndarray, o: np.ndarray, mfn_h: np.ndarray, opts: dict,
                       keys: tuple[str, ...] | None = None, col2_h: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """``evaluate`` on cells (h[i], o[i]) with MFN given per product, deduplicating origins with one profile.

        Only ``keys`` of the result are expanded back to the cells (all when None).
        """
        reps, prof = self.origin_profiles(date, opts)
        n_p = len(reps)
        key = h.astype(np.int64) * n_p + prof[o]
        mark = np.zeros(self.n_h * n_p, dtype=bool)  # dense marks instead of a sort: keys are bounded
        mark[key] = True
        ukey = np.flatnonzero(mark)
        inv = (np.cumsum(mark) - 1)[key]
        uh, up = ukey // n_p, ukey % n_p
        out = self.evaluate(date, uh, reps[up], mfn_h[uh], opts, col2=None if col2_h is None else col2_h[uh])
        return {k: v[inv] for k, v in out.items() if keys is None or k in keys}

    def evaluate(self, date: dt.date, h: np.ndarray, o: np.ndarray, mfn: np.ndarray, opts: dict,
                 metal_share: np.ndarray | float | None = None, usmca: np.ndarray | float | None = None,
                 col2: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Layers for cells (h[i], o[i]) at ``date``: rates as fractions of customs value.

        ``mfn`` is column 1 general per cell; ``col2`` the column 2 rate per cell, taken for the general note 3(b)
        origins (R12; None: column 1 for every origin).

        Returns arrays: mfn, s232, reciprocal, reciprocal_extra, fentanyl, s301, s201, s122, total, and the index of
        the measure chosen in each bucket (``<bucket>_measure``, -1 if none), plus ``covered_232`` (value share under 232).
        """
        d = date.toordinal()
        n = len(h)
        if col2 is not None:
            mfn = np.where(self.col2_o[o], col2, mfn)
        ms = np.broadcast_to(np.asarray(opts["metal_share"] if metal_share is None else metal_share, dtype=float), (n,))
        if usmca is not None:
            us_share: np.ndarray | float = usmca
        elif opts["usmca"] is not None:
            us_share = float(opts["usmca"])
        else:  # the claim share of each line's GTAP sector, from the set in force on the date (usmca_shares)
            tab = self.usmca_shares(date, opts["usmca_shares"])
            us_share = tab[h, np.maximum(self.usmca_col[o], 0)]
        us = np.where(self.usmca_o[o], us_share, 0.0)
        mfn_applied = np.where(self.us_o[o], 0.0, mfn * (1.0 - us))  # USMCA goods enter at the special rate (Free); R0
        mfn_floor = mfn if opts["floor_mfn_base"] == "general" else mfn_applied
        chosen = {b: np.full(n, -1, dtype=np.int32) for b in BUCKETS}
        rate = {b: np.zeros(n) for b in chosen}
        prio = {b: np.full(n, -10**6, dtype=np.int64) for b in chosen}
        share = {b: np.ones(n) for b in chosen}  # applicability share of the chosen measure (conditional scopes)
        blocked: dict[str, np.ndarray] = {}
        for cm in self.active(date, opts):
            b = cm.m.bucket
            pr = self.product_rates_cached(cm, d)
            orr = cm.orig_rate[o]
            prh = pr[h]
            if cm.m.rates_list is not None:
                r = np.where(np.isnan(prh), np.nan, orr)
            else:
                r = np.where(np.isnan(orr), np.nan, prh)
            take = ~np.isnan(r) & (cm.m.priority >= prio[b])
            chosen[b][take] = cm.idx
            rate[b][take] = r[take]
            prio[b][take] = cm.m.priority
            sh = self.shares_cached(cm, opts)
            share[b][take] = 1.0 if sh is None else sh[h][take]
            blk = cm.blocked_products(d, self.n_h)
            if blk is not None:  # e.g. civil aircraft of Japan (9903.96.02): exempt from every reciprocal measure
                cell = blk[h] & ~np.isnan(orr)
                blocked.setdefault(b, np.zeros(n, dtype=bool))
                blocked[b] |= cell
        for b, cell in blocked.items():
            chosen[b][cell] = -1
            rate[b][cell] = 0.0
        nxt = self._runner_up("s232", chosen["s232"], share["s232"], date, d, h, o, opts)
        out: dict[str, np.ndarray] = {"mfn": mfn_applied}
        # R3/R2: the 232 layer; R11: the value outside a conditional scope falls to the next 232 measure (nxt)
        top_amt, top_cov = self._s232_layer(chosen["s232"], rate["s232"], mfn_floor, ms, us)
        nxt_idx, nxt_rate, nxt_share = nxt
        nxt_amt, nxt_cov = self._s232_layer(nxt_idx, nxt_rate, mfn_floor, ms, us)
        rest = (1.0 - share["s232"]) * nxt_share  # share of the value the runner-up holds for
        has232 = chosen["s232"] >= 0
        out["s232_top"] = top_amt * share["s232"]
        out["s232_next"] = nxt_amt * rest
        out["s232"] = out["s232_top"] + out["s232_next"]
        covered = top_cov * share["s232"] + nxt_cov * rest
        out["covered_232"] = covered
        out["s232_next_measure"], out["s232_next_rate"], out["s232_next_share"] = nxt_idx, nxt_rate, rest
        base = 1.0 - covered  # R4
        rfloor = self._forms(chosen["reciprocal"]) == 1
        out["reciprocal"] = np.where(rfloor, np.maximum(rate["reciprocal"] - mfn_floor, 0.0), rate["reciprocal"]) * base * share["reciprocal"]
        out["reciprocal_extra"] = rate["reciprocal_extra"] * base * share["reciprocal_extra"]
        # R7/R8: fentanyl
        fent = rate["fentanyl"]
        ex232 = self._flag(chosen["fentanyl"], "excluded_by_232") & has232
        usm_from = self._usmca_from(chosen["fentanyl"], d)
        fent = np.where(ex232, 0.0, fent * np.where(usm_from, 1.0 - us, 1.0))
        out["fentanyl"] = fent * share["fentanyl"]
        out["s301"] = rate["s301"] * share["s301"]
        out["s201"] = rate["s201"] * share["s201"]
        out["s122"] = rate["s122"] * base * np.where(self._flag(chosen["s122"], "usmca_exempt"), 1.0 - us, 1.0) * share["s122"]
        total = out["mfn"] + out["s232"] + out["reciprocal"] + out["reciprocal_extra"] + out["fentanyl"] + out["s301"] + out["s201"] + out["s122"]
        out["total"] = total
        for b, c in chosen.items():
            out[f"{b}_measure"] = c
            out[f"{b}_rate"] = rate[b]
            out[f"{b}_share"] = share[b]
        return out

    def _s232_layer(self, idx: np.ndarray, rate: np.ndarray, mfn_floor: np.ndarray, ms: np.ndarray,
                    us: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(232 duty, value share it covers, R4) of the measures ``idx`` at ``rate`` on their whole scope (-1: none)."""
        has = idx >= 0
        form = self._forms(idx)
        content, floor = form == 2, form == 1
        amt = np.where(floor, np.maximum(rate - mfn_floor, 0.0), np.where(content, rate * ms, rate))
        amt = np.where(self._flag(idx, "usmca_exempt"), amt * (1.0 - us), amt)
        return np.where(has, amt, 0.0), np.where(has, np.where(content, ms, 1.0), 0.0)

    @functools.cached_property
    def _scope_option_code(self) -> np.ndarray:
        """Per measure (and -1 for 'none' at the end): a code of the option its conditional scope turns on, -1 if none
        (measures without applicability, and exemption-type shares, whose rest is exempt rather than passed on)."""
        names: dict[str, int] = {}
        codes = [names.setdefault(cm.m.applicability.option, len(names))
                 if cm.m.applicability is not None and cm.m.applicability.exemption_list is None else -1 for cm in self.measures]
        return np.array(codes + [-1], dtype=np.int64)

    def _runner_up(self, b: str, top: np.ndarray, top_share: np.ndarray, date: dt.date, d: int, h: np.ndarray,
                   o: np.ndarray, opts: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """R11: for cells whose winning measure of bucket ``b`` holds for a share < 1 of the value (a conditional scope,
        not an exemption), the measure that applies to the rest: the highest-priority other measure of the bucket in
        scope for the cell whose scope does not turn on the same option (a deal's parts arm and 9903.94.05 share one
        condition, so the rest of a Japanese bearing falls to the metals duty, not to 9903.94.05). Returns (measure
        index or -1, its rate, its own share of that rest)."""
        n = len(h)
        idx, rate, sh = np.full(n, -1, dtype=np.int32), np.zeros(n), np.ones(n)
        code = self._scope_option_code
        falls = (code[top] >= 0) & (top_share < 1.0)
        if not falls.any():
            return idx, rate, sh
        prio = np.full(n, -10**6, dtype=np.int64)
        top_prio = np.array([cm.m.priority for cm in self.measures] + [0])[top]
        cand = [cm for cm in self.active(date, opts) if cm.m.bucket == b]
        for cm in cand:
            same = (code == code[cm.idx]) & (code >= 0)  # per measure: its scope turns on this candidate's option
            r = np.where(np.isnan(cm.orig_rate[o]), np.nan, self.product_rates_cached(cm, d)[h])
            if cm.m.rates_list is not None:
                r = np.where(np.isnan(r), np.nan, cm.orig_rate[o])
            blk = cm.blocked_products(d, self.n_h)
            ok = falls & ~np.isnan(r) & (top != cm.idx) & ~same[top] & (cm.m.priority <= top_prio) & (cm.m.priority >= prio)
            if blk is not None:
                ok &= ~blk[h]
            idx[ok], rate[ok], prio[ok] = cm.idx, r[ok], cm.m.priority
            s_ = self.shares_cached(cm, opts)
            sh[ok] = 1.0 if s_ is None else s_[h][ok]
        return idx, rate, sh

    def usmca_shares(self, date: dt.date, choice: str) -> np.ndarray:
        """(n_h, 2) USMCA claim shares (CAN, MEX) of every product under option ``usmca_shares`` on ``date``."""
        share_set = usmca_mod.set_for(choice, date)
        key = "none" if share_set is None else share_set.name
        got = self._usmca_tab.get(key)
        if got is None:
            got = self._usmca_tab[key] = usmca_mod.product_shares(self.hts10, share_set)
        return got

    def shares_cached(self, cm: CompiledMeasure, opts: dict) -> np.ndarray | None:
        app = cm.m.applicability
        if app is None:
            return None
        key = ("share", cm.idx, float(opts[app.option]))
        got = self._cache.get(key)
        if got is None:
            got = cm.share_of(opts, self.n_h)
            self._cache[key] = got
        return got

    def product_rates_cached(self, cm: CompiledMeasure, d: int) -> np.ndarray:
        key = (cm.idx, d)
        got = self._cache.get(key)
        if got is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            got = cm.product_rates(d, self.n_h)
            self._cache[key] = got
        return got

    def _forms(self, idx: np.ndarray) -> np.ndarray:
        codes = np.array([{"add_on": 0, "floor_inclusive_of_mfn": 1, "on_metal_content": 2, "specific": 3}[cm.m.rate_form]
                          for cm in self.measures] + [0])
        return codes[idx]  # idx -1 -> last (0)

    def _flag(self, idx: np.ndarray, name: str) -> np.ndarray:
        vals = np.array([bool(getattr(cm.m, name)) for cm in self.measures] + [False])
        return vals[idx]

    def _usmca_from(self, idx: np.ndarray, d: int) -> np.ndarray:
        vals = np.array([bool(cm.m.usmca_exempt) and (cm.m.usmca_exempt_from is None or cm.m.usmca_exempt_from.toordinal() <= d)
                         for cm in self.measures] + [False])
        return vals[idx]

    # -- explanations (one cell) --------------------------------------------------------------
    def explain(self, date: dt.date, h: int, o: int, opts: dict) -> list[dict]:
        """For every measure in force on ``date``: fired or not, and why not."""
        d = date.toordinal()
        out = []
        for cm in self.active(date, opts):
            m = cm.m
            reason = ""
            in_inc = bool(np.any((cm.inc_h == h) & (cm.inc_from <= d) & (d < cm.inc_until)))
            ex = (cm.exc_h == h) & (cm.exc_from <= d) & (d < cm.exc_until)
            if np.isnan(cm.orig_rate[o]):
                reason = f"origin {self.origins[o]} not in scope"
            elif not in_inc:
                reason = "product not in scope"
            elif ex.any():
                k = int(np.flatnonzero(ex)[0])
                reason = f"product exempt ({cm.exc_what[int(cm.exc_src[k])]})"
            out.append({"measure_id": m.id, "bucket": m.bucket, "applicable": reason == "", "reason": reason})
        return out
