// Filing a report: the category, what is wrong, where (GPS with its accuracy, and the
// address), the photos, and who will answer for it (decided on the phone from the kept
// registry, as the server will). It goes to the outbox first, then to the server when it
// can; the outbox screen shows what waits.

import { t, lang, addWords } from "/app/i18n.js";
import { session, me, refresh } from "/app/api.js";
import { h, show, route, categories, categoryName, name, showWaiting, when } from "/app/ui.js";
import * as outbox from "/app/outbox.js";
import { registry, decide } from "/app/registry.js";

addWords({
  answers: ["责任单位", "Who answers"],
  answers_unknown: ["选择类别并定位后显示。", "Shown once the category and location are known."],
  answers_triage: ["无匹配规则：由督查员分派。", "No rule matches: a supervisor will assign it."],
  answers_offline: ["（离线判断，以服务器为准）", "(decided on this phone; the server decides)"],
  why_frontage: ["门前三包责任区", "frontage zone"],
  why_area_rule: ["区域规则", "area rule"],
  why_city_rule: ["全市规则", "city-wide rule"],
  why_local_authority: ["属地兜底", "local authority"],
  why_triage: ["无匹配规则，待督查员分派", "nothing matched: waiting for triage"],
  no_registry: ["尚未下载责任清单，联网后自动获取。", "The registry is not on this phone yet; it comes once online."],
});

const FILERS = ["inspector", "supervisor"];

async function fileView() {
  const error = h("p", { class: "error", role: "alert" });
  const done = h("p", { role: "status" });
  const place = h("p", { id: "gps", role: "status" }, t("locating"));
  const answers = h("p", { id: "answers", role: "status" }, t("answers_unknown"));
  let fix = null;
  let doc = null;
  const submit = h("button", { type: "submit", disabled: true }, t("file_it"));
  const select = h("select", { name: "category", required: true },
    h("option", { value: "" }, t("choose")));
  const form = h("form", { class: "stack", "aria-labelledby": "title" },
    h("label", {}, t("category"), select),
    h("label", {}, t("description"), h("textarea", { name: "description", rows: 3, maxlength: 2000 })),
    h("label", {}, t("address"), h("input", { name: "address", required: true, maxlength: 200 })),
    h("label", {}, t("photos"),
      h("input", { name: "photos", type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", multiple: true })),
    place,
    h("div", { class: "answers" }, h("strong", {}, t("answers")), answers),
    submit, error, done);
  show(t("file_report"), form);

  // Who will answer, each time the category or the fix changes.
  const showAnswers = () => {
    if (!doc) { answers.textContent = t("no_registry"); return; }
    if (!fix || !select.value) { answers.textContent = t("answers_unknown"); return; }
    const found = decide(doc, select.value, fix.latitude, fix.longitude);
    answers.textContent = found.kind === "triage" ? t("answers_triage")
      : `${found.name}（${t(`why_${found.why}`)}${found.area ? ` · ${found.area}` : ""}）${t("answers_offline")}`;
  };
  select.addEventListener("change", showAnswers);

  try {
    for (const category of await categories()) {
      if (category.active !== false) select.append(h("option", { value: category.code }, name(category)));
    }
  } catch (err) {
    error.textContent = err.message;
  }
  registry().then((kept) => { doc = kept; showAnswers(); }, () => { doc = null; showAnswers(); });
  // The fix follows the phone while the form is open (a better one replaces a rough one).
  if (!navigator.geolocation) {
    place.textContent = t("no_gps");
  } else {
    const watch = navigator.geolocation.watchPosition((position) => {
      fix = position.coords;
      place.textContent = `${t("location")} ${fix.latitude.toFixed(5)}, ${fix.longitude.toFixed(5)} ±${Math.round(fix.accuracy)} ${t("metres")}`;
      place.className = "";
      submit.disabled = false;
      showAnswers();
    }, () => {
      if (fix) return;
      place.textContent = t("no_gps");
      place.className = "error";
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    addEventListener("hashchange", () => navigator.geolocation.clearWatch(watch), { once: true });
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
      await outbox.enqueue(me().id, report, photos);
    } catch (err) {
      // Nothing was kept: the form keeps what was typed, to try again.
      error.textContent = `${t("not_saved")} ${err?.message || err}`;
      submit.disabled = false;
      return;
    }
    form.reset();
    submit.disabled = false;
    done.textContent = t("queued");
    showAnswers();
    await showWaiting();
    sendWaiting();
  });
}

function outboxView() {
  const state = h("p", { role: "status" }, t("loading"));
  const list = h("ul", { class: "cases", "aria-label": t("outbox") });
  const retry = h("button", { type: "button", hidden: true, onclick: () => sendWaiting() }, t("send_now"));
  show(t("outbox"), state, retry, list);
  outbox.list(me().id).then((items) => {
    state.textContent = items.length ? `${t("waiting")} ${items.length}` : t("outbox_empty");
    retry.hidden = !items.length;
    list.replaceChildren(...items.map((item) =>
      h("li", { class: item.error ? "case overdue" : "case" },
        h("h2", {}, categoryName(item.report.category)),
        h("p", {}, item.report.address),
        h("p", {}, `${t("photos")} ${item.photos.length} · ${when(item.queued_at)}`),
        item.error ? h("p", { class: "error" }, item.error) : null)));
  }, (err) => { state.textContent = `${t("not_saved")} ${err?.message || err}`; });
}

// One report from the outbox, as the API takes it with its photos in one request.
async function sendReport(item) {
  const form = new FormData();
  form.append("report", JSON.stringify(item.report));
  item.photos.forEach((photo, index) => form.append("file", photo, photo.name || `photo-${index + 1}.jpg`));
  const headers = { "Idempotency-Key": item.key, "Accept-Language": lang() };
  const current = session.get();
  if (current) headers.Authorization = `Bearer ${current.access_token}`;
  const response = await fetch("/api/v1/reports/with-photos", { method: "POST", headers, body: form });
  if (response.status === 401 && current && (await refresh(current))) return sendReport(item);
  return response;
}

export async function sendWaiting() {
  if (!session.get()) return;
  const sent = await outbox.flush(me().id, sendReport);
  await showWaiting();
  if (sent && location.hash === "#/outbox") outboxView();
}

route("/file", fileView, { roles: FILERS, menu: "file_report" });
route("/outbox", outboxView);
