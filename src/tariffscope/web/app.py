"""The local web app: a JSON API under /api and server-rendered pages, all over ``tariffscope.api``.

Safety: inputs are validated by the pydantic schemas in ``web.schemas`` (sizes, date ranges, draws);
request bodies are capped before parsing; scenario YAML is parsed with ``ingest.safeyaml.load_yaml`` (safe, bounded); no request
ever names a file; the warehouse is opened READ-ONLY (created and loaded first if missing); errors are
JSON ``{"error": message}`` with a 4xx status (500 says "internal error" and nothing else).
"""
from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import functools
import gc
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from tariffscope import api, config
from tariffscope.errors import DataNotFoundError, InputError, ModelError, RuleError, TariffscopeError
from tariffscope.report import fmt, sections as S
from tariffscope.report.memory import limit_malloc_arenas
from tariffscope.tariffs import engine
from tariffscope.web import packageform as PF, schemas as W, tools as T
from tariffscope.web.gate import PageGate, Slots, page_defer_default, page_pace_default, page_slots_default, yield_slot
from tariffscope.web.idle import IdleRelease
from tariffscope.web.pagecache import (
    RESPONSE_BYTES,
    RESPONSE_ENTRIES,
    PageCache,
    ResponseCache,
    ingest_state,
    response_weight,
)
from tariffscope.web.settings import env_whole

log = logging.getLogger("tariffscope.web")
POOL_SIZE = 4  # warehouse cursors shared by the request threads (2 cores: more would only contend)
HERE = Path(__file__).resolve().parent
# Partners offered in the forms' pick lists: single countries (the groups EU27/WLD have no bilateral exports loaded).
PARTNERS = ["JPN", "CHN", "MEX", "CAN", "DEU", "FRA", "ITA", "KOR", "GBR", "CHE", "VNM", "TWN", "IND"]
# Pages whose GET answer is a pure function of the URL and the warehouse: kept whole, as bytes (web.pagecache).
# The duty page is left out on purpose: it is the interactive path, and its entries are too many to keep.
CACHED_PAGES = ("/", "/balance", "/timeline", "/backtest", "/scenarios", "/formula", "/ge", "/docs")


class BodyLimit:
    """ASGI middleware: refuse request bodies above ``limit`` bytes (413) before anything parses them.

    A body without Content-Length (chunked) is read here, up to the limit, and replayed to the app: left to
    the route, the refusal surfaced as the framework's 400 "error parsing the body" instead of a 413.
    """

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _too_large(send, self.limit)
        if length is not None or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body = message.get("body", b"")
            seen += len(body)
            if seen > self.limit:
                return await _too_large(send, self.limit)
            chunks.append(body)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class RequestGuard:
    """ASGI middleware: the Host header must name this server (a DNS-rebinding page cannot reach it under
    another name), and a state-changing request sent by a browser from another origin is refused (a page
    elsewhere cannot post the scenario form); API clients that send no Origin/Referer pass."""

    def __init__(self, app, hosts: Sequence[str]) -> None:
        self.app, self.hosts = app, {h.lower().strip("[]") for h in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host = headers.get("host", "")
        if _hostname(host) not in self.hosts:
            return await _refuse(send, 400, "host not allowed: this server answers to " + ", ".join(sorted(self.hosts)))
        if scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin") or headers.get("referer")
            if origin and (origin == "null" or _netloc(origin) != host.lower()):
                return await _refuse(send, 403, "cross-origin request refused: post from this server's own pages")
        return await self.app(scope, receive, send)


def _hostname(host: str) -> str:
    """'localhost:8000' -> 'localhost', '[::1]:8000' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _netloc(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc.lower()


async def _refuse(send, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = JSONResponse({"error": message}, status_code=status).body
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send, limit: int) -> None:
    await _refuse(send, 413, f"request body too large (limit {limit // 1024} KB)")


class PageTemplates(Jinja2Templates):
    """Every page answers its own URL plus ``format=csv|json`` with its tables and chart data (one
    mechanism for all pages: the routes hand their sections to the template as usual), links each table
    and chart to those downloads, and says "Link to this result" with the GET URL that reproduces it."""

    def TemplateResponse(self, request: Request, name: str, context: dict[str, Any] | None = None,  # type: ignore[override]  # a download answers CSV/JSON instead of the template
                         status_code: int = 200, headers: Mapping[str, str] | None = None, **kw: Any) -> Response:
        context = dict(context or {})
        link = context.get("permalink") or (request.url.path + ("?" + request.url.query if request.url.query else ""))
        parts = urlsplit(link)
        query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("format", "table", "chart")}
        link = parts.path + ("?" + urlencode(query) if query else "")
        page = str(context.get("page") or name.split(".")[0])
        if request.method == "GET" and "format" in request.query_params:
            if status_code >= 400:
                return JSONResponse({"error": _short(str(context.get("error") or context.get("message") or "error"))},
                                    status_code=status_code, headers=headers)
            return T.download(page, request.query_params, T.page_sections(context), link)
        links = T.download_links(parts.path, query, T.page_sections(context))
        context["dl"] = lambda obj: links.get(id(obj))
        if query and status_code < 400:
            context.setdefault("permalink", link)
        return super().TemplateResponse(request, name, context, status_code=status_code, headers=headers, **kw)


class PayloadTooLarge(InputError):
    """A scenario file above the size cap (HTTP 413)."""


class ServerBusy(TariffscopeError):
    """Every model-run slot stayed taken for the whole wait (HTTP 503 with Retry-After)."""


RETRY_AFTER_S = 10
MAX_ERROR_CHARS = 600  # an error names what is wrong; it never echoes a (possibly expanded) input at length


def model_runs_default() -> int:
    """Concurrent model runs: TARIFFSCOPE_WEB_MODEL_RUNS, else one per two cores (a run keeps a core busy
    for seconds and holds ~1 GB at peak; two at once on a 2-core machine only slow both and double memory)."""
    return env_whole("TARIFFSCOPE_WEB_MODEL_RUNS", max(1, (os.cpu_count() or 2) // 2), minimum=1)


class ModelSlots:
    """A bounded number of model runs at a time; a request waits up to ``wait_s`` for a slot, then gets
    503 + Retry-After. Memory the run freed is handed back to the system after each run."""

    def __init__(self, slots: int, wait_s: float = 10.0) -> None:
        self.slots, self.wait_s = slots, wait_s
        self._sem = threading.BoundedSemaphore(slots)

    @contextlib.contextmanager
    def run(self):
        yield_slot()  # a run is bounded here: its request's page slot goes to the next page meanwhile (web.gate)
        if not self._sem.acquire(timeout=self.wait_s):
            raise ServerBusy(f"the server is running {self.slots} model run(s) already; try again in {RETRY_AFTER_S} s")
        try:
            yield
        finally:
            self._sem.release()
            _return_memory()


def _return_memory() -> None:
    """Collect the run's garbage and ask glibc to give freed arenas back (RSS falls after a run)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl): the next run reuses the memory instead
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _status(exc: TariffscopeError) -> int:
    if isinstance(exc, ServerBusy):
        return 503
    if isinstance(exc, PayloadTooLarge):
        return 413
    if isinstance(exc, DataNotFoundError):
        return 404
    if isinstance(exc, (RuleError, ModelError)):
        return 422
    return 400


def _validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body"))
        msg = e.get("msg", "invalid")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return _short("; ".join(parts))


def create_app(warehouse_path: str | Path | None = None, *, allowed_hosts: Sequence[str] = (),
               model_runs: int | None = None, model_wait_s: float = 10.0, page_slots: int | None = None,
               page_defer_s: float | None = None, page_pace_s: float | None = None,
               page_wait_s: float = 30.0, idle_drop_s: float = 0.0) -> FastAPI:
    """The app; the warehouse at ``warehouse_path`` (default ``$TARIFFSCOPE_HOME``) is ensured, then opened read-only.

    ``allowed_hosts``: host names the server answers to besides the loopback names (e.g. the ``--host``
    it binds); ``model_runs``: concurrent scenario/GE runs (default ``model_runs_default()``), each request
    waiting at most ``model_wait_s`` for a slot; ``page_slots``: page requests working at once (default
    ``web.gate.page_slots_default()``; 0: no gate), each held back while duty answers are in flight for at
    most ``page_defer_s`` (default ``web.gate.page_defer_default()``; 0: no priority), let through at most
    one per ``page_pace_s`` (default ``web.gate.page_pace_default()``; 0: no pacing) and refused (503) after
    ``page_wait_s``; duty answers go straight through. ``idle_drop_s``: seconds without a request after which
    the engine's rebuildable caches are dropped (0: never; they belong to the whole process, so only a
    process that does nothing but serve, ``tariffscope serve``, turns it on)."""
    path = Path(warehouse_path) if warehouse_path else config.warehouse_path()
    writer = api.open_warehouse(path)  # creates + migrates + loads the embedded data when missing (read-write, once)
    writer.close()
    base = api.open_warehouse(path, read_only=True)  # everything the server does from here on reads through this
    # A small pool of long-lived cursors: the tariff engine caches its HTS tables per connection object, so a
    # fresh cursor per request would rebuild them every time (seconds); a cursor is used by one thread at a time.
    pool: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(POOL_SIZE):
        pool.put(base.cursor())

    def data_state() -> tuple:
        con = pool.get()
        try:
            return ingest_state(con)
        finally:
            pool.put(con)

    # Pages computed once per input and kept until the warehouse's ingest log changes (web.pagecache).
    pages = PageCache(data_state, keep=lambda v: getattr(v, "status", "ok") != "error")
    # Whole answers of the CACHED_PAGES as bytes, on the same data state (a hit skips routing and the template).
    responses = PageCache(data_state, max_entries=RESPONSE_ENTRIES, weigh=response_weight, max_weight=RESPONSE_BYTES)

    def cached_section(key: tuple, partner: str, builder_key: str, title: str, builder: Callable[[S.Context], S.Section],
                       **kw: Any) -> S.Section:
        def compute() -> S.Section:
            c = ctx(partner, **kw)
            try:
                return S.run_builder(builder_key, title, builder, c)
            finally:
                close(c)

        return pages.get(key, compute)

    app = FastAPI(title="tariffscope", version="1", docs_url=None, redoc_url=None,
                  description="Trade balances, US duties layer by layer, scenarios. All inputs validated; read-only "
                              "warehouse.")
    app.state.con = base
    # what DuckDB says about the attached file, not what we meant to open
    app.state.read_only = bool(base.sql("SELECT readonly FROM duckdb_databases() WHERE database_name = "
                                        "current_database()").fetchall()[0][0])
    app.state.warehouse_path = str(path)
    slots = ModelSlots(model_runs or model_runs_default(), model_wait_s)
    app.state.model_slots = slots
    app.state.page_cache = pages
    app.state.response_cache = responses
    n_page_slots = page_slots_default() if page_slots is None else page_slots
    app.state.page_slots = (Slots(n_page_slots, page_defer_default() if page_defer_s is None else page_defer_s,
                                  page_pace_default() if page_pace_s is None else page_pace_s) if n_page_slots else None)
    limit_malloc_arenas()  # dozens of request threads: without a cap each busy one kept an arena of freed memory
    # Middleware added first runs last: guard -> body limit -> idle watch -> page gate -> whole-page cache -> routes.
    # A cached page waits at the gate too: served at once, pages would send clients straight back with duties.
    app.add_middleware(ResponseCache, cache=responses, paths=CACHED_PAGES)
    if app.state.page_slots is not None:
        app.add_middleware(PageGate, slots=app.state.page_slots, wait_s=page_wait_s)  # duties first (web.gate)
    # memory handed back once the server goes quiet, and the engine's rebuildable caches after a longer quiet (web.idle)
    app.add_middleware(IdleRelease, drop=engine.drop_caches, drop_s=idle_drop_s)
    app.add_middleware(BodyLimit, limit=W.MAX_BODY_BYTES)
    app.add_middleware(RequestGuard, hosts=[*LOOPBACK_HOSTS, *allowed_hosts])  # added last: runs first
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    templates = PageTemplates(directory=str(HERE / "templates"))
    templates.env.auto_reload = False  # the templates do not change while serving: no stat() of each file per render
    templates.env.globals.update(fmt=fmt, partners=PARTNERS)

    def ctx(partner: str = "JPN", **kw: Any) -> S.Context:
        """A context holding a pooled cursor: hand it back with ``close()``."""
        iso3, name = S.partner_name(partner)
        con = pool.get()
        try:
            as_of = kw.pop("as_of", None) or S.realized_through(con)  # default: the end of the latest full year loaded
        except BaseException:
            pool.put(con)  # the cursor goes back to the pool whatever happened
            raise
        return S.Context(partner=iso3, partner_name=name, as_of=as_of, con=con, **kw)

    def close(c: S.Context) -> None:
        if c.con is not None:
            pool.put(c.con)
            c.con = None

    def with_con(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs, con=<a pooled read-only cursor>)`` as JSON-able data.

        DuckDB refuses a read-write and a read-only connection to one file in one process, so every API
        function the app calls that reads the warehouse gets the server's connection.
        """
        con = pool.get()
        try:
            return S.as_dict(fn(*args, con=con, **kwargs))
        finally:
            pool.put(con)

    # ---------------------------------------------------------------- errors: JSON for /api, a page otherwise
    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api") and request.url.path not in ("/openapi.json",)

    def error_response(request: Request, status: int, message: str):
        message = _short(message)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
        if wants_html(request):
            return templates.TemplateResponse(request, "error.html", {"status": status, "message": message}, status_code=status,
                                              headers=headers)
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(TariffscopeError)
    async def _ts_error(request: Request, exc: TariffscopeError):
        return error_response(request, _status(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return error_response(request, 422, _validation_message(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _invalid2(request: Request, exc: ValidationError):
        return error_response(request, 422, _validation_message(exc.errors()))

    @app.exception_handler(ValueError)
    async def _value(request: Request, exc: ValueError):
        return error_response(request, 422, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = str(exc.detail) if exc.status_code != 404 else f"no such page: {request.url.path}"
        return error_response(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("internal error on %s", request.url.path)
        return error_response(request, 500, "internal error")

    # ---------------------------------------------------------------- JSON API
    @app.get("/api/health", tags=["meta"])
    def health() -> dict:
        """Liveness, and proof that the warehouse is read-only."""
        return {"status": "ok", "read_only": app.state.read_only, "warehouse": Path(app.state.warehouse_path).name}

    @app.get("/api/status", tags=["meta"])
    def status() -> Any:
        """What is loaded: sources, vintages, periods, row counts."""
        return with_con(api.data_status)

    @app.get("/api/balance", tags=["trade"])
    def balance(q: Annotated[W.BalanceQuery, Query()]) -> Any:
        """The goods balance of reporter with partner in a period, by sector or HS level."""
        return with_con(api.balance, reporter=q.reporter, partner=q.partner, period=q.period, by=q.by, currency=q.currency)

    @app.get("/api/monitor", tags=["trade"])
    def monitor(q: Annotated[W.MonitorQuery, Query()]) -> Any:
        """A month against the same month a year earlier."""
        return with_con(api.monitor, reporter=q.reporter, partner=q.partner, month=q.month, by=None if q.by == "none" else q.by)

    @app.get("/api/duty", tags=["tariffs"])
    async def duty(q: Annotated[W.DutyQuery, Query()]) -> Any:
        """The duty on one entry: every layer with its Chapter 99 heading, the total and the effective rate."""
        # async on purpose: one warm entry is ~2 ms of CPU under the GIL, so running it on the event loop
        # beats the threadpool hop (measured in benchmarks/bench_web.py: that hop doubled the latency).
        return T.add_layer_titles(with_con(api.duty, W.clean_hts(q.hts), q.origin, q.date.isoformat(), customs_value=q.value,
                                           quantity=q.quantity, options=q.options() or None))

    @app.get("/api/products", tags=["codes"])
    def products(q: Annotated[W.ProductQuery, Query()]) -> Any:
        """HTS lines whose code starts with ``q`` or whose description holds every word of it (latest HTS revision),
        each with its path chapter > heading > subheading > line."""
        con = pool.get()
        try:
            found = api.search_hts(q.q, limit=q.limit, con=con)
        finally:
            pool.put(con)
        return {"query": q.q, "revision": found[0].revision if found else None, "matches": [T.product_match(d) for d in found]}

    @app.get("/api/formula", tags=["trade"])
    def formula(q: Annotated[W.FormulaQuery, Query()]) -> Any:
        """The reciprocal formula rate for every partner with the year's trade loaded, next to the published
        EO 14257 Annex I rate and why they differ (USTR parameters by default; floor as a fraction)."""
        return with_con(api.reciprocal_formula, **q.model_dump())

    @app.get("/api/etr", tags=["tariffs"])
    def etr(q: Annotated[W.EtrQuery, Query()]) -> Any:
        """The trade-weighted statutory rate on a partner's goods on a date."""
        return with_con(api.etr, partner=q.partner, date=q.date.isoformat(), by=q.by)

    @app.get("/api/etr/series", tags=["tariffs"])
    def etr_series(q: Annotated[W.EtrSeriesQuery, Query()]) -> Any:
        """The weighted statutory rate for each day of a range (at most 731 days)."""
        q.check()
        return with_con(api.etr_series, q.partner, start=q.start.isoformat(), end=q.end.isoformat(), by=None if q.by == "none" else q.by)

    @app.get("/api/realized", tags=["tariffs"])
    def realized(partner: Annotated[str, Query(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9 .,'()\-]+$")] = "JPN") -> Any:
        """Weighted statutory rate month by month beside the realized rate (Census calculated duty)."""
        return with_con(api.statutory_vs_realized, partner=partner)

    @app.get("/api/measures", tags=["tariffs"])
    def measures(partner: Annotated[str | None, Query(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9 .,'()\-]+$")] = None) -> Any:
        """The measure catalogue (optionally only the measures reaching one origin), with headings and legal dates."""
        cat = api.measures()
        items = list(cat.measures)
        if partner:
            iso3, _ = S.partner_name(partner)
            items = [m for m in items if S.reaches(m, iso3)]
        return {"measures": S.as_dict(items), "version": cat.version}

    @app.get("/api/scenarios", tags=["scenarios"])
    def scenarios() -> Any:
        """The built-in scenarios."""
        return api.scenarios()

    @app.post("/api/scenarios/validate", tags=["scenarios"])
    async def validate(request: Request) -> Any:
        """Validate a scenario file sent as the request body (YAML, at most 64 KB)."""
        text = await _read_text(request)
        spec = _safe_yaml(text)
        return {"valid": True, "scenario": S.as_dict(_scenario_from(spec))}

    @app.post("/api/simulate", tags=["scenarios"])
    def simulate(req: W.SimulateRequest) -> Any:
        """Run one scenario (a built-in name, a package, or YAML text); draws <= 200."""
        given = [x for x in (req.scenario, req.yaml, req.package) if x]
        if len(given) != 1:
            raise InputError("give exactly one of scenario, yaml or package")
        with slots.run():
            return with_con(api.simulate, _scenario_arg(req.scenario, req.yaml, req.package), draws=req.draws, seed=req.seed, progress=False)

    @app.post("/api/compare", tags=["scenarios"])
    def compare(req: W.CompareRequest) -> Any:
        """Compare packages side by side: built-in names, edited packages and/or YAML texts (2-6 in all)."""
        items = _compare_items(req)
        with slots.run():
            return with_con(api.compare, items, draws=req.draws, seed=req.seed, against=req.against, progress=False)

    @app.get("/api/ge", tags=["ge"])
    def ge(experiment: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")] = "us-tariffs-2025-japan") -> Any:
        """A general-equilibrium experiment shipped with the package (data/ge/), by name (the name picks a file from that list only)."""
        specs = {p.stem.replace("_", "-"): p for p in sorted((config.PACKAGE_DIR / "data" / "ge").glob("*.yaml"))}
        if experiment not in specs:
            raise DataNotFoundError(f"no GE experiment {experiment!r}; available: "
                                    f"{', '.join(specs) or 'none in this build'}")
        with slots.run():
            return S.as_dict(api.ge_simulate(str(specs[experiment])))

    def _compare_items(req: W.CompareRequest) -> list:
        items: list = list(req.scenarios) + [_package_dict(p) for p in req.packages] + [_scenario_from(_safe_yaml(t)) for t in req.yaml]
        if not 2 <= len(items) <= W.MAX_PACKAGES:
            raise InputError(f"compare takes 2 to {W.MAX_PACKAGES} packages, got {len(items)}")
        return items

    # ---------------------------------------------------------------- offline API docs
    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request):
        spec = app.openapi()
        endpoints = []
        for p, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                params = [f"{x['name']}{'' if x.get('required') else '?'}" for x in op.get("parameters", [])]
                body = op.get("requestBody", {}).get("content", {})
                endpoints.append({"method": method.upper(), "path": p, "summary": op.get("summary", ""), "doc": op.get("description", ""),
                                  "params": params, "body": ", ".join(body)})
        return templates.TemplateResponse(request, "docs.html", {"endpoints": endpoints, "page": "docs"})

    # ---------------------------------------------------------------- pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request):
        sections = [cached_section(("balance", "JPN", None), "JPN", "balance", "Balance", S.balance_section),
                    cached_section(("monitor", "JPN"), "JPN", "monitor", "Monitor", S.monitor_section)]
        return templates.TemplateResponse(request, "overview.html", {"page": "overview", "sections": sections,
                                                                     "headline": [h for s in sections for h in s.headline]})

    @app.get("/balance", response_class=HTMLResponse, include_in_schema=False)
    def balance_page(request: Request, partner: str = "JPN", period: str = ""):
        """The balance by sector; the period picker lists only the years with data, and a bad partner or
        period keeps the form with the error beside it."""
        years = balance_years()
        form = {"partner": partner, "period": period or (years[-1] if years else "2024")}
        sec, error, status = None, None, 200
        try:
            q = W.BalanceQuery(partner=W.country(partner), period=form["period"])
            if years and q.period not in years:
                raise InputError(f"no balance for {q.period}: the data cover {', '.join(years)}")
            iso3, _ = S.partner_name(q.partner)
        except ValidationError as exc:
            error, status = _validation_message(exc.errors()), 422
        except TariffscopeError as exc:
            error, status = str(exc), 400
        else:
            sec = cached_section(("balance", iso3, q.period), iso3, "balance", "Balance", S.balance_section, period=q.period)
        return templates.TemplateResponse(request, "balance.html", {"page": "balance", "q": form, "years": years, "section": sec,
                                                                    "error": error}, status_code=status)

    @functools.cache
    def balance_years() -> list[str]:
        """Years whose bilateral balance the loaded data can give (probed once: the data do not change while serving)."""
        out = []
        for year in range(2015, dt.date.today().year + 1):
            try:
                with_con(api.balance, reporter="USA", partner="JPN", period=str(year), by="sector")
            except TariffscopeError:
                continue
            out.append(str(year))
        return out

    @app.get("/duty", response_class=HTMLResponse, include_in_schema=False)
    def duty_page(request: Request, hts: str = "", origin: str = "JPN", date: str = "2025-06-15", value: str = "100000", quantity: str = "",
                  product: Annotated[str, Query(alias="q", max_length=200)] = ""):
        """One entry's duty, layer by layer, with every share option as an input showing its default (a
        32.5% on an excavator must show that half its value was taken as metal content, and let it be changed).
        ``q`` (``product``): a product search (name or code) listed above the form with each match's HTS path; a match's link
        fills the HTS field."""
        shares = api.duty_options()
        given = {o["name"]: str(request.query_params.get(o["name"], "")).strip() for o in shares}
        form = {"hts": hts, "origin": origin, "date": date, "value": value, "quantity": quantity, "q": product,
                "shares": [{**o, "value": given[o["name"]] or ("" if o["default"] is None else f"{o['default'] * 100:g}")} for o in shares]}
        result, table, error = None, None, None
        matches, search_error = search_products(product) if product.strip() else (None, None)
        if matches is not None:
            keep = {k: v for k, v in (("origin", origin), ("date", date), ("value", value), ("quantity", quantity)) if v}
            for m in matches:
                m["pick"] = "/duty?" + urlencode({"hts": m["dotted"], **keep})
        if hts:
            try:
                opts = {}
                for o in shares:
                    text = given[o["name"]]
                    if text:
                        try:
                            opts[o["name"]] = float(text.rstrip("%")) / 100
                        except ValueError:
                            raise InputError(f"{o['name']} must be a percentage between 0 and 100, got {text[:20]!r}") from None
                q = W.DutyQuery(hts=hts, origin=origin, date=date, value=value or 100000, quantity=quantity or None, **opts)
                con = pool.get()
                try:
                    res = api.duty(W.clean_hts(q.hts), q.origin, q.date.isoformat(), customs_value=q.value, quantity=q.quantity,
                                   options=q.options() or None, con=con)
                finally:
                    pool.put(con)
                result = T.add_layer_titles(res.to_dict())
                table = T.titled_duty_table(S.duty_table(res), result)
                # (name, share used, whether it is the default): the defaults are judgments, so the page says which ones applied
                result["shares_used"] = [(o["name"], res.options.get(o["name"]), res.options.get(o["name"]) == o["default"]) for o in shares]
            except ValidationError as exc:
                error = _validation_message(exc.errors())
            except TariffscopeError as exc:
                error = str(exc)
        return templates.TemplateResponse(request, "duty.html", {"page": "duty", "form": form, "result": result, "table": table, "error": error,
                                                                 "matches": matches, "search_error": search_error},
                                          status_code=200 if not error else 400)

    def search_products(text: str, limit: int = 20) -> tuple[list[dict] | None, str | None]:
        """(matches, None) or (None, the reason a search is not valid), for the duty page's search box."""
        con = pool.get()
        try:
            return [T.product_match(d) for d in api.search_hts(text, limit=limit, con=con)], None
        except TariffscopeError as exc:
            return None, str(exc)
        finally:
            pool.put(con)

    @app.get("/formula", response_class=HTMLResponse, include_in_schema=False)
    def formula_page(request: Request, year: str = "2024", basis: str = "general", vintage: str = "revised", elasticity: str = "4",
                     pass_through: str = "0.25", floor: str = "10", rounding: str = "up", top: str = "40"):
        """The reciprocal formula (USTR parameters by default) for every partner, next to the published rates:
        the table (the ``top`` partners by imports; 0: all) and a chart of the gaps. The floor is typed in %."""
        form = {"year": year, "basis": basis, "vintage": vintage, "elasticity": elasticity, "pass_through": pass_through,
                "floor": floor, "rounding": rounding, "top": top}
        sec, error, status = None, None, 200
        try:
            n_top = _whole(top, "top", 0, 500)
            q = W.FormulaQuery(year=year, basis=basis, vintage=vintage, elasticity=_number(elasticity, "elasticity"),
                               pass_through=_number(pass_through, "pass_through"), floor=_number(floor.rstrip("%"), "floor") / 100,
                               rounding=rounding)
            res = with_con(api.reciprocal_formula, **q.model_dump())
            sec = T.formula_section(res, n_top)
        except ValidationError as exc:
            error, status = _validation_message(exc.errors()), 422
        except TariffscopeError as exc:
            error, status = str(exc), _status(exc)
        return templates.TemplateResponse(request, "formula.html", {"page": "formula", "form": form, "section": sec, "error": error},
                                          status_code=status)

    def ge_names() -> dict[str, Path]:
        """The GE experiments shipped with the package (data/ge/*.yaml), by name: a request can pick one, never name a file."""
        return {p.stem.replace("_", "-"): p for p in sorted((config.PACKAGE_DIR / "data" / "ge").glob("*.yaml"))}

    @app.get("/ge", response_class=HTMLResponse, include_in_schema=False)
    def ge_page(request: Request, experiment: str = ""):
        """Run a shipped GE experiment by name: base year, horizon, what real income and welfare mean, every economy's changes."""
        names = ge_names()
        sec, error, status = None, None, 200
        if experiment:
            try:
                if experiment not in names:
                    raise DataNotFoundError(f"no GE experiment {experiment[:64]!r}; pick one of: {', '.join(names)}")
                with slots.run():
                    res = S.as_dict(api.ge_simulate(str(names[experiment])))
                sec = T.ge_section(experiment, res)
            except TariffscopeError as exc:
                error, status = str(exc), _status(exc)
        return templates.TemplateResponse(request, "ge.html", {"page": "ge", "experiment": experiment, "names": list(names), "section": sec,
                                                               "error": error},
                                          status_code=status, headers={"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None)

    @app.get("/timeline", response_class=HTMLResponse, include_in_schema=False)
    def timeline_page(request: Request, partner: str = "JPN", through: str = "", authority: str = "", sector: str = "",
                      on: str = "", start: Annotated[str, Query(alias="from")] = ""):
        """Every dated measure reaching the partner from ``from`` through ``through`` (default: the catalogue's
        coverage), optionally one authority's part of the rate or one sector's goods, and the rate on the day
        ``on`` split by authority (or sector); every control is a GET parameter, so a view is a permalink.
        A bad partner, date or name keeps the form and says what is wrong."""
        last = S.last_covered_day()
        first = S.TIMELINE_START
        form = {"partner": partner, "from": start, "through": through or last.isoformat(), "authority": authority,
                "sector": sector, "on": on, "min": first.isoformat(), "max": last.isoformat(),
                "authorities": [(a, S.authority_label(a)) for a in S.FILTER_AUTHORITIES],
                "sectors": [(k, S.sector_label(k)) for k in S.SECTORS]}
        sec, error, iso3 = None, None, partner
        try:
            day = _date_in(through, "through", dt.date(2025, 1, 31), last) if through else last
            view = S.TimelineView(start=_date_in(start, "from", first, last) if start else None,
                                  authority=authority.strip() or None, sector=sector.strip() or None,
                                  on=_date_in(on, "on", first, last) if on else None)
            if view.start is not None and view.start > day:
                raise InputError(f"from ({view.start}) is after through ({day})")
            view.check(day)
            iso3, _ = S.partner_name(W.country(partner))
        except TariffscopeError as exc:
            error = str(exc)
        else:
            sec = cached_section(("timeline", iso3, day, view), iso3, "timeline", "Tariff timeline",
                                 functools.partial(S.timeline_section, view=view), as_of=day)
        return templates.TemplateResponse(request, "timeline.html", {"page": "timeline", "partner": iso3, "form": form,
                                                                     "section": sec, "error": error},
                                          status_code=200 if not error else 400)

    @app.get("/backtest", response_class=HTMLResponse, include_in_schema=False)
    def backtest_page(request: Request, partner: Annotated[str, Query(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9 .,'()\-]+$")] = "JPN"):
        """The PE model against realized 2025 imports: chart, metrics table and the basis (data, horizon, reference, held-out months)."""
        try:
            iso3, _ = S.partner_name(partner)
        except TariffscopeError as exc:
            return templates.TemplateResponse(request, "backtest.html", {"page": "backtest", "partner": partner, "section": None,
                                                                         "error": str(exc)}, status_code=_status(exc))
        sec = cached_section(("backtest", iso3), iso3, "backtest", "Backtest against 2025", S.backtest_section, draws=S.BACKTEST_DRAWS)
        return templates.TemplateResponse(request, "backtest.html", {"page": "backtest", "partner": iso3, "section": sec,
                                                                     "error": None})

    @app.get("/scenarios", response_class=HTMLResponse, include_in_schema=False)
    async def scenarios_page(request: Request, partner: str = "JPN", run: str | None = None):
        """The package form with the partner's own packages ticked (a member of a group gets the group's).

        ``run``: the permalink of a comparison (``run=japan-deal,korea-deal&draws=20&seed=1`` plus an edited
        package as the form's own fields, ``custom_name``, ``custom_base``, ``c0_origin`` ...): the page
        runs it as the form's POST would."""
        if run is not None:
            chosen_run = _once_each(n.strip() for n in run.split(","))
            return await scenario_result(request, request.query_params, chosen_run)
        return await run_in_threadpool(scenarios_form, request, partner)  # reads the package files: off the event loop

    def scenarios_form(request: Request, partner: str):
        error, chosen, status = None, None, 200
        try:
            iso3, _ = S.partner_name(W.country(partner))
            found = S.packages_for(iso3)
            if found is None:  # a fact about the data, not a bad request
                error, chosen = f"no built-in package for {partner}: tick another partner's packages or write your own below", set()
            else:
                chosen = set(found[1])
        except TariffscopeError as exc:
            error, status = str(exc), 400
        model = _scenario_page_model(None, None, chosen)
        return templates.TemplateResponse(request, "scenarios.html", {"page": "scenarios", "error": error, "partner": partner, **model},
                                          status_code=status)

    @app.post("/scenarios", response_class=HTMLResponse, include_in_schema=False)
    async def scenarios_run(request: Request):
        form = await request.form()
        chosen = _once_each(str(x) for x in form.getlist("builtin"))
        return await scenario_result(request, form, chosen)

    async def scenario_result(request: Request, form: Any, chosen: list[str]):
        """The comparison the form (a POST body, or a permalink's query) asks for, with its GET permalink."""
        draws = str(form.get("draws") or "0").strip()
        seed = str(form.get("seed") or W.DEFAULT_SEED).strip()
        packages, error, section, status, warnings = [], None, None, 200, []
        custom: W.Package | None = None
        try:
            custom = _package_from_form(form)
            if custom is not None:
                packages.append(custom)
            req = W.CompareRequest(scenarios=chosen, packages=packages, draws=int(draws) if draws.isdigit() else -1,
                                   seed=int(seed) if seed.isdigit() else -1)
            # a run takes seconds: off the event loop, so pages and duties keep answering meanwhile; built-in
            # packages alone are a permalinkable result, computed once until the data change
            items = _compare_items(req)
            if custom is None:
                section = await run_in_threadpool(pages.get, ("compare", tuple(chosen), req.draws, req.seed),
                                                  functools.partial(run_comparison, items, req.draws, req.seed))
            else:
                section = await run_in_threadpool(run_comparison, items, req.draws, req.seed)
            warnings = await run_in_threadpool(unmatched_changes, custom)
        except ValidationError as exc:
            error, status = _validation_message(exc.errors()), 422
        except TariffscopeError as exc:
            # an error the run finds in the edited package's partner side names the form's row, not the YAML path
            text = PF.form_words(str(exc), PF.side_offsets(custom.base)) if custom is not None and custom.two_sided else str(exc)
            error, status = _short(text), (503 if isinstance(exc, ServerBusy) else 400)
        model = _scenario_page_model(form, section, set(chosen))
        link = _scenario_permalink(chosen, form, draws, seed)
        return templates.TemplateResponse(request, "scenarios.html", {"page": "scenarios", "error": error, "warnings": warnings, **model,
                                                                      "permalink": link if not error else None, "seed": seed},
                                          status_code=status if error else 200,
                                          headers={"Retry-After": str(RETRY_AFTER_S)} if error and status == 503 else None)

    def unmatched_changes(package: W.Package | None) -> list[str]:
        """One warning per change whose HS prefixes name no HTS line: such a change alters nothing, and
        the comparison would otherwise show the base regime's figures as if the change had been applied."""
        out: list[str] = []
        if package is None:
            return out
        con = pool.get()
        try:
            for i, change in enumerate(package.changes, start=1):
                prefixes = change.to_spec()["products"]["prefixes"]
                missing = []
                for prefix in prefixes:
                    if len(prefix) not in (2, 4, 6, 8, 10):
                        continue  # odd lengths are valid prefixes but no HTS level to look up
                    try:
                        api.describe_hts(prefix, con=con)
                    except TariffscopeError:
                        missing.append(prefix)
                if prefixes and len(missing) == len(prefixes):
                    out.append(f"change {i}: no HTS line starts with {', '.join(missing)}, so it changes nothing "
                               f"({package.name} shows {package.base}'s figures there)")
        finally:
            pool.put(con)
        return out

    def run_comparison(items: list, draws: int, seed: int) -> S.Section:
        with slots.run():
            con = pool.get()
            try:
                res = api.compare(items, draws=draws, seed=seed, progress=False, con=con)
            finally:
                pool.put(con)
        section = S.Section("scenarios", "Comparison", data=res.to_dict())
        S.render_comparison(section, res)
        return section

    # The built-in packages are files shipped with the package: read and validated once, not per form (that
    # parse of every YAML file was half the server's CPU under load).
    builtin_scenarios = functools.cache(api.scenarios)

    def _scenario_page_model(form, section, chosen: set[str] | None = None) -> dict:
        builtins = [dict(b, partner_name=S.partner_display(b["partner"])) for b in builtin_scenarios()]
        names = [b["name"] for b in builtins]
        if chosen is None:
            chosen = set(form.getlist("builtin")) if form is not None else set(S.PACKAGES_BY_PARTNER["JPN"][:2])
        rows = []
        if form is not None:
            for i in range(8):
                rows.append({k: str(form.get(f"c{i}_{k}") or "") for k in FORM_FIELDS})
        while len(rows) < 8:
            rows.append({"origin": "", "products": "", "mode": "add", "rate": "", "start": "", "end": ""})
        side = PF.side_rows(form if form is not None else {})
        return {"builtins": builtins, "names": names, "chosen": chosen, "rows": rows, "section": section, "side": side,
                "side_open": any(v for rows_ in side.values() for r in rows_ for v in r.values()),
                "custom_name": (form.get("custom_name") if form is not None else "") or "", "custom_base": (form.get("custom_base") if form is not None else "june-2025") or "june-2025",
                "draws": (form.get("draws") if form is not None else "0") or "0", "max_draws": W.MAX_DRAWS}

    return app


def _number(text: str, what: str) -> float:
    """A number typed in a form field; InputError naming the field otherwise."""
    try:
        return float(text.strip())
    except ValueError:
        raise InputError(f"{what} must be a number, got {text[:20]!r}") from None


def _whole(text: str, what: str, lo: int, hi: int) -> int:
    text = text.strip()
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise InputError(f"{what} must be a whole number from {lo} to {hi}, got {text[:20]!r}")
    return int(text)


def _date_in(text: str, what: str, lo: dt.date, hi: dt.date) -> dt.date:
    """A date typed in a form, within [lo, hi]; InputError naming the field otherwise."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} must be a date like {hi.isoformat()}, got {text[:20]!r}") from None
    if not lo <= day <= hi:
        raise InputError(f"{what} must be between {lo} and {hi} (the dates the measure catalogue covers), got {day}")
    return day


# ---------------------------------------------------------------- scenario inputs
async def _read_text(request: Request) -> str:
    raw = await request.body()
    if len(raw) > W.MAX_SCENARIO_BYTES:
        raise PayloadTooLarge(f"scenario file too large: {len(raw)} bytes (limit {W.MAX_SCENARIO_BYTES // 1024} KB)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("scenario file is not UTF-8 text") from None


def _short(message: str, limit: int = MAX_ERROR_CHARS) -> str:
    """An error message cut to ``limit`` characters (it names the problem; the input is the user's own)."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _safe_yaml(text: str) -> dict:
    if len(text.encode("utf-8")) > W.MAX_SCENARIO_BYTES:
        raise PayloadTooLarge(f"scenario file too large (limit {W.MAX_SCENARIO_BYTES // 1024} KB)")
    from tariffscope.ingest.safeyaml import load_yaml

    # Aliases let a few hundred bytes expand to megabytes of validation errors; a scenario file never needs
    # them, so the web app refuses them before anything is built (the CLI's loader caps their expansion).
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise InputError(f"scenario YAML may not use aliases (*name), found one at line {mark.line + 1}, "
                                 f"column {mark.column + 1}: write the value out")
    except yaml.YAMLError:
        pass  # the loader below reports the syntax error with its line
    spec = load_yaml(text, source="scenario")  # the one safe, bounded loader: 'scenario, line N: not valid YAML: ...'
    if not isinstance(spec, dict):
        raise InputError("a scenario file must be a YAML mapping (name, base, changes ...)")
    return spec


def _scenario_from(spec: dict) -> Any:
    """Validate a scenario mapping (``tariffscope.api.scenario_from_dict``): the Scenario the API runs."""
    return api.scenario_from_dict(spec, source="<uploaded scenario>")


def _once_each(names: Iterable[str]) -> list[str]:
    """The packages asked for, in order, each once. Not cut to the bound: CompareRequest refuses a longer list
    with the bound in the message (cutting it dropped the user's seventh package without a word)."""
    return list(dict.fromkeys(n for n in names if n))


def _builtin_spec(name: str) -> dict:
    """A built-in scenario as the mapping its YAML file holds (to be edited, then validated again)."""
    return api.load_scenario(name).to_dict()


def _package_dict(p: W.Package) -> Any:
    """A package edited in the form: a built-in's regime, changes and partner-side items, plus the user's
    changes and partner-side items (the package's partner is the built-in's)."""
    spec = _builtin_spec(p.base)
    spec["name"] = p.name
    added = [f"{len(p.changes)} change(s)"] + [f"{len(items)} {what}" for what, items in
                                               (("partner tariff(s)", p.partner_tariffs), ("purchase(s)", p.purchases),
                                                ("investment pledge(s)", p.investment)) if items]
    spec["description"] = f"{p.base} with {', '.join(added)} edited in the web app"
    spec["changes"] = list(spec.get("changes") or []) + [c.to_spec() for c in p.changes]
    for key in PF.SIDE_KEYS:
        spec[key] = list(spec.get(key) or []) + [item.to_spec() for item in getattr(p, key)]
    try:
        return _scenario_from(spec)
    except (InputError, RuleError) as exc:  # both take the one message (what the scenario schema raises)
        raise type(exc)(PF.form_words(str(exc), PF.side_offsets(p.base))) from None


def _scenario_arg(name: str | None, text: str | None, package: W.Package | None) -> Any:
    if name:
        return name
    if text:
        return _scenario_from(_safe_yaml(text))
    assert package is not None, "the route has checked that exactly one of the three is given"
    return _package_dict(package)


FORM_FIELDS = ("origin", "products", "mode", "rate", "start", "end")


def _scenario_permalink(chosen: Sequence[str], form: Any, draws: str, seed: str) -> str:
    """The GET URL that runs the same comparison: the built-in names, draws, seed and the edited package's fields."""
    params = {"run": ",".join(chosen), "draws": draws, "seed": seed}
    for key in ("custom_name", "custom_base"):
        if str(form.get(key) or "").strip():
            params[key] = str(form.get(key)).strip()
    for i in range(8):
        row = {k: str(form.get(f"c{i}_{k}") or "").strip() for k in FORM_FIELDS}
        if row["rate"] or row["products"]:
            params.update({f"c{i}_{k}": v for k, v in row.items() if v})
    for prefix, rows in PF.side_rows(form).items():
        for i, side in enumerate(rows):
            params.update({f"{prefix}{i}_{k}": v for k, v in side.items() if v})
    if not any(PF.ROW_FIELD.match(k) for k in params) and "custom_name" not in params:
        params.pop("custom_base", None)  # no edited package: its starting point is the form's default, not part of the result
    return "/scenarios?" + urlencode(params)


def _package_from_form(form) -> W.Package | None:
    name = str(form.get("custom_name") or "").strip()
    changes = []
    for i in range(8):
        row = {k: str(form.get(f"c{i}_{k}") or "").strip() for k in FORM_FIELDS}
        if not row["rate"] and not row["products"]:
            continue
        try:
            rate = float(row["rate"].rstrip("%")) / 100
        except ValueError:
            raise InputError(f"change {i + 1}: the rate must be a number of percent, got {row['rate']!r}") from None
        changes.append(W.Change(origin=row["origin"] or "JPN", products=row["products"] or "*", mode=row["mode"] or "add", rate=rate,
                                start=row["start"] or None, end=row["end"] or None))
    side = PF.side_items(form)
    if not name and not changes and not any(side.values()):
        return None
    return W.Package(name=name or "my-package", base=str(form.get("custom_base") or "june-2025"), changes=changes, **side)
