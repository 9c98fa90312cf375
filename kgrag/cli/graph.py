"""`kgrag graph start|stop|status`: the embedded ArcadeDB server's lifecycle."""

from __future__ import annotations

import json

import typer

from kgrag.cli.render import console
from kgrag.settings import Settings
from kgrag.store.arcadedb import EmbeddedArcadeDB

app = typer.Typer(help="Manage the embedded graph server (ArcadeDB, Bolt on 127.0.0.1).")


def _server() -> EmbeddedArcadeDB:
    settings = Settings()
    if not settings.embedded_graph:
        console.print(
            f"KGRAG_GRAPH_URI is set ({settings.graph_uri}); no embedded server to manage."
        )
        raise typer.Exit(1)
    return EmbeddedArcadeDB.from_settings(settings)


@app.command()
def start() -> None:
    """Start the server and leave it running for other kgrag commands to attach to."""
    endpoint = _server().start()
    console.print(f"graph server running: {endpoint.uri} (database {endpoint.database})")


@app.command()
def stop() -> None:
    """Stop the server of this data dir."""
    stopped = _server().stop()
    console.print("graph server stopped" if stopped else "graph server was not running")


@app.command()
def status() -> None:
    """Print the server's state (pid, ports, data dir) as JSON."""
    console.print_json(json.dumps(_server().status(), default=str))
