// Wires the views together. Each view owns its own state; this module only passes the
// current digit (a drawing or an uploaded file) through /api/explore and hands out the result.

import { getOnce, latestOnly, postFile, postJSON } from "./api.js";
import { createSwitcher } from "./switcher.js";
import { layerNamed, modelQuery, subscribe, withModel } from "./model.js";
import { $, showError } from "./dom.js";
import { createPad } from "./draw.js";
import { createFilterTimeline } from "./filter-timeline.js";
import { createFilters } from "./filters.js";
import { createMaps } from "./maps.js";
import { createPixel } from "./pixel.js";
import { createPlayground } from "./playground.js";
import { createPrediction } from "./prediction.js";
import { createStrip } from "./preprocess.js";
import { createTraining } from "./training.js";
import { createUpload } from "./upload.js";

const THROTTLE_MS = 120; // while a stroke grows, look at it this often (one request at a time)

const drawSection = $("#draw");
const digitError = $("#digit-error");
// The filters of one conv layer of the chosen model (cached per model and layer).
const filtersOf = (layer) => getOnce(withModel("/api/filters", { layer }));

const prediction = createPrediction($("#draw"));
const pixel = createPixel($("#pixel"));
let current = null; // the last /api/explore result shown
const maps = createMaps($("#inside"), filtersOf, (at) => {
  const result = current;
  if (!result || !at) return;
  const name = result.stages[at.index].name;
  // a failed /api/filters is reported in the Filters section; here there is then no sum to show
  filtersOf(name).then((f) => result === current && pixel.show(result, f.learned, layerNamed(name), at), () => {});
});

let source = null; // { image: dataURL } from the pad, or { file, url } from the photo section
let timer = null;

const explorer = latestOnly(
  ({ src, options }) => {
    // While a stroke grows only the pictures are needed; the numbers (5x the bytes) come with
    // the request made when the stroke ends.
    const query = { ...options, ...modelQuery(), values: !src.live };
    return src.file ? postFile("/api/explore", src.file, query) : postJSON("/api/explore", { image: src.image }, query);
  },
  {
    onBusy: () => updateBusy(),
    onResult: (result, { src, model }) => {
      if (!source || model !== modelQuery().model) return; // cleared, or another model chosen, while it ran
      showError(digitError, null);
      current = result;
      $("#pred-source").textContent = src.file ? `from ${src.file.name}` : "from your drawing";
      prediction.show(result);
      strip.show(result, src.file ? { url: src.url, name: src.file.name } : { url: src.image });
      maps.show(result);
      document.dispatchEvent(new CustomEvent("explored", { detail: { result, live: !!src.live } })); // the Why view
    },
    onError: (err) => showError(digitError, err),
  },
);

function updateBusy() {
  drawSection.dataset.busy = String(explorer.busy || timer !== null);
}

function look() {
  if (!source) return;
  explorer.schedule({ src: source, options: strip.options(), model: modelQuery().model });
  updateBusy();
}

/** The picture being read; a chosen file's object URL is released once it is replaced. */
function use(next) {
  if (source && source.url) URL.revokeObjectURL(source.url);
  source = next;
}

function reset() {
  use(null);
  current = null;
  showError(digitError, null);
  $("#pred-source").textContent = "";
  prediction.reset();
  strip.reset();
  maps.reset();
  document.dispatchEvent(new CustomEvent("explored", { detail: null }));
  updateBusy();
}

const strip = createStrip($("#preprocess"), look);

const pad = createPad($("#pad-card"), (kind) => {
  if (pad.isEmpty()) {
    clearTimeout(timer);
    timer = null;
    reset();
    return;
  }
  const snapshot = (live) => {
    timer = null;
    use({ image: pad.toDataURL(), live });
    look();
  };
  if (kind === "move") {
    if (timer === null) timer = setTimeout(() => snapshot(true), THROTTLE_MS);
    updateBusy();
  } else {
    clearTimeout(timer);
    snapshot(false);
  }
});

createUpload($("#photo"), (file) => {
  use({ file, url: URL.createObjectURL(file) });
  look();
  $("#draw").scrollIntoView({ behavior: "smooth", block: "start" });
});
createFilters($("#filters"));
createFilterTimeline($("#filter-timeline"));
createSwitcher($("#model-bar"));
// another model: the same drawing or picture through it
subscribe(() => look());
createPlayground($("#size"));
createTraining($("#training"));
reset();

// The sticky nav marks the section in view.
const links = new Map([...document.querySelectorAll(".sections a")].map((a) => [a.hash.slice(1), a]));
const spy = new IntersectionObserver(
  (entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      links.forEach((a, id) => {
        a.classList.toggle("current", id === e.target.id);
        if (id === e.target.id) a.setAttribute("aria-current", "location");
        else a.removeAttribute("aria-current");
      });
    }
  },
  { rootMargin: "-45% 0px -50% 0px" },
);
links.forEach((_, id) => spy.observe(document.getElementById(id)));
document.body.classList.add("ready");
