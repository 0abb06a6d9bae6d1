"""Live pulls from the publishers' APIs: Census international trade, USITC HTS, FRED.

Every pull goes through one ``httpx.Client`` whose transport can be swapped
(``transport=httpx.MockTransport(handler)`` in tests: recorded responses, never the network).
Requests are retried with exponential backoff on connection errors, timeouts, 429 and 5xx; a rich
progress bar shows the download. The response is saved under ``$TARIFFSCOPE_HOME/downloads/`` and,
unless ``ingest=False``, ingested like any other file (same checks, same no-op on a repeat).

* Census: ``https://api.census.gov/data/timeseries/intltrade/{imports,exports}/hs`` with
  ``get=CTY_NAME,I_COMMODITY,I_COMMODITY_SDESC,CON_VAL_YR,CAL_DUT_YR`` (imports for consumption and
  calculated duty; exports: ``E_COMMODITY,E_COMMODITY_SDESC,ALL_VAL_YR``) and the predicates
  ``COMM_LVL=HS10``, ``CTY_CODE=5880``, ``time=2024-12`` (``_YR`` = the year through December; with a
  month, ``_MO`` values), which the API appends as columns.
  An API key, if any, comes from ``$CENSUS_API_KEY``.
* HTS: the USITC JSON export of a revision,
  ``https://www.usitc.gov/sites/default/files/tata/hts/hts_2025_revision_17_json.json``
  (``hts_2025_basic_edition_json.json`` for a basic edition), or with ``rest=True`` the REST export
  ``https://hts.usitc.gov/reststop/exportList?from=0100&to=9999&format=JSON&styles=false``, which
  serves only the current release.
* FRED: ``https://fred.stlouisfed.org/graph/fredgraph.csv?id=DEXJPUS&cosd=...&coed=...``.
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from tariffscope import config
from tariffscope.errors import InputError, TariffscopeError

CENSUS_URL = "https://api.census.gov/data/timeseries/intltrade/{flow}/hs"
HTS_ARCHIVE_URL = "https://www.usitc.gov/sites/default/files/tata/hts/{name}.json"
HTS_REST_URL = "https://hts.usitc.gov/reststop/exportList"
FRED_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
RETRY_STATUS = {429, 500, 502, 503, 504}
LEVELS = ("HS2", "HS4", "HS6", "HS10")


# Swappable I/O: tests (and offline demos) set these to an httpx.MockTransport and a no-op sleep.
DEFAULT_TRANSPORT: httpx.BaseTransport | None = None
SLEEP: Callable[[float], None] = time.sleep


class FetchError(TariffscopeError):
    """A pull that failed after its retries (network, HTTP status, empty answer)."""


@dataclass
class PullResult:
    url: str
    path: Path
    bytes: int
    attempts: int
    ingest: Any = None  # IngestResult when ingested

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "path": str(self.path), "bytes": self.bytes, "attempts": self.attempts,
                "ingest": self.ingest.to_dict() if self.ingest is not None else None}

    @property
    def message(self) -> str:
        head = f"downloaded {self.bytes:,} bytes from {self.url} to {self.path} ({self.attempts} attempt{'s' if self.attempts > 1 else ''})"
        return head + (f"\n{self.ingest.message}" if self.ingest is not None else "")


def download(url: str, dest: Path, params: dict[str, str] | None = None, transport: httpx.BaseTransport | None = None,
             retries: int = 4, backoff: float = 1.0, sleep: Callable[[float], None] | None = None,
             timeout: float = 60.0, progress: bool = True) -> tuple[Path, int, int, str]:
    """GET ``url`` into ``dest`` (atomically), retrying transient failures. Returns (path, bytes, attempts, final url)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    last: str = ""
    transport = transport if transport is not None else DEFAULT_TRANSPORT
    sleep = sleep or SLEEP
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": "tariffscope (https://github.com/; data pull)"}) as client:
        for attempt in range(1, retries + 1):
            try:
                with client.stream("GET", url, params=params) as resp:
                    if resp.status_code in RETRY_STATUS:
                        last = f"HTTP {resp.status_code}"
                        raise _Retry()
                    if resp.status_code >= 400:
                        raise FetchError(f"{resp.request.url}: HTTP {resp.status_code} {resp.reason_phrase}: {resp.read()[:200]!r}")
                    total = int(resp.headers.get("content-length") or 0) or None
                    tmp = dest.with_name(dest.name + ".part")
                    n = 0
                    with open(tmp, "wb") as f, _bar(progress, dest.name, total) as bar:
                        task = bar.add_task("get", total=total, name=dest.name)
                        for chunk in resp.iter_bytes():
                            f.write(chunk)
                            n += len(chunk)
                            bar.update(task, advance=len(chunk))
                    if n == 0:
                        tmp.unlink(missing_ok=True)
                        raise FetchError(f"{resp.request.url}: empty response (the API returns no body when nothing matches)")
                    os.replace(tmp, dest)
                    return dest, n, attempt, str(resp.request.url)
            except (_Retry, httpx.TransportError) as exc:
                if isinstance(exc, httpx.TransportError):
                    last = f"{type(exc).__name__}: {exc}"
                if attempt == retries:
                    break
                sleep(backoff * 2 ** (attempt - 1))
    raise FetchError(f"{url}: failed after {retries} attempts ({last})")


class _Retry(Exception):
    pass


def _bar(enabled: bool, name: str, total: int | None) -> Progress:
    return Progress(TextColumn("[bold]{task.fields[name]}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    disable=not enabled, transient=True)


def _today() -> str:
    import datetime as dt

    return dt.date.today().strftime("%Y%m%d")


def downloads_dir() -> Path:
    return config.home() / "downloads"


def _ingest(path: Path, kind: str, ingest: bool, con: Any):
    if not ingest:
        return None
    from tariffscope.ingest.core import ingest as _ingest_file

    return _ingest_file(path, kind=kind, con=con)


def census_params(flow: str, partner: str, year: int, month: int | None = None, level: str = "HS10",
                  commodity: str | None = None, key: str | None = None) -> tuple[str, dict[str, str], str]:
    """URL, query parameters and file name of a Census imports/hs or exports/hs pull."""
    from tariffscope.codes.countries import resolve_country

    if flow not in ("imports", "exports"):
        raise InputError(f"bad flow {flow!r}: imports or exports")
    if level not in LEVELS:
        raise InputError(f"bad level {level!r}: one of {', '.join(LEVELS)}")
    if not 2013 <= int(year) <= 2100:
        raise InputError(f"bad year {year!r}")
    if month is not None and not 1 <= int(month) <= 12:
        raise InputError(f"bad month {month!r}: 1..12")
    if partner.upper() in ("WLD", "ALL", "-"):
        cty = "-"
    else:
        c = resolve_country(partner)
        if not c.census_code:
            raise InputError(f"{c.iso3} has no Census country code")
        cty = c.census_code
    suffix = "_MO" if month else "_YR"
    # CTY_CODE, COMM_LVL and time are predicates: the API appends them to every row.
    if flow == "imports":
        get = ["CTY_NAME", "I_COMMODITY", "I_COMMODITY_SDESC", f"CON_VAL{suffix}", f"CAL_DUT{suffix}"]
        ccol = "I_COMMODITY"
    else:
        get = ["CTY_NAME", "E_COMMODITY", "E_COMMODITY_SDESC", f"ALL_VAL{suffix}"]
        ccol = "E_COMMODITY"
    period = f"{int(year)}-{int(month):02d}" if month else f"{int(year)}-12"
    params = {"get": ",".join(get), "COMM_LVL": level, "CTY_CODE": cty, "time": period}
    if commodity:
        if not re.fullmatch(r"\d{2,10}\*?", commodity):
            raise InputError(f"bad commodity {commodity!r}: HS digits, optionally ending in * (e.g. 8703*)")
        params[ccol] = commodity
    if key:
        params["key"] = key
    name = (f"census_{flow}_hs_{cty if cty != '-' else 'all'}_{period}{'' if month else '_ytd'}_{level}"
            f"{'_' + commodity.rstrip('*') if commodity else ''}_pulled_{_today()}.json")
    return CENSUS_URL.format(flow=flow), params, name


def pull_census(flow: str = "imports", partner: str = "JPN", year: int = 2024, month: int | None = None,
                level: str = "HS10", commodity: str | None = None, transport: httpx.BaseTransport | None = None,
                ingest: bool = True, con: Any = None, progress: bool = True, **kw: Any) -> PullResult:
    url, params, name = census_params(flow, partner, year, month, level, commodity, os.environ.get("CENSUS_API_KEY"))
    path, n, attempts, final = download(url, downloads_dir() / name, params, transport, progress=progress, **kw)
    return PullResult(_redact(final), path, n, attempts, _ingest(path, "census_api", ingest, con))


def _redact(url: str) -> str:
    return re.sub(r"([?&]key=)[^&]+", r"\1***", url)


def hts_url(revision: str, rest: bool = False) -> tuple[str, dict[str, str] | None, str]:
    m = re.fullmatch(r"(\d{4})_(basic|rev_(\d+))", revision)
    if not m:
        raise InputError(f"bad revision {revision!r}: like 2025_basic, 2025_rev_17, 2026_rev_10")
    fname = f"hts_{revision}.json"
    if rest:
        return HTS_REST_URL, {"from": "0100", "to": "9999", "format": "JSON", "styles": "false"}, fname
    year, rev = m.group(1), m.group(3)
    archive = f"hts_{year}_basic_edition_json" if rev is None else f"hts_{year}_revision_{rev}_json"
    return HTS_ARCHIVE_URL.format(name=archive), None, fname


def pull_hts(revision: str, rest: bool = False, transport: httpx.BaseTransport | None = None, ingest: bool = True,
             con: Any = None, progress: bool = True, **kw: Any) -> PullResult:
    url, params, name = hts_url(revision, rest)
    path, n, attempts, final = download(url, downloads_dir() / name, params, transport, progress=progress, **kw)
    return PullResult(final, path, n, attempts, _ingest(path, "hts_json", ingest, con))


def pull_fred(series: str = "DEXJPUS", start: str | None = None, end: str | None = None,
              transport: httpx.BaseTransport | None = None, ingest: bool = True, con: Any = None,
              progress: bool = True, **kw: Any) -> PullResult:
    if not re.fullmatch(r"[A-Z0-9]{2,20}", series):
        raise InputError(f"bad FRED series id {series!r} (e.g. DEXJPUS, EXJPUS)")
    params = {"id": series}
    for k, v in (("cosd", start), ("coed", end)):
        if v:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                raise InputError(f"bad date {v!r}: YYYY-MM-DD")
            params[k] = v
    name = f"fred_{series}_{start or 'start'}_{end or 'latest'}_pulled_{_today()}.csv"
    path, n, attempts, final = download(FRED_URL, downloads_dir() / name, params, transport, progress=progress, **kw)
    return PullResult(final, path, n, attempts, _ingest(path, "fred_csv", ingest, con))
