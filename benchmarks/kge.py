"""KGE models on the small benchmark graphs inside the pykeen wheel: filtered MRR, Hits@1/10
on the test split and training seconds, with kgrag's own training code (kgrag/kge/train.py).

    python benchmarks/kge.py                      # every model on Nations, UMLS, Kinships
    python benchmarks/kge.py --datasets nations --models RotatE TransE --epochs 100

Nations Hits@10 says little: 14 entities, so a random ranking already scores ~0.95.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

from kgrag.kge.train import MODELS, KgeConfig, train

DATASETS = ("nations", "umls", "kinships")


def evaluate(model, dataset) -> dict[str, float]:
    """Filtered rank-based metrics on the test triples (both sides, realistic ranks)."""
    from pykeen.evaluation import RankBasedEvaluator

    result = RankBasedEvaluator().evaluate(
        model,
        dataset.testing.mapped_triples,
        additional_filter_triples=[
            dataset.training.mapped_triples,
            dataset.validation.mapped_triples,
        ],
        batch_size=256,
        use_tqdm=False,
    )
    return {
        "mrr": result.get_metric("both.realistic.inverse_harmonic_mean_rank"),
        "hits1": result.get_metric("both.realistic.hits_at_1"),
        "hits10": result.get_metric("both.realistic.hits_at_10"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--epochs", type=int, default=KgeConfig().epochs)
    parser.add_argument("--dim", type=int, default=KgeConfig().dim)
    parser.add_argument("--threads", type=int, default=KgeConfig().threads)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # pin_memory without a GPU, and the like
    logging.getLogger("torch_max_mem").setLevel(logging.ERROR)  # "only cuda is safe" notes

    from pykeen.datasets import get_dataset

    print(f"epochs={args.epochs} dim={args.dim} threads={args.threads} device={args.device}")
    header = ("dataset", "model", "triples", "MRR", "H@1", "H@10", "train s")
    print("{:<9} {:<9} {:>7} {:>6} {:>6} {:>6} {:>8}".format(*header))
    for name in args.datasets:
        dataset = get_dataset(dataset=name)
        for model_name in args.models:
            config = KgeConfig(
                model=model_name,
                epochs=args.epochs,
                dim=args.dim,
                threads=args.threads,
                device=args.device,
            )
            model, _, seconds = train(config, dataset.training)
            start = time.perf_counter()
            metrics = evaluate(model, dataset)
            print(
                f"{name:<9} {model_name:<9} {dataset.training.num_triples:>7} "
                f"{metrics['mrr']:>6.3f} {metrics['hits1']:>6.3f} {metrics['hits10']:>6.3f} "
                f"{seconds:>8.1f}   (eval {time.perf_counter() - start:.1f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
