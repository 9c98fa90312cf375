"""Does extraction keep the LLM busy? kgrag's GraphExtractor and the whole IngestPipeline
against an OpenAI-compatible stub with a fixed latency L and C slots, compared with the ideal
C/L chunks/s and with LangChain's sequential `LLMGraphTransformer.convert_to_graph_documents`
on the same stub.

    python benchmarks/ingest_concurrency.py                  # L=0.5 s, C=8, 64 chunks, 3 runs
    python benchmarks/ingest_concurrency.py --latency 0.2 --slots 4 --chunks 32 --runs 5

The stub (FastAPI + uvicorn, in a child process so it does not share the client's GIL) answers
`/v1/chat/completions` after sleeping L seconds, at most C requests at a time (later ones
queue, like vLLM's or llama-server's slots), with valid extraction JSON for kgrag's schema.
Rows: all chunks in one `extract_all` call with C requests in flight (kgrag's `llm_parallel`),
then with 2C (the server always has the next request queued); the LLM response cache on
(kgrag's default, a fresh SQLite file); then the real `IngestPipeline.ingest_paths` (embedded
ArcadeDB, MiniLM embeddings, response cache on, a fresh data dir and an emptied graph per run)
over the same chunks as Markdown files of one chunk and of `--doc-chunks` chunks: one call per
file (how ingest ran before documents overlapped, and how `kgrag eval` called it) against one
call for the batch with `ingest_llm_in_flight` C and 2C; the batch again against a stub that
answers at once (what graph writes and embeddings allow); LangChain's sequential loop.
Figures are medians over the runs; "of ideal" divides by C/L (the LLM's capacity).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import httpx

from kgrag.ingest.extract import GraphExtractor
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.llm.openai_compat import make_chat_model
from kgrag.ports import GraphStore
from kgrag.procs import free_port
from kgrag.prompts import Prompts
from kgrag.runtime import Runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.store.neo4j_store import open_graph_store
from kgrag.types import Chunk, IngestStatus

PARAGRAPH_CHARS = 400  # chunk_size for the pipeline rows: one paragraph is one chunk


def extraction_json(schema: GraphSchema) -> str:
    """A valid answer for the schema's output model: two nodes and one allowed relationship."""
    source, rel, target = schema.patterns[0]
    nodes = [{"id": "Ada Lovelace", "type": source}, {"id": "Analytical Society", "type": target}]
    relationship = {
        "source_node_id": "Ada Lovelace",
        "source_node_type": source,
        "target_node_id": "Analytical Society",
        "target_node_type": target,
        "type": rel,
    }
    return json.dumps({"nodes": nodes, "relationships": [relationship]})


def serve_stub(port: int, latency_s: float, slots: int, content: str) -> None:
    """Run the stub LLM server until killed (the child process's target)."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    state = {"requests": 0, "waiting": 0, "max_waiting": 0}
    semaphore = asyncio.Semaphore(slots)

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": "stub", "object": "model"}]}

    @app.post("/v1/chat/completions")
    async def chat(body: dict) -> dict:
        state["waiting"] += 1
        state["max_waiting"] = max(state["max_waiting"], state["waiting"])
        async with semaphore:
            state["waiting"] -= 1
            await asyncio.sleep(latency_s)
            state["requests"] += 1
        message = {"role": "assistant", "content": content, "refusal": None}
        return {
            "id": f"stub-{state['requests']}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 500, "completion_tokens": 60, "total_tokens": 560},
        }

    @app.get("/stats")
    async def stats() -> dict:
        return state

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_ready(base_url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/models", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"stub LLM at {base_url} did not start in {timeout_s:.0f} s")


def synthetic_chunks(n: int, doc_chunks: int) -> list[Chunk]:
    """Distinct chunk texts (no two share a cache key), `doc_chunks` per document."""
    chunks = []
    for i in range(n):
        text = (
            f"Person {i} founded Organization {i} in City {i % 17}. "
            f"Organization {i} produces Product {i} and funds Project {i}. " * 6
        )
        doc = f"doc{i // doc_chunks}"
        chunks.append(
            Chunk(id=f"{doc}:p1:{i}", document_id=doc, page=1, start=0, end=len(text), text=text)
        )
    return chunks


def write_documents(folder: Path, chunks: list[Chunk], doc_chunks: int) -> list[Path]:
    """The chunks' texts as Markdown files of `doc_chunks` paragraphs (one chunk each)."""
    folder.mkdir(parents=True)
    paths = []
    for n, start in enumerate(range(0, len(chunks), doc_chunks)):
        paragraphs = [
            c.text[: PARAGRAPH_CHARS - 50].strip() for c in chunks[start : start + doc_chunks]
        ]
        path = folder / f"doc{n:03d}.md"
        path.write_text(f"# Document {n}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def start_stub(latency_s: float, slots: int, content: str) -> tuple[multiprocessing.Process, str]:
    port = free_port()
    stub = multiprocessing.get_context("spawn").Process(
        target=serve_stub, args=(port, latency_s, slots, content), daemon=True
    )
    stub.start()
    return stub, f"http://127.0.0.1:{port}/v1"


def pipeline_runtime(
    store: GraphStore,
    data_dir: Path,
    base_url: str,
    slots: int,
    in_flight: int | None,
    schema: GraphSchema,
    prompts: Prompts,
) -> Runtime:
    """A runtime on the shared (emptied) graph store with a fresh data dir."""
    store.clear()
    settings = Settings(
        data_dir=data_dir / "data",
        llm_model="stub",
        llm_max_retries=0,
        llm_parallel=slots,
        ingest_llm_in_flight=in_flight,
        chunk_size=PARAGRAPH_CHARS,
        chunk_overlap=0,
    )
    return Runtime(settings, schema, prompts, store, base_url)


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5, help="stub seconds per request (L)")
    parser.add_argument("--slots", type=int, default=8, help="stub concurrent requests (C)")
    parser.add_argument("--chunks", type=int, default=64, help="chunks per kgrag run")
    parser.add_argument("--doc-chunks", type=int, default=3, help="chunks per document")
    parser.add_argument("--sequential-chunks", type=int, default=16, help="chunks for LangChain")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # langchain-experimental

    defaults = Settings()
    schema = GraphSchema.from_file(defaults.schema_path)
    prompts = Prompts.load(defaults.prompts_dir)
    answer = extraction_json(schema)
    stub, base_url = start_stub(args.latency, args.slots, answer)
    instant, instant_url = start_stub(0.0, 4 * args.slots, answer)
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: [(p.kill(), p.join()) for p in (stub, instant)])
        graph_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kgrag-bench-")))
        wait_ready(base_url)
        wait_ready(instant_url)
        chunks = synthetic_chunks(args.chunks, args.doc_chunks)
        sequential = chunks[: args.sequential_chunks]

        def extractor(data_dir: Path, cache: bool) -> GraphExtractor:
            settings = Settings(data_dir=data_dir, llm_model="stub", llm_max_retries=0)
            return GraphExtractor(make_chat_model(settings, base_url, cache=cache), schema, prompts)

        def one_call(data_dir: Path, in_flight: int = args.slots) -> float:
            ex = extractor(data_dir, cache=False)
            return len(chunks) / timed(lambda: ex.extract_all(chunks, concurrency=in_flight))

        def cached(data_dir: Path) -> float:
            ex = extractor(data_dir, cache=True)
            return len(chunks) / timed(lambda: ex.extract_all(chunks, concurrency=args.slots))

        def langchain(data_dir: Path) -> float:
            from langchain_core.documents import Document as LCDocument

            transformer = extractor(data_dir, cache=False).transformer
            docs = [LCDocument(page_content=c.text) for c in sequential]
            return len(docs) / timed(lambda: transformer.convert_to_graph_documents(docs))

        store = stack.enter_context(open_graph_store(Settings(data_dir=graph_dir)))

        def pipeline(
            doc_chunks: int, *, per_file: bool, in_flight: int | None = None, url: str = base_url
        ):
            def run(data_dir: Path) -> float:
                paths = write_documents(data_dir / "docs", chunks, doc_chunks)
                rt = pipeline_runtime(store, data_dir, url, args.slots, in_flight, schema, prompts)
                rt.embedder.embed(["load the model before the clock starts"])
                ingest = IngestPipeline(rt)
                results = []
                seconds = timed(
                    lambda: (
                        results.extend(r for p in paths for r in ingest.ingest_paths([p]))
                        if per_file
                        else results.extend(ingest.ingest_paths(paths))
                    )
                )
                assert all(r.status is IngestStatus.INGESTED for r in results), results
                assert sum(r.chunks for r in results) == len(chunks), "one chunk per paragraph"
                return len(chunks) / seconds

            return run

        c, c2 = args.slots, 2 * args.slots
        rows = [
            (f"kgrag extract_all, {len(chunks)} chunks in one call", one_call),
            (
                f"kgrag extract_all, {c2} in flight (2C; stub queues)",
                lambda data_dir: one_call(data_dir, c2),
            ),
            ("kgrag extract_all, LLM response cache on", cached),
        ]
        for k in sorted({1, args.doc_chunks}):
            rows += [
                (f"pipeline, {k}-chunk docs, one call per file", pipeline(k, per_file=True)),
                (f"pipeline, {k}-chunk docs, batch, {c} in flight", pipeline(k, per_file=False)),
                (
                    f"pipeline, {k}-chunk docs, batch, {c2} in flight",
                    pipeline(k, per_file=False, in_flight=c2),
                ),
            ]
        rows += [
            (
                f"pipeline, 1-chunk docs, batch, {c2} in flight, L=0",
                pipeline(1, per_file=False, in_flight=c2, url=instant_url),
            ),
            (f"LangChain convert_to_graph_documents, {len(sequential)} chunks", langchain),
        ]
        ideal = args.slots / args.latency
        print(f"stub: L={args.latency} s, C={args.slots} slots -> ideal {ideal:.2f} chunks/s")
        print(f"median of {args.runs} runs (min-max)")
        print(f"{'path':<52} {'chunks/s':>9} {'of ideal':>9}   range")
        for label, run in rows:
            rates = []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory(prefix="kgrag-bench-") as tmp:
                    rates.append(run(Path(tmp)))
            median = statistics.median(rates)
            print(
                f"{label:<52} {median:>9.2f} {median / ideal:>9.2f}   "
                f"{min(rates):.2f}-{max(rates):.2f}",
                flush=True,
            )
        stats = httpx.get(base_url.removesuffix("/v1") + "/stats").json()
        print(
            f"stub served {stats['requests']} requests; most queued at once: {stats['max_waiting']}"
        )


if __name__ == "__main__":
    main()
