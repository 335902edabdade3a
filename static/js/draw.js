// The drawing pad: pointer events (mouse, touch, pen), HiDPI canvas, smooth strokes, undo/clear.
// Strokes are kept in coordinates 0..1, so the pad can resize and the export has a fixed size.

import { h } from "./dom.js";

const LINE = 0.075; // stroke width as a fraction of the pad: gives MNIST-like digits
const EXPORT_SIZE = 280; // the picture sent to the server, whatever the screen

// Example digits for keyboard users (and a quick start): polylines in 0..1 coordinates.
const EXAMPLES = {
  0: [[[0.5, 0.2], [0.36, 0.26], [0.3, 0.42], [0.31, 0.62], [0.4, 0.77], [0.53, 0.8], [0.65, 0.72], [0.7, 0.54], [0.68, 0.35], [0.6, 0.23], [0.5, 0.2]]],
  1: [[[0.42, 0.3], [0.53, 0.2], [0.53, 0.8]]],
  2: [[[0.32, 0.32], [0.4, 0.22], [0.55, 0.2], [0.66, 0.28], [0.66, 0.4], [0.55, 0.53], [0.32, 0.78], [0.7, 0.78]]],
  3: [[[0.32, 0.25], [0.5, 0.2], [0.65, 0.28], [0.62, 0.42], [0.47, 0.48], [0.64, 0.56], [0.66, 0.7], [0.5, 0.8], [0.32, 0.75]]],
  4: [[[0.58, 0.2], [0.3, 0.6], [0.72, 0.6]], [[0.6, 0.36], [0.6, 0.82]]],
  5: [[[0.66, 0.2], [0.39, 0.2], [0.36, 0.47], [0.5, 0.43], [0.64, 0.5], [0.67, 0.66], [0.56, 0.78], [0.34, 0.76]]],
  6: [[[0.62, 0.2], [0.46, 0.34], [0.36, 0.57], [0.4, 0.75], [0.52, 0.8], [0.64, 0.72], [0.64, 0.58], [0.52, 0.51], [0.37, 0.6]]],
  7: [[[0.3, 0.22], [0.7, 0.22], [0.46, 0.8]]],
  8: [[[0.5, 0.5], [0.36, 0.39], [0.39, 0.23], [0.6, 0.22], [0.64, 0.36], [0.5, 0.5], [0.34, 0.63], [0.39, 0.79], [0.6, 0.8], [0.66, 0.64], [0.5, 0.5]]],
  9: [[[0.64, 0.33], [0.52, 0.22], [0.38, 0.28], [0.38, 0.42], [0.52, 0.46], [0.64, 0.36], [0.64, 0.22], [0.63, 0.55], [0.6, 0.8]]],
};

/** Points every ~0.015 along a polyline, so the smoothing keeps its corners. */
function densify(line) {
  const out = [];
  for (let i = 0; i < line.length - 1; i++) {
    const [x0, y0] = line[i];
    const [x1, y1] = line[i + 1];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / 0.015));
    for (let k = 0; k < n; k++) out.push({ x: x0 + ((x1 - x0) * k) / n, y: y0 + ((y1 - y0) * k) / n });
  }
  const [xl, yl] = line[line.length - 1];
  out.push({ x: xl, y: yl });
  return out;
}

/** Dark ink on white, quadratic curves through the midpoints of the sampled points. */
function paint(ctx, size, strokes) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = ctx.fillStyle = "#111";
  ctx.lineWidth = LINE * size;
  ctx.lineCap = ctx.lineJoin = "round";
  for (const s of strokes) {
    if (s.length === 1) {
      ctx.beginPath();
      ctx.arc(s[0].x * size, s[0].y * size, (LINE * size) / 2, 0, Math.PI * 2);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(s[0].x * size, s[0].y * size);
    for (let i = 1; i < s.length - 1; i++) {
      const mx = ((s[i].x + s[i + 1].x) / 2) * size;
      const my = ((s[i].y + s[i + 1].y) / 2) * size;
      ctx.quadraticCurveTo(s[i].x * size, s[i].y * size, mx, my);
    }
    const last = s[s.length - 1];
    ctx.lineTo(last.x * size, last.y * size);
    ctx.stroke();
  }
}

/**
 * @param root   the element holding canvas#pad, #undo, #clear, #example and .pad-empty
 * @param onChange(kind) kind: "move" while a stroke grows, "end" when it ends, "edit" after
 *        undo / clear / example. Read the drawing with pad.isEmpty() and pad.toDataURL().
 */
export function createPad(root, onChange) {
  const canvas = root.querySelector("canvas");
  const hint = root.querySelector(".pad-empty");
  const undoBtn = root.querySelector("#undo");
  const clearBtn = root.querySelector("#clear");
  const example = root.querySelector("#example");
  const strokes = [];
  let active = null; // { id, stroke } of the pointer that is drawing
  let frame = 0;

  for (let d = 0; d <= 9; d++) example.append(h("option", { value: String(d), text: `Example ${d}` }));

  function size() {
    return canvas.clientWidth;
  }

  function redraw() {
    frame = 0;
    const css = size();
    const dpr = window.devicePixelRatio || 1;
    const px = Math.round(css * dpr);
    if (canvas.width !== px || canvas.height !== px) {
      canvas.width = px;
      canvas.height = px;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(px / css, 0, 0, px / css, 0, 0);
    paint(ctx, css, strokes);
    hint.hidden = strokes.length > 0;
    undoBtn.disabled = clearBtn.disabled = strokes.length === 0;
  }
  const requestRedraw = () => {
    if (!frame) frame = requestAnimationFrame(redraw);
  };

  function point(e) {
    const r = canvas.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return { x: clamp((e.clientX - r.left) / r.width), y: clamp((e.clientY - r.top) / r.height) };
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (active || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    active = { id: e.pointerId, stroke: [point(e)] };
    strokes.push(active.stroke);
    requestRedraw();
    onChange("move");
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!active || e.pointerId !== active.id) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) active.stroke.push(point(ev));
    requestRedraw();
    onChange("move");
  });
  const end = (e) => {
    if (!active || e.pointerId !== active.id) return;
    active = null;
    requestRedraw();
    onChange("end");
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  function undo() {
    if (!strokes.length) return;
    strokes.pop();
    redraw();
    onChange("edit");
  }
  function clear() {
    strokes.length = 0;
    redraw();
    onChange("edit");
  }
  undoBtn.addEventListener("click", undo);
  clearBtn.addEventListener("click", clear);
  canvas.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
      e.preventDefault();
      undo();
    } else if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      clear();
    }
  });
  example.addEventListener("change", () => {
    if (example.value === "") return;
    strokes.length = 0;
    for (const line of EXAMPLES[example.value]) strokes.push(densify(line));
    example.value = "";
    redraw();
    onChange("edit");
  });

  new ResizeObserver(requestRedraw).observe(canvas);
  // A pinch-zoom or a move to another screen changes devicePixelRatio without a resize.
  const watchDpr = () =>
    matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener(
      "change",
      () => {
        requestRedraw();
        watchDpr();
      },
      { once: true },
    );
  watchDpr();
  redraw();

  return {
    isEmpty: () => strokes.length === 0,
    /** The drawing at a fixed 280x280, dark ink on white, as a PNG data URL. */
    toDataURL() {
      const off = document.createElement("canvas");
      off.width = off.height = EXPORT_SIZE;
      paint(off.getContext("2d"), EXPORT_SIZE, strokes);
      return off.toDataURL("image/png");
    },
  };
}
