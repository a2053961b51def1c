"""CSV dumps of Twitter API v1.1 user objects (Cresci et al. 2015 ``users.csv`` and alike).

Columns are mapped as in :data:`trueclout.ingest.twitter.V1_FIELDS` (``id`` or
``id_str`` → account_id, ``screen_name`` → handle, ``friends_count`` →
following_count, ``statuses_count`` → posts_count, ``favourites_count`` → likes_count),
plus the time the profile was collected → observed_at: ``crawled_at`` where the dump has
it (Cresci et al. 2017), else ``updated``. Every other column is kept, as JSON text, in
``extra``. ``created_at`` may also be epoch milliseconds with a Java ``L`` suffix
(``1183552203000L``, in the 2017 dumps).

Missing values, as these dumps write them: ``NULL`` or an empty field is a missing
value; booleans are ``"1"`` or empty, and empty means **false** (the dump left out
false values, so ``verified`` is false, not unknown).

Labels, with the data set's name as their source (:func:`~trueclout.ingest.base.set_name`:
the folder that holds the file, unless the load names another). A ``dataset`` column
holding the group codes of the MIB data set (Cresci et al. 2015, "Fame for sale",
Decision Support Systems 80) gives ``labels`` rows (:data:`CRESCI_GROUPS`):

=====  =========================================================  ======
code   group                                                      label
=====  =========================================================  ======
E13    #elezioni2013 accounts, verified by hand                   human
TFP    "The Fake Project" volunteers, verified                    human
INT    followers bought from intertwitter.com                     fake
FSF    followers bought from fastfollowerz.com                    fake
TWT    followers bought from twittertechnology.com                fake
=====  =========================================================  ======

An unknown code gives a labels row with ``_error`` set. A file of ids and group codes
alone (``id,dataset``, such as the BAS set's ``FAK_user_ids.csv``) gives labels only.
Without a ``dataset`` column, the
file's MIB group name gives every row its label (Cresci et al. 2017, "The paradigm-shift
of social spambots": ``users_<group>.csv`` or ``<group>.csv/users.csv``;
:data:`MIB_GROUPS`). A generic ``label`` column gives labels rows too, with the file name
as source.

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
>>> l.column("label").to_pylist(), l.column("source").to_pylist() == [p.parent.name] * 2
(['human', 'fake'], True)
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
from .base import Chunk, ReadOptions, Reader, register, set_name
from .generic import is_harmless, label_rows
from .normalize import clean_strings, constant, decode_utf8, error_messages, json_objects
from .twitter import V1_FIELDS

#: MIB group code (Cresci et al. 2015) → label.
CRESCI_GROUPS = {"E13": "human", "TFP": "human", "INT": "fake", "FSF": "fake", "TWT": "fake"}

#: MIB group (Cresci et al. 2017; the name of a ``users_<group>.csv`` file or of a
#: ``<group>.csv/`` folder) → label. ``genuine_acconts`` is the misspelling of a widely
#: mirrored copy.
MIB_GROUPS = {
    "genuine_accounts": "human", "genuine_acconts": "human", "fake_followers": "fake",
    **{f"social_spambots_{i}": "bot" for i in (1, 2, 3)},
    **{f"traditional_spambots_{i}": "bot" for i in (1, 2, 3, 4)},
}

#: CSV column → accounts column.
CSV_FIELDS = {**V1_FIELDS, "id": "account_id", "updated": "observed_at"}
#: Columns that say when the profile was collected, best first.
OBSERVED_COLUMNS = ("crawled_at", "updated")

_NULLS = ("", "NULL")


def mib_group_label(path: Path) -> str | None:
    """The label that a MIB file's group name gives each of its rows, or None.

    Examples
    --------
    >>> mib_group_label(Path("cresci-2017/users_social_spambots_2.csv"))
    'bot'
    >>> mib_group_label(Path("genuine_accounts.csv/users.csv"))
    'human'
    >>> mib_group_label(Path("users.csv")) is None
    True
    """
    stem = path.name.lower()
    for suffix in (".gz", ".csv"):
        stem = stem[:-len(suffix)] if stem.endswith(suffix) else stem
    if stem.startswith("users_") and stem[6:] in MIB_GROUPS:
        return MIB_GROUPS[stem[6:]]
    parent = path.parent.name.lower()
    if stem == "users" and parent.endswith(".csv") and parent[:-4] in MIB_GROUPS:
        return MIB_GROUPS[parent[:-4]]
    return None


def _columns_plan(path: Path, names: list[str]) -> tuple[dict[str, str], list[str]]:
    mapped: dict[str, str] = {}
    observed = next((c for c in OBSERVED_COLUMNS if c in names), None)
    if observed is not None:
        mapped[observed] = "observed_at"
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
                  platform: pa.Array, source: str = "cresci-2015") -> pa.RecordBatch:
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
        "label": label, "source": constant(source, n),
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
    if _labels_only(names):
        return 0.6
    return 0.0


def _labels_only(names: set[str] | list[str]) -> bool:
    """A file of ids and MIB group codes (or labels), no profile: a label file."""
    names = set(names)
    return bool(names & {"id", "id_str"}) and bool(names & {"dataset", "label"}) \
        and names <= {"id", "id_str", "dataset", "label"}


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
        group_label = mib_group_label(path)
        labels_only = _labels_only(names)  # ids with group codes: labels, no profiles
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
                if not labels_only:
                    yield from out.add(batch)
                ids, plat = batch.column("account_id"), batch.column("platform")
                if "dataset" in part.columns:
                    t, _ = decode_utf8(part.columns["dataset"], "dataset")
                    yield from labels.add(cresci_labels(ids, clean_strings(t, _NULLS), lines,
                                                        plat, set_name(path, options)))
                elif group_label is not None and "label" not in part.columns:
                    yield from labels.add(label_rows(ids, constant(group_label, n), lines,
                                                     plat, set_name(path, options)))
                if "label" in part.columns:
                    t, _ = decode_utf8(part.columns["label"], "label")
                    yield from labels.add(label_rows(ids, clean_strings(t, _NULLS), lines,
                                                     plat, path.name))
            for line, msg in part.bad:
                yield from (labels if labels_only else out).add(
                    error_row("labels" if labels_only else "accounts", line, msg,
                              platform=platform))
        yield from out.flush()
        yield from labels.flush()


register(TwitterCsvReader())
