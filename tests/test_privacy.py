"""Privacy: keyed pseudonyms, ``ingest --pseudonymize``, ``forget`` and aggregate-only
reports, as a user meets them."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

from trueclout.cli import main
from trueclout.errors import UsageError
from trueclout.privacy import (Pseudonymizer, aggregate_only, forget_reports, load_key,
                               record_report, report_index)
from trueclout.store import Store

# Distinctive originals: none of them may survive pseudonymisation or a forget.
IDS = ["idq77001", "idq77002", "idq77003", "idq77004"]
HANDLES = ["zorgbert_handle", "quimby_handle", "plonk_handle", "wexley_handle"]
NAMES = ["Zorgbert Name", "Quimby Name", "Plonk Name", "Wexley Name"]


def run(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def write_fixture(d):
    """A small generic-CSV/JSONL platform: 4 accounts, follows, posts, interactions."""
    d.mkdir(parents=True, exist_ok=True)
    acc = ["account_id,handle,name,description,url,followers_count,observed_at,label"]
    for i, (a, h, n) in enumerate(zip(IDS, HANDLES, NAMES)):
        acc.append(f"{a},{h},{n},bio of {h},https://{h}.example.com,{10 + i},2024-01-01,"
                   f"{'bot' if i == 3 else 'human'}")
    (d / "accounts.csv").write_text("\n".join(acc) + "\n")
    follows = [(0, 1), (1, 0), (2, 0), (3, 0), (1, 2), (2, 1), (3, 2)]
    (d / "follows.csv").write_text(
        "src,dst,created_at\n"
        + "".join(f"{IDS[s]},{IDS[t]},2024-01-0{1 + k % 5}\n" for k, (s, t) in enumerate(follows))
        + f"{IDS[0]},{IDS[3]},notadate\n")  # refused: lands in rejects
    posts = [{"post_id": f"at://{IDS[i]}/app.bsky.feed.post/{i}", "author": IDS[i],
              "text": f"hello @{HANDLES[(i + 1) % 4]} see https://x.example/{HANDLES[i]}",
              "mentions": [HANDLES[(i + 1) % 4]], "hashtags": ["tag"],
              "created_at": 1704067200 + i} for i in range(4)]
    posts.append({"post_id": "reply-1", "author": IDS[1], "reply_to": posts[0]["post_id"],
                  "created_at": 1704067300})
    (d / "posts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in posts))
    inter = ["src,dst,kind,post_id"]
    for s, t in [(1, 0), (2, 0), (0, 1), (3, 2)]:
        inter.append(f"{IDS[s]},{IDS[t]},like,{posts[t]['post_id']}")
    (d / "interactions.csv").write_text("\n".join(inter) + "\n")
    return [d / f for f in ("accounts.csv", "follows.csv", "posts.jsonl", "interactions.csv")]


def table_dump(db) -> dict[str, str]:
    """Every table of the store as JSON text."""
    with Store(db, read_only=True) as s:
        tables = [r[0] for r in s.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE'").fetchall()]
        out = {}
        for t in tables:
            rel = s.con.execute(f"SELECT * FROM {t}")
            cols = [c[0] for c in rel.description]
            out[t] = json.dumps([dict(zip(cols, r)) for r in rel.fetchall()], default=str)
        return out


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    p = tmp_path / "keys" / "pseudonym.key"
    monkeypatch.setenv("TRUECLOUT_PSEUDONYM_KEY_FILE", str(p))
    return p


def test_pseudonyms_stable_keyed_short(key_file):
    k1 = load_key()                          # created on first use, from the env var
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert load_key() == k1
    a, b = Pseudonymizer(k1), Pseudonymizer.from_key_file()
    other = Pseudonymizer(b"another key of 32 bytes.........")
    for kind in ("account", "handle", "post"):
        p = a.pseudonym(kind, "bluesky", "did:plc:abc")
        assert p == b.pseudonym(kind, "bluesky", "did:plc:abc")           # stable
        assert p != other.pseudonym(kind, "bluesky", "did:plc:abc")       # keyed
        assert re.fullmatch(r"[uhp]_[a-z2-7]{16}", p)                     # short, URL-safe
    assert a.account("x", "1") != a.account("y", "1") != a.handle("x", "1")
    ids = {a.account("x", str(i)) for i in range(20000)}
    assert len(ids) == 20000
    key_file.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        load_key()


def test_ingest_pseudonymize_keeps_no_original(tmp_path, key_file, capsys):
    files = write_fixture(tmp_path / "in")
    db = str(tmp_path / "p.duckdb")
    code, out, err = run(capsys, "ingest", *map(str, files), "--pseudonymize", "--db", db,
                         "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["accounts"] > 0 and summary["follows"] == 7 and summary["rejected"] == 1
    pz = Pseudonymizer.from_key_file(create=False)
    assert summary["pseudonym_key_id"] == pz.key_id
    dump = table_dump(db)
    text = "\n".join(dump.values())
    for original in IDS + HANDLES + NAMES + ["bio of", "example.com", "hello"]:
        assert original not in text, original
    # the pseudonyms are there and still join: follows, posts and interactions line up
    assert pz.account("default", IDS[0]) in dump["accounts"]
    assert pz.handle("default", HANDLES[0]) in dump["accounts"]
    assert pz.post("default", f"at://{IDS[0]}/app.bsky.feed.post/0") in dump["posts"]
    with Store(db, read_only=True) as s:
        c = s.counts()
        assert (c["follows"], c["posts"], c["interactions"], c["labels"]) == (7, 5, 4, 4)
        assert s.pseudonym_key_id() == pz.key_id
    raw = open(db, "rb").read()
    key = load_key()
    for needle in [key, key.hex().encode(), *(h.encode() for h in HANDLES + IDS)]:
        assert needle not in raw
    # again with the same key: already loaded; without --pseudonymize: refused
    code, out, _ = run(capsys, "ingest", *map(str, files), "--pseudonymize", "--db", db, "--json")
    assert code == 0 and json.loads(out)["skipped"] == 4
    code, _, err = run(capsys, "ingest", str(files[1]), "--db", db)
    assert code == 2 and "pseudonymised" in err
    # a different key is refused too
    os.environ["TRUECLOUT_PSEUDONYM_KEY_FILE"] = str(tmp_path / "other.key")
    code, _, err = run(capsys, "ingest", str(files[1]), "--pseudonymize", "--db", db)
    assert code == 2 and "another key" in err


def _plain_store(tmp_path, capsys):
    files = write_fixture(tmp_path / "in")
    db = str(tmp_path / "s.duckdb")
    code, _, err = run(capsys, "ingest", *map(str, files), "--db", db, "--json")
    assert code == 0, err
    return db


def _uid(db, account_id):
    with Store(db, read_only=True) as s:
        return s.find_accounts([account_id])[0]["uid"]


def test_forget_removes_every_trace(tmp_path, capsys):
    db = _plain_store(tmp_path, capsys)
    victim, handle = IDS[0], HANDLES[0]
    uid = _uid(db, victim)
    with Store(db) as s:
        uids = np.asarray([r[0] for r in s.sql_rows("SELECT uid FROM accounts ORDER BY uid")],
                          np.int32)
        s.save_run("rank", {"top": [f"default:{victim}"]}, {"best": victim}, uids,
                   {"x": np.arange(uids.size, dtype=float)})
        s.save_run("detect", {}, {}, uids, {"y": np.ones(uids.size)})
        s.con.execute("INSERT INTO raw_records (platform, kind, record_id, fetched_at, body) "
                      "VALUES ('default', 'profile', ?, now(), ?),"
                      " ('default', 'page', 'pg1', now(), ?),"
                      " ('default', 'profile', ?, now(), '{}')",
                      [victim, json.dumps({"did": victim}),
                       json.dumps({"followers": [{"handle": handle}]}), IDS[1]])
        s.con.execute("INSERT INTO record_subjects (platform, repo, collection, rkey, src, dst) "
                      "VALUES ('default', ?, 'app.bsky.graph.follow', 'r1', ?, ?)",
                      [victim, uid, _uid_in(s, IDS[1])])
        # what re-crawls keep: an unfollow, a sighting, an old handle
        s.con.execute("INSERT INTO follow_changes VALUES (?, ?, 'removed', now(), now(), 1)",
                      [uid, _uid_in(s, IDS[1])])
        s.con.execute("INSERT INTO crawl_sightings VALUES (1, 'follow', ?, ?, NULL, now())",
                      [_uid_in(s, IDS[1]), uid])
        s.con.execute("INSERT INTO account_changes VALUES (?, now(), 'handle', ?, 'x.test', "
                      "NULL)", [uid, handle])
        s.con.execute("INSERT INTO crawls (crawl_id, platform, target, params, status) "
                      "VALUES (1, 'default', ?, '{}', 'done'), (2, 'default', 'someone', ?, "
                      "'done')", [handle, json.dumps({"seeds": [victim, IDS[2]]})])
        s.con.execute("INSERT INTO crawl_cursors (crawl_id, task, cursor) "
                      "VALUES (1, 'followers', 'c')")
        s.con.execute("INSERT INTO jobs (job_id, kind, params, status, result) "
                      "VALUES (1, 'audit', ?, 'done', ?)", [json.dumps({"account": victim}),
                                                            json.dumps({"handle": handle})])
        before = s.counts()
        other_follows = s.sql_rows("SELECT count(*) FROM follows WHERE src <> ? AND dst <> ?",
                                   [uid, uid])[0][0]
    # report files: one through the store's index, one in a folder given to --reports,
    # and one report about someone else that must stay
    rep_dir = tmp_path / "reports"
    rep_dir.mkdir()
    indexed = tmp_path / "audit.html"
    indexed.write_text("<html>audit</html>")
    record_report(db, indexed, accounts=[f"default:{victim}"])
    named = rep_dir / "audit.json"
    named.write_text(json.dumps({"account": {"platform": "default", "account_id": victim}}))
    other = rep_dir / "other.json"
    other.write_text(json.dumps({"account": {"platform": "default", "account_id": IDS[2]}}))
    code, _, err = run(capsys, "forget", victim, "--db", db, "--json")
    assert code == 2 and "--yes" in err                       # no silent deletion
    code, out, err = run(capsys, "forget", victim, "--db", db, "--yes", "--json",
                         "--reports", str(rep_dir))
    assert code == 0, err
    res = json.loads(out)
    d = res["deleted"]
    assert d["accounts"] == 1 and d["follows"] == 4 and d["posts"] == 1
    assert d["interactions"] == 3 and d["scores"] == 2 and d["labels"] == 1
    assert d["raw_records"] == 2 and d["record_subjects"] == 1 and d["crawls"] == 1
    assert d["rejects"] == 1 and d["posts_unlinked"] == 1 and d["mentions_removed"] == 1
    assert d["follow_changes"] == d["crawl_sightings"] == d["account_changes"] == 1
    assert sorted(res["reports_deleted"]) == sorted([str(indexed), str(named)])
    assert not indexed.exists() and not named.exists() and other.exists()
    assert report_index(db).read_text() == ""
    # no trace in the file's bytes (it was rewritten) nor in any table
    assert res["compacted"]
    raw = open(db, "rb").read()
    assert victim.encode() not in raw and handle.encode() not in raw
    assert IDS[1].encode() in raw                             # the others are still there
    dump = table_dump(db)
    for t, text in dump.items():
        assert victim not in text and handle not in text, t
    with Store(db, read_only=True) as s:
        for t, cols in {"accounts": ["uid"], "profile_snapshots": ["uid"], "labels": ["uid"],
                        "account_terms": ["uid"], "scores": ["uid"], "follows": ["src", "dst"],
                        "interactions": ["src", "dst"], "posts": ["author"],
                        "record_subjects": ["src", "dst"], "follow_changes": ["src", "dst"],
                        "crawl_sightings": ["src", "dst"], "account_changes": ["uid"]}.items():
            for c in cols:
                assert s.sql_rows(f"SELECT count(*) FROM {t} WHERE {c} = ?", [uid])[0][0] == 0
        after = s.counts()
        # the other accounts are untouched
        assert after["accounts"] == before["accounts"] - 1
        assert s.sql_rows("SELECT count(*) FROM follows")[0][0] == other_follows
        assert s.sql_rows("SELECT count(*) FROM scores")[0][0] == 2 * (len(IDS) - 1)
        assert len(s.find_accounts(IDS[1:])) == 3
        assert s.sql_rows("SELECT count(*) FROM raw_records")[0][0] == 1
        assert s.data_generation() == 1
    code, _, err = run(capsys, "forget", victim, "--db", db, "--yes")
    assert code == 2 and "no account" in err


def _uid_in(store, account_id):
    return store.find_accounts([account_id])[0]["uid"]


def test_forget_invalidates_the_api_cache(tmp_path, capsys):
    from trueclout.api.service import Service
    db = _plain_store(tmp_path, capsys)
    svc = Service(db)
    try:
        svc.token_check_s = 0.0
        tok = svc.token()
        n = svc.context().n
        uid = svc.store.find_accounts([IDS[3]])[0]["uid"]
        svc.store.forget_accounts([uid])
        assert svc.token() != tok
        assert svc.context().n == n - 1
    finally:
        svc.close()


def test_forget_in_a_pseudonymised_store_by_original(tmp_path, key_file, capsys):
    files = write_fixture(tmp_path / "in")
    db = str(tmp_path / "p.duckdb")
    assert run(capsys, "ingest", *map(str, files), "--pseudonymize", "--db", db)[0] == 0
    pz = Pseudonymizer.from_key_file(create=False)
    code, out, err = run(capsys, "forget", IDS[1], "--db", db, "--yes", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["accounts"][0]["account_id"] == pz.account("default", IDS[1])
    code, out, err = run(capsys, "forget", "@" + HANDLES[2].upper(), "--db", db, "--yes",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["accounts"][0]["account_id"] == pz.account("default", IDS[2])
    text = "\n".join(table_dump(db).values())
    for gone in (pz.account("default", IDS[1]), pz.account("default", IDS[2]),
                 pz.handle("default", HANDLES[1])):
        assert gone not in text
    assert pz.account("default", IDS[0]) in text
    # the pseudonym itself works too
    code, out, _ = run(capsys, "forget", pz.account("default", IDS[3]), "--db", db, "--yes",
                       "--json")
    assert code == 0 and json.loads(out)["deleted"]["accounts"] == 1


def test_aggregate_only_reports_name_no_account(tmp_path):
    from trueclout.audit import audit_account
    from trueclout.detect.base import BaseDetector
    from trueclout.detect.data import DetectionData
    from trueclout.detect.ensemble import EnsembleDetector
    from trueclout.graph.toy import toy_graph
    from trueclout.report.html import render_audit_html
    from trueclout.report.influence import (example_context, example_scores, influence_report,
                                            render_influence_html)

    class Zero(BaseDetector):
        def __init__(self):
            pass

        def _fit(self, data):
            self.decision_scores_ = np.zeros(data.n)

    data = DetectionData.from_graph(toy_graph())
    ens = EnsembleDetector(members={"z": (Zero(), "fake")}).fit(data)
    full = audit_account(data, ens, "toy:cat", n_boot=200)
    full["account"]["handle"], full["account"]["name"] = "zorgbert_handle", "Zorgbert Name"
    agg = aggregate_only(full)
    text = json.dumps(agg)
    assert "zorgbert_handle" not in text and "Zorgbert Name" not in text
    assert agg["audience"]["composition"] == full["audience"]["composition"]
    assert {"share", "lo", "hi"} <= set(agg["audience"]["composition"]["real"])
    page = render_audit_html(full, tmp_path / "a.html", aggregate_only=True).read_text()
    assert "zorgbert_handle" not in page and "Zorgbert Name" not in page
    assert "zorgbert_handle" in render_audit_html(full, tmp_path / "b.html").read_text()

    rep = influence_report(example_context(), example_scores(), top=3)
    names = [f"toy:{n}" for n in ("ana", "ben", "cat", "dan", "eve")]
    assert any(n in json.dumps(rep) for n in names)
    agg = aggregate_only(rep)
    assert not any(n in json.dumps(agg) for n in names)
    assert agg["fall"]["median_places_fallen"] == rep["fall"]["median_places_fallen"]
    assert agg["accounts"] == rep["accounts"]
    page = render_influence_html(rep, tmp_path / "i.html", aggregate_only=True).read_text()
    assert not any(n in page for n in names)


def test_forget_reports_by_content_only_exact_names(tmp_path):
    (tmp_path / "a.md").write_text("Audit of x:al, score 50")
    (tmp_path / "b.md").write_text("Audit of x:alice and @albert")
    (tmp_path / "c.bin").write_text("x:al")          # not a report type: left alone
    got = forget_reports(None, [{"platform": "x", "account_id": "al", "handle": None}],
                         [tmp_path])
    assert [os.path.basename(p) for p in got] == ["a.md"]
    assert (tmp_path / "b.md").exists() and (tmp_path / "c.bin").exists()
