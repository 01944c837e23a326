// Boxes that scroll sideways, reachable with the keyboard.
//
// A display equation, a code block, a notebook cell's output, a table or a
// figure wider than the text scrolls inside its own box rather than widening
// the page. A reader without a mouse or a touch screen can scroll such a box
// only once it has the focus, and a screen reader announces it only if it
// has a name. So every box that is wider than its content area right now
// gets tabindex="0", role="region" and a name; one that fits (most of them,
// on a wide screen) gets none, so the keyboard does not stop at a hundred
// boxes with nothing to scroll. Checked again when the window changes size
// (a phone turned).
(() => {
  const BOXES = [
    [".md-typeset div.arithmatex", "Equation, scrolls sideways"],
    [".md-typeset pre > code", "Code, scrolls sideways"],
    [".jupyter-wrapper .jp-InputArea-editor pre", "Code of a notebook cell, scrolls sideways"],
    [".jupyter-wrapper .jp-OutputArea-output pre", "Output of a notebook cell, scrolls sideways"],
    [".jupyter-wrapper .jp-RenderedHTML", "Output of a notebook cell, scrolls sideways"],
    [".md-typeset .md-typeset__scrollwrap", "Table, scrolls sideways"],
    [".md-typeset table:not([class])", "Table, scrolls sideways"],
    [".md-typeset p:has(> img:only-child)", "Figure, scrolls sideways"],
  ];

  // Every width is read before any attribute is written: a write between two
  // reads would make the browser lay the page out again for the second read
  // (on a long page, seconds of a phone's main thread).
  function mark() {
    const changes = [];
    for (const [selector, name] of BOXES) {
      for (const box of document.querySelectorAll(selector)) {
        const scrolls = box.scrollWidth > box.clientWidth + 1;
        if (scrolls !== box.hasAttribute("data-scroll-region")) {
          changes.push([box, scrolls, name]);
        }
      }
    }
    for (const [box, scrolls, name] of changes) {
      if (scrolls) {
        box.setAttribute("data-scroll-region", "");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name);
      } else {
        for (const attribute of ["data-scroll-region", "tabindex", "role", "aria-label"]) {
          box.removeAttribute(attribute);
        }
      }
    }
  }

  // The theme makes its code blocks focusable only where the screen has a
  // pointer that hovers, and removes the tabindex on a touch screen; a phone
  // or tablet may have a keyboard or a switch attached all the same.
  new MutationObserver((changes) => {
    for (const { target } of changes) {
      if (target.hasAttribute("data-scroll-region") && !target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "0");
      }
    }
  }).observe(document.body, { subtree: true, attributeFilter: ["tabindex"] });

  let pending = 0;
  function later() {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(mark);
  }

  mark();
  window.addEventListener("load", mark); // widths change once fonts and images arrive
  window.addEventListener("resize", later);
})();
