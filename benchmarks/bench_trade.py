"""Benchmark the trade area: ``balance --by hs6`` for every partner of 2024 in one call.

Subject: ``tariffscope.trade.balance.balance('USA', 'all', '2024', by='hs6')`` (source selection,
coverage checks, grouping with HS2-only exports kept whole, Arrow result) on the warehouse.
Peer: one plain DuckDB SQL query of the same aggregation on the same warehouse file (imports HS10 ->
HS6 from census_import_weights_2024, exports HS2 from dataweb_exports_hs2, per partner), in the same run.
Both run in fresh spawned processes (peak RSS per subject); results are checked to agree.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

# imported at module level: a spawned child imports this module before the timer starts, so neither
# subject is charged for importing its library
import duckdb  # the peer: plain DuckDB, no tariffscope code
import pyarrow.compute as pc

from _util import load_text, paired, save
from tariffscope import db
from tariffscope.ingest.warehouse import open_warehouse
from tariffscope.trade.balance import balance

PEER_SQL = """
WITH base AS (
    SELECT 'exports' AS role, partner, product_code, product_level, value FROM trade_flows
    WHERE reporter = 'USA' AND source = 'dataweb_exports_hs2' AND flow = 'exports' AND period = '2024'
      AND product_level = 2 AND partner NOT IN ('EU27', 'WLD')
    UNION ALL
    SELECT 'imports', partner, product_code, product_level, value FROM trade_flows
    WHERE reporter = 'USA' AND source = 'census_import_weights_2024' AND flow = 'imports' AND period = '2024'
      AND product_level = 10 AND partner NOT IN ('EU27', 'WLD'))
SELECT partner,
       CASE WHEN product_level >= 6 THEN substr(product_code, 1, 6) ELSE product_code END AS sector,
       least(product_level, 6) AS level,
       sum(value) FILTER (WHERE role = 'exports') AS exports,
       sum(value) FILTER (WHERE role = 'imports') AS imports
FROM base GROUP BY ALL
"""


def _copy(src: str) -> str:
    # each subject reads its own copy of the warehouse file (no shared page cache advantage in-process)
    d = tempfile.mkdtemp(prefix="bench_trade_")
    dst = str(Path(d) / "warehouse.duckdb")
    shutil.copy(src, dst)
    return dst


def run_tariffscope(path: str) -> dict:
    con = db.connect(path, read_only=True)
    t = balance("USA", "all", "2024", by="hs6", con=con).to_arrow()
    con.close()
    return _summary(t)


def run_duckdb(path: str) -> dict:
    con = duckdb.connect(path, read_only=True)
    t = con.sql(PEER_SQL).to_arrow_table()
    con.close()
    return _summary(t)


def _summary(t) -> dict:
    return {"rows": t.num_rows, "partners": len(pc.unique(t["partner"])),
            "exports": pc.sum(t["exports"]).as_py(), "imports": pc.sum(t["imports"]).as_py()}


def main() -> None:
    con = open_warehouse()  # make sure the embedded data are loaded
    n = con.execute("SELECT count(*) FROM trade_flows WHERE source = 'census_import_weights_2024'").fetchall()[0][0]
    path = str(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0])
    con.close()
    # interleaved A B A B A B, each on its own copy of the warehouse; ratio = median of per-pair ratios
    pr = paired(run_tariffscope, run_duckdb, pairs=3, subject_args=(_copy(path),), peer_args=(_copy(path),))
    ours, peer = pr["subject"], pr["peer"]
    a, b = ours["extra"], peer["extra"]
    agree = a["rows"] == b["rows"] and a["partners"] == b["partners"] and \
        abs(a["imports"] - b["imports"]) < 1e-6 * b["imports"] and abs(a["exports"] - b["exports"]) < 1e-6 * b["exports"]
    ratio = pr["ratio"]
    mem_ratio = ours["peak_mb"] / peer["peak_mb"]
    print(f"input rows (HS10 x partner imports): {n:,}")
    print(f"{'subject':<34}{'median s':>9}{'peak MB':>10}{'rows':>10}{'partners':>10}")
    print(f"{'tariffscope balance(all, hs6)':<34}{ours['seconds']:>9.3f}{ours['peak_mb']:>10.0f}{a['rows']:>10,}{a['partners']:>10}")
    print(f"{'plain DuckDB query (peer)':<34}{peer['seconds']:>9.3f}{peer['peak_mb']:>10.0f}{b['rows']:>10,}{b['partners']:>10}")
    print(f"time ratio tariffscope/peer = {ratio:.2f}x (median of pairs {', '.join(f'{x:.2f}' for x in pr['ratios'])}; "
          f"load {load_text(pr['load'][0]['before'])} -> {load_text(pr['load'][-1]['after'])}), peak memory ratio = {mem_ratio:.2f}x, results agree: {agree}")
    save("trade", {"task": "balance --by hs6, USA with all partners, 2024", "input_rows": n,
                   "tariffscope": ours, "duckdb_peer": peer, "time_ratio": ratio, "pairs": pr["ratios"], "load": pr["load"], "memory_ratio": mem_ratio,
                   "agree": agree})
    if not agree:
        raise SystemExit(f"results differ: {a} vs {b}")


if __name__ == "__main__":
    main()
