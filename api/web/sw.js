// The service worker: the app's shell is kept on the device so it opens with no network.
// The API is never cached here: the app asks it, and says when it cannot.

const SHELL = "xuncha-shell-v3";
// What the phone app needs to start with no network: the page, every module it imports and
// the inspectors' campaign screens (a test holds this list to the files in api/web/). The
// console's screens and the map library are kept once they have been loaded.
const FILES = [
  "/", "/manifest.webmanifest", "/app/style.css", "/app/icon.svg",
  "/app/app.js", "/app/api.js", "/app/i18n.js", "/app/ui.js", "/app/outbox.js", "/app/registry.js",
  "/app/queue.js", "/app/file.js", "/app/case.js", "/app/map.js", "/app/campaigns.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// The app's files from the network when it answers (so an update arrives at once, and a
// file loaded later is kept too), else from the cache.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (!FILES.includes(url.pathname) && !url.pathname.startsWith("/app/")) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        caches.open(SHELL).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(() => caches.match(event.request)),
  );
});
