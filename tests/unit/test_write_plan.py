"""Which entity rows a write creates, relabels or updates, given what is stored."""

from __future__ import annotations

from typing import Any

from kgrag.store.write_plan import entity_changes


def row(id_: str, type_: str = "Person", aliases: tuple[str, ...] = (), **kw: Any) -> dict:
    return {"id": id_, "name": kw.get("name", id_), "type": type_, "aliases": list(aliases),
            "merges": kw.get("merges", [])}  # fmt: skip


def stored(id_: str, labels: list[str], type_: str = "Person", **kw: Any) -> dict[str, Any]:
    return {"id": id_, "labels": labels, "name": kw.get("name", id_), "type": type_,
            "aliases": kw.get("aliases"), "merges": kw.get("merges")}  # fmt: skip


def test_unchanged_entities_are_not_written() -> None:
    old = {"ann": stored("ann", ["Entity", "Person"], aliases=["A.", "Annie"], merges=["m"])}
    rows = [row("ann", aliases=("Annie",), merges=["m"])]
    assert entity_changes(rows, old) == ([], [], [])


def test_missing_entities_are_created_and_only_those() -> None:
    rows = [row("ann"), row("bob")]
    old = {"bob": stored("bob", ["Entity", "Person"])}
    assert entity_changes(rows, old) == ([rows[0]], [], [])


def test_new_alias_merge_or_name_is_an_update() -> None:
    old = {i: stored(i, ["Entity", "Person"], aliases=["x"], merges=None) for i in ("a", "b", "c")}
    rows = [row("a", aliases=("x", "y")), row("b", merges=["note"]), row("c", name="C.")]
    assert entity_changes(rows, old) == ([], [], rows)


def test_another_type_is_a_label_and_an_update() -> None:
    old = {"berlin": stored("berlin", ["Entity", "City"], type_="City")}
    rows = [row("berlin", type_="Place")]
    assert entity_changes(rows, old) == ([], rows, rows)
    # the type label already there (written with two types before): only the property changes
    old = {"berlin": stored("berlin", ["Entity", "City", "Place"], type_="City")}
    assert entity_changes(rows, old) == ([], [], rows)
