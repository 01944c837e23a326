# ---
# jupyter:
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
# # Lab: a CNN on digits
#
# This page puts the convolution and max-pooling layers of
# [Part 3](../../part3-convolution/) in front of the dense layer and the
# softmax cross-entropy of [Part 2](../../part2-backpropagation/), and trains
# the result on the same 8×8 digits, with the same train/test split, as the
# [MLP lab](../mlp-digits/). By the end you will have seen every tensor shape
# and parameter of a small CNN, what its filters learn, what a digit looks
# like after each layer, how it compares with the MLP, and a PyTorch twin
# that reproduces its training run step for step. Everything is executed
# every time the site is built: the numbers and figures are what the code
# produces today.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from cnnscratch import set_print_policy
from cnnscratch.activations import softmax
from cnnscratch.cli import DEFAULTS, MLP_MOMENTUM
from cnnscratch.datasets import load_digits
from cnnscratch.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from cnnscratch.network import Sequential, accuracy, digits_cnn, fit, mlp, predict
from cnnscratch.optim import SGD, Adam

set_print_policy()

# %% [markdown]
# ## The data
#
# The same split as the MLP lab: `load_digits` with seed 0 keeps a quarter of
# each digit aside as a test set. A dense layer reads an image as a row of 64
# pixels; a convolution reads it as an image, shape $(N, C, H, W)$ with one
# channel, so the rows are reshaped to $(N, 1, 8, 8)$.

# %%
digits = load_digits(test_fraction=0.25, seed=0)
X_train = digits.X_train.reshape(-1, 1, 8, 8)
X_test = digits.X_test.reshape(-1, 1, 8, 8)
print("train:", X_train.shape, " test:", X_test.shape)

# %% [markdown]
# ## The network
#
# Five layers, each a class of the package with the same `forward`/`backward`
# protocol as the dense layers of Part 2:
#
# 1. a 3×3 convolution with 16 filters and padding 1, which keeps the
#    8×8 size: $O_H = H + 2p - K_H + 1 = H$ for $K_H = 3$, $p = 1$;
# 2. a ReLU;
# 3. a 2×2 max-pool, which halves height and width;
# 4. a flatten, which lays the $16 \times 4 \times 4$ maps out as one row per
#    image (a reshape: its backward pass is the inverse reshape);
# 5. a dense layer to 10 logits, trained with the softmax cross-entropy
#    (2.14).
#
# A convolution has $C_{\text{out}} (C_{\text{in}} K_H K_W + 1)$ parameters,
# however large the image; a dense layer has $n_{\text{out}} (n_{\text{in}} + 1)$.
# The package's `digits_cnn` builds exactly this stack (the command line
# trains it); here it is assembled by hand, from the same generator, and
# checked against it.

# %%
FILTERS = 16
rng = np.random.default_rng(0)
model = Sequential(
    [
        Conv2D(1, FILTERS, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2D(2),
        Flatten(),
        Dense(FILTERS * 4 * 4, 10, rng=rng),
    ]
)
reference = digits_cnn(rng=np.random.default_rng(0), filters=FILTERS)
print(
    "same layers and initial weights as digits_cnn:",
    all(
        np.array_equal(ours, theirs)
        for ours, theirs in zip(
            model.parameters().values(), reference.parameters().values(), strict=True
        )
    ),
)
initial = {name: p.copy() for name, p in model.parameters().items()}

# %% [markdown]
# The table is produced by pushing a batch through the layers one by one and
# reading each output's shape and each layer's parameters.


# %%
def describe(layer):
    """A short name for a layer, with its hyper-parameters."""
    if isinstance(layer, Conv2D):
        C_out, _, KH, KW = layer.params["W"].shape
        return f"Conv2D {KH}×{KW}, {C_out} filters, padding {layer.options['padding']}"
    if isinstance(layer, MaxPool2D):
        return f"MaxPool2D {layer.kernel}×{layer.kernel}"
    if isinstance(layer, Dense):
        n_out, n_in = layer.params["W"].shape
        return f"Dense {n_in} → {n_out}"
    return type(layer).__name__


def shape_text(shape):
    return "(" + ", ".join(["N", *map(str, shape[1:])]) + ")"


def architecture_table(model, X):
    rows = [
        "| layer | output shape | parameters | count |",
        "|---|---|---|--:|",
        f"| input | {shape_text(X.shape)} | | |",
    ]
    out = X
    for layer in model.layers:
        out = layer.forward(out)
        params = ", ".join(f"{k} {v.shape}" for k, v in layer.params.items())
        count = sum(v.size for v in layer.params.values())
        rows.append(
            f"| {describe(layer)} | {shape_text(out.shape)} | {params} | {count:,} |"
        )
    total = sum(p.size for p in model.parameters().values())
    rows.append(f"| **total** | | | **{total:,}** |")
    return "\n".join(rows)


display(Markdown(architecture_table(model, X_train[:2])))

# %% [markdown]
# ## Training
#
# Adam (2.20) on mini-batches, with the hyper-parameters the command line
# uses by default (`cnnscratch.cli.DEFAULTS`), so `python -m cnnscratch train`
# and this page train the same way. One generator drew the initial weights
# above; a second one draws the order of the mini-batches. The test set is
# only evaluated after each epoch, never trained on.

# %%
EPOCHS = int(DEFAULTS["cnn"]["epochs"])
BATCH = int(DEFAULTS["cnn"]["batch_size"])
LR = DEFAULTS["cnn"]["lr"]
print(f"epochs {EPOCHS}, batch size {BATCH}, Adam learning rate {LR}")

start = time.perf_counter()
history = fit(
    model,
    Adam(lr=LR),
    X_train,
    digits.Y_train,
    epochs=EPOCHS,
    batch_size=BATCH,
    rng=np.random.default_rng(1),
    validation=(X_test, digits.Y_test),
)
cnn_seconds = time.perf_counter() - start
test_accuracy = accuracy(model, X_test, digits.y_test)
print(f"{len(history.step_loss)} steps in {cnn_seconds:.1f} s")
print(f"final training loss {history.epoch_loss[-1]:.4f}")
print(f"test accuracy: {test_accuracy:.1%}")

# %% alt="Left: cross-entropy of the CNN on a log scale against the epoch, for every mini-batch and for the whole training and test sets. Right: training and test accuracy after each epoch; training accuracy reaches 1 and test accuracy levels off just below it."
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
lowest = min(history.val_accuracy + history.epoch_accuracy)
right.set(xlabel="epoch", ylabel="accuracy", ylim=(lowest - 0.01, 1.005))
right.set_title("Accuracy")
right.legend()
fig.tight_layout()

# %% [markdown]
# ## What the filters learned
#
# Each of the 16 kernels $W_{o,0,:,:}$ is a 3×3 patch of weights that the
# convolution slides over the image: an output pixel is large where the
# image looks like the kernel. Red weights reward ink under them, blue ones
# penalise it, so a kernel with a red row above a blue one responds to the
# lower edge of a horizontal stroke. Nobody chose these patterns: they are
# what gradient descent found useful for telling the ten digits apart.

# %% alt="The 16 learned 3 by 3 convolution kernels as small red and blue squares, red for positive and blue for negative weights, on a shared colour scale."
W = model.parameters()["0.W"]  # (C_out, C_in, KH, KW) = (16, 1, 3, 3)
limit = np.abs(W).max()
fig, axes = plt.subplots(2, 8, figsize=(9, 2.6))
for o, ax in enumerate(axes.flat):
    image = ax.imshow(W[o, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"filter {o}", fontsize=9)
    ax.set(xticks=[], yticks=[])
fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
fig.suptitle("The 16 learned 3×3 kernels", x=0.45)
plt.show()

# %% [markdown]
# ## One digit, layer by layer
#
# The first test image, pushed through the trained layers one at a time. The
# convolution gives 16 maps of the same size as the image (signed values);
# the ReLU zeroes the negative ones; the max-pool keeps the largest value of
# each 2×2 block; the flatten puts the 16 pooled maps side by side in one
# row of 256 numbers; the dense layer turns them into 10 logits, and the
# softmax into probabilities.

# %% alt="The first test digit, then three rows of 16 small images, one column per filter: the convolution outputs (signed, red and blue), the same maps after ReLU with the negative values zeroed, and the 4 by 4 maps after 2 by 2 max-pooling."
index = 0
outputs = [X_test[index : index + 1]]
for layer in model.layers:
    outputs.append(layer.forward(outputs[-1]))
conv_out, relu_out, pool_out, flat_out, logits = outputs[1:]

fig = plt.figure(figsize=(10, 2.7))
left, right = fig.subfigures(1, 2, width_ratios=[1, 9])
ax = left.subplots()
ax.imshow(outputs[0][0, 0], cmap="gray_r")
ax.set_title(f"input: {digits.y_test[index]}", fontsize=9)
ax.axis("off")
axes = right.subplots(3, FILTERS, gridspec_kw={"wspace": 0.08, "hspace": 0.12})
rows = [
    ("conv", conv_out, "RdBu_r"),
    ("ReLU", relu_out, "viridis"),
    ("max-pool", pool_out, "viridis"),
]
for row, (name, maps, cmap) in zip(axes, rows, strict=True):
    limit = np.abs(maps).max()
    low = -limit if cmap == "RdBu_r" else 0
    for o, ax in enumerate(row):
        ax.imshow(maps[0, o], cmap=cmap, vmin=low, vmax=limit)
        ax.set(xticks=[], yticks=[])
        if name == "conv":
            ax.set_title(str(o), fontsize=8)
    row[0].set_ylabel(f"{name}\n{maps.shape[2]}×{maps.shape[3]}", fontsize=9)
right.suptitle("Feature maps of one test digit (columns: filters 0–15)", fontsize=10)
plt.show()

# %% alt="Left: the 256 flattened features of the same digit as one coloured strip. Right: bar chart of the ten softmax probabilities, with almost all the probability on the true digit."
probabilities = softmax(logits)[0]
fig, (ax_flat, ax_out) = plt.subplots(
    1, 2, figsize=(10, 2.6), gridspec_kw={"width_ratios": [2, 1]}
)
ax_flat.imshow(flat_out, cmap="viridis", aspect="auto")
ax_flat.set(
    yticks=[],
    xlabel="feature index: 16 × filter + 4 × row + column",
    title="flatten: one row of 256",
)
ax_out.bar(range(10), probabilities)
ax_out.set(
    xticks=range(10),
    xlabel="digit",
    ylabel="probability",
    ylim=(0, 1),
    title="softmax of the logits",
)
fig.tight_layout()
print(
    f"label {digits.y_test[index]}, predicted {probabilities.argmax()} "
    f"with probability {probabilities.max():.3f}"
)

# %% [markdown]
# ## Where it goes wrong
#
# The confusion matrix counts, for every true digit (row), how often each
# digit was predicted (column); everything off the diagonal is a mistake.

# %% alt="Confusion matrix of the CNN on the test set: true digit by row, predicted digit by column, with almost all counts on the diagonal."
predicted = predict(model, X_test)
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
# Every misclassified test digit (up to 24), titled true → predicted.

# %% alt="Every misclassified test digit, each titled true label, arrow, predicted label."
wrong = np.flatnonzero(predicted != digits.y_test)[:24]
columns = 12
n_rows = max(1, -(-len(wrong) // columns))
fig, axes = plt.subplots(n_rows, columns, figsize=(9, 1.0 * n_rows + 0.3))
for ax in np.atleast_1d(axes).flat:
    ax.axis("off")
for ax, i in zip(np.atleast_1d(axes).flat, wrong, strict=False):
    ax.imshow(X_test[i, 0], cmap="gray_r")
    ax.set_title(f"{digits.y_test[i]}→{predicted[i]}", fontsize=9)
fig.tight_layout()

# %% [markdown]
# ## Against the MLP of Part 2
#
# The 64-32-10 perceptron of the [MLP lab](../mlp-digits/), trained here again
# exactly as there: same split, same seeds, SGD with momentum and the same
# hyper-parameters, which are also the command line's defaults
# (`cnnscratch.cli.DEFAULTS`). Its accuracy is therefore the one that page
# prints.

# %% alt="Test accuracy after each epoch of the MLP and of the CNN, both rising and levelling off near 0.97."
MLP = DEFAULTS["mlp"]
mlp_model = mlp([64, 32, 10], rng=np.random.default_rng(0))
start = time.perf_counter()
mlp_history = fit(
    mlp_model,
    SGD(lr=MLP["lr"], momentum=MLP_MOMENTUM),
    digits.X_train,
    digits.Y_train,
    epochs=int(MLP["epochs"]),
    batch_size=int(MLP["batch_size"]),
    rng=np.random.default_rng(1),
    validation=(digits.X_test, digits.Y_test),
)
mlp_seconds = time.perf_counter() - start
mlp_accuracy = accuracy(mlp_model, digits.X_test, digits.y_test)


def count(model):
    return sum(p.size for p in model.parameters().values())


n_test = len(digits.y_test)
display(
    Markdown(
        "\n".join(
            [
                "| model | parameters | epochs | test accuracy | test mistakes "
                "| training time |",
                "|---|--:|--:|--:|--:|--:|",
                f"| MLP 64-32-10 | {count(mlp_model):,} | {MLP['epochs']} "
                f"| {mlp_accuracy:.1%} | {round((1 - mlp_accuracy) * n_test)} "
                f"| {mlp_seconds:.1f} s |",
                f"| CNN (this page) | {count(model):,} | {EPOCHS} "
                f"| {test_accuracy:.1%} | {round((1 - test_accuracy) * n_test)} "
                f"| {cnn_seconds:.1f} s |",
            ]
        )
    )
)
print(f"one test image is {1 / n_test:.2%} of the test set")

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(
    np.arange(1, len(mlp_history.val_accuracy) + 1),
    mlp_history.val_accuracy,
    "o-",
    ms=3,
    label="MLP",
)
ax.plot(epochs, history.val_accuracy, "o-", ms=3, label="CNN")
lowest = min(history.val_accuracy + mlp_history.val_accuracy)
ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(lowest - 0.01, 1.005))
ax.set_title("Test accuracy after each epoch")
ax.legend()
fig.tight_layout()

# %% [markdown]
# The two models have about the same number of parameters, but they spend
# them differently: the MLP gives every pixel its own weight into each
# hidden unit, while the CNN reuses each 3×3 kernel at all 64 positions and
# spends most of its parameters in the last dense layer. Read the difference
# with care, though: with a test set this small one image is a fraction of a
# percentage point, so a few mistakes either way can come from the seeds
# alone; an 8×8 digit is simply too small an image for convolution to show
# its full advantage.

# %% [markdown]
# ## The same run in PyTorch
#
# As in the MLP lab, the whole training run is repeated with an independent
# implementation: PyTorch's `conv2d`, `max_pool2d` and `linear` from
# `torch.nn.functional`, in float64, starting from a copy of the initial
# weights above, fed the same mini-batches in the same order and updated by
# PyTorch's own Adam with the same settings. If the forward and backward
# functions of Parts 2 and 3 are right, the loss must agree at every step up
# to rounding. (The cell only runs where PyTorch is installed; the site
# builds without it.)

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed, so the comparison with PyTorch was skipped.")

if torch is not None:
    from torch.nn import functional as F

    from cnnscratch.network import minibatches

    torch.set_num_threads(1)  # tensors this small run fastest on one thread
    names = ["0.W", "0.b", "4.W", "4.b"]
    W1, b1, W2, b2 = (torch.tensor(initial[k], requires_grad=True) for k in names)

    def torch_cnn(X):
        A = F.max_pool2d(F.relu(F.conv2d(X, W1, b1, padding=1)), 2)
        return F.linear(A.flatten(1), W2, b2)  # flatten(1): the same (c, h, w) order

    optimizer = torch.optim.Adam([W1, b1, W2, b2], lr=LR)
    X = torch.from_numpy(X_train)
    y = torch.from_numpy(digits.y_train)
    order = np.random.default_rng(1)  # the generator fit() used for the data order
    torch_loss = []
    for _ in range(EPOCHS):
        for batch in minibatches(len(X), BATCH, rng=order):
            optimizer.zero_grad()
            loss = F.cross_entropy(torch_cnn(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            torch_loss.append(loss.item())
    difference = np.abs(np.array(history.step_loss) - np.array(torch_loss))
    final = model.parameters()
    weights = max(
        float(np.abs(final[k] - t.detach().numpy()).max())
        for k, t in zip(names, (W1, b1, W2, b2), strict=True)
    )
    print(f"steps compared: {difference.size}")
    print(f"largest |loss difference|: {difference.max():.1e}")
    print(f"largest |weight difference| after training: {weights:.1e}")
    print("same loss at every step (to 1e-8):", bool(difference.max() < 1e-8))

# %% [markdown]
# Two implementations that share no code, one written from the derivations
# of this site and one from PyTorch's automatic differentiation, walk the
# same path through the weight space for the whole run, up to the rounding
# of float64.
#
# ## Where to go next
#
# This network is small on purpose, and the package is honest about what it
# is not:
#
# - **No GPU.** Everything is NumPy on the CPU. That is plenty for 8×8
#   digits and far too slow for real photographs.
# - **No autograd.** Every backward function was derived by hand in
#   [Part 2](../../part2-backpropagation/) and
#   [Part 3](../../part3-convolution/) and checked against finite differences.
#   A new layer (batch normalisation, dropout, a second convolution with a
#   stride) means a new derivation and a new gradient check; a framework
#   builds the backward pass for you.
# - **Speed.** The convolution is one matrix product after `im2col`, which
#   copies every 3×3 receptive field: memory grows with the kernel size, and
#   every layer pays Python overhead on every mini-batch. Frameworks use
#   tuned kernels instead. The project's `benchmarks/` folder (`make bench`)
#   times the site build and each notebook page against their goals.
#
# To train this CNN from a terminal and save its weights, run
# `python -m cnnscratch train --model cnn`; it uses the same architecture and
# hyper-parameters as this page (with one seed for both the weights and the
# data order, so its accuracy can differ by a few test images).
