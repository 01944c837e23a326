/* Explorables: step-through figures whose frames are computed at build time.
 *
 * Each <figure class="explorable" data-src="...json"> names a file written by
 * tools/explorables.py with the cnnscratch package: every number of every
 * frame, for every setting. This script only displays those strings and
 * steps through them; it does no arithmetic on them. Without it, the figure
 * shows its first frame as a static image (in <noscript>).
 *
 * A figure's data is fetched only when the figure comes within NEAR of the
 * screen (an IntersectionObserver), so a page loads none of it until the
 * reader scrolls towards a figure (or follows a link to it); the figure is
 * built before it is in view.
 */
(function () {
  "use strict";

  var ROLES = {
    read: "read by this step",
    write: "written by this step",
    again: "written again: adds to an earlier step",
    win: "the window's winner",
    tie: "tied with the winner, loses the tie",
  };
  // The roles, and a panel's last rows and columns that output_padding adds.
  var LEGEND = Object.assign({}, ROLES, { added: "added by output_padding" });

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function Explorable(figure, data) {
    this.figure = figure;
    this.data = data;
    this.choice = data.settings.map(function () { return 0; });
    this.step = 0;
    this.build();
  }

  Explorable.prototype.build = function () {
    var self = this;
    var data = this.data;
    var app = this.figure.querySelector(".xp-app");
    var controls = el("div", { class: "xp-controls" });
    data.settings.forEach(function (setting, s) {
      var set = el("fieldset", { class: "xp-setting" });
      set.appendChild(el("legend", {}, setting.label));
      setting.options.forEach(function (_, o) {
        var label = el("label");
        var input = el("input", {
          type: "radio",
          name: data.name + "-" + setting.name,
          value: String(o),
        });
        input.checked = o === 0;
        input.addEventListener("change", function () {
          self.choice[s] = o;
          self.show(0, true);
        });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + setting.labels[o]));
        set.appendChild(label);
      });
      controls.appendChild(set);
    });

    var nav = el("div", { class: "xp-nav" });
    var buttons = [
      ["first", "« First", function () { return 0; }],
      ["prev", "◀ Previous", function () { return self.step - 1; }],
      ["next", "Next ▶", function () { return self.step + 1; }],
      ["last", "Last »", function () { return self.frames().length - 1; }],
    ];
    this.buttons = {};
    buttons.forEach(function (b, n) {
      var button = el("button", { type: "button", class: "md-button xp-" + b[0] });
      button.textContent = b[1];
      button.addEventListener("click", function () { self.show(b[2](), true); });
      self.buttons[b[0]] = button;
      nav.appendChild(button);
      if (n === 1) {
        self.counter = el("span", { class: "xp-count" });
        nav.appendChild(self.counter);
      }
    });

    this.stage = el("div", {
      class: "xp-stage",
      tabindex: "0",
      role: "group",
      "aria-label":
        data.caption + " Use the arrow keys to step, Home and End to jump.",
    });
    this.lines = el("div", { class: "xp-lines" });
    this.notes = el("div", { class: "xp-notes" });
    this.live = el("p", { class: "xp-live", "aria-live": "polite" });
    var legend = el("ul", { class: "xp-legend", "aria-label": "Legend" });
    var used = {};
    Object.keys(data.variants).forEach(function (key) {
      data.variants[key].frames.forEach(function (frame) {
        Object.keys(frame.marks).forEach(function (id) {
          frame.marks[id].forEach(function (m) { used[m[2]] = true; });
        });
      });
    });
    Object.keys(data.variants).forEach(function (key) {
      data.variants[key].panels.forEach(function (panel) {
        if (panel.added) used.added = true;
      });
    });
    Object.keys(LEGEND).filter(function (role) { return used[role]; }).forEach(function (role) {
      var item = el("li");
      item.appendChild(el("span", { class: "xp-swatch xp-" + role, "aria-hidden": "true" }));
      item.appendChild(document.createTextNode(" " + LEGEND[role]));
      legend.appendChild(item);
    });

    app.appendChild(controls);
    app.appendChild(this.stage);
    app.appendChild(nav);
    app.appendChild(this.lines);
    app.appendChild(this.notes);
    app.appendChild(legend);
    app.appendChild(this.live);

    this.figure.addEventListener("keydown", function (event) {
      if (event.target.type === "radio" || event.altKey || event.ctrlKey || event.metaKey) return;
      var to = {
        ArrowRight: self.step + 1,
        ArrowDown: self.step + 1,
        ArrowLeft: self.step - 1,
        ArrowUp: self.step - 1,
        Home: 0,
        End: self.frames().length - 1,
      }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      self.show(to, true);
    });

    app.hidden = false;
    this.show(0, false);
  };

  Explorable.prototype.variant = function () {
    var choice = this.choice;
    var key = this.data.settings
      .map(function (s, n) { return s.name + "=" + s.options[choice[n]]; })
      .join(",");
    return this.data.variants[key];
  };

  Explorable.prototype.frames = function () {
    return this.variant().frames;
  };

  Explorable.prototype.layout = function (variant) {
    var self = this;
    this.stage.textContent = "";
    this.cells = {};
    this.picks = {};
    variant.frames.forEach(function (frame, n) {
      frame.picks.forEach(function (p) {
        self.picks[p.join(":")] = n;
      });
    });
    variant.panels.forEach(function (panel) {
      var table = el("table", { class: "xp-grid", "data-panel": panel.id });
      table.appendChild(el("caption", {}, panel.label));
      var body = el("tbody");
      var cells = [];
      for (var r = 0; r < panel.rows; r++) {
        var tr = el("tr");
        cells.push([]);
        for (var c = 0; c < panel.cols; c++) {
          var ring =
            r < panel.pad || c < panel.pad ||
            r >= panel.rows - panel.pad || c >= panel.cols - panel.pad;
          var td = el("td", { "data-r": r, "data-c": c, class: ring ? "xp-pad" : "" });
          var added = panel.added || 0;
          if (r >= panel.rows - added || c >= panel.cols - added) {
            td.classList.add("xp-added");
          }
          var pick = self.picks[[panel.id, r, c].join(":")];
          if (pick !== undefined) {
            td.classList.add("xp-pick");
            td.addEventListener("click", self.show.bind(self, pick, true));
            td.addEventListener("pointerenter", function (n, event) {
              if (event.pointerType === "mouse") self.show(n, true);
            }.bind(null, pick));
          }
          tr.appendChild(td);
          cells[r].push(td);
        }
        body.appendChild(tr);
      }
      table.appendChild(body);
      self.stage.appendChild(table);
      self.cells[panel.id] = cells;
    });
    this.notes.textContent = "";
    variant.notes.forEach(function (note) {
      self.notes.appendChild(el("p", {}, note));
    });
    this.shown = variant;
  };

  Explorable.prototype.show = function (step, announce) {
    var self = this;
    var variant = this.variant();
    var frames = variant.frames;
    step = Math.max(0, Math.min(frames.length - 1, step));
    if (this.shown !== variant) this.layout(variant);
    else if (step === this.step && announce) return;
    this.step = step;
    var frame = frames[step];
    variant.panels.forEach(function (panel) {
      var values = frame.values[panel.id] || panel.values;
      var cells = self.cells[panel.id];
      for (var r = 0; r < panel.rows; r++) {
        for (var c = 0; c < panel.cols; c++) {
          var td = cells[r][c];
          td.textContent = values[r][c];
          td.removeAttribute("data-role");
          Object.keys(ROLES).forEach(function (role) { td.classList.remove("xp-" + role); });
        }
      }
      (frame.marks[panel.id] || []).forEach(function (m) {
        var td = cells[m[0]][m[1]];
        td.classList.add("xp-" + m[2]);
        td.setAttribute("data-role", m[2]);
      });
    });
    this.lines.textContent = "";
    frame.lines.forEach(function (line) {
      self.lines.appendChild(el("p", {}, line));
    });
    this.counter.textContent = "Step " + (step + 1) + " of " + frames.length;
    // aria-disabled, not disabled: a focused button must keep the focus.
    ["first", "prev"].forEach(function (b) {
      self.buttons[b].setAttribute("aria-disabled", String(step === 0));
    });
    ["next", "last"].forEach(function (b) {
      self.buttons[b].setAttribute("aria-disabled", String(step === frames.length - 1));
    });
    if (announce) {
      this.live.textContent = "Step " + (step + 1) + " of " + frames.length + ". " + frame.say;
    }
  };

  // Two screens ahead (and behind, for a reader who jumped past a figure).
  var NEAR = "200% 0px";

  function load(figure) {
    if (figure.hasAttribute("data-loading")) return;
    figure.setAttribute("data-loading", "");
    fetch(figure.getAttribute("data-src"))
      .then(function (response) {
        if (!response.ok) throw new Error(response.status + " " + response.url);
        return response.json();
      })
      .then(function (data) {
        figure.explorable = new Explorable(figure, data);
        figure.setAttribute("data-ready", "");
      })
      .catch(function (error) {
        // Fall back to what a reader without JavaScript sees: the first frame.
        var still = figure.querySelector("noscript");
        if (still) still.insertAdjacentHTML("afterend", still.textContent);
        console.error("explorable " + figure.id + ": " + error);
      });
  }

  var figures = document.querySelectorAll("figure.explorable");
  if (!("IntersectionObserver" in window)) {
    figures.forEach(load);
    return;
  }
  var observer = new IntersectionObserver(
    function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        load(entry.target);
      });
    },
    { rootMargin: NEAR }
  );
  figures.forEach(function (figure) { observer.observe(figure); });
})();
