// Variants: the convolutions the chapter names or readers ask about, on the current digit or an
// RGB sample picture (POST /api/convolve with dilation, groups, padding, flip, transposed), with
// "copy as code" programs that reproduce the maps shown. Every number shown is the API's.

import { postJSON } from "./api.js";
import { cellTable, $, fmt, h, showError } from "./dom.js";

/** A small RGB picture with colour edges, so depthwise has three different channels. */
export function samplePicture() {
  const c = document.createElement("canvas");
  c.width = 64;
  c.height = 48;
  const ctx = c.getContext("2d");
  const g = ctx.createLinearGradient(0, 0, 64, 0);
  g.addColorStop(0, "#e8e0d0");
  g.addColorStop(1, "#9fb8d8");
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, 64, 48);
  ctx.fillStyle = "#c8302a";
  ctx.beginPath();
  ctx.arc(44, 18, 11, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#1f6f3a";
  ctx.fillRect(8, 22, 18, 18);
  return c.toDataURL("image/png");
}

function createVariants(root) {
  const form = $("#var-controls", root);
  const status = $("#var-status", root);
  const error = $("#var-error", root);
  const mapsOut = $("#var-maps", root);
  const backOut = $("#var-transposed", root);
  const valuesOut = $("#var-values", root);
  const code = $("#var-code", root);
  let digit = null; // { pixels, model } from the last explored digit
  let asked = 0;

  const field = (name) => form.elements[name];
  const source = () => (field("source").value === "photo" || !digit ? "photo" : "digit");

  function settings() {
    const rgb = source() === "photo";
    const groups = rgb ? field("groups").value : "1";
    field("groups").forEach?.((el) => (el.disabled = !rgb));
    return {
      kernels: field("kernel").value,
      mode: rgb ? "rgb" : "gray",
      stride: field("stride").value,
      pad: field("pad").value,
      dilation: field("dilation").value,
      groups,
      padding: field("padding").value,
      flip: field("flip").checked,
      transposed: field("transposed").checked,
      relu: field("relu").checked,
      values: true,
      code: true,
      ...(digit ? { model: digit.model } : {}),
    };
  }

  async function run() {
    const q = settings();
    const body = source() === "digit" ? { pixels: digit.pixels } : { image: samplePicture() };
    const mine = ++asked;
    root.dataset.busy = "true";
    try {
      const r = await postJSON("/api/convolve", body, q);
      if (mine !== asked) return;
      showError(error, null);
      show(r, q);
    } catch (err) {
      if (mine === asked) {
        showError(error, err);
        mapsOut.replaceChildren();
        backOut.replaceChildren();
      }
    } finally {
      if (mine === asked) root.dataset.busy = "false";
    }
  }

  const figure = (m, cls) =>
    h(
      "figure",
      { class: `var-map ${cls}`, dataset: { name: m.name } },
      h("img", { src: m.png, alt: `${m.name}: ${m.shape[0]}×${m.shape[1]} map` }),
      h(
        "figcaption",
        {},
        h("b", { text: m.name }),
        h("span", { class: "var-shape", text: ` ${m.shape[0]}×${m.shape[1]}` }),
        h("br"),
        h("span", { class: "var-range", text: `${fmt(m.range[0], 4)} … ${fmt(m.range[1], 4)}` }),
      ),
    );

  function show(r, q) {
    const [c, ih, iw] = r.input_shape;
    const [efh, efw] = r.effective_filter;
    const first = r.maps[0];
    status.replaceChildren(
      `Input ${c}×${ih}×${iw} (${q.mode}); ${r.padding} padding P = ${r.pad}, stride S = ${r.stride}, dilation D = ${r.dilation}: each filter covers ${efh}×${efw} pixels, so OH = (${ih} + 2·${r.pad} − ${efh}) / ${r.stride} + 1 → `,
      h("b", { id: "var-oh", text: `${first.shape[0]}×${first.shape[1]}` }),
      `. Groups G = ${r.groups}${r.groups > 1 ? " (depthwise: each map reads one channel; a kernel's 3 maps add up to its standard map)" : ""}${r.flip ? "; kernels flipped: true convolution" : "; cross-correlation, as CNNs compute"}. ${r.macs.toLocaleString("en")} multiply-adds.`,
    );
    mapsOut.replaceChildren(...r.maps.map((m) => figure(m, "")));
    backOut.replaceChildren(
      ...(r.transposed_maps
        ? [
            h("p", { class: "small", text: "Transposed convolution = conv's backward with respect to its input: each map value goes back through its kernel onto the window it came from, overlaps adding (col2im of Wᵀy). Input-sized." }),
            ...r.transposed_maps.map((m) => figure(m, "back")),
          ]
        : []),
    );
    valuesOut.replaceChildren(
      h("summary", { text: `Values of ${first.name} (${first.shape[0]}×${first.shape[1]})` }),
      h("div", { class: "scroll-x", tabindex: 0, role: "region", "aria-label": "map values" }, cellTable(first.name, first.values, 3, null)),
    );
    showCode(r.code);
  }

  function showCode(snippets) {
    const pre = $("#var-code-text", root);
    const pick = () => (pre.textContent = snippets[code.dataset.lang || "numpy"]);
    code.querySelectorAll("[data-lang-btn]").forEach((b) => {
      b.onclick = () => {
        code.dataset.lang = b.dataset.langBtn;
        code.querySelectorAll("[data-lang-btn]").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
        pick();
      };
    });
    $("#var-copy", root).onclick = async () => {
      try {
        await navigator.clipboard.writeText(pre.textContent);
        $("#var-copied", root).textContent = "Copied.";
      } catch {
        $("#var-copied", root).textContent = "Select the text and copy it (the browser refused the clipboard).";
      }
    };
    pick();
  }

  form.addEventListener("change", run);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run();
  });
  document.addEventListener("explored", (e) => {
    const { result, live } = e.detail || {};
    if (live) return;
    digit = result ? { pixels: result.input.pixels, model: result.model } : null;
    $("#var-digit-choice", root).disabled = !digit;
    if (digit) field("source").value = "digit";
    run();
  });
  run();
}

createVariants(document.getElementById("variants"));
