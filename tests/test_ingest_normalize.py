"""Unit tests of trueclout.ingest.normalize and trueclout.ingest.validate."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueclout.ingest.normalize import (clean_strings, decode_utf8, first_error, json_objects,
                                        parse_bools, parse_ints, parse_lists, parse_timestamps)
from trueclout.ingest.validate import validate
from trueclout.model import conform, empty_batch

UTC = dt.timezone.utc


def _iso(values):
    return [None if v is None else v.astimezone(UTC).isoformat() for v in values.to_pylist()]


def test_timestamps_all_formats():
    raw = ["Fri Apr 06 10:58:22 +0000 2007", "Mon Apr 30 15:08:42 +0200 2012",
           "2015-02-14 10:54:49", "2020-01-02T03:04:05Z", "2020-01-02T03:04:05+02:00",
           "2020-01-02", "1420070400", "1420070400.5", "2020-01-02T03:04:05.1234567Z",
           "2020-01-02 03:04:05 UTC", None, "", "NULL"]
    v, e = parse_timestamps(raw, "created_at")
    assert v.type == pa.timestamp("us", tz="UTC")
    assert _iso(v) == [
        "2007-04-06T10:58:22+00:00", "2012-04-30T13:08:42+00:00", "2015-02-14T10:54:49+00:00",
        "2020-01-02T03:04:05+00:00", "2020-01-02T01:04:05+00:00", "2020-01-02T00:00:00+00:00",
        "2015-01-01T00:00:00+00:00", "2015-01-01T00:00:00.500000+00:00",
        "2020-01-02T03:04:05.123456+00:00", "2020-01-02T03:04:05+00:00", None, None, None]
    assert e.null_count == len(raw)


def test_timestamps_errors_name_field_and_value():
    v, e = parse_timestamps(["xyz", "2020-13-45", "Fri Foo 99 10:58:22 +0000 2007", "ok?"],
                            "observed_at")
    assert v.null_count == 4
    assert e.to_pylist()[0] == "observed_at: unparseable date 'xyz'"
    assert all(m.startswith("observed_at: unparseable date '") for m in e.to_pylist())


def test_timestamps_bad_iso_next_to_good():
    v, e = parse_timestamps(["2020-01-02", "2020-13-01", "2020-02-03T10:00:00+01:00"], "x")
    assert _iso(v) == ["2020-01-02T00:00:00+00:00", None, "2020-02-03T09:00:00+00:00"]
    assert e.to_pylist() == [None, "x: unparseable date '2020-13-01'", None]


def test_timestamps_typed_inputs():
    v, _ = parse_timestamps(pa.array([0, 86400]), "t")
    assert _iso(v)[1] == "1970-01-02T00:00:00+00:00"
    v, _ = parse_timestamps(pa.array([1, 2], pa.timestamp("s")), "t")
    assert _iso(v)[0] == "1970-01-01T00:00:01+00:00"
    v, _ = parse_timestamps(pa.array([dt.date(2020, 1, 2)]), "t")
    assert _iso(v) == ["2020-01-02T00:00:00+00:00"]


def test_bools_empty_means_false_or_missing():
    raw = ["1", "0", "", "TRUE", "false", "NULL", None, "yes", "maybe"]
    v, e = parse_bools(raw, "verified", empty_false=True)
    assert v.to_pylist() == [True, False, False, True, False, None, None, True, None]
    assert e.to_pylist()[-1] == "verified: not a boolean 'maybe'"
    v, _ = parse_bools(raw, "verified", empty_false=False)
    assert v.to_pylist()[2] is None
    v, e = parse_bools(pa.array([1, 0, 2]), "protected")
    assert v.to_pylist() == [True, False, None] and e.to_pylist()[2].startswith("protected")


def test_ints():
    v, e = parse_ints(["1", " 2 ", "NULL", "", "-4", "3.0", "3.5", "1e5", "12345678901234567890"],
                      "followers_count")
    assert v.to_pylist() == [1, 2, None, None, -4, 3, None, None, None]
    errs = e.to_pylist()
    assert errs[:6] == [None] * 6
    assert errs[6] == "followers_count: not an integer '3.5'"
    assert errs[7] == "followers_count: not an integer '1e5'"
    assert errs[8] == "followers_count: integer out of range '12345678901234567890'"
    v, e = parse_ints(["9223372036854775807", "-9223372036854775808",
                       "-9223372036854775809"], "n")
    assert v.to_pylist() == [2**63 - 1, -2**63, None]   # int64's extremes fit
    assert e.to_pylist()[2] == "n: integer out of range '-9223372036854775809'"
    v, e = parse_ints(pa.array([1.0, 2.5, None]), "x")
    assert v.to_pylist() == [1, None, None] and e.to_pylist()[1] == "x: not an integer '2.5'"


def test_strings_and_utf8():
    assert clean_strings([" a ", "NULL", ""], ("", "NULL")).to_pylist() == ["a", None, None]
    assert clean_strings(["NULL"], ("",)).to_pylist() == ["NULL"]
    text, err = decode_utf8(pa.array([b"ok", b"\xc3(", None]), "name")
    assert text.to_pylist() == ["ok", None, None]
    assert err.to_pylist()[1] == "name: invalid UTF-8 (byte 0xc3 at offset 0)"


def test_lists_and_json_objects():
    v, e = parse_lists(['["a", "b"]', "c, d", " e f ", "[oops", None], "hashtags")
    assert v.to_pylist() == [["a", "b"], ["c", "d"], ["e", "f"], None, None]
    assert e.to_pylist()[3] == "hashtags: not a list '[oops'"
    obj = json_objects({"a": pa.array(["x\n\"y\\", None, "\x01"]), "b": pa.array(["1", None, None])}, 3)
    import json
    assert json.loads(obj[0].as_py()) == {"a": "x\n\"y\\", "b": "1"}
    assert obj[1].as_py() is None
    assert json.loads(obj[2].as_py()) == {"a": "\x01"}


def test_first_error_keeps_order():
    a = pa.array([None, "a: 1", None])
    b = pa.array(["b: 1", "b: 2", None])
    assert first_error(a, b).to_pylist() == ["b: 1", "a: 1", None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-10**15, 10**15)), max_size=30))
def test_ints_roundtrip(values):
    raw = [None if v is None else str(v) for v in values]
    v, e = parse_ints(raw, "n")
    assert v.to_pylist() == values
    assert e.null_count == len(values)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)),
                max_size=20))
def test_timestamps_iso_roundtrip(values):
    values = [v.replace(microsecond=v.microsecond) for v in values]
    raw = [v.isoformat() for v in values] + [v.isoformat(sep=" ") + "Z" for v in values]
    out, err = parse_timestamps(raw, "t")
    want = [v.replace(tzinfo=UTC) for v in values] * 2
    assert [x for x in out.to_pylist()] == want
    assert err.null_count == len(raw)


# -- validate --------------------------------------------------------------------------------
T0 = 1_600_000_000_000_000   # 2020-09-13 in microseconds: a plausible time of any platform


def test_validate_follows():
    b = conform("follows", {
        "platform": ["x", "x", "x", "x", None],
        "src": ["a", "a", "", "a", "a"], "dst": ["b", "a", "b", "c", "b"],
        "created_at": pa.array([T0 + 10, None, None, T0 + 20, None],
                               pa.timestamp("us", tz="UTC")),
        "removed_at": pa.array([T0 + 20, None, None, T0 + 10, None],
                               pa.timestamp("us", tz="UTC")),
    }, 5)
    assert validate("follows", b).column("_error").to_pylist() == [
        None, "dst: self-follow (src == dst)", "src: missing required value",
        "removed_at: before created_at", "platform: missing required value"]


def test_validate_interactions_labels_accounts():
    b = conform("interactions", {"platform": ["x"] * 3, "src": ["a", "a", "a"],
                                 "dst": ["b", "a", "b"], "kind": ["like", "like", "poke"]}, 3)
    errs = validate("interactions", b).column("_error").to_pylist()
    assert errs[0] is None
    assert errs[1] == "dst: self-interaction (src == dst)"
    assert errs[2].startswith("kind: unknown interaction kind 'poke' (known: like")
    b = conform("labels", {"platform": ["x"] * 2, "account_id": ["1", "2"],
                           "label": ["fake", "alien"]}, 2)
    assert validate("labels", b).column("_error").to_pylist()[1].startswith(
        "label: unknown label 'alien'")
    b = conform("accounts", {"platform": ["x"] * 2, "account_id": ["1", "2"],
                             "likes_count": [-1, 0], "_error": ["name: earlier", None]}, 2)
    assert validate("accounts", b).column("_error").to_pylist() == ["name: earlier", None]


def test_validate_every_table_accepts_empty_and_rejects_wrong_schema():
    for t in ("accounts", "follows", "posts", "interactions", "labels", "account_terms",
              "profile_snapshots"):
        assert validate(t, empty_batch(t)).num_rows == 0
    with pytest.raises(ValueError):
        validate("follows", empty_batch("labels"))
