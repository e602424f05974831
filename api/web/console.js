// The supervisor's console (desktop first; supervisors and admins): the triage queue (what
// waits for a supervisor's decision), the map of cases with its filters in the address, and
// statistics by area, department and category drawn as plain SVG bars beside their tables.

import { t, addWords, statusName, countName } from "/app/i18n.js";
import { call } from "/app/api.js";
import { h, show, route, caseItem, categories, categoryName, status, name, number, when } from "/app/ui.js";
import { makeMap } from "/app/map.js";
import { covers, registry } from "/app/registry.js";

addWords({
  con_zones: ["门前三包责任区", "Frontage zones"],
  con_areas: ["区域边界", "Area boundaries"],
  con_triage: ["分派审核", "Triage"],
  con_map: ["案件地图", "Case map"],
  con_stats: ["统计分析", "Statistics"],
  con_reported: ["待分派", "Waiting for assignment"],
  con_disputed: ["有异议", "Disputed"],
  con_extension: ["延期申请", "Extension requests"],
  con_suspension: ["挂起申请", "Suspension requests"],
  con_none: ["暂无。", "None."],
  con_more: ["加载更多", "Load more"],
  con_shown_of: ["已显示 {n} 件，共 {total} 件", "{n} of {total} shown"],
  con_refresh: ["刷新", "Refresh"],
  con_requested_until: ["申请延期至", "Asks for a deadline of"],
  con_verify_overdue: ["核查超时", "Verification overdue"],
  con_verify_due: ["核查期限", "Verify by"],
  con_filters: ["筛选", "Filters"],
  con_status: ["状态", "Status"],
  con_all_categories: ["全部类别", "All categories"],
  con_area: ["区域", "Area"],
  con_all_areas: ["全部区域", "All areas"],
  con_overdue_only: ["仅显示已超期", "Overdue only"],
  con_reset: ["恢复默认", "Reset"],
  con_no_status: ["请至少选择一种状态。", "Choose at least one status."],
  con_cases_shown: ["地图上 {n} 件案件", "{n} cases on the map"],
  con_cases_capped: ["仅显示前 {n} 件，请缩小筛选范围。", "Only the first {n} are shown: narrow the filters."],
  con_no_cases: ["没有符合条件的案件。", "No cases match."],
  con_legend: ["图例", "Legend"],
  con_case_list: ["案件列表", "List of cases"],
  con_open_case: ["查看案件", "Open the case"],
  con_from: ["开始日期", "From"],
  con_to: ["结束日期", "To"],
  con_metric: ["图表指标", "Chart shows"],
  con_area_level: ["区域层级", "Area level"],
  con_show: ["查看", "Show"],
  con_by_area: ["按区域", "By area"],
  con_by_department: ["按责任单位", "By department"],
  con_by_category: ["按问题类别", "By category"],
  con_total: ["合计", "Total"],
  con_name: ["名称", "Name"],
  con_filed: ["立案数", "Filed"],
  con_closed: ["结案数", "Closed"],
  con_due: ["到期数", "Due"],
  con_closed_on_time: ["按期结案数", "Closed on time"],
  con_on_time_rate: ["按期结案率", "On-time closure rate"],
  con_reworked: ["返工数", "Reworked"],
  con_rework_rate: ["返工率", "Rework rate"],
  con_mean_hours: ["平均结案时长（小时）", "Mean hours to close"],
  con_no_groups: ["该时段没有数据。", "Nothing in this period."],
  con_level_district: ["区县", "District"],
  con_level_subdistrict: ["街道", "Subdistrict"],
  con_level_community: ["社区", "Community"],
  con_level_grid: ["网格", "Grid"],
});

const ROLES = ["supervisor", "admin"];
const STATUSES = ["reported", "assigned", "in_progress", "disputed", "rectified", "closed", "cancelled"];
const OPEN = ["reported", "assigned", "in_progress", "disputed", "rectified"];

// A word with `{name}` parts filled.
const say = (key, values) => Object.entries(values).reduce((text, [k, v]) => text.replace(`{${k}}`, v), t(key));

// ---- Triage ----------------------------------------------------------------------------

// The cases of one status, soonest deadline first, a page at a time.
function statusSection(id, title, statusKey, total) {
  const list = h("ul", { class: "cases", "aria-labelledby": id });
  const state = status();
  const more = h("button", { type: "button", class: "quiet", hidden: true }, t("con_more"));
  let cursor = null;
  let shown = 0;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await call(`/reports?status=${statusKey}&sort=deadline&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      list.append(...page.items.map(caseItem));
      shown += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      state.done(shown ? (cursor ? say("con_shown_of", { n: shown, total }) : "") : t("con_none"));
    } catch (err) {
      state.fail(err);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", load);
  load();
  return h("section", { class: "con-section", id: `${id}-section` },
    h("h2", { id }, `${title} `, h("span", { class: "tag" }, number(total))), state, list, more);
}

// The cases whose extension or suspension request waits, or whose verification is late,
// from the queue (at most 200 of its cases come with it; the count is complete); `detail`
// says what each waits for.
function requestSection(id, title, items, total, detail) {
  const list = h("ul", { class: "cases", "aria-labelledby": id }, ...items.map((item) => {
    const entry = caseItem(item);
    const line = detail(item);
    if (line) entry.append(h("p", {}, line));
    return entry;
  }));
  const note = items.length < total ? say("con_shown_of", { n: items.length, total }) : items.length ? "" : t("con_none");
  return h("section", { class: "con-section", id: `${id}-section` },
    h("h2", { id }, `${title} `, h("span", { class: "tag" }, number(total))),
    h("p", { role: "status" }, note), list);
}

async function triageView() {
  const counts = h("ul", { class: "counts", "aria-label": t("counts") });
  const state = status();
  const sections = h("div", { class: "con-sections" });
  const refresh = h("button", { type: "button", class: "quiet", onclick: () => triageView() }, t("con_refresh"));
  show(t("con_triage"), h("div", { class: "con-toolbar" }, counts, refresh), state, sections);
  try {
    const [queue] = await Promise.all([call("/queue"), categories()]);
    counts.replaceChildren(...Object.entries(queue.counts).map(([key, n]) =>
      h("li", { class: key === "overdue" && n ? "con-count overdue" : "con-count" }, `${countName(key)} `, h("strong", {}, number(n)))));
    const pending = (kind) => queue.items.filter((item) => item.pending_request === kind);
    const asksUntil = (item) => item.requested_until ? `${t("con_requested_until")} ${when(item.requested_until)}` : "";
    // The only rectified cases in a supervisor's queue are those escalated as late.
    const lateChecks = queue.items.filter((item) => item.status === "rectified");
    sections.replaceChildren(
      statusSection("con-reported", t("con_reported"), "reported", queue.counts.triage ?? 0),
      statusSection("con-disputed", t("con_disputed"), "disputed", queue.counts.disputed ?? 0),
      requestSection("con-extension", t("con_extension"), pending("extension"), queue.counts.extension_requests ?? 0, asksUntil),
      requestSection("con-suspension", t("con_suspension"), pending("suspension"), queue.counts.suspension_requests ?? 0, asksUntil),
      requestSection("con-verify", t("con_verify_overdue"), lateChecks, queue.counts.verify_overdue ?? 0,
        (item) => `${t("con_verify_due")} ${when(item.verify_due_at)}`));
    state.done();
  } catch (err) {
    state.fail(err);
  }
}

// ---- Map ---------------------------------------------------------------------------------

const MAX_CASES = 2000;

// The filters the address holds (`#/map?status=reported,disputed&category=…&area_id=…&
// overdue=true`), so that a view can be shared; no `status`: the open cases.
function readFilters(query) {
  const statuses = query.has("status")
    ? query.get("status").split(",").filter((s) => STATUSES.includes(s))
    : OPEN.slice();
  return {
    statuses,
    category: query.get("category") || "",
    area: query.get("area_id") || "",
    overdue: query.get("overdue") === "true",
  };
}

function filtersQuery(filters) {
  const query = new URLSearchParams();
  const isDefault = filters.statuses.length === OPEN.length && OPEN.every((s) => filters.statuses.includes(s));
  if (!isDefault) query.set("status", filters.statuses.join(","));
  if (filters.category) query.set("category", filters.category);
  if (filters.area) query.set("area_id", filters.area);
  if (filters.overdue) query.set("overdue", "true");
  return query;
}

// Every area with its boundary, a page at a time.
async function allAreas() {
  const areas = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const answer = await call(`/areas?geometry=true&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    areas.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return areas;
}

// The areas in tree order, each with its depth, for the area list.
function inTreeOrder(areas) {
  const ids = new Set(areas.map((a) => a.id));
  const children = new Map();
  for (const area of areas) {
    const parent = area.parent_id && ids.has(area.parent_id) ? area.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(area);
  }
  const ordered = [];
  const walk = (parent, depth) => {
    for (const area of (children.get(parent) || []).sort((a, b) => a.code.localeCompare(b.code))) {
      ordered.push({ area, depth });
      if (depth < 10) walk(area.id, depth + 1);
    }
  };
  walk(null, 0);
  return ordered;
}

// [min_lon, min_lat, max_lon, max_lat] of a GeoJSON (Multi)Polygon.
function extent(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  const box = [180, 90, -180, -90];
  for (const rings of polygons) {
    for (const [lon, lat] of rings[0]) {
      box[0] = Math.min(box[0], lon); box[1] = Math.min(box[1], lat);
      box[2] = Math.max(box[2], lon); box[3] = Math.max(box[3], lat);
    }
  }
  return box;
}

// The cases the filters select: those inside the chosen area's boundary (the area and every
// area below it; the list's `area_id` is only the case's own, deepest area).
async function filteredCases(filters, areas) {
  const query = new URLSearchParams();
  if (filters.statuses.length < STATUSES.length) query.set("status", filters.statuses.join(","));
  if (filters.category) query.set("category", filters.category);
  if (filters.overdue) query.set("overdue", "true");
  const area = areas.find((a) => a.id === filters.area);
  if (area?.boundary) query.set("bbox", extent(area.boundary).map((v) => v.toFixed(6)).join(","));
  else if (filters.area) query.set("area_id", filters.area);
  query.set("limit", "200");
  const features = [];
  let cursor = null;
  do {
    const page = await call(`/reports.geojson?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    features.push(...page.features);
    cursor = page.next_cursor;
  } while (cursor && features.length < MAX_CASES);
  const inside = area?.boundary
    ? features.filter((f) => covers(area.boundary, f.geometry.coordinates[1], f.geometry.coordinates[0]))
    : features;
  return { features: inside.slice(0, MAX_CASES), capped: Boolean(cursor) || inside.length > MAX_CASES };
}

function casePopup(feature) {
  const p = feature.properties;
  return h("div", { class: "con-popup" },
    h("strong", {}, `${categoryName(p.category)} · ${p.case_no}`),
    h("p", {}, h("span", { class: `tag status-${p.status}` }, statusName(p.status)),
      p.overdue ? h("span", { class: "tag overdue" }, t("overdue")) : null),
    h("p", {}, p.address || ""),
    p.assignee ? h("p", {}, p.assignee) : null,
    p.deadline_at ? h("p", {}, `${t("deadline")} ${when(p.deadline_at)}`) : null,
    h("a", { href: `#/case/${feature.id}` }, t("con_open_case")));
}

async function mapView(params, query) {
  const filters = readFilters(query);
  const state = status();
  const summary = h("p", { id: "con-map-summary", role: "status" });
  const holder = h("div", { id: "con-map", class: "con-map", role: "region", "aria-label": t("con_map") });
  const list = h("ul", { class: "con-case-list" });
  const statusBoxes = STATUSES.map((s) => h("label", { class: "con-check" },
    h("input", { type: "checkbox", name: "status", value: s, checked: filters.statuses.includes(s) }), statusName(s)));
  const category = h("select", { name: "category" }, h("option", { value: "" }, t("con_all_categories")));
  const areaSelect = h("select", { name: "area_id" }, h("option", { value: "" }, t("con_all_areas")));
  const overdue = h("input", { type: "checkbox", name: "overdue", checked: filters.overdue });
  const form = h("form", { class: "con-filters", "aria-label": t("con_filters") },
    h("fieldset", {}, h("legend", {}, t("con_status")), ...statusBoxes),
    h("label", {}, t("category"), category),
    h("label", {}, t("con_area"), areaSelect),
    h("label", { class: "con-check" }, overdue, t("con_overdue_only")),
    h("button", { type: "reset", class: "quiet" }, t("con_reset")));
  const legend = h("ul", { class: "con-legend", "aria-label": t("con_legend") },
    ...OPEN.map((s) => h("li", {}, h("span", { class: `con-dot status-${s}`, "aria-hidden": "true" }), statusName(s))),
    h("li", {}, h("span", { class: "con-dot overdue", "aria-hidden": "true" }), t("overdue")));
  // On a desk the filters stand open beside the map; on a phone they fold away above it.
  const wide = matchMedia("(min-width: 1000px)").matches;
  show(t("con_map"), h("div", { class: "con-map-layout" },
    h("details", { class: "con-fold", open: wide }, h("summary", {}, t("con_filters")), form),
    h("div", { class: "con-map-main" }, state, summary, holder, legend,
      h("details", { class: "con-list" }, h("summary", {}, t("con_case_list")), list))));

  let m;
  let areas = [];
  try {
    const [made, kinds, found] = await Promise.all([makeMap(holder), categories(), allAreas()]);
    m = made;
    areas = found;
    for (const kind of kinds) category.append(h("option", { value: kind.code }, name(kind)));
    for (const { area, depth } of inTreeOrder(areas)) {
      areaSelect.append(h("option", { value: area.id }, `${"\u3000".repeat(depth)}${area.name}`));
    }
    category.value = filters.category;
    areaSelect.value = filters.area;
    state.done();
  } catch (err) {
    state.fail(err);
    if (!m) return;
  }
  const { L, map } = m;
  const boundaries = {};
  const outlines = m.geojson({
    type: "FeatureCollection",
    features: areas.filter((a) => a.boundary).map((a) => ({ type: "Feature", id: a.id, geometry: a.boundary, properties: { name: a.name } })),
  }, {
    className: "con-area",
    interactive: false,
    style: { color: "#0b5cad", weight: 2, opacity: 0.7, fillOpacity: 0.03 },
    onEachFeature: (feature, layer) => { boundaries[feature.id] = layer; },
  }).addTo(map);
  // The shops' frontage zones (门前三包责任区), from the registry the phones keep (which
  // supervisors read; admins see them in the shopfronts screen): a polygon, or a radius
  // around the shop. A layer the supervisor can hide.
  const zones = L.layerGroup().addTo(map);
  L.control.layers(null, { [t("con_zones")]: zones, [t("con_areas")]: outlines }).addTo(map);
  registry().then((doc) => {
    for (const zone of doc.zones) {
      const look = { className: "con-zone", interactive: false };
      const style = { color: "#1b6e20", weight: 1, fillOpacity: 0.12 };
      const drawn = zone.polygon
        ? m.geojson(zone.polygon, { ...look, style })
        : L.circle(m.show([zone.anchor[1], zone.anchor[0]]), { ...look, ...style, radius: zone.radius_m });
      zones.addLayer(drawn);
    }
  }, () => { /* no registry: the cases and boundaries are still drawn */ });
  const cluster = L.markerClusterGroup({ maxClusterRadius: 50 });
  map.addLayer(cluster);

  let latest = 0;
  let first = true;
  const draw = async () => {
    const mine = ++latest;
    for (const layer of Object.values(boundaries)) layer.setStyle({ weight: 2 });
    boundaries[filters.area]?.setStyle({ weight: 4 });
    if (!filters.statuses.length) {
      cluster.clearLayers();
      list.replaceChildren();
      summary.textContent = t("con_no_status");
      return;
    }
    summary.textContent = t("loading");
    try {
      const { features, capped } = await filteredCases(filters, areas);
      if (mine !== latest) return;
      cluster.clearLayers();
      cluster.addLayers(features.map((f) => {
        const [lon, lat] = f.geometry.coordinates;
        const p = f.properties;
        const label = `${p.case_no} ${categoryName(p.category)} ${statusName(p.status)}`;
        return L.marker(m.show([lat, lon]), {
          icon: L.divIcon({ className: `con-pin status-${p.status}${p.overdue ? " overdue" : ""}`, iconSize: [18, 18] }),
          title: label,
          alt: label,
        }).bindPopup(() => casePopup(f));
      }));
      list.replaceChildren(...features.map((f) => h("li", {},
        h("a", { href: `#/case/${f.id}` }, `${f.properties.case_no} · ${categoryName(f.properties.category)}`),
        ` ${statusName(f.properties.status)} · ${f.properties.address || ""}`)));
      summary.textContent = features.length
        ? `${say("con_cases_shown", { n: number(features.length) })}${capped ? ` ${say("con_cases_capped", { n: number(MAX_CASES) })}` : ""}`
        : t("con_no_cases");
      // The view follows the chosen area; otherwise it is fitted once, to the cases (or
      // the boundaries), and then left where the supervisor moves it.
      const area = boundaries[filters.area];
      if (area) map.fitBounds(area.getBounds(), { padding: [16, 16] });
      else if (first && features.length) map.fitBounds(cluster.getBounds(), { padding: [24, 24], maxZoom: 16 });
      else if (first && outlines.getLayers().length) map.fitBounds(outlines.getBounds(), { padding: [16, 16] });
      first = false;
    } catch (err) {
      if (mine === latest) summary.textContent = err.message;
    }
  };

  const changed = () => {
    filters.statuses = statusBoxes.map((l) => l.firstChild).filter((box) => box.checked).map((box) => box.value);
    filters.category = category.value;
    filters.area = areaSelect.value;
    filters.overdue = overdue.checked;
    const shared = filtersQuery(filters).toString();
    // The address names the view, without a new render (the map stays where it is).
    history.replaceState(null, "", `#/map${shared ? `?${shared}` : ""}`);
    draw();
  };
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("reset", () => setTimeout(() => {
    for (const label of statusBoxes) label.firstChild.checked = OPEN.includes(label.firstChild.value);
    overdue.checked = false;
    category.value = "";
    areaSelect.value = "";
    changed();
  }));
  await draw();
}

// ---- Statistics --------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
  element.append(...children);
  return element;
}

// Horizontal bars, one row per group: its name above its bar, the value at the bar's end.
// Sized in the page's pixels (width 100%, bar lengths in percent) rather than scaled from a
// viewBox, so the words stay readable at any width. The table beside it says the same for
// screen readers.
export function barChart(rows, { label, format }) {
  const ROW = 46;
  const max = Math.max(0, ...rows.map((r) => r.value ?? 0));
  const chart = svg("svg", {
    class: "con-chart", width: "100%", height: rows.length * ROW + 4, role: "img", "aria-label": label,
  });
  rows.forEach((row, i) => {
    const y = i * ROW;
    const length = max > 0 && row.value ? Math.max(0.5, (row.value / max) * 78) : 0;
    chart.append(svg("g", { class: "con-bar-row", "data-key": row.key ?? "" },
      svg("title", {}, `${row.label}: ${format(row.value)}`),
      svg("text", { x: 0, y: y + 16, class: "con-bar-label" }, row.label),
      svg("rect", { x: 0, y: y + 22, height: 18, width: `${length}%`, rx: 3, class: "con-bar", "data-value": row.value ?? "" }),
      svg("text", { x: `${length}%`, dx: 6, y: y + 36, class: "con-bar-value" }, format(row.value))));
  });
  return chart;
}

const percent = (v) => (v == null ? "—" : `${number(v, 2)}%`);
const METRICS = {
  filed: { word: "con_filed", format: (v) => number(v) },
  closed: { word: "con_closed", format: (v) => number(v) },
  on_time_rate: { word: "con_on_time_rate", format: percent },
  rework_rate: { word: "con_rework_rate", format: percent },
  mean_hours_to_close: { word: "con_mean_hours", format: (v) => number(v, 1) },
};
const COLUMNS = [
  ["filed", "con_filed", (v) => number(v)],
  ["closed", "con_closed", (v) => number(v)],
  ["due", "con_due", (v) => number(v)],
  ["closed_on_time", "con_closed_on_time", (v) => number(v)],
  ["on_time_rate", "con_on_time_rate", percent],
  ["reworked", "con_reworked", (v) => number(v)],
  ["rework_rate", "con_rework_rate", percent],
  ["mean_hours_to_close", "con_mean_hours", (v) => number(v, 1)],
];
const GROUPINGS = [["area", "con_by_area"], ["department", "con_by_department"], ["category", "con_by_category"]];
const LEVELS = ["district", "subdistrict", "community", "grid"];

// A day in the user's own calendar, as `YYYY-MM-DD`.
function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function statsTable(caption, stats) {
  const cells = (figures) => COLUMNS.map(([key, , format]) => h("td", {}, format(figures[key])));
  return h("div", { class: "con-table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", { class: "con-table" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("con_name")),
        ...COLUMNS.map(([, word]) => h("th", { scope: "col" }, t(word))))),
      h("tbody", {}, ...stats.groups.map((group) => h("tr", { "data-key": group.key ?? "" },
        h("th", { scope: "row" }, group.name), ...cells(group)))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t("con_total")), ...cells(stats.total)))));
}

function statsView(params, query) {
  const today = new Date();
  const monthAgo = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
  const chosen = {
    from: query.get("from") || isoDay(monthAgo),
    to: query.get("to") || isoDay(today),
    metric: METRICS[query.get("metric")] ? query.get("metric") : "filed",
    area_level: LEVELS.includes(query.get("area_level")) ? query.get("area_level") : "district",
  };
  const from = h("input", { type: "date", name: "from", required: true, value: chosen.from });
  const to = h("input", { type: "date", name: "to", required: true, value: chosen.to });
  const metric = h("select", { name: "metric" },
    ...Object.entries(METRICS).map(([key, m]) => h("option", { value: key, selected: key === chosen.metric }, t(m.word))));
  const level = h("select", { name: "area_level" },
    ...LEVELS.map((l) => h("option", { value: l, selected: l === chosen.area_level }, t(`con_level_${l}`))));
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "con-filters", "aria-label": t("con_filters") },
    h("label", {}, t("con_from"), from), h("label", {}, t("con_to"), to),
    h("label", {}, t("con_metric"), metric), h("label", {}, t("con_area_level"), level),
    h("button", { type: "submit" }, t("con_show")), error);
  const state = status();
  const total = h("ul", { class: "counts", "aria-label": t("con_total") });
  const results = h("div", { class: "con-stats" });
  show(t("con_stats"), form, state, total, results);

  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    error.textContent = "";
    state.textContent = t("loading");
    state.className = "";
    const base = new URLSearchParams({ from: from.value, to: to.value });
    try {
      const answers = await Promise.all(GROUPINGS.map(([by]) => {
        const q = new URLSearchParams(base);
        q.set("group_by", by);
        if (by === "area") q.set("area_level", level.value);
        return call(`/stats?${q}`);
      }));
      if (mine !== latest) return;
      const chart = METRICS[metric.value];
      const first = answers[0].total;
      total.replaceChildren(...["filed", "closed", "on_time_rate", "rework_rate", "mean_hours_to_close"].map((key) =>
        h("li", {}, `${t(METRICS[key].word)} `, h("strong", {}, METRICS[key].format(first[key])))));
      results.replaceChildren(...GROUPINGS.map(([by, word], i) => {
        const stats = answers[i];
        const title = `${t(word)} · ${t(chart.word)}`;
        return h("section", { class: "con-section", id: `con-stats-${by}`, "aria-labelledby": `con-stats-${by}-title` },
          h("h2", { id: `con-stats-${by}-title` }, t(word)),
          stats.groups.length
            ? h("div", { class: "con-pair" },
              h("figure", {}, barChart(stats.groups.map((g) => ({ key: g.key, label: g.name, value: g[metric.value] })),
                { label: title, format: chart.format }), h("figcaption", {}, title)),
              statsTable(t(word), stats))
            : h("p", {}, t("con_no_groups")));
      }));
      state.done();
    } catch (err) {
      if (mine !== latest) return;
      state.done();
      error.textContent = err.message;
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const shared = new URLSearchParams({ from: from.value, to: to.value, metric: metric.value, area_level: level.value });
    history.replaceState(null, "", `#/stats?${shared}`);
    load();
  });
  load();
}

route("/triage", triageView, { roles: ROLES, menu: "con_triage" });
route("/map", mapView, { roles: ROLES, menu: "con_map" });
route("/stats", statsView, { roles: ROLES, menu: "con_stats" });
