// The model switcher: one <select> over the zoo and what the chosen model is — its title, what it
// is in the zoo for, its test accuracy and parameter count, all from GET /api/models.

import { $, h, showError } from "./dom.js";
import { all, choose, ready, subscribe } from "./model.js";

const count = (n) => n.toLocaleString("en").replace(/,/g, "\u202f"); // 433 890

export function createSwitcher(root) {
  const select = $("#model-select", root);
  const facts = $("#model-facts", root);
  const error = $(".error", root);
  ready.then(
    () => {
      select.replaceChildren(...all().map((m) => h("option", { value: m.id, text: `${m.id}${m.default ? " (default)" : ""}` })));
      select.disabled = false;
    },
    (err) => showError(error, err),
  );
  select.addEventListener("change", () => choose(select.value));
  subscribe((m) => {
    select.value = m.id;
    const convs = m.layers.filter((l) => l.kind === "conv").length;
    facts.replaceChildren(
      h("b", { class: "model-title", text: m.title }),
      h("span", { class: "model-stats" }, m.test_accuracy == null ? "accuracy not measured" : h("b", { id: "model-accuracy", text: `${(m.test_accuracy * 100).toFixed(2)} %` }), m.test_accuracy == null ? "" : " on the MNIST test set", ` · ${count(m.param_count)} parameters · ${convs ? `${convs} conv layer${convs > 1 ? "s" : ""}` : "no conv layers"}`),
      h("span", { class: "model-shows muted", text: m.shows }),
    );
    root.dataset.model = m.id;
  });
}
