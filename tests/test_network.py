"""Dense and activation layers, Sequential and the training loop (Part 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import batch_cases, classification_cases, dense_cases

from cnnscratch.activations import sigmoid_derivative, tanh_derivative
from cnnscratch.gradcheck import gradients_match, numerical_gradient
from cnnscratch.init import he_normal
from cnnscratch.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sigmoid, Tanh
from cnnscratch.losses import softmax_cross_entropy, softmax_cross_entropy_gradient
from cnnscratch.network import (
    Sequential,
    accuracy,
    digits_deep_cnn,
    fit,
    minibatches,
    mlp,
    predict,
    train_step,
)
from cnnscratch.optim import SGD, Adam


def _check_model_gradients(model: Sequential, X: np.ndarray, Y: np.ndarray) -> None:
    """Backprop's gradients of every parameter and of X against finite differences."""
    Z = model.forward(X)
    dX = model.backward(softmax_cross_entropy_gradient(Z, Y))
    grads = {name: g.copy() for name, g in model.gradients().items()}

    for name, param in model.parameters().items():
        original = param.copy()

        def loss(value: np.ndarray, param=param) -> float:
            param[...] = value
            return softmax_cross_entropy(model.forward(X), Y)

        numeric = numerical_gradient(loss, original)
        param[...] = original
        assert gradients_match(grads[name], numeric), name
    numeric_X = numerical_gradient(
        lambda v: softmax_cross_entropy(model.forward(v), Y), X
    )
    assert gradients_match(dX, numeric_X)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@given(case=classification_cases(), n_in=st.integers(1, 4), seed=st.integers(0, 99))
def test_smooth_mlp_backward_matches_finite_differences(
    activation, case, n_in, seed
) -> None:
    rng = np.random.default_rng(seed)
    N, K = case["Y"].shape
    model = mlp([n_in, 3, 4, K], rng=rng, activation=activation)
    _check_model_gradients(model, rng.standard_normal((N, n_in)), case["Y"])


@pytest.mark.parametrize("N", [1, 7])
def test_relu_mlp_backward_matches_finite_differences(N) -> None:
    rng = np.random.default_rng(N)
    model = mlp([5, 6, 4, 3], rng=rng)
    # random normal inputs put no pre-activation within h of ReLU's kink here
    _check_model_gradients(
        model, rng.standard_normal((N, 5)), np.eye(3)[rng.integers(0, 3, N)]
    )


@given(case=dense_cases())
def test_dense_layer_forward_and_backward_use_its_params(case) -> None:
    layer = Dense(*case["W"].shape[::-1], rng=np.random.default_rng(0))
    layer.params["W"][...] = case["W"]
    layer.params["b"][...] = case["b"]
    Z = layer.forward(case["X"])
    np.testing.assert_allclose(Z, case["X"] @ case["W"].T + case["b"], atol=1e-12)
    dX = layer.backward(case["dZ"])
    np.testing.assert_allclose(dX, case["dZ"] @ case["W"], atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], case["dZ"].T @ case["X"], atol=1e-12)


@pytest.mark.parametrize(
    "layer", [ReLU(), Tanh(), Sigmoid()], ids=["relu", "tanh", "sigmoid"]
)
@given(case=batch_cases())
def test_activation_layer_backward_matches_finite_differences(layer, case) -> None:
    X, dY = case["Z"] + np.sign(case["Z"]) * 1e-3, case["dZ"]  # away from ReLU's kink
    layer.forward(X)
    numeric = numerical_gradient(lambda v: np.sum(dY * layer.forward(v)), X)
    layer.forward(X)
    assert gradients_match(layer.backward(dY), numeric)


@pytest.mark.parametrize(
    ("layer", "derivative"),
    [(Tanh(), tanh_derivative), (Sigmoid(), sigmoid_derivative)],
    ids=["tanh", "sigmoid"],
)
@given(case=batch_cases())
def test_activation_layer_backward_equals_the_activations_derivative(
    layer, derivative, case
) -> None:
    layer.forward(case["Z"])  # backward reuses the stored output
    np.testing.assert_array_equal(
        layer.backward(case["dZ"]), case["dZ"] * derivative(case["Z"])
    )


def test_he_keeps_the_signal_scale_through_deep_relu_stacks() -> None:
    rng = np.random.default_rng(0)
    model = mlp([256] * 11, rng=rng)
    X = rng.standard_normal((200, 256))
    ratio = np.mean(model.forward(X) ** 2) / np.mean(X**2)
    assert 0.3 < ratio < 3  # a 0.5 or 2 gain per layer would give 1e-3 or 1e3


def test_initialisation_is_reproducible_from_the_rng() -> None:
    first = mlp([4, 3, 2], rng=np.random.default_rng(5)).parameters()
    second = mlp([4, 3, 2], rng=np.random.default_rng(5)).parameters()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_parameters_are_the_layers_own_arrays_with_flat_names() -> None:
    model = mlp([4, 3, 2], rng=np.random.default_rng(0))
    params = model.parameters()
    assert list(params) == ["0.W", "0.b", "2.W", "2.b"]
    assert params["2.W"] is model.layers[2].params["W"]
    assert list(model.gradients()) == list(params)


def test_parameters_round_trip_through_an_npz_file(tmp_path) -> None:
    model = mlp([4, 3, 2], rng=np.random.default_rng(0))
    np.savez(tmp_path / "model.npz", **model.parameters())
    other = mlp([4, 3, 2], rng=np.random.default_rng(1))
    with np.load(tmp_path / "model.npz") as saved:
        other.load_parameters(saved)
    X = np.random.default_rng(2).standard_normal((5, 4))
    np.testing.assert_array_equal(other.forward(X), model.forward(X))


def test_minibatches_visit_every_sample_once_per_epoch() -> None:
    batches = minibatches(23, 5, rng=np.random.default_rng(0))
    assert [b.size for b in batches] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(23))


def test_train_step_returns_the_loss_before_the_update() -> None:
    rng = np.random.default_rng(0)
    model = mlp([3, 4, 2], rng=rng)
    X, Y = rng.standard_normal((6, 3)), np.eye(2)[rng.integers(0, 2, 6)]
    before = softmax_cross_entropy(model.forward(X), Y)
    assert train_step(model, SGD(lr=0.1), X, Y) == before
    assert softmax_cross_entropy(model.forward(X), Y) < before


def test_fit_learns_a_separable_problem_and_is_reproducible() -> None:
    def run() -> tuple[list[float], float]:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((60, 2))
        Y = np.eye(2)[(X.sum(axis=1) > 0).astype(int)]
        model = mlp([2, 8, 2], rng=rng)
        history = fit(
            model,
            SGD(lr=0.3, momentum=0.5),
            X,
            Y,
            epochs=15,
            batch_size=10,
            rng=rng,
            validation=(X, Y),
        )
        assert history.val_accuracy == history.epoch_accuracy
        return history.step_loss, accuracy(model, X, Y.argmax(axis=1))

    losses, acc = run()
    assert len(losses) == 15 * 6
    assert acc > 0.95
    assert run()[0] == losses


def test_fit_without_evaluating_the_training_set_takes_the_same_steps() -> None:
    def run(evaluate_training: bool) -> tuple[Sequential, object]:
        rng = np.random.default_rng(3)
        X = rng.standard_normal((30, 1, 4, 4))
        Y = np.eye(10)[rng.integers(0, 10, 30)]
        model = Sequential(
            [
                Conv2D(1, 2, 3, padding=1, rng=rng),
                ReLU(),
                MaxPool2D(2),
                Flatten(),
                Dense(8, 10, rng=rng),
            ]
        )
        history = fit(
            model,
            Adam(lr=0.01),
            X,
            Y,
            epochs=3,
            batch_size=8,
            rng=rng,
            validation=(X[:5], Y[:5]),
            evaluate_training=evaluate_training,
        )
        return model, history

    full, with_eval = run(True)
    lean, without = run(False)
    assert without.step_loss == with_eval.step_loss
    assert len(without.step_loss) == 3 * 4
    assert without.val_loss == with_eval.val_loss
    assert (without.epoch_loss, without.epoch_accuracy) == ([], [])
    assert len(with_eval.epoch_loss) == 3
    for name, value in full.parameters().items():
        np.testing.assert_array_equal(lean.parameters()[name], value)


def test_predict_returns_the_index_of_the_largest_logit() -> None:
    model = Sequential([Dense(2, 2, rng=np.random.default_rng(0))])
    model.layers[0].params["W"][...] = np.eye(2)
    np.testing.assert_array_equal(predict(model, [[1.0, 2.0], [3.0, -1.0]]), [1, 0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: Dense(0, 3, rng=np.random.default_rng()),
            "n_in must be an integer >= 1",
        ),
        (
            lambda: Dense(2, 3, rng=np.random.default_rng(), init="zeros"),
            "init is 'zeros'; expected 'he' or 'xavier'",
        ),
        (
            lambda: Dense(2, 3, rng=np.random.default_rng()).backward(np.zeros((1, 3))),
            "forward first",
        ),
        (lambda: ReLU().backward(np.zeros((1, 3))), "forward first"),
        (
            lambda: Dense(2, 3, rng=np.random.default_rng()).forward(np.zeros((4, 5))),
            r"X has shape \(4, 5\); expected \(N, n_in\) with n_in = 2 to match W",
        ),
        (
            lambda: mlp([3], rng=np.random.default_rng()),
            "sizes has 1 entries; expected at least 2",
        ),
        (
            lambda: mlp([3, 2], rng=np.random.default_rng(), activation="gelu"),
            "activation is 'gelu'",
        ),
        (lambda: he_normal((3,), rng=np.random.default_rng()), "shape has 1 axes"),
        (
            lambda: minibatches(10, 0, rng=np.random.default_rng()),
            "batch_size must be an integer >= 1",
        ),
        (
            lambda: mlp([3, 2], rng=np.random.default_rng()).load_parameters(
                {"0.W": np.zeros((2, 3))}
            ),
            r"arrays has keys \['0.W'\]; expected \['0.W', '0.b'\]",
        ),
        (
            lambda: mlp([3, 2], rng=np.random.default_rng()).load_parameters(
                {"0.W": np.zeros((3, 2)), "0.b": np.zeros(2)}
            ),
            r"arrays\['0.W'\] has shape \(3, 2\); expected \(2, 3\)",
        ),
        (
            lambda: train_step(
                mlp([3, 2], rng=np.random.default_rng()),
                SGD(),
                np.zeros((4, 3)),
                np.zeros((4, 5)),
            ),
            r"Y has shape \(4, 5\); expected \(N, K\) with K = 2 to match logits",
        ),
        (
            lambda: accuracy(
                mlp([3, 2], rng=np.random.default_rng()), np.zeros((4, 3)), [0, 1]
            ),
            r"labels has shape \(2,\); expected \(4,\) to match X",
        ),
        (
            lambda: fit(
                mlp([3, 2], rng=np.random.default_rng()),
                SGD(),
                np.zeros((4, 3)),
                np.zeros((5, 2)),
                epochs=1,
                batch_size=2,
                rng=np.random.default_rng(),
            ),
            r"Y has shape \(5, 2\); expected \(N, K\) with N = 4 to match X",
        ),
    ],
)
def test_bad_inputs_raise_a_value_error_naming_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_fit_reports_every_step_loss_to_on_step() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((10, 3)), np.eye(2)[rng.integers(0, 2, 10)]
    seen: list[float] = []
    history = fit(
        mlp([3, 2], rng=rng),
        SGD(),
        X,
        Y,
        epochs=2,
        batch_size=4,
        rng=rng,
        on_step=seen.append,
    )
    assert seen == history.step_loss
    assert len(seen) == 6


def test_deep_cnn_backward_matches_finite_differences_through_both_convolutions() -> (
    None
):
    # The first convolution's gradients pass through the second one's input
    # gradient (strided, eq. (3.6)); dX checks the first one's too.
    rng = np.random.default_rng(3)
    model = digits_deep_cnn(rng=rng, filters=(2, 3))
    _check_model_gradients(model, rng.standard_normal((2, 1, 8, 8)), np.eye(10)[[4, 7]])


def test_deep_cnn_is_reproducible_and_rejects_bad_filters() -> None:
    a = digits_deep_cnn(rng=np.random.default_rng(0)).parameters()
    b = digits_deep_cnn(rng=np.random.default_rng(0)).parameters()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="filters"):
        digits_deep_cnn(rng=np.random.default_rng(0), filters=(16, 0))
    with pytest.raises(ValueError, match="filters"):
        digits_deep_cnn(rng=np.random.default_rng(0), filters=16)  # type: ignore[arg-type]


@pytest.mark.parametrize("builder", ["digits_cnn", "digits_deep_cnn", "mlp"])
def test_training_backward_fills_the_same_grads_without_the_input_gradient(
    builder: str,
) -> None:
    """A training step skips the first layer's dX; every gradient is unchanged."""
    import cnnscratch.network as network

    rng = np.random.default_rng(4)
    if builder == "mlp":
        model, X = network.mlp([64, 8, 10], rng=rng), rng.normal(size=(5, 64))
    else:
        model = getattr(network, builder)(rng=rng)
        X = rng.normal(size=(5, 1, 8, 8))
    dZ = rng.normal(size=(5, 10))
    model.train().forward(X)
    model.backward(dZ)
    full = {name: grad.copy() for name, grad in model.gradients().items()}
    for grad in model.gradients().values():
        grad[...] = np.nan  # stale values must all be overwritten
    model._backward_parameters(dZ)
    assert model.gradients().keys() == full.keys()
    for name, grad in model.gradients().items():
        np.testing.assert_array_equal(grad, full[name], err_msg=name)
