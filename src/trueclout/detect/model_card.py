"""The model card of a trained authenticity model: what it learned from and how it does
on sources it never saw (Mitchell et al. 2019, "Model Cards for Model Reporting").

:func:`model_card` writes markdown from the model and its training report: the sources
and their counts, the field sets and features, the leave-one-source-out table, the
in-set figures for contrast, the intended use and the known failures (every held-out
source where the model falls short is named with its figures).

Examples
--------
>>> from trueclout.detect.classifier import AuthenticityClassifier, toy_training_set
>>> import numpy as np
>>> X, y = toy_training_set()
>>> m = AuthenticityClassifier(max_iter=3).fit(X, y)
>>> model_card(m, {"held_out": [], "accounts": {"per_source": {}}}).splitlines()[0]
'# Model card: trueclout authenticity classifier'
"""

from __future__ import annotations

import os
from pathlib import Path

from .classifier import AuthenticityClassifier
from .fieldsets import BY_NAME, field_set_table

#: Below these held-out figures a source is listed as a known failure.
_WEAK_AUC = 0.8
_WEAK_RECALL = 0.5
_WEAK_HUMANS = 0.1


def _f(x, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.1f}%" if pct else f"{x:.3f}"


def held_out_table(rows: list[dict]) -> str:
    """The leave-one-source-out rows as a markdown table.

    Examples
    --------
    >>> held_out_table([{"source": "s", "real": 1, "fake": 1, "auc": 1.0, "mcc": 1.0,
    ...                  "fakes_caught": 1.0, "humans_flagged": 0.0, "ece": 0.0,
    ...                  "field_sets": {"profile": 2}}]).splitlines()[2]
    '| s | 1 | 1 | 1.000 | 1.000 | 100.0% | 0.0% | 0.000 | profile 2 |'
    """
    lines = ["| held-out source | humans | fakes/bots | AUC | MCC | fakes caught | "
             "humans flagged | ECE | decided by |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fs = ", ".join(f"{k} {v:,}" for k, v in (r.get("field_sets") or {}).items())
        name = r["source"] + ("" if r.get("trained_on", True) else " (not trained on)")
        lines.append(f"| {name} | {r['real']:,} | {r['fake']:,} | {_f(r.get('auc'))} | "
                     f"{_f(r.get('mcc'))} | {_f(r.get('fakes_caught'), True)} | "
                     f"{_f(r.get('humans_flagged'), True)} | {_f(r.get('ece'))} | {fs} |")
    return "\n".join(lines)


def in_set_table(rows: dict[str, dict]) -> str:
    """In-set cross-validation figures as a markdown table.

    Examples
    --------
    >>> in_set_table({"s": {"auc": 0.99, "mcc": 0.9}}).splitlines()[2]
    '| s | 0.990 | 0.900 |'
    """
    lines = ["| source (3-fold CV within it) | AUC | MCC |", "|---|---|---|"]
    for s, r in rows.items():
        lines.append(f"| {s} | {_f(r.get('auc'))} | {_f(r.get('mcc'))} |")
    return "\n".join(lines)


def field_set_figures(model: AuthenticityClassifier) -> str:
    """Per trained field set: accounts and its pooled held-out figures.

    Examples
    --------
    >>> from trueclout.detect.classifier import toy_training_set
    >>> m = AuthenticityClassifier(max_iter=3).fit(*toy_training_set())
    >>> field_set_figures(m).splitlines()[0]
    '| field set | humans | fakes/bots | held out by | AUC | sensitivity | specificity | ECE |'
    """
    lines = ["| field set | humans | fakes/bots | held out by | AUC | sensitivity | "
             "specificity | ECE |", "|---|---|---|---|---|---|---|---|"]
    for name, m in model.models_.items():
        e = m.evaluation
        lines.append(f"| `{name}` | {m.n_real:,} | {m.n_fake:,} | {e.get('method')} | "
                     f"{_f(e.get('auc'))} | {_f(e.get('sensitivity'))} | "
                     f"{_f(e.get('specificity'))} | {_f(e.get('ece'))} |")
    return "\n".join(lines)


def known_failures(rows: list[dict]) -> list[str]:
    """Held-out sources where the model falls short, in words.

    Examples
    --------
    >>> known_failures([{"source": "s", "auc": 0.6, "real": 5, "fake": 5}])
    ['s: AUC 0.600 when never seen in training']
    """
    out = []
    for r in rows:
        bits = []
        if r.get("auc") is not None and r["auc"] < _WEAK_AUC:
            bits.append(f"AUC {r['auc']:.3f} when never seen in training")
        if r.get("fake") and not r.get("real") and r.get("fakes_caught") is not None \
                and r["fakes_caught"] < _WEAK_RECALL:
            bits.append(f"only {100 * r['fakes_caught']:.0f}% of its bots caught")
        if r.get("humans_flagged") is not None and r["humans_flagged"] > _WEAK_HUMANS:
            bits.append(f"{100 * r['humans_flagged']:.0f}% of its humans flagged")
        if bits:
            out.append(f"{r['source']}: " + "; ".join(bits))
    return out


def selection_section(selection: dict | None) -> list[str]:
    """Lines on the choice of training sources (empty without a selection).

    Examples
    --------
    >>> selection_section({"chosen": ["a"], "dropped": ["b"], "score": 0.9, "trace": [
    ...     {"mix": ["a", "b"], "score": 0.8}, {"mix": ["a"], "score": 0.9}]})[2]
    'Kept: a. Left out of training (still scored as held out): b.'
    """
    if not selection:
        return []
    lines = ["## Training mix", "",
             f"Kept: {', '.join(selection['chosen'])}. Left out of training (still scored "
             f"as held out): {', '.join(selection['dropped']) or 'none'}.", "",
             "Chosen by greedy backward elimination on the mean held-out AUC of the "
             "`profile` field set over every source (Yang et al. 2020): each round drops the "
             "source whose removal raises it most, while it rises by at least 0.002.", "",
             "| sources left out | mean held-out AUC |", "|---|---|"]
    everyone = set().union(*(set(t["mix"]) for t in selection.get("trace") or [])) or \
        set(selection["chosen"]) | set(selection["dropped"])
    for t in selection.get("trace") or []:
        gone = sorted(everyone - set(t["mix"]))
        lines.append(f"| {', '.join(gone) or '(none)'} | {t['score']:.3f} |")
    return lines + [""]


def sweep_table(sweep: list[dict]) -> str:
    """The held-out threshold sweep as markdown: one row per source, one column per
    threshold, ``humans flagged / fakes caught`` in each cell.

    Examples
    --------
    >>> sweep_table([{"threshold": 0.5, "sources": {"s": {"humans_flagged": 0.1,
    ...                                                   "fakes_caught": 0.9}}}]).splitlines()[2]
    '| s | 10% / 90% |'
    """
    if not sweep:
        return ""
    sources = list(sweep[0]["sources"])
    lines = ["| held-out source | " + " | ".join(f"at {r['threshold']}" for r in sweep) + " |",
             "|---|" + "---|" * len(sweep)]
    for s in sources:
        cells = []
        for r in sweep:
            m = r["sources"][s]
            h = "–" if m.get("humans_flagged") is None else f"{100 * m['humans_flagged']:.0f}%"
            f = "–" if m.get("fakes_caught") is None else f"{100 * m['fakes_caught']:.0f}%"
            cells.append(f"{h} / {f}")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_card(model: AuthenticityClassifier, report: dict) -> str:
    """The model card as markdown.

    Parameters
    ----------
    model : AuthenticityClassifier
    report : dict
        From :func:`~trueclout.detect.training.train_model` (``held_out``,
        ``accounts``), optionally with ``in_set`` and ``loads``.
    """
    rows = report.get("held_out") or []
    per = (report.get("accounts") or {}).get("per_source") or {}
    src = "\n".join(f"| {s} | {r:,} | {f:,} |" for s, (r, f) in per.items())
    fails = known_failures(rows)
    parts = [
        "# Model card: trueclout authenticity classifier",
        "",
        "Built by `make model` (`python -m trueclout.detect.default --data ../shared/data`) "
        "from the public labelled data sets beside the project; seeded and without a "
        "timestamp, so the same data and code give the same file. Stored as JSON "
        "(`authenticity.json.gz`): numbers and names only, loading it runs no code.",
        "",
        f"Threshold {model.threshold_} on authenticity "
        f"(P(real) under equal priors); feature schema `{model.feature_schema_}`.",
        "",
        "## Intended use",
        "",
        "Judging whether an account in an audience is a real person or a fake, bought or "
        "automated one, from its public profile: counts, dates, texts and flags. It gives a "
        "calibrated probability, a verdict (real, fake or uncertain) and up to three "
        "reasons. It is one member of `trueclout detect`'s ensemble; the graph detectors "
        "(lockstep follows, follow-back farms, pods, trust, growth) add what a profile "
        "cannot show. Audits correct their fake shares for its measured error rates "
        "(below). Not for: judging one person in isolation with consequences for them, "
        "or content moderation; a verdict is evidence, not proof.",
        "",
        "## Training data",
        "",
        "| source | humans | fakes/bots |", "|---|---|---|", src,
        "",
        "An account labelled by several sets is one row; accounts labelled human by one "
        f"set and fake by another are left out ({(report.get('accounts') or {}).get('conflicting', 0)} "
        "here). Within a class each source weighs the square root of its size.",
        "",
        *selection_section(report.get("selection")),
        "## Field sets and features",
        "",
        "One model per field set; an account is decided by the first field set whose "
        "required fields it has, so a missing field is never evidence.",
        "",
        field_set_table(),
        "",
        "Features per field set: " + "; ".join(
            f"`{n}`: {', '.join(BY_NAME[n].features)}" for n in model.models_) + ".",
        "Left out on purpose: language, time zone, verified, numeric ids and absolute "
        "account age (they name a data set or its year, not behaviour).",
        "",
        "## How it does on sources it never saw (leave-one-source-out)",
        "",
        "Each row: trees trained without that source, probabilities calibrated without it, "
        "every account decided by the field set its own fields give.",
        "",
        held_out_table(rows),
        "",
        "Per field set, pooled over the held-out sources (the error rates audits use):",
        "",
        field_set_figures(model),
    ]
    if report.get("thresholds"):
        parts += ["", "## The threshold", "",
                  f"Predicted fake at authenticity {model.threshold_} or below. Humans "
                  "flagged / fakes caught on each held-out source at other thresholds:", "",
                  sweep_table(report["thresholds"])]
    if report.get("in_set"):
        parts += ["", "## For contrast: in-set cross-validation", "",
                  "Trained and tested within one source: what most papers report, and why "
                  "it says little about a new source (Hays et al. 2023).", "",
                  in_set_table(report["in_set"])]
    parts += ["", "## Known failures", ""]
    parts += [f"- {x}" for x in fails] or ["- none below the card's thresholds"]
    parts += ["- Bots that copy human profiles (social spambots, retweet bots) are hard "
              "from the profile alone; the graph detectors and the engagement analysis are "
              "the better evidence for them.",
              "- A profile unlike every training source (values beyond the training range in "
              "two or more features) is reported as `uncertain`, not decided.", ""]
    return "\n".join(parts)


def write_model_card(model: AuthenticityClassifier, report: dict,
                     path: str | os.PathLike) -> None:
    """Write :func:`model_card` to ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from trueclout.detect.classifier import toy_training_set
    >>> m = AuthenticityClassifier(max_iter=3).fit(*toy_training_set())
    >>> p = Path(tempfile.mkdtemp()) / "CARD.md"
    >>> write_model_card(m, {"held_out": []}, p); p.read_text()[:6]
    '# Mode'
    """
    Path(path).write_text(model_card(model, report))


__all__ = ["model_card", "write_model_card", "held_out_table", "in_set_table",
           "known_failures", "field_set_figures"]
