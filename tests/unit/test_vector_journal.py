"""A saved vector index takes small changes into a journal instead of being written whole, and
opening it gives exactly the index that was saved, also after a torn write or a crash between a
full save and emptying the journal."""

from pathlib import Path

import numpy as np

from kgrag.vectors import JOURNAL_MAX_REMOVALS, VectorIndex

DIM = 16


def _vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype("float32")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _saved(tmp_path: Path, n: int = 1000, **kwargs) -> VectorIndex:
    index = VectorIndex.open(tmp_path / "v", DIM, **kwargs)
    index.add([f"x{i}" for i in range(n)], _vectors(n, 0))
    index.save()
    return index


def _state(index: VectorIndex) -> dict[str, np.ndarray]:
    return {i: index.vector(i) for i in index.ids}


def _same(a: VectorIndex, b: VectorIndex) -> None:
    left, right = _state(a), _state(b)
    assert left.keys() == right.keys()
    for key, vector in left.items():
        np.testing.assert_array_equal(vector, right[key])
    queries = _vectors(5, 9)
    assert [[i for i, _ in row] for row in a.search(queries, 5)] == [
        [i for i, _ in row] for row in b.search(queries, 5)
    ]


def test_small_changes_go_to_the_journal_and_come_back_on_open(tmp_path: Path):
    index = _saved(tmp_path)
    saved_bytes = (tmp_path / "v.faiss").read_bytes()
    index.add(["new0", "new1"], _vectors(2, 1))
    index.remove(["x3", "x7"])
    index.add(["x3"], _vectors(1, 2))  # removed, then added with another vector
    index.save()

    assert (tmp_path / "v.faiss").read_bytes() == saved_bytes  # not written again
    assert (tmp_path / "v.journal").stat().st_size > 0
    _same(index, VectorIndex.open(tmp_path / "v", DIM))


def test_a_torn_last_record_is_dropped_and_the_next_save_is_whole(tmp_path: Path):
    index = _saved(tmp_path)
    index.add(["a"], _vectors(1, 1))
    index.save()
    index.add(["b"], _vectors(1, 2))
    index.save()
    journal = tmp_path / "v.journal"
    journal.write_bytes(journal.read_bytes()[:-5])

    reopened = VectorIndex.open(tmp_path / "v", DIM)
    assert "a" in reopened and "b" not in reopened and len(reopened) == 1001
    reopened.save()
    assert not journal.exists()
    _same(reopened, VectorIndex.open(tmp_path / "v", DIM))


def test_a_crash_before_the_journal_is_emptied_loses_nothing(tmp_path: Path):
    index = _saved(tmp_path)
    index.add(["a"], _vectors(1, 1))
    index.remove(["x1"])
    index.save()
    journal = tmp_path / "v.journal"
    left_behind = journal.read_bytes()
    index.add([f"y{i}" for i in range(400)], _vectors(400, 3))  # outgrows the journal
    index.save()
    assert not journal.exists()
    journal.write_bytes(left_behind)  # as if the process died before emptying it

    _same(index, VectorIndex.open(tmp_path / "v", DIM))


def test_many_removals_make_a_whole_save(tmp_path: Path):
    index = _saved(tmp_path)
    for i in range(JOURNAL_MAX_REMOVALS + 1):
        index.remove([f"x{i}"])
        index.save()
    assert not (tmp_path / "v.journal").exists()
    _same(index, VectorIndex.open(tmp_path / "v", DIM))


def test_turning_approximate_writes_the_whole_index(tmp_path: Path):
    index = _saved(tmp_path, approximate_min=1100)
    index.add([f"y{i}" for i in range(100)], _vectors(100, 4))
    assert index.approximate
    index.save()
    assert not (tmp_path / "v.journal").exists()
    _same(index, VectorIndex.open(tmp_path / "v", DIM, approximate_min=1100))


def test_an_empty_index_saved_over_old_files_leaves_no_journal_behind(tmp_path: Path):
    index = _saved(tmp_path)
    index.add(["a"], _vectors(1, 1))
    index.save()
    assert (tmp_path / "v.journal").exists()
    fresh = VectorIndex.empty(tmp_path / "v", DIM)  # `kgrag index rebuild` starts so
    fresh.add(["only"], _vectors(1, 5))
    fresh.save()
    assert not (tmp_path / "v.journal").exists()
    assert VectorIndex.open(tmp_path / "v", DIM).ids == ["only"]
