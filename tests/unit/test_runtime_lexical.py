"""Settings choose the vector mode and the embedder without code changes, and a runtime
refills a missing lexical index from the local chunk copy (no graph store needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrag.embed import SentenceEmbedder, UseEmbedder
from kgrag.prompts import Prompts
from kgrag.runtime import Runtime
from kgrag.schema import GraphSchema
from kgrag.settings import Settings
from kgrag.types import Evidence

CHUNKS = {
    "d1:p1:0": "노을철도는 태백과 정선을 잇는 협궤 철도로 1937년에 개통했다.",
    "d1:p1:1": "하늘다리는 단양 계곡 위에 놓인 보행자 현수교다.",
    "d2:p1:0": "The Goun Hanji Workshop makes paper from mulberry bark.",
}
QUESTION = "노을철도는 언제 개통했나요?"


class NoGraph:
    """A graph store that is down: the lexical index must not need it."""

    def chunk_texts(self):
        raise AssertionError("the graph store was asked for chunk texts")


def _runtime(settings: Settings) -> Runtime:
    return Runtime(
        settings,
        GraphSchema.from_file(settings.schema_path),
        Prompts.load(settings.prompts_dir),
        NoGraph(),  # type: ignore[arg-type]
        llm_base_url=None,
    )


def _fill(rt: Runtime) -> None:
    ids = list(CHUNKS)
    rt.index("chunks").add(ids, rt.embedder.embed(list(CHUNKS.values())))
    rt.index("chunks").save()
    rt.chunk_texts.put(
        [
            Evidence(chunk_id=i, document_id=i[:2], document_title=i[:2], page=1, text=t, via="x")
            for i, t in CHUNKS.items()
        ]
    )


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_vector_mode_comes_from_the_environment(tmp_path: Path, monkeypatch, mode):
    monkeypatch.setenv("KGRAG_VECTOR_MODE", mode)
    monkeypatch.setenv("KGRAG_RRF_K", "10")
    rt = _runtime(Settings(data_dir=tmp_path))
    _fill(rt)
    search = rt.chunk_search()
    assert (search.mode, search.rrf_k) == (mode, 10)
    hits = search.search(QUESTION, rt.embedder.embed([QUESTION])[0], 3)
    if mode != "dense":  # BM25 alone, or fused with it, puts the Korean passage first
        assert hits[0][0] == "d1:p1:0"


def test_a_missing_lexical_index_is_refilled_from_the_chunk_copy(tmp_path: Path):
    rt = _runtime(Settings(data_dir=tmp_path, vector_mode="lexical"))
    _fill(rt)
    assert sorted(rt.lexical("chunks").ids) == sorted(CHUNKS)
    rt.lexical("chunks").close()
    (tmp_path / "vectors" / "chunks.lexical.sqlite").unlink()

    fresh = _runtime(Settings(data_dir=tmp_path, vector_mode="lexical"))
    assert sorted(fresh.lexical("chunks").ids) == sorted(CHUNKS)
    hits = fresh.chunk_search().search(QUESTION, fresh.embedder.embed([QUESTION])[0], 1)
    assert hits[0][0] == "d1:p1:0"


def test_a_lexical_index_with_extra_rows_is_brought_in_step(tmp_path: Path):
    rt = _runtime(Settings(data_dir=tmp_path))
    _fill(rt)
    rt.lexical("chunks").add(["gone:p1:0"], ["노을철도 개통 노을철도"])  # e.g. a crash mid-delete
    rt.lexical("chunks").close()
    fresh = _runtime(Settings(data_dir=tmp_path))
    assert sorted(fresh.lexical("chunks").ids) == sorted(CHUNKS)


def test_embedding_model_comes_from_settings(tmp_path: Path, monkeypatch):
    assert isinstance(_runtime(Settings(data_dir=tmp_path)).embedder.inner, SentenceEmbedder)
    monkeypatch.setenv("KGRAG_EMBEDDING_MODEL", "use-multilingual-v3")
    rt = _runtime(Settings(data_dir=tmp_path))
    assert isinstance(rt.embedder.inner, UseEmbedder) and rt.embedder.dimension == 512
    assert rt.embedder.embed(["서울", "Seoul"]).shape == (2, 512)


def test_the_old_embedding_model_path_key_still_works(tmp_path: Path):
    assert Settings(embedding_model_path=tmp_path).embedding_model == str(tmp_path)
