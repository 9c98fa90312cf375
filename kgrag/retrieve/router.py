"""Retrieve: question -> RetrievedContext from the configured strategies.

`cypher`: an LLM-written, guarded read query (text2cypher.py); `graph`: triples around the
linked entities and the chunks they cite; `kge`: those triples ranked by KGE plausibility ×
relevance, plus the model's inferred links (kge/rank.py); `vector`: chunks similar to the
question by embedding, BM25 or both fused (chunk_search.py). Chunks are reranked into the
evidence the answer cites, cut down to sentence windows (windows.py) and, with the triples and
rows, to what fits the answer LLM's context (budget.py); the trace says what each strategy found
and what was dropped.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from kgrag.errors import KgragError
from kgrag.kge.rank import KgeRanker
from kgrag.metrics import observe_cypher
from kgrag.ports import Embedder, GraphStore
from kgrag.retrieve import budget
from kgrag.retrieve.chunk_search import ChunkSearch
from kgrag.retrieve.link import EntityLinker
from kgrag.retrieve.relations import RelationLinker
from kgrag.retrieve.text2cypher import TextToCypher
from kgrag.retrieve.windows import SentenceWindows
from kgrag.types import RetrievedContext, Triple

GRAPH_BONUS = 0.1  # added per triple (up to 3) that cites a chunk
RELATION_BONUS = 0.1  # added when such a triple has a relationship type the question asks about
T = TypeVar("T")
log = logging.getLogger(__name__)


class Retriever:
    """Graph neighbourhood of the linked entities plus vector-similar chunks, reranked."""

    def __init__(
        self,
        store: GraphStore,
        linker: EntityLinker,
        chunks: ChunkSearch,
        embedder: Embedder,
        *,
        hops: int,
        max_triples: int,
        top_k_chunks: int,
        max_evidence: int,
        strategies: list[str],
        text2cypher: TextToCypher | None = None,
        kge: KgeRanker | None = None,
        relation_linker: RelationLinker | None = None,
        windows: SentenceWindows | None = None,
        context_tokens: int | None = None,
    ) -> None:
        self.store = store
        self.linker = linker
        self.chunks = chunks
        self.embedder = embedder
        self.hops = hops
        self.max_triples = max_triples
        self.top_k_chunks = top_k_chunks
        self.max_evidence = max_evidence
        self.strategies = strategies
        self.text2cypher = text2cypher if "cypher" in strategies else None
        self.kge = kge if "kge" in strategies else None
        self.relation_linker = relation_linker
        self.windows = windows  # None: whole chunks
        self.context_tokens = context_tokens  # None: no budget

    def retrieve(self, question: str) -> RetrievedContext:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        linked = self.linker.link(question)
        relations = self.relation_linker.link(question) if self.relation_linker else []
        timings["link_s"] = time.perf_counter() - start

        trace: dict = {}
        rows: list[dict] = []
        if self.text2cypher is not None:
            cypher = self._fallible("cypher", trace, lambda: self.text2cypher.run(question, linked))
            if cypher is not None:
                observe_cypher(cypher.attempts, self.text2cypher.max_rows)
                rows = cypher.rows
                trace["cypher"] = cypher.model_dump()
                timings["cypher_s"] = cypher.seconds

        query = self.embedder.embed([question])
        start = time.perf_counter()
        entity_ids = [e.entity_id for e in linked]
        triples = self._graph_triples(entity_ids, [r.type for r in relations])
        timings["graph_s"] = time.perf_counter() - start
        inferred: list[Triple] = []
        if self.kge is not None:
            start = time.perf_counter()
            ranked_triples = self._fallible("kge", trace, lambda: self.kge.rank(query[0], triples))
            if ranked_triples is not None:
                triples, trace["kge"] = ranked_triples
                inferred = self._fallible("kge", trace, lambda: self.kge.infer(entity_ids)) or []
            timings["kge_s"] = time.perf_counter() - start
        cited = Counter(c for t in triples for c in t.source_chunks)
        asked = {r.type for r in relations}
        about_relation = {c for t in triples if t.predicate in asked for c in t.source_chunks}

        start = time.perf_counter()
        candidates = (
            self.chunks.candidates(question, query[0], self.top_k_chunks)
            if "vector" in self.strategies
            else []
        )
        vector_hits = dict(candidates[: self.top_k_chunks])
        relevance = dict(candidates)
        scores = {
            chunk_id: self._similarity(query[0], chunk_id, relevance)
            + GRAPH_BONUS * min(n, 3)
            + RELATION_BONUS * (chunk_id in about_relation)
            for chunk_id, n in cited.items()
        }
        for chunk_id, score in vector_hits.items():
            scores.setdefault(chunk_id, score)
        ranked = sorted(scores, key=lambda c: -scores[c])[: self.max_evidence]
        evidence = self.store.evidence(ranked)
        for item in evidence:
            item.score = round(scores[item.chunk_id], 4)
            item.via = "graph" if item.chunk_id in cited else "vector"
        evidence.sort(key=lambda e: -e.score)
        timings["rank_s"] = time.perf_counter() - start
        if self.windows is not None:
            start = time.perf_counter()
            evidence, trace["windows"] = self.windows.narrow(evidence, linked, triples, query[0])
            timings["windows_s"] = time.perf_counter() - start

        context = RetrievedContext(
            question=question,
            linked=linked,
            relations=relations,
            triples=triples,
            cypher_rows=rows,
            inferred=inferred,
            evidence=evidence,
            trace={
                **trace,
                "strategies": self.strategies,
                "vector_mode": self.chunks.mode,
                "linked": [e.model_dump() for e in linked],
                "relations": [r.model_dump() for r in relations],
                "triples": len(triples),
                "graph_chunks": len(cited),
                "vector_chunks": list(vector_hits),
                "timings_s": {k: round(v, 4) for k, v in timings.items()},
            },
        )
        if self.context_tokens is None:
            return context
        return budget.fit(context, self.context_tokens)

    def _graph_triples(self, entity_ids: list[str], relation_types: list[str]) -> list[Triple]:
        """Triples around the linked entities, those of the asked-about relationship types
        first; with no entity linked, triples of those types."""
        if "graph" not in self.strategies and self.kge is None:
            return []
        if entity_ids:
            triples = self.store.neighbourhood(entity_ids, self.hops, self.max_triples)
            return sorted(triples, key=lambda t: t.predicate not in relation_types)
        return self.store.triples_of_types(relation_types, self.max_triples)

    @staticmethod
    def _fallible(strategy: str, trace: dict, run: Callable[[], T]) -> T | None:
        """Run one strategy; if it fails, note why in the trace and let the others answer."""
        try:
            return run()
        except KgragError as exc:
            log.warning("retrieval strategy %s failed: %s", strategy, exc)
            trace.setdefault("failed", {})[strategy] = str(exc)
            return None

    def _similarity(self, query: np.ndarray, chunk_id: str, known: dict[str, float]) -> float:
        """A cited chunk's relevance: from the search, else its cosine (dense mode) or 0
        (it ranked below the fusion depth)."""
        if chunk_id in known:
            return known[chunk_id]
        if self.chunks.mode != "dense":
            return 0.0
        vector = self.chunks.vectors.vector(chunk_id)
        return float(np.dot(query, vector)) if vector is not None else 0.0
