"""SGD with momentum and Adam: update rules by hand, classes in place (Part 2)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnscratch.optim import SGD, Adam, adam_update, sgd_momentum_update


def test_sgd_without_momentum_is_plain_gradient_descent() -> None:
    theta, v = sgd_momentum_update([1.0, 2.0], [0.5, -1.0], [0.0, 0.0], lr=0.1)
    np.testing.assert_allclose(theta, [0.95, 2.1])
    np.testing.assert_allclose(v, [0.5, -1.0])


def test_momentum_accumulates_a_constant_gradient_geometrically() -> None:
    theta, v = np.array([0.0]), np.array([0.0])
    for _ in range(3):
        theta, v = sgd_momentum_update(theta, [1.0], v, lr=1.0, momentum=0.5)
    # velocities 1, 1.5, 1.75: θ = −(1 + 1.5 + 1.75)
    np.testing.assert_allclose(v, [1.75])
    np.testing.assert_allclose(theta, [-4.25])


def test_adam_two_steps_match_the_equations_worked_by_hand() -> None:
    g1, g2, lr, b1, b2, eps = 2.0, -1.0, 0.1, 0.9, 0.999, 1e-8
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    theta1 = 1.0 - lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2**2
    theta2 = theta1 - lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps)
    p, m, v = adam_update([1.0], [g1], [0.0], [0.0], 1, lr=lr)
    p, m, v = adam_update(p, [g2], m, v, 2, lr=lr)
    np.testing.assert_allclose(p, [theta2], rtol=1e-14)
    np.testing.assert_allclose(m, [m2], rtol=1e-14)
    np.testing.assert_allclose(v, [v2], rtol=1e-14)


def test_adam_first_step_has_size_lr_whatever_the_gradient_scale() -> None:
    p, _, _ = adam_update(
        np.zeros(3), [1e-4, 1.0, -1e4], np.zeros(3), np.zeros(3), 1, lr=0.01
    )
    np.testing.assert_allclose(p, [-0.01, -0.01, 0.01], rtol=1e-3)


@pytest.mark.parametrize("optimizer", [SGD(lr=0.1, momentum=0.9), Adam(lr=0.1)])
def test_optimizers_update_in_place_and_minimise_a_quadratic(optimizer) -> None:
    target = np.array([[1.0, -2.0], [0.5, 3.0]])
    params = {"W": np.zeros((2, 2)), "b": np.ones(2)}
    W, b = params["W"], params["b"]
    for _ in range(300):
        optimizer.step(params, {"W": 2 * (params["W"] - target), "b": 2 * params["b"]})
    assert params["W"] is W  # the same arrays, updated in place
    assert params["b"] is b
    np.testing.assert_allclose(W, target, atol=1e-2)
    np.testing.assert_allclose(b, 0.0, atol=1e-2)


def test_sgd_class_matches_the_update_function() -> None:
    params, grads = {"w": np.array([1.0, 2.0])}, {"w": np.array([0.3, -0.4])}
    optimizer = SGD(lr=0.5, momentum=0.9)
    theta, v = params["w"].copy(), np.zeros(2)
    for _ in range(3):
        optimizer.step(params, grads)
        theta, v = sgd_momentum_update(theta, grads["w"], v, lr=0.5, momentum=0.9)
    np.testing.assert_array_equal(params["w"], theta)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: SGD(lr=0.0), "lr must be a finite number > 0; got 0.0"),
        (
            lambda: SGD(lr=0.1, momentum=1.0),
            r"momentum must be a finite number in \[0, 1\); got 1.0",
        ),
        (lambda: Adam(beta1=-0.1), r"beta1 must be a finite number in \[0, 1\)"),
        (lambda: Adam(beta2=1.0), r"beta2 must be a finite number in \[0, 1\)"),
        (lambda: Adam(eps=0.0), "eps must be a finite number > 0"),
        (
            lambda: sgd_momentum_update(np.zeros(3), np.zeros(2), np.zeros(3), lr=0.1),
            r"grad has shape \(2,\); expected \(3,\) to match param",
        ),
        (
            lambda: adam_update(
                np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(3), 1, lr=0.1
            ),
            r"v has shape \(3,\); expected \(2,\) to match param",
        ),
        (
            lambda: adam_update(
                np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), 0, lr=0.1
            ),
            "t must be an integer >= 1; got 0",
        ),
        (
            lambda: SGD().step({"w": np.zeros(2)}, {"v": np.zeros(2)}),
            r"grads has keys \['v'\]; expected the keys of params \['w'\]",
        ),
        (
            lambda: Adam().step({"w": np.zeros(2)}, {"w": np.array([np.nan, 0.0])}),
            "grad .* non-finite",
        ),
    ],
)
def test_bad_inputs_raise_a_value_error_naming_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
