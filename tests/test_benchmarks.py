"""The benchmark script runs, and times only correct computations.

No timing is asserted here (timing goals live in ``benchmarks/``): these
tests keep ``benchmarks/perf.py`` from rotting and check that the extra
variants it times compute what the package computes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import architectures  # noqa: E402
import perf  # noqa: E402
import variants  # noqa: E402

from cnnscratch.conv import conv2d_forward  # noqa: E402
from cnnscratch.pooling import maxpool2d_backward, maxpool2d_forward  # noqa: E402


@pytest.mark.parametrize(("stride", "padding", "k"), [(1, 0, 3), (2, 1, 3), (1, 2, 5)])
def test_einsum_variant_equals_the_package(stride: int, padding: int, k: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 3, 9, 8))
    W = rng.standard_normal((4, 3, k, k))
    b = rng.standard_normal(4)
    expected, _ = conv2d_forward(X, W, b, stride=stride, padding=padding)
    got = variants.conv2d_forward_einsum(X, W, b, stride=stride, padding=padding)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_argmax_maxpool_variant_equals_the_package_with_ties() -> None:
    rng = np.random.default_rng(1)
    X = rng.integers(0, 3, size=(2, 3, 6, 8)).astype(float)  # many ties
    dY = rng.standard_normal((2, 3, 3, 4))
    Y, cache = maxpool2d_forward(X, 2)
    Y_argmax, cache_argmax = variants.maxpool2d_forward_argmax(X, 2)
    np.testing.assert_array_equal(Y_argmax, Y)
    np.testing.assert_array_equal(
        variants.maxpool2d_backward_argmax(dY, cache_argmax),
        maxpool2d_backward(dY, cache),
    )


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "result.json"
    assert perf.main(["--quick", "--output", str(out)]) == 0
    result: dict = json.loads(out.read_text())
    return result


def test_quick_run_times_every_variant_of_every_case(quick_result: dict) -> None:
    expected = {"loops", "im2col", "fast"} | ({"torch"} if perf.torch else set())
    for dtype in ("float32", "float64"):
        assert set(quick_result["conv"][dtype]) == {c.name for c in perf.QUICK_CASES}
        for stats in quick_result["conv"][dtype].values():
            assert set(stats) == expected
            assert all(s["median"] > 0 for s in stats.values())
            assert stats["fast"]["peak_bytes"] > 0
    assert set(quick_result["pool"]) == {"float32", "float64"}
    assert quick_result["epoch"]["steps"] == 2


def test_quick_run_reports_every_goal(quick_result: dict) -> None:
    whats = [row["what"] for row in quick_result["goals"]]
    assert whats.count("epoch") == 1
    assert sum(w.startswith("max-pool") for w in whats) == 2
    assert sum(w.startswith("conv") for w in whats) == 2 * len(perf.QUICK_CASES)
    if perf.torch is not None:
        assert all(row["ratio"] > 0 for row in quick_result["goals"])


def test_result_is_stamped_with_the_machine_and_no_local_paths(
    quick_result: dict,
) -> None:
    machine = quick_result["machine"]
    for key in ("date", "cpu_model", "cpu_count", "numpy", "blas", "python"):
        assert machine[key], key
    assert machine["blas"][0]["architecture"]  # which kernel OpenBLAS runs
    text = json.dumps(quick_result)
    assert str(ROOT) not in text
    assert "hostname" not in text


def test_committed_result_is_a_full_run() -> None:
    """The Performance page renders this file: it must be a real measurement."""
    result = json.loads(perf.RESULT.read_text())
    assert result["quick"] is False
    assert set(result["conv"]["float32"]) == {c.name for c in perf.CONV_CASES}
    assert result["machine"]["torch"] is not None  # ratios need PyTorch


def test_architectures_quick_run_trains_each_network_as_the_lab_does(
    tmp_path: Path,
) -> None:
    out = tmp_path / "architectures.json"
    assert architectures.main(["--quick", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["seeds"], result["epochs"]) == (2, 1)
    first, second = result["candidates"]
    assert first["relative_time"] == 1.0
    assert second["parameters"] > first["parameters"]  # 64 channels, not 32
    for row in (first, second):
        assert len(row["accuracies"]) == 2
        assert all(0.5 < a <= 1.0 for a in row["accuracies"])  # one epoch learns
        assert row["mean"] == pytest.approx(np.mean(row["accuracies"]))


def test_architectures_pool_between_is_the_layout_it_names() -> None:
    model = architectures.pool_between(32, 64)(np.random.default_rng(0))
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D",
        "ReLU",
        "MaxPool2D",
        "Conv2D",
        "ReLU",
        "MaxPool2D",
        "Flatten",
        "Dense",
    ]
    assert model.forward(np.zeros((3, 1, 8, 8))).shape == (3, 10)
    assert model.parameters()["3.W"].shape == (64, 32, 3, 3)
