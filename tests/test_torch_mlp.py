"""The from-scratch MLP against a PyTorch twin, step for step, in float64.

Same architecture, same initial weights, same data order, same optimiser and
hyper-parameters: if every backward function is right, the two produce the
same loss at every step, to rounding error. Gradient checks and this test
fail for different reasons, which is why we have both.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is the reference implementation; pip install torch==2.13.0"
)

from cnnscratch.activations import relu_derivative, softmax, tanh_derivative  # noqa: E402
from cnnscratch.datasets import load_digits  # noqa: E402
from cnnscratch.losses import (  # noqa: E402
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)
from cnnscratch.network import Sequential, minibatches, mlp, train_step  # noqa: E402
from cnnscratch.optim import SGD, Adam  # noqa: E402

TOLERANCE = 1e-10


def torch_twin(model: Sequential) -> torch.nn.Sequential:
    """A float64 torch MLP with copies of ``model``'s weights (Dense/ReLU only)."""
    modules: list[torch.nn.Module] = []
    for layer in model.layers:
        if "W" in layer.params:
            n_out, n_in = layer.params["W"].shape
            linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
            with torch.no_grad():  # torch's Linear also stores weight as (out, in)
                linear.weight.copy_(torch.from_numpy(layer.params["W"]))
                linear.bias.copy_(torch.from_numpy(layer.params["b"]))
            modules.append(linear)
        else:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def train_both(optimizers, epochs: int = 2, batch_size: int = 32):
    digits = load_digits()
    model = mlp([64, 32, 10], rng=np.random.default_rng(0))
    twin = torch_twin(model)
    ours, theirs = optimizers(twin)
    X, Y, y = digits.X_train, digits.Y_train, torch.from_numpy(digits.y_train)
    rng = np.random.default_rng(1)
    differences = []
    for _ in range(epochs):
        for batch in minibatches(len(X), batch_size, rng=rng):
            loss = train_step(model, ours, X[batch], Y[batch])
            theirs.zero_grad()
            torch_loss = torch.nn.functional.cross_entropy(
                twin(torch.from_numpy(X[batch])), y[batch]
            )
            torch_loss.backward()
            theirs.step()
            differences.append(abs(loss - torch_loss.item()))
    return model, twin, np.array(differences)


def test_sgd_momentum_twin_gives_the_same_loss_at_every_step() -> None:
    model, twin, differences = train_both(
        lambda twin: (
            SGD(lr=0.1, momentum=0.9),
            torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9),
        )
    )
    steps_per_epoch = -(-len(load_digits().X_train) // 32)  # ceil: a short last batch
    assert differences.size == 2 * steps_per_epoch
    assert differences.max() < TOLERANCE
    np.testing.assert_allclose(
        model.parameters()["2.W"], twin[2].weight.detach().numpy(), atol=TOLERANCE
    )


def test_adam_twin_gives_the_same_loss_at_every_step() -> None:
    _, _, differences = train_both(
        lambda twin: (Adam(lr=1e-3), torch.optim.Adam(twin.parameters(), lr=1e-3))
    )
    assert differences.max() < TOLERANCE


def test_backward_gives_autograds_gradients_for_every_parameter() -> None:
    rng = np.random.default_rng(3)
    model = mlp([6, 5, 4, 3], rng=rng)
    twin = torch_twin(model)
    X, labels = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    Z = model.forward(X)
    model.backward(softmax_cross_entropy_gradient(Z, np.eye(3)[labels]))
    torch.nn.functional.cross_entropy(
        twin(torch.from_numpy(X)), torch.from_numpy(labels)
    ).backward()
    grads = model.gradients()
    for index in (0, 2, 4):
        np.testing.assert_allclose(
            grads[f"{index}.W"], twin[index].weight.grad.numpy(), rtol=1e-12, atol=1e-15
        )
        np.testing.assert_allclose(
            grads[f"{index}.b"], twin[index].bias.grad.numpy(), rtol=1e-12, atol=1e-15
        )


def test_softmax_cross_entropy_matches_torch_even_for_logits_of_1e4() -> None:
    Z = np.array([[1e4, 0.0, -1e4], [0.3, -0.2, 0.1]])
    labels = np.array([1, 2])
    Z_t = torch.from_numpy(Z).requires_grad_()
    loss_t = torch.nn.functional.cross_entropy(Z_t, torch.from_numpy(labels))
    loss_t.backward()
    Y = np.eye(3)[labels]
    assert softmax_cross_entropy(Z, Y) == pytest.approx(loss_t.item(), rel=1e-14)
    np.testing.assert_allclose(
        softmax_cross_entropy_gradient(Z, Y), Z_t.grad.numpy(), atol=1e-15
    )
    np.testing.assert_allclose(
        softmax(Z), torch.softmax(torch.from_numpy(Z), dim=1).numpy(), atol=1e-15
    )


def test_activation_derivatives_match_autograd() -> None:
    z = np.random.default_rng(0).standard_normal(20)
    for ours, theirs in ((relu_derivative, torch.relu), (tanh_derivative, torch.tanh)):
        z_t = torch.from_numpy(z).requires_grad_()
        theirs(z_t).sum().backward()
        np.testing.assert_allclose(ours(z), z_t.grad.numpy(), rtol=1e-14)
