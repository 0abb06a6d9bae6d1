"""Build the package's compact elasticity table from the raw Broda-Weinstein and Hauk files.

Reads ../shared/data/elasticities (never copied into the repository) and writes
src/tariffscope/data/elasticities/elasticities.csv.gz plus provenance.json (files, sha256, rules).

Rows: param (sigma = substitution between origins | eta = import demand elasticity of the product),
level (hs10 | hs8 | hs6 | hs3 | hs2 | all), code (digits), value, se (standard error or empty), n
(estimates summarised; 1 for a direct estimate) and source. Filters:

* Broda-Weinstein US HTS10 1990-2001 (xls, sigma): every estimate; medians by HS8 and HS6 are added
  as fallbacks (source ``bw_hts10_median``).
* Broda-Weinstein 73 countries HS3 1994-2003 (dta): the USA rows, sigma by HS 3-digit.
* Hauk (USITC) import demand, HS10 and HS6 (dta): only rows flagged ``positive`` == 1 and
  ``sigat5per`` == 1 (correct sign, significant at 5%); eta = ``impliedelasticity``, se = ``sedemandprice``.
  Medians of the accepted HS10 values by HS2 and overall are added as fallbacks.
* Hauk HS6 substitution (dta, sigma): ``impliedsigma`` > 1 with |demandprice / sedemandprice| >= 1.96.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from tariffscope.config import raw_data_dir

OUT = REPO / "src" / "tariffscope" / "data" / "elasticities"
FILES = {
    "bw_hts10": "elasticities/broda_weinstein/ElasticitiesBrodaWeinstein90-01_HTS.xls",
    "bw_hs3": "elasticities/broda_weinstein/Sigmas73countries_9403_HS3digit.dta",
    "hauk_hs10": "elasticities/hauk_usitc/imports_hs10imports_hs10elasticities.dta",
    "hauk_hs6": "elasticities/hauk_usitc/imports_hs6imports_hs6elasticities.dta",
    "hauk_subst_hs6": "elasticities/hauk_usitc/imports_hs6imports_hs6substitution2.dta",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(param, level, code, value, se, n, source) -> pd.DataFrame:
    if np.isscalar(value):  # one summary row
        code, value, se, n = [code], [value], [se], [n]
    return pd.DataFrame({"param": param, "level": level, "code": code, "value": value, "se": se, "n": n,
                         "source": source})


def _medians(df: pd.DataFrame, width: int, level: str, param: str, source: str) -> pd.DataFrame:
    key = df["code"].str[:width]
    g = df.groupby(key)["value"].agg(["median", "size"]).reset_index()
    return _rows(param, level, g["code"], g["median"], np.nan, g["size"], source)


def build(raw: Path) -> pd.DataFrame:
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bw = pd.read_excel(raw / FILES["bw_hts10"], header=None, skiprows=4, engine="xlrd")
    bw = bw.dropna()
    bw = pd.DataFrame({"code": bw[0].astype("int64").astype(str).str.zfill(10), "value": bw[1].astype(float)})
    bw = bw.groupby("code", as_index=False)["value"].median()
    parts.append(_rows("sigma", "hs10", bw["code"], bw["value"], np.nan, 1, "bw_hts10"))
    parts.append(_medians(bw, 8, "hs8", "sigma", "bw_hts10_median"))
    parts.append(_medians(bw, 6, "hs6", "sigma", "bw_hts10_median"))

    b3 = pd.read_stata(raw / FILES["bw_hs3"])
    b3 = b3[b3["cname"] == "USA"]
    parts.append(_rows("sigma", "hs3", b3["hs_3digit"].astype(int).astype(str).str.zfill(3),
                       b3["sigma"].astype(float), np.nan, 1, "bw_hs3_usa"))
    parts.append(_rows("sigma", "all", "", float(b3["sigma"].median()), np.nan, len(b3), "bw_hs3_usa_median"))

    for key, width, level in (("hauk_hs10", 10, "hs10"), ("hauk_hs6", 6, "hs6")):
        h = pd.read_stata(raw / FILES[key])
        col = "hs10" if width == 10 else "hs6"
        h = h[(h["positive"] == 1) & (h["sigat5per"] == 1) & h["impliedelasticity"].notna()]
        h = pd.DataFrame({"code": h[col].astype("int64").astype(str).str.zfill(width),
                          "value": h["impliedelasticity"].astype(float), "se": h["sedemandprice"].astype(float)})
        h = h.groupby("code", as_index=False).agg(value=("value", "median"), se=("se", "median"))
        parts.append(_rows("eta", level, h["code"], h["value"], h["se"], 1, key))
        if width == 10:
            parts.append(_medians(h, 2, "hs2", "eta", "hauk_hs10_median"))
            parts.append(_rows("eta", "all", "", float(h["value"].median()), np.nan, len(h), "hauk_hs10_median"))

    s = pd.read_stata(raw / FILES["hauk_subst_hs6"])
    t = s["demandprice"] / s["sedemandprice"]
    s = s[(s["impliedsigma"] > 1) & (t.abs() >= 1.96)]
    s = pd.DataFrame({"code": s["hs6"].astype("int64").astype(str).str.zfill(6),
                      "value": s["impliedsigma"].astype(float), "se": s["sedemandprice"].astype(float)})
    s = s.groupby("code", as_index=False).agg(value=("value", "median"), se=("se", "median"))
    parts.append(_rows("sigma", "hs6", s["code"], s["value"], s["se"], 1, "hauk_subst_hs6"))

    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].round(6)
    out["se"] = out["se"].round(6)
    return out.sort_values(["param", "source", "level", "code"], kind="stable").reset_index(drop=True)


def main() -> None:
    raw = raw_data_dir()
    table = build(raw)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "elasticities.csv.gz"
    # mtime=0 keeps the gzip bytes reproducible.
    table.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
    prov = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "script": "scripts/build_elasticities.py",
        "output": {"file": path.name, "sha256": _sha256(path), "rows": len(table)},
        "inputs": [{"key": k, "file": f, "sha256": _sha256(raw / f)} for k, f in FILES.items()],
        "counts": table.groupby(["param", "source"]).size().rename("rows").reset_index().to_dict("records"),
        "citations": {
            "broda_weinstein": "Broda, C. and D. Weinstein (2006), Globalization and the Gains from Variety, QJE 121(2)",
            "hauk": "Hauk, W. (USITC), US import and export demand elasticities at HS6/HS10/NAICS6 (files in elasticities/hauk_usitc)",
        },
    }
    (OUT / "provenance.json").write_text(json.dumps(prov, indent=2) + "\n")
    print(f"wrote {path} ({len(table)} rows)")


if __name__ == "__main__":
    main()
