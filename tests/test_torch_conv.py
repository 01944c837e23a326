"""PyTorch as an independent reference: forward and every gradient, float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import conv_cases, pool_cases

from cnnscratch.conv import conv2d_backward, conv2d_forward
from cnnscratch.pooling import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)

torch = pytest.importorskip(
    "torch", reason="PyTorch is the independent reference; .ci/run installs it"
)
F = torch.nn.functional

TOL = 1e-12  # both in float64; only the order of the sums differs


def _t(a: np.ndarray):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _close(ours: np.ndarray, theirs) -> None:
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    assert np.max(np.abs(ours - theirs), initial=0.0) < TOL * scale


@given(case=conv_cases())
def test_conv2d_matches_torch_forward_and_gradients(case: dict) -> None:
    hyper = {k: case[k] for k in ("stride", "padding", "dilation")}
    Y, cache = conv2d_forward(case["X"], case["W"], case["b"], **hyper)
    dX, dW, db = conv2d_backward(case["dY"], cache)

    X, W, b = _t(case["X"]), _t(case["W"]), _t(case["b"])
    Y_torch = F.conv2d(X, W, b, **hyper)
    Y_torch.backward(torch.tensor(case["dY"]))
    _close(Y, Y_torch)
    _close(dX, X.grad)
    _close(dW, W.grad)
    _close(db, b.grad)


@given(case=pool_cases(ties=True))
def test_maxpool_matches_torch_with_ties(case: dict) -> None:
    Y, cache = maxpool2d_forward(case["X"], case["kernel"], stride=case["stride"])
    dX = maxpool2d_backward(case["dY"], cache)

    X = _t(case["X"])
    Y_torch = F.max_pool2d(X, case["kernel"], stride=case["stride"])
    Y_torch.backward(torch.tensor(case["dY"]))
    _close(Y, Y_torch)
    _close(dX, X.grad)


def test_maxpool_tie_policy_is_torchs() -> None:
    X_np = np.array([[[[2.0, 2.0], [2.0, 2.0]]]])
    _, cache = maxpool2d_forward(X_np, 2)
    X = _t(X_np)
    F.max_pool2d(X, 2).backward(torch.ones(1, 1, 1, 1, dtype=torch.float64))
    _close(maxpool2d_backward([[[[1.0]]]], cache), X.grad)
    assert X.grad[0, 0, 0, 0] == 1.0


@given(case=pool_cases())
def test_avgpool_matches_torch(case: dict) -> None:
    Y, cache = avgpool2d_forward(case["X"], case["kernel"], stride=case["stride"])
    dX = avgpool2d_backward(case["dY"], cache)

    X = _t(case["X"])
    Y_torch = F.avg_pool2d(X, case["kernel"], stride=case["stride"])
    Y_torch.backward(torch.tensor(case["dY"]))
    _close(Y, Y_torch)
    _close(dX, X.grad)
