"""One regression test for each case of the boundary-promise issue.

Every public function rejects a bad input with a ValueError naming the
argument, nothing mutates its inputs, and every update is all or nothing.
The fuzz suite (test_fuzz.py) covers every case *like* these; here each
case of the report is pinned with an expected value worked out by hand.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from cnnscratch.activations import sigmoid, softmax
from cnnscratch.checkpoint import load_parameters, read_parameters, save_parameters
from cnnscratch.conv import (
    conv2d_backward,
    conv2d_forward,
    conv2d_forward_loops,
    dilate,
    pad,
)
from cnnscratch.datasets import load_digits, one_hot
from cnnscratch.dense import dense_backward
from cnnscratch.gradcheck import (
    gradients_match,
    numerical_gradient,
    numerical_jacobian,
    relative_error,
)
from cnnscratch.layers import Dense, Flatten, ReLU
from cnnscratch.linear_system import stability_limit
from cnnscratch.losses import softmax_cross_entropy
from cnnscratch.network import Sequential, accuracy, fit, mlp
from cnnscratch.optim import SGD, Adam, adam_update
from cnnscratch.pooling import maxpool2d_backward


def params_of(model: Sequential) -> dict[str, np.ndarray]:
    return {name: p.copy() for name, p in model.parameters().items()}


def assert_same(model: Sequential, before: dict[str, np.ndarray]) -> None:
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(value, before[name])


# --- The proof machinery ---------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1.0, 1e200, 1e300])
def test_relative_error_is_scale_free_at_every_scale(scale: float) -> None:
    # |1 - 2| / max(|1|, |2|) = 1/2 at any scale, by hand
    assert relative_error([scale], [2 * scale]) == 0.5
    assert not gradients_match([scale], [2 * scale])
    assert gradients_match([scale, scale], [scale, scale * (1 + 1e-9)])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: relative_error([np.nan], [1.0]), "a"),
        (lambda: relative_error([1.0], [np.inf]), "b"),
        (lambda: relative_error([1 + 1j], [1.0]), "a"),
        (lambda: gradients_match([1 + 1j], [1.0]), "analytic"),
        (lambda: gradients_match([1.0], [np.nan]), "numeric"),
        (lambda: gradients_match([1.0, 2.0], [1.0]), "analytic"),
        (lambda: numerical_jacobian(np.sin, [1 + 1j]), "x"),
        (lambda: numerical_gradient(np.sum, [np.inf]), "x"),
        (lambda: numerical_jacobian(lambda v: v * 1j, [1.0]), "f(x)"),
        (lambda: numerical_jacobian(lambda v: v / 0.0, [1.0]), "f(x)"),
        (lambda: numerical_jacobian(np.sin, [1e20]), "h"),  # x ± h == x
        (lambda: numerical_jacobian(np.sin, [1.0], order="A"), "order"),
        (lambda: numerical_jacobian(None, [1.0]), "f"),
    ],
)
def test_the_referee_cannot_be_fooled(call, name: str) -> None:
    with (
        np.errstate(all="ignore"),
        pytest.raises(ValueError, match=rf"^{re.escape(name)} "),
    ):
        call()


# --- Silently wrong results ---------------------------------------------------------


@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_forward_loops])
@pytest.mark.parametrize(
    "shapes",
    [
        ((1, 1, 3, 3), (1, 1, 0, 2), (1,)),  # a kernel with no taps
        ((0, 1, 3, 3), (1, 1, 2, 2), (1,)),  # N = 0
        ((1, 1, 3, 3), (0, 1, 2, 2), (0,)),  # C_out = 0
    ],
)
def test_a_zero_size_axis_is_not_a_convolution(forward, shapes) -> None:
    X, W, b = (np.ones(s) for s in shapes)
    with pytest.raises(ValueError, match=r"^(X|W) has shape .*every size >= 1"):
        forward(X, W, b)


def test_softmax_cross_entropy_is_exact_for_the_largest_finite_logits() -> None:
    # logsumexp(1e308, -1e308) = 1e308 exactly, so the loss is 1e308 - 1e308 = 0
    assert softmax_cross_entropy([[1e308, -1e308]], [[1.0, 0.0]]) == 0.0
    # a true loss of 2e308 is beyond float64: inf is its correctly rounded value
    assert softmax_cross_entropy([[1e308, -1e308]], [[0.0, 1.0]]) == np.inf


def test_an_integer_parameter_is_refused_not_truncated() -> None:
    for optimizer in (SGD(lr=0.5), Adam(lr=0.5)):
        params = {"w": np.array([1, 2])}
        with pytest.raises(ValueError, match=r"params\['w'\] has dtype int64"):
            optimizer.step(params, {"w": np.array([1.0, 1.0])})
        assert params["w"].tolist() == [1, 2]


def test_adam_refuses_a_negative_second_moment() -> None:
    with pytest.raises(ValueError, match=r"^v has a negative entry"):
        adam_update([1.0], [1.0], [0.0], [-1.0], 1, lr=0.1)


def test_a_long_double_parameter_file_is_refused(tmp_path: Path) -> None:
    with np.errstate(over="ignore"):  # 1e400: finite in x86 long double
        big = np.full(3, 1e300, np.longdouble) * 1e100
    np.savez(
        tmp_path / "m.npz", **{"0.W": big, "__format__": "cnnscratch-parameters-v1"}
    )
    with pytest.raises(ValueError, match=r"'0\.W' is not a finite float array"):
        read_parameters(tmp_path / "m.npz")


@pytest.mark.parametrize(
    "labels", [[np.nan, 0, 0, 0], [0.5, 0, 0, 0], [-1, 0, 0, 0], ["1", "0", "0", "0"]]
)
def test_accuracy_accepts_only_integer_labels_in_range(labels) -> None:
    model = mlp([3, 2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^labels has"):
        accuracy(model, np.zeros((4, 3)), labels)
    with pytest.raises(ValueError, match=r"expected 0 <= label < n_classes = 2"):
        accuracy(model, np.zeros((4, 3)), [0, 1, 2, 0])


@pytest.mark.parametrize("seed", [None, True, 1.0, "0", -1])
def test_load_digits_needs_an_integer_seed(seed) -> None:
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0"):
        load_digits(seed=seed)


# --- All or nothing -------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1, momentum=0.9), Adam])
@pytest.mark.parametrize("bad", ["read-only", "list"])
def test_a_step_that_cannot_update_one_parameter_updates_none(make, bad) -> None:
    optimizer = make()
    first = np.ones(3)
    params = {"a": first, "b": np.ones(2)}
    optimizer.step(params, {"a": np.ones(3), "b": np.ones(2)})
    state = {
        k: v.copy() if isinstance(v, np.ndarray) else v
        for k, v in vars(optimizer).items()
    }
    before = first.copy()
    if bad == "read-only":
        params["b"].flags.writeable = False
    else:
        params["b"] = [1.0, 1.0]  # type: ignore[assignment]
    with pytest.raises(ValueError, match=r"^params\['b'\]"):
        optimizer.step(params, {"a": np.ones(3), "b": np.ones(2)})
    np.testing.assert_array_equal(first, before)
    assert repr(vars(optimizer)) == repr(state)


def test_loading_into_a_model_with_a_read_only_parameter_loads_nothing(
    tmp_path: Path,
) -> None:
    source = mlp([3, 4, 2], rng=np.random.default_rng(0))
    path = save_parameters(source, tmp_path / "m.npz")
    for load in (
        lambda model: model.load_parameters(source.parameters()),
        lambda model: load_parameters(model, path),
    ):
        target = mlp([3, 4, 2], rng=np.random.default_rng(1))
        target.parameters()["2.b"].flags.writeable = False
        before = params_of(target)
        with pytest.raises(ValueError, match=r"'2\.b' is read-only"):
            load(target)
        assert_same(target, before)


def test_fit_checks_the_validation_set_before_the_first_step() -> None:
    model = mlp([3, 2], rng=np.random.default_rng(0))
    before = params_of(model)
    X, Y = np.zeros((4, 3)), np.eye(2)[[0, 1, 0, 1]]
    with pytest.raises(ValueError, match=r"^validation\[0\] has shape \(4, 5\)"):
        fit(
            model,
            SGD(),
            X,
            Y,
            epochs=1,
            batch_size=2,
            rng=np.random.default_rng(0),
            validation=(np.zeros((4, 5)), Y),
        )
    assert_same(model, before)


def test_a_diverging_fit_restores_the_model_and_the_optimizer() -> None:
    rng = np.random.default_rng(0)
    model = mlp([3, 4, 2], rng=rng)
    optimizer = SGD(lr=1e300)
    before, state = params_of(model), rng.bit_generator.state
    X, Y = rng.normal(size=(8, 3)), np.eye(2)[rng.integers(0, 2, 8)]
    state = rng.bit_generator.state
    with pytest.raises(
        ValueError, match=r"^loss (became non-finite|grew).* at step \d+"
    ):
        fit(model, optimizer, X, Y, epochs=3, batch_size=4, rng=rng)
    assert_same(model, before)
    assert optimizer.velocity == {}
    assert rng.bit_generator.state == state


def test_a_model_with_a_nan_weight_is_not_saved(tmp_path: Path) -> None:
    model = mlp([3, 2], rng=np.random.default_rng(0))
    model.parameters()["0.W"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^model parameter '0\.W' .* non-finite"):
        save_parameters(model, tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


# --- Messages that name the argument the user passed ---------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sigmoid([[0.5, 0.5], [0.5]]), r"^z is not a rectangular array"),
        (lambda: SGD(lr="abc"), r"^lr must be a finite number > 0; got 'abc'"),
        (lambda: SGD(lr=None), r"^lr must be"),
        (lambda: SGD(lr=1j), r"^lr must be"),
        (lambda: SGD(lr=np.array([0.1, 0.2])), r"^lr must be"),
        (lambda: SGD(lr=True), r"^lr must be .* got True"),
        (lambda: SGD(lr="0.1"), r"^lr must be .* got '0.1'"),
        (lambda: conv2d_backward(np.ones((1, 1, 1, 1)), None), r"^cache is None"),
        (
            lambda: dense_backward(
                np.ones((1, 1)),
                conv2d_forward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), [0.0])[1],
            ),
            r"^cache is ConvCache.*expected the DenseCache that dense_forward returns",
        ),
        (
            lambda: maxpool2d_backward(
                np.ones((1, 1, 1, 1)),
                conv2d_forward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), [0.0])[1],
            ),
            r"^cache is ConvCache.*expected the PoolCache",
        ),
        (lambda: mlp([3, 0, 2], rng=np.random.default_rng()), r"^sizes\[1\] must be"),
        (lambda: softmax(np.zeros((2, 0))), r"^Z has shape \(2, 0\)"),
        (
            lambda: Flatten().forward(np.zeros((0, 1, 2, 2))),
            r"^X has shape \(0, 1, 2, 2\)",
        ),
        (lambda: dilate(np.zeros((1, 1, 0, 2)), 2), r"^dY has shape \(1, 1, 0, 2\)"),
        (lambda: pad(np.ones((1, 1, 1, 1)), 2**70), r"^padding asks for"),
        (lambda: Dense(3, 2**70, rng=np.random.default_rng()), r"^n_out asks for"),
        (lambda: one_hot([0], 10**9), r"^n_classes asks for"),
    ],
)
def test_a_bad_input_gets_a_value_error_naming_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_a_layer_names_its_own_arguments() -> None:
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"^dY has shape \(4, 3\); expected \(4, 2\)"):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"^X \(shape \(1,\)\) has a non-finite"):
        ReLU().forward([np.nan])


def test_fit_names_the_training_set_and_the_validation_set() -> None:
    model = mlp([3, 2], rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    Y = np.eye(2)[[0, 1, 0, 1]]
    with pytest.raises(ValueError, match=r"^X has shape \(0, 3\)"):
        fit(model, SGD(), np.zeros((0, 3)), Y[:0], epochs=1, batch_size=2, rng=rng)
    with pytest.raises(ValueError, match=r"^validation\[1\] has shape \(3, 2\)"):
        fit(
            model,
            SGD(),
            np.zeros((4, 3)),
            Y,
            epochs=1,
            batch_size=2,
            rng=rng,
            validation=(np.zeros((4, 3)), Y[:3]),
        )


def test_one_hot_of_many_classes_needs_only_n_times_k_entries() -> None:
    Y = one_hot([0], 10**6)  # 8 MB; the identity matrix would be 7.3 TiB
    assert Y.shape == (1, 10**6)
    assert Y[0, 0] == 1.0
    assert Y.sum() == 1.0


def test_the_stability_limit_of_a_zero_matrix_is_infinite() -> None:
    # F is constant: x never moves, so every step size is stable
    assert stability_limit([[0.0, 0.0]]) == np.inf
    # scaling A by s scales the limit by 1/s^2, exactly for powers of two
    A = np.array([[4.0, 2.0], [3.0, 8.0]])
    limit = stability_limit(A)
    assert stability_limit(A * 2.0**-500) == math.ldexp(limit, 1000)  # 2AᵀA: 1e-301
    assert stability_limit(A * 2.0**500) == math.ldexp(limit, -1000)  # 2AᵀA: 1e301


# --- Parameter files ---------------------------------------------------------


def test_every_malformed_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    from signatures import Ctx, parameter_files

    files = parameter_files(Ctx(tmp_path))
    for kind, path in files.items():
        if kind in ("good", "other architecture"):
            continue
        with pytest.raises(ValueError, match=re.escape(str(path))) as info:
            read_parameters(path)
        message = str(info.value)
        assert "\n" not in message, (kind, message)
        assert type(info.value) is ValueError, kind


def test_save_errors_name_the_path_given(tmp_path: Path) -> None:
    model = mlp([3, 2], rng=np.random.default_rng(0))
    for path in (tmp_path / "absent" / "m.npz", tmp_path / ("x" * 300)):
        with pytest.raises(ValueError, match="^path " + re.escape(str(path))):
            save_parameters(model, path)
    assert list(tmp_path.iterdir()) == []
