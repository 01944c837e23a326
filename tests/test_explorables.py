"""The explorables' frames equal the package, for every setting they offer.

``tools/explorables.py`` writes every number a reader sees. Each test reads
those numbers back from the data, as the browser shows them, and compares
them with an independent computation: the loop reference of the package,
or the equation written out here with slices.
"""

from __future__ import annotations

import importlib
import itertools
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from cnnscratch.conv import conv2d_backward_loops, conv2d_forward_loops
from cnnscratch.pooling import maxpool2d_backward_loops, maxpool2d_forward_loops
from cnnscratch.transposed import (
    conv_transpose2d_forward,
    conv_transpose2d_forward_loops,
)
from tools import explorables

ROOT = Path(__file__).resolve().parents[1]
DATA = {name: explorables.build(name) for name in explorables.EXPLORABLES}


def num(grid: list[list[str]]) -> np.ndarray:
    """A displayed grid as floats; a blank cell is NaN."""
    return np.array([[float(v) if v else np.nan for v in row] for row in grid])


def panels(variant: dict[str, Any]) -> dict[str, np.ndarray]:
    return {p["id"]: num(p["values"]) for p in variant["panels"]}


def shown(variant: dict[str, Any], frame: dict[str, Any], pid: str) -> np.ndarray:
    """What panel ``pid`` displays in ``frame``."""
    base = next(p for p in variant["panels"] if p["id"] == pid)
    return num(frame["values"].get(pid, base["values"]))


def cells(frame: dict[str, Any], pid: str, *roles: str) -> set[tuple[int, int]]:
    return {(r, c) for r, c, role in frame["marks"].get(pid, []) if role in roles}


def inner(A: np.ndarray, p: int) -> np.ndarray:
    return A[p : A.shape[0] - p, p : A.shape[1] - p]


def variants(name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(options, variant) for every combination of the settings offered."""
    data = DATA[name]
    out = []
    names = [s["name"] for s in data["settings"]]
    for combo in itertools.product(*(s["options"] for s in data["settings"])):
        options = dict(zip(names, combo, strict=True))
        out.append((options, data["variants"][explorables.key(**options)]))
    return out


def ids(name: str) -> list[str]:
    return [explorables.key(**o) for o, _ in variants(name)]


def test_every_combination_of_settings_has_a_variant() -> None:
    for name, data in DATA.items():
        combos = list(itertools.product(*(s["options"] for s in data["settings"])))
        assert len(data["variants"]) == len(combos), name
        assert explorables.default_key(data) in data["variants"]


def test_fmt_prints_integers_without_a_point_and_no_negative_zero() -> None:
    assert [explorables.fmt(v) for v in (3.0, -2.0, -0.0, 0.5)] == [
        "3",
        "-2",
        "0",
        "0.5",
    ]


# ---------------------------------------------------------------------------
# 1. Convolution forward


@pytest.mark.parametrize(
    ("options", "variant"), variants("conv-forward"), ids=ids("conv-forward")
)
def test_conv_forward_frames_equal_the_loop_reference(
    options: dict[str, int], variant: dict[str, Any]
) -> None:
    s, p, d = options["stride"], options["padding"], options["dilation"]
    grids = panels(variant)
    Xp, W, b = grids["X"], grids["W"], grids["b"][0]
    assert np.all(Xp == np.pad(inner(Xp, p), p))  # the ring is zeros
    X = inner(Xp, p)[None, None]
    Y, _ = conv2d_forward_loops(X, W[None, None], b, stride=s, padding=p, dilation=d)
    y = Y[0, 0]
    OH, OW = y.shape
    frames = variant["frames"]
    assert len(frames) == OH * OW
    for q, frame in enumerate(frames):
        i, j = divmod(q, OW)
        taps = [(s * i + d * u, s * j + d * v) for u in range(3) for v in range(3)]
        assert cells(frame, "X", "read") == set(taps)
        assert cells(frame, "Y", "write") == {(i, j)}
        done = np.arange(OH * OW).reshape(OH, OW) <= q
        Yq = shown(variant, frame, "Y")
        assert np.array_equal(Yq[done], y[done])
        assert np.isnan(Yq[~done]).all()
        # The written-out sum: each factor pair is w[u, v] and x̃ at its tap,
        # and the products add up, with the bias, to the output.
        pairs = re.findall(r"(\(?-?\d+\)?)·(\(?-?\d+\)?)", frame["lines"][1])
        factors = [(float(a.strip("()")), float(x.strip("()"))) for a, x in pairs]
        expected = [
            (W[u, v], Xp[r, t])
            for (u, v), (r, t) in zip(
                itertools.product(range(3), range(3)), taps, strict=True
            )
        ]
        assert factors == expected
        numbers = [float(n) for n in re.findall(r"-?\d+", frame["lines"][2])]
        assert numbers[0] == b
        assert numbers[1:-1] == [a * x for a, x in factors]
        assert numbers[-1] == y[i, j] == b + sum(numbers[1:-1])
    top = 5 + 2 * p - d * 2 - 1
    assert variant["notes"][0].endswith(
        f"⌊{top} / {s}⌋ + 1 = {OH}, so Y is {OH} × {OW}."
    )


# ---------------------------------------------------------------------------
# 2. Where a gradient goes, and 3. the flipped kernel


def scatter_by_hand(
    Xp: np.ndarray, W: np.ndarray, dY: np.ndarray, s: int, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """dX̃ and dW after the first ``count`` outputs have sent their gradient."""
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    for q in range(count):
        i, j = divmod(q, dY.shape[1])
        dXp[s * i : s * i + 3, s * j : s * j + 3] += dY[i, j] * W
        dW += dY[i, j] * Xp[s * i : s * i + 3, s * j : s * j + 3]
    return dXp, dW


@pytest.mark.parametrize(
    ("options", "variant"), variants("gradient-scatter"), ids=ids("gradient-scatter")
)
def test_gradient_scatter_accumulates_to_the_loop_reference(
    options: dict[str, int], variant: dict[str, Any]
) -> None:
    s, p = options["stride"], options["padding"]
    grids = panels(variant)
    Xp, W, dY = grids["X"], grids["W"], grids["dY"]
    X = inner(Xp, p)[None, None]
    _, cache = conv2d_forward_loops(X, W[None, None], [0.0], stride=s, padding=p)
    dX_ref, dW_ref, _ = conv2d_backward_loops(dY[None, None], cache)
    OW = dY.shape[1]
    earlier: set[tuple[int, int]] = set()
    for q, frame in enumerate(variant["frames"]):
        i, j = divmod(q, OW)
        dXp, dW = scatter_by_hand(Xp, W, dY, s, q + 1)
        assert np.array_equal(shown(variant, frame, "dX"), dXp)
        assert np.array_equal(shown(variant, frame, "dW"), dW)
        window = {(s * i + u, s * j + v) for u in range(3) for v in range(3)}
        assert cells(frame, "dY", "read") == {(i, j)}
        assert cells(frame, "dX", "write", "again") == window
        assert cells(frame, "dX", "again") == window & earlier
        earlier |= window
    last = variant["frames"][-1]
    assert np.array_equal(inner(shown(variant, last, "dX"), p), dX_ref[0, 0])
    assert np.array_equal(shown(variant, last, "dW"), dW_ref[0, 0])
    # Overlaps add: the windows (3 wide, stride 1 or 2) overlap, so some cell
    # hears from more than one output.
    assert any(cells(f, "dX", "again") for f in variant["frames"])


@pytest.mark.parametrize(
    ("options", "variant"), variants("flipped-kernel"), ids=ids("flipped-kernel")
)
def test_flipped_kernel_ends_in_the_scattered_gradient(
    options: dict[str, int], variant: dict[str, Any]
) -> None:
    s, p = options["stride"], options["padding"]
    grids = panels(variant)
    D, W, W_rot = grids["D"], grids["W"], grids["Wrot"]
    scatter = DATA["gradient-scatter"]["variants"][explorables.key(**options)]
    dY = panels(scatter)["dY"]
    assert np.array_equal(W, panels(scatter)["W"])
    OH, OW = dY.shape
    D_hand = np.zeros((s * (OH - 1) + 5, s * (OW - 1) + 5))
    D_hand[2 : 2 + s * (OH - 1) + 1 : s, 2 : 2 + s * (OW - 1) + 1 : s] = dY
    assert np.array_equal(D, D_hand)
    assert np.array_equal(W_rot, np.rot90(W, 2))
    frames = variant["frames"]
    GH, GW = D.shape[0] - 2, D.shape[1] - 2
    assert len(frames) == GH * GW + 1
    for q, frame in enumerate(frames[:-1]):
        r, t = divmod(q, GW)
        assert cells(frame, "D", "read") == {
            (r + u, t + v) for u in range(3) for v in range(3)
        }
        value = float(frame["lines"][1].rsplit("= ", 1)[1])
        assert value == np.sum(W_rot * D[r : r + 3, t : t + 3])
        assert shown(variant, frame, "dX")[r, t] == value
    last = frames[-1]
    final_scatter = shown(scatter, scatter["frames"][-1], "dX")
    assert np.array_equal(shown(variant, last, "dX"), final_scatter)
    Xp = panels(scatter)["X"]
    _, cache = conv2d_forward_loops(
        inner(Xp, p)[None, None], W[None, None], [0.0], stride=s, padding=p
    )
    dX_ref = conv2d_backward_loops(dY[None, None], cache)[0][0, 0]
    assert np.array_equal(shown(variant, last, "out"), dX_ref)


# ---------------------------------------------------------------------------
# 4. im2col and col2im


def windows(s: int) -> list[list[tuple[int, int]]]:
    """The cells of every 2 x 2 window of a 4 x 4 image, (c, u, v) order."""
    size = (4 - 2) // s + 1
    return [
        [(s * i + u, s * j + v) for u in range(2) for v in range(2)]
        for i in range(size)
        for j in range(size)
    ]


@pytest.mark.parametrize(("options", "variant"), variants("im2col"), ids=ids("im2col"))
def test_im2col_frames_match_windows_taken_by_hand(
    options: dict[str, Any], variant: dict[str, Any]
) -> None:
    s, view = options["stride"], options["view"]
    wins = windows(s)
    frames = variant["frames"]
    if view == "col2im":
        D = panels(variant)["D"]
        acc = np.zeros((4, 4))
        for q, frame in enumerate(frames):
            for (r, c), g in zip(wins[q], D[q], strict=True):
                acc[r, c] += g
            assert np.array_equal(shown(variant, frame, "dX"), acc)
            assert cells(frame, "dX", "write", "again") == set(wins[q])
        X = np.zeros((1, 1, 4, 4))
        from cnnscratch.conv import col2im

        assert np.array_equal(acc, col2im(D, X.shape, 2, stride=s)[0, 0])
        return
    grids = panels(variant)
    X, cols = grids["X"], grids["cols"]
    assert np.array_equal(cols, np.array([[X[r, c] for r, c in w] for w in wins]))
    if view == "rows":
        assert len(frames) == len(wins)
        for q, frame in enumerate(frames):
            assert cells(frame, "X", "write") == set(wins[q])
            assert cells(frame, "cols", "read") == {(q, k) for k in range(4)}
    else:
        assert len(frames) == 16
        for n, frame in enumerate(frames):
            pixel = divmod(n, 4)
            copies = {
                (q, k)
                for q, w in enumerate(wins)
                for k, rc in enumerate(w)
                if rc == pixel
            }
            assert cells(frame, "X", "read") == {pixel}
            assert cells(frame, "cols", "write") == copies
            assert f"into {len(copies)} entries" in frame["lines"][0]


# ---------------------------------------------------------------------------
# 5. Max-pooling


@pytest.mark.parametrize(
    ("options", "variant"), variants("maxpool"), ids=ids("maxpool")
)
def test_maxpool_frames_route_to_the_first_maximum(
    options: dict[str, int], variant: dict[str, Any]
) -> None:
    k, s = options["kernel"], options["stride"]
    grids = panels(variant)
    X, dY = grids["X"], grids["dY"]
    Y_ref, cache = maxpool2d_forward_loops(X[None, None], k, stride=s)
    dX_ref = maxpool2d_backward_loops(dY[None, None], cache)[0, 0]
    OW = dY.shape[1]
    dX = np.zeros_like(X)
    for q, frame in enumerate(variant["frames"]):
        i, j = divmod(q, OW)
        window = X[s * i : s * i + k, s * j : s * j + k]
        u, v = divmod(int(np.argmax(window)), k)  # np.argmax: the first maximum
        ties = {
            (s * i + a, s * j + c)
            for a, c in zip(*np.nonzero(window == window.max()), strict=True)
        } - {(s * i + u, s * j + v)}
        assert cells(frame, "X", "win") == {(s * i + u, s * j + v)}
        assert cells(frame, "X", "tie") == ties
        dX[s * i + u, s * j + v] += dY[i, j]
        assert np.array_equal(shown(variant, frame, "dX"), dX)
        assert shown(variant, frame, "Y")[i, j] == Y_ref[0, 0, i, j]
    last = variant["frames"][-1]
    assert np.array_equal(shown(variant, last, "Y"), Y_ref[0, 0])
    assert np.array_equal(shown(variant, last, "dX"), dX_ref)


def test_maxpool_shows_ties_and_overlapping_winners() -> None:
    frames = {k: v["frames"] for k, v in DATA["maxpool"]["variants"].items()}
    for key, fs in frames.items():
        assert any(cells(f, "X", "tie") for f in fs), key  # a tie in every setting
    overlapping = frames[explorables.key(kernel=3, stride=1)]
    winners = [next(iter(cells(f, "X", "win"))) for f in overlapping]
    assert len(set(winners)) < len(winners)  # one input wins several windows


# ---------------------------------------------------------------------------
# 6. Transposed convolution


def stamps_by_hand(
    X: np.ndarray, W: np.ndarray, s: int, op: int, count: int
) -> np.ndarray:
    """Ỹ after the first ``count`` input pixels have stamped the kernel, (5.14)."""
    H, k = X.shape[0], W.shape[0]
    size = s * (H - 1) + k + op
    Yt = np.zeros((size, size))
    for q in range(count):
        i, j = divmod(q, H)
        Yt[s * i : s * i + k, s * j : s * j + k] += X[i, j] * W
    return Yt


@pytest.mark.parametrize(
    ("options", "variant"), variants("conv-transpose"), ids=ids("conv-transpose")
)
def test_conv_transpose_frames_stamp_the_kernel_and_end_in_the_package_output(
    options: dict[str, int], variant: dict[str, Any]
) -> None:
    s, p, op = options["stride"], options["padding"], options["output_padding"]
    grids = panels(variant)
    X, W = grids["X"], grids["W"]
    frames = variant["frames"]
    if op >= s:  # the package's rule (dilation 1): refused, and the page says so
        with pytest.raises(ValueError, match="output_padding") as refused:
            conv_transpose2d_forward_loops(
                X[None, None], W[None, None], [0.0], stride=s, output_padding=op
            )
        assert len(frames) == 1
        assert str(refused.value) in frames[0]["lines"][0]
        assert set(grids) == {"X", "W"}
        return
    H, k = X.shape[0], W.shape[0]
    assert len(frames) == H * H
    earlier: set[tuple[int, int]] = set()
    for q, frame in enumerate(frames):
        i, j = divmod(q, H)
        Yt = stamps_by_hand(X, W, s, op, q + 1)
        assert np.array_equal(shown(variant, frame, "Yt"), Yt)
        assert np.array_equal(shown(variant, frame, "Y"), inner(Yt, p))
        stamp = {(s * i + u, s * j + v) for u in range(k) for v in range(k)}
        assert cells(frame, "X", "read") == {(i, j)}
        assert cells(frame, "Yt", "write", "again") == stamp
        assert cells(frame, "Yt", "again") == stamp & earlier
        OH = Yt.shape[0] - 2 * p
        in_Y = {(r - p, t - p) for r, t in stamp if p <= r < p + OH and p <= t < p + OH}
        assert cells(frame, "Y", "write", "again") == in_Y
        assert frame["picks"] == [["X", i, j]]
        earlier |= stamp
    Y_ref, _ = conv_transpose2d_forward_loops(
        X[None, None], W[None, None], [0.0], stride=s, padding=p, output_padding=op
    )
    last = frames[-1]
    assert np.array_equal(shown(variant, last, "Y"), Y_ref[0, 0])
    assert any(cells(f, "Yt", "again") for f in frames)  # the stamps overlap
    # The added rows and columns, and eq. (5.16) written out.
    tilde = next(x for x in variant["panels"] if x["id"] == "Yt")
    out = next(x for x in variant["panels"] if x["id"] == "Y")
    assert tilde["pad"] == p
    assert tilde.get("added", 0) == out.get("added", 0) == op
    size = s * (H - 1) + (k - 1) + 1 - 2 * p + op
    assert Y_ref.shape[2:] == (size, size)
    assert variant["notes"][0].endswith(
        f"{s}·({H} − 1) + 1·({k} − 1) + 1 − 2·{p} + {op} = {size}, "
        f"so Y is {size} × {size}."
    )
    if op:  # no stamp reaches what output_padding appends to Ỹ
        assert np.all(shown(variant, last, "Yt")[-op:] == 0)
        assert np.all(shown(variant, last, "Yt")[:, -op:] == 0)


def test_conv_transpose_shows_the_package_output_for_its_inputs() -> None:
    X, W = explorables.transposed_inputs()
    assert np.all(X != 0)  # every stamp sends something
    assert np.all(W != 0)
    variant = DATA["conv-transpose"]["variants"][
        explorables.key(stride=2, padding=1, output_padding=1)
    ]
    Y, _ = conv_transpose2d_forward(X, W, [0.0], stride=2, padding=1, output_padding=1)
    assert np.array_equal(shown(variant, variant["frames"][-1], "Y"), Y[0, 0])


# ---------------------------------------------------------------------------
# The static first frame and the hook


@pytest.mark.parametrize("name", list(DATA))
def test_first_frame_svg_is_valid_and_shows_the_first_frame(name: str) -> None:
    data = DATA[name]
    svg = ET.fromstring(explorables.first_frame_svg(data))
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.find(f"{ns}title").text == explorables.alt_text(data)
    texts = [t.text or "" for t in svg.iter(f"{ns}text")]
    variant = data["variants"][explorables.default_key(data)]
    first = variant["frames"][0]
    for p in variant["panels"]:
        for row in first["values"].get(p["id"], p["values"]):
            for value in row:
                if value:
                    assert value in texts


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Any:
    """tools/explorables_hook.py, imported as MkDocs imports a hook."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    module = importlib.import_module("explorables_hook")
    module.DATA.clear()
    module.USED.clear()
    module.DATA.update(DATA)
    yield module
    sys.modules.pop("explorables_hook", None)


def fake_page(src: str) -> Any:
    url = src.removesuffix(".md") + "/"
    return SimpleNamespace(file=SimpleNamespace(src_uri=src, url=url))


def test_hook_replaces_a_placeholder_with_a_figure(hook: Any) -> None:
    html = hook.on_page_markdown(
        "Text.\n\n{{ explorable: maxpool }}\n\nMore.\n",
        fake_page("part3.md"),
        None,
        None,
    )
    assert '<figure class="explorable" id="explorable-maxpool"' in html
    assert 'data-src="../explorables/maxpool.json"' in html
    assert '<noscript><img class="xp-static" src="../explorables/maxpool.svg"' in html
    assert "<figcaption>Max-pooling, eqs. (3.9) and (3.10)" in html
    assert 'alt="First step of the figure' in html
    page_html = hook.on_page_content(html, fake_page("part3.md"), None, None)
    assert '<script src="../assets/explorables.js" defer>' in page_html
    assert hook.on_page_content("<p>no figure</p>", fake_page("a.md"), None, None) == (
        "<p>no figure</p>"
    )


def test_hook_rejects_unknown_and_repeated_explorables(hook: Any) -> None:
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="unknown explorable 'conv-fwd'"):
        hook.on_page_markdown(
            "{{ explorable: conv-fwd }}\n", fake_page("a.md"), None, None
        )
    hook.on_page_markdown("{{ explorable: im2col }}\n", fake_page("a.md"), None, None)
    with pytest.raises(PluginError, match=r"already shown on a\.md"):
        hook.on_page_markdown(
            "{{ explorable: im2col }}\n", fake_page("b.md"), None, None
        )


def test_every_explorable_is_placed_once_on_the_pages() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    for name in DATA:
        assert text.count(f"{{{{ explorable: {name} }}}}") == 1, name
