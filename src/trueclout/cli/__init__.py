"""The ``trueclout`` command line.

Exit codes: 0 success, 1 bad data (or a store problem), 2 usage error. With ``--json`` a
command prints one JSON document on standard output; errors then also print as
``{"error": {...}}`` in the one error shape of :meth:`trueclout.errors.TruecloutError.to_dict`.

Examples
--------
>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--help"])
>>> result.exit_code, "ingest" in result.output
(0, True)
"""

from __future__ import annotations

import os
import sys

from ..errors import TruecloutError
from .common import print_json, app, err, eval_app, styled
from . import (crawl, data, detect, demo, discover, eval_manipulation, export,  # noqa: F401
               privacy, score, serve, suggest, topics, watch)  # importing registers
from ..graph.stats import compute_stats
from .detect import detection_table

__all__ = ["app", "eval_app", "main", "compute_stats", "detection_table", "data", "detect",
           "discover", "eval_manipulation", "export", "score", "suggest", "topics",
           "demo"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trueclout`` console script; returns the exit code.

    Examples
    --------
    >>> main(["--version"])
    trueclout 0.1.0
    0
    """
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        app(args=args, prog_name="trueclout")  # standalone: usage errors exit 2
        return 0
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except TruecloutError as exc:
        err.print(styled("Error:", "red", str(exc)), highlight=False)
        if as_json:
            print_json({"error": exc.to_dict()})
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # a bug: say so in one line, traceback on request
        if os.environ.get("TRUECLOUT_DEBUG"):
            raise
        err.print(styled("Internal error:", "red", f"{type(exc).__name__}: {exc} (set "
                         "TRUECLOUT_DEBUG=1 for the traceback, and please report it)"),
                  highlight=False)
        if as_json:
            print_json({"error": {"type": "InternalError", "message": str(exc),
                                   "path": None, "line": None, "field": None}})
        return 1


def _console_main() -> None:  # pragma: no cover - thin wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _console_main()
