"""How much each account counts as an audience member: the authentic weight.

Every score of this stage counts followers and interactions, but only authentic, active
ones. An account's weight as a voter is::

    weight = gate(authenticity) * activity
    gate(a) = σ((a − mid) / width) / σ((1 − mid) / width)      (so gate(1) = 1)

with ``mid = score_gate_mid`` and ``width = score_gate_width`` (logistic, so a small change
of authenticity never makes a cliff), and ``activity`` 1 for active accounts and
``score_inactive_weight`` for those the ensemble calls inactive. Suspicious accounts are
those the ensemble flags (``labels_ == 1``); discovery and suggestions never return them.

Examples
--------
>>> import numpy as np
>>> gate(np.array([0.0, 0.3, 0.5, 0.7, 1.0])).round(3).tolist()
[0.0, 0.034, 0.5, 0.966, 1.0]
"""

from __future__ import annotations

import numpy as np

from .. import config


def gate(authenticity: np.ndarray, *, mid: float | None = None,
         width: float | None = None) -> np.ndarray:
    """The smooth authenticity gate, 0 for fakes and 1 for real accounts.

    Parameters
    ----------
    authenticity : array
        1 means real (the ensemble's ``authenticity_``).
    mid, width : float, optional
        Default from config ``score_gate_mid`` and ``score_gate_width``.

    Returns
    -------
    float64 array in [0, 1]

    Examples
    --------
    >>> round(float(gate(np.array([0.5]))[0]), 3)
    0.5
    """
    m = float(config.value("score_gate_mid", mid))
    w = float(config.value("score_gate_width", width))
    if w <= 0:
        raise ValueError("width must be positive")
    a = np.asarray(authenticity, dtype=np.float64)
    top = 1.0 / (1.0 + np.exp(-(1.0 - m) / w))
    with np.errstate(over="ignore"):
        g = 1.0 / (1.0 + np.exp(-(a - m) / w))
    return np.clip(g / top, 0.0, 1.0)


def authentic_weights(authenticity: np.ndarray, category: np.ndarray | None = None, *,
                      inactive_weight: float | None = None) -> np.ndarray:
    """Weight of every account as an audience member: ``gate(authenticity) * activity``.

    Parameters
    ----------
    authenticity : array
    category : array of str, optional
        The ensemble's ``category_``; accounts in ``"inactive"`` count
        ``score_inactive_weight``.
    inactive_weight : float, optional

    Returns
    -------
    float32 array

    Examples
    --------
    >>> w = authentic_weights(np.array([1.0, 1.0, 0.0]), np.array(["real", "inactive", "fake"]))
    >>> [round(float(x), 2) for x in w]
    [1.0, 0.3, 0.0]
    """
    w = gate(authenticity)
    if category is not None:
        iw = float(config.value("score_inactive_weight", inactive_weight))
        w = np.where(np.asarray(category).astype(str) == "inactive", w * iw, w)
    return w.astype(np.float32)
