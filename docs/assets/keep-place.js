// Arriving where a link or a reload means. Blocks of a long page not yet
// drawn count at a guessed height (content-visibility, site.css), so the
// browser's jump to a linked #section lands short of it once they take
// their real heights, and a reload's restored scroll offset is another
// place in the text. So a linked section is held at the top while the page
// lays out, and the reader's place is kept as the element at the top of the
// screen plus an offset into it. Any move of the reader's ends the hold;
// <html data-keep-place> says how it ended ("settled", "reader-moved").
(() => {
  const KEY = "keep-place:" + location.pathname;
  const root = document.documentElement;
  const article = () => document.querySelector(".md-content__inner");
  let lastMove = -1;
  for (const type of ["wheel", "touchstart", "keydown", "mousedown"]) {
    addEventListener(type, () => (lastMove = performance.now()), { capture: true, passive: true });
  }

  // Each frame, place() moves the page if it is not in place (and says if it
  // was), until it stays in place for 30 frames once scroll-regions.js has
  // laid out its boxes, the reader moves, or 5 s pass.
  const hold = (place) => {
    const start = performance.now();
    let calm = 0;
    root.dataset.keepPlace = "settling";
    const step = () => {
      const moved = lastMove >= start;
      calm = !moved && place() ? calm + 1 : 0;
      if (moved || (calm >= 30 && root.dataset.scrollRegions !== "checking") || performance.now() - start > 5000) {
        root.dataset.keepPlace = moved ? "reader-moved" : "settled";
      } else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  };

  const toSection = () => {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target) return;
    hold(() => {
      const off = target.getBoundingClientRect().top - parseFloat(getComputedStyle(target).scrollMarginTop);
      if (Math.abs(off) < 1 || (off > 0 && scrollY >= root.scrollHeight - innerHeight - 1)) return true;
      target.scrollIntoView();
    });
  };

  // The path of child indices from the article to the element at the top of
  // the screen: one block can be a module's whole API or a whole notebook.
  const remember = () => {
    let element = article();
    const path = [];
    while (element && element.children.length && path.length < 12) {
      const index = [...element.children].findIndex((c) => c.getBoundingClientRect().bottom > 0);
      if (index < 0) break;
      element = element.children[index];
      path.push(index);
      if (element.getBoundingClientRect().top >= 0) break;
    }
    try {
      if (path.length && scrollY > 0) {
        const into = -element.getBoundingClientRect().top;
        sessionStorage.setItem(KEY, JSON.stringify({ path, into }));
      } else sessionStorage.removeItem(KEY);
    } catch (error) {} // storage off or full: a reload starts at the top
  };

  const backToPlace = ({ path, into }) => {
    const element = path.reduce((e, index) => e && e.children[index], article());
    if (!element) return;
    hold(() => {
      const off = element.getBoundingClientRect().top + into;
      if (Math.abs(off) < 1) return true;
      scrollBy(0, off);
    });
  };

  // A reload or a return: back to the reader's place; else to the section.
  const arrive = () => {
    if (lastMove >= 0) return;
    const type = performance.getEntriesByType("navigation")[0]?.type;
    let place = null;
    try {
      place = ["reload", "back_forward"].includes(type) && JSON.parse(sessionStorage.getItem(KEY));
    } catch (error) {} // storage off, or not this script's JSON
    if (place) backToPlace(place);
    else toSection();
  };
  history.scrollRestoration = "manual";
  addEventListener("pagehide", remember);
  addEventListener("hashchange", toSection);
  if (document.readyState === "complete") arrive();
  else addEventListener("load", arrive);
})();
