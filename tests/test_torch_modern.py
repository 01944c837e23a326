"""The Part 5 layers against PyTorch (``torch.nn.functional``, float64):
forward, every gradient and the running statistics of each layer, and the
Part 5 digits network trained side by side with a PyTorch twin."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import batchnorm_cases, transposed_cases

from cnnscratch.batchnorm import (
    batchnorm_backward,
    batchnorm_eval_forward,
    batchnorm_forward,
    update_running_stats,
)
from cnnscratch.datasets import load_digits
from cnnscratch.losses import softmax_cross_entropy_gradient
from cnnscratch.network import Sequential, digits_resnet, minibatches, train_step
from cnnscratch.optim import Adam
from cnnscratch.pooling import global_avgpool2d_backward, global_avgpool2d_forward
from cnnscratch.transposed import conv_transpose2d_backward, conv_transpose2d_forward

torch = pytest.importorskip(
    "torch", reason="PyTorch is the independent reference; .ci/run installs it"
)
F = torch.nn.functional

TOL = 1e-12  # both in float64; only the order of the sums differs
#: Training runs: Adam divides each gradient entry by its own running scale,
#: which can magnify rounding; a wrong gradient moves the loss by 1e-3 or more.
RUN_TOL = 1e-8


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _t(a: np.ndarray, grad: bool = True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _close(ours: np.ndarray, theirs, scale: float = 1.0) -> None:
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = max(scale, float(np.max(np.abs(theirs), initial=0.0)))
    assert np.max(np.abs(ours - theirs), initial=0.0) < TOL * scale


@given(case=batchnorm_cases())
@settings(max_examples=20)
def test_batchnorm_training_mode_matches_torch(case: dict) -> None:
    X, gamma, beta, dY = case["X"], case["gamma"], case["beta"], case["dY"]
    C = gamma.size
    Y, cache = batchnorm_forward(X, gamma, beta)
    dX, dgamma, dbeta = batchnorm_backward(dY, cache)
    mean, var = update_running_stats(np.zeros(C), np.ones(C), cache)

    Xt, gt, bt = _t(X), _t(gamma), _t(beta)
    rm, rv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    Yt = F.batch_norm(Xt, rm, rv, gt, bt, training=True, momentum=0.1, eps=1e-5)
    Yt.backward(torch.tensor(dY))
    # a constant channel's dX is γ/σ·(dY − mean dY) with 1/σ ≈ 316: rounding scales
    big = float(np.max(np.abs(gamma * cache.inv_std))) * float(np.max(np.abs(dY)))
    _close(Y, Yt)
    _close(dX, Xt.grad, scale=big)
    _close(dgamma, gt.grad, scale=float(np.abs(dY).sum()))
    _close(dbeta, bt.grad)
    _close(mean, rm)
    _close(var, rv)


@given(case=batchnorm_cases())
@settings(max_examples=20)
def test_batchnorm_eval_mode_matches_torch(case: dict) -> None:
    X, gamma, beta, dY = case["X"], case["gamma"], case["beta"], case["dY"]
    rng = np.random.default_rng(0)
    mean, var = rng.normal(size=gamma.size), rng.uniform(0.1, 3, size=gamma.size)
    Y, cache = batchnorm_eval_forward(X, gamma, beta, mean, var)
    dX, dgamma, dbeta = batchnorm_backward(dY, cache)

    Xt, gt, bt = _t(X), _t(gamma), _t(beta)
    Yt = F.batch_norm(
        Xt, torch.tensor(mean), torch.tensor(var), gt, bt, training=False, eps=1e-5
    )
    Yt.backward(torch.tensor(dY))
    for ours, theirs in ((Y, Yt), (dX, Xt.grad), (dgamma, gt.grad), (dbeta, bt.grad)):
        _close(ours, theirs)


def test_torch_also_refuses_one_value_per_channel_in_training_mode() -> None:
    """The rule the package's ValueError follows is PyTorch's."""
    X = torch.ones((1, 3), dtype=torch.float64)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(X, None, None, training=True)
    with pytest.raises(ValueError, match=r"^X has shape \(1, 3\)"):
        batchnorm_forward(X.numpy(), np.ones(3), np.zeros(3))


@given(case=transposed_cases())
@settings(max_examples=20)
def test_conv_transpose2d_matches_torch(case: dict) -> None:
    hyper = {k: case[k] for k in ("stride", "padding", "output_padding", "dilation")}
    Y, cache = conv_transpose2d_forward(case["X"], case["W"], case["b"], **hyper)
    dX, dW, db = conv_transpose2d_backward(case["dY"], cache)

    X, W, b = _t(case["X"]), _t(case["W"]), _t(case["b"])
    Yt = F.conv_transpose2d(X, W, b, **hyper)
    Yt.backward(torch.tensor(case["dY"]))
    for ours, theirs in ((Y, Yt), (dX, X.grad), (dW, W.grad), (db, b.grad)):
        _close(ours, theirs)


def test_global_average_pooling_matches_torch() -> None:
    rng = np.random.default_rng(1)
    X, dY = rng.normal(size=(3, 4, 5, 6)), rng.normal(size=(3, 4))
    Y, cache = global_avgpool2d_forward(X)
    dX = global_avgpool2d_backward(dY, cache)
    Xt = _t(X)
    Yt = F.adaptive_avg_pool2d(Xt, 1).flatten(1)
    Yt.backward(torch.tensor(dY))
    _close(Y, Yt)
    _close(dX, Xt.grad)


# --- the Part 5 network and its twin ------------------------------------------------


def torch_resnet(p: dict, b: dict, X, training: bool):
    """digits_resnet in torch.nn.functional: p parameters, b running statistics."""

    def bn(Z, name):
        return F.batch_norm(
            Z,
            b[f"{name}.running_mean"],
            b[f"{name}.running_var"],
            p[f"{name}.gamma"],
            p[f"{name}.beta"],
            training=training,
            momentum=0.1,
            eps=1e-5,
        )

    def conv(Z, name, **kw):
        return F.conv2d(Z, p[f"{name}.W"], p[f"{name}.b"], **kw)

    A = F.relu(bn(conv(X, "0", padding=1), "1"))
    A = F.relu(bn(conv(A, "3", padding=1), "4"))
    body = F.relu(bn(conv(A, "6.body.0", stride=2, padding=1), "6.body.1"))
    body = bn(conv(body, "6.body.3", padding=1), "6.body.4")
    shortcut = bn(conv(A, "6.shortcut.0", stride=2), "6.shortcut.1")
    A = F.relu(body + shortcut)
    return F.linear(A.mean(dim=(2, 3)), p["9.W"], p["9.b"])


def _twin(model: Sequential) -> tuple[dict, dict]:
    params = {k: _t(v) for k, v in model.parameters().items()}
    buffers = {k: _t(v, grad=False) for k, v in model.buffers().items()}
    return params, buffers


def test_backward_gives_autograds_gradients_for_every_parameter() -> None:
    rng = np.random.default_rng(2)
    model = digits_resnet(rng=rng, channels=3)
    params, buffers = _twin(model)
    X, labels = rng.normal(size=(5, 1, 8, 8)), rng.integers(0, 10, 5)
    Xt = _t(X)
    Z = model.train().forward(X)
    dX = model.backward(softmax_cross_entropy_gradient(Z, np.eye(10)[labels]))
    Zt = torch_resnet(params, buffers, Xt, training=True)
    F.cross_entropy(Zt, torch.from_numpy(labels)).backward()
    np.testing.assert_allclose(Z, Zt.detach().numpy(), rtol=1e-12, atol=1e-13)
    grads = model.gradients()
    assert set(grads) == set(params)
    for name, tensor in params.items():
        np.testing.assert_allclose(
            grads[name], tensor.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, tensor in buffers.items():
        np.testing.assert_allclose(model.buffers()[name], tensor.numpy(), rtol=1e-12)


def test_adam_twin_gives_the_same_loss_at_every_step_and_the_same_eval_outputs() -> (
    None
):
    digits = load_digits(test_fraction=0.25, seed=0)
    X = digits.X_train.reshape(-1, 1, 8, 8)
    model = digits_resnet(rng=np.random.default_rng(0), channels=4)
    params, buffers = _twin(model)
    ours, theirs = Adam(lr=0.01), torch.optim.Adam(params.values(), lr=0.01)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(digits.y_train)
    differences = []
    for batch in minibatches(len(X), 32, rng=np.random.default_rng(1))[:20]:
        loss = train_step(model, ours, X[batch], digits.Y_train[batch])
        theirs.zero_grad()
        torch_loss = F.cross_entropy(
            torch_resnet(params, buffers, X_t[batch], training=True), y_t[batch]
        )
        torch_loss.backward()
        theirs.step()
        differences.append(abs(loss - torch_loss.item()))
    assert len(differences) == 20
    assert max(differences) < RUN_TOL
    for name, tensor in {**params, **buffers}.items():
        ours_value = {**model.parameters(), **model.buffers()}[name]
        np.testing.assert_allclose(
            ours_value, tensor.detach().numpy(), atol=RUN_TOL, err_msg=name
        )
    X_test = digits.X_test.reshape(-1, 1, 8, 8)
    with torch.no_grad():
        Z_torch = torch_resnet(
            params, buffers, torch.from_numpy(X_test), training=False
        )
    Z = model.eval().forward(X_test)
    np.testing.assert_allclose(Z, Z_torch.numpy(), atol=RUN_TOL)
