"""Larger deeper CNNs for the Part 4 lab: their accuracy and their training time.

The lab's deeper CNN misses the issue's goal (98.5 % mean test accuracy over
5 seeds) within the page's 30 s budget. This script trains the networks
tried instead, exactly as the lab trains its own (the same split, seeds 0
to 4 spawning the weights' and the data order's generators, Adam with the
command line's settings, ``fit`` without per-epoch evaluation), and records
each one's test accuracy over the seeds and the processor time of its five
runs, relative to the lab's network. The lab renders the result file,
``benchmarks/results/architectures.json``.

The accuracies do not depend on the machine; the times do, which is why the
page shows them as ratios (thread time, one BLAS thread, measured in one
process, network after network). ``--quick`` trains two networks for one
epoch on two seeds, for the test suite, and writes wherever ``--output``
says.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import threadpoolctl

from cnnscratch.cli import DEFAULTS
from cnnscratch.datasets import load_digits
from cnnscratch.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from cnnscratch.network import Sequential, accuracy, digits_deep_cnn, fit
from cnnscratch.optim import Adam

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "architectures.json"

Build = Callable[[np.random.Generator], Sequential]


def pool_between(first: int, second: int) -> Build:
    """conv 3x3 → ReLU → max-pool 2 → conv 3x3 → ReLU → max-pool 2 → dense."""

    def build(rng: np.random.Generator) -> Sequential:
        return Sequential(
            [
                Conv2D(1, first, 3, padding=1, rng=rng),
                ReLU(),
                MaxPool2D(2),
                Conv2D(first, second, 3, padding=1, rng=rng),
                ReLU(),
                MaxPool2D(2),
                Flatten(),
                Dense(second * 2 * 2, 10, rng=rng),
            ]
        )

    return build


def strided(first: int, second: int) -> Build:
    """The lab's layout (second convolution at stride 2, then a max-pool)."""
    return lambda rng: digits_deep_cnn(rng=rng, filters=(first, second))


#: (name, builder); the first is the lab's own deeper CNN, the reference.
CANDIDATES: list[tuple[str, Build]] = [
    ("the lab's: 16, 32 channels, stride 2", strided(16, 32)),
    ("16, 64 channels, stride 2", strided(16, 64)),
    ("32, 64 channels, stride 2", strided(32, 64)),
    ("16, 32 channels, max-pool between", pool_between(16, 32)),
    ("32, 64 channels, max-pool between", pool_between(32, 64)),
]


def train(build: Build, seeds: range, epochs: int) -> dict[str, Any]:
    """Train one network as the lab does, once per seed; accuracy and time."""
    digits = load_digits(test_fraction=0.25, seed=0)
    X = digits.X_train.reshape(-1, 1, 8, 8)
    X_test = digits.X_test.reshape(-1, 1, 8, 8)
    settings = DEFAULTS["cnn"]
    scores, seconds = [], 0.0
    for seed in seeds:
        weights, order = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
        )
        model = build(weights)
        start = time.thread_time()
        fit(
            model,
            Adam(lr=float(settings["lr"])),
            X,
            digits.Y_train,
            epochs=epochs,
            batch_size=int(settings["batch_size"]),
            rng=order,
            evaluate_training=False,
        )
        seconds += time.thread_time() - start
        scores.append(accuracy(model, X_test, digits.y_test))
    acc = np.array(scores)
    return {
        "parameters": sum(
            p.size for p in build(np.random.default_rng(0)).parameters().values()
        ),
        "accuracies": [float(a) for a in acc],
        "mean": float(acc.mean()),
        "sd": float(acc.std(ddof=1)),
        "train_seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds, for tests")
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    candidates = CANDIDATES[:2] if args.quick else CANDIDATES
    seeds = range(2) if args.quick else range(5)
    epochs = 1 if args.quick else int(DEFAULTS["cnn"]["epochs"])
    rows = []
    with threadpoolctl.threadpool_limits(1):  # as the lab trains
        for name, build in candidates:
            row = {"name": name, **train(build, seeds, epochs)}
            rows.append(row)
            print(
                f"{name}: {row['mean']:.2%} ± {row['sd']:.2%}, "
                f"{row['train_seconds']:.1f} s",
                flush=True,
            )
    for row in rows:
        row["relative_time"] = row["train_seconds"] / rows[0]["train_seconds"]
    result = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "seeds": len(seeds),
        "epochs": epochs,
        "goal": 0.985,
        "candidates": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
