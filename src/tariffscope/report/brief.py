"""The brief: one self-contained HTML file (or Markdown) that answers the users' questions.

``build_brief()`` runs every section through ``tariffscope.api`` in this run (nothing is cached or
typed in), shows a progress line per section, and renders ``templates/brief.html.j2`` (inline CSS,
inline SVG charts, no external URL) or ``templates/brief.md.j2``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jinja2

from tariffscope import api
from tariffscope.errors import InputError
from tariffscope.report import sections as S
from tariffscope.report.memory import limit_malloc_arenas, release_memory

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_DRAWS = 50
MAX_DRAWS = 1000
# Sections run in this order (the page keeps the order of ``sections.BUILDERS``): the two model runs first, on
# an empty process. The other sections leave caches that later ones reuse but these two do not (the timeline's
# compiled catalogue index; the MFN tables of every revision), and the model runs' own peaks (~500 MB) would sit
# on top of them. (The duty examples compile their own line only: ``api.duty(one_off=True)``.)
RUN_FIRST = ("scenarios", "backtest")
# The model run that runs beside the light sections: while the backtest runs (numpy on 265k lines, which releases
# the GIL) the balance, the monitor, the timeline, the duty examples and GE (queries, Python, charts) run in page
# order on a second thread with a cursor of their own, so the brief uses both cores. Until this round only the
# first two did: the timeline's and the duty examples' engine caches (~150 MB) would have sat on the backtest's
# peak (Japan: 1.0 GB). With the MFN tables held compactly and the backtest's rates and draws on fewer cells and
# lines, Japan's brief peaks at ~780 MB with all five beside it (8.3 s against 9.8 s with two; bench_brief).
BESIDE = "backtest"
LIGHT_BESIDE = ("balance", "monitor", "timeline", "duty", "ge")
# One malloc arena for the run: glibc gives a busy thread (the second section thread, the warehouse build's parser)
# an arena of its own that keeps its freed arrays mapped under the backtest's peak (Japan: 962 MB with one arena,
# 987 MB without, one run each; with threaded draws, tried and dropped, 925 against 1,048 MB).
MALLOC_ARENAS = 1


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=lambda name: name is not None and ".html" in name,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["md_cell"] = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    # a note as one Markdown list item: its own leading "* " marker dropped, emphasis characters escaped
    env.filters["md_note"] = lambda v: str(v).lstrip("* ").replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("\n", " ")
    return env


def parse_as_of(as_of: str | dt.date | None) -> dt.date | None:
    """The date given, or None for the default (the end of the latest full year of monthly data loaded)."""
    if as_of is None or as_of == "":
        return None
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise InputError(f"--as-of must be a date like 2025-12-31, got {as_of!r}") from None


def collect(partner: str = "JPN", as_of: str | dt.date | None = None, draws: int = DEFAULT_DRAWS,
            progress: bool = True) -> dict:
    """Run every section and return the page model (what the templates render)."""
    if not 1 <= int(draws) <= MAX_DRAWS:
        raise InputError(f"draws must be between 1 and {MAX_DRAWS}, got {draws}")
    day = parse_as_of(as_of)
    iso3, name = S.partner_name(partner)
    limit_malloc_arenas(MALLOC_ARENAS)  # before the warehouse build's and the sections' threads start
    # the catalogue and the scenario checks' reference files are read beside the warehouse's first build (a
    # fresh home spends ~1.5 s in DuckDB's inserts, which leave the interpreter free): ~0.5 s of the run
    with ThreadPoolExecutor(1, thread_name_prefix="brief-preload") as pool:
        preloaded = pool.submit(api.preload)
        con = _open()
    try:
        preloaded.result()  # its error (a broken catalogue), if any, is the run's
        return _collect(iso3, name, day or S.realized_through(con), int(draws), progress, con)
    finally:
        con.close()


def _open():
    """One warehouse connection for the whole run, handed to API functions that take ``con=``."""
    return api.open_warehouse()


def _collect(iso3: str, name: str, as_of: dt.date, draws: int, progress: bool, con) -> dict:
    # Draws in this process: a brief's few dozen take seconds, less than starting worker processes (see Context.backend).
    ctx = S.Context(partner=iso3, partner_name=name, as_of=as_of, draws=draws, con=con, mpl_charts=True, backend="serial")
    page = [key for key, _, _ in S.BUILDERS]
    steps: list[tuple[str, str, Callable[[S.Context], S.Section] | None]] = sorted(
        S.BUILDERS, key=lambda b: (b[0] not in RUN_FIRST, RUN_FIRST.index(b[0]) if b[0] in RUN_FIRST else 0))
    steps.append(("methods", "Methods and sources", None))  # last: it lists the sources of every other section
    built: dict[str, S.Section] = {}
    done: list[S.Section] = []  # the sections in page order (methods reads them)
    timings: dict[str, float] = {}

    lock = threading.Lock()  # the progress line and the timings are written from both threads

    def run_one(key: str, title: str, builder: Callable[[S.Context], S.Section] | None, c: S.Context,
                advance: Callable[[str], None]) -> None:
        with lock:
            advance(title)
        t0 = time.perf_counter()
        if builder is None:
            done[:] = [built[k] for k in page]
            sec = S.run_builder(key, title, lambda cc: S.methods_section(cc, done), c)
            done.append(sec)
        else:
            sec = S.run_builder(key, title, builder, c)
        with lock:
            built[key] = sec
            timings[key] = time.perf_counter() - t0

    def run_all(advance: Callable[[str], None] = lambda label: None) -> None:
        first = [st for st in steps if st[0] in RUN_FIRST and st[0] != BESIDE]
        beside = [st for st in steps if st[0] == BESIDE]
        light = [st for st in steps if st[0] in LIGHT_BESIDE]
        rest = [st for st in steps if st[0] not in RUN_FIRST and st[0] not in LIGHT_BESIDE]  # methods last
        # the second thread, with its own cursor on the same (read-only) warehouse: while the scenarios run, it builds
        # the MFN tables of the HTS revisions the backtest and the timeline need (DuckDB queries, half of it outside
        # the GIL); while the backtest runs, the light sections
        other = dataclasses.replace(ctx, con=con.cursor())
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="brief-sections") as pool:
                tables = pool.submit(api.preload, other.con, S.TIMELINE_START, max(ctx.as_of, S.TIMELINE_START))
                for st in first:
                    run_one(*st, ctx, advance)
                    release_memory()  # the model run frees hundreds of MB: the next section starts low

                def run_light() -> None:
                    # a head start, not a section: whatever broke it (an error or a defect), the sections that need
                    # a table build it themselves and say what failed, as run_builder does for any section
                    with contextlib.suppress(Exception):
                        tables.result()
                    for st in light:
                        run_one(*st, other, advance)

                fut = pool.submit(run_light)
                for st in beside:
                    run_one(*st, ctx, advance)
                fut.result()
        finally:
            other.con.close()
        release_memory()  # a full collection only after the model runs: it costs ~0.1 s a section
        for st in rest:
            run_one(*st, ctx, advance)

    if progress:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description:<34}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), transient=False) as bar:
            task = bar.add_task("Starting", total=len(steps))
            state = {"first": True}

            def advance(label: str) -> None:
                if not state["first"]:
                    bar.advance(task)
                state["first"] = False
                bar.update(task, description=label)

            run_all(advance)
            bar.advance(task)
            bar.update(task, description="Brief ready")
    else:
        run_all()
    headline = [h for sec in done for h in sec.headline]
    timings = {sec.key: timings[sec.key] for sec in done if sec.key in timings}  # listed in page order
    return {
        "partner": iso3, "partner_name": name, "as_of": ctx.as_of.isoformat(), "draws": ctx.draws,
        "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": _version(), "sections": done, "headline": headline, "timings": timings,
    }


def render(model: dict, fmt: str = "html") -> str:
    if fmt not in ("html", "md"):
        raise InputError(f"--format must be html or md, got {fmt!r}")
    return _env().get_template("brief.html.j2" if fmt == "html" else "brief.md.j2").render(**model)


def build_brief(partner: str = "JPN", as_of: str | dt.date | None = None, out: str | Path = "brief.html",
                fmt: str = "html", progress: bool = True, draws: int = DEFAULT_DRAWS, timings: bool = False) -> Path:
    """Build the brief for ``partner`` as of a date and write it to ``out``; returns the path.

    The same data and arguments give the same bytes: the build time and the sections' timings are printed only
    with ``timings=True`` (``--timings``)."""
    if fmt not in ("html", "md"):
        raise InputError(f"--format must be html or md, got {fmt!r}")
    from tariffscope.report.outfiles import check_output_file, write_text_atomic

    path = check_output_file(out)  # before the minutes of work, not after
    model = collect(partner=partner, as_of=as_of, draws=draws, progress=progress)
    if not timings:
        model = {**model, "built_at": None, "timings": {}}
    write_text_atomic(path, render(model, fmt))  # a full disk leaves no truncated brief
    return path.resolve()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tariffscope")
    except PackageNotFoundError:  # not installed (source checkout)
        return "dev"
