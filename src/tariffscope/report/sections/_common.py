"""What every brief section is made of (Section, Table, Chart, Context), the helpers that read API results,
and the formatting helpers shared by several sections (sources, periods, month axes, sector labels)."""
from __future__ import annotations

import dataclasses
import inspect
import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tariffscope import api
from tariffscope.errors import TariffscopeError

NOT_AVAILABLE = "not available in this build"


class SectionUnavailable(Exception):
    """Raised inside a section builder when the API it needs is not in this build."""


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
    con: Any = None  # an open warehouse connection handed to API functions that take ``con=`` (the web app's is read-only)


# ---------------------------------------------------------------------------------------------
# helpers to read API results of any shape (dataclass, pydantic, dict) as plain dicts

def getattr_api(name: str) -> Callable[..., Any] | None:
    fn = getattr(api, name, None)
    return fn if callable(fn) else None


def need(name: str) -> Callable[..., Any]:
    fn = getattr(api, name, None)
    if fn is None or not callable(fn):
        raise SectionUnavailable(f"tariffscope.api.{name} is not part of it")
    return fn


def accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def call(ctx: "Context | None", name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``tariffscope.api.<name>``, handing it the context's connection when it takes one."""
    fn = need(name)
    if ctx is not None and ctx.con is not None and accepts(fn, "con"):
        kwargs["con"] = ctx.con
    for hint in HINTS:  # presentation preferences a function may not take
        if hint in kwargs and not accepts(fn, hint):
            kwargs.pop(hint)
    return fn(*args, **{k: v for k, v in kwargs.items() if v is not None or k == "con"})


HINTS = ("progress", "backend")


def as_dict(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        try:
            return as_dict(obj.to_dict())
        except TypeError:
            pass
    if hasattr(obj, "model_dump"):
        return as_dict(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj):
        return as_dict(dataclasses.asdict(obj))
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if hasattr(obj, "item"):  # numpy scalar
        return obj.item()
    return obj


def get(d: Any, *names: str, default: Any = None) -> Any:
    """The first present, non-None key among ``names`` (results name things slightly differently)."""
    if not isinstance(d, dict):
        return default
    for n in names:
        if n in d and d[n] is not None:
            return d[n]
    return default


def norm_sources(raw: Any) -> list[dict]:
    """Sources as dicts with at least 'source'; accepts strings, dicts, or nested lists."""
    out: list[dict] = []
    if raw is None:
        return out
    if isinstance(raw, (str, dict)):
        raw = [raw]
    for s in raw:
        s = as_dict(s)
        if isinstance(s, str):
            out.append({"source": s})
        elif isinstance(s, dict):
            d = dict(s)
            d.setdefault("source", get(d, "id", "name", "title", default="(unnamed)"))
            if not d.get("title") and d.get("what"):
                d["title"] = d["what"]
            out.append(d)
    return out


def source_line(sources: Iterable[dict]) -> str:
    parts = []
    for s in sources:
        label = s.get("title") or s.get("source")
        bits = [str(label)]
        if s.get("title") and s.get("source") and s["source"] != s["title"]:
            bits.append(f"[{s['source']}]")
        if s.get("vintage"):
            bits.append(f"vintage {s['vintage']}")
        parts.append(" ".join(bits))
    return "; ".join(dict.fromkeys(parts))


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
    """(ISO3, name) through the API's country resolver when the build has one."""
    for name in ("resolve_country", "country"):
        fn = getattr(api, name, None)
        if callable(fn):
            c = fn(code)
            return getattr(c, "iso3", code), getattr(c, "name", code)
    try:
        from tariffscope.codes.countries import resolve_country  # codes are reference data, not the warehouse

        c = resolve_country(code)
        return c.iso3, c.name
    except ImportError:
        return code.upper(), code.upper()


def sector_label(code: Any) -> str:
    """'passenger_vehicles' -> 'Passenger vehicles'; HS codes and labelled rows pass through."""
    text = str(code)
    if "_" in text and " " not in text:
        text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def _area_chart(ctx: Context, module: str, func: str, *args: Any) -> str | None:
    """An SVG from another area's matplotlib chart function, when the brief asks for them and they run."""
    if not ctx.mpl_charts:
        return None
    try:
        import importlib

        from tariffscope.report.embed import figure_svg

        return figure_svg(getattr(importlib.import_module(f"tariffscope.report.{module}"), func)(*args))
    except (ImportError, AttributeError, KeyError, TypeError, ValueError):
        return None


def run_builder(key: str, title: str, builder: Callable[[Context], Section], ctx: Context) -> Section:
    """Run one section; a missing API or a user-level error becomes a plain message, never numbers."""
    try:
        return builder(ctx)
    except SectionUnavailable as exc:
        return Section(key, title, status="unavailable", message=f"Not available in this build: {exc}.")
    except TariffscopeError as exc:
        return Section(key, title, status="error", message=f"Could not be computed in this run: {exc}")
    except Exception as exc:  # a defect in one area must not lose the rest of the brief; say what broke
        return Section(key, title, status="error", message=f"Could not be computed in this run ({type(exc).__name__}: {exc}).")
