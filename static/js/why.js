// Why: attribution maps of the current digit, side by side, each with the numbers that test it
// (POST /api/attribute). The digit and the model come from the last /api/explore result, which
// main.js announces as an "explored" event, so the view follows whatever model answered.

import { postJSON } from "./api.js";
import { legend } from "./colors.js";
import { curveKey, curvePlot } from "./curves.js";
import { $, fmt, h, percent, showError } from "./dom.js";

/** The maps shown, in order: each is one call; Grad-CAM answers with one map per stage. */
const METHODS = [
  { key: "gradient", query: () => ({ method: "gradient" }) },
  { key: "gradient_x_input", query: () => ({ method: "gradient_x_input" }) },
  { key: "smoothgrad", query: () => ({ method: "smoothgrad" }) },
  { key: "ig_black", query: (o) => ({ method: "integrated_gradients", baseline: "black", steps: o.steps }) },
  { key: "ig_mean", query: (o) => ({ method: "integrated_gradients", baseline: "mean", steps: o.steps }) },
  { key: "occlusion_erase", query: (o) => ({ method: "occlusion", ink: "erase", patch: o.patch, stride: o.stride }) },
  { key: "occlusion_add", query: (o) => ({ method: "occlusion", ink: "add", patch: o.patch, stride: o.stride }) },
  { key: "grad_cam", query: () => ({ method: "grad_cam" }) },
];

const PLOT_WIDTH = 300; // the SVG's own units; CSS scales it to the card
// The server's verdict on an area against random's (a difference of 0.02 or less is "same").
const VERDICT = { better: ["ok", "beats random"], same: ["", "no better than random"], worse: ["bad", "worse than random"] };

/** A relative error as the server's readings write it: 2 decimals, 2 digits below 0.1 %. */
function errorPercent(error) {
  const pct = error * 100;
  return `${pct >= 0.1 || pct === 0 ? pct.toFixed(2) : String(Number(pct.toPrecision(2)))} %`;
}

/** "P(7) = 98.1 %", or "P(7) > 99.9 %" at the ends. */
function probability(d, p) {
  const text = percent(p);
  return /^[<>]/.test(text) ? `P(${d}) ${text}` : `P(${d}) = ${text}`;
}

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** A map's scale end, short enough for a 112 px caption: 2.322, or 2.2 × 10⁻⁴. */
function scaleEnd(v) {
  if (v >= 0.01 || v === 0) return `±${fmt(v, 3)}`;
  const [m, e] = v.toExponential(1).split("e");
  return `±${m} × 10${[...String(Number(e))].map((c) => SUPERSCRIPT[c]).join("")}`;
}

function mapFigure(png, who, limit, alt, extra = "") {
  return h(
    "figure",
    { class: `why-pic ${extra}` },
    h("img", { src: png, alt, width: 28, height: 28, class: "pixelated" }),
    h("figcaption", { class: "small muted" }, `${who}:`, h("br"), h("span", { class: "scale-end", text: scaleEnd(limit) })),
  );
}

function proofRow(cls, term, value, reading) {
  return h("div", { class: `proof ${cls}` }, h("dt", { text: term }), h("dd", {}, value, reading ? h("span", { class: "reading", text: reading }) : null));
}

/** One map's card: the picture(s), the proof numbers with their readings, the curves. */
function mapCard(key, answer, m) {
  const target = answer.target;
  const pics = h(
    "div",
    { class: "why-pics" },
    mapFigure(m.png, "trained", m.range[1], `${m.title}: map for class ${target}`),
    m.sanity ? mapFigure(m.sanity.png, m.sanity.reference === "untrained" ? "untrained" : m.sanity.reference, m.sanity.range[1], `${m.title}: the untrained network's map`, "why-sane") : null,
  );
  const rows = [];
  if (m.completeness) {
    const c = m.completeness;
    rows.push(proofRow("proof-completeness", "Completeness", h("b", { class: "num", text: errorPercent(c.error) }), c.reading));
  }
  const curve = (d, lowerBetter) =>
    h(
      "span",
      {},
      "area ",
      h("b", { class: "num area", text: fmt(d.area, 3) }),
      " · random ",
      h("b", { class: "num random", text: fmt(d.random_area, 3) }),
      ` (${lowerBetter ? "lower" : "higher"} is better) `,
      h("span", { class: `check ${VERDICT[d.verdict][0]}`, text: VERDICT[d.verdict][1] }),
    );
  rows.push(proofRow("proof-deletion", "Deletion", curve(m.deletion, true), m.deletion.reading));
  rows.push(proofRow("proof-insertion", "Insertion", curve(m.insertion, false), m.insertion.reading));
  if (m.sanity) {
    const rho = m.sanity.spearman;
    rows.push(proofRow("proof-sanity", "vs untrained", h("span", {}, "Spearman ", h("b", { class: "num", text: rho === null ? "–" : fmt(rho, 2) })), m.sanity.reading));
  }
  const plotLabel = `${m.title}: ${m.deletion.reading}; ${m.insertion.reading}`;
  return h(
    "article",
    { class: "card why-card", dataset: { key, name: m.name } },
    h("h3", { text: m.title }),
    h("p", { class: "muted small about", text: answer.about.slice(answer.about.indexOf(": ") + 2) }),
    pics,
    h("dl", { class: "proofs" }, rows),
    m.curves ? curvePlot(m.curves, PLOT_WIDTH, plotLabel) : null,
  );
}

function pendingCard(key, text) {
  return h("article", { class: "card why-card pending", dataset: { key } }, h("p", { class: "muted small", text }));
}

function createWhy(root) {
  const grid = $("#why-maps", root);
  const targets = $("#why-target", root);
  const status = $("#why-status", root);
  const error = $("#why-error", root);
  const sanity = $("#why-sanity", root);
  const form = $("#why-options", root);
  let digit = null; // { pixels, model, label, probabilities }
  let target = null; // null: the predicted class
  let generation = 0; // a newer digit, target or option stops the calls still to make
  let visible = false;
  let stale = false; // a digit arrived while the view was off screen

  $("#why-scale", root).append(
    legend({
      scale: "diverging",
      range: [-1, 1],
      label: "Colours of every map",
      ticks: ["−max |value|", "0", "+max |value|"],
      rule: "One rule for all: orange is for the explained class, purple against it (gradient and SmoothGrad: where more ink would raise or lower its logit; the others: what the pixel as it is adds or takes away); each map is scaled to its own largest |value|, written under it.",
    }),
  );
  $("#why-key", root).append(curveKey());

  for (let d = 0; d < 10; d++) {
    targets.append(h("label", {}, h("input", { type: "radio", name: "why-target", value: String(d) }), h("span", { text: String(d) })));
  }
  targets.addEventListener("change", (e) => {
    target = Number(e.target.value);
    run();
  });
  sanity.addEventListener("change", () => root.classList.toggle("show-sanity", sanity.checked));
  form.addEventListener("change", () => form.checkValidity() && run());

  const options = () => ({
    steps: Number($("#why-steps", root).value),
    patch: Number($("#why-patch", root).value),
    stride: Number($("#why-stride", root).value),
  });

  function markTargets() {
    targets.querySelectorAll("label").forEach((label, d) => {
      const input = label.querySelector("input");
      input.checked = d === (target ?? digit?.label);
      label.classList.toggle("predicted", digit !== null && d === digit.label);
      input.setAttribute("aria-label", digit && d === digit.label ? `${d}, the predicted class` : String(d));
    });
  }

  function setBusy(busy) {
    root.dataset.busy = String(busy);
  }

  async function run() {
    const gen = ++generation;
    if (!digit) return;
    if (!visible) {
      stale = true;
      return;
    }
    stale = false;
    markTargets();
    showError(error, null);
    setBusy(true);
    const chosen = target ?? digit.label;
    status.textContent = `Explaining ${chosen} for model ${digit.model}…`;
    grid.replaceChildren(...METHODS.map((m) => pendingCard(m.key, "computing…")));
    const opts = options();
    for (const method of METHODS) {
      let answer;
      try {
        const query = { ...method.query(opts), model: digit.model, target: chosen, curves: true, sanity: true };
        answer = await postJSON("/api/attribute", { pixels: digit.pixels }, query);
      } catch (err) {
        if (gen !== generation) return;
        showError(error, err);
        grid.querySelector(`[data-key="${method.key}"]`)?.replaceWith(pendingCard(method.key, `${method.key}: failed`));
        continue;
      }
      if (gen !== generation) return; // a newer request took over
      const slot = grid.querySelector(`.pending[data-key="${method.key}"]`);
      const cards = answer.maps.map((m) => mapCard(method.key, answer, m));
      if (!cards.length) cards.push(h("article", { class: "card why-card note", dataset: { key: method.key } }, h("h3", { text: answer.title }), h("p", { class: "muted", text: answer.note })));
      slot.replaceWith(...cards);
      status.textContent = `Explaining ${answer.target} for model ${answer.model}: ${probability(answer.target, answer.probability)}, logit ${fmt(answer.logit, 3)}.`;
    }
    setBusy(false);
  }

  new IntersectionObserver(
    (entries) => {
      visible = entries.some((e) => e.isIntersecting);
      if (visible && stale) run();
    },
    { rootMargin: "300px 0px" },
  ).observe(root);

  document.addEventListener("explored", (e) => {
    const { result, live } = e.detail || {};
    if (live) return; // while a stroke grows, wait for the finished digit
    generation++;
    if (!result) {
      digit = null;
      target = null;
      grid.replaceChildren();
      status.textContent = "";
      root.classList.remove("has-result");
      markTargets();
      setBusy(false);
      return;
    }
    digit = { pixels: result.input.pixels, model: result.model, label: result.label };
    $("#why-input", root).src = result.input.png;
    target = null;
    root.classList.add("has-result");
    run();
  });
  setBusy(false);
}

createWhy(document.getElementById("why"));
