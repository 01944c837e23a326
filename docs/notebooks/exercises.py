# ---
# jupyter:
#   description: >-
#     The exercises as a notebook to download: one cell to write each derivation in NumPy, one cell that grades it with the package's checker.
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
# # Notebook: the exercises
#
# The six exercises of the [Exercises](../exercises.md) page, one cell to
# fill in and one cell that grades it for each. Download this notebook with
# the button at the top of the page (a jupytext `.py` file: Jupyter opens it
# as a notebook once `jupytext` is installed, as it is by `make serve`), run
# it in the repository's `.venv`, and replace each `raise
# NotImplementedError` with your code.
#
# As published here, every function is still the starter, so every check
# below reports that the function is not written yet: that is what you see
# before you begin. Each check runs your function in a separate process with
# a time limit per case, so an infinite loop cannot hang the notebook.

# %%
import numpy as np  # noqa: F401 (your code will need it)

from cnnscratch import set_print_policy
from cnnscratch.exercises import check

set_print_policy()

# %% [markdown]
# ## 1. The dense layer's backward pass
#
# $Z = XW^\top + \mathbf{1}\mathbf{b}^\top$, derived in
# [Part 2: from one sample to a batch](../part2-backpropagation.md#from-one-sample-to-a-batch).
# Return the gradients of the loss with respect to $X$, $W$ and $\mathbf{b}$.


# %%
def dense_backward(dZ, X, W):
    """dZ (N, n_out), X (N, n_in), W (n_out, n_in) -> dX, dW, db.

    dX has shape (N, n_in), dW (n_out, n_in), db (n_out,).
    """
    raise NotImplementedError  # your code here


# %%
check("dense_backward", dense_backward)

# %% [markdown]
# ## 2. The gradient of the softmax cross-entropy
#
# The loss is the batch mean of $-\log p_{n,y_n}$, with $P$ the softmax of
# the logits $Z$ row by row; derived in
# [Part 2: the gradient](../part2-backpropagation.md#the-gradient-p-yn).
# The checker's logits reach $10^4$.


# %%
def softmax_cross_entropy_gradient(Z, Y):
    """Z (N, K) logits, Y (N, K) one-hot -> dZ (N, K)."""
    raise NotImplementedError  # your code here


# %%
check("softmax_cross_entropy_gradient", softmax_cross_entropy_gradient)

# %% [markdown]
# ## 3. Convolution, forward
#
# A cross-correlation, as in every framework, with stride, zero padding and
# dilation, each an `int` or an `(along H, along W)` pair; derived in
# [Part 3: the forward pass](../part3-convolution.md#a-dense-layer-that-slides).


# %%
def conv2d_forward(X, W, b, stride=1, padding=0, dilation=1):
    """X (N, C_in, H, W), W (C_out, C_in, KH, KW), b (C_out,) -> Y (N, C_out, OH, OW)."""
    raise NotImplementedError  # your code here


# %%
check("conv2d_forward", conv2d_forward)

# %% [markdown]
# ## 4. Convolution, backward
#
# The gradients of $X$, $W$ and $\mathbf{b}$ given $dY$; derived in
# [Part 3: the backward pass](../part3-convolution.md#the-input-every-read-sends-a-gradient-back).
# The check also differentiates your `conv2d_forward` above numerically, so
# it can tell a wrong backward pass from a wrong forward pass.


# %%
def conv2d_backward(dY, X, W, stride=1, padding=0, dilation=1):
    """dY (N, C_out, OH, OW), X (N, C_in, H, W), W (C_out, C_in, KH, KW) -> dX, dW, db.

    dX has X's shape, dW has W's shape, db has shape (C_out,).
    """
    raise NotImplementedError  # your code here


# %%
check("conv2d_backward", conv2d_backward, forward=conv2d_forward)

# %% [markdown]
# ## 5. Max-pooling, forward
#
# The largest entry of each window; the stride defaults to the kernel;
# derived in [Part 3: max-pooling](../part3-fast-convolution-and-pooling.md#forward).


# %%
def maxpool2d_forward(X, kernel=2, stride=None):
    """X (N, C, H, W), kernel and stride int or pair -> Y (N, C, OH, OW)."""
    raise NotImplementedError  # your code here


# %%
check("maxpool2d_forward", maxpool2d_forward)

# %% [markdown]
# ## 6. Max-pooling, backward
#
# Each window's gradient goes to its maximum, on a tie to the first maximum
# in row-major window order; derived in
# [Part 3: the gradient goes to the winner](../part3-fast-convolution-and-pooling.md#backward-the-gradient-goes-to-the-winner).


# %%
def maxpool2d_backward(dY, X, kernel=2, stride=None):
    """dY (N, C, OH, OW), X (N, C, H, W) -> dX (N, C, H, W)."""
    raise NotImplementedError  # your code here


# %%
check("maxpool2d_backward", maxpool2d_backward, forward=maxpool2d_forward)
