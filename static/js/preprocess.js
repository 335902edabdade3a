// The preprocessing strip: raw -> polarity -> cropped -> 20x20 -> centred 28x28, one thumbnail
// per stage, each step switchable (the API's invert / crop / scale / center options).

import { $, h } from "./dom.js";

// One slot per stage the server may return (app/imaging/preprocess.py), with the control that
// switches that step. The last slot holds "centered", or "placed" when centring is off. Slot 1
// is the picture as the user gave it (the server's "input" stage is already ink-white).
const SLOTS = [
  { names: [], heading: "1 · Your drawing", control: null },
  { names: ["polarity"], heading: "2 · White on black", control: "invert" },
  { names: ["cropped"], heading: "3 · Cropped", control: "crop" },
  { names: ["scaled"], heading: "4 · Scaled to 20 px", control: "scale" },
  { names: ["centered", "placed"], heading: "5 · Placed in 28×28", control: "center" },
];

const WHY = {
  crop: "Off: the empty margin stays, so the digit ends up small.",
  scale: "Off: the digit keeps its size; a big drawing no longer fits in 28×28.",
};

/** @param onChange() the options changed: look at the digit again */
export function createStrip(root, onChange) {
  const list = $("#strip", root);
  const controls = {};
  const slots = SLOTS.map((slot) => {
    const pic = h("div", { class: "placeholder", text: "draw a digit" });
    const title = h("p", { class: "dims" });
    let control = null;
    if (slot.control === "invert") {
      control = h(
        "select",
        { id: "opt-invert" },
        h("option", { value: "auto", text: "auto-detect" }),
        h("option", { value: "yes", text: "always invert" }),
        h("option", { value: "no", text: "never invert" }),
      );
      controls.invert = control;
      control = h("label", {}, h("span", { text: "Invert" }), control);
    } else if (slot.control) {
      const box = h("input", { type: "checkbox", id: `opt-${slot.control}`, checked: true });
      controls[slot.control] = box;
      control = h("label", {}, box, h("span", { text: slot.control === "center" ? "centre by mass" : slot.control }));
    }
    const heading = h("h4", { text: slot.heading });
    const li = h("li", { class: "step" }, h("div", { class: "pic" }, pic), heading, title, control);
    list.append(li);
    return { ...slot, li, title, heading };
  });

  const setPicture = (slot, node) => slot.li.querySelector(".pic").replaceChildren(node);

  Object.values(controls).forEach((c) => c.addEventListener("change", onChange));

  return {
    options() {
      return {
        invert: controls.invert.value,
        crop: controls.crop.checked,
        scale: controls.scale.checked,
        center: controls.center.checked,
      };
    },
    /**
     * @param result /api/explore
     * @param given {url, name}: the picture as the user drew or chose it (name: a file's name)
     */
    show(result, given) {
      const stages = result.preprocessing.stages;
      const [first, ...rest] = slots;
      first.heading.textContent = given.name ? "1 · Your picture" : "1 · Your drawing";
      if (first.li.querySelector("img")?.getAttribute("src") !== given.url) {
        const img = h("img", { src: given.url, alt: given.name ? `Your picture, ${given.name}` : "Your drawing, as drawn", class: "as-given" });
        // real sizes only: the picture's own, then the sizes the server's titles state
        img.addEventListener("load", () => {
          first.title.textContent = `${img.naturalWidth}×${img.naturalHeight} px${given.name ? `, ${given.name}` : ", as sent"}`;
        });
        setPicture(first, img);
      }
      for (const slot of rest) {
        const st = stages.find((s) => slot.names.includes(s.name));
        const off = slot.control && slot.control !== "invert" && !controls[slot.control].checked;
        slot.li.classList.toggle("off", Boolean(off));
        if (st) {
          setPicture(slot, h("img", { src: st.png, alt: st.title, width: st.width, height: st.height }));
          slot.title.textContent = st.title;
        } else {
          setPicture(slot, h("div", { class: "placeholder", text: "step switched off" }));
          slot.title.textContent = WHY[slot.control] || "";
        }
      }
      const inv = slots[1];
      if (controls.invert.value === "auto") inv.title.textContent += result.preprocessing.inverted ? " (dark ink found: inverted)" : " (already white on black)";
    },
    reset() {
      for (const slot of slots) {
        setPicture(slot, h("div", { class: "placeholder", text: "draw a digit" }));
        slot.title.textContent = "";
        slot.li.classList.remove("off");
      }
    },
  };
}
