"""How the search hook shortens a section's entry, on a section written here."""

from __future__ import annotations

import pytest
from test_search_index import SEPARATOR, missing_terms

from tools import search_index_hook as hook

pytestmark = pytest.mark.site

F0, F1 = hook.FORMULA_START, hook.FORMULA_END
PROSE = (
    "<p>The gather reading of (3.5) turns the backward pass into a forward pass"
    " of the same form, so one fast routine computes both.</p>"
    f" <p>It flips the kernel: {F0}w^{{\\text{{rot}}}}_{{couv}} = w_{{o,c,K-1-u}}{F1}."
    " The kernels are flipped, the gradient is dilated by the stride, and"
    f" <code>conv2d_backward</code>(dY) calls the forward pass on {F0}\\bar\\delta{F1},"
    f" which (with {F0}\\bar\\delta{F1} padded) is a full correlation."
    " The flipped-kernel form and the im2col form agree to rounding.</p>"
)


def entry() -> str:
    return hook.entry_text("Where the flip appears", PROSE, SEPARATOR, set())


def test_an_entry_is_its_opening_then_each_other_term_once() -> None:
    text = entry()
    teaser, rest = text.split("<i hidden>")
    assert teaser == (
        "The gather reading of (3.5) turns the backward pass into a forward pass"
        " of the same form, so one fast routine computes both."
    )
    assert rest.endswith("</i>")
    terms = rest.removesuffix("</i>").split()
    # Each formula whole, once; no stop word; no term twice.
    assert "w^{\\text{rot}}_{couv} = w_{o,c,K-1-u}." in rest
    assert rest.count("\\bar\\delta") == 1
    assert not {"the", "is", "and", "by", "of", "which", "with"} & set(terms)
    assert len(terms) == len(set(terms))
    # ``kernel`` and ``kernels`` have one stem, kept once; a query's stem is
    # a prefix of what it finds, so ``conv2d_backward(dy)`` finds what
    # ``conv2d_backward`` would, and the title's ``flip`` what ``flips`` and
    # ``flipped`` would.
    assert "kernel" in terms
    assert "kernels" not in terms
    assert "conv2d_backward(dy)" in terms
    assert "conv2d_backward" not in terms
    assert not {"flip", "flips", "flipped"} & set(terms)
    assert "dilated" in terms
    assert missing_terms(PROSE, "Where the flip appears", text) == []


def test_a_missing_term_is_reported() -> None:
    text = entry()
    for lost in ("dilated", "conv2d_backward", "im2col", "rounding"):
        cut = text.replace(f" {lost}", "")
        assert missing_terms(PROSE, "Where the flip appears", cut) == [lost]


def test_a_term_is_the_token_a_query_finds() -> None:
    assert hook.term("kernel,") == "kernel"
    assert hook.term("(training") == "training"
    assert hook.term("(3.5).") == "(3.5)"
    assert hook.term("f(x)") == "f(x)"
    assert hook.term("the") == hook.term("—") == ""


def test_a_short_section_is_kept_as_it_is() -> None:
    short = "<p>Max-pooling forward pass, <code>X</code> of shape (N, C, H, W).</p>"
    assert hook.entry_text("t", short, SEPARATOR, set()) == short
