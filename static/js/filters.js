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
  const stacked = matchMedia("(max-width: 1039px)"); // the weights card sits below the grids

  function showDetail(k) {
    root.querySelectorAll(".filter-tile").forEach((t) => t.classList.toggle("shown", Number(t.dataset.k) === k));
    const before = data.initial && data.initial.filters[k]; // unknown for imported weights
    const after = data.learned.filters[k];
    detail.replaceChildren(
      h("h3", { text: `Filter ${k}` }),
      h(
        "div",
        { class: "pair" },
        before ? h("div", {}, weightsTable(`before training, bias ${fmt(before.bias, 3)}`, before.weights, data.initial.range)) : null,
        h("div", {}, weightsTable(`after training, bias ${fmt(after.bias, 3)}`, after.weights, data.learned.range)),
      ),
      h("p", { class: "muted small", text: "Each bank has its own symmetric colour scale; the numbers are the weights." }),
    );
  }

  for (const [name, bank] of [["initial", data.initial], ["learned", data.learned]]) {
    if (!bank) continue;
    const grid = $(`#grid-${name}`, root);
    $(`#legend-${name}`, root).replaceChildren(legend({ scale: "diverging", range: bank.range, label: "weight" }));
    grid.replaceChildren(
      ...bank.filters.map((f) =>
        h(
          "button",
          { type: "button", class: "filter-tile", dataset: { k: f.index }, "aria-label": `${name === "initial" ? "Initial" : "Learned"} filter ${f.index}`, "aria-pressed": String(f.index === pinned) },
          h("img", { src: f.png, alt: "", width: f.weights[0].length, height: f.weights.length }),
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
    grid.addEventListener("click", (e) => {
      pick(e, true);
      // a tap on a phone: the weights are below the fold, so bring them up
      if (stacked.matches && e.target.closest(".filter-tile")) detail.scrollIntoView({ block: "nearest" });
    });
    grid.addEventListener("mouseleave", () => showDetail(pinned));
  }
  showDetail(pinned);
}
