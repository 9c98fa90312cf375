"""A KGE model of this graph: trained from its edges, saved beside it, checked for staleness,
used to score triples and to predict missing links.

Saved as `state_dict` + JSON maps, not a pickled model: `torch.load` of a whole PyKEEN model
fails on torch 2.13 (`weights_only`), see DESIGN.md.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path

import torch
from pydantic import BaseModel

from kgrag.errors import KgeError
from kgrag.kge.train import EpochCallback, KgeConfig, build_model, train
from kgrag.types import Edge, Triple

WEIGHTS, META, TRIPLES = "model.pt", "meta.json", "triples.pt"


class KgeMeta(BaseModel):
    """What a saved model was trained on and how."""

    config: KgeConfig
    graph_fingerprint: str
    triples: int
    trained_at: str
    seconds: float
    losses: list[float]
    entity_to_id: dict[str, int]
    relation_to_id: dict[str, int]
    entity_names: dict[str, str]
    entity_types: dict[str, str]
    signatures: list[tuple[str, str, str]]  # (head type, relation, tail type) seen in training


class Staleness(BaseModel):
    """How the graph moved since the model was trained."""

    added: int
    removed: int

    @property
    def stale(self) -> bool:
        return bool(self.added or self.removed)


def graph_fingerprint(edges: list[Edge]) -> str:
    lines = sorted(f"{e.head}\x1f{e.relation}\x1f{e.tail}" for e in edges)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class KgeModel:
    """A trained model with the id maps and the triples it was trained on."""

    def __init__(self, model: torch.nn.Module, meta: KgeMeta, mapped: torch.Tensor) -> None:
        self.model = model
        self.meta = meta
        self.mapped = mapped  # (n, 3) training triples as ids
        self._known = {tuple(row) for row in mapped.tolist()}
        self._id_to_entity = {i: e for e, i in meta.entity_to_id.items()}
        self._id_to_relation = {i: r for r, i in meta.relation_to_id.items()}

    # --- training and persistence ---
    @classmethod
    def train(
        cls, edges: list[Edge], config: KgeConfig, on_epoch: EpochCallback | None = None
    ) -> KgeModel:
        """Train `config.model` on the edges (the whole graph; nothing is held out)."""
        from pykeen.triples import TriplesFactory

        if not edges:
            raise KgeError("the graph has no relationships between entities to train on")
        edges = _unique(edges)
        factory = TriplesFactory.from_labeled_triples(_labeled(edges), create_inverse_triples=False)
        model, losses, seconds = train(config, factory, on_epoch)
        meta = KgeMeta(
            config=config,
            graph_fingerprint=graph_fingerprint(edges),
            triples=len(edges),
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            seconds=round(seconds, 3),
            losses=[round(x, 6) for x in losses],
            entity_to_id=dict(factory.entity_to_id),
            relation_to_id=dict(factory.relation_to_id),
            entity_names=_names(edges),
            entity_types=_types(edges),
            signatures=sorted({(e.head_type, e.relation, e.tail_type) for e in edges}),
        )
        return cls(model, meta, factory.mapped_triples.cpu())

    def save(self, directory: Path) -> None:
        """Write weights, triples and meta; meta last, so a half-written model never loads."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / META).unlink(missing_ok=True)
        for name, value in ((WEIGHTS, self.model.state_dict()), (TRIPLES, self.mapped)):
            torch.save(value, directory / f"{name}.tmp")
            os.replace(directory / f"{name}.tmp", directory / name)
        (directory / f"{META}.tmp").write_text(self.meta.model_dump_json(indent=1), "utf-8")
        os.replace(directory / f"{META}.tmp", directory / META)

    @classmethod
    def load(cls, directory: Path) -> KgeModel:
        from pykeen.triples import TriplesFactory

        if not (directory / META).is_file():
            raise KgeError(f"no KGE model in {directory}; train one with `kgrag kge train`")
        try:
            meta = KgeMeta.model_validate_json((directory / META).read_text("utf-8"))
            mapped = torch.load(directory / TRIPLES, weights_only=True)
            state = torch.load(directory / WEIGHTS, weights_only=True, map_location="cpu")
            factory = TriplesFactory(
                mapped_triples=mapped,
                entity_to_id=meta.entity_to_id,
                relation_to_id=meta.relation_to_id,
            )
            config = meta.config.model_copy(update={"device": "cpu"})
            model = build_model(config, factory)
            model.load_state_dict(state)
        except (OSError, ValueError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
            raise KgeError(
                f"the KGE model in {directory} is unreadable "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
                "retrain it with `kgrag kge train`"
            ) from exc
        model.eval()
        return cls(model, meta, mapped)

    def staleness(self, edges: list[Edge]) -> Staleness:
        now = {(e.head, e.relation, e.tail) for e in edges}
        trained = {
            (self._id_to_entity[h], self._id_to_relation[r], self._id_to_entity[t])
            for h, r, t in self._known
        }
        return Staleness(added=len(now - trained), removed=len(trained - now))

    # --- scoring ---
    @torch.inference_mode()
    def plausibility(self, triples: list[tuple[str, str, str]]) -> list[float | None]:
        """Per (head id, relation, tail id): the share of all entities the model ranks below
        this tail for (head, relation), in [0, 1]; None when the model has not seen an id."""
        e2i, r2i = self.meta.entity_to_id, self.meta.relation_to_id
        known = [
            (i, (e2i[h], r2i[r], e2i[t]))
            for i, (h, r, t) in enumerate(triples)
            if h in e2i and r in r2i and t in e2i
        ]
        result: list[float | None] = [None] * len(triples)
        if not known:
            return result
        ids = torch.tensor([hrt for _, hrt in known], dtype=torch.long)
        scores = self.model.score_t(ids[:, :2])  # (n, entities)
        own = scores.gather(1, ids[:, 2:3])
        below = (scores < own).sum(dim=1).float() / max(scores.shape[1] - 1, 1)
        for (i, _), value in zip(known, below.tolist(), strict=True):
            result[i] = round(value, 4)
        return result

    @torch.inference_mode()
    def predict(self, entity_ids: list[str], k: int) -> list[Triple]:
        """The k most plausible relationships of these entities that the graph does not hold,
        in either direction, restricted to type signatures seen in training."""
        e2i, n = self.meta.entity_to_id, len(self.meta.entity_to_id)
        signatures = {tuple(s) for s in self.meta.signatures}
        types = self.meta.entity_types
        candidates: list[tuple[float, float, int, int, int]] = []
        for entity in dict.fromkeys(e for e in entity_ids if e in e2i):
            e = e2i[entity]
            for r in range(len(self.meta.relation_to_id)):
                pair = torch.tensor([[e, r]], dtype=torch.long)
                for as_head, scores in (
                    (True, self.model.score_t(pair)[0]),
                    (False, self.model.score_h(pair.flip(1))[0]),
                ):
                    rank = scores.argsort(descending=True)
                    for pos, other in enumerate(rank.tolist()):
                        h, t = (e, other) if as_head else (other, e)
                        if other == e or (h, r, t) in self._known:
                            continue
                        sig = (
                            types[self._id_to_entity[h]],
                            self._id_to_relation[r],
                            types[self._id_to_entity[t]],
                        )
                        if sig not in signatures:
                            continue
                        plaus = 1 - pos / max(n - 1, 1)
                        candidates.append((plaus, float(scores[other]), h, r, t))
                        break  # the best new candidate of this (entity, relation, direction)
        candidates.sort(key=lambda c: (-c[0], -c[1]))
        return [self._triple(h, r, t, plaus) for plaus, _, h, r, t in candidates[:k]]

    def _triple(self, h: int, r: int, t: int, plausibility: float) -> Triple:
        head, tail = self._id_to_entity[h], self._id_to_entity[t]
        names = self.meta.entity_names
        return Triple(
            subject=names.get(head, head),
            predicate=self._id_to_relation[r],
            object=names.get(tail, tail),
            subject_id=head,
            object_id=tail,
            plausibility=round(plausibility, 4),
            inferred=True,
        )


def _unique(edges: list[Edge]) -> list[Edge]:
    return list({(e.head, e.relation, e.tail): e for e in edges}.values())


def _labeled(edges: list[Edge]):
    import numpy as np

    return np.array([[e.head, e.relation, e.tail] for e in edges], dtype=str)


def _names(edges: list[Edge]) -> dict[str, str]:
    return {e.head: e.head_name for e in edges} | {e.tail: e.tail_name for e in edges}


def _types(edges: list[Edge]) -> dict[str, str]:
    return {e.head: e.head_type for e in edges} | {e.tail: e.tail_type for e in edges}


def describe(meta: KgeMeta) -> dict[str, object]:
    """The facts `kgrag kge status` prints."""
    return {
        "model": meta.config.model,
        "dim": meta.config.dim,
        "epochs": meta.config.epochs,
        "triples": meta.triples,
        "entities": len(meta.entity_to_id),
        "relations": len(meta.relation_to_id),
        "trained_at": meta.trained_at,
        "train_s": meta.seconds,
        "final_loss": meta.losses[-1] if meta.losses else None,
    }
