// The chosen model of the zoo: one small store the views subscribe to. GET /api/models says
// what each model is (layers, shapes, accuracy); every network call carries `model=<id>`.

import { getOnce } from "./api.js";

const listeners = new Set();
let models = [];
let current = null;

/** Resolves once /api/models has answered and a model is chosen (?model= in the URL, else the default). */
export const ready = getOnce("/api/models").then((list) => {
  models = list;
  const wanted = new URLSearchParams(location.search).get("model");
  current = list.find((m) => m.id === wanted) || list.find((m) => m.default) || list[0];
  return current;
});

export const all = () => models;

/** The query every network route takes. */
export const modelQuery = () => (current ? { model: current.id } : {});

/** `path?model=id&...`, for cached GETs. */
export function withModel(path, extra = {}) {
  const q = new URLSearchParams({ ...modelQuery(), ...extra });
  return `${path}?${q}`;
}

/** fn(model) now (once ready) and on every change; returns an unsubscribe. */
export function subscribe(fn) {
  listeners.add(fn);
  if (current) fn(current);
  return () => listeners.delete(fn);
}
ready.then((m) => listeners.forEach((fn) => fn(m)), () => {});

export function choose(id) {
  const next = models.find((m) => m.id === id);
  if (!next || next === current) return;
  current = next;
  const url = new URL(location.href);
  url.searchParams.set("model", id);
  history.replaceState(null, "", url);
  listeners.forEach((fn) => fn(current));
}

/** The layer of the chosen model with this name (conv1, pool2, ...). */
export const layerNamed = (name, m = current) => m && m.layers.find((l) => l.name === name);
