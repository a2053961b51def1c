"""Privacy commands: forget an account."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import UsageError
from .common import DbOption, JsonOption, resolve_db, print_json, app, err, out


@app.command(help="Forget an account: delete it and everything derived from it (profile, "
                  "snapshots, follows both ways, posts, interactions, labels, terms, scores "
                  "of every run, raw crawl records, rejected rows), the report files that "
                  "name it, and the API's cached answers. ACCOUNT is platform:account_id, an "
                  "account id or @handle; in a pseudonymised store also the original id or "
                  "handle (mapped through the key file).")
def forget(
    account: str = typer.Argument(..., help="platform:account_id, an account id or @handle."),
    platform: Optional[str] = typer.Option(None, "--platform",
                                           help="Only this platform's accounts."),
    reports: Optional[List[Path]] = typer.Option(
        None, "--reports", help="Also delete report files (.html, .json, .md, .csv, .txt) "
        "naming the account in this file or folder (repeatable); reports written from "
        "the store are found through its index <db>.reports anyway."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    compact: bool = typer.Option(True, "--compact/--no-compact", help="Rewrite the store "
                                 "file afterwards, so the deleted rows leave the disk too "
                                 "(DuckDB keeps deleted data in free blocks until they are "
                                 "reused); takes about as long as copying the store."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..privacy import Pseudonymizer, forget_reports, resolve_forget
    from ..score.saved import forget_saved
    from ..store import Store
    path = resolve_db(db)
    if path != ":memory:" and not Path(path).exists():
        raise UsageError(f"store {path} does not exist")
    with Store(path) as store:
        pz = None
        key_id = store.pseudonym_key_id()
        if key_id is not None:
            try:
                pz = Pseudonymizer.from_key_file(create=False)
            except UsageError as exc:
                err.print(f"{exc}: only pseudonyms can be forgotten", style="yellow")
            if pz is not None and pz.key_id != key_id:
                err.print("the key file is not this store's key: only pseudonyms can be "
                          "forgotten", style="yellow")
                pz = None
        found = resolve_forget(store, account, platform=platform, pseudonymizer=pz)
        names = ", ".join(f"{a['platform']}:{a['account_id']}" for a in found)
        if not yes:
            if as_json or not sys.stdin.isatty():
                raise UsageError("forget deletes data for good: pass --yes to confirm")
            if not typer.confirm(f"Delete {names} and everything derived from it?"):
                raise typer.Exit(1)
        deleted = store.forget_accounts([a["uid"] for a in found])
        generation = store.data_generation()
        # the saved score contexts hold the forgotten rows too (their key no longer
        # matches, but the files must go)
        saved = forget_saved(path)
        compacted = False
        if compact and path != ":memory:":
            # copy the live rows into a fresh file and put it in the old one's place while
            # this process still holds the store's lock
            import os
            import shutil
            tmp = path + ".forget-tmp"
            if os.path.exists(tmp):
                os.remove(tmp)
            store.copy_to(tmp)
            shutil.copymode(path, tmp)
            os.replace(tmp, path)
            compacted = True
    files = forget_reports(path, found, reports or [])
    result = {"accounts": [{"platform": a["platform"], "account_id": a["account_id"]}
                           for a in found],
              "deleted": deleted, "reports_deleted": files, "data_generation": generation,
              "saved_contexts_deleted": saved,
              "compacted": compacted, "db": path}
    if as_json:
        print_json(result)
        return
    out.print(f"forgot {names}")
    for table, n in deleted.items():
        if n:
            out.print(f"  {table}: {n:,}")
    for f in files:
        out.print(f"  report deleted: {f}")
