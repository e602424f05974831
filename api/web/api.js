// The API under /api/v1, as the app uses it: the session and its renewal, errors in the
// user's language, retry-safe writes (Idempotency-Key) and photos read with the session.

import { t, lang } from "/app/i18n.js";

const API = "/api/v1";

export const session = {
  get() {
    try { return JSON.parse(localStorage.getItem("xuncha.session")); } catch { return null; }
  },
  set(value) {
    if (value) localStorage.setItem("xuncha.session", JSON.stringify(value));
    else localStorage.removeItem("xuncha.session");
    photoUrls.clear();
  },
};

export const me = () => session.get()?.user;

// A phone's own id, made once: failed sign-ins then lock the account on this device only.
export function deviceId() {
  let id = localStorage.getItem("xuncha.device");
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem("xuncha.device", id);
  }
  return id;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.details = body?.error?.details;
    // What was wrong, field by field (`{path: message}`) or row by row in an import
    // (`[{row, field, message}]`), for forms and import previews to show in place.
    this.fields = body?.error?.fields || {};
    this.rows = body?.error?.rows || [];
  }
}

// Called when the sign-in has ended (the refresh token refused): the app shows sign-in.
let onSignedOut = () => {};
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

// One request with the session. `body` is JSON, or FormData sent as multipart; a write
// carries an Idempotency-Key so that a retry after a lost answer gets the first answer.
// `raw` returns the Response (downloads, 304s).
export async function call(path, { method = "GET", body, auth = true, key, raw = false, headers: extra = {} } = {}) {
  const headers = { "Accept-Language": lang(), ...extra };
  const form = body instanceof FormData;
  // A file (an import's CSV or XLSX) goes as it is, with its own type.
  const file = body instanceof Blob;
  if (body !== undefined && !form && !file) headers["Content-Type"] = "application/json";
  if (file && body.type) headers["Content-Type"] = body.type;
  if (key) headers["Idempotency-Key"] = key;
  const current = session.get();
  if (auth && current) headers.Authorization = `Bearer ${current.access_token}`;
  let response;
  try {
    response = await fetch(API + path, {
      method, headers, body: body === undefined || form || file ? body : JSON.stringify(body),
    });
  } catch {
    throw new Error(t("unreachable"));
  }
  if (response.status === 401 && auth && current && (await refresh(current))) {
    return call(path, { method, body, auth, key, raw, headers: extra });
  }
  if (raw && (response.ok || response.status === 304)) return response;
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON: said by status */ }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

// A state-changing request, retried on a lost answer with the same key, so it happens
// once: the server answers the retry with the first answer.
export async function write(path, body, { method = "POST", attempts = 3 } = {}) {
  const key = crypto.randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(path, { method, body, key });
    } catch (err) {
      if (err instanceof ApiError || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

// One refresh at a time: a second 401 meanwhile waits for the same answer. A refresh
// whose answer was lost is sent again with the same token (the server's grace window).
let refreshing = null;
export function refresh(current) {
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
        onSignedOut();
      }
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// Photos need the session, which an <img> cannot send: each is fetched once and shown
// from a blob URL for as long as the page lives.
const photoUrls = new Map();
export function photoUrl(path) {
  if (!photoUrls.has(path)) {
    photoUrls.set(path, call(path.replace(API, ""), { raw: true })
      .then((response) => response.blob())
      .then((blob) => URL.createObjectURL(blob))
      .catch((err) => { photoUrls.delete(path); throw err; }));
  }
  return photoUrls.get(path);
}

// A file the API makes (XLSX, CSV), saved under `name`.
export async function download(path, name) {
  const response = await call(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
