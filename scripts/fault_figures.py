"""Fault figures of the CLI: hostile arguments for every command, run in-process, outcomes counted.

    python scripts/fault_figures.py [--per-command N] [--seed S] [--all] [--markdown]

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


def campaign(per_command: int, seed: int, include_slow: bool, hang_seconds: int) -> dict[str, Any]:
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
    return {"commands": len(by_command), "inputs": sum(counts.values()), "counts": dict(counts),
            "seconds": round(time.perf_counter() - t0, 1), "seed": seed, "per_command": per_command,
            "by_command": {k: dict(v) for k, v in by_command.items()}, "failures": failures}


def markdown(res: dict[str, Any]) -> str:
    c = res["counts"]
    return "\n".join([
        "| inputs tried | commands | exit 0 | good errors (one line, exit 1/2) | noisy errors | tracebacks | other exits | hangs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {res['inputs']:,} | {res['commands']} | {c.get('ok', 0):,} | {c.get('good error', 0):,} | "
        f"{c.get('noisy error', 0)} | {c.get('traceback', 0)} | {c.get('bad exit', 0)} | {c.get('hang', 0)} |",
        "",
        f"(`python scripts/fault_figures.py --per-command {res['per_command']} --seed {res['seed']}`, "
        f"{res['seconds']} s)",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-command", type=int, default=25)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--all", action="store_true", help="also the slow commands (brief, sweep, demo, compare, rebuild)")
    ap.add_argument("--hang-seconds", type=int, default=300)
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = ap.parse_args(argv)
    res = campaign(args.per_command, args.seed, args.all, args.hang_seconds)
    print(json.dumps(res, indent=2) if args.json else markdown(res))
    for f in res["failures"][:20]:
        print(f"{f['kind']}: tariffscope {' '.join(repr(a) if ' ' in a or not a else a for a in f['argv'])}"
              f" -> {f['error'] or f['code']}", file=sys.stderr)
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
