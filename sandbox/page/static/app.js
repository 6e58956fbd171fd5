// The try-out page: who you are, the server's channels, DMs and events on the left, the open
// channel's messages and the composer in the middle, the world's clock and the bot's status on
// top. State comes from /app/api/state and is fetched again on every "change" the emulator
// pushes over /app/api/live; every action goes through the page's API.

import { api, avatar, clear, h } from "./dom.js";
import { Composer, BOOLEAN, CHANNEL, MENTIONABLE, ROLE, USER } from "./composer.js";
import { formatTimestamp } from "./markdown.js";
import { openModal } from "./modal.js";
import { renderMessages } from "./render.js";

const $ = (id) => document.getElementById(id);
const EVENT_STATUS = { 1: "Scheduled", 2: "Live now", 3: "Ended", 4: "Cancelled" };

const page = {
  as: localStorage.getItem("sandbox.as") || "",
  channel: localStorage.getItem("sandbox.channel") || "",
  state: null,
  clockOffset: 0,
  dismissed: new Set(),
  lastMessagesKey: "",
  switcherKey: "",
  memberMenuOpen: false,
  refreshing: null,
  again: false,
};

// -- the world's time ----------------------------------------------------------------------------

function worldNow() { return Date.now() / 1000 + page.clockOffset; }

const ctx = {
  get names() { return page.state ? page.state.names : { users: {}, roles: {}, channels: {} }; },
  now: worldNow,
  openChannel: (id) => openChannel(id),
};

// -- loading state -------------------------------------------------------------------------------

async function refresh() {
  if (page.refreshing) { page.again = true; return page.refreshing; }
  page.refreshing = (async () => {
    do {
      page.again = false;
      try {
        const query = new URLSearchParams();
        if (page.as) query.set("as", page.as);
        if (page.channel) query.set("channel", page.channel);
        apply(await api(`state?${query}`));
        $("offline").hidden = true;
      } catch (err) {
        $("offline").hidden = false;
        $("offline").textContent = err.message;
      }
    } while (page.again);
    page.refreshing = null;
  })();
  return page.refreshing;
}

function apply(state) {
  const channelChanged = !page.state || page.state.channel.id !== state.channel.id || page.state.me.id !== state.me.id;
  page.state = state;
  page.as = state.me.id;
  page.channel = state.channel.id;
  localStorage.setItem("sandbox.as", page.as);
  localStorage.setItem("sandbox.channel", page.channel);
  page.clockOffset = state.clock.now - Date.now() / 1000;
  renderTopbar(state);
  renderSidebar(state);
  renderChat(state, channelChanged);
  composer.update(state, channelChanged);
}

function listen() {
  const source = new EventSource("/app/api/live");
  source.addEventListener("change", () => refresh());
  source.addEventListener("hello", () => refresh());
  source.onerror = () => { $("offline").hidden = false; $("offline").textContent = "Reconnecting to the local Discord…"; };
}

// -- top bar -------------------------------------------------------------------------------------

function memberLabel(member) {
  if (member.owner) return `${member.username} (owner)`;
  return member.roles.length ? `${member.username} (${member.roles[0].toLowerCase()})` : member.username;
}

// The bar names up to SHOWN_MEMBERS members, the one acted as always among them; the others and
// "add a member" are in the "N more ▾" menu, so the bar keeps to one line however many join.
const SHOWN_MEMBERS = 4;

function renderTopbar(state) {
  renderSwitcher(state);
  renderClock(state);
  renderBot(state);
}

function renderSwitcher(state) {
  // Drawn again only when the members or who is acted as change, so an open menu and a name
  // being typed survive the live updates.
  const key = JSON.stringify([state.me.id, state.members]);
  if (key === page.switcherKey) return;
  page.switcherKey = key;
  const shown = state.members.slice(0, SHOWN_MEMBERS);
  const me = state.members.find((member) => member.id === state.me.id);
  if (me && !shown.includes(me)) shown[shown.length - 1] = me;
  const more = state.members.filter((member) => !shown.includes(member));
  const switcher = clear($("switcher"));
  switcher.append(h("span", { class: "muted" }, "you are:"));
  shown.forEach((member, i) => {
    if (i) switcher.append(h("span", { class: "sep" }, "·"));
    switcher.append(memberPick(member, state));
  });
  if (!more.length) {
    page.memberMenuOpen = false;
    switcher.append(addMemberControl());
    return;
  }
  const menu = h("div", { class: "member-menu", id: "member-menu", role: "menu", hidden: !page.memberMenuOpen },
    more.map((member) => memberPick(member, state)), addMemberControl());
  const toggle = h("button", {
    type: "button", class: "member-more", id: "member-more", "aria-haspopup": "menu", "aria-expanded": String(page.memberMenuOpen),
    title: "The other members, and adding one", onclick: () => setMemberMenu(!page.memberMenuOpen),
  }, `${more.length} more ▾`);
  switcher.append(h("span", { class: "member-more-wrap" }, toggle, menu));
}

function memberPick(member, state) {
  return h("button", {
    type: "button", class: `member-pick${member.id === state.me.id ? " current" : ""}`,
    title: `Act as ${member.name}`, onclick: () => { setMemberMenu(false); switchTo(member.id); },
  }, memberLabel(member));
}

function setMemberMenu(open) {
  page.memberMenuOpen = open;
  const menu = $("member-menu");
  if (!menu) return;
  menu.hidden = !open;
  $("member-more").setAttribute("aria-expanded", String(open));
}

document.addEventListener("click", (ev) => {
  if (page.memberMenuOpen && !ev.target.closest(".member-more-wrap")) setMemberMenu(false);
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && page.memberMenuOpen) setMemberMenu(false);
});

function addMemberControl() {
  const input = h("input", { type: "text", placeholder: "name", maxlength: 32, class: "add-member-input", "aria-label": "New member's name" });
  const form = h("form", { class: "add-member", hidden: true, onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const added = await api("members", { name: input.value });
      form.hidden = true;
      setMemberMenu(false);
      await switchTo(added.id);
    } catch (err) { showError(err.message); }
  } }, input, h("button", { type: "submit", class: "button small primary" }, "Join"));
  const toggle = h("button", { type: "button", class: "link-button", onclick: () => { form.hidden = !form.hidden; if (!form.hidden) input.focus(); } }, "+ add a member");
  return h("span", { class: "add-member-wrap" }, toggle, form);
}

function renderClock(state) {
  const clock = clear($("clock"));
  clock.append(
    h("span", { class: "world-time", id: "world-time", title: "The world's time (the bot follows it)" }, "🕒 ", formatTimestamp(worldNow(), "F", worldNow())),
    timeButton("+1 h", { seconds: 3600 }),
    timeButton("+1 day", { seconds: 86400 }),
    state.bot.can_skip ? timeButton("⏭ Next scheduled", { next: true }, "Skip ahead to the next thing the bot has scheduled") : null,
  );
}

function timeButton(label, body, title) {
  const button = h("button", { type: "button", class: "button small secondary", title: title || `Move the world's time forward ${label.slice(1)}` }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try { await api("advance", body); await refresh(); } catch (err) { showError(err.message); } finally { button.disabled = false; }
  });
  return button;
}

function renderBot(state) {
  const bot = state.bot;
  const status = bot.status;
  const crashed = status && status.crashed;
  const text = crashed ? "bot crashed" : bot.connected ? "bot online" : status && !status.running ? "bot stopped" : "bot connecting…";
  clear($("bot-status")).append(h("span", { class: `dot ${crashed ? "red" : bot.connected ? "green" : "grey"}` }), text);
  const banner = $("crash-banner");
  if (!crashed) { banner.hidden = true; clear(banner); return; }
  banner.hidden = false;
  clear(banner).append(
    h("div", { class: "crash-title" }, "⚠ The bot crashed. Its last log lines:"),
    h("pre", { class: "crash-log" }, (status.log || []).join("\n")),
    bot.can_restart ? h("button", { type: "button", class: "button danger", onclick: restartBot }, "Restart bot") : null,
  );
  const log = banner.querySelector(".crash-log");
  log.scrollTop = log.scrollHeight;
}

async function restartBot(ev) {
  ev.target.disabled = true;
  ev.target.textContent = "Restarting…";
  try { await api("restart", {}); } catch (err) { showError(err.message); }
  await refresh();
}

// -- sidebar -------------------------------------------------------------------------------------

function renderSidebar(state) {
  $("guild-name").textContent = state.guild.name;
  $("guild-icon").textContent = state.guild.name.charAt(0).toUpperCase();
  const channels = clear($("channel-list"));
  channels.append(h("div", { class: "section-title" }, "TEXT CHANNELS"));
  for (const channel of state.channels) {
    channels.append(channelEntry(channel, state, false));
    for (const thread of channel.threads) channels.append(channelEntry(thread, state, true));
  }
  const dms = clear($("dm-list"));
  dms.append(h("div", { class: "section-title" }, "DIRECT MESSAGES"));
  if (!state.dms.length) dms.append(h("div", { class: "muted small empty" }, "No DMs from the bot yet."));
  for (const dm of state.dms) {
    dms.append(h("div", { class: `channel dm${dm.id === state.channel.id ? " active" : ""}`, role: "link", tabindex: "0", onclick: () => openChannel(dm.id) },
      avatar(state.bot_user.id, dm.name, "small"), h("span", {}, dm.name)));
  }
  const events = clear($("event-list"));
  events.append(h("div", { class: "section-title" }, `EVENTS · ${state.events.length}`));
  if (!state.events.length) events.append(h("div", { class: "muted small empty" }, "No events scheduled."));
  for (const event of state.events) events.append(eventCard(event));
}

function channelEntry(channel, state, isThread) {
  const icon = isThread ? "└ " : channel.type === 2 || channel.type === 13 ? "🔊 " : "# ";
  const classes = ["channel"];
  if (isThread) classes.push("thread");
  if (channel.archived) classes.push("archived");
  if (!channel.readable) classes.push("voice");
  if (channel.id === state.channel.id) classes.push("active");
  return h("div", {
    class: classes.join(" "), role: channel.readable ? "link" : null, tabindex: channel.readable ? "0" : null,
    title: channel.archived ? "archived thread" : null,
    onclick: channel.readable ? () => openChannel(channel.id) : null,
  }, h("span", { class: "channel-icon" }, icon), h("span", { class: "channel-name" }, channel.name));
}

function eventCard(event) {
  const live = event.status === 2;
  const button = h("button", {
    type: "button", class: `button small ${event.interested ? "success" : "secondary"}`, disabled: !event.can_rsvp,
    onclick: async () => {
      button.disabled = true;
      try { await api("rsvp", { as: page.as, event: event.id, interested: !event.interested }); await refresh(); } catch (err) { showError(err.message); button.disabled = false; }
    },
  }, event.interested ? "✓ Interested" : "☆ Interested");
  return h("div", { class: `event${live ? " live" : ""}` },
    h("div", { class: `event-status${live ? " live" : ""}` }, EVENT_STATUS[event.status] || ""),
    h("div", { class: "event-time" }, formatTimestamp(event.start, "f", worldNow())),
    h("div", { class: "event-name" }, event.name),
    event.location ? h("div", { class: "muted small" }, "📍 ", event.location) : null,
    h("div", { class: "event-foot" }, h("span", { class: "muted small" }, `${event.count} interested`), button));
}

// -- chat ----------------------------------------------------------------------------------------

function renderChat(state, channelChanged) {
  const channel = state.channel;
  const header = clear($("chat-header"));
  if (channel.kind === "dm") header.append(h("span", { class: "header-icon" }, "@"), h("strong", {}, channel.name));
  else {
    if (channel.parent) header.append(h("span", { class: "header-parent", role: "link", onclick: () => openChannel(channel.parent.id) }, "# " + channel.parent.name), h("span", { class: "muted" }, " › "));
    header.append(h("span", { class: "header-icon" }, channel.kind === "thread" ? "🧵" : "#"), h("strong", {}, channel.name));
    if (channel.archived) header.append(h("span", { class: "pill" }, "archived"));
    if (channel.topic) header.append(h("span", { class: "topic" }, channel.topic));
  }
  // The clock's jumps too: "Today at …" and "in 20 minutes" are read against the world's time.
  const key = JSON.stringify([state.me.id, channel.id, state.messages, state.names, [...page.dismissed], state.clock.generation]);
  if (key === page.lastMessagesKey && !channelChanged) return;
  page.lastMessagesKey = key;
  const scroller = $("messages");
  const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  const list = $("message-list");
  renderMessages(list, state.messages, messageActions);
  if (!state.messages.length) list.append(h("div", { class: "empty-channel" }, h("h2", {}, `Welcome to ${channel.kind === "dm" ? "your DMs with " : "#"}${channel.name}!`), h("p", { class: "muted" }, "This is the start of the channel.")));
  if (nearBottom || channelChanged) scroller.scrollTop = scroller.scrollHeight;
}

const messageActions = {
  ctx,
  dismissed: page.dismissed,
  get botName() { return page.state ? page.state.bot_user.name : "The bot"; },
  members: () => (page.state ? page.state.members : []),
  rerender: () => { page.lastMessagesKey = ""; renderChat(page.state, false); },
  openThread: (id) => openChannel(id),
  async click(message, button, node) {
    node.disabled = true;
    node.classList.add("loading");
    await interact("click", { message: message.id, custom_id: button.custom_id });
    node.classList.remove("loading");
    node.disabled = !!button.disabled;
  },
  async select(message, component, values) {
    await interact("select", { message: message.id, custom_id: component.custom_id, values });
  },
  async react(message, emoji, on) {
    try { await api("react", { as: page.as, message: message.id, emoji, on }); await refresh(); } catch (err) { showError(err.message); }
  },
};

async function interact(kind, body) {
  try {
    const outcome = await api(kind, { as: page.as, ...body });
    handleOutcome(outcome);
  } catch (err) {
    showError(`This interaction failed: ${err.message}`);
  }
  await refresh();
}

function handleOutcome(outcome) {
  if (!outcome || !outcome.modal) return;
  openModal($("modal-root"), outcome.modal, async (values) => {
    const next = await api("modal", { as: page.as, interaction: outcome.interaction, values });
    refresh();
    handleOutcome(next);
  });
}

// -- composer ------------------------------------------------------------------------------------

const composer = new Composer($("composer"), {
  async sendMessage(content) {
    await api("message", { as: page.as, channel: page.channel, content });
    await refresh();
  },
  async runCommand(leaf, options) {
    const outcome = await api("command", { as: page.as, channel: page.channel, command: leaf.command.name, path: leaf.path, options });
    handleOutcome(outcome);
    await refresh();
  },
  async autocomplete(leaf, options, focused, value) {
    const answer = await api("autocomplete", { as: page.as, channel: page.channel, command: leaf.command.name, path: leaf.path, options, focused, value });
    return answer.choices;
  },
  optionChoices(option) {
    const state = page.state;
    if ((option.choices || []).length) return option.choices.map((c) => ({ value: c.value, label: c.name }));
    const members = state.members.map((m) => ({ value: m.id, label: m.name, detail: m.username }));
    const roles = Object.entries(state.names.roles).map(([id, r]) => ({ value: id, label: "@" + r.name }));
    if (option.type === BOOLEAN) return [{ value: true, label: "True" }, { value: false, label: "False" }];
    if (option.type === USER) return members;
    if (option.type === ROLE) return roles;
    if (option.type === MENTIONABLE) return [...members, ...roles];
    if (option.type === CHANNEL) {
      const allowed = option.channel_types;
      const all = state.channels.flatMap((c) => [c, ...c.threads]);
      return all.filter((c) => !allowed || allowed.includes(c.type)).map((c) => ({ value: c.id, label: "#" + c.name }));
    }
    return null;
  },
});

function showError(message) { composer.showError(message); }

// -- navigation ----------------------------------------------------------------------------------

async function openChannel(id) {
  page.channel = id;
  await refresh();
}

async function switchTo(memberId) {
  page.as = memberId;
  page.dismissed.clear();
  await refresh();
}

setInterval(() => {
  const node = $("world-time");
  if (node) node.textContent = "🕒 " + formatTimestamp(worldNow(), "F", worldNow());
}, 1000);

listen();
refresh();
