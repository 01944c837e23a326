"""The training loop's unchecked path gives what the checked path gives, bit for bit.

:func:`fit` checks its data and model once and then runs the layers'
``_forward`` / ``_backward`` and the optimisers' ``_step``;
:func:`train_step` and the layers' public methods check every array. Both
must compute the same numbers: every loss, every gradient and the final
parameters and running statistics are compared with ``==``, not a tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from cnnscratch.datasets import load_digits
from cnnscratch.layers import (
    BatchNorm1D,
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    ReLU,
    Residual,
)
from cnnscratch.losses import softmax_cross_entropy, softmax_cross_entropy_gradient
from cnnscratch.network import (
    DivergenceError,
    Sequential,
    digits_cnn,
    digits_deep_cnn,
    digits_resnet,
    fit,
    minibatches,
    mlp,
    train_step,
)
from cnnscratch.optim import SGD, Adam

DIGITS = load_digits()
N = 200  # enough for 7 batches of 32, the last one smaller
IMAGES = DIGITS.X_train[:N].reshape(-1, 1, 8, 8)
ROWS = DIGITS.X_train[:N]
Y = DIGITS.Y_train[:N]


class UserReLU:
    """A layer of the user's own: public forward and backward only."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.mask = X > 0
        return X * self.mask

    def backward(self, dY: np.ndarray) -> np.ndarray:
        return dY * self.mask


class LeakyReLU(ReLU):
    """A subclass of a package layer that overrides both public methods."""

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.X = X
        return np.where(X > 0, X, 0.1 * X)

    def backward(self, dY: np.ndarray) -> np.ndarray:
        return np.where(self.X > 0, dY, 0.1 * dY)


def _mlp(rng: np.random.Generator) -> Sequential:
    return mlp([64, 32, 10], rng=rng)


def _batchnorm_mlp(rng: np.random.Generator) -> Sequential:
    return Sequential(
        [Dense(64, 32, rng=rng), BatchNorm1D(32), ReLU(), Dense(32, 10, rng=rng)]
    )


def _residual_mlp(rng: np.random.Generator) -> Sequential:
    return Sequential(
        [
            Dense(64, 16, rng=rng),
            ReLU(),
            Residual([Dense(16, 16, rng=rng), ReLU(), Dense(16, 16, rng=rng)]),
            ReLU(),
            Dense(16, 10, rng=rng),
        ]
    )


def _user_layer_cnn(rng: np.random.Generator) -> Sequential:
    return Sequential(
        [
            Conv2D(1, 4, 3, padding=1, rng=rng),
            UserReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(64, 10, rng=rng),
        ]
    )


def _user_layers_in_a_residual(rng: np.random.Generator) -> Sequential:
    return Sequential(
        [
            Dense(64, 16, rng=rng),
            Residual([Dense(16, 16, rng=rng), LeakyReLU(), Dense(16, 16, rng=rng)]),
            UserReLU(),
            Dense(16, 10, rng=rng),
        ]
    )


MODELS: dict[str, tuple[Callable[..., Sequential], np.ndarray]] = {
    "digits_cnn": (digits_cnn, IMAGES),
    "digits_deep_cnn": (digits_deep_cnn, IMAGES),
    "mlp": (_mlp, ROWS),
    "batch norm": (_batchnorm_mlp, ROWS),
    "residual block": (_residual_mlp, ROWS),
    "digits_resnet": (digits_resnet, IMAGES),
    "a user's layer": (_user_layer_cnn, IMAGES),
    "user layers in a residual block": (_user_layers_in_a_residual, ROWS),
}


def _checked_run(
    build: Callable[..., Sequential], X: np.ndarray, optimizer: SGD | Adam
) -> tuple[Sequential, list[float], list[dict[str, np.ndarray]]]:
    """Two epochs through the public methods of the model and the optimiser."""
    model = build(rng=np.random.default_rng(0))
    order = np.random.default_rng(1)
    losses, grads = [], []
    for _ in range(2):
        for batch in minibatches(len(X), 32, rng=order):
            model.train()
            Z = model.forward(X[batch])
            losses.append(softmax_cross_entropy(Z, Y[batch]))
            model.backward(softmax_cross_entropy_gradient(Z, Y[batch]))
            grads.append({k: g.copy() for k, g in model.gradients().items()})
            optimizer.step(model.parameters(), model.gradients())
    model.eval()
    return model, losses, grads


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(
    "make_optimizer", [lambda: Adam(lr=0.01), lambda: SGD(0.1, 0.9)]
)
def test_fit_and_train_step_equal_the_public_methods_bit_for_bit(
    name, make_optimizer
) -> None:
    build, X = MODELS[name]
    reference, losses, grads = _checked_run(build, X, make_optimizer())

    fitted = build(rng=np.random.default_rng(0))
    seen: list[dict[str, np.ndarray]] = []
    history = fit(
        fitted,
        make_optimizer(),
        X,
        Y,
        epochs=2,
        batch_size=32,
        rng=np.random.default_rng(1),
        on_step=lambda _: seen.append(
            {k: g.copy() for k, g in fitted.gradients().items()}
        ),
        evaluate_training=False,
    )
    stepped = build(rng=np.random.default_rng(0))
    optimizer, order, stepped_losses = make_optimizer(), np.random.default_rng(1), []
    for _ in range(2):
        for batch in minibatches(len(X), 32, rng=order):
            stepped_losses.append(train_step(stepped, optimizer, X[batch], Y[batch]))

    assert len(losses) == 14
    assert history.step_loss == losses
    assert stepped_losses == losses
    assert len(seen) == len(grads)
    for step, (fast, checked) in enumerate(zip(seen, grads, strict=True)):
        assert fast.keys() == checked.keys()
        for key, value in checked.items():
            np.testing.assert_array_equal(fast[key], value, err_msg=f"{key} {step}")
    for model in (fitted, stepped):
        for key, value in reference.parameters().items():
            np.testing.assert_array_equal(model.parameters()[key], value, err_msg=key)
        for key, value in reference.buffers().items():
            np.testing.assert_array_equal(model.buffers()[key], value, err_msg=key)
    # evaluation through the unchecked path too: the same logits as forward
    fitted.eval()
    assert fitted.buffers().keys() == reference.buffers().keys()
    np.testing.assert_array_equal(
        fit_history_logits(fitted, X), reference.forward(X), err_msg="logits"
    )


def fit_history_logits(model: Sequential, X: np.ndarray) -> np.ndarray:
    """The logits fit's evaluation computes (its unchecked forward pass)."""
    from cnnscratch.layers import _forward_all

    return _forward_all(model.layers, X)


def test_fit_evaluates_with_the_same_numbers_as_the_public_forward() -> None:
    model = digits_resnet(rng=np.random.default_rng(0))
    history = fit(
        model,
        Adam(lr=0.01),
        IMAGES,
        Y,
        epochs=1,
        batch_size=32,
        rng=np.random.default_rng(1),
        validation=(IMAGES[:50], Y[:50]),
    )
    assert history.epoch_loss == [softmax_cross_entropy(model.forward(IMAGES), Y)]
    assert history.val_loss == [
        softmax_cross_entropy(model.forward(IMAGES[:50]), Y[:50])
    ]


def _blow_up(model: Sequential) -> None:
    """The last dense layer's weights so large that the logits overflow."""
    model.layers[-1].params["W"][...] = 1e308


def test_a_diverging_train_step_leaves_parameters_and_statistics_alone() -> None:
    model = digits_resnet(rng=np.random.default_rng(0))
    _blow_up(model)
    params = {k: v.copy() for k, v in model.parameters().items()}
    buffers = {k: v.copy() for k, v in model.buffers().items()}
    with pytest.raises(DivergenceError, match=r"^loss became non-finite"):
        train_step(model, Adam(lr=0.01), IMAGES[:32], Y[:32])
    for key, value in params.items():
        np.testing.assert_array_equal(model.parameters()[key], value, err_msg=key)
    for key, value in buffers.items():
        np.testing.assert_array_equal(model.buffers()[key], value, err_msg=key)


def _overflowing_gradient() -> tuple[Sequential, np.ndarray, np.ndarray]:
    """A finite loss (about 6) whose gradient dW of the first layer overflows.

    The first layer outputs 1e-300 everywhere (W = 0), the second one's
    weights ±1e300 make logits ±3, and dW = dZᵀ X with X = 1e20 exceeds
    float64.
    """
    model = mlp([4, 3, 2], rng=np.random.default_rng(0))
    first, second = model.layers[0].params, model.layers[2].params
    first["W"][...], first["b"][...] = 0.0, 1e-300
    second["W"][...] = [[1e300] * 3, [-1e300] * 3]
    return model, np.full((8, 4), 1e20), np.tile([0.0, 1.0], (8, 1))


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_a_diverging_fit_leaves_parameters_and_statistics_alone(where) -> None:
    if where == "loss":
        model, X, Y_ = digits_resnet(rng=np.random.default_rng(0)), IMAGES, Y
        _blow_up(model)
    else:
        model, X, Y_ = _overflowing_gradient()
    params = {k: v.copy() for k, v in model.parameters().items()}
    buffers = {k: v.copy() for k, v in model.buffers().items()}
    optimizer = Adam(lr=0.01)
    with pytest.raises(DivergenceError, match=r"^loss became non-finite at step 1"):
        fit(
            model, optimizer, X, Y_, epochs=1, batch_size=4, rng=np.random.default_rng()
        )
    for key, value in params.items():
        np.testing.assert_array_equal(model.parameters()[key], value, err_msg=key)
    for key, value in buffers.items():
        np.testing.assert_array_equal(model.buffers()[key], value, err_msg=key)
    assert (optimizer.t, optimizer.m) == (0, {})


def test_a_non_finite_gradient_is_divergence_in_train_step_too() -> None:
    model, X, Y_ = _overflowing_gradient()
    params = {k: v.copy() for k, v in model.parameters().items()}
    with pytest.raises(DivergenceError, match=r"gradient 0\.W"):
        train_step(model, SGD(), X, Y_)
    for key, value in params.items():
        np.testing.assert_array_equal(model.parameters()[key], value, err_msg=key)


def test_fit_refuses_parameters_that_share_memory() -> None:
    model = mlp([4, 4, 4], rng=np.random.default_rng(0))
    model.layers[2].params["W"] = model.layers[0].params["W"]  # tied weights
    X, Y4 = np.ones((8, 4)), np.eye(4)[[0, 1, 2, 3] * 2]
    with pytest.raises(ValueError, match=r"^model parameters '0\.W' and '2\.W' share"):
        fit(model, SGD(), X, Y4, epochs=1, batch_size=4, rng=np.random.default_rng())
