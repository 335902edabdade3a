// The one API client: JSON in and out, readable errors, and a "latest wins" scheduler.

import { showError } from "./dom.js";

class ApiError extends Error {
  constructor(status, detail) {
    super(readable(detail) || `the server answered ${status}`);
    this.status = status;
  }
}

/** FastAPI's {"detail": ...} is a string, or a list of pydantic errors with msg and loc. */
function readable(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => {
        const where = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "query" && p !== "body").join(".") : "";
        return where ? `${where}: ${d.msg}` : d.msg || JSON.stringify(d);
      })
      .join("; ");
  }
  return detail == null ? "" : JSON.stringify(detail);
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function call(method, path, { query, json, form, signal } = {}) {
  const init = { method, signal, headers: { Accept: "application/json" } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "the server could not be reached; is it still running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON: handled below */
  }
  if (!response.ok) throw new ApiError(response.status, body && body.detail);
  if (body === null) throw new ApiError(response.status, "the server sent an answer that is not JSON");
  return body;
}

export const getJSON = (path, query, opts = {}) => call("GET", path, { ...opts, query });
export const postJSON = (path, json, query, opts = {}) => call("POST", path, { ...opts, json, query });

/** Multipart upload: the picture as 'file', plus any text `fields` (e.g. a JSON kernel). */
export function postFile(path, blob, query, { fields = {}, ...opts } = {}) {
  const form = new FormData();
  form.append("file", blob, blob.name || "image.png");
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return call("POST", path, { ...opts, form, query });
}

/** Cached GETs for data that never changes while the page is open (filters, model). */
const cache = new Map();
export function getOnce(path) {
  if (!cache.has(path)) {
    const p = getJSON(path);
    p.catch(() => cache.delete(path)); // a failed fetch may be retried later
    cache.set(path, p);
  }
  return cache.get(path);
}

/**
 * At most one call of `run(arg)` in flight. A call made while one is running replaces any
 * call still waiting, so the last request always runs and nothing piles up.
 * `onResult(result, arg)` / `onError(err, arg)` get every finished call; `onBusy(bool)` tracks
 * whether anything is running or waiting.
 */
export function latestOnly(run, { onResult, onError, onBusy } = {}) {
  let running = false;
  let waiting = null; // { arg } or null
  const busy = (b) => onBusy && onBusy(b);

  async function pump(arg) {
    running = true;
    busy(true);
    try {
      const result = await run(arg);
      // Results arrive in order, so showing each one keeps the view live while drawing.
      if (onResult) onResult(result, arg);
    } catch (err) {
      if (!waiting && onError) onError(err, arg); // a newer request may already fix it
    }
    running = false;
    if (waiting) {
      const next = waiting.arg;
      waiting = null;
      pump(next);
    } else {
      busy(false);
    }
  }

  return {
    schedule(arg) {
      if (running) waiting = { arg };
      else pump(arg);
    },
    get busy() {
      return running || waiting !== null;
    },
  };
}

/** A chapter view's requests, the newest winning: an answer a newer request overtook is
 * dropped; the view's data-busy and its error element follow the newest request. drop()
 * forgets the one in flight, for a view left with nothing to ask. */
export function newestWins(root, error) {
  let asked = 0;
  return {
    async post(url, body, query, show) {
      const mine = ++asked;
      root.dataset.busy = "true";
      try {
        const r = await postJSON(url, body, query);
        if (mine !== asked) return;
        showError(error, null);
        show(r);
      } catch (err) {
        if (mine === asked) showError(error, err);
      } finally {
        if (mine === asked) root.dataset.busy = "false";
      }
    },
    drop() {
      asked++;
      root.dataset.busy = "false";
    },
  };
}
