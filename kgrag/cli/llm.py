"""`kgrag llm start|stop|status`: the local llama-server's lifecycle."""

from __future__ import annotations

import json

import typer

from kgrag.cli.render import console
from kgrag.llm.local_server import LocalLLMServer
from kgrag.settings import Settings

app = typer.Typer(help="Manage the local LLM server (llama.cpp, OpenAI API on 127.0.0.1).")


def _server() -> LocalLLMServer:
    settings = Settings()
    if not settings.local_llm:
        reason = (
            "llm_provider is vllm (in-process)"
            if settings.llm_provider == "vllm"
            else f"KGRAG_LLM_BASE_URL is set ({settings.llm_base_url})"
        )
        console.print(f"{reason}; no local server.")
        raise typer.Exit(1)
    return LocalLLMServer(settings)


@app.command()
def start() -> None:
    """Start the server and leave it running for other kgrag commands to attach to."""
    with console.status("starting llama-server …"):
        base_url = _server().start()
    console.print(f"local LLM server running: {base_url}")


@app.command()
def stop() -> None:
    """Stop the server of this data dir."""
    stopped = _server().shutdown()
    console.print("local LLM server stopped" if stopped else "local LLM server was not running")


@app.command()
def status() -> None:
    """Print the server's state (pid, port, model) as JSON."""
    console.print_json(json.dumps(_server().status(), default=str))
