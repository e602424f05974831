// The app: sign-in, then the screen the address names, among those the user's role may
// open. Each screen lives in its own module, which registers its routes (ui.js) and its
// words (i18n.js). Plain ES modules, served as they are; the API under /api/v1 is the only
// source of data.

import { t, lang, setLang } from "/app/i18n.js";
import { call, session, deviceId, ApiError, whenSignedOut } from "/app/api.js";
import { h, match, onSignOut } from "/app/ui.js";
import "/app/queue.js";
import { sendWaiting } from "/app/file.js";
import "/app/case.js";

// Screens loaded for the roles that use them, so a phone does not carry the console's.
const SCREENS_BY_ROLE = {
  inspector: ["/app/campaigns.js"],
  department: [],
  shopfront: [],
  supervisor: ["/app/console.js", "/app/campaigns.js", "/app/admin.js"],
  admin: ["/app/console.js", "/app/campaigns.js", "/app/admin.js"],
};
const loaded = new Map();
function screensFor(role) {
  if (!loaded.has(role)) {
    loaded.set(role, Promise.all((SCREENS_BY_ROLE[role] || []).map((module) => import(module)))
      .catch((err) => { loaded.delete(role); throw err; }));
  }
  return loaded.get(role);
}

const app = document.getElementById("app");

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
      sendWaiting();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : t("offline_sign_in");
      button.disabled = false;
    }
  });
  document.title = `${t("sign_in")} · ${t("app")}`;
  app.replaceChildren(h("h1", { id: "title" }, t("sign_in")), form);
  app.focus();
}

async function signOut() {
  const current = session.get();
  session.set(null);
  try {
    await call("/auth/logout", { method: "POST", auth: false, body: { refresh_token: current.refresh_token } });
  } catch { /* signed out here whatever the server heard */ }
  render();
}

async function render() {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  const other = document.getElementById("lang");
  other.textContent = lang() === "en" ? "中文" : "English";
  other.lang = lang() === "en" ? "zh-CN" : "en";
  if (!session.get()) return signInView();
  try {
    await screensFor(session.get().user.role);
  } catch {
    // Not loaded (no network, not kept yet): the screens that are here still work.
  }
  if (!session.get()) return signInView();
  const found = match(location.hash) || match("#/");
  return found.entry.view(found.params, found.query);
}

function showNetwork() {
  document.getElementById("network").textContent = navigator.onLine ? "" : t("offline");
}

onSignOut(signOut);
whenSignedOut(render);
document.getElementById("lang").addEventListener("click", () => {
  setLang(lang() === "en" ? "zh" : "en");
  showNetwork();
  render();
});
addEventListener("online", () => { showNetwork(); sendWaiting(); });
addEventListener("offline", showNetwork);
addEventListener("hashchange", render);
setInterval(sendWaiting, 30000);
showNetwork();
render();
sendWaiting();

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => { /* the app works without it */ });
}
