// 共治 Community: the installable app's page side. Registers the service worker
// (sw.js), keeps on-duty steps made without a connection in the phone's queue
// (queue.js) and sends them in order when it returns (on reconnect, on the next page
// load, or by Background Sync in the worker), shows what waits (待上传) and what the
// server refused until dismissed, and records the route walked with the volunteer's
// consent (track.js). No inline scripts (CSP); every page works without this file.
(function () {
  "use strict";

  var Q = self.CommunityQueue;
  var meta = null;
  var pending = 0;

  function config() {
    if (!meta) { meta = document.querySelector("meta[name=community-offline]"); }
    return meta ? meta.dataset : {};
  }
  function user() { return config().user || ""; }
  function csrf() {
    var m = document.querySelector("meta[name=csrf-token]");
    return m ? m.content : "";
  }
  function newKey() {
    if (self.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function hhmm(ms) { return new Date(ms).toTimeString().slice(0, 5); }
  function labels() {
    var q = document.querySelector("[data-offline-queue]");
    return q ? q.dataset : {};
  }

  // --- the steps' hidden fields -------------------------------------------------------
  function stamp(form) {
    var key = form.querySelector("input[name=idempotency_key]");
    var made = form.querySelector("input[name=client_at]");
    var sent = form.querySelector("input[name=sent_at]");
    if (key && !key.value) { key.value = newKey(); }
    if (made && !made.value) { made.value = String(Date.now()); }
    if (sent) { sent.value = String(Date.now()); }
  }

  function kindOf(url) {
    if (/\/check-in$/.test(url)) { return "check_in"; }
    if (/\/check-out$/.test(url)) { return "check_out"; }
    if (/\/checkpoints\/\d+$/.test(url)) { return "visit"; }
    if (/\/track\/consent$/.test(url)) { return "consent"; }
    return "other";
  }

  function claimOf(form) {
    var section = form.closest("[id^=on-duty-]");
    return section ? Number(section.id.replace("on-duty-", "")) : null;
  }

  function itemFrom(form, submitter) {
    var fields = [];
    var token = "";
    var data;
    try { data = new FormData(form, submitter || undefined); } catch (e) { data = new FormData(form); }
    data.forEach(function (value, name) {
      if (name === "csrf_token") { token = value; return; }
      if (name === "submission_token") { return; } // the idempotency key does its work
      if (typeof value === "object") {
        if (value.size) { fields.push({ name: name, file: value, filename: value.name }); }
        return;
      }
      fields.push({ name: name, value: value });
    });
    var url = form.getAttribute("action");
    var made = Number((form.querySelector("input[name=client_at]") || {}).value) || Date.now();
    return {
      user: user(), url: url, kind: kindOf(url), claim: claimOf(form),
      checkpoint: form.dataset.checkpoint || null, label: form.dataset.offline || "",
      made: made, csrf: token, fields: fields
    };
  }

  function enqueue(form, submitter) {
    var item = itemFrom(form, submitter);
    return Q.add(item).then(function () {
      reflect(item);
      askForSync();
      return render();
    });
  }

  function askForSync() {
    if (!navigator.serviceWorker || !navigator.serviceWorker.ready) { return; }
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) { return reg.sync.register("duty-queue"); }
    })["catch"](function () { /* no Background Sync: reconnect and page loads send */ });
  }

  // --- what the page shows of queued steps -----------------------------------------------
  function reflect(item) {
    var section = document.getElementById("on-duty-" + item.claim);
    if (!section) { return; }
    var waiting = labels().labelWaiting || "";
    var form;
    if (item.kind === "check_in") {
      form = section.querySelector("form[data-offline][action$='/check-in']");
      if (form) { form.hidden = true; }
      section.querySelectorAll("[data-after-check-in]").forEach(function (el) { el.hidden = false; });
    } else if (item.kind === "visit") {
      form = section.querySelector("form[data-checkpoint='" + item.checkpoint + "']");
      if (form) {
        var mark = document.createElement("span");
        mark.className = "badge badge-warn";
        mark.dataset.testid = "ticked-pending";
        mark.textContent = "✓ " + hhmm(item.made) + " · " + waiting;
        var wrapper = form.closest(".tick-form") || form;
        wrapper.replaceWith(mark);
      }
    } else if (item.kind === "consent") {
      var ask = section.querySelector("form[data-track-consent]");
      var track = ask ? ask.closest("[data-track]") : null;
      var answer = (item.fields.filter(function (f) { return f.name === "consent"; })[0] || {}).value;
      if (track) { track.dataset.consent = answer === "yes" ? "yes" : "no"; ask.hidden = true; }
      startTracking();
    } else if (item.kind === "check_out") {
      form = section.querySelector("form[data-offline][action$='/check-out']");
      var box = form ? (form.closest(".check-out") || form) : null;
      if (box) {
        var note = document.createElement("p");
        note.className = "badge badge-warn";
        note.dataset.testid = "report-pending";
        note.textContent = (form.dataset.offline || "") + " · " + hhmm(item.made) + " · " + waiting;
        box.replaceWith(note);
      }
      stopTracking();
    }
  }

  function render() {
    var regions = document.querySelectorAll("[data-offline-queue]");
    if (!Q || !user()) { return Promise.resolve(); }
    return Promise.all([Q.items(user()), Q.refused(user())]).then(function (found) {
      var items = found[0];
      var refused = found[1];
      pending = items.length;
      regions.forEach(function (region) {
        region.hidden = !items.length && !refused.length;
        var count = region.querySelector("[data-queue-count]");
        if (count) { count.textContent = String(items.length); }
        var badge = region.querySelector("[data-testid=queue-count]");
        if (badge) { badge.hidden = !items.length; }
        var send = region.querySelector("[data-queue-send]");
        if (send) { send.hidden = !items.length; }
        var note = region.querySelector("[data-queue-note]");
        if (note) { note.textContent = items.length && !navigator.onLine ? region.dataset.labelOffline : ""; }
        var list = region.querySelector("[data-queue-items]");
        if (list) {
          list.replaceChildren();
          items.forEach(function (item) {
            var li = document.createElement("li");
            li.textContent = hhmm(item.made) + " · " + item.label;
            list.appendChild(li);
          });
        }
        var bad = region.querySelector("[data-queue-refused]");
        if (bad) {
          bad.replaceChildren();
          refused.forEach(function (item) {
            var li = document.createElement("li");
            li.className = "flash flash-error";
            li.dataset.reason = item.reason;
            // The server's own message, else the page's words for the status's reason.
            var known = region.dataset["reason" + item.reason.split("_").map(function (w) {
              return w.charAt(0).toUpperCase() + w.slice(1);
            }).join("")];
            li.textContent = hhmm(item.made) + " · " + item.label + " · " + region.dataset.labelRefused + ": " + (item.message || known || item.reason) + " ";
            var dismiss = document.createElement("button");
            dismiss.type = "button";
            dismiss.className = "secondary outline small";
            dismiss.textContent = region.dataset.labelDismiss;
            dismiss.addEventListener("click", function () { Q.dismiss(item.id).then(render); });
            li.appendChild(dismiss);
            bad.appendChild(li);
          });
        }
      });
      return items;
    });
  }

  function reflectAll() {
    if (!Q || !user()) { return Promise.resolve(); }
    return Q.items(user()).then(function (items) { items.forEach(reflect); });
  }

  // The page's regions that show server state, re-read after the queue was sent.
  function refresh() {
    if (!window.htmx) { return; }
    var region = document.querySelector("[id^=on-duty-]") || document.getElementById("my-duties");
    if (region) { htmx.ajax("GET", window.location.pathname, { target: "#" + region.id, swap: "outerHTML" }); }
  }

  function flush() {
    if (!Q || !user() || !navigator.onLine) { return Promise.resolve(); }
    return Q.flush({ user: user(), csrf: csrf() }).then(function (outcome) {
      return render().then(function () {
        if (outcome.sent || outcome.refused) { refresh(); }
        return outcome;
      });
    }, function () { return render(); });
  }


  // --- the route walked (with the volunteer's consent) ----------------------------------
  // While the duty page is open and the claim is on duty (or its check-in waits in
  // the queue), positions are watched, thinned to one per 20 m or 60 s, and queued in
  // batches like every other step.
  var THIN_METRES = 20;
  var THIN_MS = 60000;
  var BATCH_POINTS = 5;
  var BATCH_MS = 120000;
  var tracking = null;

  function metres(a, b) {
    var rad = Math.PI / 180;
    var dLat = (b.lat - a.lat) * rad;
    var dLon = (b.lon - a.lon) * rad;
    var h = Math.pow(Math.sin(dLat / 2), 2) + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.pow(Math.sin(dLon / 2), 2);
    return 2 * 6371000 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function trackSection() {
    var section = document.querySelector("[data-track]");
    if (!section || section.dataset.consent !== "yes") { return null; }
    var duty = document.getElementById("on-duty-" + section.dataset.claim);
    var checkIn = duty ? duty.querySelector("form[data-offline][action$='/check-in']") : null;
    var onDuty = section.dataset.onDuty === "1" || (checkIn && checkIn.hidden);
    return onDuty ? section : null;
  }

  function sendTrack() {
    if (!tracking || !tracking.buffer.length) { return Promise.resolve(); }
    var points = tracking.buffer;
    tracking.buffer = [];
    tracking.sentAt = Date.now();
    var item = {
      user: user(), url: tracking.url, kind: "track", claim: tracking.claim, checkpoint: null,
      label: tracking.label + " (" + points.length + ")", made: Date.now(), csrf: csrf(),
      fields: [
        { name: "points", value: JSON.stringify(points) },
        { name: "idempotency_key", value: newKey() },
        { name: "client_at", value: String(Date.now()) }
      ]
    };
    return Q.add(item).then(render).then(flush);
  }

  function onPosition(pos) {
    if (!tracking) { return; }
    var p = { t: Math.round(pos.timestamp), lat: +pos.coords.latitude.toFixed(6), lon: +pos.coords.longitude.toFixed(6), acc: Math.round(pos.coords.accuracy || 0) };
    var last = tracking.last;
    if (!last || metres(last, p) >= THIN_METRES || p.t - last.t >= THIN_MS) {
      tracking.buffer.push(p);
      tracking.last = p;
    }
    if (tracking.buffer.length >= BATCH_POINTS || Date.now() - tracking.sentAt >= BATCH_MS) { sendTrack(); }
  }

  function startTracking() {
    var section = trackSection();
    if (!section || !navigator.geolocation) { return; }
    if (tracking && tracking.claim === Number(section.dataset.claim)) { return; }
    stopTracking();
    tracking = {
      claim: Number(section.dataset.claim), url: section.dataset.trackUrl, label: section.dataset.label,
      buffer: [], last: null, sentAt: Date.now(), watch: null
    };
    tracking.watch = navigator.geolocation.watchPosition(onPosition, function () { /* refused or no fix: nothing recorded */ },
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 });
  }

  function stopTracking() {
    if (!tracking) { return; }
    navigator.geolocation.clearWatch(tracking.watch);
    sendTrack();
    tracking = null;
  }

  self.CommunityOffline = { flush: flush, sendTrack: sendTrack };

  // --- wiring ---------------------------------------------------------------------------
  function registerWorker() {
    var url = config().sw;
    if (!url || !navigator.serviceWorker) { return; }
    navigator.serviceWorker.register(url, { scope: config().scope || "/" })["catch"](function () { /* no worker: online as before */ });
    navigator.serviceWorker.addEventListener("message", function (evt) {
      if (evt.data && evt.data.type === "queue-flushed") { render().then(refresh); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    registerWorker();
    if (!Q || !self.indexedDB) { return; }

    // A step made while offline (or while older steps still wait, so the order
    // holds) goes to the queue instead of the network.
    document.addEventListener("submit", function (evt) {
      var form = evt.target;
      if (!form.matches || !form.matches("form[data-offline]")) { return; }
      stamp(form);
      if (navigator.onLine && !pending) { return; }
      evt.preventDefault();
      evt.stopImmediatePropagation();
      enqueue(form, evt.submitter).then(flush);
    }, true);

    if (window.htmx) {
      var body = document.body;
      // Sent but no answer (the connection dropped): queued with the same key, so
      // if the server did apply it, the resend gets the first answer back.
      body.addEventListener("htmx:sendError", function (evt) {
        var elt = evt.detail.elt;
        if (elt && elt.matches && elt.matches("form[data-offline]")) {
          enqueue(elt).then(flush);
        } else if (evt.detail.requestConfig && evt.detail.requestConfig.boosted && evt.detail.pathInfo) {
          // A boosted link without a connection: a real navigation, which the
          // service worker answers from the cache (or its offline page).
          window.location.href = evt.detail.pathInfo.requestPath;
        }
      });
      body.addEventListener("htmx:beforeSwap", function (evt) {
        var elt = evt.detail.elt;
        if (evt.detail.xhr && evt.detail.xhr.status >= 500 && elt && elt.matches && elt.matches("form[data-offline]")) {
          evt.detail.shouldSwap = false;
          enqueue(elt);
        }
      });
      htmx.onLoad(function () {
        reflectAll().then(render).then(function () {
          if (trackSection()) { startTracking(); } else if (tracking && !document.querySelector("[data-track]")) { stopTracking(); }
        });
      });
    }

    var send = function () { flush(); };
    window.addEventListener("online", send);
    window.addEventListener("offline", function () { render(); });
    document.addEventListener("click", function (evt) {
      if (evt.target.closest && evt.target.closest("[data-queue-send]")) { send(); }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { sendTrack(); }
    });
    reflectAll().then(render).then(flush).then(startTracking);
  });
})();
