/*
 * Airlock's own service worker: the app works offline once it has been loaded. It caches this site's
 * files only (the app and the Python runtime, at install) and
 * answers from that cache when the network is gone. It never touches another origin, and it never
 * serves the sandbox: the sandbox's frame has an opaque origin (no allow-same-origin), so no service
 * worker controls it, and its CSP allows it no fetch at all.
 *
 * Built by vite.config.ts (airlock:offline), which fills in the version and the shell's file list.
 */
/* global __AIRLOCK_SW_SHELL__ */
const VERSION = '__AIRLOCK_SW_VERSION__';
const SHELL = __AIRLOCK_SW_SHELL__;
const CACHE = `airlock-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL.map((p) => new URL(p, self.registration.scope).href)))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith('airlock-') && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || !url.href.startsWith(self.registration.scope))
    return;
  // The page itself: the network first (a new version shows at once), the cached shell offline.
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req).catch(() =>
        caches
          .match(new URL('./', self.registration.scope).href, { cacheName: CACHE })
          .then((r) => r || Response.error()),
      ),
    );
    return;
  }
  // Everything else is versioned by its name (hashed assets, pyodide/<version>/): the cache first.
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      const res = await fetch(req);
      if (res.ok && res.type === 'basic') await cache.put(req, res.clone());
      return res;
    }),
  );
});
