"""The brief section on the general-equilibrium experiment shipped for the partner (``api.ge_simulate``)."""
from __future__ import annotations

from pathlib import Path

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report import fmt
from tariffscope.report.sections._common import Context, Section, SectionUnavailable, Table
from tariffscope.report.sections.timeline import last_covered_day

GE_SPECS = {"JPN": "us_tariffs_2025_japan.yaml"}  # package data/ge/: data, coefficients and model options of the experiment
GE_BASE_DATE = "2025-01-01"


def ge_section(ctx: Context) -> Section:
    """The GE experiment shipped in data/ge/ for the partner, with its US tariff rates computed in this run by the engine."""
    import tempfile

    import yaml

    from tariffscope import config

    s = Section("ge", f"General equilibrium: the 2025 US tariffs on {ctx.partner_name} across 69 economies")
    name = GE_SPECS.get(ctx.partner)
    path = config.PACKAGE_DIR / "data" / "ge" / name if name else None
    if path is None or not path.is_file():
        raise SectionUnavailable(f"no GE experiment for {ctx.partner_name} is shipped with it")
    from tariffscope.ingest.safeyaml import read_yaml_file

    spec = read_yaml_file(path)
    date = min(ctx.as_of, last_covered_day()).isoformat()  # the catalogue speaks for no later day
    r0 = api.etr(ctx.partner, date=GE_BASE_DATE, con=ctx.con)
    r1 = api.etr(ctx.partner, date=date, con=ctx.con)
    spec["changes"] = [{"tariff": "ad_valorem", "importer": "USA", "exporters": [ctx.partner],
                        "base_rate": float(r0.etr), "rate": float(r1.etr)}]
    spec["rates_source"] = (f"tariff engine in this run (tariffscope.api.etr, {r1.weights_source} ({r1.weights_period}), "
                            f"catalogue {r1.catalogue_version}): {GE_BASE_DATE} -> {date}")
    with tempfile.TemporaryDirectory(prefix="tariffscope-brief-ge-") as tmp:
        spec_path = Path(tmp) / path.name
        spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
        res = api.ge_simulate(str(spec_path)).to_dict()
    s.data = res
    s.data["rates"] = {"base_date": GE_BASE_DATE, "base_rate": r0.etr, "date": date, "rate": r1.etr}
    data = spec.get("data", {})
    s.sources = [{"source": "advanced_guide_2016", "title": str(data.get("label") or data.get("path")),
                  "publisher": "WTO and UNCTAD (An Advanced Guide to Trade Policy Analysis: The Structural Gravity Model, 2016)",
                  "vintage": f"base year {data.get('year', '')}"},
                 {"source": "tariffscope.api.etr", "title": "US trade-weighted tariff on the partner, from the engine",
                  "publisher": "tariffscope (computed in this run)", "vintage": r1.catalogue_version}]
    countries = {c["country"]: c for c in res["countries"]}
    if not countries:
        raise TariffscopeError("the GE experiment returned no country results")
    focus = [c for c in ("USA", ctx.partner) if c in countries]
    others = sorted((c for c in countries if c not in focus), key=lambda c: -abs(countries[c]["real_gdp_change_pct"]))[:8]
    cols = [("real_gdp_change_pct", "Real income"), ("welfare_change_pct", "Welfare (real expenditure)"), ("exports_change_pct", "Exports"),
            ("imports_change_pct", "Imports"), ("output_change_pct", "Output"), ("factory_price_change_pct", "Factory-gate price")]
    s.tables.append(Table(["Economy"] + [lab + " %" for _, lab in cols],
                          [[c] + [fmt.num(countries[c][k], 3) for k, _ in cols] for c in focus + others],
                          caption=f"Percent change from the baseline: {ctx.partner_name} and the United States, then the largest other effects",
                          align=["l"] + ["r"] * len(cols)))
    usa, par = countries["USA"], countries[ctx.partner]
    s.sentences.append(
        f"Raising the US tariff on goods from {ctx.partner_name} from {fmt.pct(r0.etr, 1)} to {fmt.pct(r1.etr, 1)} (the engine's trade-weighted "
        f"rates on {GE_BASE_DATE} and {date}) changes {ctx.partner_name}'s real income by {fmt.num(par['real_gdp_change_pct'], 3)}% and US real income by "
        f"{fmt.num(usa['real_gdp_change_pct'], 3)}% in the structural gravity model (tariff revenue kept by the US; {res['base']['text']}).")
    s.notes.append(str(spec.get("description", "")))
    s.notes.append("Real income: " + res["measures"]["real_gdp_change_pct"] + ". Welfare: " + res["measures"]["welfare_change_pct"] + ".")
    s.notes.append(res["not_comparable"])
    s.notes.extend(str(n) for n in res["notes"])
    diag = res["diagnostics"]
    s.notes.append("Solver: " + ", ".join(f"{k.replace('_', ' ')} {v:.3g}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
                                          for k, v in diag.items() if not isinstance(v, (list, dict)) and k != "seconds"))
    # (the solver's wall time is left out: the same data must give the same page; --timings prints the sections' times)
    s.data["assumptions"] = [f"GE: {data.get('label', '')} ({res['base']['text']}); elasticity of substitution sigma = "
                             f"{spec.get('model', {}).get('sigma')}; trade imbalances held fixed; no retaliation; horizon: long run "
                             "(a new equilibrium, not a one-year path)."]
    return s


