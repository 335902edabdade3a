// 3-D convolution (Fig. 7-8 … 7-12) on the RGB sample picture, from POST /api/conv3d: one output
// pixel as three channel windows times three kernel slices, a partial sum per channel, their
// total and the bias; FN filters give FN maps. Every number shown is the API's.

import { newestWins } from "./api.js";
import { $, fmt, h } from "./dom.js";
import { samplePicture } from "./variants.js";

// a colour-opponent filter: red in the window raises it, green lowers it, blue does not count
const RED_MINUS_GREEN = [
  [[1 / 9, 1 / 9, 1 / 9], [1 / 9, 1 / 9, 1 / 9], [1 / 9, 1 / 9, 1 / 9]],
  [[-1 / 9, -1 / 9, -1 / 9], [-1 / 9, -1 / 9, -1 / 9], [-1 / 9, -1 / 9, -1 / 9]],
  [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
];
const CHANNEL = ["red", "green", "blue"];

function createConv3d(root) {
  const status = $("#c3-status", root);
  const error = $("#c3-error", root);
  const maps = $("#c3-maps", root);
  const terms = $("#c3-terms", root);
  const sum = $("#c3-sum", root);
  let filter = 2;
  let pixel = [18, 44];
  const requests = newestWins(root, error);

  async function run() {
    const q = { kernels: "sobel_x,sobel_y", biases: "0.1,-0.1,0.2", filter, row: pixel[0], col: pixel[1] };
    await requests.post("/api/conv3d", { image: samplePicture(), kernel: RED_MINUS_GREEN }, q, show);
  }

  const table = (caption, rows, d) =>
    h("table", { class: "row-table" }, h("caption", { text: caption }), h("tbody", {}, rows.map((row) => h("tr", {}, row.map((v) => h("td", { text: fmt(v, d) }))))));

  function show(r) {
    const [fn, c, fh, fw] = r.kernel_shape;
    status.textContent = `Input ${r.input_shape.join("×")} (C×H×W); filters ${r.kernel_shape.join("×")} (FN×C×FH×FW); bias (${fn},) broadcast as (${r.bias_shape.join(", ")}); output ${r.output_shape.join("×")} (FN×OH×OW): ${fn} filters, ${fn} maps. Click a map to take apart its pixel.`;
    maps.replaceChildren(
      ...r.maps.map((m, f) =>
        h(
          "figure",
          { class: `var-map ${f === r.filter ? "chosen" : ""}`, dataset: { f } },
          h("img", { src: m.png, alt: `map of filter ${f}, ${m.name}` }),
          h("figcaption", {}, h("b", { text: `${f}: ${m.name}` }), h("br"), `b = ${fmt(r.bias[f], 2)}`),
        ),
      ),
    );
    terms.replaceChildren(
      ...r.channels.map((t) =>
        h(
          "div",
          { class: "c3-channel" },
          h("h4", { text: `channel ${t.channel} (${CHANNEL[t.channel] || t.channel})` }),
          h("div", { class: "i2c-triple" }, table("window", t.window, 2), table("kernel slice", t.kernel, 3), table("products", t.products, 3)),
          h("p", { class: "small" }, "partial sum ", h("b", { class: "c3-partial", text: fmt(t.partial, 4) })),
        ),
      ),
    );
    sum.replaceChildren(
      `out[${r.filter}, ${r.pixel[0]}, ${r.pixel[1]}] = `,
      r.channels.map((t) => fmt(t.partial, 4)).join(" + "),
      ` = `,
      h("b", { id: "c3-total", text: fmt(r.total, 4) }),
      `, + b[${r.filter}] (${fmt(r.bias[r.filter], 2)}) = `,
      h("b", { id: "c3-value", text: fmt(r.value, 4) }),
      ` · the engine's conv_forward there: `,
      h("b", { id: "c3-engine", text: fmt(r.engine_value, 4) }),
      ` (${c} channels × ${fh}×${fw} taps = ${c * fh * fw} products)`,
    );
  }

  maps.addEventListener("click", (e) => {
    const fig = e.target.closest("figure[data-f]");
    if (!fig) return;
    const img = fig.querySelector("img");
    const box = img.getBoundingClientRect();
    filter = Number(fig.dataset.f);
    pixel = [Math.floor(((e.clientY - box.top) / box.height) * img.naturalHeight), Math.floor(((e.clientX - box.left) / box.width) * img.naturalWidth)];
    run();
  });
  // computed once the section comes near the screen, not at page load
  new IntersectionObserver((entries, obs) => {
    if (entries.some((e) => e.isIntersecting)) {
      obs.disconnect();
      run();
    }
  }, { rootMargin: "400px 0px" }).observe(root);
}

createConv3d(document.getElementById("conv3d"));
