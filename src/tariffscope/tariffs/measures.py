"""The measure catalogue: load the YAML data files, validate them, check them against the HTS.

The catalogue (``catalogue/*.yaml``) is data: one entry per measure with its Chapter 99 headings, legal
dates, origin and product scope, rate form and citation. Long product lists live in ``catalogue/lists``
(built by ``scripts/build_measure_lists.py`` from the raw tracker lists, with ``PROVENANCE.yaml``).
``load()`` reads everything with ``ingest.safeyaml.read_yaml_file`` (the one safe loader) and validates it with pydantic; ``check(con)`` verifies
every heading against the ``chapter99_lines`` of the HTS revision in force on the measure's effective date.
"""
from __future__ import annotations

import builtins
import csv
import datetime as dt
import functools
import re
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tariffscope.codes.countries import group_members
from tariffscope.errors import InputError, RuleError
from tariffscope.ingest.safeyaml import read_yaml_file
from tariffscope.tariffs.vocabulary import BUCKET_OF_AUTHORITY, REPLACEABLE, Authority

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
LISTS_DIR = CATALOGUE_DIR / "lists"
# headings no measure carries, each with its reason (not a measure file: the loader skips it)
OUT_OF_SCOPE = "out_of_scope.yaml"
OUT_OF_SCOPE_CATEGORIES = ("exemption_modeled", "humanitarian", "in_transit", "ftz", "quota", "product_exclusion",
                           "conditional", "outside_scope", "not_modeled")

RateForm = Literal["add_on", "floor_inclusive_of_mfn", "on_metal_content", "specific"]

# Groups an origin scope may name: the country codes' own groups (codes.countries), so that the catalogue's EU and the
# EU of trade data and country lookups cannot diverge.
GROUPS: dict[str, frozenset[str]] = {"EU27": frozenset(group_members("EU27"))}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListRef(_Strict):
    # The field is named ``list`` (the catalogue's YAML key), which hides the builtin inside the class body:
    # the annotations below name the type as ``builtins.list``.
    list: str
    values: builtins.list[str] | None = None  # keep rows whose value is one of these
    value_prefixes: builtins.list[str] | None = None  # ... or starts with one of these
    dated: bool = True  # honour the rows' effective_from/until
    blocks_bucket: bool = False  # exclusion only: the product is exempt from every measure of this stacking bucket


class OriginScope(_Strict):
    include: list[str]
    exclude: list[str] = Field(default_factory=list)


class ProductScope(_Strict):
    prefixes: list[str] = Field(default_factory=list)  # '' = every product
    lists: list[ListRef] = Field(default_factory=list)
    exclude_prefixes: list[str] = Field(default_factory=list)
    exclude_lists: list[ListRef] = Field(default_factory=list)

    @field_validator("prefixes", "exclude_prefixes")
    @classmethod
    def _digits(cls, v: list[str]) -> list[str]:
        for p in v:
            if not re.fullmatch(r"\d{0,10}", p):
                raise ValueError(f"product prefix {p!r} must be 0-10 digits")
        return v


class RateByList(_Strict):
    list: str  # the YAML key; as in ListRef, the type below is spelled ``builtins.list``
    values: builtins.list[str]
    rate: float = Field(ge=0)


class Applicability(_Strict):
    """A conditional scope: the measure holds for only a share of the value of some products, a named option
    (``rules.OPTIONS``) gives the share. ``prefixes`` limit it to those products (empty: every product in scope);
    ``exemption_list`` turns it round: the rows of that exclusion list exempt only the share, the measure applies to
    the rest (an exemption for goods certified for a use, e.g. civil aircraft)."""

    option: str = Field(pattern=r"^[a-z0-9_]+$")
    prefixes: list[str] = Field(default_factory=list)
    exemption_list: str | None = None
    why: str = Field(min_length=10)

    @field_validator("prefixes")
    @classmethod
    def _digits(cls, v: list[str]) -> list[str]:
        for p in v:
            if not re.fullmatch(r"\d{2,10}", p):
                raise ValueError(f"applicability prefix {p!r} must be 2-10 digits")
        return v


class Citation(_Strict):
    note: str
    text: str


class Measure(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    authority: Authority
    program: str | None = None
    replaces: REPLACEABLE | None = None
    headings: list[str] = Field(min_length=1)
    effective_from: dt.date
    effective_from_legal: dt.date | None = None
    effective_until: dt.date | None = None  # exclusive
    in_transit: str | None = None
    origins: OriginScope
    products: ProductScope
    rate_form: RateForm
    rate: float | None = Field(default=None, ge=0)
    rates_list: str | None = None
    rates_by_prefix: dict[str, float] | None = None
    rates_by_value: dict[str, float] | None = None
    rates_by_list: RateByList | None = None
    value_from: dict[str, dt.date] | None = None
    heading_rates: dict[str, float] | None = None  # per-heading add-on where one measure sums several headings
    usmca_exempt: bool = False
    usmca_exempt_from: dt.date | None = None
    excluded_by_232: bool = False
    stacks_with_reciprocal: bool = False
    # an end date that depends on a named option: {option: {value: first day not in force}} (e.g. IEEPA's end at the
    # ruling rather than at the end of collection); the option's default keeps ``effective_until``
    until_by_option: dict[str, dict[str, dt.date]] | None = None
    applicability: Applicability | None = None  # a conditional scope held as a share (named option)
    priority: int = 0
    citation: Citation

    @field_validator("headings")
    @classmethod
    def _headings(cls, v: list[str]) -> list[str]:
        for h in v:
            if not re.fullmatch(r"9903\.\d\d\.\d\d(-9903\.\d\d\.\d\d)?", h):
                raise ValueError(f"heading {h!r} is not of the form 9903.xx.xx or a range 9903.xx.xx-9903.yy.yy")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError(f"effective_until {self.effective_until} is not after effective_from {self.effective_from}")
        for name, by_value in (self.until_by_option or {}).items():
            for value, day in by_value.items():
                if day <= self.effective_from:
                    raise ValueError(f"until_by_option {name}={value}: {day} is not after effective_from {self.effective_from}")
        app = self.applicability
        if app is not None and app.exemption_list is not None and app.exemption_list not in {r.list for r in self.products.exclude_lists}:
            raise ValueError(f"applicability.exemption_list {app.exemption_list!r} is not one of the measure's exclude_lists")
        if self.rate is None and self.rates_list is None:
            raise ValueError("give a rate or a rates_list")
        for d in (self.rates_by_prefix or {}).values():
            if d < 0:
                raise ValueError("rates must be >= 0")
        for d in (self.rates_by_value or {}).values():
            if d < 0:
                raise ValueError("rates must be >= 0")
        if not self.products.prefixes and not self.products.lists:
            raise ValueError("product scope needs prefixes or lists")
        return self

    @property
    def bucket(self) -> str:
        """The stacking bucket (``vocabulary.BUCKETS``); a deal lands in the bucket of what it replaces."""
        if "232" in (self.authority, self.replaces):
            return BUCKET_OF_AUTHORITY["232"]
        if "ieepa_reciprocal" in (self.authority, self.replaces):
            return "reciprocal_extra" if self.stacks_with_reciprocal else BUCKET_OF_AUTHORITY["ieepa_reciprocal"]
        return BUCKET_OF_AUTHORITY[self.authority]

    @property
    def heading_list(self) -> list[str]:
        """Every heading, ranges expanded as written (the checker expands ranges against the HTS)."""
        return list(self.headings)

    def in_force(self, date: dt.date) -> bool:
        return self.effective_from <= date and (self.effective_until is None or date < self.effective_until)

    def products_on(self, on: dt.date | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(include, exclude) HS prefixes of the product scope as the engine reads them on ``on``: list rows
        filtered by value, dated rows honoured (every row when ``on`` is None), ``value_from`` gates applied,
        rows without a rate under ``rates_by_value`` dropped; the rows of an applicability ``exemption_list`` are
        not exclusions (they exempt a share only). Sorted, unique; ``('',)`` = every product."""
        day = None if on is None else on.toordinal()

        def live(frm: str, until: str, value: str) -> bool:
            if day is None:
                return True
            start = dt.date.fromisoformat(frm).toordinal() if frm else -(10**9)
            gate = (self.value_from or {}).get(value.rsplit(":", 1)[-1])
            if gate is not None:
                start = max(start, gate.toordinal())
            return start <= day and (not until or day < dt.date.fromisoformat(until).toordinal())

        def priced(value: str) -> bool:  # the engine drops rows rates_by_value gives no rate (e.g. suspended lists)
            rates = self.rates_by_value
            return not rates or value in rates or value.rsplit(":", 1)[-1] in rates

        ps = self.products
        inc = [(p, "", "", "") for p in ps.prefixes] + [r for ref in ps.lists for r in list_rows(ref)]
        partial = self.applicability.exemption_list if self.applicability else None  # exempts a share only: in scope
        exc = [(p, "", "", "") for p in ps.exclude_prefixes] + [r for ref in ps.exclude_lists if ref.list != partial
                                                                 for r in list_rows(ref)]
        keep_inc = sorted({r[0] for r in inc if priced(r[3]) and live(r[1], r[2], r[3])})
        keep_exc = sorted({r[0] for r in exc if live(r[1], r[2], "")})
        return (("",) if "" in keep_inc else tuple(keep_inc)), tuple(keep_exc)

    def legal_from(self, deal_dates: str = "publication") -> dt.date:
        if deal_dates == "legal" and self.effective_from_legal is not None:
            return self.effective_from_legal
        return self.effective_from

    def until(self, options: dict | None = None) -> dt.date | None:
        """The first day not in force under ``options`` (``until_by_option`` overrides ``effective_until``)."""
        for name, by_value in (self.until_by_option or {}).items():
            got = by_value.get(str((options or {}).get(name)))
            if got is not None:
                return got
        return self.effective_until

    def active_on(self, date: dt.date, options: dict | None = None) -> bool:
        """In force on ``date`` under the named options (``deal_dates`` for the start, ``until_by_option`` for the end)."""
        opts = options or {}
        start = self.legal_from(str(opts.get("deal_dates", "publication")))
        end = self.until(opts)
        return start <= date and (end is None or date < end)


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: str
    measures: tuple[Measure, ...]
    files: tuple[str, ...]
    covers: tuple[dt.date, dt.date]  # [from, until): the files' ``coverage``

    def get(self, measure_id: str, on: dt.date | None = None) -> Measure:
        """The entry of ``measure_id``: the window in force on ``on`` when one is, else the first listed.
        An unknown id is an InputError naming the closest ids."""
        found = [m for m in self.measures if m.id == measure_id]
        if found:
            return next((m for m in found if on is not None and m.in_force(on)), found[0])
        raise InputError(f"unknown measure {measure_id!r}{_near(measure_id, [m.id for m in self.measures])}; "
                         "see 'tariffscope measures list'")

    @property
    def coverage(self) -> tuple[dt.date, dt.date]:
        """Dates the catalogue speaks for, [from, until), as its files state them (``coverage:``)."""
        return self.covers

    def in_force(self, date: dt.date) -> list[Measure]:
        return [m for m in self.measures if m.in_force(date)]

    def boundaries(self) -> list[dt.date]:
        """Every date where some measure or list row starts or stops (rates are constant in between)."""
        out: set[dt.date] = set()
        for m in self.measures:
            out.add(m.effective_from)
            if m.effective_until:
                out.add(m.effective_until)
            if m.effective_from_legal:
                out.add(m.effective_from_legal)
            if m.usmca_exempt_from:
                out.add(m.usmca_exempt_from)
            for by_value in (m.until_by_option or {}).values():
                out.update(by_value.values())
            out.update((m.value_from or {}).values())
            for ref in [*m.products.lists, *m.products.exclude_lists]:
                for row in read_list(ref.list):
                    for d in (row[1], row[2]):
                        if d:
                            out.add(dt.date.fromisoformat(d))
        return sorted(out)


_PREFIX = re.compile(r"\d{0,10}")


@functools.lru_cache(maxsize=64)
def read_list(name: str) -> tuple[tuple[str, str, str, str], ...]:
    """Rows (prefix, effective_from, effective_until, value) of a product list, or the rows of a country table."""
    path = LISTS_DIR / f"{name}.csv"
    if not path.exists():
        raise RuleError(f"catalogue list {name!r} not found at {path}: run scripts/build_measure_lists.py")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    product_list = bool(rows) and rows[0][:1] == ["prefix"]  # country tables start with measure_id
    out: list[tuple[str, str, str, str]] = []
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != 4:  # every list has four columns; a short row would fail later far from its cause
            raise RuleError(f"catalogue list {path}: line {n} has {len(r)} fields, expected 4")
        if product_list and not _PREFIX.fullmatch(r[0]):  # an 11+ digit code would silently match nothing
            raise RuleError(f"catalogue list {path}: line {n} has prefix {r[0]!r}; a prefix is 0 to 10 digits of an HTS10 code")
        out.append((r[0], r[1], r[2], r[3]))
    return tuple(out)


def list_rows(ref: ListRef) -> list[tuple[str, str, str, str]]:
    """The rows of a measure's list reference: filtered by ``values``/``value_prefixes``; without dates when
    the reference is not ``dated``. The one reading of list references (the engine compiles these rows)."""
    rows = read_list(ref.list)
    if ref.values is not None or ref.value_prefixes is not None:
        vals = set(ref.values or [])
        pres = tuple(ref.value_prefixes or [])
        rows = tuple(r for r in rows if r[3] in vals or (pres and r[3].startswith(pres)))
    return [r if ref.dated else (r[0], "", "", r[3]) for r in rows]


def measure_prefixes(measure_id: str, on: dt.date | None = None) -> tuple[str, ...]:
    """HS prefixes a catalogue measure covers on ``on`` (its entry in force then; every row when None),
    exclusions not subtracted: see ``Measure.products_on``."""
    return load().get(measure_id, on).products_on(on)[0]


def _near(name: str, known: Iterable[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""


@functools.lru_cache(maxsize=4)
def load(directory: str | None = None) -> Catalogue:
    """Load and validate every ``*.yaml`` of the catalogue; RuleError names the file, the measure and the problem."""
    base = Path(directory) if directory else CATALOGUE_DIR
    measures: list[Measure] = []
    versions: set[str] = set()
    covers: set[tuple[dt.date, dt.date]] = set()
    files = sorted(p for p in base.glob("*.yaml") if p.name != OUT_OF_SCOPE)
    if not files:
        raise RuleError(f"no catalogue files in {base}")
    for path in files:
        doc = read_yaml_file(path) or {}  # the one safe loader (duplicate keys refused)
        unknown = set(doc) - {"catalogue_version", "coverage", "measures"}
        if unknown:
            raise RuleError(f"{path.name}: unknown top-level keys {sorted(unknown)}")
        versions.add(str(doc.get("catalogue_version", "")))
        if "coverage" in doc:
            covers.add(_coverage(path.name, doc["coverage"]))
        for i, raw in enumerate(doc.get("measures") or []):
            try:
                measures.append(Measure.model_validate(raw))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"])
                mid = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
                raise RuleError(f"{path.name}: measure {mid}: {where}: {first['msg']}") from None
    validate(measures, base)
    if len(versions) != 1:
        raise RuleError(f"catalogue files disagree on catalogue_version: {sorted(versions)}")
    if len(covers) != 1:
        raise RuleError(f"catalogue files must state one coverage {{from, until}}, found {sorted(covers) or 'none'}")
    return Catalogue(version=versions.pop(), measures=tuple(measures), files=tuple(p.name for p in files),
                     covers=covers.pop())


def _coverage(name: str, raw: object) -> tuple[dt.date, dt.date]:
    """A file's ``coverage: {from: YYYY-MM-DD, until: YYYY-MM-DD}`` (until exclusive)."""
    try:
        if not isinstance(raw, dict):
            raise TypeError
        lo, hi = (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in (raw["from"], raw["until"]))
    except (TypeError, KeyError, ValueError):
        raise RuleError(f"{name}: coverage must be {{from: YYYY-MM-DD, until: YYYY-MM-DD}}, got {raw!r}") from None
    if hi <= lo:
        raise RuleError(f"{name}: coverage until {hi} is not after from {lo}")
    return lo, hi


def validate(measures: Iterable[Measure], base: Path | None = None) -> None:
    """Cross-entry rules: unique windows per id (no overlap), referenced lists exist, known origins/groups."""
    by_id: dict[str, list[Measure]] = {}
    for m in measures:
        by_id.setdefault(m.id, []).append(m)
    for mid, ms in by_id.items():
        ms = sorted(ms, key=lambda m: m.effective_from)
        for a, b in pairwise(ms):
            if a.effective_until is None or a.effective_until > b.effective_from:
                raise RuleError(f"measure {mid}: windows overlap ({a.effective_from}..{a.effective_until} and {b.effective_from}..)")
    lists_dir = (base / "lists") if base else LISTS_DIR
    for m in measures:
        refs = [r.list for r in [*m.products.lists, *m.products.exclude_lists]]
        refs += [m.rates_list] if m.rates_list else []
        refs += [m.rates_by_list.list] if m.rates_by_list else []
        for name in refs:
            if not (lists_dir / f"{name}.csv").exists():
                raise RuleError(f"measure {m.id}: list {name!r} not found in {lists_dir}")
        for code in [*m.origins.include, *m.origins.exclude]:
            if code != "all" and code not in GROUPS and not re.fullmatch(r"[A-Z]{3}", code):
                raise RuleError(f"measure {m.id}: origin {code!r} is neither ISO3, a group ({', '.join(GROUPS)}) nor 'all'")


# --- checking against the HTS ------------------------------------------------------------------

_RATE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def _expand(heading: str, available: Iterable[str]) -> list[str]:
    if "-" not in heading:
        return [heading.replace(".", "")]
    lo, hi = (h.replace(".", "") for h in heading.split("-"))
    return sorted(h for h in available if lo <= h <= hi)


def check(con) -> list[dict]:
    """Check every catalogue heading against the Chapter 99 lines of the HTS revision in force on the
    measure's effective date (by revision effective date). Returns one row per (measure, heading) with
    ``status`` ok | missing | rate_mismatch | published_later | no_revision and a message, then the problems
    ``completeness`` finds over every revision (unmapped, rate_text, vanished, terminated_in_text); never
    raises on a mismatch.
    """
    return _check_in_force(con) + [r for r in completeness(con) if r["status"] not in ("mapped", "out_of_scope")]


def _check_in_force(con) -> list[dict]:
    from tariffscope import db

    cat = load()
    revs = db.query(con, "SELECT revision, effective_date FROM hts_revisions WHERE effective_date IS NOT NULL ORDER BY effective_date, seq").to_pylist()
    if not revs:
        return [{"measure_id": "-", "heading": "-", "revision": None, "status": "no_revision", "message": "hts_revisions is empty"}]
    lines = db.query(con, "SELECT revision, heading, general_text FROM chapter99_lines").to_pylist()
    by_rev: dict[str, dict[str, str]] = {}
    for r in lines:
        by_rev.setdefault(r["revision"], {})[r["heading"]] = r["general_text"] or ""
    out: list[dict] = []
    for m in cat.measures:
        rev = revision_in_force(revs, m.effective_from)
        if rev is None:
            out.append({"measure_id": m.id, "heading": ",".join(m.headings), "revision": None, "status": "no_revision",
                        "message": f"no HTS revision in force on {m.effective_from}"})
            continue
        table = by_rev.get(rev, {})
        listed = {r[1].replace(".", "") for r in read_list(m.rates_list) if r[0] == m.id} if m.rates_list else None
        for spec in m.headings:
            for h in _expand(spec, table):
                if listed is not None and "-" in spec and h not in listed:
                    continue  # a range: only the headings the country table uses
                pretty = f"{h[:4]}.{h[4:6]}.{h[6:8]}"
                if h not in table:
                    later = next((r["revision"] for r in revs if r["revision"] in by_rev and h in by_rev[r["revision"]]
                                  and _after(r, m.effective_from)), None)
                    if later:
                        out.append({"measure_id": m.id, "heading": pretty, "revision": rev, "status": "published_later",
                                    "message": f"{pretty} first appears in {later}, after the legal date {m.effective_from} (retroactive)",
                                    "first_revision": later, "general_text": by_rev[later][h]})
                    else:
                        out.append({"measure_id": m.id, "heading": pretty, "revision": rev, "status": "missing",
                                    "message": f"{pretty} not in chapter 99 of {rev} (in force {m.effective_from}) nor later"})
                    continue
                text = table[h]
                out.append({"measure_id": m.id, "heading": pretty, "revision": rev, "general_text": text,
                            **_rate_status(m, h, text)})
    return out


def _after(rev_row: dict, date: dt.date) -> bool:
    d = rev_row["effective_date"]
    d = d.date() if isinstance(d, dt.datetime) else d
    return d > date


def _rate_status(m: Measure, heading: str, text: str) -> dict:
    """Compare the catalogue rate with the heading's column 1 text ('+ 25%', '15%', '+ a duty of 50% upon ...')."""
    found = [float(x) / 100 for x in _RATE_RE.findall(text)]
    expected: set[float] = set()
    pretty = f"{heading[:4]}.{heading[4:6]}.{heading[6:8]}"
    if m.heading_rates and pretty in m.heading_rates:
        want = round(m.heading_rates[pretty], 4)
        ok = any(round(f, 4) == want for f in found)
        return {"status": "ok" if ok else "rate_mismatch", "message": "" if ok else f"catalogue {want} vs HTS text {found}"}
    if m.rate is not None:
        expected.add(round(m.rate, 4))
    expected |= {round(v, 4) for v in (m.rates_by_prefix or {}).values()}
    expected |= {round(v, 4) for v in (m.rates_by_value or {}).values()}
    if m.rates_by_list:
        expected.add(round(m.rates_by_list.rate, 4))
    if m.rates_list:
        expected |= {round(float(r[3]), 4) for r in read_list(m.rates_list) if r[1].replace(".", "") == heading}
    if not found:
        # 'The duty provided in the applicable subheading' (no add-on): the MFN>=floor arm of a floor pair, or an
        # exemption heading. Fine for floors; for add-ons it is a mismatch.
        ok = m.rate_form == "floor_inclusive_of_mfn"
        return {"status": "ok" if ok else "rate_mismatch",
                "message": "no rate in text (MFN arm of a floor)" if ok else f"catalogue {sorted(expected)} vs text without a rate"}
    if any(round(f, 4) in expected for f in found):
        return {"status": "ok", "message": ""}
    return {"status": "rate_mismatch", "message": f"catalogue {sorted(expected)} vs HTS text {found}"}


def revision_in_force(revs: list[dict], date: dt.date) -> str | None:
    """The last revision whose effective_date is on or before ``date`` (revs sorted by date)."""
    best = None
    for r in revs:
        d = r["effective_date"]
        if isinstance(d, dt.datetime):
            d = d.date()
        if d <= date:
            best = r["revision"]
    return best


# --- completeness: every Chapter 99 heading of every loaded revision ------------------------------------------------


class OutOfScope(_Strict):
    headings: list[str] = Field(min_length=1)
    category: Literal["exemption_modeled", "humanitarian", "in_transit", "ftz", "quota", "product_exclusion",
                      "conditional", "outside_scope", "not_modeled"]
    reason: str = Field(min_length=10)
    handled_by: list[str] | None = None

    @field_validator("headings")
    @classmethod
    def _headings(cls, v: list[str]) -> list[str]:
        for h in v:
            if not re.fullmatch(r"9903\.\d\d\.(\d\d)?(-9903\.\d\d\.\d\d)?", h):
                raise ValueError(f"heading {h!r} is not of the form 9903.xx.xx or a range 9903.xx.xx-9903.yy.yy")
        return v


@functools.lru_cache(maxsize=4)
def out_of_scope(directory: str | None = None) -> tuple[OutOfScope, ...]:
    """The out-of-scope entries (``catalogue/out_of_scope.yaml``), validated; ``handled_by`` must name catalogue ids."""
    base = Path(directory) if directory else CATALOGUE_DIR
    path = base / OUT_OF_SCOPE
    doc = read_yaml_file(path) or {}
    out = []
    for i, raw in enumerate(doc.get("entries") or []):
        try:
            out.append(OutOfScope.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise RuleError(f"{OUT_OF_SCOPE}: entry #{i}: {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from None
    ids = {m.id for m in load(directory).measures}
    for e in out:
        unknown = sorted(set(e.handled_by or []) - ids)
        if unknown:
            raise RuleError(f"{OUT_OF_SCOPE}: handled_by names unknown measures {unknown} ({e.headings[0]})")
    return tuple(out)


def _expand_all(spec: str, available: Iterable[str]) -> set[str]:
    """Compact headings (8 digits, or as the HTS writes a malformed one) a heading or range covers among ``available``."""
    if "-" not in spec:
        return {spec.replace(".", "")}
    lo, hi = (h.replace(".", "") for h in spec.split("-"))
    return {h for h in available if lo <= h <= hi}


def _pretty(h: str) -> str:
    return f"{h[:4]}.{h[4:6]}.{h[6:8]}"


def completeness(con) -> list[dict]:
    """Every Chapter 99 heading of every loaded HTS revision, mapped to the catalogue measures carrying it or to an
    out-of-scope entry. One row per heading (``status`` mapped | out_of_scope | unmapped, with the measures or the
    category and reason), then the problems over the revisions:

    * ``rate_text``: a revision's rate text for a heading that no measure carrying it agrees with;
    * ``vanished``: a measure's heading present in an earlier revision and absent from a later one while the measure
      is in force (by revision effective date) without an end date;
    * ``terminated_in_text``: the heading's text says the provision was terminated or suspended while the measure is
      in force.
    """
    from tariffscope import db

    cat = load()
    revs = db.query(con, "SELECT revision, effective_date FROM hts_revisions ORDER BY effective_date NULLS LAST, seq").to_pylist()
    lines = db.query(con, "SELECT revision, heading, general_text, description FROM chapter99_lines").to_pylist()
    by_rev: dict[str, dict[str, tuple[str, str]]] = {}
    for r in lines:
        by_rev.setdefault(r["revision"], {})[r["heading"]] = (r["general_text"] or "", r["description"] or "")
    every = sorted({h for t in by_rev.values() for h in t})
    carried: dict[str, list[Measure]] = {}
    for m in cat.measures:
        for spec in m.headings:
            for h in _expand_all(spec, every):
                carried.setdefault(h, []).append(m)
    scoped: dict[str, OutOfScope] = {}
    for e in out_of_scope():
        for spec in e.headings:
            for h in _expand_all(spec, every):
                scoped.setdefault(h, e)
    order = [r["revision"] for r in revs]
    out: list[dict] = []
    for h in every:
        present = [rv for rv in order if h in by_rev.get(rv, {})]
        span = present[0] if len(present) == 1 else f"{present[0]} .. {present[-1]}"
        row = {"heading": _pretty(h) if len(h) == 8 else h, "revisions": span, "general_text": by_rev[present[-1]][h][0]}
        if h in carried:
            out.append(row | {"measure_id": ",".join(sorted({m.id for m in carried[h]})), "status": "mapped", "message": ""})
        elif h in scoped:
            e = scoped[h]
            out.append(row | {"measure_id": ",".join(e.handled_by or []) or "-", "status": "out_of_scope",
                              "category": e.category, "message": f"{e.category}: {e.reason}"})
        else:
            out.append(row | {"measure_id": "-", "status": "unmapped",
                              "message": f"{row['heading']} ({span}) is neither in the catalogue nor in {OUT_OF_SCOPE}: "
                                         f"{by_rev[present[-1]][h][1][:160]}"})
    dated = [(r["revision"], _day(r["effective_date"])) for r in revs if r["effective_date"] is not None]
    # rate text: each revision's text must agree with some measure carrying the heading (rates change by window)
    for h, ms in carried.items():
        bad = [rv for rv in order if h in by_rev.get(rv, {})
               and not any(_rate_status(m, h, by_rev[rv][h][0])["status"] == "ok" for m in ms)]
        if bad:
            ids = ",".join(sorted({m.id for m in ms}))
            out.append({"measure_id": ids, "heading": _pretty(h), "revision": bad[0], "status": "rate_text",
                        "general_text": by_rev[bad[0]][h][0],
                        "message": f"rate text {by_rev[bad[0]][h][0]!r} in {len(bad)} revision(s) ({bad[0]} .. {bad[-1]}) "
                                   f"agrees with none of {ids}"})
    # vanished or terminated while in force
    for m in cat.measures:
        window = [rv for rv, d in dated if m.effective_from <= d and (m.effective_until is None or d < m.effective_until)]
        for spec in m.headings:
            if "-" in spec:
                continue  # ranges: the country rows of the measure's table (checked through them)
            h = spec.replace(".", "")
            seen = any(h in by_rev.get(rv, {}) for rv, d in dated if d <= m.effective_from)
            for rv in window:
                here = h in by_rev.get(rv, {})
                if seen and not here:
                    out.append({"measure_id": m.id, "heading": spec, "revision": rv, "status": "vanished",
                                "message": f"{spec} is not in {rv}, inside the window of {m.id} "
                                           f"({m.effective_from}..{m.effective_until or 'open'})"})
                    break
                ended = re.search(r"provision (terminated|suspended)[^]]*", by_rev[rv][h][1], re.I) if here else None
                if ended is not None:
                    out.append({"measure_id": m.id, "heading": spec, "revision": rv, "status": "terminated_in_text",
                                "message": f"{rv}: {spec} reads {ended.group(0)!r}"
                                           f" inside the window of {m.id} ({m.effective_from}..{m.effective_until or 'open'})"})
                    break
                seen = seen or here
    return out


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
