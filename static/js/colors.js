// Colour scales and legends. The anchor colours mirror the server's colour maps
// (app/imaging/render.py), so a legend drawn here matches the PNGs the API sends.

import { fmt, h } from "./dom.js";

const even = (hexes) =>
  hexes.map((c, i) => [i / (hexes.length - 1), [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16))]);

// [position 0..1, [r, g, b]] anchors, interpolated linearly like the server's lookup tables.
export const SCALES = {
  // signed values: ColorBrewer PuOr (colour-blind safe): purple < 0, near-white 0, orange > 0
  diverging: even(["#2d004b", "#542788", "#8073ac", "#b2abd2", "#d8daeb", "#f7f7f7", "#fee0b6", "#fdb863", "#e08214", "#b35806", "#7f3b08"]),
  // values >= 0: viridis (perceptually uniform, colour-blind safe)
  sequential: even(["#440154", "#472d7b", "#3b528b", "#2c728e", "#21908c", "#27ad81", "#5dc863", "#aadc32", "#fde725"]),
};

/** [r, g, b] at t in 0..1 on a named scale. */
export function colorAt(scale, t) {
  const stops = SCALES[scale] || SCALES.sequential;
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  for (let i = 1; i < stops.length; i++) {
    const [p1, c1] = stops[i];
    if (x <= p1) {
      const [p0, c0] = stops[i - 1];
      const f = p1 === p0 ? 0 : (x - p0) / (p1 - p0);
      return c0.map((c, k) => Math.round(c + (c1[k] - c) * f));
    }
  }
  return stops[stops.length - 1][1];
}

/** Position of a value on a scale's [low, high] range. */
export const position = (v, [low, high]) => (high === low ? 0.5 : (v - low) / (high - low));

export function cssColor(scale, range, v) {
  const [r, g, b] = colorAt(scale, position(v, range));
  return `rgb(${r}, ${g}, ${b})`;
}

/** Text that stays readable on a cell of that colour. */
export function inkFor(scale, range, v) {
  const [r, g, b] = colorAt(scale, position(v, range));
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#111" : "#fff";
}

/** A matrix painted at one canvas pixel per value (CSS scales it up, pixelated). */
export function paintMatrix(canvas, rows, scale, range) {
  const hgt = rows.length;
  const w = rows[0].length;
  canvas.width = w;
  canvas.height = hgt;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, hgt);
  rows.forEach((row, i) =>
    row.forEach((v, j) => {
      const [r, g, b] = colorAt(scale, position(v, range));
      const o = (i * w + j) * 4;
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }),
  );
  ctx.putImageData(img, 0, 0);
}

/**
 * A legend: a gradient bar with the low, zero (diverging) and high values under it.
 * `label` says what the colours mean; the numbers make the scale readable without colour.
 */
export function legend({ scale, range, label }) {
  const bar = h("canvas", { class: "legend-bar", width: 256, height: 1, "aria-hidden": "true" });
  const ctx = bar.getContext("2d");
  const img = ctx.createImageData(256, 1);
  for (let x = 0; x < 256; x++) {
    const [r, g, b] = colorAt(scale, x / 255);
    img.data.set([r, g, b, 255], x * 4);
  }
  ctx.putImageData(img, 0, 0);
  const [low, high] = range;
  const digits = Math.max(Math.abs(low), Math.abs(high)) >= 10 ? 1 : 2;
  const ticks = [h("span", { text: fmt(low, digits) })];
  if (scale === "diverging") ticks.push(h("span", { text: "0" }));
  ticks.push(h("span", { text: fmt(high, digits) }));
  const words =
    scale === "diverging"
      ? `${label}: purple is negative, near-white is zero, orange-brown is positive`
      : `${label}: dark purple is zero, yellow is the largest value`;
  return h(
    "figure",
    { class: `legend ${scale}`, role: "img", "aria-label": `${words}; from ${fmt(low, digits)} to ${fmt(high, digits)}` },
    bar,
    h("div", { class: "legend-ticks", "aria-hidden": "true" }, ticks),
    h("figcaption", { text: label }),
  );
}

/** Cell colours for signed numbers on the diverging scale over `range`, for cellTable. */
export const divergingCells = (range) => ({
  bg: (v) => cssColor("diverging", range, v),
  ink: (v) => inkFor("diverging", range, v),
});
