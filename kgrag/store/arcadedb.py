"""Lifecycle of the embedded ArcadeDB server (bundled JRE, Bolt plugin) behind the graph store.

One server per data dir: a state file (pid, ports) lets a second process attach to it; an
fcntl lock around start/stop keeps two processes from starting two servers."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

from kgrag.errors import ServiceUnavailableError, SetupError
from kgrag.procs import (
    file_lock,
    free_port,
    log_tail,
    process_running,
    read_state,
    terminate,
    write_state,
)

log = logging.getLogger(__name__)

SERVICE = "graph store"
MARKER = b"com.arcadedb.server.ArcadeDBServer"  # in the server's command line
STOP_GRACE_S = 20.0
DATABASE = "kg"
USER = "root"


@dataclass(frozen=True)
class BoltEndpoint:
    uri: str
    user: str
    password: str
    database: str = DATABASE


def arcadedb_home() -> Path:
    """Folder of the installed `arcadedb_embedded` package (holds `jre/` and `jars/`)."""
    try:
        import arcadedb_embedded
    except ImportError as e:
        raise SetupError("arcadedb-embedded is not installed") from e
    return Path(arcadedb_embedded.__file__).resolve().parent


def bolt_ok(endpoint: BoltEndpoint, timeout_s: float = 3.0) -> str | None:
    """None when Bolt answers `RETURN 1`, else the error text."""
    auth = (endpoint.user, endpoint.password)
    try:
        with GraphDatabase.driver(
            endpoint.uri,
            auth=auth,
            connection_timeout=timeout_s,
            connection_acquisition_timeout=timeout_s,
        ) as driver:
            with driver.session(database=endpoint.database) as session:
                session.run("RETURN 1 AS ok").consume()
        return None
    except Exception as e:  # any driver/OS error means "not healthy yet"
        return f"{type(e).__name__}: {e}"


class EmbeddedArcadeDB:
    """Start, attach to, and stop the ArcadeDB server of one data dir.

    `owned` is True when this object started the server; only then does leaving the
    context manager stop it. `stop()` always stops it.
    """

    def __init__(self, graph_dir: Path, heap: str = "768m", start_timeout_s: float = 60.0) -> None:
        self.dir = Path(graph_dir).resolve()
        self.heap = heap
        self.start_timeout_s = start_timeout_s
        self.owned = False
        self._endpoint: BoltEndpoint | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.state_file = self.dir / "server.json"
        self.password_file = self.dir / "root.password"
        self.log_file = self.dir / "server.log"
        self.lock_file = self.dir / "server.lock"

    @classmethod
    def from_settings(cls, settings: Any) -> EmbeddedArcadeDB:
        return cls(
            Path(settings.data_dir) / "graph",
            heap=settings.arcadedb_heap,
            start_timeout_s=settings.arcadedb_start_timeout_s,
        )

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.lock_file, self.start_timeout_s + STOP_GRACE_S + 30, SERVICE)

    def password(self) -> str:
        """The root password, generated once into a 0600 file and reused."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            pw = secrets.token_urlsafe(24)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(pw)
        os.chmod(self.password_file, 0o600)
        return self.password_file.read_text().strip()

    def read_state(self) -> dict[str, Any] | None:
        """The state file, or None when missing, unreadable or stale (its pid is gone)."""
        state = read_state(self.state_file)
        try:
            pid = int(state["pid"]) if state is not None else None
        except (KeyError, TypeError, ValueError):
            pid = None
        if pid is None or not process_running(pid, MARKER):
            if state is not None:
                log.info("removing stale graph state file %s", self.state_file)
                self.state_file.unlink(missing_ok=True)
            return None
        return state

    def _endpoint_for(self, state: dict[str, Any]) -> BoltEndpoint:
        return BoltEndpoint(f"bolt://127.0.0.1:{state['bolt_port']}", USER, self.password())

    def _log_info(self, lines: int = 40) -> str:
        return f"log {self.log_file}:\n{log_tail(self.log_file, lines)}"

    def command(self, bolt_port: int, http_port: int) -> list[str]:
        home = arcadedb_home()
        props = {
            "arcadedb.server.rootPath": str(self.dir / "server"),
            "arcadedb.server.databaseDirectory": str(self.dir / "databases"),
            "arcadedb.server.defaultDatabases": f"{DATABASE}[{USER}]",
            "arcadedb.server.httpIncomingHost": "127.0.0.1",
            "arcadedb.server.httpIncomingPort": str(http_port),
            "arcadedb.server.plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "arcadedb.bolt.host": "127.0.0.1",
            "arcadedb.bolt.port": str(bolt_port),
        }
        # the password goes in a 0600 @argfile, not on the command line `ps` shows
        argfile = self.dir / "server" / "secret.args"
        argfile.unlink(missing_ok=True)
        fd = os.open(argfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"-Darcadedb.server.rootPassword={self.password()}\n")
        return [
            str(home / "jre" / "bin" / "java"),
            f"@{argfile}",
            f"-Xmx{self.heap}",
            "-Djava.awt.headless=true",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.nio.channels.spi=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "-cp",
            str(home / "jars" / "*"),
            *[f"-D{k}={v}" for k, v in props.items()],
            "com.arcadedb.server.ArcadeDBServer",
        ]

    # lifecycle
    def start(self) -> BoltEndpoint:
        """Attach to the running server of this data dir, or start one; wait until healthy."""
        if self._endpoint is not None:
            return self._endpoint
        with self._locked():
            state = self.read_state()
            if state is not None:
                endpoint = self._endpoint_for(state)
                self._wait_healthy(endpoint, None)
                self._endpoint, self.owned = endpoint, False
                log.info("attached to graph store pid %s at %s", state["pid"], endpoint.uri)
                return endpoint
            return self._spawn()

    def _spawn(self) -> BoltEndpoint:
        bolt_port, http_port = free_port(), free_port()
        while http_port == bolt_port:
            http_port = free_port()
        for sub in ("databases", "server"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        cmd = self.command(bolt_port, http_port)
        t0 = time.monotonic()
        with open(self.log_file, "ab") as logfh:
            try:  # own session: Ctrl-C in a terminal reaches kgrag, which stops it cleanly
                proc = subprocess.Popen(
                    cmd,
                    stdout=logfh,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.dir / "server",
                    start_new_session=True,
                )
            except OSError as e:
                raise ServiceUnavailableError(SERVICE, f"cannot run {cmd[0]}: {e}") from e
        endpoint = BoltEndpoint(f"bolt://127.0.0.1:{bolt_port}", USER, self.password())
        self._proc = proc
        try:
            self._wait_healthy(endpoint, proc)
        except ServiceUnavailableError:
            self._terminate(proc.pid)
            self._proc = None
            raise
        state = {
            "pid": proc.pid,
            "bolt_port": bolt_port,
            "http_port": http_port,
            "password_file": str(self.password_file),
            "started_at": time.time(),
        }
        write_state(self.state_file, state)
        self._endpoint, self.owned = endpoint, True
        log.info(
            "graph store started pid %s at %s in %.1fs",
            proc.pid,
            endpoint.uri,
            time.monotonic() - t0,
        )
        return endpoint

    def _wait_healthy(self, endpoint: BoltEndpoint, proc: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        err = "not checked"
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise ServiceUnavailableError(
                    SERVICE, f"ArcadeDB exited with code {proc.returncode}; {self._log_info()}"
                )
            err = bolt_ok(endpoint, timeout_s=min(5.0, self.start_timeout_s))
            if err is None:
                return
            time.sleep(0.25)
        raise ServiceUnavailableError(
            SERVICE,
            f"no answer on {endpoint.uri} within "
            f"{self.start_timeout_s:.0f}s ({err}); {self._log_info()}",
        )

    def _terminate(self, pid: int) -> None:
        terminate(pid, MARKER, STOP_GRACE_S, self._proc)

    def stop(self) -> bool:
        """Stop the server of this data dir (whoever started it); False when none ran."""
        with self._locked():
            state = self.read_state()
            own = self._proc.pid if self._proc and self._proc.poll() is None else None
            pid = int(state["pid"]) if state is not None else own
            stopped = pid is not None
            if pid is not None:
                self._terminate(pid)
            self.state_file.unlink(missing_ok=True)
        self._endpoint, self._proc, self.owned = None, None, False
        return stopped

    def release(self) -> None:
        """Forget the server without stopping it (an attached user leaving)."""
        self._endpoint, self.owned = None, False

    def status(self) -> dict[str, Any]:
        state = self.read_state()
        out: dict[str, Any] = {"data_dir": str(self.dir), "running": state is not None}
        if state is not None:
            endpoint = self._endpoint_for(state)
            out.update(
                pid=state["pid"],
                bolt_uri=endpoint.uri,
                owned=self.owned,
                http_url=f"http://127.0.0.1:{state['http_port']}",
                healthy=bolt_ok(endpoint) is None,
            )
        out["log_file"] = str(self.log_file)
        return out

    def __enter__(self) -> BoltEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.stop()
        else:
            self.release()
