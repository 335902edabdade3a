// Batches (Fig. 7-13): the digits read in this visit, up to six, through one im2col and one GEMM
// (POST /api/batch). The col matrix drawn as N blocks of OH·OW rows, the product's shape, the
// result split back per digit. Every number shown is the API's.

import { newestWins } from "./api.js";
import { $, h, hasLayer } from "./dom.js";

const MAX = 6;

function createBatch(root) {
  const status = $("#batch-status", root);
  const error = $("#batch-error", root);
  const blocks = $("#batch-blocks", root);
  const items = $("#batch-items", root);
  const filter = $("#batch-filter", root);
  const clear = $("#batch-clear", root);
  let digits = []; // { pixels, key }, the newest last
  let model = null;
  const requests = newestWins(root, error);

  async function run() {
    if (!model) {
      requests.drop();
      return;
    }
    if (!digits.length) {
      root.classList.remove("has-result");
      return;
    }
    const q = { filter: filter.value || 0, model };
    await requests.post("/api/batch", { digits: digits.map((d) => d.pixels) }, q, show);
  }

  function show(r) {
    root.classList.add("has-result");
    filter.max = r.output_shape[1] - 1;
    const [rows, taps] = r.col_shape;
    const per = rows / r.n;
    status.replaceChildren(
      `${r.n} digit${r.n > 1 ? "s" : ""} → col `,
      h("b", { id: "batch-col", text: `${rows}×${taps}` }),
      ` (${r.n} blocks of ${per} rows) · col @ col_W (${r.col_W_shape.join("×")}) = `,
      h("b", { id: "batch-product", text: r.product_shape.join("×") }),
      ` in one GEMM (${r.macs.toLocaleString("en")} multiply-adds) · reshape and transpose → `,
      h("b", { id: "batch-output", text: `(${r.output_shape.join(", ")})` }),
      `. Equal to the engine's batch: ${r.equals_engine ? "yes" : "no"}; to each digit alone: ${r.equals_one_by_one ? "yes" : "no"}.`,
    );
    blocks.replaceChildren(
      ...r.items.map((it) =>
        h("div", { class: "batch-block", style: null, dataset: { n: it.index } }, h("span", { text: `digit ${it.index}: rows ${it.rows[0]}…${it.rows[1] - 1}` })),
      ),
    );
    items.replaceChildren(
      ...r.items.map((it) =>
        h(
          "figure",
          { class: "batch-item" },
          h("img", { src: it.input_png, alt: `digit ${it.index}` }),
          h("img", { src: it.map_png, alt: `digit ${it.index} through filter ${r.filter}` }),
          h("figcaption", { text: `digit ${it.index} → out[${it.index}, ${r.filter}]` }),
        ),
      ),
    );
  }

  filter.addEventListener("change", run);
  clear.addEventListener("click", () => {
    digits = digits.slice(-1);
    run();
  });
  document.addEventListener("explored", (e) => {
    const { result, live } = e.detail || {};
    if (live || !result) return;
    model = hasLayer(root, result, "conv") ? result.model : null; // the digits stay for the next
    const key = JSON.stringify(result.input.pixels);
    digits = digits.filter((d) => d.key !== key);
    digits.push({ pixels: result.input.pixels, key });
    digits = digits.slice(-MAX);
    run();
  });
}

createBatch(document.getElementById("batch"));
