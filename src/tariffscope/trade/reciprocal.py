"""The formula behind the April 2025 "reciprocal" rates, for every partner, next to the published rates.

The US Trade Representative set each country's rate from 2024 goods trade (its published methodology):

    computed tariff  = (imports - exports) / (elasticity x pass-through x imports)   elasticity 4, pass-through 0.25
    reciprocal rate  = max(floor 10%, computed tariff x 1/2)                          rounded up to a whole percent

With the published parameters elasticity x pass-through = 1, so the rate is half of deficit / imports. The
published rate of each origin is read from the legal text: the Chapter 99 heading the measure catalogue
assigns to it (EO 14257 Annex I, 9903.01.43-9903.01.76) at its rate in the first HTS revision carrying it,
or the 10% baseline (9903.01.25) for origins not listed. Differences are explained row by row: the floor,
the EU's single rate, countries set by other rules (Canada and Mexico; Hong Kong and Macau with China),
rounding, and data (the USTR's 2024 figures were an earlier release, on general imports).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.trade import _flows
from tariffscope.trade._common import (
    SourceRef,
    country_name,
    jsonable,
    source_refs,
    using_warehouse,
)

ELASTICITY = 4.0          # USTR: elasticity of import demand with respect to import prices
PASS_THROUGH = 0.25       # USTR: elasticity of import prices with respect to tariffs
FLOOR = 0.10              # the baseline rate: no country below it
DISCOUNT = 0.5            # "discounted reciprocal": half of the computed tariff
BASES = ("general", "consumption")
VINTAGES = ("revised", "pre-revision")
ROUNDINGS = ("up", "table", "none")
ANNEX_MEASURE = "ieepa_recip_phase1"
BASELINE_MEASURE = "ieepa_recip_baseline"
# Column 2 countries (general note 3(b)): heading 9903.01.29 keeps them out of the reciprocal duty altogether.
COLUMN_2 = frozenset({"BLR", "CUB", "PRK", "RUS"})
EXPLANATIONS = ("match", "floor", "eu_single_rate", "other_rules", "not_listed", "rounding", "near", "data",
                "no_rate")


@dataclass
class FormulaRow:
    partner: str
    name: str
    exports: float                 # US exports to the partner, USD
    imports: float                 # US imports from it, USD (basis in imports_basis)
    balance: float                 # exports - imports
    imports_basis: str             # general | consumption | consumption (ch. 98/99 excluded)
    exports_source: str
    imports_source: str
    release: str                   # revised | pre-revision | mixed
    ratio: float                   # (imports - exports) / imports
    formula_unrounded: float       # max(floor, ratio / (elasticity x pass-through) x discount), unrounded
    formula_rate: float            # the same, rounded as chosen
    ustr_formula_rate: float       # the formula with the USTR's parameters (4 x 0.25, floor 10%, rounded up)
    published_rate: float | None   # the rate published for the origin (None: not subject to the reciprocal tariff)
    published_heading: str
    published_source: str
    difference: float | None       # formula_rate - published_rate (fraction)
    explanation: str               # one of EXPLANATIONS: why the published rate differs from the USTR formula
    explanation_text: str
    parameter_effect: float = 0.0  # formula_rate - ustr_formula_rate: what the chosen parameters change


@dataclass
class FormulaResult:
    year: str
    basis: str
    vintage: str
    elasticity: float
    pass_through: float
    floor: float
    rounding: str
    rows: list[FormulaRow] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, partner: str) -> FormulaRow:
        for r in self.rows:
            if r.partner == partner:
                return r
        raise InputError(f"no formula row for {partner!r}: no 2024 trade with it is loaded")

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist([jsonable(r) for r in self.rows])

    def to_frame(self):
        return self.to_arrow().to_pandas()


def round_rate(raw: float, computed: float, rounding: str) -> float:
    """The published rounding of ``raw`` (= computed x 1/2). 'up': rounded up to a whole percent (Japan 23.1% ->
    24%, Vietnam 45.2% -> 46%); 'table': the computed tariff first rounded to a whole percent, as the USTR table
    printed it ("tariffs charged to the USA"), then halved and rounded up (Korea 50% -> 25%, India 52% -> 26%);
    'none': unrounded."""
    if rounding == "none":
        return raw
    if rounding == "up":
        return math.ceil(round(raw * 100, 9)) / 100  # round(, 9): a float just above a whole percent stays on it
    whole = math.floor(computed * 100 + 0.5)
    return math.ceil(round(whole * DISCOUNT, 9)) / 100


def _sums(con: db.Connection, sql: str, params: list[Any]) -> dict[str, tuple[float, int]]:
    return {p: (float(v), int(n)) for p, v, n in con.execute(sql, params).fetchall()}


def _trade(con: db.Connection, year: str, basis: str, vintage: str) -> dict[str, dict[str, Any]]:
    """Per partner: exports and imports with their sources, the chosen basis and release where loaded."""
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    mph = ",".join("?" * 12)
    exports = _sums(con, "SELECT partner, sum(value), count(*) FROM trade_flows WHERE reporter = 'USA' AND source = ? "
                         "AND flow = 'exports' AND period = ? AND product_level = 2 GROUP BY 1", [_flows.EXPORTS_HS2, year])
    if not exports:
        raise DataNotFoundError(f"no US exports by partner loaded for {year} ({_flows.EXPORTS_HS2} covers 2020-2024)")
    usato = _sums(con, f"SELECT partner, sum(value), count(DISTINCT period) FROM trade_flows WHERE source = ? "
                       f"AND flow = 'imports' AND trade_regime = 'general' AND product_level = 2 AND period IN ({mph}) "
                       "GROUP BY 1", [_flows.USATO_HS2, *months])
    hs10 = _sums(con, "SELECT partner, sum(value), count(*) FROM trade_flows WHERE source = ? AND flow = 'imports' "
                      "AND product_level = 10 AND period = ? GROUP BY 1", [_flows.IMPORTS_HS10, year])
    weights = _sums(con, "SELECT partner, sum(value), count(*) FROM trade_flows WHERE source = ? AND flow = 'imports' "
                         "AND product_level = 10 AND period = ? GROUP BY 1", [_flows.IMPORTS_HS10_ALL, year])
    revised = {(p, f, r): (float(v), int(n)) for p, f, r, v, n in con.execute(
        f"SELECT partner, flow, trade_regime, sum(value), count(DISTINCT period) FROM trade_flows WHERE source = ? "
        f"AND period IN ({mph}) GROUP BY 1, 2, 3", [_flows.MONTHLY_TOTALS, *months]).fetchall()}
    if not (hs10 or weights or usato or revised):
        raise DataNotFoundError(f"no US imports by partner loaded for {year} (HS10 detail: 2024; HS2 monthly: 2024-01..)")

    from tariffscope.tariffs.measures import GROUPS

    out: dict[str, dict[str, Any]] = {}
    partners = (set(exports) | set(hs10) | set(weights) | set(usato)) - {"WLD", "EUROPE"}
    for p in sorted(partners):
        row: dict[str, Any] = {}
        rev_x, rev_g, rev_c = (revised.get((p, "exports", "total")), revised.get((p, "imports", "general")),
                               revised.get((p, "imports", "consumption")))
        use_rev = vintage == "revised" and rev_x is not None and rev_x[1] == 12
        if use_rev and rev_x is not None:
            row["exports"], row["exports_source"] = rev_x[0], _flows.MONTHLY_TOTALS
        elif p in exports:
            row["exports"], row["exports_source"] = exports[p][0], _flows.EXPORTS_HS2
        elif p == "EU27" and any(c in exports for c in GROUPS["EU27"]):
            row["exports"] = sum(exports[c][0] for c in GROUPS["EU27"] if c in exports)
            row["exports_source"] = f"{_flows.EXPORTS_HS2} (sum of the 27 member states)"
        else:
            continue
        if basis == "general" and use_rev and rev_g and rev_g[1] == 12:
            row.update(imports=rev_g[0], imports_source=_flows.MONTHLY_TOTALS, imports_basis="general")
        elif basis == "general" and p in usato and usato[p][1] == 12:
            row.update(imports=usato[p][0], imports_source=_flows.USATO_HS2, imports_basis="general")
        elif basis == "consumption" and use_rev and rev_c and rev_c[1] == 12:
            row.update(imports=rev_c[0], imports_source=_flows.MONTHLY_TOTALS, imports_basis="consumption")
        elif p in hs10:
            row.update(imports=hs10[p][0], imports_source=_flows.IMPORTS_HS10, imports_basis="consumption")
        elif p in weights:
            row.update(imports=weights[p][0], imports_source=_flows.IMPORTS_HS10_ALL,
                       imports_basis="consumption (ch. 98/99 excluded)")
        else:
            continue
        if row["imports"] <= 0:
            continue
        srcs = [row["exports_source"].split(" ")[0], row["imports_source"]]
        row["release"] = _flows.release_of(srcs)
        out[p] = row
    return out


def _published(con: db.Connection) -> tuple[dict[str, tuple[float, str, str]], float, set[str], str]:
    """(origin -> (rate, heading, source text), baseline rate, origins outside the reciprocal tariff, revision).

    Annex I origins and headings come from the measure catalogue (the Annex I country table, and any measure on
    a heading of the Annex I range: China's 9903.01.63); the rate is the heading's in the first HTS revision
    that carries it, i.e. as published, before later orders changed it (China: 34%, raised to 84% by EO 14259).
    """
    from tariffscope.tariffs import measures

    cat = measures.load()
    annex = cat.get(ANNEX_MEASURE)
    base = cat.get(BASELINE_MEASURE)
    lo, hi = (h.replace(".", "") for h in annex.headings[0].split("-"))
    origin_heading: dict[str, str] = {}
    for mid, heading, origin, _rate in measures.read_list(annex.rates_list or ""):
        if mid == ANNEX_MEASURE:
            origin_heading[origin] = heading.replace(".", "")
    for m in cat.measures:
        for h in m.headings:
            h = h.replace(".", "")
            if m.id != ANNEX_MEASURE and "-" not in h and lo <= h <= hi:
                for o in m.origins.include:
                    origin_heading.setdefault(o, h)
    rows = con.execute(
        """SELECT c.heading, c.ad_valorem, c.revision FROM chapter99_lines c JOIN hts_revisions r USING (revision)
           WHERE c.heading BETWEEN ? AND ? AND c.ad_valorem IS NOT NULL
           QUALIFY row_number() OVER (PARTITION BY c.heading ORDER BY r.seq) = 1""", [lo, hi]).fetchall()
    first = {h: (float(v), rev) for h, v, rev in rows}
    if not first:
        raise DataNotFoundError(f"no HTS revision with the Annex I headings {annex.headings[0]} is loaded")
    out = {}
    for o, h in origin_heading.items():
        if h in first:
            rate, rev = first[h]
            out[o] = (rate, f"{h[:4]}.{h[4:6]}.{h[6:]}", f"EO 14257 Annex I, HTS {rev} heading {h[:4]}.{h[4:6]}.{h[6:]}")
    revision = min(rev for _, rev in first.values())
    excluded = set(base.origins.exclude)
    return out, float(base.rate or 0.0), excluded, revision


def _explain(p: str, formula: float, unrounded: float, alt: float, published: float | None, floor: float,
             eu_rate: float | None, listed: bool, row: dict[str, Any], eu: frozenset[str]) -> tuple[str, str]:
    def pts(x: float) -> str:
        return f"{x * 100:.1f}%"

    if published is None:
        if p in COLUMN_2:
            return "other_rules", (f"not subject to the reciprocal tariff: a column 2 country (general note 3(b), "
                                   f"heading 9903.01.29); the formula would give {pts(formula)}")
        return "other_rules", ("not subject to the reciprocal tariff (EO 14257 leaves Canada and Mexico to the "
                               "IEEPA fentanyl orders and USMCA; headings 9903.01.26/.27)")
    if p in eu:
        return "eu_single_rate", (f"EU member: Annex I sets one rate for the European Union, computed on EU-wide "
                                  f"trade ({pts(eu_rate) if eu_rate is not None else 'n/a'} by the formula here); "
                                  f"this member's own figures give {pts(formula)}")
    if p in ("HKG", "MAC"):
        return "other_rules", ("Hong Kong and Macau take China's Annex I rate (heading 9903.01.63 covers China "
                               f"including Hong Kong and Macau); their own trade gives {pts(formula)}")
    if abs(formula - published) < 1e-9:
        if unrounded <= floor + 1e-12:
            what = "a US surplus" if row["ratio"] <= 0 else f"half the deficit ratio is {pts(row['ratio'] * DISCOUNT)}"
            return "floor", f"{what}: the {pts(floor)} floor applies"
        return "match", f"the formula gives {pts(unrounded)} before rounding"
    if not listed:
        return "not_listed", (f"not listed in Annex I, so the {pts(published)} baseline applies, although these 2024 "
                              f"figures give {pts(formula)}")
    if abs(alt - published) < 1e-9:
        return "rounding", (f"rounding: {pts(unrounded)} unrounded; with the ratio first rounded to a whole percent, "
                            f"as the USTR table printed it, the rate is {pts(alt)} = published")
    if abs(formula - published) <= 0.01 + 1e-9:
        return "near", (f"one point off: {pts(unrounded)} unrounded sits near a rounding step, and the USTR used an "
                        f"earlier release of the 2024 figures")
    implied = published / DISCOUNT  # 'up' rounding: half the ratio in (p - 1 pt, p]
    why = ("imports for consumption without chapters 98/99; no general imports loaded" if "98/99" in row["imports_basis"]
           else "imports for consumption; no general imports loaded" if row["imports_basis"] != "general"
           else "general imports of another release")
    return "data", (f"data: these figures ({why}) give a deficit of {pts(row['ratio'])} of imports; the published rate "
                    f"implies {pts(implied - 0.02)}-{pts(implied)}: the USTR's 2024 figures for it differ")


def _rates(t: dict[str, Any], elasticity: float, pass_through: float, floor: float, rounding: str
           ) -> tuple[float, float, float]:
    """(unrounded, rounded as asked, rounded the 'table' way) of one partner's trade (sets t['ratio'])."""
    ratio = (t["imports"] - t["exports"]) / t["imports"]
    t["ratio"] = ratio
    computed = ratio / (elasticity * pass_through)   # the USTR's "tariffs charged to the USA"
    unrounded = max(floor, computed * DISCOUNT)
    if unrounded <= floor:
        return unrounded, floor, floor
    return unrounded, max(floor, round_rate(unrounded, computed, rounding)), max(floor, round_rate(unrounded, computed, "table"))


def reciprocal_formula(year: str | int = "2024", basis: str = "general", vintage: str = "revised",
                       elasticity: float = ELASTICITY, pass_through: float = PASS_THROUGH, floor: float = FLOOR,
                       rounding: str = "up", con: db.Connection | None = None) -> FormulaResult:
    """The formula rate for every partner with ``year`` trade loaded, next to the published Annex I rate.

    ``basis``: 'general' (general imports where loaded, else imports for consumption, named per row) or
    'consumption'. ``vintage``: 'revised' (the revised country series where loaded) or 'pre-revision'.
    ``elasticity`` x ``pass_through`` divide the deficit ratio (USTR: 4 x 0.25 = 1; the critique: pass-through
    near 1). ``rounding``: 'up' (published), 'table' or 'none'.
    """
    year = str(year).strip()
    if not (year.isdigit() and len(year) == 4):
        raise InputError(f"bad year {year!r}: use YYYY (e.g. 2024)")
    if basis not in BASES:
        raise InputError(f"bad basis {basis!r}: choose general or consumption")
    if vintage not in VINTAGES:
        raise InputError(f"bad vintage {vintage!r}: choose revised or pre-revision")
    if rounding not in ROUNDINGS:
        raise InputError(f"bad rounding {rounding!r}: choose up, table or none")
    for name, v in (("elasticity", elasticity), ("pass-through", pass_through)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"bad {name} {v!r}: a positive number (USTR: elasticity 4, pass-through 0.25)")
    if not (0 <= floor < 1):
        raise InputError(f"bad floor {floor!r}: a fraction in [0, 1) (USTR: 0.10)")
    from tariffscope.tariffs.measures import GROUPS

    eu = GROUPS["EU27"]
    with using_warehouse(con) as con:
        trade = _trade(con, year, basis, vintage)
        published, baseline, excluded, revision = _published(con)
        res = FormulaResult(year, basis, vintage, float(elasticity), float(pass_through), float(floor), rounding)
        rates = {p: (_rates(t, elasticity, pass_through, floor, rounding),
                     _rates(t, ELASTICITY, PASS_THROUGH, FLOOR, "up")) for p, t in trade.items()}
        eu_rate = rates["EU27"][1][1] if "EU27" in rates else None
        custom = (elasticity, pass_through, floor, rounding) != (ELASTICITY, PASS_THROUGH, FLOOR, "up")
        for p, t in trade.items():
            (unrounded, formula, _), (u_unr, u_formula, u_alt) = rates[p]
            if p in excluded:
                pub, heading, psrc, listed = None, "", "not subject to the reciprocal tariff (catalogue: excluded origin)", False
            elif p in published or (p in eu and "EU27" in published):
                pub, heading, psrc = published[p if p in published else "EU27"]
                listed = True
            else:
                pub, heading, psrc, listed = baseline, "9903.01.25", "baseline (not in Annex I), heading 9903.01.25", False
            # the published rate is explained against the formula as the USTR ran it; chosen parameters come on top
            code, text = _explain(p, u_formula, u_unr, u_alt, pub, FLOOR, eu_rate, listed, t, eu)
            if custom:
                text = (f"with these parameters {formula * 100:.1f}% (the USTR's: {u_formula * 100:.1f}%); published vs "
                        f"the USTR's formula: {text}")
            res.rows.append(FormulaRow(
                p, country_name(p), t["exports"], t["imports"], t["exports"] - t["imports"], t["imports_basis"],
                t["exports_source"], t["imports_source"], t["release"], t["ratio"], unrounded, formula, u_formula, pub,
                heading, psrc, None if pub is None else formula - pub, code, text, formula - u_formula))
        res.rows.sort(key=lambda r: -r.imports)
        uses: dict[str, set[str]] = {}
        for r in res.rows:
            uses.setdefault(r.exports_source.split(" ")[0], set()).add("US total exports (FAS)")
            uses.setdefault(r.imports_source, set()).add(f"US imports ({r.imports_basis})")
        res.sources = source_refs(con, {k: "; ".join(sorted(v)) for k, v in uses.items()})
        res.notes.append(f"published rates: EO 14257 Annex I as first published (HTS {revision}, headings "
                         f"9903.01.43-9903.01.76, origins from the measure catalogue); other origins: the {baseline:.0%} "
                         f"baseline (9903.01.25)")
        res.notes.append(f"formula: max({floor:.0%}, (imports - exports) / imports / ({elasticity:g} x {pass_through:g}) "
                         f"x {DISCOUNT:g}), rounding '{rounding}'")
        n_cons = sum(1 for r in res.rows if r.imports_basis != "general")
        if basis == "general" and n_cons:
            res.notes.append(f"{n_cons} of {len(res.rows)} partners have no general imports loaded: their rows use "
                             f"imports for consumption (imports_basis says which)")
        return res
