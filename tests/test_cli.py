"""The command line: help, JSON output, exit codes and bad input, as a user meets them."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from trueclout.cli import main
from trueclout.store import Store

COMMANDS = ["ingest", "formats", "simulate", "stats", "demo"]


def run(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(capsys, command):
    args = ["--help"] if command is None else [command, "--help"]
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "Usage" in out or "usage" in out


def test_usage_errors_exit_2(capsys, tmp_path):
    assert run(capsys, "ingest")[0] == 2                       # missing argument
    assert run(capsys, "nosuchcommand")[0] == 2
    f = tmp_path / "e.txt"
    f.write_text("a b\n")
    code, _, err = run(capsys, "ingest", str(f), "--format", "nope", "--db",
                       str(tmp_path / "s.duckdb"))
    assert code == 2 and "unknown format" in err
    code, _, err = run(capsys, "ingest", str(f), "--label", "celebrity", "--db",
                       str(tmp_path / "s.duckdb"))
    assert code == 2 and "unknown label" in err


def test_ingest_edgelist_json_and_idempotence(capsys, tmp_path):
    f = tmp_path / "edges.txt"
    f.write_text("# a comment\n1 2\n2 3\n3 3\n2 3\n")
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "ingest", str(f), "--db", db, "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["read"], d["accepted"], d["rejected"]) == (4, 2, 2)
    assert d["follows"] == 2 and d["accounts"] == 3
    code, out, _ = run(capsys, "ingest", str(f), "--db", db, "--json")
    assert code == 0 and json.loads(out)["skipped"] == 1
    with Store(db, read_only=True) as s:
        assert s.counts()["follows"] == 2
        reasons = [r[0] for r in s.sql_rows("SELECT reason FROM rejects ORDER BY line")]
        assert any("self-follow" in r for r in reasons)
        assert any("duplicate" in r for r in reasons)
    # --strict turns rejected rows into exit 1
    g = tmp_path / "edges2.txt"
    g.write_text("5 5\n5 6\n")
    assert run(capsys, "ingest", str(g), "--db", db, "--strict")[0] == 1


def test_bad_files_exit_1_with_a_message_not_a_traceback(capsys, tmp_path):
    db = str(tmp_path / "s.duckdb")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, out, err = run(capsys, "ingest", str(empty), "--db", db)
    assert code == 1 and "empty" in err and "Traceback" not in err
    code, out, err = run(capsys, "ingest", str(tmp_path / "missing.csv"), "--db", db, "--json")
    assert code == 1 and "no such file" in out
    with Store(db, read_only=True) as s:
        failed = s.sql_rows("SELECT source, reason FROM rejects")
        assert any("empty" in r for _, r in failed)


def test_bad_rows_are_rejected_with_file_line_and_field(capsys, tmp_path):
    f = tmp_path / "accounts.csv"
    f.write_text("platform,account_id,followers_count,created_at\n"
                 "x,1,10,2020-01-01\n"
                 "x,2,-5,2020-01-01\n"
                 "x,3,7,not a date\n"
                 "x,4,3,2021-06-01T10:00:00Z\n")
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "ingest", str(f), "--db", db, "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["read"], d["accepted"], d["rejected"]) == (4, 2, 2)
    with Store(db, read_only=True) as s:
        rows = s.sql_rows("SELECT line, field, reason FROM rejects ORDER BY line")
        assert [(r[0], r[1]) for r in rows] == [(3, "followers_count"), (4, "created_at")]
        assert s.counts()["accounts"] == 2


def test_truncated_gzip_keeps_good_rows(capsys, tmp_path):
    data = gzip.compress(("".join(f"{i} {i + 1}\n" for i in range(5000))).encode())
    f = tmp_path / "edges.txt.gz"
    f.write_bytes(data[: len(data) // 2])
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "ingest", str(f), "--db", db, "--json")
    d = json.loads(out)
    assert d["accepted"] > 0 and d["rejected"] >= 1
    assert d["read"] == d["accepted"] + d["rejected"]
    with Store(db, read_only=True) as s:
        assert any("truncated" in r[0] for r in s.sql_rows("SELECT reason FROM rejects"))


def test_stats_json_keys(capsys, tmp_path):
    f = tmp_path / "edges.txt"
    f.write_text("1 2\n2 1\n2 3\n")
    db = str(tmp_path / "s.duckdb")
    assert run(capsys, "ingest", str(f), "--db", db)[0] == 0
    code, out, _ = run(capsys, "stats", "--db", db, "--json")
    assert code == 0
    d = json.loads(out)
    for k in ("accounts", "follows", "posts", "interactions", "labels", "rejects"):
        assert k in d
    assert d["follows"] == 3
    assert d["graph"]["reciprocity"] == pytest.approx(2 / 3)
    code, _, err = run(capsys, "stats", "--db", str(tmp_path / "none.duckdb"))
    assert code == 1 and "does not exist" in err


@pytest.mark.slow
def test_simulate_then_ingest_and_demo(capsys, tmp_path):
    out_dir = tmp_path / "sim"
    code, out, _ = run(capsys, "simulate", "--accounts", "1500", "--seed", "3", "--out",
                       str(out_dir), "--json")
    assert code == 0 and (out_dir / "manifest.json").exists()
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "ingest", str(out_dir), "--db", db, "--json")
    d = json.loads(out)
    assert code == 0 and d["rejected"] == 0 and d["follows"] > 1500
    code, out, _ = run(capsys, "demo", "--accounts", "1500", "--out", str(tmp_path / "demo"),
                       "--json")
    assert code == 0
    summary = json.loads(out)
    assert Path(summary["report"]).exists() and Path(summary["db"]).exists()
    assert summary["stats"]["follows"] > 0 and summary["stats"]["labels"] > 0


def test_console_script_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "trueclout.cli", "stats", "--db",
                           str(tmp_path / "none.duckdb")], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
