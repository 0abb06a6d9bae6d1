"""Results of PE scenario runs: ``SimulationResult`` (one scenario, with breakdowns and exposure),
``ComparisonResult`` (headlines side by side), the headline records with Monte Carlo bands, and the
sources and assumptions every run reports."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tariffscope.models import elasticities as el, uncertainty as unc
from tariffscope.models.retail import basis_text as retail_basis_text
from tariffscope.scenarios.outcomes import HEADLINE
from tariffscope.scenarios.schema import Scenario

if TYPE_CHECKING:
    from tariffscope.scenarios.run import Problem


def metric_dicts(values: np.ndarray, samples: np.ndarray | None) -> list[dict[str, Any]]:
    bands = unc.bands(samples) if samples is not None and samples.shape[0] else None
    out = []
    for j, (key, label, unit) in enumerate(HEADLINE):
        v = values[j]
        d: dict[str, Any] = {"name": key, "label": label, "unit": unit, "value": float(v) if np.isfinite(v) else None}
        if bands is not None:
            d.update(bands[j].to_dict())
        out.append(d)
    return out


def run_basis(problem: Problem, trade_year: int) -> dict[str, Any]:
    """What every PE output names: horizon, reference regime, base year, data basis and pass-through."""
    from tariffscope.scenarios.resolve import reference_label

    out = {"horizon": problem.horizon, "horizon_label": el.horizon_label(problem.horizon),
           "reference": problem.reference, "reference_label": reference_label(problem.reference),
           "base_year": int(trade_year),
           "data_basis": f"census_import_weights_{trade_year}: US imports for consumption by HTS10 x partner, "
                         f"{trade_year} (Census, customs value)",
           "pass_through": "exporter absorption by origin x product from data/elasticities/pass_through.yaml "
                           "(default full pass-through; Japanese passenger cars 0.6, range 0.4-0.95)",
           "retail_pass_through": retail_basis_text()}
    if problem.absorption_override:  # a scenario's model.absorption (or --absorption) replaces the cited values
        given = ", ".join(f"{k}={v:g}" for k, v in problem.absorption_override.items())
        out["pass_through"] = f"{out['pass_through']}; overridden by model.absorption: {given}"
    out["text"] = basis_line(out)
    return out


def basis_line(basis: dict[str, Any]) -> str:
    """One line naming the basis of a PE output (kept as ``basis['text']``: the CLI, brief and web show it)."""
    return (f"Horizon: {basis['horizon']} ({basis['horizon_label']}); reference: {basis['reference_label']}; "
            f"base year {basis['base_year']}; data: {basis['data_basis']}")


# the parameter files shipped in data/elasticities: tariffscope's tables of published estimates
CITED = "tariffscope (tables of the published estimates they cite)"


def run_sources(problem: Problem) -> list[dict[str, str]]:
    prov = el.provenance()
    out = [
        {"source": "census_import_weights_2024", "what": "US imports for consumption by HTS10 x partner, 2024 (PE base flows)",
         "vintage": "2024 annual"},
        {"source": "tariffscope.tariffs (duty_panel)", "what": "tariff regimes per line from the measure catalogue",
         "publisher": "tariffscope (computed in this run)"},
        {"source": "elasticities", "what": "Broda-Weinstein (2006) sigmas; Hauk (USITC) import demand elasticities",
         "publisher": CITED,
         "vintage": prov.get("built_at", ""), "sha256": prov.get("output", {}).get("sha256", "")}
        if problem.horizon == "long" else
        {"source": "elasticities (short horizon)", "publisher": CITED, "what": "one-year trade and import-demand elasticities: "
         + el.horizon_parameters("short")["trade_elasticity"]["citation"], "vintage": "data/elasticities/horizon.yaml"},
        {"source": "pass_through", "publisher": CITED, "what": "exporter absorption by origin x product (data/elasticities/pass_through.yaml)",
         "vintage": "data/elasticities/pass_through.yaml"},
        {"source": "retail_pass_through", "publisher": CITED, "what": "downstream (retail) pass-through by product, US retail car prices "
         "(data/elasticities/retail_pass_through.yaml)", "vintage": "data/elasticities/retail_pass_through.yaml"},
    ]
    for f in problem.facts:
        if f is not None:
            out.extend(f.sources)
    return out


@dataclass
class SimulationResult:
    """One scenario against the reference regime (or ``against``)."""

    scenario: Scenario
    against: str | None
    headline: list[dict[str, Any]]
    by_sector: Any            # pandas.DataFrame
    by_origin: Any
    exposure: dict[str, Any]
    elasticity_sources: dict[str, dict[str, int]]
    draws: int
    seed: int
    lines: Any | None = None  # pandas.DataFrame when outputs.lines
    by_hs2: Any | None = None  # pandas.DataFrame when outputs.by lists hs2
    sources: list[dict[str, str]] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    reference: str = "reference (the regime in force on 2025-01-01, 2024 flows)"  # without `against`
    flows: dict[str, Any] | None = None  # world-panel base flows: panel, importer, year, source, vintage
    basis: dict[str, Any] = field(default_factory=dict)  # horizon, reference, base year, data basis (run_basis)
    two_sided: dict[str, Any] | None = None  # a two-sided package: exports, imports, balance (scenarios.packages)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.headline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name, "description": self.scenario.description, "partner": self.scenario.partner,
            "against": self.against or self.reference, "basis": self.basis, "draws": self.draws, "seed": self.seed,
            **({"flows": self.flows} if self.flows else {}),
            "headline": self.headline,
            "by_sector": records(self.by_sector), "by_origin": records(self.by_origin),
            **({"by_hs2": records(self.by_hs2)} if self.by_hs2 is not None else {}),
            **({"lines": records(self.lines)} if self.lines is not None else {}),
            **({"two_sided": self.two_sided} if self.two_sided is not None else {}),
            "exposure": self.exposure, "elasticity_sources": self.elasticity_sources,
            "assumptions": self.assumptions, "sources": self.sources,
        }


@dataclass
class ComparisonResult:
    names: list[str]
    against: str | None
    packages: list[dict[str, Any]]   # {name, description, partner, headline: [...], two_sided (two-sided runs)}
    draws: int
    seed: int
    sources: list[dict[str, str]] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    reference: str = "reference (the regime in force on 2025-01-01, 2024 flows)"
    flows: dict[str, Any] | None = None
    basis: dict[str, Any] = field(default_factory=dict)

    def to_frame(self):
        import pandas as pd

        rows = []
        for p in self.packages:
            for m in p["headline"]:
                rows.append({"scenario": p["name"], **m})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"scenarios": self.packages, "against": self.against or self.reference, "basis": self.basis,
                **({"flows": self.flows} if self.flows else {}),
                "draws": self.draws, "seed": self.seed, "metrics": [{"name": k, "label": label, "unit": u} for k, label, u in HEADLINE],
                "assumptions": self.assumptions, "sources": self.sources}


def records(frame: Any) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in frame.to_dict("records")]


ASSUMPTIONS = [
    "Partial equilibrium per product (Armington CES between origins, constant-elasticity import demand), "
    "2024 HS10 x partner flows as the base, traded under the reference regime (default: in force on 2025-01-01).",
    "Horizon: short (default) uses the one-year trade elasticity of Boehm, Levchenko and Pandalai-Nayar (2023) for "
    "every product; long uses per-product Broda-Weinstein substitution and Hauk import-demand elasticities.",
    "Exporters absorb a share of the duty change in their dollar prices as the cited evidence says (pass_through.yaml): "
    "none on average (2018-19 studies), 0.6 for Japanese passenger cars (2025); a finite omega uses a supply curve instead.",
    "Buyers see a share r of the landed, duty-paid price change (retail_pass_through.yaml): well below 1 for passenger "
    "cars and light trucks (US retail new-vehicle prices barely rose in 2025, the basis names r), 1 elsewhere; the rest is the US importers' "
    "and dealers' margin (us_importer_margin). Customs value and duty are unchanged by r.",
    "US exports are held fixed: no retaliation, exchange-rate or income effects; the balance change is minus the import change.",
    "Exporter output and jobs are first-order: output falls one for one with lost exports to the US; direct jobs follow "
    "export volume, supplier-linked jobs the BEA total-requirements linkage of the motor vehicle industry (US table as a "
    "proxy); the margin exporters give up in their prices is shown apart, with no jobs attached.",
    "Monte Carlo: short horizon, the one-year elasticities drawn over their literature ranges; long horizon, lognormal "
    "elasticities around point estimates (log-sd = se/point where reported, else 0.25); absorption over its range with its median at the cited value.",
]
