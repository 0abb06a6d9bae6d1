"""Build the product and country lists of the tariff measure catalogue.

Reads the raw lists in ``<raw>/measures`` (Yale Budget Lab tracker lists, tradewartracker lists) and
the Chapter 99 headings of the HTS JSON revisions in ``<raw>/hts``, and writes small normalized CSVs
to ``src/tariffscope/tariffs/catalogue/lists/`` with a ``PROVENANCE.yaml`` recording, for each list,
the raw file(s) it was derived from and their sha256. Raw files are never copied: every list is a
derived, normalized table (prefix digits, ISO dates, a value column).

Run: ``.venv/bin/python scripts/build_measure_lists.py`` (idempotent; deterministic output).
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from tariffscope.config import raw_data_dir
from tariffscope.tariffs.list_audit import AUDITS, note_codes, notes_text, realign

RAW = raw_data_dir()
YALE = RAW / "measures" / "yale_tracker_lists"
TWT = RAW / "measures" / "tradewartracker_lists"
OUT = REPO / "src" / "tariffscope" / "tariffs" / "catalogue" / "lists"

HEADER = ["prefix", "effective_from", "effective_until", "value"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def hts10(text: str) -> str:
    """An HTS code of at most ten digits. The secondary Annex II list carries 850511007000, the statistical line
    8505.11.0070 (as note 2(v)(iii)'s source prints it, ten digits) with two zeros appended: trailing zeros beyond
    ten digits are cut; any other longer code is an error, not a prefix to guess at."""
    d = digits(text)
    if len(d) > 10:
        if d[10:].strip("0"):
            raise ValueError(f"HTS code {text!r} has more than ten digits")
        d = d[:10]
    return d


def iso(text: str | None) -> str:
    text = (text or "").strip()
    return "" if text in ("", "NA", "NULL", "None") else dt.date.fromisoformat(text).isoformat()


def day_after(text: str) -> str:
    """Raw lists give the last day in force; the catalogue uses exclusive ``effective_until``."""
    return "" if not text else (dt.date.fromisoformat(text) + dt.timedelta(days=1)).isoformat()


def read_csv(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines))


PROVENANCE: dict[str, dict] = {}


def write(name: str, rows: list[tuple], sources: list[Path], note: str, header: list[str] = HEADER) -> None:
    rows = sorted(set(rows))
    path = OUT / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    PROVENANCE[name] = {
        "file": f"lists/{name}.csv",
        "rows": len(rows),
        "note": note,
        "sources": [{"path": str(p.relative_to(RAW)), "sha256": sha256(p)} for p in sources],
        "sha256": sha256(path),
    }


# --- product lists ------------------------------------------------------------------------------

def aircraft_specific(hts: str) -> bool:
    """Provisions where trade is (almost) all aircraft: chapter 88 and turbojets/turbopropellers/gas turbines (8411).

    The civil aircraft exemptions of the deals name ~550 HTS8 provisions, most of them general (8413 pumps,
    8507 batteries, 8501 motors); the exemption applies only to articles of civil aircraft entered as such, a share
    of those lines' trade we cannot observe, so it is modeled on the aircraft-specific provisions only.
    """
    d = digits(hts)
    return d.startswith("88") or d.startswith("8411")



NOTES = RAW / "hts" / "chapter99_us_notes_2026_rev_6.txt"


def audited_codes(list_name: str, values: tuple[str, ...] | None = None) -> set[str]:
    """The codes the note prints for a list (list_audit.AUDITS), at the note's precision."""
    text = notes_text(NOTES)
    spans = [sp for a in AUDITS if a.list == list_name and (values is None or a.values == values) for sp in a.spans]
    return set().union(*(note_codes(text, start, end) for start, end in spans))


def at_note_precision(rows: list[tuple], note: set[str], drop: set[str] = frozenset()) -> list[tuple]:
    """Rows rewritten at the note's precision (list_audit.realign), dates and values kept; ``drop``: prefixes removed."""
    fix = realign(sorted({r[0] for r in rows}), note)
    return [(code, *r[1:]) for r in rows if r[0] not in drop for code in fix[r[0]]]


def build_product_lists() -> None:
    src = YALE / "ieepa_exempt_products.csv"
    # hts10(): cut a code written past ten digits; dict.fromkeys: the cut code may repeat a row the list already has
    rows = list(dict.fromkeys((hts10(r["hts10"]), iso(r["effective_date_start"]), day_after(iso(r["effective_date_end"])),
                               "annex_ii") for r in read_csv(src)))
    write("annex_ii", rows, [src], "EO 14257 Annex II and amendments (note 2(v)(iii)): reciprocal exemptions by HTS10 with "
          "their own windows (blank from = since 2025-04-05; until is exclusive, raw last day + 1).")

    src = YALE / "s232_metal_chapter_products.csv"
    for metal in ("steel", "aluminum"):
        rows = [(digits(r["hts_prefix"]), iso(r["effective_date"]), "", r["kind"])
                for r in read_csv(src) if r["metal_type"] == metal]
        write(f"s232_{metal}", rows, [src], f"Section 232 {metal} products of notes 16/19 (value = mill | derivative; "
              "blank from = in force before 2025).")

    src = YALE / "s232_derivative_products.csv"
    rows = [(digits(r["hts_prefix"]), iso(r["effective_date"]), "", f"{r['derivative_type']}:{r['ch99_code']}")
            for r in read_csv(src)]
    # note 19(k) prints most of its lines at ten digits; the secondary list cuts them to eight (wider scope)
    k19 = audited_codes("s232_derivatives", ("aluminum:9903.85.08",))
    rows = [r for r in rows if r[3] != "aluminum:9903.85.08"] + at_note_precision(
        [r for r in rows if r[3] == "aluminum:9903.85.08"], k19)
    write("s232_derivatives", rows, [src, NOTES], "Section 232 derivative products charged on metal content "
          "(9903.81.91 steel, 9903.85.04/.07/.08 aluminum; 2025-08-18 inclusions); value = metal:heading. Aluminum "
          "9903.85.08 rows at the precision of note 19(k) (2026_rev_6); steel 9903.81.91 rows as the secondary list gives "
          "them (note 16(n) is no longer printed in 2026_rev_6).")

    for name, fname, note in (("s232_auto_parts", "s232_auto_parts.txt", "note 33(g) automobile parts (9903.94.05)"),
                              ("s232_mhd_parts", "s232_mhd_parts.txt", "note 38(i) medium/heavy-duty vehicle parts (9903.74.08)")):
        src = YALE / fname
        rows = [(digits(x), "", "", "part") for x in src.read_text().split() if digits(x)]
        write(name, rows, [src], note)

    src = YALE / "s232_copper_products.csv"
    rows = [(digits(r["hts10"]), "", "", r["ch99_code"]) for r in read_csv(src)]
    write("s232_copper", rows, [src], "note 36(b) semi-finished copper and intensive copper derivatives (9903.78.01)")

    # note 39(b) names three 6-digit provisions; the list keeps that precision (the secondary list gives their HTS10 lines)
    rows = [(c, "", "", "9903.79.01") for c in sorted(audited_codes("s232_semis"))]
    write("s232_semis", rows, [NOTES], "note 39(b) semiconductor articles (9903.79.01): the provisions as the note prints "
          "them (8471.50, 8471.80, 8473.30); the technical thresholds are the applicability share semis_share")

    src = YALE / "s232_annex_products.csv"
    # the metal of a chapter 72, 74 or 76 row is its chapter's (note 16(c)(i) prints 7601-7609 under "Articles of
    # aluminum"; the secondary list tags them steel); chapter 73 holds derivative aluminum articles too (7308.20.0035)
    chapter_metal = {"72": "steel", "74": "copper", "76": "aluminum"}
    rows = [(digits(r["hts_prefix"]), iso(r["effective_date"]), "",
             f"{r['annex']}:{chapter_metal.get(digits(r['hts_prefix'])[:2], r['metal_type'])}") for r in read_csv(src)]
    # at the precision of note 16(c) (2026_rev_6), annex by annex; the bare 8471 comes from a description, not the note
    groups = [(a.values, audited_codes("s232_metals_annex", a.values)) for a in AUDITS if a.list == "s232_metals_annex"]
    annexed = {v for values, _ in groups for v in values}

    def covers(note: set[str], code: str) -> bool:
        return any(n.startswith(code) or code.startswith(n) for n in note)

    moved = []
    for r in rows:  # a row the note prints under another annex of 16(c) moves there (metal kept)
        if r[3] in annexed and not any(covers(note, r[0]) for values, note in groups if r[3] in values):
            other = [values for values, note in groups if covers(note, r[0])]
            if len(other) == 1:
                r = (*r[:3], f"{other[0][0].split(':')[0]}:{r[3].split(':')[1]}")
        moved.append(r)
    rows = moved
    fixed = []
    for values, note in groups:  # rows the note does not print at any precision (8471, 8430, 8709 ...) are dropped
        part = [r for r in rows if r[3] in values]
        fixed += at_note_precision(part, note, drop={r[0] for r in part if not covers(note, r[0])})
    rows = fixed + [r for r in rows if r[3] not in annexed]  # 1c (June 2026) and 2 (removed): as given
    write("s232_metals_annex", rows, [src, NOTES], "note 16(c) metals annexes from 2026-04-06 (value = annex:metal; "
          "1a 50%, 1b 25%, 1c 25% from 2026-06-08, 2 removed, 3 15% floor); annexes 1a, 1b, 3 at the precision of note 16(c) "
          "of 2026_rev_6 (cut-short rows replaced by the note's codes, rows the note prints under another annex moved there, rows it "
          "does not print at all, e.g. the bare 8471 read from a description, dropped)")

    # Section 122: the secondary list merges note 2(aa)(ii)-(iii) (exempt outright) with (iv) (civil aircraft articles,
    # exempt only when certified as such). The note text separates them: (iv) provisions that are general-purpose
    # (not aircraft-specific) and not also in (ii)/(iii) go to their own list, applied as a share (issue 12).
    src = YALE / "s122_exempt_products.csv"
    notes = NOTES
    text = notes_text(notes)
    outright = note_codes(text, "(ii) As provided in heading 9903.03.03", r"\n\s*\(iv\) As provided in heading 9903.03.05")
    aircraft = note_codes(text, "(iv) As provided in heading 9903.03.05", r"\n\s*\(v\) As provided in heading 9903.03.06")
    partial = {c for c in aircraft if not aircraft_specific(c)} - outright
    rows = [(digits(r["hts8"]), "", "", "s122_exempt") for r in read_csv(src) if digits(r["hts8"]) not in partial]
    write("s122_exempt", rows, [src, notes], "Section 122 product exemptions (note 2(aa)(ii)-(iii), 9903.03.03/.04) and the "
          "aircraft-specific provisions of (iv) (9903.03.05): the secondary list less the general-purpose provisions of "
          "(iv), which are in s122_civil_aircraft")
    rows = [(c, "", "", "s122_civil_aircraft:9903.03.05") for c in sorted(partial)]
    write("s122_civil_aircraft", rows, [notes], "Note 2(aa)(iv) (heading 9903.03.05): general-purpose provisions (not chapter 88 "
          "or heading 8411, not also in (ii)/(iii)) exempt from Section 122 only for civil aircraft articles; read from the "
          "note text at its 8 digits; applied as the share s122_civil_aircraft_share")

    src = YALE / "s301_product_lists.csv"
    rows = [(digits(r["hts8"]), "", "", f"{r['list']}:{r['ch99_code']}") for r in read_csv(src)]
    write("s301", rows, [src], "Section 301 China lists (notes 20, 31): value = list:heading")

    src = YALE / "fentanyl_carveout_products.csv"
    rows = [(digits(r["hts8"]), "", "", f"{r['category']}:{r['ch99_code']}") for r in read_csv(src)]
    write("fentanyl_carveouts", rows, [src], "IEEPA fentanyl energy/potash carve-outs at 10% (9903.01.05, .13, .15)")

    src = YALE / "country_eo_exempt_products.csv"
    rows = [(digits(r["hts10"]), iso(r["effective_date_start"]), day_after(iso(r["effective_date_end"])), r["ch99_code"])
            for r in read_csv(src)]
    write("brazil_eo_exempt", rows, [src], "EO 14323 (Brazil, 9903.01.77) Annex I exemptions, note 2(x)(iii)")

    src = YALE / "floor_exempt_products.csv"
    rows = [(digits(r["hts8"]), iso(r["effective_date_start"]), "", f"{r['country_group']}:{r['category']}:{r['ch99_code']}")
            for r in read_csv(src) if r["category"] != "civil_aircraft" or aircraft_specific(r["hts8"])]
    write("floor_exempt", rows, [src], "Deal-floor exemptions (EU 9903.02.74-.77, Korea 9903.02.81, Switzerland 9903.02.84-.86): "
          "value = group:category:heading; from = publication date of the exempting heading. Civil aircraft rows "
          "are kept only on aircraft-specific provisions (chapter 88, heading 8411): the exemption is for articles of "
          "civil aircraft, and on general provisions (pumps, batteries, motors) that share of trade is unknown")


# --- country rate tables from the HTS text -----------------------------------------------------

def _census_names() -> dict[str, str]:
    """Country name (lower case) -> ISO3, from the Census code list and its ISO3 crosswalk."""
    codes = {r["Code"]: r["Name"] for r in read_csv(YALE / "census_codes.csv")}
    iso3 = {r["cty_code"]: r["iso3"] for r in read_csv(RAW / "census" / "census_to_iso3.csv")}
    out = {name.lower(): iso3[c] for c, name in codes.items() if c in iso3}
    return out


ALIASES = {  # HTS spellings -> ISO3 where the Census list spells the name differently
    "the european union": "EU27", "european union": "EU27", "south korea": "KOR", "côte d`ivoire": "CIV",
    "côte d’ivoire": "CIV", "cote d'ivoire": "CIV", "myanmar (burma)": "MMR", "burma": "MMR", "the philippines": "PHL",
    "the united kingdom": "GBR", "democratic republic of the congo": "COD", "the democratic republic of the congo": "COD",
    "laos": "LAO", "hong kong": "HKG", "macau": "MAC", "malaysia": "MYS", "japan": "JPN", "syria": "SYR", "vietnam": "VNM", "brunei": "BRN", "falkland islands": "FLK", "moldova": "MDA",
    "north macedonia": "MKD", "turkey": "TUR", "bosnia and herzegovina": "BIH", "trinidad and tobago": "TTO",
    "papua new guinea": "PNG", "nauru": "NRU", "vanuatu": "VUT", "fiji": "FJI", "lesotho": "LSO", "china": "CHN", "switzerland": "CHE", "liechtenstein": "LIE", "taiwan": "TWN",
}


def _iso3_of(name: str, names: dict[str, str]) -> str:
    key = name.strip().lower()
    if key in ALIASES:
        return ALIASES[key]
    if key in names:
        return names[key]
    raise SystemExit(f"cannot map country name {name!r} to ISO3: add it to ALIASES")


def build_country_rates() -> None:
    """Phase 1 (EO 14257 Annex I, 9903.01.43-.76) and Phase 2 (EO 14326, 9903.02.02-.71) rates by country,
    read from the headings' own text (rate in column 1 general, country in the description)."""
    names = _census_names()
    rows: list[tuple] = []
    sources = []
    for rev, lo, hi, measure in (("2025_rev_7", "9903.01.43", "9903.01.76", "ieepa_recip_phase1"),
                                 ("2025_rev_18", "9903.02.02", "9903.02.71", "ieepa_recip_phase2")):
        path = RAW / "hts" / f"hts_{rev}.json.gz"
        sources.append(path)
        for line in json.loads(gzip.decompress(path.read_bytes())):
            h = line.get("htsno") or ""
            if not (lo <= h <= hi):
                continue
            m = re.search(r"\+\s*(\d+(?:\.\d+)?)%", line.get("general") or "")
            c = re.search(r"articles the product of (.+?),? as provided for", line["description"])
            if not (m and c):
                continue
            names_text = c.group(1).replace(", including Hong Kong and Macau", ", Hong Kong, Macau")
            for part in re.split(r",\s*or\s+|,\s*|\s+or\s+", names_text):
                iso3 = _iso3_of(part, names)
                if iso3 in ("CHN", "HKG", "MAC"):
                    continue  # China's reciprocal escalation is its own set of catalogue measures
                rows.append((measure, h, iso3, float(m.group(1)) / 100))
    write("reciprocal_country_rates", rows, sources,
          "IEEPA reciprocal country rates from the Chapter 99 headings: Phase 1 (EO 14257 Annex I) as published in "
          "2025_rev_7, Phase 2 (EO 14326) as published in 2025_rev_18; country names mapped to ISO3.",
          header=["measure_id", "heading", "origin", "rate"])


def build_japan_civil_aircraft() -> None:
    """Note 35(b) of subchapter III (heading 9903.96.02): civil aircraft of Japan exempt from 9903.02.72/.73 and the
    metals annex; the provisions are enumerated in the note text itself."""
    src = RAW / "hts" / "chapter99_us_notes_2026_rev_6.txt"
    text = src.read_bytes().replace(b"\x00", b"").decode("utf-8", errors="replace")
    start = text.index("(b) As provided in heading 9903.96.02")
    nxt = re.search(r"\n\s*\(c\)", text[start:])  # the list ends where subdivision (c) begins
    end = start + (nxt.start() if nxt else 20000)
    codes = sorted(c for c in set(re.findall(r"\b(\d{4}\.\d{2}\.\d{2})\b", text[start:end])) if not c.startswith(("98", "99")))
    rows = [(digits(c), "2025-09-16", "", "jpn_civil_aircraft:9903.96.02") for c in codes if aircraft_specific(c)]
    write("japan_civil_aircraft", rows, [src], "Note 35(b) (heading 9903.96.02, from 2025-09-16): civil aircraft, engines and "
          "parts of Japan exempt from 9903.02.72/.73 and 9903.82.02/.04-.17; provisions read from the note text, kept on "
          "aircraft-specific provisions only (chapter 88, heading 8411; see aircraft_specific)")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    build_product_lists()
    build_country_rates()
    build_japan_civil_aircraft()
    prov = {"built_by": "scripts/build_measure_lists.py", "raw_root": "shared/data (tariffscope.config.raw_data_dir())",
            "lists": PROVENANCE}
    (OUT / "PROVENANCE.yaml").write_text(yaml.safe_dump(prov, sort_keys=True, allow_unicode=True), encoding="utf-8")
    for name, p in sorted(PROVENANCE.items()):
        print(f"{name:28s} {p['rows']:6d} rows")


if __name__ == "__main__":
    main()
