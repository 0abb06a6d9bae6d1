"""Build the package's dated USMCA claim shares (Canada, Mexico) by GTAP sector, with an HS6 -> GTAP map.

Reads ../shared/data (never copied into the repository) and writes src/tariffscope/data/usmca/:

* ``usmca_shares.csv``: ``set, valid_from, valid_until, gtap_code, CAN, MEX`` -- the share of US imports from
  Canada / Mexico entered claiming USMCA preference (general note 11), by GTAP sector, and the dates each set
  describes (``valid_until`` exclusive). Two sets:

  - ``2024``: claims before the March 2025 exemption of USMCA goods from the fentanyl duties, by sector, as the
    duty collected in 2024 implies them: 1 - Census calculated duty / (MFN ad valorem equivalent x imports for
    consumption) over the sector's lines with an MFN duty (HS10 imports of 2024 from Canada and Mexico; MFN of the
    HTS in force on 2025-01-01, the 2025 basic edition, through the package's AVEs), clipped to [0, 1]. A sector
    with no dutiable line takes its country's figure over all dutiable lines. Before the exemption a claim only
    changed the MFN duty, so this is the share that matters for those dates; it counts every duty-free entry of a
    dutiable line as a claim (other duty-free provisions are few for these two countries). The published country
    totals (about 38% of imports from Canada and 49% from Mexico entered under USMCA in 2024, over all lines,
    duty-free ones included, where a claim saves nothing) are recorded beside them in the provenance, not used.
    Valid until the exemption date.
  - ``post2025``: the Budget Lab at Yale's shares by GTAP sector (Tariff-ETRs model,
    ``resources/usmca_shares.csv``; Census data after the exemption), a secondary source. Valid from the
    exemption date, read from the measure catalogue (``usmca_exempt_from`` of the fentanyl measures,
    headings 9903.01.04 / 9903.01.14: 2025-03-07).

  Each set also has a row ``gtap_code = *``: the country-wide share (for post2025 the sector shares weighted by
  2024 imports from that country), used for a product whose GTAP sector is unknown.
* ``hs6_gtap.csv``: ``hs6, gtap_code`` from the Census import weights (each HS6 maps to one GTAP sector there),
  plus HS4 rows (``hs4`` codes, the sector holding most 2024 imports of that HS4) as a fallback for HS6 codes
  new in later HTS revisions.
* ``provenance.json``: inputs with sha256, outputs with sha256 and row counts, citations, and the cross-check of
  the 2024 country figures against the published dollar totals.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from tariffscope.config import raw_data_dir
from tariffscope.tariffs.measures import load

OUT = REPO / "src" / "tariffscope" / "data" / "usmca"
SHARES = "measures/usmca/usmca_shares_by_gtap_sector.csv"
README = "measures/usmca/README.md"
WEIGHTS = "census/import_weights_hs10_country_2024.csv.gz"
HS10 = "census/hs10_imports_2024_by_partner/{}.parquet"
CENSUS = {"CAN": "1220", "MEX": "2010"}
# 2024 utilization over all lines, country totals (README of measures/usmca: press reports of Census/USITC data):
# recorded for comparison, not used as shares
SHARE_2024 = {"CAN": 0.38, "MEX": 0.49}
CLAIMED_2024_BN, NOT_CLAIMED_2024_BN = 406.7, 509.7
FIRST_DAY = "2024-01-01"  # the 2024 set describes 2024 and the first weeks of 2025, up to the exemption


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exemption_date() -> str:
    """The day USMCA goods became exempt from the fentanyl duties, as the catalogue states it."""
    days = {m.usmca_exempt_from for m in load().measures if m.usmca_exempt_from is not None}
    if len(days) != 1:
        raise SystemExit(f"expected one usmca_exempt_from date in the catalogue, found {sorted(days)}")
    return days.pop().isoformat()


def implied_2024(raw: Path, hs6_sector: pd.Series) -> tuple[dict[str, dict[str, float]], dict]:
    """Per country, the claim share by GTAP sector implied by 2024 calculated duty on dutiable lines."""
    import tempfile

    os.environ["TARIFFSCOPE_HOME"] = tempfile.mkdtemp(prefix="usmca_build_")  # a throwaway warehouse
    from tariffscope.ingest.warehouse import open_warehouse
    from tariffscope.tariffs import hts as hts_mod

    con = open_warehouse()
    rev = hts_mod.revision_in_force(con, dt.date(2025, 1, 1))
    table = hts_mod.mfn_table(con, rev.revision)
    mfn = pd.Series(np.asarray(table.ave, dtype=float), index=pd.Index(np.asarray(table.hts10, dtype=object)))
    out: dict[str, dict[str, float]] = {}
    check: dict = {"mfn_revision": rev.revision}
    for iso, cty in CENSUS.items():
        d = pd.read_parquet(raw / HS10.format(cty))
        d = d[d.COMM_LVL == "HS10"]
        d = d.assign(mfn=d.HS10.map(mfn).fillna(0.0), gtap=d.HS6.map(hs6_sector))
        dut = d[(d.mfn > 0) & (d.imports > 0)]
        statutory = (dut.mfn * dut.imports).groupby(dut.gtap).sum()
        collected = dut.duty.groupby(dut.gtap).sum()
        share = (1.0 - collected / statutory).clip(0.0, 1.0)
        country = float(min(max(1.0 - dut.duty.sum() / (dut.mfn * dut.imports).sum(), 0.0), 1.0))
        out[iso] = {**{g: round(float(v), 6) for g, v in share.items()}, "*": round(country, 6)}
        check[iso] = {"imports_bn": round(float(d.imports.sum() / 1e9), 2), "calculated_duty_bn": round(float(d.duty.sum() / 1e9), 3),
                      "dutiable_imports_bn": round(float(dut.imports.sum() / 1e9), 2),
                      "statutory_mfn_on_dutiable_bn": round(float((dut.mfn * dut.imports).sum() / 1e9), 3),
                      "implied_claim_share_dutiable_lines": round(country, 4)}
    con.close()
    return out, check


def main() -> None:
    raw = raw_data_dir()
    post = pd.read_csv(raw / SHARES)
    post = post.rename(columns={"canada": "CAN", "mexico": "MEX"})
    w = pd.read_csv(raw / WEIGHTS, dtype={"hs10": str, "cty_code": str})
    hs6 = w[["hs10", "gtap_code"]].drop_duplicates().assign(hs6=lambda d: d.hs10.str[:6])
    per6 = hs6.groupby("hs6").gtap_code.unique()
    if (per6.map(len) > 1).any():
        raise SystemExit("an HS6 maps to several GTAP sectors in the import weights: the HS6 map would be ambiguous")
    w["hs4"] = w.hs10.str[:4]
    by4 = w.groupby(["hs4", "gtap_code"]).imports.sum().reset_index().sort_values(["hs4", "imports"], ascending=[True, False])
    hs4 = by4.drop_duplicates("hs4")[["hs4", "gtap_code"]]
    unknown = sorted(set(w.gtap_code) - set(post.gtap_code))
    if unknown:
        raise SystemExit(f"GTAP sectors in the weights without a published share: {unknown}")
    start = exemption_date()
    # country-wide post2025 share: sector shares weighted by 2024 imports from the country
    wide = {}
    imports_bn = {}
    for iso, cty in CENSUS.items():
        v = w[w.cty_code == cty].groupby("gtap_code").imports.sum()
        s = post.set_index("gtap_code")[iso].reindex(v.index)
        wide[iso] = float((v * s).sum() / v.sum())
        imports_bn[iso] = float(v.sum() / 1e9)
    y24, check24 = implied_2024(raw, per6.map(lambda v: v[0]))
    rows = [{"set": "2024", "valid_from": FIRST_DAY, "valid_until": start, "gtap_code": g,
             **{iso: y24[iso].get(g, y24[iso]["*"]) for iso in CENSUS}} for g in [*post.gtap_code, "*"]]
    rows += [{"set": "post2025", "valid_from": start, "valid_until": "", "gtap_code": r.gtap_code, "CAN": r.CAN, "MEX": r.MEX}
             for r in post.itertuples()]
    rows.append({"set": "post2025", "valid_from": start, "valid_until": "", "gtap_code": "*",
                 "CAN": round(wide["CAN"], 9), "MEX": round(wide["MEX"], 9)})
    OUT.mkdir(parents=True, exist_ok=True)
    shares = pd.DataFrame(rows)
    shares.to_csv(OUT / "usmca_shares.csv", index=False, lineterminator="\n")
    mapping = pd.concat([pd.DataFrame({"code": per6.index, "gtap_code": [v[0] for v in per6]}),
                         hs4.rename(columns={"hs4": "code"})]).sort_values("code")
    mapping.to_csv(OUT / "hs_gtap.csv", index=False, lineterminator="\n")
    claimed = SHARE_2024["CAN"] * imports_bn["CAN"] + SHARE_2024["MEX"] * imports_bn["MEX"]
    prov = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "script": "scripts/build_usmca_shares.py",
        "outputs": {f: {"sha256": _sha256(OUT / f), "rows": int(len(d))}
                    for f, d in (("usmca_shares.csv", shares), ("hs_gtap.csv", mapping))},
        "inputs": [{"key": k, "file": f, "sha256": _sha256(raw / f)}
                   for k, f in (("yale_usmca_shares", SHARES), ("usmca_readme", README), ("census_import_weights_2024", WEIGHTS),
                                ("census_hs10_imports_2024_CAN", HS10.format("1220")),
                                ("census_hs10_imports_2024_MEX", HS10.format("2010")))],
        "sets": {
            "2024": {"valid_from": FIRST_DAY, "valid_until": start, "label": "implied by Census 2024 calculated duty",
                     "source": "implied by Census 2024 calculated duty: 1 - duty / (MFN AVE x imports for consumption) over "
                               "each sector's dutiable HS10 lines (census/hs10_imports_2024_by_partner, Canada 1220, Mexico "
                               "2010; MFN of the 2025 basic HTS); the tariff project's own derivation",
                     "implied": check24,
                     "published_country_totals": {"CAN": SHARE_2024["CAN"], "MEX": SHARE_2024["MEX"],
                                                  "note": "2024 USMCA utilization over all imports, duty-free lines included, "
                                                          "reported from Census/USITC data (about 38% of imports from Canada, "
                                                          "49% from Mexico; $406.7 bn claimed, $509.7 bn not), as recorded in "
                                                          "measures/usmca/README.md; not used as shares (a claim on a duty-free "
                                                          "line saves nothing, so these understate claims where duty is at stake)"}},
            "post2025": {"valid_from": start, "valid_until": None, "label": "Budget Lab at Yale, Tariff-ETRs usmca_shares",
                         "source": "The Budget Lab at Yale, Tariff-ETRs model, resources/usmca_shares.csv (USMCA claim shares "
                                   "by GTAP sector from Census import data after the March 2025 exemption); a secondary source",
                         "country_wide_weighted_by_2024_imports": {k: round(v, 4) for k, v in wide.items()}},
        },
        "valid_from_note": f"{start}: usmca_exempt_from of the fentanyl measures in the catalogue (9903.01.04 Mexico, "
                           "9903.01.14 Canada: 'articles entered free of duty under the terms of general note 11')",
        "cross_check_2024": {
            "imports_2024_bn": {k: round(v, 1) for k, v in imports_bn.items()},
            "claimed_bn_from_country_shares": round(claimed, 1),
            "claimed_bn_published": CLAIMED_2024_BN,
            "share_of_both_published": round(CLAIMED_2024_BN / (CLAIMED_2024_BN + NOT_CLAIMED_2024_BN), 4),
        },
        "map": "hs_gtap.csv: 6-digit rows from the Census import weights (one GTAP sector per HS6); 4-digit rows: the "
               "sector with most 2024 imports in that HS4, for HS6 codes absent from the weights",
    }
    (OUT / "provenance.json").write_text(json.dumps(prov, indent=2) + "\n")
    print(json.dumps(prov["sets"]["post2025"]["country_wide_weighted_by_2024_imports"]), json.dumps(check24))


if __name__ == "__main__":
    main()
