// Boxes that scroll sideways, reachable with the keyboard.
//
// A display equation, a code block, a notebook cell's output, a table or a
// figure wider than the text scrolls inside its own box rather than widening
// the page. A reader without a mouse or a touch screen can scroll such a box
// only once it has the focus, and a screen reader announces it only if it
// has a name. So every box that is wider than its content area gets
// tabindex="0", role="region" and a name; one that fits (most of them, on a
// wide screen) gets none, so the keyboard does not stop at a hundred boxes
// with nothing to scroll. Each name is the page's own ("Equation, scrolls
// sideways (3 of 40)"): a screen reader lists regions by name.
//
// Most of a long page is not laid out at first (content-visibility in
// site.css), and reading a box's width lays out the block that holds it. So
// the boxes are checked in slices of a few milliseconds while the browser is
// idle, never in one long task that would keep a phone from answering; every
// box is checked within a second or so of the page's load, long before a
// reader tabs to it. Checked again once fonts and images have arrived (they
// widen the content) and when the window changes size (a phone turned).
(() => {
  const BOXES = [
    [".md-typeset div.arithmatex", "Equation"],
    [".md-typeset pre > code", "Code"],
    [".jupyter-wrapper .jp-InputArea-editor pre", "Code of a notebook cell"],
    [".jupyter-wrapper .jp-OutputArea-output pre", "Output of a notebook cell"],
    [".jupyter-wrapper .jp-RenderedHTML", "Output of a notebook cell"],
    [".md-typeset .md-typeset__scrollwrap", "Table"],
    // A table the theme has not wrapped yet (it wraps them after this runs).
    [".md-typeset :not(.md-typeset__table) > table:not([class])", "Table"],
    [".md-typeset p:has(> img:only-child)", "Figure"],
  ];
  const SLICE_MS = 8; // well under the 50 ms of a long task
  // The boxes, found again by each pass: the theme wraps its tables in
  // boxes of its own once its script runs, after this one.
  let boxes = [];
  // Each box with its name: its kind, numbered in the page's order.
  const find = () => {
    const found = BOXES.flatMap(([selector, kind]) =>
      [...document.querySelectorAll(selector)].map((box) => [box, kind]),
    );
    found.sort(([a], [b]) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    const total = {};
    for (const [, kind] of found) total[kind] = (total[kind] ?? 0) + 1;
    const seen = {};
    return found.map(([box, kind]) => {
      seen[kind] = (seen[kind] ?? 0) + 1;
      return [box, `${kind}, scrolls sideways (${seen[kind]} of ${total[kind]})`];
    });
  };

  function measure([box, name], changes) {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls !== box.hasAttribute("data-scroll-region")) {
      changes.push([box, scrolls, name]);
    }
  }

  // Every width of a slice is read before any attribute is written: a write
  // between two reads would make the browser lay the page out again.
  function markSlice(start, deadline) {
    const changes = [];
    let next = start;
    while (next < boxes.length && performance.now() < deadline) {
      measure(boxes[next++], changes);
    }
    apply(changes);
    return next;
  }

  function apply(changes) {
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

  // A box that is itself such a block (a display equation, a table) has no
  // width of its own content while it is skipped: it is checked again each
  // time the browser starts drawing a block, with the boxes inside it.
  document.addEventListener(
    "contentvisibilityautostatechange",
    (event) => {
      if (event.skipped) return;
      const changes = [];
      for (const entry of boxes) {
        if (event.target.contains(entry[0])) measure(entry, changes);
      }
      apply(changes);
    },
    true, // the event does not bubble
  );

  const idle = window.requestIdleCallback ?? ((run) => setTimeout(run, 1));
  let pass = 0; // a newer pass stops an older one
  function mark() {
    const current = ++pass;
    document.documentElement.dataset.scrollRegions = "checking";
    const step = (start) => {
      if (current !== pass) return;
      if (start === 0) boxes = find();
      const next = markSlice(start, performance.now() + SLICE_MS);
      if (next < boxes.length) idle(() => step(next));
      else document.documentElement.dataset.scrollRegions = "checked";
    };
    idle(() => step(0));
  }

  mark();
  window.addEventListener("load", mark);
  let pending = 0;
  window.addEventListener("resize", () => {
    document.documentElement.dataset.scrollRegions = "checking";
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(mark);
  });

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
})();
