"""Tests of the generic (CSV / Parquet / JSON Lines) and trueclout-dir readers."""

from __future__ import annotations

import gzip
import json
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueclout.errors import InputError
from trueclout.ingest import ReadOptions, detect_format, iter_chunks
from trueclout.model import INGEST_SCHEMAS


def rows(path, fmt=None, **opts):
    out = []
    for c in iter_chunks(path, fmt, ReadOptions(**opts) if opts else None):
        assert c.batch.schema == INGEST_SCHEMAS[c.table]
        out += [(c.table, {k: v for k, v in r.items() if v is not None})
                for r in c.batch.to_pylist()]
    return out


def test_csv_follows_and_line_numbers(tmp_path):
    p = tmp_path / "follows.csv"
    p.write_bytes(b'src,dst,created_at\na,b,2020-01-01\nc\n"x\ny",d,notadate\ne,\xff,\n'
                  b"f,g,1420070400\n")
    got = rows(p)
    by_line = {r["_line"]: r for _, r in got}
    assert sorted(by_line) == [2, 3, 4, 5, 6]
    assert by_line[2]["dst"] == "b" and "_error" not in by_line[2]
    assert by_line[3]["_error"] == "record: expected 3 fields, got 1"
    assert by_line[4]["_error"] == "created_at: unparseable date 'notadate'"
    assert by_line[5]["_error"] == "dst: invalid UTF-8 (byte 0xff at offset 0)"
    assert by_line[6]["platform"] == "default"
    assert detect_format(p) == "generic"


def test_csv_platform_option_and_column_checks(tmp_path):
    p = tmp_path / "follows.csv"
    p.write_text("src,dst\na,b\n")
    assert rows(p, platform="bsky")[0][1]["platform"] == "bsky"
    p.write_text("platform,src,dst\nx,a,b\n,c,d\n")
    assert [r["platform"] for _, r in rows(p, platform="y")] == ["x", "y"]
    p.write_text("src,weight\na,1\n")
    with pytest.raises(InputError, match=r"follows.csv: missing required column dst"):
        rows(p)
    p.write_text("src,dst,weight\na,b,1\n")
    with pytest.raises(InputError, match=r"follows.csv: unknown column weight for table follows"):
        rows(p)
    p.write_text(",src,dst\n0,a,b\n")  # the pandas index column is harmless
    assert rows(p)[0][1]["dst"] == "b"


def test_csv_table_from_columns_and_option(tmp_path):
    p = tmp_path / "some.csv"
    p.write_text("src,dst,kind\na,b,like\n")
    assert rows(p)[0][0] == "interactions"
    q = tmp_path / "x.csv"
    q.write_text("account_id,observed_at,followers_count\n1,2020-01-01,5\n")
    assert rows(q)[0][0] == "accounts"
    assert rows(q, "generic", table="profile_snapshots")[0][0] == "profile_snapshots"
    with pytest.raises(InputError, match="unknown table"):
        rows(q, "generic", table="nope")
    r = tmp_path / "odd.csv"
    r.write_text("foo,bar\n1,2\n")
    with pytest.raises(InputError, match="cannot tell which table"):
        rows(r, "generic")


def test_csv_accounts_extra_and_label(tmp_path):
    p = tmp_path / "accounts.csv"
    p.write_text("account_id,handle,verified,followers_count,time_zone,label\n"
                 "1,ann,true,5,Rome,human\n2,bob,0,-1,,\n")
    got = rows(p)
    acc = [r for t, r in got if t == "accounts"]
    lab = [r for t, r in got if t == "labels"]
    assert acc[0]["extra"] == '{"time_zone": "Rome"}' and "extra" not in acc[1]
    assert acc[0]["verified"] is True and acc[1]["verified"] is False
    assert acc[1]["_error"] == "followers_count: negative count -1"
    assert lab == [{"platform": "default", "account_id": "1", "label": "human",
                    "source": "accounts.csv", "_line": 2}]


def test_csv_gzip_and_truncated(tmp_path):
    body = "src,dst\n" + "".join(f"u{i},v{i}\n" for i in range(20000))
    p = tmp_path / "follows.csv.gz"
    p.write_bytes(gzip.compress(body.encode()))
    assert len(rows(p)) == 20000
    data = gzip.compress(body.encode())
    p.write_bytes(data[: len(data) // 2])
    got = rows(p)
    errs = [r for _, r in got if "_error" in r]
    assert len(errs) == 1 and errs[0]["_error"].startswith("file: truncated gzip")
    assert 0 < len(got) - 1 < 20000


def test_empty_and_header_only(tmp_path):
    p = tmp_path / "follows.csv"
    p.write_text("")
    with pytest.raises(InputError, match="empty file"):
        rows(p, "generic")
    p.write_text("src,dst\n")
    assert rows(p) == []


def test_parquet_follows_fast(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(0)
    src = pa.array(rng.integers(0, 10**6, n)).cast(pa.string())
    dst = pa.array(rng.integers(0, 10**6, n)).cast(pa.string())
    p = tmp_path / "follows.parquet"
    pq.write_table(pa.table({"src": src, "dst": dst}), p)
    t = time.perf_counter()
    total = sum(c.batch.num_rows for c in iter_chunks(p, options=ReadOptions(platform="sim")))
    dt = time.perf_counter() - t
    assert total == n
    assert n / dt > 1_000_000  # the target is > 2M rows/s; leave room for a busy machine


def test_parquet_typed_columns_and_extra(tmp_path):
    p = tmp_path / "data.parquet"
    pq.write_table(pa.table({
        "account_id": pa.array([1, 2], pa.int64()),  # integer ids become text
        "created_at": pa.array(["2020-01-02", "bad"]),
        "observed_at": pa.array([0, 1], pa.timestamp("s")),
        "followers_count": pa.array([1, 2], pa.int32()),
        "color": ["red", None], "tags": pa.array([[1, 2], None])}), p)
    got = rows(p, "generic", table="accounts")
    assert got[0][1]["account_id"] == "1" and got[0][1]["_line"] == 1
    assert json.loads(got[0][1]["extra"]) == {"color": "red", "tags": [1, 2]}
    assert got[1][1]["_error"] == "created_at: unparseable date 'bad'"
    bad = tmp_path / "follows.parquet"
    pq.write_table(pa.table({"src": ["a"], "dst": ["b"], "weight": [1.0]}), bad)
    with pytest.raises(InputError, match="unknown column weight"):
        rows(bad)
    notpq = tmp_path / "x.parquet"
    notpq.write_bytes(b"PAR1 but not really")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        rows(notpq, "generic")


def test_jsonl(tmp_path):
    p = tmp_path / "posts.jsonl"
    p.write_bytes(b'{"post_id": "1", "author": "a", "hashtags": ["x", "y"], "created_at": 1420070400}\n'
                  b'{"post_id": "2", "author": "b", "hashtags": "z"}\n'
                  b'{"post_id": 3, "author": "c", "surprise": 1}\n'
                  b"not json\n"
                  b'{"post_id": "4", "author": "\xff"}\n')
    got = [r for _, r in rows(p)]
    assert got[0]["hashtags"] == ["x", "y"] and got[0]["created_at"].year == 2015
    assert got[1]["hashtags"] == ["z"]
    assert got[2]["_error"] == "record: unknown field surprise for table posts"
    assert got[3]["_line"] == 4 and got[3]["_error"].startswith("record: invalid JSON")
    assert got[4]["_line"] == 5 and got[4]["_error"].startswith("record: invalid UTF-8")
    acc = tmp_path / "accounts.jsonl"
    acc.write_text('{"account_id": "1", "bio_link": {"a": 1}, "label": "bot"}\n')
    got = rows(acc)
    assert json.loads(got[0][1]["extra"]) == {"bio_link": {"a": 1}}
    assert got[1][0] == "labels" and got[1][1]["label"] == "bot"


def test_trueclout_dir(tmp_path):
    d = tmp_path / "sim"
    (d / "follows").mkdir(parents=True)
    pq.write_table(pa.table({"src": ["1"], "dst": ["2"]}), d / "follows" / "part-0.parquet")
    pq.write_table(pa.table({"src": ["2"], "dst": ["2"]}), d / "follows" / "part-1.parquet")
    pq.write_table(pa.table({"account_id": ["1", "2"], "followers_count": [1, 2]}),
                   d / "accounts.parquet")
    pq.write_table(pa.table({"account_id": ["2"], "label": ["fake"], "source": ["sim"]}),
                   d / "labels.parquet")
    (d / "manifest.json").write_text("{}")
    assert detect_format(d) == "trueclout-dir"
    chunks = list(iter_chunks(d, options=ReadOptions(platform="sim")))
    assert [c.table for c in chunks] == ["accounts", "follows", "follows", "labels"]
    assert chunks[1].source.endswith("part-0.parquet")
    assert chunks[2].batch.column("_error").to_pylist() == ["dst: self-follow (src == dst)"]
