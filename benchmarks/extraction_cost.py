"""What one extraction call costs on the local LLM: tokens, seconds, cut outputs, repeats.

    python benchmarks/extraction_cost.py                       # 6 MuSiQue passages, 2 threads
    python benchmarks/extraction_cost.py --passages 8 --offset 20 --threads 1 --save run.json
    python benchmarks/extraction_cost.py --compare run.json    # facts kept vs an earlier run
    python benchmarks/extraction_cost.py --max-tokens 1536     # a fixed extraction budget

Reads passages from the MuSiQue dev corpus, makes each a Markdown document as `kgrag eval` does
(read + chunk with the default settings), starts the local llama-server on a fresh data dir
with the response cache off, and extracts the chunks one at a time with kgrag's GraphExtractor
within the per-chunk budget (`extraction_max_tokens`; `--max-tokens` fixes it).
Per LLM call (a chunk that is re-asked has two): prompt tokens and how many of them the server
took from its prompt cache, prompt-processing ms, completion tokens, generation seconds (the
server's own `timings`), finish_reason, nodes/relationships in the raw output and how many of
those repeat an earlier item. Per chunk: wall seconds and the nodes/relationships kept.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import json_repair

from kgrag.errors import LLMOutputError
from kgrag.eval.datasets import load_passages
from kgrag.ingest.chunking import chunk_document
from kgrag.ingest.extract import GraphExtractor, extraction_budget
from kgrag.ingest.read import read_document, read_limits
from kgrag.llm.local_server import LocalLLMServer
from kgrag.llm.openai_compat import make_chat_model
from kgrag.prompts import Prompts
from kgrag.schema import GraphSchema
from kgrag.settings import REPO_ROOT, Settings
from kgrag.types import Chunk, ExtractedGraph

HEAD = (
    f"{'chunk':>5} {'chars':>5} {'call':>4} {'prompt':>6} {'cached':>6} {'pp_ms':>6} "
    f"{'compl':>5} {'gen_s':>6} {'finish':>6} {'nodes':>5} {'dupN':>4} {'rels':>4} "
    f"{'dupR':>4} {'wall_s':>6} {'kept N/R':>8}"
)
CORPUS = REPO_ROOT.parent / "shared" / "data" / "musique-100" / "corpus.json"


class Recorder:
    """An httpx client whose response hook keeps each chat completion's JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.client = httpx.Client(event_hooks={"response": [self._keep]}, timeout=None)

    def _keep(self, response: httpx.Response) -> None:
        if response.request.url.path.endswith("/chat/completions"):
            response.read()
            self.bodies.append(response.json())


def repeats(raw: str) -> tuple[int, int, int, int]:
    """(nodes, repeated nodes, relationships, repeated relationships) in one raw output."""
    data = json_repair.loads(raw) if raw.strip() else {}
    data = data if isinstance(data, dict) else {}
    counts = []
    for key in ("nodes", "relationships"):
        items = [json.dumps(i, sort_keys=True).lower() for i in data.get(key) or []]
        counts += [len(items), len(items) - len(set(items))]
    return counts[0], counts[1], counts[2], counts[3]


def call_row(body: dict[str, Any]) -> dict[str, Any]:
    choice = body["choices"][0]
    usage = body.get("usage") or {}
    timings = body.get("timings") or {}
    raw = choice["message"].get("content") or ""
    nodes, dup_nodes, rels, dup_rels = repeats(raw)
    return {
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "cached_tokens": timings.get("cache_n", 0),
        "prompt_ms": timings.get("prompt_ms", 0.0),
        "completion_tokens": usage.get("completion_tokens", 0),
        "gen_s": timings.get("predicted_ms", 0.0) / 1000,
        "finish": choice.get("finish_reason"),
        "raw_nodes": nodes,
        "dup_nodes": dup_nodes,
        "raw_rels": rels,
        "dup_rels": dup_rels,
        "raw": raw,
    }


def facts(graph: ExtractedGraph) -> dict[str, list[str]]:
    """The chunk's nodes and relationships as comparable strings."""
    return {
        "nodes": sorted({f"{n.name.lower()}|{n.type}" for n in graph.nodes}),
        "rels": sorted(
            {f"{r.source.lower()}|{r.type}|{r.target.lower()}" for r in graph.relationships}
        ),
    }


def load_chunks(settings: Settings, corpus: Path, offset: int, count: int) -> list[Chunk]:
    """The passages as `kgrag eval` writes them (# title, text), read and chunked."""
    chunks: list[Chunk] = []
    for passage in load_passages(corpus)[offset : offset + count]:
        content = f"# {passage.title}\n\n{passage.text.strip()}\n".encode()
        doc = read_document(f"{passage.title}.md", content, **read_limits(settings))
        chunks += chunk_document(doc, settings)
    return chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--passages", type=int, default=6)
    parser.add_argument("--offset", type=int, default=0, help="first passage of the corpus")
    parser.add_argument("--threads", type=int, default=2, help="llama-server threads")
    parser.add_argument("--max-tokens", type=int, help="extraction_max_tokens (default: unset)")
    parser.add_argument("--save", type=Path, help="write per-chunk calls and facts as JSON")
    parser.add_argument("--compare", type=Path, help="a --save file: facts kept vs that run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kgrag-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            llm_cache=False,
            llm_threads=args.threads,
            extraction_max_tokens=args.max_tokens,
        )
        chunks = load_chunks(settings, args.corpus, args.offset, args.passages)
        prompts = Prompts.load(settings.prompts_dir)
        schema = GraphSchema.from_file(settings.schema_path)
        recorder = Recorder()
        with LocalLLMServer(settings) as base_url:
            model = make_chat_model(
                settings, base_url, prompts=prompts, cache=False, http_client=recorder.client
            )
            budget = partial(extraction_budget, settings)
            extractor = GraphExtractor(model, schema, prompts, budget=budget)
            budgets = sorted({budget(c) for c in chunks})
            print(f"{len(chunks)} chunks, extraction budgets {budgets} tokens\n{HEAD}", flush=True)
            results = []
            for i, chunk in enumerate(chunks):
                results.append(run_chunk(extractor, recorder, chunk))
                print_rows(i, results[-1])
                if args.save:  # after each chunk: a long run stopped early keeps its rows
                    args.save.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print_summary(results)
    if args.compare:
        print_comparison(results, json.loads(args.compare.read_text(encoding="utf-8")))


def run_chunk(extractor: GraphExtractor, recorder: Recorder, chunk: Chunk) -> dict[str, Any]:
    recorder.bodies.clear()
    start = time.perf_counter()
    error = None
    try:
        graph = extractor.extract(chunk)
    except LLMOutputError as exc:
        graph, error = ExtractedGraph(chunk_id=chunk.id), str(exc)[:200]
    return {
        "chunk": chunk.id,
        "chars": len(chunk.text),
        "wall_s": time.perf_counter() - start,
        "calls": [call_row(body) for body in recorder.bodies],
        "cut": graph.cut,
        "facts": facts(graph),
        "error": error,
    }


def print_rows(i: int, res: dict[str, Any]) -> None:
    """One line per LLM call of chunk `i`; wall seconds and kept facts on its last call."""
    for j, c in enumerate(res["calls"]):
        last = j == len(res["calls"]) - 1
        kept = f"{len(res['facts']['nodes'])}/{len(res['facts']['rels'])}" if last else ""
        wall = f"{res['wall_s']:.1f}" if last else ""
        print(
            f"{i:>5} {res['chars']:>5} {j:>4} {c['prompt_tokens']:>6} {c['cached_tokens']:>6} "
            f"{c['prompt_ms']:>6.0f} {c['completion_tokens']:>5} {c['gen_s']:>6.1f} "
            f"{c['finish']:>6} {c['raw_nodes']:>5} {c['dup_nodes']:>4} {c['raw_rels']:>4} "
            f"{c['dup_rels']:>4} {wall:>6} {kept:>8}",
            flush=True,
        )
    if res["error"]:
        print(f"      error: {res['error']}", flush=True)


def print_summary(results: list[dict[str, Any]]) -> None:
    calls = [c for r in results for c in r["calls"]]
    n = max(1, len(results))
    print(
        f"\n{len(results)} chunks, {len(calls)} calls: "
        f"{sum(r['wall_s'] for r in results) / n:.1f} s/chunk, "
        f"prompt processing {sum(c['prompt_ms'] for c in calls) / 1000 / n:.1f} s/chunk, "
        f"{sum(c['completion_tokens'] for c in calls) / n:.0f} completion tokens/chunk, "
        f"{sum(c['finish'] == 'length' for c in calls)} calls cut at max_tokens, "
        f"{sum(r['cut'] for r in results)} chunks salvaged from a cut output, "
        f"{sum(r['error'] is not None for r in results)} failed; kept "
        f"{sum(len(r['facts']['nodes']) for r in results)} nodes / "
        f"{sum(len(r['facts']['rels']) for r in results)} relationships"
    )


def print_comparison(results: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    """How many of the earlier run's nodes/relationships this run extracts again, per kind."""
    old = {r["chunk"]: r["facts"] for r in before}
    for kind in ("nodes", "rels"):
        then = now = both = 0
        for res in results:
            prev = set(old.get(res["chunk"], {}).get(kind, []))
            cur = set(res["facts"][kind])
            then, now, both = then + len(prev), now + len(cur), both + len(prev & cur)
        print(f"{kind}: {both} of the earlier {then} kept; {now} now")


if __name__ == "__main__":
    main()
