// Small helpers shared by the page's modules: building DOM nodes (text is always a text node,
// never parsed as HTML) and calling the page's API as the current member.

export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export class ApiError extends Error {}

export async function api(path, body) {
  const options = body === undefined
    ? { headers: { Accept: "application/json" } }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(`/app/api/${path}`, options);
  } catch (err) {
    throw new ApiError("The local Discord is not answering. Is it still running?");
  }
  let payload = null;
  try { payload = await response.json(); } catch (err) { payload = null; }
  if (!response.ok) throw new ApiError((payload && payload.error) || `Error ${response.status}`);
  return payload;
}

// A stable colour per user, like Discord's default avatars.
const AVATAR_COLOURS = ["#5865f2", "#3ba55c", "#faa61a", "#ed4245", "#eb459e", "#747f8d"];
export function avatar(id, name, size = "") {
  let sum = 0;
  for (const ch of String(id)) sum = (sum * 31 + ch.charCodeAt(0)) % 1000003;
  const letter = (name || "?").trim().charAt(0).toUpperCase() || "?";
  return h("div", { class: `avatar ${size}`, style: { background: AVATAR_COLOURS[sum % AVATAR_COLOURS.length] }, "aria-hidden": "true" }, letter);
}

export function safeUrl(raw) {
  try {
    const url = new URL(String(raw), window.location.origin);
    return ["http:", "https:"].includes(url.protocol) ? url.href : null;
  } catch (err) {
    return null;
  }
}
