"""Bounded load test: N concurrent `POST /chat` against the real app over loopback HTTP
(uvicorn, embedded ArcadeDB, FAISS, MiniLM) with the LLM stubbed, while a document is
uploaded and ingested at the same time; then checks that nothing was lost or corrupted.

    python benchmarks/load.py                                  # 200 requests, 8 at a time
    python benchmarks/load.py --requests 400 --concurrency 16 --latency 0.1

The stub LLM (ingest_concurrency.py's server, in a child process) answers each request after
`--latency` seconds by the JSON schema asked for: an answer citing passage 1, a positive
grounding check, or extraction JSON for the upload. Prints errors, latency p50/p95/max,
requests/s, the upload's outcome, and whether the graph and the indexes still agree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from ingest_concurrency import extraction_json, wait_ready

from kgrag.api.app import create_app
from kgrag.ingest.pipeline import IngestPipeline
from kgrag.procs import free_port
from kgrag.runtime import open_runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings

QUESTIONS = [
    "Who founded Acme Robotics?",
    "Where is Acme Robotics based?",
    "Which product does Acme Robotics make?",
    "Who leads the Harbor project?",
]
SEED = """# Acme Robotics

Ada Byrne founded Acme Robotics in 2011. Acme Robotics is based in Lisbon.
Acme Robotics makes the Tern-3 underwater drone. Luis Sousa leads the Harbor project,
which Acme Robotics funds.
"""
UPLOAD = """# Harbor project

The Harbor project maps the seabed near Lisbon. It started in 2019 and uses the Tern-3.
"""


def serve_stub(port: int, latency_s: float, extraction: str) -> None:
    """The stub LLM: content chosen by the `response_format` schema name."""
    import uvicorn as server
    from fastapi import FastAPI

    app = FastAPI()
    replies = {
        "LLMAnswer": json.dumps({"answer": "Ada Byrne", "evidence": [1], "supported": True}),
        "Verdict": json.dumps({"supported": True}),
    }

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": "stub", "object": "model"}]}

    @app.post("/v1/chat/completions")
    async def chat(body: dict) -> dict:
        await asyncio.sleep(latency_s)
        name = (body.get("response_format") or {}).get("json_schema", {}).get("name", "")
        content = replies.get(name, extraction)
        return {
            "id": "stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "stub",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
        }

    server.run(app, host="127.0.0.1", port=port, log_level="warning")


def seed(settings: Settings, docs: Path) -> None:
    """Ingest the seed document through the stub, then build the indexes."""
    (docs / "acme.md").write_text(SEED, encoding="utf-8")
    with open_runtime(settings) as rt:
        IngestPipeline(rt).ingest_paths([docs / "acme.md"])


def start_api(settings: Settings) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code in (200, 503):
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the API did not start in 120 s")


async def load(base: str, requests: int, concurrency: int) -> tuple[list[float], list[str], dict]:
    """Fire the chat requests, `concurrency` at a time, with one upload in the middle."""
    latencies: list[float] = []
    errors: list[str] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def ask(i: int) -> None:
            async with gate:
                start = time.perf_counter()
                reply = await client.post("/chat", json={"question": QUESTIONS[i % 4]})
                latencies.append(time.perf_counter() - start)
                if reply.status_code != 200 or not reply.json().get("citations"):
                    errors.append(f"{reply.status_code}: {reply.text[:200]}")

        async def upload() -> dict:
            await asyncio.sleep(0.5)
            files = {"file": ("harbor.md", UPLOAD.encode())}
            job = (await client.post("/documents", files=files)).json()
            while job["state"] in ("queued", "running"):
                await asyncio.sleep(0.2)
                job = (await client.get(f"/documents/jobs/{job['id']}")).json()
            return job

        results = await asyncio.gather(upload(), *(ask(i) for i in range(requests)))
    return latencies, errors, results[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05, help="stub LLM seconds/request")
    args = parser.parse_args()

    stub_port = free_port()
    stub_url = f"http://127.0.0.1:{stub_port}/v1"
    schema = GraphSchema.from_file(Settings().schema_path)
    stub = multiprocessing.get_context("spawn").Process(
        target=serve_stub, args=(stub_port, args.latency, extraction_json(schema)), daemon=True
    )
    stub.start()
    server = None
    try:
        wait_ready(stub_url)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(data_dir=Path(tmp) / "data", llm_base_url=stub_url, llm_cache=False)
            seed(settings, Path(tmp))
            server, base = start_api(settings)
            start = time.perf_counter()
            latencies, errors, job = asyncio.run(load(base, args.requests, args.concurrency))
            wall = time.perf_counter() - start
            health = httpx.get(f"{base}/health", timeout=30).json()
            documents = httpx.get(f"{base}/documents", timeout=30).json()
    finally:
        if server is not None:
            server.should_exit = True
        stub.terminate()

    ms = sorted(x * 1000 for x in latencies)
    counts, indexes = health["graph"]["counts"], health["indexes"]
    print(f"{args.requests} /chat requests, {args.concurrency} at a time, stub LLM {args.latency}s")
    print(f"errors: {len(errors)}" + (f"  first: {errors[0]}" if errors else ""))
    print(
        f"latency ms: p50 {statistics.median(ms):.0f}  p95 {ms[int(0.95 * (len(ms) - 1))]:.0f}  "
        f"max {ms[-1]:.0f};  {args.requests / wall:.1f} requests/s over {wall:.1f} s"
    )
    print(f"upload during the load: {job['state']} ({(job.get('result') or {}).get('status')})")
    print(
        f"after: {len(documents)} documents, graph chunks {counts['chunks']}, "
        f"indexed chunks {indexes['chunks']} -> "
        + ("consistent" if counts["chunks"] == indexes["chunks"] else "OUT OF STEP")
    )


if __name__ == "__main__":
    main()
