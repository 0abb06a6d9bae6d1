"""World panels, ingest: BACI-style CSV (``t,i,j,k,v,q``) checked row by row, country codes mapped to
ISO3, written as ``year=YYYY`` Parquet partitions of a panel, all or nothing."""
from __future__ import annotations

import datetime as _dt
import glob
import gzip
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.errors import IngestError, InputError
from tariffscope.panels.store import (
    PanelInfo,
    PanelSource,
    panel_dir,
    panel_info,
    panels_root,
    partition_stats,
    sql_str,
    write_manifest,
)

# BACI / UN Comtrade codes that are not (or no longer) UN M49 country codes, with the ISO3 BACI
# gives them (BACI country_codes_V202401.csv). 490 "Other Asia, n.e.s." is Taiwan in practice.
BACI_CODES: dict[int, str] = {
    58: "BEL",   # Belgium-Luxembourg (until 1998); BACI iso3 'BEL'
    251: "FRA",  # France incl. Monaco
    280: "DEU",  # Fed. Rep. of Germany (until 1990)
    381: "ITA",  # Italy incl. San Marino
    490: "TWN",  # Other Asia, n.e.s.
    579: "NOR",  # Norway incl. Svalbard and Jan Mayen
    699: "IND",  # India (Comtrade code)
    711: "ZAF",  # Southern African Customs Union (until 1999): reported under South Africa
    736: "SDN",  # Sudan (until 2011)
    757: "CHE",  # Switzerland incl. Liechtenstein
    842: "USA",  # USA incl. Puerto Rico and US Virgin Islands
    891: "SCG",  # Serbia and Montenegro (until 2005)
}

# Accepted headers -> canonical short names.
_HEADER_ALIASES = {
    "t": "t", "year": "t",
    "i": "i", "exporter": "i",
    "j": "j", "importer": "j",
    "k": "k", "product": "k", "hs6": "k",
    "v": "v", "value": "v",
    "q": "q", "quantity": "q",
}


@dataclass
class IngestReport:
    """What one ``ingest_panel`` call did."""

    panel: PanelInfo
    files: list[str]
    rows: int
    rows_by_year: dict[int, int]
    unknown_codes: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"panel": self.panel.name, "path": self.panel.path, "files": self.files, "rows": self.rows,
                "rows_by_year": {str(k): v for k, v in sorted(self.rows_by_year.items())},
                "unknown_codes": self.unknown_codes, "seconds": round(self.seconds, 3),
                "panel_rows": self.panel.rows, "panel_years": self.panel.years}


def _expand(path: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(path, (str, Path)):
        p = Path(path).expanduser()
        if p.is_dir():
            files = sorted([*p.glob("*.csv"), *p.glob("*.csv.gz")])
        elif any(ch in str(p) for ch in "*?["):
            files = sorted(Path(x) for x in glob.glob(str(p)))
        else:
            files = [p]
    else:
        files = [Path(x).expanduser() for x in path]
    if not files:
        raise InputError(f"no CSV files at {path}")
    for f in files:
        if not f.is_file():
            raise InputError(f"no such file: {f}")
    return files


def _read_header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    cols = [c.strip().strip('"').strip().lower() for c in first.rstrip("\r\n").split(",")]
    canon = [_HEADER_ALIASES.get(c) for c in cols]
    required = {"t", "i", "j", "k", "v"}
    if None in canon or not required <= set(canon) or len(set(canon)) != len(canon):
        raise IngestError(str(path), 1, f"header {first.strip()!r}: expected columns t,i,j,k,v[,q] (BACI) "
                                        "or year,exporter,importer,product,value[,quantity]")
    return [c for c in canon if c is not None]  # all of them, checked above


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _vintage_of(path: Path) -> str | None:
    m = re.search(r"_(V\d{6}[a-z]?)", path.name)  # BACI_HS17_Y2022_V202401b.csv -> V202401b
    return m.group(1) if m else None


def country_code_table(countries: str | Path | None = None) -> pa.Table:
    """(code INTEGER, iso3 VARCHAR): UN M49 from ``tariffscope.codes.countries``, BACI codes, then overrides."""
    from tariffscope.codes.countries import all_countries

    mapping: dict[int, str] = {}
    for c in all_countries():
        if c.m49 and c.m49.isdigit():
            mapping[int(c.m49)] = c.iso3
    mapping.update(BACI_CODES)
    if countries is not None:
        mapping.update(_read_country_file(Path(countries)))
    codes = sorted(mapping)
    return pa.table({"code": pa.array(codes, pa.int32()), "iso3": pa.array([mapping[c] for c in codes], pa.string())})


def _read_country_file(path: Path) -> dict[int, str]:
    import csv

    if not path.is_file():
        raise InputError(f"no such country code file: {path}")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = {f.lower(): f for f in reader.fieldnames or []}
        code_col = fields.get("country_code") or fields.get("code")
        iso_col = fields.get("country_iso3") or fields.get("iso3")
        if not code_col or not iso_col:
            raise IngestError(str(path), 1, "expected columns country_code,country_iso3 (BACI) or code,iso3")
        out: dict[int, str] = {}
        for lineno, row in enumerate(reader, start=2):
            code, iso3 = (row[code_col] or "").strip(), (row[iso_col] or "").strip().upper()
            if not code.isdigit() or not re.fullmatch(r"[A-Z0-9]{3}", iso3):
                raise IngestError(str(path), lineno, f"bad code/iso3 pair {code!r}, {iso3!r}")
            out[int(code)] = iso3
    return out


def _reader_sql(path: Path, header: list[str]) -> str:
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in header)
    return (f"read_csv({sql_str(path)}, header=true, auto_detect=false, delim=',', quote='\"', "
            f"strict_mode=true, columns={{{cols}}})")


def _typed_select(header: list[str]) -> tuple[str, str]:
    """(SELECT list of typed columns, CASE expression giving the first problem of a row or NULL)."""
    q = "nullif(nullif(trim(q), ''), 'NA')" if "q" in header else "NULL"
    typed = (
        "try_cast(trim(t) AS INTEGER) AS year, try_cast(trim(i) AS INTEGER) AS exporter_code, "
        "try_cast(trim(j) AS INTEGER) AS importer_code, lpad(trim(k), 6, '0') AS product, "
        f"try_cast(trim(v) AS DOUBLE) AS value_kusd, try_cast({q} AS DOUBLE) AS quantity_t"
    )
    qcheck = (f"WHEN {q} IS NOT NULL AND (try_cast({q} AS DOUBLE) IS NULL OR try_cast({q} AS DOUBLE) < 0) "
              "THEN 'quantity ' || coalesce(q, '') || ' is not a number >= 0 (or NA)' ") if "q" in header else ""
    reason = (
        "CASE "
        "WHEN try_cast(trim(t) AS INTEGER) IS NULL OR try_cast(trim(t) AS INTEGER) NOT BETWEEN 1900 AND 2100 "
        "THEN 'year ' || coalesce(t, '') || ' is not a year' "
        "WHEN try_cast(trim(i) AS INTEGER) IS NULL OR try_cast(trim(i) AS INTEGER) NOT BETWEEN 0 AND 999 "
        "THEN 'exporter ' || coalesce(i, '') || ' is not a numeric country code' "
        "WHEN try_cast(trim(j) AS INTEGER) IS NULL OR try_cast(trim(j) AS INTEGER) NOT BETWEEN 0 AND 999 "
        "THEN 'importer ' || coalesce(j, '') || ' is not a numeric country code' "
        "WHEN NOT regexp_full_match(coalesce(trim(k), ''), '[0-9]{5,6}') "
        "THEN 'product ' || coalesce(k, '') || ' is not an HS6 code' "
        "WHEN try_cast(trim(v) AS DOUBLE) IS NULL OR NOT isfinite(try_cast(trim(v) AS DOUBLE)) "
        "OR try_cast(trim(v) AS DOUBLE) < 0 "
        "THEN 'value ' || coalesce(v, '') || ' is not a number >= 0' "
        f"{qcheck}"
        "ELSE NULL END"
    )
    return typed, reason


def _csv_error(path: Path, exc: Exception) -> IngestError:
    text = str(exc)
    m = re.search(r"CSV Error on Line: (\d+)", text)
    line = int(m.group(1)) if m else None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = next((ln for ln in lines if ln.startswith(("Expected Number", "Error when", "Value with"))), None)
    reason = detail or (lines[0] if lines else type(exc).__name__)
    return IngestError(str(path), line, reason)


def _validate_file(con: db.Connection, path: Path, header: list[str]) -> tuple[int, set[int]]:
    """Check every row of one file; return (rows, years) or raise IngestError at the first bad line."""
    typed, reason = _typed_select(header)
    src = _reader_sql(path, header)
    try:
        rows, bad, years = con.execute(
            f"SELECT count(*), count({reason}), list(DISTINCT try_cast(trim(t) AS INTEGER)) FROM {src}").fetchall()[0]
        if bad:
            # Row order is preserved by the scan, so row_number + 1 (the header) is the file line.
            line, why = con.execute(
                f"SELECT line, why FROM (SELECT row_number() OVER () + 1 AS line, {reason} AS why FROM {src}) "
                "WHERE why IS NOT NULL LIMIT 1").fetchall()[0]
            raise IngestError(str(path), int(line), str(why))
    except IngestError:
        raise
    except Exception as exc:  # duckdb's CSV errors (wrong column count, bad quoting) carry the line
        raise _csv_error(path, exc) from exc
    if rows == 0:
        raise IngestError(str(path), None, "no data rows")
    return int(rows), {int(y) for y in years}


def ingest_panel(path: str | Path | Iterable[str | Path], name: str, *, vintage: str | None = None,
                 countries: str | Path | None = None, replace: bool = False,
                 threads: int | None = None) -> IngestReport:
    """Ingest BACI-style CSV file(s) (a file, a directory of ``*.csv[.gz]``, a glob, or a list) into panel ``name``.

    Years already in the panel are refused unless ``replace=True`` (which replaces those years only).
    Files are validated first; a bad row raises ``IngestError(file, line, reason)`` and the panel is
    left as it was. Rows are sorted by exporter, importer, product within each year so that queries
    for one country pair read few row groups.
    """
    t0 = time.perf_counter()
    target = panel_dir(name)
    files = _expand(path)
    headers = [_read_header(f) for f in files]
    old = panel_info(name) if (target / "panel.json").exists() else None

    con = db.memory()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        checked = [_validate_file(con, f, h) for f, h in zip(files, headers, strict=True)]
        counts = [n for n, _ in checked]
        new_years = set().union(*(y for _, y in checked))
        clash = sorted(new_years & set(old.rows_by_year)) if old else []
        if clash and not replace:
            raise InputError(f"panel {name!r} already has year(s) {', '.join(map(str, clash))}: "
                             "use --replace to replace them")
        cmap = country_code_table(countries)
        con.register("country_map", cmap)
        staging = panels_root() / f".staging-{name}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            selects = []
            for f, h in zip(files, headers, strict=True):
                typed, _ = _typed_select(h)
                selects.append(f"SELECT {typed} FROM {_reader_sql(f, h)}")
            union = " UNION ALL ".join(selects)
            con.execute(f"""
                COPY (
                    SELECT coalesce(e.iso3, 'UNK' || lpad(r.exporter_code::VARCHAR, 3, '0')) AS exporter,
                           coalesce(m.iso3, 'UNK' || lpad(r.importer_code::VARCHAR, 3, '0')) AS importer,
                           r.exporter_code::SMALLINT AS exporter_code, r.importer_code::SMALLINT AS importer_code,
                           r.product, r.value_kusd, r.quantity_t, r.year
                    FROM ({union}) r
                    LEFT JOIN country_map e ON e.code = r.exporter_code
                    LEFT JOIN country_map m ON m.code = r.importer_code
                    ORDER BY r.year, exporter, importer, r.product
                ) TO {sql_str(staging)} (FORMAT parquet, PARTITION_BY (year), COMPRESSION zstd,
                                          FILENAME_PATTERN 'part_{{uuid}}')""")
            by_year, unknown = partition_stats(con, staging)
            if sum(by_year.values()) != sum(counts):  # the copy must hold every validated row
                raise IngestError(str(files[0]), None,
                                  f"wrote {sum(by_year.values())} rows for {sum(counts)} read; nothing ingested")
            # Move the new year partitions in: replaced years go first, so a failure leaves old data.
            target.mkdir(parents=True, exist_ok=True)
            for year in sorted(by_year):
                dest = target / f"year={year}"
                if dest.exists():
                    shutil.rmtree(dest)
                os.replace(staging / f"year={year}", dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        rows_by_year, all_unknown = partition_stats(con, target)  # the whole panel after the move
    finally:
        con.close()

    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sources = [s for s in (old.sources if old else []) if not (set(s.years) <= set(by_year))]
    for f, n in zip(files, counts, strict=True):
        sources.append(PanelSource(file=str(f.resolve()), sha256=_sha256(f), rows=n,
                                   vintage=vintage or _vintage_of(f), years=sorted(by_year), ingested_at=now))
    info = PanelInfo(name=name, path=str(target), rows_by_year=rows_by_year, sources=sources,
                     unknown_codes=all_unknown)
    write_manifest(info)
    return IngestReport(panel=info, files=[str(f) for f in files], rows=sum(counts), rows_by_year=by_year,
                        unknown_codes=unknown, seconds=time.perf_counter() - t0)
