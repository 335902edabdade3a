// The chapter's arithmetic, once, for every view that explains a number: output size, the
// window a conv pixel reads (stride, zero padding, every input channel), the products and their
// sums, the im2col row, and what a pooling window keeps. Views call these and only draw.
// Arrays are plain nested lists: a map is [H][W], a stack of maps (C, H, W) is [C][H][W].

/**
 * OH = floor((H + 2P - D(FH - 1) - 1) / S) + 1, the same rule as app/engine/shapes.py: a filter
 * of FH taps D pixels apart covers D(FH - 1) + 1 pixels (D = 1: the chapter's FH). The floor
 * when S does not divide (exact false), an error when the filter covers more than the padded
 * input. span is what S divides; covered the pixels one window spans.
 */
export function outputLength(n, f, p, s, d = 1) {
  const covered = d * (f - 1) + 1;
  const span = n + 2 * p - covered;
  if (span < 0) {
    const what = d > 1 ? `with its taps ${d} apart covers ${covered} pixels, more than` : "is larger than";
    return { error: `the filter (${f}) ${what} the padded input (${n} + 2·${p} = ${n + 2 * p})`, covered };
  }
  return { size: Math.floor(span / s) + 1, exact: span % s === 0, raw: span / s + 1, span, covered };
}

/**
 * The transposed convolution's output length, PyTorch's conv_transpose2d rule (the same as
 * app/explorer/output_size.py): OH = (H - 1)S - 2P + D(FH - 1) + output_padding + 1, with
 * output_padding below S or below D, and an error when the padding leaves nothing.
 * H is the transposed convolution's input (a forward's OH). Always exact: no division.
 */
export function transposedLength(n, f, p, s, d = 1, op = 0) {
  if (!(op < s || op < d)) return { error: `output_padding ${op} must be below S = ${s} or below D = ${d}`, field: "op" };
  const covered = d * (f - 1) + 1;
  const size = (n - 1) * s - 2 * p + covered + op;
  if (size < 1) return { error: `the padding P = ${p} cuts away the whole output (${String(size).replace("-", "−")} left)`, field: "P", size };
  return { size, exact: true, covered };
}

const outputSize = (H, FH, P, S) => outputLength(H, FH, P, S).size;

/** One input value, 0 in the zero padding outside the map. */
const at = (map, r, c) => (r < 0 || c < 0 || r >= map.length || c >= map[0].length ? 0 : map[r][c]);

/** The FH x FW window of one map that output pixel (i, j) reads; top/left may be negative (padding). */
function windowOf(map, i, j, [fh, fw], stride, pad) {
  const top = i * stride - pad;
  const left = j * stride - pad;
  const values = Array.from({ length: fh }, (_, a) => Array.from({ length: fw }, (_, b) => at(map, top + a, left + b)));
  return { top, left, values };
}

const sum = (xs) => xs.reduce((s, v) => s + v, 0);

/**
 * Conv pixel (i, j) of one filter: per input channel c the window, the filter's channel slice
 * W[c], their products and the partial sum; then the total over channels, the bias, the value.
 * input: (C, H, W); weights: (C, FH, FW).
 */
export function convPixel(input, weights, bias, i, j, stride, pad) {
  const size = [weights[0].length, weights[0][0].length];
  const channels = weights.map((W, c) => {
    const win = windowOf(input[c], i, j, size, stride, pad);
    const products = win.values.map((row, a) => row.map((v, b) => v * W[a][b]));
    return { c, top: win.top, left: win.left, window: win.values, weights: W, products, sum: sum(products.flat()) };
  });
  const total = sum(channels.map((ch) => ch.sum));
  return { channels, total, bias, value: total + bias };
}

/** im2col: one row per output pixel, its C*FH*FW window values in (c, a, b) order. */
function im2colRow(input, i, j, [fh, fw], stride, pad) {
  return input.flatMap((map) => windowOf(map, i, j, [fh, fw], stride, pad).values.flat());
}

export function im2col(input, [fh, fw], stride, pad) {
  const oh = outputSize(input[0].length, fh, pad, stride);
  const ow = outputSize(input[0][0].length, fw, pad, stride);
  const rows = [];
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) rows.push(im2colRow(input, i, j, [fh, fw], stride, pad));
  return rows;
}

/** A filter (C, FH, FW) flattened in the same (c, a, b) order: its column of W. */
export const filterColumn = (weights) => weights.flat(2);

/** Row r of col times a column of W, term by term. */
export function dot(row, column) {
  const products = row.map((v, c) => v * column[c]);
  return { products, sum: sum(products) };
}

/**
 * Pool pixel (i, j): its window of the map it reads, what the pool keeps (the largest value, or
 * the mean) and, for max, the winner: the first maximum in reading order, the one backprop
 * sends the gradient to (the engine breaks ties the same way).
 */
export function poolPixel(map, i, j, [ph, pw], stride, mode = "max") {
  const win = windowOf(map, i, j, [ph, pw], stride, 0);
  const flat = win.values.flat();
  const best = Math.max(...flat);
  const winner = flat.indexOf(best);
  const mean = sum(flat) / flat.length;
  return {
    top: win.top,
    left: win.left,
    window: win.values,
    mode,
    value: mode === "avg" ? mean : best,
    winner,
    ties: flat.filter((x) => x === best).length,
    // where the winner sits in the map that was pooled
    at: [win.top + Math.floor(winner / pw), win.left + (winner % pw)],
  };
}

/** The pixel of the map a ReLU / pool pixel comes from, back to the nearest conv stage. */
export function traceToConv(stages, layers, index, k, i, j) {
  let at = index;
  while (at >= 0 && stages[at].kind !== "conv") {
    const s = stages[at];
    const prev = stages[at - 1];
    if (!prev) return null;
    if (s.kind === "pool") {
      const L = layers.find((l) => l.index === s.layer); // the list starts with the input (index -1)
      const values = prev.maps[k].values;
      if (values) [i, j] = poolPixel(values, i, j, L.size, L.stride, "max").at;
      else [i, j] = [i * L.stride, j * L.stride];
    }
    at -= 1;
  }
  return at < 0 ? null : { index: at, k, i, j };
}

/**
 * The receptive field of layer `upto` (a conv or pool): how many input pixels a unit sees along a
 * side (size), how far apart neighbouring units' fields start (jump) and where unit 0's starts
 * (offset, negative in the padding). The same walk as app/model/receptive.py.
 */
export function receptiveField(layers, upto) {
  let [size, jump, offset] = [1, 1, 0];
  for (const l of layers) {
    if (l.index < 0 || (l.kind !== "conv" && l.kind !== "pool")) continue;
    offset -= (l.kind === "conv" ? l.pad : 0) * jump;
    size += (l.size[0] - 1) * jump;
    jump *= l.stride;
    if (l.index === upto) break;
  }
  return { size, jump, offset };
}

/** [top, left, bottom, right] of the input pixels unit (i, j) sees, inclusive, padding cut off. */
export function fieldBox({ size, jump, offset }, i, j, H, W) {
  const [top, left] = [offset + i * jump, offset + j * jump];
  return [Math.max(top, 0), Math.max(left, 0), Math.min(top + size - 1, H - 1), Math.min(left + size - 1, W - 1)];
}
