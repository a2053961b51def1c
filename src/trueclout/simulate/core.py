"""``simulate``: run the whole simulator and write a trueclout folder.

Stages, each streamed block by block into Parquet (see :mod:`.writer`):

1. population (:mod:`.population`): per-account arrays and the planted attacks;
2. handles (:mod:`.names`), unique over the platform;
3. posts (:mod:`.activity`), whose times later anchor the interactions;
4. organic follows and the interactions along them (:mod:`.follows`, :mod:`.activity`);
5. attack follows and pod interactions;
6. accounts (final counts from the follows actually written), labels, snapshots,
   and ``manifest.json``.

The folder is built under a temporary name next to ``out_dir`` and renamed at the end, so
a crash never leaves a half-written folder under the requested name.

Examples
--------
>>> import tempfile, os
>>> from trueclout.simulate import simulate
>>> d = os.path.join(tempfile.mkdtemp(), "sim")
>>> s = simulate(d, accounts=600, seed=1)
>>> s["format"], s["rows"]["accounts"]
('trueclout-dir', 600)
>>> sorted(os.listdir(d))[:3]
['accounts.parquet', 'follows', 'interactions']
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr

from .. import config
from ..errors import UsageError
from . import names
from .activity import LIKE, Interactions, edge_interactions, pod_interactions, posts_block
from .follows import BLOCK, Edges, farm_edges, organic_block, pod_edges, seller_edges
from .params import SimParams
from .population import FAKE, FARM, HUMAN, ROLE_LABELS, Population, build_population
from .reference import sample_quantiles
from .rng import block_rng
from .writer import PartWriter, const_strings, id_strings, timestamps

#: Platform name of every simulated row.
PLATFORM = "sim"
#: Account ids are ``ACCOUNT_PREFIX + str(ACCOUNT_BASE + index)``, e.g. ``u1000123``.
ACCOUNT_PREFIX = "u"
ACCOUNT_BASE = 1_000_000
FORMAT = "trueclout-dir"
FORMAT_VERSION = 1
Progress = Callable[[str, int, int], None]


def account_ids(index: np.ndarray) -> pa.Array:
    """Account id strings of account indices.

    Examples
    --------
    >>> import numpy as np
    >>> account_ids(np.array([0, 123])).to_pylist()
    ['u1000000', 'u1000123']
    """
    return id_strings(ACCOUNT_PREFIX, np.asarray(index, dtype=np.int64) + ACCOUNT_BASE)


@numba.njit(cache=True, nogil=True)
def _scatter_add(target, idx, value):  # pragma: no cover - compiled
    for i in range(idx.shape[0]):
        target[idx[i]] += value


def scatter_add(target: np.ndarray, idx: np.ndarray, value: int = 1) -> None:
    """``target[idx] += value`` with repeated indices counted (``np.add.at``), compiled.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.zeros(3, dtype=np.int64)
    >>> scatter_add(t, np.array([0, 2, 2]))
    >>> t.tolist()
    [1, 0, 2]
    """
    if len(idx):
        _scatter_add(target.reshape(-1), np.ascontiguousarray(idx, dtype=np.int64),
                     target.dtype.type(value))


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def ordered_map(fn: Callable[[int], Any], n: int, workers: int) -> Any:
    """Yield ``fn(0), fn(1), ...`` in order, computed by ``workers`` threads ahead.

    Examples
    --------
    >>> list(ordered_map(lambda i: i * i, 4, 2))
    [0, 1, 4, 9]
    """
    if workers <= 1:
        for i in range(n):
            yield fn(i)
        return
    with ThreadPoolExecutor(max_workers=workers) as ex:
        pending: deque = deque()
        for i in range(n):
            pending.append(ex.submit(fn, i))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _Counters:
    """Final degrees and per-snapshot increments, accumulated while edges stream by."""

    def __init__(self, pop: Population, times: np.ndarray, snap_ids: np.ndarray) -> None:
        n = pop.n
        self.times = times
        self.nt = len(times)
        self.indeg = np.zeros(n, dtype=np.int64)
        self.outdeg = np.zeros(n, dtype=np.int64)
        self.likes_given = np.zeros(n, dtype=np.int64)
        self.snap_ids = snap_ids
        self.row = np.full(n, -1, dtype=np.int64)
        self.row[snap_ids] = np.arange(len(snap_ids))
        shape = (len(snap_ids), self.nt)
        self.fol = np.zeros(shape, dtype=np.int32)
        self.fing = np.zeros(shape, dtype=np.int32)
        self.posts = np.zeros(shape, dtype=np.int32)
        self.likes = np.zeros(shape, dtype=np.int32)

    def _bin(self, hist: np.ndarray, who: np.ndarray, t: np.ndarray, sign: int) -> None:
        r = self.row[who]
        sel = r >= 0
        if sel.any():
            b = np.searchsorted(self.times, t[sel], side="left")
            scatter_add(hist, r[sel] * self.nt + b, sign)

    def edges(self, e: Edges) -> None:
        live = e.removed < 0
        scatter_add(self.indeg, e.dst[live])
        scatter_add(self.outdeg, e.src[live])
        self._bin(self.fol, e.dst, e.created, 1)
        self._bin(self.fing, e.src, e.created, 1)
        if not live.all():
            gone = ~live
            self._bin(self.fol, e.dst[gone], e.removed[gone], -1)
            self._bin(self.fing, e.src[gone], e.removed[gone], -1)

    def interactions(self, x: Interactions) -> None:
        likes = x.kind == LIKE
        scatter_add(self.likes_given, x.src[likes])
        self._bin(self.likes, x.src[likes], x.created[likes], 1)

    def posts_made(self, author: np.ndarray, t: np.ndarray) -> None:
        self._bin(self.posts, author, t, 1)


class _Run:
    def __init__(self, pop: Population, folder: Path, progress: Progress | None,
                 workers: int) -> None:
        self.workers = workers
        self.pop = pop
        self.p = pop.params
        self.folder = folder
        self.progress = progress or (lambda stage, done, total: None)
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.end = self.p.end_us()
        self.times = np.array(self.p.snapshot_times(), dtype=np.int64)
        self.n_blocks = (pop.n + BLOCK - 1) // BLOCK
        self.post_time = np.zeros(int(pop.post_start[-1]), dtype=np.int64)
        self.stats: dict[str, int] = {}
        self.counters = _Counters(pop, self.times, self._snapshot_ids())
        self.writers: dict[str, PartWriter] = {}

    def writer(self, table: str, single: bool = False) -> PartWriter:
        if table not in self.writers:
            self.writers[table] = PartWriter(self.folder, table, self.p.part_rows,
                                             self.p.row_group_rows, single_file=single,
                                             executor=self.executor)
        return self.writers[table]

    def _snapshot_ids(self) -> np.ndarray:
        pop, p = self.pop, self.p
        if pop.n <= p.snapshot_all_max:
            return np.arange(pop.n, dtype=np.int64)
        truth = (pop.role != HUMAN) | pop.customer | pop.fast
        rest = np.flatnonzero(~truth)
        rng = block_rng(p.seed, "sample")
        sample = rng.choice(rest, size=min(p.snapshot_sample, len(rest)), replace=False)
        return np.sort(np.concatenate([np.flatnonzero(truth), sample]))

    # --- stages -----------------------------------------------------------------------
    def name_block(self, b: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        pop = self.pop
        lo, hi = b * BLOCK, min(pop.n, (b + 1) * BLOCK)
        rng = block_rng(self.p.seed, "handles", b)
        first, last = names.person_names(rng, hi - lo)
        fake = pop.role[lo:hi] == FAKE
        return first, last, names.handles(rng, first, last, fake)

    def make_handles(self) -> None:
        raw = [nb[2] for nb in ordered_map(self.name_block, self.n_blocks, self.workers)]
        allh = pa.concat_arrays(raw) if raw else pa.array([], pa.string())
        self.handles = names.unique_handles(allh, np.arange(self.pop.n))

    def make_posts(self) -> None:
        w = self.writer("posts")

        def job(b: int) -> Any:
            pb = posts_block(self.pop, b, self.post_time, self.handles, PLATFORM,
                             ACCOUNT_PREFIX, ACCOUNT_BASE)
            return pb, self.interaction_columns(pb.mentions)

        for b, (pb, xcols) in enumerate(ordered_map(job, self.n_blocks, self.workers)):
            w.write(pb.columns)
            self.counters.posts_made(pb.author, pb.created)
            self.write_interactions(pb.mentions, xcols)
            self.progress("posts", b + 1, self.n_blocks)

    def edge_columns(self, e: Edges) -> dict[str, pa.Array]:
        m = len(e)
        return {"platform": const_strings(PLATFORM, m),
                "src": account_ids(e.src), "dst": account_ids(e.dst),
                "created_at": timestamps(e.created),
                "removed_at": timestamps(np.maximum(e.removed, 0), e.removed >= 0),
                "observed_at": timestamps(np.full(m, self.end, dtype=np.int64))}

    def interaction_columns(self, x: Interactions) -> dict[str, pa.Array]:
        return x.to_columns(PLATFORM, ACCOUNT_PREFIX, ACCOUNT_BASE)

    def write_edges(self, e: Edges, columns: dict[str, pa.Array] | None = None) -> None:
        if not len(e):
            return
        self.counters.edges(e)
        self.writer("follows").write(columns or self.edge_columns(e))

    def write_interactions(self, x: Interactions,
                           columns: dict[str, pa.Array] | None = None) -> None:
        if not len(x):
            return
        self.counters.interactions(x)
        self.writer("interactions").write(columns or self.interaction_columns(x))

    def make_follows(self) -> None:
        mutual = viral = 0

        def job(b: int) -> Any:
            e = organic_block(self.pop, b)
            x = edge_interactions(self.pop, b, e, self.post_time)
            return e, self.edge_columns(e), x, self.interaction_columns(x)

        for b, (e, ecols, x, xcols) in enumerate(ordered_map(job, self.n_blocks,
                                                              self.workers)):
            mutual += e.n_mutual
            viral += e.n_viral
            self.write_edges(e, ecols)
            self.write_interactions(x, xcols)
            self.progress("follows", b + 1, self.n_blocks)
        self.stats["organic_follows"] = int(self.writer("follows").rows)
        self.stats["mutual_pairs"] = int(mutual)
        self.stats["viral_follows"] = int(viral)

    def make_attacks(self) -> None:
        pop = self.pop
        units = len(pop.sellers) + len(pop.farms) + len(pop.pods)
        done = 0
        bought = camo = 0
        for s in range(len(pop.sellers)):
            e = seller_edges(pop, s)
            to_customer = pop.customer[e.dst]
            bought += int(to_customer.sum())
            camo += int((~to_customer & (pop.role[e.dst] != FAKE)).sum())
            self.write_edges(e)
            done += 1
            self.progress("attacks", done, units)
        farm_out = farm_back = farm_removed = 0
        for f in range(len(pop.farms)):
            e = farm_edges(pop, f)
            out = e.src == pop.farms[f]
            farm_out += int(out.sum())
            farm_back += int((~out).sum())
            farm_removed += int((e.removed >= 0).sum())
            self.write_edges(e)
            done += 1
            self.progress("attacks", done, units)
        pod_follows = pod_x = 0
        for i in range(len(pop.pods)):
            e = pod_edges(pop, i)
            x = pod_interactions(pop, i, self.post_time)
            pod_follows += len(e)
            pod_x += len(x)
            self.write_edges(e)
            self.write_interactions(x)
            done += 1
            self.progress("attacks", done, units)
        self.stats.update(purchased_follows=bought, camouflage_follows=camo,
                          farm_follows=farm_out, farm_followbacks=farm_back,
                          farm_unfollows=farm_removed, pod_follows=pod_follows,
                          pod_interactions=pod_x)

    def final_counts(self) -> dict[str, np.ndarray]:
        """Profile counts: followers/following from the graph (x count_scale); posts,
        likes and lists from the Cresci marginals, never below what the tables show."""
        pop, p = self.pop, self.p
        n = pop.n
        rng = block_rng(p.seed, "counts")
        fake = pop.role == FAKE
        honest = ~fake
        maturity = np.minimum(1.0, pop.age_days / 730.0)
        u_posts = ndtr(pop.z_act)
        u_likes = ndtr(0.6 * pop.z_act + 0.8 * rng.standard_normal(n))
        u_listed = ndtr(0.8 * pop.z_pop + 0.6 * rng.standard_normal(n))
        u_fake = rng.random((3, n))
        posts = np.where(honest, sample_quantiles("human", "posts_count", u_posts) * maturity,
                         sample_quantiles("fake", "posts_count", u_fake[0])).astype(np.int64)
        likes = np.where(honest, sample_quantiles("human", "likes_count", u_likes) * maturity,
                         sample_quantiles("fake", "likes_count", u_fake[1])).astype(np.int64)
        listed = np.where(honest, sample_quantiles("human", "listed_count", u_listed),
                          sample_quantiles("fake", "listed_count", u_fake[2])).astype(np.int64)
        c = self.counters
        posts = np.maximum(posts, pop.n_posts)
        likes = np.maximum(likes, c.likes_given)
        scale = p.count_scale
        return {"followers_count": np.rint(c.indeg * scale).astype(np.int64),
                "following_count": np.rint(c.outdeg * scale).astype(np.int64),
                "posts_count": posts, "likes_count": likes, "listed_count": listed,
                "bg_posts": posts - pop.n_posts, "bg_likes": likes - c.likes_given}

    def make_accounts(self, counts: dict[str, np.ndarray]) -> None:
        pop, p = self.pop, self.p
        w = self.writer("accounts", single=True)
        q_verified = np.quantile(pop.w[pop.w > 0], 0.999) if (pop.w > 0).any() else np.inf
        langs = pa.array(names.LANGS)

        def job(b: int) -> dict[str, pa.Array]:
            lo, hi = b * BLOCK, min(pop.n, (b + 1) * BLOCK)
            m = hi - lo
            idx = np.arange(lo, hi, dtype=np.int64)
            rng = block_rng(p.seed, "profiles", b)
            role = pop.role[lo:hi]
            fake = role == FAKE
            first, last, _ = self.name_block(b)
            handle = self.handles.slice(lo, m)
            share = lambda h, f, farm=None: np.where(  # noqa: E731
                fake, f, np.where(role == FARM, h if farm is None else farm, h))
            desc_p = rng.random(m) < share(0.988, 0.811)
            url_p = rng.random(m) < share(0.313, 0.0, 0.6)
            loc_p = rng.random(m) < share(0.668, 0.959)
            dpi = rng.random(m) < share(0.003, p.fake_default_image_share)
            cw = pop.comm_words[np.maximum(pop.comm[lo:hi], 0)]
            comm = pop.comm[lo:hi]
            extra = pc.binary_join_element_wise(id_strings('{"community": ', np.maximum(comm, 0)),
                                                const_strings("}", m), "")
            extra = pc.if_else(pa.array(comm >= 0), extra, pa.nulls(m, pa.string()))
            cols = {
                "platform": const_strings(PLATFORM, m),
                "account_id": account_ids(idx),
                "handle": handle,
                "name": names.display_names(rng, first, last, fake),
                "description": names.descriptions(rng, cw, fake, desc_p),
                "url": names.urls(handle, url_p),
                "location": names.locations(rng, fake, loc_p),
                "lang": langs.take(pa.array(pop.lang[lo:hi].astype(np.int64))),
                "created_at": timestamps(pop.created[lo:hi]),
                "verified": pa.array((pop.w[lo:hi] >= q_verified) & (role == HUMAN)),
                "protected": pa.array(np.zeros(m, dtype=bool)),
                "default_profile_image": pa.array(dpi),
                "declared_bot": pa.array(np.zeros(m, dtype=bool)),
                "observed_at": timestamps(np.full(m, self.end, dtype=np.int64)),
                "extra": extra,
            }
            for k in ("followers_count", "following_count", "posts_count", "listed_count",
                      "likes_count"):
                cols[k] = pa.array(counts[k][lo:hi])
            return cols

        for b, cols in enumerate(ordered_map(job, self.n_blocks, self.workers)):
            w.write(cols)
            self.progress("accounts", b + 1, self.n_blocks)

    def make_labels(self) -> dict[str, int]:
        pop = self.pop
        w = self.writer("labels", single=True)
        label_names = pa.array([ROLE_LABELS[i] for i in range(4)] + ["customer", "fast_growth"])
        acc = [np.arange(pop.n, dtype=np.int64), pop.customers, pop.fast_ids]
        code = [pop.role.astype(np.int64), np.full(len(pop.customers), 4, np.int64),
                np.full(len(pop.fast_ids), 5, np.int64)]
        a = np.concatenate(acc)
        c = np.concatenate(code)
        order = np.lexsort((c, a))
        a, c = a[order], c[order]
        for lo in range(0, len(a), 1_000_000):
            sl = slice(lo, lo + 1_000_000)
            m = len(a[sl])
            w.write({"platform": const_strings(PLATFORM, m), "account_id": account_ids(a[sl]),
                     "label": label_names.take(pa.array(c[sl])),
                     "source": const_strings("simulator", m)})
        counts = np.bincount(c, minlength=6)
        return {label_names[i].as_py(): int(counts[i]) for i in range(6)}

    def make_snapshots(self, counts: dict[str, np.ndarray]) -> None:
        pop, p, c = self.pop, self.p, self.counters
        w = self.writer("profile_snapshots")
        ids = c.snap_ids
        total = len(ids)
        step = max(1, 2_000_000 // max(c.nt, 1))
        scale = p.count_scale
        for lo in range(0, total, step):
            who = ids[lo:lo + step]
            r = np.arange(lo, lo + len(who))
            created = pop.created[who][:, None]
            t = self.times[None, :]
            exists = t >= created
            fol = np.cumsum(c.fol[r], axis=1)
            fing = np.cumsum(c.fing[r], axis=1)
            life = np.clip((t - created) / np.maximum(self.end - created, 1), 0.0, 1.0)
            posts = (np.rint(counts["bg_posts"][who][:, None] * life).astype(np.int64)
                     + np.cumsum(c.posts[r], axis=1))
            likes = (np.rint(counts["bg_likes"][who][:, None] * life).astype(np.int64)
                     + np.cumsum(c.likes[r], axis=1))
            followers = np.rint(fol * scale).astype(np.int64)
            final_f = np.maximum(counts["followers_count"][who][:, None], 1)
            listed = np.minimum(np.rint(counts["listed_count"][who][:, None]
                                        * followers / final_f),
                                counts["listed_count"][who][:, None]).astype(np.int64)
            listed[:, -1] = counts["listed_count"][who]
            aw, tw = np.nonzero(exists)
            m = len(aw)
            w.write({"platform": const_strings(PLATFORM, m),
                     "account_id": account_ids(who[aw]),
                     "observed_at": timestamps(self.times[tw]),
                     "followers_count": pa.array(followers[aw, tw]),
                     "following_count": pa.array(np.rint(fing[aw, tw] * scale).astype(np.int64)),
                     "posts_count": pa.array(posts[aw, tw]),
                     "listed_count": pa.array(listed[aw, tw]),
                     "likes_count": pa.array(likes[aw, tw])})
            self.progress("snapshots", min(total, lo + step), total)

    def close(self) -> dict[str, dict[str, Any]]:
        tables = {}
        for name in ("accounts", "profile_snapshots", "follows", "posts", "interactions",
                     "labels"):
            wr = self.writers.get(name) or self.writer(name, single=name in ("accounts",
                                                                               "labels"))
            rows = wr.close()
            path = f"{name}.parquet" if wr.single_file else name
            tables[name] = {"path": path, "rows": int(rows), "files": wr.parts}
        self.executor.shutdown()
        return tables


def _prepare(out: Path, overwrite: bool) -> Path:
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"{out} exists and is not a folder")
        entries = list(out.iterdir())
        if entries:
            manifest = out / "manifest.json"
            ours = False
            if manifest.is_file():
                try:
                    ours = json.loads(manifest.read_text()).get("format") == FORMAT
                except (ValueError, OSError):
                    ours = False
            if not ours:
                raise UsageError(f"{out} is not empty and is not a simulated trueclout folder; "
                                 "choose another folder")
            if not overwrite:
                raise UsageError(f"{out} already holds a simulation; pass overwrite=True "
                                 "to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def simulate(out_dir: str | os.PathLike, accounts: int | None = None, seed: int | None = None,
             progress: Progress | None = None, *, overwrite: bool = False,
             workers: int | None = None, **params: Any) -> dict[str, Any]:
    """Simulate a social platform with planted fraud and write it as a trueclout folder.

    Parameters
    ----------
    out_dir : str or Path
        Folder to create. It must not exist, be empty, or (with ``overwrite=True``) hold
        an earlier simulation.
    accounts : int, optional
        Number of accounts; the ``sim_accounts`` setting (50,000) by default.
    seed : int, optional
        Seed; the ``sim_seed`` setting (0) by default. The same seed and parameters give
        the same rows.
    progress : callable, optional
        Called as ``progress(stage, done, total)`` as blocks complete.
    overwrite : bool
        Replace a folder that holds an earlier simulation.
    workers : int, optional
        Threads generating blocks (default: up to 2, by the CPUs available). The rows do
        not depend on it.
    **params
        Any field of :class:`~trueclout.simulate.params.SimParams`.

    Returns
    -------
    dict
        The manifest (format, seed, parameters, rows per table, ground truth), plus
        ``out_dir`` and ``elapsed_s``.

    Examples
    --------
    >>> import tempfile, os
    >>> d = os.path.join(tempfile.mkdtemp(), "tiny")
    >>> s = simulate(d, accounts=500, seed=2, mean_following=10)
    >>> s["ground_truth"]["labels"]["human"] > 400, s["rows"]["follows"] > 1000
    (True, True)
    >>> simulate(d, accounts=500)
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: ... already holds a simulation; pass overwrite=True to replace it
    """
    t0 = time.perf_counter()
    if accounts is None:
        accounts = config.get("sim_accounts")
    if seed is None:
        seed = config.get("sim_seed")
    p = SimParams.from_kwargs(accounts=accounts, seed=seed, **params)
    if workers is None:
        workers = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1))
    workers = max(1, int(workers))
    out = Path(out_dir)
    tmp = _prepare(out, overwrite)
    try:
        report = progress or (lambda stage, done, total: None)
        report("population", 0, 1)
        pop = build_population(p)
        report("population", 1, 1)
        run = _Run(pop, tmp, progress, workers)
        run.make_handles()
        run.make_posts()
        run.make_follows()
        run.make_attacks()
        counts = run.final_counts()
        run.make_accounts(counts)
        label_counts = run.make_labels()
        run.make_snapshots(counts)
        tables = run.close()
        manifest = _manifest(pop, run, tables, label_counts)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return {**manifest, "out_dir": str(out), "elapsed_s": round(time.perf_counter() - t0, 3)}


def _manifest(pop: Population, run: _Run, tables: dict[str, dict[str, Any]],
              label_counts: dict[str, int]) -> dict[str, Any]:
    from .. import __version__

    p = pop.params
    rows = {k: v["rows"] for k, v in tables.items()}
    n_follow_live = int(run.counters.outdeg.sum())
    truth = {
        "labels": label_counts,
        "label_source": "simulator",
        "communities": pop.k,
        "sellers": len(pop.sellers),
        "customers": len(pop.customers),
        "farms": len(pop.farms),
        "farm_targets_each": p.num_farm_targets(),
        "pods": len(pop.pods),
        "pod_members": int(sum(len(m) for m in pop.pods)),
        "fast_growth": len(pop.fast_ids),
        "fraud_accounts": int((pop.role != HUMAN).sum()),
        **run.stats,
        "live_follows": n_follow_live,
        "mean_following": round(n_follow_live / pop.n, 3),
        "reciprocated_share": round(2 * (run.stats.get("mutual_pairs", 0)
                                         + run.stats.get("pod_follows", 0) // 2
                                         + run.stats.get("farm_followbacks", 0))
                                    / max(n_follow_live, 1), 4),
    }
    return {
        "format": FORMAT, "version": FORMAT_VERSION, "generator": "trueclout.simulate",
        "trueclout_version": __version__, "platform": PLATFORM, "seed": p.seed,
        "accounts": p.accounts, "parameters": p.to_dict(),
        "observed": {"start": _iso(p.start_us()), "end": _iso(p.end_us()),
                     "snapshot_times": [_iso(int(t)) for t in run.times],
                     "snapshot_accounts": int(len(run.counters.snap_ids))},
        "ids": {"account": f"{ACCOUNT_PREFIX}<{ACCOUNT_BASE} + index>", "post": "p<index>"},
        "count_scale": p.count_scale,
        "tables": tables, "rows": rows, "ground_truth": truth,
    }
