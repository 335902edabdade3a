// Variants: the convolutions the chapter names or readers ask about, on the current digit or an
// RGB sample picture (POST /api/convolve with dilation, groups, padding, flip, transposed, and
// rectangular or 1x1 kernels by name), with "copy as code" programs that reproduce the maps
// shown. Every number shown is the API's.

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

// What each kernel choice is, in words (the weights are in the program below the maps).
const KERNEL_NOTES = {
  diff_1x5: "1 row × 5 columns, weights [−1 −2 0 2 1]: right minus left, so vertical edges light up. The window is 1 high and 5 wide, so OH and OW shrink by different amounts.",
  diff_5x1: "5 rows × 1 column, weights [−1 −2 0 2 1] top to bottom: below minus above, so horizontal edges light up. The window is 5 high and 1 wide.",
  blur_1x5: "1 row × 5 columns, weights [1 4 6 4 1] / 16: a horizontal blur; followed by the 5×1 one it is the Gaussian 5×5.",
  blur_5x1: "5 rows × 1 column, weights [1 4 6 4 1] / 16: a vertical blur.",
  "luminance,r_minus_b": "Two 1×1 kernels over R, G, B: luminance = 0.299 R + 0.587 G + 0.114 B and R − B = 1·R + 0·G − 1·B. Each output pixel mixes the three channels of one input pixel; no neighbours are read, so the map keeps the input's size.",
};
const MIXING = "luminance,r_minus_b";
const NUMBERS = ["stride", "pad", "dilation"];

function createVariants(root) {
  const form = $("#var-controls", root);
  const status = $("#var-status", root);
  const error = $("#var-error", root);
  const mapsOut = $("#var-maps", root);
  const backOut = $("#var-transposed", root);
  const valuesOut = $("#var-values", root);
  const code = $("#var-code", root);
  const inputOut = $("#var-input", root);
  const kernelNote = $("#var-kernel-note", root);
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

  /** A message at the field (or none); returns whether there was one. */
  function say(el, msg, why) {
    msg.textContent = why;
    msg.hidden = !why;
    el.setAttribute("aria-invalid", String(Boolean(why)));
    return Boolean(why);
  }

  /** Every field's problem shown at it; true when the form can be sent. */
  function valid() {
    let ok = true;
    for (const name of NUMBERS) {
      const el = field(name);
      const range = `a whole number, ${el.min} to ${el.max}`;
      const why = el.value.trim() === "" ? `Needed: ${range}.` : el.checkValidity() ? "" : `Not ${el.value}: ${range}.`;
      ok = !say(el, $(`#var-${name}-error`, root), why) && ok;
    }
    const kernel = field("kernel");
    const mixing = kernel.value === MIXING && source() === "digit";
    const why = mixing ? "1×1 channel mixing needs the 3 channels of the RGB sample; your digit has 1. Choose the RGB sample above." : "";
    ok = !say(kernel, $("#var-kernel-error", root), why) && ok;
    kernelNote.textContent = KERNEL_NOTES[kernel.value] || "";
    return ok;
  }

  /** Nothing derived from the last settings stays on screen. */
  function clearDerived() {
    status.textContent = "";
    for (const el of [inputOut, mapsOut, backOut, valuesOut]) el.replaceChildren();
    $("#var-code-text", root).textContent = "";
    code.hidden = valuesOut.hidden = true;
  }

  async function run() {
    const q = settings();
    if (!valid()) {
      ++asked; // an answer still on its way is for settings that are gone
      root.dataset.busy = "false";
      showError(error, null);
      clearDerived();
      status.textContent = "Nothing to show until the field marked in red is fixed.";
      return;
    }
    const body = source() === "digit" ? { pixels: digit.pixels } : { image: samplePicture() };
    const mine = ++asked;
    root.dataset.busy = "true";
    try {
      const r = await postJSON("/api/convolve", body, q);
      if (mine !== asked) return;
      showError(error, null);
      show(r, q, body);
    } catch (err) {
      if (mine === asked) {
        clearDerived();
        showError(error, err);
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

  function show(r, q, body) {
    const [c, ih, iw] = r.input_shape;
    const [efh, efw] = r.effective_filter;
    const first = r.maps[0];
    const [oh, ow] = first.shape;
    const formula = (o, n, f, size) => `${o} = (${n} + 2·${r.pad} − ${f}) / ${r.stride} + 1 → ${size}`;
    const mixes = efh === 1 && efw === 1 && c > 1 && r.groups === 1;
    status.replaceChildren(
      `Input ${c}×${ih}×${iw} (${q.mode}); ${r.padding} padding P = ${r.pad}, stride S = ${r.stride}, dilation D = ${r.dilation}: each filter covers ${efh}×${efw} pixels, so ${formula("OH", ih, efh, oh)} and ${formula("OW", iw, efw, ow)}: `,
      h("b", { id: "var-oh", text: `${oh}×${ow}` }),
      `. Groups G = ${r.groups}${r.groups > 1 ? " (depthwise: each map reads one channel; a kernel's 3 maps add up to its standard map)" : ""}${mixes ? "; 1×1: each output pixel is a weighted sum of one input pixel's 3 channels" : ""}${r.flip ? "; kernels flipped: true convolution" : "; cross-correlation, as CNNs compute"}. ${r.macs.toLocaleString("en")} multiply-adds.`,
    );
    const src = body.image || r.input_png;
    inputOut.replaceChildren(
      h(
        "figure",
        { class: "var-map input" },
        h("img", { src, alt: `the input: ${c}×${ih}×${iw}` }),
        h("figcaption", {}, h("b", { text: "input" }), h("span", { text: ` ${ih}×${iw}, ${c === 3 ? "RGB" : "1 channel"}` })),
      ),
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
    valuesOut.hidden = false;
    valuesOut.replaceChildren(
      h("summary", { text: `Values of ${first.name} (${first.shape[0]}×${first.shape[1]})` }),
      h("div", { class: "scroll-x", tabindex: 0, role: "region", "aria-label": "map values" }, cellTable(first.name, first.values, 3, null)),
    );
    showCode(r.code);
  }

  function showCode(snippets) {
    const pre = $("#var-code-text", root);
    code.hidden = false;
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
