// The outbox: reports filed on the phone wait here, in IndexedDB, with their photos,
// until the server has them. Each keeps its client_id and Idempotency-Key from the first
// try, so a report sent twice (an answer lost, the app closed mid-send) is filed once.

const DB = "xuncha";
const STORE = "outbox";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

// Keeps `user`'s report (and its photos, as Blobs) until it is sent.
export function enqueue(user, report, photos) {
  const item = {
    id: report.client_id,
    user,
    key: crypto.randomUUID(),
    report,
    photos,
    queued_at: new Date().toISOString(),
    error: null,
  };
  return run("readwrite", (store) => store.put(item));
}

// What waits of `user`'s: a phone shared by two people sends each one's reports only
// under their own sign-in.
export async function list(user) {
  const all = await run("readonly", (store) => store.getAll());
  return all.filter((item) => item.user === user);
}

function remove(id) {
  return run("readwrite", (store) => store.delete(id));
}

function keep(item) {
  return run("readwrite", (store) => store.put(item));
}

let flushing = null;

// Sends what waits of `user`'s, oldest first, with `send(item)` (a fetch Response). Stops at the first
// network failure or "try later"; a refusal (a 4xx that retrying cannot change) is kept
// with its message for the user to see. Answers how many were sent.
export function flush(user, send) {
  flushing ??= (async () => {
    let sent = 0;
    try {
      const items = (await list(user)).sort((a, b) => a.queued_at.localeCompare(b.queued_at));
      for (const item of items) {
        if (item.error) continue;
        let response;
        try {
          response = await send(item);
        } catch {
          break; // no network: try again later
        }
        if (response.ok) {
          await remove(item.id);
          sent += 1;
          continue;
        }
        const retryLater = response.status === 408 || response.status === 429 ||
          response.status >= 500 || (response.status === 409 && response.headers.has("retry-after"));
        if (retryLater) break;
        let message = `HTTP ${response.status}`;
        try { message = (await response.json()).error.message; } catch { /* keep the status */ }
        await keep({ ...item, error: message });
      }
    } finally {
      flushing = null;
    }
    return sent;
  })();
  return flushing;
}
