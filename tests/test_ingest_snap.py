"""Tests of the SNAP ego-network reader on small hand-made folders."""

from __future__ import annotations

import io
import tarfile

import pytest

from trueclout.errors import InputError
from trueclout.ingest import ReadOptions, detect_format, expand_sources, iter_chunks
from trueclout.ingest.snap import parse_vectors


def make_ego(root, packed=True):
    tw = root / "twitter"
    tw.mkdir(parents=True)
    # ego 10: alters 1, 2, 3; ego 20: alters 2, 3, 10
    (tw / "10.edges").write_text("1 2\n2 3\n3 3\n")
    (tw / "10.featnames").write_text("0 #python\n1 @bob\n2 #data\n")
    (tw / "10.egofeat").write_text("1 0 0\n")
    (tw / "10.circles").write_text("c1\t1\t2\n")
    (tw / "20.edges").write_text("1 2\n2 10\n")  # 1 2 repeats ego 10's edge
    (tw / "20.featnames").write_text("0 #python\n1 #rust\n")
    (tw / "20.egofeat").write_text("0 1\n")
    feats = {"twitter/10.feat": b"1 1 0 1\n2 0 1 0\n3 0 0 0\n",
             "twitter/20.feat": b"2 1 1\n3 0 0\n10 1 0\n"}
    if packed:
        with tarfile.open(root / "twitter_feat_files.tar.gz", "w:gz") as tar:
            for name, data in feats.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        for name, data in feats.items():
            (root / name).write_bytes(data)
    return root


def collect(path):
    follows, terms, sources = [], [], set()
    for c in iter_chunks(path, options=ReadOptions(batch_rows=2)):
        sources.add(c.source)
        for r in c.batch.to_pylist():
            (follows if c.table == "follows" else terms).append((c.source, r))
    return follows, terms, sources


@pytest.mark.parametrize("packed", [True, False])
def test_snap_ego_folder(tmp_path, packed):
    root = make_ego(tmp_path / "snap", packed)
    assert detect_format(root) == "snap-ego"
    assert detect_format(root / "twitter") == "snap-ego"
    assert expand_sources([root])[0].format == "snap-ego"
    follows, terms, sources = collect(root)
    edges = [(r["src"], r["dst"]) for _, r in follows]
    # .edges of ego 10, ego 10 -> its alters, .edges of ego 20 (1 2 repeated: dropped),
    # ego 20 -> its alters (20 -> 2 ...)
    assert edges == [("1", "2"), ("2", "3"), ("3", "3"), ("10", "1"), ("10", "2"), ("10", "3"),
                     ("2", "10"), ("20", "2"), ("20", "3"), ("20", "10")]
    assert len(set(edges)) == len(edges)
    errs = [r["_error"] for _, r in follows if r["_error"]]
    assert errs == ["dst: self-follow (src == dst)"]
    first = {(r["src"], r["dst"]): (s, r["_line"]) for s, r in follows}
    assert first[("1", "2")][0].endswith("10.edges") and first[("1", "2")][1] == 1
    assert first[("10", "3")][1] == 3
    feat_src = first[("10", "1")][0]
    assert feat_src.endswith("twitter_feat_files.tar.gz:twitter/10.feat" if packed
                             else "twitter/10.feat")
    got = sorted((r["account_id"], r["term"]) for _, r in terms)
    assert got == [("1", "#data"), ("1", "#python"), ("10", "#python"), ("2", "#python"),
                   ("2", "#rust"), ("2", "@bob"), ("20", "#rust")]
    assert all(r["source"] == "snap-ego" and r["platform"] == "twitter" for _, r in terms)


def test_snap_bad_lines(tmp_path):
    root = make_ego(tmp_path / "snap", packed=False)
    (root / "twitter" / "10.edges").write_text("1 2\nbroken\n")
    (root / "twitter" / "10.feat").write_text("1 1 0 1\n2 0 1\n3 0 0 7\n")
    follows, terms, _ = collect(root)
    errs = sorted((s.rsplit("/", 1)[-1], r["_line"], r["_error"])
                  for s, r in follows + terms if r["_error"])
    assert errs == [("10.edges", 2, "record: expected 2 fields (src dst), got 1"),
                    ("10.feat", 2, "record: expected an account id and 3 values, got 2 values"),
                    ("10.feat", 3, "record: feature values must be 0 or 1")]


def test_not_a_snap_folder(tmp_path):
    (tmp_path / "x.txt").write_text("1 2\n")
    with pytest.raises(InputError, match="not a SNAP ego-network folder"):
        list(iter_chunks(tmp_path, "snap-ego"))


def test_parse_vectors_shapes():
    v = parse_vectors(b"5 1 0\n6 0 1 \r\n7  1 0\n", 2, True)
    assert v.ids == ["5", "6", "7"] and v.bad == []
    assert sorted(zip(v.one_line.tolist(), v.one_feat.tolist())) == [(1, 0), (2, 1), (3, 0)]
    v = parse_vectors(b"0 1 1\n", 3, False)
    assert v.one_feat.tolist() == [1, 2] and v.ids == []
