// The verdict beside the pad: the label, ten probability bars and the 28x28 input classified.

import { h, matrixTable, percent } from "./dom.js";

/** The same on a phone's narrow bars: whole percents, "<1%" rather than a "0%" that is not. */
const shortPercent = (p) => (p < 0.005 ? "<1%" : p > 0.995 ? ">99%" : `${Math.round(p * 100)}%`);

/** p(top) / p(runner-up) = e^(logit difference), readable from 1.1 to astronomically large. */
function odds(ratio) {
  if (ratio < 10) return ratio.toFixed(1);
  if (ratio < 1e6) return Math.round(Number(ratio.toPrecision(2))).toLocaleString("en");
  const [m, e] = ratio.toExponential(1).split("e+");
  return `${m} × 10${[...e].map((d) => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d]).join("")}`;
}

/** The 28x28 input on a canvas, white ink on black as the network sees it. */
function paintDigit(canvas, pixels) {
  const n = pixels.length;
  canvas.width = canvas.height = n;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(n, n);
  pixels.forEach((row, i) =>
    row.forEach((v, j) => {
      const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
      const o = (i * n + j) * 4;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = g;
      img.data[o + 3] = 255;
    }),
  );
  ctx.putImageData(img, 0, 0);
}

export function createPrediction(root) {
  const label = root.querySelector("#pred-label");
  const conf = root.querySelector("#pred-conf");
  const runnerUp = root.querySelector("#pred-runner-up");
  const bars = root.querySelector("#bars");
  const seen = root.querySelector("#seen");
  const seenTable = root.querySelector("#seen-table");
  const warnings = root.querySelector("#pred-warnings");
  let pixels = null;

  const rows = [];
  for (let d = 0; d < 10; d++) {
    const fill = h("span", { class: "fill" });
    const pct = h("span", { class: "pct" }, h("span", { class: "long", text: "–" }), h("span", { class: "short" }));
    const li = h("li", { class: "bar-row" }, h("span", { class: "digit", text: String(d) }), h("span", { class: "track", "aria-hidden": "true" }, fill), pct);
    bars.append(li);
    rows.push({ li, pct });
  }

  function fillTable() {
    seenTable.querySelector("table")?.remove();
    if (seenTable.open && pixels) seenTable.append(matrixTable("The 28x28 input, 0 = background, 1 = ink", pixels, 2));
  }
  seenTable.addEventListener("toggle", fillTable);

  return {
    show(result) {
      const p = result.probabilities;
      label.textContent = String(result.label);
      conf.textContent = `${percent(p[result.label])} sure`;
      // the runner-up and how far behind it is, so a near-tie is never hidden by the rounding
      const second = p.map((x, d) => [x, d]).filter(([, d]) => d !== result.label).reduce((a, b) => (b[0] > a[0] ? b : a));
      const points = (p[result.label] - second[0]) * 100;
      runnerUp.replaceChildren(
        "Runner-up: ",
        h("b", { text: String(second[1]) }),
        ` at ${percent(second[0])}, ${points > 99.9 ? "> 99.9" : points.toFixed(1)} percentage points behind; `,
        // no-break spaces keep "9 : 4" and "420,000 : 1" on one line
        `odds ${result.label}\u00a0:\u00a0${second[1]} = ${odds(Math.exp(result.logits[result.label] - result.logits[second[1]]))}\u00a0:\u00a01`,
      );
      rows.forEach(({ li, pct }, d) => {
        li.style.setProperty("--p", p[d].toFixed(4));
        pct.firstChild.textContent = percent(p[d]);
        pct.lastChild.textContent = shortPercent(p[d]);
        li.classList.toggle("top", d === result.label);
      });
      pixels = result.input.pixels;
      paintDigit(seen, pixels);
      seen.setAttribute("aria-label", `The 28 by 28 input the network classified as ${result.label}`);
      fillTable();
      warnings.replaceChildren(...(result.warnings || []).map((w) => h("li", { text: w })));
    },
    reset() {
      label.textContent = "–";
      conf.textContent = "Draw a digit to see what the network thinks.";
      runnerUp.replaceChildren();
      rows.forEach(({ li, pct }) => {
        li.style.setProperty("--p", "0");
        pct.firstChild.textContent = "–";
        pct.lastChild.textContent = "";
        li.classList.remove("top");
      });
      pixels = null;
      const ctx = seen.getContext("2d");
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, seen.width, seen.height);
      fillTable();
      warnings.replaceChildren();
    },
  };
}
