// The verdict beside the pad: the label, ten probability bars and the 28x28 input classified.

import { h, matrixTable } from "./dom.js";

/** The 28x28 input on a canvas, white ink on black as the network sees it. */
export function paintDigit(canvas, pixels) {
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
      conf.textContent = `${(p[result.label] * 100).toFixed(1)} % sure`;
      rows.forEach(({ li, pct }, d) => {
        li.style.setProperty("--p", p[d].toFixed(4));
        pct.firstChild.textContent = `${(p[d] * 100).toFixed(1)} %`;
        pct.lastChild.textContent = `${Math.round(p[d] * 100)}%`;
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
