"""Does extraction keep the LLM busy? kgrag's GraphExtractor against an OpenAI-compatible stub
with a fixed latency L and C slots, compared with the ideal C/L chunks/s and with LangChain's
sequential `LLMGraphTransformer.convert_to_graph_documents` on the same stub.

    python benchmarks/ingest_concurrency.py                  # L=0.5 s, C=8, 64 chunks, 3 runs
    python benchmarks/ingest_concurrency.py --latency 0.2 --slots 4 --chunks 32 --runs 5

The stub (FastAPI + uvicorn, in a child process so it does not share the client's GIL) answers
`/v1/chat/completions` after sleeping L seconds, at most C requests at a time (later ones
queue, like vLLM's or llama-server's slots), with valid extraction JSON for kgrag's schema.
Rows: all chunks in one `extract_all` call with C requests in flight (kgrag's `llm_parallel`),
then with 2C (the server always has the next request queued); the same chunks cut into
documents of `--doc-chunks` chunks, one `extract_all` per document as `IngestPipeline` does;
the LLM response cache on (kgrag's default, a fresh SQLite file); LangChain's sequential loop.
Figures are medians over the runs; "of ideal" divides by C/L (the LLM's capacity).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import httpx

from kgrag.ingest.extract import GraphExtractor
from kgrag.llm.openai_compat import make_chat_model
from kgrag.procs import free_port
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.types import Chunk


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
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    stub = multiprocessing.get_context("spawn").Process(
        target=serve_stub,
        args=(port, args.latency, args.slots, extraction_json(schema)),
        daemon=True,
    )
    stub.start()
    try:
        wait_ready(base_url)
        chunks = synthetic_chunks(args.chunks, args.doc_chunks)
        documents = [
            chunks[i : i + args.doc_chunks] for i in range(0, len(chunks), args.doc_chunks)
        ]
        sequential = chunks[: args.sequential_chunks]

        def extractor(data_dir: Path, cache: bool) -> GraphExtractor:
            settings = Settings(data_dir=data_dir, llm_model="stub", llm_max_retries=0)
            return GraphExtractor(make_chat_model(settings, base_url, cache=cache), schema, prompts)

        def one_call(data_dir: Path, in_flight: int = args.slots) -> float:
            ex = extractor(data_dir, cache=False)
            return len(chunks) / timed(lambda: ex.extract_all(chunks, concurrency=in_flight))

        def per_document(data_dir: Path) -> float:
            ex = extractor(data_dir, cache=False)
            return len(chunks) / timed(
                lambda: [ex.extract_all(d, concurrency=args.slots) for d in documents]
            )

        def cached(data_dir: Path) -> float:
            ex = extractor(data_dir, cache=True)
            return len(chunks) / timed(lambda: ex.extract_all(chunks, concurrency=args.slots))

        def langchain(data_dir: Path) -> float:
            from langchain_core.documents import Document as LCDocument

            transformer = extractor(data_dir, cache=False).transformer
            docs = [LCDocument(page_content=c.text) for c in sequential]
            return len(docs) / timed(lambda: transformer.convert_to_graph_documents(docs))

        rows = [
            (f"kgrag extract_all, {len(chunks)} chunks in one call", one_call),
            (
                f"kgrag extract_all, {2 * args.slots} in flight (2C; stub queues)",
                lambda data_dir: one_call(data_dir, 2 * args.slots),
            ),
            (f"kgrag extract_all per document of {args.doc_chunks} chunks", per_document),
            ("kgrag extract_all, LLM response cache on", cached),
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
        stats = httpx.get(f"http://127.0.0.1:{port}/stats").json()
        print(
            f"stub served {stats['requests']} requests; most queued at once: {stats['max_waiting']}"
        )
    finally:
        stub.kill()
        stub.join()


if __name__ == "__main__":
    main()
