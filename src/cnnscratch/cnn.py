"""Convolution, pooling and flatten as layers, and the digits CNN (Part 4).

Each class wraps a forward/backward pair of :mod:`cnnscratch.conv` or
:mod:`cnnscratch.pooling` in the layer protocol of
:mod:`cnnscratch.network` (``params``, ``grads``, ``forward``, ``backward``),
so a CNN is a :class:`~cnnscratch.network.Sequential` like the MLP of Part 2.
"""

from __future__ import annotations

import numpy as np

from ._validate import FloatArray, check_positive_int, require_forward
from .conv import ConvCache, IntOrPair, as_pair, conv2d_backward, conv2d_forward
from .network import Dense, ReLU, Sequential, he_normal
from .pooling import (
    PoolCache,
    flatten_backward,
    flatten_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)


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
        return flatten_backward(dY, require_forward(self._shape))


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
