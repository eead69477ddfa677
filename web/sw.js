// scribe service worker: keeps the app shell, the engine and the shipped weights in a cache
// named after the build, so the page works offline and a new deploy replaces the old files
// in one step. `make web` (tools/stamp-web.mjs) fills in BUILD and PRECACHE from the files in
// dist/; the placeholders below make an unstamped copy cache nothing ahead of time.

const BUILD = '__SCRIBE_BUILD__';
const PRECACHE = [/* __SCRIBE_PRECACHE__ */];
const CACHE = `scribe-${BUILD}`;
const RUNTIME_CACHEABLE = /\/(weights\/[^/]+|engine\/[^/]+\.js|icons\/[^/]+)$/;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' skips the HTTP cache so a deploy never mixes old and new files.
    await cache.addAll(PRECACHE.map((u) => new Request(u, { cache: 'reload' })));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('scribe-') && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
  if (event.data?.type === 'version') event.source?.postMessage({ type: 'version', build: BUILD });
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const key = req.mode === 'navigate' ? new URL('./', self.registration.scope).href : req;
    const hit = await cache.match(key, { ignoreSearch: true });
    if (hit) return hit;
    const res = await fetch(req);
    if (res.ok && res.status === 200 && RUNTIME_CACHEABLE.test(url.pathname)) {
      cache.put(req, res.clone()).catch(() => { /* quota: serve uncached */ });
    }
    return res;
  })());
});
