// Deletion and insertion curves as a small SVG plot: the target's probability (0..1) against
// the number of pixels erased or kept, the map's order solid, the random order dashed.

const SVG = "http://www.w3.org/2000/svg";
// Okabe-Ito: vermillion for deletion, blue for insertion; random orders dashed, not colour alone
const LINES = {
  deletion: { color: "#d55e00", dash: "", label: "deletion, map order" },
  deletion_random: { color: "#d55e00", dash: "5 3", label: "deletion, random order" },
  insertion: { color: "#0072b2", dash: "", label: "insertion, map order" },
  insertion_random: { color: "#0072b2", dash: "5 3", label: "insertion, random order" },
};

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** The plot of one map's curves (the API's `curves`), `width` CSS px wide. */
export function curvePlot(curves, width, label) {
  const height = 130;
  const m = { top: 8, right: 8, bottom: 30, left: 38 };
  const n = curves.pixels[curves.pixels.length - 1] || 1;
  const X = (k) => m.left + (k / n) * (width - m.left - m.right);
  const Y = (p) => m.top + (1 - p) * (height - m.top - m.bottom);
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart why-curves", role: "img", "aria-label": label });
  const grid = s("g", { class: "grid" });
  for (const p of [0, 0.5, 1]) {
    grid.append(
      s("line", { x1: m.left, x2: width - m.right, y1: Y(p), y2: Y(p) }),
      s("text", { x: m.left - 5, y: Y(p) + 4, "text-anchor": "end" }, `${p * 100} %`),
    );
  }
  for (const k of [0, n / 2, n].map(Math.round)) {
    grid.append(s("text", { x: X(k), y: height - m.bottom + 14, "text-anchor": k === 0 ? "start" : k === n ? "end" : "middle" }, String(k)));
  }
  grid.append(s("text", { x: (m.left + width - m.right) / 2, y: height - 3, "text-anchor": "middle", class: "axis-label" }, "pixels erased (deletion) or kept (insertion)"));
  svg.append(grid);
  for (const [key, line] of Object.entries(LINES)) {
    const points = curves[key].map((p, i) => `${X(curves.pixels[i]).toFixed(1)},${Y(p).toFixed(1)}`).join(" ");
    svg.append(s("polyline", { points, fill: "none", stroke: line.color, "stroke-width": 1.8, "stroke-dasharray": line.dash, "data-line": key }));
  }
  return svg;
}

/** The key under the plots: a short line sample beside each label. */
export function curveKey() {
  const ul = document.createElement("ul");
  ul.className = "chart-key why-key";
  for (const line of Object.values(LINES)) {
    const li = document.createElement("li");
    li.append(s("svg", { width: 26, height: 10, "aria-hidden": "true" }, s("line", { x1: 1, x2: 25, y1: 5, y2: 5, stroke: line.color, "stroke-width": 2, "stroke-dasharray": line.dash })), ` ${line.label}`);
    ul.append(li);
  }
  return ul;
}
