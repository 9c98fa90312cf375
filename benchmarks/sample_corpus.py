"""Per-stage timings of the whole path on the bundled sample corpus, on a fresh data dir.

    python benchmarks/sample_corpus.py [--threads N]

Starts the embedded graph server and the local LLM like `kgrag demo`, with the LLM response
cache off, so every figure includes real LLM work. Prints start-up, per-stage ingest time
(summed over documents), per-question retrieval/answer/verify time and answer hits.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

from kgrag.ingest.pipeline import IngestPipeline
from kgrag.qa import answer_question
from kgrag.runtime import open_runtime
from kgrag.settings import REPO_ROOT, Settings

SAMPLES = REPO_ROOT / "samples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="llama-server threads")
    args = parser.parse_args()
    questions = yaml.safe_load((SAMPLES / "questions.yaml").read_text(encoding="utf-8"))

    with tempfile.TemporaryDirectory(prefix="kgrag-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), llm_cache=False, llm_threads=args.threads)
        t0 = start = time.perf_counter()
        with open_runtime(settings) as rt:
            _ = rt.embedder
            print(
                f"start-up (graph server, LLM server, embedder): {time.perf_counter() - start:.1f}s"
            )

            start = time.perf_counter()
            results = IngestPipeline(rt).ingest_paths([SAMPLES / "docs"])
            ingest_s = time.perf_counter() - start
            stages: Counter[str] = Counter()
            for result in results:
                stages.update(result.timings_s)
            chunks = sum(r.chunks for r in results)
            print(f"ingest: {len(results)} documents, {chunks} chunks in {ingest_s:.1f}s")
            for stage in ("read", "chunk", "extract", "store", "embed"):
                print(f"  {stage:8} {stages[stage]:8.3f}s")
            print(f"  extract per chunk: {stages['extract'] / max(chunks, 1):.1f}s")

            hits = 0
            print("questions (retrieve / answer / verify / total seconds):")
            for item in questions:
                answer = answer_question(rt, item["question"])
                t = answer.trace.get("timings_s", {})
                retrieve = sum(t.get(k, 0.0) for k in ("link_s", "graph_s", "rank_s"))
                accepted = item["accept"] or []
                hit = (
                    any(a.lower() in answer.text.lower() for a in accepted)
                    if accepted
                    else not answer.supported
                )
                hits += hit
                print(
                    f"  {retrieve:6.2f} {t.get('answer_s', 0):6.1f} {t.get('verify_s', 0):6.1f} "
                    f"{t.get('total_s', 0):6.1f}  {'ok  ' if hit else 'MISS'} {item['question']}"
                )
            print(f"answers right: {hits}/{len(questions)}")
        print(f"total: {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
