// Output-size playground: OH = (H + 2P - FH) / S + 1 worked out live (mirrored here, checked
// against GET /api/conv-output-size), with a picture of the padded input and the windows.

import { getJSON, latestOnly } from "./api.js";
import { outputLength } from "./convmath.js";
import { $, debounce, h, hidpi, showError } from "./dom.js";
import { subscribe } from "./model.js";

// the book's examples; the chosen model's own conv and pool layers are added before them
const PRESETS = [
  ["Book: 4×4, 3×3, pad 1", { H: 4, W: 4, FH: 3, FW: 3, P: 1, S: 1 }],
  ["Book: 7×7, 3×3, stride 2", { H: 7, W: 7, FH: 3, FW: 3, P: 0, S: 2 }],
  ["Not an integer", { H: 28, W: 28, FH: 5, FW: 5, P: 1, S: 2 }],
];


export function createPlayground(root) {
  const form = $("#size-form", root);
  const fields = ["H", "W", "FH", "FW", "P", "S"].map((k) => $(`#ps-${k}`, root));
  const work = $("#size-work", root);
  const server = $("#size-server", root);
  const error = $("#size-error", root);
  const canvas = $("#size-canvas", root);
  const slider = $("#size-window", root);
  const sliderLabel = $("#size-window-label", root);
  const note = $("#size-picture-note", root);
  const presets = $("#size-presets", root);
  const play = $("#size-play", root);
  let last = null;
  let playing = null; // interval id while the window slides on its own
  let asked = 0; // the question the API's answer must be for; older answers are dropped

  // each field's own message, under it, read with the field (aria-describedby)
  const messages = new Map(
    fields.map((el) => {
      const msg = h("p", { class: "field-error", id: `${el.id}-error`, role: "alert", hidden: true });
      el.closest(".field").append(msg);
      el.setAttribute("aria-describedby", msg.id);
      return [el, msg];
    }),
  );

  /** Why a field's value cannot be used (short: it sits under a narrow field), or "". */
  function problem(el) {
    const range = `a whole number, ${el.min} to ${el.max}`;
    if (el.value.trim() === "") return `Needed: ${range}.`;
    return el.checkValidity() ? "" : `Not ${el.value}: ${range}.`;
  }

  const chip = ([label, v]) =>
    h("button", {
      type: "button",
      class: "chip",
      text: label,
      onclick: () => {
        fields.forEach((el) => (el.value = v[el.id.slice(3)]));
        update();
      },
    });
  // every conv and pool layer of the chosen model, with the input it really gets
  subscribe((m) => {
    const own = m.layers
      .map((l, n) => [l, m.layers[n - 1]])
      .filter(([l]) => l.kind === "conv" || l.kind === "pool")
      .map(([l, prev]) => [`${m.id} ${l.name}`, { H: prev.output_shape[1], W: prev.output_shape[2], FH: l.size[0], FW: l.size[1], P: l.pad || 0, S: l.stride }]);
    presets.replaceChildren(...[...own, ...PRESETS].map(chip));
  });

  const read = () => Object.fromEntries(fields.map((el) => [el.id.slice(3), Number(el.value)]));

  function line(axis, n, f, p, s, r) {
    const o = `O${axis}`;
    const expr = `(${n} + 2·${p} − ${f}) / ${s} + 1`;
    if (r.error) return h("p", { class: "formula bad" }, `${o} = ${expr}: `, h("b", { text: r.error }));
    const value = Number.isInteger(r.raw) ? String(r.raw) : r.raw.toFixed(3).replace(/0+$/, "");
    return h(
      "p",
      { class: `formula ${r.exact ? "" : "warn"}` },
      `${o} = ${expr} = ${r.span} / ${s} + 1 = ${value}`,
      r.exact ? null : h("span", { class: "flag", text: ` not an integer → floor ${r.size}` }),
      h("b", { class: "result", id: `size-O${axis}`, text: ` ${o} = ${r.size}` }),
    );
  }

  const ask = latestOnly((q) => getJSON("/api/conv-output-size", q), {
    onResult: (res, q) => {
      if (q !== asked) return; // the form changed since: this answer is stale
      showError(error, null);
      const mine = { oh: outputLength(q.H, q.FH, q.P, q.S), ow: outputLength(q.W, q.FW, q.P, q.S) };
      const same = mine.oh.size === res.OH && mine.ow.size === res.OW && mine.oh.exact === res.exact_h && mine.ow.exact === res.exact_w;
      server.replaceChildren(
        "The API (GET /api/conv-output-size) says ",
        h("b", { id: "size-server-value", text: `${res.OH} × ${res.OW}` }),
        res.exact ? ", exact" : ", not exact (floor taken)",
        h("span", { class: same ? "check ok" : "check bad", text: same ? " ✓ same as above" : " ✗ differs from the page's formula" }),
      );
    },
    onError: (err, q) => {
      if (q !== asked) return;
      server.textContent = "";
      showError(error, err);
    },
  });
  const askSoon = debounce((q) => ask.schedule(q), 150);

  /** Nothing derived from the form stays on screen: formula, API verdict, picture, slider. */
  function clearDerived() {
    stop();
    askSoon.cancel();
    asked = null;
    last = null;
    work.replaceChildren();
    server.textContent = "";
    showError(error, null);
    canvas.hidden = true;
    note.textContent = "";
    sliderLabel.textContent = "";
    slider.disabled = play.disabled = true;
    delete root.dataset.exact;
  }

  function draw() {
    const v = read();
    const { oh, ow } = last;
    const ph = v.H + 2 * v.P;
    const pw = v.W + 2 * v.P;
    const box = Math.min(canvas.parentElement.clientWidth, 420);
    const cell = Math.min(40, box / Math.max(ph, pw));
    const n = oh.size * ow.size;
    if (cell < 2) {
      canvas.hidden = true;
      slider.disabled = play.disabled = true;
      stop();
      sliderLabel.textContent = "";
      note.textContent = `A ${ph}×${pw} padded input (${n.toLocaleString("en")} windows) is too large to draw here.`;
      return;
    }
    canvas.hidden = false;
    slider.disabled = play.disabled = false;
    const ctx = hidpi(canvas, pw * cell, ph * cell);
    slider.max = String(n - 1);
    if (Number(slider.value) > n - 1) slider.value = "0";
    const idx = Number(slider.value);
    const wi = Math.floor(idx / ow.size);
    const wj = idx % ow.size;
    // padding (hatched gray) and the input (white)
    ctx.fillStyle = "#d9dde3";
    ctx.fillRect(0, 0, pw * cell, ph * cell);
    ctx.fillStyle = "#fff";
    ctx.fillRect(v.P * cell, v.P * cell, v.W * cell, v.H * cell);
    // cells that no window reaches when the floor drops the last partial window
    const usedH = (oh.size - 1) * v.S + v.FH;
    const usedW = (ow.size - 1) * v.S + v.FW;
    ctx.fillStyle = "rgba(213, 94, 0, 0.28)";
    if (usedH < ph) ctx.fillRect(0, usedH * cell, pw * cell, (ph - usedH) * cell);
    if (usedW < pw) ctx.fillRect(usedW * cell, 0, (pw - usedW) * cell, usedH * cell);
    if (cell >= 5) {
      ctx.strokeStyle = "rgba(0,0,0,0.12)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let y = 0; y <= ph; y++) {
        ctx.moveTo(0, y * cell + 0.5);
        ctx.lineTo(pw * cell, y * cell + 0.5);
      }
      for (let x = 0; x <= pw; x++) {
        ctx.moveTo(x * cell + 0.5, 0);
        ctx.lineTo(x * cell + 0.5, ph * cell);
      }
      ctx.stroke();
    }
    ctx.strokeStyle = "rgba(0,0,0,0.3)";
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, 0.5, pw * cell - 1, ph * cell - 1);
    // every window's centre as a dot, the chosen window outlined
    ctx.fillStyle = "rgba(0, 90, 181, 0.55)";
    const r = Math.max(1, Math.min(3, cell / 5));
    for (let a = 0; a < oh.size; a++)
      for (let b = 0; b < ow.size; b++) {
        ctx.beginPath();
        ctx.arc((b * v.S + v.FW / 2) * cell, (a * v.S + v.FH / 2) * cell, r, 0, Math.PI * 2);
        ctx.fill();
      }
    ctx.strokeStyle = "#005ab5";
    ctx.lineWidth = Math.max(2, cell / 6);
    ctx.fillStyle = "rgba(0, 90, 181, 0.15)";
    ctx.fillRect(wj * v.S * cell, wi * v.S * cell, v.FW * cell, v.FH * cell);
    ctx.strokeRect(wj * v.S * cell + 1, wi * v.S * cell + 1, v.FW * cell - 2, v.FH * cell - 2);
    sliderLabel.textContent = `window ${idx + 1} of ${n}: output (${wi}, ${wj}) reads rows ${wi * v.S}–${wi * v.S + v.FH - 1}, columns ${wj * v.S}–${wj * v.S + v.FW - 1} of the padded input`;
    const dropped = usedH < ph || usedW < pw;
    note.textContent = `${ph}×${pw} padded input: white = the input, gray = padding of ${v.P}${dropped ? ", orange = cells no window reaches (dropped by the floor)" : ""}. Dots: the ${n} window centres.`;
    canvas.setAttribute("aria-label", `Padded input ${ph} by ${pw} with ${n} window positions; ${sliderLabel.textContent}`);
  }

  function update() {
    let bad = null;
    for (const el of fields) {
      const why = problem(el);
      messages.get(el).textContent = why;
      messages.get(el).hidden = !why;
      el.setAttribute("aria-invalid", String(Boolean(why)));
      bad = bad || (why && el);
    }
    clearDerived();
    if (bad) return; // the message is at the field; nothing is sent
    const v = read();
    const oh = outputLength(v.H, v.FH, v.P, v.S);
    const ow = outputLength(v.W, v.FW, v.P, v.S);
    work.replaceChildren(line("H", v.H, v.FH, v.P, v.S, oh), line("W", v.W, v.FW, v.P, v.S, ow));
    if (oh.error || ow.error) return; // the formula line says why; no picture, no question
    root.dataset.exact = String(oh.exact && ow.exact);
    last = { oh, ow };
    draw();
    server.textContent = "Asking the API…";
    asked = v;
    askSoon(v);
  }

  form.addEventListener("input", update);
  form.addEventListener("submit", (e) => e.preventDefault());
  slider.addEventListener("input", () => last && draw());
  function stop() {
    clearInterval(playing);
    playing = null;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  }
  play.addEventListener("click", () => {
    if (playing) return stop();
    if (!last) return;
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    const n = last.oh.size * last.ow.size;
    const delay = Math.max(30, Math.min(400, 6000 / n));
    playing = setInterval(() => {
      if (!last) return stop();
      slider.value = String((Number(slider.value) + 1) % (last.oh.size * last.ow.size));
      draw();
    }, delay);
  });
  new ResizeObserver(() => last && draw()).observe(canvas.parentElement);
  update();
}
