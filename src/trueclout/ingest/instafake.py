"""InstaFake: Instagram accounts as counts and flags (Akyon and Kalfaoglu, ASYU 2019).

Each file (``fakeAccountData.json``, ``realAccountData.json``) is a JSON array of flat
records without account ids or dates:

=======================  ===================================================
field                    becomes
=======================  ===================================================
userFollowerCount        followers_count
userFollowingCount       following_count
userMediaCount           posts_count
userHasProfilPic         default_profile_image (its negation)
userIsPrivate            protected
usernameLength           ``extra.handle_length``
usernameDigitCount       ``extra.handle_digits``
userBiographyLength      ``extra.description_length``
isFake                   a label: 1 -> ``fake``, 0 -> ``human``
=======================  ===================================================

The records have no ids, so an account's id is its place in its file,
``<file stem>-<record number>`` (``fakeAccountData-17``): loading the file again gives
the same ids, and two identical records stay two accounts. The platform is
``instagram``; there is no creation or observation time, so no account age. Labels take
the data set's name as their source (:func:`~trueclout.ingest.base.set_name`).

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import detect_format, iter_chunks
>>> d = Path(tempfile.mkdtemp()) / "instafake-2019"; d.mkdir()
>>> p = d / "fakeAccountData.json"
>>> _ = p.write_text(json.dumps([{"userFollowerCount": 25, "userFollowingCount": 1937,
...     "userBiographyLength": 0, "userMediaCount": 0, "userHasProfilPic": 1,
...     "userIsPrivate": 1, "usernameDigitCount": 0, "usernameLength": 10, "isFake": 1}]))
>>> detect_format(p)
'instafake'
>>> a, l = [c.batch for c in iter_chunks(p)]
>>> a.column("account_id").to_pylist(), a.column("platform").to_pylist()
(['fakeAccountData-1'], ['instagram'])
>>> a.column("default_profile_image").to_pylist(), a.column("protected").to_pylist()
([False], [True])
>>> l.column("label").to_pylist(), l.column("source").to_pylist()
(['fake'], ['instafake-2019'])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from ..model import conform
from ._columns import to_batch
from ._io import Batcher, iter_json_values
from .base import Chunk, ReadOptions, Reader, register, set_name

#: Record field -> accounts column.
COUNT_FIELDS = {"userFollowerCount": "followers_count",
                "userFollowingCount": "following_count", "userMediaCount": "posts_count"}
#: Record field -> key of ``extra``.
LENGTH_FIELDS = {"usernameLength": "handle_length", "usernameDigitCount": "handle_digits",
                 "userBiographyLength": "description_length"}
_KEYS = (*COUNT_FIELDS, *LENGTH_FIELDS, "userHasProfilPic", "userIsPrivate", "isFake")


def _flag(value: Any, field: str) -> tuple[bool | None, str | None]:
    if value is None:
        return None, None
    if value in (0, 1) and not isinstance(value, float) or value in (True, False):
        return bool(value), None
    return None, f"{field}: expected 0 or 1, got {str(value)[:40]!r}"


def _count(value: Any, field: str) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None, f"{field}: expected a count, got {str(value)[:40]!r}"
    return str(value), None


def record(obj: Any, stem: str, number: int) -> tuple[dict, str | None, str | None]:
    """The accounts row of one record, its label and its first error.

    Examples
    --------
    >>> row, label, err = record({"userFollowerCount": 3, "userHasProfilPic": 0,
    ...                           "isFake": 0}, "realAccountData", 4)
    >>> row["account_id"], row["default_profile_image"], label, err
    ('realAccountData-4', True, 'human', None)
    >>> record({"userFollowerCount": -1}, "f", 1)[2]
    "userFollowerCount: expected a count, got '-1'"
    """
    row: dict[str, Any] = {"account_id": f"{stem}-{number}"}
    errors: list[str] = []
    if not isinstance(obj, dict):
        return row, None, f"record: expected a JSON object, got {type(obj).__name__}"
    for k, col in COUNT_FIELDS.items():
        row[col], e = _count(obj.get(k), k)
        errors += [e] if e else []
    lengths = {}
    for k, key in LENGTH_FIELDS.items():
        v, e = _count(obj.get(k), k)
        errors += [e] if e else []
        if v is not None:
            lengths[key] = int(v)
    row["extra"] = json.dumps(lengths) if lengths else None
    pic, e = _flag(obj.get("userHasProfilPic"), "userHasProfilPic")
    errors += [e] if e else []
    row["default_profile_image"] = None if pic is None else not pic
    row["protected"], e = _flag(obj.get("userIsPrivate"), "userIsPrivate")
    errors += [e] if e else []
    fake, e = _flag(obj.get("isFake"), "isFake")
    errors += [e] if e else []
    label = None if fake is None else ("fake" if fake else "human")
    return row, label, (errors[0] if errors else None)


def sniff_instafake(head: bytes) -> float:
    """How much ``head`` looks like an InstaFake file.

    Examples
    --------
    >>> sniff_instafake(b'[{"userFollowerCount": 25, "isFake": 1}]')
    0.95
    """
    start = head.lstrip()[:1]
    if start not in (b"[", b"{"):
        return 0.0
    return 0.95 if b'"userFollowerCount"' in head and b'"isFake"' in head else 0.0


class InstaFakeReader(Reader):
    """InstaFake JSON (Instagram counts and flags, labelled fake or real).

    Examples
    --------
    >>> InstaFakeReader().sniff(Path("x.json"), b'[{"userFollowerCount": 1, "isFake": 0}]')
    0.95
    """

    name = "instafake"
    description = "InstaFake JSON: Instagram counts and flags labelled fake or real"
    default_platform = "instagram"

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_dir():
            return 0.0
        return sniff_instafake(head)

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        platform = options.platform or self.default_platform
        source = set_name(path, options)
        stem = path.name.split(".")[0]
        out = Batcher("accounts", str(path), options.batch_rows)
        labels = Batcher("labels", str(path), options.batch_rows)
        rows: list[dict] = []
        labs: list[tuple[str, str, int]] = []
        number = 0

        def flush():
            n = len(rows)
            cols = {c: pa.array([r.get(c) for r in rows], pa.string())
                    for c in ("account_id", *COUNT_FIELDS.values())}
            cols["extra"] = pa.array([r.get("extra") for r in rows], pa.string())
            for c in ("default_profile_image", "protected"):
                cols[c] = pa.array([r.get(c) for r in rows], pa.bool_())
            batch = to_batch("accounts", cols, n, lines=[r["_line"] for r in rows],
                             platform=platform,
                             errors=[pa.array([r["_error"] for r in rows], pa.string())])
            lab = conform("labels", {
                "platform": [platform] * len(labs), "account_id": [a for a, _, _ in labs],
                "label": [x for _, x, _ in labs], "source": [source] * len(labs),
                "_line": [ln for _, _, ln in labs]}, len(labs))
            rows.clear()
            labs.clear()
            return batch, lab

        for line, obj, err in iter_json_values(path):
            number += 1
            row, label, rec_err = record(obj, stem, number) if err is None else \
                ({"account_id": f"{stem}-{number}"}, None, err)
            row["_line"], row["_error"] = line, rec_err
            rows.append(row)
            if label is not None and rec_err is None:
                labs.append((row["account_id"], label, line))
            if len(rows) >= options.batch_rows:
                a, lab = flush()
                yield from out.add(a)
                yield from labels.add(lab)
        if rows:
            a, lab = flush()
            yield from out.add(a)
            yield from labels.add(lab)
        yield from out.flush()
        yield from labels.flush()


register(InstaFakeReader())
