"""One declarative table of settings.

Every tunable constant of trueclout lives in :data:`SETTINGS`, with its default, its help
text and where the value comes from. Values are read, in rising priority, from the
defaults, a TOML file (``trueclout.toml`` in the working folder, or the file named by
``TRUECLOUT_CONFIG``), environment variables (``TRUECLOUT_<NAME>`` in upper case) and
explicit overrides (CLI flags).

Examples
--------
>>> from trueclout.config import get, SETTINGS
>>> get("db") == "trueclout.duckdb" or "TRUECLOUT_DB" in __import__("os").environ
True
>>> get("ingest_batch_rows", overrides={"ingest_batch_rows": 5})
5
>>> all(s.help and s.source for s in SETTINGS.values())
True
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default value, help and the origin of the constant.

    Examples
    --------
    >>> Setting("x", 1, "an example", "made up").type
    <class 'int'>
    """

    name: str
    default: Any
    help: str
    source: str

    @property
    def type(self) -> type:
        return type(self.default)


SETTINGS: dict[str, Setting] = {s.name: s for s in [
    Setting("db", "trueclout.duckdb", "Path of the DuckDB store.", "issue 2: ./trueclout.duckdb"),
    Setting("lock_wait_s", 30.0,
            "Seconds a writer waits for another process to release the store before failing.",
            "our choice: long enough for a small load, short enough to notice a stuck writer"),
    Setting("duckdb_memory_limit", "4GB",
            "DuckDB's memory limit; larger work spills to the store's temp folder.",
            "our choice: leaves room for CSR arrays within a 24 GB machine"),
    Setting("duckdb_threads", 0, "DuckDB worker threads; 0 means one per core.", "DuckDB default"),
    Setting("ingest_batch_rows", 262144, "Rows per Arrow record batch that readers yield.",
            "our choice: large enough to amortise per-batch cost, small enough for memory"),
    Setting("default_platform", "default",
            "Platform that scopes ids when a source does not name one.", "our choice"),
    Setting("graph_batch_rows", 1_000_000,
            "Edges fetched from the store per batch while building the graph.",
            "our choice: 1M-edge batches keep DuckDB's result buffers small next to the CSR "
            "(measured: 4M-edge batches added about 300 MB)"),
    Setting("sim_accounts", 50_000, "Accounts in the demo's simulated platform.",
            "issue 2: the demo simulates about 50,000 accounts"),
    Setting("sim_seed", 0, "Seed of the simulator.", "our choice"),
]}


def _config_file() -> dict[str, Any]:
    path = os.environ.get("TRUECLOUT_CONFIG")
    p = Path(path) if path else Path("trueclout.toml")
    if not p.exists():
        if path:
            raise UsageError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {p} is not valid TOML: {exc}") from exc
    section = data.get("trueclout", data)
    unknown = set(section) - set(SETTINGS)
    if unknown:
        raise UsageError(f"config file {p} has unknown settings: {', '.join(sorted(unknown))}")
    return section


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    if isinstance(value, setting.type):
        return value
    try:
        if setting.type is bool:
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        return setting.type(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"setting {setting.name} from {origin} must be "
                         f"{setting.type.__name__}, got {value!r}") from exc


def get(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """Return the value of setting ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`SETTINGS`.
    overrides : dict, optional
        Explicit values (for example CLI flags); ``None`` values are ignored.

    Examples
    --------
    >>> get("sim_seed", overrides={"sim_seed": 7})
    7
    >>> get("nope")
    Traceback (most recent call last):
    ...
    trueclout.errors.UsageError: unknown setting 'nope'
    """
    if name not in SETTINGS:
        raise UsageError(f"unknown setting {name!r}")
    setting = SETTINGS[name]
    if overrides and overrides.get(name) is not None:
        return _coerce(setting, overrides[name], "the command line")
    env = os.environ.get(f"TRUECLOUT_{name.upper()}")
    if env is not None:
        return _coerce(setting, env, f"TRUECLOUT_{name.upper()}")
    file_values = _config_file()
    if name in file_values:
        return _coerce(setting, file_values[name], "the config file")
    return setting.default
