// im2col in full (Fig. 7-17 … 7-20) and the sliding window it replaces (Fig. 7-3 … 7-7), on the
// current digit and the model's first-layer filters, from POST /api/im2col. Step t of the slide
// is row t of the col matrix: scrub, step or play; click a row or the input to jump.

import { newestWins } from "./api.js";
import { drawCells } from "./cells.js";
import { outputPixel, products, windowOf } from "./chaptermath.js";
import { $, fmt, h, hasLayer } from "./dom.js";

const PLAY_MS = 120;

function createIm2col(root) {
  const form = $("#i2c-controls", root);
  const status = $("#i2c-status", root);
  const error = $("#i2c-error", root);
  const padded = $("#i2c-padded", root);
  const output = $("#i2c-output", root);
  const scrub = $("#i2c-step", root);
  const stepOut = $("#i2c-step-table", root);
  const colTable = $("#i2c-col", root);
  const wTable = $("#i2c-colw", root);
  const play = $("#i2c-play", root);
  let digit = null;
  let r = null; // the last answer
  let t = 0;
  let timer = null;
  const requests = newestWins(root, error);

  async function run() {
    if (!digit) return;
    const q = { model: digit.model, filter: form.elements.filter.value || 0 };
    if (form.elements.stride.value) q.stride = form.elements.stride.value;
    if (form.elements.pad.value !== "") q.pad = form.elements.pad.value;
    await requests.post("/api/im2col", { pixels: digit.pixels }, q, (answer) => {
      r = answer;
      form.elements.filter.max = r.filters - 1;
      form.elements.stride.value = r.stride;
      form.elements.pad.value = r.pad;
      scrub.max = r.col.length - 1;
      t = Math.min(t, r.col.length - 1);
      tables();
      step(t);
      root.classList.add("has-result");
    });
  }

  function tables() {
    const f = r.filter;
    status.textContent = `${r.layer}, filter ${f} of ${r.filters}: ${r.size[0]}×${r.size[1]}, stride ${r.stride}, pad ${r.pad} → ${r.output_shape[0]}×${r.output_shape[1]}. col is ${r.col.length}×${r.col[0].length} (one row per window), col_W is ${r.col_W.length}×${r.col_W[0].length} (one column per filter); col @ col_W + b equals the engine's convolution: ${r.equals_engine ? "yes" : "no"}.`;
    colTable.replaceChildren(
      h("caption", { text: `col: row t = the window of output pixel t (row-major)` }),
      h("tbody", {}, r.col.map((row, k) => h("tr", { dataset: { t: k } }, h("th", { text: String(k) }), row.map((v) => h("td", { text: fmt(v, 2) }))))),
    );
    wTable.replaceChildren(
      h("caption", { text: `col_W: filter ${f} is column ${f}` }),
      h("thead", {}, h("tr", {}, h("th", { text: "tap" }), r.col_W[0].map((_, j) => h("th", { class: j === f ? "current" : "", text: String(j) })))),
      h("tbody", {}, r.col_W.map((row, k) => h("tr", {}, h("th", { text: String(k) }), row.map((v, j) => h("td", { class: j === f ? "current" : "", text: fmt(v, 3) }))))),
    );
  }

  function step(next) {
    t = Math.max(0, Math.min(next, r.col.length - 1));
    scrub.value = t;
    const [oh, ow] = windowOf(t, r.output_shape[1]);
    const [fh, fw] = r.size;
    drawCells(padded, r.padded, { box: { r: oh * r.stride, c: ow * r.stride, h: fh, w: fw } });
    drawCells(output, r.output, { box: { r: oh, c: ow, h: 1, w: 1 }, filled: t, signed: true });
    const weights = r.col_W.map((row) => row[r.filter]);
    const window = r.col[t];
    const prod = products(window, weights);
    const mine = outputPixel(window, weights, r.bias[r.filter]);
    const api = r.output[oh][ow];
    const grid = (xs, d) => Array.from({ length: fh }, (_, i) => h("tr", {}, xs.slice(i * fw, (i + 1) * fw).map((v) => h("td", { text: fmt(v, d) }))));
    stepOut.replaceChildren(
      h("p", { class: "small" }, `Step ${t}: output pixel (${oh}, ${ow}), window at rows ${oh * r.stride}…${oh * r.stride + fh - 1}, columns ${ow * r.stride}…${ow * r.stride + fw - 1} of the padded input.`),
      h(
        "div",
        { class: "i2c-triple" },
        h("table", { class: "row-table" }, h("caption", { text: "window" }), h("tbody", {}, grid(window, 2))),
        h("table", { class: "row-table" }, h("caption", { text: "filter" }), h("tbody", {}, grid(weights, 3))),
        h("table", { class: "row-table" }, h("caption", { text: "products" }), h("tbody", {}, grid(prod, 3))),
      ),
      h("p", {}, `Σ products + b (${fmt(r.bias[r.filter], 4)}) = `, h("b", { id: "i2c-sum", text: fmt(mine, 4) }), " · the API's output there: ", h("b", { id: "i2c-api", text: fmt(api, 4) })),
    );
    colTable.querySelectorAll("tr.current").forEach((tr) => tr.classList.remove("current"));
    const tr = colTable.querySelector(`tr[data-t="${t}"]`);
    if (tr) {
      tr.classList.add("current");
      const box = tr.parentElement.closest(".scroll-x");
      if (box) box.scrollTop = tr.offsetTop - box.clientHeight / 2;
    }
  }

  function toggle() {
    if (timer) {
      clearInterval(timer);
      timer = null;
      play.textContent = "Play";
      return;
    }
    play.textContent = "Pause";
    timer = setInterval(() => {
      if (!r || t >= r.col.length - 1) return toggle();
      step(t + 1);
    }, PLAY_MS);
  }

  scrub.addEventListener("input", () => r && step(Number(scrub.value)));
  $("#i2c-prev", root).addEventListener("click", () => r && step(t - 1));
  $("#i2c-next", root).addEventListener("click", () => r && step(t + 1));
  play.addEventListener("click", () => r && toggle());
  colTable.addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-t]");
    if (tr) step(Number(tr.dataset.t));
  });
  padded.addEventListener("click", (e) => {
    if (!r) return;
    const rect = padded.getBoundingClientRect();
    const y = ((e.clientY - rect.top) / rect.height) * r.padded.length;
    const x = ((e.clientX - rect.left) / rect.width) * r.padded[0].length;
    const [OH, OW] = r.output_shape;
    const oh = Math.min(OH - 1, Math.max(0, Math.round((y - r.size[0] / 2) / r.stride)));
    const ow = Math.min(OW - 1, Math.max(0, Math.round((x - r.size[1] / 2) / r.stride)));
    step(oh * OW + ow);
  });
  form.addEventListener("change", run);
  document.addEventListener("explored", (e) => {
    const { result, live } = e.detail || {};
    if (live) return;
    digit = hasLayer(root, result, "conv") ? { pixels: result.input.pixels, model: result.model } : null;
    if (!digit) {
      requests.drop();
      return;
    }
    form.elements.stride.value = "";
    form.elements.pad.value = "";
    run();
  });
}

createIm2col(document.getElementById("im2col-full"));
