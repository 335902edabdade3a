// Colour scales and legends. The anchor colours mirror the server's colour maps
// (app/imaging/render.py), so a legend drawn here matches the PNGs the API sends.

import { fmt, h } from "./dom.js";

const even = (hexes) =>
  hexes.map((c, i) => [i / (hexes.length - 1), [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16))]);

// [position 0..1, [r, g, b]] anchors, interpolated linearly like the server's lookup tables.
const SCALES = {
  // signed values: ColorBrewer PuOr (colour-blind safe): purple < 0, near-white 0, orange > 0
  diverging: even(["#2d004b", "#542788", "#8073ac", "#b2abd2", "#d8daeb", "#f7f7f7", "#fee0b6", "#fdb863", "#e08214", "#b35806", "#7f3b08"]),
  // values >= 0: viridis (perceptually uniform, colour-blind safe)
  sequential: even(["#440154", "#472d7b", "#3b528b", "#2c728e", "#21908c", "#27ad81", "#5dc863", "#aadc32", "#fde725"]),
  // photo responses: black at a map's minimum, white at its maximum
  gray: even(["#000000", "#ffffff"]),
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

/**
 * Where v sits on a scale, 0..1. Diverging: 0 in the middle and each sign scaled to its own end
 * of [low <= 0, high >= 0] (the server's rule, app/explore.py), so a symmetric range is linear.
 * Other scales run linearly from low to high.
 */
export function position(scale, v, [low, high]) {
  if (scale === "diverging") {
    if (v < 0) return low < 0 ? 0.5 - (0.5 * v) / low : 0.5;
    return high > 0 ? 0.5 + (0.5 * v) / high : 0.5;
  }
  return high === low ? 0.5 : (v - low) / (high - low);
}

function cssColor(scale, range, v) {
  const [r, g, b] = colorAt(scale, position(scale, v, range));
  return `rgb(${r}, ${g}, ${b})`;
}

/** Text that stays readable on a cell of that colour. */
function inkFor(scale, range, v) {
  const [r, g, b] = colorAt(scale, position(scale, v, range));
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#111" : "#fff";
}

const WORDS = {
  diverging: "purple is negative, near-white is zero, orange-brown is positive",
  sequential: "dark purple is zero, yellow is the largest value",
  gray: "black is the smallest value, white the largest",
};

/**
 * A legend: a gradient bar over [low, high] with the values under it (0 too, on a diverging
 * scale that spans it). `label` says what the colours mean; `ticks` replaces the numbers with
 * words when the range differs from map to map; `rule` is one more line saying how it scales.
 */
export function legend({ scale, range, label, ticks = null, rule = null }) {
  const [low, high] = range;
  const from = position(scale, low, range);
  const to = position(scale, high, range);
  const bar = h("canvas", { class: "legend-bar", width: 256, height: 1, "aria-hidden": "true" });
  const ctx = bar.getContext("2d");
  const img = ctx.createImageData(256, 1);
  for (let x = 0; x < 256; x++) {
    const [r, g, b] = colorAt(scale, from + ((to - from) * x) / 255);
    img.data.set([r, g, b, 255], x * 4);
  }
  ctx.putImageData(img, 0, 0);
  const digits = Math.max(Math.abs(low), Math.abs(high)) >= 10 ? 1 : 2;
  const texts = ticks || [fmt(low, digits), ...(scale === "diverging" && low < 0 && high > 0 ? ["0"] : []), fmt(high, digits)];
  const words = `${label}: ${WORDS[scale]}; from ${texts[0]} to ${texts[texts.length - 1]}${rule ? `. ${rule}` : ""}`;
  return h(
    "figure",
    { class: `legend ${scale}`, role: "img", "aria-label": words },
    bar,
    h("div", { class: "legend-ticks", "aria-hidden": "true" }, texts.map((t) => h("span", { text: t }))),
    h("figcaption", { text: label }),
    rule ? h("figcaption", { class: "legend-rule", text: rule }) : null,
  );
}

/** Cell colours for signed numbers on the diverging scale over `range`, for cellTable. */
export const divergingCells = (range) => ({
  bg: (v) => cssColor("diverging", range, v),
  ink: (v) => inkFor("diverging", range, v),
});
