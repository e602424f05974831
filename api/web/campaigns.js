// Unannounced inspections (明察暗访): the campaigns; creating one, which draws its sites
// at once and publishes the seed's commitment; the campaign with its draw (checked by
// replaying it once the seed is revealed), its visits and its close; a visit scored on a
// phone, with notes, photos and where the phone stood; the review with its rankings, a
// comparison with another campaign and the bulletin workbook. The rules are the API's
// (docs/inspections.md); this screen says them and shows what the server answers.

import { t, addWords } from "/app/i18n.js";
import { call, write, me, photoUrl, download } from "/app/api.js";
import { h, show, route, status, onSubmit, when, day, number, categories, categoryName } from "/app/ui.js";

addWords({
  camp_menu: ["明察暗访", "Inspections"],
  camp_list: ["明察暗访检查活动", "Inspection campaigns"],
  camp_none: ["暂无可查看的检查活动。", "No campaigns to show."],
  camp_new: ["新建检查活动", "New campaign"],
  camp_status_open: ["进行中", "Open"],
  camp_status_closed: ["已结束", "Closed"],
  camp_mode: ["检查方式", "Mode"],
  camp_mode_unannounced: ["明察暗访（不提前公布）", "Unannounced"],
  camp_mode_announced: ["公开检查", "Announced"],
  camp_name: ["活动名称", "Name"],
  camp_starts: ["开始日期", "First day"],
  camp_ends: ["结束日期", "Last day"],
  camp_period: ["检查时段", "Period"],
  camp_checklist: ["考核表", "Checklist"],
  camp_points: ["分", "pts"],
  camp_full: ["满分", "full marks"],
  camp_scope: ["抽查区域", "Areas to draw in"],
  camp_level: ["区域层级", "Area level"],
  camp_level_district: ["区县", "Districts"],
  camp_level_subdistrict: ["街道", "Subdistricts"],
  camp_level_community: ["社区", "Communities"],
  camp_level_grid: ["网格", "Grids"],
  camp_filter: ["筛选", "Filter"],
  camp_no_areas: ["该层级没有区域。", "No areas at this level."],
  camp_quotas: ["每个区域抽取的点位数（按类型）", "Sites to draw in each area, by type"],
  camp_inspectors: ["检查人员", "Inspectors"],
  camp_no_inspectors: ["没有可选的巡查员账号。", "No inspector accounts to choose from."],
  camp_pick_area: ["请至少选择一个区域。", "Choose at least one area."],
  camp_pick_quota: ["请至少为一种点位类型填写抽取数量。", "Give at least one site type a number to draw."],
  camp_draw_note: [
    "提交后服务器即用一次性随机种子抽取点位，并公布种子的 SHA-256 哈希（承诺）；种子本身在活动结束后公开。",
    "On submit the server draws the sites from a fresh random seed and publishes the seed's SHA-256 (its commitment); the seed itself is revealed when the campaign closes.",
  ],
  camp_create: ["创建并抽取点位", "Create and draw"],
  camp_created: ["检查活动已创建，点位已抽取。", "The campaign is created and its sites are drawn."],
  camp_open_it: ["查看检查活动", "Open the campaign"],
  camp_commitment: ["种子承诺 SHA-256(种子)", "Seed commitment, SHA-256(seed)"],
  camp_frame: ["抽样框摘要", "Sampling frame digest"],
  camp_seed: ["种子", "Seed"],
  camp_seed_hidden: ["保密，活动结束后公开", "Secret until the campaign closes"],
  camp_proves: [
    "这证明：点位由创建时服务器生成的随机种子决定，承诺已先行公布，结束后公开种子即可重算，任何人都无法事后更改抽取结果。",
    "What it proves: the sites follow from a random seed the server made at creation; its commitment is published first, and once the seed is revealed anyone can redo the draw, so nobody can change it afterwards.",
  ],
  camp_draw: ["抽取结果", "The draw"],
  camp_stratum: ["{area} · {type}：{n} 个候选点位，抽取 {count} 个", "{area} · {type}: {count} drawn of {n} candidates"],
  camp_verify: ["验证抽取结果", "Verify the draw"],
  camp_verify_wait: ["活动结束、种子公开后即可验证。", "It can be verified once the campaign closes and the seed is revealed."],
  camp_verify_ok: [
    "验证通过：种子与承诺一致，抽样框与摘要一致，重算得到的点位与公布的抽取结果相同。",
    "Verified: the seed matches its commitment, the frame its digest, and the replay draws the same sites.",
  ],
  camp_verify_bad: ["验证未通过：", "Verification FAILED: "],
  camp_verify_seed: ["种子与承诺不符", "the seed does not match its commitment"],
  camp_verify_frame: ["抽样框与摘要不符", "the frame does not match its digest"],
  camp_verify_sites: ["重算的点位与公布的不同", "the replay draws other sites"],
  camp_sites: ["抽中点位", "Drawn sites"],
  camp_visited: ["已检查", "Visited"],
  camp_not_visited: ["未检查", "Not visited"],
  camp_record: ["记录检查", "Record a visit"],
  camp_visits: ["检查记录", "Visits"],
  camp_no_visits: ["尚无检查记录。", "No visits yet."],
  camp_score: ["得分", "Score"],
  camp_inspector: ["检查人", "Inspector"],
  camp_you: ["本人", "you"],
  camp_someone: ["其他检查人员", "another inspector"],
  camp_case: ["案件", "Case"],
  camp_close: ["结束活动", "Close the campaign"],
  camp_close_warn: [
    "结束后不能再记录检查，种子将公开供所有人验证。确定结束？",
    "After closing no visit can be recorded, and the seed is revealed for anyone to check. Close it?",
  ],
  camp_close_yes: ["确定结束并公开种子", "Close and reveal the seed"],
  camp_closed_done: ["活动已结束，种子已公开。", "The campaign is closed; the seed is revealed."],
  camp_summary: ["检查结果与排名", "Results and rankings"],
  camp_visit_saved: ["检查记录已提交。", "The visit is recorded."],
  camp_site: ["检查点位", "Site"],
  camp_all_visited: ["所有抽中点位均已检查。", "Every drawn site has been visited."],
  camp_is_closed: ["活动已结束，不能再记录检查。", "The campaign is closed; no more visits."],
  camp_pass: ["合格", "Pass"],
  camp_fail: ["不合格", "Fail"],
  camp_deducted: ["扣 {n} 分", "{n} off"],
  camp_files_case: ["，将生成“{category}”案件", "; files a “{category}” case"],
  camp_item_note: ["扣分说明", "What was wrong"],
  camp_notes: ["检查备注", "Notes"],
  camp_total: ["合计 {score} / {max} 分", "Total {score} / {max}"],
  camp_gps_here: ["位置 {lat}, {lon} ±{acc} 米", "Location {lat}, {lon} ±{acc} m"],
  camp_gps_distance: ["，距点位 {m} 米", ", {m} m from the site"],
  camp_gps_far: ["距点位较远，请确认是否在现场。", "Far from the site: make sure you are there."],
  camp_gps_note: ["定位 {lat}, {lon} ±{acc} 米，距点位 {m} 米", "GPS {lat}, {lon} ±{acc} m, {m} m from the site"],
  camp_submit_visit: ["提交检查记录", "Submit the visit"],
  camp_photos_failed: [
    "检查记录已保存，但照片未上传：{error} 请再次提交以上传照片。",
    "The visit is saved but its photos were not uploaded: {error} Submit again to upload them.",
  ],
  camp_headline: [
    "抽中 {drawn} 个点位，已检查 {visited} 个，平均得分率 {rate}，发现问题 {problems} 个。",
    "{drawn} sites drawn, {visited} visited, mean score rate {rate}, {problems} problems found.",
  ],
  camp_by_site: ["点位得分排名", "Sites ranked"],
  camp_by_area: ["区域排名", "Areas ranked"],
  camp_by_department: ["责任单位排名", "Departments ranked"],
  camp_by_category: ["问题分类统计", "Problems by category"],
  camp_progress: ["案件整改进度", "Progress of the cases filed"],
  camp_rank: ["名次", "Rank"],
  camp_rate: ["得分率", "Score rate"],
  camp_mean_rate: ["平均得分率", "Mean score rate"],
  camp_problems: ["问题数", "Problems"],
  camp_cases_filed: ["生成案件", "Cases filed"],
  camp_drawn_n: ["抽中", "Drawn"],
  camp_visited_n: ["已检查", "Visited"],
  camp_area: ["区域", "Area"],
  camp_department: ["责任单位", "Department"],
  camp_points_deducted: ["扣分", "Points off"],
  camp_type: ["类型", "Type"],
  camp_open_cases: ["未办结", "Open"],
  camp_closed_cases: ["已办结", "Closed"],
  camp_on_time: ["按期办结", "Closed on time"],
  camp_cancelled: ["已撤销", "Cancelled"],
  camp_overdue: ["已超期", "Overdue"],
  camp_closure_rate: ["办结率", "Closure rate"],
  camp_compare: ["与其他检查活动对比", "Compare with another campaign"],
  camp_compare_none: ["不对比", "No comparison"],
  camp_measure: ["项目", "Measure"],
  camp_then: ["对比活动", "Then"],
  camp_now: ["本次", "Now"],
  camp_change: ["变化", "Change"],
  camp_xlsx: ["下载通报（XLSX）", "Download the bulletin (XLSX)"],
  camp_downloaded: ["已下载。", "Downloaded."],
  camp_uncategorised: ["其他", "Other"],
  camp_type_street_shop: ["沿街商铺", "Street shop"],
  camp_type_market: ["农贸市场", "Market"],
  camp_type_back_street: ["背街小巷", "Back street"],
  camp_type_public_toilet: ["公共厕所", "Public toilet"],
  camp_type_building_site: ["建筑工地", "Building site"],
  camp_type_small_business: ["“五小”行业", "Small business"],
  camp_type_residential_compound: ["居民小区", "Residential compound"],
  camp_type_school: ["学校", "School"],
  camp_type_hospital: ["医院", "Hospital"],
  camp_type_transport_hub: ["车站码头", "Transport hub"],
  camp_type_park: ["公园广场", "Park or square"],
  camp_type_other: ["其他", "Other"],
});

const SITE_TYPES = ["street_shop", "market", "back_street", "public_toilet", "building_site", "small_business",
  "residential_compound", "school", "hospital", "transport_hub", "park", "other"];
const LEVELS = ["district", "subdistrict", "community", "grid"];
const REVIEWERS = ["supervisor", "admin"];
// A phone farther than this from the site is asked whether it is really there.
const FAR_M = 300;

// A word with `{name}` parts filled in.
const fill = (key, values) => t(key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
const typeName = (type) => t(`camp_type_${type}`);
const rate = (value) => (value == null ? "—" : `${number(value, 2)}%`);
const change = (value) => (value == null ? "—" : `${value > 0 ? "+" : ""}${number(value, 2)}`);
// A calendar day as the API gives it (YYYY-MM-DD), read as that day wherever the reader is.
const calendarDay = (text) => day(`${text}T00:00:00`);
const points = (value) => number(value, 1);
const statusTag = (c) => h("span", { class: `tag camp-${c.status}` }, t(`camp_status_${c.status}`));
const isMine = (campaign) => campaign.inspector_ids.includes(me().id);
const mayRecord = (campaign) => campaign.status === "open"
  && (me().role === "supervisor" || (me().role === "inspector" && isMine(campaign)));

// Area names, asked once per page life: plans and strata name areas by id.
const areaNames = new Map();
function areaName(id) {
  if (!areaNames.has(id)) {
    areaNames.set(id, call(`/areas/${id}`).then((a) => a.name, () => id));
  }
  return areaNames.get(id);
}

// The inspectors' names, for those who may list them (others see "you" or "another").
async function inspectorNames() {
  if (!REVIEWERS.includes(me().role)) return new Map();
  try {
    const page = await call("/campaigns/inspectors");
    return new Map(page.items.map((u) => [u.id, u.display_name || u.username]));
  } catch {
    return new Map();
  }
}

// A table of figures: `numeric` columns align right; column `head` names each row.
function table(caption, headers, rows, numeric = [], head = 0) {
  return h("div", { class: "camp-table" },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headers.map((head, i) =>
        h("th", { scope: "col", class: numeric.includes(i) ? "num" : false }, head)))),
      h("tbody", {}, ...rows.map((row) => h("tr", {}, ...row.map((cell, i) =>
        h(i === head ? "th" : "td", { scope: i === head ? "row" : false, class: numeric.includes(i) ? "num" : false }, cell)))))));
}

// The list.
async function listView() {
  const state = status();
  const list = h("ul", { class: "cases", "aria-label": t("camp_list") });
  const create = me().role === "supervisor"
    ? h("p", {}, h("a", { href: "#/campaigns/new", class: "camp-button" }, t("camp_new"))) : null;
  show(t("camp_list"), create, state, list);
  try {
    const page = await call("/campaigns");
    list.replaceChildren(...page.items.map((c) => h("li", { class: "case" },
      h("h2", {}, h("a", { href: `#/campaigns/${c.id}` }, c.name)),
      h("p", {}, statusTag(c), " ", t(`camp_mode_${c.mode}`)),
      h("p", {}, `${t("camp_period")} ${calendarDay(c.starts_on)} – ${calendarDay(c.ends_on)}`))));
    state.done(page.items.length ? "" : t("camp_none"));
  } catch (err) {
    state.fail(err);
  }
}

// Checkboxes with a filter above them when they are many.
function choices(legend, name, options, empty) {
  const box = h("div", { class: "camp-choices" });
  const filter = h("input", { type: "search", "aria-label": `${t("camp_filter")} ${legend}`, placeholder: t("camp_filter") });
  const set = h("fieldset", { class: "camp-set" }, h("legend", {}, legend), filter, box);
  const fillIn = (items) => {
    box.replaceChildren(...items.map((o) => h("label", {},
      h("input", { type: "checkbox", name, value: o.value }), o.label)));
    if (!items.length) box.append(h("p", {}, empty));
    filter.hidden = items.length <= 12;
  };
  filter.addEventListener("input", () => {
    for (const label of box.querySelectorAll("label")) {
      label.hidden = !label.textContent.includes(filter.value.trim());
    }
  });
  fillIn(options);
  return { set, fillIn };
}

async function areasAt(level) {
  const items = [];
  let cursor = "";
  // Ten pages of 200 at most: a plan of more areas is better drawn at a level above.
  for (let i = 0; i < 10; i++) {
    const page = await call(`/areas?level=${level}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}

// A new campaign: what to draw from, then the draw's commitment as the server answers it.
async function newView() {
  const state = status();
  const today = new Date();
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const checklist = h("select", { name: "checklist_id", required: true }, h("option", { value: "" }, t("choose")));
  const level = h("select", { name: "level" }, ...LEVELS.map((l) => h("option", { value: l }, t(`camp_level_${l}`))));
  const scope = choices(t("camp_scope"), "area_id", [], t("camp_no_areas"));
  const inspectors = choices(t("camp_inspectors"), "inspector_id", [], t("camp_no_inspectors"));
  const quotas = h("fieldset", { class: "camp-set" }, h("legend", {}, t("camp_quotas")),
    h("div", { class: "camp-quotas" }, ...SITE_TYPES.map((type) => h("label", {}, typeName(type),
      h("input", { type: "number", name: `quota_${type}`, min: 0, max: 1000, step: 1, value: 0, inputmode: "numeric" })))));
  const result = h("section", { "aria-live": "polite" });
  const form = h("form", { class: "stack camp-wide camp-form", "aria-labelledby": "title" },
    h("label", {}, t("camp_name"), h("input", { name: "name", required: true, maxlength: 100 })),
    h("label", {}, t("camp_mode"), h("select", { name: "mode" },
      h("option", { value: "unannounced" }, t("camp_mode_unannounced")),
      h("option", { value: "announced" }, t("camp_mode_announced")))),
    h("div", { class: "camp-row" },
      h("label", {}, t("camp_starts"), h("input", { type: "date", name: "starts_on", required: true, value: iso(today) })),
      h("label", {}, t("camp_ends"), h("input", { type: "date", name: "ends_on", required: true,
        value: iso(new Date(today.getTime() + 30 * 86400000)) }))),
    h("label", {}, t("camp_checklist"), checklist),
    h("label", {}, t("camp_level"), level),
    scope.set, quotas, inspectors.set,
    h("p", { class: "camp-note" }, t("camp_draw_note")),
    h("button", { type: "submit" }, t("camp_create")),
    h("p", { class: "error", role: "alert" }));
  show(t("camp_new"), state, form, result);

  // Listening before the lists load: a submit meanwhile is never the browser's own.
  onSubmit(form, async (data) => {
    const areaIds = data.getAll("area_id");
    const plan = SITE_TYPES.map((type) => ({ site_type: type, count: Number(data.get(`quota_${type}`) || 0) }))
      .filter((q) => q.count > 0);
    if (!areaIds.length) throw new Error(t("camp_pick_area"));
    if (!plan.length) throw new Error(t("camp_pick_quota"));
    const created = await write("/campaigns", {
      name: data.get("name"),
      mode: data.get("mode"),
      starts_on: data.get("starts_on"),
      ends_on: data.get("ends_on"),
      checklist_id: data.get("checklist_id"),
      plan: { area_ids: areaIds, quotas: plan },
      inspector_ids: data.getAll("inspector_id"),
    });
    form.hidden = true;
    result.replaceChildren(
      h("p", { role: "status", class: "camp-done" }, t("camp_created")),
      commitment(created),
      h("h2", {}, `${t("camp_sites")}（${created.sites.length}）`),
      siteList(created, created.sites),
      h("p", {}, h("a", { href: `#/campaigns/${created.id}`, class: "camp-button" }, t("camp_open_it"))));
    window.scrollTo(0, 0);
  });

  const loadAreas = async () => {
    try {
      scope.fillIn((await areasAt(level.value)).map((a) => ({ value: a.id, label: `${a.name}（${a.code}）` })));
    } catch (err) {
      state.fail(err);
    }
  };
  level.addEventListener("change", loadAreas);
  try {
    const [lists, people] = await Promise.all([call("/checklists"), call("/campaigns/inspectors"), loadAreas()]);
    checklist.append(...lists.items.map((c) =>
      h("option", { value: c.id }, `${c.name}（${t("camp_full")} ${points(c.total_points)} ${t("camp_points")}）`)));
    inspectors.fillIn(people.items.map((u) => ({ value: u.id, label: u.display_name ? `${u.display_name}（${u.username}）` : u.username })));
    state.done();
  } catch (err) {
    state.fail(err);
  }

}

// The draw's published commitment, the seed once revealed, and what that proves.
function commitment(draw) {
  return h("div", { class: "camp-commit", id: "commitment" },
    h("dl", {},
      h("dt", {}, t("camp_commitment")), h("dd", { class: "camp-hash", id: "seed-sha256" }, draw.seed_sha256),
      h("dt", {}, t("camp_frame")), h("dd", { class: "camp-hash" }, draw.frame_sha256),
      h("dt", {}, t("camp_seed")), draw.seed
        ? h("dd", { class: "camp-hash", id: "seed" }, draw.seed)
        : h("dd", { id: "seed" }, t("camp_seed_hidden"))),
    h("p", { class: "camp-note" }, t("camp_proves")));
}

function siteList(campaign, sites) {
  return h("ul", { class: "camp-sites", "aria-label": t("camp_sites") }, ...sites.map((s) => h("li", {},
    h("strong", {}, `${s.code} ${s.name}`), " ",
    h("span", { class: "tag" }, typeName(s.site_type)), " ",
    s.visited ? h("span", { class: "tag camp-closed" }, t("camp_visited")) : h("span", { class: "tag" }, t("camp_not_visited")),
    s.address ? h("div", { class: "camp-muted" }, s.address) : null,
    !s.visited && campaign.status === "open" && mayRecord(campaign)
      ? h("a", { href: `#/campaigns/${campaign.id}/visit?site=${s.site_id}`, class: "camp-button" }, t("camp_record")) : null)));
}

const hexBytes = (text) => new Uint8Array(text.match(/../g).map((b) => parseInt(b, 16)));
const toHex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

// Replays the draw on the server from the revealed seed and the published frame, and
// checks the seed's hash here too, in the browser, apart from the server.
async function verifyDraw(draw) {
  const replay = await call("/draws/replay", {
    method: "POST",
    body: {
      seed: draw.seed,
      strata: draw.strata.map(({ area_id, site_type, count, candidates }) => ({ area_id, site_type, count, candidates })),
    },
  });
  const problems = [];
  let seedHash = replay.seed_sha256;
  if (crypto.subtle) seedHash = toHex(await crypto.subtle.digest("SHA-256", hexBytes(draw.seed)));
  if (replay.seed_sha256 !== draw.seed_sha256 || seedHash !== draw.seed_sha256) problems.push(t("camp_verify_seed"));
  if (replay.frame_sha256 !== draw.frame_sha256) problems.push(t("camp_verify_frame"));
  const replayed = replay.strata.map((s) => s.drawn.join(","));
  const published = draw.strata.map((s) => s.drawn.join(","));
  const listed = draw.sites.map((s) => s.site_id).sort().join(",");
  const drawnAll = draw.strata.flatMap((s) => s.drawn).sort().join(",");
  if (replayed.join(";") !== published.join(";") || listed !== drawnAll) problems.push(t("camp_verify_sites"));
  return problems;
}

let notice = "";

// One campaign: its plan, the draw, the visits, and what the reader may do with it.
async function campaignView({ id }) {
  const state = status();
  show(t("camp_menu"), state);
  let campaign, draw, visits, checklist, names;
  try {
    [campaign, draw, visits, names] = await Promise.all([
      call(`/campaigns/${id}`), call(`/campaigns/${id}/draw`), call(`/campaigns/${id}/visits`), inspectorNames(),
    ]);
    [checklist] = await Promise.all([call(`/checklists/${campaign.checklist_id}`), categories()]);
  } catch (err) {
    state.fail(err);
    return;
  }
  const strataLines = await Promise.all(draw.strata.map(async (s) => h("li", {},
    fill("camp_stratum", { area: await areaName(s.area_id), type: typeName(s.site_type), n: s.candidates.length, count: s.drawn.length }))));
  const items = new Map(checklist.items.map((i) => [i.id, i]));
  const sites = new Map(draw.sites.map((s) => [s.site_id, s]));
  const who = (userId) => (userId === me().id ? t("camp_you") : names.get(userId) || t("camp_someone"));

  const verifyOut = h("p", { role: "status", id: "verify-result" });
  const verify = h("button", { type: "button", id: "verify", disabled: !draw.seed, onclick: async () => {
    verify.disabled = true;
    verifyOut.className = "";
    verifyOut.textContent = t("loading");
    try {
      const problems = await verifyDraw(draw);
      verifyOut.textContent = problems.length ? t("camp_verify_bad") + problems.join("；") : t("camp_verify_ok");
      verifyOut.className = problems.length ? "error" : "camp-done";
    } catch (err) {
      verifyOut.textContent = err.message;
      verifyOut.className = "error";
    } finally {
      verify.disabled = false;
    }
  } }, t("camp_verify"));
  if (!draw.seed) verifyOut.textContent = t("camp_verify_wait");

  const actions = h("p", { class: "camp-actions" },
    mayRecord(campaign) && campaign.sites.some((s) => !s.visited)
      ? h("a", { href: `#/campaigns/${id}/visit`, class: "camp-button" }, t("camp_record")) : null,
    REVIEWERS.includes(me().role) ? h("a", { href: `#/campaigns/${id}/summary`, class: "camp-button" }, t("camp_summary")) : null);

  const said = notice;
  notice = "";
  show(campaign.name,
    said ? h("p", { role: "status", class: "camp-done" }, said) : null,
    h("p", {}, statusTag(campaign), " ", t(`camp_mode_${campaign.mode}`), " · ",
      `${t("camp_period")} ${calendarDay(campaign.starts_on)} – ${calendarDay(campaign.ends_on)}`),
    h("p", {}, `${t("camp_checklist")}：${checklist.name}（${t("camp_full")} ${points(checklist.total_points)} ${t("camp_points")}）`),
    h("p", {}, `${t("camp_inspectors")}：${campaign.inspector_ids.map(who).join("、") || "—"}`),
    actions,
    h("section", { "aria-labelledby": "draw-title" },
      h("h2", { id: "draw-title" }, t("camp_draw")),
      commitment(draw),
      h("ul", { class: "camp-strata" }, ...strataLines),
      h("div", { class: "camp-actions" }, verify), verifyOut,
      h("h3", {}, `${t("camp_sites")}（${draw.sites.length}）`),
      siteList(campaign, draw.sites)),
    h("section", { "aria-labelledby": "visits-title" },
      h("h2", { id: "visits-title" }, `${t("camp_visits")}（${visits.items.length}）`),
      visits.items.length
        ? h("ul", { class: "cases", id: "visits" }, ...visits.items.map((v) => visitItem(v, sites, items, who)))
        : h("p", {}, t("camp_no_visits"))),
    closePart(campaign));
}

function visitItem(visit, sites, items, who) {
  const site = sites.get(visit.site_id);
  const photos = h("div", { class: "camp-photos" });
  for (const photo of visit.photos) {
    const img = h("img", { alt: `${t("photos")} ${site?.name || ""}`, width: 96, height: 96 });
    photoUrl(photo.thumbnail_url).then((url) => { img.src = url; }, () => { img.alt = t("unreachable"); });
    photos.append(img);
  }
  const lost = visit.scores.filter((s) => s.score < s.max_points);
  return h("li", { class: "case" },
    h("h3", {}, site ? `${site.code} ${site.name}` : visit.site_id),
    h("p", {}, h("strong", { class: "camp-score" }, `${t("camp_score")} ${points(visit.score)} / ${points(visit.max_score)}`),
      ` · ${rate(visit.max_score ? (visit.score / visit.max_score) * 100 : null)}`),
    h("p", {}, `${when(visit.visited_at)} · ${t("camp_inspector")} ${who(visit.inspector_id)}`),
    lost.length ? h("ul", {}, ...lost.map((s) => h("li", {},
      `${items.get(s.item_id)?.title || ""} ${fill("camp_deducted", { n: points(s.max_points - s.score) })}`,
      s.note ? `：${s.note}` : "",
      s.case_id ? [" ", h("a", { href: `#/case/${s.case_id}` }, t("camp_case"))] : null))) : null,
    visit.notes ? h("p", { class: "camp-notes" }, visit.notes) : null,
    visit.photos.length ? photos : null);
}

// Closing asks once more: it ends the visits and reveals the seed.
function closePart(campaign) {
  if (me().role !== "supervisor" || campaign.status !== "open") return null;
  const error = h("p", { class: "error", role: "alert" });
  const confirm = h("button", { type: "button", id: "close-confirm", onclick: async () => {
    confirm.disabled = true;
    error.textContent = "";
    try {
      await write(`/campaigns/${campaign.id}/close`, undefined);
      notice = t("camp_closed_done");
      campaignView({ id: campaign.id });
    } catch (err) {
      error.textContent = err.message;
      confirm.disabled = false;
    }
  } }, t("camp_close_yes"));
  const ask = h("div", { hidden: true }, h("p", {}, t("camp_close_warn")), confirm);
  return h("section", { "aria-labelledby": "close-title" },
    h("h2", { id: "close-title" }, t("camp_close")),
    h("button", { type: "button", class: "quiet", id: "close", onclick: () => { ask.hidden = false; confirm.focus(); } }, t("camp_close")),
    ask, error);
}

function metres(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

// A visit: the site, a score for every item of the checklist, notes, photos and where the
// phone stood (said in the notes: visits keep no location of their own).
async function visitView({ id }, query) {
  const state = status();
  show(t("camp_record"), state);
  let campaign, checklist, categoryList;
  try {
    campaign = await call(`/campaigns/${id}`);
    [checklist, categoryList] = await Promise.all([call(`/checklists/${campaign.checklist_id}`), categories()]);
  } catch (err) {
    state.fail(err);
    return;
  }
  const back = h("p", {}, h("a", { href: `#/campaigns/${id}` }, campaign.name));
  const open = campaign.sites.filter((s) => !s.visited);
  if (campaign.status !== "open" || !open.length) {
    show(t("camp_record"), back, h("p", { role: "status" }, t(campaign.status !== "open" ? "camp_is_closed" : "camp_all_visited")));
    return;
  }
  const clientId = crypto.randomUUID();
  let recorded = null;
  let fix = null;
  const site = h("select", { name: "site_id", required: true },
    ...open.map((s) => h("option", { value: s.site_id, selected: s.site_id === query.get("site") }, `${s.code} ${s.name}`)));
  const siteInfo = h("p", { class: "camp-muted", id: "site-info" });
  const place = h("p", { id: "gps", role: "status" }, t("locating"));
  const chosen = () => open.find((s) => s.site_id === site.value);
  const distance = () => (fix ? Math.round(metres(fix.latitude, fix.longitude, chosen().location.lat, chosen().location.lon)) : null);
  const showPlace = () => {
    const s = chosen();
    siteInfo.textContent = `${typeName(s.site_type)} · ${s.address || ""}`;
    if (!fix) return;
    const m = distance();
    place.textContent = fill("camp_gps_here", { lat: fix.latitude.toFixed(5), lon: fix.longitude.toFixed(5), acc: Math.round(fix.accuracy) })
      + fill("camp_gps_distance", { m });
    if (m > FAR_M) place.append(h("span", { class: "error" }, ` ${t("camp_gps_far")}`));
  };
  site.addEventListener("change", showPlace);

  const total = h("p", { class: "camp-total", id: "total", "aria-live": "polite" });
  const scoreInputs = [];
  const catName = (code) => {
    const found = categoryList.find((c) => c.code === code);
    return found ? categoryName(code) : code;
  };
  const showTotal = () => {
    const sum = scoreInputs.reduce((acc, input) => acc + (Number(input.value) || 0), 0);
    total.textContent = fill("camp_total", { score: points(sum), max: points(checklist.total_points) });
  };
  const itemSets = checklist.items.map((item, index) => {
    const input = h("input", { type: "number", name: `score_${item.id}`, min: 0, max: item.max_points, step: 0.5,
      value: item.max_points, required: true, inputmode: "decimal" });
    scoreInputs.push(input);
    const said = h("p", { class: "camp-deduct", "aria-live": "polite" });
    const update = () => {
      const off = item.max_points - (Number(input.value) || 0);
      said.textContent = off > 0
        ? fill("camp_deducted", { n: points(off) }) + (item.category ? fill("camp_files_case", { category: catName(item.category) }) : "")
        : "";
      showTotal();
    };
    input.addEventListener("input", update);
    const set = (value) => () => { input.value = value; update(); };
    return h("fieldset", { class: "camp-item" },
      h("legend", {}, `${index + 1}. ${item.title}（${t("camp_full")} ${points(item.max_points)} ${t("camp_points")}）`),
      h("div", { class: "camp-passfail" },
        h("button", { type: "button", class: "quiet", onclick: set(item.max_points) }, t("camp_pass")),
        h("button", { type: "button", class: "quiet", onclick: set(0) }, t("camp_fail"))),
      h("label", {}, t("camp_score"), input),
      said,
      h("label", {}, t("camp_item_note"), h("input", { name: `note_${item.id}`, maxlength: 500 })));
  });
  const scored = h("fieldset", { class: "camp-plain" },
    h("label", {}, t("camp_site"), site), siteInfo, place,
    ...itemSets, total,
    h("label", {}, t("camp_notes"), h("textarea", { name: "notes", rows: 3, maxlength: 1800 })));
  const form = h("form", { class: "stack camp-form", "aria-labelledby": "title" },
    scored,
    h("label", {}, t("photos"),
      h("input", { name: "photos", type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", multiple: true })),
    h("button", { type: "submit" }, t("camp_submit_visit")),
    h("p", { class: "error", role: "alert" }));
  show(t("camp_record"), back, form);
  showPlace();
  showTotal();

  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition((position) => {
      fix = position.coords;
      showPlace();
    }, () => {
      place.textContent = t("no_gps");
      place.className = "error";
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  } else {
    place.textContent = t("no_gps");
  }

  onSubmit(form, async (data) => {
    const photos = data.getAll("photos").filter((file) => file.size > 0);
    if (!recorded) {
      const notes = [String(data.get("notes") || "").trim(), fix
        ? fill("camp_gps_note", { lat: fix.latitude.toFixed(5), lon: fix.longitude.toFixed(5), acc: Math.round(fix.accuracy), m: distance() })
        : ""].filter(Boolean).join("\n");
      recorded = await write(`/campaigns/${id}/visits`, {
        client_id: clientId,
        site_id: data.get("site_id"),
        notes,
        scores: checklist.items.map((item) => ({
          item_id: item.id,
          score: Number(data.get(`score_${item.id}`)),
          note: String(data.get(`note_${item.id}`) || "").trim(),
        })),
      });
      // Recorded: what was scored stays as sent; only the photos may be sent again.
      scored.disabled = true;
    }
    if (photos.length) {
      const upload = new FormData();
      upload.append("taken_at", new Date().toISOString());
      photos.forEach((photo, index) => upload.append("file", photo, photo.name || `photo-${index + 1}.jpg`));
      try {
        await write(`/campaigns/${id}/visits/${recorded.id}/photos`, upload);
      } catch (err) {
        throw new Error(fill("camp_photos_failed", { error: err.message }));
      }
    }
    notice = t("camp_visit_saved");
    location.hash = `#/campaigns/${id}`;
  });
}

// The review: the headline, rankings by site, area and department, problems by category,
// the cases' progress, a comparison with another campaign, and the bulletin workbook.
async function summaryView({ id }, query) {
  const state = status();
  show(t("camp_summary"), state);
  const compareTo = query.get("compare_to") || "";
  let summary, campaigns;
  try {
    [summary, campaigns] = await Promise.all([
      call(`/campaigns/${id}/summary${compareTo ? `?compare_to=${encodeURIComponent(compareTo)}` : ""}`),
      call("/campaigns"),
      categories(),
    ]);
  } catch (err) {
    state.fail(err);
    return;
  }
  const compare = h("select", { name: "compare_to", id: "compare-to" },
    h("option", { value: "" }, t("camp_compare_none")),
    ...campaigns.items.filter((c) => c.id !== id).map((c) =>
      h("option", { value: c.id, selected: c.id === compareTo }, `${c.name}（${calendarDay(c.starts_on)}）`)));
  compare.addEventListener("change", () => {
    location.hash = `#/campaigns/${id}/summary${compare.value ? `?compare_to=${compare.value}` : ""}`;
  });
  const downloaded = h("p", { role: "status", id: "download-status" });
  const xlsx = h("button", { type: "button", id: "xlsx", onclick: async () => {
    xlsx.disabled = true;
    downloaded.className = "";
    downloaded.textContent = "";
    try {
      await download(`/campaigns/${id}/export.xlsx`, `${summary.name}.xlsx`);
      downloaded.textContent = t("camp_downloaded");
    } catch (err) {
      downloaded.textContent = err.message;
      downloaded.className = "error";
    } finally {
      xlsx.disabled = false;
    }
  } }, t("camp_xlsx"));
  const groupRows = (groups) => groups.map((g) => [g.rank ?? "—", g.name, g.sites_drawn, g.sites_visited, rate(g.mean_score_rate), g.problems]);
  const groupHead = (first) => [t("camp_rank"), first, t("camp_drawn_n"), t("camp_visited_n"), t("camp_mean_rate"), t("camp_problems")];
  const p = summary.progress;
  const c = summary.comparison;
  show(`${summary.name} · ${t("camp_summary")}`,
    h("p", {}, h("a", { href: `#/campaigns/${id}` }, summary.name), " ", statusTag(summary)),
    h("p", { class: "camp-headline", id: "headline" }, fill("camp_headline", {
      drawn: summary.sites_drawn, visited: summary.sites_visited, rate: rate(summary.mean_score_rate), problems: summary.problems,
    })),
    h("div", { class: "camp-actions" }, xlsx, h("label", {}, t("camp_compare"), compare)), downloaded,
    c ? table(`${t("camp_compare")}：${c.name}`, [t("camp_measure"), t("camp_then"), t("camp_now"), t("camp_change")], [
      [t("camp_mean_rate"), rate(c.mean_score_rate_then), rate(c.mean_score_rate_now), change(c.change)],
      [t("camp_problems"), c.problems_then, c.problems_now, change(c.problems_now - c.problems_then)],
      ...c.areas.map((a) => [`${t("camp_area")} ${a.name}`, rate(a.then), rate(a.now), change(a.change)]),
    ], [1, 2, 3]) : null,
    h("div", { id: "site-ranking" }, table(t("camp_by_site"),
      [t("camp_rank"), t("camp_site"), t("camp_type"), t("camp_area"), t("camp_department"), t("camp_score"), t("camp_rate"), t("camp_problems"), t("camp_cases_filed")],
      summary.sites.map((s) => [s.rank ?? "—", `${s.code} ${s.name}`, typeName(s.site_type), s.scope_area_name, s.department_name || "—",
        s.visited ? `${points(s.score)} / ${points(s.max_score)}` : t("camp_not_visited"), rate(s.score_rate), s.problems, s.cases_filed]),
      [5, 6, 7, 8], 1)),
    table(t("camp_by_area"), groupHead(t("camp_area")), groupRows(summary.areas), [2, 3, 4, 5], 1),
    table(t("camp_by_department"), groupHead(t("camp_department")), groupRows(summary.departments), [2, 3, 4, 5], 1),
    table(t("camp_by_category"), [t("category"), t("camp_problems"), t("camp_points_deducted"), t("camp_cases_filed")],
      summary.categories.map((k) => [k.category ? categoryName(k.category) : t("camp_uncategorised"), k.problems, points(k.points_deducted), k.cases_filed]),
      [1, 2, 3]),
    table(t("camp_progress"),
      [t("camp_cases_filed"), t("camp_open_cases"), t("camp_closed_cases"), t("camp_on_time"), t("camp_cancelled"), t("camp_overdue"), t("camp_closure_rate")],
      [[p.cases_filed, p.open, p.closed, p.closed_on_time, p.cancelled, p.overdue, rate(p.closure_rate)]], [0, 1, 2, 3, 4, 5, 6], -1));
}

// `new` before `:id`, which would take it for an id.
route("/campaigns", listView, { roles: [...REVIEWERS, "inspector"], menu: "camp_menu" });
route("/campaigns/new", newView, { roles: ["supervisor"] });
route("/campaigns/:id", campaignView, { roles: [...REVIEWERS, "inspector"] });
route("/campaigns/:id/visit", visitView, { roles: ["supervisor", "inspector"] });
route("/campaigns/:id/summary", summaryView, { roles: REVIEWERS });
