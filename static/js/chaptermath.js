// The little arithmetic the sliding-window view does itself, in one place: which window step t
// is, and the products and sum under the filter. The page shows the API's output beside the sum.

/** Step t of the slide -> [oh, ow] (row-major, as im2col's rows). */
export const windowOf = (t, ow) => [Math.floor(t / ow), t % ow];

/** The window's numbers times the filter's, tap by tap (both flat, in (c, fh, fw) order). */
export const products = (window, weights) => window.map((v, k) => v * weights[k]);

/** Their sum plus the bias: one output pixel, Fig. 7-3's last step. */
export const outputPixel = (window, weights, bias) => products(window, weights).reduce((a, b) => a + b, bias);
