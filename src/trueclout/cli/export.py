"""Commands of the scale stage: ``export`` (a store as a Parquet folder, for Spark and
other engines) and ``features`` (the account feature table, local or on Spark);
registered on import by :mod:`trueclout.cli`.

Examples
--------
>>> from typer.testing import CliRunner
>>> from trueclout.cli import app
>>> r = CliRunner().invoke(app, ["export", "--help"])
>>> r.exit_code, "--out" in r.output
(0, True)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from .common import (DbOption, JsonOption, ModelOption, check_out, resolve_db, print_json, progress_bar,
                     write_table, app, out)

BackendOption = typer.Option("local", "--backend", help="local (numba over CSR, default) "
                             "or spark (PySpark DataFrame jobs; settings spark_*).")


@app.command(help="Write the store's accounts, follows, interactions and labels as a Parquet "
                  "folder in the simulator's layout, with the detection output "
                  "(detection.parquet) that TrueRank, reach and overlap on Spark read.")
def export(
    out_dir: Path = typer.Option(..., "--out", help="Folder to write (created; its tables "
                                 "are replaced)."),
    detection: bool = typer.Option(True, "--detection/--no-detection", help="Fit detection "
                                   "and write detection.parquet."),
    model: Optional[str] = ModelOption,
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..spark.layout import export_layout
    from ..store import Store
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    t0 = time.perf_counter()
    if detection:
        from .score import score_context_cli
        with score_context_cli(db, model, as_json) as ctx, \
                progress_bar(not as_json) as progress:
            progress.add_task("writing Parquet", total=None, rows="")
            rows = export_layout(ctx.store, out_dir, ctx)
    else:
        with Store(resolve_db(db), read_only=True) as store, progress_bar(not as_json) as progress:
            progress.add_task("writing Parquet", total=None, rows="")
            rows = export_layout(store, out_dir)
    summary = {"out": str(out_dir), "rows": rows,
               "seconds": round(time.perf_counter() - t0, 3)}
    if as_json:
        print_json(summary)
        return
    out.print(f"wrote {out_dir}: " + ", ".join(f"{k} {v:,}" for k, v in rows.items())
              + f" in {summary['seconds']:.1f} s")


@app.command(help="Compute the per-account feature table of detection: every feature "
                  "locally, or the degree, reciprocity, count and graph features on Spark.")
def features(
    out_path: Path = typer.Option(..., "--out", help="FILE.csv or FILE.parquet."),
    backend: str = BackendOption,
    layout: Optional[Path] = typer.Option(None, "--layout", help="With --backend spark: read "
                                          "this Parquet folder (or URL) instead of the store."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..spark.backend import check_backend
    check_backend(backend)
    check_out(out_path)
    if layout is not None and backend != "spark":
        raise UsageError("--layout needs --backend spark")
    t0 = time.perf_counter()
    with progress_bar(not as_json) as progress:
        progress.add_task(f"features ({backend})", total=None, rows="")
        if backend == "spark":
            from ..spark.backend import feature_table
            if layout is not None:
                table = feature_table(None, str(layout))
            else:
                from ..store import Store
                with Store(resolve_db(db), read_only=True) as store:
                    table = feature_table(store)
        else:
            import pyarrow as pa
            from ..detect.data import DetectionData
            from ..detect.features import account_features
            from ..store import Store
            with Store(resolve_db(db), read_only=True) as store:
                data = DetectionData.from_store(store)
            X, names = account_features(data)
            cols = {"platform": data.graph.names.column("platform").cast(pa.string()),
                    "account_id": data.graph.names.column("account_id")}
            cols.update({name: pa.array(X[:, j]) for j, name in enumerate(names)})
            table = pa.table(cols)
    write_table(table, out_path)
    summary = {"backend": backend, "accounts": table.num_rows,
               "features": table.num_columns - 2, "out": str(out_path),
               "seconds": round(time.perf_counter() - t0, 3)}
    if as_json:
        print_json(summary)
        return
    out.print(f"{summary['accounts']:,} accounts × {summary['features']} features "
              f"({backend}) written to {out_path} in {summary['seconds']:.1f} s")
