"""Reference marginals measured on the Cresci et al. 2015 data, and sampling from them.

The simulator draws profile counts that the follow graph does not determine (posts, likes,
lists, account age) from the marginals of two real groups of Twitter accounts published
by Cresci et al. (2015, "Fame for sale", Decision Support Systems 80): **E13**, 1,481
humans verified by hand, and **INT**, 1,337 fake followers bought from intertwitter.com.
The quantiles below were measured once on ``E13_users.csv`` and ``INT_users.csv`` (Twitter
v1.1 user fields, observed 2015-02-14) with DuckDB's ``quantile_disc``;
:func:`load_cresci` recomputes them from the CSV files when they are at hand.

Examples
--------
>>> import numpy as np
>>> from trueclout.simulate.reference import CRESCI, sample_quantiles
>>> CRESCI["human"]["quantiles"]["posts_count"][7]   # the median of E13
992
>>> x = sample_quantiles("human", "posts_count", np.linspace(0.01, 0.99, 99))
>>> int(np.median(x))
992
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Probability levels of the quantile tables.
LEVELS = np.array([0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0])

#: Count metrics of the tables (Cresci's names in brackets in the docs: ``friends_count``
#: is our ``following_count``, ``statuses_count`` our ``posts_count``, ``favourites_count``
#: our ``likes_count``). ``age_days`` is ``updated - created_at`` in days.
METRICS = ("followers_count", "following_count", "posts_count", "likes_count",
           "listed_count", "age_days")

#: Profile-completeness and handle shares compared by the calibration report.
SHARES = ("description", "url", "location", "default_profile_image", "handle_digits",
          "name_digits", "handle_underscore", "handle_upper")

#: Measured on cresci-2015 E13 (group ``human``) and INT (group ``fake``).
CRESCI: dict[str, dict[str, Any]] = {
    "human": {
        "dataset": "E13", "rows": 1481,
        "quantiles": {
            "followers_count": [0, 4, 13, 21, 37, 54, 77, 102, 141, 206, 325, 656, 1228,
                                4573, 408372],
            "following_count": [0, 18, 41, 63, 98, 137, 178, 226, 284, 369, 548, 918, 1449,
                                2002, 12773],
            "posts_count": [3, 14, 54, 107, 232, 421, 642, 992, 1407, 2277, 3907, 7760,
                            15238, 32223, 79876],
            "likes_count": [0, 0, 0, 0, 2, 6, 13, 29, 57, 116, 266, 769, 1834, 7862, 44349],
            "listed_count": [0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 4, 9, 20, 67, 744],
            "age_days": [719, 730, 783, 840, 1007, 1107, 1172, 1234, 1381, 1592, 1825, 2047,
                         2138, 2707, 2871],
        },
        "shares": {"description": 0.988, "url": 0.313, "location": 0.668,
                   "default_profile_image": 0.003, "handle_digits": 0.218,
                   "name_digits": 0.016, "handle_underscore": 0.195, "handle_upper": 0.525},
        "means": {"name_length": 13.1, "handle_length": 10.8, "description_length": 84.6},
    },
    "fake": {
        "dataset": "INT", "rows": 1337,
        "quantiles": {
            "followers_count": [0, 0, 1, 2, 12, 14, 16, 18, 19, 21, 23, 25, 27, 35, 73],
            "following_count": [0, 16, 24, 42, 264, 290, 316, 344, 395, 515, 566, 630, 685,
                                850, 1998],
            "posts_count": [0, 1, 2, 4, 24, 28, 31, 36, 41, 48, 56, 63, 69, 115, 1576],
            "likes_count": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1402],
            "listed_count": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            "age_days": [655, 657, 719, 722, 962, 964, 965, 965, 965, 966, 966, 966, 966,
                         966, 2113],
        },
        "shares": {"description": 0.811, "url": 0.0, "location": 0.959,
                   "default_profile_image": 0.003, "handle_digits": 0.036,
                   "name_digits": 0.0, "handle_underscore": 0.0, "handle_upper": 0.111},
        "means": {"name_length": 13.0, "handle_length": 11.2, "description_length": 82.8},
    },
}


def sample_quantiles(group: str, metric: str, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling from a Cresci quantile table.

    Values between two tabulated quantiles are interpolated linearly in ``log1p`` space,
    so heavy tails stay heavy; the result is rounded to integers.

    Parameters
    ----------
    group : {"human", "fake"}
        E13 humans or INT fakes.
    metric : str
        One of :data:`METRICS`.
    u : numpy.ndarray
        Probabilities in ``[0, 1]`` (for example ``scipy.special.ndtr`` of a latent
        normal, to correlate the draw with other attributes).

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> import numpy as np
    >>> sample_quantiles("fake", "following_count", np.array([0.5, 1.0])).tolist()
    [344, 1998]
    """
    q = np.log1p(np.asarray(CRESCI[group]["quantiles"][metric], dtype=np.float64))
    return np.rint(np.expm1(np.interp(u, LEVELS, q))).astype(np.int64)


def load_cresci(data_dir: str | Path) -> dict[str, dict[str, Any]] | None:
    """Recompute the reference figures of :data:`CRESCI` from the CSV files.

    Parameters
    ----------
    data_dir : str or Path
        A folder holding ``E13_users.csv`` and ``INT_users.csv``, or a folder with a
        ``cresci-2015`` subfolder holding them.

    Returns
    -------
    dict or None
        The same shape as :data:`CRESCI` (with ``quantiles`` at :data:`LEVELS`), or
        ``None`` when the files are absent.

    Examples
    --------
    >>> load_cresci("/nonexistent") is None
    True
    """
    d = Path(data_dir)
    if (d / "cresci-2015").is_dir():
        d = d / "cresci-2015"
    files = {"human": d / "E13_users.csv", "fake": d / "INT_users.csv"}
    if not all(p.is_file() for p in files.values()):
        return None
    import duckdb

    con = duckdb.connect()
    out: dict[str, dict[str, Any]] = {}
    levels = [float(x) for x in LEVELS]
    cols = {"followers_count": "followers_count", "following_count": "friends_count",
            "posts_count": "statuses_count", "likes_count": "favourites_count",
            "listed_count": "listed_count"}
    for group, path in files.items():
        lit = "'" + str(path).replace("'", "''") + "'"
        con.execute(
            "CREATE OR REPLACE TEMP VIEW v AS SELECT *, date_diff('day', "
            "strptime(created_at, '%a %b %d %H:%M:%S %z %Y'), updated::TIMESTAMPTZ) AS age "
            f"FROM read_csv({lit}, all_varchar=true, nullstr=['NULL', ''])")
        quantiles = {}
        for metric, col in [*cols.items(), ("age_days", "age")]:
            quantiles[metric] = [int(x) for x in con.execute(
                f"SELECT quantile_disc({col}::BIGINT, ?) FROM v", [levels]).fetchone()[0]]
        row = con.execute(
            "SELECT count(*), avg((description IS NOT NULL)::INT), avg((url IS NOT NULL)::INT),"
            " avg((location IS NOT NULL)::INT),"
            " avg((coalesce(default_profile_image, '0') = '1')::INT),"
            " avg(regexp_matches(screen_name, '[0-9]')::INT),"
            " avg(regexp_matches(name, '[0-9]')::INT),"
            " avg(regexp_matches(screen_name, '_')::INT),"
            " avg(regexp_matches(screen_name, '[A-Z]')::INT),"
            " avg(length(name)), avg(length(screen_name)), avg(length(description)) "
            "FROM v").fetchone()
        out[group] = {
            "dataset": "E13" if group == "human" else "INT", "rows": int(row[0]),
            "quantiles": quantiles,
            "shares": {k: round(float(v), 3) for k, v in zip(SHARES, row[1:9])},
            "means": {"name_length": round(float(row[9]), 1),
                      "handle_length": round(float(row[10]), 1),
                      "description_length": round(float(row[11]), 1)},
        }
    con.close()
    return out
