"""Readers of labelled data sets on small synthetic files: label lists, bot repository
folders, the social honeypot, InstaFake and MIB dumps; bad rows kept with reasons,
conflicting labels refused, loads idempotent."""

from __future__ import annotations

import json

import pytest

from trueclout.errors import InputError
from trueclout.ingest import detect_format, iter_chunks
from trueclout.ingest.run import ingest
from trueclout.store import Store


def _rows(path, fmt=None):
    out: dict[str, list] = {}
    for c in iter_chunks(path, fmt):
        out.setdefault(c.table, []).extend(c.batch.to_pylist())
    return out


def _rejects(s):
    return s.con.execute("SELECT reason FROM rejects ORDER BY line").fetchall()


def test_label_list_separators_header_synonyms_and_bad_lines(tmp_path):
    d = tmp_path / "vendor-set"
    d.mkdir()
    p = d / "vendor.csv"
    p.write_text("user_id,class\n1,bot\n2,Genuine\n3,polluter\n4,alien\n5\n6,human\n"
                 "7,bot\n8,fake\n9,human\n")
    assert detect_format(p) == "label-list"
    rows = _rows(p)["labels"][:5]
    assert [r["label"] for r in rows] == ["bot", "human", "bot", "alien", None]
    assert {r["source"] for r in rows} == {"vendor-set"}
    assert rows[3]["_error"].startswith("label: unknown label 'alien'")
    assert rows[4]["_error"] == "record: expected 2 fields (account_id label), got 1"
    assert [r["_line"] for r in rows] == [2, 3, 4, 5, 6]
    for sep in ("\t", " ", ";"):
        q = d / f"l{ord(sep)}.txt"
        q.write_text(f"7{sep}human\n8{sep}fake\n")
        assert detect_format(q) == "label-list"
        assert [r["label"] for r in _rows(q)["labels"]] == ["human", "fake"]


def test_edge_lists_and_label_lists_never_confused(tmp_path):
    edges = tmp_path / "e.txt"
    edges.write_text("1 2\n2 3\n")
    assert detect_format(edges) == "edgelist"
    labels = tmp_path / "l.txt"
    labels.write_text("1 bot\n2 human\n")
    assert detect_format(labels) == "label-list"
    mixed = tmp_path / "m.txt"
    mixed.write_text("1 2\n2 human\n")
    with pytest.raises(InputError, match="ambiguous file format.*label word"):
        detect_format(mixed)
    # an explicit format still reads it, as asked
    assert _rows(mixed, "edgelist")["follows"][1]["dst"] == "human"


def _bot_repository(d, labels, users):
    d.mkdir()
    (d / f"{d.name}.tsv").write_text("".join(f"{i}\t{lab}\n" for i, lab in labels))
    (d / f"{d.name}_tweets.json").write_text(json.dumps([
        {"created_at": "Mon Apr 16 19:28:33 +0000 2018",
         "user": {"id_str": i, "screen_name": f"u{i}", "followers_count": 10,
                  "friends_count": 20, "statuses_count": 30,
                  "created_at": "Thu Jun 07 22:16:27 +0000 2012"}} for i in users]))
    return d


def test_bot_repository_folder_conflicts_and_idempotence(tmp_path):
    d = _bot_repository(tmp_path / "tiny-2019",
                        [("1", "bot"), ("2", "human"), ("3", "bot"), ("3", "human"),
                         ("4", "bot")], ["1", "2", "3"])
    assert detect_format(d) == "bot-repository"
    with Store(":memory:") as s:
        r = ingest(s, [d]).to_dict()
        assert r["read"] == r["accepted"] + r["rejected"] and r["rejected"] == 2
        assert [x for (x,) in _rejects(s)] == [
            "conflicting labels within source tiny-2019: bot, human"] * 2
        got = s.con.execute("SELECT a.account_id, l.label, l.source FROM labels l "
                            "JOIN accounts a USING (uid) ORDER BY 1").fetchall()
        assert got == [("1", "bot", "tiny-2019"), ("2", "human", "tiny-2019"),
                       ("4", "bot", "tiny-2019")]   # 4 has no profile, its label stays
        obs = s.con.execute("SELECT observed_at FROM accounts WHERE account_id = '1'"
                            ).fetchall()[0][0]
        assert obs.year == 2018     # observed when collected, not today
        again = ingest(s, [d]).to_dict()
        assert again["skipped"] == 1 and again["labels"] == 0
        assert s.con.execute("SELECT count(*) FROM labels").fetchall()[0][0] == 3


def test_honeypot_rows_lengths_and_conflicts(tmp_path):
    d = tmp_path / "honeypot"
    d.mkdir()
    line = "{}\t2008-01-02 03:04:05\t2010-01-02 03:04:05\t10\t20\t30\t8\t{}\n"
    (d / "content_polluters.txt").write_text(line.format(1, 50) + line.format(2, 0))
    (d / "legitimate_users.txt").write_text(
        line.format(2, 0) + line.format(3, "x") + "4\t2008-01-02 03:04:05\t5\n"
        + "".join(line.format(i, 9) for i in range(5, 10)))
    assert detect_format(d) == "honeypot"
    with Store(":memory:") as s:
        r = ingest(s, [d]).to_dict()
        assert r["read"] == r["accepted"] + r["rejected"]
        reasons = sorted(x for (x,) in _rejects(s))
        assert "not a length 'x'" in reasons
        assert "expected 8 tab-separated fields, got 3" in reasons
        assert reasons.count("conflicting labels within source honeypot: bot, human") == 2
        a = s.con.execute("SELECT followers_count, following_count, extra FROM accounts "
                          "WHERE account_id = '1'").fetchall()[0]
        assert a[:2] == (20, 10)
        assert json.loads(a[2]) == {"handle_length": 8, "description_length": 50}


def test_instafake_ids_flags_and_bad_values(tmp_path):
    d = tmp_path / "insta"
    d.mkdir()
    rec = {"userFollowerCount": 25, "userFollowingCount": 1937, "userBiographyLength": 0,
           "userMediaCount": 0, "userHasProfilPic": 0, "userIsPrivate": 1,
           "usernameDigitCount": 3, "usernameLength": 10, "isFake": 1}
    p = d / "fakeAccountData.json"
    p.write_text(json.dumps([rec, rec, {**rec, "userMediaCount": -2},
                             {**rec, "userIsPrivate": 7}]))
    with Store(":memory:") as s:
        r = ingest(s, [p]).to_dict()
        assert r["read"] == r["accepted"] + r["rejected"]
        assert sorted(x for (x,) in _rejects(s)) == [
            "expected 0 or 1, got '7'", "expected a count, got '-2'"]
        ids = [x for (x,) in s.con.execute(
            "SELECT account_id FROM accounts ORDER BY account_id").fetchall()]
        assert ids == ["fakeAccountData-1", "fakeAccountData-2"]   # duplicates stay two
        row = s.con.execute("SELECT platform, default_profile_image, protected, extra "
                            "FROM accounts LIMIT 1").fetchall()[0]
        assert row[:3] == ("instagram", True, True)
        assert json.loads(row[3])["handle_digits"] == 3
        assert s.con.execute("SELECT label, source FROM labels").fetchall() == \
            [("fake", "insta")] * 2


def test_mib_dumps_dates_groups_and_label_files(tmp_path):
    d = tmp_path / "mib-2017"
    d.mkdir()
    head = ('"id","screen_name","followers_count","created_at","crawled_at","updated"\n')
    (d / "users_traditional_spambots_1.csv").write_text(
        head + '"7","spam","3","1183552203000L","2010-11-07 11:10:52","2016-03-14 17:05:53"\n')
    (d / "ids.csv").write_text('id,dataset\n7,fsf\n8,e13\n')
    assert detect_format(d / "ids.csv") == "twitter-csv"
    with Store(":memory:") as s:
        r = ingest(s, [d]).to_dict()
        assert r["failed"] == 0 and r["rejected"] == 0
        a = s.con.execute("SELECT created_at, observed_at FROM accounts "
                          "WHERE account_id = '7'").fetchall()[0]
        assert a[0].year == 2007 and a[1].year == 2010          # crawled_at, not updated
        labels = s.con.execute("SELECT a.account_id, l.label, l.source FROM labels l JOIN "
                               "accounts a USING (uid) ORDER BY 1, 2").fetchall()
        # the file name says spambot, the id list says bought follower: both kept (no
        # human among them, so no conflict)
        assert labels == [("7", "bot", "mib-2017"), ("7", "fake", "mib-2017"),
                          ("8", "human", "mib-2017")]
        # the id list gives labels only, no empty profile rows
        assert s.con.execute("SELECT count(*) FROM accounts WHERE account_id = '8' "
                             "AND followers_count IS NULL").fetchall()[0][0] == 1
