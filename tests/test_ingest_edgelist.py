"""Tests of the SNAP-style edge list reader."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pytest

from trueclout.ingest import ReadOptions, detect_format, iter_chunks
from trueclout.ingest.edgelist import parse_block


def read(path, **opts):
    out = []
    for c in iter_chunks(path, "edgelist", ReadOptions(**opts) if opts else None):
        assert c.table == "follows" and c.source == str(path)
        out += c.batch.to_pylist()
    return out


def test_basic_comments_whitespace_and_times(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("# Directed graph\n# FromNodeId\tToNodeId\n1 2\n  3\t\t4  \r\n\n"
                 "5 6 1420070400\n7 8 2020-01-02T03:04:05Z\n9 10 2020-01-02 03:04:05\n")
    got = read(p)
    assert [(r["src"], r["dst"], r["_line"]) for r in got] == [
        ("1", "2", 3), ("3", "4", 4), ("5", "6", 6), ("7", "8", 7), ("9", "10", 8)]
    assert got[2]["created_at"].year == 2015 and got[4]["created_at"].second == 5
    assert all(r["_error"] is None and r["platform"] == "default" for r in got)
    assert detect_format(p) == "edgelist"


def test_bad_lines_are_rows_with_errors(tmp_path):
    p = tmp_path / "g.txt"
    p.write_bytes(b"1 2\nlonely\n1 2 3 4 5\n3 3\n4 5 soon\n6 \xff\n7 8 x y\n")
    got = read(p, platform="p")
    errs = {r["_line"]: r["_error"] for r in got}
    assert errs == {
        1: None,
        2: "record: expected 2 or 3 fields (src dst [created_at]), got 1",
        3: "record: expected 2 or 3 fields (src dst [created_at]), got 5",
        4: "dst: self-follow (src == dst)",
        5: "created_at: unparseable date 'soon'",
        6: "dst: invalid UTF-8 (byte 0xff at offset 0)",
        7: "record: expected 2 or 3 fields (src dst [created_at]), got 4",
    }
    assert len(got) == 7


def test_gzip_by_magic_and_truncated(tmp_path):
    body = b"".join(b"%d %d\n" % (i, i + 1) for i in range(200_000))
    data = gzip.compress(body)
    p = tmp_path / "edges.bin"  # no .gz name: found by magic bytes
    p.write_bytes(data)
    assert len(read(p)) == 200_000
    p.write_bytes(data[: len(data) * 2 // 3])
    got = read(p)
    good = [r for r in got if r["_error"] is None]
    bad = [r for r in got if r["_error"] is not None]
    assert len(bad) == 1 and bad[0]["_error"].startswith("file: truncated gzip")
    assert bad[0]["_line"] == len(good) + 1  # the line where it broke
    assert [r["_line"] for r in good] == list(range(1, len(good) + 1))
    p.write_bytes(data[:10] + b"\x00" * 50 + data[60:])
    got = read(p)
    assert got[-1]["_error"].startswith("file: corrupt gzip data")


def test_empty_file(tmp_path):
    from trueclout.errors import InputError
    p = tmp_path / "g.txt"
    p.write_text("")
    with pytest.raises(InputError, match="empty file"):
        list(iter_chunks(p))
    p.write_text("# only comments\n")
    assert read(p) == []


def test_batches_and_speed(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(1)
    a = rng.integers(0, 10**7, n)
    b = rng.integers(0, 10**7, n)
    p = tmp_path / "big.txt"
    p.write_bytes("\n".join(f"{x} {y}" for x, y in zip(a.tolist(), b.tolist())).encode() + b"\n")
    t = time.perf_counter()
    sizes = [c.batch.num_rows for c in iter_chunks(p, "edgelist",
                                                   ReadOptions(batch_rows=100_000))]
    dt = time.perf_counter() - t
    assert sum(sizes) == n and max(sizes) == 100_000
    assert n / dt > 500_000  # the target is > 1M lines/s; leave room for a busy machine


def test_parse_block_lines_offset():
    b = parse_block(b"a b\n#c\nd e\n", 41, "x")
    assert b.column("_line").to_pylist() == [41, 43]
