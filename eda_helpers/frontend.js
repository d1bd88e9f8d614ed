/* The saved viewer of eda_helpers: plain JavaScript, no network, no build step.
 *
 * Every element [data-eh-viewer] that holds a <script type="application/json"
 * class="eh-spec"> is turned into a scrubbable pane: a canvas with the current frame, an
 * SVG overlay (label points, and lines other code asks for), a slice slider, a play
 * button, a window (centre/width) control and a one-line readout. The pane's
 * data-index attribute always holds the slice shown.
 *
 * Hooks for code that links several panes (window.ehViewer):
 *   ehViewer.panes                 every booted pane, in document order
 *   pane.setIndex(i)               show slice i (clamped)
 *   pane.onIndex(fn)               fn(i, pane) after every change of slice
 *   pane.setLines(name, lines)     draw lines [{x1, y1, x2, y2, color}] (image pixels)
 *   pane.onClick(fn)               fn({x, y, index}, pane) on a click on the image
 *   pane.spec                      the pane's data (frames, readouts, points, geometry)
 */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var api = (window.ehViewer = window.ehViewer || { panes: [] });

  function el(tag, cls, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function svg(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    var a = Math.abs(v);
    return a >= 100 || v === Math.round(v) ? String(Math.round(v)) : v.toPrecision(4);
  }

  function boot(root) {
    var holder = root.querySelector("script.eh-spec");
    if (!holder || root.hasAttribute("data-eh-booted")) return;
    root.setAttribute("data-eh-booted", "");
    var spec = JSON.parse(holder.textContent);
    var n = spec.frames.length;
    var listeners = [];
    var clickers = [];
    var images = new Array(n);
    var index = Math.max(0, Math.min(n - 1, spec.index | 0));
    var saved = spec.window; // the window the frames were rendered with
    var win = saved.slice();
    var lut = null; // grey level -> grey level, null while the window is the saved one
    var timer = null;

    var still = root.querySelector(".eh-still");
    var caption = root.querySelector(".eh-caption");
    var live = el("div", "eh-live", root);
    var stage = el("div", "eh-stage", live);
    stage.tabIndex = 0;
    stage.title = "arrow keys, mouse wheel: step through the slices";
    stage.style.width = spec.width + "px";
    var canvas = el("canvas", "eh-canvas", stage);
    canvas.width = spec.cols;
    canvas.height = spec.rows;
    canvas.style.aspectRatio = spec.cols + " / " + spec.rows * spec.aspect;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    var overlay = svg(
      "svg",
      { class: "eh-overlay", viewBox: "0 0 " + spec.cols + " " + spec.rows,
        preserveAspectRatio: "none" },
      stage
    );
    var layers = {};

    var bar = el("div", "eh-bar", live);
    bar.style.width = spec.width + "px";
    var play = el("button", "eh-play", bar);
    play.type = "button";
    play.textContent = "\u25B6";
    play.title = "play / stop";
    var slider = el("input", "eh-slider", bar);
    slider.type = "range";
    slider.min = 0;
    slider.max = n - 1;
    slider.step = 1;
    slider.value = index;
    slider.setAttribute("aria-label", "slice");
    var readout = el("div", "eh-readout", live);
    readout.style.width = spec.width + "px";

    var wbar = el("div", "eh-window", live);
    wbar.style.width = spec.width + "px";
    var span = spec.range[1] - spec.range[0] || 1;
    var step = Number((span / 100).toPrecision(2));
    el("span", "eh-label", wbar).textContent = "centre";
    var centre = el("input", "eh-centre", wbar);
    el("span", "eh-label", wbar).textContent = "width";
    var width = el("input", "eh-width", wbar);
    [centre, width].forEach(function (box) {
      box.type = "number";
      box.step = step;
    });
    width.min = step;
    var lohi = el("span", "eh-lohi", wbar);
    var reset = el("button", "eh-reset", wbar);
    reset.type = "button";
    reset.textContent = "reset";
    reset.title = "back to the saved window";
    if (spec.note) el("div", "eh-note", live).textContent = spec.note;

    function drawLayer(name, make) {
      if (layers[name]) overlay.removeChild(layers[name]);
      layers[name] = svg("g", { class: "eh-layer-" + name }, overlay);
      make(layers[name]);
    }
    function drawPoints() {
      drawLayer("points", function (g) {
        var r = spec.marker;
        (spec.points[index] || []).forEach(function (p) {
          // [x, y, text, text_x, text_y, anchor]
          var ring = { cx: p[0], cy: p[1], r: r, class: "eh-ring" };
          svg("circle", Object.assign({ class: "eh-halo" }, ring), g);
          svg("circle", ring, g);
          if (p[2]) {
            var t = svg("text", { x: p[3], y: p[4], "text-anchor": p[5],
              "dominant-baseline": "middle", class: "eh-text",
              "font-size": spec.text_height }, g);
            t.textContent = p[2];
          }
        });
      });
    }
    function paint() {
      var img = images[index];
      if (!img || !img.complete) return;
      ctx.drawImage(img, 0, 0, spec.cols, spec.rows);
      if (lut) {
        var data = ctx.getImageData(0, 0, spec.cols, spec.rows);
        var px = data.data;
        for (var k = 0; k < px.length; k += 4) {
          px[k] = lut[px[k]];
          px[k + 1] = lut[px[k + 1]];
          px[k + 2] = lut[px[k + 2]];
        }
        ctx.putImageData(data, 0, 0);
      }
    }
    function show(i, quiet) {
      i = Math.max(0, Math.min(n - 1, Math.round(i)));
      var changed = i !== index;
      index = i;
      root.setAttribute("data-index", String(i));
      if (String(slider.value) !== String(i)) slider.value = i;
      paint();
      drawPoints();
      readout.textContent = spec.readouts[i];
      readout.title = spec.readouts[i];
      if (changed && !quiet) {
        listeners.forEach(function (fn) { fn(i, pane); });
      }
    }
    function setWindow(lo, hi) {
      if (!(hi > lo)) return;
      win = [lo, hi];
      var same = Math.abs(lo - saved[0]) < 1e-9 * span && Math.abs(hi - saved[1]) < 1e-9 * span;
      if (same) {
        lut = null;
      } else {
        lut = new Uint8ClampedArray(256);
        for (var g = 0; g < 256; g++) {
          var v = saved[0] + (g / 255) * (saved[1] - saved[0]);
          lut[g] = Math.round((255 * (v - lo)) / (hi - lo));
        }
      }
      centre.value = fmt((lo + hi) / 2);
      width.value = fmt(hi - lo);
      lohi.textContent = fmt(lo) + "\u2013" + fmt(hi);
      root.setAttribute("data-window", lo + "," + hi);
      paint();
    }
    function stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      play.textContent = "\u25B6";
      root.removeAttribute("data-playing");
    }
    function start() {
      if (index >= n - 1) show(0);
      play.textContent = "\u25A0";
      root.setAttribute("data-playing", "");
      timer = setInterval(function () {
        if (index >= n - 1) stop();
        else show(index + 1);
      }, spec.interval);
    }

    play.addEventListener("click", function () {
      if (timer === null) start();
      else stop();
    });
    slider.addEventListener("input", function () {
      show(Number(slider.value));
    });
    function onWindowBox() {
      var c = Number(centre.value), w = Number(width.value);
      if (isFinite(c) && isFinite(w) && w > 0) setWindow(c - w / 2, c + w / 2);
    }
    centre.addEventListener("input", onWindowBox);
    width.addEventListener("input", onWindowBox);
    reset.addEventListener("click", function () {
      setWindow(saved[0], saved[1]);
    });
    var keys = { ArrowRight: 1, ArrowDown: 1, PageDown: 5, ArrowLeft: -1, ArrowUp: -1,
      PageUp: -5 };
    stage.addEventListener("keydown", function (e) {
      var d = keys[e.key];
      if (e.key === "Home") show(0);
      else if (e.key === "End") show(n - 1);
      else if (e.key === " ") (timer === null ? start : stop)();
      else if (d) show(index + d);
      else return;
      e.preventDefault();
      e.stopPropagation();
    });
    stage.addEventListener(
      "wheel",
      function (e) {
        if (!e.deltaY) return;
        e.preventDefault();
        show(index + (e.deltaY > 0 ? 1 : -1));
      },
      { passive: false }
    );
    stage.addEventListener("click", function (e) {
      stage.focus();
      var box = canvas.getBoundingClientRect();
      var hit = {
        x: ((e.clientX - box.left) / box.width) * spec.cols - 0.5,
        y: ((e.clientY - box.top) / box.height) * spec.rows - 0.5,
        index: index,
      };
      clickers.forEach(function (fn) { fn(hit, pane); });
    });

    var pane = {
      root: root,
      spec: spec,
      get index() { return index; },
      setIndex: function (i) { show(i); },
      onIndex: function (fn) { listeners.push(fn); },
      onClick: function (fn) { clickers.push(fn); },
      setLines: function (name, lines) {
        drawLayer("lines-" + name, function (g) {
          (lines || []).forEach(function (l) {
            svg("line", { x1: l.x1, y1: l.y1, x2: l.x2, y2: l.y2, class: "eh-line",
              stroke: l.color || "#4fc3f7" }, g);
          });
        });
      },
      setWindow: setWindow,
      play: start,
      stop: stop,
    };
    api.panes.push(pane);

    // Decode every frame once, so that a step only draws a ready bitmap.
    var prefix = "data:" + spec.mime + ";base64,";
    var order = [];
    for (var k = 0; k < n; k++) order.push(k);
    order.sort(function (a, b) { return Math.abs(a - index) - Math.abs(b - index); });
    order.forEach(function (k) {
      var img = new Image();
      img.onload = function () {
        if (k === index) paint();
      };
      img.src = prefix + spec.frames[k];
      images[k] = img;
    });
    if (still) still.hidden = true;
    if (caption) caption.hidden = true;
    root.classList.add("eh-scripted");
    setWindow(saved[0], saved[1]);
    show(index, true);
  }

  api.boot = boot;
  var roots = document.querySelectorAll("[data-eh-viewer]");
  for (var r = 0; r < roots.length; r++) boot(roots[r]);
})();
