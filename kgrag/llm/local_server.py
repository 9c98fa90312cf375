"""Run llama.cpp's `llama-server` on 127.0.0.1 as a managed service (OpenAI-compatible API).

State lives in `<data_dir>/llm/`: `server.json` (pid, port, model), `server.lock` (fcntl) and
`server.log`. A second process with the same data dir attaches to a healthy server instead
of starting another; only the process that started the server stops it.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from kgrag.errors import ConfigError, ServiceUnavailableError
from kgrag.llm.install import MODELS, ensure_llama_server, ensure_model
from kgrag.procs import (
    HOST,
    file_lock,
    free_port,
    log_tail,
    process_running,
    read_state,
    terminate,
    write_state,
)
from kgrag.settings import Settings

STOP_GRACE_S = 10.0
MARKER = b"llama-server"  # in the server's command line
PROMPT_CACHE_MIB = 256  # llama-server's default host-RAM prompt cache is 8 GiB


@dataclass
class ServerState:
    """What `server.json` records about a running server."""

    pid: int
    port: int
    model_path: str
    alias: str
    started_at: float

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"


class LocalLLMServer:
    """Start (or attach to) a local llama-server; `with LocalLLMServer(s) as base_url: ...`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.data_dir / "llm"
        self.state_path = self.dir / "server.json"
        self.lock_path = self.dir / "server.lock"
        self.log_path = self.dir / "server.log"
        self.state: ServerState | None = None
        self.owner = False
        self._proc: subprocess.Popen[bytes] | None = None

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> str:
        """Ensure a healthy server for the configured model; return its base URL (…/v1)."""
        if self.state is not None:
            return self.state.base_url
        model = self.model_path()
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._locked(self.settings.llm_start_timeout_s + 30):
            current = self._live_state()
            if current is not None:
                if Path(current.model_path).resolve() != model.resolve():
                    raise ConfigError(
                        f"a local LLM server for {current.model_path} is already running for "
                        f"{self.settings.data_dir} (pid {current.pid}); stop it first"
                    )
                self._wait_ready(current, None)
                self.state, self.owner = current, False
                return current.base_url
            self.state = self._spawn(model)
            self.owner = True
            self._write_state(self.state)
        return self.state.base_url

    def stop(self) -> None:
        """Stop the server if this object started it; detach otherwise."""
        state, owner = self.state, self.owner
        self.state, self.owner = None, False
        if state is None or not owner:
            return
        with self._locked(STOP_GRACE_S + 30):
            self._terminate(state.pid)
            recorded = self._read_state()
            if recorded is not None and recorded.pid == state.pid:
                self.state_path.unlink(missing_ok=True)

    def shutdown(self) -> bool:
        """Stop the server of this data dir, whoever started it; False when none ran."""
        with self._locked(STOP_GRACE_S + 30):
            state = self._live_state()
            if state is not None:
                self._terminate(state.pid)
                self.state_path.unlink(missing_ok=True)
        self.state, self.owner = None, False
        return state is not None

    def status(self) -> dict[str, Any]:
        """Running/healthy flags, pid, base URL, model, and whether this object owns it."""
        state = self.state or self._read_state()
        if state is None or not _is_llama_server(state.pid):
            return {"running": False, "owner": False, "log": str(self.log_path)}
        return {
            "running": True,
            "healthy": _healthy(state.port),
            "owner": self.owner and self.state is not None,
            "base_url": state.base_url,
            "log": str(self.log_path),
            **asdict(state),
        }

    def model_path(self) -> Path:
        """The GGUF to serve: `llm_model_path`, else the pinned model named `llm_model`."""
        if self.settings.llm_model_path is not None:
            path = Path(self.settings.llm_model_path).expanduser()
            if not path.is_file():
                raise ConfigError(f"llm_model_path {path} does not exist")
            return path
        spec = MODELS.get(self.settings.llm_model)
        if spec is None:
            raise ConfigError(
                f"unknown local LLM model {self.settings.llm_model!r}: choose one of "
                f"{', '.join(sorted(MODELS))}, or set llm_model_path to a GGUF file, "
                "or llm_base_url to an OpenAI-compatible server"
            )
        return ensure_model(self.settings.cache_dir, spec)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------

    def command(self, binary: Path, model: Path, port: int) -> list[str]:
        """llama-server argv; `-c` is per slot (llama-server splits it across `-np` slots)."""
        s = self.settings
        ctx = s.llm_context * s.llm_parallel
        return [
            str(binary), "-m", str(model), "--host", HOST, "--port", str(port),
            "-t", str(s.llm_threads), "-c", str(ctx), "-np", str(s.llm_parallel),
            "--alias", s.llm_model, "--jinja", "--no-webui", "--metrics",
            "--cache-ram", str(PROMPT_CACHE_MIB),
        ]  # fmt: skip

    def _spawn(self, model: Path) -> ServerState:
        binary = ensure_llama_server(self.settings.cache_dir)
        port = free_port()
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== kgrag starting llama-server on port {port} ===\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.command(binary, model, port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us, and we stop it cleanly
            )
        state = ServerState(self._proc.pid, port, str(model), self.settings.llm_model, time.time())
        try:
            self._wait_ready(state, self._proc)
        except BaseException:
            self._terminate(state.pid)
            raise
        return state

    def _wait_ready(self, state: ServerState, proc: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + self.settings.llm_start_timeout_s
        while time.monotonic() < deadline:
            if _healthy(state.port):
                return
            exited = proc.poll() is not None if proc else not _is_llama_server(state.pid)
            if exited:
                log = f"log {self.log_path}:\n{self.log_tail()}"
                raise ServiceUnavailableError("LLM", f"llama-server exited during startup; {log}")
            time.sleep(0.2)
        raise ServiceUnavailableError(
            "LLM",
            f"llama-server not ready after {self.settings.llm_start_timeout_s:g}s "
            f"(llm_start_timeout_s); log {self.log_path}:\n{self.log_tail()}",
        )

    def _terminate(self, pid: int) -> None:
        terminate(pid, MARKER, STOP_GRACE_S, self._proc)
        if self._proc is not None and self._proc.pid == pid:
            self._proc = None

    def _live_state(self) -> ServerState | None:
        """The recorded server if its process is alive; a stale record is removed."""
        state = self._read_state()
        if state is None:
            return None
        if _is_llama_server(state.pid):
            return state
        self.state_path.unlink(missing_ok=True)
        return None

    def _read_state(self) -> ServerState | None:
        data = read_state(self.state_path)
        try:
            return ServerState(**data) if data is not None else None
        except TypeError:
            return None

    def _write_state(self, state: ServerState) -> None:
        write_state(self.state_path, asdict(state))

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def _locked(self, timeout: float) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.lock_path, timeout, "LLM")


def _healthy(port: int) -> bool:
    try:
        resp = httpx.get(f"http://{HOST}:{port}/health", timeout=2.0)
    except httpx.HTTPError:
        return False
    return resp.status_code == 200


def _is_llama_server(pid: int) -> bool:
    return process_running(pid, MARKER)
