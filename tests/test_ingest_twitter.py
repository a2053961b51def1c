"""Tests of the Twitter / X JSON reader and the Twitter CSV (Cresci-style) reader."""

from __future__ import annotations

import json

import pytest

from trueclout.errors import InputError
from trueclout.ingest import ReadOptions, detect_format, iter_chunks

V1_USER = {"id": 6253282, "id_str": "6253282", "name": "Twitter API", "screen_name": "TwitterAPI",
           "location": "San Francisco, CA", "url": "https://dev.twitter.com",
           "description": "The Real Twitter API.", "protected": False, "verified": True,
           "followers_count": 6133636, "friends_count": 12, "listed_count": 12936,
           "created_at": "Wed May 23 06:01:13 +0000 2007", "favourites_count": 31,
           "statuses_count": 3656, "lang": None, "default_profile_image": False,
           "profile_background_color": "null", "time_zone": None}

TWEET = {"created_at": "Wed Oct 10 20:19:24 +0000 2018", "id": 1050118621198921728,
         "id_str": "1050118621198921728", "text": "@bob hi #Python #ml",
         "in_reply_to_status_id_str": "1050", "in_reply_to_user_id_str": "22", "lang": "en",
         "quoted_status_id_str": "77", "quoted_status": {"id_str": "77", "user": {"id_str": "33"}},
         "user": V1_USER,
         "entities": {"hashtags": [{"text": "Python"}, {"text": "ml"}],
                      "user_mentions": [{"id_str": "22", "screen_name": "bob"}]}}

V2_USER = {"id": "2244994945", "username": "TwitterDev", "name": "Twitter Dev",
           "created_at": "2013-12-14T04:35:55.000Z", "verified": True, "protected": False,
           "public_metrics": {"followers_count": 513958, "following_count": 2039,
                              "tweet_count": 3635, "listed_count": 1672},
           "profile_image_url": "https://pbs.twimg.com/x.jpg"}


def read(path, fmt=None, **opts):
    out: dict[str, list] = {}
    for c in iter_chunks(path, fmt, ReadOptions(**opts) if opts else None):
        out.setdefault(c.table, []).extend(c.batch.to_pylist())
    return out


def test_v1_user_mapping(tmp_path):
    p = tmp_path / "users.jsonl"
    p.write_text(json.dumps(V1_USER) + "\n")
    assert detect_format(p) == "twitter"
    [a] = read(p)["accounts"]
    assert (a["platform"], a["account_id"], a["handle"], a["following_count"], a["posts_count"],
            a["likes_count"], a["listed_count"], a["verified"]) == (
        "twitter", "6253282", "TwitterAPI", 12, 3656, 31, 12936, True)
    assert a["created_at"].isoformat() == "2007-05-23T06:01:13+00:00"
    assert a["observed_at"] is None and a["_line"] == 1 and a["_error"] is None
    assert json.loads(a["extra"]) == {"profile_background_color": "null", "time_zone": None}


def test_tweets_give_posts_and_interactions(tmp_path):
    rt = {"created_at": "Wed Oct 10 21:00:00 +0000 2018", "id_str": "2", "text": "RT @bob: x",
          "user": {"id_str": "6253282", "screen_name": "TwitterAPI"},
          "retweeted_status": {"id_str": "99", "user": {"id_str": "22"}},
          "entities": {"user_mentions": [{"id_str": "22"}]}}
    p = tmp_path / "tweets.json"
    p.write_text(json.dumps([TWEET, rt], indent=2))  # a pretty-printed JSON array
    got = read(p)
    acc, posts, inter = got["accounts"], got["posts"], got["interactions"]
    assert [a["observed_at"].isoformat() for a in acc] == ["2018-10-10T20:19:24+00:00",
                                                            "2018-10-10T21:00:00+00:00"]
    assert acc[1]["_line"] > acc[0]["_line"] == 2  # the line where each record starts
    assert posts[0]["hashtags"] == ["Python", "ml"] and posts[0]["mentions"] == ["22"]
    assert (posts[0]["reply_to"], posts[0]["quote_of"], posts[0]["author"]) == (
        "1050", "77", "6253282")
    kinds = [(i["kind"], i["dst"], i["post_id"]) for i in inter]
    assert kinds == [("mention", "22", "1050118621198921728"),
                     ("reply", "22", "1050118621198921728"),
                     ("quote", "33", "1050118621198921728"), ("repost", "22", "2")]


def test_v2_users_and_envelopes(tmp_path):
    p = tmp_path / "v2.json"
    p.write_text(json.dumps({"data": [V2_USER], "meta": {"result_count": 1}}, indent=1))
    [a] = read(p)["accounts"]
    assert (a["handle"], a["followers_count"], a["following_count"], a["posts_count"],
            a["likes_count"], a["lang"]) == ("TwitterDev", 513958, 2039, 3635, None, None)
    q = tmp_path / "v2.jsonl"
    q.write_text(json.dumps({"data": V2_USER}) + "\n" + json.dumps(V2_USER) + "\n")
    assert [a["account_id"] for a in read(q, "twitter")["accounts"]] == ["2244994945"] * 2
    r = tmp_path / "v2tweets.json"
    r.write_text(json.dumps({"data": [{"id": "5", "author_id": "2244994945", "text": "hi @x",
                                       "entities": {"mentions": [{"id": "9", "username": "x"}]}}],
                             "includes": {"users": [V2_USER]}}))
    got = read(r, "twitter")
    assert got["posts"][0]["mentions"] == ["9"] and got["interactions"][0]["kind"] == "mention"
    assert got["accounts"][0]["handle"] == "TwitterDev"


def test_bad_records(tmp_path):
    p = tmp_path / "u.jsonl"
    p.write_bytes(json.dumps(V1_USER).encode() + b"\n{broken\n"
                  + b'{"id_str": "5", "screen_name": "\xff\xfe"}\n[1, 2]\n{"foo": 1}\n'
                  + b'{"id_str": "6", "screen_name": "neg", "followers_count": -5}\n')
    errs = [(a["_line"], a["_error"]) for a in read(p, "twitter")["accounts"]]
    assert errs[0] == (1, None)
    assert errs[1][0] == 2 and errs[1][1].startswith("record: invalid JSON")
    assert errs[2] == (3, "record: invalid UTF-8 (byte 0xff at column 33)")
    assert errs[3] == (4, "record: expected a JSON object, got list")
    assert errs[4] == (5, "record: not a Twitter user or tweet object (fields: foo)")
    assert errs[5] == (6, "followers_count: negative count -5")


def test_broken_json_array_reports_the_rest(tmp_path):
    p = tmp_path / "a.json"
    p.write_text('[\n{"id_str": "1", "screen_name": "a"},\n{"id_str": oops}\n]')
    acc = read(p, "twitter")["accounts"]
    assert acc[0]["account_id"] == "1"
    assert acc[1]["_line"] == 3 and "the rest of the file could not be read" in acc[1]["_error"]


CSV_HEADER = ('"id","name","screen_name","statuses_count","followers_count","friends_count",'
              '"favourites_count","listed_count","created_at","url","lang","time_zone",'
              '"location","default_profile","default_profile_image","protected","verified",'
              '"description","updated","dataset"\n')


def test_twitter_csv_cresci_layout(tmp_path):
    (tmp_path / "cresci-2015").mkdir()
    p = tmp_path / "cresci-2015" / "users.csv"  # the labels' source is the set's folder
    p.write_text(CSV_HEADER
                 + '"1","Ann","ann","20","5","3","1","0","Fri Apr 06 10:58:22 +0000 2007",'
                   '"http://a","it","Rome","Roma",,,,"1","line one\nline two",'
                   '"2015-02-14 10:54:49","E13"\n'
                 + '"2","Bob","bob","NULL","-1","3","1","0","not a date",NULL,"en",,,'
                   '"1","1",,,,"2015-02-14 10:40:01","INT"\n'
                 + '"3","C","c","1","1","1","1","1",,,,,,,,,,,,"XYZ"\n'
                 + '"4","D","d","1","1","1","1","1",,,,,,,,,,,,\n')
    assert detect_format(p) == "twitter-csv"
    got = read(p)
    a, lab = got["accounts"], got["labels"]
    assert [x["_line"] for x in a] == [2, 3, 4, 5]
    assert a[0]["verified"] is True and a[0]["protected"] is False
    assert a[0]["description"] == "line one\nline two"
    assert a[0]["observed_at"].isoformat() == "2015-02-14T10:54:49+00:00"
    assert json.loads(a[0]["extra"]) == {"time_zone": "Rome"}
    assert json.loads(a[1]["extra"]) == {"default_profile": "1"}
    assert a[1]["posts_count"] is None and a[1]["url"] is None
    assert a[1]["_error"] == "created_at: unparseable date 'not a date'"
    assert [(x["account_id"], x["label"], x["source"], x["_error"] is None) for x in lab] == [
        ("1", "human", "cresci-2015", True), ("2", "fake", "cresci-2015", True),
        ("3", None, "cresci-2015", False)]
    assert lab[2]["_error"].startswith("dataset: unknown MIB group code 'XYZ'")


def test_twitter_csv_label_column_and_bad_rows(tmp_path):
    p = tmp_path / "mine.csv"
    p.write_text("id,screen_name,followers_count,label\n1,a,3,bot\n2,b\n")
    got = read(p, "twitter-csv")
    assert got["labels"][0]["source"] == "mine.csv" and got["labels"][0]["label"] == "bot"
    assert got["accounts"][1]["_error"] == "record: expected 4 fields, got 2"
    q = tmp_path / "noid.csv"
    q.write_text("screen_name,followers_count\na,1\n")
    with pytest.raises(InputError, match="missing required column id"):
        read(q, "twitter-csv")
