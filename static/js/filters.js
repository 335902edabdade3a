// The filters of any conv layer of the chosen model, learned beside the random ones they started
// from (the chapter's Fig. 7-24), what the structure figures say about them, and what each
// unit responds to most in the test set (Fig. 7-26). Hover, focus or tap a filter to read it.

import { getOnce } from "./api.js";
import { divergingCells, legend } from "./colors.js";
import { $, cellTable, fmt, h, rovingGrid, showError } from "./dom.js";
import { subscribe, withModel } from "./model.js";

function weightsTable(caption, weights, range) {
  return cellTable(caption, weights, 2, divergingCells(range), "cells weights");
}

/** What the median neighbour correlation says, in one line that is true for the number. */
function neighbourReading(r) {
  if (r >= 0.5) return "neighbouring weights mostly rise and fall together: smooth blobs and edges, the look of Fig. 7-24";
  if (r >= 0.25) return "neighbouring weights are somewhat alike: some smooth structure, mixed with noise";
  if (r > -0.1) return "neighbouring weights are nearly unrelated: at this scale the filters look like noise";
  return "neighbouring weights tend to have opposite signs: the filters alternate from weight to weight (fine, high-frequency patterns)";
}

/** What the median correlation with the random start says. */
function startReading(r) {
  if (r == null) return "the random start of these weights is not published, so how far training moved them is unknown";
  if (r >= 0.9999) return "these are their random start: nothing was trained";
  if (r >= 0.95) return "each filter is still mostly the random noise it started from, almost unchanged: training barely moved this layer";
  if (r >= 0.8) return "each filter is still mostly the random noise it started from: training changed it only a little";
  if (r >= 0.5) return "training moved each filter part of the way from its random start";
  return "training moved each filter far from its random start: what you see was learned";
}

const percent = (x) => `${Math.round(x * 100)} %`;

export function createFilters(root) {
  const error = $(".error", root);
  const detail = $("#filter-detail", root);
  const heading = $("#filters-h", root);
  const lead = $("#filters-lead", root);
  const structure = $("#filters-structure", root);
  const layers = $("#filter-layers", root);
  const channelPick = $("#filter-channel-pick", root);
  const channelSelect = $("#filter-channel", root);
  const grids = $(".filters-grid", root);
  const units = { card: $("#units", root), heading: $("#units-h", root), note: $("#units-note", root), grid: $("#units-grid", root) };
  const stacked = matchMedia("(max-width: 1039px)"); // the weights card sits below the grids

  let model = null;
  let data = null; // GET /api/filters of the chosen layer
  let pinned = 0;
  let channel = 0; // the input channel the grids show (deeper layers have many)
  let asked = 0; // the latest request wins

  subscribe((m) => {
    model = m;
    const convs = m.layers.filter((l) => l.kind === "conv");
    pinned = 0;
    layers.replaceChildren(
      ...convs.map((l, n) => h("label", { title: l.title }, h("input", { type: "radio", name: "filter-layer", value: l.name, checked: n === 0 }), h("span", { text: l.name }))),
    );
    if (!convs.length) {
      data = null;
      grids.hidden = true;
      units.card.hidden = true;
      channelPick.hidden = true;
      structure.replaceChildren();
      heading.textContent = `${m.id} has no filters`;
      lead.textContent = `${m.title} has no conv layer: every unit of its first layer weighs all ${m.layers[0].output_shape.reduce((a, b) => a * b, 1)} pixels at once, with no small window slid over the picture, so there is nothing here to show. Choose a model with conv layers.`;
      showError(error, null);
      return;
    }
    load(convs[0].name);
  });

  layers.addEventListener("change", (e) => {
    pinned = 0;
    load(e.target.value);
  });
  channelSelect.addEventListener("change", () => {
    channel = Number(channelSelect.value);
    renderGrids();
    showDetail(pinned);
  });

  async function load(layer) {
    const ticket = ++asked;
    let d;
    try {
      d = await getOnce(withModel("/api/filters", { layer }));
    } catch (err) {
      if (ticket === asked) showError(error, err);
      return;
    }
    if (ticket !== asked) return;
    showError(error, null);
    data = d;
    grids.hidden = false;
    channel = 0;
    render();
    loadUnits(layer, ticket);
  }

  function render() {
    const [FN, C, FH, FW] = data.learned.shape;
    const published = !data.initial;
    heading.textContent = `The ${FN} filters of ${data.layer} (${C}×${FH}×${FW} each)${published ? ", as published" : ", before and after training"}`;
    const s = data.structure;
    structure.replaceChildren(
      h("li", {}, "Median neighbour correlation ", h("b", { id: "neighbour-corr", text: fmt(s.median_neighbour_correlation, 2) }), `: ${neighbourReading(s.median_neighbour_correlation)}.`),
      h(
        "li",
        {},
        "Median correlation with the start ",
        h("b", { id: "start-corr", text: s.median_start_correlation == null ? "unknown" : fmt(s.median_start_correlation, 2) }),
        `: ${startReading(s.median_start_correlation)}.`,
      ),
    );
    lead.textContent = `${model.id}, ${data.layer}: each filter is ${C} input channel${C > 1 ? "s" : ""} of ${FH}×${FW} weights (${C * FH * FW} numbers and a bias). Hover, focus or tap a filter to read them.`;
    channelPick.hidden = C === 1;
    if (C > 1) channelSelect.replaceChildren(...Array.from({ length: C }, (_, c) => h("option", { value: c, text: `${c} of ${C}` })));
    channelSelect.value = String(channel);
    $("#initial-h", root).closest(".card").hidden = published;
    grids.classList.toggle("published", published);
    renderGrids();
    showDetail(Math.min(pinned, FN - 1));
  }

  function renderGrids() {
    const C = data.learned.shape[1];
    for (const [name, bank] of [["initial", data.initial], ["learned", data.learned]]) {
      if (!bank) continue;
      const grid = $(`#grid-${name}`, root);
      const [, , FH, FW] = bank.shape;
      $(`#${name}-h`, root).textContent = `${name === "initial" ? "Before: random initialisation" : "After: learned"}${C > 1 ? `, input channel ${channel}` : ""}`;
      $(`#legend-${name}`, root).replaceChildren(legend({ scale: "diverging", range: bank.range, label: "weight" }));
      grid.classList.toggle("many", bank.filters.length > 36);
      grid.replaceChildren(
        ...bank.filters.map((f) =>
          h(
            "button",
            { type: "button", class: "filter-tile", dataset: { k: f.index }, "aria-label": `${name === "initial" ? "Initial" : "Learned"} filter ${f.index}${C > 1 ? `, channel ${channel}` : ""}`, "aria-pressed": String(f.index === pinned) },
            h("img", { src: f.channels[channel], alt: "", width: FW, height: FH }),
          ),
        ),
      );
      rovingGrid(grid, ".filter-tile").focusable(pinned);
    }
  }

  function showDetail(k) {
    if (!data) return;
    root.querySelectorAll(".filter-tile").forEach((t) => t.classList.toggle("shown", Number(t.dataset.k) === k));
    const before = data.initial && data.initial.filters[k]; // unknown for imported weights
    const after = data.learned.filters[k];
    const C = after.weights.length;
    const s = data.structure;
    const facts = `Neighbour correlation ${fmt(s.neighbour_correlation[k], 2)}${s.start_correlation ? `, correlation with its start ${fmt(s.start_correlation[k], 2)}` : ""}.`;
    const strip = (bank, f, word) =>
      h(
        "div",
        { class: "channel-strip", role: "group", "aria-label": `${word} filter ${k}, its ${C} input channels` },
        h("span", { class: "small muted", text: word }),
        f.channels.map((png, c) =>
          h("button", { type: "button", class: c === channel ? "channel-tile current" : "channel-tile", dataset: { c }, "aria-label": `${word} filter ${k}, channel ${c}`, "aria-pressed": String(c === channel) }, h("img", { src: png, alt: "", width: bank.shape[3], height: bank.shape[2] })),
        ),
      );
    detail.replaceChildren(
      ...[
      h("h3", { text: `Filter ${k}` }),
      C > 1 ? h("p", { class: "small muted", text: `Its ${C} input channels (one per map of the layer before); choose one to read its weights.` }) : null,
      C > 1 && before ? strip(data.initial, before, "before") : null,
      C > 1 ? strip(data.learned, after, "after") : null,
      h(
        "div",
        { class: "pair" },
        before ? h("div", {}, weightsTable(`before training${C > 1 ? `, channel ${channel}` : ""}, bias ${fmt(before.bias, 3)}`, before.weights[channel], data.initial.range)) : null,
        h("div", {}, weightsTable(`${before ? "after training" : "learned"}${C > 1 ? `, channel ${channel}` : ""}, bias ${fmt(after.bias, 3)}`, after.weights[channel], data.learned.range)),
      ),
      h("p", { class: "small", text: facts }),
      h("p", { class: "muted small", text: "Each bank has its own symmetric colour scale; the numbers are the weights." }),
      ].filter(Boolean),
    );
  }

  detail.addEventListener("click", (e) => {
    const tile = e.target.closest(".channel-tile");
    if (!tile) return;
    channel = Number(tile.dataset.c);
    channelSelect.value = String(channel);
    renderGrids();
    showDetail(pinned);
  });

  for (const name of ["initial", "learned"]) {
    const grid = $(`#grid-${name}`, root);
    const pick = (e, pin) => {
      const tile = e.target.closest(".filter-tile");
      if (!tile || !data) return;
      const k = Number(tile.dataset.k);
      if (pin) {
        pinned = k;
        root.querySelectorAll(".filter-tile").forEach((t) => t.setAttribute("aria-pressed", String(Number(t.dataset.k) === k)));
      }
      showDetail(k);
    };
    grid.addEventListener("mouseover", (e) => pick(e, false));
    grid.addEventListener("focusin", (e) => pick(e, false));
    grid.addEventListener("click", (e) => {
      pick(e, true);
      // a tap on a phone: the weights are below the fold, so bring them up
      if (stacked.matches && e.target.closest(".filter-tile")) detail.scrollIntoView({ block: "nearest" });
    });
    grid.addEventListener("mouseleave", () => showDetail(pinned));
  }

  // ---- Fig. 7-26: the 9 test digits each unit responds to most, its receptive field boxed
  function loadUnits(layer, ticket) {
    units.card.hidden = false;
    units.grid.replaceChildren();
    units.heading.textContent = `What each ${layer} unit responds to most`;
    // GET /api/models may say whether the patches were computed (has_units); until it does, ask first
    if (model.has_units === false) {
      units.note.textContent = `No receptive-field patches were computed for ${model.id} (conv-explorer units makes them).`;
      return;
    }
    if (model.has_units === true) return fetchUnits(layer, ticket);
    units.note.replaceChildren(
      h("button", { type: "button", id: "units-load", onclick: () => fetchUnits(layer, ticket) }, `Show the 9 test digits each ${layer} unit answers most`),
    );
  }

  async function fetchUnits(layer, ticket) {
    units.note.textContent = "Loading the test digits…";
    let u;
    try {
      u = await getOnce(withModel("/api/units", { layer }));
    } catch (err) {
      if (ticket === asked) units.note.textContent = `No receptive-field patches for ${model.id} ${layer}: ${err.message}.`;
      return;
    }
    if (ticket !== asked) return;
    const { size, jump } = u.field;
    const [, side] = model.layers[0].output_shape; // the patches are whole input digits (C, H, W)
    units.note.textContent = `For each of the ${u.units.length} filters of ${layer}, the 9 test digits where its unit answers most strongly, with the ${size}×${size} pixels it sees boxed (${percent((size * size) / (side * side))} of the picture; neighbouring units are ${jump} pixel${jump > 1 ? "s" : ""} apart). Deeper layers see more of the digit.`;
    units.grid.replaceChildren(
      ...u.units.map((unit) =>
        h(
          "figure",
          { class: "unit", dataset: { k: unit.index } },
          h(
            "div",
            { class: "unit-patches" },
            unit.patches.map((p) => {
              const [top, left, bottom, right] = p.box.map((v) => Math.min(side - 1, Math.max(0, v))); // not into the padding
              const box = h("span", { class: "box", "aria-hidden": "true" });
              Object.assign(box.style, {
                top: `${(top / side) * 100}%`,
                left: `${(left / side) * 100}%`,
                height: `${((bottom - top + 1) / side) * 100}%`,
                width: `${((right - left + 1) / side) * 100}%`,
              });
              return h("span", { class: "patch" }, h("img", { src: p.png, alt: `a ${p.label}, response ${fmt(p.value, 2)}, rows ${p.box[0]}–${p.box[2]}, columns ${p.box[1]}–${p.box[3]}`, width: side, height: side }), box);
            }),
          ),
          h("figcaption", { text: `unit ${unit.index}` }),
        ),
      ),
    );
  }
}
