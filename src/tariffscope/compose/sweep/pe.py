"""The PE model in a sweep: one ``scenarios.run.compare`` solve per batch of grid points, plus the
outcomes named for targets (``deficit_cut_pct``, ``exporter_jobs_lost``) and a private warehouse per
worker process."""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from tariffscope.compose.sweep.models import SweepModel
from tariffscope.compose.sweep.spec import SweepSpec
from tariffscope.errors import InputError


class PEModel(SweepModel):
    """The PE model through ``scenarios.run.compare`` (what ``api.compare`` runs; one solve for a batch
    of grid points)."""

    ref = "pe"

    def __init__(self, spec: SweepSpec) -> None:
        from tariffscope.scenarios.run import get_scenario
        from tariffscope.trade.balance import BalanceResult, balance

        ref = spec.base_ref()
        data: dict[str, Any] = get_scenario(ref).to_dict() if isinstance(ref, str) else copy.deepcopy(ref)
        if not data:
            raise InputError("a PE sweep needs a base scenario (base: NAME, PATH or a mapping)")
        data.setdefault("changes", [])
        data["changes"] = list(data["changes"]) + copy.deepcopy(spec.changes)
        self.base = data
        self.spec_name = spec.name
        self.draws, self.seed = spec.draws, spec.seed
        self.names = spec.outcomes
        self.client_pid = os.getpid()
        self.against = spec.against
        # The reporter's base-year balance with the partner turns the balance change into a % cut.
        partner = str(data.get("partner", "JPN"))
        year = str((data.get("model") or {}).get("trade_year", 2024))
        bal = balance("USA", partner, year, by=None)
        if not isinstance(bal, BalanceResult):  # 'all' or a list of partners gives a table
            raise InputError(f"a PE sweep needs one partner, not {partner!r}")
        self.base_balance = float(bal.balance)
        self.balance_label = f"USA-{partner} goods balance {year}"
        self.balance_sources = [s.get("source", "") for s in bal.to_dict().get("sources", [])]

    def run_batch(self, batch: list[tuple[int, dict[str, Any], int]]) -> list[dict[str, Any]]:
        from tariffscope.scenarios.run import compare
        from tariffscope.scenarios.schema import scenario_from_dict

        if os.getpid() != self.client_pid:
            _private_warehouse()
        scs = []
        for index, data, _ in batch:
            d = dict(data, name=f"{self.spec_name}-p{index}")
            scs.append(scenario_from_dict(d, source=f"{self.spec_name} point {index}"))
        # Common random numbers: every point uses the sweep seed, so differences across the grid are smooth.
        res = compare(scs, against=self.against, draws=self.draws, seed=self.seed, backend="serial",
                      progress=False)
        out = []
        for pkg in res.packages:
            row: dict[str, Any] = {}
            for m in pkg["headline"]:
                row[m["name"]] = m["value"]
                for b in ("p05", "p50", "p95"):
                    if b in m:
                        row[f"{m['name']}__{b}"] = m[b]
            meta = {m["name"]: (m["label"], m["unit"]) for m in pkg["headline"]}
            self._derive(row, meta)
            row["_meta"] = meta
            out.append(row)
        return out

    def _derive(self, row: dict[str, Any], meta: dict[str, tuple[str, str]]) -> None:
        """Outcomes named for targets: the % cut in the base deficit and exporter jobs lost (positive = lost)."""
        change = row.get("balance_with_partner")
        if change is not None and self.base_balance < 0:
            row["deficit_cut_pct"] = 100.0 * change / abs(self.base_balance)
            meta["deficit_cut_pct"] = (f"Cut in the US goods deficit with the partner (% of the {self.balance_label})",
                                       "%")
            for b in ("p05", "p50", "p95"):
                if f"balance_with_partner__{b}" in row and row[f"balance_with_partner__{b}"] is not None:
                    row[f"deficit_cut_pct__{b}"] = 100.0 * row[f"balance_with_partner__{b}"] / abs(self.base_balance)
        jobs = row.get("exporter_sector_jobs")
        if jobs is not None:
            row["exporter_jobs_lost"] = -jobs
            meta["exporter_jobs_lost"] = ("Partner's auto manufacturing jobs lost (first-order)", "persons")
            for b, nb in (("p05", "p95"), ("p50", "p50"), ("p95", "p05")):
                if row.get(f"exporter_sector_jobs__{b}") is not None:
                    row[f"exporter_jobs_lost__{nb}"] = -row[f"exporter_sector_jobs__{b}"]

    def sources(self) -> list[dict[str, str]]:
        return [{"source": "tariffscope.api.compare", "what": "PE model (Armington/CES), 2024 US import flows"},
                {"source": ", ".join(filter(None, self.balance_sources)) or "tariffscope.api.balance",
                 "what": f"{self.balance_label} (base of deficit_cut_pct)"}]



_WORKER_HOME_ENV = "TARIFFSCOPE_SWEEP_WORKER_HOME"


def _private_warehouse() -> None:
    """Give this worker process its own copy of the warehouse (once per process).

    The PE path opens the warehouse read-write, and DuckDB lets one process at a time hold a file
    read-write: two local workers sharing ``$TARIFFSCOPE_HOME`` would fail on the lock. A private copy
    (about 30 MB) per worker process avoids that; it is removed when the worker exits.
    """
    if os.environ.get(_WORKER_HOME_ENV):
        return
    import atexit
    import shutil
    import tempfile

    from tariffscope import config

    src = config.warehouse_path()
    home = Path(tempfile.mkdtemp(prefix=f"tariffscope-worker-{os.getpid()}-"))
    if src.exists():
        shutil.copy2(src, home / src.name)
        wal = src.with_name(src.name + ".wal")
        if wal.exists():
            shutil.copy2(wal, home / wal.name)
    os.environ["TARIFFSCOPE_HOME"] = str(home)
    os.environ[_WORKER_HOME_ENV] = str(home)
    atexit.register(shutil.rmtree, home, True)
    # Pool workers leave through os._exit (no atexit); multiprocessing runs its finalizers first.
    from multiprocessing import util

    util.Finalize(None, shutil.rmtree, args=(str(home), True), exitpriority=10)
