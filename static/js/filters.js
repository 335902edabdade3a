// The 30 learned 5x5 filters beside the random ones they started from (the chapter's
// before/after figure). Hover, focus or tap a filter to read its weights.

import { divergingCells, legend } from "./colors.js";
import { $, cellTable, fmt, h, rovingGrid, showError } from "./dom.js";

function weightsTable(caption, weights, range) {
  return cellTable(caption, weights, 2, divergingCells(range), "cells weights");
}

export async function createFilters(root, filters) {
  const error = $(".error", root);
  const detail = $("#filter-detail", root);
  let data;
  try {
    data = await filters;
  } catch (err) {
    showError(error, err);
    return;
  }
  let pinned = 0;

  function showDetail(k) {
    root.querySelectorAll(".filter-tile").forEach((t) => t.classList.toggle("shown", Number(t.dataset.k) === k));
    const before = data.initial.filters[k];
    const after = data.learned.filters[k];
    detail.replaceChildren(
      h("h3", { text: `Filter ${k}` }),
      h(
        "div",
        { class: "pair" },
        h("div", {}, weightsTable(`before training, bias ${fmt(before.bias, 3)}`, before.weights, data.initial.range)),
        h("div", {}, weightsTable(`after training, bias ${fmt(after.bias, 3)}`, after.weights, data.learned.range)),
      ),
      h("p", { class: "muted small", text: "Each bank has its own symmetric colour scale; the numbers are the weights." }),
    );
  }

  for (const [name, bank] of [["initial", data.initial], ["learned", data.learned]]) {
    const grid = $(`#grid-${name}`, root);
    $(`#legend-${name}`, root).replaceChildren(legend({ scale: "diverging", range: bank.range, label: "weight" }));
    grid.replaceChildren(
      ...bank.filters.map((f) =>
        h(
          "button",
          { type: "button", class: "filter-tile", dataset: { k: f.index }, "aria-label": `${name === "initial" ? "Initial" : "Learned"} filter ${f.index}`, "aria-pressed": String(f.index === pinned) },
          h("img", { src: f.png, alt: "", width: 5, height: 5 }),
        ),
      ),
    );
    rovingGrid(grid, ".filter-tile").focusable(pinned);
    const pick = (e, pin) => {
      const tile = e.target.closest(".filter-tile");
      if (!tile) return;
      const k = Number(tile.dataset.k);
      if (pin) {
        pinned = k;
        root.querySelectorAll(".filter-tile").forEach((t) => t.setAttribute("aria-pressed", String(Number(t.dataset.k) === k)));
      }
      showDetail(k);
    };
    grid.addEventListener("mouseover", (e) => pick(e, false));
    grid.addEventListener("focusin", (e) => pick(e, false));
    grid.addEventListener("click", (e) => pick(e, true));
    grid.addEventListener("mouseleave", () => showDetail(pinned));
  }
  showDetail(pinned);
}
