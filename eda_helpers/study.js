/* The linked study view of eda_helpers: plain JavaScript, no network, no build step.
 *
 * Runs after frontend.js has booted the panes. Every element .eh-study-view holds one
 * [data-eh-study] element with one [data-eh-viewer] pane per stack, and a
 * <script type="application/json" class="eh-study-links"> with, for every pair of
 * panes, the cross-reference lines worked out in Python for every pair of slices
 * (eda_helpers.geometry.reference_line, the code of plot_cross_reference). This script:
 *
 * - draws the current slice of each pane as a line, in that pane's colour, on the
 *   panes it cuts, whenever a pane changes slice;
 * - on a click on a pane, takes the clicked pixel to patient coordinates (mm) and
 *   moves every other pane to its slice nearest that point, marking the point with a
 *   cross on every pane (the arithmetic of geometry.index_to_patient and
 *   geometry.project_to_stack, on the per-slice geometry each pane's spec carries:
 *   position, row and column steps, the inverse of their Gram matrix, normal, offset).
 *
 * The container records the last clicked point (mm) in data-eh-clicked.
 */
(function () {
  "use strict";
  var api = window.ehViewer;
  if (!api) return;
  var MARK = "#ff1744";

  function dot(a, b) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  }
  function world(p, i, x, y) {
    var g = p.spec.geometry[i];
    return [0, 1, 2].map(function (d) {
      return g.position[d] + y * g.row_step[d] + x * g.col_step[d];
    });
  }
  function nearest(p, point) {
    var geo = p.spec.geometry;
    var o = dot(point, geo[0].normal);
    var best = 0;
    var dist = Infinity;
    for (var k = 0; k < geo.length; k++) {
      var d = Math.abs(o - geo[k].offset);
      if (d < dist - 1e-9) { // the lower index on a tie, as in Python
        dist = d;
        best = k;
      }
    }
    var g = geo[best];
    var rel = [point[0] - g.position[0], point[1] - g.position[1], point[2] - g.position[2]];
    var a = dot(rel, g.row_step);
    var b = dot(rel, g.col_step);
    var m = g.inverse;
    return { index: best, y: m[0][0] * a + m[0][1] * b, x: m[1][0] * a + m[1][1] * b };
  }

  function link(box) {
    if (box.hasAttribute("data-eh-linked")) return;
    var root = box.querySelector("[data-eh-study]");
    var holder = box.querySelector("script.eh-study-links");
    if (!root || !holder) return;
    var panes = api.panes.filter(function (p) { return root.contains(p.root); });
    if (!panes.length) return;
    box.setAttribute("data-eh-linked", "");
    var links = JSON.parse(holder.textContent);
    var marks = panes.map(function () { return null; });

    function drawLines() {
      panes.forEach(function (b, kb) {
        var segs = [];
        panes.forEach(function (a, ka) {
          var table = links.lines[kb][ka];
          if (!table) return;
          var s = table[b.index][a.index];
          if (s) segs.push({ x1: s[0], y1: s[1], x2: s[2], y2: s[3], color: links.colours[ka] });
        });
        b.setLines("study", segs);
      });
    }
    function drawMark(k) {
      var p = panes[k];
      var m = marks[k];
      if (!m || m.index !== p.index) {
        p.setLines("mark", []);
        return;
      }
      var r = Math.max(4, Math.min(p.spec.rows, p.spec.cols) / 30);
      p.setLines("mark", [
        { x1: m.x - r, y1: m.y, x2: m.x + r, y2: m.y, color: MARK },
        { x1: m.x, y1: m.y - r, x2: m.x, y2: m.y + r, color: MARK },
      ]);
    }

    panes.forEach(function (p, k) {
      p.root.style.borderTop = "3px solid " + links.colours[k];
      p.onIndex(function () {
        drawLines();
        drawMark(k);
      });
      p.onClick(function (hit) {
        var point = world(p, hit.index, hit.x, hit.y);
        marks[k] = { index: hit.index, x: hit.x, y: hit.y };
        panes.forEach(function (q, kq) {
          if (kq !== k) {
            marks[kq] = nearest(q, point);
            q.setIndex(marks[kq].index);
          }
        });
        panes.forEach(function (q, kq) { drawMark(kq); });
        drawLines();
        box.setAttribute("data-eh-clicked", point.map(function (v) { return v.toFixed(3); }).join(","));
      });
    });
    drawLines();
  }

  var boxes = document.querySelectorAll(".eh-study-view");
  for (var b = 0; b < boxes.length; b++) link(boxes[b]);
})();
