"""PE runs on a world panel: any importer's HS6 x origin imports as the base flows (no tariffs in the
panel, so only a scenario's explicit rate changes apply), with the checks, labels, sources and
assumptions that differ from a run on the US warehouse lines."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.scenarios.results import ASSUMPTIONS
from tariffscope.scenarios.schema import MeasureChange, Scenario


def no_tariff_panel(day, origins=None, **_kw) -> pa.Table:
    """A duty panel matching no line (one placeholder row of no origin): every line gets rate 0, as a
    world panel carries no tariffs."""
    return pa.table({"hts10": pa.array(["0"], pa.string()), "origin": pa.array(["---"], pa.string()),
                     "mfn_rate": pa.array([0.0], pa.float64()), "total_rate": pa.array([0.0], pa.float64())})


def panel_flows(panel: str, importer: str, year: int) -> tuple[pa.Table, dict[str, Any]]:
    """Base flows of ``importer`` in ``year`` from world panel ``panel`` as PE lines (hts10 = the HS6
    product, origin, value in USD; zero flows dropped) and their provenance."""
    import pyarrow.compute as pc

    from tariffscope import panels

    imp = panels.panel_imports(panel, importer, int(year), by="hs6")
    imp = imp.filter(pc.greater(imp.column("value_usd"), 0))
    if imp.num_rows == 0:
        raise DataNotFoundError(f"panel {panel!r} has no imports of {importer} in {year}")
    info = panels.panel_info(panel)
    lines = pa.table({"hts10": imp.column("product").cast(pa.string()), "origin": imp.column("origin").cast(pa.string()),
                      "value": imp.column("value_usd").cast(pa.float64())})
    iso = panels.panel_country(importer)
    ctx = {"panel": panel, "importer": iso, "year": int(year), "lines": lines.num_rows,
           "source": info.source, "files": sorted({Path(s.file).name for s in info.sources}), "vintage": info.vintage}
    return lines, ctx


def check_panel_scenario(sc: Scenario, importer: str) -> None:
    """A panel run takes its rates from the scenario's explicit rate changes only."""
    if sc.base.regime != "no_additional_tariffs":
        why = ("the US tariff engine's regime on that date does not apply to imports of " + importer
               if importer != "USA" else
               "the US engine's regime is computed on HTS10 warehouse lines, not on a world panel's HS6 flows "
               "(run without --panel for it)")
        raise InputError(f"scenario {sc.name!r} has a date-based base ({sc.base.date}): {why}; on a world panel use "
                         "base: no_additional_tariffs with explicit rate changes (origins x products, mode add|set|floor)")
    for i, ch in enumerate(sc.changes):
        if isinstance(ch, MeasureChange):
            raise InputError(f"scenario {sc.name!r}: changes[{i}] applies US catalogue measure {ch.measure!r}; on a world "
                             f"panel (importer {importer}) give the rate change explicitly (origins, products, mode, rate)")
    if sc.partner == importer:
        raise InputError(f"scenario {sc.name!r}: partner {sc.partner} is the importer itself")


def panel_setup(scs: list[Scenario], panel: str | None, importer: str | None, year: int | None, lines, duty_panel):
    """(lines, duty_panel, flows context or None) for a run; with ``panel`` the flows come from the panel."""
    if panel is None:
        if importer is not None or year is not None:
            raise InputError("importer/year need a panel (--panel NAME)")
        return lines, duty_panel, None
    if importer is None or year is None:
        raise InputError("a panel run needs an importer and a year")
    if lines is not None or duty_panel is not None:
        raise InputError("give either panel= or lines=/duty_panel=, not both")
    from tariffscope import panels

    iso = panels.panel_country(importer)
    for sc in scs:
        check_panel_scenario(sc, iso)
    lines, ctx = panel_flows(panel, iso, year)
    return lines, no_tariff_panel, ctx


def panel_relabel(metrics: list[dict[str, Any]], importer: str) -> list[dict[str, Any]]:
    for m in metrics:
        m["label"] = m["label"].replace("to the US", f"to {importer}").replace("US ", f"{importer} ")
    return metrics


def panel_sources(run_sources: list[dict[str, str]], ctx: dict[str, Any]) -> list[dict[str, str]]:
    out = list(run_sources)
    out[0] = {"source": ctx["source"],
              "what": f"imports of {ctx['importer']} by HS6 x origin, {ctx['year']} (PE base flows; "
                      f"{', '.join(ctx['files'])}, vintage {ctx['vintage'] or 'n/a'})",
              "vintage": ctx["vintage"] or ""}
    out[1] = {"source": "scenario rate changes", "what": "explicit rates by origin x product; base rates 0 (the panel has no tariffs)"}
    return out


def panel_assumptions(ctx: dict[str, Any]) -> list[str]:
    return [f"Partial equilibrium per product (Armington CES between origins, constant-elasticity import demand), "
            f"{ctx['year']} HS6 x origin imports of {ctx['importer']} from world panel {ctx['panel']!r} as the base.",
            "The panel carries no tariffs: base rates are taken as 0 and the scenario's rate changes are the whole "
            "tariff wedge (an 'add' of 0.10 raises the tariff factor by 10%).",
            *ASSUMPTIONS[1:]]
