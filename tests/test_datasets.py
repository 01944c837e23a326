"""The digits: scaling, one-hot labels and a reproducible stratified split."""

from __future__ import annotations

import importlib.machinery
import sys

import numpy as np
import pytest

from cnnscratch import datasets
from cnnscratch.datasets import load_digits, one_hot, shift_images, stratified_split


def test_one_hot_puts_a_single_one_in_each_row_at_the_label() -> None:
    Y = one_hot(np.array([3, 0, 3]), 4)
    np.testing.assert_array_equal(Y.argmax(axis=1), [3, 0, 3])
    np.testing.assert_array_equal(Y.sum(axis=1), [1, 1, 1])


def test_stratified_split_is_a_partition_keeping_each_class_proportion() -> None:
    labels = np.repeat(np.arange(3), [40, 20, 8])
    train, test = stratified_split(labels, 0.25, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(68))
    np.testing.assert_array_equal(np.bincount(labels[test]), [10, 5, 2])


def test_stratified_split_is_reproducible_from_the_seed() -> None:
    labels = np.repeat(np.arange(2), 10)
    first = stratified_split(labels, 0.5, rng=np.random.default_rng(7))
    second = stratified_split(labels, 0.5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(first[1], second[1])


def test_load_digits_is_scaled_one_hot_and_stratified() -> None:
    d = load_digits(test_fraction=0.25, seed=0)
    assert d.X_train.shape[1] == 64
    assert d.X_train.shape[0] + d.X_test.shape[0] == 1797
    assert d.X_train.min() == 0.0
    assert d.X_train.max() == 1.0
    np.testing.assert_array_equal(d.Y_train.argmax(axis=1), d.y_train)
    np.testing.assert_array_equal(d.Y_test.argmax(axis=1), d.y_test)
    share = np.bincount(d.y_test, minlength=10) / np.bincount(
        np.concatenate([d.y_train, d.y_test]), minlength=10
    )
    np.testing.assert_allclose(share, 0.25, atol=0.01)


def test_load_digits_gives_the_same_split_for_the_same_seed() -> None:
    np.testing.assert_array_equal(
        load_digits(seed=3).y_test, load_digits(seed=3).y_test
    )


def test_the_digits_file_read_directly_is_scikit_learns_load_digits(
    monkeypatch, tmp_path
) -> None:
    from sklearn import datasets as sklearn_datasets

    bunch = sklearn_datasets.load_digits()
    pixels, target = datasets._digits_data()
    np.testing.assert_array_equal(pixels, bunch.data)
    np.testing.assert_array_equal(target, bunch.target)
    assert target.dtype == np.intp
    # where a scikit-learn keeps the file elsewhere, its own function reads it
    elsewhere = importlib.machinery.ModuleSpec("sklearn", None)
    elsewhere.origin = str(tmp_path / "sklearn" / "__init__.py")
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: elsewhere)
    pixels, target = datasets._digits_data()
    np.testing.assert_array_equal(pixels, bunch.data)
    np.testing.assert_array_equal(target, bunch.target)


def test_load_digits_explains_a_missing_scikit_learn(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digits()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: one_hot([0, 3], 3), r"labels has values in \[0, 3\]; expected"),
        (lambda: one_hot([-1], 3), r"labels has values in \[-1, -1\]"),
        (lambda: one_hot([0.5], 3), r"labels has shape \(1,\) and dtype float64"),
        (lambda: one_hot([[0]], 3), r"labels has shape \(1, 1\)"),
        (lambda: one_hot([0], 0), "n_classes must be an integer >= 1; got 0"),
        (
            lambda: stratified_split(
                np.zeros(4, int), 1.0, rng=np.random.default_rng()
            ),
            r"test_fraction must be a finite number in \(0, 1\); got 1.0",
        ),
        (
            lambda: stratified_split(np.zeros(4), 0.5, rng=np.random.default_rng()),
            "labels has shape .* dtype float64",
        ),
        (
            lambda: load_digits(test_fraction=0.0),
            r"test_fraction must be a finite number in \(0, 1\)",
        ),
    ],
)
def test_bad_inputs_raise_a_value_error_naming_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(("rows", "cols"), [(0, 0), (1, 0), (-2, 1), (0, -1), (2, 2)])
def test_shift_images_matches_a_pixel_by_pixel_translation(rows, cols) -> None:
    X = np.random.default_rng(0).normal(size=(2, 3, 5, 6))
    expected = np.zeros_like(X)
    for r in range(5):
        for t in range(6):
            if 0 <= r - rows < 5 and 0 <= t - cols < 6:
                expected[..., r, t] = X[..., r - rows, t - cols]
    np.testing.assert_array_equal(shift_images(X, rows, cols), expected)


def test_shift_images_rejects_shifts_as_large_as_the_image() -> None:
    with pytest.raises(ValueError, match="rows"):
        shift_images(np.zeros((1, 1, 3, 3)), 3, 0)
    with pytest.raises(ValueError, match="cols"):
        shift_images(np.zeros((1, 1, 3, 3)), 0, 1.5)
