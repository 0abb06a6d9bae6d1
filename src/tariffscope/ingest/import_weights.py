"""The HS10 x country import-weights CSV (``census/import_weights_hs10_country_2024.csv.gz``).

Columns ``hs10, gtap_code, cty_code, imports``: US imports for consumption (customs value, USD) by
HTS10 and Census country code for one year, chapters 98/99 excluded (it matches the HS10 API pull
for Japan less those chapters to the dollar). The GTAP sector code is not kept (a mapping, not a
fact). The year comes from the file name (``..._2024.csv[.gz]``) or the ``year`` argument.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from tariffscope.errors import IngestError
from tariffscope.ingest.common import (
    TRADE_FLOWS,
    ParsedFile,
    check_header,
    default_source,
    make_table,
    map_column,
    numbers,
    read_bytes,
    refuse_duplicates,
    require_final_newline,
    sum_duplicates,
)

KIND = "import_weights_csv"
TITLE = "US imports for consumption by HTS10 x country (import weights)"
PUBLISHER = "US Census Bureau (monthly import detail, aggregated)"
HEADER = ["hs10", "gtap_code", "cty_code", "imports"]


def parse(path: str | Path, source: str | None = None, vintage: str | None = None, year: int | None = None) -> ParsedFile:
    path = Path(path)
    if year is None:
        m = re.search(r"(19|20)\d{2}", path.name)
        if not m:
            raise IngestError(path, None, "cannot tell the year: no YYYY in the file name (pass year=)")
        year = int(m.group(0))
    data = read_bytes(path)
    require_final_newline(path, data)  # a file cut inside its last row would store a cut number
    first_line = data[: data.find(b"\n")].decode("utf-8-sig", "replace").strip().split(",")
    check_header(path, 1, first_line, HEADER)
    try:
        t = pcsv.read_csv(
            io.BytesIO(data),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in HEADER}, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        m = re.search(r"Row #(\d+)", str(exc))
        raise IngestError(path, int(m.group(1)) if m else None, f"malformed CSV ({str(exc).splitlines()[0]})") from None
    hs10 = t["hs10"].combine_chunks()
    bad = pc.invert(pc.match_substring_regex(hs10, r"^\d{10}$"))
    if pc.any(bad).as_py():
        i = pc.index(bad, True).as_py()
        raise IngestError(path, i + 2, f"bad HS10 code {hs10[i].as_py()!r}")
    value = numbers(path, t["imports"], "imports", 2, minimum=0)
    if pc.any(pc.is_null(value)).as_py():
        raise IngestError(path, pc.index(pc.is_null(value), True).as_py() + 2, "missing value in 'imports'")
    partner = map_column(path, t["cty_code"], "census", 2)
    flows = make_table(
        TRADE_FLOWS,
        t.num_rows,
        dict(
            reporter="USA", partner=partner, flow="imports", trade_regime="consumption", period=str(year), frequency="A",
            classification="HS", product_code=hs10, product_level=10, value=value, value_basis="customs",
            currency="USD", source=source or default_source(KIND, path), vintage=vintage,
        ),
    )
    notes: list[str] = []
    refuse_duplicates(path, flows, pa.array(range(2, t.num_rows + 2), pa.int64()), t["cty_code"])
    flows = sum_duplicates(flows, notes)
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
