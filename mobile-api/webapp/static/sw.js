// The service worker: keeps the app's shell for offline start. Scope /app/
// (served with Service-Worker-Allowed: /app/). The API and the websocket
// are never cached: money screens show only what the server says now.
const CACHE = "paydesk-shell-v1";
const SHELL = ["/app/", "/app/app.css", "/app/js/app.js", "/app/js/api.js", "/app/js/i18n.js", "/app/js/ui.js",
  "/app/js/cashier.js", "/app/js/merchant.js", "/app/js/wallet.js", "/app/js/scanner.js", "/app/manifest.webmanifest", "/app/icon.svg"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys().then((ks) => Promise.all(ks.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});
// Network first (the server answers 304 when nothing changed), the cache
// only when offline: a new release is picked up at the next load.
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/app/")) return;
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(e.request, copy)); }
    return r;
  }).catch(() => caches.match(e.request, { ignoreSearch: true }).then((r) => r || caches.match("/app/"))));
});
