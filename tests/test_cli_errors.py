"""Every usage or input error of the CLI is one line on stderr and a non-zero exit, never a traceback.

The cases are the ones the fault campaign of issue 15 found printing tracebacks: typer's own copies of
click's usage errors, user text read as Rich markup, other encodings, directories where files were
wanted, output paths that cannot be written (checked before the work), deep nesting, empty inputs.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from _clierr import one_line_error
from tariffscope.cli import main

GEGRAVITY = "gravity/gegravity_sample/sample_data_set.dlm"


@pytest.mark.parametrize("argv, needle", [
    (["--bogus"], "No such option: --bogus"),
    (["duty", "8703230140", "--value", "abc", "--origin", "JPN", "--date", "2025-06-01"], "Invalid value for '--value'"),
    (["data", "ingest"], "Missing argument"),
    (["duty", "-8703230140"], "goes after '--'"),
    (["codes", "country"], "Missing argument"),
    (["balance", "--top", "x"], "Invalid value for '--top'"),
])
def test_usage_errors_are_one_line_exit_2(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    line = one_line_error(capsys)
    assert needle in line
    assert "--help" in line


def test_bare_group_prints_help_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "ingest" in out + err


@pytest.mark.parametrize("argv, shown", [
    (["codes", "country", "[/x]"], "'[/x]'"),
    (["codes", "hts", "[bold]x"], "'[bold]x'"),
    (["duty", "8703230140", "--origin", "[bold]JPN", "--date", "2025-06-01"], "'[bold]JPN'"),
])
def test_user_text_is_never_read_as_markup(argv: list[str], shown: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    assert shown in one_line_error(capsys)


def test_table_titles_keep_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    # the title of 'codes country' repeats the text typed: brackets in it are printed, not parsed
    assert main(["codes", "country", "Japan"]) == 0
    out, _ = capsys.readouterr()
    assert "'Japan'" in out


def test_utf16_yaml_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "u16.yaml"
    p.write_text("name: x\nbase: {date: 2025-01-01}\nchanges: []\n", encoding="utf-16")
    assert main(["scenarios", "validate", str(p)]) == 1
    assert "UTF-8" in one_line_error(capsys)
    assert main(["ge", "simulate", str(p)]) == 1
    assert "UTF-8" in one_line_error(capsys)


def test_directories_where_files_are_wanted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ge", "simulate", str(tmp_path)]) == 1
    assert "directory" in one_line_error(capsys)
    assert main(["brief", "--out", str(tmp_path), "--quiet"]) == 1
    assert "directory" in one_line_error(capsys)


def test_output_paths_checked_before_the_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    bad = str(afile / "x.png")  # a folder that is a file: refused before the balance is computed
    assert main(["balance", "--chart", bad]) == 1
    assert "is a file, not a directory" in one_line_error(capsys)
    assert main(["monitor", "--chart", str(tmp_path / "x.txt")]) == 1
    assert ".png, .svg or .html" in one_line_error(capsys)
    assert main(["compare", "june-2025", "--draws", "0", "--chart", bad]) == 1
    assert "--chart" in one_line_error(capsys)
    assert main(["sweep", "no-such.yaml", "--out", str(afile)]) == 1
    assert "is a file" in one_line_error(capsys)
    assert not list(tmp_path.glob("afile*/*"))


def test_deep_nesting_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    y = tmp_path / "deep.yaml"
    y.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["scenarios", "validate", str(y)]) == 1
    one_line_error(capsys)
    j = tmp_path / "deep.json"
    j.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["data", "ingest", str(j)]) == 1
    one_line_error(capsys)


@pytest.mark.raw
def test_gravity_years_checked_before_pyfixest(raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(raw / GEGRAVITY)
    f = ["--formula", "trade ~ lndist | exporter"]
    assert main(["gravity", "estimate", data, *f, "--years", "99999"]) == 1
    assert "not a year" in one_line_error(capsys)
    assert main(["gravity", "estimate", data, *f, "--years", "1-99999999"]) == 1
    assert "at most 500" in one_line_error(capsys)
    assert main(["gravity", "estimate", data, *f, "--years", "2000"]) == 1  # the sample is 2006 only
    assert "no rows" in one_line_error(capsys)
    import pyarrow as pa
    import pyarrow.parquet as pq

    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"exporter": pa.array([], pa.string()), "importer": pa.array([], pa.string()),
                             "trade": pa.array([], pa.float64()), "lndist": pa.array([], pa.float64())}), empty)
    assert main(["gravity", "estimate", str(empty), *f]) == 1
    assert "no rows" in one_line_error(capsys)


def test_home_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(home))
    assert main(["data", "status"]) == 1
    assert "is a file, not a folder" in one_line_error(capsys)


def test_disk_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    # a full disk while writing the brief: simulated at the write, the one place the OS would refuse
    import errno

    from tariffscope.report import outfiles

    def full(*a: object, **k: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "x"))

    monkeypatch.setattr(outfiles.os, "fsync", full)
    with pytest.raises(OSError):
        outfiles.write_text_atomic(tmp_path / "b.html", "<html>")
    assert list(tmp_path.iterdir()) == []  # neither a truncated brief nor a temp file
    from tariffscope.cli import os_error_message

    assert os_error_message(OSError(errno.ENOSPC, "x", "/f")) == "/f: no space left on the disk"
    assert os_error_message(OSError(errno.EROFS, "x", "/f")) == "/f: the file system is read-only"


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    from tariffscope.report.outfiles import atomic_output, write_text_atomic

    target = tmp_path / "brief.html"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full half-way")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["brief.html"]  # no temp file left behind
    write_text_atomic(target, "new")
    assert target.read_text() == "new"


# --- silent acceptances of issue 15 -----------------------------------------------------------------


@pytest.mark.raw
def test_engine_rates_date_checked(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(raw / GEGRAVITY)
    assert main(["ge", "engine-rates", data, "--date", "xyz"]) == 1
    assert "--date must be a date" in one_line_error(capsys)
    assert main(["ge", "engine-rates", data, "--base-date", "1900-01-01"]) == 1
    assert "outside the measure catalogue's coverage" in one_line_error(capsys)


def test_brief_as_of_outside_coverage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["brief", "--as-of", "1900-01-01", "--quiet", "--out", str(tmp_path / "b.html")]) == 1
    assert "outside the measure catalogue's coverage" in one_line_error(capsys)
    assert not (tmp_path / "b.html").exists()


@pytest.mark.raw
def test_ingest_checks_every_file_first(raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(tmp_path / "home"))
    good = tmp_path / "DEXJPUS_first.csv"
    good.write_text("".join((raw / "fx/DEXJPUS_daily_2021-05_2026-05.csv").open().readlines()[:40]))
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello\n")
    assert main(["data", "ingest", str(good), str(tmp_path / "missing.csv"), str(unknown)]) == 1
    line = one_line_error(capsys)
    assert line.startswith("Error: nothing ingested:") and "missing.csv: no such file" in line and "notes.txt" in line
    assert main(["data", "status", "--format", "json"]) == 0
    assert "fred_csv:DEXJPUS_first" not in capsys.readouterr()[0]  # A was not ingested


@pytest.mark.raw
def test_ingest_failure_midway_reports_exactly(raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setenv("TARIFFSCOPE_HOME", str(tmp_path / "home"))
    good = tmp_path / "DEXJPUS_first.csv"
    good.write_text("".join((raw / "fx/DEXJPUS_daily_2021-05_2026-05.csv").open().readlines()[:40]))
    bad = tmp_path / "5880.parquet"  # detected as a Census API file, refused by its reader
    pq.write_table(pa.table({"CTY_CODE": pa.array([], pa.string()), "CON_VAL_YR": pa.array([], pa.string())}), bad)
    last = raw / "fx/EXJPUS_monthly_to_2024-12.csv"
    assert main(["data", "ingest", str(good), str(bad), str(last)]) == 1
    line = one_line_error(capsys)
    # one transaction for the batch: the refused file is named, and the files before it are not kept
    assert line.startswith("Error: nothing ingested (the files are ingested together or not at all): ") and str(bad) in line
    assert main(["data", "status", "--format", "json"]) == 0
    assert "fred_csv:DEXJPUS_first" not in capsys.readouterr()[0]
