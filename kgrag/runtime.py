"""The components one entry point (CLI command, API lifespan) opens once and passes down."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from kgrag.chunk_texts import ChunkTexts
from kgrag.embed import RememberingEmbedder, make_embedder
from kgrag.errors import KgeError, ServiceUnavailableError
from kgrag.ingest.known_names import KnownNames
from kgrag.ingest.state import IngestStates, pause_at
from kgrag.kge.model import KgeModel
from kgrag.kge.rank import KgeRanker
from kgrag.lexical import LexicalIndex
from kgrag.llm.local_server import LocalLLMServer
from kgrag.llm.openai_compat import check_llm, make_chat_model
from kgrag.llm.vllm_provider import VLLM_IN_PROCESS, make_vllm_chat_model
from kgrag.ocr import build_ocr_engine
from kgrag.ocr.base import OcrEngine
from kgrag.page_images import PageImages
from kgrag.ports import GraphStore
from kgrag.prompts import Prompts
from kgrag.retrieve.budget import answer_budget
from kgrag.retrieve.chunk_search import ChunkSearch
from kgrag.retrieve.link import EntityLinker, split_entity_index_key
from kgrag.retrieve.relations import RelationLinker
from kgrag.retrieve.router import Retriever
from kgrag.retrieve.text2cypher import CypherExamples, TextToCypher
from kgrag.retrieve.windows import SentenceWindows
from kgrag.schema import GraphSchema
from kgrag.sentence_vectors import SentenceVectors
from kgrag.settings import Settings, Strategy
from kgrag.store import cypher as q
from kgrag.store.neo4j_store import open_graph_store
from kgrag.vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    schema: GraphSchema
    prompts: Prompts
    store: GraphStore
    llm_base_url: str | None
    _indexes: dict[str, VectorIndex] = field(default_factory=dict)
    _lexical: dict[str, LexicalIndex] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)  # guards index updates/reads
    _entity_linker: EntityLinker | None = None
    known_names: KnownNames = field(default_factory=KnownNames)  # resolution's stored names
    _relation_linker: tuple[tuple[int, int], RelationLinker] | None = None  # (index state, linker)

    @cached_property
    def embedder(self) -> RememberingEmbedder:
        return RememberingEmbedder(make_embedder(self.settings.embedding_model))

    def index(self, name: str) -> VectorIndex:
        """The persisted FAISS index `chunks` or `entities`, loaded on first use."""
        if name not in self._indexes:
            self._indexes[name] = self._vector_index(name, VectorIndex.open)
        return self._indexes[name]

    def reset_index(self, name: str) -> VectorIndex:
        """Replace index `name` by an empty one (saved over the old files by its `save()`);
        its BM25 index is emptied too."""
        self._indexes[name] = self._vector_index(name, VectorIndex.empty)
        self.lexical(name).clear()
        return self._indexes[name]

    def _vector_index(self, name: str, make: Callable[..., VectorIndex]) -> VectorIndex:
        """Index `name` by `make` (open or empty): entities approximate from the configured
        size on, chunks always exact."""
        s = self.settings
        return make(
            s.data_dir / "vectors" / name,
            self.embedder.dimension,
            approximate_min=s.entity_index_approximate_min if name == "entities" else None,
            nprobe=s.entity_index_nprobe,
        )

    def lexical(self, name: str) -> LexicalIndex:
        """The BM25 index beside FAISS index `name`; on first use it is brought in step with
        that index (a missing file, or one cut another way, is refilled)."""
        if name not in self._lexical:
            path = self.settings.data_dir / "vectors" / f"{name}.lexical.sqlite"
            lexical = LexicalIndex(path, ngram=self.settings.lexical_ngram)
            wanted = set(self.index(name).ids)
            have = set(lexical.ids)
            if wanted:
                lexical.remove(have - wanted)
            else:
                lexical.clear()
            texts = self._texts(name, sorted(wanted - have))
            lexical.add(list(texts), list(texts.values()))
            self._lexical[name] = lexical
        return self._lexical[name]

    def _texts(self, name: str, ids: list[str]) -> dict[str, str]:
        """The text behind index ids: entity names from the keys; chunk texts from the local
        copy, or from the graph for any the copy lacks (left for next time if it is down)."""
        if name == "entities":
            return {key: split_entity_index_key(key)[1] for key in ids}
        texts = {e.chunk_id: e.text for e in self.chunk_texts.get(ids)}
        if len(texts) < len(ids):
            try:
                graph = dict(self.store.chunk_texts())
            except ServiceUnavailableError as exc:
                log.warning("lexical index: %d chunk texts unavailable: %s", len(ids), exc)
                graph = {}
            texts |= {i: graph[i] for i in ids if i not in texts and i in graph}
        return texts

    def chunk_search(self) -> ChunkSearch:
        s = self.settings
        return ChunkSearch(
            self.index("chunks"),
            self.lexical("chunks"),
            mode=s.vector_mode,
            rrf_k=s.rrf_k,
            depth=s.fusion_depth,
        )

    @cached_property
    def ocr_engine(self) -> OcrEngine:
        """The OCR engine, built (models loaded) the first time a page needs OCR."""
        return build_ocr_engine(self.settings)

    @cached_property
    def page_images(self) -> PageImages:
        return PageImages(self.settings.data_dir / "pages", self.settings.page_image_max_px)

    @cached_property
    def chunk_texts(self) -> ChunkTexts:
        """Chunk texts kept beside the vector indexes (answers while the graph is down)."""
        return ChunkTexts(self.settings.data_dir / "vectors" / "chunk_texts.sqlite")

    @cached_property
    def sentence_vectors(self) -> SentenceVectors:
        """Chunk sentences' embeddings made at ingest, for sentence windows."""
        path = self.settings.data_dir / "vectors" / "sentences.sqlite"
        return SentenceVectors(path, self.embedder.dimension)

    @cached_property
    def ingest_states(self) -> IngestStates:
        """Each document's ingest stage, kept so a killed ingest can resume."""
        pause = self.settings.ingest_pause_at
        return IngestStates(self.settings.data_dir, pause_at(pause) if pause else None)

    @property
    def kge_dir(self) -> Path:
        return self.settings.data_dir / "kge"

    @cached_property
    def kge_ranker(self) -> KgeRanker:
        """The saved KGE model (checked for staleness against the graph once), or none."""
        s = self.settings
        try:
            model = KgeModel.load(self.kge_dir)
        except KgeError:
            model = None
        return KgeRanker(
            model,
            self.embedder,
            top_k=s.kge_top_k,
            predictions=s.kge_predictions,
            staleness=model.staleness(self.store.edges()) if model is not None else None,
        )

    def set_kge_model(self, model: KgeModel) -> None:
        """Save a newly trained model and use it from now on."""
        model.save(self.kge_dir)
        self.__dict__.pop("kge_ranker", None)

    @cached_property
    def chat_model(self) -> BaseChatModel:
        """One client (and connection pool), or the in-process vLLM engine, for every LLM call
        of this runtime."""
        if self.llm_base_url is None:
            raise RuntimeError("this runtime was opened without an LLM")
        if self.llm_base_url == VLLM_IN_PROCESS:
            return make_vllm_chat_model(self.settings)
        return make_chat_model(self.settings, self.llm_base_url, prompts=self.prompts)

    @cached_property
    def cypher_examples(self) -> CypherExamples:
        return CypherExamples(self.settings.prompts_dir / "cypher_examples.yaml", self.embedder)

    def entity_linker(self) -> EntityLinker:
        """The linker over the entity index, rebuilt only when the index has changed."""
        index = self.index("entities")
        cached = self._entity_linker
        if cached is None or cached.index is not index or cached.version != index.version:
            self._entity_linker = EntityLinker(
                index,
                self.embedder,
                threshold=self.settings.link_threshold,
                lexical=self.lexical("entities"),
                lexical_threshold=self.settings.lexical_link_threshold,
            )
        return self._entity_linker

    def relation_linker(self) -> RelationLinker:
        """Linker over the schema's relationship types (with aliases) and those in the graph;
        the graph's types are read again only when the entity index changed (an ingest)."""
        index = self.index("entities")
        version = (id(index), index.version)
        if self._relation_linker is None or self._relation_linker[0] != version:
            names = {r.name: list(r.aliases) for r in self.schema.relationship_types}
            for row in self.store.run_read(q.RELATIONSHIP_TYPE_COUNTS):
                names.setdefault(row["type"], [])
            linker = RelationLinker(
                names, self.embedder, threshold=self.settings.relation_link_threshold
            )
            self._relation_linker = (version, linker)
        return self._relation_linker[1]

    def retriever(
        self, strategies: list[Strategy] | None = None, *, depth: int | None = None
    ) -> Retriever:
        """The retriever for these strategies (default: the configured ones).

        `depth` gives a plain ranking of that many chunks (vector hits and evidence): no
        text2cypher (its rows rank no chunk), whole chunks, no context budget. `kgrag eval`
        scores recall@k on it.
        """
        s = self.settings
        strategies = strategies or list(s.strategies)
        linker = self.entity_linker()
        text2cypher = None
        if "cypher" in strategies and self.llm_base_url is not None and depth is None:
            text2cypher = TextToCypher(
                self.chat_model,
                self.store,
                self.schema,
                self.prompts,
                self.cypher_examples,
                max_rows=s.cypher_max_rows,
                timeout_s=s.cypher_timeout_s,
                repairs=s.cypher_repairs,
            )
        return Retriever(
            self.store,
            linker,
            self.chunk_search(),
            self.embedder,
            hops=s.hops,
            max_triples=s.max_triples,
            top_k_chunks=depth or s.top_k_chunks,
            max_evidence=depth or s.max_evidence_chunks,
            strategies=list(strategies),
            text2cypher=text2cypher,
            kge=self.kge_ranker if "kge" in strategies else None,
            relation_linker=self.relation_linker(),
            windows=None
            if s.sentence_window is None or depth is not None
            else SentenceWindows(
                self.embedder, linker.surfaces, s.sentence_window, self.sentence_vectors
            ),
            context_tokens=None
            if depth is not None
            else answer_budget(
                self.prompts, context_tokens=s.llm_context, answer_tokens=s.llm_max_tokens
            ),
        )


@contextlib.contextmanager
def llm_endpoint(settings: Settings, *, check: bool = True) -> Iterator[str]:
    """Base URL of the configured OpenAI-compatible server; starts the local one if unset;
    VLLM_IN_PROCESS for `llm_provider: vllm` (the engine loads on the first LLM call).

    `check=False` lets a long-running server come up while a remote LLM is down (its /health
    reports it and requests get 503) instead of refusing to start.
    """
    if settings.llm_provider == "vllm":
        yield VLLM_IN_PROCESS
        return
    if settings.llm_base_url is not None:
        if check:
            check_llm(settings.llm_base_url, api_key=settings.llm_api_key.get_secret_value())
        yield settings.llm_base_url
        return
    with LocalLLMServer(settings) as base_url:
        yield base_url


@contextlib.contextmanager
def open_runtime(
    settings: Settings, *, with_llm: bool = True, check_llm_now: bool = True
) -> Iterator[Runtime]:
    """Load schema and prompts, open the graph store and (optionally) the LLM; close on exit."""
    schema = GraphSchema.from_file(settings.schema_path)
    prompts = Prompts.load(settings.prompts_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(open_graph_store(settings))
        base_url = (
            stack.enter_context(llm_endpoint(settings, check=check_llm_now)) if with_llm else None
        )
        yield Runtime(settings, schema, prompts, store, base_url)
