"""The closing brief section: every source behind a figure, assumptions, conventions."""
from __future__ import annotations

from collections.abc import Sequence

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report.sections._common import Context, Section, Table, norm_sources

DERIVED = "tariffscope (derived in this run from the sources listed)"


def methods_section(ctx: Context, sections: Sequence[Section]) -> Section:
    s = Section("methods", "Methods and sources")
    seen: dict[str, dict] = {}
    for sec in sections:
        for src in sec.sources:
            if not src.get("source"):  # a record naming no source would be an empty row
                continue
            key = str(src.get("source"))
            seen.setdefault(key, {}).update({k: v for k, v in src.items() if v})
    try:
        st = api.data_status(con=ctx.con)
        s.data["data_status"] = st.to_dict()
        for src in norm_sources(st.sources):  # the warehouse's record adds publisher and vintage to what sections said
            key = str(src["source"])
            if key in seen:
                for k, v in src.items():
                    seen[key].setdefault(k, v)
    except TariffscopeError as exc:
        s.notes.append(f"data status: {exc}")
    # A source the warehouse does not record (each of those names its publisher) is this run's own derivation
    # (a model's base lines, an engine result): say so rather than leave the publisher blank.
    rows = [[k, str(v.get("title", "")), str(v.get("publisher", "") or DERIVED), str(v.get("vintage", "") or "")]
            for k, v in sorted(seen.items())]
    if rows:
        s.tables.append(Table(["Source id", "What", "Publisher", "Vintage"], rows,
                              caption="Every data source behind a figure in this brief", align=list("llll")))
    else:
        s.sentences.append("No section of this build returned sources.")
    for sec in sections:
        for a in sec.data.get("assumptions", []):  # the sections whose model states assumptions (scenarios, ge)
            s.notes.append(f"{sec.title}: {a}")
    s.notes.append("Money is in current US dollars; rates are trade-weighted with 2024 import weights unless stated; "
                   "the realized rate is Census calculated duty divided by imports for consumption.")
    s.data["sources"] = seen
    return s


