"""Tests of cnnscratch.batchnorm: finite differences, identities, hand-worked
cases, the running statistics and every bad input the page lists."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import batchnorm_cases

from cnnscratch.batchnorm import (
    batchnorm_backward,
    batchnorm_backward_steps,
    batchnorm_eval_forward,
    batchnorm_forward,
    update_running_stats,
)
from cnnscratch.gradcheck import gradients_match, numerical_gradient, relative_error


def _axes(X: np.ndarray) -> tuple[int, ...]:
    return (0,) if X.ndim == 2 else (0, 2, 3)


def _view(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


@given(case=batchnorm_cases())
@settings(max_examples=20)
def test_training_backward_matches_finite_differences(case: dict) -> None:
    """One check of the whole gradient (X, γ, β): in a constant channel X̂ is
    rounding noise, so dγ there is ~1e-14 against a numerical 0, and only
    the whole vector has a scale to be relative to."""
    X, gamma, beta, dY = case["X"], case["gamma"], case["beta"], case["dY"]
    C = gamma.size

    def L(theta):
        X_ = theta[: X.size].reshape(X.shape)
        g_, b_ = theta[X.size : X.size + C], theta[X.size + C :]
        return np.sum(batchnorm_forward(X_, g_, b_)[0] * dY)

    _, cache = batchnorm_forward(X, gamma, beta)
    analytic = np.concatenate([g.ravel() for g in batchnorm_backward(dY, cache)])
    theta = np.concatenate([X.ravel(), gamma, beta])
    assert gradients_match(analytic, numerical_gradient(L, theta))


@given(case=batchnorm_cases())
@settings(max_examples=20)
def test_compact_backward_equals_the_step_by_step_derivation(case: dict) -> None:
    """Equal up to rounding of the terms they sum: dX can be a cancellation
    (N = 2 leaves little), so the yardstick is the size of those terms."""
    _, cache = batchnorm_forward(case["X"], case["gamma"], case["beta"])
    compact = batchnorm_backward(case["dY"], cache)
    steps = batchnorm_backward_steps(case["dY"], cache)
    terms = np.abs(case["dY"]).max() * np.abs(case["gamma"] * cache.inv_std).max()
    terms *= 1 + np.abs(cache.X_hat).max() ** 2
    np.testing.assert_allclose(compact[0], steps[0], rtol=0, atol=1e-13 * terms)
    for a, b in zip(compact[1:], steps[1:], strict=True):
        np.testing.assert_array_equal(a, b)  # the same two sums


@given(case=batchnorm_cases())
@settings(max_examples=20)
def test_input_gradient_is_orthogonal_to_ones_and_to_x_hat(case: dict) -> None:
    """Y is unchanged by shifting a channel (so Σ dX = 0) and, for ε = 0, by
    scaling it (so Σ dX·X̂ = 0): the two constraints eq. (5.6) projects out."""
    X = case["X"]
    X_spread = X + np.random.default_rng(0).normal(size=X.shape)  # no constant channel
    _, cache = batchnorm_forward(X_spread, case["gamma"], case["beta"], eps=0.0)
    dX, _, _ = batchnorm_backward(case["dY"], cache)
    # zero up to the rounding of the terms (5.6) sums: γ/σ · dY, times M
    M = X.size // X.shape[1]
    terms = np.abs(case["dY"]).max() * np.abs(case["gamma"] * cache.inv_std).max()
    terms *= M * (1 + np.abs(cache.X_hat).max() ** 2)
    assert np.allclose(dX.sum(axis=_axes(X)), 0.0, atol=1e-13 * terms)
    assert np.allclose((dX * cache.X_hat).sum(axis=_axes(X)), 0.0, atol=1e-13 * terms)


def test_constant_channel_normalises_to_beta_and_has_a_finite_gradient() -> None:
    X = np.array([[1.0, 4.0], [3.0, 4.0], [5.0, 4.0]])  # channel 1 is constant
    Y, cache = batchnorm_forward(X, [2.0, 2.0], [0.5, -1.0])
    np.testing.assert_array_equal(Y[:, 1], [-1.0, -1.0, -1.0])  # β alone
    assert cache.var[1] == 0.0
    assert cache.inv_std[1] == pytest.approx(1 / np.sqrt(1e-5))
    dY = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 5.0]])
    dX, _, _ = batchnorm_backward(dY, cache)
    # X̂ = 0 in that channel: dX = γ/σ (dY − mean dY), huge but finite
    expected = 2.0 / np.sqrt(1e-5) * (dY[:, 1] - dY[:, 1].mean())
    np.testing.assert_allclose(dX[:, 1], expected, rtol=1e-12)


def test_forward_matches_a_hand_worked_batch() -> None:
    X = np.array([[1.0], [3.0]])  # μ = 2, σ² = 1
    Y, cache = batchnorm_forward(X, [3.0], [1.0], eps=0.0)
    np.testing.assert_allclose(Y, [[-2.0], [4.0]])  # 3 · (±1) + 1
    np.testing.assert_allclose(cache.mean, [2.0])
    np.testing.assert_allclose(cache.var, [1.0])


def test_feature_maps_are_normalised_over_batch_height_and_width() -> None:
    X = np.random.default_rng(1).normal(3.0, 2.0, size=(3, 2, 4, 5))
    Y, _ = batchnorm_forward(X, np.ones(2), np.zeros(2), eps=0.0)
    for c in range(2):
        values = X[:, c].ravel()
        expected = (values - values.mean()) / values.std()
        np.testing.assert_allclose(Y[:, c].ravel(), expected, rtol=1e-12)


def test_naive_gradient_with_constant_statistics_fails_the_check() -> None:
    rng = np.random.default_rng(2)
    X, dY, gamma = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=3)
    _, cache = batchnorm_forward(X, gamma, np.zeros(3))
    naive = dY * gamma * cache.inv_std  # μ and σ treated as constants
    numeric = numerical_gradient(
        lambda v: np.sum(batchnorm_forward(v, gamma, np.zeros(3))[0] * dY), X
    )
    assert relative_error(naive, numeric) > 0.1
    assert gradients_match(batchnorm_backward(dY, cache)[0], numeric)


def test_eval_mode_is_the_affine_map_of_the_running_statistics() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1, 2, 3, 3))  # a batch of one is fine in eval mode
    gamma, beta = np.array([2.0, -1.0]), np.array([0.5, 0.0])
    mean, var = np.array([1.0, -2.0]), np.array([4.0, 0.25])
    Y, cache = batchnorm_eval_forward(X, gamma, beta, mean, var, eps=1e-3)
    expected = _view(gamma / np.sqrt(var + 1e-3), 4) * (X - _view(mean, 4)) + _view(
        beta, 4
    )
    np.testing.assert_allclose(Y, expected, rtol=1e-12)
    dY = rng.normal(size=X.shape)
    dX, dgamma, dbeta = batchnorm_backward(dY, cache)

    def L(X_, g_, b_):
        return np.sum(batchnorm_eval_forward(X_, g_, b_, mean, var, eps=1e-3)[0] * dY)

    assert gradients_match(dX, numerical_gradient(lambda v: L(v, gamma, beta), X))
    assert gradients_match(dgamma, numerical_gradient(lambda v: L(X, v, beta), gamma))
    assert gradients_match(dbeta, numerical_gradient(lambda v: L(X, gamma, v), beta))


def test_running_statistics_average_the_unbiased_variance() -> None:
    X = np.array([[0.0], [1.0], [2.0], [5.0]])  # μ = 2, biased σ² = 3.5, unbiased 14/3
    _, cache = batchnorm_forward(X, [1.0], [0.0])
    mean, var = update_running_stats([1.0], [2.0], cache, momentum=0.25)
    np.testing.assert_allclose(mean, [0.75 * 1.0 + 0.25 * 2.0])
    np.testing.assert_allclose(var, [0.75 * 2.0 + 0.25 * 14 / 3])
    np.testing.assert_allclose(cache.var, [3.5])  # the forward pass used the biased one


def test_momentum_one_keeps_the_last_batch_and_zero_keeps_the_old_average() -> None:
    _, cache = batchnorm_forward(np.array([[1.0], [3.0]]), [1.0], [0.0])
    assert update_running_stats([9.0], [9.0], cache, momentum=1.0) == (
        pytest.approx([2.0]),
        pytest.approx([2.0]),
    )
    assert update_running_stats([9.0], [9.0], cache, momentum=0.0) == (
        pytest.approx([9.0]),
        pytest.approx([9.0]),
    )


def test_inputs_are_not_modified() -> None:
    rng = np.random.default_rng(4)
    X, gamma, beta, dY = (
        rng.normal(size=(4, 2, 2, 2)),
        rng.normal(size=2),
        rng.normal(size=2),
        rng.normal(size=(4, 2, 2, 2)),
    )
    copies = [a.copy() for a in (X, gamma, beta, dY)]
    _, cache = batchnorm_forward(X, gamma, beta)
    batchnorm_backward(dY, cache)
    running = (np.zeros(2), np.ones(2))
    update_running_stats(*running, cache)
    for a, b in zip((X, gamma, beta, dY), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(running[1], np.ones(2))


# --- bad input: each a ValueError naming the argument -------------------------


@pytest.mark.parametrize(
    ("shape", "what"),
    [((1, 3), r"N = 1"), ((1, 2, 1, 1), r"N·H·W = 1")],
)
def test_training_mode_rejects_one_value_per_channel(shape, what) -> None:
    C = shape[1]
    with pytest.raises(ValueError, match=rf"^X has shape .*{what}"):
        batchnorm_forward(np.ones(shape), np.ones(C), np.zeros(C))


def test_training_mode_accepts_a_single_image_with_several_pixels() -> None:
    Y, _ = batchnorm_forward(np.arange(4.0).reshape(1, 1, 2, 2), [1.0], [0.0])
    assert Y.shape == (1, 1, 2, 2)


@pytest.mark.parametrize("name", ["gamma", "beta"])
def test_affine_parameters_need_one_entry_per_channel(name) -> None:
    args = {"gamma": np.ones(3), "beta": np.zeros(3)}
    args[name] = np.ones(2)
    with pytest.raises(ValueError, match=rf"^{name} has shape \(2,\).*C = 3"):
        batchnorm_forward(np.ones((4, 3)) * np.arange(4)[:, None], **args)


@pytest.mark.parametrize("name", ["running_mean", "running_var"])
def test_running_statistics_of_the_wrong_shape_are_rejected(name) -> None:
    stats = {"running_mean": np.zeros(2), "running_var": np.ones(2)}
    stats[name] = np.ones((2, 1))
    with pytest.raises(ValueError, match=rf"^{name} has shape \(2, 1\)"):
        batchnorm_eval_forward(np.ones((3, 2)), np.ones(2), np.zeros(2), **stats)
    _, cache = batchnorm_forward(np.arange(6.0).reshape(3, 2), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=rf"^{name} has shape \(2, 1\)"):
        update_running_stats(stats["running_mean"], stats["running_var"], cache)


def test_negative_running_variance_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^running_var has a negative entry"):
        batchnorm_eval_forward(np.ones((3, 1)), [1.0], [0.0], [0.0], [-1.0])


@pytest.mark.parametrize("eps", [-1e-5, float("nan"), float("inf"), "0.1", True, None])
def test_eps_must_be_finite_and_not_negative(eps) -> None:
    with pytest.raises(ValueError, match=r"^eps must be"):
        batchnorm_forward(
            np.arange(4.0).reshape(2, 2), np.ones(2), np.zeros(2), eps=eps
        )


def test_eps_zero_is_rejected_for_a_constant_channel_only() -> None:
    X = np.array([[1.0, 2.0], [3.0, 2.0]])
    with pytest.raises(ValueError, match=r"^eps is 0.0 and channel 1 has variance 0"):
        batchnorm_forward(X, np.ones(2), np.zeros(2), eps=0.0)
    Y, _ = batchnorm_forward(X[:, :1], np.ones(1), np.zeros(1), eps=0.0)
    np.testing.assert_array_equal(Y, [[-1.0], [1.0]])


@pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan"), "0.1", None])
def test_momentum_must_lie_in_the_unit_interval(momentum) -> None:
    _, cache = batchnorm_forward(np.arange(4.0).reshape(2, 2), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"^momentum must be a number in"):
        update_running_stats(np.zeros(2), np.ones(2), cache, momentum=momentum)


def test_wrong_input_rank_and_upstream_shape_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"^X has shape \(2, 2, 2\)"):
        batchnorm_forward(np.ones((2, 2, 2)), np.ones(2), np.zeros(2))
    _, cache = batchnorm_forward(np.arange(6.0).reshape(3, 2), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"^dY has shape \(2, 2\)"):
        batchnorm_backward(np.ones((2, 2)), cache)


def test_running_statistics_need_a_training_mode_cache() -> None:
    _, cache = batchnorm_eval_forward(np.ones((1, 1)), [1.0], [0.0], [0.0], [1.0])
    with pytest.raises(ValueError, match=r"^cache is from evaluation mode"):
        update_running_stats([0.0], [1.0], cache)
