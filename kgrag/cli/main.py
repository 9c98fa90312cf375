"""kgrag's command line: ingest, ask, serve, demo, setup, and the sub-command groups (eval …)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, get_args

import typer
import yaml

from kgrag.cli import documents, entities, graph, index, kge, llm, qa, schema
from kgrag.cli import eval as eval_cli
from kgrag.cli.progress import ingest_with_progress
from kgrag.cli.render import console, err_console, ingest_table, print_answer, print_trace
from kgrag.errors import ConfigError, KgragError
from kgrag.kge.train import KgeConfig
from kgrag.qa import answer_question
from kgrag.runtime import open_runtime
from kgrag.settings import REPO_ROOT, ChunkerName, Settings, Strategy
from kgrag.types import IngestStatus

app = typer.Typer(
    help="Knowledge-graph RAG: ingest documents, ask questions, get cited answers.",
    pretty_exceptions_enable=False,
)
app.add_typer(graph.app, name="graph")
app.add_typer(llm.app, name="llm")
app.add_typer(schema.app, name="schema")
app.add_typer(entities.app, name="entities")
app.add_typer(documents.app, name="documents")
app.add_typer(index.app, name="index")
app.add_typer(kge.app, name="kge")
app.add_typer(qa.app, name="qa")
app.add_typer(eval_cli.app, name="eval")

SAMPLES = REPO_ROOT / "samples"


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    chunker: Annotated[
        str | None,
        typer.Option(help=f"{', '.join(get_args(ChunkerName))} (default: configured)."),
    ] = None,
    reextract: Annotated[
        bool,
        typer.Option(
            help="Chunk and extract again files already ingested unchanged (their old chunks "
            "and graph are replaced), e.g. after changing the chunker or chunk size."
        ),
    ] = False,
) -> None:
    """Read, chunk, extract and store documents (re-ingesting unchanged files does nothing)."""
    if chunker is not None and chunker not in get_args(ChunkerName):
        raise ConfigError(f"unknown chunker {chunker}: use {', '.join(get_args(ChunkerName))}")
    settings = Settings(chunker=chunker) if chunker else Settings()
    with open_runtime(settings) as rt:
        results = ingest_with_progress(rt, paths, reextract=reextract)
        console.print(ingest_table(results))
        changed = any(r.status is IngestStatus.INGESTED for r in results)
        if changed and settings.kge_retrain_after_ingest:
            kge.train_and_save(rt, KgeConfig.from_settings(settings))
    failed = [r for r in results if r.status is IngestStatus.FAILED]
    if failed:
        err_console.print(f"[red]{len(failed)} of {len(results)} file(s) failed[/]")
        raise typer.Exit(1)


@app.command()
def ask(
    question: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            help="cypher, graph, kge or vector; repeat for several (default: configured)."
        ),
    ] = None,
    trace: Annotated[bool, typer.Option(help="Also print what each strategy found.")] = False,
) -> None:
    """Answer a question from the ingested documents, with citations."""
    unknown = set(strategy or []) - set(get_args(Strategy))
    if unknown:
        raise ConfigError(
            f"unknown strategy {', '.join(sorted(unknown))}: use {', '.join(get_args(Strategy))}"
        )
    settings = Settings(strategies=strategy) if strategy else Settings()
    with open_runtime(settings) as rt:
        answer = answer_question(rt, question)
        page_images = rt.page_images
    if as_json:
        print(answer.model_dump_json(indent=2))
        return
    print_answer(answer, page_images=page_images)
    if trace:
        print_trace(answer)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from kgrag.api.app import create_app

    uvicorn.run(create_app(Settings()), host=host, port=port)


@app.command()
def setup() -> None:
    """Build the local LLM server and assemble its model (cached; safe to re-run)."""
    from kgrag.llm.install import MODELS, ensure_llama_server, ensure_model, llama_server_path

    settings = Settings()
    if not llama_server_path(settings.cache_dir).exists():
        console.print("building llama-server from source (first time only, ≈ 7–10 min) …")
    console.print(f"llama-server: {ensure_llama_server(settings.cache_dir)}")
    if settings.local_llm and settings.llm_model_path is None:
        if settings.llm_model not in MODELS:
            raise ConfigError(f"unknown local model {settings.llm_model!r}; set llm_model_path")
        console.print(f"model: {ensure_model(settings.cache_dir, MODELS[settings.llm_model])}")


@app.command()
def demo(
    docs: Path = SAMPLES / "docs",
    questions: Path = SAMPLES / "questions.yaml",
) -> None:
    """Ingest the bundled sample documents and answer the sample questions."""
    items = yaml.safe_load(questions.read_text(encoding="utf-8"))
    start = time.perf_counter()
    with open_runtime(Settings()) as rt:
        console.rule("ingest")
        results = ingest_with_progress(rt, [docs])
        console.print(ingest_table(results))
        ingest_s = time.perf_counter() - start
        console.rule("questions")
        for item in items:
            print_answer(answer_question(rt, item["question"]))
            console.print(f"  [dim]expected: {item['answer']}[/]\n")
    console.print(
        f"demo done: ingest {ingest_s:.1f}s, total {time.perf_counter() - start:.1f}s "
        f"(timings per stage above)"
    )


def main() -> None:
    """Entry point: kgrag's own errors become one red line and exit code 2, not a traceback."""
    try:
        app()
    except KgragError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
