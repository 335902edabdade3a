// How the first-layer filters formed while the model trained: a slider over the snapshots that
// training stored, the filters at that step, and the numbers that say whether they are still
// noise (neighbour correlation, correlation with the random start) beside the accuracy then.

import { getOnce } from "./api.js";
import { legend } from "./colors.js";
import { fmt, h } from "./dom.js";
import { subscribe, withModel } from "./model.js";

const SVG = "http://www.w3.org/2000/svg";
const PLAY_MS = 180;
// Okabe-Ito, and a dash for the third line so that colour is not the only cue
const LINES = [
  { key: "test_acc", cls: "acc", color: "#0072b2", dash: "", label: "test accuracy" },
  { key: "median_neighbour_correlation", cls: "neighbour", color: "#d55e00", dash: "", label: "neighbour correlation" },
  { key: "median_start_correlation", cls: "start", color: "#009e73", dash: "5 3", label: "correlation with the start" },
];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** The three figures against the step (all lie in -1..1; shown 0..1, clipped below). */
function chart(points, width) {
  const height = 150;
  const m = { top: 8, right: 22, bottom: 30, left: 34 };
  const last = points[points.length - 1].step || 1;
  const X = (step) => m.left + (step / last) * (width - m.left - m.right);
  const Y = (v) => m.top + (1 - Math.max(0, Math.min(1, v))) * (height - m.top - m.bottom);
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart timeline-chart", role: "img", "aria-label": "Test accuracy, neighbour correlation and correlation with the start, against the training step" });
  const grid = s("g", { class: "grid" });
  for (const v of [0, 0.5, 1]) {
    grid.append(s("line", { x1: m.left, x2: width - m.right, y1: Y(v), y2: Y(v) }), s("text", { x: m.left - 6, y: Y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  for (const [step, anchor] of [[0, "start"], [Math.round(last / 2), "middle"], [last, "end"]]) grid.append(s("text", { x: X(step), y: height - 12, "text-anchor": anchor }, String(step)));
  grid.append(s("text", { x: (m.left + width - m.right) / 2, y: height - 1, "text-anchor": "middle" }, "step"));
  svg.append(grid);
  for (const line of LINES) {
    const d = points.map((p, i) => `${i ? "L" : "M"}${X(p.step).toFixed(1)},${Y(p[line.key]).toFixed(1)}`).join("");
    svg.append(s("path", { d, fill: "none", stroke: line.color, "stroke-width": 2, "stroke-dasharray": line.dash }));
  }
  const marker = s("line", { class: "marker", y1: m.top, y2: height - m.bottom, stroke: "#1f2430", "stroke-width": 1 });
  svg.append(marker);
  svg.mark = (step) => {
    marker.setAttribute("x1", X(step));
    marker.setAttribute("x2", X(step));
  };
  return svg;
}

const key = () =>
  h(
    "ul",
    { class: "timeline-key small" },
    LINES.map((l) => h("li", {}, h("span", { class: `swatch ${l.cls}` }), l.label)),
  );

/** What the figures of one snapshot say, in words that are true for the numbers. */
function reading(p, first) {
  if (p.index === 0) return "the random start: neighbouring weights are unrelated, so the filters are noise.";
  const structure = p.median_neighbour_correlation >= 0.5 ? "neighbouring weights mostly rise and fall together (smooth blobs and edges)" : p.median_neighbour_correlation >= 0.25 ? "some smooth structure has formed, mixed with noise" : "the filters still look like noise";
  const moved = p.median_start_correlation < 0.5 ? "far from where they started" : p.median_start_correlation < 0.8 ? "part of the way from their start" : "still mostly their random start";
  return `${structure}; they have moved ${moved}. Neighbour correlation ${fmt(first.median_neighbour_correlation, 2)} → ${fmt(p.median_neighbour_correlation, 2)} since step 0.`;
}

export function createFilterTimeline(card) {
  let history = null;
  let index = 0;
  let asked = 0;
  let timer = null;
  const frames = new Map(); // snapshot index -> GET /api/filters/history/{index}

  const title = h("h3", { id: "timeline-h" });
  const summary = h("p", { class: "small", id: "timeline-summary" });
  const chartBox = h("div", { class: "timeline-chart-box" });
  const slider = h("input", { type: "range", id: "timeline-slider", min: 0, max: 0, value: 0, "aria-labelledby": "timeline-h" });
  const play = h("button", { type: "button", id: "timeline-play", "aria-pressed": "false", text: "Play" });
  const readout = h("p", { id: "timeline-readout", "aria-live": "polite" });
  const words = h("p", { class: "small", id: "timeline-reading" });
  const scale = h("div", { id: "timeline-legend" });
  const grid = h("div", { class: "filter-grid", id: "timeline-grid", role: "group", "aria-label": "Filters at the chosen step" });
  const scaleNote = h("p", { class: "muted small", id: "timeline-scale-note" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  card.replaceChildren(
    title,
    summary,
    h("div", { class: "timeline-body" }, h("div", { class: "timeline-left" }, chartBox, key(), h("div", { class: "slider-row" }, slider, play), readout, words), h("div", { class: "timeline-right" }, scale, grid, scaleNote)),
    error,
  );

  subscribe(async (m) => {
    stop();
    history = null;
    frames.clear();
    const ticket = ++asked;
    card.hidden = !m.has_filter_history;
    if (!m.has_filter_history) return;
    try {
      history = await getOnce(withModel("/api/filters/history"));
    } catch (err) {
      if (ticket === asked) showFailure(err);
      return;
    }
    if (ticket !== asked) return;
    error.hidden = true;
    const pts = history.points;
    const first = pts[0];
    const end = pts[pts.length - 1];
    title.textContent = `How the ${history.layer} filters formed: ${pts.length} snapshots, one every ${history.every} steps`;
    summary.textContent = `From the random start (neighbour correlation ${fmt(first.median_neighbour_correlation, 2)}, accuracy ${fmt(first.test_acc * 100, 1)} %) to step ${end.step} (${fmt(end.median_neighbour_correlation, 2)}, ${fmt(end.test_acc * 100, 1)} %). Accuracies are on the first ${history.test_digits} test digits.`;
    scaleNote.textContent = `Each step on its own colour scale: the largest weight grows from ${fmt(first.max_abs_weight, 3)} at the start to ${fmt(end.max_abs_weight, 2)} at step ${end.step}, so one shared scale would show the start blank.`;
    const svg = chart(pts, Math.max(260, Math.min(520, chartBox.clientWidth || 420)));
    chartBox.replaceChildren(svg);
    slider.max = String(pts.length - 1);
    show(pts.length - 1);
  });

  function showFailure(err) {
    error.textContent = `The filters' history could not be loaded: ${err.message}`;
    error.hidden = false;
  }

  async function show(i) {
    index = i;
    slider.value = String(i);
    const p = history.points[i];
    chartBox.firstChild.mark(p.step);
    readout.textContent = `Step ${p.step}${p.epoch == null ? "" : ` (epoch ${fmt(p.epoch, 2)})`}: test accuracy ${fmt(p.test_acc * 100, 1)} %, neighbour correlation ${fmt(p.median_neighbour_correlation, 2)}, correlation with the start ${fmt(p.median_start_correlation, 2)}`;
    words.textContent = `At this step: ${reading(p, history.points[0])}`;
    const ticket = asked;
    let frame = frames.get(i);
    if (!frame) {
      try {
        frame = await getOnce(withModel(`/api/filters/history/${i}`));
      } catch (err) {
        if (ticket === asked) showFailure(err);
        return;
      }
      frames.set(i, frame);
    }
    if (ticket !== asked || index !== i) return; // the slider moved on, or the model changed
    const [, , FH, FW] = frame.filters.shape;
    scale.replaceChildren(legend({ scale: "diverging", range: frame.filters.range, label: `weight at step ${frame.step}` }));
    grid.replaceChildren(...frame.filters.filters.map((f) => h("span", { class: "filter-tile", title: `filter ${f.index}` }, h("img", { src: f.channels[0], alt: `filter ${f.index} at step ${frame.step}`, width: FW, height: FH }))));
  }

  slider.addEventListener("input", () => {
    stop();
    if (history) show(Number(slider.value));
  });

  function stop() {
    clearTimeout(timer);
    timer = null;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  }

  play.addEventListener("click", () => {
    if (!history) return;
    if (timer !== null) return stop();
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    const last = history.points.length - 1;
    let i = index >= last ? 0 : index;
    const tick = async () => {
      await show(i);
      if (timer === null) return;
      i += 1;
      if (i > last) return stop();
      timer = setTimeout(tick, PLAY_MS);
    };
    timer = setTimeout(tick, 0);
  });
}
