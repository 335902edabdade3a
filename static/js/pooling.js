// Pooling (Fig. 7-14 … 7-16, 7-21, 7-22) on the current digit, from POST /api/pooling: click a
// pooled pixel for its window in every channel (max or mean, the winner, ties); shift the digit
// by one pixel to see which pooled values stay the same; the book's im2col way of pooling.

import { newestWins } from "./api.js";
import { $, fmt, h, hasLayer } from "./dom.js";
import { drawCells } from "./cells.js";

function createPooling(root) {
  const status = $("#pool-status", root);
  const error = $("#pool-error", root);
  const input = $("#pool-input", root);
  const output = $("#pool-output", root);
  const moved = $("#pool-shifted", root);
  const windows = $("#pool-windows", root);
  const shiftFacts = $("#pool-shift-facts", root);
  const via = $("#pool-im2col", root);
  const form = $("#pool-controls", root);
  let digit = null;
  let pixel = [0, 0];
  const requests = newestWins(root, error);

  const settings = () => ({
    model: digit.model,
    channel: form.elements.channel.value || 0,
    row: pixel[0],
    col: pixel[1],
    mode: form.elements.mode.value,
    shift: form.elements.shift.value,
    im2col: true,
  });

  async function run() {
    if (!digit) return;
    await requests.post("/api/pooling", { pixels: digit.pixels }, settings(), show);
  }

  function show(r) {
    root.classList.add("has-result");
    const [ph, pw] = r.size;
    const [row, col] = r.pixel;
    form.elements.channel.max = r.input_shape[0] - 1;
    status.textContent = `${r.layer}: ${r.mode} over ${ph}×${pw} windows, stride ${r.stride}, on ${r.input_shape.join("×")}; channel ${r.channel}, pooled pixel (${row}, ${col}).`;
    const box = { r: row * r.stride, c: col * r.stride, h: ph, w: pw };
    drawCells(input, r.input, { box, grid: r.stride });
    drawCells(output, r.output, { box: { r: row, c: col, h: 1, w: 1 } });
    const shifted = form.elements.showShift.checked;
    moved.hidden = !shifted;
    shiftFacts.hidden = !shifted;
    if (shifted) {
      const s = r.shift;
      drawCells(moved, s.output, { marks: s.same });
      const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)} %` : "–");
      shiftFacts.replaceChildren(
        h("li", { id: "pool-same", text: `After pooling: ${s.same_pooled} of ${s.lit_pooled} values above 0 are unchanged (${pct(s.same_pooled, s.lit_pooled)}), all channels.` }),
        h("li", { id: "pool-same-before", text: `Before pooling: ${s.same_before_pooling} of ${s.lit_before_pooling} (${pct(s.same_before_pooling, s.lit_before_pooling)}).` }),
        h("li", { text: "Green: this channel's pooled values the shift left unchanged." }),
      );
    }
    windows.replaceChildren(
      h("caption", { text: `Pooled pixel (${row}, ${col}) in every channel: its ${ph}×${pw} window and the ${r.mode === "max" ? "max (first maximum in row-major order wins a tie)" : "mean"}` }),
      h("thead", {}, h("tr", {}, ["channel", "window", r.mode, "winner", "tie"].map((t) => h("th", { text: t })))),
      h(
        "tbody",
        {},
        r.windows.map((w) =>
          h(
            "tr",
            { class: w.channel === r.channel ? "current" : "" },
            h("td", { text: String(w.channel) }),
            h("td", { text: w.values.map((line) => line.map((v) => fmt(v, 3)).join(" ")).join(" | ") }),
            h("td", { class: "num", text: fmt(w.result, 4) }),
            h("td", { text: r.mode === "max" ? `(${w.winner[0]}, ${w.winner[1]})` : "" }),
            h("td", { text: w.tied ? "tied" : "" }),
          ),
        ),
      ),
    );
    const v = r.im2col;
    via.replaceChildren(
      h("summary", { text: `Pooling the book's way: im2col into ${v.shape[0]}×${v.shape[1]} rows, ${r.mode} per row, reshape — equal to the engine's: ${v.equals_engine ? "yes" : "no"}` }),
      h(
        "div",
        { class: "scroll-x tall", tabindex: 0, role: "region", "aria-label": "pooling rows" },
        h(
          "table",
          { class: "row-table" },
          h("caption", { text: `Channel ${r.channel}'s rows (oh, ow order) and each row's ${r.mode}` }),
          h("tbody", {}, v.rows.map((line, t) => h("tr", { class: t === row * r.output[0].length + col ? "current" : "" }, h("th", { text: `(${Math.floor(t / r.output[0].length)}, ${t % r.output[0].length})` }), line.map((x) => h("td", { text: fmt(x, 3) })), h("td", { class: "num", text: fmt(v.row_result[t], 4) })))),
        ),
      ),
    );
  }

  output.addEventListener("click", (e) => {
    const rect = output.getBoundingClientRect();
    const n = Number(output.dataset.rows);
    const m = Number(output.dataset.cols);
    pixel = [Math.min(n - 1, Math.floor(((e.clientY - rect.top) / rect.height) * n)), Math.min(m - 1, Math.floor(((e.clientX - rect.left) / rect.width) * m))];
    run();
  });
  form.addEventListener("change", run);
  document.addEventListener("explored", (e) => {
    const { result, live } = e.detail || {};
    if (live) return;
    digit = hasLayer(root, result, "pool") ? { pixels: result.input.pixels, model: result.model } : null;
    if (!digit) {
      requests.drop();
      return;
    }
    pixel = [6, 6];
    run();
  });
}

createPooling(document.getElementById("pooling"));
