// Upload a photo: drag-and-drop, file picker or paste; its responses to the learned filters
// and to classic kernels, with stride, pad, bias, ReLU and gray / RGB convolution.

import { getOnce, latestOnly, postFile } from "./api.js";
import { legend } from "./colors.js";
import { $, debounce, fmt, h, showError } from "./dom.js";
import { modelQuery, subscribe } from "./model.js";

/** A small synthetic picture (shapes, stripes, text) for people without a photo at hand. */
function samplePicture() {
  const c = document.createElement("canvas");
  c.width = 320;
  c.height = 240;
  const ctx = c.getContext("2d");
  const sky = ctx.createLinearGradient(0, 0, 0, 240);
  sky.addColorStop(0, "#7fb2e5");
  sky.addColorStop(1, "#f4efe1");
  ctx.fillStyle = sky;
  ctx.fillRect(0, 0, 320, 240);
  ctx.fillStyle = "#f2c14e";
  ctx.beginPath();
  ctx.arc(262, 56, 30, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = "#3d6b45";
  ctx.fillRect(0, 180, 320, 60);
  ctx.fillStyle = "#b5533c";
  ctx.fillRect(40, 110, 110, 80);
  ctx.fillStyle = "#5b3a29";
  ctx.beginPath();
  ctx.moveTo(30, 112);
  ctx.lineTo(95, 60);
  ctx.lineTo(160, 112);
  ctx.fill();
  ctx.fillStyle = "#e9eef2";
  ctx.fillRect(60, 130, 26, 24);
  ctx.fillRect(106, 130, 26, 24);
  ctx.fillStyle = "#222";
  for (let x = 180; x < 300; x += 12) ctx.fillRect(x, 150, 5, 40);
  ctx.font = "bold 40px system-ui, sans-serif";
  ctx.fillText("7", 210, 128);
  return new Promise((resolve) => c.toBlob((b) => resolve(new File([b], "sample.png", { type: "image/png" })), "image/png"));
}

/**
 * @param root    section#photo
 * @param onDigit(file) read the picture as a handwritten digit (the Draw section shows it)
 */
export function createUpload(root, onDigit) {
  const input = $("#file", root);
  const drop = $("#drop", root);
  const error = $("#photo-error", root);
  const preview = $("#photo-input", root);
  const original = $("#photo-original", root);
  const shape = $("#photo-shape", root);
  const out = $("#responses", root);
  const outLegend = $("#responses-legend", root);
  const status = $("#photo-status", root);
  const floor = $("#photo-floor", root);
  const digitBtn = $("#photo-digit", root);
  const controls = $("#photo-controls", root);
  const custom = $("#custom-kernel", root);
  const card = $("#responses-card", root);
  const numbers = [$("#stride", controls), $("#pad-photo", controls)];
  const narrow = matchMedia("(max-width: 759px)"); // the responses sit below the controls
  let file = null;
  let reveal = false; // the user changed something: show them the result when it comes

  const PRESETS = [
    ["red − blue (RGB)", "[[[1]], [[0]], [[-1]]]", "rgb"],
    ["diagonal edges", "[[2, 1, 0], [1, 0, -1], [0, -1, -2]]", null],
    ["none", "", null],
  ];
  for (const [name, text, mode] of PRESETS) {
    $("#kernel-presets", root).append(
      h("button", {
        type: "button",
        class: "chip",
        text: name,
        onclick: () => {
          custom.value = text;
          if (mode) controls.querySelector(`input[name="mode"][value="${mode}"]`).checked = true;
          reveal = true;
          run();
        },
      }),
    );
  }

  // one colour rule for every map of a response (the server's scale_rule), stated once here
  outLegend.replaceChildren(
    legend({
      scale: "gray",
      range: [0, 1],
      label: "response",
      ticks: ["its minimum", "its maximum"],
      rule: "Each map is stretched from its own minimum (black) to its own maximum (white); the numbers under a map are that range.",
    }),
  );

  /** Stride and pad checked here, with the message at the field: nothing invalid is sent. */
  function numbersOk() {
    let ok = true;
    for (const el of numbers) {
      const msg = $(`#${el.id}-error`, controls);
      const what = el.id === "stride" ? "Stride" : "Pad";
      const why =
        el.value.trim() === "" || !el.checkValidity() ? `${what} must be a whole number from ${el.min} to ${el.max}${el.value.trim() ? `; ${el.value} is not` : ""}.` : "";
      msg.textContent = why;
      msg.hidden = !why;
      el.setAttribute("aria-invalid", String(Boolean(why)));
      ok = ok && !why;
    }
    return ok;
  }

  function options() {
    const kernels = [...controls.querySelectorAll('input[name="kernel"]:checked:not(:disabled)')].map((c) => c.value);
    return {
      ...modelQuery(),
      kernels: kernels.join(","),
      mode: controls.querySelector('input[name="mode"]:checked').value,
      stride: $("#stride", controls).value,
      pad: $("#pad-photo", controls).value,
      bias: $("#bias", controls).checked,
      relu: $("#relu", controls).checked,
      max_side: 256,
    };
  }

  /** Said once for the response: which maps lost their last partial window to the floor. */
  function floorNote(res, ih, iw) {
    const inexact = res.maps.filter((m) => !m.exact);
    if (!inexact.length) return "";
    const learned = inexact.filter((m) => m.name.startsWith("learned_")).length;
    const names = inexact.filter((m) => !m.name.startsWith("learned_")).map((m) => m.name.replace("_", " "));
    const all = res.maps.filter((m) => m.name.startsWith("learned_")).length;
    if (learned) names.push(learned === all ? `the ${all} learned filters` : `${learned} learned filters`);
    const which = inexact.length === res.maps.length ? "every kernel" : names.join(", ");
    return `Floor taken for ${which}: stride ${res.stride} does not divide H + 2P − FH (or W + 2P − FW) of the ${ih}×${iw} input, so the last partial window is dropped.`;
  }

  function figureFor(m) {
    const [oh, ow] = m.shape;
    const title = m.name.startsWith("learned_") ? `filter ${m.name.slice(8)}` : m.name.replace("_", " ");

    return h(
      "figure",
      { class: "response" },
      h("img", { src: m.png, alt: `Response to ${title}, ${oh} by ${ow}`, width: ow, height: oh }),
      h(
        "figcaption",
        {},
        h("b", { text: title }),
        h("span", { class: "muted", text: ` ${oh}×${ow}` }),
        h("br"),
        h("span", { class: "muted small range", text: `${fmt(m.range[0], 2)} … ${fmt(m.range[1], 2)}` }),
      ),
    );
  }

  const runner = latestOnly(({ f, opts, fields }) => postFile("/api/convolve", f, opts, { fields }), {
    onBusy: (b) => {
      root.dataset.busy = String(b);
      status.textContent = b ? "Convolving…" : status.textContent;
    },
    onResult: (res) => {
      showError(error, null);
      out.classList.remove("stale");
      preview.src = res.input_png;
      const [c, ih, iw] = res.input_shape;
      shape.textContent = `as convolved: ${c} channel${c > 1 ? "s" : ""}, ${ih}×${iw}${c > 1 ? " (shown: their mean)" : " (gray)"}`;
      const classic = res.maps.filter((m) => !m.name.startsWith("learned_"));
      const learned = res.maps.filter((m) => m.name.startsWith("learned_"));
      const groups = [];
      const heading = classic.some((m) => m.name === "custom") ? "Classic and custom kernels" : "Classic kernels";
      if (classic.length) groups.push(h("h3", { text: heading }), h("div", { class: "response-grid" }, classic.map(figureFor)));
      if (learned.length) groups.push(h("h3", { text: `The ${learned.length} learned filters` }), h("div", { class: "response-grid learned" }, learned.map(figureFor)));
      out.replaceChildren(...groups);
      status.textContent = `${res.maps.length} response maps, stride ${res.stride}, pad ${res.pad}: ${res.macs.toLocaleString("en")} multiply-adds.`;
      floor.textContent = floorNote(res, ih, iw);
      // on a phone the responses are screens below the controls: bring the change into view
      const box = card.getBoundingClientRect();
      if (reveal && narrow.matches && (box.top > innerHeight * 0.6 || box.bottom < 80)) card.scrollIntoView({ block: "start" });
      reveal = false;
    },
    onError: (err) => {
      showError(error, err);
      status.textContent = floor.textContent = "";
    },
  });

  const run = () => {
    if (!file) return;
    if (!numbersOk()) {
      runSoon.cancel();
      out.classList.add("stale");
      status.textContent = "Fix the stride or pad to see the responses again.";
      floor.textContent = "";
      return;
    }
    const opts = options();
    const fields = {};
    const text = custom.value.trim();
    if (text) {
      try {
        JSON.parse(text); // the server checks the shape; here only that it is JSON at all
      } catch {
        showError(error, new Error("The custom kernel is not valid JSON yet, e.g. [[1, 0, -1], [2, 0, -2], [1, 0, -1]]."));
        return;
      }
      fields.kernel = text;
    }
    if (!opts.kernels && !text) {
      showError(error, new Error("Tick at least one kernel, or write a custom one."));
      return;
    }
    runner.schedule({ f: file, opts, fields });
  };
  const runSoon = debounce(run, 200);

  function use(f) {
    if (!f) return;
    if (f.type && !f.type.startsWith("image/")) {
      showError(error, new Error(`${f.name} is not an image (${f.type}); choose a PNG, JPEG, GIF, BMP or WebP file.`));
      return;
    }
    file = f;
    if (original.src) URL.revokeObjectURL(original.src);
    original.src = URL.createObjectURL(f);
    digitBtn.disabled = false;
    root.classList.add("has-photo");
    reveal = true;
    run();
  }

  input.addEventListener("change", () => use(input.files[0]));
  ["dragenter", "dragover"].forEach((t) =>
    drop.addEventListener(t, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    }),
  );
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    use(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    const item = [...(e.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
    if (item) use(item);
  });
  $("#sample-photo", root).addEventListener("click", async () => use(await samplePicture()));
  controls.addEventListener("change", (e) => {
    reveal = e.target !== custom; // not while typing a kernel: the page would jump away
    runSoon();
  });
  controls.addEventListener("input", (e) => {
    if (e.target.type === "number" && file) numbersOk(); // the message at once, the request later
    if (e.target.type === "number" || e.target === custom) runSoon();
  });
  digitBtn.addEventListener("click", () => file && onDigit(file));

  // The classic kernels as the server lists them (the ones ticked by default stay ticked).
  const kernelSet = $('input[name="kernel"][value="learned"]', controls).closest("fieldset");
  getOnce("/api/kernels").then((list) => {
    const ticked = new Set([...kernelSet.querySelectorAll('input[name="kernel"]:checked')].map((c) => c.value));
    kernelSet.querySelectorAll('input[name="kernel"]:not([value="learned"])').forEach((c) => c.closest("label").remove());
    kernelSet.append(...list.map((k) => h("label", { title: k.title }, h("input", { type: "checkbox", name: "kernel", value: k.name, checked: ticked.has(k.name) }), ` ${k.name.replace("_", " ")}`)));
  }, () => {});

  // The learned filters are the chosen model's first conv layer; a model without one has none.
  const learnedBox = $('input[name="kernel"][value="learned"]', controls);
  subscribe((m) => {
    const conv = m.layers.find((l) => l.kind === "conv");
    learnedBox.disabled = !conv;
    $("#learned-kernels", controls).textContent = conv
      ? `learned filters (${conv.name} of ${m.id}: ${conv.filters} of ${conv.size.join("×")})`
      : `learned filters (${m.id} has none)`;
    if (file) runSoon();
  });
}
