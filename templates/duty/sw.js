// 共治 Community service worker (rendered by community/duty/shell.py; its version
// changes with every static file's content hash, so a deploy installs a new one).
// Static files: from the cache it filled when installing. "My duties" and the duty
// pages a volunteer opened: from the network, kept for offline reading under the
// user's name (the X-Community-User header), served to that name only; every page
// kept is forgotten at the logout POST and at any answer naming nobody or someone
// else. Anything else without a connection: the offline page.
"use strict";
importScripts({{ queue_js|tojson }});

var VERSION = {{ version|tojson }};
var STATIC = "static-" + VERSION;
var ASSETS = {{ assets|tojson }};
var OFFLINE = {{ offline|tojson }};
var LOGOUT = {{ logout|tojson }};
var USER_HEADER = {{ user_header|tojson }};
var PAGES = /^\/duties\/(mine|claims\/\d+)$/;
var META = "community-meta";
var USER_ENTRY = "/__community-user";

self.addEventListener("install", function (evt) {
  evt.waitUntil(caches.open(STATIC).then(function (cache) {
    return cache.addAll(ASSETS.concat([OFFLINE]));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (evt) {
  evt.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("static-") === 0 && k !== STATIC;
    }).map(function (k) { return caches["delete"](k); }));
  }).then(function () { return self.clients.claim(); }));
});

function currentUser() {
  return caches.open(META).then(function (cache) {
    return cache.match(USER_ENTRY);
  }).then(function (hit) { return hit ? hit.text() : ""; });
}

function setUser(who) {
  return caches.open(META).then(function (cache) {
    return cache.put(USER_ENTRY, new Response(who));
  });
}

// Every page kept, of everybody, and who the worker thinks is logged in.
function forget() {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("pages-") === 0 || k === META;
    }).map(function (k) { return caches["delete"](k); }));
  });
}

// `copy`: a clone taken before the page reads the body.
function remember(url, resp, copy) {
  if (resp.type === "opaqueredirect") { return Promise.resolve(); }
  var who = resp.headers.get(USER_HEADER) || "";
  return currentUser().then(function (current) {
    if (!who) { return forget(); }
    var ready = who === current ? Promise.resolve() : forget().then(function () { return setUser(who); });
    if (!copy || resp.redirected || !PAGES.test(url.pathname)) { return ready; }
    return ready.then(function () {
      return caches.open("pages-" + who);
    }).then(function (cache) { return cache.put(url.pathname, copy); });
  });
}

function fromCache(url) {
  return currentUser().then(function (who) {
    if (!who || !PAGES.test(url.pathname)) { return null; }
    return caches.open("pages-" + who).then(function (cache) {
      return cache.match(url.pathname, { ignoreVary: true });
    });
  }).then(function (hit) {
    return hit || caches.match(OFFLINE, { cacheName: STATIC, ignoreSearch: true });
  }).then(function (hit) {
    return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  });
}

function page(evt, url) {
  return fetch(evt.request).then(function (resp) {
    var copy = resp.type === "basic" && resp.ok ? resp.clone() : null;
    evt.waitUntil(remember(url, resp, copy));
    return resp;
  }, function () { return fromCache(url); });
}

self.addEventListener("fetch", function (evt) {
  var req = evt.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (req.method === "POST" && url.pathname === LOGOUT) {
    evt.waitUntil(forget());
    return;
  }
  if (req.method !== "GET") { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    evt.respondWith(caches.match(req, { cacheName: STATIC }).then(function (hit) {
      return hit || fetch(req);
    }));
    return;
  }
  var boosted = req.headers.get("HX-Request") && req.headers.get("HX-Boosted");
  if (req.mode === "navigate" || boosted) {
    evt.respondWith(page(evt, url));
  }
});

// Background Sync: the queue is sent by the worker too, when the browser says the
// connection is back (the page may be closed by then).
self.addEventListener("sync", function (evt) {
  if (evt.tag !== "duty-queue") { return; }
  evt.waitUntil(currentUser().then(function (who) {
    if (!who) { return null; }
    return self.CommunityQueue.flush({ user: who, csrf: null }).then(function (outcome) {
      return self.clients.matchAll({ type: "window" }).then(function (clients) {
        clients.forEach(function (client) { client.postMessage({ type: "queue-flushed" }); });
        if (outcome.kept) { throw new Error("items kept for later"); }
      });
    });
  }));
});
