"""The axe-core audit of every page on a phone (375 px, touch), in both
schemes (``axe_audit.py``), and what a phone reader needs that axe cannot
see: no page wider than the screen, wide equations and figures scrolling
inside a named, focusable box with a cue, figures at the size they were
drawn. A file of its own, so that xdist audits the phone and the desktop
(``test_accessibility.py``) on two workers side by side.
"""

from __future__ import annotations

import pytest
from axe_audit import DEVICES, Audit, DeviceChecks

pytestmark = pytest.mark.site


class TestPhone(DeviceChecks):
    device = "phone"

    def test_no_page_is_wider_than_a_phone(self, audits: list[Audit]) -> None:
        width = DEVICES["phone"]["viewport"]["width"]
        wide = {
            a.url: a.measured["pageWidth"]
            for a in audits
            if a.measured["pageWidth"] > width
        }
        assert wide == {}

    def test_cut_equations_scroll_in_a_named_focusable_box_with_a_cue(
        self, audits: list[Audit]
    ) -> None:
        light = [a for a in audits if a.scheme == "light"]
        cut = [e for a in light for e in a.measured["equations"] if e["cut"]]
        assert len(cut) >= 5  # Part 1 alone has several on a phone
        assert all(e["tabindex"] == "0" and e["role"] == "region" for e in cut)
        assert all(e["label"] and "Equation" in e["label"] for e in cut)
        assert all(e["cue"].count("gradient") == 4 for e in cut)

    def test_figures_keep_their_drawn_size_on_a_phone(
        self, audits: list[Audit]
    ) -> None:
        """Shrunk to 343 px, the widest drawings' labels would be 5 px tall."""
        light = [a for a in audits if a.scheme == "light"]
        figures = [f for a in light for f in a.measured["figures"]]
        assert len(figures) >= 5
        assert [f["src"] for f in figures if f["scale"] < 0.99] == []
        cut = [f for f in figures if f["cut"]]
        assert cut  # the 720-unit-wide drawings of Part 3 at least
        assert all(f["tabindex"] == "0" and "Figure" in f["label"] for f in cut)
