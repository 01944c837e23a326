"""Convolution, pooling and a training epoch: the package against PyTorch.

Run with ``make bench`` (or ``python benchmarks/perf.py``). Every variant of
one case is timed *interleaved*: each round runs every variant once, in
turn, so a change in the machine's load hits all of them alike, and each
ratio is the median of the per-round ratios. pyperf computes the statistics
(median, spread); tracemalloc measures the peak of NumPy's allocations.

The result, stamped with the machine (CPU, cores, NumPy, BLAS and its
kernel, PyTorch and their threads), is written to
``benchmarks/results/performance.json``, which the Performance page renders.
``--quick`` runs the same code on tiny sizes in a few seconds, for the test
suite (its numbers mean nothing), and writes wherever ``--output`` says.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyperf
import threadpoolctl

sys.path.insert(0, str(Path(__file__).resolve().parent))

import variants

from cnnscratch import conv, pooling
from cnnscratch.datasets import load_digits
from cnnscratch.network import digits_cnn, fit, minibatches, train_step
from cnnscratch.optim import Adam

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the package's own variants are still timed
    torch = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "performance.json"

Thunk = Callable[[], object]


# --- timing -----------------------------------------------------------------


@dataclass
class Settings:
    rounds: int  # interleaved rounds per case
    min_time: float  # each sample repeats a call until it lasts this long
    loop_batch: int  # the loop reference runs on this many images, then is scaled


FULL = Settings(rounds=15, min_time=0.02, loop_batch=1)
QUICK = Settings(rounds=2, min_time=0.0, loop_batch=1)


def _inner_loops(thunk: Thunk, min_time: float) -> int:
    """How many calls make one sample last at least ``min_time``."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            thunk()
        if time.perf_counter() - start >= min_time or loops >= 1 << 16:
            return loops
        loops *= 2


def time_interleaved(
    thunks: dict[str, Thunk], settings: Settings, scale: dict[str, float] | None = None
) -> dict[str, dict[str, float]]:
    """Median and spread of each thunk's seconds per call, in one interleaved run.

    ``scale`` multiplies a variant's times (the loop reference, run on fewer
    images than the others). Each variant gets one warm-up call, which also
    sizes its inner loop.
    """
    scale = scale or {}
    loops = {
        name: _inner_loops(thunk, settings.min_time) for name, thunk in thunks.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in thunks}
    for r in range(settings.rounds):
        names = list(thunks)
        names = names[r % len(names) :] + names[: r % len(names)]  # rotate the order
        for name in names:
            start = time.perf_counter()
            for _ in range(loops[name]):
                thunks[name]()
            seconds = (time.perf_counter() - start) / loops[name]
            samples[name].append(seconds * scale.get(name, 1.0))
    stats = {}
    for name, values in samples.items():
        bench = pyperf.Benchmark(
            [
                pyperf.Run(
                    values,
                    metadata={"name": name, "unit": "second"},
                    collect_metadata=False,
                )
            ]
        )
        stats[name] = {
            "median": bench.median(),
            "q1": bench.percentile(25),
            "q3": bench.percentile(75),
            "rounds": len(values),
            "loops": loops[name],
        }
    if "torch" in samples:
        for name, values in samples.items():
            if name != "torch":
                ratios = [a / b for a, b in zip(values, samples["torch"], strict=True)]
                stats[name]["ratio_to_torch"] = float(np.median(ratios))
    return stats


def peak_bytes(thunk: Thunk) -> int:
    """Peak of the memory NumPy allocated (tracemalloc) during one call."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        thunk()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- the cases ---------------------------------------------------------------


@dataclass(frozen=True)
class ConvCase:
    name: str
    N: int
    C_in: int
    C_out: int
    side: int
    k: int
    stride: int
    padding: int

    def label(self) -> str:
        return (
            f"N={self.N}, C_in={self.C_in}, C_out={self.C_out}, "
            f"{self.side}x{self.side}, {self.k}x{self.k}, stride {self.stride}, "
            f"padding {self.padding}"
        )

    def flops(self) -> int:
        """Floating-point operations of forward + dX + dW: 3 products of 2·MACs."""
        out = (self.side + 2 * self.padding - self.k) // self.stride + 1
        macs = self.N * self.C_out * out * out * self.C_in * self.k * self.k
        return 3 * 2 * macs

    def window_bytes(self, itemsize: int) -> int:
        """Size of the window matrix (im2col's, or the fast path's columns)."""
        out = (self.side + 2 * self.padding - self.k) // self.stride + 1
        return self.N * out * out * self.C_in * self.k * self.k * itemsize

    def input_bytes(self, itemsize: int) -> int:
        return self.N * self.C_in * self.side * self.side * itemsize

    def smaller(self) -> ConvCase:
        """One image and one output channel: the loops' work is linear in both."""
        return replace(self, N=1, C_out=1)

    def loop_scale(self) -> float:
        """What :meth:`smaller`'s loop time is multiplied by."""
        return float(self.N * self.C_out)


CONV_CASES = [
    ConvCase("S1", 64, 1, 8, 28, 3, 1, 1),
    ConvCase("S2", 32, 16, 32, 32, 3, 1, 1),
    ConvCase("S3", 32, 16, 32, 32, 3, 2, 1),
    ConvCase("digits-1", 32, 1, 16, 8, 3, 1, 1),
    ConvCase("digits-2", 32, 16, 32, 8, 3, 2, 1),
    ConvCase("wide-1x1", 128, 64, 64, 8, 1, 1, 0),
    ConvCase("large-5x5", 8, 3, 16, 64, 5, 2, 2),
    ConvCase("deep-3x3", 16, 32, 64, 16, 3, 1, 1),
    ConvCase("big-batch", 128, 8, 16, 16, 3, 1, 1),
]
QUICK_CASES = [ConvCase("S2", 2, 2, 3, 6, 3, 1, 1), ConvCase("S3", 2, 2, 3, 6, 3, 2, 1)]


def _arrays(case: ConvCase, dtype: type, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((case.N, case.C_in, case.side, case.side)).astype(dtype)
    W = rng.standard_normal((case.C_out, case.C_in, case.k, case.k)).astype(dtype)
    b = rng.standard_normal(case.C_out).astype(dtype)
    Y, _ = conv.conv2d_forward(X, W, b, stride=case.stride, padding=case.padding)
    dY = rng.standard_normal(Y.shape).astype(dtype)
    return X, W, b, dY


def _torch_conv(
    X: np.ndarray, W: np.ndarray, b: np.ndarray, dY: np.ndarray, hyper: dict[str, int]
) -> Thunk:
    tX, tW, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    tdY = torch.tensor(dY)

    def run() -> None:
        tX.grad = tW.grad = tb.grad = None
        F.conv2d(tX, tW, tb, **hyper).backward(tdY)

    return run


def conv_variants(case: ConvCase, dtype: type, settings: Settings) -> dict[str, Any]:
    """Forward + backward (all three gradients) of every form, and PyTorch's."""
    X, W, b, dY = _arrays(case, dtype)
    hyper = {"stride": case.stride, "padding": case.padding}
    small = case.smaller()
    Xs, Ws, bs, dYs = _arrays(small, dtype)

    def pair(
        forward: Callable[..., Any], backward: Callable[..., Any], *arrays: np.ndarray
    ) -> Thunk:
        x, w, bias, grad = arrays
        return lambda: backward(grad, forward(x, w, bias, **hyper)[1])

    thunks: dict[str, Thunk] = {
        "loops": pair(
            conv.conv2d_forward_loops, conv.conv2d_backward_loops, Xs, Ws, bs, dYs
        ),
        "im2col": pair(
            conv.conv2d_forward_im2col, conv.conv2d_backward_im2col, X, W, b, dY
        ),
        "fast": pair(conv.conv2d_forward, conv.conv2d_backward, X, W, b, dY),
    }
    if torch is not None:
        thunks["torch"] = _torch_conv(X, W, b, dY, hyper)
    stats = time_interleaved(thunks, settings, scale={"loops": case.loop_scale()})
    for name in ("im2col", "fast"):
        stats[name]["peak_bytes"] = peak_bytes(thunks[name])
    stats["loops"]["scaled_from"] = small.label()
    return stats


def component_variants(
    case: ConvCase, dtype: type, settings: Settings
) -> dict[str, Any]:
    """The forward pass and the input gradient alone, every form of each."""
    X, W, b, dY = _arrays(case, dtype)
    hyper = {"stride": case.stride, "padding": case.padding}
    _, cache = conv.conv2d_forward_im2col(X, W, b, **hyper)
    _, fast_cache = conv.conv2d_forward(X, W, b, **hyper)
    forward: dict[str, Thunk] = {
        "im2col GEMM": lambda: conv.conv2d_forward_im2col(X, W, b, **hyper),
        "einsum on windows": lambda: variants.conv2d_forward_einsum(X, W, b, **hyper),
        "fast (window columns)": lambda: conv.conv2d_forward(X, W, b, **hyper),
    }
    input_gradient: dict[str, Thunk] = {
        "im2col backward (dX by col2im, with dW, db)": lambda: (
            conv.conv2d_backward_im2col(dY, cache)
        ),
        "flipped kernel (dX alone)": lambda: conv.conv2d_input_gradient_flipped(
            dY, W, X.shape, **hyper
        ),
        "fast backward (dX by shifted products, with dW, db)": lambda: (
            conv.conv2d_backward(dY, fast_cache)
        ),
    }
    if torch is not None:
        tX, tW, tb, tdY = (torch.tensor(a) for a in (X, W, b, dY))
        forward["torch"] = lambda: F.conv2d(tX, tW, tb, **hyper)
        input_gradient["torch"] = lambda: torch.nn.grad.conv2d_input(  # dX alone
            tX.shape, tW, tdY, **hyper
        )
    result = {
        "forward": time_interleaved(forward, settings),
        "input_gradient": time_interleaved(input_gradient, settings),
    }
    for name, thunk in forward.items():
        if name != "torch":
            result["forward"][name]["peak_bytes"] = peak_bytes(thunk)
    return result


def pool_variants(
    shape: tuple[int, ...], dtype: type, settings: Settings
) -> dict[str, Any]:
    """Max-pool 2x2 stride 2, forward + backward, ties included."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 8, size=shape).astype(dtype)  # small integers: many ties
    Y, _ = pooling.maxpool2d_forward(X, 2)
    dY = rng.standard_normal(Y.shape).astype(dtype)
    Xs = X[: max(1, shape[0] // 16)] if settings is FULL else X
    dYs = dY[: Xs.shape[0]]
    thunks: dict[str, Thunk] = {
        "loops": lambda: pooling.maxpool2d_backward_loops(
            dYs, pooling.maxpool2d_forward_loops(Xs, 2)[1]
        ),
        "windows + argmax": lambda: variants.maxpool2d_backward_argmax(
            dY, variants.maxpool2d_forward_argmax(X, 2)[1]
        ),
        "fast (strided taps)": lambda: pooling.maxpool2d_backward(
            dY, pooling.maxpool2d_forward(X, 2)[1]
        ),
    }
    if torch is not None:
        tX, tdY = torch.tensor(X, requires_grad=True), torch.tensor(dY)

        def run() -> None:
            tX.grad = None
            F.max_pool2d(tX, 2).backward(tdY)

        thunks["torch"] = run
    stats = time_interleaved(
        thunks, settings, scale={"loops": X.shape[0] / Xs.shape[0]}
    )
    for name in ("windows + argmax", "fast (strided taps)"):
        stats[name]["peak_bytes"] = peak_bytes(thunks[name])
    stats["loops"]["scaled_from"] = f"N={Xs.shape[0]}"
    return stats


def epoch_variants(settings: Settings, steps: int | None) -> dict[str, Any]:
    """One epoch of the Part 4 CNN on the digits (Adam, batch 32), and its twin.

    ``package`` is :func:`fit` for one epoch: it checks the data and the model
    once, then trains through the layers' unchecked passes. ``train_step`` is
    the same steps as separate calls, each checking every array at every
    layer: what validating everywhere costs. ``steps`` cuts the training set
    to that many batches.
    """
    digits = load_digits()
    n = len(digits.X_train) if steps is None else 32 * steps
    X, Y = digits.X_train[:n].reshape(-1, 1, 8, 8), digits.Y_train[:n]
    batches = minibatches(n, 32, rng=np.random.default_rng(1))  # fit's order
    model, optimizer = digits_cnn(rng=np.random.default_rng(0)), Adam(lr=0.01)
    stepped, step_optimizer = digits_cnn(rng=np.random.default_rng(0)), Adam(lr=0.01)
    thunks: dict[str, Thunk] = {
        "package": lambda: fit(
            model,
            optimizer,
            X,
            Y,
            epochs=1,
            batch_size=32,
            rng=np.random.default_rng(1),
            evaluate_training=False,
        ),
        "train_step": lambda: [
            train_step(stepped, step_optimizer, X[i], Y[i]) for i in batches
        ],
    }
    if torch is not None:
        twin = {
            n: torch.tensor(v, requires_grad=True)
            for n, v in model.parameters().items()
        }
        twin_optimizer = torch.optim.Adam(twin.values(), lr=0.01)
        X_t, y_t = torch.from_numpy(X), torch.from_numpy(digits.y_train[:n])

        def twin_epoch() -> None:
            for i in batches:
                twin_optimizer.zero_grad()
                A = F.conv2d(X_t[i], twin["0.W"], twin["0.b"], padding=1)
                A = F.max_pool2d(F.relu(A), 2)
                Z = F.linear(A.flatten(1), twin["4.W"], twin["4.b"])
                F.cross_entropy(Z, y_t[i]).backward()
                twin_optimizer.step()

        thunks["torch"] = twin_epoch
    stats = time_interleaved(thunks, settings)
    stats["steps"] = len(batches)
    return stats


def scaling(settings: Settings, quick: bool) -> dict[str, Any]:
    """Seconds against batch size and against image side (S2's layer, float64)."""
    base = QUICK_CASES[0] if quick else CONV_CASES[1]
    batches = [1, 2] if quick else [8, 16, 32, 64, 128]
    sides = [4, 6] if quick else [8, 16, 32, 64]
    out: dict[str, Any] = {"batch": {}, "side": {}}
    for axis, values in (("batch", batches), ("side", sides)):
        for value in values:
            case = ConvCase(
                base.name,
                value if axis == "batch" else base.N,
                base.C_in,
                base.C_out,
                value if axis == "side" else base.side,
                base.k,
                base.stride,
                base.padding,
            )
            X, W, b, dY = _arrays(case, np.float64)
            hyper = {"stride": case.stride, "padding": case.padding}
            thunks: dict[str, Thunk] = {
                "fast": lambda X=X, W=W, b=b, dY=dY, h=hyper: conv.conv2d_backward(
                    dY, conv.conv2d_forward(X, W, b, **h)[1]
                )
            }
            if torch is not None:
                thunks["torch"] = _torch_conv(X, W, b, dY, hyper)
            small = (
                quick
                or (axis == "batch" and value <= 16)
                or (axis == "side" and value <= 16)
            )
            if small:  # the loop reference, only where it finishes in seconds
                Xs, Ws, bs, dYs = _arrays(case.smaller(), np.float64)
                thunks["loops"] = lambda Xs=Xs, Ws=Ws, bs=bs, dYs=dYs, h=hyper: (
                    conv.conv2d_backward_loops(
                        dYs, conv.conv2d_forward_loops(Xs, Ws, bs, **h)[1]
                    )
                )
            scale = {"loops": case.loop_scale()}
            reduced = Settings(
                max(2, settings.rounds // 3), settings.min_time, settings.loop_batch
            )
            stats = time_interleaved(thunks, reduced, scale=scale)
            out[axis][str(value)] = {name: s["median"] for name, s in stats.items()}
    return out


# --- the machine ----------------------------------------------------------------


def blas_peak(settings: Settings, size: int) -> dict[str, float]:
    """GFLOP/s of one large square matrix product, float32 and float64.

    The ceiling for every GEMM-based form: no convolution written on top of
    this BLAS can run its products faster.
    """
    rng = np.random.default_rng(2)
    peak = {}
    for dtype in (np.float32, np.float64):
        A = rng.standard_normal((size, size)).astype(dtype)
        B = rng.standard_normal((size, size)).astype(dtype)
        stats = time_interleaved({"gemm": lambda A=A, B=B: A @ B}, settings)
        peak[np.dtype(dtype).name] = 2 * size**3 / stats["gemm"]["median"] / 1e9
    return peak


def machine() -> dict[str, Any]:
    """What the numbers were measured on (no host names, no paths)."""
    meta = pyperf.Run([1.0], metadata={"name": "probe"}).get_metadata()
    blas = [
        {
            key: info.get(key)
            for key in (
                "internal_api",
                "version",
                "architecture",
                "num_threads",
                "threading_layer",
            )
        }
        for info in threadpoolctl.threadpool_info()
        if info.get("user_api") == "blas"
    ]
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": meta.get("cpu_model_name", platform.processor()),
        "cpu_count": meta.get("cpu_count"),
        "cpu_freq": meta.get("cpu_freq"),
        "load_avg_1min_at_start": meta.get("load_avg_1min"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "torch": None,
    }
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    if torch is not None:
        info["torch"] = {
            "version": torch.__version__,
            "threads": torch.get_num_threads(),
            "mkldnn": bool(torch.backends.mkldnn.is_available()),
        }
    return info


# --- goals ------------------------------------------------------------------------

GOALS = {
    "conv float32": 2.0,
    "conv float64": 1.0,
    "max-pool": 1.0,
    "epoch": 1.0,
}


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for dtype, goal in (
        ("float32", GOALS["conv float32"]),
        ("float64", GOALS["conv float64"]),
    ):
        for name, stats in result["conv"][dtype].items():
            ratio = stats["fast"].get("ratio_to_torch")
            rows.append({"what": f"conv {name} {dtype}", "ratio": ratio, "goal": goal})
    for dtype, stats in result["pool"].items():
        rows.append(
            {
                "what": f"max-pool {dtype}",
                "ratio": stats["fast (strided taps)"].get("ratio_to_torch"),
                "goal": GOALS["max-pool"],
            }
        )
    rows.append(
        {
            "what": "epoch",
            "ratio": result["epoch"]["package"].get("ratio_to_torch"),
            "goal": GOALS["epoch"],
        }
    )
    for row in rows:
        row["met"] = None if row["ratio"] is None else bool(row["ratio"] <= row["goal"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, seconds; for the tests"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULT, help="where to write the JSON result"
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.quick and torch is not None:
        torch.set_num_threads(1)  # tiny tensors; and robust on a busy machine
    cases = QUICK_CASES if args.quick else CONV_CASES
    result: dict[str, Any] = {
        "machine": machine(),
        "quick": args.quick,
        "cases": {
            c.name: {
                "label": c.label(),
                "flops": c.flops(),
                "window_bytes_float64": c.window_bytes(8),
                "input_bytes_float64": c.input_bytes(8),
            }
            for c in cases
        },
    }
    result["blas_peak_gflops"] = blas_peak(settings, 64 if args.quick else 2048)
    result["conv"] = {}
    for dtype in (np.float32, np.float64):
        key = np.dtype(dtype).name
        result["conv"][key] = {}
        for case in cases:
            result["conv"][key][case.name] = conv_variants(case, dtype, settings)
            print(
                f"conv {case.name:10s} {key}: "
                + _summary(result["conv"][key][case.name]),
                flush=True,
            )
    main_case = cases[1] if len(cases) > 1 else cases[0]
    result["components"] = {
        np.dtype(dt).name: component_variants(main_case, dt, settings)
        for dt in (np.float32, np.float64)
    }
    pool_shape = (2, 2, 6, 6) if args.quick else (64, 8, 28, 28)
    result["pool_shape"] = list(pool_shape)
    result["pool"] = {
        np.dtype(dt).name: pool_variants(pool_shape, dt, settings)
        for dt in (np.float32, np.float64)
    }
    for key, stats in result["pool"].items():
        print(f"max-pool {key}: " + _summary(stats), flush=True)
    result["epoch"] = epoch_variants(settings, steps=2 if args.quick else None)
    print("epoch: " + _summary(result["epoch"]), flush=True)
    result["scaling"] = scaling(settings, args.quick)
    result["goals"] = goals(result)
    missed = [row for row in result["goals"] if row["met"] is False]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    for row in result["goals"]:
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}"
        verdict = {True: "ok", False: "MISSED", None: "no PyTorch"}[row["met"]]
        goal = f"goal <= {row['goal']:.0f}"
        print(f"{row['what']:32s} {ratio:>6s} x PyTorch  {goal}  {verdict}")
    print(f"wrote {args.output}")
    return 0 if args.quick else int(bool(missed))


def _summary(stats: dict[str, Any]) -> str:
    parts = []
    for name, s in stats.items():
        if isinstance(s, dict) and "median" in s:
            ratio = f" ({s['ratio_to_torch']:.2f}x)" if "ratio_to_torch" in s else ""
            parts.append(f"{name} {s['median'] * 1e3:.2f} ms{ratio}")
    return ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
