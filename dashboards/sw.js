/* poenet dashboards — the service worker (served at /sw.js so its scope is
 * the whole site). Network first, always: a page shows the newest data
 * whenever the collector answers. When it does not (no signal in the car
 * queue, collector down), the last copy is served instead, and a copy of
 * the feed carries X-Poe-Offline (when it was stored, Unix ms) so the page
 * shows it greyed under "Offline: showing data from …" — never as current.
 * The live stream (/v1/stream) is never cached. */
"use strict";

var CACHE = "poenet-v1";
var SHELL = [
  "/", "/dashboards/crossing.html", "/dashboards/style.css", "/dashboards/i18n.js",
  "/dashboards/common.js", "/dashboards/watch.js", "/dashboards/board.js", "/dashboards/chart.js",
  "/dashboards/crossing.js", "/dashboards/icon.svg", "/dashboards/manifest.json",
  "/dashboards/i18n/en.json", "/dashboards/i18n/es.json", "/dashboards/i18n/fr.json"
];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

/* The cache key: the path (query kept for history), never the headers. */
function key(url) { return url.pathname + url.search; }

function stamped(resp) {
  return resp.clone().blob().then(function (b) {
    var h = new Headers(resp.headers);
    h.set("X-Poe-Stored", String(Date.now()));
    return new Response(b, { status: resp.status, statusText: resp.statusText, headers: h });
  });
}

function fromCache(k, isData) {
  return caches.open(CACHE).then(function (c) { return c.match(k); }).then(function (r) {
    if (!r) return Response.error();
    if (!isData) return r;
    var h = new Headers(r.headers);
    h.set("X-Poe-Offline", r.headers.get("X-Poe-Stored") || "0");
    return r.blob().then(function (b) { return new Response(b, { status: 200, headers: h }); });
  });
}

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== location.origin || url.pathname === "/v1/stream") return;
  var isData = url.pathname.indexOf("/v1/") === 0;
  var k = key(url);
  if (req.mode === "navigate" && url.pathname.indexOf("/crossing/") === 0) k = "/dashboards/crossing.html";
  if (req.mode === "navigate" && url.pathname === "/") k = "/";
  e.respondWith(fetch(req).then(function (resp) {
    if (resp.ok) {
      var copy = stamped(resp);
      e.waitUntil(copy.then(function (r) { return caches.open(CACHE).then(function (c) { return c.put(k, r); }); }));
    }
    return resp;
  }, function () { return fromCache(k, isData); }));
});
