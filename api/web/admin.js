// The admin screens (desktop first; admins write, supervisors read what the API lets
// them): users, departments, the area tree with GeoJSON import previewed on the map,
// assignment rules with "where would a case go" on the map, shopfronts with CSV/XLSX
// import whose row problems are shown in the rows, categories, the working calendar,
// webhooks and API keys. One menu entry, a section each under #/admin/<section>.

import { t, addWords, roleName } from "/app/i18n.js";
import { call, write, me } from "/app/api.js";
import { h, show, route, status, onSubmit, when, day, number, name } from "/app/ui.js";
import { makeMap } from "/app/map.js";

addWords({
  adm_menu: ["系统管理", "Administration"],
  adm_sections: ["管理项目", "Sections"],
  adm_users: ["用户", "Users"],
  adm_departments: ["部门", "Departments"],
  adm_areas: ["区域", "Areas"],
  adm_rules: ["派遣规则", "Assignment rules"],
  adm_shopfronts: ["沿街商户", "Shopfronts"],
  adm_categories: ["问题类别", "Categories"],
  adm_calendar: ["工作日历", "Working calendar"],
  adm_webhooks: ["Webhook 通知", "Webhooks"],
  adm_api_keys: ["API 密钥", "API keys"],
  adm_more: ["加载更多", "Load more"],
  adm_none: ["暂无记录。", "Nothing yet."],
  adm_actions: ["操作", "Actions"],
  adm_delete: ["删除", "Delete"],
  adm_edit: ["编辑", "Edit"],
  adm_confirm: ["确认", "Confirm"],
  adm_cancel: ["取消", "Cancel"],
  adm_sure: ["确定删除", "Delete"],
  adm_save: ["保存", "Save"],
  adm_saved: ["已保存。", "Saved."],
  adm_create: ["新增", "Add"],
  adm_code: ["编码", "Code"],
  adm_name: ["名称", "Name"],
  adm_contact: ["联系人", "Contact"],
  adm_phone: ["电话", "Phone"],
  adm_kind: ["类型", "Kind"],
  adm_all: ["全部", "All"],
  adm_yes: ["是", "yes"],
  adm_no: ["否", "no"],
  adm_copy: ["复制", "Copy"],
  adm_copied: ["已复制。", "Copied."],
  adm_copy_failed: ["无法自动复制，请手动选中复制。", "Could not copy; select it and copy by hand."],
  adm_map: ["地图", "Map"],
  adm_row: ["行", "Row"],
  // Users
  adm_display_name: ["姓名", "Display name"],
  adm_role: ["角色", "Role"],
  adm_scope: ["所属部门或商户", "Department or shop"],
  adm_department: ["部门", "Department"],
  adm_shopfront: ["商户", "Shop"],
  adm_state: ["状态", "State"],
  adm_enabled: ["正常", "Active"],
  adm_disabled: ["已停用", "Disabled"],
  adm_disable: ["停用", "Disable"],
  adm_enable: ["启用", "Enable"],
  adm_last_login: ["最近登录", "Last sign-in"],
  adm_reset_password: ["重置密码", "Reset password"],
  adm_new_password: ["新密码（至少 10 个字符）", "New password (10 characters or more)"],
  adm_password_reset: ["密码已重置，该用户需用新密码重新登录。", "Password reset; the user signs in again with it."],
  adm_new_user: ["新增用户", "New user"],
  adm_user_created: ["已创建用户", "User created:"],
  adm_initial_password: ["初始密码（至少 10 个字符）", "First password (10 characters or more)"],
  adm_bound_areas: ["负责区域（可多选）", "Areas (choose any)"],
  adm_bound_hint: ["督查员、巡查员只看所选区域及其下级区域的案件；不选时督查员看全市，巡查员只看本人上报的案件。", "Supervisors and inspectors see the cases in these areas and the areas below; with none, a supervisor sees the whole city and an inspector their own reports."],
  adm_change_areas: ["调整负责区域", "Change areas"],
  adm_areas_saved: ["负责区域已保存。", "Areas saved."],
  // Departments
  adm_new_department: ["新增部门", "New department"],
  adm_edit_department: ["编辑部门", "Edit department"],
  adm_kind_urban_management: ["城市管理", "Urban management"],
  adm_kind_traffic_police: ["公安交警", "Traffic police"],
  adm_kind_sanitation: ["环境卫生", "Sanitation"],
  adm_kind_subdistrict_office: ["街道办事处", "Sub-district office"],
  adm_kind_housing: ["住房建设", "Housing"],
  adm_kind_landscaping: ["园林绿化", "Landscaping"],
  adm_kind_other: ["其他", "Other"],
  // Areas
  adm_area_tree: ["区域层级", "Area tree"],
  adm_level: ["级别", "Level"],
  adm_level_district: ["区县", "District"],
  adm_level_subdistrict: ["街道", "Sub-district"],
  adm_level_community: ["社区", "Community"],
  adm_level_grid: ["网格", "Grid"],
  adm_parent_code: ["上级编码", "Parent code"],
  adm_local_authority: ["属地兜底部门", "Local authority"],
  adm_show_on_map: ["在地图上显示", "Show on the map"],
  adm_import_areas: ["导入区域（GeoJSON）", "Import areas (GeoJSON)"],
  adm_geojson_file: ["GeoJSON 文件（FeatureCollection，属性 code、name、level、parent_code）",
    "GeoJSON file (a FeatureCollection; properties code, name, level, parent_code)"],
  adm_not_json: ["文件不是有效的 JSON：", "The file is not JSON:"],
  adm_feature: ["要素", "Feature"],
  adm_no_areas: ["尚无区域，可导入 GeoJSON。", "No areas yet; import a GeoJSON file."],
  // Imports
  adm_checking: ["正在检查…", "Checking…"],
  adm_importing: ["正在导入…", "Importing…"],
  adm_check_ok: ["检查通过，尚未导入：将新建 {created} 条、更新 {updated} 条。", "Checked, not imported yet: would create {created} and update {updated}."],
  adm_imported: ["导入完成：新建 {created} 条、更新 {updated} 条。", "Imported: created {created}, updated {updated}."],
  adm_problems: ["发现问题，未导入任何数据：{rows} 行有误。请修改或跳过有误的行后重新检查。",
    "Problems found; nothing was imported: {rows} rows are wrong. Fix or skip them, then check again."],
  adm_problem: ["问题", "Problem"],
  adm_skip: ["跳过此行", "Skip this row"],
  adm_skip_all: ["跳过所有有误的行", "Skip every wrong row"],
  adm_recheck: ["重新检查", "Check again"],
  adm_import: ["导入", "Import"],
  adm_changed: ["已修改，请重新检查后再导入。", "Changed: check again before importing."],
  adm_rows_shown: ["仅显示有误的行及前 200 行。", "Only the wrong rows and the first 200 are shown."],
  adm_unreadable: ["无法在浏览器中读取该文件，问题仅按行号列出：", "The file cannot be read here; its problems are listed by row number:"],
  // Rules
  adm_rule_list: ["规则列表", "Rules"],
  adm_new_rule: ["新增规则", "New rule"],
  adm_area: ["区域", "Area"],
  adm_city_wide: ["全市", "City-wide"],
  adm_check_title: ["案件会派给谁", "Where would a case go"],
  adm_check_hint: ["选择问题类别，然后在地图上点击（或填写经纬度）。", "Choose a category, then click the map (or type the coordinates)."],
  adm_lat: ["纬度", "Latitude"],
  adm_lon: ["经度", "Longitude"],
  adm_check: ["查询", "Check"],
  adm_goes_to: ["派往", "Goes to"],
  adm_goes_department: ["责任部门", "department"],
  adm_goes_shopfront: ["门前三包商户", "frontage shop"],
  adm_goes_triage: ["无匹配规则：由督查员分派", "No rule matches: a supervisor triages it"],
  adm_reason: ["依据", "Why"],
  adm_in_area: ["所在区域", "In area"],
  adm_choose_category: ["请先选择问题类别。", "Choose a category first."],
  // Shopfronts
  adm_credit_code: ["统一社会信用代码", "Unified social credit code"],
  adm_address: ["地址", "Address"],
  adm_overseeing: ["监管部门", "Overseeing department"],
  adm_frontage: ["门前三包", "Frontage zone"],
  adm_radius: ["门前三包半径（米）", "Frontage radius (m)"],
  adm_zone_drawn: ["已划定范围", "drawn zone"],
  adm_new_shopfront: ["新增商户", "New shop"],
  adm_import_shopfronts: ["导入商户（CSV 或 XLSX）", "Import shops (CSV or XLSX)"],
  adm_table_file: ["CSV（UTF-8）或 XLSX 文件，首行为列名", "CSV (UTF-8) or XLSX file, column names in the first row"],
  adm_none_dept: ["（无）", "(none)"],
  // Categories
  adm_name_zh: ["中文名称", "Chinese name"],
  adm_name_en: ["英文名称", "English name"],
  adm_deadline: ["处置时限", "Time limit"],
  adm_deadline_hours: ["处置时限（小时；按工作日计时为天数）", "Time limit (hours; days for working days)"],
  adm_deadline_unit: ["计时方式", "Counted in"],
  adm_unit_calendar_hours: ["自然小时", "calendar hours"],
  adm_unit_working_hours: ["工作小时", "working hours"],
  adm_unit_working_days: ["工作日", "working days"],
  adm_frontage_flag: ["门前三包类（商户责任区内派给商户）", "Frontage (goes to the shop inside its zone)"],
  adm_active: ["启用", "Active"],
  adm_new_category: ["新增类别", "New category"],
  adm_edit_category: ["编辑类别", "Edit category"],
  // Calendar
  adm_year: ["年份", "Year"],
  adm_date: ["日期", "Date"],
  adm_weekday: ["星期", "Weekday"],
  adm_day_kind: ["类型", "Kind"],
  adm_day_holiday: ["休息日（节假日）", "Holiday"],
  adm_day_workday: ["工作日（调休上班）", "Make-up working day"],
  adm_day_name: ["名称（如 国庆节）", "Name (e.g. National Day)"],
  adm_mark_day: ["标记日期", "Mark a day"],
  adm_unmark: ["取消标记", "Unmark"],
  adm_marked_days: ["已标记的日期", "Marked days"],
  adm_show_year: ["显示", "Show"],
  // Webhooks
  adm_url: ["接收地址（URL）", "Address (URL)"],
  adm_events: ["事件", "Events"],
  adm_format: ["格式", "Format"],
  adm_event_assigned: ["已派遣", "assigned"],
  adm_event_overdue: ["已超期", "overdue"],
  adm_event_rectified: ["已整改", "rectified"],
  adm_event_closed: ["已办结", "closed"],
  adm_event_reopened: ["重新打开（反弹）", "reopened"],
  adm_event_chased: ["催办", "chased"],
  adm_format_json: ["JSON", "JSON"],
  adm_format_dingtalk: ["钉钉机器人", "DingTalk robot"],
  adm_format_wecom: ["企业微信机器人", "WeCom robot"],
  adm_webhook_scope: ["仅限部门（不选则全部案件）", "Only a department's cases (none: all cases)"],
  adm_secret_optional: ["签名密钥（可不填，自动生成）", "Signing secret (optional; generated when empty)"],
  adm_new_webhook: ["新增 Webhook", "New webhook"],
  adm_secret_once: ["签名密钥只显示这一次，请立即保存：", "The signing secret is shown this once; keep it now:"],
  adm_pick_event: ["至少选择一个事件。", "Choose at least one event."],
  // API keys
  adm_prefix: ["密钥前缀", "Prefix"],
  adm_created: ["创建时间", "Created"],
  adm_last_used: ["最近使用", "Last used"],
  adm_revoked: ["已吊销", "Revoked"],
  adm_revoke: ["吊销", "Revoke"],
  adm_key_app: ["客户端应用名称（如 市民随手拍）", "Client app (e.g. a citizens' app)"],
  adm_new_key: ["新增 API 密钥", "New API key"],
  adm_key_once: ["API 密钥只显示这一次，请立即复制保存：", "The API key is shown this once; copy it now:"],
});

const ADMIN = ["admin"];
const READERS = ["admin", "supervisor"];
const KINDS = ["urban_management", "traffic_police", "sanitation", "subdistrict_office", "housing", "landscaping", "other"];
const LEVELS = ["district", "subdistrict", "community", "grid"];
const UNITS = ["calendar_hours", "working_hours", "working_days"];
const EVENTS = ["assigned", "overdue", "rectified", "closed", "reopened", "chased"];
const FORMATS = ["json", "dingtalk", "wecom"];
const ROLES = ["inspector", "supervisor", "department", "shopfront", "admin"];

// ---------------------------------------------------------------------------------
// What the sections share.

const isAdmin = () => me()?.role === "admin";

// A whole list: the short ones come whole, the long ones a page (200) at a time.
async function every(path) {
  const items = [];
  let cursor = null;
  do {
    const join = path.includes("?") ? "&" : "?";
    const page = await call(`${path}${join}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < 20000);
  return items;
}

const list = async (path) => (await call(path)).items;

// A table that scrolls sideways on a phone (a focusable region, so a keyboard scrolls it
// too); its first column names each row.
function table(caption, heads, body, attrs = {}) {
  return h("div", { class: "adm-scroll", role: "region", tabindex: "0", "aria-label": caption },
    h("table", { class: "adm-table", ...attrs },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, heads.filter((head) => head !== null).map((head) => h("th", { scope: "col" }, head)))),
      body));
}

// A row; a null cell is a column this role does not see.
const row = (head, ...cells) => h("tr", {}, h("th", { scope: "row" }, head),
  cells.filter((cell) => cell !== null).map((cell) => h("td", {}, cell)));

const emptyRow = (columns) => h("tr", {}, h("td", { colspan: columns }, t("adm_none")));

// A table filled page by page (100 rows at a time) from a listing with `next_cursor`:
// `load(true)` starts again, `load(false)` adds the next page ("more" shows while there is one).
function pagedRows(path, tbody, row, columns, more, state) {
  let cursor = null;
  return async (first) => {
    try {
      const after = cursor && !first ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await call(`${path}?limit=100${after}`);
      if (first) tbody.replaceChildren();
      tbody.append(...page.items.map(row));
      if (!tbody.children.length) tbody.append(emptyRow(columns));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      state.done();
    } catch (err) {
      state.fail(err);
    }
  };
}

const option = (value, label, selected = false) => h("option", { value, selected }, label);

function select(nameAttr, choices, { value = "", empty = null, required = false } = {}) {
  return h("select", { name: nameAttr, required },
    empty != null ? option("", empty, !value) : null,
    choices.map(([v, label]) => option(v, label, v === value)));
}

const labelled = (label, input, attrs = {}) => h("label", attrs, label, input);

// A form's submit: the button waits, the API's message is said in place with each field
// it names, and those fields are marked invalid. `labels` names fields as the form does.
function submitting(form, work, labels = {}) {
  onSubmit(form, async (data, submitter) => {
    form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
    try {
      await work(data, submitter);
    } catch (err) {
      const fields = Object.entries(err.fields || {});
      if (!fields.length) throw err;
      for (const [path] of fields) {
        const input = form.querySelector(`[name="${labels[path]?.[1] || path.split(/[.[]/)[0]}"]`);
        input?.setAttribute("aria-invalid", "true");
      }
      const said = fields.map(([path, message]) => `${labels[path]?.[0] || path}：${message}`);
      throw new Error(`${err.message} ${said.join("；")}`);
    }
  });
}

// A delete that asks first, in place: the button becomes "Confirm / Cancel".
function confirmed(label, question, action) {
  const error = h("span", { class: "error", role: "alert" });
  const wrap = h("span", { class: "adm-confirm" });
  const first = h("button", { type: "button", class: "quiet", onclick: () => {
    const no = h("button", { type: "button", class: "quiet", onclick: () => {
      wrap.replaceChildren(first, error);
      first.focus();
    } }, t("adm_cancel"));
    const yes = h("button", { type: "button", class: "adm-danger", onclick: async () => {
      yes.disabled = true;
      error.textContent = "";
      try {
        await action();
      } catch (err) {
        error.textContent = err.message;
        yes.disabled = false;
      }
    } }, t("adm_confirm"));
    wrap.replaceChildren(h("span", {}, question), " ", yes, " ", no, error);
    yes.focus();
  } }, label);
  wrap.append(first, error);
  return wrap;
}

// A secret the API shows once, with a copy button.
function secretOnce(intro, secret) {
  const text = h("input", { readonly: true, value: secret, class: "adm-secret", "aria-label": intro });
  const said = h("span", { role: "status" });
  const copy = h("button", { type: "button", onclick: async () => {
    try {
      await navigator.clipboard.writeText(secret);
      said.textContent = t("adm_copied");
    } catch {
      text.select();
      said.textContent = t("adm_copy_failed");
    }
  } }, t("adm_copy"));
  return h("div", { class: "adm-once", role: "alert" }, h("p", {}, intro), h("p", { class: "adm-row" }, text, copy, said));
}

// Appends the nodes given (a part this role does not see is null).
const add = (parent, ...nodes) => parent.append(...nodes.filter((node) => node != null && node !== false));

// A sentence with its numbers put in: "{name}" stands for values.name.
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, key) => values[key]);

const byId = (items) => new Map(items.map((item) => [item.id, item]));

// ---------------------------------------------------------------------------------
// The screen: the sections this role may open, one of them shown.

const SECTIONS = [
  { key: "users", word: "adm_users", roles: ADMIN, view: usersSection },
  { key: "departments", word: "adm_departments", roles: READERS, view: departmentsSection },
  { key: "areas", word: "adm_areas", roles: READERS, view: areasSection },
  { key: "rules", word: "adm_rules", roles: READERS, view: rulesSection },
  { key: "shopfronts", word: "adm_shopfronts", roles: READERS, view: shopfrontsSection },
  { key: "categories", word: "adm_categories", roles: READERS, view: categoriesSection },
  { key: "calendar", word: "adm_calendar", roles: READERS, view: calendarSection },
  { key: "webhooks", word: "adm_webhooks", roles: ADMIN, view: webhooksSection },
  { key: "api-keys", word: "adm_api_keys", roles: ADMIN, view: apiKeysSection },
];

function adminView({ section } = {}) {
  const allowed = SECTIONS.filter((s) => s.roles.includes(me().role));
  const current = allowed.find((s) => s.key === section) || allowed[0];
  const body = h("div", { class: "adm-body" });
  show(`${t("adm_menu")} · ${t(current.word)}`,
    h("nav", { class: "adm-sections", "aria-label": t("adm_sections") },
      allowed.map((s) => h("a", { href: `#/admin/${s.key}`, "aria-current": s === current ? "page" : false }, t(s.word)))),
    body);
  const failed = status();
  Promise.resolve(current.view(body)).catch((err) => {
    failed.fail(err);
    body.prepend(failed);
  });
}

route("/admin", adminView, { roles: READERS, menu: "adm_menu" });
route("/admin/:section", adminView, { roles: READERS });

// ---------------------------------------------------------------------------------
// Users (admins): list, create, disable/enable, reset a password.

async function usersSection(root) {
  const state = status();
  const tbody = h("tbody");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, t("adm_more"));
  const [departments, areas] = (await Promise.all([list("/departments"), list("/areas")])).map(byId);
  const takesAreas = (r) => r === "supervisor" || r === "inspector";
  const areaChoice = (chosen = []) => h("select", { name: "area_ids", multiple: true, size: Math.min(8, Math.max(3, areas.size)) },
    [...areas.values()].sort((a, b) => a.code.localeCompare(b.code))
      .map((a) => option(a.id, `${a.name}（${a.code}）`, chosen.includes(a.id))));
  const shopNames = new Map();
  const shopName = async (id) => {
    if (!shopNames.has(id)) shopNames.set(id, call(`/shopfronts/${id}`).then((s) => s.name, () => id));
    return shopNames.get(id);
  };

  const userRow = (user) => {
    const bound = (user.area_ids ?? []).map((id) => areas.get(id)?.name ?? id).join("、");
    const scope = h("span", {}, user.department_id ? departments.get(user.department_id)?.name ?? user.department_id : bound);
    if (user.shopfront_id) shopName(user.shopfront_id).then((n) => { scope.textContent = n; });
    let areasForm = null;
    if (takesAreas(user.role)) {
      areasForm = h("form", { class: "adm-inline" },
        labelled(t("adm_bound_areas"), areaChoice(user.area_ids ?? [])),
        h("button", { type: "submit" }, t("adm_save")), h("p", { role: "status" }));
      submitting(areasForm, async (data) => {
        const changed = await write(`/users/${user.id}`, { area_ids: data.getAll("area_ids") }, { method: "PATCH" });
        const next = userRow(changed);
        tr.replaceWith(next);
        const saved = next.querySelector("details:last-of-type");
        saved.open = true;
        saved.querySelector("[role=status]").textContent = t("adm_areas_saved");
        saved.querySelector("summary").focus();
      }, { area_ids: [t("adm_bound_areas"), "area_ids"] });
    }
    const error = h("span", { class: "error", role: "alert" });
    const toggle = h("button", { type: "button", class: "quiet", onclick: async () => {
      toggle.disabled = true;
      error.textContent = "";
      try {
        const changed = await write(`/users/${user.id}`, { disabled: !user.disabled }, { method: "PATCH" });
        const next = userRow(changed);
        tr.replaceWith(next);
        next.querySelector("button")?.focus();
      } catch (err) {
        error.textContent = err.message;
        toggle.disabled = false;
      }
    } }, user.disabled ? t("adm_enable") : t("adm_disable"));
    const password = h("input", { type: "password", name: "new_password", autocomplete: "new-password", minlength: 10, required: true });
    const resetForm = h("form", { class: "adm-inline" },
      labelled(t("adm_new_password"), password),
      h("button", { type: "submit" }, t("adm_save")), h("p", { role: "status" }));
    submitting(resetForm, async (data) => {
      await write(`/users/${user.id}/password`, { new_password: data.get("new_password") });
      resetForm.reset();
      resetForm.querySelector("[role=status]").textContent = t("adm_password_reset");
    }, { new_password: [t("adm_new_password"), "new_password"] });
    const tr = row(user.username,
      user.display_name,
      roleName(user.role),
      scope,
      h("span", { class: user.disabled ? "tag overdue" : "tag" }, user.disabled ? t("adm_disabled") : t("adm_enabled")),
      when(user.last_login_at),
      h("div", { class: "adm-actions" }, toggle,
        h("details", {}, h("summary", {}, t("adm_reset_password")), resetForm),
        areasForm ? h("details", {}, h("summary", {}, t("adm_change_areas")), areasForm) : null, error));
    tr.dataset.username = user.username;
    return tr;
  };

  const load = pagedRows("/users", tbody, userRow, 7, more, state);
  more.addEventListener("click", () => load(false));

  // The new user's form: the department or the shop as the role needs.
  const role = select("role", ROLES.map((r) => [r, roleName(r)]), { value: "inspector", required: true });
  const department = select("department_id", [...departments.values()].map((d) => [d.id, d.name]), { empty: t("choose"), required: true });
  const shop = select("shopfront_id", [], { empty: t("choose"), required: true });
  const departmentLabel = labelled(t("adm_department"), department);
  const shopLabel = labelled(t("adm_shopfront"), shop);
  const areasLabel = h("div", { class: "stack" }, labelled(t("adm_bound_areas"), areaChoice()),
    h("p", { class: "adm-hint" }, t("adm_bound_hint")));
  let shopsLoaded = false;
  const scopeFits = async () => {
    areasLabel.hidden = !takesAreas(role.value);
    areasLabel.querySelector("select").disabled = !takesAreas(role.value);
    departmentLabel.hidden = role.value !== "department";
    department.disabled = role.value !== "department";
    shopLabel.hidden = role.value !== "shopfront";
    shop.disabled = role.value !== "shopfront";
    if (role.value === "shopfront" && !shopsLoaded) {
      shopsLoaded = true;
      try {
        for (const s of await every("/shopfronts")) shop.append(option(s.id, `${s.name}（${s.credit_code || s.address}）`));
      } catch (err) {
        shopsLoaded = false;
        form.querySelector("[role=alert]").textContent = err.message;
      }
    }
  };
  role.addEventListener("change", scopeFits);
  const done = h("p", { role: "status" });
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-new-user" },
    h("h2", { id: "adm-new-user" }, t("adm_new_user")),
    labelled(t("username"), h("input", { name: "username", required: true, autocomplete: "off", autocapitalize: "none", minlength: 3, maxlength: 64 })),
    labelled(t("adm_display_name"), h("input", { name: "display_name", required: true, maxlength: 100 })),
    labelled(t("adm_initial_password"), h("input", { name: "password", type: "password", required: true, minlength: 10, autocomplete: "new-password" })),
    labelled(t("adm_role"), role), departmentLabel, shopLabel, areasLabel,
    h("button", { type: "submit" }, t("adm_create")), h("p", { class: "error", role: "alert" }), done);
  scopeFits();
  submitting(form, async (data) => {
    done.textContent = "";
    const created = await write("/users", {
      username: data.get("username"),
      password: data.get("password"),
      display_name: data.get("display_name"),
      role: data.get("role"),
      department_id: data.get("role") === "department" ? data.get("department_id") : null,
      shopfront_id: data.get("role") === "shopfront" ? data.get("shopfront_id") : null,
      area_ids: takesAreas(data.get("role")) ? data.getAll("area_ids") : [],
    });
    form.reset();
    scopeFits();
    done.textContent = `${t("adm_user_created")} ${created.username}`;
    await load(true);
  }, {
    username: [t("username"), "username"],
    password: [t("adm_initial_password"), "password"],
    display_name: [t("adm_display_name"), "display_name"],
    department_id: [t("adm_department"), "department_id"],
    shopfront_id: [t("adm_shopfront"), "shopfront_id"],
    area_ids: [t("adm_bound_areas"), "area_ids"],
  });

  add(root, 
    table(t("adm_users"), [t("username"), t("adm_display_name"), t("adm_role"), t("adm_scope"), t("adm_state"), t("adm_last_login"), t("adm_actions")], tbody, { id: "adm-users" }),
    state, more, form);
  await load(true);
}

// ---------------------------------------------------------------------------------
// Departments: list; admins create, edit and delete.

async function departmentsSection(root) {
  const admin = isAdmin();
  const state = status();
  const tbody = h("tbody");
  let editing = null;
  const kind = select("kind", KINDS.map((k) => [k, t(`adm_kind_${k}`)]), { value: "urban_management", required: true });
  const title = h("h2", { id: "adm-department-form" }, t("adm_new_department"));
  const submit = h("button", { type: "submit" }, t("adm_create"));
  const cancel = h("button", { type: "button", class: "quiet", hidden: true }, t("adm_cancel"));
  const done = h("p", { role: "status" });
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-department-form" }, title,
    labelled(t("adm_code"), h("input", { name: "code", required: true, maxlength: 40, pattern: "[A-Za-z0-9._\\-]+" })),
    labelled(t("adm_name"), h("input", { name: "name", required: true, maxlength: 100 })),
    labelled(t("adm_kind"), kind),
    labelled(t("adm_contact"), h("input", { name: "contact", maxlength: 200 })),
    h("div", { class: "adm-row" }, submit, cancel), h("p", { class: "error", role: "alert" }), done);
  const editMode = (department) => {
    editing = department;
    title.textContent = department ? t("adm_edit_department") : t("adm_new_department");
    submit.textContent = department ? t("adm_save") : t("adm_create");
    cancel.hidden = !department;
    form.reset();
    if (department) {
      for (const key of ["code", "name", "kind", "contact"]) form.elements[key].value = department[key];
      form.elements.code.focus();
    }
  };
  cancel.addEventListener("click", () => editMode(null));

  const load = async () => {
    try {
      const items = await list("/departments");
      tbody.replaceChildren(...items.map((d) => row(d.code, d.name, t(`adm_kind_${d.kind}`), d.contact,
        admin ? h("div", { class: "adm-actions" },
          h("button", { type: "button", class: "quiet", onclick: () => editMode(d) }, t("adm_edit")),
          confirmed(t("adm_delete"), `${t("adm_sure")} ${d.name}？`, async () => {
            await write(`/departments/${d.id}`, undefined, { method: "DELETE" });
            await load();
          })) : null)));
      if (!items.length) tbody.append(emptyRow(5));
      state.done();
    } catch (err) {
      state.fail(err);
    }
  };
  submitting(form, async (data) => {
    done.textContent = "";
    const body = { code: data.get("code"), name: data.get("name"), kind: data.get("kind"), contact: data.get("contact") };
    const saved = editing
      ? await write(`/departments/${editing.id}`, body, { method: "PUT" })
      : await write("/departments", body);
    editMode(null);
    done.textContent = `${t("adm_saved")} ${saved.name}`;
    await load();
  }, { code: [t("adm_code"), "code"], name: [t("adm_name"), "name"], contact: [t("adm_contact"), "contact"] });

  add(root, table(t("adm_departments"), [t("adm_code"), t("adm_name"), t("adm_kind"), t("adm_contact"), admin ? t("adm_actions") : null], tbody, { id: "adm-departments" }),
    state, admin ? form : null);
  await load();
}

// ---------------------------------------------------------------------------------
// Imports: the file is checked with ?dry_run=true and shown row by row with each row's
// problems beside it; a row can be fixed in place (tables) or skipped, and checked again;
// the real import sends what was last checked clean. All or nothing, as the API is.

// `read(file)` gives `{heads, items: [{number, cells, ...}], original, build(items),
// numberAt(k), editable, fieldColumn(field)}`: the file as sent first, and how to make it
// again from the rows kept (whose k-th row the API then numbers numberAt(k)).
function importPart({ id, path, label, accept, read, aside = null, onPreview = () => {}, onDone = () => {} }) {
  const input = h("input", { type: "file", name: "file", accept });
  const said = h("p", { role: "status", class: "adm-import-said" });
  const error = h("p", { class: "error", role: "alert" });
  const fileProblems = h("ul", { class: "adm-file-problems error" });
  const rows = h("div");
  const recheck = h("button", { type: "button", class: "quiet adm-recheck", hidden: true }, t("adm_recheck"));
  const skipAll = h("button", { type: "button", class: "quiet adm-skip-all", hidden: true }, t("adm_skip_all"));
  const go = h("button", { type: "button", class: "adm-go", disabled: true }, t("adm_import"));
  let doc = null;
  let checked = null; // the body last checked clean
  const tone = (element, kind) => {
    element.classList.remove("adm-ok", "error");
    if (kind) element.classList.add(kind);
  };

  const changed = () => {
    checked = null;
    go.disabled = true;
    said.textContent = t("adm_changed");
    tone(said, "");
  };

  const render = (problems) => {
    const bad = doc.items.filter((item) => item.problems.length);
    const shown = doc.items.length > 200 ? doc.items.filter((item, i) => i < 200 || item.problems.length) : doc.items;
    const body = h("tbody", {}, shown.map((item) => {
      const wrongColumns = new Set(item.problems.map((p) => doc.fieldColumn(p.field)));
      const cells = doc.heads.map((head, j) => {
        const wrong = wrongColumns.has(j);
        if (doc.editable && item.problems.length) {
          const cell = h("input", { value: item.cells[j] ?? "", size: Math.max(8, String(item.cells[j] ?? "").length + 2), "aria-label": `${t("adm_row")} ${item.number} ${head}`, "aria-invalid": wrong ? "true" : false, oninput: (event) => {
            item.cells[j] = event.target.value;
            changed();
          } });
          return h("td", { class: wrong ? "adm-bad-cell" : false }, cell);
        }
        return h("td", { class: wrong ? "adm-bad-cell" : false }, item.cells[j] ?? "");
      });
      const skip = item.problems.length || item.skip
        ? h("label", { class: "adm-skip" }, h("input", { type: "checkbox", checked: item.skip, onchange: (event) => {
          item.skip = event.target.checked;
          tr.classList.toggle("adm-skipped", item.skip);
          changed();
        } }), t("adm_skip"))
        : null;
      const tr = h("tr", { class: [item.problems.length ? "adm-bad" : "", item.skip ? "adm-skipped" : ""].join(" ").trim() || false, "data-row": item.number },
        h("th", { scope: "row" }, String(item.number)),
        h("td", { class: "adm-problem" },
          item.problems.map((p) => h("p", { class: "error" }, `${p.field ? `${doc.heads[doc.fieldColumn(p.field)] ?? p.field}：` : ""}${p.message}`)),
          skip),
        cells);
      return tr;
    }));
    rows.replaceChildren(...[
      shown.length < doc.items.length ? h("p", {}, t("adm_rows_shown")) : null,
      table(label, [t("adm_row"), t("adm_problem"), ...doc.heads], body, { id }),
    ].filter(Boolean));
    skipAll.hidden = !bad.length;
    recheck.hidden = !doc.items.length;
    fileProblems.replaceChildren(...problems.map((p) => h("li", {}, p.row ? `${t("adm_row")} ${p.row}：${p.message}` : p.message)));
  };

  // Checks `body` (whose k-th row the API numbers `numberOf(k)`) without writing.
  const check = async (body, kept, numberOf) => {
    said.textContent = t("adm_checking");
    tone(said, "");
    error.textContent = "";
    go.disabled = true;
    checked = null;
    for (const item of doc.items) item.problems = [];
    const byNumber = new Map(kept.map((item, k) => [numberOf(k), item]));
    let problems = [];
    let answer = null;
    try {
      answer = await call(`${path}?dry_run=true`, { method: "POST", body });
    } catch (err) {
      if (err.code !== "invalid_import") {
        said.textContent = "";
        error.textContent = err.message;
        render([]);
        return;
      }
      problems = err.rows;
    }
    const loose = [];
    for (const p of problems) {
      const item = byNumber.get(p.row);
      if (item) item.problems.push(p);
      else loose.push(p);
    }
    render(loose);
    onPreview(doc, kept);
    if (answer) {
      checked = body;
      go.disabled = false;
      said.textContent = fill(t("adm_check_ok"), { created: number(answer.created), updated: number(answer.updated) });
      tone(said, "adm-ok");
    } else {
      const wrong = kept.filter((item) => item.problems.length).length;
      said.textContent = fill(t("adm_problems"), { rows: number(wrong) });
      tone(said, "error");
    }
  };

  input.addEventListener("change", async () => {
    const file = input.files[0];
    doc = null;
    checked = null;
    go.disabled = true;
    rows.replaceChildren();
    fileProblems.replaceChildren();
    error.textContent = "";
    if (!file) return;
    try {
      // A file the browser cannot finish reading (a stalled decompression) is left to
      // the API, which says its problems by row number.
      doc = await Promise.race([read(file), new Promise((_, reject) => {
        setTimeout(() => reject(new Error("timeout")), 8000);
      })]);
    } catch (err) {
      // Unreadable here (an odd XLSX): the API's row numbers alone, with no cells.
      doc = { heads: [], items: [], original: file, build: () => file, numberAt: (k) => k, editable: false, fieldColumn: () => -1, unreadable: err };
    }
    for (const item of doc.items) { item.problems = []; item.skip = false; }
    onPreview(doc, doc.items);
    await check(doc.original, doc.items, (k) => doc.items[k].number);
    if (doc.unreadable) fileProblems.prepend(h("li", {}, `${t("adm_unreadable")} ${doc.unreadable.message}`));
  });
  recheck.addEventListener("click", () => {
    const kept = doc.items.filter((item) => !item.skip);
    check(doc.build(kept), kept, doc.numberAt);
  });
  skipAll.addEventListener("click", () => {
    for (const item of doc.items) if (item.problems.length) item.skip = true;
    changed();
    const kept = doc.items.filter((item) => !item.skip);
    check(doc.build(kept), kept, doc.numberAt);
  });
  go.addEventListener("click", async () => {
    if (!checked) return;
    go.disabled = true;
    error.textContent = "";
    said.textContent = t("adm_importing");
    try {
      const answer = await write(path, checked);
      said.textContent = fill(t("adm_imported"), { created: number(answer.created), updated: number(answer.updated) });
      tone(said, "adm-ok");
      checked = null;
      await onDone(answer);
    } catch (err) {
      said.textContent = "";
      error.textContent = err.message;
      go.disabled = false;
    }
  });

  // `aside` (the areas' map) goes beside the rows on a wide screen.
  return h("div", { class: "adm-import" },
    labelled(label, input), said, error, fileProblems,
    h("div", { class: "adm-row" }, go, recheck, skipAll),
    h("div", { class: aside ? "adm-pair" : false }, rows, aside));
}

// ---------------------------------------------------------------------------------
// Areas: the tree by parent; GeoJSON import previewed on the map.

const areaLabel = (area) => `${area.name}（${area.code} · ${t(`adm_level_${area.level}`)}）`;

// Areas in tree order, each with its depth.
function treeOrder(areas) {
  const children = new Map();
  const ids = new Set(areas.map((a) => a.id));
  for (const area of areas) {
    const parent = ids.has(area.parent_id) ? area.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(area);
  }
  for (const kids of children.values()) kids.sort((a, b) => a.code.localeCompare(b.code));
  const out = [];
  const walk = (parent, depth) => {
    for (const area of children.get(parent) || []) {
      out.push({ area, depth });
      walk(area.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

// The areas' boundaries, drawn faintly and not clickable (a click is the map's); each
// path carries its area's code.
function drawAreas(m, areas) {
  const drawn = areas.filter((a) => a.boundary);
  m.map.invalidateSize();
  const layer = m.geojson({ type: "FeatureCollection", features: drawn.map((a) => ({ type: "Feature", geometry: a.boundary, properties: { code: a.code, name: a.name } })) },
    { interactive: false, className: "adm-existing", style: { color: "#555", weight: 1, fillOpacity: 0.05 } }).addTo(m.map);
  layer.eachLayer((l) => l.getElement()?.setAttribute("data-code", l.feature.properties.code));
  if (drawn.length) m.map.fitBounds(layer.getBounds(), { maxZoom: 16, animate: false });
  return layer;
}

function readGeojson(file) {
  return file.text().then((text) => {
    let data;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`${t("adm_not_json")} ${err.message}`);
    }
    const features = Array.isArray(data?.features) ? data.features : [];
    const prop = (f, key) => {
      const v = f?.properties?.[key];
      return v == null ? "" : String(v);
    };
    const fields = ["code", "name", "level", "parent_code"];
    return {
      heads: [t("adm_code"), t("adm_name"), t("adm_level"), t("adm_parent_code")],
      items: features.map((feature, i) => ({
        number: i + 1,
        feature,
        cells: fields.map((key) => {
          const value = prop(feature, key);
          return key === "level" && LEVELS.includes(value) ? t(`adm_level_${value}`) : value;
        }),
      })),
      original: data,
      build: (kept) => ({ ...data, features: kept.map((item) => item.feature) }),
      numberAt: (k) => k + 1,
      editable: false,
      fieldColumn: (field) => fields.indexOf(field),
    };
  });
}

async function areasSection(root) {
  const admin = isAdmin();
  const state = status();
  const tree = h("ul", { class: "adm-tree", "aria-label": t("adm_area_tree") });
  const mapBox = h("div", { class: "adm-map", role: "region", "aria-label": t("adm_map") });
  let m = null;
  let existing = null;
  let shownLayer = null;
  let previewLayer = null;
  let previewed = null;
  const departments = byId(await list("/departments").catch(() => []));

  const showArea = async (area) => {
    const full = await call(`/areas/${area.id}`);
    shownLayer?.remove();
    m.map.invalidateSize();
    shownLayer = m.geojson(full.boundary, { interactive: false, style: { color: "#0b5cad", weight: 3, fillOpacity: 0.15 } }).addTo(m.map);
    m.map.fitBounds(shownLayer.getBounds(), { maxZoom: 17, animate: false });
    mapBox.scrollIntoView({ block: "nearest" });
  };

  // The file's features on the map, the wrong ones in red, before anything is imported.
  const preview = (doc, kept) => {
    previewed = [doc, kept];
    previewLayer?.remove();
    previewLayer = null;
    if (!m) return;
    const features = kept.filter((item) => item.feature?.geometry);
    const group = m.L.featureGroup();
    for (const item of features) {
      try {
        const layer = m.geojson(item.feature, {
          className: item.problems?.length ? "adm-preview adm-preview-bad" : "adm-preview",
          style: item.problems?.length ? { color: "#b00020", weight: 3, dashArray: "6 4" } : { color: "#0b5cad", weight: 3, fillOpacity: 0.2 },
        });
        // An element, not a string: Leaflet would read a string as HTML.
        layer.bindTooltip(h("span", {}, `${item.cells[1] || ""} ${item.cells[0] || ""}`.trim() || `${t("adm_feature")} ${item.number}`));
        group.addLayer(layer);
      } catch { /* a geometry Leaflet cannot draw: its row says what is wrong */ }
    }
    previewLayer = group.addTo(m.map);
    // The table beside the map may have changed its size.
    m.map.invalidateSize();
    if (group.getLayers().length) m.map.fitBounds(group.getBounds(), { maxZoom: 17, animate: false });
  };

  // The tree as nested lists (read as a tree by screen readers too), and the
  // boundaries on the map.
  const load = async () => {
    try {
      const areas = await every("/areas?geometry=true");
      const ids = new Set(areas.map((a) => a.id));
      const children = new Map();
      for (const { area } of treeOrder(areas)) {
        const parent = ids.has(area.parent_id) ? area.parent_id : null;
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(area);
      }
      const branch = (parent) => (children.get(parent) || []).map((area) => {
        const error = h("span", { class: "error", role: "alert" });
        const kids = children.get(area.id);
        return h("li", { "data-code": area.code },
          h("span", { class: "adm-tree-item" },
            h("span", {}, areaLabel(area)),
            area.local_authority_id ? h("span", { class: "adm-muted" }, `${t("adm_local_authority")}：${departments.get(area.local_authority_id)?.name ?? area.local_authority_id}`) : null,
            h("button", { type: "button", class: "quiet", onclick: () => showArea(area).catch((err) => { error.textContent = err.message; }) }, t("adm_show_on_map")),
            admin ? confirmed(t("adm_delete"), `${t("adm_sure")} ${area.name}？`, async () => {
              await write(`/areas/${area.id}`, undefined, { method: "DELETE" });
              await load();
            }) : null,
            error),
          kids ? h("ul", {}, branch(area.id)) : null);
      });
      tree.replaceChildren(...branch(null));
      state.done(areas.length ? "" : t("adm_no_areas"));
      if (m) {
        existing?.remove();
        existing = drawAreas(m, areas);
      }
      return areas;
    } catch (err) {
      state.fail(err);
      return [];
    }
  };

  const importer = admin ? importPart({
    id: "adm-area-import",
    path: "/areas/import",
    label: t("adm_geojson_file"),
    accept: ".geojson,.json,application/geo+json,application/json",
    read: readGeojson,
    aside: mapBox,
    onPreview: preview,
    onDone: async () => {
      previewLayer?.remove();
      previewLayer = null;
      previewed = null;
      await load();
    },
  }) : null;

  add(root, 
    admin ? h("section", { "aria-labelledby": "adm-import-areas" }, h("h2", { id: "adm-import-areas" }, t("adm_import_areas")), importer) : mapBox,
    h("section", { "aria-labelledby": "adm-tree-title" }, h("h2", { id: "adm-tree-title" }, t("adm_area_tree")), state, tree));
  m = await makeMap(mapBox, { zoom: 11 });
  await load();
  // A file chosen while the map was loading.
  if (previewed) preview(...previewed);
}

// ---------------------------------------------------------------------------------
// Assignment rules, and where a case would go (a click on the map).

async function rulesSection(root) {
  const admin = isAdmin();
  const state = status();
  const tbody = h("tbody");
  const [departmentList, categoryList, areas] = await Promise.all([
    list("/departments"),
    list("/categories"),
    every("/areas?geometry=true"),
  ]);
  const departments = byId(departmentList);
  const areaById = byId(areas);
  const categoryChoices = categoryList.map((c) => [c.code, name(c)]);
  const categoryName = (code) => name(categoryList.find((c) => c.code === code) || { name_zh: code, name_en: code });
  const areaChoices = treeOrder(areas).map(({ area, depth }) => [area.id, `${"　".repeat(depth)}${area.name}（${area.code}）`]);

  const load = async () => {
    try {
      const rules = (await list("/assignment-rules"))
        .sort((a, b) => a.category.localeCompare(b.category) || String(a.area_id).localeCompare(String(b.area_id)));
      tbody.replaceChildren(...rules.map((rule) => row(categoryName(rule.category),
        rule.area_id ? areaById.get(rule.area_id)?.name ?? rule.area_id : t("adm_city_wide"),
        departments.get(rule.department_id)?.name ?? rule.department_id,
        admin ? confirmed(t("adm_delete"), `${t("adm_sure")}？`, async () => {
          await write(`/assignment-rules/${rule.id}`, undefined, { method: "DELETE" });
          await load();
        }) : null)));
      if (!rules.length) tbody.append(emptyRow(4));
      state.done();
    } catch (err) {
      state.fail(err);
    }
  };

  const done = h("p", { role: "status" });
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-new-rule" },
    h("h2", { id: "adm-new-rule" }, t("adm_new_rule")),
    labelled(t("category"), select("category", categoryChoices, { empty: t("choose"), required: true })),
    labelled(t("adm_area"), select("area_id", areaChoices, { empty: t("adm_city_wide") })),
    labelled(t("adm_department"), select("department_id", departmentList.map((d) => [d.id, d.name]), { empty: t("choose"), required: true })),
    h("button", { type: "submit" }, t("adm_create")), h("p", { class: "error", role: "alert" }), done);
  submitting(form, async (data) => {
    done.textContent = "";
    await write("/assignment-rules", {
      category: data.get("category"),
      area_id: data.get("area_id") || null,
      department_id: data.get("department_id"),
    });
    done.textContent = t("adm_saved");
    await load();
  });

  // Where would a case go: a category, a point (typed, or a click on the map).
  const result = h("div", { id: "adm-check-result", role: "status", "aria-live": "polite" });
  const mapBox = h("div", { class: "adm-map", role: "region", "aria-label": t("adm_map") });
  const lat = h("input", { name: "lat", type: "number", step: "any", min: -90, max: 90, required: true, inputmode: "decimal" });
  const lon = h("input", { name: "lon", type: "number", step: "any", min: -180, max: 180, required: true, inputmode: "decimal" });
  const checkForm = h("form", { class: "adm-check", "aria-labelledby": "adm-check-title" },
    labelled(t("category"), select("category", categoryChoices, { empty: t("choose"), required: true })),
    labelled(t("adm_lat"), lat), labelled(t("adm_lon"), lon),
    h("button", { type: "submit" }, t("adm_check")), h("p", { class: "error", role: "alert" }));
  let m = null;
  let marker = null;
  submitting(checkForm, async (data) => {
    const point = [Number(data.get("lat")), Number(data.get("lon"))];
    if (m) {
      marker?.remove();
      marker = m.L.circleMarker(m.show(point), { radius: 9, color: "#b00020", weight: 3, fillOpacity: 0.6, className: "adm-check-marker" }).addTo(m.map);
    }
    result.replaceChildren(t("loading"));
    const query = new URLSearchParams({ category: data.get("category"), lat: point[0], lon: point[1] });
    const found = await call(`/assignment-rules/check?${query}`);
    const kind = found.target === "shopfront" ? t("adm_goes_shopfront") : t("adm_goes_department");
    const who = found.target === "triage" ? t("adm_goes_triage") : `${t("adm_goes_to")}：${found.name ?? found.id}（${kind}）`;
    result.replaceChildren();
    add(result,
      h("p", { class: "adm-who" }, who),
      // The step that decided, worded as the filing form words it (file.js).
      h("p", {}, `${t("adm_reason")}：${t(`why_${found.basis}`)}`),
      found.area_id ? h("p", {}, `${t("adm_in_area")}：${areaById.get(found.area_id)?.name ?? found.area_id}`) : null);
  });

  add(root, 
    table(t("adm_rule_list"), [t("category"), t("adm_area"), t("adm_department"), admin ? t("adm_actions") : null], tbody, { id: "adm-rules" }),
    state, admin ? form : null,
    h("section", { "aria-labelledby": "adm-check-title" },
      h("h2", { id: "adm-check-title" }, t("adm_check_title")),
      h("p", {}, t("adm_check_hint")), checkForm, result, mapBox));
  await load();
  m = await makeMap(mapBox, { zoom: 11 });
  drawAreas(m, areas);
  m.map.on("click", (event) => {
    const [wlat, wlon] = m.fromMap(event.latlng);
    lat.value = wlat.toFixed(6);
    lon.value = wlon.toFixed(6);
    if (!checkForm.elements.category.value) {
      checkForm.querySelector("[role=alert]").textContent = t("adm_choose_category");
      checkForm.elements.category.focus();
      return;
    }
    checkForm.requestSubmit();
  });
}

// ---------------------------------------------------------------------------------
// Shopfronts: list, create, delete; CSV/XLSX import with the rows' problems in place.

// The import's columns, by their English and Chinese names (as the API reads them).
const SHOP_COLUMNS = [
  ["name", "名称"], ["credit_code", "统一社会信用代码"], ["address", "地址"], ["contact", "联系人"],
  ["phone", "电话"], ["lat", "纬度"], ["lon", "经度"], ["crs", "坐标系"],
  ["frontage_zone", "门前三包范围"], ["frontage_radius_m", "门前三包半径"],
  ["overseeing_department_code", "监管部门编码"],
];

// CSV records as the API reads them (RFC 4180 quotes; a blank line is no record).
export function parseCsv(text) {
  const records = [];
  let cells = [];
  let cell = "";
  let quoted = false;
  let started = false;
  const endCell = () => { cells.push(cell.trim()); cell = ""; };
  const endRecord = () => { endCell(); records.push(cells); cells = []; started = false; };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\"" && text[i + 1] === "\"") { cell += "\""; i++; } else if (c === "\"") quoted = false;
      else cell += c;
    } else if (c === "\"" && !cell.length) {
      quoted = true;
      started = true;
    } else if (c === ",") {
      endCell();
      started = true;
    } else if (c === "\n" || c === "\r") {
      if (started) endRecord();
    } else {
      cell += c;
      started = true;
    }
  }
  if (started) endRecord();
  return records;
}

const csvCell = (value) => `"${String(value ?? "").replace(/"/g, "\"\"")}"`;

// The first sheet of an XLSX (a ZIP of XML), read here to show its rows; the sheet's own
// row numbers, as the API gives them.
async function readXlsx(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { end = i; break; }
  }
  if (end < 0) throw new Error("not a ZIP archive");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries = new Map();
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error("damaged ZIP directory");
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true);
    const offset = view.getUint32(at + 42, true);
    entries.set(decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)).toLowerCase(), { method, size, offset });
    at += 46 + nameLength + extra + comment;
  }
  const text = async (path) => {
    const entry = entries.get(path.toLowerCase());
    if (!entry) return null;
    const start = entry.offset + 30 + view.getUint16(entry.offset + 26, true) + view.getUint16(entry.offset + 28, true);
    const data = bytes.subarray(start, start + entry.size);
    if (entry.method === 0) return decoder.decode(data);
    if (entry.method !== 8) throw new Error(`compression ${entry.method}`);
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Response(stream).text();
  };
  const xml = (source) => new DOMParser().parseFromString(source, "application/xml");
  const local = (node, tag) => [...node.getElementsByTagNameNS("*", tag)];
  // The first sheet, through the workbook's relationships.
  let sheetPath = "xl/worksheets/sheet1.xml";
  const workbook = await text("xl/workbook.xml");
  const rels = await text("xl/_rels/workbook.xml.rels");
  if (workbook && rels) {
    const first = local(xml(workbook), "sheet")[0];
    const rid = first?.getAttributeNS("http://schemas.openxmlformats.org/officeDocument/2006/relationships", "id") || first?.getAttribute("r:id");
    const target = local(xml(rels), "Relationship").find((r) => r.getAttribute("Id") === rid)?.getAttribute("Target");
    if (target) sheetPath = target.startsWith("/") ? target.slice(1) : `xl/${target}`;
  }
  const sharedSource = await text("xl/sharedStrings.xml");
  const shared = sharedSource ? local(xml(sharedSource), "si").map((si) => local(si, "t").map((x) => x.textContent).join("")) : [];
  const sheetSource = await text(sheetPath);
  if (!sheetSource) throw new Error("no sheet");
  const columnOf = (ref) => {
    let n = 0;
    for (const ch of ref.replace(/[0-9]/g, "")) n = n * 26 + (ch.charCodeAt(0) - 64);
    return n - 1;
  };
  const records = [];
  local(xml(sheetSource), "row").forEach((rowNode, i) => {
    const number = Number(rowNode.getAttribute("r")) || (records.at(-1)?.number ?? i) + 1;
    const cells = [];
    local(rowNode, "c").forEach((c, j) => {
      const ref = c.getAttribute("r");
      const column = ref ? columnOf(ref) : j;
      const type = c.getAttribute("t");
      const v = local(c, "v")[0]?.textContent ?? "";
      let value = v;
      if (type === "s") value = shared[Number(v)] ?? "";
      else if (type === "inlineStr") value = local(c, "t").map((x) => x.textContent).join("");
      else if (type === "b") value = v === "1" ? "true" : "false";
      if (column < 64) cells[column] = value.trim();
    });
    for (let k = 0; k < cells.length; k++) cells[k] ??= "";
    if (cells.some((cell) => cell)) records.push({ number, cells });
  });
  return records;
}

async function readTable(file) {
  const buffer = await file.arrayBuffer();
  const head = new Uint8Array(buffer.slice(0, 4));
  const zip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4;
  // The API numbers every CSV record, blank-celled or not (blank lines are no record),
  // and skips those with nothing in them.
  const records = zip ? await readXlsx(buffer)
    : parseCsv(new TextDecoder("utf-8", { fatal: true }).decode(buffer).replace(/^\uFEFF/, ""))
      .map((cells, i) => ({ number: i + 1, cells }))
      .filter((record) => record.cells.some((cell) => cell));
  const [header, ...rest] = records;
  const heads = header ? header.cells : [];
  const width = Math.max(heads.length, ...rest.map((r) => r.cells.length));
  while (heads.length < width) heads.push("");
  return {
    heads,
    items: rest.map((record) => ({ number: record.number, cells: heads.map((_, j) => record.cells[j] ?? "") })),
    original: file,
    build: (kept) => new Blob([[heads, ...kept.map((item) => item.cells)].map((cells) => cells.map(csvCell).join(",")).join("\r\n")],
      { type: "text/csv; charset=utf-8" }),
    numberAt: (k) => k + 2,
    editable: true,
    fieldColumn: (field) => {
      const names = SHOP_COLUMNS.find(([en]) => en === field) || [field, field];
      return heads.findIndex((head) => head.toLowerCase() === names[0].toLowerCase() || head === names[1]);
    },
  };
}

async function shopfrontsSection(root) {
  const admin = isAdmin();
  const state = status();
  const tbody = h("tbody");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, t("adm_more"));
  const departmentList = await list("/departments");
  const departments = byId(departmentList);

  const shopRow = (s) => row(s.name, s.credit_code || "", s.address, s.contact, s.phone,
    s.overseeing_department_id ? departments.get(s.overseeing_department_id)?.name ?? "" : "",
    s.frontage_zone ? t("adm_zone_drawn") : s.frontage_radius_m != null ? `${number(s.frontage_radius_m)} ${t("metres")}` : "",
    admin ? confirmed(t("adm_delete"), `${t("adm_sure")} ${s.name}？`, async () => {
      await write(`/shopfronts/${s.id}`, undefined, { method: "DELETE" });
      await load(true);
    }) : null);
  const load = pagedRows("/shopfronts", tbody, shopRow, 8, more, state);
  more.addEventListener("click", () => load(false));

  const done = h("p", { role: "status" });
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-new-shop" },
    h("h2", { id: "adm-new-shop" }, t("adm_new_shopfront")),
    labelled(t("adm_name"), h("input", { name: "name", required: true, maxlength: 100 })),
    labelled(t("adm_credit_code"), h("input", { name: "credit_code", required: true, minlength: 18, maxlength: 18, autocapitalize: "characters" })),
    labelled(t("adm_address"), h("input", { name: "address", required: true, maxlength: 200 })),
    labelled(t("adm_contact"), h("input", { name: "contact", maxlength: 100 })),
    labelled(t("adm_phone"), h("input", { name: "phone", type: "tel", maxlength: 40 })),
    labelled(t("adm_lat"), h("input", { name: "lat", type: "number", step: "any", min: -90, max: 90, required: true })),
    labelled(t("adm_lon"), h("input", { name: "lon", type: "number", step: "any", min: -180, max: 180, required: true })),
    labelled(t("adm_radius"), h("input", { name: "frontage_radius_m", type: "number", min: 1, max: 500, step: "any", value: 15 })),
    labelled(t("adm_overseeing"), select("overseeing_department_id", departmentList.map((d) => [d.id, d.name]), { empty: t("adm_none_dept") })),
    h("button", { type: "submit" }, t("adm_create")), h("p", { class: "error", role: "alert" }), done);
  submitting(form, async (data) => {
    done.textContent = "";
    const radius = data.get("frontage_radius_m");
    const saved = await write("/shopfronts", {
      name: data.get("name"),
      credit_code: data.get("credit_code"),
      address: data.get("address"),
      contact: data.get("contact"),
      phone: data.get("phone"),
      location: { lat: Number(data.get("lat")), lon: Number(data.get("lon")), crs: "wgs84" },
      frontage_radius_m: radius ? Number(radius) : null,
      overseeing_department_id: data.get("overseeing_department_id") || null,
    });
    form.reset();
    done.textContent = `${t("adm_saved")} ${saved.name}`;
    await load(true);
  }, {
    name: [t("adm_name"), "name"], credit_code: [t("adm_credit_code"), "credit_code"], address: [t("adm_address"), "address"],
    location: [t("adm_lat"), "lat"], frontage_zone: [t("adm_radius"), "frontage_radius_m"],
  });

  const importer = admin ? importPart({
    id: "adm-shop-import",
    path: "/shopfronts/import",
    label: t("adm_table_file"),
    accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    read: readTable,
    onDone: () => load(true),
  }) : null;

  add(root, 
    table(t("adm_shopfronts"), [t("adm_name"), t("adm_credit_code"), t("adm_address"), t("adm_contact"), t("adm_phone"), t("adm_overseeing"), t("adm_frontage"), admin ? t("adm_actions") : null], tbody, { id: "adm-shopfronts" }),
    state, more,
    admin ? h("section", { "aria-labelledby": "adm-import-shops" }, h("h2", { id: "adm-import-shops" }, t("adm_import_shopfronts")), importer) : null,
    admin ? form : null);
  await load(true);
}

// ---------------------------------------------------------------------------------
// Categories: list; admins create and edit (names, time limit and its unit, frontage,
// active).

async function categoriesSection(root) {
  const admin = isAdmin();
  const state = status();
  const tbody = h("tbody");
  let editing = null;
  const title = h("h2", { id: "adm-category-form" }, t("adm_new_category"));
  const code = h("input", { name: "code", required: true, maxlength: 40, pattern: "[a-z0-9_]+", autocapitalize: "none" });
  const codeLabel = labelled(t("adm_code"), code);
  const activeLabel = labelled(t("adm_active"), h("input", { name: "active", type: "checkbox" }), { class: "adm-check-label" });
  const submit = h("button", { type: "submit" }, t("adm_create"));
  const cancel = h("button", { type: "button", class: "quiet", hidden: true }, t("adm_cancel"));
  const done = h("p", { role: "status" });
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-category-form" }, title, codeLabel,
    labelled(t("adm_name_zh"), h("input", { name: "name_zh", required: true, maxlength: 50 })),
    labelled(t("adm_name_en"), h("input", { name: "name_en", required: true, maxlength: 50 })),
    labelled(t("adm_deadline_hours"), h("input", { name: "deadline_hours", type: "number", min: 1, max: 8760, step: 1, required: true, value: 24 })),
    labelled(t("adm_deadline_unit"), select("deadline_unit", UNITS.map((u) => [u, t(`adm_unit_${u}`)]), { value: "calendar_hours" })),
    labelled(t("adm_frontage_flag"), h("input", { name: "frontage", type: "checkbox" }), { class: "adm-check-label" }),
    activeLabel,
    h("div", { class: "adm-row" }, submit, cancel), h("p", { class: "error", role: "alert" }), done);
  const editMode = (category) => {
    editing = category;
    form.reset();
    title.textContent = category ? `${t("adm_edit_category")} ${category.code}` : t("adm_new_category");
    submit.textContent = category ? t("adm_save") : t("adm_create");
    cancel.hidden = !category;
    codeLabel.hidden = Boolean(category);
    code.disabled = Boolean(category);
    activeLabel.hidden = !category;
    if (category) {
      for (const key of ["name_zh", "name_en", "deadline_hours", "deadline_unit"]) form.elements[key].value = category[key];
      form.elements.frontage.checked = category.frontage;
      form.elements.active.checked = category.active;
      form.elements.name_zh.focus();
    }
  };
  cancel.addEventListener("click", () => editMode(null));
  editMode(null);

  const load = async () => {
    try {
      const items = await list(admin ? "/categories?include_inactive=true" : "/categories");
      tbody.replaceChildren(...items.map((c) => row(c.code, c.name_zh, c.name_en,
        `${number(c.deadline_hours)} ${t(`adm_unit_${c.deadline_unit}`)}`,
        c.frontage ? t("adm_yes") : t("adm_no"),
        c.active ? t("adm_yes") : h("span", { class: "tag overdue" }, t("adm_no")),
        admin ? h("button", { type: "button", class: "quiet", onclick: () => editMode(c) }, t("adm_edit")) : null)));
      state.done();
    } catch (err) {
      state.fail(err);
    }
  };
  submitting(form, async (data) => {
    done.textContent = "";
    const body = {
      name_zh: data.get("name_zh"),
      name_en: data.get("name_en"),
      deadline_hours: Number(data.get("deadline_hours")),
      deadline_unit: data.get("deadline_unit"),
      frontage: data.get("frontage") === "on",
    };
    const saved = editing
      ? await write(`/categories/${encodeURIComponent(editing.code)}`, { ...body, active: data.get("active") === "on" }, { method: "PATCH" })
      : await write("/categories", { code: data.get("code"), ...body });
    editMode(null);
    done.textContent = `${t("adm_saved")} ${saved.name_zh}`;
    await load();
  }, {
    code: [t("adm_code"), "code"], name_zh: [t("adm_name_zh"), "name_zh"], name_en: [t("adm_name_en"), "name_en"],
    deadline_hours: [t("adm_deadline_hours"), "deadline_hours"],
  });

  add(root, table(t("adm_categories"), [t("adm_code"), t("adm_name_zh"), t("adm_name_en"), t("adm_deadline"), t("adm_frontage"), t("adm_active"), admin ? t("adm_actions") : null], tbody, { id: "adm-categories" }),
    state, admin ? form : null);
  await load();
}

// ---------------------------------------------------------------------------------
// The working calendar: a year's marked days; admins mark and unmark.

async function calendarSection(root) {
  const admin = isAdmin();
  const state = status();
  const tbody = h("tbody");
  const thisYear = new Date().getFullYear();
  const year = h("input", { name: "year", type: "number", min: 2000, max: 2100, value: thisYear, required: true });
  const yearForm = h("form", { class: "adm-row adm-inline" }, labelled(t("adm_year"), year), h("button", { type: "submit", class: "quiet" }, t("adm_show_year")));
  const weekday = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(document.documentElement.lang, { weekday: "long" });

  const load = async () => {
    const y = Number(year.value) || thisYear;
    try {
      const days = await list(`/calendar?from=${y}-01-01&to=${y}-12-31`);
      tbody.replaceChildren(...days.map((d) => row(d.day, weekday(d.day),
        h("span", { class: d.kind === "holiday" ? "tag adm-holiday" : "tag adm-workday" }, t(`adm_day_${d.kind}`)),
        d.name,
        admin ? confirmed(t("adm_unmark"), `${t("adm_unmark")} ${d.day}？`, async () => {
          await write(`/calendar/${d.day}`, undefined, { method: "DELETE" });
          await load();
        }) : null)));
      if (!days.length) tbody.append(emptyRow(5));
      state.done();
    } catch (err) {
      state.fail(err);
    }
  };
  yearForm.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });

  const done = h("p", { role: "status" });
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-mark-day" },
    h("h2", { id: "adm-mark-day" }, t("adm_mark_day")),
    labelled(t("adm_date"), h("input", { name: "day", type: "date", required: true })),
    labelled(t("adm_day_kind"), select("kind", [["holiday", t("adm_day_holiday")], ["workday", t("adm_day_workday")]], { value: "holiday" })),
    labelled(t("adm_day_name"), h("input", { name: "name", required: true, maxlength: 50 })),
    h("button", { type: "submit" }, t("adm_save")), h("p", { class: "error", role: "alert" }), done);
  submitting(form, async (data) => {
    done.textContent = "";
    const saved = await write(`/calendar/${data.get("day")}`, { kind: data.get("kind"), name: data.get("name") }, { method: "PUT" });
    form.reset();
    done.textContent = `${t("adm_saved")} ${day(saved.day)} ${saved.name}`;
    year.value = saved.day.slice(0, 4);
    await load();
  }, { name: [t("adm_day_name"), "name"] });

  add(root, yearForm,
    table(t("adm_marked_days"), [t("adm_date"), t("adm_weekday"), t("adm_day_kind"), t("adm_name"), admin ? t("adm_actions") : null], tbody, { id: "adm-calendar" }),
    state, admin ? form : null);
  await load();
}

// ---------------------------------------------------------------------------------
// Webhooks (admins): list, create (the secret shown once), delete.

async function webhooksSection(root) {
  const state = status();
  const tbody = h("tbody");
  const departmentList = await list("/departments");
  const departments = byId(departmentList);
  const load = async () => {
    try {
      const hooks = await list("/webhooks");
      tbody.replaceChildren(...hooks.map((w) => row(w.url,
        w.events.map((e) => t(`adm_event_${e}`)).join("、"),
        t(`adm_format_${w.format}`),
        w.department_id ? departments.get(w.department_id)?.name ?? w.department_id : t("adm_all"),
        w.active ? t("adm_yes") : t("adm_no"),
        confirmed(t("adm_delete"), `${t("adm_sure")}？`, async () => {
          await write(`/webhooks/${w.id}`, undefined, { method: "DELETE" });
          await load();
        }))));
      if (!hooks.length) tbody.append(emptyRow(6));
      state.done();
    } catch (err) {
      state.fail(err);
    }
  };
  const once = h("div");
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-new-webhook" },
    h("h2", { id: "adm-new-webhook" }, t("adm_new_webhook")),
    labelled(t("adm_url"), h("input", { name: "url", type: "url", required: true, placeholder: "https://" })),
    h("fieldset", { class: "adm-events" }, h("legend", {}, t("adm_events")),
      EVENTS.map((e) => h("label", { class: "adm-check-label" }, h("input", { type: "checkbox", name: "events", value: e, checked: e !== "closed" }), t(`adm_event_${e}`)))),
    labelled(t("adm_format"), select("format", FORMATS.map((f) => [f, t(`adm_format_${f}`)]), { value: "json" })),
    labelled(t("adm_webhook_scope"), select("department_id", departmentList.map((d) => [d.id, d.name]), { empty: t("adm_all") })),
    labelled(t("adm_secret_optional"), h("input", { name: "secret", autocomplete: "off" })),
    h("button", { type: "submit" }, t("adm_create")), h("p", { class: "error", role: "alert" }), once);
  submitting(form, async (data) => {
    once.replaceChildren();
    const events = data.getAll("events");
    if (!events.length) throw new Error(t("adm_pick_event"));
    const created = await write("/webhooks", {
      url: data.get("url"),
      events,
      format: data.get("format"),
      department_id: data.get("department_id") || null,
      secret: data.get("secret") || null,
    });
    form.reset();
    once.replaceChildren(secretOnce(t("adm_secret_once"), created.secret));
    await load();
  }, { url: [t("adm_url"), "url"], events: [t("adm_events"), "events"], secret: [t("adm_secret_optional"), "secret"] });
  add(root, table(t("adm_webhooks"), [t("adm_url"), t("adm_events"), t("adm_format"), t("adm_department"), t("adm_active"), t("adm_actions")], tbody, { id: "adm-webhooks" }),
    state, form);
  await load();
}

// ---------------------------------------------------------------------------------
// API keys (admins): list, issue (the key shown once, with a copy button), revoke.

async function apiKeysSection(root) {
  const state = status();
  const tbody = h("tbody");
  const load = async () => {
    try {
      const keys = await list("/api-keys");
      tbody.replaceChildren(...keys.map((k) => row(k.name, `${k.prefix}…`, when(k.created_at), when(k.last_used_at) || "—",
        k.revoked_at ? h("span", { class: "tag overdue" }, `${t("adm_revoked")} ${when(k.revoked_at)}`)
          : confirmed(t("adm_revoke"), `${t("adm_revoke")} ${k.name}？`, async () => {
            await write(`/api-keys/${k.id}`, undefined, { method: "DELETE" });
            await load();
          }))));
      if (!keys.length) tbody.append(emptyRow(5));
      state.done();
    } catch (err) {
      state.fail(err);
    }
  };
  const once = h("div");
  const form = h("form", { class: "stack adm-form", "aria-labelledby": "adm-new-key" },
    h("h2", { id: "adm-new-key" }, t("adm_new_key")),
    labelled(t("adm_key_app"), h("input", { name: "name", required: true, maxlength: 100 })),
    h("button", { type: "submit" }, t("adm_create")), h("p", { class: "error", role: "alert" }), once);
  submitting(form, async (data) => {
    once.replaceChildren();
    const issued = await write("/api-keys", { name: data.get("name") });
    form.reset();
    once.replaceChildren(secretOnce(t("adm_key_once"), issued.api_key));
    await load();
  }, { name: [t("adm_key_app"), "name"] });
  add(root, table(t("adm_api_keys"), [t("adm_name"), t("adm_prefix"), t("adm_created"), t("adm_last_used"), t("adm_actions")], tbody, { id: "adm-api-keys" }),
    state, form);
  await load();
}
