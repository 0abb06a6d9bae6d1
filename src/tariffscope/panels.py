"""World panels: bilateral product-level trade (BACI-style) as partitioned Parquet queried through DuckDB.

A panel is a directory ``$TARIFFSCOPE_HOME/panels/<name>/`` holding hive partitions
``year=YYYY/*.parquet`` with one row per (exporter, importer, HS6 product) and a ``panel.json``
manifest (source files, SHA-256, vintage, rows per year, unknown country codes).

Columns: ``exporter``, ``importer`` (ISO3; a numeric code no table knows becomes ``UNK<code>`` and is
reported, never dropped), ``exporter_code``, ``importer_code`` (the file's numeric codes),
``product`` (HS6, 6 digits: BACI writes ``10121`` for ``010121``), ``value_kusd`` (thousand US dollars,
as BACI publishes it), ``quantity_t`` (metric tons; NULL when the file says NA), and the partition
column ``year``.

Input CSV: a header ``t,i,j,k,v,q`` (BACI) or ``year,exporter,importer,product,value,quantity``;
``q``/``quantity`` may be missing. Numeric country codes are UN M49 codes, mapped through
``tariffscope.codes.countries``, plus BACI's own codes for a few customs territories (842 = USA incl.
Puerto Rico, 251 = France incl. Monaco, ...); ``countries=`` takes BACI's ``country_codes_V*.csv``
(or any CSV with ``code,iso3``) to override. A bad row raises ``IngestError`` naming file and line,
and nothing is written.
"""
from __future__ import annotations

import datetime as _dt
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from tariffscope import config, db
from tariffscope.errors import DataNotFoundError, IngestError, InputError

VALUE_UNIT = "thousand USD"
QUANTITY_UNIT = "metric tons"
PRODUCT_LEVELS = {"total": 0, "hs2": 2, "hs4": 4, "hs6": 6}
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

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


# --- where panels live -------------------------------------------------------------------------


def panels_root() -> Path:
    return config.home() / "panels"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InputError(f"bad panel name {name!r}: use letters, digits, '_', '-', '.' (e.g. baci_hs17)")
    return name


def panel_dir(name: str) -> Path:
    return panels_root() / _check_name(name)


@dataclass
class PanelSource:
    file: str
    sha256: str
    rows: int
    vintage: str | None
    years: list[int]
    ingested_at: str


@dataclass
class PanelInfo:
    """The manifest of one panel."""

    name: str
    path: str
    rows_by_year: dict[int, int]
    sources: list[PanelSource]
    unknown_codes: dict[str, int] = field(default_factory=dict)  # numeric code -> rows (as exporter or importer)
    value_unit: str = VALUE_UNIT
    quantity_unit: str = QUANTITY_UNIT

    @property
    def years(self) -> list[int]:
        return sorted(self.rows_by_year)

    @property
    def rows(self) -> int:
        return sum(self.rows_by_year.values())

    @property
    def source(self) -> str:
        return f"panel:{self.name}"

    @property
    def vintage(self) -> str | None:
        vintages = sorted({s.vintage for s in self.sources if s.vintage})
        return ", ".join(vintages) or None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows_by_year"] = {str(k): v for k, v in sorted(self.rows_by_year.items())}
        d.update(years=self.years, rows=self.rows, source=self.source, vintage=self.vintage)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PanelInfo:
        return cls(
            name=d["name"], path=d["path"],
            rows_by_year={int(k): int(v) for k, v in d["rows_by_year"].items()},
            sources=[PanelSource(**s) for s in d["sources"]],
            unknown_codes={str(k): int(v) for k, v in d.get("unknown_codes", {}).items()},
            value_unit=d.get("value_unit", VALUE_UNIT), quantity_unit=d.get("quantity_unit", QUANTITY_UNIT),
        )


def panel_info(name: str) -> PanelInfo:
    path = panel_dir(name) / "panel.json"
    if not path.exists():
        known = ", ".join(p.name for p in list_panels()) or "none yet"
        raise DataNotFoundError(f"no panel named {name!r} (panels: {known}); "
                                "load one with 'tariffscope data panel ingest PATH --name NAME'")
    return PanelInfo.from_dict(json.loads(path.read_text()))


def list_panels() -> list[PanelInfo]:
    root = panels_root()
    if not root.exists():
        return []
    return [PanelInfo.from_dict(json.loads(p.read_text())) for p in sorted(root.glob("*/panel.json"))]


def _write_manifest(info: PanelInfo) -> None:
    path = Path(info.path) / "panel.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info.to_dict(), indent=2))
    os.replace(tmp, path)


# --- ingest ------------------------------------------------------------------------------------


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
    return canon  # type: ignore[return-value]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _vintage_of(path: Path) -> str | None:
    m = re.search(r"_(V\d{6}[a-z]?)", path.name)  # BACI_HS17_Y2022_V202401b.csv -> V202401b
    return m.group(1) if m else None


def _sql_str(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


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
    return (f"read_csv({_sql_str(path)}, header=true, auto_detect=false, delim=',', quote='\"', "
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
        checked = [_validate_file(con, f, h) for f, h in zip(files, headers)]
        counts = [n for n, _ in checked]
        new_years = set().union(*(y for _, y in checked))
        clash = sorted(new_years & set(old.rows_by_year)) if old else []
        if clash and not replace:
            raise InputError(f"panel {name!r} already has year(s) {', '.join(map(str, clash))}: "
                             "use --replace to replace them")
        cmap = country_code_table(countries)  # noqa: F841 - referenced by name in the SQL below
        con.register("country_map", cmap)
        staging = panels_root() / f".staging-{name}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            selects = []
            for f, h in zip(files, headers):
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
                ) TO {_sql_str(staging)} (FORMAT parquet, PARTITION_BY (year), COMPRESSION zstd,
                                          FILENAME_PATTERN 'part_{{uuid}}')""")
            src = f"read_parquet({_sql_str(str(staging) + '/year=*/*.parquet')}, hive_partitioning=true)"
            by_year, unknown = _stats(con, staging)
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
        rows_by_year, all_unknown = _stats(con, target)  # the whole panel after the move
    finally:
        con.close()

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    sources = [s for s in (old.sources if old else []) if not (set(s.years) <= set(by_year))]
    for f, n in zip(files, counts):
        sources.append(PanelSource(file=str(f.resolve()), sha256=_sha256(f), rows=n,
                                   vintage=vintage or _vintage_of(f), years=sorted(by_year), ingested_at=now))
    info = PanelInfo(name=name, path=str(target), rows_by_year=rows_by_year, sources=sources,
                     unknown_codes=all_unknown)
    _write_manifest(info)
    return IngestReport(panel=info, files=[str(f) for f in files], rows=sum(counts), rows_by_year=by_year,
                        unknown_codes=unknown, seconds=time.perf_counter() - t0)


def _stats(con: db.Connection, directory: Path) -> tuple[dict[int, int], dict[str, int]]:
    """Rows per year and rows per unknown country code of the partitions under ``directory``."""
    src = f"read_parquet({_sql_str(str(directory) + '/year=*/*.parquet')}, hive_partitioning=true)"
    by_year = {int(y): int(n) for y, n in con.execute(f"SELECT year, count(*) FROM {src} GROUP BY year").fetchall()}
    unknown = {str(c): int(n) for c, n in con.execute(f"""
        SELECT code, count(*) FROM (
            SELECT exporter_code AS code FROM {src} WHERE exporter LIKE 'UNK%'
            UNION ALL SELECT importer_code FROM {src} WHERE importer LIKE 'UNK%')
        GROUP BY code ORDER BY code""").fetchall()}
    return by_year, unknown


def register_panel(directory: str | Path, name: str, *, source: str, vintage: str | None = None) -> PanelInfo:
    """Adopt a directory of ``year=YYYY/*.parquet`` files already in the panel layout (e.g. written by
    another tool) as panel ``name``: the files are moved under ``$TARIFFSCOPE_HOME/panels/<name>``."""
    directory = Path(directory)
    target = panel_dir(name)
    if target.exists():
        raise InputError(f"panel {name!r} exists; remove it first ('tariffscope data panel remove {name}')")
    con = db.memory()
    try:
        by_year, unknown = _stats(con, directory)
    finally:
        con.close()
    shutil.move(str(directory), str(target))
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = PanelInfo(name=name, path=str(target), rows_by_year=by_year,
                     sources=[PanelSource(file=source, sha256="", rows=sum(by_year.values()), vintage=vintage,
                                          years=sorted(by_year), ingested_at=now)],
                     unknown_codes=unknown)
    _write_manifest(info)
    return info


def remove_panel(name: str) -> None:
    panel_info(name)  # raises if missing
    shutil.rmtree(panel_dir(name))


# --- queries -----------------------------------------------------------------------------------


def scan_sql(name: str) -> str:
    """The FROM clause reading panel ``name`` (hive partition ``year`` as INTEGER)."""
    info = panel_info(name)
    glob = str(Path(info.path) / "year=*" / "*.parquet")
    return f"read_parquet({_sql_str(glob)}, hive_partitioning=true, hive_types={{'year': 'INTEGER'}})"


def _level(by: str | int) -> int:
    if isinstance(by, int) and by in (0, 2, 4, 6):
        return by
    if isinstance(by, str) and by.lower() in PRODUCT_LEVELS:
        return PRODUCT_LEVELS[by.lower()]
    raise InputError(f"bad product level {by!r}: use total, hs2, hs4 or hs6")


def _product_expr(level: int) -> str:
    return "'TOTAL'" if level == 0 else ("product" if level == 6 else f"substr(product, 1, {level})")


def _years(info: PanelInfo, year: int | Iterable[int] | None) -> list[int]:
    if year is None:
        return info.years
    years = [int(year)] if isinstance(year, (int, str)) else [int(y) for y in year]
    missing = [y for y in years if y not in info.rows_by_year]
    if missing:
        raise DataNotFoundError(f"panel {info.name!r} has no year {', '.join(map(str, missing))} "
                                f"(years: {info.years[0]}-{info.years[-1]})")
    return years


def aggregate_panel(name: str, by: str | int = "hs2", year: int | Iterable[int] | None = None,
                    con: db.Connection | None = None) -> pa.Table:
    """Sum the panel to (year, exporter, importer, product at level ``by``): value in thousand USD."""
    info = panel_info(name)
    years = _years(info, year)
    level = _level(by)
    own = con is None
    con = con or db.memory()
    try:
        where = f"WHERE year IN ({', '.join(map(str, years))})" if year is not None else ""
        return db.query(con, f"""
            SELECT year, exporter, importer, {_product_expr(level)} AS product,
                   sum(value_kusd) AS value_kusd, sum(quantity_t) AS quantity_t
            FROM {scan_sql(name)} {where}
            GROUP BY ALL""")
    finally:
        if own:
            con.close()


def _country(text: str) -> str:
    from tariffscope.codes.countries import resolve_country

    if isinstance(text, str) and re.fullmatch(r"UNK\d{3}", text):
        return text
    c = resolve_country(text)
    if c.is_group:
        raise InputError(f"{c.iso3} is a group: panel balances are for one reporter and one partner country")
    return c.iso3


@dataclass
class PanelBalance:
    """Goods balance of ``reporter`` with ``partner`` from a world panel, in US dollars.

    BACI reconciles each flow into one value (FOB, from both partners' declarations), so the
    reporter's exports to the partner are the partner's imports from it.
    """

    panel: str
    reporter: str
    partner: str
    year: int
    by: str
    rows: list[dict[str, Any]]  # product, exports_usd, imports_usd, balance_usd
    source: str
    vintage: str | None

    @property
    def exports(self) -> float:
        return float(sum(r["exports_usd"] for r in self.rows))

    @property
    def imports(self) -> float:
        return float(sum(r["imports_usd"] for r in self.rows))

    @property
    def balance(self) -> float:
        return self.exports - self.imports

    def to_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        df = pd.DataFrame(self.rows, columns=["product", "exports_usd", "imports_usd", "balance_usd"])
        df.attrs.update(source=self.source, vintage=self.vintage)
        return df

    def to_dict(self) -> dict[str, Any]:
        return {"panel": self.panel, "reporter": self.reporter, "partner": self.partner, "year": self.year,
                "by": self.by, "exports_usd": self.exports, "imports_usd": self.imports,
                "balance_usd": self.balance, "rows": self.rows, "source": self.source, "vintage": self.vintage}


def panel_balance(name: str, reporter: str, partner: str, year: int, by: str = "hs2",
                  con: db.Connection | None = None) -> PanelBalance:
    """Exports, imports and balance of ``reporter`` with ``partner`` in ``year`` by product (USD)."""
    info = panel_info(name)
    (yr,) = _years(info, int(year))
    level = _level(by)
    rep, par = _country(reporter), _country(partner)
    if rep == par:
        raise InputError(f"reporter and partner are both {rep}")
    own = con is None
    con = con or db.memory()
    try:
        pe = _product_expr(level)
        tbl = db.query(con, f"""
            SELECT {pe} AS product,
                   sum(CASE WHEN exporter = ? THEN value_kusd ELSE 0 END) * 1000 AS exports_usd,
                   sum(CASE WHEN exporter = ? THEN value_kusd ELSE 0 END) * 1000 AS imports_usd
            FROM {scan_sql(name)}
            WHERE year = ? AND ((exporter = ? AND importer = ?) OR (exporter = ? AND importer = ?))
            GROUP BY ALL ORDER BY product""", [rep, par, yr, rep, par, par, rep])
    finally:
        if own:
            con.close()
    rows = [{"product": r["product"], "exports_usd": r["exports_usd"], "imports_usd": r["imports_usd"],
             "balance_usd": r["exports_usd"] - r["imports_usd"]} for r in tbl.to_pylist()]
    if not rows:
        raise DataNotFoundError(f"panel {name!r} has no trade between {rep} and {par} in {yr}")
    return PanelBalance(panel=name, reporter=rep, partner=par, year=yr, by=by if isinstance(by, str) else f"hs{level}",
                        rows=rows, source=info.source, vintage=info.vintage)


def panel_imports(name: str, importer: str, year: int, by: str = "hs6",
                  con: db.Connection | None = None) -> pa.Table:
    """The import lines of ``importer`` in ``year`` from every origin: (product, origin, value_usd,
    quantity_t) — the base flows an importer-wide PE model needs, for any importer of the world."""
    info = panel_info(name)
    (yr,) = _years(info, int(year))
    imp = _country(importer)
    own = con is None
    con = con or db.memory()
    try:
        return db.query(con, f"""
            SELECT {_product_expr(_level(by))} AS product, exporter AS origin,
                   sum(value_kusd) * 1000 AS value_usd, sum(quantity_t) AS quantity_t
            FROM {scan_sql(name)} WHERE year = ? AND importer = ?
            GROUP BY ALL ORDER BY product, origin""", [yr, imp])
    finally:
        if own:
            con.close()
