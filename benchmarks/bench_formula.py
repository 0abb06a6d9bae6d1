"""Benchmark the reciprocal formula for every partner (issue 13: under 2 s).

Subject: ``tariffscope.trade.reciprocal.reciprocal_formula(basis='consumption', vintage='pre-revision')`` on the
warehouse: per-partner sums of five sources, the published Annex I rates from the catalogue and the HTS, the
rounding and the explanation of every row.
Peer: a plain pandas computation of the same formula rates on the same warehouse file (exports from
dataweb_exports_hs2; imports for consumption from census_hs10_imports_2024 where the partner is in it, else
census_import_weights_2024), with no published rates or explanations. Both run in fresh spawned processes;
the formula rates are checked to agree partner by partner.
"""
from __future__ import annotations

import math
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

# imported at module level: a spawned child imports this module before the timer starts
import duckdb
import pandas as pd

from _util import load_text, paired, save
from tariffscope import db
from tariffscope.ingest.warehouse import open_warehouse
from tariffscope.trade.reciprocal import reciprocal_formula

LIMIT_S = 2.0


def _copy(src: str) -> str:
    d = tempfile.mkdtemp(prefix="bench_formula_")
    dst = str(Path(d) / "warehouse.duckdb")
    shutil.copy(src, dst)
    return dst


def run_tariffscope(path: str) -> dict:
    con = db.connect(path, read_only=True)
    res = reciprocal_formula(basis="consumption", vintage="pre-revision", con=con)
    con.close()
    return {r.partner: r.formula_rate for r in res.rows}


def run_pandas(path: str) -> dict:
    con = duckdb.connect(path, read_only=True)
    df = con.sql("SELECT partner, source, value FROM trade_flows WHERE reporter = 'USA' AND period = '2024' AND ("
                 "(source = 'dataweb_exports_hs2' AND product_level = 2) OR "
                 "(source IN ('census_hs10_imports_2024', 'census_import_weights_2024') AND product_level = 10))").df()
    con.close()
    sums = df.groupby(["source", "partner"])["value"].sum()
    exports = sums["dataweb_exports_hs2"]
    imports = sums["census_hs10_imports_2024"].combine_first(sums["census_import_weights_2024"])
    both = pd.concat({"x": exports, "m": imports}, axis=1).dropna()
    both = both[(both["m"] > 0) & ~both.index.isin(["WLD"])]
    half = (both["m"] - both["x"]) / both["m"] / 2
    rate = half.map(lambda h: 0.10 if h <= 0.10 else max(0.10, math.ceil(round(h * 100, 9)) / 100))
    return rate.to_dict()


def main() -> None:
    con = open_warehouse()
    path = str(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0])
    con.close()
    # interleaved A B A B A B on one copy of the warehouse; the ratio is the median of the per-pair ratios
    pr = paired(run_tariffscope, run_pandas, _copy(path), pairs=3)
    ours, peer = pr["subject"], pr["peer"]
    a, b = ours["extra"], peer["extra"]
    common = sorted(set(a) & set(b))  # EU27: ours sums the member states' exports, the peer has no EU exports
    disagree = [p for p in common if abs(a[p] - b[p]) > 1e-9]
    print(f"{'subject':<40}{'median s':>9}{'peak MB':>10}{'partners':>10}")
    print(f"{'tariffscope reciprocal_formula':<40}{ours['seconds']:>9.3f}{ours['peak_mb']:>10.0f}{len(a):>10}")
    print(f"{'plain pandas formula (peer)':<40}{peer['seconds']:>9.3f}{peer['peak_mb']:>10.0f}{len(b):>10}")
    print(f"time ratio tariffscope/peer = {pr['ratio']:.2f}x (median of pairs {', '.join(f'{x:.2f}' for x in pr['ratios'])}, "
          f"load {load_text(pr['load'][0]['before'])} -> {load_text(pr['load'][-1]['after'])}); {len(common)} partners in both, "
          f"{len(disagree)} disagree; limit {LIMIT_S} s: {'ok' if ours['seconds'] < LIMIT_S else 'EXCEEDED'}")
    save("formula", {"task": "reciprocal formula, every partner with 2024 trade (consumption basis, pre-revision)",
                     "tariffscope": {**ours, "extra": len(a)}, "pandas_peer": {**peer, "extra": len(b)},
                     "time_ratio": pr["ratio"], "pairs": pr["ratios"], "load": pr["load"], "partners_compared": len(common),
                     "disagree": disagree, "limit_seconds": LIMIT_S})
    if disagree:
        raise SystemExit(f"formula rates differ for {disagree[:10]}")
    if ours["seconds"] >= LIMIT_S:
        raise SystemExit(f"formula took {ours['seconds']:.2f} s (limit {LIMIT_S} s)")


if __name__ == "__main__":
    main()
