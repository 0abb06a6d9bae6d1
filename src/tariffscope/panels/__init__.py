"""World panels: bilateral product-level trade (BACI-style) as partitioned Parquet queried through DuckDB.

A panel is a directory ``$TARIFFSCOPE_HOME/panels/<name>/`` holding hive partitions
``year=YYYY/*.parquet`` with one row per (exporter, importer, HS6 product) and a ``panel.json``
manifest (source files, SHA-256, vintage, rows per year, unknown country codes).

Columns: ``exporter``, ``importer`` (ISO3; a numeric code no table knows becomes ``UNK<code>`` and is
reported, never dropped), ``exporter_code``, ``importer_code`` (the file's numeric codes),
``product`` (HS6, 6 digits: BACI writes ``10121`` for ``010121``), ``value_kusd`` (thousand US dollars,
as BACI publishes it), ``quantity_t`` (metric tons; NULL when the file says NA), and the partition
column ``year``.

Input CSV: a header ``t,i,j,k,v,q`` (BACI) or ``year,exporter,importer,product,value,quantity``;
``q``/``quantity`` may be missing. Numeric country codes are UN M49 codes, mapped through
``tariffscope.codes.countries``, plus BACI's own codes for a few customs territories (842 = USA incl.
Puerto Rico, 251 = France incl. Monaco, ...); ``countries=`` takes BACI's ``country_codes_V*.csv``
(or any CSV with ``code,iso3``) to override. A bad row raises ``IngestError`` naming file and line,
and nothing is written.

Modules: ``store`` (where panels live, the ``panel.json`` manifest ``PanelInfo``, register/remove, the
SQL reading a panel), ``ingest`` (CSV checks, country codes, writing partitions: ``ingest_panel``),
``query`` (``aggregate_panel``, ``panel_balance``, ``panel_imports``).
"""
from __future__ import annotations

from tariffscope.panels.ingest import BACI_CODES, IngestReport, country_code_table, ingest_panel
from tariffscope.panels.query import (
    PRODUCT_LEVELS,
    PanelBalance,
    aggregate_panel,
    panel_balance,
    panel_country,
    panel_imports,
)
from tariffscope.panels.store import (
    QUANTITY_UNIT,
    VALUE_UNIT,
    PanelInfo,
    PanelSource,
    list_panels,
    panel_dir,
    panel_info,
    panels_root,
    register_panel,
    remove_panel,
    scan_sql,
)

__all__ = ["BACI_CODES", "IngestReport", "country_code_table", "ingest_panel", "PRODUCT_LEVELS", "PanelBalance",
           "aggregate_panel", "panel_balance", "panel_country", "panel_imports", "QUANTITY_UNIT", "VALUE_UNIT",
           "PanelInfo", "PanelSource", "list_panels", "panel_dir", "panel_info", "panels_root", "register_panel",
           "remove_panel", "scan_sql"]
