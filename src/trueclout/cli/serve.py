"""Commands of the service (registered on import by :mod:`trueclout.cli`): ``serve`` (the
API and the dashboard under uvicorn) and ``keys create`` / ``keys list`` / ``keys revoke
PREFIX``.

The server is the store's single writer while it runs; it writes ``<store>.server.json``
(:mod:`trueclout.store.holder`) with its address and a key of its own, so that ``keys``
and the reading commands ask it through its API meanwhile (:mod:`trueclout.cli.remote`).

Examples
--------
>>> from typer.testing import CliRunner
>>> from trueclout.cli import app
>>> r = CliRunner().invoke(app, ["keys", "create", "--help"])
>>> r.exit_code, "--scope" in r.output
(0, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .. import config
from ..errors import UsageError
from ..store.holder import remove_holder, write_holder
from .common import DbOption, JsonOption, resolve_db, print_json, app, err, out
from .remote import server_for

keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command(help="Serve the REST API (under /api/v1) and the dashboard (under /) with "
                  "uvicorn. The server is the store's single writer while it runs. On a "
                  "loopback --host the dashboard is open; on any other address its pages "
                  "ask for an API key too.")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    cors: Optional[List[str]] = typer.Option(None, "--cors-origin", help="Allow browser "
                                             "calls from this origin (repeat; CORS is off "
                                             "by default)."),
    db: Optional[Path] = DbOption,
) -> None:
    if not 0 < port < 65536:
        raise UsageError("--port must be between 1 and 65535")
    import uvicorn
    from ..api.app import create_app
    path = resolve_db(db)
    if not Path(path).exists():
        raise UsageError(f"store {path} does not exist; run `trueclout demo`, `trueclout "
                         "simulate` or `trueclout ingest` first")
    from ..api.web.pages import is_loopback
    web_auth = not is_loopback(host)
    application = create_app(path, cors_origins=cors or None, web_auth=web_auth)
    # the lock file: where this server listens, with a key that lives only in its
    # memory, so the commands of the same user talk to it while it holds the store
    local = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    write_holder(path, {"url": url, "key": application.state.keys.add_local("admin")})
    application.state.on_shutdown.append(lambda: remove_holder(path))
    err.print(f"trueclout: dashboard at http://{host}:{port}/ , API at "
              f"http://{host}:{port}/api/v1 (OpenAPI: /api/v1/openapi.json); Ctrl+C stops",
              highlight=False)
    if web_auth:
        err.print(f"trueclout: {host} is not a loopback address, so the dashboard asks for "
                  "an API key (sign in with a read key from `trueclout keys create`)",
                  highlight=False)
    # SIGTERM or Ctrl+C: requests in flight get api_shutdown_grace_s to finish, then the
    # app's shutdown stops the jobs (interrupted at their next progress report, or
    # marked interrupted after the same grace); uvicorn then re-raises the signal.
    grace = float(config.get("api_shutdown_grace_s"))
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=max(1, int(round(grace))))
    finally:
        remove_holder(path)


@keys_app.command("create", help="Create an API key and print it once (only its salted "
                                 "hash is stored).")
def keys_create(
    scope: str = typer.Option(..., "--scope", help="read (GET requests and plan) or admin "
                              "(also ingest and detection runs)."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    from ..api.auth import create_key, split_key
    from ..store import Store
    from ..store.keys import SCOPES
    if scope not in SCOPES:
        raise UsageError(f"--scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        key = remote.post("/keys", {"scope": scope})["key"]
    else:
        with Store(resolve_db(db)) as store:
            key = create_key(store, scope)
    if as_json:
        print_json({"key": key, "prefix": split_key(key), "scope": scope})
        return
    out.print(key, highlight=False)
    err.print(f"{scope} key created; store it now, it is not shown again. Send it as "
              "'Authorization: Bearer <key>' or 'X-API-Key: <key>'.", highlight=False)


@keys_app.command("list", help="List the API keys (prefix, scope, created, revoked); never "
                               "the keys themselves.")
def keys_list(db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    from ..store import Store
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        rows = remote.pages("/keys")
    else:
        with Store(resolve_db(db), read_only=True) as store:
            rows = store.api_keys()
    if as_json:
        print_json({"keys": rows})
        return
    t = Table()
    for c in ("id", "prefix", "scope", "created", "revoked"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["key_id"]), r["prefix"], r["scope"], str(r["created_at"])[:19],
                  "yes" if r["revoked"] else "")
    out.print(t)


@keys_app.command("revoke", help="Revoke an API key by its prefix (the 8 hex digits after "
                                 "'tc_', shown by `keys list`), its id, or the key itself. "
                                 "Stop the server first (it holds the store); while it "
                                 "runs, revoke with DELETE /api/v1/keys/PREFIX instead.")
def keys_revoke(key: str = typer.Argument(..., metavar="PREFIX",
                                          help="The key's prefix, its id, or the key."),
                db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    from ..api.auth import split_key
    from ..store import Store
    spec = key.strip()
    remote = server_for(resolve_db(db))
    if remote is not None:              # the server holds the store: ask it
        prefix = split_key(spec) or spec.lower()
        if not (len(prefix) == 8 and all(c in "0123456789abcdef" for c in prefix)):
            raise UsageError(f"give the key's prefix (8 hex digits, see `trueclout keys "
                             f"list`) while {remote.describe()} holds the store")
        got = remote.delete(f"/keys/{prefix}")
        if as_json:
            print_json(got)
            return
        out.print(f"key {got['revoked']} (id {got['key_id']}) revoked", highlight=False)
        return
    with Store(resolve_db(db)) as store:
        prefix = split_key(spec) or spec.lower()
        row = store.api_key(prefix) if len(prefix) == 8 else None
        if row is None and spec.isdigit():
            row = next((r for r in store.api_keys() if r["key_id"] == int(spec)), None)
        if row is None:
            raise UsageError(f"no API key {spec!r} (see `trueclout keys list`)")
        store.revoke_api_key(row["key_id"])
    if as_json:
        print_json({"revoked": row["prefix"], "key_id": row["key_id"]})
        return
    out.print(f"key {row['prefix']} (id {row['key_id']}) revoked", highlight=False)
