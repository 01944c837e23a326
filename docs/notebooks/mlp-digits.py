# ---
# jupyter:
#   description: >-
#     Lab: a 64-32-10 MLP trained from scratch on scikit-learn's 8x8 digits, its curves and confusion matrix, and a step-by-step match with PyTorch.
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab: an MLP on digits
#
# This page trains the network of [Part 2](../part2-backpropagation.md) on
# real data: the 1797 handwritten digits, 8×8 pixels each, that ship inside
# scikit-learn. Everything below is executed every time the site is built, so
# the curves, the confusion matrix and the accuracy are what the code produces
# today. At the end, the same network is trained a second time in PyTorch,
# from the same initial weights and on the same batches, and the two runs are
# compared step by step.
#
# The model is a 64-32-10 perceptron: 64 pixels in, one hidden layer of 32
# ReLU units, 10 logits out, trained on the softmax cross-entropy (2.14) with
# SGD and momentum (2.19).

# %%
import matplotlib.pyplot as plt
import numpy as np

from cnnscratch import set_print_policy
from cnnscratch.datasets import load_digits
from cnnscratch.network import accuracy, fit, mlp, predict
from cnnscratch.optim import SGD

set_print_policy()

# %% [markdown]
# ## The data
#
# `load_digits` scales the pixels from 0–16 to [0, 1], one-hot encodes the
# labels and keeps a quarter of each digit aside as a test set, with a fixed
# seed.

# %% alt="The first 20 training images, 8 by 8 grey pixels each, titled with their labels 0 to 9."
digits = load_digits(test_fraction=0.25, seed=0)
print("train:", digits.X_train.shape, " test:", digits.X_test.shape)
print("test images per digit:", np.bincount(digits.y_test))

fig, axes = plt.subplots(2, 10, figsize=(9, 2))
for ax, image, label in zip(
    axes.flat, digits.X_train[:20], digits.y_train[:20], strict=True
):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Training
#
# One generator draws the initial weights (He initialisation, (2.18)) and
# another the order of the mini-batches; `fit` uses no other randomness. The
# test set is only watched after each epoch, never trained on.

# %%
SIZES, LR, MOMENTUM, BATCH, EPOCHS = [64, 32, 10], 0.1, 0.9, 32, 30

model = mlp(SIZES, rng=np.random.default_rng(0))
initial = {name: p.copy() for name, p in model.parameters().items()}
history = fit(
    model,
    SGD(lr=LR, momentum=MOMENTUM),
    digits.X_train,
    digits.Y_train,
    epochs=EPOCHS,
    batch_size=BATCH,
    rng=np.random.default_rng(1),
    validation=(digits.X_test, digits.Y_test),
)
test_accuracy = accuracy(model, digits.X_test, digits.y_test)
print(
    f"{len(history.step_loss)} steps, final training loss {history.epoch_loss[-1]:.3f}"
)
print(f"test accuracy: {test_accuracy:.1%}")

# %% alt="Left: cross-entropy on a log scale against the epoch, for every mini-batch and for the whole training and test sets, falling as training goes on. Right: training and test accuracy after each epoch, rising towards 1."
steps_per_epoch = len(history.step_loss) // EPOCHS
epochs = np.arange(1, EPOCHS + 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(
    np.arange(1, len(history.step_loss) + 1) / steps_per_epoch,
    history.step_loss,
    lw=0.6,
    alpha=0.6,
    label="mini-batch",
)
left.plot(epochs, history.epoch_loss, "o-", ms=3, label="training set")
left.plot(epochs, history.val_loss, "o-", ms=3, label="test set")
left.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="Loss")
left.legend()
right.plot(epochs, history.epoch_accuracy, "o-", ms=3, label="training set")
right.plot(epochs, history.val_accuracy, "o-", ms=3, label="test set")
right.set(xlabel="epoch", ylabel="accuracy", ylim=(0.8, 1.005), title="Accuracy")
right.legend()
fig.tight_layout()

# %% [markdown]
# ## Where it goes wrong
#
# The confusion matrix counts, for every true digit (row), how often each
# digit was predicted (column). Everything off the diagonal is a mistake.

# %% alt="Confusion matrix of the MLP on the test set: true digit by row, predicted digit by column, with almost all counts on the diagonal."
predicted = predict(model, digits.X_test)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (digits.y_test, predicted), 1)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        if confusion[i, j]:
            colour = "white" if confusion[i, j] > confusion.max() / 2 else "black"
            ax.text(j, i, confusion[i, j], ha="center", va="center", color=colour)
ax.set(
    xlabel="predicted",
    ylabel="true",
    xticks=range(10),
    yticks=range(10),
    title="Test set",
)
fig.tight_layout()
print("mistakes:", int(confusion.sum() - np.trace(confusion)), "of", confusion.sum())

# %% [markdown]
# Some of the misclassified test digits, with the true label and the
# prediction. At 8×8 pixels several are hard for a person too.

# %% alt="The first misclassified test digits, each titled true label, arrow, predicted label."
wrong = np.flatnonzero(predicted != digits.y_test)[:12]
fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(1.0 * max(len(wrong), 1), 1.6))
for ax, index in zip(np.atleast_1d(axes), wrong, strict=False):
    ax.imshow(digits.X_test[index].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{digits.y_test[index]}→{predicted[index]}", fontsize=9)
for ax in np.atleast_1d(axes):
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## The same run in PyTorch
#
# If every backward function in the package is right, a PyTorch network with
# the same layers, the same initial weights, the same mini-batches in the same
# order and the same optimiser settings, all in float64, must produce the same
# loss at every one of the steps above, up to rounding. Gradient checks test
# each function alone; this tests the whole training run against an
# independent implementation. (The cell only runs where PyTorch is
# installed; the site builds without it.)

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the comparison (pip install torch).")

if torch is not None:
    from cnnscratch.network import minibatches

    twin = torch.nn.Sequential(
        torch.nn.Linear(64, 32, dtype=torch.float64),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 10, dtype=torch.float64),
    )
    with torch.no_grad():  # copy the initial weights; torch also stores W as (out, in)
        for index in (0, 2):
            twin[index].weight.copy_(torch.from_numpy(initial[f"{index}.W"]))
            twin[index].bias.copy_(torch.from_numpy(initial[f"{index}.b"]))
    optimizer = torch.optim.SGD(twin.parameters(), lr=LR, momentum=MOMENTUM)
    X = torch.from_numpy(digits.X_train)
    y = torch.from_numpy(digits.y_train)
    order = np.random.default_rng(1)  # the generator fit() used for the data order
    torch_loss = []
    for _ in range(EPOCHS):
        for batch in minibatches(len(X), BATCH, rng=order):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            torch_loss.append(loss.item())
    difference = np.abs(np.array(history.step_loss) - np.array(torch_loss))
    print(f"steps compared: {difference.size}")
    print(f"largest |loss difference|: {difference.max():.1e}")
    print("same loss at every step (to 1e-10):", bool(difference.max() < 1e-10))

# %% [markdown]
# The losses of the two runs agree to about the last digits of float64: the
# gradients computed by the functions of Part 2 are, step after step, the
# gradients PyTorch's automatic differentiation computes.
