# ---
# jupyter:
#   description: >-
#     Lab: a small modern CNN with batch norm, a residual block and global average pooling, trained on digits and matched with a PyTorch twin.
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
# # Lab: a modern CNN on digits
#
# This page builds a small network from the layers of
# [Part 5](../../part5-modern-layers/): blocks of convolution, batch
# normalisation and ReLU, one residual block with a projection shortcut, and
# a global-average-pooling head instead of flatten and a large dense layer.
# It trains it from scratch with the package on the 8×8 digits, with the
# same split as the [Part 4 lab](../cnn-digits/), compares it with Part 4's
# CNN over five seeds, and then trains a PyTorch twin from the same initial
# weights on the same mini-batches, to confirm the whole loss curve and the
# evaluation-mode outputs. Everything is executed every time the site is
# built: the numbers and figures are what the code produces today.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from threadpoolctl import threadpool_limits

from cnnscratch import set_print_policy
from cnnscratch.cli import DEFAULTS
from cnnscratch.datasets import load_digits
from cnnscratch.layers import BatchNorm2D, Conv2D, Dense, Residual
from cnnscratch.network import accuracy, digits_cnn, digits_resnet, fit, minibatches
from cnnscratch.optim import Adam

set_print_policy()
# The matrices of an 8x8 problem are small: one BLAS thread is faster than
# several competing for the cores.
blas = threadpool_limits(1)  # assigned: no object repr on the page

# %% [markdown]
# ## The data and the network
#
# The split of the earlier labs: `load_digits` with seed 0 keeps a quarter of
# each digit aside as a test set, and the rows are reshaped to images
# $(N, 1, 8, 8)$. The package's `digits_resnet` builds the network:
#
# 1. two blocks of a 3×3 convolution (padding 1), batch norm over
#    $N$, $H$ and $W$ (Part 5, (5.1)–(5.3)) and a ReLU, with 6 maps of 8×8;
# 2. a residual block (5.12) whose body halves the size and doubles the
#    channels (a stride-2 convolution, batch norm, ReLU, convolution, batch
#    norm) and whose shortcut is a projection: a 1×1 convolution with
#    stride 2 and a batch norm; then a ReLU;
# 3. global average pooling (5.10), which leaves 12 numbers per image, and a
#    dense layer to 10 logits.
#
# The table is produced by pushing a batch through the layers and reading
# each output's shape and each layer's parameters.

# %%
digits = load_digits(test_fraction=0.25, seed=0)
X_train = digits.X_train.reshape(-1, 1, 8, 8)
X_test = digits.X_test.reshape(-1, 1, 8, 8)
print("train:", X_train.shape, " test:", X_test.shape)


def describe(layer):
    """A short name for a layer, with its hyper-parameters."""
    if isinstance(layer, Conv2D):
        C_out, C_in, KH, KW = layer.params["W"].shape
        stride = layer.options["stride"]
        return f"Conv2D {KH}×{KW}, {C_in} → {C_out}" + (
            f", stride {stride}" if stride != 1 else ""
        )
    if isinstance(layer, BatchNorm2D):
        return f"BatchNorm2D ({layer.params['gamma'].size})"
    if isinstance(layer, Residual):
        body = " → ".join(describe(inner) for inner in layer.body)
        shortcut = " → ".join(describe(inner) for inner in layer.shortcut)
        return f"Residual: [{body}] + [{shortcut or 'identity'}]"
    if isinstance(layer, Dense):
        n_out, n_in = layer.params["W"].shape
        return f"Dense {n_in} → {n_out}"
    return type(layer).__name__


def shape_text(shape):
    return "(" + ", ".join(["N", *map(str, shape[1:])]) + ")"


def count(model):
    return sum(p.size for p in model.parameters().values())


def architecture_table(model, X):
    rows = ["| layer | output shape | parameters |", "|---|---|--:|"]
    rows.append(f"| input | {shape_text(X.shape)} | |")
    out = X
    for layer in model.layers:
        out = layer.forward(out)
        n = sum(v.size for v in layer.params.values())
        rows.append(f"| {describe(layer)} | {shape_text(out.shape)} | {n:,} |")
    rows.append(f"| **total** | | **{count(model):,}** |")
    return "\n".join(rows)


CHANNELS = 6
network = digits_resnet(rng=np.random.default_rng(0), channels=CHANNELS)
display(Markdown(architecture_table(network, X_train[:2])))

# %% [markdown]
# Each convolution still has its bias, although the batch norm after it
# subtracts the channel mean and with it any constant the bias adds: the
# gradient of those biases is exactly zero (the sum $\sum dX$ of (5.6) over
# a channel vanishes), so they never move. Frameworks leave them out; here
# they stay, to keep `Conv2D` one class, and they are counted above.
#
# ## Training, five times
#
# One run says little: on a test set this small one image is a fraction of
# a percentage point. So the network is trained five times from scratch,
# and Part 4's CNN five times beside it, with the same optimiser (Adam,
# (2.20)), the learning rate and batch size of the Part 4 lab
# (`cnnscratch.cli.DEFAULTS`) and the same number of epochs. Seed $k$ gives
# two generators, `default_rng([k, 0])` for the initial weights and
# `default_rng([k, 1])` for the order of the mini-batches. Part 4's lab
# trains its CNNs for `DEFAULTS["cnn"]["epochs"]` epochs; here both get 6,
# which keeps this page fast to build.
#
# `fit` trains every batch norm in training mode (batch statistics,
# running averages updated) and evaluates on the test set after each epoch
# in evaluation mode (running statistics, nothing updated). What a training
# step costs is not timed here, where the numbers would change with the
# machine's load at every build: the [Performance](performance.py) page shows
# recorded measurements.

# %%
EPOCHS = 6
BATCH = int(DEFAULTS["cnn"]["batch_size"])
LR = DEFAULTS["cnn"]["lr"]
SEEDS = range(5)
print(f"epochs {EPOCHS}, batch size {BATCH}, Adam learning rate {LR}")


def train(build, seed):
    """Train a fresh model; return it and its run: losses, test curve."""
    model = build(rng=np.random.default_rng([seed, 0]))
    optimizer, order = Adam(lr=LR), np.random.default_rng([seed, 1])
    state = {**model.parameters(), **model.buffers()}
    run = {"initial": {k: v.copy() for k, v in state.items()}}
    result = fit(
        model,
        optimizer,
        X_train,
        digits.Y_train,
        epochs=EPOCHS,
        batch_size=BATCH,
        rng=order,
        validation=(X_test, digits.Y_test),
        evaluate_training=False,
    )
    run.update(
        step_loss=result.step_loss,
        test_loss=result.val_loss,
        test_accuracy=result.val_accuracy,
    )
    return model, run


def resnet(rng):
    return digits_resnet(rng=rng, channels=CHANNELS)


runs = {
    "Part 4 CNN (conv, max-pool, dense)": [train(digits_cnn, s) for s in SEEDS],
    "Part 5 residual network (this page)": [train(resnet, s) for s in SEEDS],
}
model, history = runs["Part 5 residual network (this page)"][0]  # seed 0, below

rows = [
    "| model | parameters | test accuracy, mean ± sd | min–max |",
    "|---|--:|--:|--:|",
]
for name, results in runs.items():
    acc = np.array([run["test_accuracy"][-1] for _, run in results])
    rows.append(
        f"| {name} | {count(results[0][0]):,} "
        f"| {acc.mean():.1%} ± {acc.std(ddof=1):.1%} "
        f"| {acc.min():.1%}–{acc.max():.1%} |"
    )
display(Markdown("\n".join(rows)))
print(f"one test image is {1 / len(digits.y_test):.2%} of the test set")

# %% [markdown]
# Read the table with the standard deviations in mind. On 8×8 digits the
# small CNN of Part 4 is already near the ceiling, and the layers of this
# page are not there to win on such a problem: batch normalisation lets
# deep networks train with large learning rates, residual connections let
# them be deep at all, and global average pooling frees them from one image
# size. What the comparison does show is that a network built from them
# trains from scratch to a comparable accuracy.
#
# The curves of the first run (seed 0) of both networks:

# %% alt="Left: mini-batch cross-entropy of both networks, seed 0, on a log scale against the epoch, with the test-set loss after each epoch. Right: test accuracy of both networks after each epoch."
cnn_run = runs["Part 4 CNN (conv, max-pool, dense)"][0][1]
steps_per_epoch = len(history["step_loss"]) // EPOCHS
epochs = np.arange(1, EPOCHS + 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, run in (("Part 5 residual network", history), ("Part 4 CNN", cnn_run)):
    steps = np.arange(1, len(run["step_loss"]) + 1) / steps_per_epoch
    (line,) = left.plot(steps, run["step_loss"], lw=0.6, alpha=0.5)
    colour = line.get_color()
    left.plot(epochs, run["test_loss"], "o-", ms=3, color=colour, label=name)
    right.plot(epochs, run["test_accuracy"], "o-", ms=3, color=colour, label=name)
left.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
left.set_title("Loss: mini-batches (thin), test set (dots)")
left.legend()
right.set(xlabel="epoch", ylabel="test accuracy")
right.set_title("Test accuracy (evaluation mode)")
right.legend()
fig.tight_layout()

# %% [markdown]
# ## What the running statistics hold
#
# The first batch norm normalises the maps of the first convolution. In
# training mode it uses each batch's own mean and (biased) variance; the
# running averages (5.7), with momentum 0.1 and the unbiased variance, are
# what evaluation mode uses instead. After training they should be close to
# the statistics of the whole training set, seen through the final weights:

# %%
conv, bn = model.layers[0], model.layers[1]
maps = conv.forward(X_train)  # the first convolution's maps, (N, C, 8, 8)
M = maps.shape[0] * maps.shape[2] * maps.shape[3]
rows = [
    "| channel | running mean | mean over the training set "
    "| running variance | unbiased variance over the training set |",
    "|--:|--:|--:|--:|--:|",
]
for c in range(maps.shape[1]):
    values = maps[:, c].ravel()
    rows.append(
        f"| {c} | {bn.buffers['running_mean'][c]:.3f} | {values.mean():.3f} "
        f"| {bn.buffers['running_var'][c]:.3f} | {values.var() * M / (M - 1):.3f} |"
    )
display(Markdown("\n".join(rows)))

# %% [markdown]
# Close, but not equal: the running averages weight the last batches most
# and mix statistics of weights that were still changing. That is the price
# of evaluation mode, and the reason it is checked, below, against an
# independent implementation as well.
#
# The global-average-pooling head has one more consequence: the network
# accepts images of any size. Each test digit enlarged to 16×16 (every pixel
# repeated 2×2) is still a digit, and the network trained on 8×8 images can
# be asked about it. Expect a poor answer: its 3×3 filters were tuned to
# strokes one or two pixels wide, and at twice the scale they see
# something else. Accepting any size is not the same as recognising digits
# at any size; that takes training on several scales.

# %%
X_big = np.kron(X_test, np.ones((1, 1, 2, 2)))
print("enlarged test set:", X_big.shape)
print(f"accuracy on 16×16 digits: {accuracy(model, X_big, digits.y_test):.1%}")

# %% [markdown]
# ## The same run in PyTorch
#
# As in the earlier labs, the first training run above (seed 0) is repeated with an
# independent implementation: `conv2d`, `batch_norm` (training mode, with
# its own running statistics), `relu`, a mean over the pixels and `linear`
# from `torch.nn.functional`, in float64, from a copy of the initial weights
# and running statistics, fed the same mini-batches in the same order and
# updated by PyTorch's own Adam. If the backward passes of Part 5 (batch
# norm through its mean and variance, the residual addition, the pooling)
# are right, the loss agrees at every step up to rounding. Then both
# networks are switched to evaluation mode and classify the test set with
# their running statistics. (The cell only runs where PyTorch is installed;
# the site builds without it.)

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed, so the comparison with PyTorch was skipped.")

if torch is not None:
    from torch.nn import functional as F

    torch.set_num_threads(1)  # tensors this small run fastest on one thread
    initial = history["initial"]  # seed 0: initial parameters, running statistics
    p = {k: torch.tensor(initial[k], requires_grad=True) for k in model.parameters()}
    b = {k: torch.tensor(initial[k]) for k in model.buffers()}

    def bn_t(Z, name, training):
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

    def conv_t(Z, name, **options):
        return F.conv2d(Z, p[f"{name}.W"], p[f"{name}.b"], **options)

    def torch_resnet(X, training):
        A = F.relu(bn_t(conv_t(X, "0", padding=1), "1", training))
        A = F.relu(bn_t(conv_t(A, "3", padding=1), "4", training))
        body = conv_t(A, "6.body.0", stride=2, padding=1)
        body = F.relu(bn_t(body, "6.body.1", training))
        body = bn_t(conv_t(body, "6.body.3", padding=1), "6.body.4", training)
        shortcut = bn_t(conv_t(A, "6.shortcut.0", stride=2), "6.shortcut.1", training)
        A = F.relu(body + shortcut)
        return F.linear(A.mean(dim=(2, 3)), p["9.W"], p["9.b"])

    optimizer = torch.optim.Adam(p.values(), lr=LR)
    X, y = torch.from_numpy(X_train), torch.from_numpy(digits.y_train)
    order = np.random.default_rng([0, 1])  # the data order of seed 0's run
    torch_loss = []
    for _ in range(EPOCHS):
        for batch in minibatches(len(X), BATCH, rng=order):
            optimizer.zero_grad()
            loss = F.cross_entropy(torch_resnet(X[batch], training=True), y[batch])
            loss.backward()
            optimizer.step()
            torch_loss.append(loss.item())
    difference = np.abs(np.array(history["step_loss"]) - np.array(torch_loss))
    ours = {**model.parameters(), **model.buffers()}
    theirs = {**p, **b}
    weights = max(
        float(np.abs(ours[k] - theirs[k].detach().numpy()).max()) for k in ours
    )
    with torch.no_grad():
        logits_torch = torch_resnet(torch.from_numpy(X_test), training=False).numpy()
    logits = model.eval().forward(X_test)
    eval_difference = float(np.abs(logits - logits_torch).max())
    same_predictions = bool(np.array_equal(logits.argmax(1), logits_torch.argmax(1)))
    print(f"steps compared: {difference.size}")
    print(f"largest |loss difference| (training mode): {difference.max():.1e}")
    print(
        f"largest |parameter or running-statistic difference| after training: {weights:.1e}"
    )
    print(
        f"largest |logit difference| on the test set (evaluation mode): {eval_difference:.1e}"
    )
    print("same loss at every step (to 1e-8):", bool(difference.max() < 1e-8))
    print("same test predictions in evaluation mode:", same_predictions)

# %% [markdown]
# Two implementations that share no code walk the same path through the
# weight space, running statistics included, and classify the test set
# alike in evaluation mode.
#
# ## Where to go next
#
# - **Depth.** With batch norm and residual blocks the same code trains
#   networks of dozens of layers; on 8×8 digits they have nothing to gain,
#   on larger images (the 28×28 MNIST digits, CIFAR-10) they do, but a NumPy
#   implementation on the CPU becomes the bottleneck well before that.
# - **Upsampling.** `ConvTranspose2D` is the decoder half of a U-Net or an
#   autoencoder; Part 5 shows the checkerboard it starts from.
# - **Speed.** Every layer pays Python overhead on every mini-batch, and the
#   convolution copies every receptive field with im2col; the project's
#   `benchmarks/` folder (`make bench`) times the site build and each
#   notebook page against their goals.
