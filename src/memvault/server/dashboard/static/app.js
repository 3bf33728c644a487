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

// -- live feed ---------------------------------------------------------------------------

function describe(event) {
  const ids = Object.entries(event.ids || {}).map(([k, v]) => k + "=" + String(v).slice(-8));
  const data = event.data || {};
  const extra = data.tool_name || data.kind || data.role || data.topic || "";
  return [event.kind, extra, ids.join(" ")].filter(Boolean).join(" · ");
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
      const item = el("li", { class: "event" },
        el("time", { text: new Date(frame.at).toLocaleTimeString() }), " ",
        el("span", { class: "kind", text: describe(frame) }));
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

// -- pages ---------------------------------------------------------------------------------

async function indexPage(me) {
  const stats = await api("/stats");
  $("engine").textContent = stats.engine;
  $("schema").textContent = stats.schema_version;
  $("size").textContent = human(stats.size_bytes);
  const body = $("counts").querySelector("tbody");
  clear(body);
  for (const [name, n] of Object.entries(stats.counts)) {
    body.append(el("tr", {}, el("td", { text: name }), el("td", { class: "num", text: String(n) })));
  }
  const users = await api("/api/users?limit=200");
  const list = $("users"), select = $("search-user");
  clear(list); clear(select);
  for (const u of users.items) {
    const label = u.display_name ? `${u.display_name} (${u.handle})` : u.handle;
    list.append(el("li", {}, el("a", { href: "/users/" + encodeURIComponent(u.id), text: label })));
    select.append(el("option", { value: u.id, text: label }));
  }
  if (!users.items.length) list.append(el("li", { class: "muted", text: "No users yet." }));
  select.hidden = !me.admin;
  $("search").addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $("search-results");
    clear(out);
    const q = $("search-q").value.trim();
    if (!q) return;
    const params = new URLSearchParams({ q, mode: "hybrid", k: "10" });
    if (select.value) params.set("user_id", select.value);
    try {
      const hits = await api("/api/search/memories?" + params);
      if (!hits.length) out.append(el("li", { class: "muted", text: "No match." }));
      for (const h of hits) {
        out.append(el("li", { class: "hit" },
          el("span", { class: "badge", text: h.memory.kind }), " ",
          el("span", { class: "content", text: h.memory.content }), " ",
          el("span", { class: "muted", text: `score ${h.score.toFixed(3)} · ${h.matched.join("+")}` })));
      }
    } catch (err) { out.append(el("li", { class: "error", text: String(err.message) })); }
  });
  if (me.admin) {
    $("imports-card").hidden = false;
    const runs = await api("/api/imports?limit=20");
    const tbody = $("imports").querySelector("tbody");
    clear(tbody);
    for (const r of runs.items) {
      const report = el("details", {}, el("summary", { text: "report" }),
        el("pre", { text: JSON.stringify(r.report, null, 2) }));
      tbody.append(el("tr", {}, el("td", { text: when(r.started_at) }), el("td", { text: r.format }),
        el("td", { text: r.source }), el("td", { text: r.status }),
        el("td", { class: "num", text: String(r.quarantined) }), el("td", {}, report)));
    }
    if (!runs.items.length) tbody.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: "No import run." })));
  }
  connectFeed(me.admin ? "all" : "user:" + me.user_id);
}

async function userPage(me) {
  const userId = decodeURIComponent(location.pathname.split("/").pop());
  const q = "user_id=" + encodeURIComponent(userId);
  const user = await api("/api/users/" + encodeURIComponent(userId));
  $("user-title").textContent = user.display_name ? `${user.display_name} (${user.handle})` : user.handle;
  document.title = "memvault · " + user.handle;
  const facts = $("user-facts");
  const usage = await api(`/api/users/${encodeURIComponent(userId)}/usage`);
  for (const [k, v] of [["Conversations", usage.conversations], ["Messages", usage.messages],
    ["Since", when(usage.first_session_at)], ["Last activity", when(usage.last_activity_at)]]) {
    facts.append(el("dt", { text: k }), el("dd", { text: String(v ?? "") }));
  }

  const emotions = await api(`/api/emotions?${q}&newest_first=false&limit=1000`);
  const byEmotion = new Map();
  for (const e of emotions.items) {
    if (!byEmotion.has(e.emotion)) byEmotion.set(e.emotion, []);
    byEmotion.get(e.emotion).push({ t: Date.parse(e.occurred_at), v: e.intensity });
  }
  lineChart($("emotions-chart"), [...byEmotion].map(([name, points]) => ({ name, points })),
    { title: "Emotion intensity over time", empty: "No emotion recorded." });

  const history = await api(`/api/traits/history?${q}&limit=1000`);
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

  const scores = await api(`/api/routing/scores?${q}&limit=15`);
  barChart($("routing-chart"), scores.items.map((s) => ({ label: `${s.keyword} → ${s.tool_name}`,
    value: s.weight, note: s.weight.toFixed(2) })), { title: "Routing weights", empty: "No routing score learned." });

  const memories = await api(`/api/memories?${q}&limit=200`);
  const tbody = $("memories").querySelector("tbody");
  clear(tbody);
  for (const m of memories.items) {
    const meter = el("meter", { min: "0", max: "1", value: String(m.confidence) });
    tbody.append(el("tr", { class: "memory" }, el("td", {}, el("span", { class: "badge", text: m.kind })),
      el("td", { class: "num" }, meter, " " + m.confidence.toFixed(2)),
      el("td", { class: "content", text: m.content }), el("td", { text: when(m.created_at) })));
  }
  if (!memories.items.length) tbody.append(el("tr", {}, el("td", { colspan: "4", class: "muted", text: "No memory." })));
  connectFeed("user:" + userId);
}

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
  $("app").hidden = false;
  try {
    if (document.body.dataset.page === "user") await userPage(me);
    else await indexPage(me);
    document.body.dataset.ready = "true";
  } catch (err) { showError(String(err.message)); }
}

document.addEventListener("DOMContentLoaded", start);
