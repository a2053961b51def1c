"""Leave-one-source-out on the labelled real data sets: how the authenticity classifier
does on each source it never saw (``make eval``; also a phase of ``make bench``).

Usage::

    python benchmarks/bench_sources.py [--data ../shared/data] [--out DIR] [--quick]

Every set of :data:`trueclout.detect.default.DEFAULT_SOURCES` is ingested into a
temporary store; :func:`trueclout.evaluate.sources.evaluate_sources` trains with
each source held out in turn and reports AUC, MCC at the tool's threshold, fakes caught,
humans flagged and ECE per source, with within-source cross-validation for contrast.
``--quick`` keeps the classifier small (40 boosting rounds) and skips the in-set figures.
``run(quick)`` returns the result for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def run(quick: bool = False, data: Path = DATA) -> dict | None:
    """The leave-one-source-out result, or None when the data sets are absent."""
    from trueclout.detect.default import DEFAULT_SOURCES
    from trueclout.evaluate.sources import evaluate_sources
    from trueclout.ingest.run import ingest
    from trueclout.store import Store

    if not all((data / s).is_dir() for s in DEFAULT_SOURCES):
        return None
    params = {"max_iter": 40} if quick else {}
    with tempfile.TemporaryDirectory(prefix="trueclout-sources-") as tmp:
        with Store(str(Path(tmp) / "labelled.duckdb")) as store:
            t0 = time.perf_counter()
            for s in DEFAULT_SOURCES:
                ingest(store, [data / s])
            ingest_s = time.perf_counter() - t0
            result = evaluate_sources(store, in_set=not quick, progress=lambda m: print(
                f"[{time.strftime('%H:%M:%S')}] {m}", file=sys.stderr, flush=True), **params)
    result["ingest_seconds"] = round(ingest_s, 1)
    return result


def rows(result: dict | None) -> list[tuple[str, str, str]]:
    """Lines ``(name, figure, note)`` for the summary table of ``benchmarks/run.py``."""
    if not result:
        return [("held-out sources", "skipped", "no labelled data")]
    out = [("held-out sources: mean AUC", str(result.get("mean_held_out_auc")),
            f"{result['seconds']:.0f} s")]
    for r in result["held_out"]:
        out.append((f"  {r['source']}", f"AUC {r['auc']}", f"MCC {r['mcc']}, fakes caught "
                    f"{r['fakes_caught']}, humans flagged {r['humans_flagged']}"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "eval-results")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    result = run(args.quick, args.data)
    if result is None:
        print(f"labelled data sets not found under {args.data}", file=sys.stderr)
        return 1
    from trueclout.evaluate.sources import markdown_sources
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sources.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (args.out / "sources.md").write_text(markdown_sources(result))
    print(markdown_sources(result))
    print(f"written to {args.out / 'sources.json'} and {args.out / 'sources.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
