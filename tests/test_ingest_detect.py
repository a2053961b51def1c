"""Tests of format detection, source expansion, content hashing and iter_chunks."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueclout.errors import InputError
from trueclout.ingest import (REGISTRY, Chunk, Reader, content_hash,
                              detect_format, expand_sources, iter_chunks, register)


def test_registry_has_every_format():
    assert {"generic", "trueclout-dir", "edgelist", "twitter", "twitter-csv",
            "snap-ego"} <= set(REGISTRY)
    for r in REGISTRY.values():
        assert isinstance(r, Reader) and r.name and r.description


def test_detect_by_content(tmp_path):
    cases = {
        "a.txt": b"# x\n1 2\n",
        "b.dat": gzip.compress(b"1\t2\n3\t4\n"),
        "follows.csv": b"src,dst\na,b\n",
        "c.csv": b"account_id,handle\n1,a\n",
        "users.csv": b'"id","screen_name","followers_count"\n"1","a","2"\n',
        "u.json": json.dumps({"id_str": "1", "screen_name": "a"}).encode(),
        "l.jsonl": b'{"account_id": "1", "label": "bot"}\n',
    }
    want = {"a.txt": "edgelist", "b.dat": "edgelist", "follows.csv": "generic",
            "c.csv": "generic", "users.csv": "twitter-csv", "u.json": "twitter",
            "l.jsonl": "generic"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert detect_format(tmp_path / name) == want[name], name
    pq.write_table(pa.table({"src": ["a"], "dst": ["b"]}), tmp_path / "x.parquet")
    assert detect_format(tmp_path / "x.parquet") == "generic"


def test_detect_errors(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        detect_format(tmp_path / "missing.csv")
    (tmp_path / "e.csv").write_text("  \n")
    with pytest.raises(InputError, match="empty file"):
        detect_format(tmp_path / "e.csv")
    (tmp_path / "e.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(InputError, match="empty file"):
        detect_format(tmp_path / "e.gz")
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01\x02 hello; world")
    with pytest.raises(InputError) as err:
        detect_format(tmp_path / "junk.bin")
    assert "unknown file format; known formats: " in str(err.value)
    assert "edgelist, generic" in str(err.value)
    assert err.value.path.endswith("junk.bin")
    if os.geteuid() != 0:  # root reads everything
        p = tmp_path / "secret.txt"
        p.write_text("1 2\n")
        p.chmod(0)
        with pytest.raises(InputError, match="cannot read file"):
            detect_format(p)


def test_expand_sources(tmp_path):
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    (d / "README.md").write_text("docs")
    (d / "PROVENANCE.md").write_text("docs")
    (d / "b.txt").write_text("1 2\n")
    (d / "a.csv").write_text("src,dst\na,b\n")
    (d / "sub" / "c.txt").write_text("3 4\n")
    (d / "zz.bin").write_bytes(b"\x00\x01")
    sim = d / "sim"
    sim.mkdir()
    pq.write_table(pa.table({"src": ["a"], "dst": ["b"]}), sim / "follows.parquet")
    got = [(s.path.relative_to(d).as_posix(), s.format) for s in expand_sources([d])]
    assert got == [("a.csv", "generic"), ("b.txt", "edgelist"), ("sim", "trueclout-dir"),
                   ("sub/c.txt", "edgelist"), ("zz.bin", None)]
    s = expand_sources([d / "b.txt"], fmt="edgelist")[0]
    assert Path(s) == d / "b.txt" and s.format == "edgelist"  # sources are path-like
    with pytest.raises(InputError, match="unknown format 'nope'"):
        expand_sources([d], fmt="nope")
    with pytest.raises(InputError, match="no such file"):
        expand_sources([d / "missing"])


def test_content_hash(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    (a / "x.txt").write_bytes(b"1 2\n")
    (a / "y.txt").write_bytes(b"3 4\n")
    h1 = content_hash(a)
    b = tmp_path / "b"
    b.mkdir()
    (b / "y.txt").write_bytes(b"3 4\n")
    (b / "x.txt").write_bytes(b"1 2\n")
    assert content_hash(b) == h1 and len(h1) == 64
    (b / "x.txt").write_bytes(b"1 3\n")
    assert content_hash(b) != h1
    import hashlib
    assert content_hash(a / "x.txt") == hashlib.sha256(b"1 2\n").hexdigest()


def test_iter_chunks_validates_and_custom_reader(tmp_path):
    from trueclout.model import conform

    class Fixed(Reader):
        name = "fixed-test"
        description = "test reader"

        def sniff(self, path, head):
            return 1.0 if head.startswith(b"FIXED") else 0.0

        def read(self, path, options):
            b = conform("follows", {"platform": ["x", "x"], "src": ["a", "b"],
                                    "dst": ["a", "c"], "_line": [1, 2]}, 2)
            yield Chunk("follows", b, str(path))

    register(Fixed())
    try:
        p = tmp_path / "f.fixed"
        p.write_text("FIXED\n")
        assert detect_format(p) == "fixed-test"
        [c] = list(iter_chunks(p))
        assert c.batch.column("_error").to_pylist() == ["dst: self-follow (src == dst)", None]
    finally:
        del REGISTRY["fixed-test"]
    with pytest.raises(InputError, match="unknown format"):
        list(iter_chunks(p, "fixed-test"))
