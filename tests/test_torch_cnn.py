"""The from-scratch digits CNNs against PyTorch twins, step for step, in float64.

The twin is written with ``torch.nn.functional`` (``conv2d``, ``relu``,
``max_pool2d``, ``linear``) on tensors that start as copies of the NumPy
model's weights; both see the same mini-batches in the same order and take
Adam steps with the same settings. A wrong backward function anywhere in the
convolution, pooling, flatten or dense layers would send the two runs apart.
The deeper CNN (:func:`~cnnscratch.network.digits_deep_cnn`) adds what the
one-convolution network never uses: the input gradient of a strided
convolution, flowing back into the first convolution.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is the reference implementation; pip install torch==2.13.0"
)
F = torch.nn.functional

from cnnscratch.cli import DEFAULTS  # noqa: E402
from cnnscratch.datasets import load_digits  # noqa: E402
from cnnscratch.losses import softmax_cross_entropy_gradient  # noqa: E402
from cnnscratch.network import (  # noqa: E402
    Sequential,
    digits_cnn,
    digits_deep_cnn,
    fit,
    minibatches,
    train_step,
)
from cnnscratch.optim import Adam  # noqa: E402

#: Largest |loss difference| allowed at any step. Both runs are float64 and
#: differ only in the order of their sums (rounding ~1e-16 per operation), but
#: Adam divides each gradient entry by its own running scale, which can
#: magnify the rounding of a small gradient entry into its update; 1e-8
#: leaves room for that while a wrong gradient moves the loss by 1e-3 or more
#: within a step or two.
TOLERANCE = 1e-8
NAMES = ("0.W", "0.b", "4.W", "4.b")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tensors this small run fastest on one thread, above all on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torch_twin(model: Sequential) -> dict[str, torch.Tensor]:
    """Leaf tensors holding copies of ``model``'s parameters, named alike."""
    return {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in model.parameters().items()
    }


def torch_forward(params: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """conv 3x3 (padding 1) → ReLU → max-pool 2x2 → flatten → dense: logits."""
    A = F.max_pool2d(F.relu(F.conv2d(X, params["0.W"], params["0.b"], padding=1)), 2)
    return F.linear(A.flatten(1), params["4.W"], params["4.b"])


def torch_forward_deep(
    params: dict[str, torch.Tensor], X: torch.Tensor
) -> torch.Tensor:
    """conv 3x3 (pad 1) → ReLU → conv 3x3 (stride 2, pad 1) → ReLU → pool → dense."""
    A = F.relu(F.conv2d(X, params["0.W"], params["0.b"], padding=1))
    A = F.relu(F.conv2d(A, params["2.W"], params["2.b"], stride=2, padding=1))
    return F.linear(F.max_pool2d(A, 2).flatten(1), params["6.W"], params["6.b"])


def run_both(model: Sequential, forward, steps: int) -> tuple[list[float], dict]:
    """Train ``model`` and its twin side by side; the |loss difference| per step."""
    digits = load_digits()
    X = digits.X_train.reshape(-1, 1, 8, 8)
    twin = torch_twin(model)
    ours = Adam(lr=0.01)
    theirs = torch.optim.Adam(twin.values(), lr=0.01)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(digits.y_train)
    differences = []
    order = np.random.default_rng(1)
    batches = [b for _ in range(2) for b in minibatches(len(X), 32, rng=order)]
    for batch in batches[:steps]:
        loss = train_step(model, ours, X[batch], digits.Y_train[batch])
        theirs.zero_grad()
        torch_loss = F.cross_entropy(forward(twin, X_t[batch]), y_t[batch])
        torch_loss.backward()
        theirs.step()
        differences.append(abs(loss - torch_loss.item()))
    return differences, twin


def test_adam_twin_gives_the_same_loss_at_every_step() -> None:
    model = digits_cnn(rng=np.random.default_rng(0), filters=8)
    differences, twin = run_both(model, torch_forward, 40)
    assert len(differences) == 40
    assert max(differences) < TOLERANCE
    for name in NAMES:
        np.testing.assert_allclose(
            model.parameters()[name], twin[name].detach().numpy(), atol=TOLERANCE
        )


def test_deep_cnn_twin_reproduces_the_labs_whole_training_run() -> None:
    # The Part 4 lab's first deeper run, as the lab trains it: seed 0 spawns
    # the generators of the initial weights and of the data order, fit()
    # trains with the CNN defaults of the command line (Adam, every epoch),
    # and the twin takes the same batches in the same order.
    settings = DEFAULTS["cnn"]
    epochs, batch_size = int(settings["epochs"]), int(settings["batch_size"])
    digits = load_digits(test_fraction=0.25, seed=0)
    X = digits.X_train.reshape(-1, 1, 8, 8)
    weights, order = (
        np.random.default_rng(s) for s in np.random.SeedSequence(0).spawn(2)
    )
    model = digits_deep_cnn(rng=weights)
    twin = torch_twin(model)
    _, twin_order_seed = np.random.SeedSequence(0).spawn(2)
    twin_order = np.random.default_rng(twin_order_seed)
    history = fit(
        model,
        Adam(lr=settings["lr"]),
        X,
        digits.Y_train,
        epochs=epochs,
        batch_size=batch_size,
        rng=order,
        evaluate_training=False,
    )
    theirs = torch.optim.Adam(twin.values(), lr=settings["lr"])
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(digits.y_train)
    torch_loss = []
    for _ in range(epochs):
        for batch in minibatches(len(X), batch_size, rng=twin_order):
            theirs.zero_grad()
            loss = F.cross_entropy(torch_forward_deep(twin, X_t[batch]), y_t[batch])
            loss.backward()
            theirs.step()
            torch_loss.append(loss.item())
    steps = epochs * -(-len(X) // batch_size)
    assert len(history.step_loss) == len(torch_loss) == steps
    difference = np.abs(np.array(history.step_loss) - np.array(torch_loss))
    assert difference.max() < TOLERANCE
    assert set(twin) == {"0.W", "0.b", "2.W", "2.b", "6.W", "6.b"}
    for name, value in model.parameters().items():
        np.testing.assert_allclose(
            value, twin[name].detach().numpy(), atol=TOLERANCE, err_msg=name
        )


def test_deep_cnn_backward_gives_autograds_gradients_including_dx() -> None:
    rng = np.random.default_rng(7)
    model = digits_deep_cnn(rng=rng, filters=(3, 4))
    twin = torch_twin(model)
    X, labels = rng.standard_normal((5, 1, 8, 8)), rng.integers(0, 10, 5)
    X_t = torch.tensor(X, requires_grad=True)
    dX = model.backward(
        softmax_cross_entropy_gradient(model.forward(X), np.eye(10)[labels])
    )
    F.cross_entropy(torch_forward_deep(twin, X_t), torch.from_numpy(labels)).backward()
    for name, grad in model.gradients().items():
        np.testing.assert_allclose(
            grad, twin[name].grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name
        )
    np.testing.assert_allclose(dX, X_t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_backward_gives_autograds_gradients_for_every_parameter() -> None:
    rng = np.random.default_rng(5)
    model = digits_cnn(rng=rng, filters=3)
    twin = torch_twin(model)
    X, labels = rng.standard_normal((6, 1, 8, 8)), rng.integers(0, 10, 6)
    X_t = torch.tensor(X, requires_grad=True)

    Z = model.forward(X)
    dX = model.backward(softmax_cross_entropy_gradient(Z, np.eye(10)[labels]))
    Z_t = torch_forward(twin, X_t)
    F.cross_entropy(Z_t, torch.from_numpy(labels)).backward()

    np.testing.assert_allclose(Z, Z_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    grads = model.gradients()
    assert set(grads) == set(NAMES)
    for name in NAMES:
        np.testing.assert_allclose(
            grads[name], twin[name].grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name
        )
    np.testing.assert_allclose(dX, X_t.grad.numpy(), rtol=1e-10, atol=1e-14)
