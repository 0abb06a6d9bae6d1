"""The scenario file schema (pydantic) and its loader; every error names its YAML path.

A scenario is a diff from a base tariff regime (Tax-Calculator style "reform"):

```yaml
name: auto-relief
description: June 2025 with autos and parts from Japan at 15% all-in
base: {date: 2025-06-15}            # or: base: no_additional_tariffs (MFN only)
partner: JPN                         # the bilateral focus of headline figures
changes:
  - measure: ieepa_recip_phase1      # a catalogue measure: apply (put in force) | remove | set (rate)
    action: apply
    origins: [JPN]
  - origins: [JPN]                   # or a rate for an origin scope x product scope x date window
    products: {sectors: [passenger_vehicles], prefixes: ["8708"]}
    mode: floor                      # add (on top) | set (total rate) | floor (max(MFN, rate), all-in)
    rate: 0.15
    window: {from: 2025-06-01, until: 2026-01-01}
reference: 2025-01-01                # regime changes are measured from (a date's regime, or mfn)
model: {elasticities: broda_weinstein, omega: .inf, years: 1, trade_year: 2024, horizon: short}
outputs: {by: [sector, origin], lines: false}
```

Loading never runs anything: :func:`load_scenario` parses with ``ingest.safeyaml.load_yaml`` (safe,
bounded with aliases expanded, duplicate keys refused), validates, checks
measure ids against the catalogue and windows for overlaps, and raises ``RuleError`` whose message
starts with the YAML path of the first error (``changes[2].rate: must be >= 0``).
"""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tariffscope.codes import sectors as sector_map
from tariffscope.errors import InputError, RuleError

__all__ = ["Scenario", "MeasureChange", "RateChange", "Base", "ModelOptions", "Outputs", "ProductScope", "Window",
           "PartnerTariff", "Purchase", "Investment", "load_scenario", "parse_scenario", "scenario_from_dict"]


MAX_RATE = 10.0  # 1,000%: above any US tariff ever in force (the 2025 China peak was 145%); catches 15 for 0.15
MAX_YEARS = 100.0
MAX_CHANGES = 10_000  # the overlap check is indexed (4,000 changes validate in ~0.1 s); the bound keeps a run's per-change masks bounded


def _no_bool(v: Any) -> Any:
    # YAML reads 'true' as a boolean and pydantic would take it as 1.0, i.e. a 100% rate: refuse it
    if isinstance(v, bool):
        raise ValueError("must be a number, not true/false")
    return v


# A number that must be finite (YAML '.inf' and '.nan' refused) and not a boolean.
Finite = Annotated[float, BeforeValidator(_no_bool), AllowInfNan(False)]
# A number that may be infinite where infinity means something (omega: full pass-through), never NaN.
PositiveOrInf = Annotated[float, BeforeValidator(_no_bool), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Window(_Strict):
    """Dates a change is in force: ``from`` inclusive, ``until`` exclusive (either may be open)."""

    start: dt.date | None = Field(None, alias="from")
    until: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start and self.until and self.until <= self.start:
            raise ValueError("until must be after from")
        return self

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.until is None or day < self.until)

    def overlaps(self, other: Window) -> bool:
        lo = max(self.start or dt.date.min, other.start or dt.date.min)
        hi = min(self.until or dt.date.max, other.until or dt.date.max)
        return lo < hi


class ProductScope(_Strict):
    """HS prefixes (digits), sector names and/or the product lines of catalogue measures; empty = all."""

    prefixes: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    measures: list[str] = Field(default_factory=list)  # e.g. [s232_autos, s232_auto_parts]
    exclude_prefixes: list[str] = Field(default_factory=list)

    @field_validator("prefixes", "exclude_prefixes", mode="before")
    @classmethod
    def _digits(cls, v: Any) -> Any:
        if isinstance(v, list):
            out = []
            for p in v:
                s = str(p).replace(".", "").strip()
                if not s.isdigit() or len(s) > 10:
                    raise ValueError(f"HS prefix {p!r} must be 1-10 digits")
                out.append(s)
            return out
        return v

    @field_validator("sectors")
    @classmethod
    def _known_sector(cls, v: list[str]) -> list[str]:
        known = set(sector_map.SECTORS)
        for s in v:
            if s not in known:
                raise ValueError(f"unknown sector {s!r}; known: {', '.join(sorted(known))}")
        return v

    @property
    def is_all(self) -> bool:
        return not self.prefixes and not self.sectors and not self.measures

    def overlaps(self, other: ProductScope) -> bool:
        if self.is_all or other.is_all:
            return True
        if set(self.sectors) & set(other.sectors) or set(self.measures) & set(other.measures):
            return True
        if self.measures or other.measures:  # measure lines vs prefixes/sectors: compare their prefixes
            from tariffscope.tariffs.measures import measure_prefixes  # every row: overlap on any date

            mine = self.prefixes + [p for m in self.measures for p in measure_prefixes(m)]
            theirs = other.prefixes + [p for m in other.measures for p in measure_prefixes(m)]
            return any(a.startswith(b) or b.startswith(a) for a in mine for b in theirs)
        if any(a.startswith(b) or b.startswith(a) for a in self.prefixes for b in other.prefixes):
            return True
        # A sector and a prefix may overlap; be conservative when the sector map says so.
        for sec, prefixes in ((s, other.prefixes) for s in self.sectors):
            if any(_sector_of(p) == sec for p in prefixes):
                return True
        for sec, prefixes in ((s, self.prefixes) for s in other.sectors):
            if any(_sector_of(p) == sec for p in prefixes):
                return True
        return False


def _sector_of(prefix: str) -> str | None:
    try:
        return sector_map.sector_of(prefix)
    except Exception:  # noqa: BLE001 - a short prefix may span sectors
        return None


def _origins_ok(v: list[str]) -> list[str]:
    from tariffscope.codes.countries import resolve_country

    out = []
    for o in v:
        if str(o).lower() == "all":
            out.append("all")
            continue
        try:
            out.append(resolve_country(str(o)).iso3)
        except InputError as exc:
            raise ValueError(str(exc)) from None
    return out


class MeasureChange(_Strict):
    """Apply (put in force as on its effective date), remove, or set the rate of a catalogue measure."""

    measure: str
    action: Literal["apply", "remove", "set"]
    rate: Finite | None = Field(None, ge=0, le=MAX_RATE)
    origins: list[str] = Field(default_factory=lambda: ["all"])
    products: ProductScope = Field(default_factory=ProductScope)
    window: Window = Field(default_factory=Window)
    note: str | None = None

    _check_origins = field_validator("origins")(classmethod(lambda cls, v: _origins_ok(v)))

    @model_validator(mode="after")
    def _rate_for_set(self) -> MeasureChange:
        if self.action == "set" and self.rate is None:
            raise ValueError("action 'set' needs a rate")
        if self.action != "set" and self.rate is not None:
            raise ValueError(f"action {self.action!r} takes no rate (use action: set)")
        return self


class RateChange(_Strict):
    """A rate for origin scope x product scope x date window."""

    origins: list[str] = Field(min_length=1)
    products: ProductScope = Field(default_factory=ProductScope)
    mode: Literal["add", "set", "floor"] = "add"
    rate: Finite = Field(ge=0, le=MAX_RATE)
    window: Window = Field(default_factory=Window)
    note: str | None = None

    _check_origins = field_validator("origins")(classmethod(lambda cls, v: _origins_ok(v)))


Change = MeasureChange | RateChange


# --- two-sided packages: the partner's side (its tariffs on US goods, purchases) and investment memos -------


def _prefix_list(v: Any) -> Any:
    # the digits rule of ProductScope.prefixes (dots allowed), at least a chapter (2 digits)
    if not isinstance(v, list):
        return v
    out = []
    for p in v:
        s = str(p).replace(".", "").strip()
        if not s.isdigit() or not 2 <= len(s) <= 10:
            raise ValueError(f"HS prefix {p!r} must be 2-10 digits")
        out.append(s)
    return out


def _share(v: Any) -> Any:
    v = _no_bool(v)
    if isinstance(v, (int, float)) and not 0 <= v <= 1:
        raise ValueError(f"must be between 0 and 1 (a share), got {v:g}")
    return v


Share = Annotated[float, BeforeValidator(_share), AllowInfNan(False)]


class PartnerTariff(_Strict):
    """The partner's tariff on US goods in some HS prefixes: ``from`` (required: no partner schedule is
    loaded, so the rate in force is the user's to give) and either ``to`` or ``change``."""

    prefixes: Annotated[list[str], BeforeValidator(_prefix_list)] = Field(min_length=1)
    start: Finite = Field(alias="from", ge=0, le=MAX_RATE)
    to: Finite | None = Field(None, ge=0, le=MAX_RATE)
    change: Finite | None = Field(None, ge=-MAX_RATE, le=MAX_RATE)
    base: Finite | None = Field(None, ge=0, description="US exports to the partner in these prefixes, USD a year "
                                                         "(needed for prefixes finer than the loaded base)")
    note: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> PartnerTariff:
        if (self.to is None) == (self.change is None):
            raise ValueError("give exactly one of to (the new rate) or change (to minus from)")
        if self.change is not None and self.start + self.change < 0:
            raise ValueError(f"from + change = {self.start + self.change:g}: a tariff cannot go below 0")
        return self

    @property
    def new_rate(self) -> float:
        return self.to if self.to is not None else self.start + float(self.change or 0.0)


class Purchase(_Strict):
    """A purchase commitment of the partner: USD per year by year, in some HS prefixes, of which the share
    ``additionality`` (optionally drawn over ``additionality_range``) is new trade."""

    what: str = ""
    prefixes: Annotated[list[str], BeforeValidator(_prefix_list)] = Field(min_length=1)
    values: dict[int, Annotated[Finite, Field(ge=0)]] = Field(min_length=1, description="year -> USD bought that year")
    additionality: Share
    additionality_range: tuple[Share, Share] | None = None
    source: str = ""

    @field_validator("values")
    @classmethod
    def _values_ok(cls, v: dict[int, float]) -> dict[int, float]:
        for year in v:
            if not 2000 <= year <= 2100:
                raise ValueError(f"year {year} must be between 2000 and 2100")
        return v

    @model_validator(mode="after")
    def _range_ok(self) -> Purchase:
        if self.additionality_range is not None:
            lo, hi = self.additionality_range
            if not lo <= self.additionality <= hi:
                raise ValueError(f"additionality_range [{lo:g}, {hi:g}] must contain additionality {self.additionality:g}")
        return self

    @property
    def per_year(self) -> float:
        """The average of the yearly values: the annual figure the (annual) PE adds."""
        return float(sum(self.values.values()) / len(self.values))

    @property
    def bounds(self) -> tuple[float, float]:
        return self.additionality_range or (self.additionality, self.additionality)


class Investment(_Strict):
    """A memo item (an investment pledge): no trade effect unless the user gives one (USD a year)."""

    amount: Finite = Field(ge=0, description="USD")
    horizon: str = ""
    text: str = ""
    source: str = ""
    exports_per_year: Finite | None = Field(None, description="user-given effect on US exports to the partner, USD a year")
    imports_per_year: Finite | None = Field(None, description="user-given effect on US imports from the partner, USD a year")


class Base(_Strict):
    """The regime a scenario starts from: the engine's regime on ``date``, or MFN only."""

    date: dt.date | None = None
    regime: Literal["date", "no_additional_tariffs"] = "date"

    @model_validator(mode="after")
    def _date_needed(self) -> Base:
        if self.regime == "date" and self.date is None:
            raise ValueError("base needs a date (or use base: no_additional_tariffs)")
        return self


class ModelOptions(_Strict):
    elasticities: Literal["broda_weinstein", "hauk"] = "broda_weinstein"
    omega: PositiveOrInf = Field(math.inf, description="export supply elasticity; inf = full pass-through")
    sigma: Finite | None = Field(None, gt=0, description="override: one substitution elasticity for every product")
    eta: Finite | None = Field(None, gt=0, description="override: one import demand elasticity for every product")
    years: Finite = Field(1.0, gt=0, le=MAX_YEARS, description="static annual effects are multiplied by this")
    trade_year: int = Field(2024, ge=2000, le=2100)

    @field_validator("trade_year", mode="before")
    @classmethod
    def _year_not_bool(cls, v: Any) -> Any:
        return _no_bool(v)
    level: Literal["hs10", "hs6"] = "hs10"
    horizon: Literal["short", "long"] = Field(
        "short", description="short: one-year elasticities (Boehm et al. 2023); long: per-product Broda-Weinstein/Hauk")
    absorption: dict[str, Finite] = Field(
        default_factory=dict, max_length=1000,
        description="override of the cited exporter absorption (pass_through.yaml): {ORIGIN or ORIGIN:HSprefix, "
                    "'*' or '*:HSprefix': share of the duty change the exporter bears, in [0, 1]}, e.g. {JPN:8703: 0.63}")

    @field_validator("absorption", mode="before")
    @classmethod
    def _absorption(cls, v: Any) -> Any:
        # Keys are checked here, before the run, so a typo ('JPN:87O3', a group such as EU) is one clear error
        # rather than an override that silently matches no line. Origins are normalized to ISO3 ('Japan' -> JPN).
        from tariffscope.codes.countries import resolve_country

        if not isinstance(v, dict):
            return v
        out: dict[str, Any] = {}
        for key, share in v.items():
            org, sep, prefix = str(key).strip().partition(":")
            if (sep and not prefix.isdigit()) or not org:
                raise ValueError(f"absorption key {key!r}: use '*', an origin (JPN) or ORIGIN:HSprefix (JPN:8703, *:8703)")
            if org.isdigit():
                raise ValueError(f"absorption key {key!r}: an HS prefix needs an origin: *:{org} (every origin) or JPN:{org}")
            if org != "*":
                try:
                    c = resolve_country(org)
                except InputError as exc:
                    raise ValueError(f"absorption key {key!r}: {exc}") from None
                if c.is_group:
                    raise ValueError(f"absorption key {key!r} is a group ({c.iso3}); give one key per origin")
                org = c.iso3
            norm = org + (f":{prefix}" if prefix else "")
            if norm in out:
                raise ValueError(f"absorption key {key!r} repeats {norm}")
            _no_bool(share)
            if isinstance(share, (int, float)) and not 0.0 <= float(share) <= 1.0:
                raise ValueError(f"absorption for {norm} must be a share in [0, 1], got {share}")
            out[norm] = share
        return out

    @model_validator(mode="after")
    def _absorption_with_inf_omega(self) -> ModelOptions:
        if self.absorption and not math.isinf(self.omega):
            raise ValueError("absorption applies with omega: .inf; a finite omega lets export supply set exporters' "
                             "prices instead (drop one of them)")
        return self

OutputBy = Literal["sector", "origin", "hs2"]
_DEFAULT_BY: tuple[OutputBy, ...] = ("sector", "origin")


class Outputs(_Strict):
    by: list[OutputBy] = Field(default_factory=lambda: list(_DEFAULT_BY))
    lines: bool = False


class Scenario(_Strict):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    base: Base
    date: dt.date | None = None  # evaluation date for change windows (default: the base date)
    partner: str = "JPN"
    # The regime changes are measured from: the one in force on a date (default 2025-01-01, the regime the
    # 2024 base flows were traded under) or 'mfn' (MFN only); the date is checked against the data at run time.
    reference: str = "2025-01-01"
    changes: list[Change] = Field(default_factory=list, max_length=MAX_CHANGES)
    model: ModelOptions = Field(default_factory=ModelOptions)
    outputs: Outputs = Field(default_factory=Outputs)
    # two-sided packages (optional): the partner's tariffs on US goods, its purchases, investment memos
    partner_tariffs: list[PartnerTariff] = Field(default_factory=list, max_length=MAX_CHANGES)
    purchases: list[Purchase] = Field(default_factory=list, max_length=MAX_CHANGES)
    investment: list[Investment] = Field(default_factory=list, max_length=MAX_CHANGES)

    @property
    def two_sided(self) -> bool:
        return bool(self.partner_tariffs or self.purchases or self.investment)

    @field_validator("partner")
    @classmethod
    def _partner(cls, v: str) -> str:
        return _origins_ok([v])[0]

    @field_validator("reference", mode="before")
    @classmethod
    def _reference(cls, v: Any) -> Any:
        if isinstance(v, dt.date):
            return v.isoformat()
        s = str(v).strip().lower()
        if s in ("mfn", "mfn_only", "no_additional_tariffs"):
            return "mfn"
        try:
            return dt.date.fromisoformat(s).isoformat()
        except ValueError:
            raise ValueError(f"bad reference {v!r}: a date YYYY-MM-DD or 'mfn'") from None

    @field_validator("base", mode="before")
    @classmethod
    def _base_shorthand(cls, v: Any) -> Any:
        if v in ("no_additional_tariffs", "mfn", "mfn_only"):
            return {"regime": "no_additional_tariffs"}
        if isinstance(v, (str, dt.date)):
            return {"date": v}
        return v

    @field_validator("changes", mode="before")
    @classmethod
    def _discriminate(cls, v: Any) -> Any:
        # A change with a `measure` key is a MeasureChange, otherwise a RateChange (clearer errors than a union).
        if not isinstance(v, list):
            return v
        out = []
        for i, item in enumerate(v):
            if isinstance(item, dict):
                model = MeasureChange if "measure" in item else RateChange
                try:
                    out.append(model.model_validate(item))
                except ValidationError as exc:
                    raise _Nested(f"changes[{i}]", exc) from None
            else:
                out.append(item)
        return out

    @property
    def evaluation_date(self) -> dt.date:
        return self.date or self.base.date or dt.date(2025, 6, 15)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class _Nested(ValueError):
    """Carries a nested ValidationError with the path prefix it occurred under."""

    def __init__(self, prefix: str, exc: ValidationError) -> None:
        self.prefix, self.exc = prefix, exc
        super().__init__(f"{prefix}: {exc}")


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("MeasureChange", "RateChange", "function-after[_ordered(), Window]"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors()[0]
    ctx_err = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_err, _Nested):
        return _first_error(ctx_err.exc, _join(prefix, _fmt_loc(err["loc"])) + ctx_err.prefix[len("changes"):])
    loc = _join(prefix, _fmt_loc(err["loc"]))
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "greater_than_equal":
        msg = f"must be >= {err['ctx']['ge']:g}"
    elif err["type"] == "greater_than":
        msg = f"must be > {err['ctx']['gt']:g}"
    elif err["type"] == "missing":
        msg = "required"
    return f"{loc}: {msg}"


def _join(prefix: str, loc: str) -> str:
    if not prefix:
        return loc
    if loc == "(top level)":
        return prefix
    return prefix + ("" if loc.startswith("[") else ".") + loc


def scenario_from_dict(data: Any, *, source: str = "<scenario>", check_catalogue: bool = True) -> Scenario:
    if not isinstance(data, dict):
        raise RuleError(f"{source}: (top level): a scenario must be a mapping, got {type(data).__name__}")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise RuleError(f"{source}: {_first_error(exc)}") from None
    _check_semantics(sc, source, check_catalogue)
    _check_two_sided(sc, source)
    return sc


def parse_scenario(text: str | bytes, *, source: str = "<scenario>", check_catalogue: bool = True) -> Scenario:
    from tariffscope.ingest.safeyaml import load_yaml

    try:
        data = load_yaml(text, source=source)
    except InputError as exc:
        raise RuleError(str(exc)) from None
    return scenario_from_dict(data, source=source, check_catalogue=check_catalogue)


def load_scenario(path: str | Path, *, check_catalogue: bool = True) -> Scenario:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"scenario file not found: {p}")
    return parse_scenario(p.read_bytes(), source=str(p), check_catalogue=check_catalogue)


def _check_semantics(sc: Scenario, source: str, check_catalogue: bool) -> None:
    ids = measure_ids() if check_catalogue else None
    if check_catalogue:  # a date the engine cannot run is refused when validating, not after the work starts
        lo, hi = catalogue_coverage()
        for where, day in (("base.date", sc.base.date), ("date", sc.date)):
            if day is not None and not lo <= day < hi:
                raise RuleError(f"{source}: {where}: {day} is outside the measure catalogue's coverage "
                                f"({lo} to {hi - dt.timedelta(days=1)})")
    for i, ch in enumerate(sc.changes):
        for k, mid in enumerate(ch.products.measures):
            if ids is not None and mid not in ids:
                raise RuleError(f"{source}: changes[{i}].products.measures[{k}]: unknown measure id {mid!r}")
        if isinstance(ch, MeasureChange) and ids is not None and ch.measure not in ids:
            from difflib import get_close_matches

            near = get_close_matches(ch.measure, sorted(ids), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise RuleError(f"{source}: changes[{i}].measure: unknown measure id {ch.measure!r}{hint}")
    # Two changes on overlapping origin x product scopes must not be in force at the same time.
    hit = _first_overlap(sc.changes)
    if hit is not None:
        raise RuleError(f"{source}: changes[{hit[0]}].window: overlaps changes[{hit[1]}] on the same origins and products")


def _changes_overlap(a: Change, b: Change) -> bool:
    """Whether two changes act on a common origin x product x date (the pairwise rule)."""
    if isinstance(a, MeasureChange) != isinstance(b, MeasureChange):
        return False
    if isinstance(a, MeasureChange) and isinstance(b, MeasureChange) and a.measure != b.measure:
        return False
    oa, ob = set(a.origins), set(b.origins)
    origins_meet = "all" in oa or "all" in ob or bool(oa & ob)
    return origins_meet and a.products.overlaps(b.products) and a.window.overlaps(b.window)


class _Index:
    """Earlier changes filed under the keys a later change can meet them by, so that each change is
    compared with the few that share an origin or a product key, not with every earlier one (the
    all-pairs check took 30 s for 4,000 changes). Keys over-approximate: every candidate is then
    checked with the exact pairwise rule, so the result is the all-pairs result."""

    def __init__(self) -> None:
        self.count = 0
        self.by_origin: dict[str, list[int]] = {}
        self.all_origins: list[int] = []
        self.by_key: dict[tuple[str, str], list[int]] = {}  # ('p', prefix) / ('below', prefix) / ('s', sector) / ...
        self.all_products: list[int] = []

    @staticmethod
    def product_keys(scope: ProductScope) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        """(keys to file the scope under, keys to look it up by)."""
        from tariffscope.tariffs.measures import measure_prefixes

        prefixes = set(scope.prefixes) | {p for m in scope.measures for p in measure_prefixes(m)}
        file: set[tuple[str, str]] = {("s", s) for s in scope.sectors} | {("m", m) for m in scope.measures}
        look: set[tuple[str, str]] = set(file)
        for p in prefixes:
            file.add(("p", p))
            file.update(("below", p[:k]) for k in range(1, len(p)))  # found by a shorter prefix
            look.add(("below", p))
            look.update(("p", p[:k]) for k in range(1, len(p) + 1))  # a shorter or equal earlier prefix
            sec = _sector_of(p)
            if sec is not None:  # a sector meets the prefixes the sector map puts in it
                file.add(("sp", sec))
                look.add(("s", sec))
        for s in scope.sectors:
            look.add(("sp", s))
        return file, look

    def candidates(self, ch: Change, look: set[tuple[str, str]]) -> list[int]:
        """Earlier changes that may overlap ``ch``, ascending (the smaller of the origin and product lists)."""
        by_origin = None if "all" in ch.origins else [self.by_origin.get(o, []) for o in set(ch.origins)] + [self.all_origins]
        by_product = None if ch.products.is_all else [self.by_key.get(k, []) for k in look] + [self.all_products]
        lists = min((x for x in (by_origin, by_product) if x is not None), key=lambda ls: sum(map(len, ls)), default=None)
        if lists is None:
            return list(range(self.count))
        return sorted({j for ls in lists for j in ls})

    def add(self, i: int, ch: Change, file: set[tuple[str, str]]) -> None:
        self.count = i + 1
        if "all" in ch.origins:
            self.all_origins.append(i)
        for o in set(ch.origins) - {"all"}:
            self.by_origin.setdefault(o, []).append(i)
        if ch.products.is_all:
            self.all_products.append(i)
        for k in file:
            self.by_key.setdefault(k, []).append(i)


def _first_overlap(changes: list[Change]) -> tuple[int, int] | None:
    """(i, j) of the first change i (then the first j < i) that overlaps an earlier change j, as the
    all-pairs loop finds it, in time about linear in the number of changes."""
    index = _Index()
    for i, a in enumerate(changes):
        file, look = _Index.product_keys(a.products)
        for j in index.candidates(a, look):
            if _changes_overlap(a, changes[j]):
                return i, j
        index.add(i, a, file)
    return None


@lru_cache(maxsize=1)
def catalogue_coverage() -> tuple[dt.date, dt.date]:
    """[from, until) of the tariff catalogue: the dates a scenario can be evaluated on."""
    from tariffscope.tariffs import measures

    return measures.load().coverage


@lru_cache(maxsize=1)
def measure_ids() -> frozenset[str]:
    """Measure ids of the tariff catalogue, read by its validated loader (``tariffs.measures.load``)."""
    from tariffscope.tariffs import measures

    return frozenset(m.id for m in measures.load().measures)


def _check_two_sided(sc: Scenario, source: str) -> None:
    """The partner's side of a package: one partner, known HS prefixes, no prefix with two tariffs."""
    if not sc.two_sided:
        return
    if sc.partner == "all":
        raise RuleError(f"{source}: partner: a two-sided package needs one partner (a country or a group), not all")
    known = known_hs_prefixes()
    lists: list[tuple[str, list[list[str]]]] = [("partner_tariffs", [t.prefixes for t in sc.partner_tariffs]),
                                                ("purchases", [p.prefixes for p in sc.purchases])]
    for field_name, items in lists:
        for i, prefixes in enumerate(items):
            for k, p in enumerate(prefixes):
                if p not in known:
                    raise RuleError(f"{source}: {field_name}[{i}].prefixes[{k}]: unknown HS prefix {p!r} "
                                    "(no HTS heading or line starts with it)")
    seen: list[tuple[int, str]] = []
    for i, pt in enumerate(sc.partner_tariffs):
        for p in pt.prefixes:
            for j, q in seen:
                if j != i and (p.startswith(q) or q.startswith(p)):
                    raise RuleError(f"{source}: partner_tariffs[{i}].prefixes: {p!r} overlaps {q!r} of "
                                    f"partner_tariffs[{j}] (one tariff per product)")
        seen.extend((i, p) for p in pt.prefixes)


@lru_cache(maxsize=1)
def known_hs_prefixes() -> frozenset[str]:
    """Every prefix (2-10 digits) of an HTS heading or line in the embedded HTS table: the HS codes a partner
    tariff or purchase may name (US export codes, Schedule B, share the HS chapters and headings)."""
    import pyarrow.parquet as pq

    from tariffscope.config import EMBEDDED_DIR

    codes = pq.read_table(EMBEDDED_DIR / "hts_lines.parquet", columns=["hts_code"]).column(0)
    out: set[str] = set()
    for c in codes.to_pylist():
        d = str(c or "").replace(".", "")
        if d.isdigit():
            out.update(d[:n] for n in range(2, len(d) + 1))
    return frozenset(out)
