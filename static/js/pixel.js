// The computation behind one pixel of a conv map: the window of its input (every input channel,
// with the layer's stride and padding), the filter, their element-wise products, the partial sum
// per channel, the total + bias, recomputed here and checked against the server's number; then
// the same sum as one row of the im2col matrix times the filter's column. The maths is in
// convmath.js; this module only draws.

import { colorAt, divergingCells, position } from "./colors.js";
import { convPixel, dot, fieldBox, filterColumn, im2col, outputLength, receptiveField } from "./convmath.js";
import { $, cellTable, fmt, h } from "./dom.js";
import { all } from "./model.js";

const TOLERANCE = 1e-3;

const diverging = (lim) => divergingCells([-lim, lim]);
const grayCells = (max) => ({
  bg: (v) => {
    const g = Math.round(Math.min(1, Math.max(0, v / max)) * 255);
    return `rgb(${g}, ${g}, ${g})`;
  },
  ink: (v) => (v / max > 0.55 ? "#111" : "#fff"),
});

/** One input map large, the zero padding around it hatched, the window outlined. */
function paintWindow(canvas, map, top, left, fh, fw, pad, max) {
  const H = map.length + 2 * pad;
  const W = map[0].length + 2 * pad;
  const cell = Math.max(4, Math.floor(280 / Math.max(H, W)));
  canvas.width = W * cell;
  canvas.height = H * cell;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#2c3e66"; // the padding: zeros that are not part of the picture
  ctx.fillRect(0, 0, W * cell, H * cell);
  map.forEach((row, y) =>
    row.forEach((v, x) => {
      const g = Math.round(Math.min(1, Math.max(0, v / max)) * 255);
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect((x + pad) * cell, (y + pad) * cell, cell, cell);
    }),
  );
  ctx.strokeStyle = "rgba(255,255,255,0.12)";
  ctx.lineWidth = 1;
  for (let k = 1; k < Math.max(H, W); k++) {
    ctx.beginPath();
    ctx.moveTo(k * cell + 0.5, 0);
    ctx.lineTo(k * cell + 0.5, H * cell);
    ctx.moveTo(0, k * cell + 0.5);
    ctx.lineTo(W * cell, k * cell + 0.5);
    ctx.stroke();
  }
  ctx.lineWidth = Math.max(2, Math.min(4, cell / 3));
  ctx.strokeStyle = "#ffb000"; // amber: visible on black and white, and to colour-blind eyes
  ctx.strokeRect((left + pad) * cell + 2, (top + pad) * cell + 2, fw * cell - 4, fh * cell - 4);
}

/**
 * A matrix drawn at `cell` CSS px per column and `rowPx` per row (rows may be thinner than a
 * pixel: 576 rows fit in 288 px), with one row and / or one column marked in amber.
 */
function paintMatrix(canvas, rows, colour, { cell, rowPx, row = null, col = null }) {
  const n = rows.length;
  const m = rows[0].length;
  const cssW = m * cell;
  const cssH = n * rowPx;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  canvas.style.width = `${cssW}px`;
  canvas.style.height = `${cssH}px`;
  const src = document.createElement("canvas");
  src.width = m;
  src.height = n;
  const sctx = src.getContext("2d");
  const img = sctx.createImageData(m, n);
  rows.forEach((r, y) => r.forEach((v, x) => img.data.set([...colour(v), 255], (y * m + x) * 4)));
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(src, 0, 0, cssW, cssH);
  ctx.strokeStyle = "#ffb000";
  ctx.lineWidth = 2;
  const band = Math.max(3, rowPx);
  if (row !== null) ctx.strokeRect(1, row * rowPx + rowPx / 2 - band / 2, cssW - 2, band);
  if (col !== null) ctx.strokeRect(col * cell + 1, 1, cell - 2, cssH - 2);
  if (row !== null && col !== null) {
    ctx.fillStyle = "#ffb000";
    ctx.fillRect(col * cell - 1, row * rowPx + rowPx / 2 - band / 2 - 1, cell + 2, band + 2);
  }
}

const grayRGB = (max) => (v) => {
  const g = Math.round(Math.min(1, Math.max(0, v / max)) * 255);
  return [g, g, g];
};

const maxOf = (maps) => Math.max(1e-6, ...maps.map((m) => Math.max(...m.flat())));

export function createPixel(root) {
  const title = $("#pixel-title", root);
  const inputCanvas = $("#pixel-input", root);
  const inputCaption = $("#pixel-input-caption", root);
  const tables = $("#pixel-tables", root);
  const equation = $("#pixel-equation", root);
  const im2colCanvas = $("#im2col", root);
  const weightCanvas = $("#im2col-w", root);
  const outCanvas = $("#im2col-out", root);
  const im2colFigure = $("#im2col-figure", root);
  const dotLine = $("#im2col-dot-line", root);
  const im2colText = $("#im2col-text", root);
  const rowTable = $("#im2col-row", root);
  // for a deeper layer: the part of the digit this one pixel depends on (its receptive field)
  const fieldCanvas = h("canvas", { id: "pixel-field", role: "img" });
  const fieldCaption = h("figcaption", { id: "pixel-field-caption" });
  const fieldFigure = h("figure", { class: "pixel-input pixel-field", hidden: true }, fieldCanvas, fieldCaption);
  inputCanvas.closest("figure").after(fieldFigure);

  return {
    /**
     * result: /api/explore?values=true; bank: the learned filters of the conv layer; layer: that
     * layer of the model (size, stride, pad); at: {index, k, i, j} the conv stage and pixel.
     */
    show(result, bank, layer, { index, k, i, j }) {
      const conv = result.stages[index];
      if (!conv || !conv.maps[k].values) return; // a live preview without numbers
      // what the layer reads: the stage before it, or the 28x28 input for the first one
      const prev = result.stages.find((s) => s.layer === layer.index - 1);
      const input = prev ? prev.maps.map((m) => m.values) : [result.input.pixels];
      if (input.some((m) => !m)) return;
      const inputName = prev ? prev.name : "input";
      const model = all().find((m) => m.id === result.model);
      fieldFigure.hidden = !prev || !model;
      if (prev && model) {
        const x = result.input.pixels;
        const field = receptiveField(model.layers, layer.index);
        const [t, l, b, r] = fieldBox(field, i, j, x.length, x[0].length);
        paintWindow(fieldCanvas, x, t, l, b - t + 1, r - l + 1, 0, 1);
        fieldCaption.textContent = `the ${field.size}×${field.size} input pixels it depends on: rows ${t}–${b}, columns ${l}–${r}`;
        fieldFigure.dataset.box = [t, l, b, r].join(",");
        fieldCanvas.setAttribute("aria-label", `The input digit with the receptive field of this ${conv.name} pixel outlined: rows ${t} to ${b}, columns ${l} to ${r}`);
      }
      const f = bank.filters[k];
      const [C, fh, fw] = [f.weights.length, f.weights[0].length, f.weights[0][0].length];
      const { stride, pad } = layer;
      const [, oh, ow] = conv.shape;
      const px = convPixel(input, f.weights, f.bias, i, j, stride, pad);
      const server = conv.maps[k].values[i][j];
      // Compared at the precision shown: "the same" only when the 4 decimals shown are equal.
      // The page adds up numbers rounded for sending, so a last-digit difference is expected.
      const [mine, theirs] = [fmt(px.value, 4), fmt(server, 4)];
      const gap = Math.abs(Number(px.value.toFixed(4)) - Number(server.toFixed(4)));
      const verdict = mine === theirs ? "same" : gap <= TOLERANCE ? "close" : "differs";
      root.dataset.channels = String(C);

      title.textContent = `Filter ${k} of ${conv.name}, output pixel row ${i}, column ${j} of the ${oh}×${ow} map (${C} input channel${C > 1 ? "s" : ""} of ${inputName}, ${fh}×${fw} window, stride ${stride}, pad ${pad})`;
      // the input channel that adds the most is the one drawn
      const big = px.channels.reduce((a, b) => (Math.abs(b.sum) > Math.abs(a.sum) ? b : a));
      const inMax = prev ? maxOf(input) : 1;
      paintWindow(inputCanvas, input[big.c], big.top, big.left, fh, fw, pad, inMax);
      inputCaption.textContent = C > 1 ? `${inputName} channel ${big.c} (adds the most), window outlined` : pad ? "input, padding blue, window outlined" : "input, window outlined";
      inputCanvas.setAttribute("aria-label", `${inputName} channel ${big.c} with the ${fh} by ${fw} window at rows ${big.top} to ${big.top + fh - 1}, columns ${big.left} to ${big.left + fw - 1} outlined`);
      const wlim = Math.max(...bank.range.map(Math.abs));
      const plim = Math.max(...px.channels.flatMap((ch) => ch.products.flat().map(Math.abs)), 1e-6);
      const xCells = grayCells(inMax);
      if (C === 1) {
        const ch = px.channels[0];
        tables.replaceChildren(
          h("figure", {}, cellTable(`${inputName} window x`, ch.window, 2, xCells)),
          h("span", { class: "op", "aria-hidden": "true", text: "×" }),
          h("figure", {}, cellTable(`kernel W${k}`, ch.weights, 3, diverging(wlim))),
          h("span", { class: "op", "aria-hidden": "true", text: "=" }),
          h("figure", {}, cellTable("products x·W", ch.products, 4, diverging(plim))),
        );
      } else {
        tables.replaceChildren(
          h("p", { class: "small muted ledger-note", text: `A ${C}×${fh}×${fw} window times the ${C}×${fh}×${fw} filter: one ledger per input channel, then the partial sums add up.` }),
          h(
            "div",
            { class: "ledgers scroll-y", tabindex: "0", role: "region", "aria-label": `${C} channel ledgers` },
            px.channels.map((ch) =>
              h(
                "figure",
                { class: "channel-ledger", dataset: { c: ch.c } },
                h("figcaption", {}, `channel ${ch.c}: Σ = `, h("b", { class: "partial", text: fmt(ch.sum, 4) })),
                h(
                  "div",
                  { class: "ledger-tables" },
                  cellTable("x", ch.window, 2, xCells),
                  h("span", { class: "op", "aria-hidden": "true", text: "×" }),
                  cellTable(`W[${k}, ${ch.c}]`, ch.weights, 2, diverging(wlim)),
                  h("span", { class: "op", "aria-hidden": "true", text: "=" }),
                  cellTable("x·W", ch.products, 3, diverging(plim)),
                ),
              ),
            ),
          ),
        );
      }
      const partials = C > 1 ? `Σ over ${C} channels of their partial sums = ` : "Σ products = ";
      equation.replaceChildren(
        h("span", { class: "term" }, partials, h("b", { id: "pixel-sum", text: fmt(px.total, 4) })),
        h("span", { class: "term" }, " + bias ", h("b", { id: "pixel-bias", text: fmt(f.bias, 4) })),
        h("span", { class: "term" }, " = ", h("b", { id: "pixel-value", class: "big", text: mine })),
        h(
          "span",
          { class: `check ${verdict === "differs" ? "bad" : "ok"}`, id: "pixel-check", dataset: { verdict } },
          `server's value: `,
          h("b", { id: "pixel-server", text: theirs }),
          {
            same: " ✓ the same",
            close: ` ✓ ${fmt(gap, 4)} apart, as expected: the page adds up numbers rounded for sending`,
            differs: ` ✗ ${fmt(gap, 4)} apart`,
          }[verdict],
        ),
      );

      // im2col: every output pixel's window as one row of a (OH*OW) x (C*FH*FW) matrix
      const rows = im2col(input, [fh, fw], stride, pad);
      const r = i * ow + j;
      const nf = bank.filters.length;
      const cols = C * fh * fw;
      const columns = bank.filters.map((g) => filterColumn(g.weights));
      const Wmat = columns[0].map((_, c) => columns.map((col) => col[c])); // cols x FN
      const out = rows.map((_, rr) => conv.maps.map((mp) => mp.values[Math.floor(rr / ow)][rr % ow])); // OH*OW x FN
      const width = im2colFigure.parentElement.clientWidth || 320;
      const cell = Math.max(1, Math.min(8, Math.floor((width - 70) / (cols + 2 * nf))));
      const rowPx = (cell >= 6 ? 360 : 288) / rows.length;
      const rgb = (range) => (v) => colorAt("diverging", position("diverging", v, range));
      paintMatrix(im2colCanvas, rows, grayRGB(inMax), { cell, rowPx, row: r });
      paintMatrix(weightCanvas, Wmat, rgb([-wlim, wlim]), { cell, rowPx: Math.max(1, Math.min(cell, 288 / cols)), col: k });
      paintMatrix(outCanvas, out, rgb(conv.range), { cell, rowPx, row: r, col: k });
      im2colCanvas.setAttribute("aria-label", `The im2col matrix, ${rows.length} rows by ${cols} columns, row ${r} marked`);
      weightCanvas.setAttribute("aria-label", `The weight matrix, ${cols} rows by ${nf} columns, column ${k} marked`);
      outCanvas.setAttribute("aria-label", `The output, ${rows.length} rows by ${nf} columns; row ${r}, column ${k} is this pixel`);
      $("#im2col-caption", root).textContent = `col: ${rows.length}×${cols}`;
      $("#weights-caption", root).textContent = `W: ${cols}×${nf}`;
      $("#out-caption", root).textContent = `out: ${rows.length}×${nf}`;
      const [H, W] = [input[0].length, input[0][0].length];
      im2colText.replaceChildren(
        `im2col unrolls the ${C}×${H}×${W} ${inputName}${pad ? ` (padded by ${pad})` : ""} into a ${rows.length}×${cols} matrix, one row per output pixel (${outputLength(H, fh, pad, stride).size}×${outputLength(W, fw, pad, stride).size} of them); `,
        `the ${nf} filters, flattened, are the ${nf} columns of W. One matrix product gives all ${rows.length} pixels of all ${nf} maps. `,
        `Output pixel (${i}, ${j}) is row `,
        h("b", { text: `${i}·${ow} + ${j} = ${r}` }),
        `; filter ${k} is column ${k}:`,
      );
      const col = columns[k];
      const d = dot(rows[r], col);
      rowTable.replaceChildren(
        h("caption", { text: `Row ${r} of col times column ${k} of W` }),
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "c" }), col.map((_, c) => h("th", { scope: "col", text: String(c) })))),
        h(
          "tbody",
          {},
          h("tr", {}, h("th", { scope: "row", text: `col[${r}]` }), rows[r].map((v) => h("td", { text: fmt(v, 2) }))),
          h("tr", {}, h("th", { scope: "row", text: `W[:, ${k}]` }), col.map((v) => h("td", { text: fmt(v, 2) }))),
          h("tr", { class: "prod" }, h("th", { scope: "row", text: "product" }), d.products.map((v) => h("td", { text: fmt(v, 2) }))),
        ),
      );
      dotLine.replaceChildren(
        `row ${r} · column ${k} = `,
        h("b", { id: "im2col-dot", text: fmt(d.sum, 4) }),
        `; plus the bias ${fmt(f.bias, 4)} that makes `,
        h("b", { text: fmt(d.sum + f.bias, 4) }),
        ` = out[${r}, ${k}]: the same pixel.`,
      );
    },
  };
}
