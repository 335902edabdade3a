// Training: the shipped model's per-epoch loss and accuracy (GET /api/model), drawn as SVG,
// plus the layer table with shapes and parameter counts.

import { getOnce } from "./api.js";
import { $, h, showError } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const TRAIN = { color: "#0072b2", dash: "" }; // Okabe-Ito blue, solid
const TEST = { color: "#d55e00", dash: "6 4" }; // Okabe-Ito vermillion, dashed: not colour alone

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** Round steps (1, 2, 2.5, 5 x 10^k) about (hi - lo) / n apart, and the ticks on them. */
function niceStep(lo, hi, n = 5) {
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= step0);
}

function niceTicks(lo, hi, n = 5) {
  const step = niceStep(lo, hi, n);
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toFixed(10));
  return ticks;
}

/** Width in CSS px of each text in the chart's font, so the margin fits the longest label. */
function textWidths(texts, el) {
  const ctx = document.createElement("canvas").getContext("2d");
  const style = getComputedStyle(el);
  ctx.font = `11px ${style.fontFamily}`;
  return texts.map((t) => ctx.measureText(t).width);
}

const TITLE_BAND = 24; // the rotated y-axis title lives in x = 0..TITLE_BAND, labels right of it
const BREAK = 22; // height of the axis break between the true zero and a zoomed-in range

/**
 * A line chart of several series over the epochs, sized to `width` CSS px. The y axis starts at
 * `floor` (0): when the values sit far above it, the axis is broken so the range they span
 * fills the chart while the floor keeps its tick; `ceiling` (1 for accuracy) is always a tick.
 */
function lineChart({ width, epochs, series, yLabel, tick, format, el, floor = 0, ceiling = null }) {
  const height = Math.round(Math.min(300, Math.max(200, width * 0.6)));
  const all = series.flatMap((se) => se.values);
  const min = Math.min(...all);
  const hi = ceiling ?? Math.max(...all) * 1.08;
  const broken = min - floor > 2 * (hi - min);
  const step = niceStep(broken ? min : floor, hi);
  const lo = broken ? Math.floor(min / step) * step : floor; // the zoomed range starts on a tick
  const ticks = [...(broken ? [floor] : []), ...niceTicks(lo, hi)];
  const labels = ticks.map((t) => tick(t, step));
  const m = { top: 14, right: 14, bottom: 40, left: TITLE_BAND + 6 + Math.ceil(Math.max(...textWidths(labels, el))) + 6 };
  const bottom = height - m.bottom;
  const low = broken ? bottom - BREAK : bottom; // where `lo` sits; the floor is at `bottom`
  const x0 = epochs[0];
  const x1 = epochs[epochs.length - 1];
  const X = (e) => m.left + ((e - x0) / Math.max(1, x1 - x0)) * (width - m.left - m.right);
  const Y = (v) => (broken && v < lo ? bottom : m.top + (1 - (v - lo) / (hi - lo)) * (low - m.top));
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  const grid = s("g", { class: "grid" });
  ticks.forEach((t, i) => {
    grid.append(
      s("line", { x1: m.left, x2: width - m.right, y1: Y(t), y2: Y(t) }),
      s("text", { x: m.left - 6, y: Y(t) + 4, "text-anchor": "end", class: "y-tick" }, labels[i]),
    );
  });
  const xt = niceTicks(x0, x1, Math.min(6, epochs.length - 1 || 1)).filter((t) => Number.isInteger(t));
  for (const t of xt) grid.append(s("text", { x: X(t), y: bottom + 16, "text-anchor": "middle", class: "x-tick" }, String(t)));
  const mid = (m.top + bottom) / 2;
  grid.append(
    s("text", { x: (m.left + width - m.right) / 2, y: height - 6, "text-anchor": "middle", class: "axis-label x-title" }, "epoch"),
    s("text", { x: TITLE_BAND - 8, y: mid, transform: `rotate(-90 ${TITLE_BAND - 8} ${mid})`, "text-anchor": "middle", class: "axis-label y-title" }, yLabel),
    s("line", { x1: m.left, x2: width - m.right, y1: bottom, y2: bottom, class: "axis" }),
  );
  if (broken) {
    // the axis runs from the floor, breaks (two slashes), and resumes at the zoomed range
    const a = bottom - BREAK * 0.3;
    const b = bottom - BREAK * 0.7;
    grid.append(
      s("line", { x1: m.left, x2: m.left, y1: m.top, y2: b, class: "axis" }),
      s("line", { x1: m.left, x2: m.left, y1: a, y2: bottom, class: "axis" }),
      s("path", { d: `M${m.left - 5},${b + 2}l10,-4M${m.left - 5},${a + 2}l10,-4`, class: "axis break", fill: "none" }),
    );
  } else {
    grid.append(s("line", { x1: m.left, x2: m.left, y1: m.top, y2: bottom, class: "axis" }));
  }
  svg.append(grid);
  for (const se of series) {
    const d = se.values.map((v, i) => `${i ? "L" : "M"}${X(epochs[i]).toFixed(1)},${Y(v).toFixed(1)}`).join("");
    svg.append(s("path", { d, fill: "none", stroke: se.color, "stroke-width": 2.2, "stroke-dasharray": se.dash, class: "series" }));
    const dots = s("g", { fill: se.color });
    se.values.forEach((v, i) =>
      dots.append(s("circle", { cx: X(epochs[i]), cy: Y(v), r: 3 }, s("title", {}, `${se.name}, epoch ${epochs[i]}: ${format(v, true)}`))),
    );
    svg.append(dots);
  }
  return svg;
}

function key(series) {
  return h(
    "ul",
    { class: "chart-key" },
    series.map((se) => {
      const sw = s("svg", { width: 28, height: 10, "aria-hidden": "true" }, s("line", { x1: 0, x2: 28, y1: 5, y2: 5, stroke: se.color, "stroke-width": 2.5, "stroke-dasharray": se.dash }));
      return h("li", {}, sw, ` ${se.name}`);
    }),
  );
}

export async function createTraining(root) {
  const error = $(".error", root);
  let info;
  try {
    info = await getOnce("/api/model");
  } catch (err) {
    showError(error, err);
    return;
  }
  const hist = info.history || [];
  const epochs = hist.map((r) => r.epoch);
  const pct = (v, precise) => `${(v * 100).toFixed(precise ? 2 : 1)} %`;
  const num = (v, precise) => v.toFixed(precise ? 4 : 3);
  // tick labels with as many decimals as the step between them needs, and no more
  const decimals = (step) => Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const pctTick = (t, step) => `${(t * 100).toFixed(decimals(step * 100))} %`;
  const numTick = (t, step) => (t === 0 ? "0" : t.toFixed(decimals(step)));
  const charts = [
    {
      el: $("#chart-loss", root),
      yLabel: "cross-entropy loss",
      format: num,
      tick: numTick,
      series: [
        { name: "train loss", values: hist.map((r) => r.train_loss), ...TRAIN },
        { name: "test loss", values: hist.map((r) => r.test_loss), ...TEST },
      ],
    },
    {
      el: $("#chart-acc", root),
      yLabel: "accuracy",
      format: pct,
      tick: pctTick,
      ceiling: 1,
      series: [
        { name: "train accuracy", values: hist.map((r) => r.train_acc), ...TRAIN },
        { name: "test accuracy", values: hist.map((r) => r.test_acc), ...TEST },
      ],
    },
  ];

  function render() {
    if (!hist.length) return;
    for (const c of charts) {
      const width = Math.max(260, Math.floor(c.el.clientWidth));
      const svg = lineChart({ width, epochs, ...c });
      const lastRow = c.series.map((se) => `${se.name} ${c.format(se.values[se.values.length - 1], true)}`).join(", ");
      svg.setAttribute("aria-label", `${c.yLabel} over ${epochs.length} epochs; at the last epoch ${lastRow}. The table below has every value.`);
      c.el.replaceChildren(svg, key(c.series));
    }
  }
  render();
  new ResizeObserver(render).observe($("#charts", root));

  const best = hist.reduce((b, r) => (r.test_acc > b.test_acc ? r : b), hist[0] || { test_acc: 0, epoch: 0 });
  $("#training-summary", root).replaceChildren(
    h("li", {}, h("b", { text: info.test_accuracy != null ? pct(info.test_accuracy, true) : "–" }), " test accuracy (10 000 MNIST test digits)"),
    h("li", {}, h("b", { text: String(epochs.length) }), " epochs; best test accuracy ", h("b", { text: pct(best.test_acc, true) }), ` at epoch ${best.epoch}`),
    h("li", {}, h("b", { text: info.total_params.toLocaleString("en") }), " parameters"),
  );
  const cmd = info.training && info.training.command;
  if (cmd) $("#training-command", root).textContent = Array.isArray(cmd) ? cmd.join(" ") : String(cmd);

  $("#history-table", root).append(
    h(
      "table",
      { class: "numbers" },
      h("caption", { text: "Per-epoch history of the shipped model" }),
      h("thead", {}, h("tr", {}, ["epoch", "train loss", "train acc.", "test loss", "test acc."].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, hist.map((r) => h("tr", {}, h("th", { scope: "row", text: String(r.epoch) }), [num(r.train_loss, true), pct(r.train_acc, true), num(r.test_loss, true), pct(r.test_acc, true)].map((t) => h("td", { text: t }))))),
    ),
  );
  $("#layers", root).append(
    h(
      "table",
      { class: "numbers layers" },
      h("caption", { text: "The layers" }),
      h("thead", {}, h("tr", {}, ["layer", "output shape", "parameters"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, info.layers.map((l) => h("tr", {}, h("th", { scope: "row", text: l.name }), h("td", { text: l.output_shape.join(" × ") }), h("td", { text: l.params.toLocaleString("en") })))),
    ),
  );
}
