"""Extract stage: [Chunk] -> [ExtractedGraph] with LangChain's LLMGraphTransformer.

The transformer asks the LLM for its schema-constrained output model through OpenAI
`response_format` json_schema (vLLM and llama-server both enforce it), within an output budget
(`extraction_max_tokens`). An answer cut at that budget (a small model may repeat items until
it ends) keeps its complete nodes/relationships and is marked `cut`; it is not asked again.
When an answer does not parse otherwise (the openai client raises inside the call), we re-ask
once with the same prompt and output model through `invoke_structured`, which repairs the raw
text: the chunk is counted as repaired, never silently emptied. An endpoint below json_schema
(pinned, or after the server refused it: see kgrag/llm/response_format.py) is asked through
`invoke_structured` directly. Repeated items are kept once; schema pruning happens afterwards,
in prune.py.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
from langchain_core.documents import Document as LCDocument
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig
from pydantic import ValidationError

from kgrag.errors import LLMOutputError, ServiceUnavailableError
from kgrag.llm.response_format import RESPONSE_FORMATS, endpoint_of
from kgrag.llm.salvage import complete_arrays
from kgrag.llm.structured import invoke_structured, llm_error
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.types import Chunk, ExtractedGraph, ExtractedNode, ExtractedRelationship

with warnings.catch_warnings():  # langchain-experimental announces its sunset on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from langchain_experimental.graph_transformers import LLMGraphTransformer
    from langchain_experimental.graph_transformers.llm import (
        _convert_to_graph_document,
        create_simple_model,
        validate_and_get_relationship_type,
    )

PARSE_FAILURES = (ValidationError, json.JSONDecodeError)
OUTPUT_LISTS = ("nodes", "relationships")
BUDGET_BASE = 256  # output tokens on top of one per chunk character
BUDGET_STEP = 64  # budgets are rounded up to this: few distinct chat models


def extraction_budget(settings: Settings, chunk: Chunk) -> int:
    """The output budget for one chunk: `extraction_max_tokens`, else the chunk's characters
    + 256, rounded up to 64 and at most llm_max_tokens (a dense passage's JSON, as the local
    model indents it, takes about one token per character)."""
    if settings.extraction_max_tokens is not None:
        return settings.extraction_max_tokens
    tokens = -(-(len(chunk.text) + BUDGET_BASE) // BUDGET_STEP) * BUDGET_STEP
    return min(tokens, settings.llm_max_tokens)


class GraphExtractor:
    """Runs LLMGraphTransformer over chunks, up to `concurrency` requests at once.

    With a schema, the LLM is told its types and patterns; with `schema=None` (schema
    discovery) it names types itself and the allowed lists stay empty. `budget(chunk)` is the
    output budget (max_tokens) of that chunk's call (default: the chat model's).
    """

    def __init__(
        self,
        llm: BaseChatModel,
        schema: GraphSchema | None,
        prompts: Prompts,
        *,
        budget: Callable[[Chunk], int] | None = None,
    ) -> None:
        self.llm = llm
        self.budget = budget
        self._budgeted: dict[int, tuple[BaseChatModel, LLMGraphTransformer]] = {}
        self._lock = threading.Lock()
        self.quote = prompts.quote  # the chunk is data between the prompt's delimiters
        schema_text = schema.to_prompt() if schema else prompts.raw("discover_schema")
        self.prompt = ChatPromptTemplate.from_messages(
            [
                ("system", _escape(prompts.render("extract_system", schema=schema_text))),
                ("human", prompts.raw("extract_user")),
            ]
        )
        nodes = schema.node_labels if schema else []
        patterns = list(schema.patterns) if schema else []
        self.allowed = (nodes, patterns)
        self.transformer = self._transformer(llm)
        # The output model the transformer asks for, to validate a repaired answer against.
        self.output_model = create_simple_model(
            nodes,
            patterns,
            llm_type=getattr(llm, "_llm_type", None),
            relationship_type=validate_and_get_relationship_type(patterns, nodes),
        )

    def _transformer(self, llm: BaseChatModel) -> LLMGraphTransformer:
        nodes, patterns = self.allowed
        return LLMGraphTransformer(
            llm=llm,
            allowed_nodes=nodes,
            allowed_relationships=patterns,
            prompt=self.prompt,
            strict_mode=False,  # strictness lives in prune.py, which reports what it drops
        )

    def _for(self, chunk: Chunk) -> tuple[BaseChatModel, LLMGraphTransformer]:
        """The chat model and transformer with this chunk's output budget."""
        if self.budget is None:
            return self.llm, self.transformer
        tokens = self.budget(chunk)
        with self._lock:
            if tokens not in self._budgeted:
                llm = self.llm.model_copy(update={"max_tokens": tokens})
                self._budgeted[tokens] = (llm, self._transformer(llm))
            return self._budgeted[tokens]

    def extract(self, chunk: Chunk, config: RunnableConfig | None = None) -> ExtractedGraph:
        """One chunk's graph; `config` reaches the LLM calls (callbacks: token accounting)."""
        llm, transformer = self._for(chunk)
        endpoint = endpoint_of(llm)
        if RESPONSE_FORMATS.current(endpoint) != "json_schema":
            return self._ask_structured(llm, chunk, config, reasked=False)
        try:
            graph_doc = transformer.process_response(
                LCDocument(page_content=self.quote(chunk.text)), config=config
            )
        except openai.LengthFinishReasonError as exc:  # cut at the budget: keep what is complete
            return self._salvage(chunk.id, exc.completion.choices[0].message.content or "")
        except PARSE_FAILURES:
            return self._ask_structured(llm, chunk, config, reasked=True)
        except openai.APIConnectionError as exc:
            raise ServiceUnavailableError("LLM", f"{exc} (while extracting {chunk.id})") from exc
        except openai.APIStatusError as exc:
            if RESPONSE_FORMATS.step_down(endpoint, "json_schema", exc) is None:
                raise llm_error(llm, exc) from exc
            return self._ask_structured(llm, chunk, config, reasked=False)
        return _from_transformer(chunk.id, graph_doc.nodes, graph_doc.relationships)

    def _salvage(self, chunk_id: str, raw: str) -> ExtractedGraph:
        """The complete items of an output cut at max_tokens, formatted as the transformer
        formats a whole answer."""
        try:
            parsed = self._complete_items(raw)
        except LLMOutputError as exc:
            raise LLMOutputError(f"chunk {chunk_id}: {exc}") from exc
        nodes, relationships = _convert_to_graph_document({"parsed": parsed, "raw": None})
        return _from_transformer(chunk_id, nodes, relationships, cut=True)

    def _complete_items(self, raw: str) -> Any:
        """The output model holding the items of `raw` that were closed before the cut."""
        arrays = complete_arrays(raw)
        try:
            return self.output_model.model_validate({k: arrays.get(k, []) for k in OUTPUT_LISTS})
        except ValidationError as exc:
            raise LLMOutputError(f"an item of the cut output is invalid: {exc}") from exc

    def _ask_structured(
        self, llm: BaseChatModel, chunk: Chunk, config: RunnableConfig | None, *, reasked: bool
    ) -> ExtractedGraph:
        """The same prompt and output model through `invoke_structured`, which repairs the raw
        text; `reasked` (after a parse failure) counts the chunk as repaired."""
        messages = self.prompt.format_messages(input=self.quote(chunk.text))
        try:
            result = invoke_structured(
                llm,
                messages,
                self.output_model,
                config=config,
                on_cut=self._complete_items,
            )
        except LLMOutputError as exc:
            raise LLMOutputError(f"chunk {chunk.id}: {exc}") from exc
        return _to_extracted(
            chunk.id, result.value, repaired=reasked or result.repaired, cut=result.truncated
        )

    def extract_all(
        self,
        chunks: list[Chunk],
        *,
        concurrency: int = 1,
        on_done: Callable[[Chunk], None] | None = None,
        config: RunnableConfig | None = None,
    ) -> list[ExtractedGraph]:
        """Extract every chunk in order; the first error is raised once all requests ended.
        `config` (callbacks) is shared by the concurrent calls."""

        def run(chunk: Chunk) -> ExtractedGraph:
            try:
                return self.extract(chunk, config)
            finally:
                if on_done:
                    on_done(chunk)

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            return list(pool.map(run, chunks))


def _escape(text: str) -> str:
    """Rendered text goes into a LangChain template: keep its braces literal."""
    return text.replace("{", "{{").replace("}", "}}")


def _from_transformer(
    chunk_id: str, nodes: list[Any], relationships: list[Any], *, cut: bool = False
) -> ExtractedGraph:
    """An ExtractedGraph from the transformer's Node/Relationship objects."""
    return _unique(
        ExtractedGraph(
            chunk_id=chunk_id,
            nodes=[ExtractedNode(name=str(n.id).strip(), type=n.type) for n in nodes],
            relationships=[
                ExtractedRelationship(
                    source=str(r.source.id).strip(),
                    source_type=r.source.type,
                    type=r.type,
                    target=str(r.target.id).strip(),
                    target_type=r.target.type,
                )
                for r in relationships
            ],
            cut=cut,
        )
    )


def _to_extracted(chunk_id: str, parsed: Any, *, repaired: bool, cut: bool) -> ExtractedGraph:
    """An ExtractedGraph from the output model (the `invoke_structured` path)."""
    return _unique(
        ExtractedGraph(
            chunk_id=chunk_id,
            nodes=[
                ExtractedNode(name=str(n.id).strip(), type=str(n.type).strip())
                for n in (parsed.nodes or [])
            ],
            relationships=[
                ExtractedRelationship(
                    source=str(r.source_node_id).strip(),
                    source_type=str(r.source_node_type).strip(),
                    type=str(r.type).strip(),
                    target=str(r.target_node_id).strip(),
                    target_type=str(r.target_node_type).strip(),
                )
                for r in (parsed.relationships or [])
            ],
            repaired=repaired,
            cut=cut,
        )
    )


def _unique(graph: ExtractedGraph) -> ExtractedGraph:
    """Each node and relationship once (names compared case-insensitively), in first-seen
    order: a looping model repeats them."""
    nodes: dict[tuple[str, ...], ExtractedNode] = {}
    for n in graph.nodes:
        nodes.setdefault((n.name.casefold(), n.type), n)
    rels: dict[tuple[str, ...], ExtractedRelationship] = {}
    for r in graph.relationships:
        key = (r.source.casefold(), r.source_type, r.type, r.target.casefold(), r.target_type)
        rels.setdefault(key, r)
    return graph.model_copy(
        update={"nodes": list(nodes.values()), "relationships": list(rels.values())}
    )
