"""Ad valorem equivalents of MFN rates: one parsed rate at a unit value (``ave``) and every HTS10 line of a
revision from the warehouse's trade flows (``mfn_ave_table``), with the basis of each AVE."""
from __future__ import annotations

from collections.abc import Sequence

from tariffscope.ingest.rate_text import ParsedRate, parse_rate

# --- ad valorem equivalents ----------------------------------------------------------------------
#
# A specific duty s (USD per unit) on goods worth v per unit is s / v of their value. The unit value
# comes, in order of preference, from:
#   unit_value_hs10   quantity and value of the line itself (trade_flows rows with a quantity in the
#                     rate's unit, e.g. DataWeb or Comtrade quantities);
#   realized_hs10     the line's 2024 calculated duty / customs value from partners that paid the
#                     column-1 general rate (MFN_REFERENCE_PARTNERS), which is the AVE of the whole
#                     rate directly (USITC computes its AVEs the same way: calculated duty / value);
#   unit_value_hs8 / unit_value_hs6
#                     the average unit value of the HTS8 / HS6 group in the same unit: from quantities,
#                     or implied by the realized duty of its specific-rate lines (q = (duty - av*v) / s);
#   no_unit_value     none of these: the AVE is left empty (the ad valorem part is in ``ad_valorem``).
# Rates with a 'partial base' (an ad valorem part on a component, '6% on the case'; a specific part on a
# content quantity, '1.7¢/kg on lead content') take only the realized route: no unit value of the goods
# converts them (else basis partial_base_no_realized_duty).

# Partners taken to pay the column-1 general rate in 2024: no free-trade agreement with the US, no
# preference program (AGOA, CBI; GSP lapsed since 2021), no column-2 or Section 301 duties, and not
# Japan (its 2020 agreement cuts many agricultural rates, which are the specific-rate lines).
# EU27 is used as the aggregate (its members are not counted twice).
MFN_REFERENCE_PARTNERS: tuple[str, ...] = (
    "EU27", "GBR", "CHE", "NOR", "TUR", "IND", "PAK", "BGD", "LKA", "THA", "VNM", "KHM", "MYS", "IDN", "PHL",
    "HKG", "TWN", "NZL", "BRA", "ARG", "ECU", "SAU", "ARE", "KWT", "IRQ", "DZA", "EGY",
)

# Quantity units as trade statistics write them -> the rate-text unit names of ``parse_rate``.
_QUANTITY_UNITS = {
    "kg": "kg", "kgs": "kg", "kilograms": "kg", "kilogram": "kg", "no": "each", "no.": "each", "number": "each",
    "u": "each", "units": "each", "pieces": "each", "pcs": "each", "l": "liter", "liters": "liter", "litres": "liter",
    "liter": "liter", "doz": "doz", "doz.": "doz", "dozens": "doz", "dozen": "doz", "pr": "pr", "pairs": "pr",
    "prs": "pr", "m2": "m2", "square meters": "m2", "sq m": "m2", "m3": "m3", "cubic meters": "m3", "t": "t",
    "metric tons": "t", "gross": "gross", "bbl": "bbl", "barrels": "bbl", "head": "head", "pf.liter": "pf.liter",
    "proof liters": "pf.liter", "pf.l": "pf.liter", "ths": "1000", "thousands": "1000", "thousand units": "1000",
}


def quantity_unit_to_rate_unit(unit: str | None) -> str | None:
    """'kilograms' -> 'kg', 'number' -> 'each', 'liters' -> 'liter' (None if unknown)."""
    if not unit:
        return None
    return _QUANTITY_UNITS.get(" ".join(str(unit).lower().split()))


def ave(parsed: ParsedRate, unit_value: float | None = None, quantity: float | None = None,
        value: float | None = None) -> tuple[float | None, str]:
    """Ad valorem equivalent (fraction) of a parsed rate and the basis it rests on.

    ``unit_value`` is USD per unit of ``parsed.specific_unit``; or give ``quantity`` and ``value``.
    A second specific part in another unit cannot be converted with one unit value: it is left out
    and the basis says so.
    """
    if parsed.form == "free":
        return 0.0, "free"
    if parsed.form == "ad_valorem":
        return parsed.ad_valorem, "ad_valorem"
    if parsed.form == "subheading_plus":
        return parsed.ad_valorem, "add_on_to_applicable_subheading"
    # specific and compound forms carry a specific rate; a hand-built one without it has nothing to convert
    if parsed.form in ("none", "unparsed") or parsed.specific_rate is None:
        return None, parsed.form
    if unit_value is None and quantity and value is not None and quantity > 0:
        unit_value = value / quantity
    if unit_value is None or not unit_value > 0:
        return None, "no_unit_value"
    total = (parsed.ad_valorem or 0.0) + parsed.specific_rate / unit_value
    basis = "unit_value"
    if parsed.specific_rate_2 is not None:
        if parsed.specific_unit_2 == parsed.specific_unit:
            total += parsed.specific_rate_2 / unit_value
        else:
            basis += f"; second specific part per {parsed.specific_unit_2} not converted"
    return total, basis


_AVE_SQL = """
WITH lines AS (
    SELECT hts_code, level, rate_form, ad_valorem, specific_rate, specific_unit, specific_rate_2, specific_unit_2,
           general_text, coalesce(list_contains($partial_texts, general_text), false) AS partial
    FROM hts_lines WHERE revision = $rev
),
kids AS (SELECT DISTINCT substr(hts_code, 1, 8) AS h8 FROM lines WHERE level = 10),
leaves AS (   -- HTS10 leaves: the 10-digit lines, and 8-digit lines with none under them (as code || '00',
              -- e.g. the watches of ch. 91, which Census reports under 10-digit suffixes of the 8-digit code)
    SELECT hts_code AS hts10, hts_code AS own, hts_code AS trade_key, 10 AS key_len FROM lines WHERE level = 10
    UNION ALL
    SELECT l.hts_code || '00', l.hts_code, l.hts_code, 8 FROM lines l LEFT JOIN kids k ON k.h8 = l.hts_code
    WHERE l.level = 8 AND k.h8 IS NULL
),
l10 AS (   -- HTS10 leaves with the rate they take (own text, else the 8/6/4-digit line above)
    SELECT lv.hts10, lv.trade_key, lv.key_len,
           coalesce(CASE WHEN c.rate_form <> 'none' THEN c.hts_code END,
                    CASE WHEN p8.rate_form <> 'none' THEN p8.hts_code END,
                    CASE WHEN p6.rate_form <> 'none' THEN p6.hts_code END,
                    CASE WHEN p4.rate_form <> 'none' THEN p4.hts_code END) AS rate_from
    FROM leaves lv
    JOIN lines c ON c.hts_code = lv.own
    LEFT JOIN lines p8 ON p8.hts_code = substr(c.hts_code, 1, 8) AND c.level > 8
    LEFT JOIN lines p6 ON p6.hts_code = substr(c.hts_code, 1, 6)
    LEFT JOIN lines p4 ON p4.hts_code = substr(c.hts_code, 1, 4)
    WHERE substr(lv.hts10, 1, 2) NOT IN ('98', '99')
),
r AS (
    SELECT l10.hts10, l10.trade_key, l10.key_len, l10.rate_from, coalesce(s.rate_form, 'none') AS rate_form,
           s.ad_valorem, s.specific_rate, s.specific_unit, s.specific_rate_2, s.specific_unit_2, s.general_text,
           coalesce(s.partial, false) AS partial
    FROM l10 LEFT JOIN lines s ON s.hts_code = l10.rate_from
),
realized_codes AS (   -- 2024 calculated duty and customs value from partners paying the general rate
    SELECT product_code, sum(value) AS value, sum(calculated_duty) AS duty
    FROM trade_flows
    WHERE source = $source AND flow = 'imports' AND product_level = 10 AND period = $period
      AND calculated_duty IS NOT NULL AND list_contains($partners, partner)
    GROUP BY 1
),
realized AS (   -- two equi-joins (10-digit leaves; 8-digit leaves over their suffixes) keep it a hash join
    SELECT hts10, sum(value) AS value, sum(duty) AS duty FROM (
        SELECT r.hts10, z.value, z.duty FROM r JOIN realized_codes z ON z.product_code = r.trade_key
        WHERE r.key_len = 10
        UNION ALL
        SELECT r.hts10, z.value, z.duty FROM r JOIN realized_codes z ON substr(z.product_code, 1, 8) = r.trade_key
        WHERE r.key_len = 8)
    GROUP BY 1 HAVING sum(value) > 0
),
qty_codes AS (   -- quantities in the rate's unit, from any source that has them for the year (a ratio,
                 -- so partners counted twice, e.g. EU27 and its members, weigh more but do not bias it)
    SELECT product_code, u.rate_unit, sum(value) AS value, sum(quantity) AS quantity
    FROM trade_flows t JOIN qunits u ON u.quantity_unit = t.quantity_unit
    WHERE flow = 'imports' AND product_level = 10 AND substr(period, 1, 4) = $period AND quantity > 0 AND value > 0
    GROUP BY 1, 2
),
qty AS (
    SELECT hts10, rate_unit, sum(value) AS value, sum(quantity) AS quantity FROM (
        SELECT r.hts10, q.rate_unit, q.value, q.quantity FROM r JOIN qty_codes q ON q.product_code = r.trade_key
        WHERE r.key_len = 10
        UNION ALL
        SELECT r.hts10, q.rate_unit, q.value, q.quantity FROM r JOIN qty_codes q
        ON substr(q.product_code, 1, 8) = r.trade_key WHERE r.key_len = 8)
    GROUP BY 1, 2
),
uv10 AS (   -- unit values by HTS10: observed quantities first, else implied by the realized duty
    SELECT r.hts10, r.specific_unit AS unit,
           CASE WHEN q.quantity > 0 THEN q.value / q.quantity END AS uv_obs,
           CASE WHEN q.quantity IS NULL AND r.specific_rate_2 IS NULL AND r.specific_rate > 0
                 AND z.duty - coalesce(r.ad_valorem, 0) * z.value > 0
                THEN z.value / ((z.duty - coalesce(r.ad_valorem, 0) * z.value) / r.specific_rate) END AS uv_implied,
           coalesce(q.value, z.value) AS value
    FROM r
    LEFT JOIN qty q ON q.hts10 = r.hts10 AND q.rate_unit = r.specific_unit
    LEFT JOIN realized z ON z.hts10 = r.hts10
    WHERE r.specific_rate IS NOT NULL AND NOT r.partial   -- content/component bases: no unit value applies
),
g8 AS (
    SELECT substr(hts10, 1, 8) AS g, unit, sum(value) / sum(value / coalesce(uv_obs, uv_implied)) AS uv
    FROM uv10 WHERE coalesce(uv_obs, uv_implied) > 0 GROUP BY 1, 2
),
g6 AS (
    SELECT substr(hts10, 1, 6) AS g, unit, sum(value) / sum(value / coalesce(uv_obs, uv_implied)) AS uv
    FROM uv10 WHERE coalesce(uv_obs, uv_implied) > 0 GROUP BY 1, 2
)
SELECT r.hts10, r.rate_from, r.rate_form, r.general_text, r.ad_valorem, r.specific_rate, r.specific_unit,
       r.specific_rate_2, r.specific_unit_2, r.partial,
       u.uv_obs, z.value AS realized_value, z.duty AS realized_duty, g8.uv AS uv_hs8, g6.uv AS uv_hs6
FROM r
LEFT JOIN uv10 u ON u.hts10 = r.hts10
LEFT JOIN realized z ON z.hts10 = r.hts10
LEFT JOIN g8 ON g8.g = substr(r.hts10, 1, 8) AND g8.unit = r.specific_unit
LEFT JOIN g6 ON g6.g = substr(r.hts10, 1, 6) AND g6.unit = r.specific_unit
ORDER BY r.hts10
"""


def mfn_ave_table(con, revision: str, year: int = 2024, source: str = "census_hs10_imports_2024",
                  partners: Sequence[str] = MFN_REFERENCE_PARTNERS):
    """MFN ad valorem equivalents of every HTS10 line of a revision (chapters 01-97), with their basis.

    Returns a pyarrow Table: ``hts10, rate_from, rate_form, general_text, ad_valorem, specific_rate,
    specific_unit, specific_rate_2, specific_unit_2, unit_value, unit_value_level, specific_ave, ave,
    ave_basis``. ``ave`` is the whole column-1 general rate as a fraction of customs value (ad valorem
    part + specific parts); ``ave_basis`` is one of free, ad_valorem, unit_value_hs10, realized_hs10,
    unit_value_hs8, unit_value_hs6, no_unit_value, unparsed, none (see the comment above
    ``MFN_REFERENCE_PARTNERS``). ``source`` names the trade_flows rows with calculated duty used for the
    realized rates; ``partners`` the origins taken to pay the general rate.
    """
    import numpy as np
    import pyarrow as pa

    units = sorted(_QUANTITY_UNITS.items())
    con.register("qunits", pa.table({"quantity_unit": [u for u, _ in units] + [u.upper() for u, _ in units],
                                     "rate_unit": [r for _, r in units] * 2}))
    # 'partial base' is read from the text itself (not the stored parse_note), so lines ingested with an
    # older parser are treated the same
    texts = [r[0] for r in con.execute("SELECT DISTINCT general_text FROM hts_lines WHERE revision = ? AND general_text IS NOT NULL",
                                       [revision]).fetchall()]
    partial_texts = [t_ for t_ in texts if parse_rate(t_).partial_base]
    try:
        rel = con.sql(
            _AVE_SQL,
            params={"rev": revision, "source": source, "period": str(year), "partners": list(partners),
                    "partial_texts": partial_texts},
        )
        t = rel.to_arrow_table()
    finally:
        con.unregister("qunits")
    if t.num_rows == 0:
        from tariffscope.errors import DataNotFoundError

        raise DataNotFoundError(f"no HTS10 lines for revision {revision} in the warehouse")
    n = t.num_rows

    def col(name: str) -> np.ndarray:  # DOUBLE columns: float64 with nan for NULL
        return t.column(name).to_numpy(zero_copy_only=False).astype(float)

    form = t.column("rate_form").to_numpy(zero_copy_only=False).astype(object)
    av = col("ad_valorem")
    s1, s2 = col("specific_rate"), col("specific_rate_2")
    u1 = t.column("specific_unit").to_numpy(zero_copy_only=False).astype(object)
    u2 = t.column("specific_unit_2").to_numpy(zero_copy_only=False).astype(object)
    uv_obs, uv8, uv6 = col("uv_obs"), col("uv_hs8"), col("uv_hs6")
    rz_v, rz_d = col("realized_value"), col("realized_duty")

    partial = t.column("partial").to_numpy(zero_copy_only=False).astype(bool)  # never NULL (coalesced)
    has_spec = ~np.isnan(s1)
    needs = has_spec | partial           # lines whose AVE is not just the ad valorem rate
    convertible = has_spec & ~partial    # specific parts a unit value of the goods can convert
    av0 = np.where(np.isnan(av), 0.0, av)
    same_unit_2 = ~np.isnan(s2) & (u2 == u1)
    s_total = np.where(has_spec, s1 + np.where(same_unit_2, s2, 0.0), np.nan)

    uv = np.full(n, np.nan)
    level = np.full(n, None, dtype=object)
    ave_v = np.full(n, np.nan)
    basis = np.full(n, None, dtype=object)
    # 1. observed HTS10 unit values
    m = convertible & (uv_obs > 0)
    uv[m], level[m], basis[m] = uv_obs[m], "hs10", "unit_value_hs10"
    # 2. realized duty of the line itself (AVE directly); for a convertible line only where the duty exceeds
    #    the ad valorem part (otherwise part of the trade did not pay the rate)
    paid = np.where(partial, rz_d > 0, rz_d - av0 * rz_v > 0)
    m2 = needs & np.isnan(uv) & (rz_v > 0) & paid
    ave_v[m2], basis[m2] = rz_d[m2] / rz_v[m2], "realized_hs10"
    # 3./4. group unit values
    for arr_, name in ((uv8, "hs8"), (uv6, "hs6")):
        m3 = convertible & np.isnan(uv) & (basis == None) & (arr_ > 0)  # noqa: E711 - numpy elementwise
        uv[m3], level[m3], basis[m3] = arr_[m3], name, f"unit_value_{name}"
    with np.errstate(invalid="ignore", divide="ignore"):
        conv = convertible & (uv > 0)
        ave_v[conv] = av0[conv] + s_total[conv] / uv[conv]
    spec_ave = np.where(has_spec & ~np.isnan(ave_v), ave_v - av0, np.nan)
    spec_ave[partial] = np.nan
    basis[convertible & (basis == None)] = "no_unit_value"  # noqa: E711 - numpy elementwise
    basis[partial & (basis == None)] = "partial_base_no_realized_duty"  # noqa: E711 - numpy elementwise
    part2 = convertible & ~np.isnan(s2) & ~same_unit_2 & (basis != "realized_hs10")
    basis[part2] = [f"{b}; second specific part per {u} not converted" for b, u in zip(basis[part2], u2[part2], strict=True)]
    for f in ("free", "ad_valorem"):
        mf = (form == f) & ~needs
        ave_v[mf], basis[mf] = av0[mf], f
    for f in ("none", "unparsed", "subheading_plus"):
        mf = (form == f) & (basis == None)  # noqa: E711 - numpy elementwise
        basis[mf] = f

    def arr(x: np.ndarray) -> pa.Array:  # nan -> NULL
        return pa.array(x, pa.float64(), from_pandas=True)

    out = t.select(["hts10", "rate_from", "rate_form", "general_text", "ad_valorem", "specific_rate", "specific_unit",
                    "specific_rate_2", "specific_unit_2"])
    out = out.append_column("unit_value", arr(uv)).append_column("unit_value_level", pa.array(level.tolist(), pa.string()))
    out = out.append_column("specific_ave", arr(spec_ave)).append_column("ave", arr(ave_v))
    out = out.append_column("ave_basis", pa.array(basis.tolist(), pa.string()))
    return out
