// Every word a person reads, Chinese first. The language is the user's choice, kept on
// the device; the API answers its errors in it too (Accept-Language).

const words = {
  app: ["巡查", "Xuncha"],
  sign_in: ["登录", "Sign in"],
  sign_out: ["退出登录", "Sign out"],
  username: ["用户名", "Username"],
  password: ["密码", "Password"],
  queue: ["我的待办", "My queue"],
  counts: ["待办统计", "Queue counts"],
  queue_empty: ["暂无待办案件。", "Nothing to do right now."],
  loading: ["正在加载…", "Loading…"],
  offline: ["当前离线", "Offline"],
  unreachable: ["无法连接服务器，请稍后重试。", "The server cannot be reached; try again later."],
  offline_sign_in: ["无法连接服务器，联网后才能登录。", "The server cannot be reached; sign in once the network is back."],
  overdue: ["已超期", "Overdue"],
  deadline: ["期限", "due"],
  menu: ["菜单", "Menu"],
  file_report: ["上报问题", "File a report"],
  file_it: ["上报", "File it"],
  outbox: ["待发送", "Outbox"],
  waiting: ["待发送", "Waiting to send"],
  outbox_empty: ["所有上报均已发送。", "Everything has been sent."],
  send_now: ["立即发送", "Send now"],
  not_saved: ["未能保存在手机上：", "Could not be saved on this phone:"],
  queued: ["已保存在手机上，联网后自动发送。", "Saved on this phone; it is sent when the network allows."],
  choose: ["请选择", "Choose"],
  category: ["问题类别", "Category"],
  description: ["问题描述", "What is wrong"],
  address: ["地址", "Address"],
  photos: ["照片", "Photos"],
  locating: ["正在定位…", "Finding your location…"],
  location: ["位置", "Location"],
  metres: ["米", "m"],
  no_gps: ["无法获取位置：请允许定位后重试。", "No location: allow location access and try again."],
};

const statuses = {
  reported: ["待分派", "Reported"],
  assigned: ["已派遣", "Assigned"],
  in_progress: ["整改中", "In progress"],
  disputed: ["有异议", "Disputed"],
  rectified: ["待核查", "Rectified"],
  closed: ["已办结", "Closed"],
  cancelled: ["已撤销", "Cancelled"],
};

const roles = {
  admin: ["管理员", "Admin"],
  supervisor: ["督查员", "Supervisor"],
  inspector: ["巡查员", "Inspector"],
  department: ["责任部门", "Department"],
  shopfront: ["沿街商户", "Shop"],
};

const counts = {
  to_accept: ["待签收", "To accept"],
  in_progress: ["整改中", "In progress"],
  to_verify: ["待核查", "To verify"],
  triage: ["待分派", "To triage"],
  disputed: ["有异议", "Disputed"],
  extension_requests: ["延期申请", "Extension requests"],
  suspension_requests: ["挂起申请", "Suspension requests"],
  verify_overdue: ["核查超时", "Verification overdue"],
  overdue: ["已超期", "Overdue"],
};

export function lang() {
  return localStorage.getItem("xuncha.lang") === "en" ? "en" : "zh";
}

export function setLang(value) {
  localStorage.setItem("xuncha.lang", value === "en" ? "en" : "zh");
}

function pick(table, key) {
  const entry = table[key];
  return entry ? entry[lang() === "en" ? 1 : 0] : key;
}

export const t = (key) => pick(words, key);

// Each screen's module brings its own words; a key said twice is a mistake caught at once.
export function addWords(table) {
  for (const [key, pair] of Object.entries(table)) {
    if (key in words) throw new Error(`word ${key} defined twice`);
    words[key] = pair;
  }
}
export const statusName = (key) => pick(statuses, key);
export const roleName = (key) => pick(roles, key);
export const countName = (key) => pick(counts, key);
