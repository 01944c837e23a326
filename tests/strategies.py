"""Hypothesis strategies shared by the test modules: shapes and float64 arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

FINITE = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


def float_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with entries in [-10, 10]."""
    return arrays(np.float64, shape, elements=FINITE)


sizes = st.integers(min_value=1, max_value=5)


def normal_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Standard-normal float64 arrays of ``shape``, drawn from a seed.

    Use these for finite-difference checks. Adversarial values from
    ``float_arrays`` (1e-10 next to 1.0) make the *numerical* derivative wrong
    by cancellation, whatever the analytic one does.
    """
    return st.integers(0, 2**32 - 1).map(
        lambda seed: np.random.default_rng(seed).normal(size=shape)
    )


@st.composite
def batch_cases(draw: st.DrawFn, max_size: int = 5) -> dict:
    """A batch Z (N, K) and an upstream gradient dZ (N, K), both standard normal.

    N is 1 or more (both are drawn often) and K is 1 or more: the shapes an
    elementwise activation or an MSE loss sees in a mini-batch.
    """
    N = draw(st.one_of(st.just(1), st.integers(2, max_size)))
    K = draw(st.integers(1, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {"Z": rng.standard_normal((N, K)), "dZ": rng.standard_normal((N, K))}


# --- Part 3: convolution and pooling cases -----------------------------------


@st.composite
def conv_cases(draw: st.DrawFn, max_size: int = 7) -> dict:
    """A small convolution problem that fits: arrays and hyper-parameters.

    Covers batch 1 and > 1, one and several channels, non-square kernels and
    inputs, stride 1-3, padding 0-2, dilation 1-2 and sizes the stride does
    not divide. Returns a dict with X (N, C_in, H, W), W (C_out, C_in, KH, KW),
    b (C_out,), stride, padding, dilation (each an (h, w) pair) and dY, a
    float64 upstream gradient shaped like the output.
    """
    N = draw(st.integers(1, 2))
    C_in, C_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = []
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        size.append(draw(st.integers(smallest, max(smallest, max_size))))
    out = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(size, kernel, stride, padding, dilation, strict=True)
    ]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "X": rng.standard_normal((N, C_in, *size)),
        "W": rng.standard_normal((C_out, C_in, *kernel)),
        "b": rng.standard_normal(C_out),
        "dY": rng.standard_normal((N, C_out, *out)),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }


@st.composite
def pool_cases(draw: st.DrawFn, ties: bool = False) -> dict:
    """A small pooling problem: X (N, C, H, W), kernel, stride, dY.

    Strides 1-3 (so windows overlap, touch or skip rows), non-square kernels
    and inputs. With ``ties``, X holds small integers, so windows often have
    several equal maxima.
    """
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = [draw(st.integers(k, 7)) for k in kernel]
    out = [(n - k) // s + 1 for n, k, s in zip(size, kernel, stride, strict=True)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if ties:
        X = rng.integers(0, 3, (N, C, *size)).astype(np.float64)
    else:
        X = rng.standard_normal((N, C, *size))
    return {
        "X": X,
        "kernel": kernel,
        "stride": stride,
        "dY": rng.standard_normal((N, C, *out)),
    }


# --- Part 2: dense layers, activations and losses ---------------------------


@st.composite
def dense_cases(draw: st.DrawFn, max_size: int = 5) -> dict:
    """A small batch for a dense layer: X (N, n_in), W (n_out, n_in), b, dZ.

    N is 1 or more (both are drawn often), every entry is standard normal and
    dZ (N, n_out) is an upstream gradient.
    """
    N = draw(st.one_of(st.just(1), st.integers(2, max_size)))
    n_in, n_out = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "X": rng.standard_normal((N, n_in)),
        "W": rng.standard_normal((n_out, n_in)),
        "b": rng.standard_normal(n_out),
        "dZ": rng.standard_normal((N, n_out)),
    }


@st.composite
def classification_cases(draw: st.DrawFn, max_size: int = 5) -> dict:
    """Logits Z (N, K), one-hot targets Y (N, K) and an upstream gradient dS.

    N is 1 or more, K is 2 or more; logits are standard normal times a
    drawn scale in [0.1, 3].
    """
    N = draw(st.one_of(st.just(1), st.integers(2, max_size)))
    K = draw(st.integers(2, max_size))
    scale = draw(st.floats(0.1, 3.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "Z": scale * rng.standard_normal((N, K)),
        "Y": np.eye(K)[rng.integers(0, K, N)],
        "dS": rng.standard_normal((N, K)),
    }


# --- Part 5: batch norm and transposed convolution cases --------------------


@st.composite
def batchnorm_cases(draw: st.DrawFn) -> dict:
    """A batch-norm problem: X (N, D) or (N, C, H, W), γ, β (C,), dY like X.

    At least two values per channel (N·H·W >= 2), as training mode needs;
    batch 1 with several pixels is drawn for feature maps. With some
    probability one channel is constant (σ² = 0: only ε keeps 1/σ finite).
    """
    if draw(st.booleans()):
        shape: tuple[int, ...] = (draw(st.integers(2, 5)), draw(st.integers(1, 4)))
    else:
        N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        H, W = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        if N * H * W < 2:
            W = 2
        shape = (N, C, H, W)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(draw(st.floats(-3, 3)), draw(st.floats(0.1, 3)), size=shape)
    if draw(st.booleans()):  # a constant channel
        c = draw(st.integers(0, shape[1] - 1))
        X[:, c] = draw(st.floats(-2, 2))
    C = shape[1]
    return {
        "X": X,
        "gamma": rng.normal(size=C),
        "beta": rng.normal(size=C),
        "dY": rng.normal(size=shape),
    }


@st.composite
def transposed_cases(draw: st.DrawFn, max_size: int = 4) -> dict:
    """A transposed-convolution problem that fits, with output_padding.

    X (N, C_in, H, W), W (C_in, C_out, KH, KW), b (C_out,), stride 1-3,
    padding 0-2, dilation 1-2, output_padding below the stride or the
    dilation, and dY shaped like the output.
    """
    N = draw(st.integers(1, 2))
    C_in, C_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    size = (draw(st.integers(1, max_size)), draw(st.integers(1, max_size)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1))
        for s, d in zip(stride, dilation, strict=True)
    )
    full = [
        s * (n - 1) + d * (k - 1) + 1
        for n, k, s, d in zip(size, kernel, stride, dilation, strict=True)
    ]
    padding = tuple(
        draw(st.integers(0, min(2, (f + op - 1) // 2)))
        for f, op in zip(full, output_padding, strict=True)
    )
    out = [
        f - 2 * p + op for f, p, op in zip(full, padding, output_padding, strict=True)
    ]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "X": rng.standard_normal((N, C_in, *size)),
        "W": rng.standard_normal((C_in, C_out, *kernel)),
        "b": rng.standard_normal(C_out),
        "dY": rng.standard_normal((N, C_out, *out)),
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
