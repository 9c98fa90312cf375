"""Train a PyKEEN knowledge-graph-embedding model on (head, relation, tail) id triples.

The training loop is PyKEEN's sLCWA loop with two changes measured on this project's CPUs
(DESIGN.md): its per-epoch `gc.collect()` is skipped (it cost 0.5–0.7 s an epoch, more than
the epoch itself on small graphs) and torch runs on `threads` threads.
"""

from __future__ import annotations

import contextlib
import time
import types
from collections.abc import Callable, Iterator
from typing import Any, get_args

import torch
from pydantic import BaseModel, Field

from kgrag.settings import KgeModelName, Settings

MODELS: tuple[str, ...] = get_args(KgeModelName)

# Initialisers that differ from PyKEEN's defaults: ComplEx with N(0,1) init reached MRR 0.41
# on Nations against 0.58–0.73 with xavier (DESIGN.md).
_MODEL_KWARGS: dict[str, dict[str, Any]] = {
    "ComplEx": {"entity_initializer": "xavier_normal", "relation_initializer": "xavier_normal"},
}

EpochCallback = Callable[[int, int, float], None]  # (epoch, of epochs, loss)


class KgeConfig(BaseModel):
    """Hyperparameters of one training run (saved with the model)."""

    model: KgeModelName = "RotatE"
    dim: int = Field(128, ge=2)
    epochs: int = Field(200, ge=1)
    batch_size: int = Field(256, ge=1)
    learning_rate: float = Field(0.01, gt=0)
    negatives: int = Field(16, ge=1, description="Negative samples per positive triple.")
    seed: int = 42
    threads: int = Field(1, ge=1, description="torch threads (1 is fastest on small graphs).")
    device: str = "cpu"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> KgeConfig:
        """The `kge_*` settings, with CLI overrides that are not None."""
        values = {
            "model": settings.kge_model,
            "dim": settings.kge_dim,
            "epochs": settings.kge_epochs,
            "learning_rate": settings.kge_learning_rate,
            "negatives": settings.kge_negatives,
            "threads": settings.kge_threads,
            "device": settings.kge_device,
        }
        return cls(**(values | {k: v for k, v in overrides.items() if v is not None}))

    def model_kwargs(self) -> dict[str, Any]:
        return {"embedding_dim": self.dim, **_MODEL_KWARGS.get(self.model, {})}


def build_model(config: KgeConfig, triples_factory: Any) -> Any:
    """An untrained PyKEEN model of `config.model` sized for the factory's entities/relations."""
    from pykeen.models import model_resolver

    return model_resolver.make(
        config.model,
        triples_factory=triples_factory,
        random_seed=config.seed,
        **config.model_kwargs(),
    ).to(config.device)


def train(
    config: KgeConfig, triples_factory: Any, on_epoch: EpochCallback | None = None
) -> tuple[Any, list[float], float]:
    """Train a fresh model; return it, the loss per epoch and the training seconds."""
    from pykeen.training import SLCWATrainingLoop, TrainingCallback

    class _Progress(TrainingCallback):
        def post_epoch(self, epoch: int, epoch_loss: float, **kwargs: Any) -> None:
            if on_epoch is not None:
                on_epoch(epoch, config.epochs, epoch_loss)

    model = build_model(config, triples_factory)
    loop = SLCWATrainingLoop(
        model=model,
        triples_factory=triples_factory,
        optimizer=torch.optim.Adam(model.parameters(), lr=config.learning_rate),
        negative_sampler_kwargs={"num_negs_per_pos": config.negatives},
    )
    start = time.perf_counter()
    with _torch_threads(config.threads), _without_per_epoch_gc():
        losses = loop.train(
            triples_factory=triples_factory,
            num_epochs=config.epochs,
            batch_size=min(config.batch_size, triples_factory.num_triples),
            use_tqdm=False,
            use_tqdm_batch=False,
            callbacks=_Progress(),
        )
    model.eval()
    return model, [float(x) for x in losses or []], time.perf_counter() - start


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _without_per_epoch_gc() -> Iterator[None]:
    """Skip the `gc.collect()` PyKEEN's training loop runs after every epoch."""
    from pykeen.training import training_loop

    real_gc = training_loop.gc
    training_loop.gc = types.SimpleNamespace(collect=lambda *args: 0)
    try:
        yield
    finally:
        training_loop.gc = real_gc
