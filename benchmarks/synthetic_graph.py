"""Synthetic extraction results for the store benchmarks (graph_writes.py, query_path.py).

Documents of `chunks_per_doc` chunks, `per_chunk` relationships per chunk between entities
drawn uniformly from a pool of `n_entities` (so an entity recurs across documents), with the
types and patterns of kgrag's default schema, in the shapes the store writes: Document, Chunk,
ResolvedGraph. Entity names are made-up two-word names; ids are their `entity_key`, as
entity resolution makes them.
"""

from __future__ import annotations

import random

from kgrag.ingest.entity_match import entity_key
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.types import Chunk, Document, Entity, Page, Relation, ResolvedGraph

Batch = tuple[Document, list[Chunk], ResolvedGraph]
SYLLABLES = "ka lo mi ren sa tor vel qu an dri fen gol hal is jor kem lun mar nor pel".split()


def made_up_names(n: int, rng: random.Random) -> list[str]:
    """`n` distinct two-word names such as "Kamiren Torvel"."""
    names: set[str] = set()
    while len(names) < n:
        words = ("".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))) for _ in range(2))
        names.add(" ".join(w.capitalize() for w in words))
    return sorted(names)


def entity_pool(n_entities: int, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """(id, name) of the pool's entities by schema label, the labels equally often."""
    labels = GraphSchema.from_file(Settings().schema_path).node_labels
    pool: dict[str, list[tuple[str, str]]] = {label: [] for label in labels}
    for i, name in enumerate(made_up_names(n_entities, rng)):
        pool[labels[i % len(labels)]].append((entity_key(name), name))
    return pool


def synthetic_documents(
    n_triples: int,
    n_entities: int,
    *,
    per_chunk: int = 10,
    chunks_per_doc: int = 50,
    seed: int = 0,
) -> list[Batch]:
    """Documents with their chunks and resolved graphs, `n_triples` relationships in all."""
    rng = random.Random(seed)
    patterns = list(GraphSchema.from_file(Settings().schema_path).patterns)
    pool = entity_pool(n_entities, rng)
    counts = [min(per_chunk, n_triples - k) for k in range(0, n_triples, per_chunk)]
    batches: list[Batch] = []
    for d, first in enumerate(range(0, len(counts), chunks_per_doc)):
        doc_id = f"doc{d:05d}"
        entities: dict[str, Entity] = {}
        relations: list[Relation] = []
        chunks: list[Chunk] = []
        for c, count in enumerate(counts[first : first + chunks_per_doc]):
            chunk_id = f"{doc_id}:p1:{c}"
            sentences = []
            for _ in range(count):
                source_label, rel, target_label = rng.choice(patterns)
                ends = [rng.choice(pool[lbl]) + (lbl,) for lbl in (source_label, target_label)]
                (source_id, source_name, _), (target_id, target_name, _) = ends
                for entity_id, name, label in ends:
                    entity = entities.setdefault(
                        entity_id, Entity(id=entity_id, name=name, type=label)
                    )
                    if chunk_id not in entity.chunk_ids:
                        entity.chunk_ids.append(chunk_id)
                relations.append(
                    Relation(source_id=source_id, type=rel, target_id=target_id, chunk_id=chunk_id)
                )
                sentences.append(f"{source_name} {rel.lower().replace('_', ' ')} {target_name}.")
            text = " ".join(sentences)
            chunks.append(
                Chunk(id=chunk_id, document_id=doc_id, page=1, start=0, end=len(text), text=text)
            )
        doc = Document(
            id=doc_id,
            title=f"Document {d}",
            source=f"{doc_id}.txt",
            sha256=f"{d:064x}",
            pages=[Page(number=1, text="\n".join(c.text for c in chunks))],
        )
        graph = ResolvedGraph(entities=list(entities.values()), relations=relations)
        batches.append((doc, chunks, graph))
    return batches
