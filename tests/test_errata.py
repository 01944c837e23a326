"""One regression test for each defect of the source article (shared/source/ERRATA.md).

Errata that are about numbers are checked against the package; errata about
the page's text are checked on the Markdown source, the way a reviewer would.
Erratum 9 (doctest prompts) and 11 (shown output = real output) are enforced
for every page by the doctest machinery (tests/site/test_doctest_machinery.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnscratch.dense import affine, jacobian_a_wrt_W, layer_output
from cnnscratch.gradcheck import gradients_match, numerical_jacobian
from cnnscratch.linear_system import gradient_descent, objective, residual

ROOT = Path(__file__).resolve().parents[1]
PART1 = (ROOT / "docs" / "part1-matrix-calculus.md").read_text(encoding="utf-8")
PAGES = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md")}
SOURCES = {
    **PAGES,
    **{p.name: p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")},
    **{p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.py")},
}
DISPLAY_MATH = re.compile(r"^\s*\$\$\n(.*?)\n\s*\$\$", re.S | re.M)
A4 = np.array([[1, 3, 2, -1], [5, 2, 1, -2], [0, 1, 2, 4], [1, 1, -1, -3]], float)
B4 = np.array([9, 4, 24, -12], float)


def test_1_second_residual_row_subtracts_b2() -> None:
    A = np.array([[4.0, 2.0], [3.0, 8.0]])
    x = np.array([1.0, 1.0])
    y = residual(A, x, [0.0, 100.0])
    assert y.tolist() == [6.0, 11.0 - 100.0]
    assert "a_{21}x_1 + a_{22}x_2 - b_2" in PART1
    assert "a_{21}x_1 + a_{22}x_2 - b_1" not in PART1


def test_2_and_3_row_i_of_the_layer_uses_row_i_of_W_and_plus_b_i() -> None:
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=3)
    for j in range(2):
        e_j = np.eye(2)[j]
        assert np.allclose(affine(W, e_j, b) - b, W[:, j])  # W[i, j]: from j to i
    rows = re.findall(r"z_(\d) &= (.*?)(?: \\\\)?\n", PART1)
    assert len(rows) == 4
    for i, rhs in rows:
        weights = re.findall(r"w_\{(\d)(\d)\}x_(\d)", rhs)
        assert [(w_i, x_j) for w_i, _, x_j in weights] == [(i, str(j)) for j in "1234"]
        assert all(w_j == x_j for _, w_j, x_j in weights)
        assert rhs.endswith(f"+ b_{i}")


def test_4_objective_is_a_scalar_sum_of_squares() -> None:
    value = objective(A4, np.zeros(4), B4)
    assert isinstance(value, float)
    assert value == float(np.sum(B4**2))


def test_5_chain_rule_puts_the_outer_derivative_first() -> None:
    eq = PART1[
        PART1.index(r"\frac{\partial \mathbf{a}}{\partial \operatorname{vec}(W)}") :
    ]
    eq = eq[: eq.index(r"\tag{1.16}")]
    outer = eq.index(r"\frac{\partial \mathbf{a}}{\partial \mathbf{z}}")
    inner = eq.index(r"\frac{\partial \mathbf{z}}{\partial \operatorname{vec}(W)}")
    assert outer < inner


def test_6_kronecker_form_holds_for_column_major_vec_only() -> None:
    rng = np.random.default_rng(6)
    W, x, b = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)

    def a_of(V: np.ndarray) -> np.ndarray:
        return layer_output(V, x, b)

    analytic = jacobian_a_wrt_W(W, x, b)
    assert gradients_match(analytic, numerical_jacobian(a_of, W, order="F"))
    assert not gradients_match(analytic, numerical_jacobian(a_of, W, order="C"))
    assert "stacks the columns" in PART1


def math_regions(text: str) -> list[str]:
    return re.findall(r"\$\$.*?\$\$|\$[^$\n]+\$", text, re.S)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_7_diag_is_an_operator_name(name: str) -> None:
    for math in math_regions(PAGES[name]):
        assert not re.search(r"(?<![\\{])diag", math), math


def test_8_en_dash_not_mojibake() -> None:
    assert "Barzilai–Borwein" in PART1
    for name, text in SOURCES.items():
        assert "â€" not in text, name


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_10_no_global_unseeded_random_numbers(name: str) -> None:
    legacy = re.compile(
        r"np\.random\.(rand|randn|randint|random|seed|normal|uniform)\("
    )
    assert not legacy.search(SOURCES[name])


def test_11_descent_result_is_close_to_but_not_exactly_the_solution() -> None:
    x0 = np.random.default_rng(0).random(4)
    result = gradient_descent(A4, B4, x0, 0.01)
    assert result.converged
    assert np.max(np.abs(result.x - [1, 2, 3, 4])) < 1e-9
    assert not np.array_equal(result.x, [1.0, 2.0, 3.0, 4.0])


def test_12_step_size_limit_is_two_over_the_largest_hessian_eigenvalue() -> None:
    from cnnscratch.linear_system import stability_limit

    sigma_max = np.linalg.norm(A4, 2)  # largest singular value: λ_max(AᵀA) = σ²
    limit = stability_limit(A4)
    assert limit == pytest.approx(2 / (2 * sigma_max**2), rel=1e-12)
    assert limit == pytest.approx(0.0205, abs=5e-5)
    x0 = np.random.default_rng(0).random(4)
    assert gradient_descent(A4, B4, x0, 0.99 * limit, max_steps=50_000).converged
    assert gradient_descent(A4, B4, x0, 1.01 * limit, max_steps=50_000).diverged


def strip_environments(tex: str) -> str:
    """Remove every \\begin{...}...\\end{...} (innermost first)."""
    inner = re.compile(r"\\begin\{(\w+\*?)\}((?:(?!\\begin\{).)*?)\\end\{\1\}", re.S)
    while True:
        stripped = inner.sub(" ", tex)
        if stripped == tex:
            return tex
        tex = stripped


@pytest.mark.parametrize("name", sorted(PAGES))
def test_13_line_breaks_only_inside_environments(name: str) -> None:
    for block in DISPLAY_MATH.findall(PAGES[name]):
        assert "\\\\" not in strip_environments(block), block


def test_14_both_diagrams_are_drawn_by_code_and_used_with_alt_text() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from figures_part1 import FIGURES
    finally:
        sys.path.remove(str(ROOT / "tools"))
    for uri in ("figures/part1/perceptron.svg", "figures/part1/dense-layer.svg"):
        svg = FIGURES[uri]()
        assert svg.startswith(b"<svg")
        assert b"<title>" in svg
        alt = re.search(r"!\[([^\]]+)\]\(" + re.escape(uri) + r"\)", PART1)
        assert alt is not None
        assert len(alt.group(1)) > 40


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_15_no_misspellings_from_the_article(name: str) -> None:
    typos = ["backpropogation", "referesher", "excercise", "arbritary", "occurences"]
    typos.append("labourious")
    text = SOURCES[name].lower()
    assert [t for t in typos if t in text] == []
