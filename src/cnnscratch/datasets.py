"""Scikit-learn's bundled 8x8 handwritten digits, ready for training.

:func:`sklearn.datasets.load_digits` ships 1797 grey-level images of the
digits 0-9 inside the scikit-learn package: real data, no download. This
module scales them to [0, 1], one-hot encodes the labels and splits them
into a training and a test set with the same proportion of each digit
(a stratified split), reproducibly from a seed.

Only :func:`load_digits` needs scikit-learn, for its data file; NumPy stays
the only dependency of the rest of the package.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import (
    FloatArray,
    check_array,
    check_entries,
    check_int,
    check_labels,
    check_positive_int,
    check_real,
    check_rng,
)

IntArray = NDArray[np.intp]


def one_hot(labels: ArrayLike, n_classes: int) -> FloatArray:
    """Rows of the identity: ``Y[n, labels[n]] = 1``, every other entry 0.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
        Each in ``range(n_classes)``.
    n_classes : int
        K.

    Returns
    -------
    Y : ndarray, shape (N, K)

    Examples
    --------
    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    n_classes = check_positive_int("n_classes", n_classes)
    labels_ = check_labels("labels", labels, n_classes)
    check_entries("n_classes", (labels_.size, n_classes))
    Y: FloatArray = np.zeros((labels_.size, n_classes))
    Y[np.arange(labels_.size), labels_] = 1.0  # row n of the identity, no K x K
    return Y


def stratified_split(
    labels: ArrayLike, test_fraction: float, *, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Indices of a train/test split that keeps each class's proportion.

    For every class, ``round(test_fraction * count)`` of its samples, drawn
    with ``rng``, go to the test set and the rest to the training set. Both
    index arrays come back shuffled.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
    test_fraction : float
        In (0, 1).
    rng : numpy.random.Generator

    Returns
    -------
    train_idx, test_idx : ndarray of int
        Disjoint; together they are ``range(N)``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([0] * 8 + [1] * 4)
    >>> train, test = stratified_split(labels, 0.25, rng=np.random.default_rng(0))
    >>> np.bincount(labels[test]), np.bincount(labels[train])
    (array([2, 1]), array([6, 3]))
    """
    labels_ = check_labels("labels", labels)
    fraction = check_real(
        "test_fraction", test_fraction, 0, 1, low_open=True, high_open=True
    )
    rng = check_rng("rng", rng)
    counts = np.unique(labels_, return_counts=True)[1]
    n_test = sum(round(fraction * int(count)) for count in counts)
    if not 0 < n_test < labels_.size:
        raise ValueError(
            f"test_fraction = {fraction:g} of {labels_.size} samples leaves the "
            f"{'test' if n_test == 0 else 'training'} set empty"
        )
    train: list[IntArray] = []
    test: list[IntArray] = []
    for label in np.unique(labels_):
        members = rng.permutation(np.flatnonzero(labels_ == label))
        n_test = round(fraction * members.size)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def shift_images(X: ArrayLike, rows: int, cols: int) -> FloatArray:
    """Translate every image by ``rows`` down and ``cols`` right, filling with 0.

    Negative values shift up or left. Pixels pushed past the border are lost;
    the ones that enter are zeros (the background of the digits).

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    rows, cols : int
        Shifts of less than H and W in absolute value.

    Returns
    -------
    shifted : ndarray, shape (N, C, H, W)
        ``shifted[..., r, t] = X[..., r - rows, t - cols]`` where that index
        is inside the image, else 0.

    Notes
    -----
    Part 4, "What weight sharing buys": the shift of the equivariance
    statement (4.1) and of the lab's shifted test sets.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    >>> shift_images(X, 1, -1)[0, 0]
    array([[0., 0., 0.],
           [2., 3., 0.],
           [5., 6., 0.]])
    """
    X_ = check_array("X", X, ("N", "C", "H", "W"))
    H, W = X_.shape[2:]
    for name, value, size in (("rows", rows, H), ("cols", cols, W)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be an int; got {value!r}")
        if abs(value) >= size:
            raise ValueError(f"{name} is {value}; expected |{name}| < {size}")
    out = np.zeros_like(X_)
    r, t = int(rows), int(cols)
    out[..., max(r, 0) : H + min(r, 0), max(t, 0) : W + min(t, 0)] = X_[
        ..., max(-r, 0) : H + min(-r, 0), max(-t, 0) : W + min(-t, 0)
    ]
    return out


@dataclass(frozen=True)
class Digits:
    """A train/test split of the digits.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (N, 64)
        Pixels scaled to [0, 1]; row n is image n read row by row
        (``X.reshape(-1, 8, 8)`` gives the images,
        ``X.reshape(-1, 1, 8, 8)`` the (N, C, H, W) layout of a CNN).
    y_train, y_test : ndarray of int, shape (N,)
        Labels 0-9.
    Y_train, Y_test : ndarray, shape (N, 10)
        The labels one-hot encoded.
    """

    X_train: FloatArray
    y_train: IntArray
    Y_train: FloatArray
    X_test: FloatArray
    y_test: IntArray
    Y_test: FloatArray


def _digits_data() -> tuple[FloatArray, NDArray[np.intp]]:
    """The 1797 images (1797, 64), pixels 0-16, and their labels, as shipped.

    Read straight from the file scikit-learn installs, as its
    ``load_digits`` reads it: importing ``sklearn.datasets`` takes over a
    second (it loads SciPy) and would dominate every page that trains on
    the digits. Through scikit-learn's own function when the file is not
    where this version keeps it.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the digits data: "
            "pip install scikit-learn (or the package's [docs] extra)"
        )
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        data = np.loadtxt(path, delimiter=",")
        return data[:, :-1], data[:, -1].astype(np.intp)
    from sklearn import datasets  # type: ignore[import-untyped]

    bunch = datasets.load_digits()
    return (
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.intp),
    )


def load_digits(*, test_fraction: float = 0.25, seed: int = 0) -> Digits:
    """The 1797 scikit-learn digits, scaled, one-hot encoded and split.

    Pixel values 0-16 are divided by 16. The split is
    :func:`stratified_split` with ``np.random.default_rng(seed)``, so the
    same seed always gives the same split.

    Parameters
    ----------
    test_fraction : float
        Share of each digit that goes to the test set, in (0, 1).
    seed : int
        Seed of the split, an integer >= 0 (``None`` would give a different
        split at every call, so it is refused).

    Returns
    -------
    digits : Digits

    Raises
    ------
    ImportError
        If scikit-learn is not installed (``pip install scikit-learn``).

    Examples
    --------
    >>> digits = load_digits()
    >>> digits.X_train.shape, digits.Y_test.shape
    ((1347, 64), (450, 10))
    >>> float(digits.X_train.min()), float(digits.X_train.max())
    (0.0, 1.0)
    """
    fraction = check_real(
        "test_fraction", test_fraction, 0, 1, low_open=True, high_open=True
    )
    seed = check_int("seed", seed, 0)
    pixels, target = _digits_data()
    X = pixels / 16.0
    y = target
    train, test = stratified_split(y, fraction, rng=np.random.default_rng(seed))
    Y = one_hot(y, 10)
    return Digits(X[train], y[train], Y[train], X[test], y[test], Y[test])
