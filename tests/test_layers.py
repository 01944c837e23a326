"""Convolution, pooling and flatten as layers, and the digits CNN (Part 4)."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import conv_cases, pool_cases

from cnnscratch.checkpoint import load_parameters, save_parameters
from cnnscratch.conv import conv_output_size
from cnnscratch.datasets import load_digits
from cnnscratch.gradcheck import gradients_match, numerical_gradient
from cnnscratch.layers import Conv2D, Flatten, MaxPool2D
from cnnscratch.losses import softmax_cross_entropy, softmax_cross_entropy_gradient
from cnnscratch.network import Layer, Sequential, digits_cnn, fit, predict
from cnnscratch.optim import Adam


def _check_layer_gradients(layer: Layer, X: np.ndarray, rng: np.random.Generator):
    """dX and every grad of L = Σ dY ⊙ layer(X) against finite differences."""
    dY = rng.standard_normal(layer.forward(X).shape)
    dX = layer.backward(dY)
    grads = {name: g.copy() for name, g in layer.grads.items()}

    def loss(value: np.ndarray, array: np.ndarray) -> float:
        saved = array.copy()
        array[...] = value
        result = float(np.sum(dY * layer.forward(X)))
        array[...] = saved
        return result

    assert gradients_match(dX, numerical_gradient(lambda v: loss(v, X), X))
    for name, param in layer.params.items():
        numeric = numerical_gradient(lambda v, p=param: loss(v, p), param.copy())
        assert gradients_match(grads[name], numeric), name


def _check_model_gradients(model: Sequential, X: np.ndarray, Y: np.ndarray) -> None:
    """Backprop through the whole model against finite differences of the loss."""
    dX = model.backward(softmax_cross_entropy_gradient(model.forward(X), Y))
    grads = {name: g.copy() for name, g in model.gradients().items()}

    def loss(value: np.ndarray, array: np.ndarray) -> float:
        saved = array.copy()
        array[...] = value
        result = softmax_cross_entropy(model.forward(X), Y)
        array[...] = saved
        return result

    for name, param in model.parameters().items():
        numeric = numerical_gradient(lambda v, p=param: loss(v, p), param.copy())
        assert gradients_match(grads[name], numeric), name
    assert gradients_match(dX, numerical_gradient(lambda v: loss(v, X), X))


# --- Gradient checks (float64) ----------------------------------------------


@settings(max_examples=10)
@given(case=conv_cases(max_size=5))
def test_conv_layer_backward_matches_finite_differences(case: dict) -> None:
    C_out, C_in, KH, KW = case["W"].shape
    rng = np.random.default_rng(0)
    layer = Conv2D(
        C_in,
        C_out,
        (KH, KW),
        rng=rng,
        stride=case["stride"],
        padding=case["padding"],
        dilation=case["dilation"],
    )
    layer.params["b"][...] = rng.standard_normal(C_out)  # not only zeros
    _check_layer_gradients(layer, case["X"], rng)


@settings(max_examples=10)
@given(case=pool_cases(ties=False))
def test_maxpool_layer_backward_matches_finite_differences(case: dict) -> None:
    layer = MaxPool2D(case["kernel"], stride=case["stride"])
    _check_layer_gradients(layer, case["X"], np.random.default_rng(0))


def test_flatten_layer_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    _check_layer_gradients(Flatten(), rng.standard_normal((2, 3, 4, 5)), rng)


@pytest.mark.parametrize("N", [1, 3])
def test_digits_cnn_backward_matches_finite_differences(N: int) -> None:
    rng = np.random.default_rng(N)
    model = digits_cnn(rng=rng, filters=2)
    X = rng.standard_normal((N, 1, 8, 8))  # continuous values: no ties in max-pool
    Y = np.eye(10)[rng.integers(0, 10, N)]
    _check_model_gradients(model, X, Y)


# --- Shapes and parameters ----------------------------------------------------


@pytest.mark.parametrize("filters", [1, 4, 16])
def test_digits_cnn_parameter_shapes_and_count(filters: int) -> None:
    model = digits_cnn(rng=np.random.default_rng(0), filters=filters)
    pooled = conv_output_size(8, 3, padding=1) // 2  # 8x8 kept by padding, halved
    shapes = {name: p.shape for name, p in model.parameters().items()}
    assert shapes == {
        "0.W": (filters, 1, 3, 3),
        "0.b": (filters,),
        "4.W": (10, filters * pooled * pooled),
        "4.b": (10,),
    }
    conv = filters * (1 * 3 * 3 + 1)  # C_out (C_in KH KW + 1)
    dense = 10 * (filters * pooled * pooled + 1)  # n_out (n_in + 1)
    assert sum(p.size for p in model.parameters().values()) == conv + dense


def test_digits_cnn_maps_images_to_ten_logits_with_every_intermediate_shape() -> None:
    model = digits_cnn(rng=np.random.default_rng(0), filters=5)
    out = np.random.default_rng(1).random((7, 1, 8, 8))
    shapes = []
    for layer in model.layers:
        out = layer.forward(out)
        shapes.append(out.shape)
    assert shapes == [(7, 5, 8, 8), (7, 5, 8, 8), (7, 5, 4, 4), (7, 80), (7, 10)]


def test_digits_cnn_is_reproducible_and_starts_with_zero_biases() -> None:
    a = digits_cnn(rng=np.random.default_rng(3)).parameters()
    b = digits_cnn(rng=np.random.default_rng(3)).parameters()
    c = digits_cnn(rng=np.random.default_rng(4)).parameters()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.W"], c["0.W"])
    assert not np.any(a["0.b"])
    assert not np.any(a["4.b"])


def test_conv_layer_passes_its_options_to_the_convolution() -> None:
    layer = Conv2D(2, 3, (3, 2), rng=np.random.default_rng(0), stride=2, padding=1)
    Y = layer.forward(np.zeros((1, 2, 7, 6)))
    expected = (
        conv_output_size(7, 3, stride=2, padding=1),
        conv_output_size(6, 2, stride=2, padding=1),
    )
    assert Y.shape == (1, 3, *expected)


# --- Bad inputs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"in_channels": 0}, "in_channels"),
        ({"out_channels": -2}, "out_channels"),
        ({"out_channels": 2.5}, "out_channels"),
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": (3,)}, "kernel_size"),
        ({"stride": 0}, "stride"),
        ({"padding": -1}, "padding"),
        ({"dilation": (1, 0)}, "dilation"),
    ],
)
def test_conv_layer_rejects_bad_hyper_parameters(kwargs: dict, name: str) -> None:
    arguments = {"in_channels": 1, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=name):
        Conv2D(**arguments, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kernel", "stride", "name"),
    [(0, None, "kernel"), ((2, -1), None, "kernel"), (2, 0, "stride")],
)
def test_maxpool_layer_rejects_bad_hyper_parameters(kernel, stride, name) -> None:
    with pytest.raises(ValueError, match=name):
        MaxPool2D(kernel, stride=stride)


def test_digits_cnn_rejects_zero_filters() -> None:
    with pytest.raises(ValueError, match="filters"):
        digits_cnn(rng=np.random.default_rng(0), filters=0)


@pytest.mark.parametrize(
    ("layer", "X", "message"),
    [
        (
            Conv2D(1, 2, 3, rng=np.random.default_rng(0)),
            np.zeros((2, 3, 8, 8)),
            r"X has shape \(2, 3, 8, 8\); expected \(N, C_in, H, W\) with C_in = 1",
        ),
        (
            Conv2D(1, 2, 5, rng=np.random.default_rng(0)),
            np.zeros((1, 1, 3, 3)),
            "larger than the padded input",
        ),
        (Conv2D(1, 2, 3, rng=np.random.default_rng(0)), np.zeros((8, 8)), "X has"),
        (MaxPool2D(3), np.zeros((1, 1, 2, 2)), "larger than the input"),
        (MaxPool2D(2), np.full((1, 1, 2, 2), np.nan), "non-finite"),
        (Flatten(), np.zeros((4, 64)), r"X has shape \(4, 64\)"),
    ],
)
def test_layer_forward_rejects_inputs_that_do_not_fit(layer, X, message) -> None:
    with pytest.raises(ValueError, match=message):
        layer.forward(X)


def test_digits_cnn_rejects_images_of_another_size_at_the_dense_layer() -> None:
    model = digits_cnn(rng=np.random.default_rng(0), filters=2)
    with pytest.raises(ValueError, match="n_in = 32"):
        model.forward(np.zeros((1, 1, 16, 16)))  # 2 x 8 x 8 = 128 features


@pytest.mark.parametrize(
    "layer", [Conv2D(1, 2, 3, rng=np.random.default_rng(0)), MaxPool2D(2), Flatten()]
)
def test_layer_backward_before_forward_raises(layer) -> None:
    with pytest.raises(ValueError, match="call forward first"):
        layer.backward(np.zeros((1, 2, 4, 4)))


@pytest.mark.parametrize(
    "layer", [Conv2D(1, 2, 3, rng=np.random.default_rng(0)), MaxPool2D(2), Flatten()]
)
def test_layer_backward_rejects_an_upstream_gradient_of_the_wrong_shape(layer) -> None:
    Y = layer.forward(np.zeros((2, 1, 6, 6)))
    with pytest.raises(ValueError, match="has shape"):
        layer.backward(np.zeros((Y.shape[0] + 1, *Y.shape[1:])))


# --- Training and checkpoints ---------------------------------------------------


def test_one_epoch_lowers_the_loss_and_the_checkpoint_reloads(tmp_path: Path) -> None:
    digits = load_digits()
    X = digits.X_train[:256].reshape(-1, 1, 8, 8)
    Y = digits.Y_train[:256]
    model = digits_cnn(rng=np.random.default_rng(0), filters=4)
    before = softmax_cross_entropy(model.forward(X), Y)
    history = fit(
        model,
        Adam(lr=0.01),
        X,
        Y,
        epochs=1,
        batch_size=32,
        rng=np.random.default_rng(1),
    )
    assert len(history.step_loss) == 256 // 32
    after = softmax_cross_entropy(model.forward(X), Y)
    assert after < before
    assert history.epoch_loss[0] == pytest.approx(after, rel=1e-12)

    path = save_parameters(model, tmp_path / "cnn.npz")
    fresh = digits_cnn(rng=np.random.default_rng(99), filters=4)
    X_test = digits.X_test.reshape(-1, 1, 8, 8)
    assert not np.array_equal(fresh.forward(X_test), model.forward(X_test))
    load_parameters(fresh, path)
    np.testing.assert_array_equal(fresh.forward(X_test), model.forward(X_test))
    np.testing.assert_array_equal(predict(fresh, X_test), predict(model, X_test))
