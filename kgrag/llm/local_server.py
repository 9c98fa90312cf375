"""Run llama.cpp's `llama-server` on 127.0.0.1 as a managed service (OpenAI-compatible API).

State lives in `<data_dir>/llm/`: `server.json` (pid, port, model), `server.lock` (fcntl) and
`server.log`. A second process with the same data dir attaches to a healthy server instead
of starting another; only the process that started the server stops it.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from kgrag.errors import ConfigError, ServiceUnavailableError
from kgrag.llm.install import MODELS, ensure_llama_server, ensure_model
from kgrag.settings import Settings

HOST = "127.0.0.1"
STOP_GRACE_S = 10.0
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
        port = _free_port()
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
        if self._proc is not None and self._proc.pid == pid:
            proc, self._proc = self._proc, None
            proc.terminate()
            try:
                proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_GRACE_S)
            return
        if not _is_llama_server(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and _is_llama_server(pid):
            time.sleep(0.1)
        if _is_llama_server(pid):
            os.kill(pid, signal.SIGKILL)

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
        try:
            return ServerState(**json.loads(self.state_path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _write_state(self, state: ServerState) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.replace(self.state_path)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    @contextmanager
    def _locked(self, timeout: float):
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as fh:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ServiceUnavailableError(
                            "LLM", f"timed out waiting for {self.lock_path}"
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        resp = httpx.get(f"http://{HOST}:{port}/health", timeout=2.0)
    except httpx.HTTPError:
        return False
    return resp.status_code == 200


def _is_llama_server(pid: int) -> bool:
    """True if pid is a live (non-zombie) llama-server: guards against reused pids."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    return b"llama-server" in cmdline.split(b"\0", 1)[0]
