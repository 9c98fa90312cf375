"""Graph writes: triples/s stored by kgrag (`Neo4jGraphStore.write_document`) vs langchain-neo4j
(`Neo4jGraph.add_graph_documents`) on the same synthetic extraction and the same embedded
ArcadeDB server.

    python benchmarks/graph_writes.py                       # 50k triples, 1 run
    python benchmarks/graph_writes.py --triples 10000 --runs 3

On ArcadeDB a MERGE on a label without an index (langchain-neo4j's `apoc.merge.node([type],
...)`) scans, so its rows cost more as the graph grows; `--time-limit` stops it between slices
and its rate is then that of the (smaller, faster) prefix it wrote.

Needs the `bench` extra (`pip install -e .[bench]`) for langchain-neo4j.

The data (synthetic_graph.py): documents of `--chunks-per-doc` chunks, `--triples-per-chunk`
relationships per chunk between entities drawn from a pool of `--entities` (an entity recurs
in several documents), types and patterns from kgrag's default schema. kgrag writes per
document: pages, entities (only those missing or changed), chunks with their MENTIONS and
relationships in managed transactions of `graph_write_batch` rows (its default).
langchain-neo4j gets one GraphDocument per chunk (source = the chunk, so it writes MENTIONS
too) with its defaults: `baseEntityLabel=False` uses `apoc.merge.node/relationship`, which
ArcadeDB emulates; `baseEntityLabel=True` calls `apoc.meta.data`, which ArcadeDB lacks (the
benchmark reports that failure). Each run writes with kgrag, clears the graph, then writes with
langchain-neo4j and clears again, so langchain-neo4j runs on a warmer JVM.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from synthetic_graph import Batch, synthetic_documents

from kgrag.settings import Settings
from kgrag.store.arcadedb import BoltEndpoint, EmbeddedArcadeDB
from kgrag.store.neo4j_store import Neo4jGraphStore, open_graph_store

# langchain-neo4j's relationships between entities (everything but its source MENTIONS)
DOMAIN_RELATIONSHIPS = "MATCH ()-[r]->() WHERE type(r) <> 'MENTIONS' RETURN count(r) AS n"


def graph_documents(batches: list[Batch]) -> list[Any]:
    """The same extraction as langchain-neo4j GraphDocuments, one per chunk (its source)."""
    from langchain_core.documents import Document as LCDocument
    from langchain_neo4j.graphs.graph_document import GraphDocument, Node, Relationship

    docs = []
    for _, chunks, graph in batches:
        for chunk in chunks:
            nodes = {
                e.id: Node(id=e.id, type=e.type, properties={"name": e.name})
                for e in graph.entities
                if chunk.id in e.chunk_ids
            }
            rels = [
                Relationship(
                    source=nodes[r.source_id],
                    target=nodes[r.target_id],
                    type=r.type,
                    properties={"confidence": r.confidence},
                )
                for r in graph.relations
                if r.chunk_id == chunk.id
            ]
            source = LCDocument(page_content=chunk.text, metadata={"id": chunk.id})
            docs.append(
                GraphDocument(nodes=list(nodes.values()), relationships=rels, source=source)
            )
    return docs


def write_kgrag(store: Neo4jGraphStore, batches: list[Batch]) -> float:
    """Triples/s of kgrag's store writing every document."""
    start = time.perf_counter()
    for doc, chunks, graph in batches:
        store.write_document(doc, chunks, graph)
    return sum(len(g.relations) for _, _, g in batches) / (time.perf_counter() - start)


def langchain_graph(endpoint: BoltEndpoint) -> Any:
    from langchain_neo4j import Neo4jGraph

    return Neo4jGraph(
        url=endpoint.uri,
        username=endpoint.user,
        password=endpoint.password,
        database=endpoint.database,
        refresh_schema=False,  # its schema refresh calls apoc.meta.data (missing on ArcadeDB)
    )


def write_langchain(endpoint: BoltEndpoint, docs: list[Any], time_limit_s: float) -> float:
    """Triples/s of `add_graph_documents` (defaults + include_source); stops between slices of
    50 GraphDocuments once past `time_limit_s` and says so."""
    graph = langchain_graph(endpoint)
    start = time.perf_counter()
    done = 0
    while done < len(docs) and time.perf_counter() - start < time_limit_s:
        graph.add_graph_documents(docs[done : done + 50], include_source=True)
        done += 50
    seconds = time.perf_counter() - start
    graph.close()
    written = sum(len(d.relationships) for d in docs[:done])
    if done < len(docs):
        print(f"  langchain-neo4j stopped at the time limit: {written} triples in {seconds:.0f} s")
    return written / seconds


def base_entity_label_outcome(endpoint: BoltEndpoint, docs: list[Any]) -> str:
    """What `add_graph_documents(baseEntityLabel=True)` (its indexed fast path) does here."""
    graph = langchain_graph(endpoint)
    try:
        graph.add_graph_documents(docs, include_source=True, baseEntityLabel=True)
    except Exception as exc:  # report whatever the server refused
        return f"FAILED: {type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    finally:
        graph.close()
    return "worked"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=50_000)
    parser.add_argument("--entities", type=int, help="entity pool (default: triples / 2)")
    parser.add_argument("--triples-per-chunk", type=int, default=10)
    parser.add_argument("--chunks-per-doc", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--heap", default="2g", help="ArcadeDB JVM heap")
    parser.add_argument(
        "--time-limit", type=float, default=240.0, help="stop langchain-neo4j after this many s"
    )
    args = parser.parse_args()

    batches = synthetic_documents(
        args.triples,
        args.entities or max(1, args.triples // 2),
        per_chunk=args.triples_per_chunk,
        chunks_per_doc=args.chunks_per_doc,
    )
    n_chunks = sum(len(c) for _, c, _ in batches)
    n_entities = len({e.id for _, _, g in batches for e in g.entities})
    print(
        f"{args.triples} triples, {n_chunks} chunks in {len(batches)} documents, "
        f"{n_entities} entities; ArcadeDB heap {args.heap}"
    )
    try:
        docs = graph_documents(batches)
    except ImportError:
        docs = []
        print("langchain-neo4j is not installed (pip install -e '.[bench]'): kgrag figures only")

    rates: dict[str, list[float]] = {"kgrag": [], "langchain-neo4j": []}
    stored: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="kgrag-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), arcadedb_heap=args.heap)
        with open_graph_store(settings) as store:
            server = EmbeddedArcadeDB.from_settings(settings)
            endpoint = server.start()  # attaches to the server open_graph_store started
            for run in range(args.runs):
                rates["kgrag"].append(write_kgrag(store, batches))
                stored["kgrag"] = store.counts()["relationships"]
                print(f"  run {run + 1}: kgrag {rates['kgrag'][-1]:.0f}/s", flush=True)
                store.clear()
                if docs:
                    rates["langchain-neo4j"].append(
                        write_langchain(endpoint, docs, args.time_limit)
                    )
                    stored["langchain-neo4j"] = store.run_read(DOMAIN_RELATIONSHIPS)[0]["n"]
                    store.clear()
                    print(
                        f"  run {run + 1}: langchain-neo4j {rates['langchain-neo4j'][-1]:.0f}/s",
                        flush=True,
                    )
            if docs:
                outcome = base_entity_label_outcome(endpoint, docs[:1])
                print(f"langchain-neo4j with baseEntityLabel=True: {outcome}")
            server.release()

    print(f"median of {args.runs} run(s)")
    print(f"{'writer':<16} {'triples/s':>10} {'relationships stored':>21}")
    for name, values in rates.items():
        if values:
            print(f"{name:<16} {statistics.median(values):>10.0f} {stored[name]:>21}")
    if rates["langchain-neo4j"]:
        ratios = [k / lc for k, lc in zip(rates["kgrag"], rates["langchain-neo4j"], strict=True)]
        print(f"kgrag / langchain-neo4j, same run (median): {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
