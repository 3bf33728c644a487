// memvault dashboard: reads the authenticated API and /ws. Every value from the store goes
// into the page through textContent or SVG attributes — never innerHTML.
"use strict";

const KEY_SLOT = "memvault.key";
const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
  "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, String(value));
  }
  return node;
}

function key() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("key")) {
    sessionStorage.setItem(KEY_SLOT, hash.get("key"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY_SLOT);
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + key() } });
  if (response.status === 401) {
    sessionStorage.removeItem(KEY_SLOT);
    showLogin("That key was refused (unknown or revoked).");
    throw new Error("unauthorized");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function showLogin(message) {
  $("app").hidden = true;
  $("login").hidden = false;
  if (message) showError(message);
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function human(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
  return bytes.toFixed(i ? 1 : 0) + " " + units[i];
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

// -- names: who a user id is, what a session is called ----------------------------------

const userNames = new Map();
const sessionTitles = new Map();

function userLabel(u) { return u.display_name || u.handle; }

function nameOf(userId) {
  if (!userId) return "the shared base layer";
  return userNames.get(userId) || "a user";
}

function sessionTitle(s) { return s.title || "Untitled conversation"; }

async function titleOf(sessionId) {
  if (!sessionId) return null;
  if (!sessionTitles.has(sessionId)) {
    sessionTitles.set(sessionId, api("/api/sessions/" + encodeURIComponent(sessionId))
      .then((s) => sessionTitle(s)).catch(() => "a conversation"));
  }
  return sessionTitles.get(sessionId);
}

async function loadUsers() {
  const users = await api("/api/users?limit=1000&offset=0");
  for (const u of users.items) userNames.set(u.id, userLabel(u));
  return users.items;
}

// -- live feed: each event as a sentence ----------------------------------------------------

function quoted(text) { return "\u201c" + text + "\u201d"; }

function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

function article(word) { return (/^[aeiou]/i.test(word) ? "An " : "A ") + word; }

// A sentence for an event of the WebSocket (its kind, user_id, ids and data payload).
async function sentence(event) {
  const who = nameOf(event.user_id);
  const d = event.data || {};
  const ids = event.ids || {};
  const conv = async () => quoted(await titleOf(ids.session_id));
  switch (event.kind) {
    case "message.appended":
      if (d.role === "user") return `${who} added a message to ${await conv()}`;
      if (d.role === "assistant") return `The assistant replied to ${who} in ${await conv()}`;
      return `${article((d.role || "other") + " message")} was added to ${await conv()} (${who})`;
    case "message.edited": return `A message was edited in ${await conv()} (${who})`;
    case "message.deleted": return `A message was deleted from ${await conv()} (${who})`;
    case "session.created": return `${who} started the conversation ${await conv()}`;
    case "session.updated": return `The conversation ${await conv()} of ${who} was updated`;
    case "session.deleted": return `A conversation of ${who} was deleted`;
    case "memory.added": return `${article(d.kind ? d.kind + " memory" : "memory")} was added for ${who}`;
    case "memory.updated": return `A memory was updated for ${who}`;
    case "memory.deleted": return `A memory was deleted for ${who}`;
    case "emotion.recorded":
      return `${who} felt ${d.emotion || "an emotion"}` +
        (typeof d.intensity === "number" ? ` (intensity ${d.intensity.toFixed(2)})` : "");
    case "emotion.deleted": return `An emotion record of ${who} was deleted`;
    case "trait.changed": {
      const from = typeof d.old === "number" ? ` from ${d.old.toFixed(2)}` : "";
      const to = typeof d.new === "number" ? ` to ${d.new.toFixed(2)}` : "";
      return `The trait ${d.name || ""} of ${who} changed${from}${to}`;
    }
    case "action.recorded":
      return `${who} used the tool ${d.tool_name || "?"}` +
        (d.exit_code ? ` (it failed, exit code ${d.exit_code})` : "");
    case "routing.updated":
      return `Routing learned that ${d.tool_name || "a tool"} ${d.success ? "helps" : "did not help"}` +
        (d.keywords && d.keywords.length ? ` with ${quoted(d.keywords.join(" "))}` : "");
    case "request.created": return d.prompt ? `${who} asked: ${quoted(d.prompt)}` : `${who} made a new request`;
    case "session.active":
      return `${who} was last active in ${await conv()} (${plural(d.messages || 0, "message", "messages")})`;
    case "request.updated": return `A request of ${who} went from ${d.from} to ${d.to}`;
    case "task_list.created": return `A wave of tasks was added to a request of ${who}`;
    case "task_list.updated": return `A wave of tasks of ${who} went from ${d.from} to ${d.to}`;
    case "subtask.created": return `A subtask was added for ${who}`;
    case "subtask.updated":
      return `A subtask of ${who} went from ${d.from} to ${d.to}` + (d.agent_id ? ` (agent ${d.agent_id})` : "");
    case "agent_message.sent":
      return `Agent ${d.from || "?"} sent a message` + (d.to ? ` to ${d.to}` : "") +
        (d.topic ? ` on ${quoted(d.topic)}` : "");
    case "agent_message.read": return `Agent ${ids.agent_id || "?"} read ${plural(d.marked || 0, "message", "messages")}`;
    case "subscription.created": return `Agent ${d.agent_id} subscribed to ${quoted(d.topic || "")}`;
    case "subscription.deleted": return `An agent unsubscribed from a topic`;
    case "user.created": return `${who} joined`;
    case "user.updated": return d.profile ? `The profile of ${who} was updated` : `${who} was updated`;
    case "user.erased": return `Everything of a user was erased`;
    case "project.created": return `A project was created for ${who}`;
    case "pattern.added": return `A response pattern${d.intent ? " for " + quoted(d.intent) : ""} was learned for ${who}`;
    case "pattern.used": return `A response pattern of ${who} was used`;
    case "pattern.updated": return `A response pattern of ${who} was updated`;
    case "pattern.deleted": return `A response pattern of ${who} was deleted`;
    case "retention.pruned": return `Retention removed old rows`;
    default: {
      const words = String(event.kind || "something").replace(/[._]/g, " ");
      return `Something happened (${words}) for ${who}`;
    }
  }
}

function eventLink(event) {
  const ids = event.ids || {};
  if (ids.session_id) return "/sessions/" + encodeURIComponent(ids.session_id);
  if (ids.request_id || ids.task_list_id || ids.subtask_id || event.kind.startsWith("agent_message.")) return "/tasks";
  if (event.user_id && userNames.has(event.user_id)) return "/users/" + encodeURIComponent(event.user_id);
  return null;
}

function feedItem(event, whenText) {
  const text = el("span", { class: "what", text: "…" });
  const href = eventLink(event);
  const item = el("li", { class: "event", "data-kind": event.kind },
    el("time", { datetime: event.at, text: whenText }), " ", href ? el("a", { href }, text) : text);
  sentence(event).then((s) => { text.textContent = s; }).catch(() => { text.textContent = String(event.kind); });
  return item;
}

// What happened lately, from what the store keeps (the WebSocket only tells what happens
// from now on): the latest conversations, memories, requests and agent messages, in the
// shape of the live events so that they read the same.
async function recentActivity(userId) {
  const scope = userId ? "&user_id=" + encodeURIComponent(userId) : "";
  const [sessions, memories, requests, agentMessages] = await Promise.all([
    api(`/api/sessions?limit=10&offset=0${scope}`),
    api(`/api/memories?limit=10&offset=0${scope}`),
    api(`/api/requests?limit=10&offset=0${scope}`),
    api(`/api/agent-messages?limit=10&offset=0${scope}`),
  ]);
  const events = [];
  for (const x of sessions.items) {
    sessionTitles.set(x.id, Promise.resolve(sessionTitle(x)));
    events.push({ kind: "session.active", user_id: x.user_id, ids: { session_id: x.id },
      at: x.updated_at, data: { messages: x.message_count } });
  }
  for (const m of memories.items) {
    events.push({ kind: "memory.added", user_id: m.user_id, ids: { memory_id: m.id }, at: m.created_at,
      data: { kind: m.kind } });
  }
  for (const r of requests.items) {
    events.push({ kind: "request.created", user_id: r.user_id, ids: { request_id: r.id }, at: r.created_at,
      data: { prompt: r.prompt } });
  }
  for (const m of agentMessages.items) {
    events.push({ kind: "agent_message.sent", user_id: m.user_id, ids: { message_id: m.id }, at: m.created_at,
      data: { from: m.from_agent, to: m.to_agent, topic: m.topic } });
  }
  events.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const feed = $("feed");
  const recent = events.slice(0, 15);
  if (recent.length) clear(feed);
  for (const e of recent) feed.append(feedItem(e, when(e.at)));
}

function connectFeed(topic) {
  const state = $("feed-state");
  const feed = $("feed");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(scheme + "//" + location.host + "/ws");
  ws.onopen = () => ws.send(JSON.stringify({ op: "auth", key: key() }));
  ws.onmessage = (msg) => {
    let frame;
    try { frame = JSON.parse(msg.data); } catch (e) { return; }
    if (frame.type === "ready") ws.send(JSON.stringify({ op: "subscribe", topic: topic }));
    else if (frame.type === "subscribed") { state.textContent = "live"; state.className = "pill live"; }
    else if (frame.type === "error") { state.textContent = "error"; showError(frame.detail || frame.error); }
    else if (frame.type === "event") {
      const idle = feed.querySelector(".idle");
      if (idle) idle.remove();
      const item = feedItem(frame, new Date(frame.at).toLocaleTimeString());
      item.classList.add("live");
      feed.prepend(item);
      while (feed.children.length > 50) feed.removeChild(feed.lastChild);
    }
  };
  ws.onclose = () => {
    state.textContent = "reconnecting"; state.className = "pill";
    setTimeout(() => connectFeed(topic), 2000);
  };
}

// -- charts (inline SVG) -------------------------------------------------------------------

function empty(box, message) {
  clear(box);
  box.append(el("p", { class: "muted", text: message }));
}

function lineChart(box, series, options) {
  clear(box);
  const points = series.flatMap((s) => s.points);
  if (!points.length) { empty(box, options.empty || "No data yet."); return; }
  const W = 520, H = 220, L = 40, R = 10, T = 10, B = 30;
  let t0 = Math.min(...points.map((p) => p.t)), t1 = Math.max(...points.map((p) => p.t));
  if (t0 === t1) { t0 -= 3600e3; t1 += 3600e3; }
  const y0 = options.yMin ?? 0, y1 = options.yMax ?? 1;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "plot" });
  root.append(svg("title", { text: options.title || "chart" }));
  for (const v of [y0, (y0 + y1) / 2, y1]) {
    root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    root.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis", text: v.toFixed(1) }));
  }
  root.append(svg("text", { x: L, y: H - 8, class: "axis", text: new Date(t0).toLocaleDateString() }));
  root.append(svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "axis", text: new Date(t1).toLocaleDateString() }));
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const sorted = [...s.points].sort((a, b) => a.t - b.t);
    const d = sorted.map((p, j) => (j ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1)).join(" ");
    root.append(svg("path", { d, fill: "none", stroke: color, "stroke-width": 2, class: "series" }));
    for (const p of sorted) {
      const dot = svg("circle", { cx: x(p.t), cy: y(p.v), r: 3, fill: color, class: "point" });
      dot.append(svg("title", { text: `${s.name}: ${p.v.toFixed(2)} · ${new Date(p.t).toLocaleString()}` }));
      root.append(dot);
    }
  });
  box.append(root);
  const legend = el("ul", { class: "legend" });
  series.forEach((s, i) => {
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = PALETTE[i % PALETTE.length];
    legend.append(el("li", {}, swatch, el("span", { text: s.name })));
  });
  box.append(legend);
}

function barChart(box, bars, options) {
  clear(box);
  if (!bars.length) { empty(box, options.empty || "No data yet."); return; }
  const W = 520, row = 24, L = 150, R = 120;
  const H = bars.length * row + 10;
  const max = Math.max(...bars.map((b) => Math.abs(b.value)), 1e-9);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "plot" });
  root.append(svg("title", { text: options.title || "chart" }));
  bars.forEach((b, i) => {
    const yy = 5 + i * row;
    const width = (Math.abs(b.value) / max) * (W - L - R);
    root.append(svg("text", { x: L - 6, y: yy + 15, "text-anchor": "end", class: "label", text: b.label.slice(0, 24) }));
    const rect = svg("rect", { x: L, y: yy + 3, width: Math.max(width, 1), height: row - 8, class: "bar" });
    rect.append(svg("title", { text: `${b.label}: ${b.note || b.value}` }));
    root.append(rect);
    root.append(svg("text", { x: L + width + 4, y: yy + 15, class: "value", text: b.note || String(b.value) }));
  });
  box.append(root);
}

// -- shared pieces ------------------------------------------------------------------------

const PAGE = 50;

// A payload as a person reads it: text as is, an object as "key: value" lines.
function readable(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).map(([k, v]) => k + ": " + (typeof v === "string" ? v : JSON.stringify(v))).join("\n");
  }
  return JSON.stringify(value);
}

function sessionItem(s, showUser) {
  const meta = [when(s.updated_at || s.started_at), plural(s.message_count, "message", "messages")];
  if (showUser) meta.unshift(nameOf(s.user_id));
  return el("li", { class: "session" },
    el("a", { href: "/sessions/" + encodeURIComponent(s.id), class: "title", text: sessionTitle(s) }),
    el("span", { class: "muted meta", text: meta.join(" · ") }));
}

// The search card: messages (full text, hits link to their conversation) or memories
// (hybrid). `fixedUser`: the user page's user; otherwise an admin picks one.
function searchCard(me, users, fixedUser) {
  const select = $("search-user");
  clear(select);
  if (fixedUser || !me.admin) select.hidden = true;
  else for (const u of users) select.append(el("option", { value: u.id, text: userLabel(u) }));
  $("search").addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $("search-results");
    clear(out);
    const q = $("search-q").value.trim();
    if (!q) return;
    const scope = $("search-scope").value;
    const userId = fixedUser || (me.admin ? select.value : me.user_id);
    try {
      if (scope === "memories") {
        const params = new URLSearchParams({ q, mode: "hybrid", k: "10" });
        if (userId) params.set("user_id", userId);
        const hits = await api("/api/search/memories?" + params);
        if (!hits.length) out.append(el("li", { class: "muted", text: "No memory matches." }));
        for (const h of hits) {
          out.append(el("li", { class: "hit" },
            el("span", { class: "badge", text: h.memory.kind }), " ",
            el("span", { class: "content", text: h.memory.content }), " ",
            el("span", { class: "muted", text: `score ${h.score.toFixed(3)} · ${h.matched.join("+")}` })));
        }
      } else {
        const params = new URLSearchParams({ q, mode: "text", k: "20" });
        if (userId) params.set("user_id", userId);
        const hits = await api("/api/search/messages?" + params);
        if (!hits.length) out.append(el("li", { class: "muted", text: "No message matches." }));
        for (const h of hits) {
          const m = h.message;
          const where = el("span", { class: "muted", text: "in a conversation" });
          const link = el("a", { class: "content",
            href: `/sessions/${encodeURIComponent(m.session_id)}?seq=${m.seq}`, text: m.content });
          out.append(el("li", { class: "hit message-hit" },
            el("span", { class: "badge role-" + m.role, text: m.role }), " ", link, " ", where));
          titleOf(m.session_id).then((t) => { where.textContent = `in ${quoted(t)} · ${when(m.created_at)}`; });
        }
      }
    } catch (err) { out.append(el("li", { class: "error", text: String(err.message) })); }
  });
}

// -- pages ---------------------------------------------------------------------------------

async function indexPage(me) {
  const users = await loadUsers();
  const list = $("users");
  clear(list);
  for (const u of users) {
    list.append(el("li", {}, el("a", { href: "/users/" + encodeURIComponent(u.id), text: userLabel(u) }),
      el("span", { class: "muted", text: " @" + u.handle })));
  }
  if (!users.length) list.append(el("li", { class: "muted", text: "No users yet." }));
  const recent = await api("/api/sessions?limit=10&offset=0");
  const box = $("recent");
  clear(box);
  for (const s of recent.items) box.append(sessionItem(s, me.admin));
  if (!recent.items.length) box.append(el("li", { class: "muted", text: "No conversation yet." }));
  searchCard(me, users, null);
  await recentActivity(null);
  connectFeed(me.admin ? "all" : "user:" + me.user_id);
}

async function storePage(me) {
  const stats = await api("/stats");
  $("engine").textContent = stats.engine;
  $("schema").textContent = stats.schema_version;
  $("size").textContent = human(stats.size_bytes);
  const body = $("counts").querySelector("tbody");
  clear(body);
  for (const [name, n] of Object.entries(stats.counts).sort(([a], [b]) => a.localeCompare(b))) {
    body.append(el("tr", {}, el("td", { text: name }), el("td", { class: "num", text: String(n) })));
  }
  if (me.admin) {
    $("imports-card").hidden = false;
    const runs = await api("/api/imports?limit=20&offset=0");
    const tbody = $("imports").querySelector("tbody");
    clear(tbody);
    for (const r of runs.items) {
      const report = el("details", {}, el("summary", { text: "report" }),
        el("pre", { text: JSON.stringify(r.report, null, 2) }));
      tbody.append(el("tr", {}, el("td", { text: when(r.started_at) }), el("td", { text: r.format }),
        el("td", { class: "content", text: r.source }), el("td", { text: r.status }),
        el("td", { class: "num", text: String(r.quarantined) }), el("td", {}, report)));
    }
    if (!runs.items.length) tbody.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: "No import run." })));
  }
}

async function userPage(me) {
  const userId = decodeURIComponent(location.pathname.split("/").pop());
  const q = "user_id=" + encodeURIComponent(userId);
  const user = await api("/api/users/" + encodeURIComponent(userId));
  userNames.set(user.id, userLabel(user));
  $("user-title").textContent = user.display_name ? `${user.display_name} (${user.handle})` : user.handle;
  document.title = "memvault · " + user.handle;
  const facts = $("user-facts");
  const usage = await api(`/api/users/${encodeURIComponent(userId)}/usage`);
  for (const [k, v] of [["Conversations", usage.conversations], ["Messages", usage.messages],
    ["Since", when(usage.first_session_at)], ["Last activity", when(usage.last_activity_at)]]) {
    facts.append(el("dt", { text: k }), el("dd", { text: String(v ?? "") }));
  }

  // Conversations, most recent first, 20 at a time.
  const sessions = $("sessions"), more = $("sessions-more");
  let offset = 0;
  const loadSessions = async () => {
    const got = await api(`/api/sessions?${q}&limit=20&offset=${offset}`);
    for (const s of got.items) sessions.append(sessionItem(s, false));
    offset += got.items.length;
    more.hidden = got.items.length < 20;
    if (!offset) sessions.append(el("li", { class: "muted", text: "No conversation yet." }));
  };
  more.addEventListener("click", () => loadSessions().catch((err) => showError(String(err.message))));
  await loadSessions();
  searchCard(me, [user], user.id);

  const emotions = await api(`/api/emotions?${q}&newest_first=false&limit=1000&offset=0`);
  const byEmotion = new Map();
  for (const e of emotions.items) {
    if (!byEmotion.has(e.emotion)) byEmotion.set(e.emotion, []);
    byEmotion.get(e.emotion).push({ t: Date.parse(e.occurred_at), v: e.intensity });
  }
  lineChart($("emotions-chart"), [...byEmotion].map(([name, points]) => ({ name, points })),
    { title: "Emotion intensity over time", empty: "No emotion recorded." });

  const history = await api(`/api/traits/history?${q}&limit=1000&offset=0`);
  const byTrait = new Map();
  for (const c of history.items) {
    const name = c.agent && c.agent !== "default" ? `${c.name} (${c.agent})` : c.name;
    if (!byTrait.has(name)) byTrait.set(name, []);
    if (c.old_value !== null && byTrait.get(name).length === 0) {
      byTrait.get(name).push({ t: Date.parse(c.changed_at) - 1, v: c.old_value });
    }
    byTrait.get(name).push({ t: Date.parse(c.changed_at), v: c.new_value });
  }
  lineChart($("traits-chart"), [...byTrait].map(([name, points]) => ({ name, points })),
    { title: "Trait values over time", empty: "No trait change recorded." });

  const tools = await api(`/api/actions/stats?${q}`);
  barChart($("tools-chart"), tools.slice(0, 12).map((t) => ({ label: t.tool_name, value: t.count,
    note: `${t.count} calls` + (t.success_rate === null ? "" : ` · ${(t.success_rate * 100).toFixed(0)}% ok`) })),
    { title: "Calls per tool", empty: "No tool call recorded." });

  const scores = await api(`/api/routing/scores?${q}&limit=15&offset=0`);
  barChart($("routing-chart"), scores.items.map((s) => ({ label: `${s.keyword} → ${s.tool_name}`,
    value: s.weight, note: s.weight.toFixed(2) })), { title: "Routing weights", empty: "No routing score learned." });

  const memories = await api(`/api/memories?${q}&limit=200&offset=0`);
  const tbody = $("memories").querySelector("tbody");
  clear(tbody);
  for (const m of memories.items) {
    const meter = el("meter", { min: "0", max: "1", value: String(m.confidence) });
    tbody.append(el("tr", { class: "memory" }, el("td", {}, el("span", { class: "badge", text: m.kind })),
      el("td", { class: "num" }, meter, " " + m.confidence.toFixed(2)),
      el("td", { class: "content", text: m.content }), el("td", { class: "muted", text: when(m.created_at) })));
  }
  if (!memories.items.length) tbody.append(el("tr", {}, el("td", { colspan: "4", class: "muted", text: "No memory." })));
  await recentActivity(userId);
  connectFeed("user:" + userId);
}

async function sessionPage(me) {
  const sessionId = decodeURIComponent(location.pathname.split("/").pop());
  const target = Number(new URLSearchParams(location.search).get("seq")) || 0;
  const s = await api("/api/sessions/" + encodeURIComponent(sessionId));
  sessionTitles.set(s.id, Promise.resolve(sessionTitle(s)));
  $("session-title").textContent = sessionTitle(s);
  document.title = "memvault · " + sessionTitle(s);
  const userLink = $("session-user");
  if (s.user_id) {
    const u = await api("/api/users/" + encodeURIComponent(s.user_id));
    userLink.textContent = "← " + userLabel(u);
    userLink.href = "/users/" + encodeURIComponent(u.id);
  } else userLink.textContent = "← Overview";
  $("session-facts").textContent = [`Started ${when(s.started_at)}`,
    plural(s.message_count, "message", "messages"), s.status].join(" · ");

  // Messages in order, PAGE at a time, by limit and offset as every list pages.
  const list = $("messages"), more = $("messages-more");
  let lastSeq = 0, loaded = 0;
  const loadMore = async () => {
    const got = await api(`/api/sessions/${encodeURIComponent(sessionId)}/messages` +
      `?limit=${PAGE}&offset=${loaded}`);
    for (const m of got.items) {
      list.append(el("li", { class: "msg role-" + m.role, id: "m" + m.seq },
        el("div", { class: "msg-head" }, el("span", { class: "role", text: m.role }),
          el("time", { datetime: m.created_at, text: when(m.created_at) }),
          m.emotion ? el("span", { class: "muted", text: m.emotion }) : ""),
        el("div", { class: "content", text: m.content })));
      lastSeq = m.seq;
      loaded += 1;
    }
    more.hidden = got.items.length < PAGE;
    return got.items.length;
  };
  more.addEventListener("click", () => loadMore().catch((err) => showError(String(err.message))));
  await loadMore();
  while (target && lastSeq < target && !more.hidden) await loadMore();
  if (!loaded) list.append(el("li", { class: "muted", text: "No message in this conversation." }));
  if (target && $("m" + target)) {
    const hit = $("m" + target);
    hit.classList.add("target");
    hit.scrollIntoView({ block: "center" });
  }
}

async function tasksPage(me) {
  await loadUsers();
  const box = $("requests");
  const overview = (await api("/api/tasks/overview?limit=20&offset=0")).items;
  clear(box);
  if (!overview.length) box.append(el("li", { class: "muted", text: "No request yet." }));
  for (const o of overview) {
    const r = o.request;
    const counts = Object.entries(o.subtasks).map(([k, n]) => `${n} ${k}`).join(", ") || "no subtask";
    const item = el("li", { class: "request" },
      el("div", { class: "request-head" }, el("span", { class: "badge status-" + r.status, text: r.status }), " ",
        el("span", { class: "prompt", text: r.prompt })),
      el("p", { class: "muted", text: [nameOf(r.user_id), when(r.created_at),
        plural(o.waves, "wave", "waves"), counts].join(" · ") }));
    box.append(item);
    const [waves, subtasks] = await Promise.all([
      api(`/api/requests/${encodeURIComponent(r.id)}/waves?limit=100&offset=0`),
      api(`/api/subtasks?request_id=${encodeURIComponent(r.id)}&limit=1000&offset=0`),
    ]);
    for (const w of waves.items) {
      const rows = el("tbody");
      for (const t of subtasks.items.filter((t) => t.task_list_id === w.id)) {
        rows.append(el("tr", { class: "subtask" }, el("td", { class: "content", text: t.description }),
          el("td", { text: t.agent_id || t.agent_type || "—" }),
          el("td", {}, el("span", { class: "badge status-" + t.status, text: t.status }))));
      }
      if (!rows.children.length) rows.append(el("tr", {}, el("td", { colspan: "3", class: "muted", text: "No subtask." })));
      item.append(el("div", { class: "wave" },
        el("h3", { text: `Wave ${w.wave}${w.name ? ": " + w.name : ""} · ${w.status}` }),
        el("table", { class: "subtasks" },
          el("thead", {}, el("tr", {}, el("th", { text: "Subtask" }), el("th", { text: "Agent" }), el("th", { text: "Status" }))),
          rows)));
    }
  }

  const msgs = $("agent-messages"), more = $("agent-messages-more");
  let offset = 0;
  const loadMessages = async () => {
    const got = await api(`/api/agent-messages?limit=${PAGE}&offset=${offset}`);
    for (const m of got.items) {
      const to = m.to_agent ? ` → ${m.to_agent}` : "";
      const topic = m.topic ? ` on ${quoted(m.topic)}` : "";
      const payload = readable(m.payload);
      msgs.append(el("li", { class: "agent-message" },
        el("div", {}, el("strong", { text: m.from_agent + to }), el("span", { class: "muted", text: topic }), " ",
          el("span", { class: "badge", text: m.message_type })),
        el("div", { class: "content", text: payload }),
        el("div", { class: "muted", text: when(m.created_at) + (m.priority ? ` · priority ${m.priority}` : "") })));
    }
    offset += got.items.length;
    more.hidden = got.items.length < PAGE;
    if (!offset) msgs.append(el("li", { class: "muted", text: "No agent message yet." }));
  };
  more.addEventListener("click", () => loadMessages().catch((err) => showError(String(err.message))));
  await loadMessages();
}

const PAGES = { index: indexPage, user: userPage, session: sessionPage, tasks: tasksPage, store: storePage };

async function start() {
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_SLOT, $("key-input").value.trim());
    location.reload();
  });
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(KEY_SLOT); location.reload(); });
  if (!key()) { showLogin(); return; }
  let me;
  try { me = await api("/api/whoami"); } catch (err) { return; }
  $("who").textContent = me.admin ? "admin key" : "user key";
  $("logout").hidden = false;
  $("nav").hidden = false;
  $("app").hidden = false;
  try {
    await PAGES[document.body.dataset.page](me);
    document.body.dataset.ready = "true";
  } catch (err) { showError(String(err.message)); }
}

document.addEventListener("DOMContentLoaded", start);
