"""What a network costs and what it sees, read from its layers (Part 4).

For every layer of a :class:`~cnnscratch.network.Sequential`, given the shape
of one input image:

* :func:`output_shape`: the shape of one image's output, from the output-size
  formula (Part 3, eq. (3.2));
* :func:`parameter_count`: ``C_out (C_in KH KW + 1)`` for a convolution,
  ``n_out (n_in + 1)`` for a dense layer (Part 4, eq. (4.3));
* :func:`multiply_adds`: ``OH OW C_out C_in KH KW`` for a convolution,
  ``n_out n_in`` for a dense layer, per image (Part 4, eq. (4.4));
* :func:`layer_sizes`: all of the above for a whole model, one
  :class:`LayerSize` a layer, with the activations each layer stores for its
  backward pass (Part 4, eq. (4.5));
* :func:`receptive_fields`: how many input pixels each layer's output pixel
  depends on, by the recurrence of Part 4, eq. (4.2).

Everything is computed from the layers' hyper-parameters, without running
the model; ``tests/test_sizing.py`` checks it against the forward pass, the
parameter arrays and the backward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._validate import check_positive_int, is_int, short_repr
from .conv import Pair, as_pair, conv_output_size
from .layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sigmoid, Tanh

__all__ = [
    "LayerSize",
    "describe",
    "layer_sizes",
    "multiply_adds",
    "output_shape",
    "parameter_count",
    "receptive_fields",
]

Shape = tuple[int, ...]


def _conv_geometry(layer: Conv2D | MaxPool2D) -> tuple[Pair, Pair, Pair, Pair]:
    """(kernel, stride, padding, dilation) of a convolution or max-pool layer."""
    if isinstance(layer, Conv2D):
        _, _, KH, KW = layer.params["W"].shape
        return (
            (KH, KW),
            as_pair("stride", layer.options["stride"], minimum=1),
            as_pair("padding", layer.options["padding"], minimum=0),
            as_pair("dilation", layer.options["dilation"], minimum=1),
        )
    kernel = as_pair("kernel", layer.kernel, minimum=1)
    stride = (
        kernel if layer.stride is None else as_pair("stride", layer.stride, minimum=1)
    )
    return kernel, stride, (0, 0), (1, 1)


_KNOWN = (Conv2D, MaxPool2D, Flatten, Dense, ReLU, Tanh, Sigmoid)


def _unknown(layer: object) -> ValueError:
    return ValueError(
        f"layer is a {type(layer).__name__}; expected Conv2D, MaxPool2D, Flatten, "
        "Dense, ReLU, Tanh or Sigmoid"
    )


def _check_layer(layer: object) -> None:
    """Raise unless ``layer`` is one of the kinds this module sizes."""
    if not isinstance(layer, _KNOWN):
        raise _unknown(layer)


def _check_layer_list(layers: object) -> list[object]:
    """``layers`` as a list if it is a sequence of known layers, else raise."""
    if not isinstance(layers, Sequence) or isinstance(layers, str):
        raise ValueError(
            f"layers is {short_repr(layers)}; expected a list of layers (model.layers)"
        )
    for i, layer in enumerate(layers):
        if not isinstance(layer, _KNOWN):
            raise ValueError(f"layers[{i}]: {_unknown(layer)}")
    return list(layers)


def _check_shape(input_shape: object) -> Shape:
    """``input_shape`` as a tuple of ints >= 1, else raise."""
    sizes = tuple(input_shape) if isinstance(input_shape, tuple | list) else ()
    if not sizes or not all(is_int(n) and n >= 1 for n in sizes):
        raise ValueError(
            f"input_shape is {short_repr(input_shape)}; expected a tuple of "
            "integers >= 1, such as (C, H, W) or (n_in,)"
        )
    return tuple(int(n) for n in sizes)


def describe(layer: object) -> str:
    """A short name for a layer, with its hyper-parameters.

    Examples
    --------
    >>> import numpy as np
    >>> describe(Conv2D(1, 16, 3, padding=1, rng=np.random.default_rng(0)))
    'Conv2D 3×3, 16 filters, padding 1'
    >>> describe(MaxPool2D(2)), describe(ReLU())
    ('MaxPool2D 2×2', 'ReLU')

    Any other layer (an object with ``params``, ``grads``, ``forward`` and
    ``backward``) is named by its class; anything else is refused.
    """
    if not isinstance(layer, _KNOWN) and not all(
        hasattr(layer, attribute)
        for attribute in ("params", "grads", "forward", "backward")
    ):
        raise ValueError(
            f"layer is a {type(layer).__name__}; expected a layer "
            "(see cnnscratch.layers)"
        )
    if isinstance(layer, Conv2D):
        C_out, _, KH, KW = layer.params["W"].shape
        text = f"Conv2D {KH}×{KW}, {C_out} filters"
        for option, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            value = layer.options[option]
            if value != default:
                text += f", {option} {value}"
        return text
    if isinstance(layer, MaxPool2D):
        (KH, KW), stride, _, _ = _conv_geometry(layer)
        text = f"MaxPool2D {KH}×{KW}"
        return text if stride == (KH, KW) else f"{text}, stride {layer.stride}"
    if isinstance(layer, Dense):
        n_out, n_in = layer.params["W"].shape
        return f"Dense {n_in} → {n_out}"
    return type(layer).__name__


def output_shape(layer: object, input_shape: Sequence[int]) -> Shape:
    """Shape of one image's output, from the layer's hyper-parameters.

    Parameters
    ----------
    layer : Conv2D, MaxPool2D, Flatten, Dense or an activation
    input_shape : tuple of int
        One image's input: (C, H, W) for the spatial layers, (n_in,) for Dense.

    Returns
    -------
    shape : tuple of int
        (C_out, OH, OW), (C, OH, OW), (C·H·W,), (n_out,), or ``input_shape``
        for an activation.

    Raises
    ------
    ValueError
        If ``input_shape`` does not fit the layer, or the layer is of a kind
        this module does not know.

    Notes
    -----
    Part 3, eq. (3.2), on each axis.

    Examples
    --------
    >>> import numpy as np
    >>> conv = Conv2D(16, 32, 3, stride=2, padding=1, rng=np.random.default_rng(0))
    >>> output_shape(conv, (16, 8, 8))
    (32, 4, 4)
    >>> output_shape(Flatten(), (32, 4, 4))
    (512,)
    """
    _check_layer(layer)
    shape = _check_shape(input_shape)
    if isinstance(layer, ReLU | Tanh | Sigmoid):
        return shape
    if isinstance(layer, Flatten):
        if len(shape) != 3:
            raise ValueError(f"input_shape is {shape}; expected (C, H, W)")
        return (shape[0] * shape[1] * shape[2],)
    if isinstance(layer, Dense):
        n_out, n_in = layer.params["W"].shape
        if shape != (n_in,):
            raise ValueError(f"input_shape is {shape}; expected ({n_in},)")
        return (n_out,)
    if isinstance(layer, Conv2D | MaxPool2D):
        if len(shape) != 3:
            raise ValueError(f"input_shape is {shape}; expected (C, H, W)")
        C = shape[0]
        if isinstance(layer, Conv2D):
            C_out, C_in = layer.params["W"].shape[:2]
            if C_in != C:
                raise ValueError(
                    f"input_shape is {shape}; expected {C_in} channels for this layer"
                )
            C = C_out
        kernel, stride, padding, dilation = _conv_geometry(layer)
        size = tuple(
            conv_output_size(
                shape[1 + a], kernel[a], stride[a], padding[a], dilation[a]
            )
            for a in range(2)
        )
        return (C, *size)
    raise _unknown(layer)


def parameter_count(layer: object) -> int:
    """Number of trainable numbers in a layer (Part 4, eq. (4.3)).

    ``C_out (C_in KH KW + 1)`` for a convolution, ``n_out (n_in + 1)`` for a
    dense layer, 0 for the others: the formula, not a count of the arrays,
    which ``tests/test_sizing.py`` compares it with.

    Examples
    --------
    >>> import numpy as np
    >>> parameter_count(Conv2D(16, 32, 3, rng=np.random.default_rng(0)))
    4640
    >>> parameter_count(Dense(512, 10, rng=np.random.default_rng(0)))
    5130
    """
    if isinstance(layer, Conv2D):
        C_out, C_in, KH, KW = layer.params["W"].shape
        return int(C_out * (C_in * KH * KW + 1))
    if isinstance(layer, Dense):
        n_out, n_in = layer.params["W"].shape
        return int(n_out * (n_in + 1))
    if isinstance(layer, ReLU | Tanh | Sigmoid | Flatten | MaxPool2D):
        return 0
    raise _unknown(layer)


def multiply_adds(layer: object, input_shape: Sequence[int]) -> int:
    """Multiply-adds of one image's forward pass (Part 4, eq. (4.4)).

    A convolution computes ``C_in KH KW`` products for each of its
    ``C_out OH OW`` outputs, a dense layer ``n_in`` for each of ``n_out``;
    pooling compares and an activation applies a function, neither
    multiplies, so both count 0. Bias additions are not counted.

    Examples
    --------
    >>> import numpy as np
    >>> conv = Conv2D(1, 16, 3, padding=1, rng=np.random.default_rng(0))
    >>> multiply_adds(conv, (1, 8, 8))  # 16 maps of 8 x 8 outputs, 9 products each
    9216
    """
    out = output_shape(layer, input_shape)
    if isinstance(layer, Conv2D):
        _, C_in, KH, KW = layer.params["W"].shape
        return int(out[0] * out[1] * out[2] * C_in * KH * KW)
    if isinstance(layer, Dense):
        n_out, n_in = layer.params["W"].shape
        return int(n_out * n_in)
    return 0


@dataclass(frozen=True)
class LayerSize:
    """One row of a sizing table: what one layer costs.

    Attributes
    ----------
    name : str
        :func:`describe` of the layer.
    output_shape : tuple of int
        One image's output.
    parameters : int
        Trainable numbers (eq. (4.3)).
    multiply_adds : int
        Per image, forward pass (eq. (4.4)).
    activations : int
        Numbers in one image's output, which training keeps until the
        backward pass.
    """

    name: str
    output_shape: Shape
    parameters: int
    multiply_adds: int
    activations: int

    def memory(self, batch_size: int, itemsize: int = 8) -> int:
        """Bytes of this layer's output for a batch (eq. (4.5)); float64: 8."""
        batch_size = check_positive_int("batch_size", batch_size)
        itemsize = check_positive_int("itemsize", itemsize)
        return self.activations * batch_size * itemsize


def layer_sizes(
    layers: Sequence[object], input_shape: Sequence[int]
) -> list[LayerSize]:
    """The sizing table of a model: one :class:`LayerSize` per layer.

    Parameters
    ----------
    layers : sequence of layers
        ``model.layers`` of a :class:`~cnnscratch.network.Sequential`.
    input_shape : tuple of int
        One input image, e.g. (1, 8, 8).

    Returns
    -------
    rows : list of LayerSize

    Notes
    -----
    Part 4, "Sizing a network", eqs. (4.3)–(4.5).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnscratch.network import digits_cnn
    >>> model = digits_cnn(rng=np.random.default_rng(0))
    >>> rows = layer_sizes(model.layers, (1, 8, 8))
    >>> [row.output_shape for row in rows]
    [(16, 8, 8), (16, 8, 8), (16, 4, 4), (256,), (10,)]
    >>> sum(row.parameters for row in rows), sum(row.multiply_adds for row in rows)
    (2730, 11776)
    """
    layers_ = _check_layer_list(layers)
    shape = _check_shape(input_shape)
    rows = []
    for i, layer in enumerate(layers_):
        try:
            out = output_shape(layer, shape)
        except ValueError as error:
            if i == 0:
                raise
            raise ValueError(
                f"layers[{i}] does not fit the output {shape} of layers[{i - 1}]: "
                f"{error}"
            ) from None
        size = 1
        for s in out:
            size *= s
        rows.append(
            LayerSize(
                describe(layer),
                out,
                parameter_count(layer),
                multiply_adds(layer, shape),
                size,
            )
        )
        shape = out
    return rows


def receptive_fields(layers: Sequence[object]) -> list[Pair | None]:
    """Receptive field (rows, columns) of one output pixel after every layer.

    The recurrence of Part 4, eq. (4.2): with ``J`` the distance in input
    pixels between neighbouring outputs of the layer below (the product of
    the strides so far), a layer with kernel ``k``, dilation ``d`` and stride
    ``s`` widens the field by ``d (k − 1) J`` and multiplies ``J`` by ``s``.
    Activations change neither. Padding does not enter: it moves the field,
    it does not widen it.

    Parameters
    ----------
    layers : sequence of layers
        ``model.layers``.

    Returns
    -------
    fields : list of (int, int) or None
        One entry per layer; ``None`` from the first Flatten or Dense layer
        on, whose outputs see the whole input.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> two_3x3 = [Conv2D(1, 1, 3, rng=rng), ReLU(), Conv2D(1, 1, 3, rng=rng)]
    >>> receptive_fields(two_3x3)  # the same field as one 5 x 5 kernel
    [(3, 3), (3, 3), (5, 5)]
    >>> pooled = [Conv2D(1, 1, 3, rng=rng), MaxPool2D(2), Conv2D(1, 1, 3, rng=rng)]
    >>> receptive_fields(pooled)  # after the pool, neighbours are 2 pixels apart
    [(3, 3), (4, 4), (8, 8)]
    """
    layers_ = _check_layer_list(layers)
    field, jump = [1, 1], [1, 1]
    fields: list[Pair | None] = []
    spatial = True
    for layer in layers_:
        if isinstance(layer, Flatten | Dense):
            spatial = False
        elif isinstance(layer, Conv2D | MaxPool2D) and spatial:
            kernel, stride, _, dilation = _conv_geometry(layer)
            for a in range(2):
                field[a] += dilation[a] * (kernel[a] - 1) * jump[a]
                jump[a] *= stride[a]
        elif not isinstance(layer, ReLU | Tanh | Sigmoid | Conv2D | MaxPool2D):
            raise _unknown(layer)
        fields.append((field[0], field[1]) if spatial else None)
    return fields
