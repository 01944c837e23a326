"""Layers composed into a model, and a training loop.

:class:`Sequential` chains layers (:mod:`cnnscratch.layers` holds them all):
``forward`` runs them in order, ``backward`` runs the vector-Jacobian
products in reverse (Part 2, eq. (2.16)). Its :meth:`~Sequential.parameters`
and :meth:`~Sequential.gradients` are flat dicts (``"0.W"``, ``"0.b"``,
``"2.W"``, ...) of the layers' own arrays, which the optimisers update in
place and which ``np.savez(path, **model.parameters())`` saves as they are.
:func:`mlp` (Part 2), :func:`digits_cnn` and :func:`digits_deep_cnn` (Part 4)
build the site's models;
:func:`fit` trains any of them.
"""

from __future__ import annotations

import itertools
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
)
from .init import Init
from .layers import (
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from .losses import softmax_cross_entropy, softmax_cross_entropy_gradient

IntArray = NDArray[np.intp]


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


# --- Models -----------------------------------------------------------------


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
    kinds: dict[str, tuple[type[ReLU | Tanh | Sigmoid], Init]] = {
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


def digits_cnn(*, rng: np.random.Generator, filters: int = 16) -> Sequential:
    """The Part 4 CNN for 8x8 digits: logits for 10 classes.

    conv 3x3 (``filters`` maps, padding 1) → ReLU → max-pool 2x2 → flatten →
    dense to 10 logits. Input (N, 1, 8, 8), output (N, 10).

    Examples
    --------
    >>> model = digits_cnn(rng=np.random.default_rng(0))
    >>> [type(layer).__name__ for layer in model.layers]
    ['Conv2D', 'ReLU', 'MaxPool2D', 'Flatten', 'Dense']
    >>> {name: p.shape for name, p in model.parameters().items()}
    {'0.W': (16, 1, 3, 3), '0.b': (16,), '4.W': (10, 256), '4.b': (10,)}
    """
    filters = check_positive_int("filters", filters)
    return Sequential(
        [
            Conv2D(1, filters, 3, padding=1, rng=rng),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(filters * 4 * 4, 10, rng=rng),
        ]
    )


def digits_deep_cnn(
    *, rng: np.random.Generator, filters: tuple[int, int] = (16, 32)
) -> Sequential:
    """The deeper Part 4 CNN for 8x8 digits: two convolutions, logits for 10 classes.

    conv 3x3 (``filters[0]`` maps, padding 1) → ReLU → conv 3x3
    (``filters[1]`` maps, stride 2, padding 1) → ReLU → max-pool 2x2 →
    flatten → dense to 10 logits. Input (N, 1, 8, 8), maps (N, f0, 8, 8),
    (N, f1, 4, 4), (N, f1, 2, 2), output (N, 10).

    The second convolution consumes the first one's output, so training
    uses its input gradient, the flipped-kernel correlation of Part 3,
    eq. (3.6), with a stride (step 1 of "Where the flip appears").

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the He-normal weights of every layer, in order.
    filters : (int, int)
        Output channels of the two convolutions.

    Returns
    -------
    model : Sequential

    Notes
    -----
    Part 4, "Lab: a CNN on digits"; sized in Part 4, "Sizing a network".

    Examples
    --------
    >>> model = digits_deep_cnn(rng=np.random.default_rng(0))
    >>> [type(layer).__name__ for layer in model.layers]
    ['Conv2D', 'ReLU', 'Conv2D', 'ReLU', 'MaxPool2D', 'Flatten', 'Dense']
    >>> model.forward(np.zeros((5, 1, 8, 8))).shape
    (5, 10)
    >>> {name: p.shape for name, p in model.parameters().items()}["2.W"]
    (32, 16, 3, 3)
    """
    if not (isinstance(filters, tuple) and len(filters) == 2):
        raise ValueError(f"filters is {filters!r}; expected a pair of ints")
    first = check_positive_int("filters[0]", filters[0])
    second = check_positive_int("filters[1]", filters[1])
    return Sequential(
        [
            Conv2D(1, first, 3, padding=1, rng=rng),
            ReLU(),
            Conv2D(first, second, 3, stride=2, padding=1, rng=rng),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(second * 2 * 2, 10, rng=rng),
        ]
    )


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
