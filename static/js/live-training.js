// Watch it learn: POST /api/train streams a fresh run as NDJSON (one JSON event a line); this
// view reads it with fetch + ReadableStream, grows the curves, morphs the 30 filters, keeps every
// report for the scrubber, and shows one filter's update in full. Stop aborts the fetch, which
// closes the connection, which stops the training on the server.

import { colorAt, position } from "./colors.js";
import { $, fmt, h, showError } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const TRAIN = { color: "#0072b2", dash: "" }; // the shipped model's chart colours (training.js)
const TEST = { color: "#d55e00", dash: "6 4" };
const STEP_LOSS = { color: "#9aa3b2", dash: "" };

const PRESETS = [
  {
    name: "Book init (std 0.01)",
    set: { arch: "simple", init: "0.01", optimizer: "adam", lr: 0.001, augment: true },
    note: "The book's start: weights near zero. The filters grow out of faint noise into smooth edge and blob detectors.",
  },
  {
    name: "He init",
    set: { arch: "simple-he", init: "he", optimizer: "adam", lr: 0.001, augment: true },
    note: "He-scaled noise: learns as fast, but each filter stays close to its noisy start.",
  },
  {
    name: "Learning rate too large",
    set: { arch: "simple", init: "0.01", optimizer: "adam", lr: 0.05, augment: true },
    note: "Adam at 50× the rate: the loss jumps, then sits at ln 10 ≈ 2.30, the loss of a guess. Accuracy stays at chance.",
  },
  {
    name: "No augmentation",
    set: { arch: "simple", init: "0.01", optimizer: "adam", lr: 0.001, augment: false },
    note: "The digits as they are, no shifts or turns: training accuracy runs ahead of test accuracy.",
  },
  {
    name: "Average pooling",
    set: { arch: "avgpool", init: "0.01", optimizer: "adam", lr: 0.001, augment: true },
    note: "Average instead of max pooling (Fig. 7-14 names both): compare the curves and the filters.",
  },
];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

const pct = (v) => `${(v * 100).toFixed(1)} %`;
const thousands = (n) => Number(n).toLocaleString("en").replace(/,/g, "\u2009");

/** A compact number for a small cell: 2 decimals, or 2 significant digits when tiny. */
function short(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 0.01 && a < 100) return fmt(v, 2);
  const [m, e] = v.toExponential(0).split("e");
  return `${m.replace("-", "\u2212")}e${e.replace("+", "")}`;
}

/** Read an NDJSON response body, calling onEvent for every complete line. */
async function readLines(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) onEvent(JSON.parse(line));
    }
  }
}

/** One line chart over the steps: series of [step, value] points, y from 0 to `top`. */
function chart({ width, total, top, series, yLabel, tick, now }) {
  const height = Math.round(Math.min(200, Math.max(140, width * 0.45)));
  const m = { top: 10, right: 10, bottom: 30, left: 46 };
  const X = (st) => m.left + (st / Math.max(1, total)) * (width - m.left - m.right);
  const Y = (v) => m.top + (1 - Math.min(v, top) / top) * (height - m.top - m.bottom);
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "learn-chart", role: "img" });
  const grid = s("g", { class: "grid" });
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    grid.append(s("line", { x1: m.left, x2: width - m.right, y1: Y(v), y2: Y(v) }), s("text", { x: m.left - 5, y: Y(v) + 4, "text-anchor": "end" }, tick(v)));
  }
  for (const st of [0, total]) grid.append(s("text", { x: X(st), y: height - 14, "text-anchor": st ? "end" : "start" }, thousands(st)));
  grid.append(
    s("text", { x: (m.left + width - m.right) / 2, y: height - 3, "text-anchor": "middle" }, "step"),
    s("text", { x: 10, y: m.top + 4, transform: `rotate(-90 10 ${m.top + 4})`, "text-anchor": "end" }, yLabel),
    s("line", { x1: m.left, x2: width - m.right, y1: Y(0), y2: Y(0), class: "axis" }),
    s("line", { x1: m.left, x2: m.left, y1: m.top, y2: Y(0), class: "axis" }),
  );
  svg.append(grid);
  for (const se of series) {
    if (!se.points.length) continue;
    const d = se.points.map(([st, v], i) => `${i ? "L" : "M"}${X(st).toFixed(1)},${Y(v).toFixed(1)}`).join("");
    svg.append(s("path", { d, fill: "none", stroke: se.color, "stroke-width": se.width || 2, "stroke-dasharray": se.dash, class: "series" }));
  }
  if (now != null) svg.append(s("line", { x1: X(now), x2: X(now), y1: m.top, y2: Y(0), class: "now" }));
  return svg;
}

function key(series) {
  return h(
    "ul",
    { class: "learn-key" },
    series.map((se) => h("li", {}, s("svg", { width: 22, height: 8, "aria-hidden": "true" }, s("line", { x1: 0, x2: 22, y1: 4, y2: 4, stroke: se.color, "stroke-width": 2.5, "stroke-dasharray": se.dash })), ` ${se.name}`)),
  );
}

/** A C x FH x FW array as coloured cells (first channel), on its own symmetric scale. */
function cells(title, note, w) {
  const plane = w[0];
  const limit = Math.max(1e-12, ...plane.flat().map(Math.abs));
  const range = [-limit, limit];
  const table = h(
    "table",
    { "aria-label": `${title}, ${plane.length}×${plane[0].length}` },
    h(
      "tbody",
      {},
      plane.map((row) =>
        h(
          "tr",
          {},
          row.map((v) => {
            const [r, g, b] = colorAt("diverging", position("diverging", v, range));
            const td = h("td", { title: String(v), text: short(v) });
            td.style.background = `rgb(${r}, ${g}, ${b})`;
            td.style.color = 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#111" : "#fff";
            return td;
          }),
        ),
      ),
    ),
  );
  return h("figure", {}, h("figcaption", {}, title, " ", h("span", { class: "muted", text: note })), table);
}

function createLiveTraining(root) {
  const form = $("#learn-form", root);
  const field = (name) => form.elements.namedItem(name);
  const error = $(".error", root);
  const status = $("#learn-status", root);
  const startBtn = $("#learn-start", root);
  const stopBtn = $("#learn-stop", root);
  const scrub = $("#learn-scrub", root);
  const followBtn = $("#learn-live", root);
  const tilesEl = $("#learn-filters", root);
  const mapsEl = $("#learn-maps", root);
  const probeImg = $("#learn-probe", root);
  const inspectEl = $("#learn-inspect", root);
  const replayNote = h("p", { class: "small muted", hidden: true });
  status.after(replayNote);

  let run = null; // { controller, start, ready, reports, losses: [[step, loss]], done }
  let follow = true;
  let shown = -1; // index of the report on screen

  // ---------------------------------------------------------------- presets and the form
  const presetButtons = PRESETS.map((p) =>
    h("button", { type: "button", class: "chip", "aria-pressed": "false", text: p.name, onclick: () => applyPreset(p) }),
  );
  $("#learn-presets", root).replaceChildren(...presetButtons);

  function applyPreset(p) {
    for (const [k, v] of Object.entries(p.set)) {
      const el = field(k);
      if (el.type === "checkbox") el.checked = v;
      else el.value = String(v);
    }
    presetButtons.forEach((b, i) => b.setAttribute("aria-pressed", String(PRESETS[i] === p)));
    $("#learn-preset-note", root).textContent = p.note;
  }
  form.addEventListener("input", () => presetButtons.forEach((b) => b.setAttribute("aria-pressed", "false")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    start();
  });

  // the server's data: the full set or the shipped sample, and its limits
  fetch("/api/train/status")
    .then((r) => (r.ok ? r.json() : null))
    .then((st) => {
      if (!st || !st.train_digits) return;
      const size = field("train_size");
      size.max = String(Math.min(st.train_digits, st.limits.max_train_size));
      if (Number(size.value) > Number(size.max)) size.value = size.max;
      field("steps").max = String(st.limits.max_train_steps);
      field("batch_size").max = String(st.limits.max_train_batch);
      const source = st.data.source === "mnist" ? "MNIST" : "the shipped 1000-digit sample (no MNIST directory on this server)";
      if (!run) status.textContent = `Not running. Trains on ${source}; ${st.running} of ${st.limit} training slots in use.`;
    })
    .catch(() => {});

  function body() {
    const num = (k) => Number(field(k).value);
    const arch = field("arch").value;
    return {
      arch,
      init: field("init").value.trim() || null,
      optimizer: field("optimizer").value,
      lr: num("lr"),
      batch_size: num("batch_size"),
      steps: num("steps"),
      train_size: num("train_size"),
      seed: num("seed"),
      report_every: num("report_every"),
      augment: field("augment").checked,
      inspect_filter: arch === "mlp" ? null : num("inspect_filter"),
    };
  }

  // ---------------------------------------------------------------- the filter tiles
  let tiles = [];
  let maps = [];
  function buildTiles(count) {
    tiles = Array.from({ length: count }, (_, i) => {
      const img = h("img", { alt: `filter ${i}` });
      const b = h("button", { type: "button", class: "learn-tile", "aria-pressed": String(i === Number(field("inspect_filter").value)), "aria-label": `filter ${i}: inspect it` }, img, h("span", { text: String(i) }));
      b.addEventListener("click", () => {
        field("inspect_filter").value = String(i);
        tiles.forEach((t, j) => t.button.setAttribute("aria-pressed", String(i === j)));
        if (run && !run.done && run.inspect !== i) $("#learn-inspect-rule", root).textContent = `Filter ${i} is chosen: its update comes with the next run (this one sends filter ${run.inspect}).`;
      });
      return { button: b, img };
    });
    tilesEl.replaceChildren(...tiles.map((t) => t.button));
    maps = Array.from({ length: count }, (_, i) => h("img", { alt: `filter ${i} over the digit` }));
    mapsEl.replaceChildren(...maps);
  }
  buildTiles(30);
  // the tile marked is the filter the inspect field names
  field("inspect_filter").addEventListener("input", () => {
    const k = Number(field("inspect_filter").value);
    tiles.forEach((t, j) => t.button.setAttribute("aria-pressed", String(j === k)));
  });

  // ---------------------------------------------------------------- drawing one report
  function show(index) {
    if (!run || !run.reports[index]) return;
    shown = index;
    const r = run.reports[index];
    scrub.value = String(index);
    $("#learn-at", root).textContent = `at step ${thousands(r.step)} of ${thousands(run.ready.total_steps)} (epoch ${r.epoch.toFixed(2)})`;
    if (r.filters) {
      if (tiles.length !== r.filters.filters.length) buildTiles(r.filters.filters.length);
      r.filters.filters.forEach((f, i) => {
        tiles[i].img.src = f.channels[0];
        tiles[i].img.alt = `filter ${i} at step ${r.step}`;
      });
    }
    if (r.probe) r.probe.maps.forEach((png, i) => maps[i] && (maps[i].src = png));
    showInspect(r);
    drawCharts();
  }

  function showInspect(r) {
    const rule = $("#learn-inspect-rule", root);
    const ins = r.inspect;
    $("#learn-inspect-at", root).textContent = ins ? `filter ${ins.filter}, step ${thousands(ins.step)}` : "";
    if (!ins) {
      inspectEl.replaceChildren();
      if (run && run.ready && !run.ready.layer) rule.textContent = "This network has no conv layer, so no filters to inspect.";
      else if (r.step === 0) rule.textContent = "Step 0 is the random start: no update yet. Move the scrubber on.";
      return;
    }
    const words = {
      adam: "new W = old W − lr_t · m / (√v + ε), with m and v the running means of dW and dW²",
      momentum: "v = 0.9 v − lr · dW; new W = old W + v",
      adagrad: "h += dW²; new W = old W − lr · dW / (√h + ε)",
      sgd: "new W = old W − lr · dW",
    };
    rule.textContent = `${ins.optimizer}: ${words[ins.optimizer] || ""}. Learning rate this step ${ins.lr.toPrecision(3)}. Each grid has its own scale.`;
    inspectEl.replaceChildren(
      cells("old W", "before the step", ins.W_before),
      cells("dW", "the batch's gradient", ins.dW),
      ...Object.entries(ins.state).map(([k, w]) => cells(k, { m: "Adam's mean of dW", v: "Adam's mean of dW²", h: "sum of dW²" }[k] || "", w)),
      cells("new W", "after the step", ins.W_after),
    );
  }

  function drawCharts() {
    if (!run || !run.ready) return;
    const total = run.ready.total_steps;
    const reports = run.reports;
    const now = shown >= 0 && reports[shown] ? reports[shown].step : null;
    const losses = run.losses;
    const first = reports.length && reports[0].test_loss !== null ? reports[0].test_loss : 2.5;
    const peak = Math.max(first, ...reports.map((r) => r.test_loss ?? 0));
    const top = Math.min(10, Math.ceil(Math.max(peak, first) * 1.1 * 2) / 2);
    const lossSeries = [
      { name: "batch loss, every step", points: losses, ...STEP_LOSS, width: 1.2 },
      { name: `test loss (${run.ready.eval_test} digits)`, points: reports.filter((r) => r.test_loss !== null).map((r) => [r.step, r.test_loss]), ...TEST },
    ];
    const accSeries = [
      { name: `train accuracy (${run.ready.eval_train})`, points: reports.map((r) => [r.step, r.train_acc]), ...TRAIN },
      { name: `test accuracy (${run.ready.eval_test})`, points: reports.map((r) => [r.step, r.test_acc]), ...TEST },
    ];
    for (const [el, series, yLabel, t, tick] of [
      [$("#learn-loss", root), lossSeries, "loss", top, (v) => v.toFixed(1)],
      [$("#learn-acc", root), accSeries, "accuracy", 1, (v) => `${Math.round(v * 100)} %`],
    ]) {
      const width = Math.max(240, Math.floor(el.clientWidth));
      const svg = chart({ width, total, top: t, series, yLabel, tick, now });
      const last = reports[reports.length - 1];
      const said = yLabel === "loss" ? `test loss ${last && last.test_loss !== null ? last.test_loss.toFixed(3) : "–"}` : `test accuracy ${last ? pct(last.test_acc) : "–"}`;
      svg.setAttribute("aria-label", `${yLabel} over ${thousands(last ? last.step : 0)} of ${thousands(total)} steps; now ${said}`);
      el.replaceChildren(svg, key(series));
    }
  }
  new ResizeObserver(() => drawCharts()).observe($("#learn-charts", root));

  scrub.addEventListener("input", () => {
    follow = Number(scrub.value) === run.reports.length - 1;
    followBtn.setAttribute("aria-pressed", String(follow));
    show(Number(scrub.value));
  });
  followBtn.addEventListener("click", () => {
    follow = true;
    followBtn.setAttribute("aria-pressed", "true");
    if (run) show(run.reports.length - 1);
  });

  // ---------------------------------------------------------------- the run
  function setRunning(on) {
    root.dataset.state = on ? "running" : "idle";
    startBtn.disabled = on;
    stopBtn.disabled = !on;
  }

  function describe(prefix = "") {
    const r = run.reports[run.reports.length - 1];
    const total = run.ready ? run.ready.total_steps : 0;
    if (!r) return;
    const rate = r.seconds > 0 && r.step > 0 ? ` · ${(r.step / r.seconds).toFixed(0)} steps/s` : "";
    const loss = r.loss != null ? ` · loss ${r.loss.toFixed(3)}` : "";
    status.textContent = `${prefix}step ${thousands(r.step)} / ${thousands(total)} · epoch ${r.epoch.toFixed(2)}${rate}${loss} · test accuracy ${pct(r.test_acc)}`;
  }

  function onEvent(ev) {
    if (ev.type === "start") {
      const source = ev.data.source === "mnist" ? "MNIST" : "the shipped sample";
      status.textContent = `Loading ${source}…`;
    } else if (ev.type === "ready") {
      run.ready = ev;
      probeImg.src = ev.probe.png;
      $("#learn-probe-label", root).textContent = `(test digit ${ev.probe.index}, a ${ev.probe.label})`;
      replayNote.replaceChildren("Replay it exactly from a shell: ", h("code", { text: ev.replay }));
      replayNote.hidden = false;
    } else if (ev.type === "report") {
      // a loss that was not a number comes as null: the curve has a gap there
      ev.losses.forEach((v, i) => v !== null && run.losses.push([ev.step - ev.losses.length + 1 + i, v]));
      if (ev.filters) for (const f of ev.filters.filters) delete f.weights; // the PNG is enough
      run.reports.push(ev);
      scrub.max = String(run.reports.length - 1);
      scrub.disabled = run.reports.length < 2;
      followBtn.disabled = false;
      if (follow) show(run.reports.length - 1);
      else drawCharts();
      describe();
    } else if (ev.type === "done") {
      run.done = ev;
      if (ev.diverged_at !== null) describe(`The loss stopped being a number at step ${thousands(ev.diverged_at)}: too large a learning rate. Ended at `);
      else describe(`Done in ${ev.seconds.toFixed(1)} s: `);
    } else if (ev.type === "error") {
      showError(error, new Error(ev.detail));
    }
  }

  async function start() {
    if (run && !run.done && run.controller) return;
    if (!form.reportValidity()) return;
    showError(error, null);
    const config = body();
    run = { controller: new AbortController(), ready: null, reports: [], losses: [], done: null, inspect: config.inspect_filter };
    const mine = run;
    follow = true;
    followBtn.setAttribute("aria-pressed", "true");
    shown = -1;
    scrub.max = "0";
    scrub.disabled = true;
    inspectEl.replaceChildren();
    setRunning(true);
    status.textContent = "Starting…";
    try {
      const response = await fetch("/api/train", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/x-ndjson" },
        body: JSON.stringify(config),
        signal: run.controller.signal,
      });
      if (!response.ok) {
        const detail = await response.json().then((b) => b.detail, () => null);
        const wait = response.headers.get("Retry-After");
        const text = response.status === 429 ? `Every training slot is busy (other people are training). Try again in ${wait || "a few"} s.` : detail || `the server answered ${response.status}`;
        const err = new Error(typeof detail === "string" || response.status === 429 ? text : JSON.stringify(detail));
        err.status = response.status;
        throw err;
      }
      await readLines(response, (ev) => mine === run && onEvent(ev));
      if (!run.done && mine === run) throw new Error("the stream ended before the run did");
    } catch (err) {
      if (mine !== run) return;
      if (err.name === "AbortError") describe("Stopped at ");
      else {
        showError(error, err);
        status.textContent = "Not running.";
      }
    } finally {
      if (mine === run) {
        run.controller = null;
        setRunning(false);
      }
    }
  }

  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", () => run && run.controller && run.controller.abort());
  applyPreset(PRESETS[0]);
}

const root = document.getElementById("learn");
if (root) createLiveTraining(root);
