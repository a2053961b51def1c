"""SNAP ego networks (ego-Twitter, McAuley & Leskovec, NIPS 2012), read as one source.

Layout (SNAP's ``twitter.tar.gz`` unpacked; the ``.feat`` files may instead be packed in
``twitter_feat_files.tar.gz`` beside or inside the folder, which is then read as a
stream, never unpacked to disk)::

    <folder>/twitter/<ego>.edges       "a b" per line: a follows b (alters of the ego)
    <folder>/twitter/<ego>.featnames   "index feature": hashtags (#...) and mentions (@...)
    <folder>/twitter/<ego>.egofeat     the ego's 0/1 feature vector
    <folder>/twitter/<ego>.feat        "alter f1 f2 ...": each alter's 0/1 vector
    <folder>/twitter/<ego>.circles     user-made lists (not read)
    <folder>/twitter_feat_files.tar.gz the .feat files, packed

The folder given may also be the ``twitter/`` folder itself.

Output:

* ``follows``: every line of the ``.edges`` files, plus ``ego → alter`` for every alter of
  the ego's ``.feat`` file (SNAP: "the ego follows every alter"). The same edge appears
  in several ego networks; each distinct edge is yielded **once**, with the ``source``
  and ``_line`` of its first occurrence (egos in sorted order; per ego its ``.edges``
  file, then its ``.feat`` file). Self-follows are yielded, and validation rejects them.
  On the published data this gives 81,306 accounts and 1,768,149 distinct edges, 14 of
  them self-follows (SNAP's ``twitter_combined.txt``).
* ``account_terms``: for each 1 in an ``.egofeat`` or ``.feat`` vector, the feature's
  name from ``.featnames`` (``#python``, ``@user``) as ``term``, source ``snap-ego``;
  distinct per (account, term).

Ids are deduplicated with numpy on integer codes; the feature vectors are scanned with
numpy over the raw bytes (only the 1s are looked at). Platform: the ``platform`` option,
else ``"twitter"``.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from trueclout.ingest import REGISTRY, ReadOptions
>>> d = Path(tempfile.mkdtemp()) / "twitter"; d.mkdir()
>>> _ = (d / "1.edges").write_text("2 3\\n3 2\\n")
>>> _ = (d / "1.featnames").write_text("0 #a\\n1 @b\\n")
>>> _ = (d / "1.egofeat").write_text("1 0\\n")
>>> _ = (d / "1.feat").write_text("2 0 1\\n3 1 1\\n")
>>> _ = (d / "9.edges").write_text("2 3\\n")
>>> r = REGISTRY["snap-ego"]
>>> r.sniff(d.parent, b"")
0.95
>>> chunks = list(r.read(d.parent, ReadOptions()))
>>> sum(c.batch.num_rows for c in chunks if c.table == "follows")
4
>>> sorted(t for c in chunks if c.table == "account_terms"
...        for t in c.batch.column("term").to_pylist())
['#a', '#a', '@b', '@b']
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..model import conform
from ._io import Batcher, error_row
from .base import Chunk, ReadOptions, Reader, register
from .edgelist import Fields
from .normalize import constant, decode_utf8, parse_ints

#: Source written into ``account_terms.source``.
TERM_SOURCE = "snap-ego"

#: Name of the archive of ``.feat`` files in the published mirror.
FEAT_ARCHIVE = "twitter_feat_files.tar.gz"


def find_layout(folder: Path) -> tuple[Path, Path | None] | None:
    """``(folder of .edges files, .feat archive or None)``, or None if not an ego layout.

    Examples
    --------
    >>> import tempfile
    >>> find_layout(Path(tempfile.mkdtemp())) is None
    True
    """
    if not folder.is_dir():
        return None
    for cand in (folder / "twitter", folder):
        if not cand.is_dir():
            continue
        names = {p.suffix for p in cand.iterdir() if p.is_file()}
        if ".edges" in names and (".featnames" in names or ".egofeat" in names):
            archive = None
            for a in (folder / FEAT_ARCHIVE, cand / FEAT_ARCHIVE):
                if a.is_file():
                    archive = a
                    break
            return cand, archive
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=str(path)) from None


def _featnames(path: Path) -> tuple[np.ndarray, pa.Array, list[tuple[int, str]]]:
    """Feature indexes and names of a ``.featnames`` file, and (line, error) of bad lines."""
    f = Fields.split(_read_bytes(path))
    rows = np.flatnonzero(f.counts > 0)
    cnt = f.counts[rows]
    good = rows[cnt >= 2]
    bad = [(int(r) + 1, "record: expected 'index feature'") for r in rows[cnt < 2]]
    idx_text = f.field(good, 0)
    idx, err = parse_ints(idx_text, "index")
    name = f.field(good, 1)
    many = f.counts[good] > 2
    if many.any():  # a name with spaces: join the rest of the fields (rare)
        joined = [" ".join(pc.take(f.tokens, pa.array(
            np.arange(f.starts[r] + 1, f.starts[r] + f.counts[r]))).to_pylist())
            for r in good[many].tolist()]
        name = pc.replace_with_mask(name, pa.array(many), pa.array(joined, pa.string()))
    if not f.ascii:
        name, nerr = decode_utf8(name.cast(pa.binary()), "term")
        err = pc.coalesce(err, nerr)
    okm = np.asarray(pc.is_null(err).to_numpy(zero_copy_only=False), bool)
    okm &= np.asarray(pc.is_valid(idx).to_numpy(zero_copy_only=False), bool)
    for r, e in zip(good[~okm].tolist(), err.filter(pa.array(~okm)).to_pylist()):
        bad.append((r + 1, e or "index: missing"))
    idx_np = np.asarray(idx.filter(pa.array(okm)).to_numpy(zero_copy_only=False), np.int64)
    neg = idx_np < 0
    if neg.any():
        okm_idx = np.flatnonzero(okm)
        for r in good[okm_idx[neg]].tolist():
            bad.append((r + 1, "index: negative feature index"))
        keep = ~neg
        return idx_np[keep], name.filter(pa.array(okm)).filter(pa.array(keep)), bad
    return idx_np, name.filter(pa.array(okm)), bad


class _Vectors:
    """0/1 feature vectors of one file: the account of each line and the 1s."""

    def __init__(self) -> None:
        self.ids: list[str] = []          # account per line (None for bad lines)
        self.id_lines: list[int] = []     # line number of each id
        self.one_line: np.ndarray = np.array([], np.int64)   # line number of each 1
        self.one_feat: np.ndarray = np.array([], np.int64)   # feature index of each 1
        self.bad: list[tuple[int, str, str | None]] = []     # (line, message, account)


def parse_vectors(data: bytes, width: int, with_id: bool) -> _Vectors:
    """Parse ``"[id] v1 v2 ... v_width"`` lines of 0/1 values.

    The fast path scans the bytes with numpy and looks only at the ``1`` characters;
    lines that do not have the exact expected shape are parsed one by one and reported
    if wrong.

    Examples
    --------
    >>> v = parse_vectors(b"7 0 1 1\\n8 1 0 0\\n9 1\\n", 3, True)
    >>> v.ids, v.one_line.tolist(), v.one_feat.tolist()
    (['7', '8'], [1, 1, 2], [1, 2, 0])
    >>> v.bad
    [(3, 'record: expected an account id and 3 values, got 1 values', '9')]
    """
    out = _Vectors()
    if not data.strip():
        return out
    if not data.endswith(b"\n"):
        data += b"\n"
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate([[0], nl[:-1] + 1])
    ends = nl.copy()  # exclusive, without the newline
    # trailing spaces / CR
    while True:
        trail = (ends > starts) & np.isin(buf[np.maximum(ends - 1, 0)], (32, 13))
        if not trail.any():
            break
        ends[trail] -= 1
    nonblank = ends > starts
    if with_id:
        first_sp = _first_space(buf, starts, ends)
        vec_start = first_sp + 1
    else:
        first_sp = starts - 1
        vec_start = starts
    # expected shape: exactly width values "v v v" -> 2*width - 1 characters
    if width:
        ok = nonblank & (ends - vec_start == 2 * width - 1)
    else:
        ok = nonblank & (ends <= vec_start)
    if with_id:
        ok &= first_sp > starts
    ones = np.flatnonzero(buf == 49)
    line_of = np.searchsorted(nl, ones)
    in_vec = ones >= vec_start[line_of]
    ones, line_of = ones[in_vec], line_of[in_vec]
    rel = ones - vec_start[line_of]
    # a 1 at an odd place: the line is not in the expected shape
    ok[np.unique(line_of[rel % 2 == 1])] = False
    if width:
        ok &= _layout_ok(buf, nl, vec_start, ok)
    keep = ok[line_of]
    out.one_line = line_of[keep].astype(np.int64) + 1
    out.one_feat = (rel[keep] // 2).astype(np.int64)
    lines_ok = np.flatnonzero(ok)
    if with_id:
        out.ids = [data[a:b].decode("utf-8", "replace") for a, b in
                   zip(starts[lines_ok].tolist(), first_sp[lines_ok].tolist())]
        out.id_lines = (lines_ok + 1).tolist()
    slow = np.flatnonzero(nonblank & ~ok)
    extra_lines, extra_feats = [], []
    for li in slow.tolist():
        text = data[starts[li]:ends[li]]
        parts = text.split()
        acct = None
        if with_id:
            try:
                acct = parts[0].decode("utf-8")
            except UnicodeDecodeError:
                out.bad.append((li + 1, "record: account id is not valid UTF-8", None))
                continue
            parts = parts[1:]
        if len(parts) != width:
            what = "an account id and " if with_id else ""
            out.bad.append((li + 1, f"record: expected {what}{width} values, got "
                                    f"{len(parts)} values", acct))
            continue
        if any(p not in (b"0", b"1") for p in parts):
            out.bad.append((li + 1, "record: feature values must be 0 or 1", acct))
            continue
        if with_id:
            out.ids.append(acct)
            out.id_lines.append(li + 1)
        for j, p in enumerate(parts):
            if p == b"1":
                extra_lines.append(li + 1)
                extra_feats.append(j)
    if extra_lines:
        out.one_line = np.concatenate([out.one_line, np.array(extra_lines, np.int64)])
        out.one_feat = np.concatenate([out.one_feat, np.array(extra_feats, np.int64)])
    return out


def _first_space(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Position of the first space of each line (``ends`` where there is none)."""
    out = ends.copy()
    if not len(starts):
        return out
    win = 24
    idx = np.minimum(starts[:, None] + np.arange(win), len(buf) - 1)
    hit = buf[idx] == 32
    found = hit.any(axis=1)
    pos = starts + hit.argmax(axis=1)
    ok = found & (pos < ends)
    out[ok] = pos[ok]
    for li in np.flatnonzero(~found).tolist():  # ids longer than the window (rare)
        k = bytes(buf[starts[li]:ends[li]]).find(b" ")
        if k >= 0:
            out[li] = starts[li] + k
    return out


def _layout_ok(buf: np.ndarray, nl: np.ndarray, vec_start: np.ndarray,
               ok: np.ndarray) -> np.ndarray:
    """For lines of the right length, check that the vector is "d d ... d", d in {0, 1}.

    A line of length 2w - 1 whose vector has only 0, 1 and single spaces between digits,
    and starts with a digit, alternates digit/space exactly. Only the rare bytes that
    break this are located (ids are excluded by starting at ``vec_start``).
    """
    res = ok.copy()
    digit = (buf == 48) | (buf == 49)
    space = buf == 32
    other = ~(digit | space | (buf == 10))
    twin = np.zeros(len(buf), bool)
    twin[:-1] = (digit[:-1] & digit[1:]) | (space[:-1] & space[1:])
    bad_pos = np.flatnonzero(other | twin)
    if len(bad_pos):
        line_of = np.searchsorted(nl, bad_pos)
        inside = bad_pos >= vec_start[line_of]
        res[np.unique(line_of[inside])] = False
    first_digit = digit[np.minimum(vec_start, len(buf) - 1)]
    res &= first_digit
    return res


class _Collector:
    """Rows of one table from many sources, in a global order, for dedupe."""

    def __init__(self) -> None:
        self.a: list[pa.Array] = []      # src / account ids
        self.b: list[pa.Array] = []      # dst ids / term codes (np arrays for terms)
        self.lines: list[np.ndarray] = []
        self.source: list[np.ndarray] = []
        self.errors: dict[int, list[tuple[int, str, str | None, str | None]]] = {}
        self.sources: list[str] = []

    def new_source(self, name: str) -> int:
        self.sources.append(name)
        return len(self.sources) - 1

    def add(self, src_idx: int, a, b, lines: np.ndarray) -> None:
        if len(lines):
            self.a.append(a)
            self.b.append(b)
            self.lines.append(np.asarray(lines, np.int64))
            self.source.append(np.full(len(lines), src_idx, np.int32))

    def error(self, src_idx: int, line: int | None, msg: str, a: str | None = None,
              b: str | None = None) -> None:
        self.errors.setdefault(src_idx, []).append((line, msg, a, b))


def _codes(*arrays: pa.Array) -> tuple[list[np.ndarray], pa.Array]:
    """Dictionary codes of string arrays over one shared dictionary."""
    lens = [len(a) for a in arrays]
    allv = pa.chunked_array([a for a in arrays if len(a)] or [pa.array([], pa.string())],
                            type=pa.string()).combine_chunks()
    enc = pc.dictionary_encode(allv)
    idx = enc.indices.to_numpy().astype(np.int64)
    out, pos = [], 0
    for n in lens:
        out.append(idx[pos:pos + n])
        pos += n
    return out, enc.dictionary


def _first_occurrences(key: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct key, in input order."""
    _, first = np.unique(key, return_index=True)
    first.sort()
    return first


class SnapEgoReader(Reader):
    """SNAP ego-Twitter folder: follows (edges + ego→alter) and hashtag/mention terms.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "5.edges").write_text("1 1\\n1 2\\n")
    >>> _ = (d / "5.featnames").write_text("0 #x\\n")
    >>> from trueclout.ingest import iter_chunks
    >>> errs = [e for c in iter_chunks(d, "snap-ego") for e in c.batch.column("_error").to_pylist()]
    >>> [e for e in errs if e]
    ['dst: self-follow (src == dst)']
    """

    name = "snap-ego"
    description = ("SNAP ego-network folder (ego-Twitter): <ego>.edges, .feat(names), "
                   ".egofeat, optionally twitter_feat_files.tar.gz")
    default_platform = "twitter"

    def sniff(self, path: Path, head: bytes) -> float:
        return 0.95 if find_layout(Path(path)) is not None else 0.0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Chunk]:
        path = Path(path)
        layout = find_layout(path)
        if layout is None:
            raise InputError("not a SNAP ego-network folder (no <ego>.edges with "
                             "<ego>.featnames files)", path=str(path))
        folder, archive = layout
        platform = options.platform or self.default_platform
        egos = sorted({p.stem for p in folder.iterdir()
                       if p.suffix in (".edges", ".featnames", ".egofeat", ".feat")})
        follows = _Collector()
        terms = _Collector()
        term_list: list[str] = []
        featnames: dict[str, np.ndarray] = {}  # ego -> global term code per feature index

        # 1. featnames (one term dictionary over all egos) and .edges files
        edge_parts: dict[str, tuple] = {}
        fn_parts: dict[str, tuple[np.ndarray, pa.Array]] = {}
        for ego in egos:
            fn = folder / f"{ego}.featnames"
            if fn.is_file():
                idx, names, bad = _featnames(fn)
                fn_parts[ego] = (idx, names)
                if bad:
                    si = terms.new_source(str(fn))
                    for line, msg in bad:
                        terms.error(si, line, msg)
            ef = folder / f"{ego}.edges"
            if ef.is_file():
                edge_parts[ego] = self._edges(ef)
        if fn_parts:
            all_names = pa.chunked_array([n for _, n in fn_parts.values()],
                                         type=pa.string()).combine_chunks()
            enc = pc.dictionary_encode(all_names)
            term_list = enc.dictionary.to_pylist()
            codes_all = enc.indices.to_numpy().astype(np.int64)
            pos = 0
            for ego, (idx, names) in fn_parts.items():
                k = len(names)
                codes = np.full(int(idx.max()) + 1 if k else 0, -1, np.int64)
                codes[idx] = codes_all[pos:pos + k]
                pos += k
                featnames[ego] = codes
        fn_parts.clear()
        # 2. .feat vectors: from the archive (streamed) or beside the .edges files
        feats: dict[str, tuple[str, _Vectors | None, str | None]] = {}
        broken: str | None = None
        if archive is not None:
            try:
                for member, data in _iter_archive(archive):
                    ego = Path(member).stem
                    if not member.endswith(".feat"):
                        continue
                    feats[ego] = self._vectors(f"{archive}:{member}", data, ego, featnames,
                                               True)
            except InputError as exc:
                broken = exc.message
        for ego in egos:
            f = folder / f"{ego}.feat"
            if ego not in feats and f.is_file():
                feats[ego] = self._vectors(str(f), _read_bytes(f), ego, featnames, True)
        # 3. assemble in ego order: .edges, then ego -> alters of .feat; terms: .egofeat,
        #    then .feat
        for ego in egos:
            if ego in edge_parts:
                name, src, dst, lines, bad = edge_parts[ego]
                si = follows.new_source(name)
                follows.add(si, src, dst, lines)
                for line, msg, a, b in bad:
                    follows.error(si, line, msg, a, b)
            eg = folder / f"{ego}.egofeat"
            if eg.is_file():
                name, vec, err = self._vectors(str(eg), _read_bytes(eg), ego, featnames,
                                               False)
                self._add_terms(terms, name, vec, err, ego, featnames, is_ego=True)
            if ego in feats:
                name, vec, err = feats[ego]
                if vec is not None and vec.ids:
                    si = follows.new_source(name)
                    n = len(vec.ids)
                    follows.add(si, constant(ego, n), pa.array(vec.ids, pa.string()),
                                np.asarray(vec.id_lines, np.int64))
                self._add_terms(terms, name, vec, err, ego, featnames, is_ego=False)
        if broken is not None:
            # keep what was read; say that the rest of the archive is missing
            si = follows.new_source(str(archive))
            follows.error(si, None, f"file: {broken}; the .feat files after "
                                    f"{len(feats)} members are missing")
        yield from self._emit_follows(follows, platform, options)
        yield from self._emit_terms(terms, term_list, platform, options)

    # -- parsing ---------------------------------------------------------------------------
    @staticmethod
    def _edges(path: Path):
        """Parse one ``.edges`` file: (name, src, dst, line numbers, bad lines)."""
        f = Fields.split(_read_bytes(path))
        rows = np.flatnonzero((f.counts > 0) & ~f.comment)
        cnt = f.counts[rows]
        bad = [(int(r) + 1, f"record: expected 2 fields (src dst), got {int(c)}", None, None)
               for r, c in zip(rows[cnt != 2], cnt[cnt != 2])]
        good = rows[cnt == 2]
        src, dst = f.field(good, 0), f.field(good, 1)
        if not f.ascii:
            src, e1 = decode_utf8(src.cast(pa.binary()), "src")
            dst, e2 = decode_utf8(dst.cast(pa.binary()), "dst")
            err = pc.coalesce(e1, e2)
            if err.null_count < len(err):
                ok = pc.is_null(err)
                for r, e in zip(good[~np.asarray(ok.to_numpy(zero_copy_only=False), bool)],
                                err.drop_null().to_pylist()):
                    bad.append((int(r) + 1, e, None, None))
                src, dst = src.filter(ok), dst.filter(ok)
                good = good[np.asarray(ok.to_numpy(zero_copy_only=False), bool)]
        return str(path), src, dst, good.astype(np.int64) + 1, bad

    @staticmethod
    def _vectors(name: str, data: bytes, ego: str, featnames: dict, with_id: bool):
        codes = featnames.get(ego)
        if codes is None:
            # without feature names the vectors cannot be read; the alters still count
            vec = parse_vectors(data, _width_guess(data, with_id), with_id)
            return name, vec, f"file: no {ego}.featnames to name the features of this file"
        return name, parse_vectors(data, len(codes), with_id), None

    @staticmethod
    def _add_terms(terms: _Collector, name: str, vec: _Vectors | None, err: str | None,
                   ego: str, featnames: dict, is_ego: bool) -> None:
        si = terms.new_source(name)
        if err is not None or vec is None:
            terms.error(si, 1, err or "file: unreadable")
            return
        for line, msg, acct in vec.bad:
            terms.error(si, line, msg, acct)
        if not len(vec.one_line):
            return
        codes = featnames[ego]
        t = codes[vec.one_feat]
        named = t >= 0
        if not named.all():
            for line in np.unique(vec.one_line[~named]).tolist():
                terms.error(si, int(line), "term: feature without a name in .featnames",
                            None)
        lines = vec.one_line[named]
        t = t[named]
        if is_ego:
            accts = constant(ego, len(lines))
        else:
            # account of each 1: the id on its line
            id_lines = np.asarray(vec.id_lines, np.int64)
            if len(id_lines) > 1 and (np.diff(id_lines) < 0).any():
                order = np.argsort(id_lines, kind="stable")
                pos = order[np.searchsorted(id_lines[order], lines)]
            else:
                pos = np.searchsorted(id_lines, lines)
            accts = pc.take(pa.array(vec.ids, pa.string()), pa.array(pos))
        terms.add(si, accts, t, lines)

    # -- output ----------------------------------------------------------------------------
    @staticmethod
    def _emit(table: str, coll: _Collector, platform: str, options: ReadOptions,
              first: np.ndarray, a: pa.Array, b: pa.Array, b_name: str, a_name: str,
              extra: dict | None = None) -> Iterator[Chunk]:
        """Yield the kept rows (``first``, in order) and the errors, per source."""
        lines = np.concatenate(coll.lines)[first] if coll.lines else np.array([], np.int64)
        srcs = np.concatenate(coll.source)[first] if coll.source else np.array([], np.int32)
        a = pc.take(a, pa.array(first)) if len(first) else pa.array([], pa.string())
        b = pc.take(b, pa.array(first)) if len(first) else pa.array([], pa.string())
        bounds = np.flatnonzero(np.diff(srcs)) + 1
        starts = np.concatenate([[0], bounds]) if len(srcs) else np.array([], np.int64)
        stops = np.concatenate([bounds, [len(srcs)]]) if len(srcs) else np.array([], np.int64)
        by_source: dict[int, tuple[int, int]] = {int(srcs[s]): (int(s), int(e))
                                                 for s, e in zip(starts, stops)}
        for si, name in enumerate(coll.sources):
            out = Batcher(table, name, options.batch_rows)
            if si in by_source:
                s, e = by_source[si]
                n = e - s
                cols = {"platform": constant(platform, n), a_name: a.slice(s, n),
                        b_name: b.slice(s, n), "_line": pa.array(lines[s:e])}
                if extra:
                    cols.update({k: constant(v, n) for k, v in extra.items()})
                yield from out.add(conform(table, cols, n))
            for line, msg, x, y in coll.errors.get(si, []):
                vals = {"platform": platform, a_name: x}
                if y is not None:
                    vals[b_name] = y
                if extra:
                    vals.update(extra)
                yield from out.add(error_row(table, line, msg, **vals))
            yield from out.flush()

    def _emit_follows(self, coll: _Collector, platform: str,
                      options: ReadOptions) -> Iterator[Chunk]:
        if coll.a:
            src = pa.chunked_array(coll.a, type=pa.string()).combine_chunks()
            dst = pa.chunked_array(coll.b, type=pa.string()).combine_chunks()
            (cs, cd), dictionary = _codes(src, dst)
            key = cs * np.int64(len(dictionary)) + cd
            first = _first_occurrences(key)
        else:
            src = dst = pa.array([], pa.string())
            first = np.array([], np.int64)
        yield from self._emit("follows", coll, platform, options, first, src, dst,
                              "dst", "src")

    def _emit_terms(self, coll: _Collector, term_list: list[str], platform: str,
                    options: ReadOptions) -> Iterator[Chunk]:
        if coll.a:
            acct = pa.chunked_array(coll.a, type=pa.string()).combine_chunks()
            tcode = np.concatenate(coll.b).astype(np.int64)
            (ca,), _ = _codes(acct)
            key = ca * np.int64(max(len(term_list), 1)) + tcode
            first = _first_occurrences(key)
            term = pc.take(pa.array(term_list, pa.string()), pa.array(tcode))
        else:
            acct = term = pa.array([], pa.string())
            first = np.array([], np.int64)
        yield from self._emit("account_terms", coll, platform, options, first, acct, term,
                              "term", "account_id", extra={"source": TERM_SOURCE})


def _width_guess(data: bytes, with_id: bool) -> int:
    first = data.split(b"\n", 1)[0].split()
    return max(len(first) - (1 if with_id else 0), 0)


def _iter_archive(archive: Path) -> Iterator[tuple[str, bytes]]:
    """``(member name, bytes)`` of the regular files of a tar.gz, streamed."""
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                f = tar.extractfile(member)
                if f is None:  # pragma: no cover - regular files always have data
                    continue
                yield member.name, f.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"cannot read the archive ({exc})", path=str(archive)) from None


register(SnapEgoReader())
