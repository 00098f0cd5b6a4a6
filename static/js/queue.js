// 共治 Community: the phone's queue of on-duty steps made without a connection
// (IndexedDB), shared by the pages (offline.js) and the service worker (sw.js, for
// Background Sync). No DOM here.
//
// An item leaves the queue only when the server applied it (200, a replay of the
// first answer included) or refused it for good (409 with a reason, 422, 403, 404,
// 413): refused items move to their own store, kept until the volunteer dismisses
// them. A network error, a timeout, a redirect to the login page, 400 (a stale
// form token), 429 and 5xx leave it where it is, and the sending stops there so
// the order is kept.
(function (root) {
  "use strict";

  var DB_NAME = "community-offline";
  var DB_VERSION = 1;
  var QUEUE = "queue";
  var REFUSED = "refused";
  var TIMEOUT_MS = 30000;
  var FINAL = { 403: "forbidden", 404: "not_found", 409: "refused", 413: "too_large", 422: "invalid" };

  function open() {
    return new Promise(function (resolve, reject) {
      var req = root.indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(QUEUE)) { db.createObjectStore(QUEUE, { keyPath: "id", autoIncrement: true }); }
        if (!db.objectStoreNames.contains(REFUSED)) { db.createObjectStore(REFUSED, { keyPath: "id" }); }
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function run(store, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode);
        var result;
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
        result = work(tx.objectStore(store));
      });
    });
  }

  function all(store, user) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, "readonly");
        var req = tx.objectStore(store).getAll();
        tx.oncomplete = function () {
          db.close();
          resolve((req.result || []).filter(function (item) { return !user || item.user === user; }));
        };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function add(item) {
    return run(QUEUE, "readwrite", function (store) { store.add(item); });
  }

  function remove(store, id) {
    return run(store, "readwrite", function (s) { s["delete"](id); });
  }

  function refuse(item, reason, message) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction([QUEUE, REFUSED], "readwrite");
        tx.objectStore(REFUSED).put({
          id: item.id, user: item.user, claim: item.claim, label: item.label,
          made: item.made, reason: reason, message: message || ""
        });
        tx.objectStore(QUEUE)["delete"](item.id);
        tx.oncomplete = function () { db.close(); resolve(); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function formData(item, csrf) {
    var data = new FormData();
    item.fields.forEach(function (f) {
      if (f.file) { data.append(f.name, f.file, f.filename || "photo.jpg"); } else { data.append(f.name, f.value); }
    });
    data.set("sent_at", String(Date.now()));
    if (csrf) { data.set("csrf_token", csrf); }
    return data;
  }

  function post(item, csrf) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return fetch(item.url, {
      method: "POST",
      body: formData(item, csrf || item.csrf),
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-Duty-Queue": "1", "X-CSRFToken": csrf || item.csrf },
      signal: controller ? controller.signal : undefined
    }).then(function (resp) {
      clearTimeout(timer);
      return resp;
    }, function (err) {
      clearTimeout(timer);
      throw err;
    });
  }

  function answer(resp) {
    return resp.json().then(function (body) { return body || {}; }, function () { return {}; });
  }

  var flushing = null;

  // Send the user's items in order. ctx: {user, csrf (the page's fresh token, or
  // null in the worker)}. Resolves to {sent, refused, kept}.
  function flush(ctx) {
    if (flushing) { return flushing; }
    var outcome = { sent: 0, refused: 0, kept: 0 };
    flushing = all(QUEUE, ctx.user).then(function (items) {
      items.sort(function (a, b) { return a.id - b.id; });
      function next(i) {
        if (i >= items.length) { return outcome; }
        var item = items[i];
        return post(item, ctx.csrf).then(function (resp) {
          if (resp.ok) {
            outcome.sent += 1;
            return remove(QUEUE, item.id).then(function () { return next(i + 1); });
          }
          if (FINAL[resp.status]) {
            return answer(resp).then(function (body) {
              outcome.refused += 1;
              return refuse(item, body.reason || FINAL[resp.status], body.message || "")
                .then(function () { return next(i + 1); });
            });
          }
          outcome.kept = items.length - i; // logged out, stale token, busy, 5xx: later
          return outcome;
        }, function () {
          outcome.kept = items.length - i; // no connection or no answer: later
          return outcome;
        });
      }
      return next(0);
    }).then(function (result) {
      flushing = null;
      return result;
    }, function (err) {
      flushing = null;
      throw err;
    });
    return flushing;
  }

  root.CommunityQueue = {
    add: add,
    flush: flush,
    items: function (user) { return all(QUEUE, user); },
    refused: function (user) { return all(REFUSED, user); },
    dismiss: function (id) { return remove(REFUSED, id); }
  };
})(self);
