"""Layers composed into a model, and a training loop.

:class:`Sequential` chains layers (:mod:`cnnscratch.layers` holds them all):
``forward`` runs them in order, ``backward`` runs the vector-Jacobian
products in reverse (Part 2, eq. (2.16)). Its :meth:`~Sequential.parameters`
and :meth:`~Sequential.gradients` are flat dicts (``"0.W"``, ``"0.b"``,
``"2.W"``, ...) of the layers' own arrays, which the optimisers update in
place and which ``np.savez(path, **model.parameters())`` saves as they are.
:func:`mlp` (Part 2), :func:`digits_cnn` and :func:`digits_deep_cnn` (Part 4)
and :func:`digits_resnet` (Part 5) build the site's models;
:func:`fit` trains any of them.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import (
    FloatArray,
    NonFiniteError,
    check_any_shape,
    check_array,
    check_bool,
    check_callable,
    check_choice,
    check_entries,
    check_int,
    check_labels,
    check_like,
    check_parameter,
    check_positive_int,
    check_rng,
)
from .init import Init
from .layers import (
    BatchNorm2D,
    Conv2D,
    Dense,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
    Residual,
    Sigmoid,
    Tanh,
    _backward_all,
    _flat,
    _forward_all,
    set_training,
)
from .losses import (
    _check_targets,
    _softmax_cross_entropy,
    _softmax_cross_entropy_gradient,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)
from .optim import SGD, Adam

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
        if not isinstance(layers, Sequence) or isinstance(layers, str):
            raise ValueError(
                f"layers is a {type(layers).__name__}; expected a list of layers"
            )
        for i, layer in enumerate(layers):
            missing = [
                attribute
                for attribute in ("params", "grads", "forward", "backward")
                if not hasattr(layer, attribute)
            ]
            if missing:
                raise ValueError(
                    f"layers[{i}] is a {type(layer).__name__} without "
                    f"{', '.join(missing)}; expected a layer (see cnnscratch.layers)"
                )
        self.layers = list(layers)

    def forward(self, X: ArrayLike) -> FloatArray:
        """Run every layer in order; returns the last layer's output.

        All or nothing: if a layer rejects what reaches it, the running
        statistics of the batch norms before it are restored.
        """
        out = check_any_shape("X", X)
        buffers = self.buffers()
        saved = {name: value.copy() for name, value in buffers.items()}
        try:
            for layer in self.layers:
                out = layer.forward(out)
        except Exception:
            for name, value in buffers.items():
                value[...] = saved[name]
            raise
        return out

    def backward(self, dY: ArrayLike) -> FloatArray:
        """Backpropagate ∂L/∂(output) through every layer, filling their grads.

        Returns the gradient with respect to the model's input.
        """
        grad = check_any_shape("dY", dY)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def _backward_parameters(self, dY: FloatArray) -> None:
        """Fill every layer's grads; the first skips its dX when it can.

        Training never uses the gradient with respect to the images, so a
        first layer with ``_backward_parameters`` (a convolution) is asked
        for its weight gradients alone, as autograd skips inputs that do
        not require a gradient.
        """
        grad = check_any_shape("dY", dY)
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and hasattr(layer, "_backward_parameters"):
                layer._backward_parameters(grad)
            else:
                grad = layer.backward(grad)

    def parameters(self) -> dict[str, FloatArray]:
        """Flat dict ``"<layer index>.<name>"`` → the layer's own array."""
        return _flat(self.layers, "params")

    def buffers(self) -> dict[str, FloatArray]:
        """Flat dict ``"<layer index>.<name>"`` → state that is not trained.

        The running statistics of batch-norm layers (``"1.running_mean"``,
        ...): the layers' own arrays, updated in place by forward passes in
        training mode and saved beside the parameters. Empty for a model
        without batch norm.
        """
        return _flat(self.layers, "buffers")

    def load_buffers(self, arrays: Mapping[str, ArrayLike]) -> None:
        """Copy ``arrays`` (same keys and shapes as :meth:`buffers`) in place.

        All or nothing, as :meth:`load_parameters`.
        """
        _load_into(self.buffers(), arrays, "buffer")

    def train(self, mode: bool = True) -> Sequential:
        """Training mode (``mode=True``) or evaluation mode for every layer.

        Only layers with a ``training`` flag (batch norm, residual blocks
        holding it) behave differently: in training mode they normalise
        with the batch's statistics and update their running ones, in
        evaluation mode they use the running ones. Returns the model.
        ``mode`` is ``True`` or ``False``.
        """
        set_training(self.layers, check_bool("mode", mode))
        return self

    def eval(self) -> Sequential:
        """Evaluation mode: ``train(False)``. Returns the model."""
        return self.train(False)

    def gradients(self) -> dict[str, FloatArray]:
        """Flat dict with the keys of :meth:`parameters`: the latest gradients."""
        return _flat(self.layers, "grads")

    def load_parameters(self, arrays: Mapping[str, ArrayLike]) -> None:
        """Copy ``arrays`` (same keys and shapes as :meth:`parameters`) in place.

        ``model.load_parameters(np.load(path))`` restores what
        ``np.savez(path, **model.parameters())`` saved. All or nothing: every
        array is checked before any parameter changes.
        """
        _load_into(self.parameters(), arrays, "parameter")


def _load_into(
    targets: dict[str, FloatArray], arrays: Mapping[str, ArrayLike], kind: str
) -> None:
    """Copy ``arrays`` into ``targets`` (the same keys and shapes), all or nothing.

    Every array is checked, and every target found writable, before any
    target changes. ``kind`` ("parameter", "buffer") names the targets.
    """
    if not isinstance(arrays, Mapping):
        raise ValueError(
            f"arrays is a {type(arrays).__name__}; expected a dict of name -> array"
        )
    if set(arrays) != set(targets):
        raise ValueError(
            f"arrays has keys {sorted(arrays, key=str)}; expected {sorted(targets)}"
        )
    checked = {
        name: check_like(f"arrays[{name!r}]", arrays[name], value.shape, "the model")
        for name, value in targets.items()
    }
    for name, value in targets.items():  # every array writable before any write
        check_parameter(f"model {kind} {name!r}", value)
    for name, value in targets.items():
        value[...] = checked[name]


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
    if not isinstance(sizes, Sequence | np.ndarray) or isinstance(sizes, str):
        raise ValueError(f"sizes is {sizes!r}; expected a list of layer sizes")
    if len(sizes) < 2:
        raise ValueError(f"sizes has {len(sizes)} entries; expected at least 2")
    sizes = [check_positive_int(f"sizes[{i}]", n) for i, n in enumerate(sizes)]
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        check_entries(f"sizes[{i + 1}]", (n_out, n_in))
    check_rng("rng", rng)
    kinds: dict[str, tuple[type[ReLU | Tanh | Sigmoid], Init]] = {
        "relu": (ReLU, "he"),
        "tanh": (Tanh, "xavier"),
        "sigmoid": (Sigmoid, "xavier"),
    }
    check_choice("activation", activation, ("relu", "tanh", "sigmoid"))
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
    check_entries("filters", (10, filters * 4 * 4))
    check_rng("rng", rng)
    return Sequential(
        [
            Conv2D(1, filters, 3, padding=1, rng=rng),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(filters * 4 * 4, 10, rng=rng),
        ]
    )


def digits_resnet(*, rng: np.random.Generator, channels: int = 8) -> Sequential:
    """The Part 5 network for 8x8 digits: conv–BN–ReLU, a residual block, GAP.

    Two conv 3x3 (padding 1) → batch norm → ReLU blocks with ``channels``
    maps at 8x8; a residual block that halves the size and doubles the
    channels (conv 3x3 stride 2 → BN → ReLU → conv 3x3 → BN, plus a
    projection shortcut: conv 1x1 stride 2 → BN), then ReLU; global average
    pooling; dense to 10 logits. Input (N, 1, H, W) for any H, W >= 1
    (trained on 8x8), output (N, 10).

    Examples
    --------
    >>> model = digits_resnet(rng=np.random.default_rng(0))
    >>> [type(layer).__name__ for layer in model.layers[:3]]
    ['Conv2D', 'BatchNorm2D', 'ReLU']
    >>> [type(layer).__name__ for layer in model.layers[6:]]
    ['Residual', 'ReLU', 'GlobalAvgPool2D', 'Dense']
    >>> model.forward(np.zeros((2, 1, 8, 8))).shape
    (2, 10)
    """
    c = check_positive_int("channels", channels)
    check_entries("channels", (2 * c, 2 * c, 3, 3), "a kernel")
    check_rng("rng", rng)
    return Sequential(
        [
            Conv2D(1, c, 3, padding=1, rng=rng),
            BatchNorm2D(c),
            ReLU(),
            Conv2D(c, c, 3, padding=1, rng=rng),
            BatchNorm2D(c),
            ReLU(),
            Residual(
                [
                    Conv2D(c, 2 * c, 3, stride=2, padding=1, rng=rng),
                    BatchNorm2D(2 * c),
                    ReLU(),
                    Conv2D(2 * c, 2 * c, 3, padding=1, rng=rng),
                    BatchNorm2D(2 * c),
                ],
                Residual.projection(c, 2 * c, rng=rng, stride=2),
            ),
            ReLU(),
            GlobalAvgPool2D(),
            Dense(2 * c, 10, rng=rng),
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
    check_entries("filters[0]", (first, 1, 3, 3), "a kernel")
    check_entries("filters", (second, first, 3, 3), "a kernel")
    check_entries("filters[1]", (10, second * 2 * 2), "a weight matrix")
    check_rng("rng", rng)
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
    check_entries("n_samples", (n_samples,))
    batch_size = check_positive_int("batch_size", batch_size)
    check_rng("rng", rng)
    order = rng.permutation(n_samples)
    return [order[i : i + batch_size] for i in range(0, n_samples, batch_size)]


#: The most epochs :func:`fit` accepts (a typo such as ``10**9`` would never end).
MAX_EPOCHS = 10**6
#: :func:`fit` stops when a batch loss grows past this factor of the first
#: step's loss (or of 1, if that is smaller): a run that far off has diverged.
DIVERGENCE_FACTOR = 1e6


class DivergenceError(NonFiniteError):
    """Training diverged: a loss, gradient or parameter left float64's range.

    Raised by :func:`train_step` (``step`` is None) and :func:`fit` (``step``
    is the 1-based number of the step that diverged). The usual cure is a
    smaller learning rate.
    """

    def __init__(self, message: str, step: int | None = None) -> None:
        super().__init__(message)
        self.step = step


def _check_model(model: object) -> Sequential:
    """A Sequential whose parameters are all finite."""
    if not isinstance(model, Sequential):
        raise ValueError(
            f"model is a {type(model).__name__}; expected a Sequential "
            "(mlp, digits_cnn or Sequential([...]))"
        )
    for name, param in model.parameters().items():
        check_any_shape(f"model parameter {name!r}", param)
    return model


def _check_distinct(model: Sequential) -> None:
    """No two parameters share memory: each is updated in place, on its own.

    :meth:`~cnnscratch.optim.Adam.step` refuses such parameters on every
    call; the training loop's unchecked updates rely on this one check.
    """
    arrays = list(model.parameters().items())
    for i, (name, a) in enumerate(arrays):
        for other, b in arrays[:i]:
            if np.may_share_memory(a, b):
                raise ValueError(
                    f"model parameters {other!r} and {name!r} share memory; "
                    "expected one array per parameter (each is updated in place)"
                )


def _check_optimizer(optimizer: object) -> Optimizer:
    if not callable(getattr(optimizer, "step", None)):
        raise ValueError(
            f"optimizer is a {type(optimizer).__name__}; expected an optimiser "
            "with a step(params, grads) method (SGD or Adam)"
        )
    return optimizer  # type: ignore[return-value]


def _check_batch(
    model: Sequential,
    X: ArrayLike,
    Y: ArrayLike,
    names: tuple[str, str],
    *,
    probe: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """A finite batch X (N, ...) and one-hot-like Y (N, K) that fit the model.

    With ``probe``, the model's output size is read from one forward pass of
    the first sample, in evaluation mode so that no running statistics move,
    and the targets are checked; without it, the caller checks both against
    the logits it computes anyway.
    """
    X_ = check_any_shape(names[0], X, min_ndim=2)
    Y_ = check_array(names[1], Y, ("N", "K"), N=(X_.shape[0], names[0]))
    for name, param in model.parameters().items():  # updatable, before any step
        check_parameter(f"model parameter {name!r}", param)
    if probe:
        modes = [(layer, layer.training) for layer in _with_modes(model)]
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                _check_output_size(model.eval().forward(X_[:1]), Y_, names[1])
        finally:
            for layer, mode in modes:
                layer.training = mode
        _check_targets(Y_, rows_sum_to_one=True, name=names[1])
    return X_, Y_


def _with_modes(model: Sequential) -> list[Any]:
    """The layers that behave differently in training and evaluation mode."""
    return [layer for layer in model.layers if hasattr(layer, "training")]


def _check_output_size(Z: FloatArray, Y: FloatArray, name: str) -> None:
    if Y.shape[1] != Z.shape[-1]:
        raise ValueError(
            f"{name} has shape {Y.shape}; expected (N, K) with K = {Z.shape[-1]} "
            "to match logits"
        )


def train_step(
    model: Sequential, optimizer: Optimizer, X: ArrayLike, Y: ArrayLike
) -> float:
    """One step of gradient descent on the softmax cross-entropy of a batch.

    Forward to the logits, the fused gradient (P − Y)/N (Part 2,
    eq. (2.14)), backward through every layer, one optimiser update. The
    model is put in training mode first (:meth:`Sequential.train`).

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

    Raises
    ------
    DivergenceError
        If the logits, the loss, a gradient or the update leaves float64's
        range; the parameters are then unchanged.
    ValueError
        If an argument is malformed.

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
    model = _check_model(model)
    optimizer = _check_optimizer(optimizer)
    X_, Y_ = _check_batch(model, X, Y, ("X", "Y"), probe=False)
    return _train_step(model, optimizer, X_, Y_, checked=True)


def _train_step(
    model: Sequential,
    optimizer: Optimizer,
    X: FloatArray,
    Y: FloatArray,
    *,
    checked: bool,
) -> float:
    """One step on a checked batch; ``checked`` says how much is known of it.

    ``checked=True`` (:func:`train_step`, one call, one batch) runs the
    layers' public methods, which check every array that reaches them, and
    checks the targets against the logits. ``checked=False`` (:func:`fit`,
    which checked the data and probed the model with it before the first
    step) runs the layers' unchecked passes
    (:func:`~cnnscratch.layers._forward_all`); the results are the same, bit
    for bit.
    """
    # With finite inputs and parameters, a non-finite value below is an
    # overflow: the run diverged. NumPy's warnings are replaced by one error.
    buffers = model.buffers()
    before = {k: v.copy() for k, v in buffers.items()} if checked else {}
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if checked:
                Z = model.train().forward(X)
                try:
                    _check_output_size(Z, Y, "Y")
                    _check_targets(Y, rows_sum_to_one=True, name="Y")
                except ValueError:
                    model.load_buffers(before)  # all or nothing: no statistic moved
                    raise
                loss = softmax_cross_entropy(Z, Y)
            else:
                for layer in _with_modes(model):
                    layer.training = True
                Z = _forward_all(model.layers, X)
                loss = _softmax_cross_entropy(Z, Y)
            if not np.isfinite(loss):
                raise NonFiniteError(f"the loss is {loss}")
            if checked:
                model._backward_parameters(softmax_cross_entropy_gradient(Z, Y))
            else:
                dZ = _softmax_cross_entropy_gradient(Z, Y)
                _backward_all(model.layers, dZ, input_gradient=False)
            params, grads = model.parameters(), model.gradients()
            step = None if checked else _unchecked_step(optimizer, params, grads)
            for name, grad in grads.items():  # one test per array, before the update
                if step is None or not np.isfinite(grad).all():
                    check_any_shape(f"gradient {name}", grad)
            (optimizer.step if step is None else step)(params, grads)
    except NonFiniteError as error:
        for name, value in buffers.items():  # fit restores them itself
            if name in before:
                value[...] = before[name]
        raise DivergenceError(
            f"loss became non-finite ({error}); the optimizer's learning rate "
            "is likely too large"
        ) from error
    return loss


def _unchecked_step(
    optimizer: Optimizer,
    params: dict[str, FloatArray],
    grads: Mapping[str, object],
) -> Callable[[Mapping[str, FloatArray], Mapping[str, FloatArray]], None] | None:
    """The unchecked update of the package's optimisers, where it is safe.

    Safe when the optimiser is an :class:`~cnnscratch.optim.SGD` or
    :class:`~cnnscratch.optim.Adam` (not a subclass) and every gradient is a
    float array shaped like its parameter, as the package's layers make them
    (the parameters were checked when :func:`fit` started); else ``None``:
    the public ``step``, which checks everything.
    """
    if type(optimizer) not in (SGD, Adam) or grads.keys() != params.keys():
        return None
    for name, grad in grads.items():
        if not (
            isinstance(grad, np.ndarray)
            and grad.dtype in (np.float32, np.float64)
            and grad.shape == params[name].shape
        ):
            return None
    return optimizer._step  # type: ignore[attr-defined, no-any-return]


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
    model = _check_model(model)
    X_ = check_any_shape("X", X, min_ndim=2)
    labels: IntArray = np.argmax(model.forward(X_), axis=1)
    return labels


def accuracy(model: Sequential, X: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of samples whose predicted class equals ``labels``.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (N, ...)
    labels : ndarray of int, shape (N,)
        Integers in ``range(K)``, K the number of logits.

    Returns
    -------
    accuracy : float in [0, 1]

    Raises
    ------
    ValueError
        If a label is not an integer in ``range(K)`` (``nan``, ``1.5``, ``-1``
        and ``"3"`` are not labels), or the shapes differ.

    Examples
    --------
    >>> import numpy as np
    >>> model = mlp([3, 2], rng=np.random.default_rng(0))
    >>> accuracy(model, np.zeros((4, 3)), [0, 0, 1, 1])
    0.5
    """
    model = _check_model(model)
    X_ = check_any_shape("X", X, min_ndim=2)
    labels_ = check_labels("labels", labels)
    if labels_.shape != (X_.shape[0],):
        raise ValueError(
            f"labels has shape {labels_.shape}; expected {(X_.shape[0],)} to match X"
        )
    logits = model.forward(X_)
    check_labels("labels", labels_, logits.shape[1])
    return float(np.mean(np.argmax(logits, axis=1) == labels_))


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
    evaluate_training: bool = True,
) -> History:
    """Train with mini-batches for ``epochs`` passes over (X, Y).

    Each epoch draws a new order from ``rng`` with :func:`minibatches` and
    takes a :func:`train_step` on every batch (in training mode); the
    evaluation after each epoch runs in evaluation mode
    (:meth:`Sequential.eval`), where the model is left at the end.
    Evaluating never changes the training run: the steps, their losses and
    the final parameters are the same with or without it.

    Everything is checked once, before the first step: the data, the
    optimiser, and the model, with a forward pass of one sample through the
    layers' public methods. The steps then run the layers' unchecked passes
    and the same arithmetic as :func:`train_step`, bit for bit, without
    re-checking at every layer what the layer before produced. A layer of
    another class than the package's (a user's own, or a subclass) runs its
    public methods, and so does the layer after it. A non-finite loss or
    gradient still stops the run before the update.

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
        It may read the model but must not replace its layers or parameters:
        they were checked once, at the start.
    evaluate_training : bool
        Evaluate the whole training set after every epoch (``epoch_loss``,
        ``epoch_accuracy``). ``False`` leaves those lists empty and saves a
        forward pass over X per epoch, about a third of an epoch's cost.

    Returns
    -------
    history : History

    Raises
    ------
    ValueError
        If any argument is malformed (checked before the first step, the
        validation set included).
    DivergenceError
        If a loss becomes non-finite or grows past :data:`DIVERGENCE_FACTOR`
        times its start.

    Either way the model, the optimiser's state and ``rng`` are restored to
    what they were before the call: a failed ``fit`` changes nothing.

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
    model = _check_model(model)
    optimizer = _check_optimizer(optimizer)
    X_, Y_ = _check_batch(model, X, Y, ("X", "Y"))
    _check_distinct(model)
    epochs = check_int("epochs", epochs, 1, MAX_EPOCHS)
    batch_size = check_positive_int("batch_size", batch_size)
    rng = check_rng("rng", rng)
    if on_step is not None:
        check_callable("on_step", on_step)
    evaluate_training = check_bool("evaluate_training", evaluate_training)
    val: tuple[FloatArray, FloatArray] | None = None
    if validation is not None:
        if not isinstance(validation, tuple | list) or len(validation) != 2:
            raise ValueError(
                f"validation is a {type(validation).__name__}; expected a pair "
                "(X_val, Y_val)"
            )
        X_val = check_any_shape("validation[0]", validation[0], min_ndim=2)
        if X_val.shape[1:] != X_.shape[1:]:
            raise ValueError(
                f"validation[0] has shape {X_val.shape}; expected "
                f"(N_val, {', '.join(map(str, X_.shape[1:]))}) to match X"
            )
        val = _check_batch(
            model, X_val, validation[1], ("validation[0]", "validation[1]")
        )
    with _rolled_back_on_error(model, optimizer, rng):
        return _fit(
            model,
            optimizer,
            X_,
            Y_,
            epochs,
            batch_size,
            rng,
            val,
            on_step,
            evaluate_training,
        )


@contextmanager
def _rolled_back_on_error(
    model: Sequential, optimizer: Optimizer, rng: np.random.Generator
) -> Iterator[None]:
    """All or nothing: if training fails, restore the model, optimiser and rng.

    A KeyboardInterrupt keeps the progress made so far.
    """
    params = {name: p.copy() for name, p in model.parameters().items()}
    buffers = {name: b.copy() for name, b in model.buffers().items()}
    state = copy.deepcopy(vars(optimizer)) if hasattr(optimizer, "__dict__") else None
    rng_state = rng.bit_generator.state
    try:
        yield
    except Exception:
        for name, p in model.parameters().items():
            p[...] = params[name]
        for name, b in model.buffers().items():
            b[...] = buffers[name]
        if state is not None:
            vars(optimizer).clear()
            vars(optimizer).update(state)
        rng.bit_generator.state = rng_state
        raise


def _fit(
    model: Sequential,
    optimizer: Optimizer,
    X_: FloatArray,
    Y_: FloatArray,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    validation: tuple[FloatArray, FloatArray] | None,
    on_step: Callable[[float], None] | None,
    evaluate_training: bool = True,
) -> History:
    history = History()
    labels = Y_.argmax(axis=1)
    for epoch in range(1, epochs + 1):
        for batch in minibatches(X_.shape[0], batch_size, rng=rng):
            step = len(history.step_loss) + 1
            try:
                loss = _train_step(
                    model, optimizer, X_[batch], Y_[batch], checked=False
                )
            except DivergenceError as error:
                raise DivergenceError(
                    f"loss became non-finite at step {step} (epoch {epoch}); the "
                    "optimizer's learning rate is likely too large",
                    step,
                ) from error
            if loss > DIVERGENCE_FACTOR * max([*history.step_loss[:1], 1.0]):
                raise DivergenceError(
                    f"loss grew to {loss:.3g} at step {step} (epoch {epoch}), "
                    f"{DIVERGENCE_FACTOR:g} times its start; the optimizer's "
                    "learning rate is likely too large",
                    step,
                )
            history.step_loss.append(loss)
            if on_step is not None:
                on_step(loss)
        model.eval()  # batch norm: running statistics, and none updated
        if evaluate_training:
            with np.errstate(over="ignore", invalid="ignore"):
                try:
                    Z = _forward_all(model.layers, X_)  # checked by fit, once
                    history.epoch_loss.append(softmax_cross_entropy(Z, Y_))
                except NonFiniteError as error:
                    raise DivergenceError(
                        f"loss became non-finite after epoch {epoch}; the "
                        "optimizer's learning rate is likely too large",
                        len(history.step_loss),
                    ) from error
            history.epoch_accuracy.append(float(np.mean(Z.argmax(axis=1) == labels)))
        if validation is not None:
            X_val, Y_val = validation
            with np.errstate(over="ignore", invalid="ignore"):
                Z_val = _forward_all(model.layers, X_val)
            history.val_loss.append(softmax_cross_entropy(Z_val, Y_val))
            history.val_accuracy.append(
                float(np.mean(Z_val.argmax(axis=1) == Y_val.argmax(axis=1)))
            )
    return history
