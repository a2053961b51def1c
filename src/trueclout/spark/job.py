"""A batch job for ``spark-submit``: read a Parquet layout, write the results as Parquet.

::

    spark-submit --master yarn job.py --input s3a://bucket/platform \\
        --output s3a://bucket/results --ops degrees,features,pagerank,truerank,reach

(``job.py`` is this file: ``python -c "import trueclout.spark.job as j; print(j.__file__)"``
prints its path.) Each operation writes ``<output>/<op>/`` with ``platform``,
``account_id`` and its columns; ``truerank`` and ``reach`` need the layout's
``detection.parquet`` (``trueclout export``). Prints one JSON line with the seconds of
each operation.

Examples
--------
>>> parse_args(["--input", "in", "--output", "out"]).ops
'degrees,features,pagerank,truerank,reach'
"""

from __future__ import annotations

import argparse
import json
import sys
import time

OPS = ("degrees", "features", "pagerank", "truerank", "reach")


def parse_args(argv):
    """The job's arguments.

    Examples
    --------
    >>> parse_args(["--input", "a", "--output", "b", "--ops", "pagerank"]).ops
    'pagerank'
    """
    p = argparse.ArgumentParser(prog="trueclout-spark-job", description=__doc__.split("\n")[0])
    p.add_argument("--input", required=True, help="Parquet folder or URL (the layout)")
    p.add_argument("--output", required=True, help="folder or URL for the results")
    p.add_argument("--ops", default=",".join(OPS), help="comma-separated: " + ", ".join(OPS))
    p.add_argument("--mode", default="overwrite", help="Spark save mode")
    return p.parse_args(argv)


def run(spark, input_path: str, output: str, ops, mode: str = "overwrite") -> dict:
    """Run ``ops`` on the layout at ``input_path``, writing under ``output``.

    Returns
    -------
    dict
        Accounts, follows and the seconds of each operation.

    Examples
    --------
    >>> run  # doctest: +ELLIPSIS
    <function run at ...>
    """
    from ..errors import UsageError
    from . import pagerank as P
    from .features import account_features, degrees
    from .layout import read_layout
    from .reach import authentic_reach
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise UsageError(f"unknown operation {bad[0]!r}; choose from {', '.join(OPS)}")
    t0 = time.perf_counter()
    L = read_layout(spark, input_path)
    out = {"accounts": L.n, "seconds": {"read": round(time.perf_counter() - t0, 3)}}
    trust = None

    def save(name, df):
        df = df if "platform" in df.columns else L.names(df)
        df.drop("id").write.mode(mode).parquet(f"{output.rstrip('/')}/{name}")

    for op in ops:
        t = time.perf_counter()
        if op == "degrees":
            save(op, degrees(L))
        elif op == "features":
            save(op, account_features(L))
        elif op == "pagerank":
            save(op, P.pagerank(L))
        else:
            if trust is None:
                trust = P.trust(L)
            save(op, P.truerank(L, trust_df=trust) if op == "truerank"
                 else authentic_reach(L, trust))
        out["seconds"][op] = round(time.perf_counter() - t, 3)
    return out


def main(argv=None) -> int:
    """Entry point (``spark-submit job.py ...`` or ``python -m trueclout.spark.job``).

    Examples
    --------
    >>> main  # doctest: +ELLIPSIS
    <function main at ...>
    """
    from ..errors import TruecloutError
    from .session import spark_session
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        res = run(spark_session(), args.input, args.output,
                  [o.strip() for o in args.ops.split(",") if o.strip()], args.mode)
    except TruecloutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(res))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
