// The web app's shell: sign-in, the language switch, the network state and the signed-in
// user's queue. Plain ES modules, served as they are; the API under /api/v1 is its only
// source of data.

import { t, lang, setLang, statusName, roleName, countName } from "/app/i18n.js";

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
  const response = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
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
      error.textContent = navigator.onLine ? err.message : t("offline_sign_in");
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

async function homeView() {
  const me = session.get().user;
  const signOut = h("button", { type: "button", class: "quiet", onclick: async () => {
    const current = session.get();
    session.set(null);
    try {
      await call("/auth/logout", { method: "POST", auth: false, body: { refresh_token: current.refresh_token } });
    } catch { /* signed out here whatever the server heard */ }
    render();
  } }, t("sign_out"));
  const list = h("ul", { class: "cases", "aria-label": t("queue") });
  const counts = h("ul", { class: "counts", "aria-label": t("counts") });
  const state = h("p", { role: "status" }, t("loading"));
  document.title = `${t("queue")} · ${t("app")}`;
  show(
    h("div", { class: "who" },
      h("h1", {}, t("queue")),
      h("span", {}, `${me.display_name || me.username} · ${roleName(me.role)}`),
      signOut),
    counts, state, list);
  try {
    const [queue, categories] = await Promise.all([call("/queue"), call("/categories")]);
    const byCode = new Map((categories.items || categories).map((c) => [c.code, c]));
    counts.replaceChildren(...Object.entries(queue.counts).map(([key, n]) =>
      h("li", {}, `${countName(key)} ${n}`)));
    list.replaceChildren(...queue.items.map((item) => caseItem(item, byCode)));
    state.textContent = queue.items.length ? "" : t("queue_empty");
  } catch (err) {
    state.textContent = navigator.onLine ? err.message : t("offline");
    state.className = "error";
  }
}

function render() {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  const other = document.getElementById("lang");
  other.textContent = lang() === "en" ? "中文" : "English";
  other.lang = lang() === "en" ? "zh-CN" : "en";
  if (session.get()) homeView();
  else signInView();
}

function showNetwork() {
  document.getElementById("network").textContent = navigator.onLine ? "" : t("offline");
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(lang() === "en" ? "zh" : "en");
  showNetwork();
  render();
});
addEventListener("online", showNetwork);
addEventListener("offline", showNetwork);
showNetwork();
render();

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => { /* the app works without it */ });
}
