"""Fault figures: hostile arguments for every command, corrupted data files, kill -9 during ingest.

    python scripts/fault_figures.py [--per-command N] [--seed S] [--kills K] [--all] [--json]

Three campaigns, one table (inputs tried, good errors, tracebacks, wrong successes, hangs, data lost):

* **arguments**: every command with N hostile argument lists, and the cases the fault campaign of
  issue 15 found (``KNOWN_BAD``: each must be refused; exit 0 there is a *wrong success*);
* **files**: corrupted copies of real raw files (``../shared/data``: cut inside the last number,
  duplicated row, ``1e999``, ``nan``, negative figure, bytes that are not UTF-8, empty, UTF-16, no header;
  cut gzip and Parquet, HTS JSON cut in half) given to ``data ingest`` one by one: each must be refused
  (accepted = *wrong success*) and leave every warehouse table as it was (changed = *data lost*);
* **kills**: ``data ingest`` of a good file in a child process killed with SIGKILL at a random moment,
  K times, each on a copy of the warehouse: afterwards it must hold the old rows unchanged and the new
  file's rows whole or not at all (else *data lost*).

Every command of ``tariffscope`` (walked from the typer app, so a new command is covered without
editing this file) gets N argument lists drawn from pools of hostile values: wrong types, huge and
non-finite numbers, Rich markup, dates out of range, paths that are directories, missing, not UTF-8,
nested too deeply, billion-laughs YAML, empty Parquet, an output folder that is a file. Each run is
classified as

* ``ok``: exit 0;
* ``good error``: exit 1 or 2 with an ``Error: ...`` line (or a group's help) and no traceback;
* ``noisy error``: exit 1 or 2, no traceback, but more than the one ``Error:`` line on stderr;
* ``traceback``: an exception escaped ``tariffscope.cli.main``;
* ``bad exit``: any other exit code;
* ``hang``: still running after ``--hang-seconds``.

The same generator drives the hypothesis suite in tests/test_fuzz_cli.py (through ``argv_for`` with a
``random.Random`` that hypothesis supplies). Commands that start a server, reach the network or build
the whole brief are left out unless ``--all`` (``serve`` and ``data pull`` always: a server blocks and
the network is not to be called from a fuzz run).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

NEVER = ("serve", "data pull")  # a server blocks; a pull calls the publishers' APIs
SLOW = ("demo", "brief", "sweep", "data rebuild", "compare")  # valid runs take minutes: the long run only

GENERIC = ["", " ", "0", "1", "-1", "2", "7", "2147483648", "-2147483649", "1e999", "-1e999", "nan", "inf", "-inf",
           "0.15", "abc", "[/x]", "[bold]JPN", "[red]x[/red]", "%s%n", "'; DROP TABLE trade_flows; --", "é€ü",
           "x" * 3000, "--", "-", "-8703230140", "None", "true", "{}", "[]"]
COUNTRIES = ["JPN", "Japan", "JP", "5880", "USA", "DEU", "CHN", "WLD", "EU27", "XXX", "Japn", "[/x]", "[bold]JPN", ""]
DATES = ["2025-06-15", "2025-01-01", "2026-06-29", "2024", "2025-02", "2025-13-45", "0001-01-01", "1900-01-01",
         "9999-12-31", "yesterday", "xyz", "", "2025-06-15T00:00"]
PERIODS = ["2024", "2025", "2024-05", "2025-03", "2025-13", "1900", "99999", "2024-00", "abc", ""]
HTS = ["8703230140", "8703.23.01.40", "8703.23", "87", "0000000000", "99999999999", "8703.2", "abc", "[/x]", ""]
FORMATS = ["table", "json", "csv", "yaml", "md", "html", "xml", "", "[/x]"]
SCENARIOS = ["june-2025", "july-9-hike", "japan-deal", "no-such-scenario", "[/x]"]
GE_SPECS = ["canada_japan_pta_exact", "us-japan-2025", "no-such-experiment"]
NAME_POOLS: dict[str, list[str]] = {
    "origin": COUNTRIES, "partner": COUNTRIES, "reporter": COUNTRIES, "importer": COUNTRIES, "text": COUNTRIES + HTS,
    "date": DATES, "base_date": DATES, "as_of": DATES, "start": DATES, "end": DATES, "from_": DATES + PERIODS,
    "to": DATES + PERIODS, "period": PERIODS, "month": PERIODS, "year": PERIODS, "hts": HTS, "code": HTS,
    "fmt": FORMATS, "scenario": SCENARIOS, "against": SCENARIOS, "scenarios": SCENARIOS, "spec": GE_SPECS,
    "currency": ["USD", "JPY", "EUR", "", "[/x]"], "by": ["sector", "hs2", "hs4", "hs6", "none", "total", "hs10", ""],
    "backend": ["serial", "process", "dask", "threads", ""], "draws": ["0", "1", "2", "3", "-1", "2147483648", "x"],
    "workers": ["1", "2", "0", "-1", "999999", "x"], "years": ["2006", "1986-2006/4", "99999", "1-99999999", "x", "2006-1986"],
    "formula": ["trade ~ lndist | exporter", "trade ~ nope", "~", "", "[/x]"],
}
# Commands whose valid default run is slow get a run-size option drawn from a small pool every time.
ALWAYS = {"compare": {"--draws": ["0", "2", "-1", "x"]}, "simulate": {"--draws": ["0", "1", "-1"]},
          "brief": {"--draws": ["1", "0", "2147483648"]}}

# The cases the fault campaign of issue 15 found, each of which must be refused with one line
# ({inputs} is the folder of hostile files). tests/test_fuzz_cli.py checks them on every CI run.
KNOWN_BAD = [
    ["--bogus"], ["duty", "--value", "abc"], ["data", "ingest"], ["duty", "-8703230140"],
    ["codes", "country", "[/x]"], ["duty", "8703230140", "--origin", "[bold]JPN", "--date", "2025-06-15"],
    ["duty", "8703230140", "--origin", "JPN", "--date", "2025-06-15", "--value", "inf"],
    ["duty", "8703230140", "--origin", "JPN", "--date", "2025-06-15", "--value", "1000", "--quantity", "nan"],
    ["scenarios", "validate", "{inputs}/utf16.yaml"], ["ge", "simulate", "{inputs}/adir"],
    ["brief", "--out", "{inputs}/adir", "--quiet"], ["balance", "--chart", "/etc/passwd/x.png"],
    ["scenarios", "validate", "{inputs}/deep.yaml"], ["data", "ingest", "{inputs}/deep.json"],
    ["scenarios", "validate", "{inputs}/laughs.yaml"], ["scenarios", "validate", "{inputs}/dup.yaml"],
    ["scenarios", "validate", "{inputs}/inf.yaml"], ["scenarios", "validate", "{inputs}/true.yaml"],
    ["gravity", "estimate", "{inputs}/empty.parquet", "--formula", "trade ~ 1"],
    ["simulate", "june-2025", "--workers", "0"], ["simulate", "june-2025", "--draws", "2147483648"],
    ["ge", "engine-rates", "{inputs}/empty.parquet", "--date", "xyz"], ["brief", "--as-of", "1900-01-01"],
    ["data", "ingest", "{inputs}/cut.csv", "{inputs}/missing.yaml", "{inputs}/notes.txt"],
]


@dataclass
class Files:
    """Hostile input files made once per run in a scratch folder."""

    root: Path

    @classmethod
    def make(cls, root: Path) -> Files:
        import pyarrow as pa
        import pyarrow.parquet as pq

        root.mkdir(parents=True, exist_ok=True)
        (root / "utf16.yaml").write_text("name: x\nbase: {date: 2025-06-15}\n", encoding="utf-16")
        (root / "deep.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
        (root / "deep.json").write_text("[" * 50_000 + "]" * 50_000)
        (root / "laughs.yaml").write_text("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
            f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)))
        (root / "dup.yaml").write_text("name: x\nname: y\nbase: {date: 2025-06-15}\n")
        (root / "inf.yaml").write_text("name: t\nbase: {date: 2025-06-15}\nchanges:\n  - origins: [JPN]\n    rate: .inf\n")
        (root / "true.yaml").write_text("name: t\nbase: {date: 2025-06-15}\nchanges:\n  - origins: [JPN]\n    rate: true\n")
        (root / "garbage.csv").write_bytes(b"\xff\xfe\x00garbage,\n1,2,3\n")
        (root / "cut.csv").write_text("observation_date,DEXJPUS\n2021-05-17,109.17\n2021-05-18,10")
        (root / "notes.txt").write_text("hello\n")
        pq.write_table(pa.table({"exporter": pa.array([], pa.string()), "importer": pa.array([], pa.string()),
                                 "trade": pa.array([], pa.float64())}), root / "empty.parquet")
        (root / "afile").write_text("a file, not a folder\n")
        (root / "adir").mkdir(exist_ok=True)
        return cls(root)

    def paths(self) -> list[str]:
        r = self.root
        names = ["utf16.yaml", "deep.yaml", "deep.json", "laughs.yaml", "dup.yaml", "inf.yaml", "true.yaml",
                 "garbage.csv", "cut.csv", "notes.txt", "empty.parquet", "afile", "adir", "missing.yaml"]
        return [str(r / n) for n in names] + [str(r / "afile" / "x.png"), "/etc/passwd/x.png", "/dev/null", "/",
                                               str(r / "out.png"), str(r / "out.svg"), str(r / "out"), str(r / "o.html")]


def commands(include_slow: bool = False) -> list[tuple[str, Any]]:
    """(command path, click command) for every leaf command of the app."""
    import typer

    from tariffscope.cli import _register, app

    _register()
    out: list[tuple[str, Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in sorted(cmd.commands.items()):
                walk(sub, path + [name])
            return
        name = " ".join(path)
        if any(name == n or name.startswith(n + " ") for n in NEVER):
            return
        if not include_slow and name in SLOW:
            return
        out.append((name, cmd))

    walk(typer.main.get_command(app), [])
    return out


def _value(param: Any, rng: random.Random, files: Files) -> str:
    name = param.name or ""
    pools = [GENERIC]
    if name in NAME_POOLS:
        pools += [NAME_POOLS[name]] * 3  # mostly plausible values, sometimes anything
    if name in ("path", "paths", "data", "out", "chart", "countries", "partner_figures", "spec", "scenario",
                "warehouse") or "path" in name:
        pools += [files.paths()] * 3
    return rng.choice(rng.choice(pools))


def argv_for(name: str, cmd: Any, rng: random.Random, files: Files) -> list[str]:
    """One hostile argument list for the command ``name``."""
    argv = name.split()
    for opt, pool in ALWAYS.get(name, {}).items():
        argv += [opt, rng.choice(pool)]
    for param in cmd.params:
        if param.param_type_name == "argument":
            if param.required or rng.random() < 0.5:
                n = rng.randint(1, 3) if param.nargs == -1 else 1
                if rng.random() < 0.1:
                    n = 0  # a missing argument
                argv += [_value(param, rng, files) for _ in range(n)]
            continue
        if rng.random() < (0.9 if param.required else 0.35):
            opt = rng.choice(param.opts)
            if getattr(param, "is_flag", False):
                argv.append(rng.choice([opt] + list(getattr(param, "secondary_opts", []) or [])))
            else:
                argv += [opt, _value(param, rng, files)]
    if rng.random() < 0.05:
        argv.insert(rng.randint(1, len(argv)), rng.choice(["--bogus", "-x", "--format=", "--help"]))
    return argv


class Hang(BaseException):
    """Raised by the alarm inside a run that took too long."""


@dataclass
class Outcome:
    kind: str  # ok | good error | traceback | bad exit | hang
    code: int | None
    stderr: str
    error: str | None = None


def run_argv(argv: list[str], hang_seconds: int = 300) -> Outcome:
    """Run ``tariffscope.cli.main(argv)`` in-process and classify the outcome."""
    from tariffscope.cli import main

    out, err = io.StringIO(), io.StringIO()

    def _alarm(signum: int, frame: Any) -> None:
        raise Hang()

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(hang_seconds)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except Hang:
        return Outcome("hang", None, err.getvalue())
    except SystemExit as exc:  # noqa: B036 - counted, never re-raised
        return Outcome("bad exit", int(exc.code or 0), err.getvalue(), "SystemExit escaped main")
    except BaseException as exc:  # noqa: BLE001 - the point is to count them
        return Outcome("traceback", None, err.getvalue(), f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    text = err.getvalue()
    if code == 0:
        return Outcome("ok", 0, text)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    one_line = len(lines) == 1 and lines[0].startswith("Error: ")
    help_text = code == 2 and "Usage:" in text  # a bare group prints its help
    if code in (1, 2) and (one_line or help_text):
        return Outcome("good error", code, text)
    if code in (1, 2) and "Traceback" not in text:
        return Outcome("noisy error", code, text, text.strip()[:300])
    return Outcome("bad exit", code, text)


def campaign(per_command: int, seed: int, include_slow: bool, hang_seconds: int, kills: int = 0) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="tariffscope-fault-"))
    os.environ["TARIFFSCOPE_HOME"] = str(work / "home")  # never the user's warehouse
    os.environ.setdefault("TARIFFSCOPE_LOCK_TIMEOUT", "5")
    os.chdir(work)  # commands that write beside the caller (brief.html, sweep-out) write here
    files = Files.make(work / "inputs")
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    by_command: dict[str, Counter[str]] = {}
    failures: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for name, cmd in commands(include_slow):
        c = by_command.setdefault(name, Counter())
        for _ in range(per_command):
            argv = argv_for(name, cmd, rng, files)
            res = run_argv(argv, hang_seconds)
            counts[res.kind] += 1
            c[res.kind] += 1
            if res.kind in ("traceback", "bad exit", "hang", "noisy error"):
                failures.append({"argv": argv, "kind": res.kind, "error": res.error, "code": res.code})
    known: Counter[str] = Counter()
    for case in KNOWN_BAD:
        if not include_slow and case[0] in SLOW:
            continue
        argv = [a.replace("{inputs}", str(files.root)) for a in case]
        res = run_argv(argv, hang_seconds)
        kind = "wrong success" if res.kind == "ok" else res.kind
        known[kind] += 1
        if kind != "good error":
            failures.append({"argv": argv, "kind": kind, "error": res.error, "code": res.code})
    corrupt = file_campaign(work / "corrupt", hang_seconds, failures)
    killed = kill_campaign(work / "kills", kills, random.Random(seed), failures) if kills else {"tried": 0}
    return {"commands": len(by_command), "inputs": sum(counts.values()), "counts": dict(counts),
            "known_bad": dict(known), "files": corrupt, "kills": killed,
            "seconds": round(time.perf_counter() - t0, 1), "seed": seed, "per_command": per_command,
            "by_command": {k: dict(v) for k, v in by_command.items()}, "failures": failures}


# --- corrupted files ------------------------------------------------------------------------------

# Raw text files to corrupt: (path under the raw data, header line index, value column, name of the copy).
CSV_FILES = [
    ("fx/DEXJPUS_daily_2021-05_2026-05.csv", 0, 1, "DEXJPUS_copy.csv"),
    ("autos/us_auto_imports_8703_8704.csv", 0, 4, "us_auto_imports_copy.csv"),
    ("census/usatradeonline_imports_hs2_monthly/india.csv", 2, 3, "india_copy.csv"),
    ("census/dataweb_exports_fas_hs2_by_country_2020_2024.csv", 2, 8, "dataweb_exports_copy.csv"),
    ("census/import_weights_hs10_country_2024.csv.gz", 0, 3, "import_weights_hs10_country_2024_copy.csv.gz"),
]
CSV_DAMAGE = ("cut inside the last number", "duplicated row", "1e999", "nan", "negative figure", "not UTF-8",
              "empty", "UTF-16", "no header")


def _csv_lines(raw: Path, rel: str) -> list[str]:
    import gzip

    if rel.endswith(".gz"):
        with gzip.open(raw / rel, "rt", encoding="utf-8") as f:
            return [next(f).rstrip("\n") for _ in range(3000)]  # a part is enough, and quick
    return (raw / rel).read_text(encoding="utf-8-sig").splitlines()


def _set_field(line: str, col: int, value: str) -> str:
    import csv

    fields = next(csv.reader([line]))
    fields[col] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _damaged_csv(lines: list[str], header: int, col: int, damage: str) -> bytes:
    row = header + 1 + (len(lines) - header - 1) // 2  # a data row in the middle
    out = list(lines)
    if damage == "cut inside the last number":
        return ("\n".join(out).rstrip()[:-2]).encode()
    if damage == "duplicated row":
        out.insert(row + 1, out[row])
    elif damage in ("1e999", "nan", "negative figure"):
        out[row] = _set_field(out[row], col, {"negative figure": "-5"}.get(damage, damage))
    elif damage == "not UTF-8":
        return ("\n".join(out[:row]) + "\n").encode() + b"\xff\xfe\x00\x9c" + ("\n".join(out[row:]) + "\n").encode()
    elif damage == "empty":
        return b""
    elif damage == "UTF-16":
        return ("\n".join(out) + "\n").encode("utf-16")
    elif damage == "no header":
        del out[header]
    return ("\n".join(out) + "\n").encode()


def corrupted_files(raw: Path, root: Path) -> list[tuple[str, Path]]:
    """(what was done, path) for every corrupted copy, written under ``root``."""
    import gzip

    root.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, Path]] = []
    for rel, header, col, name in CSV_FILES:
        lines = _csv_lines(raw, rel)
        for i, damage in enumerate(CSV_DAMAGE):
            data = _damaged_csv(lines, header, col, damage)
            path = root / f"{i:02d}_{name}"
            path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
            out.append((f"{rel}: {damage}", path))
    weights = (raw / CSV_FILES[-1][0]).read_bytes()
    cut = root / "import_weights_hs10_country_2024_cut.csv.gz"
    cut.write_bytes(weights[: len(weights) // 2])
    out.append(("import weights: gzip cut in half", cut))
    parquet = (raw / "census/hs10_imports_2024_by_partner/5880.parquet").read_bytes()
    (root / "5880_cut.parquet").write_bytes(parquet[: len(parquet) - 300])
    out.append(("Census API Parquet: cut short", root / "5880_cut.parquet"))
    hts = gzip.decompress((raw / "hts/hts_2026_rev_10.json.gz").read_bytes())
    (root / "hts_2026_rev_99.json.gz").write_bytes(gzip.compress(hts[: len(hts) // 2], mtime=0))
    out.append(("HTS JSON: cut in half", root / "hts_2026_rev_99.json.gz"))
    (root / "hts_2026_rev_98.json.gz").write_bytes((raw / "hts/hts_2026_rev_10.json.gz").read_bytes()[:200_000])
    out.append(("HTS JSON: gzip cut short", root / "hts_2026_rev_98.json.gz"))
    jsonl = (raw / "census/japan_monthly_totals_2024_2025.jsonl").read_text().splitlines()
    (root / "monthly_dup.jsonl").write_text("\n".join([*jsonl, jsonl[-1]]) + "\n")
    out.append(("Census JSON lines: duplicated line", root / "monthly_dup.jsonl"))
    (root / "monthly_cut.jsonl").write_text("\n".join(jsonl)[:-40])
    out.append(("Census JSON lines: cut inside the last line", root / "monthly_cut.jsonl"))
    return out


def warehouse_digest(path: Path, where: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """(rows, sum of row hashes) of every table (``where``: a filter per table): equal digests mean equal
    contents, whatever the file layout."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: tuple(con.execute(f'SELECT count(*), coalesce(sum(hash("{t}")::HUGEINT), 0) FROM "{t}" '
                                     f'WHERE {(where or {}).get(t, "true")}').fetchall()[0])
                for t in tables}
    finally:
        con.close()


def file_campaign(root: Path, hang_seconds: int, failures: list[dict[str, Any]],
                  only: str | None = None) -> dict[str, Any]:
    """Each corrupted copy through ``data ingest``: refused, and the warehouse unchanged (``only``: the
    cases whose description starts with it)."""
    from tariffscope import config, db

    raw = config.raw_data_dir()
    if not (raw / CSV_FILES[0][0]).is_file():
        return {"tried": 0, "note": f"raw data not found at {raw}: the file campaign needs ../shared/data"}
    cases = [c for c in corrupted_files(raw, root) if only is None or c[0].startswith(only)]
    run_argv(["data", "status"], hang_seconds)  # the warehouse with its embedded data, before the first case
    warehouse = db._default_path()
    counts: Counter[str] = Counter()
    for what, path in cases:
        before = warehouse_digest(warehouse)
        res = run_argv(["data", "ingest", str(path)], hang_seconds)
        kind = "wrong success" if res.kind == "ok" else res.kind
        if kind != "wrong success" and warehouse_digest(warehouse) != before:
            kind = "data lost"
        counts[kind] += 1
        if kind != "good error":
            failures.append({"argv": ["data", "ingest", str(path)], "kind": kind, "error": res.error or what, "code": res.code})
    return {"tried": len(cases), "counts": dict(counts)}


# --- kill -9 during ingest ------------------------------------------------------------------------


def kill_campaign(root: Path, kills: int, rng: random.Random, failures: list[dict[str, Any]]) -> dict[str, Any]:
    """``data ingest`` of a good file killed at a random moment, each time on a copy of the warehouse."""
    import shutil
    import subprocess

    import duckdb

    from tariffscope import config, db

    raw = config.raw_data_dir()
    if not (raw / CSV_FILES[-1][0]).is_file():
        return {"tried": 0, "note": f"raw data not found at {raw}"}
    root.mkdir(parents=True, exist_ok=True)
    good = root / "import_weights_hs10_country_2024_part.csv"  # a new file: a real ingest, ~3,000 rows
    good.write_text("\n".join(_csv_lines(raw, CSV_FILES[-1][0])) + "\n")
    base = db._default_path()
    run_argv(["data", "status"], 300)
    before = warehouse_digest(base)
    counts: Counter[str] = Counter()
    code = "import sys; from tariffscope.cli import main; sys.exit(main(sys.argv[1:]))"
    # How long one uninterrupted run takes on this machine now: the kills land at random moments inside it
    # (a fixed window let a fast machine finish every ingest before its kill, testing nothing).
    timed = root / "timed"
    timed.mkdir()
    shutil.copy(base, timed / base.name)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "data", "ingest", str(good)], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=dict(os.environ, TARIFFSCOPE_HOME=str(timed), PYTHONPATH=str(REPO / "src")))
    run_s = time.perf_counter() - t0
    for k in range(kills):
        home = root / f"home{k}"
        home.mkdir()
        shutil.copy(base, home / base.name)
        env = dict(os.environ, TARIFFSCOPE_HOME=str(home), PYTHONPATH=str(REPO / "src"))
        proc = subprocess.Popen([sys.executable, "-c", code, "data", "ingest", str(good)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0) * run_s)  # start-up is most of it; the commit comes near the end
        finished = proc.poll() is not None
        proc.kill()
        proc.wait()
        con = duckdb.connect(str(home / base.name))  # replays the write-ahead log as a new run would
        try:
            logged = con.execute("SELECT ingest_id, rows FROM ingest_log WHERE path = ?", [str(good)]).fetchall()
            new_ids = [r[0] for r in logged]
            stored = con.execute(f"SELECT count(*) FROM trade_flows WHERE ingest_id IN ({','.join(map(str, new_ids)) or 'NULL'})").fetchall()[0][0]
        finally:
            con.close()
        if not logged:
            state = "old state" if warehouse_digest(home / base.name) == before else "data lost"
        else:  # the old rows exactly as they were, beside the new file's rows, all of them
            ids = ",".join(map(str, new_ids))
            old_rows = warehouse_digest(home / base.name, {
                "trade_flows": f"ingest_id IS NULL OR ingest_id NOT IN ({ids})", "ingest_log": f"ingest_id NOT IN ({ids})",
                "sources": f"file IS DISTINCT FROM '{good}'"})
            whole = len(logged) == 1 and stored == logged[0][1] > 0
            state = "complete ingest" if whole and old_rows == before else "data lost"
        counts[state + (" (finished before the kill)" if finished else "")] += 1
        if state == "data lost":
            failures.append({"argv": ["data", "ingest", str(good)], "kind": "data lost", "error": f"kill {k}", "code": None})
        shutil.rmtree(home, ignore_errors=True)
    return {"tried": kills, "counts": dict(counts), "run_s": round(run_s, 2)}


def table(res: dict[str, Any]) -> dict[str, int]:
    """The headline figures over the three campaigns."""
    c, k, f = res["counts"], res["known_bad"], res["files"].get("counts", {})
    kc = res["kills"].get("counts", {})
    lost_kills = sum(v for key, v in kc.items() if key.startswith("data lost"))
    return {
        "inputs tried": res["inputs"] + sum(k.values()) + res["files"]["tried"] + res["kills"]["tried"],
        "accepted (valid)": c.get("ok", 0),
        "good errors": c.get("good error", 0) + k.get("good error", 0) + f.get("good error", 0),
        "noisy errors or other exits": sum(d.get("noisy error", 0) + d.get("bad exit", 0) for d in (c, k, f)),
        "tracebacks": sum(d.get("traceback", 0) for d in (c, k, f)),
        "wrong successes": k.get("wrong success", 0) + f.get("wrong success", 0),
        "hangs": sum(d.get("hang", 0) for d in (c, k, f)),
        "data lost": f.get("data lost", 0) + lost_kills,
        "kills survived": res["kills"]["tried"] - lost_kills,
    }


def markdown(res: dict[str, Any]) -> str:
    t = table(res)
    cols = list(t)
    kills = res["kills"]
    return "\n".join([
        "| " + " | ".join(cols) + " |",
        "|" + "---:|" * len(cols),
        "| " + " | ".join(f"{t[c]:,}" for c in cols) + " |",
        "",
        f"({res['inputs']:,} hostile argument lists over {res['commands']} commands, "
        f"{sum(res['known_bad'].values())} known-bad cases of issue 15, {res['files']['tried']} corrupted files, "
        f"{kills['tried']} kill -9 during ingest{': ' + ', '.join(f'{v} {k}' for k, v in kills.get('counts', {}).items()) if kills.get('counts') else ''}; "
        f"`python scripts/fault_figures.py --per-command {res['per_command']} --seed {res['seed']} --kills {kills['tried']}`, "
        f"{res['seconds']} s)",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-command", type=int, default=25)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--all", action="store_true", help="also the slow commands (brief, sweep, demo, compare, rebuild)")
    ap.add_argument("--hang-seconds", type=int, default=300)
    ap.add_argument("--kills", type=int, default=5, help="kill -9 during ingest, each on a copy of the warehouse")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = ap.parse_args(argv)
    res = campaign(args.per_command, args.seed, args.all, args.hang_seconds, args.kills)
    print(json.dumps(res, indent=2) if args.json else markdown(res))
    for f in res["failures"][:20]:
        print(f"{f['kind']}: tariffscope {' '.join(repr(a) if ' ' in a or not a else a for a in f['argv'])}"
              f" -> {f['error'] or f['code']}", file=sys.stderr)
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
