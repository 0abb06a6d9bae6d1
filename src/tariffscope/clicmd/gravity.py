"""CLI commands: ``gravity estimate`` (PPML through pyfixest) and ``ge simulate`` (GE counterfactuals)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import console, ge_app, gravity_app
from tariffscope.clicmd._limits import check_draws, check_workers
from tariffscope.errors import InputError


def _emit_frame(df, fmt: str, title: str, floatfmt: str = "{:.4f}") -> None:
    if fmt == "csv":
        console.print(df.to_csv(), end="", highlight=False, soft_wrap=True, markup=False)
        return
    table = Table(title=title)
    cols = [df.index.name or ""] + [str(c) for c in df.columns]
    for c in cols:
        table.add_column(c, justify="right" if c != cols[0] else "left")
    for idx, row in df.iterrows():
        cells = [str(idx)] + [floatfmt.format(v) if isinstance(v, float) else str(v) for v in row]
        table.add_row(*cells)
    console.print(table)


@gravity_app.command("estimate")
def estimate(
    data: Path = typer.Argument(..., help="bilateral table: .dta, .csv/.dlm or .parquet"),
    formula: str = typer.Option(..., "--formula", "-f",
                                help='fixest-style, e.g. "trade ~ ln_dist + contig | exporter^year + importer^year"'),
    cluster: str = typer.Option(None, "--cluster", help="column for clustered (CRV1) standard errors, e.g. pair_id"),
    years: str = typer.Option(None, "--years", help="keep these years: 1986,1990,1994 or 1986-2006/4"),
    international: bool = typer.Option(False, "--international-only", help="drop domestic (exporter == importer) rows"),
    derive: list[str] = typer.Option([], "--derive", help="new column NAME=EXPR, e.g. ln_DIST=log(DIST) (repeatable)"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """PPML gravity with high-dimensional fixed effects (pyfixest.fepois).

    Example: tariffscope gravity estimate Chapter1Application1.dta --years 1986-2006/4
    --international-only --derive ln_DIST=log(DIST)
    --formula "trade ~ ln_DIST + CNTG + LANG + CLNY | exporter^year + importer^year" --cluster pair_id
    """
    if fmt not in ("table", "json", "csv"):
        raise InputError(f"bad --format {fmt!r}: choose table, json or csv")
    exprs = {}
    for item in derive:
        if "=" not in item:
            raise InputError(f"--derive needs NAME=EXPR, got {item!r}")
        k, v = item.split("=", 1)
        exprs[k.strip()] = v.strip()
    est = api.estimate_gravity(data, formula, cluster=cluster, years=_parse_years(years),
                               international_only=international, derive=exprs)
    if fmt == "json":
        d = est.to_dict()
        d.pop("vcov", None)
        console.print_json(json.dumps(d))
        return
    _emit_frame(est.to_frame(), fmt, f"PPML: {est.formula}")
    if fmt == "table":
        console.print(f"N = {est.n_obs:,}; dropped: {est.n_dropped_separation} by separation, "
                      f"{est.n_dropped_missing} missing/singletons; SE: {est.vcov_type}; "
                      f"fixed effects: {', '.join(est.fixed_effects) or 'none'}", highlight=False)
        console.print(f"source: {est.source}", highlight=False)
        for note in est.notes:
            console.print(f"note: {note}", highlight=False)


MAX_YEARS = 500  # more years than any bilateral panel holds: a bound, so 1-99999999 is no 100-million list


def _parse_years(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        if "-" in text:
            span, _, step = text.partition("/")
            a, b = (int(x) for x in span.split("-"))
            st = int(step or 1)
            if st < 1 or b < a:
                raise ValueError
            years = range(a, b + 1, st)
        else:
            years = [int(x) for x in text.split(",")]  # type: ignore[assignment]  # a list where the range branch gives a range: both are read as sequences
    except ValueError:
        raise InputError(f"--years: cannot read {text!r} (use 1986,1990 or 1986-2006/4)") from None
    if len(years) > MAX_YEARS:
        raise InputError(f"--years {text!r} selects {len(years):,} years; at most {MAX_YEARS}")
    bad = [y for y in years if not 1 <= y <= 9999]
    if bad:
        raise InputError(f"--years: {bad[0]} is not a year (1-9999)")
    return list(years)


# real_gdp_change_* is real income (output over the CPI), not GDP: the headers say so (ge_spec.MEASURES)
_SHORT = {"real_gdp_change_pct": "real inc", "welfare_change_pct": "welfare", "factory_price_change_pct": "factory p",
          "output_change_pct": "output", "exports_change_pct": "exports", "imports_change_pct": "imports",
          "trade_balance_baseline": "TB base", "trade_balance_counterfactual": "TB new",
          "real_gdp_change_std": "inc sd", "real_gdp_change_p05": "inc p05", "real_gdp_change_p95": "inc p95"}


def _timed(d: Any, keep: bool) -> Any:
    """``d`` without its wall-clock ``seconds`` entries (unless ``keep``): same input, same bytes."""
    if keep:
        return d
    if isinstance(d, dict):
        return {k: _timed(v, keep) for k, v in d.items() if k != "seconds"}
    if isinstance(d, list):
        return [_timed(v, keep) for v in d]
    return d


@ge_app.command("simulate")
def simulate(
    spec: str = typer.Argument(..., help="GE experiment SPEC (YAML path) or a shipped experiment's name, e.g. us-japan-2025"),
    draws: int = typer.Option(None, "--draws", help="Monte Carlo draws of the coefficients (from their covariance)"),
    workers: int = typer.Option(None, "--workers", help="parallel workers for the Monte Carlo"),
    backend: str = typer.Option(None, "--backend", help="serial | process | dask"),
    out: Path = typer.Option(None, "--out", help="write countries.csv, pairs.csv and result.json here"),
    pairs: bool = typer.Option(False, "--pairs", help="also print the 25 pairs whose flows change most"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
    timings: bool = typer.Option(False, "--timings", help="keep the solver's wall-clock seconds in JSON output"),
) -> None:
    """Solve a GE counterfactual (exact hat algebra) and print per-country results.

    Example: tariffscope ge simulate canada-japan-pta --draws 50 --workers 2
    """
    from tariffscope.report.outfiles import atomic_output, check_output_dir, write_text_atomic

    if fmt not in ("table", "json", "csv"):
        raise InputError(f"bad --format {fmt!r}: choose table, json or csv")
    check_draws(draws, low=2)  # a covariance needs two draws at least
    check_workers(workers)
    if backend is not None and backend not in ("serial", "process", "dask"):
        raise InputError(f"bad --backend {backend!r}: choose serial, process or dask")
    if out is not None:
        check_output_dir(out)  # before the solve, not after
    run = api.ge_simulate(spec, draws=draws, workers=workers, backend=backend)
    res = run.result
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with atomic_output(out / "countries.csv") as tmp:
            run.to_frame().to_csv(tmp, float_format="%.10g")
        with atomic_output(out / "pairs.csv") as tmp:
            run.pairs_frame().to_csv(tmp, index=False, float_format="%.10g")
        write_text_atomic(out / "result.json", json.dumps(_timed(run.to_dict(), timings), indent=2, default=str))
    if fmt == "json":
        console.print_json(json.dumps(_timed(run.to_dict(), timings), default=str))
        return
    cols = ["real_gdp_change_pct", "welfare_change_pct", "factory_price_change_pct", "output_change_pct",
            "exports_change_pct", "imports_change_pct", "trade_balance_baseline", "trade_balance_counterfactual"]
    frame = run.to_frame()
    if run.monte_carlo is not None:
        cols += ["real_gdp_change_std", "real_gdp_change_p05", "real_gdp_change_p95"]
    shown = frame[cols]
    if fmt == "table":  # short headers so the table fits a terminal; csv keeps the field names
        shown = shown.rename(columns=_SHORT)
    _emit_frame(shown, fmt, f"GE: {run.name} (% changes; trade balances in the data's currency units)")
    if fmt == "table":
        meta = run.to_dict()
        console.print(f"{meta['measures']['real_gdp_change_pct']}. {meta['measures']['welfare_change_pct']}. "
                      f"{meta['not_comparable']}", highlight=False, soft_wrap=True)
    if pairs:
        p = run.pairs_frame()
        p = p[p.exporter != p.importer]
        p = p.reindex(p.flow_change_pct.abs().sort_values(ascending=False).index).head(25)
        _emit_frame(p.set_index(["exporter", "importer"]), fmt, "international flows: the 25 largest % changes (all pairs: --out)")
    if fmt == "table":
        d = res.diagnostics
        if res.closure == "gegravity":
            console.print(f"closure: gegravity 0.3 convention (resistances with baseline shares, E/Y fixed, "
                          f"P_{d.get('reference')} = 1); {d.get('iterations')} resistance iterations; "
                          f"world expenditure / world output - 1 = {d.get('adding_up_gap', float('nan')):.1e} "
                          f"(as in the data)", highlight=False)
        else:
            console.print(f"closure: exact; converged in {d.get('iterations')} iterations "
                          f"(max excess demand {d.get('max_excess_demand', float('nan')):.2e}); "
                          f"adding-up gap {d.get('adding_up_gap', float('nan')):.1e}; "
                          f"numeraire: {d.get('numeraire')}", highlight=False)
        console.print(f"source: {res.source}", highlight=False)
        coefs = ", ".join(f"{k}={v:.4f}" for k, v in run.experiment.coefficients.items()) or "none (tariff changes only)"
        console.print(f"coefficients: {coefs}", highlight=False)
        if run.experiment.spec.rates_source:
            console.print(f"tariff rates: {run.experiment.spec.rates_source}", highlight=False)
        if run.monte_carlo is not None:
            mc = run.monte_carlo
            console.print(f"Monte Carlo: {mc.draws} draws, seed {mc.seed}, {mc.backend} x{mc.workers}, "
                          f"{mc.seconds:.1f} s", highlight=False)


def _check_engine_date(option: str, text: str) -> None:
    import datetime as dt

    from tariffscope.scenarios.schema import catalogue_coverage

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} must be a date like 2025-12-01, got {text!r}") from None
    lo, hi = catalogue_coverage()
    if not lo <= day < hi:
        raise InputError(f"{option} {day} is outside the measure catalogue's coverage ({lo} to {hi - dt.timedelta(days=1)})")


@ge_app.command("engine-rates")
def engine_rates(
    data: Path = typer.Argument(..., help="bilateral table whose exporters are the partners (e.g. the Advanced Guide data)"),
    base_date: str = typer.Option("2025-01-01", "--base-date", help="date of the baseline US rates"),
    date: str = typer.Option("2025-12-01", "--date", help="date of the new US rates"),
    out: Path = typer.Option(None, "--out", help="write the rates as CSV here"),
    fmt: str = typer.Option("yaml", "--format", help="yaml (SPEC changes block) | csv"),
) -> None:
    """US trade-weighted tariff rates by partner from the tariff engine, as SPEC tariff changes.

    Example: tariffscope ge engine-rates Chapter2Application2.dta --base-date 2025-01-01 --date 2025-12-01
    """
    import yaml

    from tariffscope.compose.ge_rates import engine_tariff_rates, rates_to_changes
    from tariffscope.models.gravity import read_gravity_table
    from tariffscope.report.outfiles import atomic_output, check_output_file

    if fmt not in ("yaml", "csv"):
        raise InputError(f"bad --format {fmt!r}: choose yaml or csv")
    if out is not None:
        check_output_file(out)
    for option, day in (("--base-date", base_date), ("--date", date)):
        _check_engine_date(option, day)  # 'xyz' used to give an empty change list and exit 0
    df = read_gravity_table(data)
    if "exporter" not in df.columns:
        raise InputError(f"{data}: no 'exporter' column")
    rates = engine_tariff_rates(sorted(df["exporter"].astype(str).unique()), base_date, date)
    if out is not None:
        with atomic_output(out) as tmp:
            rates.to_csv(tmp, index=False)
    if fmt == "csv":
        console.print(rates.to_csv(index=False), end="", markup=False, highlight=False, soft_wrap=True)
        return
    meta = rates.dropna(subset=["rate"])
    head = (f"# US trade-weighted effective tariff rates by partner from tariffscope.api.etr: {base_date} -> {date};\n"
            f"# weights {meta['weights'].iloc[0] if len(meta) else '?'}; catalogue {meta['catalogue_version'].iloc[0] if len(meta) else '?'}\n")
    console.print(head + yaml.safe_dump({"changes": rates_to_changes(rates)}, sort_keys=False, width=200),
                  end="", markup=False, highlight=False, soft_wrap=True)
