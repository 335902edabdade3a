// Inside the network: the 30 maps of one stage in a grid with its legend, an inspector that
// enlarges one map beside its filter (pick a pixel there, see what it is), the hidden units and
// the output.

import { legend } from "./colors.js";
import { $, fmt, h, matrixTable, percent, rovingGrid } from "./dom.js";

const STAGE_WORDS = { conv: "convolution", relu: "after ReLU", pool: "after max pooling" };

/**
 * @param root     section#inside
 * @param filters  promise of GET /api/filters
 * @param onSelect({k, i, j}) the chosen filter and conv-map pixel, whenever either changes
 */
export function createMaps(root, filters, onSelect) {
  const grid = $("#map-grid", root);
  const stageTitle = $("#stage-title", root);
  const stageLegend = $("#stage-legend", root);
  const radios = [...root.querySelectorAll('input[name="stage"]')];
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

  let result = null;
  let stage = "conv";
  let shown = 0; // filter in the inspector (hover preview or selection)
  const sel = { k: 0, i: 0, j: 0, chosen: false }; // chosen: the user picked a pixel
  let bank = null;
  filters.then((f) => {
    bank = f.learned;
    renderInspector();
  }, () => {});

  const roving = rovingGrid(grid, ".map-tile");
  // the first map stage of each kind (conv, relu, pool): the radios' three views of one block
  const stageOf = (kind) => result && result.stages.find((s) => s.kind === kind);
  const KINDS = ["conv", "relu", "pool"];

  radios.forEach((r) =>
    r.addEventListener("change", () => {
      if (!r.checked) return;
      stage = r.value;
      renderGrid();
      renderInspector();
    }),
  );

  // ---- the grid of 30 maps
  function renderGrid() {
    const s = stageOf(stage);
    if (!s) return;
    const [n, mh, mw] = s.shape;
    stageTitle.textContent = `${s.title} — ${n} maps of ${mh}×${mw}, values from ${fmt(s.min)} to ${fmt(s.max)}`;
    const rule =
      s.range[0] < 0
        ? `Each sign has its own end: the darkest purple is ${fmt(s.range[0], 2)}, the darkest orange ${fmt(s.range[1], 2)}.`
        : `Values ≥ 0 in the conv map's orange: only the purple (the negatives) is gone.`;
    stageLegend.replaceChildren(legend({ scale: s.scale, range: s.range, label: `${stage} value`, rule }));
    grid.setAttribute("aria-label", `${n} feature maps ${STAGE_WORDS[stage]}; choose one to enlarge it`);
    if (grid.children.length !== s.maps.length) {
      grid.replaceChildren(
        ...s.maps.map((m) =>
          h(
            "button",
            { type: "button", class: "map-tile", dataset: { k: m.index } },
            h("img", { alt: "", width: mw, height: mh }),
            h("span", { class: "tile-num", text: String(m.index) }),
          ),
        ),
      );
    }
    s.maps.forEach((m, k) => {
      const tile = grid.children[k];
      tile.querySelector("img").src = m.png;
      tile.setAttribute("aria-label", `Filter ${k}, ${STAGE_WORDS[stage]}`);
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
  grid.addEventListener("mouseover", (e) => {
    const tile = e.target.closest(".map-tile");
    if (tile && Number(tile.dataset.k) !== shown) {
      shown = Number(tile.dataset.k);
      renderInspector();
    }
  });
  // keyboard focus previews a map like the mouse does; Enter or Space chooses it
  grid.addEventListener("focusin", (e) => {
    const tile = e.target.closest(".map-tile");
    if (tile && Number(tile.dataset.k) !== shown) {
      shown = Number(tile.dataset.k);
      renderInspector();
    }
  });
  grid.addEventListener("focusout", (e) => {
    if (!grid.contains(e.relatedTarget) && shown !== sel.k) {
      shown = sel.k;
      renderInspector();
    }
  });
  grid.addEventListener("mouseleave", () => {
    if (shown !== sel.k) {
      shown = sel.k;
      renderInspector();
    }
  });

  function choose(k) {
    sel.k = shown = k;
    if (!sel.chosen) strongestPixel();
    [...grid.children].forEach((t, idx) => t.setAttribute("aria-pressed", String(idx === k)));
    roving.focusable(k);
    renderInspector();
    onSelect({ ...sel });
  }

  /** Until the user picks a pixel, follow the strongest response of the chosen filter. */
  function strongestPixel() {
    const conv = stageOf("conv");
    if (!conv || !conv.maps[sel.k].values) return;
    let best = -Infinity;
    conv.maps[sel.k].values.forEach((row, i) =>
      row.forEach((v, j) => {
        if (v > best) [best, sel.i, sel.j] = [v, i, j];
      }),
    );
  }

  // ---- the inspector: filter beside the enlarged map; click a pixel to open its computation
  function renderInspector() {
    const s = stageOf(stage);
    if (!s) return;
    const k = shown;
    const m = s.maps[k];
    const [, mh, mw] = s.shape;
    inspect.title.textContent = `Filter ${k}${k === sel.k ? "" : " (preview)"}`;
    inspect.map.src = m.png;
    inspect.map.alt = `Filter ${k} map ${STAGE_WORDS[stage]}, ${mh} by ${mw}`;
    inspect.mapCaption.textContent = `${stage} map ${k}: ${mh}×${mw}`;
    if (bank) {
      const f = bank.filters[k];
      inspect.filter.src = f.png;
      inspect.filter.alt = `Learned ${f.weights.length} by ${f.weights[0].length} filter ${k}`;
      inspect.filterCaption.textContent = `filter ${k}, bias ${fmt(f.bias)}`;
    }
    inspect.strip.replaceChildren(
      ...KINDS.map(stageOf).filter(Boolean).map((st) =>
        h(
          "figure",
          { class: st.kind === stage ? "current" : "" },
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
    const s = stageOf(stage);
    const [, mh, mw] = s.shape;
    const show = shown === sel.k;
    inspect.pick.hidden = !show;
    if (!show) return;
    // the chosen conv pixel, or the pooled cell that contains it
    const f = stage === "pool" ? poolSide() : 1;
    const i = Math.floor(sel.i / f);
    const j = Math.floor(sel.j / f);
    Object.assign(inspect.pick.style, {
      left: `${(j / mw) * 100}%`,
      top: `${(i / mh) * 100}%`,
      width: `${100 / mw}%`,
      height: `${100 / mh}%`,
    });
    inspect.zoom.setAttribute(
      "aria-label",
      `Enlarged ${stage} map of filter ${sel.k}. Selected pixel row ${sel.i}, column ${sel.j}. Arrow keys move it.`,
    );
  }

  /** The side of the pooling window: how many conv (ReLU) pixels one pooled pixel covers. */
  const poolSide = () => stageOf("relu").shape[1] / stageOf("pool").shape[1];

  /** What the chosen pixel of the shown stage is, in words and numbers (values needed). */
  function explain() {
    const s = stageOf(stage);
    const values = s && shown === sel.k && s.maps[sel.k].values;
    inspect.explain.dataset.stage = values ? stage : "";
    if (!values) return inspect.explain.replaceChildren();
    const k = sel.k;
    const v = stageOf("conv").maps[k].values[sel.i][sel.j];
    const below = (what) => h("p", { class: "small" }, h("a", { href: "#pixel", text: `The sum behind ${what} ↓` }));
    if (stage === "conv") {
      inspect.explain.replaceChildren(
        h("p", {}, `Conv pixel (${sel.i}, ${sel.j}) of map ${k} = Σ input window × filter ${k} + bias = `, h("b", { text: fmt(v, 4) })),
        below("it"),
      );
    } else if (stage === "relu") {
      inspect.explain.replaceChildren(
        h("p", {}, `ReLU pixel (${sel.i}, ${sel.j}) = max(0, conv value) = max(0, ${fmt(v, 4)}) = `, h("b", { text: fmt(Math.max(0, v), 4) })),
        h("p", { class: "muted small", text: v > 0 ? "The conv value is positive: ReLU passes it through." : "The conv value is not positive: ReLU outputs 0." }),
        below(`conv pixel (${sel.i}, ${sel.j})`),
      );
    } else {
      const f = poolSide();
      const [pi, pj] = [Math.floor(sel.i / f), Math.floor(sel.j / f)];
      const relu = stageOf("relu").maps[k].values;
      const win = Array.from({ length: f }, (_, a) => Array.from({ length: f }, (_, b) => relu[pi * f + a][pj * f + b]));
      const best = Math.max(...win.flat());
      const ties = win.flat().filter((x) => x === best).length;
      const first = win.flat().indexOf(best); // the engine's winner on a tie: first in reading order
      const table = h(
        "table",
        { class: "cells pool-window" },
        h("caption", { text: `ReLU rows ${pi * f}–${pi * f + f - 1}, columns ${pj * f}–${pj * f + f - 1}` }),
        h("tbody", {}, win.map((row, a) => h("tr", {}, row.map((x, b) => h("td", { class: a * f + b === first ? "winner" : "", text: fmt(x, 4) }))))),
      );
      inspect.explain.replaceChildren(
        h("p", {}, `Pool pixel (${pi}, ${pj}) = the largest of its ${f}×${f} window = `, h("b", { text: fmt(best, 4) })),
        table,
        h("p", {
          class: "muted small",
          text:
            ties > 1
              ? `${ties} values tie at ${fmt(best, 4)}: the output is the same whichever wins; the marked one, first in reading order, is the one backprop sends the gradient to.`
              : `Max pooling keeps the largest value (marked) and drops the other ${f * f - 1}; backprop sends the gradient only to it.`,
        }),
        below(`the winner, conv pixel (${pi * f + Math.floor(first / f)}, ${pj * f + (first % f)})`),
      );
    }
  }

  function fillTable() {
    inspect.table.querySelector("table")?.remove();
    const s = stageOf(stage);
    const values = s && s.maps[shown].values;
    if (inspect.table.open && values) inspect.table.append(matrixTable(`Filter ${shown}, ${STAGE_WORDS[stage]}`, values));
  }
  inspect.table.addEventListener("toggle", fillTable);

  /** A pixel of the shown map -> the conv pixel behind it (for pool: the winner of its window). */
  function pickConvPixel(i, j) {
    if (stage !== "pool") return [i, j];
    const f = poolSide();
    const relu = stageOf("relu").maps[sel.k].values;
    if (!relu) return [f * i, f * j];
    let best = [f * i, f * j];
    for (let di = 0; di < f; di++)
      for (let dj = 0; dj < f; dj++) if (relu[f * i + di][f * j + dj] > relu[best[0]][best[1]]) best = [f * i + di, f * j + dj];
    return best;
  }

  /** A pixel was picked: explain it, and make sure the explanation is on screen. */
  function picked() {
    sel.chosen = true;
    placePick();
    explain();
    onSelect({ ...sel });
    inspect.explain.scrollIntoView({ block: "nearest" });
  }

  function pickAt(i, j) {
    if (shown !== sel.k) choose(shown);
    [sel.i, sel.j] = pickConvPixel(i, j);
    picked();
  }

  inspect.zoom.addEventListener("click", (e) => {
    const s = stageOf(stage);
    if (!s) return;
    const r = inspect.zoom.getBoundingClientRect();
    const [, mh, mw] = s.shape;
    const j = Math.min(mw - 1, Math.floor(((e.clientX - r.left) / r.width) * mw));
    const i = Math.min(mh - 1, Math.floor(((e.clientY - r.top) / r.height) * mh));
    pickAt(i, j);
  });
  inspect.zoom.addEventListener("keydown", (e) => {
    const s = stageOf(stage);
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!s || !step) return;
    e.preventDefault();
    if (shown !== sel.k) choose(shown);
    if (stage === "pool") {
      const [, ph, pw] = s.shape;
      const f = poolSide();
      const i = Math.min(ph - 1, Math.max(0, Math.floor(sel.i / f) + step[0]));
      const j = Math.min(pw - 1, Math.max(0, Math.floor(sel.j / f) + step[1]));
      [sel.i, sel.j] = pickConvPixel(i, j);
    } else {
      const [, ch, cw] = stageOf("conv").shape;
      sel.i = Math.min(ch - 1, Math.max(0, sel.i + step[0]));
      sel.j = Math.min(cw - 1, Math.max(0, sel.j + step[1]));
    }
    picked();
  });

  // ---- the hidden units (the last ReLU of the flat layers) and the 10 outputs
  function renderDense() {
    const layer = result.hidden.filter((l) => l.kind === "relu").at(-1) || result.hidden.at(-1);
    const v = layer.values;
    const [rows, cols] = layer.grid;
    const max = Math.max(...v, 1e-6);
    hidden.heading.textContent = `${v.length} hidden units`;
    hidden.note.textContent = `${layer.title}, as a ${rows}×${cols} grid (unit = ${cols} × row + column).`;
    hidden.img.src = layer.png;
    const active = v.filter((x) => x > 0).length;
    hidden.img.alt = `The ${v.length} hidden activations as a ${rows} by ${cols} grid; ${active} are above zero`;
    hidden.legend.replaceChildren(legend({ scale: "sequential", range: [0, max], label: "activation" }));
    const order = v.map((x, i) => [x, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
    hidden.top.textContent = `${active} of ${v.length} units fire. Strongest: ${order.map(([x, i]) => `#${i} (${fmt(x, 2)})`).join(", ")}.`;
    hidden.table.querySelector("table")?.remove();
    if (hidden.table.open) {
      const grid = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => v[r * cols + c] ?? 0));
      hidden.table.append(matrixTable(`Hidden activations, unit = ${cols} × row + column`, grid));
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
      if (!sel.chosen) strongestPixel();
      shown = sel.k;
      renderGrid();
      renderInspector();
      renderDense();
      onSelect({ ...sel });
    },
    reset() {
      result = null;
      sel.chosen = false;
      root.classList.remove("has-result");
    },
  };
}
