// A grid of numbers drawn as gray cells on a canvas, with an optional window outlined, grid
// lines every `grid` cells and per-cell marks (true: green, false: red). Shared by the pooling
// and im2col views; the numbers come from the API as they are.

const CELL = 12;

export function drawCells(canvas, rows, { box = null, grid = 0, marks = null, filled = null, signed = false } = {}) {
  const n = rows.length;
  const m = rows[0].length;
  canvas.width = m * CELL;
  canvas.height = n * CELL;
  canvas.dataset.rows = n;
  canvas.dataset.cols = m;
  const flat = rows.flat();
  const high = Math.max(...flat.map(Math.abs), 1e-12);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  rows.forEach((row, i) =>
    row.forEach((v, j) => {
      if (filled !== null && i * m + j > filled) return; // the sliding window has not got here yet
      if (signed) {
        const t = Math.min(1, Math.abs(v) / high);
        ctx.fillStyle = v >= 0 ? `rgba(230,119,0,${t})` : `rgba(112,72,232,${t})`;
      } else {
        const g = Math.round(255 - (215 * Math.max(v, 0)) / high);
        ctx.fillStyle = `rgb(${g},${g},${g})`;
      }
      ctx.fillRect(j * CELL, i * CELL, CELL, CELL);
      if (marks) {
        ctx.strokeStyle = marks[i][j] ? "#2b8a3e" : "#e03131";
        ctx.lineWidth = 1.5;
        ctx.strokeRect(j * CELL + 1.5, i * CELL + 1.5, CELL - 3, CELL - 3);
      }
    }),
  );
  if (grid) {
    ctx.strokeStyle = "rgba(0,0,0,0.15)";
    ctx.lineWidth = 1;
    for (let k = 0; k <= Math.max(n, m); k += grid) {
      ctx.beginPath();
      ctx.moveTo(k * CELL + 0.5, 0);
      ctx.lineTo(k * CELL + 0.5, n * CELL);
      ctx.moveTo(0, k * CELL + 0.5);
      ctx.lineTo(m * CELL, k * CELL + 0.5);
      ctx.stroke();
    }
  }
  if (box) {
    ctx.strokeStyle = "#d9480f";
    ctx.lineWidth = 2;
    ctx.strokeRect(box.c * CELL + 1, box.r * CELL + 1, box.w * CELL - 2, box.h * CELL - 2);
  }
}
