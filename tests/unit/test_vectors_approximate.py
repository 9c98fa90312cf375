"""VectorIndex's approximate mode: flat below `approximate_min`, IVF from there on, with the
same ids, removal, reconstruction and persistence as the exact index."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from kgrag.errors import IndexCorruptError
from kgrag.settings import Settings
from kgrag.vectors import VectorIndex
from tests.unit.test_runtime_lexical import _runtime

DIM = 16
SWITCH_AT = 1500


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, DIM)).astype("float32")
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ids(n: int, prefix: str = "v") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def approximate_index(path: Path, n: int = 2000) -> tuple[VectorIndex, np.ndarray]:
    """An index past the switch: `n` vectors added in two batches, the second crossing it."""
    vectors = unit_vectors(n)
    index = VectorIndex.empty(path, DIM, approximate_min=SWITCH_AT, nprobe=8)
    index.add(ids(1000), vectors[:1000])
    index.add(ids(n)[1000:], vectors[1000:])
    return index, vectors


def top1(index: VectorIndex, queries: np.ndarray) -> list[str]:
    return [row[0][0] for row in index.search(queries, 1)]


def test_below_the_threshold_search_is_exact_brute_force(tmp_path: Path):
    vectors = unit_vectors(SWITCH_AT - 1)
    index = VectorIndex.empty(tmp_path / "v", DIM, approximate_min=SWITCH_AT)
    index.add(ids(len(vectors)), vectors)
    queries = unit_vectors(12, seed=1)
    scores = queries @ vectors.T
    expected = [
        [(f"v{i}", pytest.approx(float(row[i]), abs=1e-5)) for i in np.argsort(-row)[:5]]
        for row in scores
    ]
    assert not index.approximate
    assert index.search(queries, 5) == expected


def test_reaching_the_threshold_switches_to_ivf_and_stored_vectors_find_themselves(
    tmp_path: Path,
):
    index, vectors = approximate_index(tmp_path / "v")
    assert index.approximate
    assert index.index.nprobe == 8
    assert top1(index, vectors) == index.ids == ids(2000)
    assert np.allclose(index.vector("v1234"), vectors[1234])


def test_vectors_added_after_the_switch_join_without_retraining(tmp_path: Path):
    index, _ = approximate_index(tmp_path / "v")
    centroids = index.index.quantizer.reconstruct_n(0, index.index.nlist)
    version = index.version
    later = unit_vectors(50, seed=2)
    index.add(ids(50, "w"), later)
    index.add(["w0"], later[1:2])  # existing id: ignored
    assert index.version == version + 1
    assert len(index) == 2050
    assert np.array_equal(index.index.quantizer.reconstruct_n(0, index.index.nlist), centroids)
    assert top1(index, later) == ids(50, "w")
    assert np.allclose(index.vector("w7"), later[7])


def test_removal_keeps_ivf_ids_and_vectors_even_below_the_threshold(tmp_path: Path):
    index, vectors = approximate_index(tmp_path / "v")
    version = index.version
    index.remove([f"v{i}" for i in range(0, 2000, 2)])  # 1000 left, below SWITCH_AT
    kept = list(range(1, 2000, 2))
    assert index.version == version + 1
    assert index.approximate
    assert index.ids == [f"v{i}" for i in kept]
    assert "v0" not in index and index.vector("v0") is None
    assert np.allclose(index.vector("v1999"), vectors[1999])
    assert top1(index, vectors[kept]) == index.ids
    assert all(hit[0] != "v0" for hit in index.search(vectors[:1], 10)[0])


def test_an_ivf_index_survives_save_and_open(tmp_path: Path):
    index, vectors = approximate_index(tmp_path / "v")
    index.remove(["v3"])
    index.save()
    reloaded = VectorIndex.open(tmp_path / "v", DIM, approximate_min=SWITCH_AT, nprobe=2)
    assert reloaded.approximate and reloaded.index.nprobe == 2
    assert reloaded.ids == index.ids
    assert np.allclose(reloaded.vector("v1999"), vectors[1999])
    assert top1(reloaded, vectors[4:]) == index.ids[3:]


def test_opening_an_ivf_file_exact_gives_brute_force_results(tmp_path: Path):
    index, vectors = approximate_index(tmp_path / "v")
    index.save()
    exact = VectorIndex.open(tmp_path / "v", DIM)
    queries = unit_vectors(12, seed=1)
    assert not exact.approximate
    assert [[i for i, _ in row] for row in exact.search(queries, 5)] == [
        [f"v{i}" for i in np.argsort(-row)[:5]] for row in queries @ vectors.T
    ]


@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda d: (d / "v.ids.json").write_text('["a"]'), "2000 vectors of dimension 16 for 1"),
        (lambda d: (d / "v.faiss").write_bytes((d / "v.faiss").read_bytes()[:5000]), "cannot be"),
    ],
)
def test_a_damaged_ivf_file_is_refused(tmp_path: Path, damage, detail):
    index, _ = approximate_index(tmp_path / "v")
    index.save()
    assert isinstance(faiss.read_index(str(tmp_path / "v.faiss")), faiss.IndexIVFFlat)
    damage(tmp_path)
    with pytest.raises(IndexCorruptError, match=detail):
        VectorIndex.open(tmp_path / "v", DIM, approximate_min=SWITCH_AT)


def test_the_runtime_makes_only_the_entity_index_approximate(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, entity_index_approximate_min=300, entity_index_nprobe=4)
    rt = _runtime(settings)
    assert (rt.index("entities").approximate_min, rt.index("entities").nprobe) == (300, 4)
    assert rt.index("chunks").approximate_min is None
    assert rt.reset_index("entities").approximate_min == 300
    assert rt.reset_index("chunks").approximate_min is None
