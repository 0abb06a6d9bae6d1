"""Request schemas of the web API: every input is validated here, with limits, before any work runs."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_DRAWS = 200
MAX_SCENARIO_BYTES = 64 * 1024
MAX_BODY_BYTES = 96 * 1024  # a scenario plus JSON framing; anything larger is refused before parsing
MAX_PACKAGES = 6
MAX_CHANGES = 40
MAX_SIDE_ITEMS = 10  # partner tariffs, purchases or investment pledges of one edited package (each list)
MAX_RATE = 10.0  # 1,000%: the scenario schema's bound on a tariff rate
MAX_USD = 1e13  # USD a year: above the partner's total imports for any partner (10 tn)
MAX_SERIES_DAYS = 731  # two years of daily points
MIN_DATE, MAX_DATE = dt.date(2015, 1, 1), dt.date(2030, 12, 31)
DEFAULT_SEED = 20250709

Country = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9 .,'()\-]+$")]
Period = Annotated[str, Field(pattern=r"^\d{4}(-\d{2})?$")]
Month = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
Hts = Annotated[str, Field(min_length=4, max_length=14, pattern=r"^[0-9. ]+$")]
# No dots or slashes: a scenario name can never be read as a file path (the API loads *.yaml paths).
ScenarioName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


_COUNTRY_RE = re.compile(r"^[A-Za-z0-9 .,'()\-]{2,40}$")


def country(text: str) -> str:
    """A partner typed in a page's form, checked like the API's ``Country`` (InputError, not a 422 page)."""
    from tariffscope.errors import InputError

    if not _COUNTRY_RE.match(text.strip()):
        raise InputError(f"partner must be a country code or name (2-40 letters), got {text[:40]!r}")
    return text.strip()


def _in_range(d: dt.date) -> dt.date:
    if not MIN_DATE <= d <= MAX_DATE:
        raise ValueError(f"date must be between {MIN_DATE} and {MAX_DATE}")
    return d


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BalanceQuery(Strict):
    partner: Country = "JPN"
    reporter: Country = "USA"
    period: Period = "2024"
    by: Literal["sector", "hs2", "hs4", "hs6"] = "sector"
    currency: Literal["USD", "JPY"] = "USD"


class MonitorQuery(Strict):
    partner: Country = "JPN"
    reporter: Country = "USA"
    month: Month = "2025-05"
    by: Literal["sector", "none"] = "sector"


class DutyQuery(Strict):
    hts: Hts
    origin: Country = "JPN"
    date: dt.date
    value: float = Field(100_000.0, gt=0, le=1e12)
    quantity: float | None = Field(None, ge=0, le=1e12)
    metal_share: float | None = Field(None, ge=0, le=1)
    # the engine's other share options (tariffs.rules.SHARE_OPTIONS); None = the documented default
    usmca: float | None = Field(None, ge=0, le=1)
    auto_parts_share: float | None = Field(None, ge=0, le=1)
    semis_share: float | None = Field(None, ge=0, le=1)
    s122_civil_aircraft_share: float | None = Field(None, ge=0, le=1)

    _date = field_validator("date")(lambda cls, v: _in_range(v))

    def options(self) -> dict[str, float]:
        """The share options given (metal_share included), for ``api.duty(options=...)``."""
        names = ("metal_share", "usmca", "auto_parts_share", "semis_share", "s122_civil_aircraft_share")
        return {k: float(getattr(self, k)) for k in names if getattr(self, k) is not None}


class EtrQuery(Strict):
    partner: Country = "JPN"
    date: dt.date
    by: Literal["sector", "authority", "hs2"] = "authority"

    _date = field_validator("date")(lambda cls, v: _in_range(v))


class EtrSeriesQuery(Strict):
    partner: Country = "JPN"
    start: dt.date = dt.date(2025, 1, 1)
    end: dt.date = dt.date(2025, 12, 31)
    by: Literal["authority", "sector", "hs2", "none"] = "authority"

    _dates = field_validator("start", "end")(lambda cls, v: _in_range(v))

    def check(self) -> EtrSeriesQuery:
        if self.end < self.start:
            raise ValueError("end is before start")
        if (self.end - self.start).days > MAX_SERIES_DAYS:
            raise ValueError(f"a daily series is limited to {MAX_SERIES_DAYS} days")
        return self


class Change(Strict):
    """One edit of a package, as typed in the Scenarios form (the scenario schema validates it fully)."""

    origin: Country = "JPN"
    products: Annotated[str, Field(max_length=400, pattern=r"^[0-9 ,.*]*$")] = "*"
    mode: Literal["add", "set", "floor"] = "add"
    rate: float = Field(ge=0, le=5)
    start: dt.date | None = None
    end: dt.date | None = None

    def to_spec(self) -> dict:
        """The change as the scenario schema spells it (a RateChange)."""
        prefixes = [p.replace(".", "") for p in re.split(r"[ ,]+", self.products) if p and p != "*"]
        spec: dict = {"origins": [self.origin], "products": {"prefixes": prefixes}, "mode": self.mode,
                      "rate": self.rate}
        window = {k: v.isoformat() for k, v in (("from", self.start), ("until", self.end)) if v}
        if window:
            spec["window"] = window
        return spec


HsPrefixes = Annotated[str, Field(min_length=2, max_length=400, pattern=r"^[0-9 ,.]+$")]


def hs_prefixes(text: str) -> list[str]:
    """'1005, 12.01' -> ['1005', '1201']: HS prefixes typed in a form (the scenario schema checks each one)."""
    return [p.replace(".", "") for p in re.split(r"[ ,]+", text) if p]


class SideItem(Strict):
    """One item of the partner's side of a package (no NaN or infinity: every amount is a figure)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class PartnerTariffItem(SideItem):
    """The partner's tariff on US goods in some HS prefixes, from the rate in force to a new one (fractions)."""

    products: HsPrefixes
    rate_from: float = Field(ge=0, le=MAX_RATE)
    rate_to: float = Field(ge=0, le=MAX_RATE)
    base: float | None = Field(None, ge=0, le=MAX_USD, description="US exports in these products, USD a year (finer than HS2)")

    def to_spec(self) -> dict:
        """As the scenario schema spells it (a PartnerTariff)."""
        spec: dict = {"prefixes": hs_prefixes(self.products), "from": self.rate_from, "to": self.rate_to}
        if self.base is not None:
            spec["base"] = self.base
        return spec


class PurchaseItem(SideItem):
    """A purchase commitment: USD a year in each year first_year..last_year, of which ``additionality`` is new
    trade (drawn over low..high in the Monte Carlo when given)."""

    what: str = Field("", max_length=120)
    products: HsPrefixes
    per_year: float = Field(ge=0, le=MAX_USD)
    first_year: int = Field(ge=2000, le=2100)
    last_year: int = Field(ge=2000, le=2100)
    additionality: float = Field(ge=0, le=1)
    low: float | None = Field(None, ge=0, le=1)
    high: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _consistent(self) -> PurchaseItem:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year {self.first_year}")
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high (the additionality range) or neither")
        return self

    def to_spec(self) -> dict:
        """As the scenario schema spells it (a Purchase)."""
        spec: dict = {"what": self.what, "prefixes": hs_prefixes(self.products),
                      "values": {y: self.per_year for y in range(self.first_year, self.last_year + 1)},
                      "additionality": self.additionality, "source": "typed in the web app"}
        if self.low is not None and self.high is not None:
            spec["additionality_range"] = [self.low, self.high]
        return spec


class InvestmentItem(SideItem):
    """An investment pledge: a memo item, with a trade effect only when one is given (USD a year)."""

    amount: float = Field(ge=0, le=1e14)
    horizon: str = Field("", max_length=80)
    text: str = Field("", max_length=200)
    exports_per_year: float | None = Field(None, ge=-MAX_USD, le=MAX_USD)
    imports_per_year: float | None = Field(None, ge=-MAX_USD, le=MAX_USD)

    def to_spec(self) -> dict:
        """As the scenario schema spells it (an Investment)."""
        return {"amount": self.amount, "horizon": self.horizon, "text": self.text, "source": "typed in the web app",
                "exports_per_year": self.exports_per_year, "imports_per_year": self.imports_per_year}


class Package(Strict):
    """A package edited in the web app: a built-in's regime and items plus the user's US-side changes and
    partner-side items (the partner is the built-in's)."""

    name: ScenarioName
    base: ScenarioName = "june-2025"  # the built-in package this one starts from (its regime and changes)
    changes: list[Change] = Field(default_factory=list, max_length=MAX_CHANGES)
    partner_tariffs: list[PartnerTariffItem] = Field(default_factory=list, max_length=MAX_SIDE_ITEMS)
    purchases: list[PurchaseItem] = Field(default_factory=list, max_length=MAX_SIDE_ITEMS)
    investment: list[InvestmentItem] = Field(default_factory=list, max_length=MAX_SIDE_ITEMS)

    @property
    def two_sided(self) -> bool:
        return bool(self.partner_tariffs or self.purchases or self.investment)


class SimulateRequest(Strict):
    scenario: ScenarioName | None = None
    yaml: Annotated[str, Field(max_length=MAX_SCENARIO_BYTES)] | None = None
    package: Package | None = None
    draws: int = Field(0, ge=0, le=MAX_DRAWS)
    seed: int = Field(DEFAULT_SEED, ge=0, le=2**31 - 1)


class CompareRequest(Strict):
    scenarios: list[ScenarioName] = Field(default_factory=list, max_length=MAX_PACKAGES)
    packages: list[Package] = Field(default_factory=list, max_length=MAX_PACKAGES)
    yaml: list[Annotated[str, Field(max_length=MAX_SCENARIO_BYTES)]] = Field(default_factory=list, max_length=2)
    against: ScenarioName | None = None
    draws: int = Field(0, ge=0, le=MAX_DRAWS)
    seed: int = Field(DEFAULT_SEED, ge=0, le=2**31 - 1)


class ProductQuery(Strict):
    q: Annotated[str, Field(min_length=1, max_length=80)]
    limit: int = Field(20, ge=1, le=100)


class FormulaQuery(Strict):
    """The reciprocal formula's parameters (USTR: elasticity 4, pass-through 0.25, floor 10%, rounded up)."""

    year: Annotated[str, Field(pattern=r"^\d{4}$")] = "2024"
    basis: Literal["general", "consumption"] = "general"
    vintage: Literal["revised", "pre-revision"] = "revised"
    elasticity: float = Field(4.0, gt=0, le=50)
    pass_through: float = Field(0.25, gt=0, le=5)
    floor: float = Field(0.10, ge=0, lt=1)
    rounding: Literal["up", "table", "none"] = "up"


GeName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


def clean_hts(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)
