// Inside the network: the chosen model's layers as a row of chips, the maps of one stage (any
// conv, ReLU or pool stage the model has) in a grid with its legend, an inspector that enlarges
// one map beside its filter (pick a pixel there, see what it is), the flat layers and the output.
// Every size and name comes from the model (GET /api/models) and the answer of /api/explore.

import { legend } from "./colors.js";
import { poolPixel, traceToConv } from "./convmath.js";
import { $, fmt, h, matrixTable, percent, rovingGrid } from "./dom.js";
import { subscribe } from "./model.js";

const times = (shape) => shape.join("×");
/** replaceChildren without the nulls of optional parts (the DOM would print "null"). */
const fill = (el, ...kids) => el.replaceChildren(...kids.filter(Boolean));
const KIND_WORDS = { conv: "convolution", relu: "after ReLU", pool: "after pooling" };

/** One chip per layer: what it is, its settings and the shape it makes. */
function chip(layer, prev) {
  const out = times(layer.output_shape);
  const parts = {
    input: () => [out],
    conv: () => [`${layer.filters} filters ${times(layer.size)}, stride ${layer.stride}, pad ${layer.pad} → ${out}`],
    relu: () => [],
    pool: () => [`${layer.mode} ${times(layer.size)}, stride ${layer.stride} → ${out}`],
    affine: () => [`${prev.output_shape.reduce((a, b) => a * b, 1)} → ${out}`],
    dropout: () => [`rate ${layer.rate}`],
    softmax: () => [],
  }[layer.kind];
  // a layer that makes maps names a stage of the maps card: a button that shows it
  const maps = layer.index >= 0 && layer.output_shape.length === 3;
  const name = maps ? h("button", { type: "button", class: "stage-link", dataset: { stage: layer.name }, "aria-label": `Show the ${layer.name} maps` }, h("b", { text: layer.name })) : h("b", { text: layer.name });
  return h("li", { dataset: { name: layer.name, kind: layer.kind } }, name, ...(parts ? parts() : []).map((t) => ` ${t}`));
}

/**
 * @param root     section#inside
 * @param filtersOf(layerName) promise of GET /api/filters for that conv layer of the chosen model
 * @param onSelect({index, k, i, j} | null) the conv pixel behind the chosen pixel, whenever it changes
 */
export function createMaps(root, filtersOf, onSelect) {
  const flow = $("#flow", root);
  const grid = $("#map-grid", root);
  const tabs = $("#stage-tabs", root);
  const stageTitle = $("#stage-title", root);
  const stageLegend = $("#stage-legend", root);
  const noMaps = $("#no-maps", root);
  const flat = $("#flat-layers", root);
  const inspect = {
    title: $("#inspect-title", root),
    filter: $("#inspect-filter", root),
    filterCaption: $("#inspect-filter-caption", root),
    zoom: $("#map-zoom", root),
    map: $("#inspect-map", root),
    pick: $("#map-zoom .pick", root),
    mapCaption: $("#inspect-map-caption", root),
    strip: $("#inspect-strip", root),
    table: $("#inspect-table", root),
    explain: $("#pixel-explain", root),
  };
  const hidden = {
    heading: $("#hidden-h", root),
    note: $("#hidden-note", root),
    img: $("#hidden-img", root),
    legend: $("#hidden-legend", root),
    table: $("#hidden-table", root),
    top: $("#hidden-top", root),
  };
  const logits = $("#logits", root);

  let model = null;
  let result = null;
  let at = 0; // index of the shown stage in result.stages
  let shown = 0; // map in the inspector (hover preview or selection)
  const sel = { k: 0, i: 0, j: 0, chosen: false }; // a pixel of the shown stage; chosen: the user picked it
  let bank = null; // the learned filters of the conv layer behind the shown stage

  const roving = rovingGrid(grid, ".map-tile");
  const stage = () => result && result.stages[at];
  const layerOf = (s) => model.layers.find((l) => l.index === s.layer);
  /** The conv stage at or before stage `idx`: the filters behind its maps. */
  const convBehind = (idx) => {
    for (let a = idx; a >= 0; a--) if (result.stages[a].kind === "conv") return a;
    return null;
  };
  /** The stages that show the same channel k: its conv, then the ReLU / pool up to the next conv. */
  function block(idx) {
    const start = convBehind(idx) ?? 0;
    const out = [result.stages[start]];
    for (let a = start + 1; a < result.stages.length && result.stages[a].kind !== "conv"; a++) {
      if (result.stages[a].shape[0] !== out[0].shape[0]) break;
      out.push(result.stages[a]);
    }
    return out;
  }

  subscribe((m) => {
    model = m;
    flow.replaceChildren(...m.layers.map((l, n) => chip(l, m.layers[n - 1])));
    flow.setAttribute("aria-label", `Layers of ${m.id}, input to output`);
    result = null;
    at = 0;
    sel.chosen = false;
    sel.k = shown = 0;
    tabs.replaceChildren();
    grid.replaceChildren();
  });

  flow.addEventListener("click", (e) => {
    const link = e.target.closest(".stage-link");
    const radio = link && tabs.querySelector(`input[value="${link.dataset.stage}"]`);
    if (!radio) return;
    radio.click();
    grid.closest(".card").scrollIntoView({ block: "nearest" });
  });

  // ---- the stage chooser: one radio per map stage of the model
  function renderTabs() {
    const names = result.stages.map((s) => s.name);
    if ([...tabs.querySelectorAll("input")].map((r) => r.value).join() !== names.join()) {
      tabs.replaceChildren(
        ...result.stages.map((s, n) =>
          h("label", { title: s.title }, h("input", { type: "radio", name: "stage", value: s.name, checked: n === at }), h("span", { text: s.name })),
        ),
      );
    }
    tabs.querySelectorAll("input").forEach((r, n) => (r.checked = n === at));
  }
  tabs.addEventListener("change", (e) => {
    const idx = result.stages.findIndex((s) => s.name === e.target.value);
    if (idx < 0) return;
    const [, h0, w0] = stage().shape;
    at = idx;
    const [n, h1, w1] = stage().shape;
    // keep the same channel and place, as far as this stage has them
    sel.k = shown = Math.min(sel.k, n - 1);
    sel.i = Math.min(h1 - 1, Math.floor((sel.i * h1) / h0));
    sel.j = Math.min(w1 - 1, Math.floor((sel.j * w1) / w0));
    renderGrid();
    loadBank().then(renderInspector);
    onSelect(target());
  });

  // ---- the grid of maps
  function renderGrid() {
    const s = stage();
    const [n, mh, mw] = s.shape;
    stageTitle.textContent = `${s.title} — ${n} maps of ${mh}×${mw}, values from ${fmt(s.min)} to ${fmt(s.max)}`;
    const rule =
      s.range[0] < 0
        ? `Each sign has its own end: the darkest purple is ${fmt(s.range[0], 2)}, the darkest orange ${fmt(s.range[1], 2)}.`
        : `Values ≥ 0 in the conv map's orange: only the purple (the negatives) is gone.`;
    stageLegend.replaceChildren(legend({ scale: s.scale, range: s.range, label: `${s.name} value`, rule }));
    grid.setAttribute("aria-label", `${n} feature maps of ${s.name}, ${KIND_WORDS[s.kind] || s.kind}; choose one to enlarge it`);
    grid.classList.toggle("many", n > 32);
    if (grid.children.length !== n) {
      grid.replaceChildren(
        ...s.maps.map((m) =>
          h("button", { type: "button", class: "map-tile", dataset: { k: m.index } }, h("img", { alt: "", width: mw, height: mh }), h("span", { class: "tile-num", text: String(m.index) })),
        ),
      );
    }
    s.maps.forEach((m, k) => {
      const tile = grid.children[k];
      const img = tile.querySelector("img");
      img.src = m.png;
      img.width = mw;
      img.height = mh;
      tile.setAttribute("aria-label", `Map ${k} of ${s.name}`);
      tile.setAttribute("aria-pressed", String(k === sel.k));
    });
    if (!grid.contains(document.activeElement)) roving.focusable(sel.k);
  }

  const narrow = matchMedia("(max-width: 1039px)"); // the inspector sits below the grid
  grid.addEventListener("click", (e) => {
    const tile = e.target.closest(".map-tile");
    if (!tile) return;
    choose(Number(tile.dataset.k));
    if (narrow.matches) inspect.title.closest(".inspector").scrollIntoView({ block: "nearest" });
  });
  const preview = (e) => {
    const tile = e.target.closest(".map-tile");
    if (tile && Number(tile.dataset.k) !== shown) {
      shown = Number(tile.dataset.k);
      renderInspector();
    }
  };
  grid.addEventListener("mouseover", preview);
  grid.addEventListener("focusin", preview); // keyboard focus previews; Enter or Space chooses
  const back = () => {
    if (shown !== sel.k) {
      shown = sel.k;
      renderInspector();
    }
  };
  grid.addEventListener("focusout", (e) => !grid.contains(e.relatedTarget) && back());
  grid.addEventListener("mouseleave", back);

  function choose(k) {
    sel.k = shown = k;
    if (!sel.chosen) strongestPixel();
    [...grid.children].forEach((t, idx) => t.setAttribute("aria-pressed", String(idx === k)));
    roving.focusable(k);
    renderInspector();
    onSelect(target());
  }

  /** Until the user picks a pixel, follow the strongest response of the chosen map. */
  function strongestPixel() {
    const values = stage().maps[sel.k].values;
    if (!values) return;
    let best = -Infinity;
    values.forEach((row, i) =>
      row.forEach((v, j) => {
        if (v > best) [best, sel.i, sel.j] = [v, i, j];
      }),
    );
  }

  /** The conv pixel whose sum the card below shows: this one, or the one behind it. */
  const target = () => (result && result.stages.length ? traceToConv(result.stages, model.layers, at, sel.k, sel.i, sel.j) : null);

  function loadBank() {
    const c = convBehind(at);
    const name = c === null ? null : result.stages[c].name;
    if (bank && bank.layer === name) return Promise.resolve();
    bank = null;
    if (!name) return Promise.resolve();
    return filtersOf(name).then(
      (f) => {
        bank = { layer: name, ...f.learned };
      },
      () => {},
    );
  }

  // ---- the inspector: filter beside the enlarged map; click a pixel to open its computation
  function renderInspector() {
    const s = stage();
    if (!s) return;
    const k = shown;
    const m = s.maps[k];
    const [, mh, mw] = s.shape;
    inspect.title.textContent = `Map ${k} of ${s.name}${k === sel.k ? "" : " (preview)"}`;
    inspect.map.src = m.png;
    inspect.map.width = mw;
    inspect.map.height = mh;
    inspect.map.alt = `Map ${k} of ${s.name}, ${mh} by ${mw}`;
    inspect.mapCaption.textContent = `${s.name} map ${k}: ${mh}×${mw}`;
    const f = bank && bank.filters[k];
    inspect.filter.closest("figure").hidden = !f;
    if (f) {
      const [C, fh, fw] = [f.weights.length, f.weights[0].length, f.weights[0][0].length];
      inspect.filter.src = f.channels[0];
      inspect.filter.width = fw;
      inspect.filter.height = fh;
      inspect.filter.alt = `Learned ${fh} by ${fw} filter ${k} of ${bank.layer}${C > 1 ? `, input channel 0 of ${C}` : ""}`;
      inspect.filterCaption.textContent = `${bank.layer} filter ${k}${C > 1 ? ` (channel 0 of ${C})` : ""}, bias ${fmt(f.bias)}`;
    }
    inspect.strip.replaceChildren(
      ...block(at).map((st) =>
        h(
          "figure",
          { class: st === s ? "current" : "" },
          h("img", { src: st.maps[k].png, alt: `${st.name} map ${k}`, width: st.shape[2], height: st.shape[1] }),
          h("figcaption", { text: st.name }),
        ),
      ),
    );
    placePick();
    explain();
    fillTable();
  }

  function placePick() {
    const [, mh, mw] = stage().shape;
    const show = shown === sel.k;
    inspect.pick.hidden = !show;
    if (!show) return;
    Object.assign(inspect.pick.style, {
      left: `${(sel.j / mw) * 100}%`,
      top: `${(sel.i / mh) * 100}%`,
      width: `${100 / mw}%`,
      height: `${100 / mh}%`,
    });
    inspect.zoom.setAttribute("aria-label", `Enlarged ${stage().name} map ${sel.k}. Selected pixel row ${sel.i}, column ${sel.j}. Arrow keys move it.`);
  }

  /** What the chosen pixel of the shown stage is, in words and numbers (values needed). */
  function explain() {
    const s = stage();
    const values = s && shown === sel.k && s.maps[sel.k].values;
    const prev = result.stages[at - 1];
    inspect.explain.dataset.stage = values ? s.kind : "";
    if (!values) return inspect.explain.replaceChildren();
    const { k, i, j } = sel;
    const v = values[i][j];
    const t = target();
    const below = (what) => h("p", { class: "small" }, h("a", { href: "#pixel", text: `The sum behind ${what} ↓` }));
    if (s.kind === "conv") {
      fill(inspect.explain,
        h("p", {}, `Conv pixel (${i}, ${j}) of map ${k} = Σ input window × filter ${k} + bias = `, h("b", { text: fmt(v, 4) })),
        below("it"),
      );
    } else if (s.kind === "relu" && prev && prev.maps[k].values) {
      const x = prev.maps[k].values[i][j];
      fill(inspect.explain,
        h("p", {}, `ReLU pixel (${i}, ${j}) = max(0, ${prev.kind} value) = max(0, ${fmt(x, 4)}) = `, h("b", { text: fmt(Math.max(0, x), 4) })),
        h("p", { class: "muted small", text: x > 0 ? `The ${prev.kind} value is positive: ReLU passes it through.` : `The ${prev.kind} value is not positive: ReLU outputs 0.` }),
        t ? below(`${result.stages[t.index].name} pixel (${t.i}, ${t.j})`) : null,
      );
    } else if (s.kind === "pool" && prev && prev.maps[k].values) {
      const L = layerOf(s);
      const [ph, pw] = L.size;
      const p = poolPixel(prev.maps[k].values, i, j, L.size, L.stride, L.mode);
      const avg = L.mode === "avg";
      const table = h(
        "table",
        { class: "cells pool-window" },
        h("caption", { text: `${prev.name} rows ${p.top}–${p.top + ph - 1}, columns ${p.left}–${p.left + pw - 1}` }),
        h("tbody", {}, p.window.map((row, a) => h("tr", {}, row.map((x, b) => h("td", { class: !avg && a * pw + b === p.winner ? "winner" : "", text: fmt(x, 4) }))))),
      );
      const rest = ph * pw - 1;
      fill(inspect.explain,
        h("p", {}, `Pool pixel (${i}, ${j}) = the ${avg ? "mean" : "largest"} of its ${ph}×${pw} window = `, h("b", { text: fmt(p.value, 4) })),
        table,
        h("p", {
          class: "muted small",
          text: avg
            ? `Average pooling keeps the mean of all ${ph * pw}; backprop shares the gradient equally among them.`
            : p.ties > 1
              ? `${p.ties} values tie at ${fmt(p.value, 4)}: the output is the same whichever wins; the marked one, first in reading order, is the one backprop sends the gradient to.`
              : `Max pooling keeps the largest value (marked) and drops the other ${rest}; backprop sends the gradient only to it.`,
        }),
        t ? below(`the ${avg ? "largest" : "winner"}, ${result.stages[t.index].name} pixel (${t.i}, ${t.j})`) : null,
      );
    } else {
      inspect.explain.replaceChildren(h("p", {}, `Pixel (${i}, ${j}) of ${s.name} = `, h("b", { text: fmt(v, 4) })));
    }
  }

  function fillTable() {
    inspect.table.querySelector("table")?.remove();
    const s = stage();
    const values = s && s.maps[shown].values;
    if (inspect.table.open && values) inspect.table.append(matrixTable(`Map ${shown} of ${s.name}`, values));
  }
  inspect.table.addEventListener("toggle", fillTable);

  /** A pixel was picked: explain it, and make sure the explanation is on screen. */
  function picked() {
    sel.chosen = true;
    placePick();
    explain();
    onSelect(target());
    inspect.explain.scrollIntoView({ block: "nearest" });
  }

  inspect.zoom.addEventListener("click", (e) => {
    const s = stage();
    if (!s) return;
    const r = inspect.zoom.getBoundingClientRect();
    const [, mh, mw] = s.shape;
    if (shown !== sel.k) choose(shown);
    sel.j = Math.min(mw - 1, Math.floor(((e.clientX - r.left) / r.width) * mw));
    sel.i = Math.min(mh - 1, Math.floor(((e.clientY - r.top) / r.height) * mh));
    picked();
  });
  inspect.zoom.addEventListener("keydown", (e) => {
    const s = stage();
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!s || !step) return;
    e.preventDefault();
    if (shown !== sel.k) choose(shown);
    const [, mh, mw] = s.shape;
    sel.i = Math.min(mh - 1, Math.max(0, sel.i + step[0]));
    sel.j = Math.min(mw - 1, Math.max(0, sel.j + step[1]));
    picked();
  });

  // ---- a network without maps (mlp): its flat layers instead
  function renderFlat() {
    flat.replaceChildren(
      ...result.hidden.map((l) =>
        h(
          "figure",
          { class: "flat-layer" },
          h("img", { src: l.png, alt: `${l.title}: ${l.size} values as a ${l.grid[0]} by ${l.grid[1]} grid`, width: l.grid[1], height: l.grid[0] }),
          h("figcaption", { text: `${l.name}: ${l.size} values (${l.grid[0]}×${l.grid[1]})` }),
        ),
      ),
    );
  }

  // ---- the hidden units (the last ReLU of the flat layers) and the 10 outputs
  function renderDense() {
    const layer = result.hidden.filter((l) => l.kind === "relu").at(-1) || result.hidden.at(-1);
    hidden.heading.closest(".card").hidden = !layer;
    if (layer) {
      const v = layer.values;
      const [rows, cols] = layer.grid;
      const max = Math.max(...v, 1e-6);
      hidden.heading.textContent = `${v.length} hidden units`;
      hidden.note.textContent = `${layer.title}, as a ${rows}×${cols} grid (unit = ${cols} × row + column).`;
      hidden.img.src = layer.png;
      hidden.img.width = cols;
      hidden.img.height = rows;
      const active = v.filter((x) => x > 0).length;
      hidden.img.alt = `The ${v.length} hidden activations as a ${rows} by ${cols} grid; ${active} are above zero`;
      hidden.legend.replaceChildren(legend({ scale: "sequential", range: [0, max], label: "activation" }));
      const order = v.map((x, i) => [x, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
      hidden.top.textContent = `${active} of ${v.length} units fire. Strongest: ${order.map(([x, i]) => `#${i} (${fmt(x, 2)})`).join(", ")}.`;
      $("summary", hidden.table).textContent = `The ${v.length} activations as a table`;
      hidden.table.querySelector("table")?.remove();
      if (hidden.table.open) {
        const g = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => v[r * cols + c] ?? 0));
        hidden.table.append(matrixTable(`Hidden activations, unit = ${cols} × row + column`, g));
      }
    }

    const z = result.logits;
    const lim = Math.max(...z.map(Math.abs), 1e-6);
    logits.replaceChildren(
      ...z.map((x, d) => {
        const bar = h("span", { class: x >= 0 ? "lbar pos" : "lbar neg" });
        const w = (Math.abs(x) / lim) * 50;
        Object.assign(bar.style, { width: `${w}%`, left: x >= 0 ? "50%" : `${50 - w}%` });
        return h(
          "li",
          { class: d === result.label ? "top" : "" },
          h("span", { class: "digit", text: String(d) }),
          h("span", { class: "ltrack", "aria-hidden": "true" }, bar),
          h("span", { class: "num", text: fmt(x, 2) }),
          h("span", { class: "num muted", text: percent(result.probabilities[d]) }),
        );
      }),
    );
  }
  hidden.table.addEventListener("toggle", () => result && renderDense());

  return {
    show(r) {
      result = r;
      root.classList.add("has-result");
      const hasMaps = r.stages.length > 0;
      root.classList.toggle("no-maps", !hasMaps);
      noMaps.hidden = hasMaps;
      if (!hasMaps) {
        const [H, W] = [r.input.pixels.length, r.input.pixels[0].length];
        noMaps.textContent = `${r.model} has no feature maps: it flattens the ${H}×${W} picture into ${H * W} numbers before its first layer (Fig. 7-1), so no unit knows which pixels are neighbours. Its flat layers:`;
        renderFlat();
        renderDense();
        onSelect(null);
        return;
      }
      flat.replaceChildren();
      at = Math.min(at, r.stages.length - 1);
      const [n, mh, mw] = stage().shape;
      sel.k = Math.min(sel.k, n - 1);
      [sel.i, sel.j] = [Math.min(sel.i, mh - 1), Math.min(sel.j, mw - 1)];
      if (!sel.chosen) strongestPixel();
      shown = sel.k;
      renderTabs();
      renderGrid();
      renderInspector();
      loadBank().then(() => result === r && renderInspector());
      renderDense();
      onSelect(target());
    },
    reset() {
      result = null;
      sel.chosen = false;
      root.classList.remove("has-result");
    },
  };
}
