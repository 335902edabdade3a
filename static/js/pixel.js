// The computation behind one pixel of a conv map: the 5x5 window of the input, the kernel,
// their element-wise products, sum + bias, recomputed here and checked against the server's
// number; then the same sum as one row of the im2col matrix times the filter's column.

import { colorAt, divergingCells, position } from "./colors.js";
import { $, cellTable, fmt, h } from "./dom.js";

const TOLERANCE = 1e-3;

const diverging = (lim) => divergingCells([-lim, lim]);
const gray = { bg: (v) => `rgb(${Math.round(v * 255)}, ${Math.round(v * 255)}, ${Math.round(v * 255)})`, ink: (v) => (v > 0.55 ? "#111" : "#fff") };

/** The input digit large, with the window (and padding, if any) outlined. */
function paintWindow(canvas, pixels, i, j, fh, fw) {
  const n = pixels.length;
  const cell = 10;
  canvas.width = canvas.height = n * cell;
  const ctx = canvas.getContext("2d");
  pixels.forEach((row, y) =>
    row.forEach((v, x) => {
      const g = Math.round(v * 255);
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect(x * cell, y * cell, cell, cell);
    }),
  );
  ctx.strokeStyle = "rgba(255,255,255,0.12)";
  ctx.lineWidth = 1;
  for (let k = 1; k < n; k++) {
    ctx.beginPath();
    ctx.moveTo(k * cell + 0.5, 0);
    ctx.lineTo(k * cell + 0.5, n * cell);
    ctx.moveTo(0, k * cell + 0.5);
    ctx.lineTo(n * cell, k * cell + 0.5);
    ctx.stroke();
  }
  ctx.lineWidth = 4;
  ctx.strokeStyle = "#ffb000"; // amber: visible on black and white, and to colour-blind eyes
  ctx.strokeRect(j * cell + 2, i * cell + 2, fw * cell - 4, fh * cell - 4);
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

const grayRGB = (v) => {
  const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
  return [g, g, g];
};

export function createPixel(root) {
  const title = $("#pixel-title", root);
  const inputCanvas = $("#pixel-input", root);
  const tables = $("#pixel-tables", root);
  const equation = $("#pixel-equation", root);
  const im2colCanvas = $("#im2col", root);
  const weightCanvas = $("#im2col-w", root);
  const outCanvas = $("#im2col-out", root);
  const im2colFigure = $("#im2col-figure", root);
  const dotLine = $("#im2col-dot-line", root);
  const im2colText = $("#im2col-text", root);
  const rowTable = $("#im2col-row", root);

  return {
    /** result: /api/explore?values=true; bank: learned filters; sel: {k, i, j}. */
    show(result, bank, { k, i, j }) {
      const conv = result.stages.find((s) => s.kind === "conv");
      if (!conv || !conv.maps[k].values) return; // no conv layer, or a live preview without numbers
      const x = result.input.pixels;
      const f = bank.filters[k];
      const W = f.weights;
      const fh = W.length;
      const fw = W[0].length;
      const [, oh, ow] = conv.shape;
      const win = W.map((_, a) => W[0].map((_, b) => x[i + a][j + b]));
      const products = win.map((row, a) => row.map((v, b) => v * W[a][b]));
      const sum = products.flat().reduce((s, v) => s + v, 0);
      const value = sum + f.bias;
      const server = conv.maps[k].values[i][j];
      // Compared at the precision shown: "the same" only when the 4 decimals shown are equal.
      // The page adds up numbers rounded for sending, so a last-digit difference is expected.
      const [mine, theirs] = [fmt(value, 4), fmt(server, 4)];
      const gap = Math.abs(Number(value.toFixed(4)) - Number(server.toFixed(4)));
      const verdict = mine === theirs ? "same" : gap <= TOLERANCE ? "close" : "differs";

      title.textContent = `Filter ${k}, output pixel row ${i}, column ${j} of the ${oh}×${ow} conv map`;
      paintWindow(inputCanvas, x, i, j, fh, fw);
      inputCanvas.setAttribute("aria-label", `The input with the ${fh} by ${fw} window at rows ${i} to ${i + fh - 1}, columns ${j} to ${j + fw - 1} outlined`);
      const wlim = Math.max(...bank.range.map(Math.abs));
      const plim = Math.max(...products.flat().map(Math.abs), 1e-6);
      tables.replaceChildren(
        h("figure", {}, cellTable("input window x", win, 2, gray)),
        h("span", { class: "op", "aria-hidden": "true", text: "×" }),
        h("figure", {}, cellTable(`kernel W${k}`, W, 3, diverging(wlim))),
        h("span", { class: "op", "aria-hidden": "true", text: "=" }),
        h("figure", {}, cellTable("products x·W", products, 4, diverging(plim))),
      );
      equation.replaceChildren(
        h("span", { class: "term" }, "Σ products = ", h("b", { id: "pixel-sum", text: fmt(sum, 4) })),
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

      // im2col: every output pixel's window as one row of a (OH*OW) x (FH*FW) matrix
      const rows = [];
      for (let a = 0; a < oh; a++)
        for (let b = 0; b < ow; b++) {
          const row = [];
          for (let p = 0; p < fh; p++) for (let q = 0; q < fw; q++) row.push(x[a + p][b + q]);
          rows.push(row);
        }
      const r = i * ow + j;
      const nf = bank.filters.length;
      const Wmat = W.flat().map((_, c) => bank.filters.map((g) => g.weights[Math.floor(c / fw)][c % fw])); // 25 x 30
      const out = rows.map((_, rr) => conv.maps.map((mp) => mp.values[Math.floor(rr / ow)][rr % ow])); // 576 x 30
      const width = im2colFigure.parentElement.clientWidth || 320;
      const cell = Math.max(2, Math.min(8, Math.floor((width - 70) / (fh * fw + 2 * nf))));
      const rowPx = (cell >= 6 ? 360 : 288) / rows.length;
      const rgb = (range) => (v) => colorAt("diverging", position("diverging", v, range));
      paintMatrix(im2colCanvas, rows, grayRGB, { cell, rowPx, row: r });
      paintMatrix(weightCanvas, Wmat, rgb([-wlim, wlim]), { cell, rowPx: cell, col: k });
      paintMatrix(outCanvas, out, rgb(conv.range), { cell, rowPx, row: r, col: k });
      im2colCanvas.setAttribute("aria-label", `The im2col matrix, ${rows.length} rows by ${fh * fw} columns, row ${r} marked`);
      weightCanvas.setAttribute("aria-label", `The weight matrix, ${fh * fw} rows by ${nf} columns, column ${k} marked`);
      outCanvas.setAttribute("aria-label", `The output, ${rows.length} rows by ${nf} columns; row ${r}, column ${k} is this pixel`);
      $("#im2col-caption", root).textContent = `col: ${rows.length}×${fh * fw}`;
      $("#weights-caption", root).textContent = `W: ${fh * fw}×${nf}`;
      $("#out-caption", root).textContent = `out: ${rows.length}×${nf}`;
      im2colText.replaceChildren(
        `im2col unrolls the ${x.length}×${x[0].length} input into a ${rows.length}×${fh * fw} matrix, one row per output pixel; `,
        `the ${nf} filters, flattened, are the ${nf} columns of W. One matrix product gives all ${rows.length} pixels of all ${nf} maps. `,
        `Output pixel (${i}, ${j}) is row `,
        h("b", { text: `${i}·${ow} + ${j} = ${r}` }),
        `; filter ${k} is column ${k}:`,
      );
      const col = W.flat();
      const prod = rows[r].map((v, c) => v * col[c]);
      const dot = prod.reduce((acc, v) => acc + v, 0);
      rowTable.replaceChildren(
        h("caption", { text: `Row ${r} of col times column ${k} of W` }),
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "c" }), col.map((_, c) => h("th", { scope: "col", text: String(c) })))),
        h(
          "tbody",
          {},
          h("tr", {}, h("th", { scope: "row", text: `col[${r}]` }), rows[r].map((v) => h("td", { text: fmt(v, 2) }))),
          h("tr", {}, h("th", { scope: "row", text: `W[:, ${k}]` }), col.map((v) => h("td", { text: fmt(v, 2) }))),
          h("tr", { class: "prod" }, h("th", { scope: "row", text: "product" }), prod.map((v) => h("td", { text: fmt(v, 2) }))),
        ),
      );
      dotLine.replaceChildren(
        `row ${r} · column ${k} = `,
        h("b", { id: "im2col-dot", text: fmt(dot, 4) }),
        `; plus the bias ${fmt(f.bias, 4)} that makes `,
        h("b", { text: fmt(dot + f.bias, 4) }),
        ` = out[${r}, ${k}]: the same pixel.`,
      );
    },
  };
}
