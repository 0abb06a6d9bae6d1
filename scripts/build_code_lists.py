#!/usr/bin/env python
"""Build the compact code lists shipped in ``src/tariffscope/codes/data/`` from the raw sources.

Sources (recorded in ``countries_sources.json`` beside the output):

* ``census/census_country_codes.txt``   Census Schedule C (code, name, ISO2) - the list of Census codes;
* ``census/census_to_iso3.csv`` and ``census/census_country_mapping_frbatl.csv`` - Census code -> ISO3,
  used to cross-check the ISO2 -> ISO3 mapping (any disagreement stops the build);
* ``census/japan_customs_country_codes.csv`` - Japan Customs codes, matched to ISO3 by country name;
* ``country_converter`` (its packaged ``country_data.tsv``): ISO3, ISO2, UN M49, short/official names,
  name regexes and EU-27 membership;
* ``measures/yale_tracker_lists/s232_auto_parts.txt`` (+ ``s232_auto_parts_applicability.csv``) and
  ``measures/tradewartracker_lists/auto-tariffs.csv``: the Section 232 auto parts list (note 33(g)),
  for the ``automobile_parts`` rows of ``sector_map.csv``; the other sector rows are the HS chapter and
  heading rules written below (``SECTOR_RULES``), checked against the HTS text;
* ``hts/hts_*.json.gz``: the un-numbered header rows of each revision (``hts_headers.csv.gz``), which
  the warehouse's ``hts_lines`` does not keep, for full descriptions.

The package reads only the derived ``countries.csv`` at run time, never the raw files.

Usage: ``.venv/bin/python scripts/build_code_lists.py [--raw DIR]``
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import re
import sys
from pathlib import Path

import country_converter
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "src" / "tariffscope" / "codes" / "data"

# Census ISO2 codes that are not ISO 3166 (Census Schedule C uses its own for these).
CENSUS_ISO2_FIXES = {"KV": "XKX", "GZ": "PSE", "WE": "PSE"}
# Census codes that are a second code of an ISO3 already having a primary one.
CENSUS_SECONDARY = {"5082": "PSE"}  # Gaza Strip; West Bank (5083) is the primary code of PSE
# Extra spellings people type (normalised like names: lower case, punctuation dropped).
EXTRA_ALIASES = {
    "GBR": ["uk", "u k", "great britain", "britain", "england", "scotland", "wales", "northern ireland"],
    "USA": ["us", "u s", "u s a", "america", "united states of america"],
    "KOR": ["korea", "korea south", "south korea", "republic of korea", "korea republic of", "korea rep"],
    "PRK": ["korea north", "north korea"],
    "CHN": ["prc", "mainland china"],
    "TWN": ["chinese taipei"],
    "RUS": ["russian federation"],
    "VNM": ["vietnam", "viet nam"],
    "CZE": ["czechia", "czech republic"],
    "TUR": ["turkiye", "turkey"],
    "NLD": ["holland", "the netherlands"],
    "HKG": ["hong kong sar"],
}
# Japan Customs rows that are territories or special areas without their own ISO3 row here.
JAPAN_SKIP_WORDS = ("azores", "canary", "ceuta", "antilles", "french west indies", "other australian",
                    "american oceania", "for order", "unknown", "bonded", "british antarctic")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def norm(text: str) -> str:
    """Same normalisation as ``tariffscope.codes.countries._norm`` (kept in step by a test)."""
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\bthe\b", " ", text)
    return " ".join(text.split())


def read_census_schedule_c(path: Path) -> pd.DataFrame:
    rows = []
    for line in path.read_text(encoding="latin-1").splitlines():
        m = re.match(r"^(\d{4})\s+\|\s+(.*?)\s*\|\s*([A-Z]{2})\s*$", line)
        if m:
            rows.append({"census_code": m.group(1), "census_name": m.group(2).strip(), "census_iso2": m.group(3)})
        elif re.match(r"^\d{4}\s+\|", line):  # a truncated long name ('...(formerly Za|rCD')
            m = re.match(r"^(\d{4})\s+\|\s+(.*)\|\s*r?([A-Z]{2})\s*$", line)
            if not m:
                raise SystemExit(f"{path}: cannot read line {line!r}")
            name = re.sub(r"\s*\(formerly.*$", "", m.group(2)).strip()
            rows.append({"census_code": m.group(1), "census_name": name, "census_iso2": m.group(3)})
    return pd.DataFrame(rows)


# HS prefix -> sector (longest prefix wins at lookup). Chapter/heading rules; the auto parts rows come
# from the Section 232 list. Light trucks: the "G.V.W. not exceeding 5 metric tons" subheadings of 8704
# (HTS 8704.21, .31, .41, .51) and 8704.60 (electric, no weight split; on the Section 232 autos list).
SECTOR_RULES: list[tuple[str, str, str]] = (
    [(f"{c:02d}", "agriculture", "HS ch. 01-24 (live animals, food, beverages, tobacco)") for c in range(1, 25)]
    + [
        ("27", "energy", "HS ch. 27 mineral fuels, oils"),
        ("30", "pharmaceuticals", "HS ch. 30 pharmaceutical products"),
        ("72", "steel", "HS ch. 72 iron and steel (Section 232 steel, note 16)"),
        ("73", "steel", "HS ch. 73 articles of iron or steel (Section 232 steel derivatives)"),
        ("74", "copper", "HS ch. 74 copper and articles thereof"),
        ("76", "aluminum", "HS ch. 76 aluminum and articles thereof (Section 232 aluminum, note 19)"),
        ("84", "machinery", "HS ch. 84 machinery (rest)"),
        ("8411", "aircraft", "turbojets, turbopropellers and other gas turbines (aircraft engines)"),
        ("85", "electronics", "HS ch. 85 electrical machinery and equipment (rest)"),
        ("8541", "semiconductors", "semiconductor devices, LEDs, photovoltaic cells"),
        ("8542", "semiconductors", "electronic integrated circuits"),
        ("87", "other_vehicles", "HS ch. 87 rest: tractors, buses, heavy trucks, motorcycles, trailers"),
        ("8703", "passenger_vehicles", "motor cars and other passenger vehicles (Section 232 autos)"),
        ("870421", "light_trucks", "goods vehicles, diesel, G.V.W. not exceeding 5 t"),
        ("870431", "light_trucks", "goods vehicles, spark-ignition, G.V.W. not exceeding 5 t"),
        ("870441", "light_trucks", "goods vehicles, diesel hybrid, G.V.W. not exceeding 5 t"),
        ("870451", "light_trucks", "goods vehicles, spark-ignition hybrid, G.V.W. not exceeding 5 t"),
        ("870460", "light_trucks", "goods vehicles, electric only (no weight split in HS; Section 232 autos list)"),
        ("8708", "automobile_parts", "parts and accessories of motor vehicles of 8701-8705 (whole heading)"),
        ("8802", "aircraft", "aircraft, spacecraft"),
        ("8803", "aircraft", "parts of aircraft (HS 2017 heading)"),
        ("8806", "aircraft", "unmanned aircraft"),
        ("8807", "aircraft", "parts of aircraft"),
    ]
)
# Known typos in the secondary auto-parts list (codes that exist in no HTS revision) -> the HTS code meant.
AUTO_PARTS_TYPOS = {"86122020": "85122020", "86122040": "85122040", "882721": "852721"}


def build_sector_map(raw: Path) -> tuple[list[dict[str, str]], dict]:
    yale = raw / "measures" / "yale_tracker_lists" / "s232_auto_parts.txt"
    appl = raw / "measures" / "yale_tracker_lists" / "s232_auto_parts_applicability.csv"
    twt = raw / "measures" / "tradewartracker_lists" / "auto-tariffs.csv"
    yale_codes = [ln.strip() for ln in yale.read_text().splitlines() if ln.strip()[:1].isdigit()]
    twt_codes = [ln.strip() for ln in twt.read_text().splitlines() if ln.strip()[:1].isdigit()]
    zero_share = set()
    with appl.open() as fh:
        for r in csv.DictReader(ln for ln in fh if not ln.startswith("#")):
            if float(r["applicability_share"]) == 0:
                zero_share.add(r["hts_prefix"])
    vehicles = ("8703", "870421", "870431", "870441", "870451", "870460")
    parts: dict[str, str] = {}
    for code in yale_codes:
        if code in zero_share:
            continue
        parts[code] = "Section 232 auto parts (note 33(g)); Yale s232_auto_parts.txt"
    for code in twt_codes:
        fixed = AUTO_PARTS_TYPOS.get(code, code)
        if fixed.startswith(vehicles):
            continue
        if fixed in parts:
            parts[fixed] += " + tradewartracker auto-tariffs.csv"
        else:
            note = "Section 232 auto parts; tradewartracker auto-tariffs.csv"
            parts[fixed] = note + (f" (listed as {code}, a typo)" if fixed != code else "")
    rows = {p: {"prefix": p, "sector": sec, "note": note} for p, sec, note in SECTOR_RULES}
    for code, note in parts.items():
        if code in rows and rows[code]["sector"] != "automobile_parts":
            raise SystemExit(f"auto part {code} collides with rule {rows[code]}")
        rows.setdefault(code, {"prefix": code, "sector": "automobile_parts", "note": note})
    meta = {"auto_parts_prefixes": len(parts), "excluded_zero_applicability": sorted(zero_share),
            "typos_fixed": AUTO_PARTS_TYPOS,
            "sources": {str(p.relative_to(raw)): sha256(p) for p in (yale, appl, twt)}}
    return sorted(rows.values(), key=lambda r: r["prefix"]), meta


def _rev_key(name: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})_(?:basic|rev_(\d+))", name)
    return (int(m.group(1)), int(m.group(2) or 0))


def _ranges(idx: list[int]) -> str:
    """[0,1,2,5,6] -> '0-2|5-6'"""
    out, start, prev = [], idx[0], idx[0]
    for i in idx[1:] + [None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
        if i is not None:
            start = prev = i
    return "|".join(out)


def build_hts_headers(raw: Path) -> dict:
    """The un-numbered header rows of every HTS revision ('Other:', 'New:', ...), which the warehouse
    does not store, keyed by the numbered line that follows them; used to give full descriptions."""
    import gzip

    files = sorted((raw / "hts").glob("hts_*.json.gz"),
                   key=lambda p: _rev_key(p.name.removeprefix("hts_").removesuffix(".json.gz")))
    revs = [p.name.removeprefix("hts_").removesuffix(".json.gz") for p in files]
    seen: dict[tuple[str, int, int, str], list[int]] = {}
    for ri, path in enumerate(files):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
        pending: list[tuple[int, str]] = []
        for x in doc:
            code = (x.get("htsno") or "").replace(".", "")
            if not code:
                pending.append((int(x.get("indent") or 0), " ".join(re.sub(r"<[^>]*>", "", x.get("description") or "").split())))
                continue
            for order, (indent, desc) in enumerate(pending):
                seen.setdefault((code, order, indent, desc), []).append(ri)
            pending = []
    out = OUT_DIR / "hts_headers.csv.gz"
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["next_code", "order", "indent", "description", "revisions"])
    for (code, order, indent, desc), ris in sorted(seen.items()):
        w.writerow([code, order, indent, desc, _ranges(ris)])
    with open(out, "wb") as raw_fh, gzip.GzipFile(fileobj=raw_fh, mode="wb", mtime=0) as gz:  # reproducible bytes
        gz.write(buf.getvalue().encode("utf-8"))
    meta = {"output": out.name, "rows": len(seen), "revisions": revs,
            "note": "revisions column: index ranges into 'revisions'",
            "sources": {f"hts/{p.name}": sha256(p) for p in files}, "build_date": dt.date.today().isoformat()}
    (OUT_DIR / "hts_headers_sources.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out} ({len(seen)} header rows over {len(revs)} revisions)")
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args(argv)
    census_dir = args.raw / "census"

    coco_tsv = Path(country_converter.__file__).with_name("country_data.tsv")
    coco = pd.read_csv(coco_tsv, sep="\t", keep_default_na=False, dtype=str)
    coco = coco[coco["ISO3"] != ""].copy()
    # The tsv holds regexes for two ISO2 codes ('^GB$|^UK$', '^GR$|^EL$'): keep the ISO 3166 code.
    coco["ISO2"] = [re.sub(r"^\^([A-Z]{2})\$.*$", r"\1", x) for x in coco["ISO2"]]
    coco["m49"] = [u if u else n for u, n in zip(coco["UNcode"], coco["ISOnumeric"], strict=True)]
    coco["m49"] = [str(int(x)).zfill(3) if x else "" for x in coco["m49"]]
    iso2_to_iso3 = dict(zip(coco["ISO2"], coco["ISO3"], strict=True))

    sched = read_census_schedule_c(census_dir / "census_country_codes.txt")
    sched["iso3"] = [CENSUS_ISO2_FIXES.get(i2) or iso2_to_iso3.get(i2, "") for i2 in sched["census_iso2"]]
    missing = sched[sched["iso3"] == ""]
    if len(missing):
        raise SystemExit(f"Census codes without ISO3: {missing.to_dict('records')}")

    # Cross-check against the two published Census -> ISO3 mappings.
    checks = {}
    for fname, code_col, iso_col in [("census_to_iso3.csv", "cty_code", "iso3"),
                                     ("census_country_mapping_frbatl.csv", "CTY_CODE", "ISO3")]:
        df = pd.read_csv(census_dir / fname, dtype=str, keep_default_na=False)
        df = df[df[code_col] != ""].rename(columns={code_col: "code", iso_col: "published_iso3"})
        merged = df.merge(sched, left_on="code", right_on="census_code", how="left")
        bad = merged[merged["iso3"] != merged["published_iso3"]]
        if len(bad):
            raise SystemExit(f"{fname} disagrees with Schedule C + ISO2: {bad[['code', 'published_iso3', 'iso3']].to_dict('records')}")
        checks[fname] = f"{len(df)} codes, all agree"

    primary = sched[~sched["census_code"].isin(CENSUS_SECONDARY)]
    if primary["iso3"].duplicated().any():
        raise SystemExit(f"duplicate ISO3 among primary Census codes: {primary[primary['iso3'].duplicated()]}")
    census_by_iso3 = dict(zip(primary["iso3"], primary["census_code"], strict=True))
    all_census_names: dict[str, list[str]] = {}
    for iso3, name in zip(sched["iso3"], sched["census_name"], strict=True):  # secondary codes' names too (Gaza Strip)
        all_census_names.setdefault(iso3, []).append(name)
    extra_census: dict[str, list[str]] = {}
    for code, iso3 in CENSUS_SECONDARY.items():
        extra_census.setdefault(iso3, []).append(code)

    # Japan Customs codes: match names with country_converter's regexes (parenthetical owners removed).
    regexes = [(re.compile(r, re.IGNORECASE), iso3) for r, iso3 in zip(coco["regex"], coco["ISO3"], strict=True)]
    japan = pd.read_csv(census_dir / "japan_customs_country_codes.csv", dtype=str, keep_default_na=False)
    japan_by_iso3: dict[str, str] = {}
    japan_name_by_iso3: dict[str, str] = {}
    japan_skipped = []
    for code, name in zip(japan["Code"], japan["Country"], strict=True):
        base = re.sub(r"\s*\(.*?\)", "", name).strip()
        base = {"Cook": "Cook Islands", "Marshall": "Marshall Islands", "Kyrgyz": "Kyrgyzstan",
                "Central Africa": "Central African Republic", "West Sahara": "Western Sahara",
                "St.Christopher and Nevis": "Saint Kitts and Nevis", "St.Vincent": "Saint Vincent",
                "British Anguilla": "Anguilla", "Monstserrat": "Montserrat",
                "The West Bank and Gaza Strip": "Palestine", "Rep. of Cote d'Ivoire": "Cote d'Ivoire",
                "St. Helena Island and Dependencies": "Saint Helena",
                "British indian Ocean Territories": "British Indian Ocean Territory",
                "St.Pierre and Miquelon": "Saint Pierre and Miquelon", "St.Lucia": "Saint Lucia",
                "St.Barthelemy": "Saint Barthelemy", "Tokelau Islands": "Tokelau",
                "Falkland Islands and Dependencies": "Falkland Islands"}.get(base, base)
        if any(w in name.lower() for w in JAPAN_SKIP_WORDS):
            japan_skipped.append(f"{code} {name}")
            continue
        hits = sorted({iso3 for rx, iso3 in regexes if rx.search(base)})
        if len(hits) != 1:
            raise SystemExit(f"Japan Customs {code} {name!r}: {len(hits)} ISO3 matches {hits}")
        if hits[0] in japan_by_iso3:
            raise SystemExit(f"Japan Customs {code} {name!r}: {hits[0]} already has code {japan_by_iso3[hits[0]]}")
        japan_by_iso3[hits[0]] = code
        japan_name_by_iso3[hits[0]] = name

    out_rows = []
    for r in coco.itertuples(index=False):
        iso3 = r.ISO3
        census_names = all_census_names.get(iso3, [])
        aliases = {norm(a) for a in [r.name_short, r.name_official, japan_name_by_iso3.get(iso3, ""), *census_names,
                                     *(re.sub(r"\s*\(.*?\)", "", n) for n in census_names),
                                     *(re.sub(r"^.*\((.*)\)$", r"\1", n) for n in census_names)] if a}
        aliases |= set(EXTRA_ALIASES.get(iso3, []))
        aliases.discard(norm(r.name_short))
        out_rows.append({
            "iso3": iso3, "iso2": r.ISO2, "name": r.name_short, "official_name": r.name_official,
            "census_code": census_by_iso3.get(iso3, ""), "census_codes_other": "|".join(extra_census.get(iso3, [])),
            "m49": r.m49, "japan_customs_code": japan_by_iso3.get(iso3, ""),
            "eu27": "1" if r.EU27 else "", "kind": "country", "regex": r.regex,
            "aliases": "|".join(sorted(a for a in aliases if a)),
        })
    unknown_census = set(census_by_iso3) - set(coco["ISO3"])
    if unknown_census:
        raise SystemExit(f"Census ISO3 not in country_converter: {unknown_census}")
    out_rows.append({"iso3": "EU27", "iso2": "EU", "name": "European Union (27)",
                     "official_name": "European Union, 27 member states (since 1 February 2020)",
                     "census_code": "0003", "census_codes_other": "", "m49": "", "japan_customs_code": "",
                     "eu27": "", "kind": "group", "regex": "",
                     "aliases": "|".join(["eu", "eu 27", "eu27", "european union", "european union 27"])})
    out_rows.append({"iso3": "WLD", "iso2": "", "name": "World", "official_name": "World (all partners)",
                     "census_code": "", "census_codes_other": "", "m49": "001", "japan_customs_code": "",
                     "eu27": "", "kind": "group", "regex": "", "aliases": "|".join(["world", "all", "total", "all countries"])})

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "countries.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out_rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(out_rows, key=lambda d: (d["kind"] != "country", d["iso3"])))
    sources = {
        "output": "countries.csv",
        "build_date": dt.date.today().isoformat(),
        "rows": len(out_rows),
        "sources": {
            f"census/{f}": sha256(census_dir / f)
            for f in ["census_country_codes.txt", "census_to_iso3.csv", "census_country_mapping_frbatl.csv",
                      "japan_customs_country_codes.csv"]
        } | {f"country_converter {country_converter.__version__} country_data.tsv": sha256(coco_tsv)},
        "cross_checks": checks,
        "japan_customs_skipped": japan_skipped,
        "japan_customs_matched": len(japan_by_iso3),
        "census_codes": len(sched),
    }
    (OUT_DIR / "countries_sources.json").write_text(json.dumps(sources, indent=1) + "\n")

    sector_rows, sector_meta = build_sector_map(args.raw)
    with (OUT_DIR / "sector_map.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["prefix", "sector", "note"], lineterminator="\n")
        w.writeheader()
        w.writerows(sector_rows)
    sector_meta |= {"output": "sector_map.csv", "rows": len(sector_rows), "build_date": dt.date.today().isoformat()}
    (OUT_DIR / "sector_map_sources.json").write_text(json.dumps(sector_meta, indent=1) + "\n")
    print(f"wrote {OUT_DIR / 'sector_map.csv'} ({len(sector_rows)} prefixes, {sector_meta['auto_parts_prefixes']} auto parts)")
    build_hts_headers(args.raw)
    print(f"wrote {out} ({len(out_rows)} rows; {len(sched)} Census codes, {len(japan_by_iso3)} Japan Customs codes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
