// The message box: plain messages, and slash commands the way the Discord client does them.
// Typing "/" lists the commands (and subcommands) this member is offered; picking one turns the
// box into option fields (required ones at once, optional ones from the bar above); each field
// suggests what its type allows (choices, True/False, members, channels, roles) or what the bot
// answers to autocomplete as you type; required options and lengths/bounds are checked before
// the command is sent. Errors show as a red line under the box.

import { ApiError, h } from "./dom.js";

const SUB_COMMAND = 1, SUB_COMMAND_GROUP = 2;
const STRING = 3, INTEGER = 4, BOOLEAN = 5, USER = 6, CHANNEL = 7, ROLE = 8, MENTIONABLE = 9, NUMBER = 10, ATTACHMENT = 11;
const TYPE_NAMES = { 3: "text", 4: "whole number", 5: "true/false", 6: "member", 7: "channel", 8: "role", 9: "member or role", 10: "number", 11: "file" };
const AUTOCOMPLETE_DELAY = 200;

export function commandLeaves(commands) {
  const leaves = [];
  for (const command of commands) {
    const options = command.options || [];
    const subs = options.filter((o) => o.type === SUB_COMMAND || o.type === SUB_COMMAND_GROUP);
    if (!subs.length) { leaves.push({ command, path: [], description: command.description, options }); continue; }
    for (const sub of subs) {
      if (sub.type === SUB_COMMAND) leaves.push({ command, path: [sub.name], description: sub.description, options: sub.options || [] });
      else for (const inner of sub.options || []) leaves.push({ command, path: [sub.name, inner.name], description: inner.description, options: inner.options || [] });
    }
  }
  return leaves.map((leaf) => ({ ...leaf, name: [leaf.command.name, ...leaf.path].join(" ") }));
}

export class Composer {
  // app: { state(), sendMessage(text), runCommand(leaf, options), autocomplete(leaf, options, focused, value) }
  constructor(root, app) {
    this.app = app;
    this.leaf = null;
    this.fields = [];
    this.items = [];
    this.highlight = 0;
    this.focused = null;
    this.autocompleteSeq = 0;
    this.popup = h("div", { class: "composer-popup", hidden: true });
    this.optionalBar = h("div", { class: "optional-bar", hidden: true });
    this.chip = h("span", { class: "command-chip", hidden: true });
    this.fieldBox = h("div", { class: "fields" });
    this.text = h("textarea", { rows: 1, class: "composer-text", "aria-label": "Message" });
    this.status = h("div", { class: "composer-status" });
    this.error = h("div", { class: "composer-error", role: "alert" });
    this.sendButton = h("button", { class: "send", type: "button", title: "Send", onclick: () => this.submit() }, "➤");
    this.box = h("div", { class: "composer-box" }, this.chip, this.fieldBox, this.text, this.sendButton);
    root.replaceChildren(this.popup, this.optionalBar, this.box, this.status, this.error);
    this.text.addEventListener("input", () => { this.autosize(); this.onTextInput(); });
    this.text.addEventListener("keydown", (ev) => this.onTextKey(ev));
    this.text.addEventListener("blur", () => setTimeout(() => { if (!this.leaf && !this.box.contains(document.activeElement)) this.hidePopup(); }, 150));
  }

  // -- state from the page ---------------------------------------------------------------------

  update(state, channelChanged) {
    const channel = state.channel;
    this.leaves = commandLeaves(state.commands);
    if (channelChanged) { this.reset(); this.showError(""); }
    if (this.leaf && !this.leaves.some((l) => l.name === this.leaf.name)) this.reset();
    const placeholder = channel.can_send
      ? `Message ${channel.kind === "dm" ? "@" : "#"}${channel.name} — type / for commands`
      : channel.kind === "dm"
        ? "In the sandbox, talk to the bot with its commands in the server."
        : "You do not have permission to send messages in this channel.";
    this.text.placeholder = placeholder;
    const usable = channel.can_send || this.leaves.length > 0;
    this.text.disabled = !usable;
    this.sendButton.disabled = !usable;
    this.box.classList.toggle("disabled", !usable);
  }

  reset() {
    this.leaf = null;
    this.fields = [];
    this.focused = null;
    this.chip.hidden = true;
    this.fieldBox.replaceChildren();
    this.optionalBar.hidden = true;
    this.text.hidden = false;
    this.text.value = "";
    this.autosize();
    this.hidePopup();
  }

  autosize() {
    this.text.style.height = "auto";
    this.text.style.height = Math.min(this.text.scrollHeight, 200) + "px";
  }

  showError(message) { this.error.textContent = message || ""; }

  // -- plain text and the command list ---------------------------------------------------------

  onTextInput() {
    this.showError("");
    const value = this.text.value;
    if (value.startsWith("/") && !value.includes("\n")) {
      const typed = value.slice(1).trim().toLowerCase();
      const starts = this.leaves.filter((l) => l.name.startsWith(typed));
      const within = typed ? this.leaves.filter((l) => !l.name.startsWith(typed) && l.name.includes(typed)) : [];
      const matches = [...starts, ...within];
      this.showItems(`Commands matching /${typed}`, matches.map((leaf) => ({
        label: "/" + leaf.name, detail: leaf.description, pick: () => this.startCommand(leaf),
      })), matches.length ? null : "No commands match.");
    } else {
      this.hidePopup();
    }
  }

  onTextKey(ev) {
    if (this.popupKeys(ev)) return;
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); this.submit(); }
  }

  popupKeys(ev) {
    if (this.popup.hidden || !this.items.length) return false;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const step = ev.key === "ArrowDown" ? 1 : -1;
      this.highlight = (this.highlight + step + this.items.length) % this.items.length;
      this.paintHighlight();
      return true;
    }
    if (ev.key === "Enter" || ev.key === "Tab") {
      ev.preventDefault();
      this.items[this.highlight].pick();
      return true;
    }
    if (ev.key === "Escape") { ev.preventDefault(); this.hidePopup(); return true; }
    return false;
  }

  // -- the popup above the box -----------------------------------------------------------------

  showItems(title, items, empty) {
    this.items = items;
    this.highlight = 0;
    const list = items.map((item, i) => h("div", {
      class: "popup-item", role: "option",
      onmousedown: (ev) => { ev.preventDefault(); item.pick(); },
      onmouseenter: () => { this.highlight = i; this.paintHighlight(); },
    }, h("span", { class: "popup-label" }, item.label), item.detail ? h("span", { class: "popup-detail" }, item.detail) : null));
    const tail = empty ? [h("div", { class: "popup-empty" }, empty)] : [];
    this.popup.replaceChildren(h("div", { class: "popup-title" }, title), ...list, ...tail);
    this.popup.hidden = false;
    this.paintHighlight();
  }

  paintHighlight() {
    [...this.popup.querySelectorAll(".popup-item")].forEach((node, i) => node.classList.toggle("active", i === this.highlight));
  }

  hidePopup() { this.popup.hidden = true; this.items = []; }

  // -- command mode ----------------------------------------------------------------------------

  startCommand(leaf) {
    this.reset();
    this.leaf = leaf;
    this.text.hidden = true;
    this.chip.hidden = false;
    this.chip.textContent = "/" + leaf.name;
    for (const option of leaf.options.filter((o) => o.required)) this.addField(option);
    this.paintOptional();
    if (this.fields.length) this.fields[0].focus();
    else { this.showItems("/" + leaf.name, [], leaf.description + " — press Enter to send."); this.sendButton.focus(); }
    this.sendButton.onkeydown = (ev) => {
      if (!this.leaf) return;
      if (ev.key === "Enter") { ev.preventDefault(); this.submit(); }
      if (ev.key === "Escape" || ev.key === "Backspace") { ev.preventDefault(); this.reset(); this.text.focus(); }
    };
  }

  paintOptional() {
    const taken = new Set(this.fields.map((f) => f.option.name));
    const optional = this.leaf.options.filter((o) => !o.required && !taken.has(o.name));
    this.optionalBar.hidden = !optional.length;
    this.optionalBar.replaceChildren(h("span", { class: "optional-title" }, "OPTIONAL"),
      ...optional.map((o) => h("button", { type: "button", class: "optional-chip", title: o.description,
        onclick: () => { const field = this.addField(o); this.paintOptional(); field.focus(); } }, o.name)));
  }

  addField(option) {
    const field = new OptionField(option, this);
    this.fields.push(field);
    this.fieldBox.append(field.node);
    return field;
  }

  removeField(field) {
    this.fields = this.fields.filter((f) => f !== field);
    field.node.remove();
    this.paintOptional();
    if (!this.fields.length) this.sendButton.focus();
    else this.fields[this.fields.length - 1].focus();
  }

  fieldValues(except) {
    const values = {};
    for (const field of this.fields) {
      if (field === except) continue;
      const value = field.rawValue();
      if (value !== null && value !== "") values[field.option.name] = value;
    }
    return values;
  }

  async suggest(field) {
    this.focused = field;
    const option = field.option;
    const title = [h("strong", {}, option.name), option.description ? h("span", { class: "popup-description" }, " — " + option.description) : null];
    const typed = field.input.value.trim().toLowerCase();
    const pickFrom = (choices) => choices
      .filter((c) => !typed || c.label.toLowerCase().includes(typed))
      .slice(0, 25)
      .map((c) => ({ label: c.label, detail: c.detail, pick: () => field.pick(c.value, c.label) }));
    if (option.autocomplete) {
      const seq = ++this.autocompleteSeq;
      this.showItems(title, [], "Loading…");
      await new Promise((resolve) => setTimeout(resolve, AUTOCOMPLETE_DELAY));
      if (seq !== this.autocompleteSeq || this.focused !== field) return;
      try {
        const choices = await this.app.autocomplete(this.leaf, this.fieldValues(field), option.name, field.input.value);
        if (seq !== this.autocompleteSeq || this.focused !== field) return;
        this.showItems(title, choices.map((c) => ({ label: c.name, pick: () => field.pick(c.value, c.name) })), choices.length ? null : "The bot offers nothing for that.");
      } catch (err) {
        if (seq === this.autocompleteSeq) this.showItems(title, [], err.message);
      }
      return;
    }
    const offered = this.app.optionChoices(option);
    if (offered) {
      const items = pickFrom(offered);
      this.showItems(title, items, items.length ? null : "Nothing matches.");
    } else {
      this.showItems(title, [], constraints(option));
    }
  }

  // -- sending ---------------------------------------------------------------------------------

  async submit() {
    if (this.leaf) return this.submitCommand();
    const text = this.text.value;
    if (!text.trim()) return;
    if (text.startsWith("/") && !text.includes("\n")) {
      const exact = this.leaves.find((l) => "/" + l.name === text.trim());
      if (exact) { this.startCommand(exact); return; }
      this.showError("Pick a command from the list (type / to see them).");
      return;
    }
    await this.busy("", async () => {
      this.text.value = ""; // cleared at once: what is typed meanwhile is the next message
      try { await this.app.sendMessage(text); } catch (err) { this.text.value = text; throw err; }
      this.reset();
    });
  }

  async submitCommand() {
    const options = {};
    for (const field of this.fields) {
      const problem = field.problem();
      if (problem) { this.showError(problem); field.focus(); return; }
      const value = await field.value();
      if (value !== null && value !== "") options[field.option.name] = value;
    }
    const leaf = this.leaf;
    await this.busy(`Sending /${leaf.name}…`, async () => {
      this.reset();
      try {
        await this.app.runCommand(leaf, options);
      } catch (err) {
        this.startCommand(leaf);  // put it back so the member can fix it
        for (const [name, value] of Object.entries(options)) {
          const option = leaf.options.find((o) => o.name === name);
          const field = this.fields.find((f) => f.option.name === name) || this.addField(option);
          field.restore(value);
        }
        this.paintOptional();
        throw err;
      }
    });
  }

  async busy(status, work) {
    if (this.sending) return; // Enter pressed again while the first send is on its way
    this.sending = true;
    this.status.textContent = status;
    this.showError("");
    this.sendButton.disabled = true;
    try {
      await work();
    } catch (err) {
      this.showError(err instanceof ApiError ? err.message : String(err));
    } finally {
      this.status.textContent = "";
      this.sendButton.disabled = false;
      this.sending = false;
    }
  }
}

function constraints(option) {
  const parts = [TYPE_NAMES[option.type] || "value"];
  if (option.min_length !== undefined) parts.push(`at least ${option.min_length} characters`);
  if (option.max_length !== undefined) parts.push(`at most ${option.max_length} characters`);
  if (option.min_value !== undefined) parts.push(`from ${option.min_value}`);
  if (option.max_value !== undefined) parts.push(`up to ${option.max_value}`);
  return parts.join(", ");
}

// One option in command mode: its label, an input, and the value that will be sent (an ID or a
// choice's value once something was picked from the list, else the typed text).
class OptionField {
  constructor(option, composer) {
    this.option = option;
    this.composer = composer;
    this.picked = null;
    const isFile = option.type === ATTACHMENT;
    this.input = isFile
      ? h("input", { type: "file", class: "option-input" })
      : h("input", { type: "text", class: "option-input", autocomplete: "off", spellcheck: false,
        maxlength: option.type === STRING && option.max_length ? option.max_length : null,
        inputmode: option.type === INTEGER ? "numeric" : option.type === NUMBER ? "decimal" : null });
    this.node = h("span", { class: "option-field" }, h("span", { class: "option-name" }, option.name + ":"), this.input);
    if (!isFile) {
      this.input.addEventListener("input", () => { this.picked = null; composer.showError(""); composer.suggest(this); this.size(); });
      this.input.addEventListener("focus", () => composer.suggest(this));
      this.input.addEventListener("keydown", (ev) => this.onKey(ev));
      this.size();
    }
  }

  size() { this.input.style.width = Math.max(4, this.input.value.length + 1) + "ch"; }

  focus() { this.input.focus(); }

  onKey(ev) {
    const composer = this.composer;
    if (composer.popupKeys(ev)) return;
    if (ev.key === "Enter") { ev.preventDefault(); composer.submit(); return; }
    if (ev.key === "Escape") { ev.preventDefault(); composer.reset(); composer.text.focus(); return; }
    if (ev.key === "Backspace" && !this.input.value) {
      ev.preventDefault();
      if (!this.option.required) composer.removeField(this);
      else if (composer.fields[0] === this) { composer.reset(); composer.text.focus(); }
    }
  }

  pick(value, label) {
    this.picked = { value, label };
    this.input.value = label;
    this.size();
    this.composer.hidePopup();
    const next = this.composer.fields[this.composer.fields.indexOf(this) + 1];
    if (next) next.focus();
  }

  restore(value) {
    if (this.option.type === ATTACHMENT) return;
    const offered = this.composer.app.optionChoices(this.option) || [];
    const known = offered.find((c) => String(c.value) === String(value));
    if (known) this.picked = { value: known.value, label: known.label };
    this.input.value = known ? known.label : String(value);
    this.size();
  }

  rawValue() {
    if (this.option.type === ATTACHMENT) return null;
    return this.picked ? this.picked.value : this.input.value.trim();
  }

  problem() {
    const o = this.option;
    if (o.type === ATTACHMENT) return o.required && !this.input.files.length ? `Attach a file for ${o.name}.` : null;
    const text = this.input.value.trim();
    if (!text) return o.required ? `Missing required option: ${o.name}.` : null;
    if (this.picked) return null;
    if ([USER, CHANNEL, ROLE, MENTIONABLE, BOOLEAN].includes(o.type) || (o.choices || []).length) {
      const match = this.matchTyped(text);
      if (!match) return `${o.name}: pick one from the list.`;
      this.picked = match;
      return null;
    }
    if (o.type === INTEGER && !/^-?\d+$/.test(text)) return `${o.name}: enter a whole number.`;
    if (o.type === NUMBER && Number.isNaN(Number(text))) return `${o.name}: enter a number.`;
    if (o.type === INTEGER || o.type === NUMBER) {
      const n = Number(text);
      if (o.min_value !== undefined && n < o.min_value) return `${o.name}: must be at least ${o.min_value}.`;
      if (o.max_value !== undefined && n > o.max_value) return `${o.name}: must be at most ${o.max_value}.`;
    }
    if (o.type === STRING) {
      if (o.min_length !== undefined && text.length < o.min_length) return `${o.name}: at least ${o.min_length} characters.`;
      if (o.max_length !== undefined && text.length > o.max_length) return `${o.name}: at most ${o.max_length} characters.`;
    }
    return null;
  }

  matchTyped(text) {
    const offered = this.composer.app.optionChoices(this.option) || [];
    const lower = text.toLowerCase().replace(/^[@#]/, "");
    return offered.find((c) => c.label.toLowerCase().replace(/^[@#]/, "") === lower || String(c.value) === text) || null;
  }

  async value() {
    if (this.option.type !== ATTACHMENT) return this.rawValue();
    const file = this.input.files[0];
    if (!file) return null;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { filename: file.name, data: btoa(binary) };
  }
}

export { BOOLEAN, CHANNEL, MENTIONABLE, ROLE, USER };
