// driftpilot's monitoring view: tables and SVG charts drawn from the plugin's JSON API.
// Every stored value reaches the page through textContent or setAttribute (never innerHTML),
// and every link is built from encodeURIComponent'd parts under this page's own base path.
// No library: the charts are a few SVG lines, so the view works offline and under a strict CSP.

const SVG = "http://www.w3.org/2000/svg";
const body = document.body;
const base = body.dataset.base || "";
const view = `${base}/view`;
const enc = encodeURIComponent;

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function fmt(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  return response.json();
}

function section(title, id) {
  const box = el("section", { class: "dp-card", id });
  box.append(el("h2", {}, title));
  document.getElementById("dp-main").append(box);
  return box;
}

function csvLink(api, table) {
  const sep = api.includes("?") ? "&" : "?";
  return el("a", { class: "dp-csv", href: `${api}${sep}format=csv&table=${enc(table)}`, download: "" }, "CSV");
}

// A table of `data` ({columns, rows}); `links` maps a column to a function (row) => href.
function table(box, data, api, links = {}) {
  const head = el("div", { class: "dp-table-head" });
  head.append(el("span", { class: "dp-count" }, `${data.rows.length} row(s)`), csvLink(api, data.name));
  box.append(head);
  const t = el("table", { class: "dp-table", "data-table": data.name });
  const tr = el("tr");
  for (const c of data.columns) tr.append(el("th", {}, c));
  const thead = el("thead");
  thead.append(tr);
  t.append(thead);
  const tbody = el("tbody");
  for (const row of data.rows) {
    const line = el("tr");
    row.forEach((cell, i) => {
      const td = el("td");
      const column = data.columns[i];
      if (links[column] && cell !== null) {
        td.append(el("a", { href: links[column](row, data.columns) }, fmt(cell)));
      } else {
        td.textContent = fmt(cell);
        if (column === "action") td.className = `dp-action dp-${String(cell)}`;
      }
      line.append(td);
    });
    tbody.append(line);
  }
  t.append(tbody);
  const wrap = el("div", { class: "dp-scroll" });
  wrap.append(t);
  box.append(wrap);
  return t;
}

// A line chart: x = windows (ISO dates, evenly spaced), one polyline per series with a circle per
// non-null point, horizontal reference lines, and events as vertical markers on the time axis.
function chart(box, name, windows, series, { lines = [], events = [], percent = false } = {}) {
  const W = 640, H = 200, L = 48, R = 12, T = 12, B = 28;
  const figure = el("figure", { class: "dp-chart" });
  figure.append(el("figcaption", {}, name));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "data-chart": name, "aria-label": name });
  const values = series.flatMap((s) => s.values).concat(lines.map((l) => l.value)).filter((v) => v !== null && v !== undefined);
  if (!windows.length || !values.length) {
    figure.append(el("p", { class: "dp-empty" }, "no data in this period"));
    box.append(figure);
    return figure;
  }
  let lo = Math.min(...values), hi = Math.max(...values);
  if (percent) { lo = Math.min(0, lo); hi = Math.max(hi, 0.05); }
  if (hi === lo) { hi += Math.abs(hi) * 0.1 || 1; lo -= Math.abs(lo) * 0.1 || 0; }
  const x = (i) => L + (windows.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (windows.length - 1));
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const axis = svg("g", { class: "dp-axis" });
  for (const v of [lo, (lo + hi) / 2, hi]) {
    axis.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "dp-grid" }));
    const label = svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" });
    label.textContent = percent ? `${(v * 100).toFixed(0)}%` : fmt(v);
    axis.append(label);
  }
  const step = Math.max(1, Math.ceil(windows.length / 6));
  windows.forEach((w, i) => {
    if (i % step && i !== windows.length - 1) return;
    const label = svg("text", { x: x(i), y: H - 8, "text-anchor": "middle" });
    label.textContent = String(w).slice(5);
    axis.append(label);
  });
  root.append(axis);
  for (const e of events) {
    const i = windows.indexOf(e.window);
    if (i < 0) continue;
    const mark = svg("line", { x1: x(i), x2: x(i), y1: T, y2: H - B, class: `dp-event dp-event-${e.kind}`, "data-event": e.kind });
    const tip = svg("title");
    tip.textContent = `${e.window} ${e.kind}: ${e.label}`;
    mark.append(tip);
    root.append(mark);
  }
  for (const l of lines) {
    if (l.value === null || l.value === undefined) continue;
    const line = svg("line", { x1: L, x2: W - R, y1: y(l.value), y2: y(l.value), class: `dp-ref dp-ref-${l.cls}` });
    const tip = svg("title");
    tip.textContent = `${l.label} ${fmt(l.value)}`;
    line.append(tip);
    root.append(line);
  }
  series.forEach((s, k) => {
    const group = svg("g", { class: `dp-series dp-s${k}`, "data-series": s.name });
    let path = "";
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) { path += " "; return; }
      path += `${path.endsWith(" ") || !path ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    });
    group.append(svg("path", { d: path.replace(/ +/g, " ").trim() || "M0,0", class: "dp-line" }));
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const dot = svg("circle", { cx: x(i), cy: y(v), r: 3, class: "dp-point" });
      const tip = svg("title");
      tip.textContent = `${windows[i]} ${s.name}: ${percent ? `${(v * 100).toFixed(1)}%` : fmt(v)}`;
      dot.append(tip);
      group.append(dot);
    });
    root.append(group);
  });
  figure.append(root);
  const legend = el("div", { class: "dp-legend" });
  series.forEach((s, k) => legend.append(el("span", { class: `dp-key dp-s${k}` }, s.name)));
  for (const l of lines) if (l.value !== null && l.value !== undefined) legend.append(el("span", { class: `dp-key dp-ref-${l.cls}` }, l.label));
  if (events.length) legend.append(el("span", { class: "dp-key dp-event-key" }, "events"));
  figure.append(legend);
  box.append(figure);
  return figure;
}

function column(data, name) {
  const i = data.columns.indexOf(name);
  return data.rows.map((r) => r[i]);
}

function periods(box, current, href) {
  const nav = el("nav", { class: "dp-periods" });
  for (const d of [30, 60, 90]) {
    const a = el("a", { href: href(d) }, `${d} days`);
    if (d === current) a.setAttribute("aria-current", "page");
    nav.append(a);
  }
  box.append(nav);
}

function modelHref(model) { return `${view}/models/${enc(model)}`; }
function windowHref(model, window) { return `${modelHref(model)}/windows/${enc(window)}`; }
function featureHref(model, col) { return `${modelHref(model)}/feature?column=${enc(col)}`; }

async function overviewPage() {
  const api = `${view}/api/overview`;
  const data = await getJSON(api);
  const box = section("Models", "dp-models");
  const t = data.tables.models;
  table(box, t, api, {
    model: (row) => modelHref(row[0]),
    last_window: (row) => windowHref(row[0], row[t.columns.indexOf("last_window")]),
  });
  // Placeholder: the pending-approvals panel (issue 13 item 2) goes here; it lives in approvals/.
  const approvals = section("Pending approvals", "dp-approvals");
  approvals.append(el("p", {}, "Candidates awaiting a decision are listed on the approvals page."));
  approvals.append(el("a", { href: `${base}/approvals/` }, "Open approvals"));
  const reports = section("Reports", "dp-reports");
  reports.append(el("a", { href: `${base}/reports/` }, "Browse every window's report files"));
}

async function modelPage() {
  const model = body.dataset.model;
  const days = Number(body.dataset.days);
  const api = `${view}/api/models/${enc(model)}/trends?days=${days}`;
  const data = await getJSON(api);
  const s = data.tables.series;
  const windows = column(s, "window");
  // Markers on the time axis: champion moves and retrains (the table lists every alias move).
  const events = data.tables.events.rows.filter((r) => ["promotion", "rollback", "retrain"].includes(r[2])).map((r) => ({ window: r[1], kind: r[2], label: `${fmt(r[3])} → ${fmt(r[4])} by ${fmt(r[5])}: ${fmt(r[6])}` }));
  const head = section(`Last ${days} days (${fmt(data.facts.from)} – ${fmt(data.facts.to)})`, "dp-trends");
  periods(head, days, (d) => `${modelHref(model)}?days=${d}`);
  const grid = el("div", { class: "dp-charts" });
  head.append(grid);
  chart(grid, "drift_share", windows, [{ name: "drift share (driftpilot)", values: column(s, "drift_share") }], { events, percent: true });
  chart(grid, "performance", windows, [{ name: `${data.facts.metric} (labels final)`, values: column(s, "performance") }], {
    events,
    lines: [{ label: "SLO", value: data.facts.slo, cls: "slo" },
            { label: "baseline", value: column(s, "baseline").filter((v) => v !== null).slice(-1)[0] ?? null, cls: "baseline" }],
  });
  chart(grid, "volume", windows, [{ name: "rows", values: column(s, "rows") }], { events });
  chart(grid, "latency_p95_ms", windows, [{ name: "latency p95 (ms)", values: column(s, "latency_p95_ms") }], { events });
  chart(grid, "quarantined_share", windows, [{ name: "quarantined share", values: column(s, "quarantined_share") }], { events, percent: true });
  table(section("Top drifted features", "dp-top"), data.tables.top_features, api, { column: (row) => featureHref(model, row[0]) });
  table(section("Events", "dp-events"), data.tables.events, api);
  table(section("Windows", "dp-windows"), s, api, { window: (row) => windowHref(model, row[0]) });
}

async function windowPage() {
  const { model, window } = body.dataset;
  const api = `${view}/api/models/${enc(model)}/windows/${enc(window)}`;
  const data = await getJSON(api);
  const facts = section("Decision", "dp-decision");
  const list = el("dl", { class: "dp-facts" });
  for (const [k, v] of Object.entries(data.facts)) {
    list.append(el("dt", {}, k));
    const dd = el("dd", {}, fmt(v));
    if (k === "action") dd.className = `dp-action dp-${String(v)}`;
    list.append(dd);
  }
  facts.append(list);
  const reasons = el("ul", { class: "dp-reasons" });
  for (const [r] of data.tables.reasons.rows) reasons.append(el("li", {}, r));
  facts.append(reasons);
  const back = el("p", { class: "dp-back" });
  back.append(el("a", { href: modelHref(model) }, "← trends of this model"));
  facts.append(back);
  table(section("Per-column verdicts (driftpilot, every row)", "dp-columns"), data.tables.columns, api,
        { column: (row) => featureHref(model, row[0]) });
  table(section("Evidence behind the decision", "dp-evidence"), data.tables.evidence, api);
  table(section("Performance (label-confirmed)", "dp-performance"), data.tables.performance, api);
  table(section("Reports (Evidently pages and files)", "dp-files"), data.tables.reports, api, {
    file: (row) => `${base}/reports/${enc(model)}/${enc(window)}/${enc(row[0])}`,
  });
}

async function featurePage() {
  const { model, column: col } = body.dataset;
  const days = Number(body.dataset.days);
  const api = `${view}/api/models/${enc(model)}/feature?column=${enc(col)}&days=${days}`;
  const data = await getJSON(api);
  const h = data.tables.history;
  const windows = column(h, "window");
  const box = section(`Drift statistics over ${days} days`, "dp-feature");
  periods(box, days, (d) => `${featureHref(model, col)}&days=${d}`);
  chart(box, "statistics", windows, ["jensen_shannon", "wasserstein_norm", "psi", "ks"].map((n) => ({ name: n, values: column(h, n) })));
  const sm = data.tables.summary;
  const sw = column(sm, "window");
  chart(box, "window_values", sw, ["min", "mean", "max"].map((n) => ({ name: `${n} (window rows)`, values: column(sm, n) })));
  table(section("History", "dp-history"), h, api, { window: (row) => windowHref(model, row[0]) });
  table(section("Window summaries (from each window's drift_stats.json)", "dp-summary"), sm, api);
}

const pages = { overview: overviewPage, model: modelPage, window: windowPage, feature: featurePage };
const run = pages[body.dataset.page];
if (run) {
  run().then(() => body.setAttribute("data-ready", "true")).catch((error) => {
    section("Could not load this page", "dp-error").append(el("p", { class: "dp-error" }, error.message));
    body.setAttribute("data-ready", "error");
  });
} else {
  body.setAttribute("data-ready", "true");
}
