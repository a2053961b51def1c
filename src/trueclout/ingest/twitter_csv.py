"""CSV dumps of Twitter API v1.1 user objects (Cresci et al. 2015 ``users.csv`` and alike).

Columns are mapped as in :data:`trueclout.ingest.twitter.V1_FIELDS` (``id`` or
``id_str`` → account_id, ``screen_name`` → handle, ``friends_count`` →
following_count, ``statuses_count`` → posts_count, ``favourites_count`` → likes_count),
plus ``updated`` (the time the profile was fetched) → observed_at. Every other column is
kept, as JSON text, in ``extra``.

Missing values, as these dumps write them: ``NULL`` or an empty field is a missing
value; booleans are ``"1"`` or empty, and empty means **false** (the dump left out
false values, so ``verified`` is false, not unknown).

Labels. A ``dataset`` column holding the group codes of the MIB data set (Cresci et al.
2015, "Fame for sale", Decision Support Systems 80) gives ``labels`` rows with source
``cresci-2015`` (:data:`CRESCI_GROUPS`):

=====  =========================================================  ======
code   group                                                      label
=====  =========================================================  ======
E13    #elezioni2013 accounts, verified by hand                   human
TFP    "The Fake Project" volunteers, verified                    human
INT    followers bought from intertwitter.com                     fake
FSF    followers bought from fastfollowerz.com                    fake
TWT    followers bought from twittertechnology.com                fake
=====  =========================================================  ======

An unknown code gives a labels row with ``_error`` set. A generic ``label`` column gives
labels rows too, with the file name as source.

Platform: the ``platform`` option, else ``"twitter"``.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import REGISTRY, ReadOptions
>>> p = Path(tempfile.mkdtemp()) / "users.csv"
>>> _ = p.write_text('"id","screen_name","friends_count","verified","time_zone","dataset"\\n'
...                  '"1","ann","5",,"Rome","E13"\\n"2","bob","NULL","1",NULL,"INT"\\n')
>>> chunks = list(REGISTRY["twitter-csv"].read(p, ReadOptions()))
>>> a, l = chunks[0].batch, chunks[1].batch
>>> a.column("following_count").to_pylist(), a.column("verified").to_pylist()
([5, None], [False, True])
>>> a.column("extra").to_pylist()
['{"time_zone": "Rome"}', None]
>>> l.column("label").to_pylist(), l.column("source").to_pylist()
(['human', 'fake'], ['cresci-2015', 'cresci-2015'])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..model import conform
from ._columns import to_batch
from ._csv import iter_csv, read_header, sniff_delimiter
from ._io import Batcher, error_row, read_head
from .base import Chunk, ReadOptions, Reader, register
from .generic import is_harmless, label_rows
from .normalize import clean_strings, constant, decode_utf8, error_messages, json_objects
from .twitter import V1_FIELDS

#: MIB group code (Cresci et al. 2015) → label.
CRESCI_GROUPS = {"E13": "human", "TFP": "human", "INT": "fake", "FSF": "fake", "TWT": "fake"}

#: Source of the labels that come from CRESCI_GROUPS.
CRESCI_SOURCE = "cresci-2015"

#: CSV column → accounts column.
CSV_FIELDS = {**V1_FIELDS, "id": "account_id", "updated": "observed_at"}

_NULLS = ("", "NULL")


def _columns_plan(path: Path, names: list[str]) -> tuple[dict[str, str], list[str]]:
    mapped: dict[str, str] = {}
    for n in names:
        col = CSV_FIELDS.get(n)
        if col is None or col in mapped.values():
            continue
        if n == "id" and "id_str" in names:
            continue
        mapped[n] = col
    if "account_id" not in mapped.values():
        raise InputError("missing required column id (or id_str)", path=str(path))
    extra = [n for n in names if n not in mapped and n not in ("dataset", "label", "id",
                                                                "id_str")
             and not is_harmless(n)]
    return mapped, extra


def cresci_labels(account_ids: pa.Array, codes: pa.Array, lines: pa.Array,
                  platform: pa.Array) -> pa.RecordBatch:
    """``labels`` rows from MIB group codes; rows without a code give no label.

    Examples
    --------
    >>> import pyarrow as pa
    >>> b = cresci_labels(pa.array(["1", "2", "3"]), pa.array(["TFP", None, "XYZ"]),
    ...                   pa.array([2, 3, 4]), pa.array(["t"] * 3))
    >>> b.column("label").to_pylist(), b.column("_error").to_pylist()[1][:39]
    (['human', None], "dataset: unknown MIB group code 'XYZ' (")
    """
    keep = pc.is_valid(codes)
    n = int(pc.sum(keep).as_py() or 0)
    codes = pc.utf8_upper(codes.filter(keep))
    keys = pa.array(list(CRESCI_GROUPS))
    vals = pa.array(list(CRESCI_GROUPS.values()))
    idx = pc.index_in(codes, value_set=keys)
    label = pc.take(vals, idx)
    err = error_messages(pc.is_null(idx), "dataset", "unknown MIB group code", codes,
                         f" (known: {', '.join(CRESCI_GROUPS)})")
    return conform("labels", {
        "platform": platform.filter(keep), "account_id": account_ids.filter(keep),
        "label": label, "source": constant(CRESCI_SOURCE, n),
        "_line": lines.filter(keep), "_error": err}, n)


def sniff_twitter_csv(path: Path, head: bytes) -> float:
    """How much ``head`` looks like a CSV dump of Twitter user objects.

    Examples
    --------
    >>> sniff_twitter_csv(Path("u.csv"), b'"id","screen_name","followers_count"\\n')
    0.9
    """
    first = head.split(b"\n", 1)[0]
    if b"," not in first and b"\t" not in first:
        return 0.0
    try:
        names = set(read_header(path, head, sniff_delimiter(path, head)))
    except InputError:
        return 0.0
    if not ({"id", "id_str"} & names):
        return 0.0
    if "screen_name" in names and ({"followers_count", "friends_count", "statuses_count"}
                                   & names):
        return 0.9
    if "screen_name" in names:
        return 0.6
    return 0.0


class TwitterCsvReader(Reader):
    """CSV dumps of Twitter v1.1 user objects, such as the Cresci 2015 ``users.csv``.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "u.csv"
    >>> _ = p.write_text("id,screen_name,followers_count,created_at\\n"
    ...                  "1,a,-4,Fri Apr 06 10:58:22 +0000 2007\\n2,b,3,yesterday\\n")
    >>> from trueclout.ingest import iter_chunks
    >>> [e for c in iter_chunks(p, "twitter-csv") for e in c.batch.column("_error").to_pylist()]
    ['followers_count: negative count -4', "created_at: unparseable date 'yesterday'"]
    """

    name = "twitter-csv"
    description = "CSV dump of Twitter v1.1 user objects (Cresci 2015 users.csv and alike)"
    default_platform = "twitter"

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_dir():
            return 0.0
        return sniff_twitter_csv(path, head)

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        head = read_head(path)
        delim = sniff_delimiter(path, head)
        names = read_header(path, head, delim)
        mapped, extra = _columns_plan(path, names)
        platform = options.platform or self.default_platform
        src = str(path)
        out = Batcher("accounts", src, options.batch_rows)
        labels = Batcher("labels", src, options.batch_rows)
        for part in iter_csv(path, options.batch_rows, names, delim):
            n = part.num_rows
            if n:
                lines = pa.array(part.lines)
                cols: dict[str, Any] = {col: part.columns[name] for name, col in mapped.items()}
                errs: list[pa.Array] = []
                if extra:
                    texts = {}
                    for name in extra:
                        t, e = decode_utf8(part.columns[name], name)
                        errs.append(e)
                        texts[name] = clean_strings(t, _NULLS)
                    cols["extra"] = json_objects(texts, n)
                batch = to_batch("accounts", cols, n, lines=lines, platform=platform,
                                 null_tokens=_NULLS, empty_false=True, errors=errs)
                yield from out.add(batch)
                ids, plat = batch.column("account_id"), batch.column("platform")
                if "dataset" in part.columns:
                    t, _ = decode_utf8(part.columns["dataset"], "dataset")
                    yield from labels.add(cresci_labels(ids, clean_strings(t, _NULLS), lines,
                                                        plat))
                if "label" in part.columns:
                    t, _ = decode_utf8(part.columns["label"], "label")
                    yield from labels.add(label_rows(ids, clean_strings(t, _NULLS), lines,
                                                     plat, path.name))
            for line, msg in part.bad:
                yield from out.add(error_row("accounts", line, msg, platform=platform))
        yield from out.flush()
        yield from labels.flush()


register(TwitterCsvReader())
