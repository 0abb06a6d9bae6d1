"""The GE model in a sweep: one GE SPEC per grid point, outcomes per focus country and the bilateral balance."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tariffscope.compose.sweep.models import SweepModel
from tariffscope.compose.sweep.spec import SweepSpec
from tariffscope.errors import InputError

GE_METRICS = (
    # the GE's real_gdp_change is real income (output over the CPI; ge_spec.MEASURES), not comparable with GDP forecasts
    ("real_gdp_change_pct", "Real income (output / CPI; not GDP)", "%"),
    ("welfare_change_pct", "Welfare (real expenditure)", "%"),
    ("exports_change_pct", "Exports", "%"),
    ("imports_change_pct", "Imports", "%"),
)


class GEModel(SweepModel):
    """The GE model through ``models.ge_spec.run_spec`` (what ``api.ge_simulate`` runs; one GE SPEC per grid point).

    ``base`` is a GE SPEC (path or mapping, see docs/ge.md); grid paths address it (``changes[0].rate``).
    Outcomes per focus country ``c`` (``countries:``, default USA and JPN): ``<metric>_<c>`` for real
    income (``real_gdp_change``: output over the CPI, not GDP), welfare, exports and imports (% change), and
    for the first two focus countries ``a``, ``b``:
    ``balance_<a>_<b>`` (a's bilateral balance with b, counterfactual, model units) and
    ``deficit_cut_pct`` (its change in % of the baseline deficit, when a has one).
    """

    ref = "ge"

    def __init__(self, spec: SweepSpec) -> None:
        from tariffscope.models.ge_spec import GESpec, load_spec as load_ge_spec

        ref = spec.base_ref()
        self.base_dir: Path | None
        if isinstance(ref, str):
            gspec, self.base_dir = load_ge_spec(ref)
            data = gspec.model_dump(mode="json")
        else:
            data, self.base_dir = copy.deepcopy(ref), spec._source_dir
        data["changes"] = list(data.get("changes") or []) + copy.deepcopy(spec.changes)
        GESpec.model_validate(data)  # fail early, in the client, on a bad base
        self.base = data
        self.spec_name = spec.name
        self.countries = [c.upper() for c in (spec.countries or ["USA", "JPN"])]
        self.label = str((data.get("data") or {}).get("label") or (data.get("data") or {}).get("path", ""))
        self.rates_source = str(data.get("rates_source") or "")

    def run_batch(self, batch: list[tuple[int, dict[str, Any], int]]) -> list[dict[str, Any]]:
        from tariffscope.models.ge_spec import GESpec, run_spec

        out = []
        for index, data, _ in batch:
            gspec = GESpec.model_validate(dict(data, name=f"{self.spec_name}-p{index}"))
            run = run_spec(gspec, base_dir=self.base_dir)
            frame = run.to_frame()
            missing = [c for c in self.countries if c not in frame.index]
            if missing:
                raise InputError(f"GE sweep: focus countries {missing} are not in the GE data")
            row: dict[str, Any] = {}
            meta: dict[str, tuple[str, str]] = {}
            for c in self.countries:
                for col, label, unit in GE_METRICS:
                    row[f"{col}_{c}"] = float(frame.at[c, col])
                    meta[f"{col}_{c}"] = (f"{label} of {c}", unit)
            if len(self.countries) >= 2:
                a, b = self.countries[:2]
                pairs = run.pairs_frame().set_index(["exporter", "importer"])
                b0 = float(pairs.at[(a, b), "flow_baseline"] - pairs.at[(b, a), "flow_baseline"])
                b1 = float(pairs.at[(a, b), "flow_counterfactual"] - pairs.at[(b, a), "flow_counterfactual"])
                row[f"balance_{a}_{b}"] = b1
                meta[f"balance_{a}_{b}"] = (f"{a} balance with {b} (counterfactual, data units)", "")
                if b0 < 0:
                    row["deficit_cut_pct"] = 100.0 * (b1 - b0) / abs(b0)
                    meta["deficit_cut_pct"] = (f"Cut in the {a} deficit with {b} (% of baseline)", "%")
            row["_meta"] = meta
            out.append(row)
        return out

    def sources(self) -> list[dict[str, str]]:
        out = [{"source": "tariffscope.api.ge_simulate", "what": f"structural gravity GE model; data: {self.label}"}]
        if self.rates_source:
            out.append({"source": self.rates_source, "what": "base tariff rates of the GE SPEC"})
        return out
