"""Every layer class: dense, activations, convolution, pooling, flatten, and
the layers of a modern CNN: batch norm, global average pooling, residual
blocks and transposed convolution.

A layer is any object with

* ``params`` and ``grads``: dicts name → array with the same keys (empty for
  a layer without parameters); ``grads`` is filled by ``backward``;
* ``forward(X)`` → output, remembering what ``backward`` needs;
* ``backward(dY)`` → dX, the gradient with respect to its input.

Each class is a thin wrapper around a forward/backward pair of plain
functions (:mod:`cnnscratch.dense`, :mod:`cnnscratch.activations`,
:mod:`cnnscratch.conv`, :mod:`cnnscratch.pooling`), which hold the
derivations; :mod:`cnnscratch.network` composes layers into a model and
trains it.

Every layer class here also has ``_forward`` and ``_backward``: the same
maths with no checks. The public methods check their input and then call
them. The training loop (:func:`~cnnscratch.network.fit`) checks the data,
the model and every layer once, at its start, and then runs the unchecked
pair through :func:`_forward_all` and :func:`_backward_all`, which fall back
to the public methods around any layer of another class (a user's own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

import numpy as np

from ._validate import (
    FloatArray,
    as_array,
    check_any_shape,
    check_array,
    check_bool,
    check_choice,
    check_entries,
    check_like,
    check_positive_int,
    require_forward,
)
from .activations import (
    _relu,
    _relu_derivative,
    _sigmoid,
    _sigmoid_derivative_from_output,
    _tanh_derivative_from_output,
)
from .batchnorm import (
    EPS,
    MOMENTUM,
    BatchNormCache,
    _batchnorm_backward,
    _batchnorm_forward,
    _normalise,
    _update_running_stats,
    batchnorm_backward,
    batchnorm_eval_forward,
    batchnorm_forward,
    check_eps,
    check_momentum,
    update_running_stats,
)
from .conv import (
    ConvCache,
    ConvGeometry,
    IntOrPair,
    _axis_output_size,
    _by_channel,
    _conv2d_backward,
    _conv2d_forward,
    _weight_gradients,
    as_pair,
    conv2d_backward,
    conv2d_forward,
)
from .conv import _check_upstream as _check_conv_upstream
from .dense import (
    DenseCache,
    _dense_backward,
    _dense_forward,
    dense_backward,
    dense_forward,
)
from .init import INITIALISERS, Init, he_normal
from .pooling import (
    PoolCache,
    _flatten_forward,
    _global_avgpool2d_backward,
    _global_avgpool2d_forward,
    _maxpool2d_backward,
    _maxpool2d_forward,
    _pool_output,
    flatten_backward,
    flatten_forward,
    global_avgpool2d_backward,
    global_avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .transposed import (
    TransposedCache,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from .transposed import _geometry as _transposed_geometry

# --- Dense and activations (Part 2) ------------------------------------------


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
        check_entries("n_out", (n_out, n_in), "a weight matrix")
        check_choice("init", init, ("he", "xavier"))
        self.params: dict[str, FloatArray] = {
            "W": INITIALISERS[init]((n_out, n_in), rng=rng),
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
        dY_ = check_like("dY", dY, (cache.X.shape[0], cache.W.shape[0]), "the output")
        dX, self.grads["W"], self.grads["b"] = dense_backward(dY_, cache)
        return dX

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X that fits (the training loop's)."""
        Z, self._cache = _dense_forward(X, self.params["W"], self.params["b"])
        return Z

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY that fits (the training loop's)."""
        cache = require_forward(self._cache)
        dX, self.grads["W"], self.grads["b"] = _dense_backward(dY, cache)
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
        return self._forward(check_any_shape("X", X))

    def backward(self, dY: FloatArray) -> FloatArray:
        """dX = dY ⊙ σ′(X), same shape as X (Part 2, eq. (2.5))."""
        Z, _ = require_forward(self._cache)
        return self._backward(check_like("dY", dY, Z.shape, "X"))

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X."""
        A = self._function(X)
        self._cache = (X, A)
        return A

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY shaped like X."""
        Z, A = require_forward(self._cache)
        return dY * self._derivative(Z, A)


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
        return _relu(Z)

    def _derivative(self, Z: FloatArray, A: FloatArray) -> FloatArray:
        return _relu_derivative(Z)


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
        return np.tanh(Z)

    def _derivative(self, Z: FloatArray, A: FloatArray) -> FloatArray:
        return _tanh_derivative_from_output(A)


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
        return _sigmoid(Z)

    def _derivative(self, Z: FloatArray, A: FloatArray) -> FloatArray:
        return _sigmoid_derivative_from_output(A)


# --- Convolution, pooling, flatten (Part 3) ----------------------------------


class Conv2D:
    """Convolution layer with parameters ``W`` (C_out, C_in, KH, KW) and ``b``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (KH, KW)
    rng : numpy.random.Generator
        Draws He-normal weights (fan-in C_in·KH·KW); the bias starts at zero.
    stride, padding, dilation : int or (int, int)

    Raises
    ------
    ValueError
        If a size is not a positive integer, the stride or dilation is below
        1 or the padding below 0 (checked here); if an input does not fit
        (checked by ``forward``).

    Notes
    -----
    Part 3, eqs. (3.7) and (3.8), through
    :func:`~cnnscratch.conv.conv2d_forward` and
    :func:`~cnnscratch.conv.conv2d_backward`.

    Examples
    --------
    >>> layer = Conv2D(1, 8, 3, padding=1, rng=np.random.default_rng(0))
    >>> layer.forward(np.zeros((2, 1, 8, 8))).shape
    (2, 8, 8, 8)
    >>> layer.backward(np.ones((2, 8, 8, 8))).shape, layer.grads["W"].shape
    ((2, 1, 8, 8), (8, 1, 3, 3))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrPair,
        *,
        rng: np.random.Generator,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
        dilation: IntOrPair = 1,
    ) -> None:
        C_out = check_positive_int("out_channels", out_channels)
        C_in = check_positive_int("in_channels", in_channels)
        KH, KW = as_pair("kernel_size", kernel_size, minimum=1)
        as_pair("stride", stride, minimum=1)  # checked here, used by forward
        as_pair("padding", padding, minimum=0)
        as_pair("dilation", dilation, minimum=1)
        shape = (C_out, C_in, KH, KW)
        check_entries("out_channels", shape, "a kernel")
        self.params: dict[str, FloatArray] = {
            "W": he_normal(shape, rng=rng),
            "b": np.zeros(C_out),
        }
        self.grads: dict[str, FloatArray] = {
            name: np.zeros_like(value) for name, value in self.params.items()
        }
        self.options = {"stride": stride, "padding": padding, "dilation": dilation}
        self._cache: ConvCache | None = None
        self._parsed: tuple[tuple[object, ...], ConvGeometry] | None = None

    def forward(self, X: FloatArray) -> FloatArray:
        """Feature maps (N, C_out, OH, OW) of images X (N, C_in, H, W)."""
        Y, self._cache = conv2d_forward(
            X, self.params["W"], self.params["b"], **self.options
        )
        return Y

    def backward(self, dY: FloatArray) -> FloatArray:
        """Fill ``grads`` with dW, db; return dX, shaped like the input."""
        dX, self.grads["W"], self.grads["b"] = conv2d_backward(
            dY, require_forward(self._cache)
        )
        return dX

    def _backward_parameters(self, dY: FloatArray) -> None:
        """Fill ``grads`` and skip dX: a first layer's input is the data.

        Training never uses the gradient with respect to the images, so
        :class:`~cnnscratch.network.Sequential` asks its first layer for the
        weight gradients alone (as autograd skips inputs that do not require
        a gradient).
        """
        self._backward_weights(_check_conv_upstream(dY, require_forward(self._cache)))

    def _geometry(self) -> ConvGeometry:
        """``options`` parsed, once for as long as they stay the same."""
        options = self.options
        key = (options["stride"], options["padding"], options["dilation"])
        if self._parsed is None or self._parsed[0] != key:
            geometry = ConvGeometry(
                as_pair("stride", options["stride"], minimum=1),
                as_pair("padding", options["padding"], minimum=0),
                as_pair("dilation", options["dilation"], minimum=1),
            )
            self._parsed = (key, geometry)
        return self._parsed[1]

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X that fits (the training loop's)."""
        W, g = self.params["W"], self._geometry()
        out = (
            _axis_output_size(X.shape[2], W.shape[2], g.stride[0], *_at(g, 0)),
            _axis_output_size(X.shape[3], W.shape[3], g.stride[1], *_at(g, 1)),
        )
        columns = (X.shape[0] * out[0] * out[1], W[0].size)
        check_entries("X", columns, "an im2col matrix")
        Y, self._cache = _conv2d_forward(X, W, self.params["b"], g, out)
        return Y

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY that fits (the training loop's)."""
        cache = require_forward(self._cache)
        dX, self.grads["W"], self.grads["b"] = _conv2d_backward(dY, cache)
        return dX

    def _backward_weights(self, dY: FloatArray) -> None:
        """:meth:`_backward_parameters` of a checked dY (the training loop's)."""
        cache = require_forward(self._cache)
        self.grads["W"], self.grads["b"] = _weight_gradients(_by_channel(dY), cache)


def _at(g: ConvGeometry, axis: int) -> tuple[int, int]:
    """(padding, dilation) of one axis, as :func:`_axis_output_size` takes them."""
    return g.padding[axis], g.dilation[axis]


class MaxPool2D:
    """Max-pooling layer (no parameters); ties go to the first maximum.

    Parameters
    ----------
    kernel : int or (KH, KW)
    stride : int or (int, int), optional
        Defaults to ``kernel`` (non-overlapping windows).

    Notes
    -----
    Part 3, eqs. (3.9) and (3.10), through
    :func:`~cnnscratch.pooling.maxpool2d_forward` and
    :func:`~cnnscratch.pooling.maxpool2d_backward`.

    Examples
    --------
    >>> pool = MaxPool2D(2)
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """

    def __init__(
        self, kernel: IntOrPair = 2, *, stride: IntOrPair | None = None
    ) -> None:
        as_pair("kernel", kernel, minimum=1)
        if stride is not None:
            as_pair("stride", stride, minimum=1)
        self.params: dict[str, FloatArray] = {}
        self.grads: dict[str, FloatArray] = {}
        self.kernel, self.stride = kernel, stride
        self._cache: PoolCache | None = None

    def forward(self, X: FloatArray) -> FloatArray:
        """The maximum of every window, shape (N, C, OH, OW)."""
        Y, self._cache = maxpool2d_forward(X, self.kernel, stride=self.stride)
        return Y

    def backward(self, dY: FloatArray) -> FloatArray:
        """dY routed to each window's maximum, shaped like the input."""
        return maxpool2d_backward(dY, require_forward(self._cache))

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X that fits (the training loop's)."""
        k = as_pair("kernel", self.kernel, minimum=1)
        s = k if self.stride is None else as_pair("stride", self.stride, minimum=1)
        out = _pool_output(X.shape[2], X.shape[3], k, s)
        Y, self._cache = _maxpool2d_forward(X, k, s, out)
        return Y

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY that fits (the training loop's)."""
        cache = require_forward(self._cache)
        return _maxpool2d_backward(dY, cache, require_forward(cache.winners))


class Flatten:
    """Feature maps (N, C, H, W) to rows (N, C·H·W) for a dense layer.

    Examples
    --------
    >>> Flatten().forward(np.zeros((2, 3, 4, 4))).shape
    (2, 48)
    """

    def __init__(self) -> None:
        self.params: dict[str, FloatArray] = {}
        self.grads: dict[str, FloatArray] = {}
        self._shape: tuple[int, ...] | None = None

    def forward(self, X: FloatArray) -> FloatArray:
        """Rows (N, C·H·W) of feature maps X (N, C, H, W)."""
        Z, self._shape = flatten_forward(X)
        return Z

    def backward(self, dY: FloatArray) -> FloatArray:
        """dY (N, C·H·W) reshaped back to the input's (N, C, H, W)."""
        N, C, H, W = require_forward(self._shape)
        dY_ = check_like("dY", dY, (N, C * H * W), "the output")
        return flatten_backward(dY_, (N, C, H, W))

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X (N, C, H, W)."""
        Z, self._shape = _flatten_forward(X)
        return Z

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY (N, C·H·W)."""
        return dY.reshape(require_forward(self._shape))


# --- The layers of a modern CNN (Part 5) -------------------------------------


class _BatchNorm:
    """Batch normalisation over every axis but the channel axis (see subclasses)."""

    _ndim = 2

    def __init__(
        self, features: int, *, eps: float = EPS, momentum: float = MOMENTUM
    ) -> None:
        C = check_positive_int("features", features)
        check_entries("features", (C,), "a scale vector")
        self.eps, self.momentum = check_eps(eps), check_momentum(momentum)
        self.params: dict[str, FloatArray] = {"gamma": np.ones(C), "beta": np.zeros(C)}
        self.grads: dict[str, FloatArray] = {
            name: np.zeros_like(value) for name, value in self.params.items()
        }
        #: Running statistics for evaluation mode, saved with the parameters.
        self.buffers: dict[str, FloatArray] = {
            "running_mean": np.zeros(C),
            "running_var": np.ones(C),
        }
        #: Training mode (batch statistics) or evaluation mode (running ones).
        self.training = True
        self._cache: BatchNormCache | None = None

    def forward(self, X: FloatArray) -> FloatArray:
        """Y = γ X̂ + β; in training mode also updates the running statistics."""
        X_ = as_array("X", X)
        if X_.ndim != self._ndim:
            axes = "(N, D)" if self._ndim == 2 else "(N, C, H, W)"
            raise ValueError(
                f"X has shape {X_.shape}; expected {axes} for {type(self).__name__}"
            )
        gamma, beta = self.params["gamma"], self.params["beta"]
        features = (gamma.shape[0], "the layer's features")
        if self._ndim == 2:
            X_ = check_array("X", X_, ("N", "D"), D=features)
        else:
            X_ = check_array("X", X_, ("N", "C", "H", "W"), C=features)
        if not self.training:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            Y, self._cache = batchnorm_eval_forward(
                X_, gamma, beta, mean, var, eps=self.eps
            )
            return Y
        Y, cache = batchnorm_forward(X_, gamma, beta, eps=self.eps)
        mean, var = update_running_stats(
            self.buffers["running_mean"],
            self.buffers["running_var"],
            cache,
            momentum=self.momentum,
        )
        self.buffers["running_mean"][...] = mean  # in place: a saved model sees it
        self.buffers["running_var"][...] = var
        self._cache = cache
        return Y

    def backward(self, dY: FloatArray) -> FloatArray:
        """Fill ``grads`` with dγ, dβ; return dX (through μ and σ² in training)."""
        dX, self.grads["gamma"], self.grads["beta"] = batchnorm_backward(
            dY, require_forward(self._cache)
        )
        return dX

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X that fits (the training loop's).

        The number of values per channel and the scalars a user may have
        changed since ``__init__`` are still checked: they are cheap, and the
        first depends on the batch.
        """
        gamma, beta = self.params["gamma"], self.params["beta"]
        eps = check_eps(self.eps)
        mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        if not self.training:
            Y, self._cache = _normalise(X, mean, var, gamma, beta, eps, training=False)
            return Y
        momentum = check_momentum(self.momentum)
        Y, cache = _batchnorm_forward(X, gamma, beta, eps)
        new_mean, new_var = _update_running_stats(mean, var, cache, momentum)
        mean[...] = new_mean  # in place: a saved model sees it
        var[...] = new_var
        self._cache = cache
        return Y

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY shaped like the output."""
        dX, self.grads["gamma"], self.grads["beta"] = _batchnorm_backward(
            dY, require_forward(self._cache)
        )
        return dX


class BatchNorm1D(_BatchNorm):
    """Batch normalisation of a dense layer's outputs (N, D): statistics over N.

    Parameters
    ----------
    features : int
        D; γ (ones), β (zeros) and the running statistics have shape (D,).
    eps : float
        Added to the variance, ``>= 0``.
    momentum : float in [0, 1]
        Weight of each new batch in the running statistics.

    Attributes
    ----------
    buffers : dict
        ``running_mean`` (starts at 0) and ``running_var`` (starts at 1,
        updated with the unbiased variance), each of shape (D,).
    training : bool
        True: normalise with the batch's statistics and update the running
        ones; False: normalise with the running ones.

    Notes
    -----
    Part 5, eqs. (5.1)–(5.8), through :mod:`cnnscratch.batchnorm`.

    Examples
    --------
    >>> bn = BatchNorm1D(2)
    >>> Y = bn.forward(np.array([[1.0, 0.0], [3.0, 4.0]]))
    >>> Y.round(3)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.buffers["running_mean"]  # 0.9 · 0 + 0.1 · μ
    array([0.2, 0.2])
    """

    _ndim = 2


class BatchNorm2D(_BatchNorm):
    """Batch normalisation of feature maps (N, C, H, W): statistics over N, H, W.

    Parameters
    ----------
    features : int
        C; γ, β and the running statistics have shape (C,).
    eps : float
    momentum : float in [0, 1]

    Attributes
    ----------
    buffers : dict
        ``running_mean`` and ``running_var``, each of shape (C,).
    training : bool

    Notes
    -----
    Part 5, eqs. (5.1)–(5.8), through :mod:`cnnscratch.batchnorm`.

    Examples
    --------
    >>> bn = BatchNorm2D(3)
    >>> Y = bn.forward(np.random.default_rng(0).normal(2.0, 5.0, size=(4, 3, 5, 5)))
    >>> bool(np.allclose(Y.mean(axis=(0, 2, 3)), 0.0))  # each channel: mean 0
    True
    >>> Y.var(axis=(0, 2, 3)).round(3)  # variance σ²/(σ² + ε), just below 1
    array([1., 1., 1.])
    """

    _ndim = 4


class GlobalAvgPool2D:
    """The mean of every feature map: (N, C, H, W) to (N, C), for any H and W.

    Notes
    -----
    Part 5, eqs. (5.10) and (5.11), through
    :func:`~cnnscratch.pooling.global_avgpool2d_forward` and
    :func:`~cnnscratch.pooling.global_avgpool2d_backward`.

    Examples
    --------
    >>> pool = GlobalAvgPool2D()
    >>> pool.forward(np.ones((2, 3, 5, 7))).shape
    (2, 3)
    >>> pool.backward(np.ones((2, 3)))[0, 0, 0, :3]  # 1/(5·7) each
    array([0.0286, 0.0286, 0.0286])
    """

    def __init__(self) -> None:
        self.params: dict[str, FloatArray] = {}
        self.grads: dict[str, FloatArray] = {}
        self._shape: tuple[int, ...] | None = None

    def forward(self, X: FloatArray) -> FloatArray:
        """Y (N, C): the mean of each of the C maps of each image."""
        Y, self._shape = global_avgpool2d_forward(X)
        return Y

    def backward(self, dY: FloatArray) -> FloatArray:
        """dY / (H·W) at every pixel of its map, shape (N, C, H, W)."""
        return global_avgpool2d_backward(dY, require_forward(self._shape))

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X (N, C, H, W)."""
        Y, self._shape = _global_avgpool2d_forward(X)
        return Y

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY (N, C)."""
        N, C, H, W = require_forward(self._shape)
        return _global_avgpool2d_backward(dY, (N, C, H, W))


class _HasLayers(Protocol):
    params: dict[str, FloatArray]
    grads: dict[str, FloatArray]

    def forward(self, X: FloatArray) -> FloatArray: ...

    def backward(self, dY: FloatArray) -> FloatArray: ...


def _flat(
    layers: Sequence[object], attr: str, prefix: str = ""
) -> dict[str, FloatArray]:
    """``{"<prefix><index>.<name>": array}`` over the layers' ``attr`` dicts.

    How :class:`Residual` and :class:`~cnnscratch.network.Sequential` name
    their layers' parameters, gradients and buffers.
    """
    return {
        f"{prefix}{i}.{name}": value
        for i, layer in enumerate(layers)
        for name, value in getattr(layer, attr, {}).items()
    }


def _check_layers(name: str, layers: object) -> list[_HasLayers]:
    """``layers`` as a list if it is a sequence of layers, else raise."""
    if not isinstance(layers, Sequence) or isinstance(layers, str):
        raise ValueError(
            f"{name} is a {type(layers).__name__}; expected a list of layers"
        )
    for i, layer in enumerate(layers):
        missing = [
            attribute
            for attribute in ("params", "grads", "forward", "backward")
            if not hasattr(layer, attribute)
        ]
        if missing:
            raise ValueError(
                f"{name}[{i}] is a {type(layer).__name__} without "
                f"{', '.join(missing)}; expected a layer (see cnnscratch.layers)"
            )
    return list(layers)


def _layer_states(layers: Sequence[object]) -> list[tuple[object, dict[str, object]]]:
    """Every layer's attributes (a shallow copy), nested residual blocks included."""
    states: list[tuple[object, dict[str, object]]] = []
    for layer in layers:
        if hasattr(layer, "__dict__"):
            states.append((layer, dict(vars(layer))))
        if isinstance(layer, Residual):
            states += _layer_states(layer.body + layer.shortcut)
    return states


def set_training(layers: Sequence[object], mode: bool) -> None:
    """Set every layer that has a ``training`` flag (batch norm, residual blocks).

    ``layers`` is a list of layers and ``mode`` ``True`` (training) or
    ``False`` (evaluation); both are checked before any layer changes.
    """
    layers_ = _check_layers("layers", layers)
    mode = check_bool("mode", mode)
    for layer in layers_:
        if hasattr(layer, "training"):
            layer.training = mode


class Residual:
    """A residual block Y = F(X) + S(X): F a stack of layers, S the shortcut.

    The shortcut S is the identity, or a projection (for example a 1x1
    convolution with stride 2, :meth:`projection`) when F changes the
    number of channels or the size of the maps. Backward, an addition copies
    dY to both branches: dX = F′ᵀ dY + S′ᵀ dY, and with the identity the
    second term is dY itself.

    Parameters
    ----------
    body : sequence of layers
        F, applied in order.
    shortcut : sequence of layers, optional
        S; the identity when omitted.

    Attributes
    ----------
    params, grads, buffers : dict
        The layers' own arrays, flat, named ``"body.<i>.<name>"`` and
        ``"shortcut.<i>.<name>"``.

    Notes
    -----
    Part 5, eqs. (5.12) and (5.13).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> block = Residual([Dense(3, 3, rng=rng), ReLU(), Dense(3, 3, rng=rng)])
    >>> X = rng.normal(size=(2, 3))
    >>> Y = block.forward(X)
    >>> sorted(block.params)
    ['body.0.W', 'body.0.b', 'body.2.W', 'body.2.b']
    >>> dX = block.backward(np.ones((2, 3)))  # the identity adds dY to F's dX
    >>> dX.shape
    (2, 3)
    """

    def __init__(
        self, body: Sequence[_HasLayers], shortcut: Sequence[_HasLayers] = ()
    ) -> None:
        body_ = _check_layers("body", body)
        if not body_:
            raise ValueError("body is empty; expected at least one layer")
        self.body, self.shortcut = body_, _check_layers("shortcut", shortcut)
        self.params: dict[str, FloatArray] = {
            **_flat(self.body, "params", "body."),
            **_flat(self.shortcut, "params", "shortcut."),
        }
        self.buffers: dict[str, FloatArray] = {
            **_flat(self.body, "buffers", "body."),
            **_flat(self.shortcut, "buffers", "shortcut."),
        }
        self.grads: dict[str, FloatArray] = {
            name: np.zeros_like(value) for name, value in self.params.items()
        }
        self._training = True
        self._shape: tuple[int, ...] | None = None

    @staticmethod
    def projection(
        in_channels: int,
        out_channels: int,
        *,
        rng: np.random.Generator,
        stride: int = 2,
    ) -> list[_HasLayers]:
        """A projection shortcut: a 1x1 convolution with ``stride``, then batch norm."""
        return [
            Conv2D(in_channels, out_channels, 1, stride=stride, rng=rng),
            BatchNorm2D(out_channels),
        ]

    @property
    def training(self) -> bool:
        """Training or evaluation mode, passed on to every layer inside."""
        return self._training

    @training.setter
    def training(self, mode: bool) -> None:
        self._training = bool(mode)
        set_training(self.body + self.shortcut, self._training)

    def forward(self, X: FloatArray) -> FloatArray:
        """Y = F(X) + S(X); F(X) and S(X) must have the same shape.

        All or nothing: if any layer inside rejects its input, or the two
        branches disagree in shape, every layer inside is restored to what
        it was (the running statistics of the batch norms, the caches).
        """
        saved = {name: value.copy() for name, value in self.buffers.items()}
        states = _layer_states(self.body + self.shortcut)
        try:
            F = S = np.asarray(X)
            for layer in self.body:
                F = layer.forward(F)
            for layer in self.shortcut:
                S = layer.forward(S)
            if F.shape != S.shape:
                raise ValueError(
                    f"body output has shape {F.shape} but shortcut output "
                    f"{S.shape}; expected the same (use a projection shortcut)"
                )
        except Exception:
            for owner, state in states:
                vars(owner).clear()
                vars(owner).update(state)
            for name, value in self.buffers.items():
                value[...] = saved[name]
            raise
        self._shape = F.shape
        return F + S

    def backward(self, dY: FloatArray) -> FloatArray:
        """dX = (F's backward of dY) + (S's backward of dY); fills ``grads``."""
        shape = require_forward(self._shape)
        dY_ = check_like("dY", dY, shape, "the forward output")
        # --8<-- [start:residual_backward]
        dF = dS = dY_  # the addition copies dY to both branches
        for layer in reversed(self.body):
            dF = layer.backward(dF)
        for layer in reversed(self.shortcut):
            dS = layer.backward(dS)
        # --8<-- [end:residual_backward]
        self.grads = {
            **_flat(self.body, "grads", "body."),
            **_flat(self.shortcut, "grads", "shortcut."),
        }
        return dF + dS

    def _forward(self, X: FloatArray) -> FloatArray:
        """:meth:`forward` of a checked X that fits (the training loop's).

        With a layer of another class inside, the public :meth:`forward`,
        which checks that both branches agree.
        """
        if not all(type(layer) in _UNCHECKED for layer in self.body + self.shortcut):
            return self.forward(X)
        F, S = _forward_all(self.body, X), _forward_all(self.shortcut, X)
        self._shape = F.shape
        return F + S

    def _backward(self, dY: FloatArray) -> FloatArray:
        """:meth:`backward` of a checked dY that fits (the training loop's)."""
        if not all(type(layer) in _UNCHECKED for layer in self.body + self.shortcut):
            return self.backward(dY)
        dF, dS = _backward_all(self.body, dY), _backward_all(self.shortcut, dY)
        self.grads = {
            **_flat(self.body, "grads", "body."),
            **_flat(self.shortcut, "grads", "shortcut."),
        }
        return dF + dS


class ConvTranspose2D:
    """Transposed convolution layer, W (C_in, C_out, KH, KW) and b (C_out,).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (KH, KW)
    rng : numpy.random.Generator
        Draws He-normal weights (fan-in C_out·KH·KW, from W's shape as
        PyTorch computes it); the bias starts at zero.
    stride, padding, output_padding, dilation : int or (int, int)

    Notes
    -----
    Part 5, eqs. (5.14)–(5.16), through
    :func:`~cnnscratch.transposed.conv_transpose2d_forward` and
    :func:`~cnnscratch.transposed.conv_transpose2d_backward`.

    Examples
    --------
    >>> up = ConvTranspose2D(4, 2, 3, stride=2, padding=1, output_padding=1,
    ...                      rng=np.random.default_rng(0))
    >>> up.forward(np.zeros((1, 4, 4, 4))).shape  # 4 x 4 doubled to 8 x 8
    (1, 2, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrPair,
        *,
        rng: np.random.Generator,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
        output_padding: IntOrPair = 0,
        dilation: IntOrPair = 1,
    ) -> None:
        C_in = check_positive_int("in_channels", in_channels)
        C_out = check_positive_int("out_channels", out_channels)
        KH, KW = as_pair("kernel_size", kernel_size, minimum=1)
        check_entries("out_channels", (C_in, C_out, KH, KW), "a kernel")
        self.options = {
            "stride": stride,
            "padding": padding,
            "output_padding": output_padding,
            "dilation": dilation,
        }
        _transposed_geometry(stride, padding, output_padding, dilation)  # checks
        self.params: dict[str, FloatArray] = {
            "W": he_normal((C_in, C_out, KH, KW), rng=rng),
            "b": np.zeros(C_out),
        }
        self.grads: dict[str, FloatArray] = {
            name: np.zeros_like(value) for name, value in self.params.items()
        }
        self._cache: TransposedCache | None = None

    def forward(self, X: FloatArray) -> FloatArray:
        """Output (N, C_out, OH, OW) of inputs X (N, C_in, H, W)."""
        Y, self._cache = conv_transpose2d_forward(
            X, self.params["W"], self.params["b"], **self.options
        )
        return Y

    def backward(self, dY: FloatArray) -> FloatArray:
        """Fill ``grads`` with dW, db; return dX, shaped like the input."""
        dX, self.grads["W"], self.grads["b"] = conv_transpose2d_backward(
            dY, require_forward(self._cache)
        )
        return dX


# --- The training loop's unchecked passes -----------------------------------

#: The classes whose ``_forward`` and ``_backward`` the training loop may call
#: instead of their public methods: exactly these, not their subclasses (a
#: subclass may override ``forward`` and would be bypassed).
_UNCHECKED: frozenset[type] = frozenset(
    {
        Dense,
        ReLU,
        Tanh,
        Sigmoid,
        Conv2D,
        MaxPool2D,
        Flatten,
        BatchNorm1D,
        BatchNorm2D,
        GlobalAvgPool2D,
        Residual,
    }
)


def _forward_all(layers: Sequence[_HasLayers], X: FloatArray) -> FloatArray:
    """Every layer's forward pass in order, unchecked where that is safe.

    ``X`` must have passed the checks of the first layer's ``forward`` (the
    training loop checks the data and probes the model first). A layer of
    the package's classes then runs ``_forward``, unless the layer before it
    is of another class: what that produced goes through the public
    ``forward``, which checks it. Other layers always run ``forward``.
    """
    out, trusted = X, True
    for layer in layers:
        known = type(layer) in _UNCHECKED
        run = cast(Any, layer)._forward if known and trusted else layer.forward
        out, trusted = run(out), known
    return out


def _backward_all(
    layers: Sequence[_HasLayers], dY: FloatArray, *, input_gradient: bool = True
) -> FloatArray:
    """Every layer's backward pass in reverse, unchecked where that is safe.

    The rule of :func:`_forward_all`, mirrored: a gradient that a layer of
    another class returned goes through the public ``backward``. Without
    ``input_gradient``, a first layer that can (a convolution) fills its
    weight gradients only, and ``dY`` comes back unchanged.
    """
    grad, trusted = dY, True
    for i in range(len(layers) - 1, -1, -1):
        layer: Any = layers[i]
        known = type(layer) in _UNCHECKED
        if i == 0 and not input_gradient and hasattr(layer, "_backward_parameters"):
            if known and trusted:  # a Conv2D
                layer._backward_weights(grad)
            else:
                layer._backward_parameters(grad)
            return dY
        run = layer._backward if known and trusted else layer.backward
        grad, trusted = run(grad), known
    return grad
