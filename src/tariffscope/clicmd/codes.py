"""CLI commands of the codes area: ``tariffscope codes country|hts|rate|sectors``.

Look-ups only: resolve a country in any spelling, describe an HTS code with its sector and MFN rate,
parse a rate text, list the sector groups.
"""
from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import app
from tariffscope.errors import InputError

codes_app = typer.Typer(help="Code lists: countries, HTS codes, rate texts, sectors.", no_args_is_help=True)
app.add_typer(codes_app, name="codes")
console = Console(width=140, markup=False)  # user text is never read as markup


def _fmt(fmt: str) -> str:
    if fmt not in ("table", "json"):
        raise InputError(f"bad --format {fmt!r}: choose table or json")
    return fmt


def _kv_table(title: str, rows: list[tuple[str, object]]) -> Table:
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(k, "" if v is None else str(v))
    return t


@codes_app.command("country")
def country(text: str = typer.Argument(..., help="ISO3, ISO2, name, Census code or UN M49 code"),
            fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """Resolve a country in any usual spelling. Example: tariffscope codes country "Korea, South" """
    _fmt(fmt)
    from tariffscope.codes.countries import group_members

    c = api.resolve_country(text)
    d: dict[str, Any] = {"iso3": c.iso3, "iso2": c.iso2, "name": c.name, "census_code": c.census_code, "m49": c.m49,
         "japan_customs_code": c.japan_customs_code}
    if c.is_group:
        d["members"] = list(group_members(c.iso3)) if c.iso3 == "EU27" else f"{len(group_members(c.iso3))} countries"
    if fmt == "json":
        typer.echo(json.dumps(d, ensure_ascii=False))
        return
    console.print(_kv_table(f"{text!r}", list(d.items())))
    console.print("source: codes/data/countries.csv (Census Schedule C, Japan Customs list, country_converter)")


@codes_app.command("hts")
def hts(text: str = typer.Argument(..., help="HS/HTS code: 8703.23.01.40, 8703230140, 8703.23 ..."),
        revision: str | None = typer.Option(None, help="HTS revision (default: latest loaded), e.g. 2025_rev_17"),
        fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """Describe an HTS code: full description, sector, column-1 general rate. Example: tariffscope codes hts 8703.23.01.40"""
    _fmt(fmt)
    from tariffscope.codes.products import format_hts, parents
    from tariffscope.tariffs.schedule import parse_rate

    code = api.normalize_hts(text)
    d = api.describe_hts(code, revision)
    rate = parse_rate(d.rate_text)
    out = {"code": d.code, "dotted": d.dotted, "revision": d.revision, "description": d.description,
           "full_description": d.full_description, "parents": parents(d.code), "sector": api.sector_of(d.code),
           "units": d.units, "general_rate_text": d.rate_text,
           "rate_from": format_hts(d.rate_from) if d.rate_from else None, "rate": rate.to_dict(),
           "source": d.source}
    if fmt == "json":
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    from tariffscope.codes.sectors import sector_label

    rate_s = rate.form if rate.form in ("none", "unparsed") else ", ".join(
        f"{k}={v}" for k, v in rate.to_dict().items() if v is not None)
    console.print(_kv_table(f"HTS {d.dotted} ({d.revision})", [
        ("description", d.full_description), ("sector", sector_label(str(out["sector"]))), ("units", d.units),
        ("general rate", f"{d.rate_text} (on {out['rate_from']})" if d.rate_text else "none"), ("parsed", rate_s)]))
    console.print(f"source: {d.source} (USITC)")


@codes_app.command("rate")
def rate(text: str = typer.Argument(..., help="an HTS rate text, e.g. '5% + 3¢/kg'")) -> None:
    """Parse an HTS rate text into its components (JSON). Example: tariffscope codes rate '4.4¢/kg + 6%'"""
    from tariffscope.tariffs.schedule import parse_rate

    typer.echo(json.dumps(parse_rate(text).to_dict(), ensure_ascii=False))


@codes_app.command("sectors")
def sectors(fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """List the sector groups and how many HS prefixes map to each. Example: tariffscope codes sectors"""
    _fmt(fmt)
    from tariffscope.codes.sectors import SECTORS, sector_label, sector_map_table

    t = sector_map_table().to_pylist()
    rows: list[dict[str, Any]] = [{"sector": s, "label": sector_label(s), "prefixes": sum(1 for r in t if r["sector"] == s),
             "examples": [r["prefix"] for r in t if r["sector"] == s][:6]} for s in SECTORS]
    if fmt == "json":
        typer.echo(json.dumps(rows))
        return
    tab = Table(title="Sectors (longest HS prefix wins; unmapped codes are 'other')", title_justify="left")
    for c in ("sector", "label", "prefixes", "examples"):
        tab.add_column(c)
    for r in rows:
        tab.add_row(r["sector"], r["label"], str(r["prefixes"]), " ".join(r["examples"]))
    console.print(tab)
    console.print("source: codes/data/sector_map.csv (HS chapters/headings; Section 232 auto parts list, note 33(g))")
