// Drawing one message as Discord does: avatar and author (grouped with the previous message of
// the same author), time, content, embeds, attachments, components and reactions; the ephemeral
// "Only you can see this" line and the "thinking…" state of a deferred answer.

import { avatar, h, safeUrl } from "./dom.js";
import { channelOfLink, messageTime, renderInline, renderMarkdown, timestamp } from "./markdown.js";

const GROUP_SECONDS = 7 * 60;
const QUICK_REACTIONS = ["🔥", "❤️", "👍", "😂", "🎧", "💿"];
const BUTTON_STYLES = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link", 6: "premium" };

// app: { ctx, botName, dismissed:Set, click(msg, comp, node), select(msg, comp, values),
//        react(msg, emoji, on), openThread(id) }

export function renderMessages(list, messages, app) {
  const nodes = [];
  let previous = null;
  for (const message of messages) {
    if (message.ephemeral && app.dismissed.has(message.id)) continue;
    const grouped = previous && previous.author.id === message.author.id && !message.used
      && !message.ephemeral && !previous.ephemeral && message.at - previous.at < GROUP_SECONDS;
    nodes.push(renderMessage(message, app, grouped));
    previous = message;
  }
  list.replaceChildren(...nodes);
}

function renderMessage(message, app, grouped) {
  const ctx = app.ctx;
  const body = h("div", { class: "msg-body" });
  if (!grouped) {
    body.append(h("div", { class: "msg-head" },
      h("span", { class: "author" }, message.author.name),
      message.author.bot ? h("span", { class: "bot-tag" }, "APP") : null,
      h("span", { class: "msg-time" }, messageTime(message.at, ctx.now()))));
  }
  if (message.loading) {
    body.append(h("div", { class: "thinking" }, `${app.botName} is thinking`, h("span", { class: "dots" }, "…")));
  } else if (message.content) {
    const content = renderMarkdown(message.content, ctx);
    if (message.edited) content.append(h("span", { class: "edited" }, " (edited)"));
    body.append(content);
  }
  for (const embed of message.embeds || []) body.append(renderEmbed(embed, message, ctx));
  for (const file of message.attachments || []) body.append(renderAttachment(file, message));
  if ((message.components || []).length) body.append(renderComponents(message, app));
  if (message.thread) {
    body.append(h("div", { class: "thread-link", role: "link", tabindex: "0", onclick: () => app.openThread(message.thread.id) },
      "🧵 ", h("span", {}, message.thread.name), h("span", { class: "muted" }, " · open thread")));
  }
  if (!message.ephemeral && !message.in_dm) {
    const reactions = renderReactions(message, app);
    if (reactions) body.append(reactions);
  }
  if (message.ephemeral) {
    body.append(h("div", { class: "ephemeral-note" }, "👁 Only you can see this · ",
      h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); app.dismissed.add(message.id); app.rerender(); } }, "Dismiss message")));
  }
  const classes = ["msg"];
  if (grouped) classes.push("grouped");
  if (message.ephemeral) classes.push("ephemeral");
  const row = h("div", { class: classes.join(" "), "data-id": message.id });
  if (message.used) {
    row.append(h("div", { class: "used" }, h("span", { class: "reply-curve" }), h("strong", {}, message.used.user), " used ",
      h("span", { class: "command-name" }, "/" + message.used.command)));
  }
  const line = h("div", { class: "msg-line" },
    grouped ? h("div", { class: "gutter" }) : avatar(message.author.id, message.author.name),
    body);
  row.append(line);
  if (!message.ephemeral && !message.in_dm && !message.loading) row.append(reactionToolbar(message, app));
  return row;
}

// -- embeds ----------------------------------------------------------------------------------

function imageUrl(raw, message) {
  if (!raw) return null;
  if (String(raw).startsWith("attachment://")) {
    const name = String(raw).slice("attachment://".length);
    const found = (message.attachments || []).find((a) => a.filename === name);
    return found ? found.url : null;
  }
  return safeUrl(raw);
}

function renderEmbed(embed, message, ctx) {
  const colour = typeof embed.color === "number" ? "#" + embed.color.toString(16).padStart(6, "0") : "#1e1f22";
  const grid = h("div", { class: "embed-grid" });
  if (embed.author && embed.author.name) {
    const icon = imageUrl(embed.author.icon_url, message);
    grid.append(h("div", { class: "embed-author" }, icon ? h("img", { src: icon, alt: "" }) : null, linkOrText(embed.author.url, embed.author.name)));
  }
  if (embed.title) {
    const url = safeUrl(embed.url);
    const title = renderInline(embed.title, ctx);
    grid.append(h("div", { class: "embed-title" }, url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, title) : title));
  }
  if (embed.description) grid.append(h("div", { class: "embed-description" }, renderMarkdown(embed.description, ctx)));
  if ((embed.fields || []).length) grid.append(renderFields(embed.fields, ctx));
  const image = imageUrl(embed.image && embed.image.url, message);
  if (image) grid.append(h("a", { href: image, target: "_blank", rel: "noopener noreferrer", class: "embed-image" }, h("img", { src: image, alt: "" })));
  const footer = embedFooter(embed, message, ctx);
  if (footer) grid.append(footer);
  const thumbnail = imageUrl(embed.thumbnail && embed.thumbnail.url, message);
  const node = h("div", { class: "embed", style: { borderLeftColor: colour } }, grid);
  if (thumbnail) node.append(h("img", { class: "embed-thumbnail", src: thumbnail, alt: "" }));
  return node;
}

function linkOrText(url, text) {
  const href = safeUrl(url);
  return href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text) : h("span", {}, text);
}

function renderFields(fields, ctx) {
  const box = h("div", { class: "embed-fields" });
  let row = [];
  const flush = () => {
    if (!row.length) return;
    const width = 12 / row.length;
    row.forEach((node, i) => { node.style.gridColumn = `${1 + i * width} / ${1 + (i + 1) * width}`; box.append(node); });
    row = [];
  };
  for (const field of fields) {
    const node = h("div", { class: "embed-field" },
      h("div", { class: "embed-field-name" }, renderInline(field.name, ctx)),
      h("div", { class: "embed-field-value" }, renderMarkdown(field.value, ctx)));
    if (!field.inline) { flush(); node.style.gridColumn = "1 / 13"; box.append(node); continue; }
    row.push(node);
    if (row.length === 3) flush();
  }
  flush();
  return box;
}

function embedFooter(embed, message, ctx) {
  const parts = [];
  if (embed.footer && embed.footer.text) parts.push(h("span", {}, embed.footer.text));
  if (embed.timestamp) {
    const seconds = Date.parse(embed.timestamp) / 1000;
    if (!Number.isNaN(seconds)) {
      if (parts.length) parts.push(" • ");
      parts.push(timestamp(seconds, "f", ctx));
    }
  }
  if (!parts.length) return null;
  const icon = imageUrl(embed.footer && embed.footer.icon_url, message);
  return h("div", { class: "embed-footer" }, icon ? h("img", { src: icon, alt: "" }) : null, parts);
}

// -- attachments -----------------------------------------------------------------------------

function renderAttachment(file, message) {
  if (file.image) {
    return h("a", { class: "attachment-image", href: file.url, target: "_blank", rel: "noopener" },
      h("img", { src: file.url, alt: file.filename }));
  }
  return h("div", { class: "attachment-file" },
    h("span", { class: "file-icon" }, "📄"),
    h("div", {},
      h("a", { href: file.url, download: file.filename }, file.filename),
      h("div", { class: "muted small" }, formatSize(file.size))));
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(2)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

// -- components ------------------------------------------------------------------------------

function renderComponents(message, app) {
  const box = h("div", { class: "components" });
  for (const row of message.components) {
    const children = row.type === 1 ? row.components || [] : [row];
    box.append(h("div", { class: "action-row" }, children.map((c) => renderComponent(c, message, app))));
  }
  return box;
}

function renderComponent(component, message, app) {
  if (component.type === 2) return renderButton(component, message, app);
  if ([3, 5, 6, 7, 8].includes(component.type)) return renderSelect(component, message, app);
  return h("span", { class: "muted small" }, `(component type ${component.type})`);
}

function emojiText(emoji) {
  if (!emoji) return null;
  return h("span", { class: "button-emoji" }, emoji.id ? `:${emoji.name}:` : emoji.name);
}

function renderButton(button, message, app) {
  const style = BUTTON_STYLES[button.style] || "secondary";
  const label = [emojiText(button.emoji), button.label ? h("span", {}, button.label) : null];
  if (button.style === 5) {
    const href = safeUrl(button.url);
    const inside = href && channelOfLink(href, app.ctx);
    if (inside && !button.disabled) {
      return h("button", { class: "button link", type: "button", onclick: () => app.openThread(inside) }, label);
    }
    return h("a", { class: `button link${button.disabled || !href ? " disabled" : ""}`, href: button.disabled ? null : href, target: "_blank", rel: "noopener noreferrer" },
      label, h("span", { class: "external" }, " ↗"));
  }
  const node = h("button", { class: `button ${style}`, disabled: !!button.disabled, type: "button" }, label);
  node.addEventListener("click", () => app.click(message, button, node));
  return node;
}

function selectOptions(component, app) {
  if (component.type === 3) return (component.options || []).map((o) => ({ value: o.value, label: o.label, description: o.description, emoji: o.emoji, default: o.default }));
  const names = app.ctx.names;
  const users = app.members().map((m) => ({ value: m.id, label: m.name }));
  const roles = Object.entries(names.roles).map(([id, r]) => ({ value: id, label: "@" + r.name }));
  const channels = Object.entries(names.channels).map(([id, name]) => ({ value: id, label: "#" + name }));
  return { 5: users, 6: roles, 7: [...users, ...roles], 8: channels }[component.type] || [];
}

function renderSelect(component, message, app) {
  const options = selectOptions(component, app);
  const min = component.min_values ?? 1;
  const max = component.max_values ?? 1;
  const chosen = new Set(options.filter((o) => o.default).map((o) => o.value));
  const summary = () => chosen.size
    ? options.filter((o) => chosen.has(o.value)).map((o) => o.label).join(", ")
    : component.placeholder || "Make a selection";
  const label = h("span", { class: "select-label" }, summary());
  const menu = h("div", { class: "select-menu", hidden: true });
  const wrapper = h("div", { class: `select${component.disabled ? " disabled" : ""}` });
  const toggle = h("button", { class: "select-toggle", type: "button", disabled: !!component.disabled }, label, h("span", { class: "chevron" }, "▾"));
  const send = () => { menu.hidden = true; app.select(message, component, [...chosen]); };
  for (const option of options) {
    const item = h("div", { class: "select-option", role: "option", tabindex: "0" },
      max > 1 ? h("input", { type: "checkbox", checked: chosen.has(option.value), tabindex: "-1" }) : null,
      emojiText(option.emoji),
      h("div", {}, h("div", {}, option.label), option.description ? h("div", { class: "muted small" }, option.description) : null));
    item.addEventListener("click", () => {
      if (max === 1) { chosen.clear(); chosen.add(option.value); label.textContent = summary(); send(); return; }
      if (chosen.has(option.value)) chosen.delete(option.value);
      else if (chosen.size < max) chosen.add(option.value);
      item.querySelector("input").checked = chosen.has(option.value);
      label.textContent = summary();
    });
    menu.append(item);
  }
  if (max > 1) {
    menu.append(h("div", { class: "select-apply" },
      h("span", { class: "muted small" }, `Choose ${min === max ? min : `${min}–${max}`}`),
      h("button", { class: "button primary small", type: "button", onclick: () => {
        if (chosen.size < min) return;
        send();
      } }, "Apply")));
  }
  toggle.addEventListener("click", () => { menu.hidden = !menu.hidden; });
  wrapper.append(toggle, menu);
  return wrapper;
}

// -- reactions -------------------------------------------------------------------------------

function renderReactions(message, app) {
  if (!(message.reactions || []).length) return null;
  return h("div", { class: "reactions" }, message.reactions.map((reaction) => h("button", {
    class: `reaction${reaction.mine ? " mine" : ""}`, type: "button",
    title: reaction.mine ? "Remove your reaction" : "React",
    onclick: () => app.react(message, reaction.key, !reaction.mine),
  }, h("span", {}, reaction.emoji), h("span", { class: "count" }, String(reaction.count)))));
}

// The hover toolbar's "Add Reaction", with a few emoji to pick from.
function reactionToolbar(message, app) {
  const picker = h("div", { class: "reaction-picker", hidden: true },
    QUICK_REACTIONS.map((emoji) => h("button", { type: "button", class: "pick", title: `React with ${emoji}`, onclick: () => { picker.hidden = true; app.react(message, emoji, true); } }, emoji)));
  const toggle = h("button", { class: "tool", type: "button", title: "Add Reaction", onclick: () => { picker.hidden = !picker.hidden; } }, "☺+");
  return h("div", { class: "msg-toolbar" }, toggle, picker);
}
