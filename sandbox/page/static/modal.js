// The bot's forms (modals): a dialog with its text inputs (short or paragraph, lengths, required,
// pre-filled values, placeholders) and selects, checked as the Discord client checks them before
// it submits through the page's API.

import { ApiError, h } from "./dom.js";

// Each input of the modal: {custom_id, kind: "text"|"select", label, description, spec}.
function inputsOf(components, label = null, description = null) {
  const found = [];
  for (const item of components || []) {
    if (item.type === 1) found.push(...inputsOf(item.components, label, description));
    else if (item.type === 18) found.push(...inputsOf([item.component], item.label, item.description));
    else if (item.type === 4) found.push({ custom_id: item.custom_id, kind: "text", label: label || item.label, description, spec: item });
    else if (item.type === 3) found.push({ custom_id: item.custom_id, kind: "select", label: label || item.placeholder, description, spec: item });
    else if (item.type === 10) found.push({ kind: "note", content: item.content });
  }
  return found;
}

export function openModal(root, modal, submit) {
  const inputs = inputsOf(modal.components);
  const error = h("div", { class: "modal-error", role: "alert" });
  const fields = inputs.map((input) => field(input));
  const close = () => { root.hidden = true; root.replaceChildren(); document.removeEventListener("keydown", onKey); };
  const onKey = (ev) => { if (ev.key === "Escape") close(); };
  const submitButton = h("button", { class: "button primary", type: "submit" }, "Submit");
  const form = h("form", { class: "modal", onsubmit: async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const f of fields) {
      if (!f.input.custom_id) continue;
      const problem = f.check();
      if (problem) { error.textContent = problem; f.focus(); return; }
      values[f.input.custom_id] = f.value();
    }
    submitButton.disabled = true;
    error.textContent = "";
    try {
      await submit(values);
      close();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : String(err);
      submitButton.disabled = false;
    }
  } },
  h("div", { class: "modal-header" }, h("div", { class: "app-icon" }, "U"), h("h2", {}, modal.title || "Form"),
    h("button", { class: "modal-close", type: "button", title: "Close", onclick: close }, "✕")),
  h("div", { class: "modal-body" }, fields.map((f) => f.node)),
  error,
  h("div", { class: "modal-footer" }, h("button", { class: "button ghost", type: "button", onclick: close }, "Cancel"), submitButton));
  root.replaceChildren(h("div", { class: "modal-backdrop", onclick: close }), form);
  root.hidden = false;
  document.addEventListener("keydown", onKey);
  const first = form.querySelector("input, textarea");
  if (first) first.focus();
}

function field(input) {
  if (input.kind === "note") return { input, node: h("div", { class: "modal-note" }, input.content), check: () => null, value: () => null, focus() {} };
  if (input.kind === "select") return selectField(input);
  return textField(input);
}

function textField(input) {
  const spec = input.spec;
  const required = spec.required !== false;
  const attrs = { placeholder: spec.placeholder || "", maxlength: spec.max_length ?? 4000, value: spec.value || "" };
  const control = spec.style === 2 ? h("textarea", { ...attrs, rows: 4 }) : h("input", { ...attrs, type: "text" });
  if (spec.style === 2) control.value = spec.value || "";
  const counter = h("span", { class: "counter muted small" });
  const update = () => { counter.textContent = spec.max_length ? `${control.value.length}/${spec.max_length}` : ""; };
  control.addEventListener("input", update);
  update();
  const node = h("label", { class: "modal-field" },
    h("div", { class: "modal-label" }, input.label || spec.custom_id, required ? h("span", { class: "required" }, " *") : null),
    input.description ? h("div", { class: "muted small" }, input.description) : null,
    control, counter);
  return {
    input, node,
    value: () => control.value,
    focus: () => control.focus(),
    check: () => {
      const text = control.value;
      if (required && !text) return `${input.label || "This field"} is required.`;
      if (text && spec.min_length && text.length < spec.min_length) return `${input.label} needs at least ${spec.min_length} characters.`;
      if (spec.max_length && text.length > spec.max_length) return `${input.label} takes at most ${spec.max_length} characters.`;
      return null;
    },
  };
}

function selectField(input) {
  const spec = input.spec;
  const max = spec.max_values ?? 1;
  const control = h("select", { multiple: max > 1 },
    max > 1 ? null : h("option", { value: "" }, spec.placeholder || "Choose…"),
    (spec.options || []).map((o) => h("option", { value: o.value, selected: !!o.default }, o.label)));
  const node = h("label", { class: "modal-field" }, h("div", { class: "modal-label" }, input.label || spec.custom_id), control);
  const chosen = () => [...control.selectedOptions].map((o) => o.value).filter(Boolean);
  return {
    input, node,
    value: chosen,
    focus: () => control.focus(),
    check: () => {
      const min = spec.min_values ?? 1;
      if (spec.required !== false && chosen().length < min) return `Choose at least ${min} for ${input.label || "the menu"}.`;
      return null;
    },
  };
}
