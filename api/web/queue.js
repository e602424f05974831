// My queue (every role's first screen): the counts of each part of the signed-in user's
// work and its cases, overdue first, with the time left; for inspectors, the open cases
// near where they stand; for a department, the open cases it answers for without being
// their assignee (its shops', and, for a sub-district office, its territory's: 属地).

import { t, countName, addWords } from "/app/i18n.js";
import { call, me } from "/app/api.js";
import { h, show, route, caseItem, categories, status } from "/app/ui.js";

addWords({
  nearby: ["附近的未办结案件", "Open cases nearby"],
  nearby_none: ["附近 500 米内没有未办结的案件。", "No open cases within 500 m."],
  find_nearby: ["查看附近案件", "Show cases nearby"],
  days: ["天", "d"],
  hours: ["小时", "h"],
  minutes: ["分钟", "min"],
  late_by: ["已超期", "late by"],
  left: ["剩余", "left"],
  territory: ["辖区及监管的其他案件", "Other cases on your territory or that you oversee"],
  territory_more: ["仅显示最近 50 件。", "Only the latest 50 are shown."],
});

const OPEN = "reported,assigned,in_progress,disputed,rectified";

// A box `metres` around a point, as `min_lon,min_lat,max_lon,max_lat`.
export function boxAround(lat, lon, metres) {
  const dLat = metres / 111320;
  const dLon = metres / (111320 * Math.cos((lat * Math.PI) / 180));
  return [lon - dLon, lat - dLat, lon + dLon, lat + dLat].map((v) => v.toFixed(6)).join(",");
}

async function queueView() {
  const list = h("ul", { class: "cases", "aria-label": t("queue") });
  const counts = h("ul", { class: "counts", "aria-label": t("counts") });
  const state = status();
  const nearby = ["inspector", "supervisor"].includes(me().role) ? nearbyPart() : null;
  const territory = me().role === "department" ? territoryPart() : null;
  show(t("queue"), counts, state, list, nearby, territory);
  try {
    const [queue] = await Promise.all([call("/queue"), categories()]);
    counts.replaceChildren(...Object.entries(queue.counts).map(([key, n]) =>
      h("li", {}, `${countName(key)} ${n}`)));
    list.replaceChildren(...queue.items.map(caseItem));
    state.done(queue.items.length ? "" : t("queue_empty"));
  } catch (err) {
    state.fail(err);
  }
}

function nearbyPart() {
  const list = h("ul", { class: "cases", "aria-label": t("nearby") });
  const state = h("p", { role: "status" });
  const button = h("button", { type: "button", class: "quiet", onclick: () => {
    state.textContent = t("locating");
    navigator.geolocation.getCurrentPosition(async ({ coords }) => {
      try {
        const bbox = boxAround(coords.latitude, coords.longitude, 500);
        const page = await call(`/reports?status=${OPEN}&bbox=${bbox}&limit=50`);
        list.replaceChildren(...page.items.map(caseItem));
        state.textContent = page.items.length ? "" : t("nearby_none");
      } catch (err) {
        state.textContent = err.message;
      }
    }, () => { state.textContent = t("no_gps"); }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  } }, t("find_nearby"));
  return h("section", { "aria-labelledby": "nearby" },
    h("h2", { id: "nearby" }, t("nearby")), button, state, list);
}

// Open cases the department reads but is not assigned: it may chase them (催办) from their
// page. Hidden when there are none.
function territoryPart() {
  const list = h("ul", { class: "cases", "aria-labelledby": "territory" });
  const note = h("p", { role: "status" });
  const part = h("section", { "aria-labelledby": "territory", hidden: true },
    h("h2", { id: "territory" }, t("territory")), note, list);
  (async () => {
    try {
      const page = await call(`/reports?status=${OPEN}&limit=50`);
      const mine = me().department_id;
      const others = page.items.filter((c) => !(c.assignee?.kind === "department" && c.assignee.id === mine));
      list.replaceChildren(...others.map(caseItem));
      note.textContent = page.next_cursor ? t("territory_more") : "";
      part.hidden = !others.length;
    } catch (err) {
      note.textContent = err.message;
      part.hidden = false;
    }
  })();
  return part;
}

route("/", queueView, { menu: "queue" });
