"""Compare a simulated platform's humans and fakes with the Cresci et al. 2015 accounts.

:func:`calibration_report` reads ``accounts.parquet`` and ``labels.parquet`` of a simulated
folder and sets the quartiles of the profile counts, the account age and the profile
completeness shares of plain simulated humans (label ``human`` that are neither
``customer`` nor ``fast_growth``) and of fakes (label ``fake``) beside those of the E13
humans and the INT bought fakes. Medians are compared as the ratio
``(sim + 1) / (cresci + 1)`` (the +1 keeps zero medians, such as the fakes' likes, finite);
shares as differences.

Examples
--------
>>> import tempfile, os
>>> from trueclout.simulate import simulate, calibration_report, format_report
>>> d = os.path.join(tempfile.mkdtemp(), "c")
>>> _ = simulate(d, accounts=3000, seed=0)
>>> r = calibration_report(d)
>>> r["reference"], sorted(r["groups"])
('embedded', ['fake', 'human'])
>>> "followers_count" in format_report(r)
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InputError
from .reference import CRESCI, LEVELS, METRICS, SHARES, load_cresci

#: Default tolerances of :func:`calibration_report`'s ``ok`` verdict.
MEDIAN_FACTOR = 2.0
SHARE_TOLERANCE = 0.15


def _quartiles_from_table(q: list[int]) -> list[float]:
    lv = list(np.round(LEVELS, 2))
    return [float(q[lv.index(0.2)] + q[lv.index(0.3)]) / 2.0, float(q[lv.index(0.5)]),
            float(q[lv.index(0.7)] + q[lv.index(0.8)]) / 2.0]


def _group_stats(tab: dict[str, np.ndarray], strs: dict[str, Any], mask: np.ndarray
                 ) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(mask.sum()), "quantiles": {}, "shares": {}, "means": {}}
    if not mask.any():
        return out
    for m in METRICS:
        x = tab[m][mask].astype(np.float64)
        out["quantiles"][m] = [float(v) for v in np.quantile(x, [0.25, 0.5, 0.75])]
    idx = np.flatnonzero(mask)
    def take(name):
        return strs[name].take(idx)
    handle, name, desc = take("handle"), take("name"), take("description")
    out["shares"] = {
        "description": 1.0 - desc.null_count / len(idx),
        "url": 1.0 - take("url").null_count / len(idx),
        "location": 1.0 - take("location").null_count / len(idx),
        "default_profile_image": float(tab["default_profile_image"][mask].mean()),
        "handle_digits": float(pc.mean(pc.match_substring_regex(handle, "[0-9]")
                                       .cast("int8")).as_py()),
        "name_digits": float(pc.mean(pc.match_substring_regex(name, "[0-9]")
                                     .cast("int8")).as_py()),
        "handle_underscore": float(pc.mean(pc.match_substring(handle, "_")
                                           .cast("int8")).as_py()),
        "handle_upper": float(pc.mean(pc.match_substring_regex(handle, "[A-Z]")
                                      .cast("int8")).as_py()),
    }
    out["means"] = {
        "name_length": float(pc.mean(pc.utf8_length(name)).as_py()),
        "handle_length": float(pc.mean(pc.utf8_length(handle)).as_py()),
        "description_length": float(pc.mean(pc.utf8_length(desc)).as_py() or 0.0),
    }
    return out


def calibration_report(out_dir: str | os.PathLike, cresci_dir: str | os.PathLike | None = None,
                       median_factor: float = MEDIAN_FACTOR,
                       share_tolerance: float = SHARE_TOLERANCE) -> dict[str, Any]:
    """Set simulated humans and fakes beside the Cresci E13 humans and INT fakes.

    Parameters
    ----------
    out_dir : str or Path
        A folder written by :func:`~trueclout.simulate.simulate`.
    cresci_dir : str or Path, optional
        Folder with ``E13_users.csv`` and ``INT_users.csv`` (or a ``cresci-2015``
        subfolder); when given and present the reference is recomputed from them,
        otherwise the figures embedded in :data:`trueclout.simulate.reference.CRESCI`
        (measured on those files) are used.
    median_factor : float
        A median passes when ``(sim + 1) / (cresci + 1)`` is within this factor.
    share_tolerance : float
        A share passes when it is within this absolute difference.

    Returns
    -------
    dict
        ``reference`` ("csv" or "embedded"), ``groups`` (per group: ``n``, and for
        ``quantiles``, ``shares`` and ``means`` the simulated and Cresci figures),
        ``failures`` (a list of readable strings) and ``ok``.

    Examples
    --------
    >>> import tempfile, os
    >>> from trueclout.simulate import simulate
    >>> d = os.path.join(tempfile.mkdtemp(), "c")
    >>> _ = simulate(d, accounts=2000, seed=3)
    >>> r = calibration_report(d)
    >>> r["groups"]["human"]["quantiles"]["posts_count"]["cresci"][1]
    992.0
    """
    folder = Path(out_dir)
    acc_path, lab_path = folder / "accounts.parquet", folder / "labels.parquet"
    if not acc_path.is_file() or not lab_path.is_file():
        raise InputError("not a simulated trueclout folder (accounts.parquet or "
                         "labels.parquet missing)", path=str(folder))
    ref, ref_kind = CRESCI, "embedded"
    if cresci_dir is not None:
        loaded = load_cresci(cresci_dir)
        if loaded is not None:
            ref, ref_kind = loaded, "csv"
    acc = pq.read_table(acc_path)
    lab = pq.read_table(lab_path, columns=["account_id", "label"])
    ids = acc.column("account_id")
    labels: dict[str, np.ndarray] = {}
    for name in ("human", "fake", "customer", "fast_growth"):
        these = lab.filter(pc.equal(lab.column("label"), name)).column("account_id")
        labels[name] = pc.is_in(ids, value_set=these.combine_chunks()).to_numpy(
            zero_copy_only=False)
    created = acc.column("created_at").cast("int64").to_numpy(zero_copy_only=False)
    observed = acc.column("observed_at").cast("int64").to_numpy(zero_copy_only=False)
    tab = {m: acc.column(m).to_numpy(zero_copy_only=False) for m in METRICS if m != "age_days"}
    tab["age_days"] = (observed - created) / 86_400e6
    tab["default_profile_image"] = acc.column("default_profile_image").to_numpy(
        zero_copy_only=False).astype(np.float64)
    strs = {c: acc.column(c).combine_chunks() for c in
            ("handle", "name", "description", "url", "location")}
    masks = {"human": labels["human"] & ~labels["customer"] & ~labels["fast_growth"],
             "fake": labels["fake"]}
    groups: dict[str, Any] = {}
    failures: list[str] = []
    for g, mask in masks.items():
        sim = _group_stats(tab, strs, mask)
        r = ref[g]
        entry: dict[str, Any] = {"n": sim["n"], "cresci_dataset": r["dataset"],
                                 "cresci_n": r["rows"], "quantiles": {}, "shares": {},
                                 "means": {}}
        for m in METRICS:
            c = _quartiles_from_table(r["quantiles"][m])
            s = sim["quantiles"].get(m)
            ratio = None if s is None else (s[1] + 1.0) / (c[1] + 1.0)
            entry["quantiles"][m] = {"sim": s, "cresci": c,
                                     "median_ratio": None if ratio is None else round(ratio, 3)}
            if ratio is None or not (1 / median_factor <= ratio <= median_factor):
                failures.append(f"{g} {m}: median {None if s is None else s[1]} vs "
                                f"{c[1]} (ratio {ratio if ratio is None else round(ratio, 2)})")
        for k in SHARES:
            s = sim["shares"].get(k)
            c = r["shares"][k]
            diff = None if s is None else round(s - c, 3)
            entry["shares"][k] = {"sim": None if s is None else round(s, 3), "cresci": c,
                                  "diff": diff}
            if diff is None or abs(diff) > share_tolerance:
                failures.append(f"{g} {k}: share {s} vs {c}")
        for k, c in r["means"].items():
            s = sim["means"].get(k)
            entry["means"][k] = {"sim": None if s is None else round(s, 1), "cresci": c}
        groups[g] = entry
    return {"reference": ref_kind, "groups": groups, "failures": failures,
            "ok": not failures, "median_factor": median_factor,
            "share_tolerance": share_tolerance}


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of a :func:`calibration_report`.

    Examples
    --------
    >>> format_report({"reference": "embedded", "groups": {}, "failures": [], "ok": True})
    'reference: embedded\\nok'
    """
    lines = [f"reference: {report['reference']}"]
    for g, e in report["groups"].items():
        lines.append(f"\n{g}: sim n={e['n']} vs {e['cresci_dataset']} n={e['cresci_n']}")
        lines.append(f"  {'metric':<22}{'sim q25/q50/q75':>26}{'cresci q25/q50/q75':>26}"
                     f"{'ratio':>8}")
        for m, q in e["quantiles"].items():
            s = "/".join(f"{v:.0f}" for v in q["sim"]) if q["sim"] else "-"
            c = "/".join(f"{v:.0f}" for v in q["cresci"])
            lines.append(f"  {m:<22}{s:>26}{c:>26}{q['median_ratio']!s:>8}")
        lines.append(f"  {'share':<22}{'sim':>26}{'cresci':>26}{'diff':>8}")
        for k, v in e["shares"].items():
            lines.append(f"  {k:<22}{v['sim']!s:>26}{v['cresci']!s:>26}{v['diff']!s:>8}")
        for k, v in e["means"].items():
            lines.append(f"  {k:<22}{v['sim']!s:>26}{v['cresci']!s:>26}")
    lines.append("ok" if report["ok"] else "failures:\n  " + "\n  ".join(report["failures"]))
    return "\n".join(lines)
