"""Sizing a network (Part 4): each formula against an independent computation.

Output shapes against the forward pass, parameter counts against the arrays,
multiply-adds against the im2col matrix, receptive fields against the
backward pass, memory against the bytes of the arrays the forward pass made.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnscratch.conv import im2col
from cnnscratch.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from cnnscratch.network import Sequential, digits_cnn, digits_deep_cnn
from cnnscratch.sizing import (
    layer_sizes,
    multiply_adds,
    output_shape,
    parameter_count,
    receptive_fields,
)


@st.composite
def conv_layers(draw: st.DrawFn) -> tuple[Conv2D, tuple[int, int, int]]:
    """A convolution with random hyper-parameters and an input it fits."""
    C_in, C_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    H = draw(st.integers(max(1, dilation[0] * (k[0] - 1) + 1 - 2 * padding[0]), 9))
    W = draw(st.integers(max(1, dilation[1] * (k[1] - 1) + 1 - 2 * padding[1]), 9))
    layer = Conv2D(
        C_in,
        C_out,
        k,
        rng=np.random.default_rng(0),
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    return layer, (C_in, H, W)


@settings(max_examples=20)
@given(case=conv_layers())
def test_conv_output_shape_is_the_forward_passs(case) -> None:
    layer, shape = case
    Y = layer.forward(np.zeros((2, *shape)))
    assert output_shape(layer, shape) == Y.shape[1:]


@settings(max_examples=20)
@given(case=conv_layers())
def test_conv_multiply_adds_count_the_entries_of_the_matrix_product(case) -> None:
    layer, shape = case
    o = layer.options
    cols = im2col(
        np.zeros((1, *shape)),
        layer.params["W"].shape[2:],
        stride=o["stride"],
        padding=o["padding"],
        dilation=o["dilation"],
    )
    C_out = layer.params["W"].shape[0]
    # One product per entry of cols for every output channel (eq. (3.7)).
    assert multiply_adds(layer, shape) == cols.size * C_out


@pytest.mark.parametrize(
    "model",
    [
        digits_cnn(rng=np.random.default_rng(0)),
        digits_deep_cnn(rng=np.random.default_rng(0)),
    ],
)
def test_sizing_table_agrees_with_the_arrays_of_a_forward_pass(model) -> None:
    X = np.zeros((3, 1, 8, 8))
    rows = layer_sizes(model.layers, (1, 8, 8))
    out = X
    for layer, row in zip(model.layers, rows, strict=True):
        out = layer.forward(out)
        assert row.output_shape == out.shape[1:]
        assert row.activations * 3 == out.size
        assert row.memory(3) == out.nbytes
        assert row.parameters == sum(p.size for p in layer.params.values())
    assert rows[-1].output_shape == (10,)


def test_dense_multiply_adds_and_parameters_by_hand() -> None:
    layer = Dense(512, 10, rng=np.random.default_rng(0))
    assert multiply_adds(layer, (512,)) == 5120
    assert parameter_count(layer) == 5130
    assert multiply_adds(ReLU(), (3, 4, 4)) == 0
    assert multiply_adds(MaxPool2D(2), (3, 4, 4)) == 0


def _nonzero_extent(dX: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(np.abs(dX).sum(axis=(0, 1, 3)))
    cols = np.flatnonzero(np.abs(dX).sum(axis=(0, 1, 2)))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


STACKS = [
    [(3, 1, 1)],
    [(3, 1, 1), (3, 1, 1)],
    [(5, 1, 1)],
    [(3, 1, 1), (3, 2, 1), (3, 1, 1)],
    [(3, 1, 2), (3, 1, 1)],
    [(2, 2, 1), (3, 1, 1), (3, 2, 2)],
]


@pytest.mark.parametrize("stack", STACKS)
def test_receptive_field_is_the_support_of_a_one_pixel_gradient(stack) -> None:
    # Positive weights and a positive input: every ReLU passes and no
    # contributions cancel, so every pixel in the field gets a non-zero gradient.
    rng = np.random.default_rng(1)
    layers: list = []
    for k, s, d in stack:
        conv = Conv2D(2, 2, k, rng=rng, stride=s, dilation=d)
        conv.params["W"][...] = np.abs(conv.params["W"]) + 0.1
        layers += [conv, ReLU()]
    model = Sequential(layers)
    X = np.ones((1, 2, 40, 40))
    Y = model.forward(X)
    dY = np.zeros_like(Y)
    dY[0, 0, Y.shape[2] // 2, Y.shape[3] // 2] = 1.0
    dX = model.backward(dY)
    assert receptive_fields(layers)[-1] == _nonzero_extent(dX)


def test_max_pool_widens_the_field_like_a_kernel_of_its_size() -> None:
    rng = np.random.default_rng(0)
    layers = [Conv2D(1, 1, 3, rng=rng), MaxPool2D(2), Conv2D(1, 1, 3, rng=rng)]
    assert receptive_fields(layers) == [(3, 3), (4, 4), (8, 8)]
    assert receptive_fields([*layers, Flatten()])[-1] is None


def test_two_3x3_layers_see_as_far_as_one_5x5_with_fewer_weights() -> None:
    rng = np.random.default_rng(0)
    two = [Conv2D(1, 1, 3, rng=rng), Conv2D(1, 1, 3, rng=rng)]
    one = [Conv2D(1, 1, 5, rng=rng)]
    assert receptive_fields(two)[-1] == receptive_fields(one)[-1] == (5, 5)
    weights = [sum(layer.params["W"].size for layer in s) for s in (two, one)]
    assert weights == [18, 25]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: output_shape(object(), (1, 8, 8)), "layer is a object"),
        (lambda: parameter_count("conv"), "layer is a str"),
        (lambda: receptive_fields([object()]), "layer is a object"),
        (lambda: output_shape(Flatten(), (8, 8)), "input_shape is"),
        (
            lambda: output_shape(Dense(4, 2, rng=np.random.default_rng(0)), (5,)),
            r"expected \(4,\)",
        ),
        (
            lambda: output_shape(
                Conv2D(3, 2, 3, rng=np.random.default_rng(0)), (1, 8, 8)
            ),
            "expected 3 channels",
        ),
        (
            lambda: output_shape(
                Conv2D(1, 2, 5, rng=np.random.default_rng(0)), (1, 3, 3)
            ),
            "kernel",
        ),
    ],
)
def test_bad_layers_and_shapes_raise_a_value_error(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
