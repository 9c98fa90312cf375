"""Extract stage: [Chunk] -> [ExtractedGraph] with LangChain's LLMGraphTransformer.

The transformer asks the LLM for its schema-constrained output model through OpenAI
`response_format` json_schema (vLLM and llama-server both enforce it). When the answer still
does not parse (the openai client raises inside the call), we re-ask once with the same prompt
and output model through `invoke_structured`, which repairs the raw text: the chunk is counted
as repaired, never silently emptied. An endpoint below json_schema (pinned, or after the server
refused it: see kgrag/llm/response_format.py) is asked through `invoke_structured` directly.
Schema pruning happens afterwards, in prune.py.
"""

from __future__ import annotations

import json
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
from kgrag.llm.structured import invoke_structured, llm_error
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.types import Chunk, ExtractedGraph, ExtractedNode, ExtractedRelationship

with warnings.catch_warnings():  # langchain-experimental announces its sunset on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from langchain_experimental.graph_transformers import LLMGraphTransformer
    from langchain_experimental.graph_transformers.llm import (
        create_simple_model,
        validate_and_get_relationship_type,
    )

PARSE_FAILURES = (ValidationError, openai.LengthFinishReasonError, json.JSONDecodeError)


class GraphExtractor:
    """Runs LLMGraphTransformer over chunks, up to `concurrency` requests at once.

    With a schema, the LLM is told its types and patterns; with `schema=None` (schema
    discovery) it names types itself and the allowed lists stay empty.
    """

    def __init__(self, llm: BaseChatModel, schema: GraphSchema | None, prompts: Prompts) -> None:
        self.llm = llm
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
        self.transformer = LLMGraphTransformer(
            llm=llm,
            allowed_nodes=nodes,
            allowed_relationships=patterns,
            prompt=self.prompt,
            strict_mode=False,  # strictness lives in prune.py, which reports what it drops
        )
        # The output model the transformer asks for, to validate a repaired answer against.
        self.output_model = create_simple_model(
            nodes,
            patterns,
            llm_type=getattr(llm, "_llm_type", None),
            relationship_type=validate_and_get_relationship_type(patterns, nodes),
        )

    def extract(self, chunk: Chunk, config: RunnableConfig | None = None) -> ExtractedGraph:
        """One chunk's graph; `config` reaches the LLM calls (callbacks: token accounting)."""
        endpoint = endpoint_of(self.llm)
        if RESPONSE_FORMATS.current(endpoint) != "json_schema":
            return self._ask_structured(chunk, config, reasked=False)
        try:
            graph_doc = self.transformer.process_response(
                LCDocument(page_content=self.quote(chunk.text)), config=config
            )
        except PARSE_FAILURES:
            return self._ask_structured(chunk, config, reasked=True)
        except openai.APIConnectionError as exc:
            raise ServiceUnavailableError("LLM", f"{exc} (while extracting {chunk.id})") from exc
        except openai.APIStatusError as exc:
            if RESPONSE_FORMATS.step_down(endpoint, "json_schema", exc) is None:
                raise llm_error(self.llm, exc) from exc
            return self._ask_structured(chunk, config, reasked=False)
        return ExtractedGraph(
            chunk_id=chunk.id,
            nodes=[ExtractedNode(name=str(n.id).strip(), type=n.type) for n in graph_doc.nodes],
            relationships=[
                ExtractedRelationship(
                    source=str(r.source.id).strip(),
                    source_type=r.source.type,
                    type=r.type,
                    target=str(r.target.id).strip(),
                    target_type=r.target.type,
                )
                for r in graph_doc.relationships
            ],
        )

    def _ask_structured(
        self, chunk: Chunk, config: RunnableConfig | None, *, reasked: bool
    ) -> ExtractedGraph:
        """The same prompt and output model through `invoke_structured`, which repairs the raw
        text; `reasked` (after a parse failure) counts the chunk as repaired."""
        messages = self.prompt.format_messages(input=self.quote(chunk.text))
        try:
            result = invoke_structured(self.llm, messages, self.output_model, config=config)
        except LLMOutputError as exc:
            raise LLMOutputError(f"chunk {chunk.id}: {exc}") from exc
        return _to_extracted(chunk.id, result.value, repaired=reasked or result.repaired)

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


def _to_extracted(chunk_id: str, parsed: Any, repaired: bool) -> ExtractedGraph:
    return ExtractedGraph(
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
    )
