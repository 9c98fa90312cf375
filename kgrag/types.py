"""Pydantic models passed between pipeline stages (see DESIGN.md "Data flows one way")."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator


class Page(BaseModel):
    number: int = Field(ge=1)
    text: str
    ocr_engine: str | None = None  # None: the text came from the file's own text layer
    ocr_confidence: float | None = Field(None, ge=0, le=1)


class Document(BaseModel):
    id: str  # first 16 hex chars of the content sha256: same bytes, same document
    title: str
    source: str
    sha256: str
    pages: list[Page]


class Chunk(BaseModel):
    id: str  # "<document id>:p<page>:<start>-<end>", stable across runs
    document_id: str
    page: int
    start: int  # character offsets within the page text
    end: int
    text: str
    section: str | None = None  # header path ("Guide > Install"), markdown chunker only


class ExtractedNode(BaseModel):
    name: str
    type: str


class ExtractedRelationship(BaseModel):
    source: str
    source_type: str
    type: str
    target: str
    target_type: str


class ExtractedGraph(BaseModel):
    """What the LLM found in one chunk, before pruning."""

    chunk_id: str
    nodes: list[ExtractedNode] = []
    relationships: list[ExtractedRelationship] = []
    repaired: bool = False  # the LLM output needed json-repair
    cut: bool = False  # the output hit the extraction budget; its complete items were kept


class DropReason(StrEnum):
    NOT_IN_SCHEMA = "NOT_IN_SCHEMA"
    INVALID_PATTERN = "INVALID_PATTERN"
    MISSING_ID = "MISSING_ID"


class DroppedItem(BaseModel):
    chunk_id: str
    kind: str  # "node" | "relationship"
    item: str
    reason: DropReason


class PruneReport(BaseModel):
    kept_nodes: int = 0
    kept_relationships: int = 0
    dropped: list[DroppedItem] = []


class Entity(BaseModel):
    id: str  # canonical key from entity resolution
    name: str
    type: str
    aliases: list[str] = []
    chunk_ids: list[str] = []
    merges: list[str] = []  # provenance of name merges: "USA ~ United States (acronym 1.0)"


class Relation(BaseModel):
    source_id: str
    type: str
    target_id: str
    chunk_id: str
    confidence: float = 1.0


class ResolvedGraph(BaseModel):
    entities: list[Entity] = []
    relations: list[Relation] = []


class Triple(BaseModel):
    subject: str
    predicate: str
    object: str
    source_chunks: list[str] = []
    subject_id: str = ""
    object_id: str = ""
    # KGE plausibility: the share of entities the model ranks below this object for
    # (subject, predicate); None when no KGE model scored it.
    plausibility: float | None = None
    inferred: bool = False  # predicted by the KGE model, not stated in any document


class Edge(BaseModel):
    """One domain relationship by entity ids, with endpoint types (the KGE training data)."""

    head: str
    relation: str
    tail: str
    head_type: str
    tail_type: str
    head_name: str
    tail_name: str


class Evidence(BaseModel):
    """A passage for the answer: `text` is the chunk's text[start:end] (a sentence window or
    the whole chunk)."""

    chunk_id: str
    document_id: str
    document_title: str
    page: int
    text: str
    start: int = Field(0, ge=0)  # character offsets of `text` within the chunk's text
    end: int | None = None  # None: start + len(text)
    score: float = 0.0
    via: str  # "graph" | "vector"

    @model_validator(mode="after")
    def _end_from_text(self) -> Evidence:
        if self.end is None:
            self.end = self.start + len(self.text)
        elif self.end - self.start != len(self.text):
            raise ValueError(f"offsets {self.start}:{self.end} do not span the text")
        return self


class LinkedEntity(BaseModel):
    mention: str
    entity_id: str
    name: str
    score: float
    method: str  # "exact" | "lexical" | "vector"


class LinkedRelation(BaseModel):
    mention: str
    type: str
    score: float


class RetrievedContext(BaseModel):
    question: str
    linked: list[LinkedEntity] = []
    relations: list[LinkedRelation] = []  # relationship types the question asks about
    triples: list[Triple] = []
    cypher_rows: list[dict[str, Any]] = []  # rows of the guarded, LLM-written Cypher query
    inferred: list[Triple] = []  # KGE link predictions, never mixed with extracted triples
    evidence: list[Evidence] = []
    trace: dict[str, Any] = {}


class Citation(BaseModel):
    document: str
    document_id: str
    page: int
    chunk_id: str
    quote: str
    start: int = 0  # offsets of the quote within the chunk's text
    end: int = 0
    page_image_url: str | None = None  # GET this (API) for the rendered page, when kept


class Answer(BaseModel):
    question: str
    text: str
    supported: bool
    citations: list[Citation] = []
    triples: list[Triple] = []
    inferred: list[Triple] = []  # KGE link predictions: not stated by any document
    evidence: list[Evidence] = []
    degraded: str | None = None  # why this answer rests on less than usual (graph down)
    trace: dict[str, Any] = {}


class IngestStatus(StrEnum):
    INGESTED = "ingested"
    UNCHANGED = "unchanged"
    FAILED = "failed"


class IngestStage(StrEnum):
    """How far ingest got with one document, in order (kgrag/ingest/state.py keeps it)."""

    PENDING = "pending"
    READ = "read"
    CHUNKED = "chunked"
    EXTRACTED = "extracted"
    STORED = "stored"
    INDEXED = "indexed"


class IngestResult(BaseModel):
    source: str
    status: IngestStatus
    stage: IngestStage = IngestStage.PENDING  # the last stage the document completed
    resumed_from: IngestStage | None = None  # a killed run's stage this run continued from
    document_id: str | None = None
    title: str | None = None
    pages: int = 0
    chunks: int = 0
    entities: int = 0
    relationships: int = 0
    repaired_outputs: int = 0
    cut_outputs: int = 0  # extraction outputs cut at extraction_max_tokens (complete items kept)
    # LLM accounting (kgrag/llm/usage.py): calls sent to the server, failed ones included;
    # response-cache hits apart (no request, no tokens); tokens from the server's `usage`
    llm_calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prune: PruneReport | None = None
    error: str | None = None
    timings_s: dict[str, float] = {}
