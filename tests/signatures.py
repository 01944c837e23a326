"""The fuzz suite's table: every public function, class and method of cnnscratch.

Each entry says how to build a valid call (a callable and keyword
arguments, fresh every time) and what kind each argument is; the fuzz suite
(``tests/test_fuzz.py``) replaces one argument at a time by a bad value of
that kind. Entries that cannot be called with bad arguments (records,
protocols, argparse helpers) say why instead. ``test_every_public_name_is_in
_the_table`` fails when a public name is missing here.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnscratch import (
    activations,
    batchnorm,
    checkpoint,
    cli,
    conv,
    datasets,
    dense,
    exercises,
    gradcheck,
    init,
    layers,
    linear_system,
    losses,
    network,
    optim,
    pooling,
    sizing,
    transposed,
)


@dataclass(frozen=True)
class Arg:
    """One argument's kind, and for numbers the interval of valid values."""

    kind: str
    low: float = -np.inf
    high: float = np.inf
    low_open: bool = False
    high_open: bool = False


ARRAY = Arg("array")
POSITIVE = Arg("real", 0.0, low_open=True)
FRACTION = Arg("real", 0.0, 1.0, high_open=True)
OPEN_FRACTION = Arg("real", 0.0, 1.0, low_open=True, high_open=True)
COUNT = Arg("int", 1)
PAIR1 = Arg("pair", 1)  # stride, dilation, kernel: >= 1
PAIR0 = Arg("pair", 0)  # padding: >= 0
NON_NEGATIVE = Arg("real", 0.0)  # eps of batch norm: >= 0
CLOSED_FRACTION = Arg("real", 0.0, 1.0)  # momentum of batch norm: [0, 1]
FLAG = Arg("bool")


#: Hypothesis examples per fuzzed argument of an entry (at least 10 an entry).
PER_ARGUMENT = 8


@dataclass
class Ctx:
    """What the builders share: a folder for files and a seeded generator."""

    tmp: Path
    files: dict[str, Path] = field(default_factory=dict)

    def rng(self, seed: int = 0) -> np.random.Generator:
        return np.random.default_rng(seed)

    def normal(self, *shape: int, seed: int = 0) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal(shape)


Build = Callable[[Ctx], tuple[Callable[..., object], dict[str, object]]]


@dataclass
class Entry:
    """A public callable, how to call it validly, and which arguments to fuzz.

    ``mutates``: arguments a *successful* call may change (the parameters an
    optimiser updates, a generator it draws from); after a *failed* call
    every argument must be as it was. ``owner``: for a method, the object
    whose state must also survive a failed call unchanged.
    """

    name: str
    build: Build | None = None
    args: dict[str, Arg] = field(default_factory=dict)
    mutates: tuple[str, ...] = ()
    stateful_owner: bool = False
    skip: str | None = None
    examples: int | None = None  # default: PER_ARGUMENT per fuzzed argument

    def __post_init__(self) -> None:
        if self.examples is None:
            self.examples = max(10, PER_ARGUMENT * len(self.args))


def _fn(target: Callable[..., object], /, **kwargs: Callable[[Ctx], object]) -> Build:
    """A builder calling ``target`` with each keyword's value made by its maker."""

    def build(ctx: Ctx) -> tuple[Callable[..., object], dict[str, object]]:
        return target, {name: make(ctx) for name, make in kwargs.items()}

    return build


def arr(*shape: int, seed: int = 0, scale: float = 1.0) -> Callable[[Ctx], object]:
    return lambda ctx: scale * ctx.normal(*shape, seed=seed)


def const(value: object) -> Callable[[Ctx], object]:
    return lambda ctx: value


def onehot(N: int, K: int) -> Callable[[Ctx], object]:
    return lambda ctx: np.eye(K)[np.arange(N) % K]


def probs(N: int, K: int) -> Callable[[Ctx], object]:
    return lambda ctx: np.full((N, K), 1.0 / K)


def rng() -> Callable[[Ctx], object]:
    return lambda ctx: ctx.rng()


def small_mlp(ctx: Ctx) -> network.Sequential:
    return network.mlp([3, 4, 2], rng=ctx.rng(1))


def _method(
    make: Callable[[Ctx], object],
    method: str,
    prepare: Callable[[object, Ctx], None] | None = None,
    **kwargs: Callable[[Ctx], object],
) -> Build:
    """A builder for ``make(ctx).method(**kwargs)``; ``prepare`` runs first."""

    def build(ctx: Ctx) -> tuple[Callable[..., object], dict[str, object]]:
        owner = make(ctx)
        if prepare is not None:
            prepare(owner, ctx)
        return getattr(owner, method), {n: m(ctx) for n, m in kwargs.items()}

    return build


# --- Caches of every forward function, for the backward functions ----------


def bn_cache(ctx: Ctx) -> batchnorm.BatchNormCache:
    """A training-mode batch-norm cache of a (4, 3) batch."""
    gamma, beta = ctx.normal(3, seed=1), ctx.normal(3, seed=2)
    return batchnorm.batchnorm_forward(ctx.normal(4, 3), gamma, beta)[1]


def bn_eval_cache(ctx: Ctx) -> batchnorm.BatchNormCache:
    """An evaluation-mode cache of the same shapes as :func:`bn_cache`."""
    gamma, beta = ctx.normal(3, seed=1), ctx.normal(3, seed=2)
    mean, var = ctx.normal(3, seed=3), ctx.normal(3, seed=4) ** 2
    return batchnorm.batchnorm_eval_forward(ctx.normal(4, 3), gamma, beta, mean, var)[1]


TX = arr(1, 2, 3, 3)
TW = arr(2, 3, 2, 2, seed=1)
Tb = arr(3, seed=2)
T_OPTIONS = {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 1}


def transposed_cache(ctx: Ctx) -> transposed.TransposedCache:
    """The cache of a (1, 2, 3, 3) input through a stride-2 transposed conv."""
    return transposed.conv_transpose2d_forward(TX(ctx), TW(ctx), Tb(ctx), **T_OPTIONS)[
        1
    ]


def caches(ctx: Ctx) -> dict[str, object]:
    X = ctx.normal(1, 1, 4, 4)
    return {
        "batchnorm": bn_cache(ctx),
        "batchnorm eval": bn_eval_cache(ctx),
        "transposed": transposed_cache(ctx),
        "dense": dense.dense_forward(ctx.normal(2, 3), ctx.normal(2, 3), np.zeros(2))[
            1
        ],
        "conv": conv.conv2d_forward(X, ctx.normal(2, 1, 3, 3), np.zeros(2))[1],
        "max": pooling.maxpool2d_forward(X, 2)[1],
        "avg": pooling.avgpool2d_forward(X, 2)[1],
        "flatten": pooling.flatten_forward(X)[1],
    }


def cache_of(kind: str) -> Callable[[Ctx], object]:
    return lambda ctx: caches(ctx)[kind]


# --- Parameter files, good and bad ------------------------------------------


def _zip(path: Path, members: dict[str, bytes], **options: int) -> Path:
    with zipfile.ZipFile(path, "w", **options) as archive:  # type: ignore[arg-type]
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def parameter_files(ctx: Ctx) -> dict[str, Path]:
    """One good file for ``small_mlp`` and every kind of bad one, made once."""
    if ctx.files:
        return ctx.files
    tmp = ctx.tmp
    good = checkpoint.save_parameters(small_mlp(ctx), tmp / "good.npz")
    with zipfile.ZipFile(good) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    files = {"good": good}
    data = good.read_bytes()
    (tmp / "truncated.npz").write_bytes(data[: len(data) // 2])
    files["truncated"] = tmp / "truncated.npz"
    (tmp / "text.npz").write_text("not a zip file")
    files["text"] = tmp / "text.npz"
    files["missing"] = tmp / "absent.npz"
    files["folder"] = tmp
    files["text member"] = _zip(tmp / "member.npz", {**members, "readme.txt": b"hello"})
    files["directory entry"] = _zip(tmp / "dir.npz", {**members, "sub/": b""})
    flipped = bytearray(
        _zip(
            tmp / "deflate.npz", members, compression=zipfile.ZIP_DEFLATED
        ).read_bytes()
    )
    start = flipped.index(b"0.W.npy") + 60
    flipped[start : start + 16] = bytes(range(16))
    (tmp / "deflate.npz").write_bytes(bytes(flipped))
    files["corrupted deflate"] = tmp / "deflate.npz"
    encrypted = bytearray(good.read_bytes())
    for at in range(len(encrypted) - 4):
        if encrypted[at : at + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
            flag = at + (6 if encrypted[at + 2] == 3 else 8)
            encrypted[flag] |= 0x1
    (tmp / "encrypted.npz").write_bytes(bytes(encrypted))
    files["encrypted"] = tmp / "encrypted.npz"
    unknown = bytearray(good.read_bytes())
    for at in range(len(unknown) - 4):
        if unknown[at : at + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
            method = at + (8 if unknown[at + 2] == 3 else 10)
            unknown[method] = 99
    (tmp / "unknown.npz").write_bytes(bytes(unknown))
    files["unknown compression"] = tmp / "unknown.npz"
    header = bytearray(members["0.W.npy"])
    text = header[: header.index(b"\n") + 1].decode("latin1")
    huge = text.replace("(4, 3)", "(4000000000, 3)")
    huge = huge[:-1].ljust(len(text) - 1) + "\n"
    files["huge shape"] = _zip(
        tmp / "huge.npz",
        {**members, "0.W.npy": huge.encode("latin1") + bytes(header[len(text) :])},
    )
    nan = np.full((4, 3), np.nan)
    files["nan"] = _zip(tmp / "nan.npz", {**members, "0.W.npy": _npy(nan)})
    with np.errstate(over="ignore"):  # inf where long double is only a double
        huge = np.full((4, 3), 1e300, np.longdouble) ** 2
    files["longdouble"] = _zip(tmp / "long.npz", {**members, "0.W.npy": _npy(huge)})
    files["pickle"] = _zip(
        tmp / "pickle.npz",
        {**members, "0.W.npy": _npy(np.array([{"a": 1}], dtype=object))},
    )
    files["integers"] = _zip(
        tmp / "ints.npz", {**members, "0.W.npy": _npy(np.ones((4, 3), np.int64))}
    )
    files["foreign"] = tmp / "foreign.npz"
    np.savez(files["foreign"], weights=np.ones(3))
    files["other architecture"] = checkpoint.save_parameters(
        network.mlp([3, 5, 2], rng=ctx.rng()), tmp / "other.npz"
    )
    files["long name"] = tmp / ("x" * 300 + ".npz")
    ctx.files.update(files)
    return files


def good_file(ctx: Ctx) -> object:
    return parameter_files(ctx)["good"]


def fresh_path(ctx: Ctx) -> object:
    return ctx.tmp / "saved.npz"


# --- The table ----------------------------------------------------------------

RECORD = "a record the library builds and returns; it holds no checks of its own"
PROTOCOL = "a typing Protocol: it describes an interface and has no behaviour"

X4 = arr(2, 1, 5, 5)
W4 = arr(2, 1, 3, 3, seed=1)
b2 = arr(2, seed=2)
DY4 = arr(2, 2, 3, 3, seed=3)
CONV_ARGS = {
    "X": ARRAY,
    "W": ARRAY,
    "b": ARRAY,
    "stride": PAIR1,
    "padding": PAIR0,
    "dilation": PAIR1,
}
POOL_ARGS = {"X": ARRAY, "kernel": PAIR1, "stride": PAIR1}


def _elementwise(f: Callable[..., object], name: str) -> Entry:
    return Entry(
        f"activations.{f.__name__}", _fn(f, **{name: arr(2, 3)}), {name: ARRAY}
    )


def _pair_loss(f: Callable[..., object], first: str, make: Callable) -> Entry:
    return Entry(
        f"losses.{f.__name__}",
        _fn(f, **{first: make, "Y": onehot(3, 4)}),
        {first: ARRAY, "Y": ARRAY},
    )


def _layer_entries(
    name: str,
    make: Callable[[Ctx], object],
    X: Callable[[Ctx], object],
    dY: Callable[[Ctx], object],
    ctor_args: dict[str, Arg],
    ctor_kwargs: dict[str, Callable[[Ctx], object]],
) -> list[Entry]:
    cls = getattr(layers, name)
    return [
        Entry(f"layers.{name}", _fn(cls, **ctor_kwargs), ctor_args, mutates=("rng",)),
        Entry(
            f"layers.{name}.forward",
            _method(make, "forward", X=X),
            {"X": ARRAY},
            stateful_owner=True,
        ),
        Entry(
            f"layers.{name}.backward",
            _method(make, "backward", lambda layer, ctx: layer.forward(X(ctx)), dY=dY),
            {"dY": ARRAY},
            stateful_owner=True,
        ),
    ]


def bn_model(ctx: Ctx) -> network.Sequential:
    """Dense → BatchNorm1D → ReLU → Dense: a model with running statistics."""
    r = ctx.rng(1)
    return network.Sequential(
        [
            layers.Dense(3, 4, rng=r),
            layers.BatchNorm1D(4),
            layers.ReLU(),
            layers.Dense(4, 2, rng=r),
        ]
    )


def residual_block(ctx: Ctx) -> layers.Residual:
    """A dense residual block with batch norm inside and a dense shortcut."""
    r = ctx.rng(2)
    return layers.Residual(
        [layers.Dense(3, 3, rng=r), layers.BatchNorm1D(3), layers.ReLU()],
        [layers.Dense(3, 3, rng=r)],
    )


def small_conv(ctx: Ctx) -> layers.Conv2D:
    return layers.Conv2D(1, 2, 3, padding=1, rng=ctx.rng(3))


def _bn_entries(name: str, X: Callable, dY: Callable, features: int) -> list[Entry]:
    return _layer_entries(
        name,
        lambda ctx: getattr(layers, name)(features),
        X,
        dY,
        {"features": COUNT, "eps": NON_NEGATIVE, "momentum": CLOSED_FRACTION},
        {"features": const(features), "eps": const(1e-5), "momentum": const(0.1)},
    )


def _optimizer_step(cls: type) -> Build:
    def build(ctx: Ctx) -> tuple[Callable[..., object], dict[str, object]]:
        optimizer = cls(lr=0.1)
        params = {"w": ctx.normal(3), "b": ctx.normal(2, seed=1)}
        grads = {"w": ctx.normal(3, seed=2), "b": ctx.normal(2, seed=3)}
        optimizer.step(params, grads)  # some state to keep
        return optimizer.step, {"params": params, "grads": grads}

    return build


def _fit(ctx: Ctx) -> tuple[Callable[..., object], dict[str, object]]:
    X = ctx.normal(6, 3)
    return network.fit, {
        "model": small_mlp(ctx),
        "optimizer": optim.Adam(lr=0.01),
        "X": X,
        "Y": onehot(6, 2)(ctx),
        "epochs": 2,
        "batch_size": 4,
        "rng": ctx.rng(5),
        "validation": (ctx.normal(4, 3, seed=1), onehot(4, 2)(ctx)),
        "on_step": lambda loss: None,
        "evaluate_training": True,
    }


def _train_step(ctx: Ctx) -> tuple[Callable[..., object], dict[str, object]]:
    return network.train_step, {
        "model": small_mlp(ctx),
        "optimizer": optim.SGD(lr=0.1),
        "X": ctx.normal(4, 3),
        "Y": onehot(4, 2)(ctx),
    }


TABLE: list[Entry] = [
    # activations
    *[
        _elementwise(f, "z")
        for f in (
            activations.sigmoid,
            activations.sigmoid_derivative,
            activations.tanh,
            activations.tanh_derivative,
            activations.relu,
            activations.relu_derivative,
        )
    ],
    _elementwise(activations.sigmoid_derivative_from_output, "s"),
    _elementwise(activations.tanh_derivative_from_output, "t"),
    Entry("activations.softmax", _fn(activations.softmax, Z=arr(2, 3)), {"Z": ARRAY}),
    Entry(
        "activations.softmax_jacobian",
        _fn(activations.softmax_jacobian, z=arr(3)),
        {"z": ARRAY},
    ),
    Entry(
        "activations.softmax_backward",
        _fn(activations.softmax_backward, dS=arr(2, 3), S=probs(2, 3)),
        {"dS": ARRAY, "S": ARRAY},
    ),
    # losses
    _pair_loss(losses.mse, "Y_hat", arr(3, 4)),
    _pair_loss(losses.mse_gradient, "Y_hat", arr(3, 4)),
    Entry("losses.log_softmax", _fn(losses.log_softmax, Z=arr(3, 4)), {"Z": ARRAY}),
    _pair_loss(losses.cross_entropy, "P", probs(3, 4)),
    _pair_loss(losses.cross_entropy_gradient, "P", probs(3, 4)),
    _pair_loss(losses.softmax_cross_entropy, "Z", arr(3, 4)),
    _pair_loss(losses.softmax_cross_entropy_gradient, "Z", arr(3, 4)),
    # gradcheck
    Entry(
        "gradcheck.numerical_jacobian",
        _fn(
            gradcheck.numerical_jacobian,
            f=const(np.sin),
            x=arr(3),
            h=const(1e-6),
            order=const("C"),
        ),
        {"f": Arg("callable"), "x": ARRAY, "h": POSITIVE, "order": Arg("choice")},
    ),
    Entry(
        "gradcheck.numerical_gradient",
        _fn(
            gradcheck.numerical_gradient,
            f=const(lambda v: np.sum(v**2)),
            x=arr(3),
            h=const(1e-6),
        ),
        {"f": Arg("callable"), "x": ARRAY, "h": POSITIVE},
    ),
    Entry(
        "gradcheck.relative_error",
        _fn(gradcheck.relative_error, a=arr(2, 3), b=arr(2, 3, seed=1)),
        {"a": ARRAY, "b": ARRAY},
    ),
    Entry(
        "gradcheck.gradients_match",
        _fn(gradcheck.gradients_match, analytic=arr(3), numeric=arr(3)),
        {"analytic": ARRAY, "numeric": ARRAY},
    ),
    # dense
    *[
        Entry(
            f"dense.{f.__name__}",
            _fn(f, W=arr(2, 3), x=arr(3, seed=1), b=arr(2, seed=2)),
            {"W": ARRAY, "x": ARRAY, "b": ARRAY},
        )
        for f in (
            dense.affine,
            dense.layer_output,
            dense.jacobian_a_wrt_z,
            dense.jacobian_a_wrt_W,
            dense.jacobian_a_wrt_b,
        )
    ],
    Entry(
        "dense.jacobian_z_wrt_b",
        _fn(dense.jacobian_z_wrt_b, n_out=const(3)),
        {"n_out": COUNT},
    ),
    Entry(
        "dense.jacobian_z_wrt_W",
        _fn(dense.jacobian_z_wrt_W, x=arr(3), n_out=const(2)),
        {"x": ARRAY, "n_out": COUNT},
    ),
    Entry(
        "dense.flatten_weight_jacobian",
        _fn(dense.flatten_weight_jacobian, T=arr(2, 2, 3)),
        {"T": ARRAY},
    ),
    Entry("dense.DenseCache", skip=RECORD),
    Entry(
        "dense.dense_forward",
        _fn(dense.dense_forward, X=arr(4, 3), W=arr(2, 3, seed=1), b=arr(2, seed=2)),
        {"X": ARRAY, "W": ARRAY, "b": ARRAY},
    ),
    Entry(
        "dense.dense_backward",
        _fn(dense.dense_backward, dZ=arr(2, 2), cache=cache_of("dense")),
        {"dZ": ARRAY, "cache": Arg("cache")},
    ),
    # linear_system
    *[
        Entry(
            f"linear_system.{f.__name__}",
            _fn(f, A=arr(3, 2), x=arr(2, seed=1), b=arr(3, seed=2)),
            {"A": ARRAY, "x": ARRAY, "b": ARRAY},
        )
        for f in (
            linear_system.residual,
            linear_system.objective,
            linear_system.objective_gradient,
        )
    ],
    Entry(
        "linear_system.residual_jacobian",
        _fn(linear_system.residual_jacobian, A=arr(3, 2)),
        {"A": ARRAY},
    ),
    Entry(
        "linear_system.stability_limit",
        _fn(linear_system.stability_limit, A=arr(3, 2)),
        {"A": ARRAY},
    ),
    Entry(
        "linear_system.gradient_descent",
        _fn(
            linear_system.gradient_descent,
            A=const(np.array([[4.0, 2.0], [3.0, 8.0]])),
            b=const(np.array([22.0, 49.0])),
            x0=const(np.zeros(2)),
            learning_rate=const(0.01),
            tol=const(1e-6),
            max_steps=const(50),
        ),
        {
            "A": ARRAY,
            "b": ARRAY,
            "x0": ARRAY,
            "learning_rate": POSITIVE,
            "tol": POSITIVE,
            "max_steps": COUNT,
        },
    ),
    Entry("linear_system.DescentResult", skip=RECORD),
    # conv
    Entry(
        "conv.as_pair",
        _fn(conv.as_pair, name=const("stride"), value=const((1, 2)), minimum=const(1)),
        {"value": PAIR1, "minimum": Arg("int", 0)},
    ),
    Entry(
        "conv.conv_output_size",
        _fn(
            conv.conv_output_size,
            H=const(7),
            k=const(3),
            stride=const(2),
            padding=const(1),
            dilation=const(1),
        ),
        {
            "H": COUNT,
            "k": COUNT,
            "stride": COUNT,
            "padding": Arg("int", 0),
            "dilation": COUNT,
        },
    ),
    Entry("conv.ConvGeometry", skip=RECORD),
    Entry("conv.ConvCache", skip=RECORD),
    Entry(
        "conv.pad",
        _fn(conv.pad, X=X4, padding=const(1)),
        {"X": ARRAY, "padding": PAIR0},
    ),
    *[
        Entry(
            f"conv.{f.__name__}",
            _fn(
                f,
                X=X4,
                W=W4,
                b=b2,
                stride=const(1),
                padding=const(0),
                dilation=const(1),
            ),
            CONV_ARGS,
        )
        for f in (
            conv.conv2d_forward,
            conv.conv2d_forward_im2col,
            conv.conv2d_forward_loops,
        )
    ],
    *[
        Entry(
            f"conv.{f.__name__}",
            _fn(
                f,
                dY=DY4,
                cache=lambda ctx: conv.conv2d_forward(X4(ctx), W4(ctx), b2(ctx))[1],
            ),
            {"dY": ARRAY, "cache": Arg("cache")},
        )
        for f in (
            conv.conv2d_backward,
            conv.conv2d_backward_im2col,
            conv.conv2d_backward_loops,
        )
    ],
    Entry(
        "conv.im2col",
        _fn(
            conv.im2col,
            X=X4,
            kernel=const(3),
            stride=const(1),
            padding=const(0),
            dilation=const(1),
        ),
        {
            "X": ARRAY,
            "kernel": PAIR1,
            "stride": PAIR1,
            "padding": PAIR0,
            "dilation": PAIR1,
        },
    ),
    Entry(
        "conv.col2im",
        _fn(
            conv.col2im,
            cols=arr(18, 9),
            X_shape=const((2, 1, 5, 5)),
            kernel=const(3),
            stride=const(1),
            padding=const(0),
            dilation=const(1),
        ),
        {
            "cols": ARRAY,
            "X_shape": Arg("shape"),
            "kernel": PAIR1,
            "stride": PAIR1,
            "padding": PAIR0,
            "dilation": PAIR1,
        },
    ),
    Entry(
        "conv.dilate",
        _fn(conv.dilate, dY=DY4, stride=const(2)),
        {"dY": ARRAY, "stride": PAIR1},
    ),
    Entry(
        "conv.conv2d_input_gradient_flipped",
        _fn(
            conv.conv2d_input_gradient_flipped,
            dY=DY4,
            W=W4,
            X_shape=const((2, 1, 5, 5)),
            stride=const(1),
            padding=const(0),
            dilation=const(1),
        ),
        {
            "dY": ARRAY,
            "W": ARRAY,
            "X_shape": Arg("shape"),
            "stride": PAIR1,
            "padding": PAIR0,
            "dilation": PAIR1,
        },
    ),
    # batchnorm
    Entry("batchnorm.BatchNormCache", skip=RECORD),
    Entry(
        "batchnorm.batchnorm_forward",
        _fn(
            batchnorm.batchnorm_forward,
            X=arr(4, 3),
            gamma=arr(3, seed=1),
            beta=arr(3, seed=2),
            eps=const(1e-5),
        ),
        {"X": ARRAY, "gamma": ARRAY, "beta": ARRAY, "eps": NON_NEGATIVE},
    ),
    Entry(
        "batchnorm.batchnorm_eval_forward",
        _fn(
            batchnorm.batchnorm_eval_forward,
            X=arr(2, 3, 2, 2),
            gamma=arr(3, seed=1),
            beta=arr(3, seed=2),
            running_mean=arr(3, seed=3),
            running_var=lambda ctx: ctx.normal(3, seed=4) ** 2,
            eps=const(1e-5),
        ),
        {
            "X": ARRAY,
            "gamma": ARRAY,
            "beta": ARRAY,
            "running_mean": ARRAY,
            "running_var": ARRAY,
            "eps": NON_NEGATIVE,
        },
    ),
    Entry(
        "batchnorm.check_eps",
        _fn(batchnorm.check_eps, eps=const(1e-5)),
        {"eps": NON_NEGATIVE},
    ),
    Entry(
        "batchnorm.check_momentum",
        _fn(batchnorm.check_momentum, momentum=const(0.1)),
        {"momentum": CLOSED_FRACTION},
    ),
    Entry(
        "batchnorm.check_running_stats",
        _fn(
            batchnorm.check_running_stats,
            C=const(3),
            running_mean=arr(3),
            running_var=lambda ctx: ctx.normal(3, seed=1) ** 2,
        ),
        {"C": COUNT, "running_mean": ARRAY, "running_var": ARRAY},
    ),
    Entry(
        "batchnorm.values_per_channel",
        _fn(batchnorm.values_per_channel, X_shape=const((8, 3, 4, 4))),
        {"X_shape": Arg("shape")},
    ),
    Entry(
        "batchnorm.update_running_stats",
        _fn(
            batchnorm.update_running_stats,
            running_mean=arr(3, seed=5),
            running_var=lambda ctx: ctx.normal(3, seed=6) ** 2,
            cache=bn_cache,
            momentum=const(0.1),
        ),
        {
            "running_mean": ARRAY,
            "running_var": ARRAY,
            "cache": Arg("cache"),
            "momentum": CLOSED_FRACTION,
        },
    ),
    *[
        Entry(
            f"batchnorm.{f.__name__}",
            _fn(f, dY=arr(4, 3, seed=7), cache=bn_cache),
            {"dY": ARRAY, "cache": Arg("cache")},
        )
        for f in (batchnorm.batchnorm_backward, batchnorm.batchnorm_backward_steps)
    ],
    # transposed
    Entry("transposed.TransposedGeometry", skip=RECORD),
    Entry("transposed.TransposedCache", skip=RECORD),
    Entry(
        "transposed.conv_transpose_output_size",
        _fn(
            transposed.conv_transpose_output_size,
            H=const(3),
            k=const(3),
            stride=const(2),
            padding=const(1),
            output_padding=const(1),
            dilation=const(1),
        ),
        {
            "H": COUNT,
            "k": COUNT,
            "stride": COUNT,
            "padding": Arg("int", 0),
            "output_padding": Arg("int", 0),
            "dilation": COUNT,
        },
    ),
    *[
        Entry(
            f"transposed.{f.__name__}",
            _fn(f, X=TX, W=TW, b=Tb, **{k: const(v) for k, v in T_OPTIONS.items()}),
            {**CONV_ARGS, "output_padding": PAIR0},
        )
        for f in (
            transposed.conv_transpose2d_forward,
            transposed.conv_transpose2d_forward_loops,
        )
    ],
    Entry(
        "transposed.conv_transpose2d_backward",
        _fn(
            transposed.conv_transpose2d_backward,
            dY=arr(1, 3, 5, 5, seed=3),
            cache=transposed_cache,
        ),
        {"dY": ARRAY, "cache": Arg("cache")},
    ),
    # pooling
    Entry("pooling.PoolCache", skip=RECORD),
    *[
        Entry(
            f"pooling.{f.__name__}",
            _fn(f, X=X4, kernel=const(2), stride=const(1)),
            POOL_ARGS,
        )
        for f in (
            pooling.maxpool2d_forward,
            pooling.maxpool2d_forward_loops,
            pooling.avgpool2d_forward,
            pooling.avgpool2d_forward_loops,
        )
    ],
    *[
        Entry(
            f"pooling.{f.__name__}",
            _fn(f, dY=arr(1, 1, 2, 2), cache=cache_of(kind)),
            {"dY": ARRAY, "cache": Arg("cache")},
        )
        for f, kind in (
            (pooling.maxpool2d_backward, "max"),
            (pooling.maxpool2d_backward_loops, "max"),
            (pooling.avgpool2d_backward, "avg"),
            (pooling.avgpool2d_backward_loops, "avg"),
        )
    ],
    Entry("pooling.flatten_forward", _fn(pooling.flatten_forward, X=X4), {"X": ARRAY}),
    Entry(
        "pooling.flatten_backward",
        _fn(pooling.flatten_backward, dZ=arr(1, 16), cache=cache_of("flatten")),
        {"dZ": ARRAY, "cache": Arg("cache")},
    ),
    Entry(
        "pooling.global_avgpool2d_forward",
        _fn(pooling.global_avgpool2d_forward, X=arr(2, 3, 4, 4)),
        {"X": ARRAY},
    ),
    Entry(
        "pooling.global_avgpool2d_backward",
        _fn(
            pooling.global_avgpool2d_backward,
            dY=arr(2, 3),
            cache=const((2, 3, 4, 4)),
        ),
        {"dY": ARRAY, "cache": Arg("cache")},
    ),
    # init
    *[
        Entry(
            f"init.{f.__name__}",
            _fn(f, shape=const((4, 3, 2, 2)), rng=rng()),
            {"shape": Arg("shape"), "rng": Arg("rng")},
            mutates=("rng",),
        )
        for f in (init.xavier_uniform, init.he_normal)
    ],
    # datasets
    Entry(
        "datasets.one_hot",
        _fn(datasets.one_hot, labels=const(np.array([2, 0, 1])), n_classes=const(3)),
        {"labels": Arg("labels"), "n_classes": COUNT},
    ),
    Entry(
        "datasets.stratified_split",
        _fn(
            datasets.stratified_split,
            labels=const(np.array([0] * 8 + [1] * 4)),
            test_fraction=const(0.25),
            rng=rng(),
        ),
        {"labels": Arg("labels"), "test_fraction": OPEN_FRACTION, "rng": Arg("rng")},
        mutates=("rng",),
    ),
    Entry(
        "datasets.load_digits",
        _fn(datasets.load_digits, test_fraction=const(0.25), seed=const(0)),
        {"test_fraction": OPEN_FRACTION, "seed": Arg("int", 0)},
        examples=4,  # a successful call reads scikit-learn's data files
    ),
    Entry(
        "datasets.shift_images",
        _fn(datasets.shift_images, X=arr(2, 1, 4, 4), rows=const(1), cols=const(-1)),
        {"X": ARRAY, "rows": Arg("int", -3), "cols": Arg("int", -3)},
    ),
    Entry("datasets.Digits", skip=RECORD),
    # layers
    *_layer_entries(
        "Dense",
        lambda ctx: layers.Dense(3, 2, rng=ctx.rng()),
        arr(4, 3),
        arr(4, 2),
        {"n_in": COUNT, "n_out": COUNT, "rng": Arg("rng"), "init": Arg("choice")},
        {"n_in": const(3), "n_out": const(2), "rng": rng(), "init": const("he")},
    ),
    *[
        entry
        for name in ("ReLU", "Tanh", "Sigmoid")
        for entry in _layer_entries(
            name, lambda ctx, n=name: getattr(layers, n)(), arr(2, 3), arr(2, 3), {}, {}
        )
    ],
    *_layer_entries(
        "Conv2D",
        lambda ctx: layers.Conv2D(1, 2, 3, padding=1, rng=ctx.rng()),
        X4,
        arr(2, 2, 5, 5),
        {
            "in_channels": COUNT,
            "out_channels": COUNT,
            "kernel_size": PAIR1,
            "rng": Arg("rng"),
            "stride": PAIR1,
            "padding": PAIR0,
            "dilation": PAIR1,
        },
        {
            "in_channels": const(1),
            "out_channels": const(2),
            "kernel_size": const(3),
            "rng": rng(),
            "stride": const(1),
            "padding": const(1),
            "dilation": const(1),
        },
    ),
    *_layer_entries(
        "MaxPool2D",
        lambda ctx: layers.MaxPool2D(2),
        arr(2, 1, 4, 4),
        arr(2, 1, 2, 2),
        {"kernel": PAIR1, "stride": PAIR1},
        {"kernel": const(2), "stride": const(2)},
    ),
    *_layer_entries("Flatten", lambda ctx: layers.Flatten(), X4, arr(2, 25), {}, {}),
    *_bn_entries("BatchNorm1D", arr(4, 3), arr(4, 3, seed=1), 3),
    *_bn_entries("BatchNorm2D", arr(2, 3, 2, 2), arr(2, 3, 2, 2, seed=1), 3),
    *_layer_entries(
        "GlobalAvgPool2D",
        lambda ctx: layers.GlobalAvgPool2D(),
        arr(2, 3, 4, 4),
        arr(2, 3),
        {},
        {},
    ),
    *_layer_entries(
        "ConvTranspose2D",
        lambda ctx: layers.ConvTranspose2D(2, 3, 2, rng=ctx.rng(), **T_OPTIONS),
        TX,
        arr(1, 3, 5, 5, seed=3),
        {
            "in_channels": COUNT,
            "out_channels": COUNT,
            "kernel_size": PAIR1,
            "rng": Arg("rng"),
            "stride": PAIR1,
            "padding": PAIR0,
            "output_padding": PAIR0,
            "dilation": PAIR1,
        },
        {
            "in_channels": const(2),
            "out_channels": const(3),
            "kernel_size": const(2),
            "rng": rng(),
            **{k: const(v) for k, v in T_OPTIONS.items()},
        },
    ),
    Entry(
        "layers.Residual",
        _fn(
            layers.Residual,
            body=lambda ctx: [layers.Dense(3, 3, rng=ctx.rng()), layers.ReLU()],
            shortcut=lambda ctx: [layers.Dense(3, 3, rng=ctx.rng(1))],
        ),
        {"body": Arg("layers"), "shortcut": Arg("layers")},
    ),
    Entry(
        "layers.Residual.forward",
        _method(residual_block, "forward", X=arr(4, 3)),
        {"X": ARRAY},
        stateful_owner=True,  # training mode: the running statistics inside
    ),
    Entry(
        "layers.Residual.backward",
        _method(
            residual_block,
            "backward",
            lambda block, ctx: block.forward(ctx.normal(4, 3)),
            dY=arr(4, 3, seed=1),
        ),
        {"dY": ARRAY},
        stateful_owner=True,
    ),
    Entry(
        "layers.Residual.projection",
        _fn(
            layers.Residual.projection,
            in_channels=const(2),
            out_channels=const(4),
            rng=rng(),
            stride=const(2),
        ),
        {
            "in_channels": COUNT,
            "out_channels": COUNT,
            "rng": Arg("rng"),
            "stride": PAIR1,
        },
        mutates=("rng",),
    ),
    Entry(
        "layers.set_training",
        _fn(
            layers.set_training,
            layers=lambda ctx: [layers.BatchNorm1D(3), residual_block(ctx)],
            mode=const(False),
        ),
        {"layers": Arg("layers"), "mode": FLAG},
        mutates=("layers",),
    ),
    # network
    Entry("network.Layer", skip=PROTOCOL),
    Entry("network.Layer.forward", skip=PROTOCOL),
    Entry("network.Layer.backward", skip=PROTOCOL),
    Entry("network.Optimizer", skip=PROTOCOL),
    Entry("network.Optimizer.step", skip=PROTOCOL),
    Entry("network.History", skip=RECORD),
    Entry("network.DivergenceError", skip="an exception class: raised, not called"),
    Entry(
        "network.Sequential",
        _fn(
            network.Sequential,
            layers=lambda ctx: [layers.Dense(3, 2, rng=ctx.rng()), layers.ReLU()],
        ),
        {"layers": Arg("layers")},
    ),
    Entry(
        "network.Sequential.forward",
        _method(small_mlp, "forward", X=arr(4, 3)),
        {"X": ARRAY},
        stateful_owner=True,
    ),
    Entry(
        "network.Sequential.backward",
        _method(
            small_mlp,
            "backward",
            lambda m, ctx: m.forward(ctx.normal(4, 3)),
            dY=arr(4, 2),
        ),
        {"dY": ARRAY},
        stateful_owner=True,
    ),
    Entry("network.Sequential.parameters", _method(small_mlp, "parameters")),
    Entry("network.Sequential.gradients", _method(small_mlp, "gradients")),
    Entry(
        "network.Sequential.load_parameters",
        _method(
            small_mlp,
            "load_parameters",
            arrays=lambda ctx: {
                name: value + 1 for name, value in small_mlp(ctx).parameters().items()
            },
        ),
        {"arrays": Arg("mapping")},
        stateful_owner=True,
    ),
    Entry("network.Sequential.buffers", _method(bn_model, "buffers")),
    Entry(
        "network.Sequential.load_buffers",
        _method(
            bn_model,
            "load_buffers",
            arrays=lambda ctx: {
                name: value + 1 for name, value in bn_model(ctx).buffers().items()
            },
        ),
        {"arrays": Arg("mapping")},
        stateful_owner=True,
    ),
    Entry(
        "network.Sequential.train",
        _method(bn_model, "train", mode=const(False)),
        {"mode": FLAG},
        stateful_owner=True,
    ),
    Entry("network.Sequential.eval", _method(bn_model, "eval")),
    Entry(
        "network.mlp",
        _fn(network.mlp, sizes=const([3, 4, 2]), rng=rng(), activation=const("tanh")),
        {"sizes": Arg("sizes"), "rng": Arg("rng"), "activation": Arg("choice")},
        mutates=("rng",),
    ),
    Entry(
        "network.digits_cnn",
        _fn(network.digits_cnn, rng=rng(), filters=const(2)),
        {"rng": Arg("rng"), "filters": COUNT},
        mutates=("rng",),
    ),
    Entry(
        "network.digits_deep_cnn",
        _fn(network.digits_deep_cnn, rng=rng(), filters=const((2, 3))),
        {"rng": Arg("rng"), "filters": PAIR1},
        mutates=("rng",),
    ),
    Entry(
        "network.digits_resnet",
        _fn(network.digits_resnet, rng=rng(), channels=const(2)),
        {"rng": Arg("rng"), "channels": COUNT},
        mutates=("rng",),
    ),
    Entry(
        "network.minibatches",
        _fn(network.minibatches, n_samples=const(10), batch_size=const(4), rng=rng()),
        {"n_samples": COUNT, "batch_size": COUNT, "rng": Arg("rng")},
        mutates=("rng",),
    ),
    Entry(
        "network.train_step",
        _train_step,
        {"model": Arg("model"), "optimizer": Arg("optimizer"), "X": ARRAY, "Y": ARRAY},
        mutates=("model", "optimizer"),
    ),
    Entry(
        "network.predict",
        _fn(network.predict, model=small_mlp, X=arr(4, 3)),
        {"model": Arg("model"), "X": ARRAY},
    ),
    Entry(
        "network.accuracy",
        _fn(
            network.accuracy,
            model=small_mlp,
            X=arr(4, 3),
            labels=const(np.array([0, 1, 1, 0])),
        ),
        {"model": Arg("model"), "X": ARRAY, "labels": Arg("labels")},
    ),
    Entry(
        "network.fit",
        _fit,
        {
            "model": Arg("model"),
            "optimizer": Arg("optimizer"),
            "X": ARRAY,
            "Y": ARRAY,
            "epochs": COUNT,
            "batch_size": COUNT,
            "rng": Arg("rng"),
            "validation": Arg("validation"),
            "on_step": Arg("callable"),
            "evaluate_training": FLAG,
        },
        mutates=("model", "optimizer", "rng"),
    ),
    # optim
    Entry(
        "optim.sgd_momentum_update",
        _fn(
            optim.sgd_momentum_update,
            param=arr(3),
            grad=arr(3, seed=1),
            velocity=arr(3, seed=2),
            lr=const(0.1),
            momentum=const(0.9),
        ),
        {
            "param": ARRAY,
            "grad": ARRAY,
            "velocity": ARRAY,
            "lr": POSITIVE,
            "momentum": FRACTION,
        },
    ),
    Entry(
        "optim.adam_update",
        _fn(
            optim.adam_update,
            param=arr(3),
            grad=arr(3, seed=1),
            m=arr(3, seed=2),
            v=lambda ctx: ctx.normal(3, seed=3) ** 2,
            t=const(3),
            lr=const(0.1),
            beta1=const(0.9),
            beta2=const(0.999),
            eps=const(1e-8),
        ),
        {
            "param": ARRAY,
            "grad": ARRAY,
            "m": ARRAY,
            "v": ARRAY,
            "t": COUNT,
            "lr": POSITIVE,
            "beta1": FRACTION,
            "beta2": FRACTION,
            "eps": POSITIVE,
        },
    ),
    Entry(
        "optim.SGD",
        _fn(optim.SGD, lr=const(0.1), momentum=const(0.5)),
        {"lr": POSITIVE, "momentum": FRACTION},
    ),
    Entry(
        "optim.Adam",
        _fn(
            optim.Adam,
            lr=const(0.1),
            beta1=const(0.9),
            beta2=const(0.99),
            eps=const(1e-8),
        ),
        {"lr": POSITIVE, "beta1": FRACTION, "beta2": FRACTION, "eps": POSITIVE},
    ),
    *[
        Entry(
            f"optim.{cls.__name__}.step",
            _optimizer_step(cls),
            {"params": Arg("params"), "grads": Arg("grads")},
            mutates=("params",),
            stateful_owner=True,
        )
        for cls in (optim.SGD, optim.Adam)
    ],
    # checkpoint
    Entry("checkpoint.HasParameters", skip=PROTOCOL),
    Entry("checkpoint.HasParameters.parameters", skip=PROTOCOL),
    Entry(
        "checkpoint.save_parameters",
        _fn(checkpoint.save_parameters, model=small_mlp, path=fresh_path),
        {"model": Arg("model"), "path": Arg("path")},
    ),
    Entry(
        "checkpoint.read_parameters",
        _fn(checkpoint.read_parameters, path=good_file),
        {"path": Arg("paramfile")},
    ),
    Entry(
        "checkpoint.load_parameters",
        _fn(checkpoint.load_parameters, model=small_mlp, path=good_file),
        {"model": Arg("model"), "path": Arg("paramfile")},
        mutates=("model",),
    ),
    # cli
    Entry(
        "cli.build_model",
        _fn(cli.build_model, name=const("mlp"), rng=rng()),
        {"name": Arg("choice"), "rng": Arg("rng")},
        mutates=("rng",),
    ),
    Entry(
        "cli.build_optimizer",
        _fn(cli.build_optimizer, name=const("cnn"), lr=const(0.01)),
        {"name": Arg("choice"), "lr": POSITIVE},
    ),
    Entry(
        "cli.main",
        _fn(cli.main, argv=const(["train", "--no-progress", "--epochs", "1"])),
        {"argv": Arg("argv")},
    ),
    Entry("cli.make_parser", skip="no arguments; its options are fuzzed through main"),
    Entry(
        "cli.train", skip="called by main with a parsed namespace; fuzzed through main"
    ),
    *[
        Entry(
            f"cli.{name}",
            skip="an argparse type: raises ArgumentTypeError, fuzzed through main",
        )
        for name in (
            "positive_int",
            "epochs_int",
            "seed_int",
            "positive_float",
            "output_path",
        )
    ],
    Entry("cli.LabDefaults", skip="a TypedDict describing DEFAULTS"),
    Entry(
        "cli.add_exercise_commands",
        skip="adds subparsers to make_parser's parser; fuzzed through main",
    ),
    *[
        Entry(
            f"cli.{name}",
            skip="called by main with a parsed namespace; tested in test_cli.py",
        )
        for name in ("exercise", "check")
    ],
    # exercises
    *[
        Entry(
            f"exercises.{f.__name__}",
            _fn(f, name=const("dense_backward")),
            {"name": Arg("choice")},
        )
        for f in (exercises.get, exercises.starter)
    ],
    *[
        Entry(
            f"exercises.{name}",
            skip=(
                "runs the reader's code in a child process per check (too slow to "
                "fuzz); every usage error is tested in tests/test_exercises.py"
            ),
        )
        for name in ("check", "check_file")
    ],
    Entry(
        "exercises.write_starter",
        skip=(
            "writes a file once and then refuses to overwrite it; its refusals "
            "are tested in tests/test_exercises.py and test_cli.py"
        ),
    ),
    # sizing
    Entry(
        "sizing.describe",
        _fn(sizing.describe, layer=small_conv),
        {"layer": Arg("layer")},
    ),
    Entry(
        "sizing.parameter_count",
        _fn(sizing.parameter_count, layer=small_conv),
        {"layer": Arg("layer")},
    ),
    *[
        Entry(
            f"sizing.{f.__name__}",
            _fn(f, layer=small_conv, input_shape=const((1, 8, 8))),
            {"layer": Arg("layer"), "input_shape": Arg("shape")},
        )
        for f in (sizing.output_shape, sizing.multiply_adds)
    ],
    Entry(
        "sizing.layer_sizes",
        _fn(
            sizing.layer_sizes,
            layers=lambda ctx: network.digits_cnn(rng=ctx.rng(), filters=2).layers,
            input_shape=const((1, 8, 8)),
        ),
        {"layers": Arg("layers"), "input_shape": Arg("shape")},
    ),
    Entry(
        "sizing.receptive_fields",
        _fn(
            sizing.receptive_fields,
            layers=lambda ctx: network.digits_cnn(rng=ctx.rng(), filters=2).layers,
        ),
        {"layers": Arg("layers")},
    ),
    Entry("sizing.LayerSize", skip=RECORD),
    Entry(
        "sizing.LayerSize.memory",
        _method(
            lambda ctx: sizing.LayerSize("Dense 4 → 2", (2,), 10, 8, 2),
            "memory",
            batch_size=const(32),
            itemsize=const(8),
        ),
        {"batch_size": COUNT, "itemsize": COUNT},
    ),
    # printing
    Entry("printing.set_print_policy", skip="no arguments to corrupt"),
    Entry("printing.print_policy", skip="no arguments to corrupt"),
]

BY_NAME = {entry.name: entry for entry in TABLE}
assert len(BY_NAME) == len(TABLE), "an entry appears twice"
