"""Saved score contexts: detection and the scores derived from it, kept beside the store
until its data change.

Reading a store and fitting detection takes seconds (about 4 s on the 50,000-account
demo, more on a busy machine) and every command that ranks, finds or audits needs it.
:func:`load_context` keeps what the first command computed in the folder
``<store>.cache/`` and gives it to the next one in a fraction of a second:

- the :class:`~trueclout.detect.data.DetectionData` (graph arrays as ``.npy`` files,
  tables as Arrow IPC files),
- the fitted ensemble's results (authenticity, categories, each member's scores, labels
  and reasons; the classifier's model is loaded again from its file when an audit needs
  its error rates),
- derived arrays saved as they are first computed (:func:`remember`: every ranking of
  :func:`~trueclout.score.rank.rank_all` per topic, topic relevance per topic, the
  audience weights of discovery) and JSON documents (:func:`remember_json`).

**When it is used.** A saved context is used only when its key matches: the store's data
token (ingests, latest ingest, data generation and applied stream events, so any load,
``forget`` or live update makes a new one), the classifier model (its file's bytes, or
the simulator model's key), the settings, and the code (a hash of the package's source
files and shipped models). Anything else rebuilds it from the store. Files are written to
a temporary folder first and moved into place, so a reader never sees half a context,
and any file that cannot be read (a damaged cache, a concurrent replacement) means a
rebuild, never an error. Nothing in a saved context runs code when loaded (``.npy``
without pickles, Arrow IPC, JSON). ``trueclout forget`` deletes the folder.

One context is kept per model (``default``, ``simulator``, or a file), in
``<store>.cache/<slot>/``; a new key replaces the slot's old one.

Examples
--------
>>> import tempfile, os
>>> from trueclout.store import Store
>>> path = os.path.join(tempfile.mkdtemp(), "s.duckdb")
>>> with Store(path) as s:
...     ctx = load_context(s)
...     ctx.saved is not None, ctx.n
(True, 0)
>>> with Store(path, read_only=True) as s:
...     load_context(s).saved.loaded
True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from .. import __version__, config

#: Bumped when the layout of a saved context changes.
FORMAT = 1

#: Settings that change no result (where things are, how they are served).
_NOT_RESULTS = ("api_", "web_", "db", "duckdb_", "lock_wait_s", "saved_", "spark_")

#: Members' extra arrays a saved ensemble keeps (name -> attributes): what the audit's
#: fake-share correction reads.
_MEMBER_EXTRA = {"classifier": ("judged_", "uncertain_")}
#: Members' string arrays a saved ensemble keeps, besides ``reasons_``.
_MEMBER_STRINGS = {"classifier": ("uncertain_reasons_", "field_set_")}


# -- the key ------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the package's source files and shipped models (read once per process):
    a saved context made by other code is never used.

    Examples
    --------
    >>> len(code_fingerprint())
    16
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"{__version__}:{FORMAT}".encode())
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".gz", ".json") and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def settings_fingerprint() -> str:
    """A hash of every setting's current value (defaults, file, environment).

    Examples
    --------
    >>> len(settings_fingerprint())
    16
    """
    h = hashlib.sha256()
    for name in sorted(config.SETTINGS):
        if not name.startswith(_NOT_RESULTS):
            h.update(f"{name}={config.get(name)!r};".encode())
    return h.hexdigest()[:16]


def model_slot(model: Any = None) -> tuple[str, str]:
    """``(slot, fingerprint)`` of a classifier model spec: the folder a saved context of
    it lives in and what identifies the model's content.

    Examples
    --------
    >>> model_slot(None)[0], model_slot("default")[0]
    ('default', 'default')
    >>> model_slot(object())
    Traceback (most recent call last):
    ...
    ValueError: only a built-in name or a model file can be saved with a context
    """
    if model is None or model == "default":
        from ..detect.default import DEFAULT_MODEL_FILE
        p = Path(DEFAULT_MODEL_FILE)
        return "default", (hashlib.sha256(p.read_bytes()).hexdigest()[:16]
                           if p.is_file() else "missing")
    if model == "simulator":
        from ..detect.default import simulator_model_key
        return "simulator", simulator_model_key()
    if isinstance(model, (str, os.PathLike)):
        p = Path(model).resolve()
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        return "file-" + hashlib.sha256(str(p).encode()).hexdigest()[:12], digest
    raise ValueError("only a built-in name or a model file can be saved with a context")


def cache_root(db: str | os.PathLike | None) -> Path | None:
    """The folder of a store's saved contexts: ``<store>.cache``; None for an in-memory
    store.

    Examples
    --------
    >>> cache_root("/data/my.duckdb").name, cache_root(":memory:")
    ('my.duckdb.cache', None)
    """
    if db is None or str(db) in ("", ":memory:"):
        return None
    return Path(str(db) + ".cache")


def context_key(store, model: Any = None) -> dict:
    """What a saved context must match to be used (see the module docstring).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> sorted(context_key(Store(":memory:")))
    ['code', 'format', 'model', 'settings', 'slot', 'token']
    """
    slot, fp = model_slot(model)
    return {"format": FORMAT, "token": list(store.cache_token()), "slot": slot,
            "model": fp, "settings": settings_fingerprint(), "code": code_fingerprint()}


# -- files ---------------------------------------------------------------------------------
def _write_table(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)


def _read_table(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()


def _save_array(folder: Path, name: str, a: np.ndarray) -> None:
    np.save(folder / f"{name}.npy", np.ascontiguousarray(a), allow_pickle=False)


def _load_array(folder: Path, name: str) -> np.ndarray:
    return np.load(folder / f"{name}.npy", allow_pickle=False)


def _strings(values) -> pa.Array:
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _objects(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    out = np.empty(len(col), dtype=object)
    out[:] = col.to_pylist()
    return out


# -- DetectionData ------------------------------------------------------------------------
def _save_data(folder: Path, data) -> dict:
    g = data.graph
    meta = {"n": int(g.n), "ts": g.out_ts is not None, "interactions": {},
            "tables": [], "labels": sorted(data.labels)}
    for name in ("uids", "out_indptr", "out_indices", "in_indptr", "in_indices"):
        _save_array(folder, f"g_{name}", getattr(g, name))
    if g.out_ts is not None:
        _save_array(folder, "g_out_ts", g.out_ts)
        _save_array(folder, "g_in_ts", g.in_ts)
    for i, (kind, (ip, ix, ts)) in enumerate(sorted(g.interactions.items())):
        meta["interactions"][kind] = {"i": i, "ts": ts is not None}
        _save_array(folder, f"i{i}_indptr", ip)
        _save_array(folder, f"i{i}_indices", ix)
        if ts is not None:
            _save_array(folder, f"i{i}_ts", ts)
    _write_table(folder / "names.arrow", g.names)
    for name in ("profiles", "snapshots", "activity", "removed"):
        t = getattr(data, name)
        if t is not None:
            _write_table(folder / f"{name}.arrow", t)
            meta["tables"].append(name)
    for i, lab in enumerate(meta["labels"]):
        _save_array(folder, f"label{i}", np.asarray(data.labels[lab]))
    return meta


def _load_data(folder: Path, meta: dict):
    from ..detect.data import DetectionData
    from ..graph.follow_graph import FollowGraph
    arr = {name: _load_array(folder, f"g_{name}")
           for name in ("uids", "out_indptr", "out_indices", "in_indptr", "in_indices")}
    if meta["ts"]:
        arr["out_ts"] = _load_array(folder, "g_out_ts")
        arr["in_ts"] = _load_array(folder, "g_in_ts")
    inter = {}
    for kind, m in meta["interactions"].items():
        i = m["i"]
        inter[kind] = (_load_array(folder, f"i{i}_indptr"), _load_array(folder, f"i{i}_indices"),
                       _load_array(folder, f"i{i}_ts") if m["ts"] else None)
    g = FollowGraph(n=int(meta["n"]), names=_read_table(folder / "names.arrow"),
                    interactions=inter, **arr)
    tables = {name: _read_table(folder / f"{name}.arrow") for name in meta["tables"]}
    labels = {lab: _load_array(folder, f"label{i}") for i, lab in enumerate(meta["labels"])}
    return DetectionData(graph=g, profiles=tables["profiles"],
                         snapshots=tables.get("snapshots"), activity=tables.get("activity"),
                         removed=tables.get("removed"), labels=labels)


# -- the fitted ensemble --------------------------------------------------------------------
class SavedMember:
    """A fitted detector as a saved context keeps it: its scores, threshold, labels and
    reasons (and the classifier's verdicts); the classifier's model is loaded from its
    file on first use.

    Examples
    --------
    >>> m = SavedMember("lockstep", {"labels_": np.zeros(2, np.int8)})
    >>> m.labels_.tolist(), hasattr(m, "model_")
    ([0, 0], False)
    """

    def __init__(self, name: str, attrs: dict, model: Any = None) -> None:
        self.name = name
        self.__dict__.update(attrs)
        self._model = model
        self._loaded = None

    @property
    def model_(self):
        """The classifier's model (loaded on first use); AttributeError for others."""
        if self.name != "classifier":
            raise AttributeError("model_")
        if self._loaded is None:
            from ..detect.default import resolve_model
            self._loaded = resolve_model(self._model)
        return self._loaded

    def __repr__(self) -> str:
        return f"SavedMember({self.name!r})"


def _save_ensemble(folder: Path, ens) -> dict:
    n = int(np.asarray(ens.authenticity_).shape[0])
    for name in ("authenticity_", "decision_scores_", "labels_", "bought_"):
        _save_array(folder, "e_" + name, np.asarray(getattr(ens, name)))
    strings = {"category_": _strings(ens.category_), "reasons_": _strings(ens.reasons_)}
    members = {}
    for m, det in ens.members_.items():
        members[m] = {"threshold_": float(det.threshold_),
                      "extra": [a for a in _MEMBER_EXTRA.get(m, ()) if hasattr(det, a)],
                      "strings": [a for a in _MEMBER_STRINGS.get(m, ()) if hasattr(det, a)]}
        _save_array(folder, f"m_{m}_decision_scores_", np.asarray(det.decision_scores_))
        _save_array(folder, f"m_{m}_labels_", np.asarray(det.labels_))
        for a in members[m]["extra"]:
            _save_array(folder, f"m_{m}_{a}", np.asarray(getattr(det, a)))
        strings[f"{m}.reasons_"] = _strings(det.reasons_)
        for a in members[m]["strings"]:
            strings[f"{m}.{a}"] = _strings(getattr(det, a))
    for m, a in ens.aligned_.items():
        _save_array(folder, f"a_{m}", np.asarray(a))
    _write_table(folder / "ensemble_strings.arrow", pa.table(strings) if n else
                 pa.table({k: pa.array([], pa.string()) for k in strings}))
    return {"threshold_": float(ens.threshold_), "skipped_": dict(ens.skipped_),
            "members": members, "aligned": list(ens.aligned_),
            "cats": dict(ens._cats), "judges": dict(ens._judges)}


def _load_ensemble(folder: Path, meta: dict, model: Any):
    from ..detect.ensemble import EnsembleDetector
    ens = EnsembleDetector(model=model)
    for name in ("authenticity_", "decision_scores_", "labels_", "bought_"):
        setattr(ens, name, _load_array(folder, "e_" + name))
    strings = _read_table(folder / "ensemble_strings.arrow")
    ens.category_ = _objects(strings.column("category_"))
    ens.reasons_ = _objects(strings.column("reasons_"))
    ens.threshold_ = meta["threshold_"]
    ens.skipped_ = meta["skipped_"]
    members = {}
    for m, info in meta["members"].items():
        attrs = {"threshold_": info["threshold_"],
                 "decision_scores_": _load_array(folder, f"m_{m}_decision_scores_"),
                 "labels_": _load_array(folder, f"m_{m}_labels_"),
                 "reasons_": _objects(strings.column(f"{m}.reasons_"))}
        for a in info["extra"]:
            attrs[a] = _load_array(folder, f"m_{m}_{a}")
        for a in info["strings"]:
            attrs[a] = _objects(strings.column(f"{m}.{a}"))
        members[m] = SavedMember(m, attrs, model)
    ens.members_ = members
    ens.aligned_ = {m: _load_array(folder, f"a_{m}") for m in meta["aligned"]}
    ens._cats = meta["cats"]
    ens._judges = meta["judges"]
    return ens


# -- derived results ------------------------------------------------------------------------
def _plain(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return str(x)


class Saved:
    """The derived results of one saved context: arrays (or dicts of arrays) and JSON
    documents by name, read from and written to its folder (thread-safe; a failed write
    is only a missed saving).

    Examples
    --------
    >>> import tempfile
    >>> s = Saved(Path(tempfile.mkdtemp()))
    >>> s.get("x") is None
    True
    >>> s.put("x", {"a": np.arange(3)}); s.get("x")["a"].tolist()
    [0, 1, 2]
    >>> s.put_json("t", [1, "b"]); s.get_json("t")
    [1, 'b']
    """

    def __init__(self, folder: Path | None, loaded: bool = False,
                 key: dict | None = None) -> None:
        self.folder = folder
        self.loaded = loaded
        #: The context's key (:func:`context_key`): what its results were computed from.
        self.key = key
        self._lock = threading.Lock()

    def _path(self, name: str, suffix: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / ("d-" + hashlib.sha256(name.encode()).hexdigest()[:24] + suffix)

    def get(self, name: str) -> np.ndarray | dict | None:
        """The array (or dict of arrays) saved as ``name``, else None."""
        p = self._path(name, ".npz")
        if p is None or not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                if str(z["__name__"]) != name:
                    return None
                out = {k: z[k] for k in z.files if k != "__name__"}
        except Exception:  # noqa: BLE001 - a damaged file is a cache miss
            return None
        return out["__array__"] if set(out) == {"__array__"} else out

    def put(self, name: str, value: np.ndarray | dict) -> None:
        """Save an array, or a dict of arrays, as ``name``."""
        p = self._path(name, ".npz")
        if p is None:
            return
        arrays = value if isinstance(value, dict) else {"__array__": value}
        self._atomic(p, lambda f: np.savez(f, __name__=np.array(name),
                                           **{k: np.asarray(v) for k, v in arrays.items()}))

    def get_json(self, name: str) -> Any:
        """The JSON document saved as ``name``, else None."""
        p = self._path(name, ".json")
        if p is None or not p.is_file():
            return None
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a damaged file is a cache miss
            return None
        return doc.get("value") if isinstance(doc, dict) and doc.get("name") == name else None

    def put_json(self, name: str, value: Any) -> None:
        """Save a JSON-ready ``value`` (numpy scalars and arrays become numbers and
        lists) as ``name``."""
        p = self._path(name, ".json")
        if p is None:
            return
        text = json.dumps({"name": name, "value": value}, default=_plain)
        self._atomic(p, lambda f: f.write(text.encode("utf-8")))

    def _atomic(self, path: Path, write: Callable) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            with self._lock:
                with open(tmp, "wb") as f:
                    write(f)
                os.replace(tmp, path)
                self._prune()
        except OSError:
            tmp.unlink(missing_ok=True)

    def _prune(self) -> None:
        """Keep the newest ``saved_max_results`` derived results (per-topic results
        would otherwise pile up)."""
        limit = int(config.get("saved_max_results"))
        files = [p for p in self.folder.glob("d-*") if p.is_file()]
        if len(files) > limit:
            files.sort(key=lambda p: p.stat().st_mtime_ns)
            for p in files[:len(files) - limit]:
                p.unlink(missing_ok=True)


def remember(ctx, name: str, compute: Callable[[], Any], *, keep: bool = True) -> Any:
    """``compute()`` once per context: from ``ctx.cache``, else from the saved context's
    folder, else computed (and saved there when the context is a saved one). For arrays
    and dicts of arrays. ``keep``: also hold it in ``ctx.cache`` (off for results asked
    per topic, which a long-lived server would otherwise pile up in memory).

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> ctx = toy_context()
    >>> remember(ctx, "x", lambda: np.ones(2)).tolist(), "x" in ctx.cache
    ([1.0, 1.0], True)
    """
    return _remember(ctx, name, name, compute, keep, json=False)


def remember_json(ctx, name: str, compute: Callable[[], Any]) -> Any:
    """As :func:`remember`, for JSON-ready values.

    Examples
    --------
    >>> from trueclout.discover.targets import toy_context
    >>> remember_json(toy_context(), "t", lambda: [1, 2])
    [1, 2]
    """
    return _remember(ctx, "json:" + name, name, compute, True, json=True)


def _remember(ctx, key: str, name: str, compute: Callable[[], Any], keep: bool, *,
              json: bool) -> Any:
    cache = getattr(ctx, "cache", None)
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        return hit
    saved = getattr(ctx, "saved", None)
    if saved is not None:
        hit = saved.get_json(name) if json else saved.get(name)
    if hit is None:
        hit = compute()
        if saved is not None:
            (saved.put_json if json else saved.put)(name, hit)
    if keep and cache is not None:
        cache[key] = hit
    return hit


# -- loading and saving a whole context -------------------------------------------------------
def _read_meta(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - no saved context, or a damaged one
        return None


def _try_load(folder: Path, key: dict, model: Any):
    from .context import ScoreContext
    meta = _read_meta(folder)
    if meta is None or meta.get("key") != key:
        return None
    try:
        data = _load_data(folder, meta["data"])
        ens = _load_ensemble(folder, meta["ensemble"], model)
    except Exception:  # noqa: BLE001 - a damaged or half-replaced folder: rebuild
        return None
    ctx = ScoreContext.from_data(data, ens)
    ctx.saved = Saved(folder, loaded=True, key=key)
    return ctx


def save_context(ctx, root: Path, key: dict) -> Path | None:
    """Write ``ctx`` (its data and fitted ensemble) as the saved context of ``key`` under
    ``root``; returns its folder, or None when it cannot be written (a read-only folder,
    a full disk: the command goes on without saving).

    Examples
    --------
    >>> import tempfile
    >>> from trueclout.ingest.run import ingest
    >>> from trueclout.store import Store
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "f.txt").write_text("a b\\nb c\\n")
    >>> with Store(str(d / "s.duckdb")) as s:
    ...     _ = ingest(s, [d / "f.txt"])
    ...     key = context_key(s)
    ...     ctx = load_context(s, save=False)
    >>> folder = save_context(ctx, cache_root(d / "s.duckdb"), key)
    >>> folder.name == key["slot"], (folder / "meta.json").is_file()
    (True, True)
    """
    final = root / key["slot"]
    tmp = root / f".tmp-{key['slot']}-{os.getpid()}-{threading.get_ident()}"
    try:
        root.mkdir(exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        meta = {"key": key, "saved_at": time.time(), "data": _save_data(tmp, ctx.data),
                "ensemble": _save_ensemble(tmp, ctx.ensemble)}
        (tmp / "meta.json").write_text(json.dumps(meta, default=str), encoding="utf-8")
        old = root / f".old-{key['slot']}-{os.getpid()}-{threading.get_ident()}"
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        return final
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None


def forget_saved(db: str | os.PathLike | None) -> bool:
    """Delete every saved context of the store ``db``; True when there was one.

    Examples
    --------
    >>> forget_saved(":memory:")
    False
    """
    root = cache_root(db)
    if root is None or not root.exists():
        return False
    shutil.rmtree(root, ignore_errors=True)
    return True


def load_context(store, model: Any = None, *, read_progress=None, fit_progress=None,
                 save: bool = True):
    """The store's :class:`~trueclout.score.context.ScoreContext` for ``model``: the
    saved one when its key matches (``ctx.saved.loaded`` is then True), else read from
    the store and fitted (``read_progress`` as :meth:`DetectionData.from_store` takes
    it, ``fit_progress`` as the ensemble's fit), and saved for the next command unless
    ``save`` is False.
    ``ctx.store`` is ``store``; ``ctx.saved`` keeps derived results (:func:`remember`).

    Examples
    --------
    >>> from trueclout.store import Store
    >>> load_context(Store(":memory:")).saved.folder is None
    True
    """
    from ..detect.data import DetectionData
    from ..detect.ensemble import EnsembleDetector
    from .context import ScoreContext
    root = cache_root(getattr(store, "path", None))
    key = context_key(store, model)
    ctx = None
    if root is not None:
        ctx = _try_load(root / key["slot"], key, model)
    if ctx is None:
        data = DetectionData.from_store(store, progress=read_progress)
        ens = EnsembleDetector(model=model)
        ens.fit(data, progress=fit_progress)
        ctx = ScoreContext.from_data(data, ens)
        folder = None
        if root is not None and save and data.graph.m <= int(config.get("saved_max_follows")):
            folder = save_context(ctx, root, key)
        ctx.saved = Saved(folder, loaded=False, key=key)
    ctx.store = store
    return ctx


__all__ = ["FORMAT", "Saved", "SavedMember", "cache_root", "code_fingerprint",
           "context_key", "forget_saved", "load_context", "model_slot", "remember",
           "remember_json", "save_context", "settings_fingerprint"]
