"""Build the package's embedded fact tables from the raw files in ../shared/data (``make embedded-data``).

Three kinds of output, each with a provenance.json (raw files with sha256, vintage, build date, rows):

* ``data/embedded/``: the warehouse's fact tables, loaded by ``tariffscope.ingest.embedded``;
* ``data/facts/``: small published facts the models read directly (the Japanese auto-industry figures
  used by ``tariffscope.models.exposure``);
* ``data/ge/``: the bilateral tables of the shipped GE experiments (only the columns and years those
  experiments use), beside the experiment SPECs that name them.

``python scripts/build_embedded_data.py --only facts,ge`` rebuilds some parts only.

Every table is read by the same readers ``tariffscope data ingest`` uses (tariffscope.ingest.*),
aggregated/deduplicated where needed, sorted (so rebuilds diff cleanly) and written as zstd Parquet
under src/tariffscope/data/embedded/, with provenance.json recording for each table its source id,
title, publisher, raw files with sha256, vintage, build date and row count.

HTS lines and Chapter 99 lines of the 44 revisions are interval-encoded: one row per run of
consecutive revisions in which a line is identical (first_seq..last_seq); the loader expands them.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tariffscope import config, db
from tariffscope.ingest import (
    census_api,
    census_monthly_jsonl,
    comtrade,
    dataweb_csv,
    fred_csv,
    hts_json,
    import_weights,
    usato_json,
    usatradeonline_csv,
)
from tariffscope.ingest.common import CHAPTER99_LINES, FLOW_KEY, HTS_LINES, ParsedFile

OUT = config.EMBEDDED_DIR
FACTS_DIR = config.PACKAGE_DIR / "data" / "facts"
GE_DIR = config.PACKAGE_DIR / "data" / "ge"
LIMIT_MB = 25.0
PARTS = ("embedded", "facts", "ge")

#: The Japanese auto-industry facts exposure uses: key -> the opening words of the item in the raw file.
JAPAN_AUTO_ITEMS = {
    "shipments": "auto manufacturing shipments",
    "employment": "auto manufacturing employment",
    "employment_related": "auto-related employment",
    "production": "motor vehicle production",
}

#: GE tables: output file -> (raw file, columns kept, years kept (None = all), title, licence).
#: Columns and years are those the SPECs in data/ge/ read (data, estimate formula, cluster, years).
GE_TABLES = {
    "advanced_guide_2016__chapter2_application2.parquet": (
        "gravity/advanced_guide_2016/Chapter2Application2.dta",
        ["exporter", "importer", "pair_id", "year", "trade", "RTA"], [1986, 1990, 1994, 1998, 2002, 2006],
        ("Yotov, Piermartini, Monteiro, Larch (2016), An Advanced Guide to Trade Policy Analysis (WTO/UNCTAD): "
         "chapter 2 application 2 data, 69 countries incl. domestic flows, manufacturing, every 4 years 1986-2006"),
        "CC BY 4.0 (gravity/advanced_guide_2016/LICENSE.md)"),
    "advanced_guide_2016__trade_without_borders.parquet": (
        "gravity/advanced_guide_2016/1_TradeWithoutBorder.dta",
        ["exporter", "importer", "year", "trade", "ln_DIST", "CNTG", "INTL_BRDR"], None,
        ("Yotov, Piermartini, Monteiro, Larch (2016), An Advanced Guide to Trade Policy Analysis (WTO/UNCTAD): "
         "chapter 2 application 1 data (trade without borders), 69 countries, 2006"),
        "CC BY 4.0 (gravity/advanced_guide_2016/LICENSE.md)"),
    "gegravity_sample.parquet": (
        "gravity/gegravity_sample/sample_data_set.dlm",
        ["exporter", "importer", "year", "trade", "Y", "E", "pta", "contiguity", "common_language", "lndist",
         "international"], None,
        "gegravity 0.3 (USITC) example data set: 30 countries, 2006, with output, expenditure and gravity covariates",
        "MIT (gravity/gegravity_sample/LICENSE)"),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rel(path: Path, raw: Path) -> str:
    return str(Path(path).resolve().relative_to(raw))


def write(table: pa.Table, name: str) -> Path:
    path = OUT / f"{name}.parquet"
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd", compression_level=19, row_group_size=1 << 20,
                   use_dictionary=True, write_statistics=True, store_schema=True)
    os.replace(tmp, path)  # atomic: a warehouse opened meanwhile never sees half a file
    return path


def sort_flows(t: pa.Table) -> pa.Table:
    return t.sort_by([(k, "ascending") for k in ["partner", "flow", "trade_regime", "period", "product_code"]])


def union_distinct(parsed: list[ParsedFile], what: str) -> pa.Table:
    """Concatenate flows from several files; a key present in two files must carry the same value."""
    seen: dict[tuple, tuple[float, str]] = {}
    keep = []
    for p in parsed:
        t = p.tables["trade_flows"]
        mask = []
        for row in zip(*(t[k].to_pylist() for k in FLOW_KEY), t["value"].to_pylist(), strict=True):
            key, value = row[:-1], row[-1]
            if key in seen:
                if abs(seen[key][0] - value) > 0.5:
                    sys.exit(f"{what}: {key} is {seen[key][0]} in {seen[key][1]} but {value} in {p.path.name}")
                mask.append(False)
            else:
                seen[key] = (value, p.path.name)
                mask.append(True)
        keep.append(t.filter(pa.array(mask)))
    return pa.concat_tables(keep)


def write_provenance(directory: Path, prov: dict[str, dict], build_date: str) -> None:
    tmp = directory / "provenance.json.tmp"
    tmp.write_text(json.dumps({"build_date": build_date, "tables": prov}, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    os.replace(tmp, directory / "provenance.json")


def build_facts(raw: Path, build_date: str) -> None:
    """data/facts/japan_auto_industry.csv: the four published figures exposure uses, one row each; and
    data/facts/auto_multipliers.json, the BEA supplier linkage (``build_jobs_multiplier``)."""
    src = raw / "autos" / "japan_auto_industry_facts.csv"
    with src.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out_rows = []
    for key, prefix in JAPAN_AUTO_ITEMS.items():
        hits = [r for r in rows if r["item"].startswith(prefix)]
        if len(hits) != 1:
            sys.exit(f"{src}: expected one row starting {prefix!r}, found {len(hits)}")
        r = hits[0]
        out_rows.append({"key": key, "year": r["year"], "item": r["item"], "value": r["value"], "unit": r["unit"],
                         "source": r["source_kind"], "url": r["source_url"]})
    FACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = FACTS_DIR / "japan_auto_industry.csv"
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out_rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(out_rows)
    os.replace(tmp, path)
    prov = {path.name: dict(
        source="japan_auto_industry_facts", title="Japanese auto industry: shipments, employment, production",
        publisher="JAMA (citing METI/MIC), nippon.com, OICA (per row)", files=[{"path": rel(src, raw), "sha256": sha256(src)}],
        vintage="as published (year per row)", build_date=build_date, rows=len(out_rows), sha256=sha256(path),
        notes=["the rows tariffscope.models.exposure uses, keyed; other rows of the raw file are not kept"])}
    mult, entry = build_jobs_multiplier(raw, build_date)
    prov[mult.name] = entry
    write_provenance(FACTS_DIR, prov, build_date)
    print(f"  {path.name:55s} {len(out_rows):>9,d} rows")


BEA_INDUSTRY = "3361MV"  # Motor vehicles, bodies and trailers, and parts (BEA summary industry code)


def build_jobs_multiplier(raw: Path, build_date: str) -> tuple[Path, dict]:
    """data/facts/auto_multipliers.json: the supplier linkage of the motor vehicle industry from the BEA total
    requirements table (industry by industry, summary level); only the derived figures ship."""
    src = raw / "autos" / "bea_total_requirements_industry_by_industry_summary.csv"
    with src.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header = next(r for r in rows if len(r) > 2 and r[1] == "Industries/Industries")
    col = header.index(BEA_INDUSTRY)
    title = next(r for r in rows if len(r) > 2 and r[1] == "Industry Description")[col]
    own = next(float(r[col]) for r in rows if r and r[0] == BEA_INDUSTRY)
    total = next(float(r[col]) for r in rows if len(r) > 1 and r[1] == "Total industry output requirement")
    out = {
        "industry": BEA_INDUSTRY, "industry_title": title,
        "own_industry_requirement": own, "total_output_requirement": total,
        # output of other industries needed per unit of the industry's own output: the supplier linkage
        "supplier_output_per_own_output": (total - own) / own,
        "source": "bea_total_requirements_summary",
        "title": "BEA input-output accounts, Total Requirements, Industry-by-Industry, Summary (71 industries)",
        "url": "https://www.bea.gov/industry/input-output-accounts-data",
        "vintage": "as downloaded; the table year is not stated in the file",
        "sha256_raw": sha256(src),
    }
    path = FACTS_DIR / "auto_multipliers.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    entry = dict(
        source=out["source"], title=out["title"], publisher="U.S. Bureau of Economic Analysis",
        files=[{"path": rel(src, raw), "sha256": sha256(src)}], vintage=out["vintage"], build_date=build_date, rows=1,
        sha256=sha256(path), notes=[f"column {BEA_INDUSTRY}: total output of every industry per dollar of final demand for "
                                    "motor vehicles; the industry's own row is its own requirement; (total - own) / own kept"])
    print(f"  {path.name:55s} supplier output per unit of own output {out['supplier_output_per_own_output']:.4f}")
    return path, entry


GE_CHAPTERS = (28, 97)  # HS chapters counted as manufacturing, as the Advanced Guide's flows are (no 01-27, 98-99)


def build_ge_us_trade(build_date: str) -> tuple[Path, dict]:
    """data/ge/us_trade_2024_by_partner.csv: 2024 US manufacturing trade by partner (imports for consumption,
    customs value; total exports, FAS) from the embedded fact tables, for the GE model's ``model.base: us_2024``."""
    tables = ("trade_flows__census_import_weights_2024", "trade_flows__dataweb_exports_hs2")
    imp = pq.read_table(OUT / f"{tables[0]}.parquet", columns=["partner", "product_code", "value"])
    exp = pq.read_table(OUT / f"{tables[1]}.parquet", columns=["partner", "product_code", "period", "value"])
    con = db.memory()
    con.register("imp", imp)
    con.register("exp", exp)
    lo, hi = GE_CHAPTERS
    rows = con.sql(f"""
        WITH i AS (SELECT partner, SUM(value) AS us_imports FROM imp
                   WHERE CAST(substr(product_code, 1, 2) AS INTEGER) BETWEEN {lo} AND {hi} GROUP BY 1),
             e AS (SELECT partner, SUM(value) AS us_exports FROM exp WHERE period = '2024'
                   AND CAST(product_code AS INTEGER) BETWEEN {lo} AND {hi} GROUP BY 1)
        SELECT partner, COALESCE(us_imports, 0) AS us_imports, COALESCE(us_exports, 0) AS us_exports
        FROM i FULL JOIN e USING (partner) WHERE partner NOT IN ('WLD', 'EU27') ORDER BY partner""").fetchall()
    path = GE_DIR / "us_trade_2024_by_partner.csv"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("partner,us_imports,us_exports\n" + "".join(f"{p},{i:.0f},{e:.0f}\n" for p, i, e in rows))
    os.replace(tmp, path)
    entry = dict(
        source="us_trade_2024_by_partner", title=f"US manufacturing trade by partner, 2024, USD (HS chapters {lo}-{hi})",
        publisher="U.S. Census Bureau (imports for consumption); USITC DataWeb (total exports, FAS)",
        files=[{"path": f"embedded/{t}.parquet", "sha256": sha256(OUT / f"{t}.parquet")} for t in tables],
        vintage="census_import_weights_2024; dataweb_exports_hs2 (2024)", build_date=build_date, rows=len(rows),
        sha256=sha256(path), notes=["derived from the embedded fact tables, not from raw files"])
    print(f"  {path.name:55s} {len(rows):>9,d} rows")
    return path, entry


def build_ge_tables(raw: Path, build_date: str) -> None:
    """data/ge/*.parquet: the GE experiments' bilateral tables, only the columns and years they use; and the 2024
    US trade by partner for ``model.base: us_2024`` (``build_ge_us_trade``, from the embedded tables)."""
    from tariffscope.models.gravity import read_gravity_table

    prov: dict[str, dict] = {}
    GE_DIR.mkdir(parents=True, exist_ok=True)
    for name, (rel_path, columns, years, title, licence) in GE_TABLES.items():
        src = raw / rel_path
        df = read_gravity_table(src)
        missing = [c for c in columns if c not in df.columns]
        if missing:
            sys.exit(f"{src}: columns {missing} not found")
        df = df[columns]
        if years is not None:
            df = df[df["year"].astype(float).isin([float(y) for y in years])]
        # rows stay in the file's order: PPML sums in row order, and the shipped results must not move
        df = df.reset_index(drop=True)
        table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)  # no pandas metadata: stable bytes
        path = GE_DIR / name
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(table, tmp, compression="zstd", compression_level=19)
        os.replace(tmp, path)
        kept = f"years {', '.join(str(y) for y in years)}" if years else "all rows"
        prov[name] = dict(
            source=Path(rel_path).stem, title=title, publisher=title.split(":")[0], licence=licence,
            files=[{"path": rel_path, "sha256": sha256(src)}], vintage="as distributed", build_date=build_date,
            rows=table.num_rows, sha256=sha256(path),
            notes=[f"columns kept: {', '.join(columns)}; {kept}", "types as read by tariffscope.models.gravity.read_gravity_table"])
        print(f"  {name:55s} {table.num_rows:>9,d} rows  {path.stat().st_size / 1e6:6.2f} MB")
    us, entry = build_ge_us_trade(build_date)
    prov[us.name] = entry
    write_provenance(GE_DIR, prov, build_date)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    parts = PARTS
    if args[:1] == ["--only"] and len(args) == 2:
        parts = tuple(x for x in args[1].split(",") if x)
        if not set(parts) <= set(PARTS):
            sys.exit(f"--only takes some of {', '.join(PARTS)}")
    elif args:
        sys.exit("usage: build_embedded_data.py [--only embedded,facts,ge]")
    raw = config.raw_data_dir()
    if not raw.is_dir():
        sys.exit(f"raw data not found at {raw} (set TARIFFSCOPE_RAW_DATA)")
    build_date = dt.date.today().isoformat()
    if "facts" in parts:
        build_facts(raw, build_date)
    if "ge" in parts:
        build_ge_tables(raw, build_date)
    if "embedded" in parts:
        return build_embedded(raw, build_date)
    return 0


def build_embedded(raw: Path, build_date: str) -> int:
    """data/embedded/: the warehouse's fact tables (trade flows, FX, HTS revisions and lines)."""
    OUT.mkdir(parents=True, exist_ok=True)
    prov: dict[str, dict] = {}

    def record(table_file: Path, source: str, title: str, publisher: str, files: list[Path], vintage: str,
               rows: int, target: str, notes: list[str], period: str) -> None:
        prov[table_file.name] = dict(
            table=target, source=source, title=title, publisher=publisher,
            files=[{"path": rel(f, raw), "sha256": sha256(f)} for f in files],
            vintage=vintage, periods=period, build_date=build_date, rows=rows,
            parquet_sha256=sha256(table_file), notes=notes,
        )
        print(f"  {table_file.name:55s} {rows:>9,d} rows  {table_file.stat().st_size / 1e6:6.2f} MB")

    census, autos = raw / "census", raw / "autos"
    # (source, reader, files, vintage or None = the file's own, title, notes, periods, also-cited files, dedupe across files)
    flow_specs = [
        ("census_hs10_imports_2024", census_api, sorted((census / "hs10_imports_2024_by_partner").glob("*.parquet")),
         "Census API imports/hs pull, 2024 (time=2024-12, _YR values, as pulled; not the revised country series)",
         "US imports for consumption by HS10 x partner, 2024, with calculated duty (51 partners incl. EU27)",
         ["customs value and calculated duty, USD; file name = Census country code, 0003 = EU aggregate"], "2024", [], False),
        ("census_import_weights_2024", import_weights, [census / "import_weights_hs10_country_2024.csv.gz"],
         "Census monthly import detail 2024, aggregated (same vintage as the HS10 API pull: Japan matches it to the dollar less ch. 98/99)",
         "US imports for consumption by HTS10 x country, 2024, all 233 partners (chapters 98/99 excluded)",
         ["GTAP sector column not kept"], "2024", [], False),
        ("usato_imports_hs2_monthly", usatradeonline_csv, sorted((census / "usatradeonline_imports_hs2_monthly").glob("*.csv")),
         None, "US general imports by HS2 x partner, monthly Jan 2024 - Mar 2026 (USA Trade Online)",
         ["India appears in two report files with identical values; stored once",
          "'EUROPE' is USA Trade Online's world area Europe, not the EU"], "2024-01..2026-03", [], True),
        ("usato_imports_hs4_monthly", usato_json, [census / "imports_hs4_ch84_85_87_monthly.json"],
         "USA Trade Online values (reshaped JSON), Jan 2024 - Mar 2026; download date not stated in the file",
         "US general imports by HS4 of chapters 84, 85, 87 x partner, monthly Jan 2024 - Mar 2026", [], "2024-01..2026-03", [], False),
        ("dataweb_exports_hs2", dataweb_csv, [census / "dataweb_exports_fas_hs2_by_country_2020_2024.csv"],
         "USITC DataWeb download of 2025-08-07", "US total exports (FAS) by HS2 x country, annual 2020-2024 (USITC DataWeb)",
         ["the total row was checked against the sum of each year and skipped"], "2020..2024",
         [census / "dataweb_exports_fas_query_parameters.csv"], False),
        ("census_japan_monthly_totals", census_monthly_jsonl, [census / "japan_monthly_totals_2024_2025.jsonl"],
         "Census country series (revised; via corbett-hobbs/congress-ideology@31caa71) and API CAL_DUT_MO/CON_VAL_MO",
         "US goods trade with Japan by month 2024-2025: exports, general imports, imports for consumption and calculated duty",
         ["exports/general imports are USD millions in the file (x 1e6 here); not seasonally adjusted"], "2024-01..2025-12",
         [census / "japan_monthly_totals_2024_2025.README.txt"], False),
        ("comtrade_us_auto_imports", comtrade,
         [autos / "us_auto_imports_8703_8704.csv", autos / "us_auto_imports_8703_8704_extended_kor_chn_eu.csv"],
         "UN Comtrade extract (US-reported imports, cifvalue), 2019-2024",
         "US imports of HS 8703 (cars) and 8704 (trucks) by partner with units, 2019-2024 (UN Comtrade)",
         ["the two extracts overlap (CAN, JPN, MEX) with identical values; stored once",
          "net weight not stored; the world-total file is not embedded (it does not say which codes it sums)"], "2019..2024", [], True),
    ]
    for source, reader, files, vint, title, extra_notes, periods, cited, dedupe in flow_specs:
        parsed = [reader.parse(x, source=source, vintage=vint) for x in files]
        t = union_distinct(parsed, source) if dedupe else pa.concat_tables([p.main for p in parsed])
        t = sort_flows(t)
        vintage = vint or "; ".join(sorted({p.vintage for p in parsed if p.vintage}))
        notes = sorted({n for p in parsed for n in p.notes}) + extra_notes
        f = write(t, f"trade_flows__{source}")
        record(f, source, title, reader.PUBLISHER, files + cited, vintage, t.num_rows, "trade_flows", notes, periods)

    # 8. FRED yen per dollar.
    for ff in sorted((raw / "fx").glob("*EXJPUS*.csv")):
        series = ff.name.split("_")[0].lower()
        p = fred_csv.parse(ff, source=f"fred_{series}")
        t = p.main.sort_by("date")
        f = write(t, f"exchange_rates__{p.source}")
        d = t["date"]
        record(f, p.source, p.title, fred_csv.PUBLISHER, [ff], p.vintage, t.num_rows, "exchange_rates", p.notes,
               f"{pc.min(d).as_py()}..{pc.max(d).as_py()}")

    # 9. HTS revisions: lines interval-encoded over revision seq.
    hts_files = sorted((raw / "hts").glob("hts_*.json.gz"), key=lambda x: hts_json.revision_name(x)[2])
    revs, lines, ch99, notes = [], [], [], []
    for hf in hts_files:
        p = hts_json.parse(hf)
        revs.append(p.tables["hts_revisions"]), lines.append(p.tables["hts_lines"]), ch99.append(p.tables["chapter99_lines"])
        notes += [n for n in p.notes if "header rows" not in n]
    rev_t = pa.concat_tables(revs).sort_by("seq")
    con = db.memory()
    con.register("rev", rev_t)
    con.register("lines", pa.concat_tables(lines))
    con.register("ch99", pa.concat_tables(ch99))
    for name, tbl, key, schema in (("hts_lines", "lines", "hts_code", HTS_LINES), ("chapter99_lines", "ch99", "heading", CHAPTER99_LINES)):
        # parsed rate columns are not stored: the loader parses the texts with the installed parser
        # (hts_json.rate_table), so the warehouse always agrees with tariffscope.tariffs.schedule
        content = [c for c in schema.names if c not in ["revision", "ad_valorem"] + hts_json.RATE_COLUMNS]
        cols = ", ".join(f'"{c}"' for c in content)
        part = ", ".join(f'"{c}"' for c in content)
        q = f"""
            WITH r AS (SELECT revision, seq, row_number() OVER (ORDER BY seq) AS idx FROM rev),
            x AS (SELECT {cols}, r.seq, r.idx,
                         r.idx - row_number() OVER (PARTITION BY {part} ORDER BY r.idx) AS grp
                  FROM {tbl} JOIN r USING (revision))
            SELECT min(seq)::INTEGER AS first_seq, max(seq)::INTEGER AS last_seq, {cols}
            FROM x GROUP BY {cols}, grp ORDER BY "{key}", first_seq"""
        t = db.query(con, q)
        f = write(t, name)
        expanded = sum(x.num_rows for x in (lines if name == "hts_lines" else ch99))
        record(f, "usitc_hts", f"{'HTS lines' if name == 'hts_lines' else 'Chapter 99 headings 9903'} of every revision 2025 basic .. 2026 rev 10 (interval-encoded; rate texts parsed on load)",
               hts_json.PUBLISHER, hts_files, f"{rev_t['revision'][0].as_py()} .. {rev_t['revision'][-1].as_py()} ({rev_t.num_rows} revisions)",
               expanded, name, [f"{t.num_rows:,} stored runs expand to {expanded:,} rows"], f"{rev_t['revision'][0].as_py()}..{rev_t['revision'][-1].as_py()}")
    f = write(rev_t, "hts_revisions")
    record(f, "usitc_hts", "HTS revisions with publication and legal effective dates", hts_json.PUBLISHER,
           [raw / "hts" / "revision_dates.csv"], "revision_dates.csv (Yale Budget Lab tracker, curated)", rev_t.num_rows,
           "hts_revisions", sorted(set(notes)) + ["2026_rev_8 is editorial only and excluded from the dated series (see 2026_rev_9's note): stored with no dates"],
           f"{rev_t['revision'][0].as_py()}..{rev_t['revision'][-1].as_py()}")

    for stale in set(OUT.glob("*.parquet")) - {OUT / n for n in prov}:
        stale.unlink()
    tmp = OUT / "provenance.json.tmp"
    tmp.write_text(json.dumps({"build_date": build_date, "tables": prov}, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, OUT / "provenance.json")
    total = sum(x.stat().st_size for d in (OUT, FACTS_DIR, GE_DIR) if d.is_dir() for x in d.iterdir() if x.is_file()) / 1e6
    print(f"embedded data: {len(prov)} tables; package data (embedded, facts, ge) {total:.2f} MB")
    if total >= LIMIT_MB:
        sys.exit(f"embedded data is {total:.2f} MB, over the {LIMIT_MB} MB limit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
