# ---
# jupyter:
#   description: >-
#     How fast the package's convolutions and training are next to PyTorch on the same CPU, how the cost grows, and where NumPy cannot follow.
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Performance: the derivations at full speed
#
# The convolution of [Part 3](../../part3-fast-convolution-and-pooling/) is written four ways
# in the package: the loops that define it, the im2col matrix form, the
# flipped-kernel form of the input gradient, and the fast path the layers
# train with. This page shows how fast each one is next to PyTorch on the
# same CPU, how the cost grows with the batch and the image, what each
# costs in memory, and why: which of the differences come from the
# algorithm, which from the library underneath, and where NumPy cannot
# follow a production framework.
#
# Nothing here is measured while the site builds (a build on a busy machine
# would give different numbers every time). `make bench` runs
# `benchmarks/perf.py`, which writes `benchmarks/results/performance.json`;
# this page renders that file, so every number below comes from one
# recorded run, stamped with the machine and the date.

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

root = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "benchmarks").is_dir())
result = json.loads((root / "benchmarks" / "results" / "performance.json").read_text())
machine = result["machine"]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def table(header: list[str], rows: list[list[str]]) -> Markdown:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return Markdown("\n".join(lines))


blas = machine["blas"][0]
torch_info = machine["torch"]
display(
    table(
        ["measured on", ""],
        [
            ["date", machine["date"]],
            ["commit", f"`{machine['commit']}`"],
            ["CPU", f"{machine['cpu_model']}, {machine['cpu_count']} cores"],
            ["NumPy", machine["numpy"]],
            [
                "BLAS",
                f"{blas['internal_api']} {blas['version']}, kernel "
                f"**{blas['architecture']}**, {blas['num_threads']} threads",
            ],
            [
                "PyTorch",
                f"{torch_info['version']}, {torch_info['threads']} threads, "
                f"oneDNN {'on' if torch_info['mkldnn'] else 'off'}",
            ],
            [
                "BLAS peak (one 2048² product)",
                ", ".join(
                    f"{k} {v:.0f} GFLOP/s"
                    for k, v in result["blas_peak_gflops"].items()
                ),
            ],
        ],
    )
)

# %% [markdown]
# The BLAS kernel matters: OpenBLAS picks its inner loops for the CPU it
# finds, and an environment that sets `OPENBLAS_CORETYPE` makes it run an
# older kernel than the processor supports. The row above says which one ran.
#
# ## The goals
#
# Each ratio is the package's time divided by PyTorch's for the same work,
# measured in one run with the two interleaved (each round runs every
# variant once, so a change in the machine's load hits both alike), the
# median of the per-round ratios. Convolution means forward plus backward,
# all three gradients; PyTorch's side is `conv2d` and `backward()`.

# %%
display(
    table(
        ["what", "package / PyTorch", "goal", "met"],
        [
            [
                row["what"],
                f"{row['ratio']:.2f}",
                f"≤ {row['goal']:g}",
                "yes" if row["met"] else "**no**",
            ]
            for row in result["goals"]
        ],
    )
)
missed = [row["what"] for row in result["goals"] if not row["met"]]
print(f"{len(result['goals']) - len(missed)} of {len(result['goals'])} goals met")
if missed:
    print("missed:", ", ".join(missed))

# %% [markdown]
# ## Convolution, every form, every shape
#
# The loop reference is timed on one image and one output channel, then
# multiplied by $N C_\text{out}$ (its work is exactly linear in both), so
# its column is labelled *scaled*. The
# shapes cover the three layers the goals name (S1–S3), the two layers of
# the digits CNNs, and layers with 1×1 and 5×5 kernels, many channels and a
# large batch.

# %%
for dtype in ("float32", "float64"):
    rows = []
    for name, stats in result["conv"][dtype].items():
        case = result["cases"][name]
        rows.append(
            [
                f"{name}: {case['label']}",
                ms(stats["loops"]["median"]),
                ms(stats["im2col"]["median"]),
                ms(stats["fast"]["median"]),
                ms(stats["torch"]["median"]),
                f"{stats['im2col']['ratio_to_torch']:.2f}",
                f"**{stats['fast']['ratio_to_torch']:.2f}**",
            ]
        )
    display(Markdown(f"**{dtype}**"))
    display(
        table(
            [
                "layer",
                "loops (scaled)",
                "im2col",
                "fast path",
                "PyTorch",
                "im2col / PyTorch",
                "fast / PyTorch",
            ],
            rows,
        )
    )

# %% [markdown]
# ### Where the time goes: a roofline
#
# Forward, input gradient and weight gradient are three matrix products of
# the same size, so a layer costs $3 \cdot 2 N C_\text{out} O_H O_W
# C_\text{in} K_H K_W$ floating-point operations. Dividing by the measured
# time gives the rate each implementation reaches, which can be set against
# the BLAS peak above: the most any GEMM-based code on this machine can do.

# %%
peak = result["blas_peak_gflops"]
rows = []
for dtype in ("float32", "float64"):
    for name, stats in result["conv"][dtype].items():
        flops = result["cases"][name]["flops"]
        fast = flops / stats["fast"]["median"] / 1e9
        torch_rate = flops / stats["torch"]["median"] / 1e9
        rows.append(
            [
                f"{name} {dtype}",
                f"{flops / 1e6:.0f}",
                f"{fast:.1f} ({100 * fast / peak[dtype]:.0f} %)",
                f"{torch_rate:.1f} ({100 * torch_rate / peak[dtype]:.0f} %)",
            ]
        )
display(
    table(
        ["layer", "MFLOP", "fast path GFLOP/s (% of BLAS peak)", "PyTorch GFLOP/s (%)"],
        rows,
    )
)

# %% [markdown]
# Read the table by dtype. In **float64**, PyTorch on the CPU has no
# special convolution kernel: it unfolds the windows and calls a GEMM, the
# same algorithm as the package's matrix form, so NumPy can match it. In
# **float32**, PyTorch hands the layer to oneDNN, whose direct-convolution
# kernels are generated for this CPU's vector instructions, keep the image
# in a blocked channel layout so that each load feeds a full vector of
# output channels, and never build a window matrix at all. Where PyTorch's
# rate is above the BLAS peak, no arrangement of NumPy calls can catch up:
# every NumPy form pays for copying the windows into memory and then for a
# GEMM that cannot run faster than that peak.

# %%
for dtype in ("float32", "float64"):
    stats = result["conv"][dtype]
    within = [n for n, st in stats.items() if st["fast"]["ratio_to_torch"] <= 1]
    above_peak = [
        n
        for n, st in stats.items()
        if result["cases"][n]["flops"] / st["torch"]["median"] / 1e9 > peak[dtype]
    ]
    print(
        f"{dtype}: the fast path is at least as fast as PyTorch on "
        f"{len(within)} of {len(stats)} layers"
        + (
            f"; PyTorch runs above the BLAS peak on {', '.join(above_peak)}"
            if above_peak
            else ""
        )
    )

# %% [markdown]
# ## The pieces: forward pass and input gradient
#
# The same layer (S2), each half on its own, with the peak of the memory
# NumPy allocates during one call (tracemalloc; PyTorch's allocations are
# not visible to it).

# %%
for dtype in ("float32", "float64"):
    parts = result["components"][dtype]
    rows = []
    for part, title in (("forward", "forward"), ("input_gradient", "∂L/∂X")):
        for name, stats in parts[part].items():
            ratio = stats.get("ratio_to_torch")
            memory = stats.get("peak_bytes")
            rows.append(
                [
                    title,
                    name,
                    ms(stats["median"]),
                    "" if ratio is None else f"{ratio:.2f}",
                    "" if memory is None else f"{memory / 2**20:.1f} MiB",
                ]
            )
    display(Markdown(f"**{dtype}**, {result['cases']['S2']['label']}"))
    display(table(["pass", "form", "time", "/ PyTorch", "peak memory"], rows))
    grads = {
        name.split(" (")[0]: s["median"] for name, s in parts["input_gradient"].items()
    }
    print(
        f"{dtype}: the fast backward pass (all three gradients) takes "
        f"{grads['fast backward'] / grads['flipped kernel']:.2f}x the time of the "
        "flipped kernel's dX alone, and "
        f"{grads['fast backward'] / grads['im2col backward']:.2f}x that of the "
        "im2col backward pass"
    )

# %% [markdown]
# - **Window columns beat im2col's window rows.** Both copy every window
#   once and run one product per pass. The im2col matrix of the page puts
#   one window per *row*, so its product comes out as
#   $(N O_H O_W, C_\text{out})$; and it is filled window by window, six
#   nested axes with a small patch innermost, which moves memory in tiny
#   pieces. The fast path stores the same numbers transposed, one window
#   per *column*, and fills them with one strided copy per kernel tap
#   (whole image rows at a time); the backward pass reuses the columns for
#   $\partial L/\partial W$ instead of copying the windows a second time.
# - **`einsum` on a window view is im2col in disguise.** The view itself
#   costs nothing, but the contraction is carried out by `tensordot`, which
#   copies the view into a matrix before calling BLAS.
# - **Shifted products against the flipped kernel, both equation (3.6).**
#   The flipped form builds the dilated, fully padded upstream gradient (for
#   stride 2, three quarters of it zeros) and runs a whole convolution over
#   it, window matrix included. The shifted form computes
#   $W_{:,:,u,v}^\top\, \partial L/\partial Y$ for each of the $K_HK_W$ taps
#   and adds it, in place, to the input pixels that tap read: the same sum
#   over taps, with no zeros multiplied and no window matrix. Read the rows
#   with care: the flipped kernel (and PyTorch's row) compute
#   $\partial L/\partial X$ alone, while both backward passes also compute
#   $\partial L/\partial W$ and $\partial L/\partial b$; the line printed
#   under the tables compares them as measured.
# - **What BLAS does that loops cannot.** The loop reference performs one
#   interpreted Python step per multiply-add; a BLAS GEMM splits the product
#   into blocks that stay in the cache, runs vector instructions on them and
#   uses every core. That is the factor between the first and the other
#   columns of the tables above.
#
# ## How the cost grows
#
# Time against batch size and against image side, float64, on S2's layer
# (16 → 32 channels, 3×3, padding 1), log-log. A slope of 1 against the
# batch and of 2 against the side is linear in the work: the fast path,
# PyTorch and the loops all follow it, at very different heights. The loop
# reference is timed only where it finishes in seconds.

# %% alt="Two log-log plots of seconds for one forward and backward pass: left against the batch size, right against the image side, for the package's fast path, PyTorch and the loop reference; all three lines are straight and parallel, the loops far above the other two."
fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
styles = {
    "fast": ("fast path", "o-"),
    "torch": ("PyTorch", "s--"),
    "loops": ("loops", "^:"),
}
for ax, axis, label in zip(
    axes, ("batch", "side"), ("batch size N", "image side H = W"), strict=True
):
    points = result["scaling"][axis]
    for name, (legend, style) in styles.items():
        xs = [int(x) for x, times in points.items() if name in times]
        ys = [points[str(x)][name] for x in xs]
        ax.loglog(xs, ys, style, label=legend)
    ax.set_xlabel(label)
    ax.set_ylabel("seconds")
    ax.grid(True, which="both", alpha=0.3)
axes[0].legend()
plt.show()

# %%
for axis in ("batch", "side"):
    points = result["scaling"][axis]
    for name in ("fast", "torch", "loops"):
        xs = np.array([int(x) for x, t in points.items() if name in t], dtype=float)
        ys = np.array([points[str(int(x))][name] for x in xs])
        if len(xs) >= 2:
            slope = np.polyfit(np.log(xs), np.log(ys), 1)[0]
            print(f"{axis:5s} {name:5s} slope {slope:.2f}")

# %% [markdown]
# ## Memory: the window matrix
#
# Every GEMM form of a convolution pays for copying the windows: the matrix
# holds $C_\text{in} K_H K_W$ numbers for each of the $N O_H O_W$ outputs,
# about $K_HK_W/(s_Hs_W)$ times the input. PyTorch's oneDNN path never
# builds it; its float64 path does, as the package does.

# %%
rows = []
for name, case in result["cases"].items():
    stats = result["conv"]["float64"][name]
    rows.append(
        [
            name,
            f"{case['input_bytes_float64'] / 2**20:.2f} MiB",
            f"{case['window_bytes_float64'] / 2**20:.2f} MiB",
            f"{stats['im2col']['peak_bytes'] / 2**20:.2f} MiB",
            f"{stats['fast']['peak_bytes'] / 2**20:.2f} MiB",
        ]
    )
display(
    table(
        ["layer (float64)", "input", "window matrix", "im2col peak", "fast path peak"],
        rows,
    )
)

# %% [markdown]
# ## Max-pooling and a whole training epoch
#
# Max-pooling 2×2 with stride 2, forward and backward, on inputs full of
# ties (small integers), so the first-maximum rule of Part 3 is exercised.
# The fast path takes one strided view per window position and keeps a
# running `np.maximum` over them, recording with a strict comparison which
# tap last raised it (the window's first maximum): no copy of the windows
# and no `argmax`. The backward pass writes each tap's share of dY into
# its strided view of dX, once per pixel when the windows tile the input.

# %%
rows = []
for dtype, stats in result["pool"].items():
    for name, s in stats.items():
        ratio = s.get("ratio_to_torch")
        rows.append(
            [
                dtype,
                name + (" (scaled)" if "scaled_from" in s else ""),
                ms(s["median"]),
                "" if ratio is None else f"{ratio:.2f}",
            ]
        )
display(Markdown(f"input shape {tuple(result['pool_shape'])}"))
display(table(["dtype", "form", "time", "/ PyTorch"], rows))

# %% [markdown]
# The epoch is the Part 4 CNN of the [CNN lab](../cnn-digits/) (one 3×3
# convolution with 16 filters, ReLU, max-pool, dense), trained with Adam on
# mini-batches of 32, against its PyTorch twin in float64. These tensors are
# tiny, so both spend most of their time on the fixed cost of each call
# rather than on arithmetic: the package by dispatching NumPy calls, PyTorch
# by building its autograd graph.
#
# The package's epoch is one call of `fit`. It checks the data, the model
# and the optimiser once, before the first step (which includes a forward
# pass of one sample through the layers' public, checked methods), and then
# trains through each layer's unchecked `_forward` and `_backward`, the same
# arithmetic with no checks. One finiteness test per gradient, before each
# update, still stops a diverging run. The same steps made as separate
# `train_step` calls check every array at every layer, since each call may
# be given anything; the second line is what that costs.

# %%
epoch = result["epoch"]
print(
    f"{epoch['steps']} steps: package {ms(epoch['package']['median'])}, "
    f"PyTorch {ms(epoch['torch']['median'])}, "
    f"ratio {epoch['package']['ratio_to_torch']:.2f}"
)
if "train_step" in epoch:  # results measured before the unchecked path lack it
    print(
        f"the same steps as train_step calls: {ms(epoch['train_step']['median'])}, "
        f"ratio {epoch['train_step']['ratio_to_torch']:.2f}"
    )

# %% [markdown]
# ## What this means for a reader
#
# The derivations of Part 3, written with care in NumPy, are within a small
# factor of a production framework on this CPU, and on the small layers of
# the labs, where fixed costs dominate, ahead of it (the tables above say
# exactly where). Where a gap remains it is in float32 on the larger
# layers, and the roofline shows where it comes from: not from the
# mathematics, which is the same, but from hand-tuned kernels, a blocked
# memory layout, and never writing the window matrix to memory. Those are
# exactly the things a framework is for.
