"""The Botometer bot repository's layout: a folder of ``<name>.tsv`` label lists and
``<name>_tweets.json`` profiles.

Each data set of the bot repository (Yang et al. 2019, "Arming the public with
artificial intelligence to counter social bots"; OSoMe, Indiana University) is a folder
holding

* ``<name>.tsv``: ``user_id<TAB>bot|human`` per line (read by the ``label-list`` reader),
* ``<name>_tweets.json``: a JSON array of ``{"created_at": <when the profile was
  collected>, "user": <Twitter v1.1 user object>}`` (read by the ``twitter`` reader: the
  record's ``created_at`` becomes the profile's ``observed_at``, so account age and
  rates are measured at collection time).

The folder is one source and one load: the accounts of every JSON file, then the labels
of every label list, with the folder's name as the labels' source (``pronbots-2019``). A
label list without profiles still loads its labels (the accounts then have no profile);
ids labelled both ``bot`` and ``human`` within the set are refused by the store with a
reject row each.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import detect_format, iter_chunks
>>> d = Path(tempfile.mkdtemp()) / "political-bots-2019"; d.mkdir()
>>> _ = (d / "political-bots-2019.tsv").write_text("7\\tbot\\n")
>>> _ = (d / "political-bots-2019_tweets.json").write_text(json.dumps([
...     {"created_at": "Mon Apr 16 19:28:33 +0000 2018",
...      "user": {"id_str": "7", "screen_name": "b", "followers_count": 3}}]))
>>> detect_format(d)
'bot-repository'
>>> [(c.table, c.batch.num_rows) for c in iter_chunks(d)]
[('accounts', 1), ('labels', 1)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ._io import read_head
from .base import REGISTRY, Chunk, ReadOptions, Reader, register, set_name
from .labels import label_column_share

#: Suffix of the profile files beside a label list.
PROFILES_SUFFIX = "_tweets.json"


def repository_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The label lists and profile files of a bot repository folder (sorted).

    Examples
    --------
    >>> import tempfile
    >>> repository_files(Path(tempfile.mkdtemp()))
    ([], [])
    """
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    profiles = [p for p in files if p.name.endswith(PROFILES_SUFFIX)]
    lists = [p for p in files if p.suffix.lower() in (".tsv", ".txt", ".csv")
             and label_column_share(read_head(p))[0] == 1.0]
    return lists, profiles


class BotRepositoryReader(Reader):
    """A bot repository folder: label lists (``.tsv``) and their profiles
    (``*_tweets.json``), read as one source.

    Examples
    --------
    >>> import tempfile
    >>> BotRepositoryReader().sniff(Path(tempfile.mkdtemp()), b"")
    0.0
    """

    name = "bot-repository"
    description = ("Botometer bot repository folder: <name>.tsv labels and "
                   "<name>_tweets.json profiles")
    default_platform = "twitter"

    def sniff(self, path: Path, head: bytes) -> float:
        if not path.is_dir():
            return 0.0
        lists, profiles = repository_files(path)
        if not lists:
            return 0.0
        stems = {p.name[:-len(PROFILES_SUFFIX)] for p in profiles}
        return 0.95 if any(p.stem in stems for p in lists) else 0.0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        lists, profiles = repository_files(path)
        opts = ReadOptions(platform=options.platform or self.default_platform,
                           batch_rows=options.batch_rows,
                           label_source=set_name(path, options))
        for p in profiles:
            yield from REGISTRY["twitter"].read(p, opts)
        for p in lists:
            yield from REGISTRY["label-list"].read(p, opts)


register(BotRepositoryReader())
