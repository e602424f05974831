// The web app's shell: sign-in, the language switch, the network state, the signed-in
// user's queue, filing a report (kept in the outbox until the server has it) and the
// outbox itself. Plain ES modules, served as they are; the API under /api/v1 is its only
// source of data.

import { t, lang, setLang, statusName, roleName, countName } from "/app/i18n.js";
import * as outbox from "/app/outbox.js";

const API = "/api/v1";
const app = document.getElementById("app");
const session = {
  get() {
    try { return JSON.parse(localStorage.getItem("xuncha.session")); } catch { return null; }
  },
  set(value) {
    if (value) localStorage.setItem("xuncha.session", JSON.stringify(value));
    else localStorage.removeItem("xuncha.session");
  },
};

// A phone's own id, made once: failed sign-ins then lock the account on this device only.
function deviceId() {
  let id = localStorage.getItem("xuncha.device");
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem("xuncha.device", id);
  }
  return id;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function call(path, { method = "GET", body, auth = true } = {}) {
  const headers = { "Accept-Language": lang() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const current = session.get();
  if (auth && current) headers.Authorization = `Bearer ${current.access_token}`;
  let response;
  try {
    response = await fetch(API + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error(t("unreachable"));
  }
  if (response.status === 401 && auth && current && (await refresh(current))) {
    return call(path, { method, body, auth });
  }
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

// One refresh at a time: a second 401 meanwhile waits for the same answer. A refresh
// whose answer was lost is sent again with the same token (the server's grace window).
let refreshing = null;
function refresh(current) {
  refreshing ??= (async () => {
    try {
      const pair = await call("/auth/refresh", {
        method: "POST", body: { refresh_token: current.refresh_token }, auth: false,
      });
      session.set(pair);
      return true;
    } catch (err) {
      if (err instanceof ApiError) {
        session.set(null);
        render();
      }
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value !== false && value != null) element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((c) => c != null));
  return element;
}

function show(...nodes) {
  app.replaceChildren(...nodes);
  app.focus();
}

function signInView() {
  const error = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit" }, t("sign_in"));
  const form = h("form", { class: "stack", "aria-labelledby": "title" },
    h("label", {}, t("username"),
      h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "none" })),
    h("label", {}, t("password"),
      h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    button, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    const data = new FormData(form);
    try {
      session.set(await call("/auth/login", {
        method: "POST", auth: false,
        body: { username: data.get("username"), password: data.get("password"), device_id: deviceId() },
      }));
      render();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : t("offline_sign_in");
      button.disabled = false;
    }
  });
  document.title = `${t("sign_in")} · ${t("app")}`;
  show(h("h1", { id: "title" }, t("sign_in")), form);
}

function caseItem(item, categories) {
  const category = categories.get(item.category);
  const name = category ? (lang() === "en" ? category.name_en : category.name_zh) : item.category;
  const deadline = item.deadline_at
    ? new Date(item.deadline_at).toLocaleString(lang() === "en" ? "en-GB" : "zh-CN") : null;
  return h("li", { class: item.overdue ? "case overdue" : "case" },
    h("h2", {}, `${name} · ${item.case_no}`),
    h("p", {}, item.address || ""),
    h("p", {},
      h("span", { class: "tag" }, statusName(item.status)), " ",
      item.overdue ? h("span", { class: "tag overdue" }, t("overdue")) : null,
      deadline ? ` ${t("deadline")} ${deadline}` : null));
}

const FILERS = ["inspector", "supervisor"];

// The categories, kept on the device so the filing form works with no network.
async function categories() {
  try {
    const page = await call("/categories");
    localStorage.setItem("xuncha.categories", JSON.stringify(page.items));
    return page.items;
  } catch (err) {
    const kept = localStorage.getItem("xuncha.categories");
    if (kept) return JSON.parse(kept);
    throw err;
  }
}

function categoryName(category) {
  return lang() === "en" ? category.name_en : category.name_zh;
}

// The signed-in screens' navigation, with what still waits in the outbox.
function nav(current) {
  const me = session.get().user;
  const link = (href, label, id) => h("a", {
    href, id, "aria-current": current === href ? "page" : false,
  }, label);
  const waiting = h("span", { id: "outbox-count" });
  showWaiting(waiting);
  const signOut = h("button", { type: "button", class: "quiet", onclick: async () => {
    const current = session.get();
    session.set(null);
    try {
      await call("/auth/logout", { method: "POST", auth: false, body: { refresh_token: current.refresh_token } });
    } catch { /* signed out here whatever the server heard */ }
    render();
  } }, t("sign_out"));
  return h("nav", { class: "who", "aria-label": t("menu") },
    link("#/", t("queue")),
    FILERS.includes(me.role) ? link("#/file", t("file_report")) : null,
    h("a", { href: "#/outbox", "aria-current": current === "#/outbox" ? "page" : false }, t("outbox"), " ", waiting),
    h("span", {}, `${me.display_name || me.username} · ${roleName(me.role)}`),
    signOut);
}

async function showWaiting(element = document.getElementById("outbox-count")) {
  if (!element) return;
  const items = await outbox.list(session.get()?.user.id);
  element.textContent = String(items.length);
  element.className = items.length ? "tag overdue" : "tag";
  element.setAttribute("aria-label", `${t("waiting")} ${items.length}`);
}

async function homeView() {
  const list = h("ul", { class: "cases", "aria-label": t("queue") });
  const counts = h("ul", { class: "counts", "aria-label": t("counts") });
  const state = h("p", { role: "status" }, t("loading"));
  document.title = `${t("queue")} · ${t("app")}`;
  show(nav("#/"), h("h1", {}, t("queue")), counts, state, list);
  try {
    const [queue, kinds] = await Promise.all([call("/queue"), categories()]);
    const byCode = new Map(kinds.map((c) => [c.code, c]));
    counts.replaceChildren(...Object.entries(queue.counts).map(([key, n]) =>
      h("li", {}, `${countName(key)} ${n}`)));
    list.replaceChildren(...queue.items.map((item) => caseItem(item, byCode)));
    state.textContent = queue.items.length ? "" : t("queue_empty");
  } catch (err) {
    state.textContent = err.message;
    state.className = "error";
  }
}

// Filing a report: the category, what is wrong, where (GPS with its accuracy, and the
// address), the photos. It goes to the outbox first, then to the server when it can.
async function fileView() {
  document.title = `${t("file_report")} · ${t("app")}`;
  const error = h("p", { class: "error", role: "alert" });
  const done = h("p", { role: "status" });
  const place = h("p", { id: "gps", role: "status" }, t("locating"));
  let fix = null;
  const submit = h("button", { type: "submit", disabled: true }, t("file_it"));
  const select = h("select", { name: "category", required: true },
    h("option", { value: "" }, t("choose")));
  const form = h("form", { class: "stack", "aria-labelledby": "title" },
    h("label", {}, t("category"), select),
    h("label", {}, t("description"), h("textarea", { name: "description", rows: 3, maxlength: 2000 })),
    h("label", {}, t("address"), h("input", { name: "address", required: true, maxlength: 200 })),
    h("label", {}, t("photos"),
      h("input", { name: "photos", type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", multiple: true })),
    place, submit, error, done);
  show(nav("#/file"), h("h1", { id: "title" }, t("file_report")), form);

  try {
    for (const category of await categories()) {
      if (category.active !== false) select.append(h("option", { value: category.code }, categoryName(category)));
    }
  } catch (err) {
    error.textContent = err.message;
  }
  if (!navigator.geolocation) {
    place.textContent = t("no_gps");
  } else {
    navigator.geolocation.getCurrentPosition((position) => {
      fix = position.coords;
      place.textContent = `${t("location")} ${fix.latitude.toFixed(5)}, ${fix.longitude.toFixed(5)} ±${Math.round(fix.accuracy)} ${t("metres")}`;
      submit.disabled = false;
    }, () => {
      place.textContent = t("no_gps");
      place.className = "error";
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!fix) return;
    const data = new FormData(form);
    const photos = data.getAll("photos").filter((file) => file.size > 0);
    const report = {
      client_id: crypto.randomUUID(),
      category: data.get("category"),
      description: data.get("description"),
      address: data.get("address"),
      location: { lat: fix.latitude, lon: fix.longitude, accuracy_m: fix.accuracy, crs: "wgs84" },
      observed_at: new Date().toISOString(),
      severity: "normal",
    };
    submit.disabled = true;
    error.textContent = "";
    try {
      await outbox.enqueue(session.get().user.id, report, photos);
    } catch (err) {
      // Nothing was kept: the form keeps what was typed, to try again.
      error.textContent = `${t("not_saved")} ${err?.message || err}`;
      submit.disabled = false;
      return;
    }
    form.reset();
    submit.disabled = false;
    done.textContent = t("queued");
    await showWaiting();
    sendWaiting();
  });
}

async function outboxView() {
  document.title = `${t("outbox")} · ${t("app")}`;
  const items = await outbox.list(session.get().user.id);
  const kinds = new Map(JSON.parse(localStorage.getItem("xuncha.categories") || "[]").map((c) => [c.code, c]));
  const retry = h("button", { type: "button", onclick: () => sendWaiting() }, t("send_now"));
  show(nav("#/outbox"), h("h1", {}, t("outbox")),
    h("p", { role: "status" }, items.length ? `${t("waiting")} ${items.length}` : t("outbox_empty")),
    items.length ? retry : null,
    h("ul", { class: "cases", "aria-label": t("outbox") }, ...items.map((item) => {
      const category = kinds.get(item.report.category);
      return h("li", { class: item.error ? "case overdue" : "case" },
        h("h2", {}, category ? categoryName(category) : item.report.category),
        h("p", {}, item.report.address),
        h("p", {}, `${t("photos")} ${item.photos.length} · ${new Date(item.queued_at).toLocaleString(lang() === "en" ? "en-GB" : "zh-CN")}`),
        item.error ? h("p", { class: "error" }, item.error) : null);
    })));
}

// One report from the outbox, as the API takes it with its photos in one request.
async function sendReport(item) {
  const form = new FormData();
  form.append("report", JSON.stringify(item.report));
  item.photos.forEach((photo, index) => form.append("file", photo, photo.name || `photo-${index + 1}.jpg`));
  const headers = { "Idempotency-Key": item.key, "Accept-Language": lang() };
  const current = session.get();
  if (current) headers.Authorization = `Bearer ${current.access_token}`;
  const response = await fetch(`${API}/reports/with-photos`, { method: "POST", headers, body: form });
  if (response.status === 401 && current && (await refresh(current))) return sendReport(item);
  return response;
}

async function sendWaiting() {
  if (!session.get()) return;
  const sent = await outbox.flush(session.get().user.id, sendReport);
  await showWaiting();
  if (sent && location.hash === "#/outbox") outboxView();
}

function render() {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  const other = document.getElementById("lang");
  other.textContent = lang() === "en" ? "中文" : "English";
  other.lang = lang() === "en" ? "zh-CN" : "en";
  if (!session.get()) return signInView();
  if (location.hash === "#/file") return fileView();
  if (location.hash === "#/outbox") return outboxView();
  return homeView();
}

function showNetwork() {
  document.getElementById("network").textContent = navigator.onLine ? "" : t("offline");
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(lang() === "en" ? "zh" : "en");
  showNetwork();
  render();
});
addEventListener("online", () => { showNetwork(); sendWaiting(); });
addEventListener("hashchange", render);
setInterval(sendWaiting, 30000);
addEventListener("offline", showNetwork);
showNetwork();
render();
sendWaiting();

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => { /* the app works without it */ });
}
