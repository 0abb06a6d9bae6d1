"""Which warehouse rows answer a trade question: one named source per flow, never mixed silently.

A ``Slice`` is the set of ``trade_flows`` rows used for one flow (US perspective): its source(s), trade
regime, value basis and product level. ``us_slices`` picks them for a partner set, a period and a
breakdown, preferring (i) the revised country series for totals, (ii) the finest product level for
breakdowns. Everything above this module works on the rows a slice returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tariffscope import db
from tariffscope.errors import DataNotFoundError
from tariffscope.trade._common import US, Period

# source ids written by the embedded-data loader (see notes/COMMON.md)
MONTHLY_TOTALS = "census_japan_monthly_totals"
USATO_HS2 = "usato_imports_hs2_monthly"
USATO_HS4 = "usato_imports_hs4_monthly"
EXPORTS_HS2 = "dataweb_exports_hs2"
IMPORTS_HS10 = "census_hs10_imports_2024"
IMPORTS_HS10_ALL = "census_import_weights_2024"
COMTRADE_AUTOS = "comtrade_us_auto_imports"

# Which release of the 2024-25 figures each embedded source carries (CATALOG.md of the raw data): the Japan
# country series is the revised one; USA Trade Online, the DataWeb download and the HS10 pulls predate the
# Census annual revision (Japan 2024: general imports 148.37 bn there, 147.12 bn revised).
RELEASE = {
    MONTHLY_TOTALS: "revised",
    USATO_HS2: "pre-revision",
    USATO_HS4: "pre-revision",
    EXPORTS_HS2: "pre-revision",
    IMPORTS_HS10: "pre-revision",
    IMPORTS_HS10_ALL: "pre-revision",
}
RELEASE_TEXT = {
    "revised": "revised Census country series",
    "pre-revision": "Census figures as published before the annual revision",
}


def release_of(sources: list[str]) -> str:
    """'revised' | 'pre-revision' | 'mixed' | 'unknown' for the sources of one flow or figure."""
    got = {RELEASE.get(s, "unknown") for s in sources}
    return got.pop() if len(got) == 1 else "mixed"


ALL = "all"  # partner selector: every partner the source has (groups EU27/WLD left out)


@dataclass
class Slice:
    flow: str                 # US perspective: exports | imports
    sources: list[str]
    regime: str               # general | consumption | total
    value_basis: str          # customs | fas | ...
    level: str                # what a user reads: 'HS10', 'HS2', 'TOTAL', 'HS2 (HS4 in ch. 84/85/87)'
    frequency: str            # A | M: whether rows can be converted month by month
    sql: str                  # SELECT partner, product_code, product_level, period, value
    params: list[Any] = field(default_factory=list)
    note: str = ""

    @property
    def source(self) -> str:
        return "+".join(self.sources)

    def describe(self) -> str:
        regime = {"general": "general imports", "consumption": "imports for consumption", "total": "total exports"}[self.regime]
        return f"{regime}, {self.value_basis} value, {self.level} ({self.source})"


def _partner_filter(partners: list[str] | str, alias: str = "") -> tuple[str, list[Any]]:
    col = f"{alias}partner"
    if partners == ALL:
        return f"{col} NOT IN ('EU27', 'WLD')", []
    return f"{col} IN ({','.join('?' * len(partners))})", list(partners)


def _select(source: str, flow: str, partners: list[str] | str, periods: list[str], regime: str | None = None,
            extra: str = "") -> tuple[str, list[Any]]:
    pf, pp = _partner_filter(partners)
    sql = (
        "SELECT partner, product_code, product_level, period, value, vintage FROM trade_flows "
        f"WHERE reporter = '{US}' AND source = ? AND flow = ? AND {pf} "
        f"AND period IN ({','.join('?' * len(periods))})"
        + (" AND trade_regime = ?" if regime else "")
        + extra
    )
    params: list[Any] = [source, flow, *pp, *periods] + ([regime] if regime else [])
    return sql, params


def covered(con: db.Connection, source: str, flow: str, partners: list[str] | str, periods: list[str],
            regime: str | None = None) -> bool:
    """True when the source has rows for every period (and, for listed partners, every partner)."""
    sql, params = _select(source, flow, partners, periods, regime)
    n_per, n_part = con.execute(f"SELECT count(DISTINCT period), count(DISTINCT partner) FROM ({sql})", params).fetchall()[0]
    if n_per != len(periods):
        return False
    return partners == ALL and n_part > 0 or partners != ALL and n_part == len(partners)


def _slice(con: db.Connection, source: str, flow: str, partners, periods, regime: str, value_basis: str,
           level: str, frequency: str, note: str = "", extra: str = "") -> Slice:
    sql, params = _select(source, flow, partners, periods, regime, extra)
    return Slice(flow, [source], regime, value_basis, level, frequency, sql, params, note)


def _usato_hs2_hs4(con, partners, periods) -> Slice:
    """HS2 general imports by month, with chapters 84/85/87 replaced by their HS4 rows where loaded."""
    s2, p2 = _select(USATO_HS2, "imports", partners, periods, "general")
    s4, p4 = _select(USATO_HS4, "imports", partners, periods, "general")
    sql = (
        f"WITH h4 AS ({s4}), h2 AS ({s2}) "
        "SELECT * FROM h4 UNION ALL SELECT * FROM h2 WHERE NOT EXISTS (SELECT 1 FROM h4 WHERE h4.partner = h2.partner "
        "AND h4.period = h2.period AND substr(h4.product_code, 1, 2) = h2.product_code)"
    )
    has4 = con.execute(f"SELECT count(*) FROM ({s4})", p4).fetchall()[0][0] > 0
    return Slice("imports", [USATO_HS2] + ([USATO_HS4] if has4 else []), "general", "customs",
                 "HS2 (HS4 in ch. 84/85/87)" if has4 else "HS2", "M", sql, p4 + p2)


def us_slices(con: db.Connection, partners: list[str] | str, period: Period, by: str | None) -> dict[str, Slice]:
    """The slice for each flow (US perspective) answering (partners, period, by)."""
    months = period.months()
    single = partners != ALL and len(partners) == 1
    out: dict[str, Slice] = {}
    if period.frequency == "A":
        year = [str(period.year)]
        if by is None and single and covered(con, MONTHLY_TOTALS, "exports", partners, months) \
                and covered(con, MONTHLY_TOTALS, "imports", partners, months, "general"):
            note = "sum of the 12 monthly figures of the revised country series"
            out["exports"] = _slice(con, MONTHLY_TOTALS, "exports", partners, months, "total", "fas", "TOTAL", "M", note)
            out["imports"] = _slice(con, MONTHLY_TOTALS, "imports", partners, months, "general", "customs", "TOTAL", "M", note)
            return out
        if not covered(con, EXPORTS_HS2, "exports", partners, year, "total"):
            if covered(con, EXPORTS_HS2, "exports", ALL, year, "total"):
                who = ", ".join(partners) if partners != ALL else "these partners"
                raise DataNotFoundError(f"no US exports to {who} loaded for {period.text}: {EXPORTS_HS2} has "
                                        f"single countries only (no groups such as EU27)")
            raise DataNotFoundError(f"no US exports by partner loaded for {period.text} "
                                    f"({EXPORTS_HS2} covers annual 2020-2024)")
        out["exports"] = _slice(con, EXPORTS_HS2, "exports", partners, year, "total", "fas", "HS2", "A",
                                extra=" AND product_level = 2")
        if by in (None, "hs2") and covered(con, USATO_HS2, "imports", partners, months, "general"):
            s = _slice(con, USATO_HS2, "imports", partners, months, "general", "customs", "HS2", "M",
                       "sum of 12 months")
            out["imports"] = s
            return out
        src = IMPORTS_HS10 if partners != ALL and covered(con, IMPORTS_HS10, "imports", partners, year) else IMPORTS_HS10_ALL
        if not covered(con, src, "imports", partners, year):
            raise DataNotFoundError(f"no US imports by product loaded for {period.text} "
                                    f"(HS10 detail: 2024; HS2 monthly: 2024-01..2026-03)")
        out["imports"] = _slice(con, src, "imports", partners, year, "consumption", "customs", "HS10", "A",
                                extra=" AND product_level = 10")
        return out
    # monthly
    if not covered(con, MONTHLY_TOTALS, "exports", partners, months):
        raise DataNotFoundError(
            f"no monthly US exports loaded for {period.text} and this partner: monthly exports by partner are loaded "
            f"for Japan only ({MONTHLY_TOTALS}, 2024-2025); annual exports by HS2 cover 2020-2024")
    out["exports"] = _slice(con, MONTHLY_TOTALS, "exports", partners, months, "total", "fas", "TOTAL", "M")
    if by is None and covered(con, MONTHLY_TOTALS, "imports", partners, months, "general"):
        out["imports"] = _slice(con, MONTHLY_TOTALS, "imports", partners, months, "general", "customs", "TOTAL", "M")
    elif covered(con, USATO_HS2, "imports", partners, months, "general"):
        out["imports"] = _usato_hs2_hs4(con, partners, months)
    else:
        raise DataNotFoundError(f"no US imports loaded for {period.text} (monthly HS2 imports cover 2024-01..2026-03)")
    return out


def fetch_rows(con: db.Connection, s: Slice):
    """The slice's rows as an Arrow table (partner, product_code, product_level, period, value)."""
    return db.query(con, s.sql, s.params)
