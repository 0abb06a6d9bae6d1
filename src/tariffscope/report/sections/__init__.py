"""The brief's sections: each one calls ``tariffscope.api`` and turns the result into sentences,
tables and inline SVG charts. Presentation only: no warehouse, no models.

One module per section (balance, monitor, timeline, duty, scenarios, backtest, ge, methods) over a small shared
part (``_common``: the Section/Table/Chart/Context records and the helpers several sections use).
A section whose API raises says what went wrong. Nothing is ever filled with placeholder numbers.
"""
from __future__ import annotations

from collections.abc import Callable

from tariffscope.report.sections._common import (
    Chart,
    Context,
    Section,
    SectionUnavailable,
    Table,
    as_dict,
    norm_sources,
    partner_name,
    run_builder,
    sector_label,
)
from tariffscope.report.sections.backtest import BACKTEST_DRAWS, backtest_section, render_backtest
from tariffscope.report.sections.balance import balance_section
from tariffscope.report.sections.duty import EXAMPLE_DATES, EXAMPLE_VALUE, duty_section, duty_table
from tariffscope.report.sections.ge import GE_BASE_DATE, GE_SPECS, ge_section
from tariffscope.report.sections.methods import methods_section
from tariffscope.report.sections.monitor import monitor_section
from tariffscope.report.sections.scenarios import (
    PACKAGES_BY_PARTNER,
    package_label,
    packages_for,
    partner_display,
    render_comparison,
    scenarios_section,
)
from tariffscope.report.sections.timeline import (
    FILTER_AUTHORITIES,
    SECTORS,
    TIMELINE_START,
    TimelineView,
    last_covered_day,
    reaches,
    realized_through,
    timeline_section,
)
from tariffscope.tariffs.vocabulary import AUTHORITY_LABELS, authority_label

BUILDERS: list[tuple[str, str, Callable[[Context], Section]]] = [
    ("balance", "Bilateral balance by sector", balance_section),
    ("monitor", "Monthly monitor", monitor_section),
    ("timeline", "Tariff timeline", timeline_section),
    ("duty", "Worked duty examples", duty_section),
    ("scenarios", "Scenario comparison", scenarios_section),
    ("backtest", "Backtest against 2025", backtest_section),
    ("ge", "General equilibrium", ge_section),
]

__all__ = ["AUTHORITY_LABELS", "BACKTEST_DRAWS", "BUILDERS", "PACKAGES_BY_PARTNER", "package_label", "packages_for",
           "partner_display", "EXAMPLE_DATES", "EXAMPLE_VALUE", "GE_BASE_DATE", "GE_SPECS", "Chart",
           "Context", "Section", "SectionUnavailable", "Table", "as_dict", "authority_label", "backtest_section",
           "balance_section", "duty_section", "duty_table", "ge_section", "last_covered_day", "methods_section",
           "monitor_section", "norm_sources", "partner_name", "reaches", "realized_through", "render_backtest", "render_comparison",
           "run_builder", "scenarios_section", "sector_label",
           "timeline_section", "FILTER_AUTHORITIES", "SECTORS", "TIMELINE_START", "TimelineView"]
