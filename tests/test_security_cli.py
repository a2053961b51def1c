"""Probes of the command line and of ingest as an attacker (or a careless user) would send
them; each test is named after what it attacks: stored text that would drive the
terminal, inputs that used to end in "internal error", a disk that fills during a load,
implausible values that used to be stored silently, a store path in a missing folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueclout.cli import main
from trueclout.store import Store

ESC = "\x1b"
#: Stored text that would colour the terminal, set its title, or be read as rich markup.
PAYLOADS = [f"evil{ESC}[31mRED{ESC}[0m", f"t{ESC}]0;pwned{ESC}\\x", "[bold red]loud[/]",
            "bidi\u202eevil", "nul\x00byte\x07bell"]


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    """A small simulated store whose most followed accounts have payloads for handles,
    names and bios, written straight into the table (as an older store, or a source
    that bypassed ingest, would hold them); (path, specs of the poisoned accounts)."""
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    d = tmp_path_factory.mktemp("poison")
    simulate(d / "platform", accounts=600, seed=2)
    path = d / "p.duckdb"
    with Store(path) as s:
        ingest(s, [d / "platform"])
        top = s.con.execute("SELECT a.uid, a.platform, a.account_id FROM accounts a JOIN "
                            "(SELECT dst, count(*) n FROM follows GROUP BY dst) f ON f.dst "
                            "= a.uid ORDER BY f.n DESC, a.uid LIMIT ?", [len(PAYLOADS)]
                            ).fetchall()
        for (uid, _, _), text in zip(top, PAYLOADS):
            s.con.execute("UPDATE accounts SET handle = ?, name = ?, description = ? "
                          "WHERE uid = ?", [text, text, text, uid])
    return path, [f"{p}:{a}" for _, p, a in top]


def _assert_inert(text: str) -> None:
    assert ESC not in text and "\x07" not in text and "\x00" not in text
    assert "\u202e" not in text


def test_stored_escape_sequences_and_markup_reach_no_terminal(capsys, poisoned):
    path, specs = poisoned
    db = ["--db", str(path)]
    outputs = []
    for args in (["audit", specs[0], *db], ["audit", specs[2], *db],
                 ["overlap", specs[0], specs[1], specs[2], *db],
                 ["rank", "--top", "10", *db], ["audit", "@nobody[x]", *db]):
        code, out, err = _run(capsys, *args)
        assert code in (0, 2), (args, err)
        _assert_inert(out + err)
        outputs.append(out + err)
    text = "\n".join(outputs)
    assert "\\x1b[31mRED" in text                 # shown, escaped, not acted on
    assert "[bold red]loud[/]" in text            # markup printed as it is


def test_stored_text_in_json_output_is_escaped_too(capsys, poisoned):
    path, specs = poisoned
    code, out, _ = _run(capsys, "audit", specs[0], "--db", str(path), "--json")
    assert code == 0 and ESC not in out
    assert json.loads(out)["account"]["handle"] == PAYLOADS[0]   # kept intact in the data


def test_ingest_refuses_control_characters_in_ids_and_handles(capsys, tmp_path):
    f = tmp_path / "accounts.csv"
    f.write_text("platform,account_id,handle,description\n"
                 "x,1,good,fine bio\n"
                 f"x,2,bad{ESC}[31m,bio\n"
                 "x,3,nul\x00x,bio\n"
                 f"x,4{ESC},h4,bio\n"
                 f"x,5,h5,bio with {ESC}]0;title\x07 and a\ttab\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    code, out, _ = _run(capsys, "ingest", str(f), "--db", str(db), "--json")
    rep = json.loads(out)
    assert rep["read"] == rep["accepted"] + rep["rejected"] == 5 and rep["rejected"] == 3
    with Store(db, read_only=True) as s:
        reasons = sorted(r for (r,) in s.con.execute("SELECT field || ': ' || reason "
                                                     "FROM rejects").fetchall())
        bio = s.con.execute("SELECT description FROM accounts WHERE account_id = '5'"
                            ).fetchone()[0]
    assert reasons == ["account_id: control character U+001B",
                       "handle: control character U+0000",
                       "handle: control character U+001B"]
    assert bio == "bio with \ufffd]0;title\ufffd and a\ttab"     # cleaned, tab kept


def test_implausible_values_are_rejected_with_reasons(capsys, tmp_path):
    import datetime as dt
    utc = dt.timezone.utc
    when = [dt.datetime(2010, 5, 1, tzinfo=utc), dt.datetime(2999, 1, 1, tzinfo=utc),
            dt.datetime(9999, 12, 31, tzinfo=utc), dt.datetime(1, 1, 1, tzinfo=utc),
            dt.datetime(2006, 3, 20, tzinfo=utc), dt.datetime(2011, 1, 1, tzinfo=utc),
            dt.datetime(2011, 1, 1, tzinfo=utc)]
    n = len(when)
    t = pa.table({"platform": ["twitter"] * n, "account_id": [str(i) for i in range(n)],
                  "created_at": pa.array(when, pa.timestamp("us", tz="UTC")),
                  "followers_count": [5, 5, 5, 5, 5, 2**62, 9_000_000_000],
                  "observed_at": pa.array([dt.datetime(2019, 1, 1, tzinfo=utc)] * n,
                                          pa.timestamp("us", tz="UTC"))})
    pq.write_table(t, tmp_path / "accounts.parquet")
    tw = tmp_path / "users.jsonl"
    tw.write_text("\n".join(json.dumps(u) for u in (
        {"id_str": ["x"], "screen_name": "listy"},
        {"id_str": {"a": 1}, "screen_name": "objy"},
        {"id_str": "77", "screen_name": "ok", "followers_count": 9223372036854775807,
         "created_at": "Fri Apr 06 10:58:22 +0000 2007"},
        {"id_str": "78", "screen_name": "ok2", "created_at": "Fri Apr 06 10:58:22 +0000 1200"},
        {"id_str": "79", "screen_name": "fine", "created_at": "Fri Apr 06 10:58:22 +0000 2007"},
    )) + "\n")
    db = tmp_path / "s.duckdb"
    code, out, _ = _run(capsys, "ingest", str(tmp_path / "accounts.parquet"), str(tw),
                        "--db", str(db), "--json")
    rep = json.loads(out)
    assert rep["read"] == rep["accepted"] + rep["rejected"] == n + 5
    with Store(db, read_only=True) as s:
        rows = dict(s.con.execute("SELECT line, field || ': ' || reason FROM rejects "
                                  "WHERE source LIKE '%parquet'").fetchall())
        tw_rows = [r for (r,) in s.con.execute(
            "SELECT field || ': ' || reason FROM rejects WHERE source LIKE '%jsonl' "
            "ORDER BY line").fetchall()]
        kept = {a for (a,) in s.con.execute("SELECT account_id FROM accounts").fetchall()}
    assert kept == {"0", "6", "79"}                  # 9e9 followers is under the bound
    assert rows[2].startswith("created_at: in the future: 2999-01-01")
    assert rows[3].startswith("created_at: in the future: 9999-12-31")
    assert rows[4].startswith("created_at: before its platform existed: 0001-01-01")
    assert rows[5].startswith("created_at: before its platform existed: 2006-03-20")
    assert rows[6] == ("followers_count: count 4611686018427387904 above the plausible "
                       "bound 10,000,000,000")
    assert tw_rows[0] == "account_id: not a single value '['x']'"
    assert tw_rows[1].startswith("account_id: not a single value '{")
    assert tw_rows[2].startswith("followers_count: count 9223372036854775807 above")
    assert tw_rows[3].startswith("created_at: before its platform existed: 1200-04-06")


def test_store_in_a_missing_folder_is_a_usage_error(capsys, tmp_path):
    f = tmp_path / "e.txt"
    f.write_text("a b\n")
    missing = tmp_path / "no" / "such" / "dir"
    code, _, err = _run(capsys, "ingest", str(f), "--db", str(missing / "x.duckdb"))
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "no").exists()


@pytest.fixture
def weird_files(tmp_path):
    pq.write_table(pa.table({"src": [["a", "b"], ["c"]], "dst": ["x", "y"]}),
                   tmp_path / "follows.parquet")
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"id_str": "1", "screen_name": "a", "entities": '
                    + "[" * 100_000 + "]" * 100_000 + "}\n")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 400 + os.urandom(4000))
    return tmp_path


@pytest.mark.parametrize("name,extra", [
    ("follows.parquet", []), ("deep.jsonl", []), ("deep.jsonl", ["--format", "twitter"]),
    ("deep.jsonl", ["--format", "generic", "--table", "accounts"]),
    ("garbage.bin", ["--format", "edgelist"])])
def test_unreadable_inputs_are_input_errors_not_internal_errors(capsys, weird_files, name,
                                                                extra):
    db = weird_files / "s.duckdb"
    code, out, err = _run(capsys, "ingest", str(weird_files / name), *extra, "--db", str(db))
    assert code == 1, err
    assert "internal error" not in err and "cannot be read as" in err
    code, out, _ = _run(capsys, "ingest", str(weird_files / name), *extra, "--db", str(db),
                        "--json")
    assert code == 1 and json.loads(out)["failed"] == 1


@pytest.mark.parametrize("args", [["rank", "--top", "999999999999999999999"],
                                  ["find", "--topic", "x", "--top", "99999999999999999999"],
                                  ["detect", "--top", "-99999999999999999999999"],
                                  ["topics", "--top", "3000000000"]])
def test_counts_beyond_any_store_are_usage_errors(capsys, tmp_path, args):
    db = tmp_path / "s.duckdb"
    Store(db).close()
    code, _, err = _run(capsys, *args, "--db", str(db))
    assert code == 2 and "internal error" not in err


_FULL = textwrap.dedent("""
    import resource, signal, sys
    from trueclout.cli import main
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails (EFBIG)
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(
        resource.RLIMIT_FSIZE)[1]))
    sys.exit(main(["ingest", sys.argv[2], "--db", sys.argv[1], "--json"]))
""")


@pytest.mark.slow
def test_full_disk_during_ingest_keeps_the_old_counts_and_gives_the_space_back(tmp_path):
    db = tmp_path / "s.duckdb"
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    small.write_text("".join(f"a{i} b{i}\n" for i in range(1000)))
    with open(big, "w") as fh:
        for i in range(0, 700_000, 1000):
            fh.write("".join(f"u{j} v{(j * 7) % 1_000_003}\n" for j in range(i, i + 1000)))
    assert main(["ingest", str(small), "--db", str(db)]) == 0
    with Store(db, read_only=True) as s:
        before = s.counts()
    size = db.stat().st_size
    # the file may grow by 4 MB, far less than the big load needs
    proc = subprocess.run([sys.executable, "-c", _FULL, str(db), str(big),
                           str(size + (4 << 20))], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    err = json.loads(proc.stdout)["error"]
    assert err["type"] == "DiskFullError" and "free at least" in err["message"]
    assert "internal error" not in proc.stderr
    assert db.stat().st_size <= size              # the failed load's blocks are given back
    with Store(db) as s:
        assert s.counts() == before
    assert main(["ingest", str(tmp_path / "small.txt"), "--db", str(db)]) == 0
    with Store(db, read_only=True) as s:
        assert s.counts() == before               # the same file again adds nothing


# -- what held, kept: malformed files keep read = accepted + rejected, with reasons ----------------
def _gz(data: bytes, cut: int | None = None) -> bytes:
    import gzip
    z = gzip.compress(data)
    return z if cut is None else z[:cut]


MALFORMED = {
    "follows.csv": b"src,dst\na,b\nc\nd,e,f\n,g\nh,h\n",
    "quotes.csv": b'platform,account_id,handle\nx,1,"open quote\nx,2,b\n',
    "bom.csv": b"\xef\xbb\xbfsrc,dst\na,b\n",
    "badutf8_follows.csv": b"src,dst\na,b\n\xff\xfe,c\n",
    "blank_lines_follows.csv": b"src,dst\n\n\na,b\n\n",
    "header_only_follows.csv": b"src,dst\n",
    "edges.txt": b"a b\nc\nd e f g\n# comment\n\nx y 2020-01-01\nq r notadate\n",
    "edges_tabs.txt": b"a\tb\n\t\t\nc\td\n",
    "truncated.txt.gz": _gz(b"".join(b"u%d v%d\n" % (i, i) for i in range(5000)), 300),
    "notjson_users.jsonl": b'{"id_str": "1", "screen_name": "a"}\n{oops\n[1, 2]\n"text"\n',
    "array_users.json": b'[{"id_str": "1", "screen_name": "a"}, {"id_str": "2", "screen_na',
    "accounts.jsonl": b'{"account_id": "1", "followers_count": "many"}\n{"account_id": ""}\n'
                      b'{"account_id": "3", "created_at": "yesterday"}\n',
    "labels.csv": b"account_id,label\n1,alien\n2,human\n,fake\n",
    "interactions.csv": b"src,dst,kind\na,b,poke\na,a,like\nb,c,like\n",
    "posts.csv": b"post_id,author,hashtags\np1,a,[oops\np2,,x\np3,b,\"[\"\"ok\"\"]\"\n",
    "snapshots_profile_snapshots.csv": b"account_id,observed_at,followers_count\n"
                                       b"1,2020-01-01,-5\n2,,3\n3,2020-01-02,1.5\n",
    "empty.csv": b"",
    "nul.csv": b"src,dst\na\x00,b\nc,d\n",
    "huge_field_follows.csv": b"src,dst\n" + b"a" * 200_000 + b",b\nc,d\n",
    "binary.parquet": b"PAR1" + bytes(range(256)) * 8,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_files_keep_every_row_accounted_for(capsys, tmp_path, name):
    f = tmp_path / name
    f.write_bytes(MALFORMED[name])
    db = tmp_path / "s.duckdb"
    extra = ["--table", "profile_snapshots"] if name.startswith("snapshots") else []
    code, out, err = _run(capsys, "ingest", str(f), *extra, "--db", str(db), "--json")
    assert code in (0, 1), err
    assert "internal error" not in err
    rep = json.loads(out)
    if "error" in rep:                                   # the whole file refused: why
        assert rep["error"]["message"]
        return
    assert rep["read"] == rep["accepted"] + rep["rejected"]
    if rep["failed"]:
        assert rep["failures"][0]["error"]
    with Store(db, read_only=True) as s:
        rejects = s.con.execute("SELECT count(*), count(reason) FROM rejects "
                                "WHERE ingest_id IS NOT NULL AND line IS NOT NULL "
                                "OR reason IS NOT NULL").fetchone()
    assert rejects[0] >= rep["rejected"] and rejects[1] == rejects[0]
