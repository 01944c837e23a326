"""Layers composed into a model, initialisation, and a training loop.

A layer is any object with

* ``params`` and ``grads``: dicts name → array with the same keys (empty for
  a layer without parameters); ``grads`` is filled by ``backward``;
* ``forward(X)`` → output, remembering what ``backward`` needs;
* ``backward(dY)`` → dX, the gradient with respect to its input.

:class:`Sequential` chains layers: ``forward`` runs them in order,
``backward`` runs the vector-Jacobian products in reverse (Part 2,
eq. (2.16)). Its :meth:`~Sequential.parameters` and
:meth:`~Sequential.gradients` are flat dicts (``"0.W"``, ``"0.b"``,
``"2.W"``, ...) of the layers' own arrays, which the optimisers update in
place and which ``np.savez(path, **model.parameters())`` saves as they are.
A convolution or pooling layer only has to follow the same protocol.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import (
    FloatArray,
    check_array,
    check_like,
    check_positive_int,
    require_forward,
)
from .activations import (
    relu,
    relu_derivative,
    sigmoid,
    sigmoid_derivative_from_output,
    tanh,
    tanh_derivative_from_output,
)
from .dense import DenseCache, dense_backward, dense_forward
from .losses import softmax_cross_entropy, softmax_cross_entropy_gradient

IntArray = NDArray[np.intp]
Init = Literal["he", "xavier"]


class Layer(Protocol):
    """What :class:`Sequential` needs from a layer."""

    params: dict[str, FloatArray]
    grads: dict[str, FloatArray]

    def forward(self, X: FloatArray) -> FloatArray:
        """Output of the layer; remembers what ``backward`` needs."""
        ...

    def backward(self, dY: FloatArray) -> FloatArray:
        """Gradient with respect to the input; fills ``grads``."""
        ...


class Optimizer(Protocol):
    """What :func:`train_step` needs from an optimiser (see :mod:`.optim`)."""

    def step(
        self, params: Mapping[str, FloatArray], grads: Mapping[str, FloatArray]
    ) -> None:
        """Update ``params`` in place."""
        ...


# --- Initialisation ---------------------------------------------------------


def _fans(shape: Sequence[int]) -> tuple[int, int]:
    if len(shape) < 2:
        raise ValueError(
            f"shape has {len(shape)} axes; expected (n_out, n_in, ...) with at least 2"
        )
    for size in shape:
        check_positive_int("shape entry", size)
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform(shape: Sequence[int], *, rng: np.random.Generator) -> FloatArray:
    """Glorot/Xavier weights: uniform on ±√(6 / (fan_in + fan_out)).

    Their variance 2 / (fan_in + fan_out) keeps the variance of the
    signal (forward) and of the gradient (backward) roughly constant through
    tanh or sigmoid layers.

    Parameters
    ----------
    shape : tuple of int
        ``(n_out, n_in)`` for a dense layer, ``(C_out, C_in, KH, KW)`` for a
        convolution: fan_in = n_in · KH · KW, fan_out = n_out · KH · KW.
    rng : numpy.random.Generator

    Returns
    -------
    W : ndarray, shape ``shape``

    Notes
    -----
    Part 2, eq. (2.17).

    Examples
    --------
    >>> import numpy as np
    >>> W = xavier_uniform((200, 100), rng=np.random.default_rng(0))
    >>> bool(abs(W.var() - 2 / 300) < 5e-4), bool(np.abs(W).max() <= np.sqrt(6 / 300))
    (True, True)
    """
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=tuple(shape))


def he_normal(shape: Sequence[int], *, rng: np.random.Generator) -> FloatArray:
    """He/Kaiming weights: normal with standard deviation √(2 / fan_in).

    ReLU zeroes half of its inputs on average, halving the signal's second
    moment; the factor 2 restores it, layer after layer.

    Parameters
    ----------
    shape : tuple of int
        ``(n_out, n_in)`` or ``(C_out, C_in, KH, KW)``; fan_in = n_in · KH · KW.
    rng : numpy.random.Generator

    Returns
    -------
    W : ndarray, shape ``shape``

    Notes
    -----
    Part 2, eq. (2.18).

    Examples
    --------
    >>> import numpy as np
    >>> W = he_normal((200, 100), rng=np.random.default_rng(0))
    >>> bool(abs(W.std() - np.sqrt(2 / 100)) < 0.005)
    True
    """
    fan_in, _ = _fans(shape)
    return rng.normal(0.0, math.sqrt(2 / fan_in), size=tuple(shape))


_INITIALISERS: dict[str, Callable[..., FloatArray]] = {
    "he": he_normal,
    "xavier": xavier_uniform,
}


# --- Layers -----------------------------------------------------------------


class Dense:
    """Fully connected layer Z = X Wᵀ + b with parameters ``W`` and ``b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output sizes: W has shape (n_out, n_in), b shape (n_out,).
    rng : numpy.random.Generator
        Draws the initial weights; the bias starts at zero.
    init : {"he", "xavier"}
        :func:`he_normal` (for ReLU networks) or :func:`xavier_uniform`.

    Notes
    -----
    Part 2, eqs. (2.1)–(2.4), through :func:`~cnnscratch.dense.dense_forward`
    and :func:`~cnnscratch.dense.dense_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(3, 2, rng=np.random.default_rng(0))
    >>> layer.forward(np.ones((5, 3))).shape
    (5, 2)
    >>> layer.backward(np.ones((5, 2))).shape, layer.grads["W"].shape
    ((5, 3), (2, 3))
    """

    def __init__(
        self, n_in: int, n_out: int, *, rng: np.random.Generator, init: Init = "he"
    ) -> None:
        n_in = check_positive_int("n_in", n_in)
        n_out = check_positive_int("n_out", n_out)
        if init not in _INITIALISERS:
            raise ValueError(f"init is {init!r}; expected 'he' or 'xavier'")
        self.params: dict[str, FloatArray] = {
            "W": _INITIALISERS[init]((n_out, n_in), rng=rng),
            "b": np.zeros(n_out),
        }
        self.grads: dict[str, FloatArray] = {
            name: np.zeros_like(value) for name, value in self.params.items()
        }
        self._cache: DenseCache | None = None

    def forward(self, X: FloatArray) -> FloatArray:
        """Z = X Wᵀ + b, shape (N, n_out), for X of shape (N, n_in)."""
        Z, self._cache = dense_forward(X, self.params["W"], self.params["b"])
        return Z

    def backward(self, dY: FloatArray) -> FloatArray:
        """Fill ``grads`` with dW, db; return dX of shape (N, n_in)."""
        cache = require_forward(self._cache)
        dX, self.grads["W"], self.grads["b"] = dense_backward(dY, cache)
        return dX


class _Elementwise:
    """An activation applied entry by entry: backward is dZ = dA ⊙ σ′(Z)."""

    def __init__(self) -> None:
        self.params: dict[str, FloatArray] = {}
        self.grads: dict[str, FloatArray] = {}
        self._cache: tuple[FloatArray, FloatArray] | None = None  # (Z, A)

    def _function(self, Z: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _derivative(self, Z: FloatArray, A: FloatArray) -> FloatArray:
        raise NotImplementedError

    def forward(self, X: FloatArray) -> FloatArray:
        """A = σ(X), same shape as X."""
        Z = np.asarray(X)
        A = self._function(Z)
        self._cache = (Z, A)
        return A

    def backward(self, dY: FloatArray) -> FloatArray:
        """dX = dY ⊙ σ′(X), same shape as X (Part 2, eq. (2.5))."""
        Z, A = require_forward(self._cache)
        dY_ = check_like("dY", dY, Z.shape, "X")
        return dY_ * self._derivative(Z, A)


class ReLU(_Elementwise):
    """max(X, 0) entry by entry; no parameters (Part 2, eq. (2.7)).

    Examples
    --------
    >>> import numpy as np
    >>> layer = ReLU()
    >>> layer.forward(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    >>> layer.backward(np.array([[5.0, 5.0]]))
    array([[0., 5.]])
    """

    def _function(self, Z: FloatArray) -> FloatArray:
        return relu(Z)

    def _derivative(self, Z: FloatArray, A: FloatArray) -> FloatArray:
        return relu_derivative(Z)


class Tanh(_Elementwise):
    """tanh(X) entry by entry; no parameters (Part 2, eq. (2.6)).

    Examples
    --------
    >>> import numpy as np
    >>> layer = Tanh()
    >>> layer.forward(np.zeros((1, 2)))
    array([[0., 0.]])
    >>> layer.backward(np.ones((1, 2)))
    array([[1., 1.]])
    """

    def _function(self, Z: FloatArray) -> FloatArray:
        return tanh(Z)

    def _derivative(self, Z: FloatArray, A: FloatArray) -> FloatArray:
        return tanh_derivative_from_output(A)


class Sigmoid(_Elementwise):
    """σ(X) entry by entry; no parameters (Part 1, eq. (1.12)).

    Examples
    --------
    >>> import numpy as np
    >>> layer = Sigmoid()
    >>> layer.forward(np.zeros((1, 2)))
    array([[0.5, 0.5]])
    >>> layer.backward(np.ones((1, 2)))
    array([[0.25, 0.25]])
    """

    def _function(self, Z: FloatArray) -> FloatArray:
        return sigmoid(Z)

    def _derivative(self, Z: FloatArray, A: FloatArray) -> FloatArray:
        return sigmoid_derivative_from_output(A)


class Sequential:
    """Layers applied in order; backpropagation applies them in reverse.

    Parameters
    ----------
    layers : sequence of Layer

    Notes
    -----
    Part 2, eqs. (2.15) and (2.16).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> model = Sequential([Dense(4, 3, rng=rng), ReLU(), Dense(3, 2, rng=rng)])
    >>> model.forward(np.ones((5, 4))).shape
    (5, 2)
    >>> {name: p.shape for name, p in model.parameters().items()}
    {'0.W': (3, 4), '0.b': (3,), '2.W': (2, 3), '2.b': (2,)}
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = list(layers)

    def forward(self, X: ArrayLike) -> FloatArray:
        """Run every layer in order; returns the last layer's output."""
        out = np.asarray(X)
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, dY: ArrayLike) -> FloatArray:
        """Backpropagate ∂L/∂(output) through every layer, filling their grads.

        Returns the gradient with respect to the model's input.
        """
        grad = np.asarray(dY)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def parameters(self) -> dict[str, FloatArray]:
        """Flat dict ``"<layer index>.<name>"`` → the layer's own array."""
        return {
            f"{i}.{name}": value
            for i, layer in enumerate(self.layers)
            for name, value in layer.params.items()
        }

    def gradients(self) -> dict[str, FloatArray]:
        """Flat dict with the keys of :meth:`parameters`: the latest gradients."""
        return {
            f"{i}.{name}": value
            for i, layer in enumerate(self.layers)
            for name, value in layer.grads.items()
        }

    def load_parameters(self, arrays: Mapping[str, ArrayLike]) -> None:
        """Copy ``arrays`` (same keys and shapes as :meth:`parameters`) in place.

        ``model.load_parameters(np.load(path))`` restores what
        ``np.savez(path, **model.parameters())`` saved. All or nothing: every
        array is checked before any parameter changes.
        """
        params = self.parameters()
        if set(arrays) != set(params):
            raise ValueError(
                f"arrays has keys {sorted(arrays)}; expected {sorted(params)}"
            )
        checked = {
            name: check_like(name, arrays[name], param.shape, "the model")
            for name, param in params.items()
        }
        for name, param in params.items():
            param[...] = checked[name]


def mlp(
    sizes: Sequence[int],
    *,
    rng: np.random.Generator,
    activation: Literal["relu", "tanh", "sigmoid"] = "relu",
) -> Sequential:
    """A multilayer perceptron: Dense, activation, ..., Dense (logits out).

    ReLU layers get :func:`he_normal` weights, tanh and sigmoid layers
    :func:`xavier_uniform` ones; every bias starts at zero.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_in, hidden_1, ..., n_out]``, at least two sizes.
    rng : numpy.random.Generator
    activation : {"relu", "tanh", "sigmoid"}

    Returns
    -------
    model : Sequential

    Examples
    --------
    >>> import numpy as np
    >>> model = mlp([64, 32, 10], rng=np.random.default_rng(0))
    >>> [type(layer).__name__ for layer in model.layers]
    ['Dense', 'ReLU', 'Dense']
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes has {len(sizes)} entries; expected at least 2")
    kinds: dict[str, tuple[type[_Elementwise], Init]] = {
        "relu": (ReLU, "he"),
        "tanh": (Tanh, "xavier"),
        "sigmoid": (Sigmoid, "xavier"),
    }
    if activation not in kinds:
        raise ValueError(
            f"activation is {activation!r}; expected 'relu', 'tanh' or 'sigmoid'"
        )
    act, init = kinds[activation]
    layers: list[Layer] = []
    for n_in, n_out in itertools.pairwise(sizes):
        if layers:
            layers.append(act())
        layers.append(Dense(n_in, n_out, rng=rng, init=init))
    return Sequential(layers)


# --- Training ---------------------------------------------------------------


def minibatches(
    n_samples: int, batch_size: int, *, rng: np.random.Generator
) -> list[IntArray]:
    """Shuffle ``range(n_samples)`` with ``rng`` and cut it into batches.

    The last batch is smaller when ``batch_size`` does not divide
    ``n_samples``. One call is one epoch's data order.

    Returns
    -------
    batches : list of ndarray of int, each of shape (≤ batch_size,)

    Examples
    --------
    >>> import numpy as np
    >>> [b.size for b in minibatches(10, 4, rng=np.random.default_rng(0))]
    [4, 4, 2]
    """
    n_samples = check_positive_int("n_samples", n_samples)
    batch_size = check_positive_int("batch_size", batch_size)
    order = rng.permutation(n_samples)
    return [order[i : i + batch_size] for i in range(0, n_samples, batch_size)]


def train_step(
    model: Sequential, optimizer: Optimizer, X: ArrayLike, Y: ArrayLike
) -> float:
    """One step of gradient descent on the softmax cross-entropy of a batch.

    Forward to the logits, the fused gradient (P − Y)/N (Part 2,
    eq. (2.14)), backward through every layer, one optimiser update.

    Parameters
    ----------
    model : Sequential
        Its output is the logits, shape (N, K).
    optimizer : SGD or Adam (anything with ``step(params, grads)``)
    X : ndarray, shape (N, ...)
        The batch, in the shape the first layer expects.
    Y : ndarray, shape (N, K)
        One-hot targets.

    Returns
    -------
    loss : float
        The batch loss *before* the update.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnscratch.optim import SGD
    >>> rng = np.random.default_rng(0)
    >>> model = mlp([2, 4, 2], rng=rng)
    >>> X, Y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.eye(2)
    >>> losses = [train_step(model, SGD(lr=0.5), X, Y) for _ in range(50)]
    >>> bool(losses[-1] < losses[0] / 10)
    True
    """
    Z = model.forward(X)
    Y_ = check_array("Y", Y, ("N", "K"), N=(Z.shape[0], "X"), K=(Z.shape[1], "logits"))
    loss = softmax_cross_entropy(Z, Y_)
    model.backward(softmax_cross_entropy_gradient(Z, Y_))
    optimizer.step(model.parameters(), model.gradients())
    return loss


def predict(model: Sequential, X: ArrayLike) -> IntArray:
    """Predicted class of every sample: the index of the largest logit.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (N, ...)

    Returns
    -------
    labels : ndarray of int, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> model = mlp([3, 2], rng=np.random.default_rng(0))
    >>> predict(model, np.zeros((4, 3)))
    array([0, 0, 0, 0])
    """
    labels: IntArray = np.argmax(model.forward(X), axis=1)
    return labels


def accuracy(model: Sequential, X: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of samples whose predicted class equals ``labels``.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (N, ...)
    labels : ndarray of int, shape (N,)

    Returns
    -------
    accuracy : float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> model = mlp([3, 2], rng=np.random.default_rng(0))
    >>> accuracy(model, np.zeros((4, 3)), [0, 0, 1, 1])
    0.5
    """
    predicted = predict(model, X)
    labels_ = np.asarray(labels)
    if labels_.shape != predicted.shape:
        raise ValueError(
            f"labels has shape {labels_.shape}; expected {predicted.shape} to match X"
        )
    return float(np.mean(predicted == labels_))


@dataclass
class History:
    """What :func:`fit` records.

    Attributes
    ----------
    step_loss : list of float
        The batch loss at every step (before that step's update).
    epoch_loss, epoch_accuracy : list of float
        Loss and accuracy on the whole training set after every epoch.
    val_loss, val_accuracy : list of float
        The same on the validation set, when one is given.
    """

    step_loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)


def fit(
    model: Sequential,
    optimizer: Optimizer,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    on_step: Callable[[float], None] | None = None,
) -> History:
    """Train with mini-batches for ``epochs`` passes over (X, Y).

    Each epoch draws a new order from ``rng`` with :func:`minibatches` and
    calls :func:`train_step` on every batch.

    Parameters
    ----------
    model : Sequential
    optimizer : SGD or Adam
    X : ndarray, shape (N, ...)
    Y : ndarray, shape (N, K)
        One-hot targets.
    epochs, batch_size : int
    rng : numpy.random.Generator
        The only source of randomness (the data order).
    validation : (X_val, Y_val), optional
        Evaluated after every epoch.
    on_step : callable, optional
        Called with the batch loss after every step (a progress bar, a log).

    Returns
    -------
    history : History

    Examples
    --------
    >>> import numpy as np
    >>> from cnnscratch.optim import SGD
    >>> rng = np.random.default_rng(0)
    >>> model = mlp([2, 8, 2], rng=rng)
    >>> X = rng.normal(size=(40, 2))
    >>> Y = np.eye(2)[(X[:, 0] > 0).astype(int)]
    >>> history = fit(model, SGD(lr=0.5), X, Y, epochs=20, batch_size=8, rng=rng)
    >>> len(history.step_loss), history.epoch_accuracy[-1] > 0.9
    (100, True)
    """
    X_ = np.asarray(X)
    Y_ = check_array("Y", Y, ("N", "K"), N=(X_.shape[0], "X"))
    epochs = check_positive_int("epochs", epochs)
    history = History()
    for _ in range(epochs):
        for batch in minibatches(X_.shape[0], batch_size, rng=rng):
            loss = train_step(model, optimizer, X_[batch], Y_[batch])
            history.step_loss.append(loss)
            if on_step is not None:
                on_step(loss)
        history.epoch_loss.append(softmax_cross_entropy(model.forward(X_), Y_))
        history.epoch_accuracy.append(accuracy(model, X_, Y_.argmax(axis=1)))
        if validation is not None:
            X_val, Y_val = np.asarray(validation[0]), np.asarray(validation[1])
            history.val_loss.append(softmax_cross_entropy(model.forward(X_val), Y_val))
            history.val_accuracy.append(accuracy(model, X_val, Y_val.argmax(axis=1)))
    return history
