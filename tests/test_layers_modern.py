"""Tests of the Part 5 layer classes (batch norm, global average pooling,
residual blocks, transposed convolution, 1x1 convolution) and of training
and saving models that contain them."""

from __future__ import annotations

import numpy as np
import pytest

from cnnscratch.batchnorm import batchnorm_forward, update_running_stats
from cnnscratch.checkpoint import FORMAT, FORMAT_KEY, load_parameters, save_parameters
from cnnscratch.conv import im2col
from cnnscratch.gradcheck import gradients_match, numerical_gradient
from cnnscratch.layers import (
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    ConvTranspose2D,
    Dense,
    GlobalAvgPool2D,
    ReLU,
    Residual,
    Tanh,
)
from cnnscratch.network import Sequential, fit, minibatches, train_step
from cnnscratch.optim import SGD


def _small_cnn(rng: np.random.Generator) -> Sequential:
    """conv–BN–ReLU, a residual block with BN inside, GAP, dense."""
    return Sequential(
        [
            Conv2D(1, 3, 3, padding=1, rng=rng),
            BatchNorm2D(3),
            ReLU(),
            Residual([Conv2D(3, 3, 3, padding=1, rng=rng), BatchNorm2D(3)]),
            ReLU(),
            GlobalAvgPool2D(),
            Dense(3, 4, rng=rng),
        ]
    )


def _model_gradient_check(model: Sequential, X: np.ndarray, dY: np.ndarray) -> None:
    """dX and every parameter gradient of ``model`` against finite differences.

    A bias right before a batch norm has a gradient of exactly zero (the mean
    removes it), which analytic and numerical derivatives both give only up
    to rounding (~1e-16 against ~1e-10): such a parameter is checked to be
    zero at the scale of the whole gradient, every other one on its own.
    """
    model.forward(X)
    dX = model.backward(dY)
    grads = {k: v.copy() for k, v in model.gradients().items()}

    def L_x(v):
        return np.sum(model.forward(v) * dY)

    assert gradients_match(dX, numerical_gradient(L_x, X))
    numeric = {}
    for name, param in model.parameters().items():
        saved = param.copy()

        def L_p(v, param=param):
            param[...] = v
            return np.sum(model.forward(X) * dY)

        numeric[name] = numerical_gradient(L_p, saved)
        param[...] = saved
    scale = np.sqrt(sum(np.sum(g**2) for g in numeric.values()))
    for name in numeric:
        if np.linalg.norm(numeric[name]) < 1e-6 * scale:  # a zero gradient
            assert np.linalg.norm(grads[name]) < 1e-6 * scale, name
        else:
            assert gradients_match(grads[name], numeric[name]), name


# --- batch norm layers --------------------------------------------------------


def test_batchnorm2d_layer_updates_running_statistics_like_the_function() -> None:
    rng = np.random.default_rng(0)
    bn = BatchNorm2D(2, momentum=0.3)
    X1, X2 = rng.normal(1, 2, size=(3, 2, 2, 2)), rng.normal(-1, 1, size=(2, 2, 3, 3))
    bn.forward(X1)
    bn.forward(X2)
    mean, var = np.zeros(2), np.ones(2)
    for X in (X1, X2):
        _, cache = batchnorm_forward(X, np.ones(2), np.zeros(2))
        mean, var = update_running_stats(mean, var, cache, momentum=0.3)
    np.testing.assert_allclose(bn.buffers["running_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_var"], var, rtol=1e-12)


def test_eval_mode_uses_and_keeps_the_running_statistics() -> None:
    bn = BatchNorm1D(2, eps=0.0)
    bn.buffers["running_mean"][...] = [1.0, 2.0]
    bn.buffers["running_var"][...] = [4.0, 9.0]
    bn.training = False
    Y = bn.forward(np.array([[3.0, 5.0]]))  # a batch of one: fine in eval mode
    np.testing.assert_allclose(Y, [[1.0, 1.0]])
    np.testing.assert_array_equal(bn.buffers["running_mean"], [1.0, 2.0])
    dX = bn.backward(np.array([[6.0, 6.0]]))
    np.testing.assert_allclose(dX, [[3.0, 2.0]])  # γ/σ · dY


@pytest.mark.parametrize(
    ("cls", "shape"), [(BatchNorm1D, (4, 2)), (BatchNorm2D, (2, 2, 2, 2))]
)
def test_batchnorm_layers_match_finite_differences(cls, shape) -> None:
    rng = np.random.default_rng(1)
    bn = cls(2)
    bn.params["gamma"][...] = rng.normal(size=2)
    bn.params["beta"][...] = rng.normal(size=2)
    _model_gradient_check(
        Sequential([bn]), rng.normal(size=shape), rng.normal(size=shape)
    )


def test_batchnorm_layers_check_the_input_rank_and_their_options() -> None:
    with pytest.raises(
        ValueError, match=r"^X has shape \(2, 3, 1, 1\); expected \(N, D\)"
    ):
        BatchNorm1D(3).forward(np.ones((2, 3, 1, 1)))
    with pytest.raises(
        ValueError, match=r"^X has shape \(2, 3\); expected \(N, C, H, W\)"
    ):
        BatchNorm2D(3).forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^eps must be"):
        BatchNorm2D(3, eps=-1.0)
    with pytest.raises(ValueError, match=r"^momentum must be"):
        BatchNorm2D(3, momentum=2.0)
    with pytest.raises(ValueError, match=r"^features must be"):
        BatchNorm1D(0)


# --- residual blocks ------------------------------------------------------------


def test_identity_residual_adds_dy_to_the_body_gradient() -> None:
    rng = np.random.default_rng(2)
    body = [Dense(3, 3, rng=rng), Tanh(), Dense(3, 3, rng=rng)]
    block = Residual(body)
    X, dY = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    Y = block.forward(X)
    plain = Sequential(body)
    np.testing.assert_allclose(Y, plain.forward(X) + X)
    dX = block.backward(dY)
    np.testing.assert_allclose(dX, plain.backward(dY) + dY)


def test_residual_block_with_projection_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    block = Residual(
        [
            Conv2D(2, 3, 3, stride=2, padding=1, rng=rng),
            BatchNorm2D(3),
            ReLU(),
            Conv2D(3, 3, 3, padding=1, rng=rng),
        ],
        Residual.projection(2, 3, rng=rng, stride=2),
    )
    assert sorted(block.buffers) == [
        "body.1.running_mean",
        "body.1.running_var",
        "shortcut.1.running_mean",
        "shortcut.1.running_var",
    ]
    X = rng.normal(size=(2, 2, 4, 4))
    _model_gradient_check(Sequential([block]), X, rng.normal(size=(2, 3, 2, 2)))


def test_residual_block_rejects_branches_of_different_shapes() -> None:
    rng = np.random.default_rng(4)
    block = Residual([Conv2D(2, 3, 1, rng=rng)])
    with pytest.raises(
        ValueError, match=r"body output has shape \(1, 3, 2, 2\) but shortcut"
    ):
        block.forward(np.ones((1, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"^body is empty"):
        Residual([])


def test_a_failed_residual_forward_leaves_the_running_statistics_alone() -> None:
    rng = np.random.default_rng(16)
    block = Residual([Conv2D(2, 3, 1, rng=rng), BatchNorm2D(3)])  # no projection
    before = {k: v.copy() for k, v in block.buffers.items()}
    with pytest.raises(ValueError, match="body output has shape"):
        block.forward(rng.normal(size=(2, 2, 3, 3)))
    for name, value in block.buffers.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_eval_reaches_batch_norm_inside_residual_blocks() -> None:
    model = _small_cnn(np.random.default_rng(5))
    model.eval()
    inner = model.layers[3].body[1]
    assert model.layers[1].training is False
    assert inner.training is False
    model.train()
    assert inner.training is True


# --- a whole network -------------------------------------------------------------


def test_small_modern_cnn_matches_finite_differences() -> None:
    rng = np.random.default_rng(6)
    model = _small_cnn(rng)
    _model_gradient_check(model, rng.normal(size=(3, 1, 5, 5)), rng.normal(size=(3, 4)))


def test_global_average_pooling_head_accepts_any_image_size() -> None:
    model = _small_cnn(np.random.default_rng(7)).eval()
    for size in (4, 8, 11):
        assert model.forward(np.zeros((2, 1, size, size))).shape == (2, 4)


def test_fit_evaluates_in_eval_mode_so_only_training_steps_move_the_statistics() -> (
    None
):
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(12, 1, 4, 4)), np.eye(4)[rng.integers(0, 4, 12)]
    fitted, replayed = (
        _small_cnn(np.random.default_rng(9)),
        _small_cnn(np.random.default_rng(9)),
    )
    fit(
        fitted,
        SGD(lr=0.1),
        X,
        Y,
        epochs=2,
        batch_size=5,
        rng=np.random.default_rng(1),
        validation=(X, Y),
    )
    order, optimizer = np.random.default_rng(1), SGD(lr=0.1)
    for _ in range(2):
        for batch in minibatches(12, 5, rng=order):
            train_step(replayed, optimizer, X[batch], Y[batch])
    for name, value in fitted.buffers().items():
        np.testing.assert_array_equal(value, replayed.buffers()[name], err_msg=name)
    assert fitted.layers[1].training is False  # fit leaves the model in eval mode


def test_sequential_buffers_are_flat_and_load_all_or_nothing() -> None:
    model = _small_cnn(np.random.default_rng(10))
    assert sorted(model.buffers()) == [
        "1.running_mean",
        "1.running_var",
        "3.body.1.running_mean",
        "3.body.1.running_var",
    ]
    before = {k: v.copy() for k, v in model.buffers().items()}
    bad = {k: np.full_like(v, 2.0) for k, v in before.items()}
    bad["1.running_var"] = np.ones(5)
    message = r"^arrays\['1.running_var'\] has shape \(5,\)"
    with pytest.raises(ValueError, match=message):
        model.load_buffers(bad)
    for k, v in model.buffers().items():
        np.testing.assert_array_equal(v, before[k])


def test_checkpoint_saves_and_restores_running_statistics(tmp_path) -> None:
    rng = np.random.default_rng(11)
    model = _small_cnn(rng)
    model.forward(rng.normal(size=(4, 1, 5, 5)))  # training mode: moves the statistics
    path = save_parameters(model, tmp_path / "model.npz")
    other = _small_cnn(np.random.default_rng(12))
    load_parameters(other, path)
    for name, value in model.buffers().items():
        np.testing.assert_array_equal(other.buffers()[name], value)
    X = rng.normal(size=(2, 1, 5, 5))
    np.testing.assert_array_equal(other.eval().forward(X), model.eval().forward(X))


def test_checkpoint_without_running_statistics_is_rejected(tmp_path) -> None:
    model = _small_cnn(np.random.default_rng(13))
    path = tmp_path / "old.npz"
    np.savez(path, **model.parameters(), **{FORMAT_KEY: np.array(FORMAT)})
    before = {k: v.copy() for k, v in model.parameters().items()}
    with pytest.raises(ValueError, match=r"missing buffers/1\.running_mean"):
        load_parameters(model, path)
    for k, v in model.parameters().items():
        np.testing.assert_array_equal(v, before[k])


# --- 1x1 and transposed convolution layers -----------------------------------------


def test_one_by_one_convolution_is_a_dense_layer_at_every_pixel() -> None:
    rng = np.random.default_rng(14)
    X = rng.normal(size=(2, 3, 4, 5))
    cols = im2col(X, 1)  # one window per pixel, holding its C values: a reshape
    np.testing.assert_array_equal(cols, X.transpose(0, 2, 3, 1).reshape(-1, 3))
    conv = Conv2D(3, 6, 1, rng=rng)
    conv.params["b"][...] = rng.normal(size=6)
    W, b = conv.params["W"][:, :, 0, 0], conv.params["b"]
    expected = np.einsum("oc,nchw->nohw", W, X) + b[:, None, None]
    np.testing.assert_allclose(conv.forward(X), expected, rtol=1e-12)


def test_transposed_convolution_layer_matches_finite_differences() -> None:
    rng = np.random.default_rng(15)
    up = ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1, rng=rng)
    up.params["b"][...] = rng.normal(size=3)
    X = rng.normal(size=(2, 2, 3, 3))
    assert up.forward(X).shape == (2, 3, 6, 6)
    _model_gradient_check(Sequential([up]), X, rng.normal(size=(2, 3, 6, 6)))


def test_transposed_convolution_layer_checks_output_padding_when_built() -> None:
    with pytest.raises(ValueError, match=r"^output_padding is"):
        ConvTranspose2D(
            1, 1, 3, stride=2, output_padding=2, rng=np.random.default_rng(0)
        )
