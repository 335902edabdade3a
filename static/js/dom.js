// Small DOM helpers shared by the views: element builder, number formatting, messages, tables.

/** h("div", {class: "x", onclick: f}, child, "text") -> element. No innerHTML anywhere. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Fixed decimals with a real minus sign, and no "-0.000". */
export function fmt(x, digits = 3) {
  const s = Number(x).toFixed(digits);
  const zero = Number(s) === 0;
  return (zero ? s.replace("-", "") : s).replace("-", "\u2212");
}

/** A probability people can read: one decimal, and "< 0.1 %" / "> 99.9 %" at the ends
 * rather than a "0.0 %" that is not zero or a "100.0 %" that is not certain. */
export function percent(p) {
  if (p < 0.0005) return "< 0.1 %";
  if (p > 0.9995) return "> 99.9 %";
  return `${(p * 100).toFixed(1)} %`;
}

/** Whether the explored model has a layer of `kind` ("conv", "pool") for a chapter view to
 * show. When not (mlp has none), the view's empty note says so in words and its last result
 * goes, so the view sends the API nothing it would refuse with a 422; `result` null restores
 * the note. The view also drops an answer still on its way (newestWins's drop()). */
export function hasLayer(root, result, kind) {
  const note = $(".empty-note", root);
  note.dataset.text ??= note.textContent;
  const has = !!result && result.stages.some((s) => s.kind === kind);
  note.textContent =
    result && !has
      ? `Model ${result.model} has no ${kind === "pool" ? "pooling" : kind} layer, so this section has nothing to show for it: pick a model with one.`
      : note.dataset.text;
  if (!has) root.classList.remove("has-result");
  return has;
}

/** Show an error (or clear it with null) in a role=alert element. */
export function showError(el, err) {
  if (!el) return;
  if (!err) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  const status = err.status ? ` (HTTP ${err.status})` : "";
  el.textContent = `${err.message || err}${status}`;
  el.hidden = false;
}

/** A grid of numbers as table cells, optionally coloured: colour = { bg(v), ink(v) }. */
export function cellTable(caption, rows, digits, colour, className = "cells") {
  return h(
    "table",
    { class: className },
    h("caption", { text: caption }),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          {},
          row.map((v) => {
            const td = h("td", { text: fmt(v, digits) });
            if (colour) {
              td.style.background = colour.bg(v);
              td.style.color = colour.ink(v);
            }
            return td;
          }),
        ),
      ),
    ),
  );
}

/** A <table> of a matrix, for screen readers and for anyone who wants the numbers. */
export function matrixTable(caption, rows, digits = 3) {
  const head = h("tr", {}, h("th", { scope: "col", text: "row" }), rows[0].map((_, j) => h("th", { scope: "col", text: String(j) })));
  const body = rows.map((r, i) => h("tr", {}, h("th", { scope: "row", text: String(i) }), r.map((v) => h("td", { text: fmt(v, digits) }))));
  return h("table", { class: "numbers" }, h("caption", { text: caption }), h("thead", {}, head), h("tbody", {}, body));
}

/** Debounce: run fn after `ms` of quiet; .cancel() drops a call still waiting. */
export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => {
      t = null;
      fn(...args);
    }, ms);
  };
  d.cancel = () => {
    clearTimeout(t);
    t = null;
  };
  return d;
}

/** A canvas whose backing store matches devicePixelRatio; returns a 2-D context in CSS px. */
export function hidpi(canvas, cssWidth, cssHeight) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(cssWidth * dpr);
  const hgt = Math.round(cssHeight * dpr);
  if (canvas.width !== w || canvas.height !== hgt) {
    canvas.width = w;
    canvas.height = hgt;
  }
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/**
 * One tab stop for a grid of buttons: arrow keys, Home and End move the focus between them
 * (the focused one keeps tabindex 0). The number of columns is read from the layout.
 */
export function rovingGrid(container, selector) {
  const items = () => [...container.querySelectorAll(selector)];
  const columns = (list) => list.filter((el) => el.offsetTop === list[0].offsetTop).length || 1;
  container.addEventListener("keydown", (e) => {
    const list = items();
    const at = list.indexOf(document.activeElement);
    if (at < 0) return;
    const cols = columns(list);
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols }[e.key];
    let next = step === undefined ? null : at + step;
    if (e.key === "Home") next = 0;
    if (e.key === "End") next = list.length - 1;
    if (next === null || next < 0 || next >= list.length) return;
    e.preventDefault();
    list[at].tabIndex = -1;
    list[next].tabIndex = 0;
    list[next].focus();
  });
  return {
    /** Make item `k` the grid's tab stop (after a re-render or a click). */
    focusable(k) {
      items().forEach((el, i) => (el.tabIndex = i === k ? 0 : -1));
    },
  };
}
