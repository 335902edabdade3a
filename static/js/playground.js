// Output-size playground: the formula in use worked out live (convmath.js, checked against
// GET /api/conv-output-size), with a picture. Forward: OH = floor((H + 2P - D(FH - 1) - 1) / S)
// + 1 and the padded input with its windows (taps D apart). Transposed: OH = (H - 1)S - 2P +
// D(FH - 1) + output_padding + 1 and the input's pixels scattered S apart onto the output.

import { getJSON, latestOnly } from "./api.js";
import { outputLength, transposedLength } from "./convmath.js";
import { $, debounce, h, hidpi, showError } from "./dom.js";
import { subscribe } from "./model.js";

const PLAIN = { D: 1, transposed: false, op: 0 };
// the book's examples and the variants; the chosen model's own conv and pool layers come first
const PRESETS = [
  ["Book: 4×4, 3×3, pad 1", { H: 4, W: 4, FH: 3, FW: 3, P: 1, S: 1 }],
  ["Book: 7×7, 3×3, stride 2", { H: 7, W: 7, FH: 3, FW: 3, P: 0, S: 2 }],
  ["Not an integer", { H: 28, W: 28, FH: 5, FW: 5, P: 1, S: 2 }],
  ["Dilation 2: 3×3 covers 5×5", { H: 28, W: 28, FH: 3, FW: 3, P: 0, S: 1, D: 2 }],
  ["Transposed: 4×4 → 8×8", { H: 4, W: 4, FH: 3, FW: 3, P: 1, S: 2, transposed: true, op: 1 }],
];

const RULE = {
  forward: "Formula in use (forward): OH = ⌊(H + 2P − D·(FH − 1) − 1) / S⌋ + 1, and the same for OW with W and FW. D·(FH − 1) + 1 is the span the filter covers; with D = 1 it is FH, the chapter's (H + 2P − FH) / S + 1.",
  transposed: "Formula in use (transposed): OH = (H − 1)·S − 2P + D·(FH − 1) + op + 1, and the same for OW. Here H × W is the transposed convolution's input (a forward's output) and op is output_padding, which must be below S or below D (PyTorch's rule). No division: always a whole number.",
};

/** Rows (or columns) a window reads: first–last, or the taps D apart. */
function taps(start, f, d, what) {
  const last = start + d * (f - 1);
  if (d === 1) return `${what} ${start}–${last}`;
  if (f <= 5) return `${what} ${Array.from({ length: f }, (_, a) => start + a * d).join(", ")}`;
  return `${what} ${start}, ${start + d}, …, ${last} (${f} ${what}, ${d} apart)`;
}

export function createPlayground(root) {
  const form = $("#size-form", root);
  const fields = ["H", "W", "FH", "FW", "P", "S", "D", "op"].map((k) => $(`#ps-${k}`, root));
  const byKey = Object.fromEntries(fields.map((el) => [el.id.slice(3), el]));
  const transposed = $("#ps-transposed", root);
  const rule = $("#size-rule", root);
  const work = $("#size-work", root);
  const server = $("#size-server", root);
  const error = $("#size-error", root);
  const canvas = $("#size-canvas", root);
  const slider = $("#size-window", root);
  const sliderTitle = $("#size-window-title", root);
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

  /** Why a field's value cannot be used on its own (short: it sits under a narrow field), or "". */
  function problem(el) {
    if (el.disabled) return "";
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
        const all = { ...PLAIN, ...v };
        fields.forEach((el) => (el.value = all[el.id.slice(3)]));
        transposed.checked = all.transposed;
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

  const read = () => ({ ...Object.fromEntries(fields.map((el) => [el.id.slice(3), Number(el.value)])), transposed: transposed.checked });

  /** Both axes by the formula in use: { oh, ow } from convmath.js. */
  function lengths(v) {
    if (v.transposed) return { oh: transposedLength(v.H, v.FH, v.P, v.S, v.D, v.op), ow: transposedLength(v.W, v.FW, v.P, v.S, v.D, v.op) };
    return { oh: outputLength(v.H, v.FH, v.P, v.S, v.D), ow: outputLength(v.W, v.FW, v.P, v.S, v.D) };
  }

  /** The field an impossible combination is shown at, and the message. */
  function combinationProblem(v, { oh, ow }) {
    if (v.transposed) {
      const r = oh.error ? oh : ow;
      if (!r.error) return null;
      return { el: byKey[r.field === "op" ? "op" : "P"], why: `Not ${r.field === "op" ? v.op : v.P}: ${r.error}.` };
    }
    if (oh.error) return { el: byKey.FH, why: `Not ${v.FH}: ${oh.error}.` };
    if (ow.error) return { el: byKey.FW, why: `Not ${v.FW}: ${ow.error}.` };
    return null;
  }

  function line(axis, n, f, v, r) {
    const o = `O${axis}`;
    const result = h("b", { class: "result", id: `size-O${axis}`, text: ` ${o} = ${r.size}` });
    if (v.transposed) {
      return h("p", { class: "formula" }, `${o} = (${n} − 1)·${v.S} − 2·${v.P} + ${v.D}·(${f} − 1) + ${v.op} + 1 = ${r.size}`, result);
    }
    const expr = `(${n} + 2·${v.P} − ${v.D}·(${f} − 1) − 1) / ${v.S} + 1`;
    const value = Number.isInteger(r.raw) ? String(r.raw) : r.raw.toFixed(3).replace(/0+$/, "");
    return h(
      "p",
      { class: `formula ${r.exact ? "" : "warn"}` },
      `${o} = ${expr} = ${r.span} / ${v.S} + 1 = ${value}`,
      r.exact ? null : h("span", { class: "flag", text: ` not an integer → floor ${r.size}` }),
      result,
    );
  }

  const ask = latestOnly((q) => getJSON("/api/conv-output-size", q), {
    onResult: (res, q) => {
      if (q !== asked) return; // the form changed since: this answer is stale
      showError(error, null);
      const mine = lengths({ ...q, op: q.output_padding || 0 });
      const same = mine.oh.size === res.OH && mine.ow.size === res.OW && mine.oh.exact === res.exact_h && mine.ow.exact === res.exact_w;
      server.replaceChildren(
        "The API (GET /api/conv-output-size) says ",
        h("b", { id: "size-server-value", text: `${res.OH} × ${res.OW}` }),
        q.transposed ? " for the transposed convolution" : res.exact ? ", exact" : ", not exact (floor taken)",
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

  /** The frame the picture draws, in cells: the padded input, or the uncropped transposed output. */
  function frame(v, { oh, ow }) {
    if (!v.transposed) return { fh: v.H + 2 * v.P, fw: v.W + 2 * v.P, n: oh.size * ow.size };
    const full = (n, f) => (n - 1) * v.S + v.D * (f - 1) + 1;
    return { fh: full(v.H, v.FH) + Math.max(0, v.op - v.P), fw: full(v.W, v.FW) + Math.max(0, v.op - v.P), n: v.H * v.W };
  }

  function grid(ctx, ph, pw, cell) {
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
  }

  /** The taps of one window (or one input pixel's footprint): filled cells D apart, box outlined. */
  function footprint(ctx, top, left, v, cell) {
    const [ch, cw] = [v.D * (v.FH - 1) + 1, v.D * (v.FW - 1) + 1];
    ctx.fillStyle = "rgba(0, 90, 181, 0.32)";
    for (let a = 0; a < v.FH; a++) for (let b = 0; b < v.FW; b++) ctx.fillRect((left + b * v.D) * cell, (top + a * v.D) * cell, cell, cell);
    ctx.strokeStyle = "#005ab5";
    ctx.lineWidth = Math.max(2, cell / 6);
    ctx.strokeRect(left * cell + 1, top * cell + 1, cw * cell - 2, ch * cell - 2);
  }

  function dots(ctx, rows, cols, at, cell) {
    ctx.fillStyle = "rgba(0, 90, 181, 0.55)";
    const r = Math.max(1, Math.min(3, cell / 5));
    for (let a = 0; a < rows; a++)
      for (let b = 0; b < cols; b++) {
        const [y, x] = at(a, b);
        ctx.beginPath();
        ctx.arc(x * cell, y * cell, r, 0, Math.PI * 2);
        ctx.fill();
      }
  }

  function draw() {
    const { v, oh, ow } = last;
    const { fh: ph, fw: pw, n } = frame(v, last);
    const box = Math.min(canvas.parentElement.clientWidth, 420);
    const cell = Math.min(40, box / Math.max(ph, pw));
    if (cell < 2) {
      canvas.hidden = true;
      slider.disabled = play.disabled = true;
      stop();
      sliderLabel.textContent = "";
      const what = v.transposed ? `an uncropped ${ph}×${pw} output (${n.toLocaleString("en")} input pixels)` : `a ${ph}×${pw} padded input (${n.toLocaleString("en")} windows)`;
      note.textContent = `The picture of ${what} is too large to draw here.`;
      return;
    }
    canvas.hidden = false;
    slider.disabled = play.disabled = false;
    const ctx = hidpi(canvas, pw * cell, ph * cell);
    slider.max = String(n - 1);
    if (Number(slider.value) > n - 1) slider.value = "0";
    const idx = Number(slider.value);
    if (v.transposed) drawTransposed(ctx, v, oh, ow, ph, pw, cell, idx, n);
    else drawForward(ctx, v, oh, ow, ph, pw, cell, idx, n);
    canvas.setAttribute("aria-label", `${note.textContent} ${sliderLabel.textContent}`);
  }

  function drawForward(ctx, v, oh, ow, ph, pw, cell, idx, n) {
    const wi = Math.floor(idx / ow.size);
    const wj = idx % ow.size;
    // padding (gray) and the input (white)
    ctx.fillStyle = "#d9dde3";
    ctx.fillRect(0, 0, pw * cell, ph * cell);
    ctx.fillStyle = "#fff";
    ctx.fillRect(v.P * cell, v.P * cell, v.W * cell, v.H * cell);
    // cells that no window reaches when the floor drops the last partial window
    const usedH = (oh.size - 1) * v.S + oh.covered;
    const usedW = (ow.size - 1) * v.S + ow.covered;
    ctx.fillStyle = "rgba(213, 94, 0, 0.28)";
    if (usedH < ph) ctx.fillRect(0, usedH * cell, pw * cell, (ph - usedH) * cell);
    if (usedW < pw) ctx.fillRect(usedW * cell, 0, (pw - usedW) * cell, usedH * cell);
    grid(ctx, ph, pw, cell);
    // every window's centre as a dot, the chosen window's taps filled and its span outlined
    dots(ctx, oh.size, ow.size, (a, b) => [a * v.S + oh.covered / 2, b * v.S + ow.covered / 2], cell);
    footprint(ctx, wi * v.S, wj * v.S, v, cell);
    sliderLabel.textContent = `window ${idx + 1} of ${n}: output (${wi}, ${wj}) reads ${taps(wi * v.S, v.FH, v.D, "rows")}, ${taps(wj * v.S, v.FW, v.D, "columns")} of the padded input`;
    const dropped = usedH < ph || usedW < pw;
    const spread = v.D > 1 ? ` Blue: the chosen window's ${v.FH}×${v.FW} taps, ${v.D} apart, spanning ${oh.covered}×${ow.covered}.` : "";
    note.textContent = `${ph}×${pw} padded input: white = the input, gray = padding of ${v.P}${dropped ? ", orange = cells no window reaches (dropped by the floor)" : ""}. Dots: the ${n} window centres.${spread}`;
  }

  function drawTransposed(ctx, v, oh, ow, ph, pw, cell, idx, n) {
    const i = Math.floor(idx / v.W);
    const j = idx % v.W;
    // the uncropped frame (gray: cut away by P), the output kept (white), output_padding (orange)
    ctx.fillStyle = "#d9dde3";
    ctx.fillRect(0, 0, pw * cell, ph * cell);
    ctx.fillStyle = "#fff";
    ctx.fillRect(v.P * cell, v.P * cell, ow.size * cell, oh.size * cell);
    if (v.op > 0) {
      ctx.fillStyle = "rgba(213, 94, 0, 0.28)";
      ctx.fillRect(v.P * cell, (v.P + oh.size - v.op) * cell, ow.size * cell, v.op * cell);
      ctx.fillRect((v.P + ow.size - v.op) * cell, v.P * cell, v.op * cell, (oh.size - v.op) * cell);
    }
    grid(ctx, ph, pw, cell);
    // where each input pixel lands: S apart; the chosen one's kernel taps, D apart, from there
    dots(ctx, v.H, v.W, (a, b) => [a * v.S + 0.5, b * v.S + 0.5], cell);
    footprint(ctx, i * v.S, j * v.S, v, cell);
    sliderLabel.textContent = `input pixel ${idx + 1} of ${n}: (${i}, ${j}) lands at row ${i * v.S}, column ${j * v.S} of the uncropped frame and adds its value times the kernel onto ${taps(i * v.S, v.FH, v.D, "rows")}, ${taps(j * v.S, v.FW, v.D, "columns")} (output row = frame row − ${v.P})`;
    const padded = v.op > 0 ? `, orange = the ${v.op} output_padding row${v.op > 1 ? "s" : ""} and column${v.op > 1 ? "s" : ""} added at the bottom and right` : "";
    note.textContent = `Transposed: the ${v.H}×${v.W} input's pixels (dots) placed S = ${v.S} apart on a ${ph}×${pw} frame, each spreading the ${v.FH}×${v.FW} kernel${v.D > 1 ? ` (taps ${v.D} apart)` : ""} from its dot; overlaps add. White = the ${oh.size}×${ow.size} output, gray = the border of P = ${v.P} cut away${padded}.`;
  }

  function update() {
    byKey.op.disabled = !transposed.checked;
    rule.textContent = RULE[transposed.checked ? "transposed" : "forward"];
    sliderTitle.textContent = transposed.checked ? "Input pixel" : "Window position";
    let bad = null;
    const say = (el, why) => {
      messages.get(el).textContent = why;
      messages.get(el).hidden = !why;
      el.setAttribute("aria-invalid", String(Boolean(why)));
    };
    for (const el of fields) {
      const why = problem(el);
      say(el, why);
      bad = bad || (why && el);
    }
    clearDerived();
    if (bad) return; // the message is at the field; nothing is sent
    const v = read();
    const r = lengths(v);
    const clash = combinationProblem(v, r);
    if (clash) return say(clash.el, clash.why); // at the field too; nothing derived, nothing sent
    work.replaceChildren(line("H", v.H, v.FH, v, r.oh), line("W", v.W, v.FW, v, r.ow));
    root.dataset.exact = String(r.oh.exact && r.ow.exact);
    last = { v, ...r };
    draw();
    server.textContent = "Asking the API…";
    const q = { H: v.H, W: v.W, FH: v.FH, FW: v.FW, P: v.P, S: v.S, D: v.D, ...(v.transposed ? { transposed: true, output_padding: v.op } : {}) };
    asked = q;
    askSoon(q);
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
    const n = frame(last.v, last).n;
    const delay = Math.max(30, Math.min(400, 6000 / n));
    playing = setInterval(() => {
      if (!last) return stop();
      slider.value = String((Number(slider.value) + 1) % frame(last.v, last).n);
      draw();
    }, delay);
  });
  new ResizeObserver(() => last && draw()).observe(canvas.parentElement);
  update();
}
