"""World panels, the store: where panels live (``$TARIFFSCOPE_HOME/panels/<name>/``), the manifest
(``PanelInfo``, ``panel.json``), adopting or removing a panel directory, and the SQL that reads one."""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tariffscope import config, db
from tariffscope.errors import DataNotFoundError, InputError

VALUE_UNIT = "thousand USD"
QUANTITY_UNIT = "metric tons"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def panels_root() -> Path:
    return config.home() / "panels"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InputError(f"bad panel name {name!r}: use letters, digits, '_', '-', '.' (e.g. baci_hs17)")
    return name


def panel_dir(name: str) -> Path:
    return panels_root() / _check_name(name)


@dataclass
class PanelSource:
    file: str
    sha256: str
    rows: int
    vintage: str | None
    years: list[int]
    ingested_at: str


@dataclass
class PanelInfo:
    """The manifest of one panel."""

    name: str
    path: str
    rows_by_year: dict[int, int]
    sources: list[PanelSource]
    unknown_codes: dict[str, int] = field(default_factory=dict)  # numeric code -> rows (as exporter or importer)
    value_unit: str = VALUE_UNIT
    quantity_unit: str = QUANTITY_UNIT

    @property
    def years(self) -> list[int]:
        return sorted(self.rows_by_year)

    @property
    def rows(self) -> int:
        return sum(self.rows_by_year.values())

    @property
    def source(self) -> str:
        return f"panel:{self.name}"

    @property
    def vintage(self) -> str | None:
        vintages = sorted({s.vintage for s in self.sources if s.vintage})
        return ", ".join(vintages) or None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows_by_year"] = {str(k): v for k, v in sorted(self.rows_by_year.items())}
        d.update(years=self.years, rows=self.rows, source=self.source, vintage=self.vintage)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PanelInfo:
        return cls(
            name=d["name"], path=d["path"],
            rows_by_year={int(k): int(v) for k, v in d["rows_by_year"].items()},
            sources=[PanelSource(**s) for s in d["sources"]],
            unknown_codes={str(k): int(v) for k, v in d.get("unknown_codes", {}).items()},
            value_unit=d.get("value_unit", VALUE_UNIT), quantity_unit=d.get("quantity_unit", QUANTITY_UNIT),
        )


def panel_info(name: str) -> PanelInfo:
    path = panel_dir(name) / "panel.json"
    if not path.exists():
        known = ", ".join(p.name for p in list_panels()) or "none yet"
        raise DataNotFoundError(f"no panel named {name!r} (panels: {known}); "
                                "load one with 'tariffscope data panel ingest PATH --name NAME'")
    return PanelInfo.from_dict(json.loads(path.read_text()))


def list_panels() -> list[PanelInfo]:
    root = panels_root()
    if not root.exists():
        return []
    return [PanelInfo.from_dict(json.loads(p.read_text())) for p in sorted(root.glob("*/panel.json"))]


def write_manifest(info: PanelInfo) -> None:
    path = Path(info.path) / "panel.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info.to_dict(), indent=2))
    os.replace(tmp, path)


def sql_str(text: str | Path) -> str:
    """A SQL string literal (quotes doubled) of a text or a file path."""
    return "'" + str(text).replace("'", "''") + "'"


def partition_stats(con: db.Connection, directory: Path) -> tuple[dict[int, int], dict[str, int]]:
    """Rows per year and rows per unknown country code of the partitions under ``directory``."""
    src = f"read_parquet({sql_str(str(directory) + '/year=*/*.parquet')}, hive_partitioning=true)"
    by_year = {int(y): int(n) for y, n in con.execute(f"SELECT year, count(*) FROM {src} GROUP BY year").fetchall()}
    unknown = {str(c): int(n) for c, n in con.execute(f"""
        SELECT code, count(*) FROM (
            SELECT exporter_code AS code FROM {src} WHERE exporter LIKE 'UNK%'
            UNION ALL SELECT importer_code FROM {src} WHERE importer LIKE 'UNK%')
        GROUP BY code ORDER BY code""").fetchall()}
    return by_year, unknown


def register_panel(directory: str | Path, name: str, *, source: str, vintage: str | None = None) -> PanelInfo:
    """Adopt a directory of ``year=YYYY/*.parquet`` files already in the panel layout (e.g. written by
    another tool) as panel ``name``: the files are moved under ``$TARIFFSCOPE_HOME/panels/<name>``."""
    directory = Path(directory)
    target = panel_dir(name)
    if target.exists():
        raise InputError(f"panel {name!r} exists; remove it first ('tariffscope data panel remove {name}')")
    con = db.memory()
    try:
        by_year, unknown = partition_stats(con, directory)
    finally:
        con.close()
    shutil.move(str(directory), str(target))
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = PanelInfo(name=name, path=str(target), rows_by_year=by_year,
                     sources=[PanelSource(file=source, sha256="", rows=sum(by_year.values()), vintage=vintage,
                                          years=sorted(by_year), ingested_at=now)],
                     unknown_codes=unknown)
    write_manifest(info)
    return info


def remove_panel(name: str) -> None:
    panel_info(name)  # raises if missing
    shutil.rmtree(panel_dir(name))


def scan_sql(name: str) -> str:
    """The FROM clause reading panel ``name`` (hive partition ``year`` as INTEGER)."""
    info = panel_info(name)
    glob = str(Path(info.path) / "year=*" / "*.parquet")
    return f"read_parquet({sql_str(glob)}, hive_partitioning=true, hive_types={{'year': 'INTEGER'}})"
