// One case (#/case/:id), for everyone who can see it: what and where, who answers for it
// and why, the deadline and the time left, the photos before and after side by side with
// their evidence flags explained (and, for the campaign office, the other cases holding the
// same or a similar photo), a small map, the history with its chain check, and the actions
// the signed-in user may take now, as the life cycle allows (docs/api.md). The server
// decides: a refusal is said in place, and a case changed meanwhile is read again.

import { t, addWords, statusName, roleName } from "/app/i18n.js";
import { call, write, photoUrl, me } from "/app/api.js";
import { h, show, route, status, onSubmit, field, when, timeLeft, number, categories, categoryName, statusTag } from "/app/ui.js";
import { makeMap } from "/app/map.js";

addWords({
  case_title: ["案件详情", "Case"],
  case_no: ["案件编号", "Case number"],
  case_status: ["状态", "Status"],
  case_severity: ["紧急程度", "Severity"],
  case_sev_low: ["低", "Low"],
  case_sev_normal: ["一般", "Normal"],
  case_sev_high: ["较高", "High"],
  case_sev_urgent: ["紧急", "Urgent"],
  case_source: ["来源", "Source"],
  case_src_patrol: ["巡查上报", "Patrol"],
  case_src_inspection: ["明察暗访", "Inspection"],
  case_src_public: ["群众举报", "The public"],
  case_assignee: ["责任单位", "Assigned to"],
  case_unassigned: ["尚未分派", "Not assigned yet"],
  case_kind_department: ["部门", "department"],
  case_kind_shopfront: ["商户", "shop"],
  case_reason: ["分派依据", "Why them"],
  case_deadline: ["处置期限", "Deadline"],
  case_verify_due: ["核查期限", "Verify by"],
  case_verify_mine: ["由您核查", "yours to verify"],
  case_paused: ["缓办中，计时暂停", "suspended: the clock is stopped"],
  case_observed: ["发现时间", "Seen"],
  case_filed: ["上报时间", "Filed"],
  case_closed_at: ["办结时间", "Closed"],
  case_held: ["等待现场照片，最迟派遣于", "Waiting for its photos; dispatched at the latest"],
  case_pending: ["待审批申请", "Request waiting"],
  case_pending_extension: ["延期至", "Extension until"],
  case_pending_suspension: ["缓办申请", "Suspension"],
  case_suspended: ["缓办开始于", "Suspended since"],
  case_rework: ["返工次数", "Sent back"],
  case_recurrence: ["反弹次数", "Reopened"],
  case_duplicate_of: ["重复案件，原案件", "Duplicate of"],
  case_recurrence_of: ["反弹自", "Recurs"],
  case_recurrences: ["后续反弹案件", "Recurred as"],
  case_times: ["次", "×"],
  case_before: ["整改前", "Before"],
  case_after: ["整改后", "After"],
  case_verification: ["核查", "Verification"],
  case_photos_title: ["照片", "Photos"],
  case_no_photos: ["暂无照片", "No photos"],
  case_photo_failed: ["照片无法加载：", "The photo could not be loaded: "],
  case_open_original: ["查看原图", "Open the original"],
  case_new_tab: ["在新标签页打开", "Open in a new tab"],
  case_close: ["关闭", "Close"],
  case_taken: ["拍摄于", "Taken"],
  case_no_exif_time: ["照片未记录拍摄时间", "The photo does not say when it was taken"],
  case_flag_gps_far_from_case: ["照片拍摄位置距案件位置较远（超过 200 米）", "Taken more than 200 m from the case"],
  case_flag_taken_long_before_filing: ["照片拍摄时间远早于发现时间（早 24 小时以上）", "Taken more than 24 h before the problem was seen"],
  case_flag_same_photo_on_other_case: ["同一张照片也出现在其他案件中", "The same photo is on another case"],
  case_flag_similar_photo_on_other_case: ["其他案件中有几乎相同的照片", "A near-identical photo is on another case"],
  case_flags: ["证据提示", "Evidence warnings"],
  case_see: ["对应：", "See: "],
  case_visit: ["暗访记录照片", "a photo of an inspection visit"],
  case_matches_gone: ["对应的照片已不在", "the other photo is gone"],
  case_map: ["案件位置", "Where"],
  case_accuracy: ["定位精度 ±", "Accuracy ±"],
  case_history: ["处理记录", "History"],
  case_chain_ok: ["记录链完整", "The record chain is intact"],
  case_chain_broken: ["记录链在第 {n} 条断开", "The record chain breaks at entry {n}"],
  case_system: ["系统", "System"],
  case_me: ["（本人）", " (you)"],
  case_with_photos: ["附照片", "photos"],
  case_actions: ["可办理的操作", "What you can do"],
  case_act_file: ["上报", "File"],
  case_act_assign: ["分派", "Assign"],
  case_act_accept: ["签收", "Accept"],
  case_act_dispute: ["提出异议", "Dispute"],
  case_act_rectify: ["提交整改", "Report it fixed"],
  case_act_verify: ["核查通过", "Verify"],
  case_act_reject: ["退回返工", "Send back"],
  case_act_cancel: ["撤销案件", "Cancel"],
  case_act_reopen: ["重新打开（反弹）", "Reopen"],
  case_act_duplicate: ["按重复案件办结", "Close as a duplicate"],
  "case_act_request-extension": ["申请延期", "Ask for more time"],
  "case_act_decide-extension": ["审批延期", "Decide the extension"],
  "case_act_request-suspension": ["申请缓办", "Ask to suspend"],
  "case_act_decide-suspension": ["审批缓办", "Decide the suspension"],
  case_act_resume: ["恢复办理", "Resume"],
  case_act_chase: ["催办", "Chase"],
  case_confirm: ["确认", "Confirm: "],
  case_note: ["说明", "Note"],
  case_note_required: ["说明（必填）", "Note (required)"],
  case_after_photos: ["整改后照片（可多张，可用相机拍摄）", "After photos (several; the camera works)"],
  case_after_have: ["已有整改后照片 {n} 张；可再添加。", "{n} after photos already; you may add more."],
  case_verification_photos: ["核查照片（可选）", "Verification photos (optional)"],
  case_until: ["延期至", "New deadline"],
  case_assign_to: ["分派给", "Assign to"],
  case_departments: ["部门", "Departments"],
  case_shops: ["沿街商户", "Shops"],
  case_shops_more: ["（仅列出前 200 家商户）", "(the first 200 shops only)"],
  case_original: ["原案件", "Original case"],
  case_original_typed: ["或输入原案件编号或 ID", "Or type the original's number or id"],
  case_original_none: ["附近没有同类未办结案件", "No open case of this category nearby"],
  case_original_unknown: ["找不到该案件：", "No such case: "],
  case_original_pick: ["请选择或输入原案件。", "Pick or type the original case."],
  case_grant: ["批准", "Grant"],
  case_refuse: ["不批准", "Refuse"],
  case_asked_until: ["申请延期至", "Asked until"],
  case_need_after: ["请先选择整改后照片。", "Choose the after photos first."],
  case_until_later: ["延期时间须晚于当前期限。", "The new deadline must be after the current one."],
  case_uploading: ["正在上传照片…", "Uploading the photos…"],
  case_done: ["已完成：", "Done: "],
  case_now: ["当前状态：", "now "],
  case_changed: ["案件已被他人更新，已重新加载，请核对后再操作。", "The case changed meanwhile; it has been read again — check it and try again."],
});

const OPEN = ["reported", "assigned", "in_progress", "disputed", "rectified"];
const UNDER_WAY = ["assigned", "in_progress"];
const KINDS = ["before", "after", "verification"];
const FLAGS_WITH_MATCHES = { same_photo_on_other_case: "same", similar_photo_on_other_case: "similar" };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

const fill = (key, values) => Object.entries(values).reduce((text, [k, v]) => text.replace(`{${k}}`, v), t(key));

// The case's assignee is the signed-in department or shop user's own.
function isAssignee(item, user) {
  const a = item.assignee;
  if (!a) return false;
  return (user.role === "department" && a.kind === "department" && a.id === user.department_id)
    || (user.role === "shopfront" && a.kind === "shopfront" && a.id === user.shopfront_id);
}

// The actions the life cycle lets this user take on the case now (docs/api.md): only their
// buttons are shown; the server decides again.
export function actionsFor(item, user) {
  const s = item.status;
  const supervisor = user.role === "supervisor";
  const assignee = isAssignee(item, user);
  // The rectification goes to the grid's inspector, else the filer (docs/jurisdiction.md).
  const verifier = supervisor || (user.role === "inspector" && (item.verifier_id ?? item.reporter_id) === user.id);
  const underWay = UNDER_WAY.includes(s);
  const list = [];
  if (assignee && s === "assigned") list.push("accept", "dispute");
  if (assignee && s === "in_progress") list.push("rectify");
  if (verifier && s === "rectified") list.push("verify", "reject");
  if (assignee && underWay && !item.pending_request) {
    list.push("request-extension");
    if (!item.suspended_at) list.push("request-suspension");
  }
  if (supervisor && ["reported", "assigned", "disputed"].includes(s)) list.push("assign");
  if (supervisor && underWay && item.pending_request === "extension") list.push("decide-extension");
  if (supervisor && underWay && item.pending_request === "suspension") list.push("decide-suspension");
  if ((supervisor || assignee) && underWay && item.suspended_at) list.push("resume");
  if (supervisor && OPEN.includes(s)) list.push("duplicate");
  if (supervisor && ["reported", "assigned", "disputed"].includes(s)) list.push("cancel");
  if (supervisor && s === "closed") list.push("reopen");
  // A department reads a case it is not assigned only as its shop's overseer or its
  // territory's local authority (属地): both may chase the assignee.
  if ((supervisor || (user.role === "department" && !assignee)) && underWay) list.push("chase");
  return list;
}

const NEEDS_NOTE = ["dispute", "reject", "cancel", "reopen", "duplicate", "request-extension", "request-suspension", "chase"];

// A link to another case, named by its number once it is read.
function caseLink(id) {
  const link = h("a", { href: `#/case/${id}` }, id.slice(0, 8));
  call(`/reports/${id}`).then((other) => { link.textContent = other.case_no; }, () => {});
  return link;
}

function fact(label, ...value) {
  return [h("dt", {}, label), h("dd", {}, ...value)];
}

function facts(item) {
  const open = OPEN.includes(item.status);
  const list = [
    ...fact(t("case_status"), statusTag(item.status), item.overdue ? [" ", h("span", { class: "tag overdue" }, t("overdue"))] : null),
    ...fact(t("case_no"), item.case_no),
    ...fact(t("category"), categoryName(item.category)),
    ...fact(t("case_severity"), t(`case_sev_${item.severity}`)),
    ...fact(t("address"), item.address || "—"),
    ...fact(t("description"), item.description || "—"),
    ...fact(t("case_assignee"), item.assignee
      ? `${item.assignee.name}（${t(`case_kind_${item.assignee.kind}`)}）` : t("case_unassigned")),
  ];
  if (item.assignment_reason) list.push(...fact(t("case_reason"), item.assignment_reason));
  if (item.deadline_at) {
    const left = !open ? null
      : item.suspended_at ? h("strong", {}, t("case_paused"))
        : h("strong", { class: item.overdue ? "error" : "case-left" }, timeLeft(item.deadline_at));
    list.push(...fact(t("case_deadline"), when(item.deadline_at), left ? [" · ", left] : null));
  }
  if (item.status === "rectified" && item.verify_due_at) {
    const late = new Date(item.verify_due_at) < new Date();
    const mine = item.verifier_id && item.verifier_id === me().id;
    list.push(...fact(t("case_verify_due"), when(item.verify_due_at),
      ...(late ? [" · ", h("strong", { class: "error" }, timeLeft(item.verify_due_at))] : []),
      ...(mine ? [" · ", h("strong", {}, t("case_verify_mine"))] : [])));
  }
  if (item.held_until) list.push(...fact(t("case_held"), when(item.held_until)));
  if (item.pending_request) {
    list.push(...fact(t("case_pending"), h("span", { class: "tag pending" },
      item.pending_request === "extension"
        ? `${t("case_pending_extension")} ${when(item.requested_until)}` : t("case_pending_suspension"))));
  }
  if (item.suspended_at) list.push(...fact(t("case_suspended"), when(item.suspended_at)));
  if (item.rework_count) list.push(...fact(t("case_rework"), `${number(item.rework_count)} ${t("case_times")}`));
  if (item.recurrence_count) list.push(...fact(t("case_recurrence"), `${number(item.recurrence_count)} ${t("case_times")}`));
  if (item.duplicate_of) list.push(...fact(t("case_duplicate_of"), caseLink(item.duplicate_of)));
  if (item.recurrence_of) list.push(...fact(t("case_recurrence_of"), caseLink(item.recurrence_of)));
  if (item.recurrences?.length) {
    list.push(...fact(t("case_recurrences"), ...item.recurrences.flatMap((id, i) => [i ? "、" : null, caseLink(id)])));
  }
  list.push(...fact(t("case_source"), t(`case_src_${item.source}`)));
  list.push(...fact(t("case_observed"), when(item.observed_at)));
  list.push(...fact(t("case_filed"), when(item.created_at)));
  if (item.closed_at) list.push(...fact(t("case_closed_at"), when(item.closed_at)));
  return h("dl", { class: "case-facts" }, ...list);
}

// The original of a photo, in a dialog over the page (Esc or the button closes it).
async function openOriginal(photo, button) {
  button.disabled = true;
  const error = button.parentElement.querySelector(".case-photo-error");
  try {
    const url = await photoUrl(photo.original_url);
    const close = h("button", { type: "button", class: "quiet" }, t("case_close"));
    const dialog = h("dialog", { class: "case-viewer", "aria-label": t("case_open_original") },
      h("div", { class: "case-viewer-bar" },
        h("a", { href: url, target: "_blank", rel: "noopener" }, t("case_new_tab")), close),
      h("img", { src: url, alt: t("case_open_original") }));
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => { dialog.remove(); button.focus(); });
    document.body.append(dialog);
    dialog.showModal();
    close.focus();
  } catch (err) {
    error.textContent = `${t("case_photo_failed")}${err.message}`;
  } finally {
    button.disabled = false;
  }
}

// Which other cases hold the same or a similar photo: asked only by those who may ask
// (supervisors, admins), once per flagged photo.
function matchLinks(photo, kind, asked) {
  const holder = h("span", { class: "case-matches" });
  asked.then((items) => {
    const mine = items.filter((m) => m.kind === kind);
    if (!mine.length) { holder.textContent = `（${t("case_matches_gone")}）`; return; }
    holder.replaceChildren(` ${t("case_see")}`, ...mine.flatMap((m, i) => [...(i ? ["、"] : []),
      m.case_id ? h("a", { href: `#/case/${m.case_id}` }, m.case_no || m.case_id.slice(0, 8)) : t("case_visit")]));
  }, (err) => { holder.textContent = `（${err.message}）`; });
  return holder;
}

function photoFigure(photo, index, user) {
  const img = h("img", { alt: `${t(`case_${photo.kind}`)} ${index + 1}`, width: photo.width, height: photo.height });
  const error = h("p", { class: "error case-photo-error", role: "alert" });
  photoUrl(photo.preview_url).then((url) => { img.src = url; }, (err) => {
    error.textContent = `${t("case_photo_failed")}${err.message}`;
  });
  const open = h("button", { type: "button", class: "quiet" }, t("case_open_original"));
  open.addEventListener("click", () => openOriginal(photo, open));
  const reviewer = ["supervisor", "admin"].includes(user.role);
  const needsMatches = reviewer && photo.flags.some((f) => FLAGS_WITH_MATCHES[f]);
  const asked = needsMatches ? call(`/photos/${photo.id}/matches`).then((page) => page.items) : null;
  const flags = photo.flags.length
    ? h("ul", { class: "case-flags", "aria-label": t("case_flags") }, ...photo.flags.map((flag) =>
      h("li", { "data-flag": flag }, t(`case_flag_${flag}`),
        asked && FLAGS_WITH_MATCHES[flag] ? matchLinks(photo, FLAGS_WITH_MATCHES[flag], asked) : null)))
    : null;
  return h("figure", { class: photo.flags.length ? "case-photo flagged" : "case-photo", "data-photo": photo.id },
    img,
    h("figcaption", {},
      h("p", {}, photo.taken_at ? `${t("case_taken")} ${when(photo.taken_at)}` : t("case_no_exif_time")),
      flags, open, error));
}

// Before, after and (once there are any) verification photos, side by side on a desktop,
// one after the other on a phone.
function photoColumns(item, user) {
  const kinds = KINDS.filter((kind) => kind !== "verification" || item.photos.some((p) => p.kind === kind));
  return h("section", { class: "case-section", "aria-labelledby": "case-photos-h" },
    h("h2", { id: "case-photos-h" }, t("case_photos_title")),
    h("div", { class: `case-photos cols-${kinds.length}` }, ...kinds.map((kind) => {
      const photos = item.photos.filter((p) => p.kind === kind);
      return h("section", { class: `case-kind kind-${kind}`, "aria-labelledby": `case-kind-${kind}` },
        h("h3", { id: `case-kind-${kind}` }, `${t(`case_${kind}`)}（${photos.length}）`),
        photos.length ? photos.map((p, i) => photoFigure(p, i, user)) : h("p", { class: "muted" }, t("case_no_photos")));
    })));
}

function historyPart(item, history, user) {
  const chain = history.chain_intact
    ? h("p", { id: "case-chain", class: "ok" }, t("case_chain_ok"))
    : h("p", { id: "case-chain", class: "error" }, fill("case_chain_broken", { n: history.broken_at_seq }));
  return h("section", { class: "case-section", "aria-labelledby": "case-history-h" },
    h("h2", { id: "case-history-h" }, t("case_history")),
    chain,
    h("ol", { class: "case-history" }, ...history.items.map((event) => {
      const who = event.actor_role
        ? `${roleName(event.actor_role)}${event.actor_id && event.actor_id === user.id ? t("case_me") : ""}`
        : t("case_system");
      const moved = event.from_status && event.from_status !== event.to_status
        ? `${statusName(event.from_status)} → ${statusName(event.to_status)}` : statusName(event.to_status);
      return h("li", { "data-seq": event.seq },
        h("p", {}, h("strong", {}, t(`case_act_${event.action}`)), ` · ${who} · `,
          h("time", { datetime: event.created_at }, when(event.created_at))),
        h("p", { class: "muted" }, moved,
          event.photo_ids.length ? ` · ${t("case_with_photos")} ${event.photo_ids.length}` : null),
        event.note ? h("p", {}, event.note) : null);
    })));
}

// The small map: the case's point, and how far the phone's fix may be off.
async function drawMap(element, item) {
  const { L, map, show: at } = await makeMap(element, { center: [item.location.lat, item.location.lon], zoom: 17 });
  const point = at([item.location.lat, item.location.lon]);
  if (item.location.accuracy_m) {
    const circle = L.circle(point, { radius: item.location.accuracy_m, color: "#0b5cad", weight: 1, fillOpacity: 0.12 }).addTo(map);
    if (item.location.accuracy_m > 40) map.fitBounds(circle.getBounds(), { maxZoom: 18 });
  }
  L.circleMarker(point, { radius: 9, color: "#ffffff", weight: 3, fillColor: "#b00020", fillOpacity: 1 })
    // An element, not a string: Leaflet would read the reporter's address as HTML.
    .addTo(map).bindTooltip(h("span", {}, item.address || item.case_no));
  return map;
}

function noteField(action) {
  const required = NEEDS_NOTE.includes(action);
  return field(t(required ? "case_note_required" : "case_note"),
    h("textarea", { name: "note", rows: 2, maxlength: 1000, required }));
}

const photoInput = (name) => h("input", { name, type: "file", accept: "image/*", capture: "environment", multiple: true });

// Photos from a file input, uploaded to the case as `kind`; their ids.
async function upload(item, kind, files, said) {
  if (!files.length) return [];
  said.textContent = t("case_uploading");
  const body = new FormData();
  for (const file of files) body.append("file", file, file.name || "photo.jpg");
  const answer = await write(`/reports/${item.id}/photos?kind=${kind}`, body);
  said.textContent = "";
  return answer.items.map((p) => p.id);
}

// Where a supervisor may send the case: departments, then shops.
async function fillAssignees(select, more) {
  const [departments, shops] = await Promise.all([call("/departments"), call("/shopfronts?limit=200")]);
  select.append(
    h("optgroup", { label: t("case_departments") }, ...departments.items.map((d) =>
      h("option", { value: `department:${d.id}` }, d.name))),
    shops.items.length ? h("optgroup", { label: t("case_shops") }, ...shops.items.map((s) =>
      h("option", { value: `shopfront:${s.id}` }, `${s.name}${s.address ? ` · ${s.address}` : ""}`))) : null);
  more.textContent = shops.next_cursor ? t("case_shops_more") : "";
}

// Open cases of the same category nearby: the likely originals of a duplicate.
async function fillOriginals(select, item) {
  const { lat, lon } = item.location;
  const page = await call(`/reports/nearby?lat=${lat}&lon=${lon}&category=${encodeURIComponent(item.category)}&radius_m=1000`);
  const others = page.items.filter((c) => c.id !== item.id);
  if (!others.length) select.append(h("option", { value: "", disabled: true }, t("case_original_none")));
  for (const other of others) {
    select.append(h("option", { value: other.id },
      `${other.case_no} · ${other.address || ""} · ${number(other.distance_m)} ${t("metres")}`));
  }
}

// The original case a supervisor typed: an id (or a link holding one), or a case number
// looked for among the category's latest cases.
async function resolveOriginal(typed, item) {
  const id = UUID.exec(typed)?.[0];
  if (id) return id;
  const wanted = typed.trim().toUpperCase();
  let cursor = null;
  for (let page = 0; page < 5; page++) {
    const found = await call(`/reports?category=${encodeURIComponent(item.category)}&limit=200&fields=case_no${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    const hit = found.items.find((c) => c.case_no === wanted);
    if (hit) return hit.id;
    cursor = found.next_cursor;
    if (!cursor) break;
  }
  throw new Error(`${t("case_original_unknown")}${typed}`);
}

// One action's form: what it needs, then what is sent.
function actionForm(action, item, reload) {
  const said = h("p", { role: "status", class: "muted" });
  const parts = [];
  let extra = async () => ({});
  let ready = () => {};
  if (action === "rectify") {
    const have = item.photos.filter((p) => p.kind === "after").length;
    const files = photoInput("file");
    files.required = !have;
    parts.push(field(t("case_after_photos"), files), have ? h("p", { class: "muted" }, fill("case_after_have", { n: have })) : null);
    extra = async () => {
      if (!files.files.length && !have) throw new Error(t("case_need_after"));
      await upload(item, "after", files.files, said);
      return {};
    };
  } else if (action === "verify") {
    const files = photoInput("file");
    parts.push(field(t("case_verification_photos"), files));
    extra = async () => ({ photo_ids: await upload(item, "verification", files.files, said) });
  } else if (action === "request-extension") {
    const until = h("input", { name: "until", type: "datetime-local", required: true });
    parts.push(field(t("case_until"), until));
    extra = async () => {
      const at = new Date(until.value);
      if (Number.isNaN(at.getTime()) || at <= new Date() || (item.deadline_at && at <= new Date(item.deadline_at))) {
        throw new Error(t("case_until_later"));
      }
      return { until: at.toISOString() };
    };
  } else if (action === "assign") {
    const select = h("select", { name: "assignee", required: true }, h("option", { value: "" }, t("choose")));
    const more = h("span", { class: "muted" });
    parts.push(field(t("case_assign_to"), select), more);
    ready = () => fillAssignees(select, more).catch((err) => { said.textContent = err.message; said.className = "error"; });
    extra = async () => {
      const [kind, id] = select.value.split(":");
      return kind === "shopfront" ? { shopfront_id: id } : { department_id: id };
    };
  } else if (action === "duplicate") {
    const select = h("select", { name: "original" }, h("option", { value: "" }, t("choose")));
    const typed = h("input", { name: "original_typed", autocomplete: "off", placeholder: "XC-2026-000001" });
    parts.push(field(t("case_original"), select), field(t("case_original_typed"), typed));
    ready = () => fillOriginals(select, item).catch((err) => { said.textContent = err.message; said.className = "error"; });
    extra = async () => {
      if (!select.value && !typed.value.trim()) throw new Error(t("case_original_pick"));
      return { duplicate_of: typed.value.trim() ? await resolveOriginal(typed.value, item) : select.value };
    };
  } else if (action === "decide-extension" && item.requested_until) {
    parts.push(h("p", {}, `${t("case_asked_until")} ${when(item.requested_until)}`));
  }
  parts.push(noteField(action));
  const decide = action.startsWith("decide-");
  const buttons = decide
    ? [h("button", { type: "submit", name: "grant", value: "true" }, t("case_grant")),
      h("button", { type: "submit", name: "grant", value: "false", class: "quiet" }, t("case_refuse"))]
    : [h("button", { type: "submit" }, `${t("case_confirm")}${t(`case_act_${action}`)}`)];
  const form = h("form", { class: "stack case-form", id: `case-form-${action}`, "data-action": action, hidden: true,
    "aria-label": t(`case_act_${action}`) },
    ...parts, h("div", { class: "case-buttons" }, ...buttons), said);
  // The lists a form needs are read the first time it opens.
  let readied = null;
  form.ready = () => { readied ??= ready(); };
  onSubmit(form, async (data, submitter) => {
    const body = { version: item.version, note: data.get("note") || null, ...(await extra()) };
    if (decide) body.grant = submitter?.value === "true";
    try {
      const done = await write(`/reports/${item.id}/${action}`, body);
      await reload(`${t("case_done")}${t(`case_act_${action}`)} · ${t("case_now")}${statusName(done.status)}`);
    } catch (err) {
      if (err.code === "version_conflict") {
        await reload(t("case_changed"), true);
        return;
      }
      throw err;
    }
  });
  return form;
}

function actionsPart(item, user, reload) {
  const actions = actionsFor(item, user);
  if (!actions.length) return null;
  const forms = actions.map((action) => actionForm(action, item, reload));
  const buttons = actions.map((action, i) => {
    const button = h("button", { type: "button", class: "quiet", "data-action": action,
      "aria-expanded": "false", "aria-controls": `case-form-${action}` }, t(`case_act_${action}`));
    button.addEventListener("click", () => {
      const opening = forms[i].hidden;
      forms.forEach((form, j) => {
        form.hidden = !(opening && i === j);
        buttons[j].setAttribute("aria-expanded", String(opening && i === j));
      });
      if (opening) {
        forms[i].ready();
        forms[i].querySelector("input, select, textarea")?.focus();
      }
    });
    return button;
  });
  return h("section", { class: "case-section case-actions", "aria-labelledby": "case-actions-h" },
    h("h2", { id: "case-actions-h" }, t("case_actions")),
    h("div", { class: "case-action-buttons" }, ...buttons),
    ...forms);
}

let drawn = null; // the map on the page, removed when the case is drawn again

async function caseView({ id }) {
  const said = h("p", { id: "case-said", role: "status" });
  const state = status();
  const body = h("div", { class: "case-page" });
  show(t("case_title"), said, state, body);
  const here = location.hash;
  const user = me();

  // Reads the case and its history again and draws them; `message` says what happened.
  const load = async (message = "", warn = false) => {
    let item;
    let history;
    try {
      [item, history] = await Promise.all([call(`/reports/${id}`), call(`/reports/${id}/events`), categories()]);
    } catch (err) {
      state.fail(err);
      return;
    }
    if (location.hash !== here) return; // the user went elsewhere meanwhile
    state.done();
    said.textContent = message;
    said.className = warn ? "error" : message ? "ok" : "";
    const title = `${categoryName(item.category)} · ${item.case_no}`;
    document.getElementById("title").textContent = title;
    document.title = `${title} · ${t("app")}`;
    drawn?.remove();
    drawn = null;
    const mapBox = h("div", { class: "case-map", role: "region", "aria-label": t("case_map") });
    body.replaceChildren(...[
      h("div", { class: "case-top" },
        h("section", { class: "case-section", "aria-label": t("case_title") }, facts(item)),
        h("section", { class: "case-section", "aria-labelledby": "case-map-h" },
          h("h2", { id: "case-map-h" }, t("case_map")),
          mapBox,
          h("p", { class: "muted" }, `${item.location.lat.toFixed(5)}, ${item.location.lon.toFixed(5)}`,
            item.location.accuracy_m ? ` · ${t("case_accuracy")}${number(item.location.accuracy_m)} ${t("metres")}` : ""))),
      actionsPart(item, user, load),
      photoColumns(item, user),
      historyPart(item, history, user),
    ].filter(Boolean));
    drawMap(mapBox, item).then((map) => {
      if (mapBox.isConnected) drawn = map;
      else map.remove();
    }, (err) => { mapBox.textContent = err.message; });
  };
  await load();
}

route("/case/:id", caseView);
