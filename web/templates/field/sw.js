/* Jasyl field mode's service worker (version {{ version }}): Workbox, served by the app itself. */
importScripts('/vendor/workbox-sw/build/workbox-sw.js');
workbox.setConfig({
  debug: false,
  modulePathCb: (name) => `/vendor/${name}/build/${name}.prod.js`,
});
// Workbox loads its modules on first use, which a worker may only do while it starts up.
{% for name in workbox %}workbox.loadModule('{{ name }}');
{% endfor %}
const WARM = {{ warm|tojson }};
const PAGES = 'jasyl-field-pages';

workbox.core.clientsClaim();
workbox.precaching.precacheAndRoute({{ precache|tojson }});

// The page, its messages and the species catalogue: fresh when online, kept for offline.
const pages = new workbox.strategies.NetworkFirst({
  cacheName: PAGES, networkTimeoutSeconds: 4, matchOptions: { ignoreSearch: true },
});
workbox.routing.registerRoute(
  ({ url, request }) => url.origin === self.location.origin && request.method === 'GET' &&
    (WARM.includes(url.pathname) || url.pathname === '/field/'),
  pages,
);

// Basemap tiles: those of a self-hosted basemap the page fetched for the work area, from the
// cache first; a third party's only as viewed (opaque answers kept too: they are images), at
// most JASYL_FIELD_VIEWED_TILES of them and none older than 30 days, the oldest going first
// (a browser counts an opaque answer as megabytes of its quota: uncapped, they would crowd out
// the outbox), and all of them when the browser says its storage is full.
const TILES = 'jasyl-field-tiles';
const VIEWED = 'jasyl-field-viewed-tiles';
const images = { cacheWillUpdate: async ({ response }) => ([0, 200].includes(response.status) ? response : null) };
workbox.routing.registerRoute(
  ({ url, request }) => url.origin === self.location.origin && request.method === 'GET' &&
    url.pathname.startsWith('/basemap/'),
  new workbox.strategies.CacheFirst({ cacheName: TILES }),
);
workbox.routing.registerRoute(
  ({ url, request }) => url.origin !== self.location.origin && request.destination === 'image',
  new workbox.strategies.CacheFirst({
    cacheName: VIEWED,
    plugins: [images, new workbox.expiration.ExpirationPlugin({
      maxEntries: {{ viewed_tiles }}, maxAgeSeconds: 30 * 24 * 3600, purgeOnQuotaError: true,
    })],
  }),
);

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(PAGES).then((cache) =>
    Promise.all(WARM.map((url) => cache.add(new Request(url, { credentials: 'same-origin' })).catch(() => null)))));
  self.skipWaiting();
});
