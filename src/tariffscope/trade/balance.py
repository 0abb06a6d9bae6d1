"""Bilateral goods balance: totals and decomposition by sector or HS level, direct or mirror.

``balance()`` answers "how big is the imbalance and which products make it" from the warehouse:

* US as reporter: the US statistics directly (exports FAS, imports customs value).
* Any other reporter with the US as partner: a **mirror estimate** (the reporter's exports to the US =
  US imports from it, and vice versa), converted to the reporter's currency with monthly average
  exchange rates when asked.

Each flow comes from one named source at the finest product level it has (``levels``), and rows that a
coarse source cannot split (US exports are HS2 only) stay whole and say so, rather than being allocated
by an invented rule. Sector shares are shares of the balance of the same sources, so they sum to 100%.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.trade import _flows
from tariffscope.trade._common import (
    US,
    MonthlyRates,
    Period,
    SourceRef,
    fmt_money,
    jsonable,
    monthly_rates,
    parse_period,
    resolve_partner,
    source_refs,
    using_warehouse,
)

BY_LEVELS = {"hs2": 2, "hs4": 4, "hs6": 6, "hs8": 8, "hs10": 10}
BY_CHOICES = (None, "sector", *BY_LEVELS)
MIRROR_LABEL = "mirror estimate"


@dataclass
class BalanceRow:
    sector: str                 # sector id, HS code, or 'TOTAL'
    exports: float | None       # None: this row's exports are inside a coarser unsplit row (see note)
    imports: float | None
    balance: float
    share_of_balance: float | None
    level: int | None = None    # product level of the code (hs breakdowns)
    note: str = ""
    in_rows: list[str] = field(default_factory=list)  # unsplit rows holding this row's missing flow


OFFICIAL_BASIS = "total exports (FAS value) minus general imports (customs value)"


@dataclass
class Headline:
    """The balance as the Census Bureau publishes it: total exports (FAS) minus general imports, one release."""

    exports: float
    imports: float
    balance: float
    basis: str                  # OFFICIAL_BASIS
    vintage: str                # which release: revised country series, or as published before the revision
    sources: list[str] = field(default_factory=list)

    def line(self, currency: str = "USD") -> str:
        return (f"{fmt_money(self.balance, currency)} (exports {fmt_money(self.exports, currency)}, imports "
                f"{fmt_money(self.imports, currency)}): {self.basis}; {self.vintage} ({', '.join(self.sources)})")


@dataclass
class ReconLine:
    """One step from a detailed table's total to the headline; ``effect`` is the step's effect on the balance."""

    step: str                   # exports_release | exports_source | consumption_vs_general | imports_release | imports_source
    flow: str                   # reporter's perspective
    effect: float
    text: str


@dataclass
class BalanceResult:
    reporter: str
    partner: str
    period: str
    currency: str
    by: str | None
    perspective: str            # 'direct' | 'mirror estimate'
    exports: float
    imports: float
    balance: float
    sectors: list[BalanceRow] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)    # flow -> what was used (regime, basis, level, source)
    sources: list[SourceRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)   # flow -> effective conversion rate, if converted
    headline: Headline | None = None                        # the official-basis figure, where loaded
    reconciliation: list[ReconLine] = field(default_factory=list)  # this table's total -> the headline
    # sector -> its HS prefixes, for combined(): which chapters a sector owns whole headings in (not output)
    _prefixes: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # flow -> the slice read, for the reconciliation to the headline (not output)
    _slices: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist([jsonable(r) for r in self.sectors]) if self.sectors else pa.table({})

    def to_frame(self):
        return self.to_arrow().to_pandas()

    def combined(self, sectors: list[str]) -> dict[str, Any]:
        """The joint net contribution and share of several sectors (e.g. the three auto sectors).

        When their exports sit in unsplit rows (US exports are HS2 only), two figures are given:
        ``share_of_balance`` counts their imports against no exports (the upper bound of their net
        contribution); ``share_net_of_unsplit`` also subtracts the unsplit export rows of the chapters in
        which these sectors own whole headings (HS4 or coarser: ch. 87 for the auto sectors), i.e. as if
        every such export were theirs (the lower bound).
        """
        rows = [r for r in self.sectors if r.sector in sectors]
        missing = sorted(set(sectors) - {r.sector for r in rows})
        bal = sum(r.balance for r in rows)
        out: dict[str, Any] = {"sectors": sectors, "missing": missing, "balance": bal,
                               "share_of_balance": bal / self.balance if self.balance else None}
        owned = {p[:2] for s in sectors for p in self._prefixes.get(s, []) if len(p) <= 4}
        holders = {n for r in rows for n in r.in_rows}
        unsplit = sorted(n for n in holders if n[:3] == "ch." and n[4:6] in owned)
        if holders:
            extra = sum(r.balance for r in self.sectors if r.sector in unsplit)
            out["unsplit_rows"] = unsplit
            out["balance_net_of_unsplit"] = bal + extra
            out["share_net_of_unsplit"] = (bal + extra) / self.balance if self.balance else None
        return out


@dataclass
class BalanceTable:
    """Balances for many partners at once (``partner='all'`` or a list): one tidy Arrow table."""

    reporter: str
    period: str
    currency: str
    by: str | None
    table: pa.Table             # partner, sector, level, exports, imports, balance
    levels: dict[str, str] = field(default_factory=dict)
    sources: list[SourceRef] = field(default_factory=list)

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_frame(self):
        return self.table.to_pandas()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"reporter": self.reporter, "period": self.period, "currency": self.currency, "by": self.by,
                         "levels": self.levels, "sources": self.sources, "rows": self.table.to_pylist()})


def unsplit_label(code: str, level: int, flow: str) -> str:
    if level == 0:
        return f"all goods {flow} (TOTAL only, not split)"
    what = f"ch. {code}" if level == 2 else f"HS {code}"
    return f"{what} {flow} (HS{level}, not split)"


def sector_map() -> pa.Table:
    """(prefix, sector) from the codes area."""
    from tariffscope.codes.sectors import sector_map_table

    t = sector_map_table()
    return t.select(["prefix", "sector"])


# --- the engine ---------------------------------------------------------------------------------


def _annual_rate(con: db.Connection, s: _flows.Slice, partners, period: Period, rates: MonthlyRates) -> float:
    """Rate for annual rows: monthly rates weighted by the flow's monthly profile for this partner
    (monthly totals or HS2 months, when loaded), else the plain mean of the 12 monthly rates."""
    months = period.months()
    for src, regime in ((_flows.MONTHLY_TOTALS, None if s.flow == "exports" else "general"),
                        (_flows.USATO_HS2, "general")):
        if partners == _flows.ALL or (src == _flows.USATO_HS2 and s.flow == "exports"):
            continue
        if _flows.covered(con, src, s.flow, partners, months, regime):
            sql, params = _flows._select(src, s.flow, partners, months, regime)
            w = dict(con.execute(f"SELECT period, sum(value) FROM ({sql}) GROUP BY 1", params).fetchall())
            tot = sum(w.values())
            if tot:
                return sum(w[m] * rates.rate[m] for m in months) / tot
    return sum(rates.rate[m] for m in months) / len(months)


def _grouping_sql(by: str | None) -> tuple[str, str]:
    """(group expression, level expression) over a relation with product_code, product_level."""
    if by is None:
        return "'TOTAL'", "0"
    n = BY_LEVELS[by]
    return (f"CASE WHEN product_level >= {n} THEN substr(product_code, 1, {n}) ELSE product_code END",
            f"least(product_level, {n})")


def _aggregate(con: db.Connection, roles: dict[str, _flows.Slice], by: str | None, rate_rows: list[dict],
               smap: pa.Table | None, multi: bool) -> pa.Table:
    """Sum both flows into groups; one row per (partner, group, level) with exports/imports (NULL: no rows)."""
    parts, params = [], []
    for role, s in roles.items():
        parts.append(f"SELECT '{role}' AS role, * FROM ({s.sql})")
        params += s.params
    base = " UNION ALL ".join(parts)
    # small lookup tables go inline as VALUES: registering Arrow objects makes DuckDB import pandas (~2 s)
    rates_sql = "SELECT * FROM (VALUES " + ", ".join(
        f"('{r['role']}', '{r['period']}', {float(r['rate'])!r})" for r in rate_rows) + ") AS t(role, period, rate)"
    conv = f"WITH raw AS ({base}), _ts_rates AS ({rates_sql}), base AS (SELECT b.role, b.partner, b.product_code, " \
           "b.product_level, b.value * r.rate AS value FROM raw b JOIN _ts_rates r ON r.role = b.role AND r.period = b.period)"
    if all(r["rate"] == 1.0 for r in rate_rows):  # USD: nothing to convert, skip the join
        conv = f"WITH base AS (SELECT role, partner, product_code, product_level, value FROM ({base}))"
    part_col = "partner, " if multi else ""
    if by == "sector":
        assert smap is not None, "balance() passes the sector map whenever by == 'sector'"
        conv += ", _ts_smap AS (SELECT * FROM (VALUES " + ", ".join(
            f"('{p}', '{sec.replace(chr(39), chr(39) * 2)}')" for p, sec in zip(smap["prefix"].to_pylist(), smap["sector"].to_pylist(), strict=True)
        ) + ") AS t(prefix, sector))"
        sql = conv + f""",
        codes AS (SELECT DISTINCT product_code, product_level FROM base),
        best AS (SELECT c.product_code, arg_max(m.sector, length(m.prefix)) AS sector
                 FROM codes c JOIN _ts_smap m ON starts_with(c.product_code, m.prefix) GROUP BY 1),
        amb AS (SELECT DISTINCT c.product_code FROM codes c LEFT JOIN best b USING (product_code)
                JOIN _ts_smap m ON starts_with(m.prefix, c.product_code) AND length(m.prefix) > length(c.product_code)
                WHERE m.sector <> coalesce(b.sector, 'other')),
        lab AS (SELECT c.product_code, c.product_level,
                       CASE WHEN a.product_code IS NOT NULL OR c.product_level = 0 THEN '#unsplit' ELSE coalesce(b.sector, 'other') END AS grp
                FROM codes c LEFT JOIN best b USING (product_code) LEFT JOIN amb a USING (product_code))
        SELECT {part_col}CASE WHEN l.grp = '#unsplit' THEN '#' || b.role || ':' || b.product_code ELSE l.grp END AS sector,
               CASE WHEN l.grp = '#unsplit' THEN b.product_level ELSE NULL END AS level,
               sum(b.value) FILTER (WHERE b.role = 'exports') AS exports,
               sum(b.value) FILTER (WHERE b.role = 'imports') AS imports,
               coalesce(sum(b.value) FILTER (WHERE b.role = 'exports'), 0)
                 - coalesce(sum(b.value) FILTER (WHERE b.role = 'imports'), 0) AS balance
        FROM base b JOIN lab l USING (product_code, product_level)
        GROUP BY ALL"""
    else:
        g, lv = _grouping_sql(by)
        sql = conv + f"""
        SELECT {part_col}{g} AS sector, {lv} AS level,
               sum(value) FILTER (WHERE role = 'exports') AS exports,
               sum(value) FILTER (WHERE role = 'imports') AS imports,
               coalesce(sum(value) FILTER (WHERE role = 'exports'), 0)
                 - coalesce(sum(value) FILTER (WHERE role = 'imports'), 0) AS balance
        FROM base GROUP BY ALL"""
    return db.query(con, sql, params)


def _roles(reporter: str, partner: str | list[str]) -> tuple[str, Any]:
    """('direct'|'mirror estimate', the US partners to read) for a reporter/partner pair."""
    if reporter == US:
        return "direct", partner
    if partner == [US] or partner == US:
        return MIRROR_LABEL, [reporter]
    raise DataNotFoundError(
        f"no statistics of {reporter} are loaded, and a mirror estimate needs the partner's side: only US data are "
        f"loaded, so use --reporter USA, or --reporter {reporter} --partner USA for the mirror")


def balance(reporter: str, partner: str | list[str], period: str | int, by: str | None = "sector",
            currency: str = "USD", con: db.Connection | None = None, sector_map_table: pa.Table | None = None
            ) -> BalanceResult | BalanceTable:
    """The goods balance of ``reporter`` with ``partner`` in ``period`` ('YYYY' or 'YYYY-MM').

    ``partner='all'`` (or a list of partners) returns a ``BalanceTable`` for every partner in one query.
    ``by``: 'sector' | 'hs2' | 'hs4' | 'hs6' | None. ``currency``: 'USD' or any currency with rates loaded.
    """
    by = None if by in ("none", "") else by
    if by not in BY_CHOICES:
        raise InputError(f"bad breakdown {by!r}: choose one of sector, hs2, hs4, hs6 or none")
    per = parse_period(period)
    rep = resolve_partner(reporter)
    multi = isinstance(partner, (list, tuple)) or str(partner).lower() == _flows.ALL
    if multi:
        if rep != US:
            raise InputError("several partners at once are supported for --reporter USA only")
        part: Any = _flows.ALL if not isinstance(partner, (list, tuple)) else [resolve_partner(p) for p in partner]
    else:
        part = resolve_partner(str(partner))
        if part == rep:
            raise InputError(f"reporter and partner are both {rep}")
    currency = (currency or "USD").upper()
    with using_warehouse(con) as con:
        perspective, us_partners = _roles(rep, part if multi else [part])
        slices = _flows.us_slices(con, us_partners, per, by)
        roles = dict(slices) if perspective == "direct" else {"exports": slices["imports"], "imports": slices["exports"]}

        rates = monthly_rates(con, currency, per.months())
        rate_rows, eff = [], {}
        for role, s in roles.items():
            if s.frequency == "M":
                rate_rows += [{"role": role, "period": m, "rate": rates.rate[m]} for m in per.months()]
            else:
                eff[role] = _annual_rate(con, s, us_partners, per, rates)
                rate_rows.append({"role": role, "period": str(per.year), "rate": eff[role]})
        smap = None
        if by == "sector":
            smap = sector_map_table if sector_map_table is not None else sector_map()
        agg = _aggregate(con, roles, by, rate_rows, smap, multi)

        flow_word = {"exports": "exports", "imports": "imports"}
        levels = {role: s.describe() for role, s in roles.items()}
        used: dict[str, str] = {}
        for role, s in roles.items():
            for src in s.sources:
                used[src] = (used.get(src, "") + ("; " if src in used else "") +
                             (f"{role} of {rep}" + (" (= US " + s.flow + ")" if perspective != "direct" else "")))
        if currency != "USD":
            used.update(rates.sources_used(per.months()))
        sources = source_refs(con, used)

        if multi:
            if by == "sector":  # internal '#role:code' keys of unsplit rows -> their labels
                names = [unsplit_label(x[1:].split(":")[1], lv, x[1:].split(":")[0]) if x.startswith("#") else x
                         for x, lv in zip(agg["sector"].to_pylist(), agg["level"].to_pylist(), strict=True)]
                agg = agg.set_column(agg.schema.get_field_index("sector"), "sector", pa.array(names, pa.string()))
            return BalanceTable(rep, per.text, currency, by, agg, levels, sources)

        result = _single(agg, rep, part, per, currency, by, perspective, levels, sources, smap)
        if currency != "USD":
            result.rates = {k: round(v, 4) for k, v in eff.items()}
            result.notes.append(
                f"converted to {currency} with monthly average rates (USD/{currency}); annual-only figures at the "
                f"flow's monthly-weighted average rate" if eff else
                f"converted to {currency} month by month with monthly average rates (USD/{currency})")
        for role, s in roles.items():
            if s.note:
                result.notes.append(f"{flow_word[role]}: {s.note}")
        if perspective != "direct":
            result.notes.insert(0, f"{MIRROR_LABEL}: {rep}'s exports to {part} = US imports from {rep} "
                                   f"({slices['imports'].describe()}); {rep}'s imports = US exports to {rep} "
                                   f"({slices['exports'].describe()}). Not {rep}'s own statistics.")
        _vintage_note(con, result, us_partners, per, roles)
        result._slices = roles
        if by is None:
            _own_headline(result, roles, part if perspective == "direct" else rep)
        else:
            head = balance(rep, part, per.text, by=None, currency=currency, con=con)
            assert isinstance(head, BalanceResult)  # one partner: a BalanceResult, never a table
            result.headline = head.headline
            if head.headline is None:
                result.notes.extend(n for n in head.notes if n.startswith("no official-basis headline"))
            else:
                _reconcile_to_headline(con, result, head, rep, part, per, currency)
        return result


def _us_flow_role(roles: dict[str, _flows.Slice], us_flow: str) -> str:
    """The reporter's role ('exports'|'imports') that holds the US flow ``us_flow``."""
    return next(r for r, s in roles.items() if s.flow == us_flow)


def _own_headline(result: BalanceResult, roles: dict[str, _flows.Slice], partner: str) -> None:
    """A total (``by=None``) is the headline when it is on the Census basis in one release; else say why not."""
    exp_s, imp_s = roles[_us_flow_role(roles, "exports")], roles[_us_flow_role(roles, "imports")]
    release = _flows.release_of(exp_s.sources + imp_s.sources)
    if exp_s.regime == "total" and imp_s.regime == "general" and release in _flows.RELEASE_TEXT:
        basis = OFFICIAL_BASIS if result.perspective == "direct" else (
            f"{MIRROR_LABEL} on the Census basis: {result.reporter}'s exports = US general imports (customs value), "
            f"its imports = US total exports (FAS value)")
        result.headline = Headline(result.exports, result.imports, result.balance, basis,
                                   _flows.RELEASE_TEXT[release], list(dict.fromkeys(exp_s.sources + imp_s.sources)))
        return
    why = (f"US general imports from {partner} are not loaded for {result.period} (the USA Trade Online files "
           f"cover a few partners), so the total uses {imp_s.describe()}" if imp_s.regime != "general" else
           f"the loaded sources mix releases ({', '.join(exp_s.sources + imp_s.sources)})")
    result.notes.append(f"no official-basis headline: {why}")


def _reconcile_to_headline(con: db.Connection, table: BalanceResult, head: BalanceResult, rep: str, part: str,
                           per: Period, currency: str) -> None:
    """Steps from the table's total to the headline, each with its effect on the balance (they add up exactly).

    Exports: a different release or source. Imports: imports for consumption -> general imports of the same
    release (warehouse and foreign-trade-zone withdrawals), then general imports -> the headline's release.
    """
    assert head.headline is not None
    troles, hroles = table._slices, head._slices
    sign = {"exports": 1.0, "imports": -1.0}
    steps: list[ReconLine] = []
    # US exports
    role = _us_flow_role(troles, "exports")
    t_s, h_s = troles[role], hroles[role]
    d = getattr(head, role) - getattr(table, role)
    if t_s.sources != h_s.sources:
        rel_t, rel_h = _flows.release_of(t_s.sources), _flows.release_of(h_s.sources)
        kind = "release" if rel_t != rel_h else "source"
        steps.append(ReconLine(f"exports_{kind}", role, sign[role] * d,
                               f"US exports: {fmt_money(getattr(table, role), currency)} in {t_s.source} ({rel_t}) vs "
                               f"{fmt_money(getattr(head, role), currency)} in {h_s.source} ({rel_h}): "
                               f"{fmt_money(d, currency)}" + (" (annual revision)" if kind == "release" else "")))
    # US imports
    role = _us_flow_role(troles, "imports")
    t_s, h_s = troles[role], hroles[role]
    t_val, h_val = getattr(table, role), getattr(head, role)
    if t_s.sources != h_s.sources or t_s.regime != h_s.regime:
        rel_t, rel_h = _flows.release_of(t_s.sources), _flows.release_of(h_s.sources)
        general = None
        if t_s.regime == "consumption":
            # general imports of the table's own release: the same question asked by HS2 (USA Trade Online)
            g: BalanceResult | BalanceTable | None
            try:
                g = balance(rep, part, per.text, by="hs2", currency=currency, con=con)
            except DataNotFoundError:
                g = None
            if not isinstance(g, BalanceResult):  # one partner: never a table
                g = None
            if g is not None and g._slices[role].regime == "general" and _flows.release_of(g._slices[role].sources) == rel_t:
                general = (getattr(g, role), g._slices[role].source)
        if general is not None:
            g_val, g_src = general
            over = t_val - g_val
            ch98 = ("; the table's source also leaves out chapters 98/99" if _flows.IMPORTS_HS10_ALL in t_s.sources else "")
            txt = (f"imports for consumption exceed general imports by {fmt_money(over, currency)}: warehouse withdrawals, "
                   f"FTZ (goods entered for consumption from bonded warehouses and foreign-trade zones, net of goods "
                   f"put into them; {t_s.source} vs {g_src}, both {rel_t}{ch98})" if over >= 0 else
                   f"general imports exceed imports for consumption by {fmt_money(-over, currency)}: goods put into "
                   f"bonded warehouses and foreign-trade zones, not yet withdrawn ({g_src} vs {t_s.source}, both {rel_t}{ch98})")
            steps.append(ReconLine("consumption_vs_general", role, sign[role] * (g_val - t_val), txt))
            if abs(h_val - g_val) > 0 or g_src != h_s.source:
                steps.append(ReconLine("imports_release", role, sign[role] * (h_val - g_val),
                                       f"US general imports: {fmt_money(g_val, currency)} in {g_src} ({rel_t}) vs "
                                       f"{fmt_money(h_val, currency)} in {h_s.source} ({rel_h}): "
                                       f"{fmt_money(h_val - g_val, currency)}"
                                       + (" (annual revision)" if rel_t != rel_h else "")))
        else:
            what = "imports for consumption" if t_s.regime == "consumption" else "general imports"
            revision = t_s.regime == "general" and rel_t != rel_h
            steps.append(ReconLine("imports_release" if revision else "imports_source", role, sign[role] * (h_val - t_val),
                                   f"US imports: {what} {fmt_money(t_val, currency)} in {t_s.source} ({rel_t}) vs general "
                                   f"imports {fmt_money(h_val, currency)} in {h_s.source} ({rel_h}): "
                                   f"{fmt_money(h_val - t_val, currency)}" + (" (annual revision)" if revision else "")))
    table.reconciliation = steps


def _single(agg: pa.Table, rep, part, per: Period, currency, by, perspective, levels, sources, smap) -> BalanceResult:
    rows = agg.to_pylist()
    if not rows:
        raise DataNotFoundError(f"no trade of {rep} with {part} loaded for {per.text}")
    exports = sum(r["exports"] or 0.0 for r in rows)
    imports = sum(r["imports"] or 0.0 for r in rows)
    bal = exports - imports
    out_rows: list[BalanceRow] = []
    unsplit = []  # (role, code, label)
    for r in rows:
        if r["sector"].startswith("#"):
            role, code = r["sector"][1:].split(":")
            r["sector"] = unsplit_label(code, r["level"], role)
            unsplit.append((role, code, r["sector"]))
        elif by not in ("sector", None) and r["level"] < BY_LEVELS[by]:
            role = "exports" if r["imports"] is None else "imports" if r["exports"] is None else None
            if role:
                lab = unsplit_label(r["sector"], r["level"], role)
                unsplit.append((role, r["sector"], lab))
                r["sector"] = lab
    prefixes: dict[str, list[str]] = {}
    if smap is not None:
        for p, s in zip(smap["prefix"].to_pylist(), smap["sector"].to_pylist(), strict=True):
            prefixes.setdefault(s, []).append(p)
    # the unsplit rows by role and code: a row's holders are those whose code is TOTAL or a prefix of one of its
    # codes, found by looking its prefixes up (a scan of every unsplit row per row cost ~0.5 s on 10k HS10 rows)
    unsplit_at: dict[tuple[str, str], list[str]] = {}
    for ro, c, lab in unsplit:
        unsplit_at.setdefault((ro, c), []).append(lab)
    for r in rows:
        notes, in_rows = [], []
        vals: dict[str, float | None] = {}
        for role in ("exports", "imports"):
            v = r[role]
            if v is None:
                codes = prefixes.get(r["sector"], []) if by == "sector" else [r["sector"]]
                found = {lab for code in codes for c in [code[:k] for k in range(len(code) + 1)]
                         for lab in unsplit_at.get((role, c), ())}
                if codes:  # any() over no codes matched nothing, TOTAL included
                    found.update(unsplit_at.get((role, "TOTAL"), ()))
                holder = sorted(lab for lab in found if lab != r["sector"])
                if holder:
                    in_rows += holder
                    if holder[0].startswith("all goods"):
                        notes.append(f"{role} only as a total (row '{holder[0]}')")
                    else:
                        codes_txt = ", ".join(h.split(" ")[1] for h in holder)
                        notes.append(f"{role} in unsplit row{'s' if len(holder) > 1 else ''} "
                                     f"{'ch.' if holder[0].startswith('ch.') else 'HS'} {codes_txt}")
                    vals[role] = None
                    continue
                v = 0.0
            vals[role] = v
        b = (vals["exports"] or 0.0) - (vals["imports"] or 0.0)
        out_rows.append(BalanceRow(r["sector"], vals["exports"], vals["imports"], b, b / bal if bal else None,
                                   r["level"] if by not in (None, "sector") or r["level"] is not None else None,
                                   "; ".join(notes), in_rows))
    out_rows.sort(key=lambda x: -abs(x.balance))
    res = BalanceResult(rep, part, per.text, currency, by, perspective, exports, imports, bal, out_rows,
                        levels, sources)
    res._prefixes = prefixes
    return res


def _vintage_note(con, result: BalanceResult, us_partners, per: Period, roles) -> None:
    """Say so when another loaded source (another vintage or regime) gives a different total."""
    used = {src for s in roles.values() for src in s.sources}
    if per.frequency != "A" or us_partners == _flows.ALL or _flows.MONTHLY_TOTALS in used:
        return
    months = per.months()
    alts = []
    for flow, regime in (("exports", None), ("imports", "general")):
        if _flows.covered(con, _flows.MONTHLY_TOTALS, flow, us_partners, months, regime):
            sql, params = _flows._select(_flows.MONTHLY_TOTALS, flow, us_partners, months, regime)
            v = con.execute(f"SELECT sum(value) FROM ({sql})", params).fetchall()[0][0]
            alts.append(f"US {flow} {fmt_money(v)}" + (" (general)" if regime else ""))
    if alts:
        result.notes.append(
            f"other vintage: the revised country series ({_flows.MONTHLY_TOTALS}) gives " + ", ".join(alts) +
            f" for {per.text}; the table uses the detailed sources above, and the headline figure is on the official basis")
