"""Every layer class: dense, activations, convolution, pooling, flatten.

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
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    FloatArray,
    check_any_shape,
    check_choice,
    check_entries,
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
from .conv import ConvCache, IntOrPair, as_pair, conv2d_backward, conv2d_forward
from .dense import DenseCache, dense_backward, dense_forward
from .init import INITIALISERS, Init, he_normal
from .pooling import (
    PoolCache,
    flatten_backward,
    flatten_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)

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
        Z = check_any_shape("X", X)
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
