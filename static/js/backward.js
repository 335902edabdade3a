// Backward: the chapter's "to do" made visible on the current digit (POST /api/backward and
// /api/gradient-check). dL/dx with one pixel's col2im ledger, the overlap counts, max pooling's
// gradient routing with its ties, and the gradient check. The digit and the model come from
// the "explored" event main.js sends; every number shown is the API's.

import { newestWins, postJSON } from "./api.js";
import { $, fmt, h, hasLayer, showError } from "./dom.js";

const CELL = 10; // css pixels per input pixel in the gradient and overlap pictures

/** 1.23e-7 style for the small numbers of a gradient check. */
const sci = (x) => (x === 0 ? "0" : Number(x).toExponential(2).replace("e+", "e").replaceAll("-", "\u2212"));

function drawGrid(canvas, rows, colour, mark) {
  const n = rows.length;
  const m = rows[0].length;
  canvas.width = m * CELL;
  canvas.height = n * CELL;
  const ctx = canvas.getContext("2d");
  rows.forEach((row, i) =>
    row.forEach((v, j) => {
      ctx.fillStyle = colour(v);
      ctx.fillRect(j * CELL, i * CELL, CELL, CELL);
    }),
  );
  if (mark) mark(ctx);
}

const gray = (high) => (v) => {
  const g = Math.round(255 - (150 * v) / high);
  return `rgb(${g},${g},${g})`;
};

function createBackward(root) {
  const status = $("#bw-status", root);
  const error = $("#bw-error", root);
  const targetSel = $("#bw-target", root);
  const rowIn = $("#bw-row", root);
  const colIn = $("#bw-col", root);
  const channelIn = $("#bw-channel", root);
  const gradImg = $("#bw-gradient", root);
  const gradMark = $("#bw-gradient-mark", root);
  const overlap = $("#bw-overlap", root);
  const ledger = $("#bw-ledger", root);
  const poolIn = $("#bw-pool-input", root);
  const poolOut = $("#bw-pool-din", root);
  const poolFacts = $("#bw-pool-facts", root);
  const checkBtn = $("#bw-check", root);
  const checkOut = $("#bw-check-result", root);
  let digit = null; // { pixels, model }
  const requests = newestWins(root, error);

  const query = () => {
    const q = { model: digit.model };
    if (targetSel.value !== "") q.target = targetSel.value;
    if (rowIn.value !== "" && colIn.value !== "") Object.assign(q, { row: rowIn.value, col: colIn.value });
    if (channelIn.value !== "") q.channel = channelIn.value;
    return q;
  };

  async function run() {
    if (!digit) return;
    await requests.post("/api/backward", { pixels: digit.pixels }, query(), show);
  }

  function show(r) {
    root.classList.add("has-result");
    status.textContent = `Model ${r.model} reads ${r.label}; the loss is the cross-entropy against ${r.target}: L = ${fmt(r.loss, 4)}.`;
    gradImg.src = r.gradient_png;
    const [row, col] = r.ledger.pixel;
    rowIn.value = row;
    colIn.value = col;
    gradMark.style.left = `${(col / 28) * 100}%`;
    gradMark.style.top = `${(row / 28) * 100}%`;
    drawGrid(overlap, r.overlap, gray(Math.max(...r.overlap.flat())), (ctx) => {
      ctx.strokeStyle = "#d9480f";
      ctx.lineWidth = 2;
      ctx.strokeRect(col * CELL + 1, row * CELL + 1, CELL - 2, CELL - 2);
    });
    $("#bw-overlap-note", root).textContent = `Pixel (${row}, ${col}) is read by ${r.overlap[row][col]} of the ${r.filter[0]}×${r.filter[1]} windows (corner: ${r.overlap[0][0]}, middle: ${r.overlap[14][14]}).`;
    showLedger(r);
    showPool(r.pool);
  }

  function showLedger(r) {
    const L = r.ledger;
    ledger.replaceChildren(
      h("caption", {
        text: `dL/dx at (${L.pixel[0]}, ${L.pixel[1]}): what each of its ${L.windows} windows sent back (Σ over the ${r.filters} filters of W·dout), added by col2im`,
      }),
      h("thead", {}, h("tr", {}, h("th", { text: "tap (a, b)" }), h("th", { text: "window (oh, ow)" }), h("th", { text: "value" }))),
      h(
        "tbody",
        {},
        L.entries.map((e) =>
          h("tr", {}, h("td", { text: `(${e.tap[0]}, ${e.tap[1]})` }), h("td", { text: `(${e.window[0]}, ${e.window[1]})` }), h("td", { class: "num", text: sci(e.value) })),
        ),
      ),
      h(
        "tfoot",
        {},
        h("tr", {}, h("th", { colspan: 2, text: "sum of the windows (col2im's +=)" }), h("td", { class: "num", id: "bw-total", text: sci(L.total) })),
        h("tr", {}, h("th", { colspan: 2, text: "dL/dx from the engine's backward pass" }), h("td", { class: "num", id: "bw-dx", text: sci(L.gradient) })),
      ),
    );
  }

  function showPool(p) {
    if (!p) {
      poolFacts.textContent = "This model has no max pooling.";
      poolIn.width = poolOut.width = 0;
      return;
    }
    channelIn.max = p.channels - 1;
    channelIn.value = p.channel;
    const high = Math.max(...p.input.flat(), 1e-9);
    const winners = new Set(p.winners.flat().map(([r, c]) => `${r},${c}`));
    const tied = new Set(p.tied.map(([i, j]) => `${i},${j}`));
    const [ph, pw] = p.size;
    drawGrid(poolIn, p.input, gray(high), (ctx) => {
      p.winners.forEach((row, i) =>
        row.forEach(([r, c], j) => {
          if (tied.has(`${i},${j}`) && p.input[r][c] > 0) {
            ctx.fillStyle = "rgba(217,72,15,0.25)";
            ctx.fillRect(j * p.stride * CELL, i * p.stride * CELL, pw * CELL, ph * CELL);
          }
          if (p.din[r][c] !== 0) {
            ctx.strokeStyle = "#1c7ed6";
            ctx.lineWidth = 2;
            ctx.strokeRect(c * CELL + 1, r * CELL + 1, CELL - 2, CELL - 2);
          }
        }),
      );
    });
    const dmax = Math.max(...p.din.flat().map(Math.abs), 1e-12);
    drawGrid(poolOut, p.din, (v) => {
      if (v === 0) return "#fff";
      const t = Math.min(1, Math.abs(v) / dmax);
      return v > 0 ? `rgba(230,119,0,${0.15 + 0.85 * t})` : `rgba(112,72,232,${0.15 + 0.85 * t})`;
    });
    const receiving = p.din.flat().filter((v) => v !== 0).length;
    poolFacts.replaceChildren(
      h("li", { id: "bw-pool-receiving", text: `${receiving} of ${p.din.length * p.din[0].length} inputs receive gradient; every one is its window's winner (${winners.size} winners).` }),
      h("li", { id: "bw-pool-tied", text: `Tied windows in channel ${p.channel}: ${p.tied_windows} (${p.tied_with_gradient} with a maximum above 0); in all ${p.channels} channels: ${p.tied_all_channels} of ${p.windows_all_channels}.` }),
      h("li", { text: "Tie rule: the first maximum in row-major order takes the whole gradient (as argmax does)." }),
    );
  }

  async function check() {
    if (!digit) return;
    checkBtn.disabled = true;
    checkOut.replaceChildren(h("p", { class: "muted", text: "Checking in float64…" }));
    try {
      const q = { model: digit.model };
      if (targetSel.value !== "") q.target = targetSel.value;
      const r = await postJSON("/api/gradient-check", { pixels: digit.pixels }, q);
      const ties = (list) => list.map((t) => `${t.layer}: ${t.tied} tied of ${t.windows} (${t.tied_with_gradient} above 0)`).join("; ") || "no max pooling";
      checkOut.replaceChildren(
        h("p", { class: r.max_relative_error <= 1e-6 ? "ok" : "bad" }, "Largest relative error: ", h("b", { id: "bw-max-error", text: sci(r.max_relative_error) }), ` over ${r.checked - r.kinks} smooth entries (${r.kinks} straddled a kink and are listed, not counted).`),
        h("p", { class: "small", id: "bw-ties" }, `Max-pool ties before the jitter: ${ties(r.ties_before_jitter)}. After a seeded jitter of σ = ${r.jitter} (seed ${r.seed}): ${ties(r.ties_after_jitter)}.`),
        h("p", { class: "small muted", text: `Central differences with h = ${r.step} in ${r.dtype}; relative error = |a − n| / max(|a|, |n|, ${r.floor}).` }),
        h(
          "div",
          { class: "scroll-x", tabindex: 0, role: "region", "aria-label": "gradient check entries" },
          h(
            "table",
            { class: "row-table", id: "bw-check-table" },
            h("thead", {}, h("tr", {}, ["what", "analytic", "numeric", "rel. error", ""].map((t) => h("th", { text: t })))),
            h(
              "tbody",
              {},
              r.entries.map((e) =>
                h("tr", {}, h("td", { text: `${e.param}[${e.index.join(", ")}]` }), h("td", { class: "num", text: sci(e.analytic) }), h("td", { class: "num", text: sci(e.numeric) }), h("td", { class: "num", text: sci(e.relative_error) }), h("td", { text: e.kink ? "kink" : "" })),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      checkOut.replaceChildren();
      showError(error, err);
    } finally {
      checkBtn.disabled = false;
    }
  }

  gradImg.parentElement.addEventListener("click", (e) => {
    const box = gradImg.getBoundingClientRect();
    rowIn.value = Math.min(27, Math.max(0, Math.floor(((e.clientY - box.top) / box.height) * 28)));
    colIn.value = Math.min(27, Math.max(0, Math.floor(((e.clientX - box.left) / box.width) * 28)));
    run();
  });
  for (const el of [targetSel, rowIn, colIn, channelIn]) el.addEventListener("change", run);
  targetSel.addEventListener("change", () => checkOut.replaceChildren());
  checkBtn.addEventListener("click", check);

  document.addEventListener("explored", (e) => {
    const { result, live } = e.detail || {};
    if (live) return;
    checkOut.replaceChildren();
    if (!hasLayer(root, result, "conv")) {
      digit = null;
      requests.drop();
      checkBtn.disabled = true;
      return;
    }
    digit = { pixels: result.input.pixels, model: result.model };
    // against the predicted class a confident net's loss and gradient are ~0: the runner-up
    // shows what would move the answer
    targetSel.value = String(result.top[1].digit);
    rowIn.value = colIn.value = channelIn.value = "";
    checkBtn.disabled = false;
    run();
  });
}

createBackward(document.getElementById("backward"));
