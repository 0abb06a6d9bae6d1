"""What every brief section is made of (Section, Table, Chart, Context) and the helpers several sections
share: API results as JSON-able data, source records, month axes, sector labels, embedded charts."""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report.embed import figure_svg


class SectionUnavailable(Exception):
    """Raised inside a section builder when there is nothing to compute for this partner or date
    (no GE experiment shipped for it, no monthly data loaded)."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    align: list[str] = field(default_factory=list)  # 'l' | 'r' (numbers, right) | 'n' (no wrap, left) per column
    total_row: bool = False  # the last row is a total (set in bold)


@dataclass
class Chart:
    svg: str
    caption: str = ""


@dataclass
class Section:
    key: str
    title: str
    status: str = "ok"  # ok | unavailable | error
    message: str = ""
    sentences: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # the raw API output used (tests compare against it)
    headline: list[str] = field(default_factory=list)  # plain sentences promoted to the top of the brief


@dataclass
class Context:
    partner: str
    partner_name: str
    as_of: dt.date
    draws: int = 50
    seed: int = 20250709
    period: str | None = None  # the balance period when the caller picks one (web Balance page)
    mpl_charts: bool = False  # the brief reuses the areas' matplotlib charts; the web app draws light SVG itself
    # An open warehouse connection handed to API functions that take ``con=`` (the web app's is read-only).
    con: Any = None
    # Where Monte Carlo draws run (tariffscope.parallel): the brief's few dozen draws take ~3 s in this process, less
    # than starting worker processes that each import the package and hold a copy of the problem.
    backend: str = "process"


def as_dict(obj: Any) -> Any:
    """An API result as JSON-able dicts and lists (what the web API returns and what sections keep as data)."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    if hasattr(obj, "to_dict"):  # the API's result classes say how they serialize
        return as_dict(obj.to_dict())
    if hasattr(obj, "model_dump"):  # pydantic models (measures, scenarios)
        return as_dict(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return as_dict(dataclasses.asdict(obj))
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if hasattr(obj, "item"):  # numpy scalar
        return obj.item()
    return obj


def norm_sources(refs: Iterable[Any]) -> list[dict]:
    """Source records (``SourceRef``s or the dicts some results carry) as dicts with 'source' and 'title'.

    Scenario and status records describe a source under 'what'; it is shown as the title.
    """
    out: list[dict] = []
    for ref in refs:
        d = dict(as_dict(ref))
        if not d.get("title") and d.get("what"):
            d["title"] = d["what"]
        out.append(d)
    return out


def period_x(period: str) -> float:
    """'2025-06' -> 2025.4167, '2025-06-15' -> fractional year; charts use years as x."""
    p = str(period)
    if len(p) == 4:
        return float(p)
    d = dt.date.fromisoformat(p + "-01" if len(p) == 7 else p[:10])
    start = dt.date(d.year, 1, 1)
    days = (dt.date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / days


def x_label_month(x: float) -> str:
    year = int(math.floor(x + 1e-9))
    month = int(round((x - year) * 12)) + 1
    if month > 12:
        year, month = year + 1, 1
    return f"{dt.date(year, month, 1):%b %Y}"


def month_ticks(x0: float, x1: float, every: int = 3) -> list[float]:
    out, y = [], int(math.floor(x0))
    while y <= x1:
        for m in range(0, 12, every):
            t = y + m / 12
            if x0 - 1e-9 <= t <= x1 + 1e-9:
                out.append(t)
        y += 1
    return out


def partner_name(code: str) -> tuple[str, str]:
    """(ISO3, name) of a partner typed as a code or a name ('Japan', 'JP', '5880'); InputError otherwise."""
    c = api.resolve_country(code)
    return c.iso3, c.name


def sector_label(code: Any) -> str:
    """'passenger_vehicles' -> 'Passenger vehicles'; HS codes and labelled rows pass through."""
    text = str(code)
    if "_" in text and " " not in text:
        text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def area_chart(ctx: Context, figure: Callable[..., Any], *args: Any) -> str | None:
    """The SVG of a matplotlib chart of the report area (charts_trade, charts_scenarios) when the context asks
    for them (the brief); None for the web app, which draws light SVG itself."""
    if not ctx.mpl_charts:
        return None
    return figure_svg(figure(*args))


def run_builder(key: str, title: str, builder: Callable[[Context], Section], ctx: Context) -> Section:
    """Run one section; nothing to compute or a user-level error becomes a plain message, never numbers."""
    try:
        return builder(ctx)
    except SectionUnavailable as exc:
        return Section(key, title, status="unavailable", message=f"Not available in this build: {exc}.")
    except TariffscopeError as exc:
        return Section(key, title, status="error", message=f"Could not be computed in this run: {exc}")
    except Exception as exc:  # noqa: BLE001 - a defect in one area must not lose the rest of the brief; say what broke
        return Section(key, title, status="error",
                       message=f"Could not be computed in this run ({type(exc).__name__}: {exc}).")
