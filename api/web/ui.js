// What every screen shares: making elements, showing a screen, the screens' routes and
// the menu built from them, dates and names in the user's language.

import { t, lang, roleName, statusName } from "/app/i18n.js";
import { call, session, me } from "/app/api.js";
import * as outbox from "/app/outbox.js";

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value !== false && value != null) element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((c) => c != null && c !== false));
  return element;
}

const app = () => document.getElementById("app");

// Shows one screen: the menu, its title (also the page's), then its parts. A view calls it
// before it waits for anything, and fills its parts as answers come: a view left while it
// waits then changes only parts no longer shown.
export function show(title, ...nodes) {
  document.title = `${title} · ${t("app")}`;
  app().replaceChildren(nav(), h("h1", { id: "title" }, title), ...nodes.filter((n) => n != null && n !== false));
  app().focus();
}

// The screens: `pattern` is a hash path whose `:name` parts are passed to `view`; `roles`
// who may open it; `menu` the word it is listed under in the menu (none: not listed).
export const routes = [];
export function route(pattern, view, { roles = null, menu = null } = {}) {
  const names = [];
  const regex = new RegExp(`^${pattern.replace(/:([a-z_]+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  })}$`);
  routes.push({ pattern, regex, names, view, roles, menu });
}

export function match(hash) {
  const path = hash.replace(/^#/, "").split("?")[0] || "/";
  const user = me();
  for (const entry of routes) {
    const found = entry.regex.exec(path);
    if (found && (!entry.roles || entry.roles.includes(user?.role))) {
      const params = Object.fromEntries(entry.names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { entry, params, query: new URLSearchParams(hash.split("?")[1] || "") };
    }
  }
  return null;
}

let signOutHandler = () => {};
export function onSignOut(handler) {
  signOutHandler = handler;
}

// The menu: the screens this user may open, what waits in the outbox, who is signed in.
function nav() {
  const user = me();
  const here = location.hash.replace(/^#/, "").split("?")[0] || "/";
  const links = routes.filter((r) => r.menu && (!r.roles || r.roles.includes(user.role)))
    .map((r) => h("a", {
      href: `#${r.pattern}`,
      "aria-current": here === r.pattern ? "page" : false,
    }, t(r.menu)));
  const waiting = h("span", { id: "outbox-count" });
  showWaiting(waiting);
  return h("nav", { class: "who", "aria-label": t("menu") },
    ...links,
    h("a", { href: "#/outbox", "aria-current": here === "/outbox" ? "page" : false }, t("outbox"), " ", waiting),
    h("span", { class: "user" }, `${user.display_name || user.username} · ${roleName(user.role)}`),
    h("button", { type: "button", class: "quiet", onclick: signOutHandler }, t("sign_out")));
}

export async function showWaiting(element = document.getElementById("outbox-count")) {
  if (!element) return;
  const items = await outbox.list(me()?.id);
  element.textContent = String(items.length);
  element.className = items.length ? "tag overdue" : "tag";
  element.setAttribute("aria-label", `${t("waiting")} ${items.length}`);
}

const locale = () => (lang() === "en" ? "en-GB" : "zh-CN");
export const when = (iso) => (iso ? new Date(iso).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" }) : "");
export const day = (iso) => (iso ? new Date(iso).toLocaleDateString(locale()) : "");
export const number = (n, digits = 0) => (n == null ? "—" : Number(n).toLocaleString(locale(), { maximumFractionDigits: digits }));

// Time left until `iso` (negative: overdue), as a person says it.
export function timeLeft(iso) {
  if (!iso) return "";
  const minutes = Math.round((new Date(iso) - Date.now()) / 60000);
  const abs = Math.abs(minutes);
  const span = abs >= 1440 ? `${Math.floor(abs / 1440)} ${t("days")}`
    : abs >= 60 ? `${Math.floor(abs / 60)} ${t("hours")}` : `${abs} ${t("minutes")}`;
  return minutes < 0 ? `${t("late_by")} ${span}` : `${t("left")} ${span}`;
}

export const name = (thing) => (lang() === "en" ? thing.name_en || thing.name_zh || thing.name : thing.name_zh || thing.name);

// The categories, kept on the device so the filing form works with no network.
export async function categories() {
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

export function categoryName(code) {
  const kept = JSON.parse(localStorage.getItem("xuncha.categories") || "[]");
  const found = kept.find((c) => c.code === code);
  return found ? name(found) : code;
}

export const statusTag = (status) => h("span", { class: `tag status-${status}` }, statusName(status));

// A case in a list: category and number, where, status, deadline and time left.
export function caseItem(item) {
  return h("li", { class: item.overdue ? "case overdue" : "case" },
    h("h2", {}, h("a", { href: `#/case/${item.id}` }, `${categoryName(item.category)} · ${item.case_no}`)),
    h("p", {}, item.address || ""),
    h("p", {}, statusTag(item.status), " ",
      item.overdue ? h("span", { class: "tag overdue" }, t("overdue")) : null,
      item.deadline_at && !["closed", "cancelled"].includes(item.status)
        ? ` ${t("deadline")} ${when(item.deadline_at)} · ${timeLeft(item.deadline_at)}` : null));
}

// A place for a screen's state: loading, its error, or nothing.
export function status() {
  const element = h("p", { role: "status" }, t("loading"));
  element.fail = (err) => { element.textContent = err.message; element.className = "error"; };
  element.done = (text = "") => { element.textContent = text; element.className = ""; };
  return element;
}

// A form's submit: the button waits, the error is said in place; `work` gets the form's
// data and returns what to say when it is done.
export function onSubmit(form, work) {
  const error = form.querySelector("[role=alert]") || form.appendChild(h("p", { class: "error", role: "alert" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    error.textContent = "";
    try {
      await work(new FormData(form), event.submitter);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      if (button) button.disabled = false;
    }
  });
}

export const field = (label, input) => h("label", {}, label, input);

