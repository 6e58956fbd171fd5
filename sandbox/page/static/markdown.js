// Discord's markdown, rendered into DOM nodes: bold, italics, underline, strike, spoilers, inline
// code and code blocks, block quotes ("> ", ">>> "), headers, lists, "-# " subtext, masked links
// [text](url), bare links, escapes, mentions (<@id>, <@&id>, <#id>, @everyone) and timestamps
// (<t:N:F> and the other styles) in the browser's zone. Every piece of text ends up in a text
// node; nothing is ever handed to innerHTML.

import { h, safeUrl } from "./dom.js";

// ctx: { names: {users, roles, channels}, now: () => world seconds, openChannel(id) }

export function renderMarkdown(text, ctx) {
  const root = h("div", { class: "md" });
  const fence = /```(?:([\w+#-]+)\n)?([\s\S]*?)```/g;
  let last = 0;
  for (const match of String(text || "").matchAll(fence)) {
    renderBlocks(root, text.slice(last, match.index), ctx);
    root.append(h("pre", { class: "codeblock" }, h("code", {}, match[2].replace(/^\n|\n$/g, ""))));
    last = match.index + match[0].length;
  }
  renderBlocks(root, String(text || "").slice(last), ctx);
  return root;
}

function renderBlocks(root, text, ctx, inQuote = false) {
  if (!text) return;
  const lines = text.split("\n");
  let plain = [];
  let list = null;
  let quoted = [];
  const flushPlain = () => {
    if (!plain.length) return;
    const joined = plain.join("\n");
    if (joined.trim() || plain.length > 1) root.append(h("span", { class: "line" }, renderInline(joined, ctx)));
    plain = [];
  };
  const flushQuote = () => {
    if (!quoted.length) return;
    const quote = h("blockquote", {});
    renderBlocks(quote, quoted.join("\n"), ctx, true);
    root.append(quote);
    quoted = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inQuote && line.startsWith(">>> ")) {
      flushPlain(); flushQuote();
      const quote = h("blockquote", {});
      renderBlocks(quote, [line.slice(4), ...lines.slice(i + 1)].join("\n"), ctx, true);
      root.append(quote);
      return;
    }
    let m;
    if (!inQuote && (m = /^> (.*)$/.exec(line))) {
      flushPlain(); list = null;
      quoted.push(m[1]);
      continue;
    }
    flushQuote();
    if ((m = /^(#{1,3}) (.+)$/.exec(line))) {
      flushPlain(); list = null;
      root.append(h(`h${m[1].length + 2}`, { class: "md-h" }, renderInline(m[2], ctx)));
    } else if ((m = /^-# (.+)$/.exec(line))) {
      flushPlain(); list = null;
      root.append(h("div", { class: "subtext" }, renderInline(m[1], ctx)));
    } else if ((m = /^(\s*)[-*] (.+)$/.exec(line))) {
      flushPlain();
      if (!list) { list = h("ul", {}); root.append(list); }
      list.append(h("li", { class: m[1].length ? "nested" : "" }, renderInline(m[2], ctx)));
    } else {
      list = null;
      plain.push(line);
    }
  }
  flushPlain();
  flushQuote();
}

const INLINE_RULES = [
  { re: /\\([^A-Za-z0-9\s])/y, make: (m) => m[1] },
  { re: /(`+)([\s\S]*?[^`])\1(?!`)/y, make: (m) => h("code", { class: "inline" }, m[2]) },
  { re: /<@!?(\d+)>/y, make: (m, ctx) => mention("@" + (ctx.names.users[m[1]] || "unknown-user")) },
  { re: /<@&(\d+)>/y, make: (m, ctx) => roleMention(ctx.names.roles[m[1]]) },
  { re: /<#(\d+)>/y, make: (m, ctx) => channelMention(m[1], ctx) },
  { re: /<t:(-?\d{1,13})(?::([tTdDfFR]))?>/y, make: (m, ctx) => timestamp(Number(m[1]), m[2] || "f", ctx) },
  { re: /<a?:(\w+):(\d+)>/y, make: (m) => h("span", { class: "custom-emoji", title: `:${m[1]}:` }, `:${m[1]}:`) },
  { re: /\[([^\[\]\n]+)\]\(<?(https?:\/\/[^\s<>()]+)>?\)/y, make: (m, ctx) => link(m[2], renderInline(m[1], ctx), ctx) },
  { re: /<(https?:\/\/[^\s>]+)>/y, make: (m, ctx) => link(m[1], m[1], ctx) },
  { re: /https?:\/\/[^\s<]+[^\s<.,:;"')\]!?]/y, make: (m, ctx) => link(m[0], m[0], ctx) },
  { re: /\*\*\*(?=\S)([\s\S]*?\S)\*\*\*/y, make: (m, ctx) => h("strong", {}, h("em", {}, renderInline(m[1], ctx))) },
  { re: /\*\*(?=\S)([\s\S]*?\S)\*\*(?!\*)/y, make: (m, ctx) => h("strong", {}, renderInline(m[1], ctx)) },
  { re: /__(?=\S)([\s\S]*?\S)__(?!_)/y, make: (m, ctx) => h("u", {}, renderInline(m[1], ctx)) },
  { re: /\*(?=\S)([\s\S]*?\S)\*(?!\*)/y, make: (m, ctx) => h("em", {}, renderInline(m[1], ctx)) },
  { re: /_(?=\S)([\s\S]*?\S)_(?![A-Za-z0-9_])/y, wordStart: true, make: (m, ctx) => h("em", {}, renderInline(m[1], ctx)) },
  { re: /~~(?=\S)([\s\S]*?\S)~~/y, make: (m, ctx) => h("s", {}, renderInline(m[1], ctx)) },
  { re: /\|\|([\s\S]+?)\|\|/y, make: (m, ctx) => spoiler(renderInline(m[1], ctx)) },
  { re: /@(everyone|here)\b/y, make: (m) => mention("@" + m[1]) },
];

export function renderInline(text, ctx) {
  const out = [];
  let buffer = "";
  let i = 0;
  const source = String(text || "");
  while (i < source.length) {
    let matched = false;
    for (const rule of INLINE_RULES) {
      if (rule.wordStart && i > 0 && /[A-Za-z0-9]/.test(source[i - 1])) continue;
      rule.re.lastIndex = i;
      const m = rule.re.exec(source);
      if (!m) continue;
      if (buffer) { out.push(buffer); buffer = ""; }
      out.push(rule.make(m, ctx));
      i += m[0].length;
      matched = true;
      break;
    }
    if (!matched) { buffer += source[i]; i += 1; }
  }
  if (buffer) out.push(buffer);
  return out;
}

function mention(text) {
  return h("span", { class: "mention" }, text);
}

function roleMention(role) {
  if (!role) return mention("@deleted-role");
  const colour = role.color ? "#" + role.color.toString(16).padStart(6, "0") : null;
  return h("span", { class: "mention", style: colour ? { color: colour } : {} }, "@" + role.name);
}

function channelMention(id, ctx) {
  const name = ctx.names.channels[id];
  if (!name) return mention("#unknown");
  return h("span", { class: "mention channel-mention", role: "link", tabindex: "0", onclick: () => ctx.openChannel && ctx.openChannel(id) }, "#" + name);
}

function link(url, label, ctx) {
  const href = safeUrl(url);
  if (!href) return h("span", {}, label);
  const inside = ctx && channelOfLink(href, ctx);
  if (inside) return h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); ctx.openChannel(inside); } }, label);
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, label);
}

// A discord.com/channels/<guild>/<channel>[/<message>] link to a channel of this server: the page
// opens it in place instead of sending the member to the real Discord.
export function channelOfLink(href, ctx) {
  const m = /^https:\/\/(?:ptb\.|canary\.)?discord\.com\/channels\/\d+\/(\d+)(?:\/\d+)?\/?$/.exec(href);
  return m && ctx.names.channels[m[1]] ? m[1] : null;
}

function spoiler(children) {
  const node = h("span", { class: "spoiler", title: "Spoiler", onclick: () => node.classList.add("shown") }, children);
  return node;
}

export function timestamp(seconds, style, ctx) {
  const text = formatTimestamp(seconds, style, ctx.now());
  const full = formatTimestamp(seconds, "F", ctx.now());
  return h("span", { class: "timestamp", title: full }, text);
}

const STYLES = {
  t: { hour: "numeric", minute: "2-digit" },
  T: { hour: "numeric", minute: "2-digit", second: "2-digit" },
  d: { year: "numeric", month: "2-digit", day: "2-digit" },
  D: { year: "numeric", month: "long", day: "numeric" },
  f: { year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
  F: { weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
};

export function formatTimestamp(seconds, style, nowSeconds) {
  if (style === "R") return relative(seconds - nowSeconds);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return "Invalid Date";
  return new Intl.DateTimeFormat(undefined, STYLES[style] || STYLES.f).format(date);
}

const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];

function relative(delta) {
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size || unit === "second") return format.format(Math.round(delta / size), unit);
  }
  return "";
}

// The time Discord shows next to an author: "Today at 14:32", "Yesterday at …", or the date.
export function messageTime(seconds, nowSeconds) {
  const date = new Date(seconds * 1000);
  const now = new Date(nowSeconds * 1000);
  const time = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(date);
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diff = Math.round((day(now) - day(date)) / 86400000);
  if (diff === 0) return `Today at ${time}`;
  if (diff === 1) return `Yesterday at ${time}`;
  return `${new Intl.DateTimeFormat(undefined, { year: "numeric", month: "2-digit", day: "2-digit" }).format(date)} ${time}`;
}
