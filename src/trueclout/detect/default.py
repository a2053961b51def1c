"""The models a user gets without training one: the shipped default and the simulator's.

* ``default`` (what ``detect`` uses without ``--model``): trained on the public labelled
  data sets of ``../shared/data`` (:data:`DEFAULT_SOURCES`: Cresci 2015 and 2017, the
  bot repository's sets, the social honeypot, InstaFake), shipped in the package as
  ``detect/models/authenticity.json.gz`` with its ``MODEL_CARD.md``. ``make model``
  rebuilds both (:func:`build_default_model`; seeded, so the same data give the same
  file). The file is JSON: loading it runs no code.
* ``simulator``: trained on simulated platforms with ground truth
  (:data:`SIMULATOR_PLATFORMS`), cached under ``$TRUECLOUT_CACHE`` (default
  ``~/.cache/trueclout``) per code version.

:func:`resolve_model` turns what a user gives (nothing, a name, a path, a model) into a
fitted :class:`~trueclout.detect.classifier.AuthenticityClassifier`.

Examples
--------
>>> resolve_model("nonexistent-name")
Traceback (most recent call last):
...
trueclout.errors.InputError: nonexistent-name: no such model file (built-in models: default, simulator)
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import __version__, config
from ..errors import InputError
from .classifier import AuthenticityClassifier
from .data import DetectionData
from .features import FEATURE_SCHEMA, account_features

#: The shipped default model and its card.
MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL_FILE = MODELS_DIR / "authenticity.json.gz"
MODEL_CARD_FILE = MODELS_DIR / "MODEL_CARD.md"

#: Names that :func:`resolve_model` knows.
BUILTIN_MODELS = ("default", "simulator")

#: The labelled data sets (folders of ``../shared/data``) the default model learns from.
DEFAULT_SOURCES = ("cresci-2015", "cresci-2015-bas", "cresci-2017", "cresci-stock-2018",
                   "pronbots-2019", "botwiki-2019", "political-bots-2019",
                   "botometer-feedback-2019", "caverlee-2011", "instafake-2019")


@functools.lru_cache(maxsize=1)
def _load_default(path: str, mtime: float) -> AuthenticityClassifier:
    return AuthenticityClassifier.load(path)


def default_model() -> AuthenticityClassifier:
    """The shipped model, trained on the public labelled data sets (read once per
    process).

    Examples
    --------
    >>> sorted(default_model().models_)[:2]  # doctest: +SKIP
    ['counts', 'counts-age']
    """
    p = DEFAULT_MODEL_FILE
    if not p.is_file():
        raise InputError("the default authenticity model is missing from the installation; "
                         "rebuild it with `make model` or pass --model", path=str(p))
    return _load_default(str(p), p.stat().st_mtime)


def resolve_model(model: AuthenticityClassifier | str | os.PathLike | None = None
                  ) -> AuthenticityClassifier:
    """A fitted classifier from what a user gives: None or ``"default"`` (the shipped
    model), ``"simulator"``, a model file, or a fitted model.

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> m = AuthenticityClassifier(max_iter=3).fit(*toy_training_set())
    >>> resolve_model(m) is m
    True
    """
    if model is None or (isinstance(model, str) and model == "default"):
        return default_model()
    if isinstance(model, AuthenticityClassifier):
        _ = model.models_  # NotFittedError when unfitted
        return model
    if isinstance(model, str) and model == "simulator":
        return simulator_model()
    p = Path(model)
    if not p.is_file():
        raise InputError(f"no such model file (built-in models: {', '.join(BUILTIN_MODELS)})",
                         path=str(p))
    return AuthenticityClassifier.load(p)


# -- the simulator's model ---------------------------------------------------------------
#: The simulated platforms of the simulator model: one of each kind of bought follower
#: and of human population (simulator parameters; each gets its own seed). Training on
#: several kinds keeps the model from learning one seller's look (see the README).
SIMULATOR_PLATFORMS: tuple[tuple[str, dict[str, Any]], ...] = (
    # INT-like fakes (the simulator's defaults, calibrated on Cresci 2015): 344
    # following, 18 followers
    ("int-like", {}),
    # near-empty fakes (INT's low tail: under 40 following, no followers) among many
    # young humans, so that "new and small" alone is no evidence
    ("small-fakes", {"fake_following": 4.0, "fake_followers": 0.3,
                     "new_account_share": 0.3}),
    # large fakes (about 900 following, 200 followers) among many inactive humans
    ("large-fakes", {"fake_following": 120.0, "fake_followers": 20.0,
                     "inactive_share": 0.5}),
    # egg-avatar fakes with heavy camouflage (half keep the default image, as many of
    # Cresci's FSF and TWT fakes do)
    ("egg-fakes", {"fake_following": 15.0, "fake_followers": 5.0,
                   "fake_default_image_share": 0.5, "camouflage_ratio": 3.0}),
)


def _cache_dir() -> Path:
    c = config.get("cache")
    return Path(c) if c else Path.home() / ".cache" / "trueclout"


def simulator_model_key() -> str:
    """The cache key of the simulator model: code version, feature schema, scikit-learn
    version, the source of this stage and of the simulator, and the settings used.

    Examples
    --------
    >>> len(simulator_model_key())
    16
    """
    import sklearn

    h = hashlib.sha256()
    for part in (__version__, FEATURE_SCHEMA, sklearn.__version__):
        h.update(part.encode())
    here = Path(__file__).resolve().parent
    files = [here / n for n in ("features.py", "classifier.py", "fieldsets.py", "trees.py",
                                "data.py", "default.py")]
    files += sorted((here.parent / "simulate").glob("*.py"))
    for f in files:
        if f.is_file():
            h.update(f.read_bytes())
    for name in sorted(config.SETTINGS):
        if name.startswith(("classifier_", "simulator_model_", "detect_")):
            h.update(f"{name}={config.get(name)!r}".encode())
    return h.hexdigest()[:16]


def simulator_training_data(accounts: int | None = None, seed: int | None = None,
                            fraud_share: float | None = None,
                            platforms: Sequence[tuple[str, dict[str, Any]]] = SIMULATOR_PLATFORMS,
                            progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Simulate the simulator model's training platforms; return features, classes and
    each row's platform (its source).

    Each platform ``(name, simulator parameters)`` gets ``accounts / len(platforms)``
    accounts, seed ``seed + i`` and ``fraud_share``; it is simulated into a temporary
    folder and ingested into its own in-memory store (the platforms' ids overlap).

    Returns
    -------
    X : float32 array
    y : int array
        1 = fake or farm, 0 = human.
    sources : array of str
        The platform of each row.
    info : list of dict
        Per platform: its name, parameters and class counts.

    Examples
    --------
    >>> X, y, src, info = simulator_training_data(accounts=2000, platforms=[("plain", {})])
    >>> X.shape[0] == len(y) == len(src), info[0]["fake"] > 50
    (True, True)
    """
    from ..ingest.run import ingest
    from ..simulate import simulate
    from ..store import Store
    from .training import training_labels

    total = int(accounts or config.get("simulator_model_accounts"))
    seed0 = int(config.get("simulator_model_seed") if seed is None else seed)
    share = float(config.get("simulator_model_fraud_share") if fraud_share is None
                  else fraud_share)
    Xs, ys, srcs, info = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="trueclout-train-") as tmp:
        for i, (name, params) in enumerate(platforms):
            out = Path(tmp) / f"platform{i}"
            each = max(2, total // max(1, len(platforms)))
            simulate(out, accounts=each, seed=seed0 + i, fraud_share=share, **params)
            if progress is not None:
                progress("simulate", i + 1, len(platforms))
            with Store(":memory:") as store:
                ingest(store, [out])
                data = DetectionData.from_store(store)
                lab = training_labels(store, data)
            X, _ = account_features(data)
            Xs.append(X[lab.vertices])
            ys.append(lab.y)
            srcs.append(np.full(lab.n, name, dtype=object))
            info.append({"name": name, "accounts": each, "seed": seed0 + i,
                         "fraud_share": share, "params": dict(params),
                         "real": lab.counts["real"], "fake": lab.counts["fake"]})
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(srcs), info


def train_simulator_model(progress=None, **params: Any) -> tuple[AuthenticityClassifier, dict]:
    """Simulate the training platforms and train on them (uncached); the platforms are
    the sources, so calibration is leave-one-platform-out.

    Examples
    --------
    >>> m, r = train_simulator_model()  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    X, y, src, info = simulator_training_data(progress=progress)
    model = AuthenticityClassifier(**params).fit(X, y, sources=src)
    model.training_ = {"simulator": info}
    report = {"accounts": {"fake": int(y.sum()), "real": int((y == 0).sum())},
              "trained_on": {"simulator": info}, "threshold": model.threshold_,
              "feature_schema": model.feature_schema_,
              "seconds": round(time.perf_counter() - t0, 2)}
    return model, report


def simulator_model(*, retrain: bool = False, progress=None) -> AuthenticityClassifier:
    """The classifier trained on the simulator's ground truth, cached per code version
    as ``$TRUECLOUT_CACHE/authenticity-simulator-<key>.json.gz``.

    Examples
    --------
    >>> m = simulator_model()  # doctest: +SKIP
    """
    path = _cache_dir() / f"authenticity-simulator-{simulator_model_key()}.json.gz"
    if path.is_file() and not retrain:
        try:
            return AuthenticityClassifier.load(path)
        except InputError:
            pass  # a broken or stale cache file: train again
    model, _ = train_simulator_model(progress=progress)
    try:
        model.save(path)
    except OSError:
        pass  # a read-only cache still gives a working model
    return model


# -- building the shipped model ----------------------------------------------------------
def build_default_model(data_dir: str | os.PathLike, out: str | os.PathLike = DEFAULT_MODEL_FILE,
                        card: str | os.PathLike | None = MODEL_CARD_FILE,
                        sources: Sequence[str] = DEFAULT_SOURCES, in_set: bool = True,
                        select: bool = True, progress=None) -> dict:
    """Ingest the labelled data sets of ``data_dir`` into a temporary store, choose the
    training mix by held-out AUC (``select``), train the default model and write it (and
    its model card). Every set is scored as held out, trained on or not.

    Returns
    -------
    dict
        The training report (:func:`~trueclout.detect.training.train_model`), with
        ``in_set`` (:func:`~trueclout.detect.training.in_set_cv`) when asked.

    Examples
    --------
    >>> build_default_model("/nonexistent")
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: /nonexistent: no such data folder
    """
    from ..ingest.run import ingest
    from ..store import Store
    from .training import in_set_cv, train_model, training_labels

    root = Path(data_dir)
    if not root.is_dir():
        raise InputError("no such data folder", path=str(root))
    missing = [s for s in sources if not (root / s).is_dir()]
    if missing:
        raise InputError(f"missing labelled data sets: {', '.join(missing)}", path=str(root))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trueclout-model-") as tmp:
        with Store(str(Path(tmp) / "labelled.duckdb")) as store:
            loads = {}
            for s in sources:
                rep = ingest(store, [root / s])
                if rep.failures:
                    raise InputError(f"{s} did not load: {rep.failures[0]['error']}",
                                     path=str(root / s))
                loads[s] = {k: rep.to_dict()[k] for k in ("read", "accepted", "rejected",
                                                          "labels")}
                if progress:
                    progress("ingest", s)
            data = DetectionData.from_store(store)
            model, report = train_model(
                store, data=data, model_out=None, select=select,
                progress=(lambda fs, i, n: progress("train", f"{fs} {i}/{n}"))
                if progress else None)
            if in_set:
                lab = training_labels(store, data)
                X, _ = account_features(data)
                report["in_set"] = in_set_cv(model.get_params(), X[lab.vertices], lab)
    report["loads"] = loads
    report["seconds"] = round(time.perf_counter() - t0, 1)
    model.training_["loads"] = loads
    model.save(out)
    report["model_out"] = str(out)
    if card is not None:
        from .model_card import write_model_card
        write_model_card(model, report, card)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m trueclout.detect.default --data DIR``: rebuild the shipped model
    (what ``make model`` runs).

    Examples
    --------
    >>> main(["--data", "/nonexistent"])
    Traceback (most recent call last):
    ...
    trueclout.errors.InputError: /nonexistent: no such data folder
    """
    ap = argparse.ArgumentParser(prog="python -m trueclout.detect.default",
                                 description="Build the default authenticity model from "
                                             "the labelled data sets.")
    ap.add_argument("--data", required=True, help="folder holding the labelled data sets")
    ap.add_argument("--out", default=str(DEFAULT_MODEL_FILE), help="model file to write")
    ap.add_argument("--card", default=str(MODEL_CARD_FILE), help="model card to write")
    ap.add_argument("--no-in-set", action="store_true", help="skip the in-set CV figures")
    ap.add_argument("--no-select", action="store_true",
                    help="train on every set instead of choosing the mix")
    args = ap.parse_args(argv)

    def say(stage, what):
        print(f"[{time.strftime('%H:%M:%S')}] {stage}: {what}", file=sys.stderr, flush=True)

    report = build_default_model(args.data, args.out, args.card, in_set=not args.no_in_set,
                                 select=not args.no_select, progress=say)
    print(json.dumps({k: report[k] for k in ("model_out", "seconds", "sources")}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["DEFAULT_SOURCES", "DEFAULT_MODEL_FILE", "MODEL_CARD_FILE", "BUILTIN_MODELS",
           "SIMULATOR_PLATFORMS", "default_model", "resolve_model", "simulator_model",
           "simulator_model_key", "simulator_training_data", "train_simulator_model",
           "build_default_model"]
