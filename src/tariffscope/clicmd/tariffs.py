"""CLI commands: ``duty``, ``etr`` and ``measures list|show|check``.

Each command parses options, calls ``tariffscope.api`` and renders a rich table (with the legal heading of
each layer and source/vintage lines), JSON (stable keys, documented in docs/tariffs.md) or CSV.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import typer
from rich.table import Table

from tariffscope.clicmd._app import app, console, measures_app
from tariffscope.errors import InputError
from tariffscope.tariffs.vocabulary import SHORT_LABELS as SHORT

FORMATS = ("table", "json", "csv")


def _fmt(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(f"unknown format {value!r}: use one of {', '.join(allowed)}")
    return value


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _parse_options(items: list[str]) -> dict:
    """NAME=VALUE pairs: numbers become floats, true/false booleans, anything else stays text (checked by the engine)."""
    from tariffscope.errors import InputError

    out: dict = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"bad --option {item!r}: use NAME=VALUE, e.g. --option auto_parts_share=0.5")
        text = raw.strip()
        try:
            value: object = float(text)
        except ValueError:
            value = {"true": True, "false": False}.get(text.lower(), text)
        out[name.strip()] = value
    return out


@app.command()
def duty(
    hts: str = typer.Argument(..., help="10-digit HTS statistical number, e.g. 8703.23.01.40"),
    origin: str = typer.Option(..., "--origin", help="Country of origin (ISO3, ISO2, name or Census code)"),
    date: str = typer.Option(..., "--date", help="Entry date YYYY-MM-DD"),
    value: float = typer.Option(1.0, "--value", help="Customs value (USD)"),
    quantity: float | None = typer.Option(None, "--quantity", help="Quantity in the line's unit (for specific rates)"),
    metal_share: float | None = typer.Option(None, "--metal-share", help="Share of value that is steel/aluminum/copper content"),
    usmca: bool = typer.Option(False, "--usmca", help="Entered as USMCA-qualifying (Canada/Mexico)"),
    option: list[str] = typer.Option([], "--option", help="A named engine option NAME=VALUE, repeatable, e.g. "
                                     "--option auto_parts_share=1 or --option deal_dates=legal (docs/tariffs.md lists them)"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Duty on one entry, layer by layer.

    Example: tariffscope duty 8703.23.01.40 --origin JPN --date 2025-06-15 --value 30000
    """
    from tariffscope import api

    fmt = _fmt(fmt, ("table", "json"))
    opts: dict = {"usmca": True} if usmca else {}
    opts.update(_parse_options(option))
    res = api.duty(hts, origin=origin, date=date, customs_value=value, quantity=quantity, metal_share=metal_share,
                   options=opts or None)
    if fmt == "json":
        print(json.dumps(res.to_dict(), indent=2))
        return
    t = Table(title=f"Duty on HTS {res.hts10} of {res.origin} entered {res.date} (customs value {res.customs_value:,.2f})")
    for col in ("layer", "heading", "authority", "rate", "base", "amount"):
        t.add_column(col, justify="right" if col in ("rate", "base", "amount") else "left")
    for layer in res.layers:
        t.add_row(layer.measure_id, layer.heading, layer.authority, _pct(layer.rate), f"{layer.base:,.2f}", f"{layer.amount:,.2f}")
    t.add_row("total", "", "", _pct(res.effective_rate), f"{res.customs_value:,.2f}", f"{res.total_duty:,.2f}", style="bold")
    console.print(t)
    console.print(f"{res.description[:100]} | MFN text: {res.mfn_text or '-'} ({res.mfn_basis})")
    for layer in res.layers:
        if layer.share_option:
            console.print(f"  conditional scope: {layer.measure_id} ({layer.heading}) holds for {100 * layer.share:g}% of the value "
                          f"(option {layer.share_option}={layer.share:g}; change it with --option {layer.share_option}=SHARE)",
                          highlight=False)
    for r in res.rules_excluded:
        console.print(f"  not applied: {r['measure_id']} ({r['heading']}): {r['reason']}", highlight=False)
    console.print(f"Source: HTS revision {res.hts_revision} (USITC); measure catalogue {res.catalogue_version}; "
                  f"rules: {', '.join(sorted({f['rule'] for f in res.rules_fired}))}", highlight=False)


@app.command()
def etr(
    partner: str = typer.Option("WLD", "--partner", help="ISO3, EU27 or WLD (all partners)"),
    date: str | None = typer.Option(None, "--date", help="One date YYYY-MM-DD"),
    start: str | None = typer.Option(None, "--from", help="Start of a daily series"),
    end: str | None = typer.Option(None, "--to", help="End of a daily series"),
    by: str | None = typer.Option(None, "--by", help="sector | authority | hs2"),
    weights: str = typer.Option("census_import_weights_2024", "--weights", help="trade_flows source of the HS10 weights"),
    usmca_share: float = typer.Option(0.0, "--usmca-share", help="Share of Canada/Mexico imports entered as USMCA-qualifying"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Trade-weighted effective tariff rate on imports from a partner.

    Example: tariffscope etr --partner JPN --date 2025-10-01 --by authority
    """
    from tariffscope import api

    fmt = _fmt(fmt, FORMATS)
    if date is None and (start is None or end is None):
        raise InputError("give --date, or both --from and --to")
    if not 0.0 <= usmca_share <= 1.0:
        raise InputError(f"--usmca-share must be between 0 and 1, got {usmca_share}")
    res = api.etr(partner, date=date, start=start, end=end, by=by, weights=weights,
                  options={"usmca": usmca_share} if usmca_share else None)
    if fmt == "json":
        print(json.dumps(res.to_dict(), indent=2))
        return
    if fmt == "csv":
        buf = io.StringIO()
        frame = res.to_frame()
        frame.to_csv(buf, index=False)
        print(buf.getvalue(), end="")
        return
    src = f"Source: weights {res.weights_source} ({res.weights_period}); HTS {', '.join(res.hts_revisions)}; catalogue {res.catalogue_version}"
    if res.start == res.end:
        row = res.series[0]
        t = Table(title=f"Effective tariff rate on imports from {res.partner}, {row['date']}: {_pct(row['etr'])}")
        if row["by"]:
            t.add_column(by or "key")
            t.add_column("etr", justify="right")
            t.add_column("weight share", justify="right")
            t.add_column("contribution (pp)", justify="right")
            for b in sorted(row["by"], key=lambda b: -b["contribution"]):
                t.add_row(b["key"], _pct(b["etr"]), _pct(b["weight_share"]) if "weight_share" in b else "", f"{100 * b['contribution']:.2f}")
        else:
            t.add_column("measure")
            t.add_column("contribution (pp)", justify="right")
            for k, v in row["contributions"].items():
                t.add_row(k, f"{100 * v:.2f}")
        console.print(t)
    else:
        t = Table(title=f"Effective tariff rate on imports from {res.partner}, {res.start}..{res.end} "
                        "(rows where it changes; contributions in pp)")
        cols = list(res.series[0]["contributions"])
        t.add_column("from", no_wrap=True)
        t.add_column("etr", justify="right", no_wrap=True)
        for c in cols:  # contributions in percentage points
            t.add_column(SHORT.get(c, c), justify="right", no_wrap=True)
        last = None
        for r in res.series:
            if last is None or abs(r["etr"] - last) > 1e-12:
                t.add_row(r["date"], _pct(r["etr"]), *[f"{100 * r['contributions'][c]:.2f}" for c in cols])
                last = r["etr"]
        console.print(t)
    console.print(src, highlight=False)


@measures_app.command("list")
def measures_list(fmt: str = typer.Option("table", "--format", help="table | json | csv")) -> None:
    """Every measure of the catalogue with its headings and dates.

    Example: tariffscope measures list
    """
    from tariffscope import api

    fmt = _fmt(fmt, FORMATS)
    cat = api.measures()
    rows: list[dict[str, Any]] = [{"id": m.id, "authority": m.authority, "headings": " ".join(m.headings), "from": m.effective_from.isoformat(),
             "until": m.effective_until.isoformat() if m.effective_until else "", "rate_form": m.rate_form,
             "rate": m.rate if m.rate is not None else f"table {m.rates_list}"} for m in cat.measures]
    if fmt == "json":
        print(json.dumps({"catalogue_version": cat.version, "measures": rows}, indent=2))
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        print(buf.getvalue(), end="")
    else:
        t = Table(title=f"Measure catalogue {cat.version}: {len(rows)} measures (until = first day not in force; "
                        "fl = floor inclusive of MFN, mc = on metal content)")
        for c, width in (("id", 24), ("heading", 11), ("from", 10), ("until", 10), ("rate", 9)):
            t.add_column(c, no_wrap=True, min_width=width if c in ("from", "until") else None, max_width=width)
        forms = {"floor_inclusive_of_mfn": " fl", "on_metal_content": " mc", "add_on": "", "specific": " sp"}
        for r in rows:
            heads = r["headings"].split()
            m = cat.get(r["id"])
            rate = "by country" if m.rates_list else "by list" if m.rates_by_value and not m.rate else f"{100 * r['rate']:g}%"
            head = heads[0].split("-")[0] + ("-" if "-" in heads[0] else "") + (f" +{len(heads) - 1}" if len(heads) > 1 else "")
            t.add_row(r["id"], head, r["from"], r["until"],
                      rate + forms[r["rate_form"]])
        console.print(t)


@measures_app.command("show")
def measures_show(measure_id: str = typer.Argument(..., help="Measure id, e.g. deal_japan_floor")) -> None:
    """One measure in full, with its citation.

    Example: tariffscope measures show deal_japan_floor
    """
    from tariffscope import api

    m = api.measures().get(measure_id)
    print(json.dumps(m.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False))


@measures_app.command("check")
def measures_check(fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """Check the catalogue against every loaded HTS revision: each measure's headings and rates, and every Chapter 99
    heading accounted for (a catalogue measure or an entry of catalogue/out_of_scope.yaml with its reason).

    Exits 1 on a missing or unmapped heading. Example: tariffscope measures check
    """
    from tariffscope import api

    fmt = _fmt(fmt, ("table", "json"))
    rows = api.check_measures()
    bad = [r for r in rows if r["status"] != "ok"]
    if fmt == "json":
        print(json.dumps(rows, indent=2, default=str))
    else:
        t = Table(title=f"Catalogue vs HTS: {len(rows) - len(bad)} ok, {len(bad)} to review")
        for c in ("measure", "heading", "status", "detail"):
            t.add_column(c, no_wrap=c != "detail")
        for r in bad:
            msg = (f"legal date in {r['revision']}, text first in {r['first_revision']}" if r["status"] == "published_later"
                   else r.get("message", "") if r["status"] == "unmapped" else f"{r.get('revision')}: {r.get('message', '')}")
            t.add_row(r["measure_id"], r["heading"], r["status"], msg)
        console.print(t)
    if any(r["status"] in ("missing", "unmapped") for r in rows):
        raise typer.Exit(1)
