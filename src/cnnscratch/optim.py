"""Optimisers: SGD with momentum and Adam.

Each update rule is a plain function of arrays (one function per equation),
and a small class keeps the per-parameter state (velocity, moments, step
count) between steps. The classes update a model's parameters **in place**,
given two dicts with the same keys, name → parameter and name → gradient,
as :meth:`cnnscratch.network.Sequential.parameters` and
:meth:`~cnnscratch.network.Sequential.gradients` return them.

Both follow PyTorch's definitions (``torch.optim.SGD`` with ``dampening=0``
and ``nesterov=False``, ``torch.optim.Adam`` without weight decay), so the
two can be compared step by step.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from ._validate import (
    FloatArray,
    NonFiniteError,
    check_any_shape,
    check_like,
    check_parameter,
    check_positive,
    check_positive_int,
    check_real,
)

Params = Mapping[str, FloatArray]


def _like(name: str, value: ArrayLike, like: FloatArray) -> FloatArray:
    return check_like(name, value, like.shape, "param")


def _fraction(name: str, value: float) -> float:
    return check_real(name, value, 0.0, 1.0, high_open=True)


def _finite_update(name: str, *arrays: FloatArray) -> None:
    """Refuse an update whose result overflowed (a learning rate too large)."""
    for array in arrays:
        if not np.isfinite(array).all():
            raise NonFiniteError(
                f"lr: the update of {name} overflows float64; expected a "
                "smaller learning rate or smaller gradients"
            )


def sgd_momentum_update(
    param: ArrayLike,
    grad: ArrayLike,
    velocity: ArrayLike,
    *,
    lr: float,
    momentum: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """One step of SGD with momentum: v ← μ v + g, θ ← θ − η v.

    With μ = 0 this is plain gradient descent, θ ← θ − η g.

    Parameters
    ----------
    param : ndarray, any shape
        θ, the parameter.
    grad : ndarray, same shape as param
        g, the gradient of the loss with respect to θ.
    velocity : ndarray, same shape as param
        v from the previous step (zeros before the first).
    lr : float
        η > 0, the learning rate.
    momentum : float
        μ in [0, 1).

    Returns
    -------
    param : ndarray, same shape
        The updated θ (a new array).
    velocity : ndarray, same shape
        The updated v.

    Notes
    -----
    Part 2, eq. (2.19).

    Examples
    --------
    >>> sgd_momentum_update([1.0], [2.0], [1.0], lr=0.1, momentum=0.5)
    (array([0.75]), array([2.5]))
    """
    param_ = check_any_shape("param", param)
    grad_ = _like("grad", grad, param_)
    velocity_ = _like("velocity", velocity, param_)
    lr = check_positive("lr", lr)
    momentum = _fraction("momentum", momentum)
    return _sgd_step(param_, grad_, velocity_, lr, momentum)


def _sgd_step(
    param: FloatArray,
    grad: FloatArray,
    velocity: FloatArray,
    lr: float,
    momentum: float,
) -> tuple[FloatArray, FloatArray]:
    """Eq. (2.19) on checked arrays: what :func:`sgd_momentum_update` and SGD share."""
    with np.errstate(over="ignore", invalid="ignore"):
        velocity_ = momentum * velocity + grad
        new = param - lr * velocity_
    _finite_update("param", new, velocity_)
    return new, velocity_


def adam_update(
    param: ArrayLike,
    grad: ArrayLike,
    m: ArrayLike,
    v: ArrayLike,
    t: int,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One step of Adam.

    m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g², then with the bias
    corrections m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ),
    θ ← θ − η m̂ / (√v̂ + ε).

    Parameters
    ----------
    param : ndarray, any shape
        θ.
    grad : ndarray, same shape as param
        g.
    m, v : ndarray, same shape as param
        First and second moment estimates from the previous step (zeros
        before the first).
    t : int
        The step number, starting at 1.
    lr : float
        η > 0.
    beta1, beta2 : float
        Decay rates in [0, 1).
    eps : float
        ε > 0, keeps the division finite.

    Returns
    -------
    param, m, v : ndarray, same shape as param
        The updated θ, m and v.

    Notes
    -----
    Part 2, eq. (2.20).

    Examples
    --------
    The first step moves every entry by about η, whatever the gradient's size:

    >>> p, m, v = adam_update([1.0, 1.0], [100.0, -0.01], [0, 0], [0, 0], 1, lr=0.1)
    >>> p
    array([0.9, 1.1])
    """
    param_ = check_any_shape("param", param)
    grad_ = _like("grad", grad, param_)
    m_ = _like("m", m, param_)
    v_ = _like("v", v, param_)
    if np.any(v_ < 0):
        raise ValueError(
            "v has a negative entry; expected second-moment estimates >= 0 "
            "(averages of squared gradients)"
        )
    t = check_positive_int("t", t)
    lr = check_positive("lr", lr)
    beta1 = _fraction("beta1", beta1)
    beta2 = _fraction("beta2", beta2)
    eps = check_positive("eps", eps)
    return _adam_step(param_, grad_, m_, v_, t, lr, beta1, beta2, eps)


def _adam_step(
    param: FloatArray,
    grad: FloatArray,
    m: FloatArray,
    v: FloatArray,
    t: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Eq. (2.20) on checked arrays: what :func:`adam_update` and Adam share."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        m_ = beta1 * m + (1 - beta1) * grad
        v_ = beta2 * v + (1 - beta2) * grad**2
        m_hat = m_ / (1 - beta1**t)
        v_hat = v_ / (1 - beta2**t)
        new = param - lr * m_hat / (np.sqrt(v_hat) + eps)
    _finite_update("param", new, m_, v_)
    return new, m_, v_


def _check_step_arguments(params: Params, grads: Params) -> None:
    """Both dicts, the same keys, and every parameter updatable in place.

    Checked before any update is computed, so that a step either updates
    every parameter or none.
    """
    for name, value in (("params", params), ("grads", grads)):
        if not isinstance(value, Mapping):
            raise ValueError(
                f"{name} is a {type(value).__name__}; expected a dict of name -> array"
            )
    if set(params) != set(grads):
        raise ValueError(
            f"grads has keys {sorted(grads, key=str)}; expected the keys of "
            f"params {sorted(params, key=str)}"
        )
    arrays = [
        check_parameter(f"params[{name!r}]", value) for name, value in params.items()
    ]
    for i, a in enumerate(arrays):
        for b in arrays[:i]:
            if np.may_share_memory(a, b):
                raise ValueError(
                    "params holds two views of the same memory; expected one "
                    "array per parameter"
                )


def _checked_grads(params: Params, grads: Params) -> dict[str, FloatArray]:
    """Every gradient checked against its parameter (same keys, checked)."""
    checked = {}
    for name, param in params.items():
        try:
            checked[name] = _like("grad", grads[name], param)
        except ValueError as error:
            raise _report(name, error) from None
    return checked


def _report(name: str, error: ValueError) -> ValueError:
    """``error`` with the parameter's key in front, of the same class."""
    return type(error)(f"params[{name!r}]: {error}")


class SGD:
    """Stochastic gradient descent with momentum (eq. (2.19)), in place.

    Parameters
    ----------
    lr : float
        Learning rate η > 0.
    momentum : float
        μ in [0, 1); 0 gives plain SGD.

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0])}
    >>> SGD(lr=0.1).step(params, {"w": np.array([2.0])})
    >>> params["w"]
    array([0.8])
    """

    def __init__(self, lr: float = 0.1, momentum: float = 0.0) -> None:
        self.lr = check_positive("lr", lr)
        self.momentum = _fraction("momentum", momentum)
        self.velocity: dict[str, FloatArray] = {}

    def step(self, params: Params, grads: Params) -> None:
        """Update every array in ``params`` in place from ``grads`` (same keys).

        All or nothing: every update is computed (and its inputs checked)
        before any parameter or velocity changes.

        Raises
        ------
        ValueError
            If the keys differ, a parameter is not a writeable float32/float64
            array, a gradient does not fit its parameter, or an update
            overflows; nothing has changed then.
        """
        _check_step_arguments(params, grads)
        self._step(params, _checked_grads(params, grads))

    def _step(self, params: Params, grads: Mapping[str, FloatArray]) -> None:
        """:meth:`step` of checked arguments (the training loop's)."""
        updates = {}
        for name, param in params.items():
            try:
                updates[name] = _sgd_step(  # hyper-parameters checked in __init__
                    param,
                    grads[name],
                    self.velocity[name]
                    if name in self.velocity
                    else np.zeros_like(param),
                    self.lr,
                    self.momentum,
                )
            except ValueError as error:
                raise _report(name, error) from None
        for name, (new, velocity) in updates.items():
            params[name][...] = new
            self.velocity[name] = velocity


class Adam:
    """Adam (eq. (2.20)), in place, with PyTorch's default hyper-parameters.

    Parameters
    ----------
    lr : float
        η > 0.
    beta1, beta2 : float
        Moment decay rates in [0, 1).
    eps : float
        ε > 0.

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0, 1.0])}
    >>> Adam(lr=0.01).step(params, {"w": np.array([3.0, -0.5])})
    >>> params["w"]
    array([0.99, 1.01])
    """

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        self.lr = check_positive("lr", lr)
        self.beta1 = _fraction("beta1", beta1)
        self.beta2 = _fraction("beta2", beta2)
        self.eps = check_positive("eps", eps)
        self.t = 0
        self.m: dict[str, FloatArray] = {}
        self.v: dict[str, FloatArray] = {}

    def step(self, params: Params, grads: Params) -> None:
        """Update every array in ``params`` in place from ``grads`` (same keys).

        All or nothing: every update is computed (and its inputs checked)
        before any parameter, moment or the step count changes.

        Raises
        ------
        ValueError
            As :meth:`SGD.step`; nothing has changed then.
        """
        _check_step_arguments(params, grads)
        self._step(params, _checked_grads(params, grads))

    def _step(self, params: Params, grads: Mapping[str, FloatArray]) -> None:
        """:meth:`step` of checked arguments (the training loop's)."""
        t = self.t + 1
        updates = {}
        for name, param in params.items():
            try:
                # The moments are the optimiser's own arrays and the
                # hyper-parameters were checked once, in __init__: only the
                # gradient is new on every step.
                updates[name] = _adam_step(
                    param,
                    grads[name],
                    self.m[name] if name in self.m else np.zeros_like(param),
                    self.v[name] if name in self.v else np.zeros_like(param),
                    t,
                    self.lr,
                    self.beta1,
                    self.beta2,
                    self.eps,
                )
            except ValueError as error:
                raise _report(name, error) from None
        for name, (new, m, v) in updates.items():
            params[name][...] = new
            self.m[name], self.v[name] = m, v
        self.t = t
