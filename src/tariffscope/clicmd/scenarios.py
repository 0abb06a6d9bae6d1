"""CLI commands of the scenarios area: ``scenarios list|show|validate``, ``simulate``, ``compare``.

Each command parses options, calls ``tariffscope.api`` and renders a rich table, JSON or CSV.
"""
from __future__ import annotations

import json
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import app, scenarios_app
from tariffscope.clicmd._limits import check_draws, check_workers
from tariffscope.clicmd._render import csv_text
from tariffscope.errors import InputError

console = Console(width=170, markup=False)  # user text is never read as markup
FORMATS = ("table", "json", "csv")


UNIT_LABEL = {"usd": "bn USD", "fraction": "%", "persons": "persons"}


def _fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit == "usd":
        return f"{v / 1e9:+,.1f}"
    if unit == "fraction":
        return f"{v * 100:+.2f}"
    if unit == "persons":
        return f"{v:+,.0f}"
    return f"{v:+,.3g}"


def _label(m: dict[str, Any]) -> str:
    return f"{m['label']}, {UNIT_LABEL.get(m['unit'], m['unit'])}"


def _cell(m: dict[str, Any]) -> str:
    s = _fmt_value(m.get("value"), m["unit"])
    if m.get("p05") is not None and m.get("p95") is not None:
        s += f" [{_fmt_value(m['p05'], m['unit'])}, {_fmt_value(m['p95'], m['unit'])}]"
    return s


_csv = csv_text


def _emit_machine(fmt: str, d: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    """Print JSON (the whole result) or CSV (headline rows); False for the table format."""
    if fmt == "json":
        typer.echo(json.dumps(d, indent=2, default=str))
    elif fmt == "csv":
        typer.echo(_csv(rows), nl=False)
    return fmt != "table"


def _basis_cols(d: dict[str, Any]) -> dict[str, Any]:
    """The basis every CSV row carries (horizon, reference regime, base year), as the table and JSON do."""
    b = d.get("basis") or {}
    return {"horizon": b.get("horizon"), "reference": b.get("reference"), "base_year": b.get("base_year")}


def _two_sided_csv(name: str, block: dict[str, Any] | None, d: dict[str, Any]) -> list[dict[str, Any]]:
    """The two-sided rows of a package for CSV, named ``two_sided.<outcome>``."""
    if not block:
        return []
    return [{"scenario": name, **m, "name": f"two_sided.{m['name']}", **_basis_cols(d)} for m in block["rows"]]


def _print_two_sided(names: list[str], blocks: list[dict[str, Any] | None], draws: int) -> None:
    """The two-sided table (exports, imports, balance, the partner's auto sector), the levels on the official
    basis, the package's items and its notes."""
    if not any(blocks):
        return
    t = Table("two-sided outcome", *names, title="Two-sided: US exports, imports and balance with the partner"
              + (" [p05, p95]" if draws else ""))
    first = next(b for b in blocks if b)
    for j, meta in enumerate(first["rows"]):
        t.add_row(_label(meta), *[_cell(b["rows"][j]) if b else "" for b in blocks])
    console.print(t)
    shown: list[str] = []  # the basis lines once (packages of one run share them unless their partners differ)
    for b in blocks:
        shown += [line for line in (f"  {k}: {v}" for k, v in (b or {}).get("basis", {}).items()) if line not in shown]
    for line in shown:
        console.print(line, highlight=False, soft_wrap=True)
    em = first["export_model"]
    console.print(f"  export elasticity {em['elasticity']:g} (range {em['low']:g}-{em['high']:g}; {em['data']})",
                  highlight=False, soft_wrap=True)
    for name, b in zip(names, blocks, strict=True):
        if not b:
            continue
        lv = b.get("levels")
        if lv:
            parts = [f"{r['name']} {r['base'] / 1e9:,.2f} bn" + ("" if r["change"] is None else f" {r['change'] / 1e9:+,.2f} bn")
                     for r in lv["rows"]]
            console.print(f"{name}: {lv['year']} levels ({lv['basis']}; {lv['vintage']}) and changes: " + "; ".join(parts),
                          highlight=False, soft_wrap=True)
        for pu in b["purchases"]:
            console.print(f"  purchase: {pu['what'] or ', '.join(pu['prefixes'])}: {pu['per_year'] / 1e9:,.2f} bn a year, "
                          f"additional share {pu['additionality_used']:.2f} -> exports {pu['exports_change'] / 1e9:+,.2f} bn"
                          + (f" ({pu['source']})" if pu["source"] else ""), highlight=False, soft_wrap=True)
        for pt in b["partner_tariffs"]:
            console.print(f"  partner tariff {', '.join(pt['prefixes'])}: {pt['from']:.1%} -> {pt['to']:.1%} on "
                          f"{pt['base'] / 1e9:,.2f} bn ({pt['base_source']}) -> exports {pt['exports_change'] / 1e9:+,.2f} bn",
                          highlight=False, soft_wrap=True)
        for iv in b["investment"]:
            console.print(f"  memo: investment {iv['amount'] / 1e9:,.0f} bn USD, {iv['horizon']}: trade effect "
                          f"{iv['trade_effect']}", highlight=False, soft_wrap=True)
        for n in b["notes"]:
            console.print(f"  note: {n}", highlight=False, soft_wrap=True)


ABSORPTION_HELP = ("override exporter absorption (as backtest): 0.5, or JPN:8703=0.63,KOR=0.2 "
                   "(origin[:HS prefix]=share of the duty change the exporter bears)")


def _with_absorption(spec: Any, text: str | None) -> Any:
    """The scenario ``spec`` (name or file) with ``--absorption`` set as its ``model.absorption`` (validated like a
    scenario file's); the spec unchanged without the option. The backtest's parser, so both read the same syntax."""
    from tariffscope.clicmd.backtest import _parse_absorption

    ab = _parse_absorption(text)
    if ab is None or spec is None:
        return spec
    d = api.load_scenario(spec).model_dump(by_alias=True)  # python mode: omega .inf stays a float
    d["model"]["absorption"] = {"*": ab} if isinstance(ab, float) else ab
    return api.scenario_from_dict(d, source="--absorption")


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"bad --format {fmt!r}: choose table, json or csv")
    return fmt


@scenarios_app.command("list")
def list_cmd() -> None:
    """List the built-in scenarios. Example: tariffscope scenarios list"""
    t = Table("name", "base", "partner", "changes", "description", show_lines=False)
    for s in api.scenarios():
        t.add_row(s["name"], s["base"], s["partner"], str(s["changes"]), s["description"][:90])
    console.print(t)


@scenarios_app.command("show")
def show_cmd(name: str = typer.Argument(..., help="built-in name or YAML file")) -> None:
    """Show a scenario as validated YAML. Example: tariffscope scenarios show july-9-hike"""
    sc = api.load_scenario(name)
    console.print(yaml.safe_dump(sc.model_dump(mode="json", by_alias=True, exclude_defaults=True), sort_keys=False, allow_unicode=True), highlight=False, soft_wrap=True)


@scenarios_app.command("validate")
def validate_cmd(path: str = typer.Argument(..., help="scenario YAML file")) -> None:
    """Validate a scenario file without running it. Example: tariffscope scenarios validate my.yaml"""
    sc = api.load_scenario(path if path.endswith((".yaml", ".yml")) else path)
    console.print(f"OK: {sc.name} ({len(sc.changes)} changes, base "
                  f"{'MFN only' if sc.base.regime == 'no_additional_tariffs' else sc.base.date})", highlight=False)


@app.command("simulate")
def simulate_cmd(
    scenario: str = typer.Argument(..., help="built-in scenario name or YAML file"),
    draws: int = typer.Option(0, "--draws", help="Monte Carlo draws over elasticities (0 = point estimate only)"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same bands)"),
    against: str | None = typer.Option(None, "--against", help="report differences against this scenario"),
    workers: int | None = typer.Option(None, "--workers", help="worker processes for the draws"),
    fmt: str = typer.Option("table", "--format", help="table, json or csv"),
    panel: str | None = typer.Option(None, "--panel", help="world panel NAME: base flows of --importer in --year (HS6 x origin)"),
    importer: str | None = typer.Option(None, "--importer", help="importer of the panel run (ISO3, name or code)"),
    year: int | None = typer.Option(None, "--year", help="year of the panel's flows"),
    horizon: str | None = typer.Option(None, "--horizon", help="short (one year, default) or long (7-10 years)"),
    reference: str | None = typer.Option(None, "--reference", help="regime changes are measured from: a date "
                                         "(default 2025-01-01) or mfn"),
    absorption: str | None = typer.Option(None, "--absorption", help=ABSORPTION_HELP),
) -> None:
    """Run one scenario through the PE model. Example: tariffscope simulate july-9-hike --draws 200

    On a world panel: tariffscope simulate my-rates.yaml --panel baci_hs17 --importer DEU --year 2022
    """
    _check_format(fmt)
    check_draws(draws)
    check_workers(workers)
    res = api.simulate(_with_absorption(scenario, absorption), draws=draws, seed=seed,
                       against=_with_absorption(against, absorption), workers=workers, progress=fmt == "table",
                       panel=panel, importer=importer, year=year, horizon=horizon, reference=reference)
    d = res.to_dict()
    if _emit_machine(fmt, d, [{"scenario": d["scenario"], **m, **_basis_cols(d)} for m in d["headline"]]
                     + _two_sided_csv(d["scenario"], d.get("two_sided"), d)):
        return
    t = Table("outcome", "change" + (" [p05, p95]" if draws else ""),
              title=f"{d['scenario']} vs {d['against']}")
    for m in d["headline"]:
        t.add_row(_label(m), _cell(m))
    console.print(t)
    console.print(d["basis"]["text"], highlight=False, soft_wrap=True)
    _print_two_sided([d["scenario"]], [d.get("two_sided")], draws)
    car = d["exposure"].get("cars_hs8703") or {}
    if car.get("value_change") is not None:
        console.print(f"Partner's passenger cars (HS 8703): value {car['value_change_pct']:+.1%}, volume "
                      f"{car['volume_change_pct']:+.1%}, US importer price {car['importer_price']:+.1%}, exporter price "
                      f"{car['exporter_price']:+.1%}", highlight=False, soft_wrap=True)
    if d.get("flows"):
        fl = d["flows"]
        console.print(f"Base flows: {fl['importer']}'s imports {fl['year']}, {fl['lines']:,} HS6 x origin lines from panel "
                      f"{fl['panel']} ({', '.join(fl['files'])}, vintage {fl['vintage'] or 'n/a'})", highlight=False, soft_wrap=True)
    s = Table("sector", "imports before", "change", "change %", "revenue change", title="By sector (all origins)")
    for r in sorted(d["by_sector"], key=lambda r: r["value_change"])[:12]:
        s.add_row(str(r["sector"]), f"{r['value_base'] / 1e9:,.2f} bn", f"{r['value_change'] / 1e9:+,.2f} bn",
                  f"{r['value_change_pct']:+.1%}", f"{r['revenue_change'] / 1e9:+,.2f} bn")
    console.print(s)
    e = d["exposure"]
    if e.get("jobs") is not None:
        console.print(f"Exporter exposure ({e['note']}): auto exports {e['delta_exports_usd'] / 1e9:+,.2f} bn USD = "
                      f"{e['output_share']:+.2%} of sector output; jobs {e['jobs']:+,.0f} direct, {e['jobs_supplier']:+,.0f} "
                      f"supplier-linked; margin given up in prices {e['margin_usd'] / 1e9:+,.2f} bn USD; "
                      f"{e['vehicles']:+,.0f} cars.", highlight=False, soft_wrap=True)
    console.print("Elasticity sources (products): " + "; ".join(
        f"{p}: " + ", ".join(f"{k} {v}" for k, v in c.items()) for p, c in d["elasticity_sources"].items()),
        highlight=False, soft_wrap=True)
    for src in d["sources"]:
        console.print(f"  source: {src.get('source')}: {src.get('what') or src.get('item')}", highlight=False, soft_wrap=True)


@app.command("compare")
def compare_cmd(
    scenarios: list[str] = typer.Argument(..., help="scenario names or YAML files"),
    against: str | None = typer.Option(None, "--against", help="report differences against this scenario"),
    draws: int = typer.Option(100, "--draws", help="Monte Carlo draws over elasticities"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    workers: int | None = typer.Option(None, "--workers", help="worker processes for the draws"),
    chart: str | None = typer.Option(None, "--chart", help="write a chart (.png/.svg/.pdf)"),
    fmt: str = typer.Option("table", "--format", help="table, json or csv"),
    horizon: str | None = typer.Option(None, "--horizon", help="short (one year, default) or long (7-10 years)"),
    reference: str | None = typer.Option(None, "--reference", help="regime changes are measured from: a date "
                                            "(default 2025-01-01) or mfn"),
    absorption: str | None = typer.Option(None, "--absorption", help=ABSORPTION_HELP),
) -> None:
    """Compare packages side by side. Example: tariffscope compare june-2025 july-9-hike auto-relief japan-deal"""
    _check_format(fmt)
    check_draws(draws)
    check_workers(workers)
    if chart:  # checked before the draws, not after
        from pathlib import Path

        from tariffscope.report.outfiles import check_output_file

        if Path(chart).suffix.lower() not in (".png", ".svg", ".pdf"):
            raise InputError(f"--chart must end in .png, .svg or .pdf, not {Path(chart).name!r}")
        check_output_file(chart, "--chart")
    res = api.compare([_with_absorption(s, absorption) for s in scenarios], against=_with_absorption(against, absorption),
                      draws=draws, seed=seed, workers=workers, progress=fmt == "table",
                      horizon=horizon, reference=reference)
    d = res.to_dict()
    if chart:
        from tariffscope.report.charts_scenarios import comparison_figure
        from tariffscope.report.outfiles import atomic_output

        fig = comparison_figure(d)
        with atomic_output(chart) as tmp:  # never a truncated chart
            fig.savefig(tmp, dpi=120)
    if _emit_machine(fmt, d, [{"scenario": p["name"], **m, **_basis_cols(d)} for p in d["scenarios"] for m in p["headline"]]
                     + [r for p in d["scenarios"] for r in _two_sided_csv(p["name"], p.get("two_sided"), d)]):
        return
    title = f"Change against {d['against']}" + (f"; [p05, p95] of {draws} draws, seed {seed}" if draws else "")
    t = Table("outcome", *[p["name"] for p in d["scenarios"]], title=title)
    for j, meta in enumerate(d["metrics"]):
        t.add_row(_label(meta), *[_cell(p["headline"][j]) for p in d["scenarios"]])
    console.print(t)
    console.print(d["basis"]["text"], highlight=False, soft_wrap=True)
    _print_two_sided([p["name"] for p in d["scenarios"]], [p.get("two_sided") for p in d["scenarios"]], draws)
    for a in d["assumptions"]:
        console.print(f"  - {a}", highlight=False, soft_wrap=True)
    if chart:
        console.print(f"chart written to {chart}")
