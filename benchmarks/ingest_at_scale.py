"""Ingest into a large graph: seconds per document of `IngestPipeline` when the graph already
holds `--entities` entities / `--relationships` relationships and their chunks, against a stub
LLM that answers at once (L = 0: the serial graph side alone, what bounds ingest at scale).

    python benchmarks/ingest_at_scale.py                               # 100k / 500k, 24 docs
    python benchmarks/ingest_at_scale.py --entities 10000 --relationships 50000
    python benchmarks/ingest_at_scale.py --data-dir /tmp/big           # build once, reuse

The graph is query_path.py's: synthetic_graph.py's documents written with `write_document`,
FAISS entity and chunk indexes and sentence vectors of random unit vectors under the real keys
(MiniLM cannot embed 100k names here in time). It is built in `--data-dir` unless that already
holds one (a marker file), so repeated runs skip the build; each run ingests fresh documents.
The ingested documents are ingest_concurrency.py's one-paragraph Markdown files (one chunk,
real MiniLM embeddings); the stub answers every chunk with the same small extraction.

Printed: the first document (the runtime's catalogue of stored names is derived then, see
kgrag/ingest/known_names.py), then the median time between consecutive finished documents
after the first four, and the medians of the result's stage timings.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from ingest_concurrency import (
    PARAGRAPH_CHARS,
    extraction_json,
    start_stub,
    synthetic_chunks,
    wait_ready,
    write_documents,
)
from query_path import fill_indexes
from synthetic_graph import synthetic_documents

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.prompts import Prompts
from kgrag.retrieve.link import entity_index_key
from kgrag.runtime import Runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.store.neo4j_store import open_graph_store

BUILT = "benchmark-graph-built"
WARM_UP_DOCUMENTS = 4


def build(rt: Runtime, entities: int, relationships: int) -> None:
    start = time.perf_counter()
    batches = synthetic_documents(relationships, entities)
    for doc, chunks, graph in batches:
        rt.store.write_document(doc, chunks, graph)
    named = {e.id: e for _, _, g in batches for e in g.entities}
    fill_indexes(rt, [entity_index_key(e.id, e.name) for e in named.values()], batches)
    rt.index("entities").save()
    rt.index("chunks").save()
    rt.lexical("chunks")  # filled from the chunk index, as on a first open
    rt.lexical("entities")
    print(f"built {len(named)} entities, {relationships} relationships "
          f"in {time.perf_counter() - start:.0f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=500_000)
    parser.add_argument("--documents", type=int, default=24)
    parser.add_argument("--heap", default="4g", help="ArcadeDB JVM heap")
    parser.add_argument("--data-dir", type=Path, help="keep the built graph here (reused)")
    args = parser.parse_args()
    base = Settings()
    schema, prompts = GraphSchema.from_file(base.schema_path), Prompts.load(base.prompts_dir)
    stub, url = start_stub(0.0, 16, extraction_json(schema))
    with contextlib.ExitStack() as stack:
        stack.callback(stub.kill)
        data_dir = args.data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        settings = Settings(
            data_dir=data_dir,
            arcadedb_heap=args.heap,
            llm_model="stub",
            llm_max_retries=0,
            llm_parallel=16,
            chunk_size=PARAGRAPH_CHARS,
            chunk_overlap=0,
        )
        wait_ready(url)
        store = stack.enter_context(open_graph_store(settings))
        rt = Runtime(settings, schema, prompts, store, url)
        if not (data_dir / BUILT).exists():
            build(rt, args.entities, args.relationships)
            (data_dir / BUILT).write_text("1", encoding="utf-8")
        counts, names = store.counts(), len(rt.index("entities"))
        print(f"graph: {counts['entities']} entities, {counts['relationships']} relationships, "
              f"{counts['chunks']} chunks; entity index {names} names")  # fmt: skip
        rt.embedder.embed(["warm up"])
        run = time.strftime("%Y%m%d-%H%M%S")
        paths = write_documents(
            data_dir.parent / f"{data_dir.name}-docs-{run}",
            synthetic_chunks(args.documents, 1),
            1,
        )
        for path in paths:  # new bytes on every run, so none is "unchanged"
            path.write_text(path.read_text(encoding="utf-8") + f"\nRun {run}.\n", "utf-8")
        finished: list[float] = []
        results = []
        start = time.perf_counter()
        for result in IngestPipeline(rt).ingest_paths(
            paths, on_result=lambda r: finished.append(time.perf_counter() - start)
        ):
            results.append(result)
    failed = [r.source for r in results if r.error]
    if failed:
        raise SystemExit(f"documents failed: {failed}")
    gaps = [b - a for a, b in zip(finished, finished[1:], strict=False)][WARM_UP_DOCUMENTS:]
    print(f"first document {finished[0]:.2f} s; then {1000 * statistics.median(gaps):.0f} ms "
          f"per document (median of {len(gaps)})")  # fmt: skip
    for stage in ("store", "embed"):
        ms = statistics.median(1000 * r.timings_s.get(stage, 0.0) for r in results)
        print(f"  stage {stage}: median {ms:.0f} ms")


if __name__ == "__main__":
    main()
