"""The one Settings object: init kwargs > env (KGRAG_*) > .env > kgrag.yaml > defaults.

Read once at an entry point (CLI command, API lifespan) and passed down; never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from kgrag.types import IngestStage

REPO_ROOT = Path(__file__).resolve().parent.parent
Strategy = Literal["cypher", "graph", "kge", "vector"]
KgeModelName = Literal["RotatE", "TransE", "ComplEx", "DistMult", "TuckER"]
ResponseFormat = Literal["json_schema", "json_object", "none"]
LLMProvider = Literal["openai", "vllm"]
VectorMode = Literal["dense", "lexical", "hybrid"]
ChunkerName = Literal["recursive", "fixed", "markdown", "semantic"]


class Settings(BaseSettings):
    """Every knob kgrag has. `graph_uri`/`llm_base_url` unset means the embedded default."""

    model_config = SettingsConfigDict(
        env_prefix="KGRAG_",
        env_file=".env",
        yaml_file="kgrag.yaml",
        extra="forbid",
        env_parse_none_str="null",  # KGRAG_SENTENCE_WINDOW=null sets None
    )

    # Where things live
    data_dir: Path = Field(Path(".kgrag"), description="Graph, indexes and caches of one project.")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "kgrag", description="Built tools and models shared by projects."
    )
    schema_path: Path = REPO_ROOT / "schemas" / "default.yaml"
    prompts_dir: Path = REPO_ROOT / "prompts"
    eval_dir: Path = Field(
        Path(".kgrag-eval"),
        description="`kgrag eval` keeps one isolated data dir per dataset here.",
    )

    # Graph store: unset URI = embedded ArcadeDB started by kgrag
    graph_uri: str | None = Field(None, description="bolt:// or neo4j:// URI of a Neo4j server.")
    graph_user: str = "neo4j"
    graph_password: SecretStr | None = None
    graph_database: str | None = None
    graph_read_user: str | None = Field(
        None,
        description="User that runs LLM-generated Cypher on the graph server (graph_uri); the "
        "writer credentials stay for ingest. Read-only only where the server enforces roles "
        "(Neo4j Enterprise: role `reader`; Community gives every user full rights).",
    )
    graph_read_password: SecretStr | None = None
    arcadedb_heap: str = "768m"
    arcadedb_start_timeout_s: float = 60.0
    graph_write_batch: int = Field(200, ge=1, le=5000)

    # LLM: unset base URL = local llama-server started by kgrag
    llm_provider: LLMProvider = Field(
        "openai",
        description="openai: an OpenAI-compatible server (vLLM, llama-server); vllm: the model "
        "runs in this process (`pip install kgrag[gpu]`, a CUDA GPU; llm_model is then the "
        "Hugging Face id or path), for batch ingest.",
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. vLLM.")
    llm_model: str = "qwen2.5-coder-1.5b-instruct"
    llm_api_key: SecretStr = SecretStr("not-needed")
    llm_model_path: Path | None = Field(None, description="Any GGUF for the local server.")
    llm_threads: int = Field(2, ge=1)
    llm_context: int = Field(8192, ge=1024)
    llm_parallel: int = Field(1, ge=1, description="Server slots = concurrent requests.")
    ingest_llm_in_flight: int | None = Field(
        None,
        ge=1,
        description="Extraction requests ingest keeps in flight, across the documents of a "
        "batch (default: llm_parallel). Later documents are read and chunked ahead until "
        "2x-1 this many requests are outstanding; above llm_parallel the server queues them.",
    )
    llm_timeout_s: float = 600.0
    llm_max_retries: int = Field(
        2,
        ge=0,
        description="Retries by the openai client, with exponential backoff (or the server's "
        "Retry-After), on connection errors, timeouts, 408, 409, 429 and 5xx; never on other 4xx.",
    )
    llm_response_format: ResponseFormat = Field(
        "json_schema",
        description="Structured output to ask for first. A server that rejects it (HTTP 400/422 "
        "naming response_format) gets the next one down, json_object then none, with the JSON "
        "schema spelled out in the prompt, for the rest of the process.",
    )
    llm_vllm_args: dict[str, Any] = Field(
        {},
        description="Keyword arguments for vllm.LLM(...) with llm_provider=vllm, e.g. "
        "tensor_parallel_size, gpu_memory_utilization (max_model_len defaults to llm_context).",
    )
    llm_max_tokens: int = Field(1536, ge=64)
    extraction_max_tokens: int | None = Field(
        None,
        ge=64,
        description="Output budget of one extraction call (tokens). A small model sometimes "
        "repeats nodes/relationships until the budget ends; a cut output keeps its complete "
        "items (IngestResult.cut_outputs counts them). Unset: per chunk, its characters + 256 "
        "rounded up to 64 (1088 for an 800-char chunk), at most llm_max_tokens.",
    )
    llm_temperature: float = 0.0
    llm_start_timeout_s: float = 120.0
    llm_cache: bool = Field(True, description="Cache LLM responses by (model, prompt) in data_dir.")

    # Ingest
    chunk_size: int = Field(800, ge=100)
    chunk_overlap: int = Field(100, ge=0)
    chunker: ChunkerName = Field(
        "recursive",
        description="How pages become chunks (one extraction call each): recursive (paragraphs, "
        "then lines, then words), fixed (windows of chunk_size with chunk_overlap), markdown "
        "(one chunk per heading section, header path kept as `section`; long sections split "
        "recursively), semantic (cuts where consecutive sentences' embeddings differ most). "
        "No chunk exceeds chunk_size. Already ingested files keep their chunks until ingested "
        "again with --reextract.",
    )
    chunk_unit: Literal["chars", "tokens"] = Field(
        "chars",
        description="Unit of chunk_size and chunk_overlap for the fixed chunker: characters, or "
        "tokens of the embedding model's tokenizer.",
    )
    semantic_percentile: float = Field(
        90.0,
        ge=0,
        le=100,
        description="Semantic chunker: cut between consecutive sentences whose distance (1 - "
        "cosine) exceeds this percentile of the document's distances (higher = fewer cuts).",
    )
    max_file_mb: float = Field(50.0, gt=0)
    min_page_chars: int = Field(16, ge=0, description="Fewer text-layer chars = page needs OCR.")
    ocr_engine: Literal["auto", "paddleocr", "tesseract"] = Field(
        "auto",
        description="OCR engine for scanned pages. auto: Tesseract for Hangul pages, PaddleOCR "
        "for the rest (its shipped models have no Hangul); rotation via Tesseract OSD.",
    )
    ocr_languages: str = Field(
        "eng,kor",
        pattern=r"^[a-z_]+([,+][a-z_]+)*$",
        description="Tesseract language codes (Debian tesseract-ocr-<code>); kor reads Hangul "
        "pages, the others every other page when ocr_engine is tesseract.",
    )
    ocr_rotation_min_confidence: float = Field(
        7.0,
        ge=0,
        description="Tesseract OSD confidence from which its rotation is applied outright "
        "(clean pages 9-18, wrong answers seen at 1-5); a weaker answer is checked by reading "
        "the page both ways.",
    )
    ocr_device: Literal["cpu", "gpu"] = Field(
        "cpu",
        description="PaddleOCR device. cpu: onnxruntime on bundled PP-OCR models, offline; gpu: "
        "Paddle's engine and PaddleOCR's own models (needs paddlepaddle-gpu and their download).",
    )
    ocr_dpi: int = Field(
        200, ge=72, le=600, description="Resolution PDF pages without a text layer are OCR'd at."
    )
    page_image_max_px: int = Field(
        1600, ge=256, le=10000, description="Longest side of the PNG kept of every page."
    )
    ocr_low_confidence: float = Field(
        0.8, ge=0, le=1, description="`documents show` lists OCR'd pages below this confidence."
    )
    max_image_pixels: int = Field(
        100_000_000,
        ge=1,
        description="Images with more pixels are refused (decompression bombs; Pillow's own limit "
        "of about 179 million also applies); larger PDF pages are rendered smaller.",
    )
    ingest_pause_at: IngestStage | None = Field(
        None,
        description="Crash tests only: after a document reaches this stage, ingest says so on "
        "stderr and holds for 10 minutes, so a test can kill it there. Leave unset.",
    )

    # Embeddings and retrieval
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Sentence embedding model: a bundled one by name (`all-MiniLM-L6-v2`, "
        "English only; `use-multilingual-v3`, 16 languages incl. Korean, see docs/embeddings.md), "
        "a local sentence-transformers folder, or with network any sentence-transformers hub id "
        "(e.g. BAAI/bge-m3). After a change run `kgrag index rebuild`.",
    )
    vector_mode: VectorMode = Field(
        "hybrid",
        description="How the `vector` strategy finds chunks: dense (FAISS embeddings), lexical "
        "(BM25 over words and character n-grams; works for Korean with any embedder) or hybrid "
        "(both, fused by reciprocal rank).",
    )
    rrf_k: int = Field(
        60, ge=1, description="Reciprocal rank fusion constant: score = sum of 1 / (k + rank)."
    )
    fusion_depth: int = Field(
        50, ge=1, description="Chunks each of FAISS and BM25 contribute to the fusion."
    )
    lexical_ngram: int = Field(
        2,
        ge=2,
        le=4,
        description="Character n-gram length of the lexical index (2 suits Korean/CJK); a "
        "change refills the index from the chunk texts on next use.",
    )
    lexical_link_threshold: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Share of an entity name's character n-grams that must occur in the "
        "question (the first at a word start) to link it lexically; Korean names followed by "
        "particles, spacing and hyphen variants of transliterations.",
    )
    link_threshold: float = Field(0.72, ge=0, le=1)
    entity_index_approximate_min: int | None = Field(
        50_000,
        ge=1,
        description="From this many entity names and aliases on, the entity index is approximate "
        "(FAISS IVF, its lists trained once when it gets there; far faster linking on large graphs "
        "at a small loss of recall, docs/benchmarks.md); null: always exact. `kgrag index "
        "rebuild` retrains the lists.",
    )
    entity_index_nprobe: int = Field(
        16, ge=1, description="IVF lists the approximate entity index searches per query."
    )
    relation_link_threshold: float = Field(
        0.6, ge=0, le=1, description="Cosine for linking a question phrase to a relationship type."
    )
    hops: Literal[1, 2] = 2
    max_triples: int = Field(40, ge=1)
    top_k_chunks: int = Field(4, ge=1)
    max_evidence_chunks: int = Field(6, ge=1)
    sentence_window: int | None = Field(
        1,
        ge=0,
        description="Each evidence sentence goes to the LLM with this many sentences before and "
        "after; None gives whole chunks.",
    )
    strategies: list[Strategy] = Field(
        ["graph", "vector"],
        description="Retrieval strategies: LLM-written Cypher (worth it with a 7B+ model; the "
        "1.5B CPU default rarely writes a useful one), linked-entity triples, vectors.",
    )
    cypher_max_rows: int = Field(50, ge=1, description="LIMIT forced on generated Cypher.")
    cypher_timeout_s: float = Field(10.0, gt=0, description="Timeout of a generated query.")
    cypher_repairs: int = Field(2, ge=0, description="Re-asks after a refused/failed query.")
    kge_model: KgeModelName = "RotatE"
    kge_dim: int = Field(128, ge=2, description="Embedding dimension of the KGE model.")
    kge_epochs: int = Field(200, ge=1)
    kge_learning_rate: float = Field(0.01, gt=0)
    kge_negatives: int = Field(16, ge=1, description="Negative samples per training triple.")
    kge_threads: int = Field(1, ge=1, description="torch threads for KGE training.")
    kge_device: str = Field("cpu", description="torch device for KGE training, e.g. cuda.")
    kge_top_k: int = Field(12, ge=1, description="Triples the `kge` strategy keeps.")
    kge_predictions: int = Field(
        3, ge=0, description="Inferred (predicted, not extracted) links shown per question."
    )
    kge_retrain_after_ingest: bool = Field(
        False, description="`kgrag ingest` retrains the KGE model when the graph changed."
    )
    verify_answers: bool = Field(
        True, description="Second LLM call: do the cited passages state it?"
    )

    # Schema refinement and entity resolution
    schema_similar_threshold: float = Field(
        0.6, ge=0, le=1, description="Discovery lists type names this similar (cosine)."
    )
    schema_merge_threshold: float = Field(
        0.8, ge=0, le=1, description="Draft merges type names this similar in meaning (cosine)."
    )
    schema_min_count: int = Field(2, ge=1, description="Draft drops types seen fewer times.")
    entity_merge_threshold: float = Field(
        0.9, ge=0, le=1, description="Merge same-type entity names this similar (cosine)."
    )
    duplicate_candidate_threshold: float = Field(
        0.8, ge=0, le=1, description="`schema review` lists entity pairs this similar (cosine)."
    )

    # API
    api_key: SecretStr | None = Field(
        None,
        description="When set, every route but /health needs `Authorization: Bearer <key>`; "
        "this key may also change data (upload, delete).",
    )
    api_read_keys: list[SecretStr] = Field(
        [], description="Further keys that may ask and read but not change data (403)."
    )
    max_upload_mb: float = Field(20.0, gt=0)
    max_request_kb: int = Field(
        512, ge=1, description="Largest JSON request body (chat, completions) accepted."
    )

    @model_validator(mode="before")
    @classmethod
    def _embedding_model_path_renamed(cls, data: Any) -> Any:
        """`embedding_model_path` (a folder) is now `embedding_model`, which takes a folder too."""
        if isinstance(data, dict) and "embedding_model_path" in data:
            data = dict(data)
            path = data.pop("embedding_model_path")
            if path is not None:
                data.setdefault("embedding_model", str(path))
        return data

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, v: int, info) -> int:  # type: ignore[no-untyped-def]
        size = info.data.get("chunk_size", 800)
        if v >= size:
            raise ValueError(f"chunk_overlap ({v}) must be smaller than chunk_size ({size})")
        return v

    @field_validator("graph_read_user", "graph_read_password", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if v == "" else v  # docker-compose passes unset variables as ""

    @model_validator(mode="after")
    def _reader_needs_server_and_password(self) -> Settings:
        if self.graph_read_user is None:
            if self.graph_read_password is not None:
                raise ValueError("graph_read_password is set but graph_read_user is not")
            return self
        if self.graph_uri is None:
            raise ValueError(
                "graph_read_user needs graph_uri: the embedded ArcadeDB is started with its "
                "root user only"
            )
        if self.graph_read_password is None:
            raise ValueError(f"graph_read_user {self.graph_read_user!r} needs graph_read_password")
        return self

    @property
    def embedded_graph(self) -> bool:
        return self.graph_uri is None

    @model_validator(mode="after")
    def _one_llm_provider(self) -> Settings:
        if self.llm_provider == "vllm" and self.llm_base_url is not None:
            raise ValueError(
                "llm_provider 'vllm' runs the model in this process; llm_base_url is for an "
                "OpenAI-compatible server (llm_provider 'openai'): set one of them"
            )
        return self

    @property
    def local_llm(self) -> bool:
        """kgrag starts the local llama-server (no base URL, no in-process vLLM)."""
        return self.llm_provider == "openai" and self.llm_base_url is None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            YamlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )
