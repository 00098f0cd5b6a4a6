// 共治 Community: small behaviour layered on htmx. No inline scripts (CSP); every
// page works without this file.
(function () {
  "use strict";

  var TOAST_MS = 5000;
  // Requests a person started; anything else (polling, `x from:body` listeners,
  // live search while typing) must not move the focus.
  var ACTIONS = { submit: true, click: true };

  // --- in-flight state: the requesting form's submit buttons are disabled and busy ---
  function submitButtons(elt) {
    var form = elt && (elt.tagName === "FORM" ? elt : elt.closest("form"));
    if (!form) { return []; }
    var inside = Array.prototype.slice.call(form.querySelectorAll("button[type=submit], button:not([type])"));
    var outside = form.id ? Array.prototype.slice.call(document.querySelectorAll("button[form='" + form.id + "']")) : [];
    return inside.concat(outside);
  }

  function setBusy(elt, busy) {
    submitButtons(elt).forEach(function (btn) {
      btn.disabled = busy;
      if (busy) { btn.setAttribute("aria-busy", "true"); } else { btn.removeAttribute("aria-busy"); }
    });
  }

  // --- toast: the out-of-band success message, dismissed after a few seconds ---
  var toastTimer = null;
  // At the bottom of the screen (app.css), lifted above a footer stuck there (the open
  // inspection's summary and Complete button) so it covers no control.
  function placeToast(toast) {
    var lift = 0;
    var height = window.innerHeight;
    document.querySelectorAll(".sticky-footer").forEach(function (footer) {
      var box = footer.getBoundingClientRect();
      if (box.height && box.top < height && box.bottom >= height - 2) { lift = Math.max(lift, height - box.top); }
    });
    // The lift is a custom property of <html>, never a style attribute of the toast:
    // htmx's out-of-band swap copies the toast's attributes with setAttribute("style"),
    // which the CSP (style-src 'self') refuses.
    document.documentElement.style.setProperty("--toast-lift", lift ? (lift + 8) + "px" : "0px");
  }
  function showToast(toast) {
    if (!toast.textContent.trim()) { return; }
    placeToast(toast);
    toast.classList.add("toast-shown");
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { hideToast(toast); }, TOAST_MS);
  }
  function hideToast(toast) {
    toast.classList.remove("toast-shown");
    toast.replaceChildren();
  }

  // --- focus: after a person's action, focus moves to the region that changed ---
  function focusRegion(region) {
    if (!region || !document.body.contains(region)) { return; }
    if (region.contains(document.activeElement)) { return; } // htmx kept it there (same id)
    var invalid = region.querySelector("[aria-invalid=true]");
    if (invalid && typeof invalid.focus === "function") { invalid.focus(); return; }
    var target = region.querySelector("h1, h2, h3, header") || region;
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    // The header's menu (a <details>, working without this file): Escape or a tap
    // outside it closes it.
    document.addEventListener("keydown", function (evt) {
      var menu = document.querySelector(".nav-menu[open]");
      if (!menu || evt.key !== "Escape") { return; }
      menu.open = false;
      menu.querySelector("summary").focus();
    });
    document.addEventListener("click", function (evt) {
      var menu = document.querySelector(".nav-menu[open]");
      if (menu && !menu.contains(evt.target)) { menu.open = false; }
    });

    if (!window.htmx) { return; }
    var body = document.body;

    body.addEventListener("htmx:beforeRequest", function (evt) {
      if (evt.detail.boosted && evt.detail.elt.tagName === "A") { return; }
      setBusy(evt.detail.elt, true);
    });
    body.addEventListener("htmx:afterRequest", function (evt) {
      setBusy(evt.detail.elt, false);
    });

    // The region to focus rides on the request (a refresh that lands meanwhile
    // must not take it over); it is used once, when the swap has settled.
    body.addEventListener("htmx:beforeSwap", function (evt) {
      var d = evt.detail;
      var trigger = d.requestConfig && d.requestConfig.triggeringEvent;
      if (d.boosted || !d.xhr || !d.target || !d.target.id || !trigger || !ACTIONS[trigger.type]) { return; }
      d.xhr.communityFocus = d.target.id;
    });
    body.addEventListener("htmx:afterSettle", function (evt) {
      var xhr = evt.detail.xhr;
      if (!xhr || !xhr.communityFocus) { return; }
      var id = xhr.communityFocus;
      xhr.communityFocus = null;
      focusRegion(document.getElementById(id));
    });

    // HX-Location (core.htmx.saved: the person lands on another page) makes htmx GET
    // that page with <body> as the source. It is a navigation: ask for the whole page,
    // as a boosted link does, not the fragment block a partial request gets.
    body.addEventListener("htmx:configRequest", function (evt) {
      if (evt.detail.elt === body && evt.detail.verb === "get") { evt.detail.headers["HX-Boosted"] = "true"; }
    });

    body.addEventListener("htmx:oobAfterSwap", function (evt) {
      var toast = document.getElementById("toast");
      if (toast && evt.detail.target === toast) { showToast(toast); }
    });

    htmx.onLoad(function (root) {
      // Print buttons on poster pages.
      root.querySelectorAll("[data-print]").forEach(function (btn) {
        btn.addEventListener("click", function () { window.print(); });
      });
      // On duty: checkpoint ticks carry the position when the volunteer allows it
      // (the browser asks); without it, or without this file, they are sent without.
      var ticks = root.querySelectorAll ? root.querySelectorAll("form[data-geolocate]") : [];
      if (ticks.length && navigator.geolocation) {
        navigator.geolocation.getCurrentPosition(function (pos) {
          ticks.forEach(function (form) {
            var lat = form.querySelector("input[name=lat]");
            var lon = form.querySelector("input[name=lon]");
            if (lat && lon) {
              lat.value = pos.coords.latitude.toFixed(6);
              lon.value = pos.coords.longitude.toFixed(6);
            }
            // The fix's own time: the server compares it with the phone's clock.
            var fix = form.querySelector("input[name=fix_at]");
            if (fix) { fix.value = String(Math.round(pos.timestamp)); }
          });
        }, function () { /* refused or unavailable: ticks go without a position */ },
        { enableHighAccuracy: true, maximumAge: 60000, timeout: 10000 });
      }
      // A tap on the toast dismisses it.
      var toast = root.querySelector ? root.querySelector("#toast") : null;
      if (root.id === "toast") { toast = root; }
      if (toast && !toast.dataset.bound) {
        toast.dataset.bound = "1";
        toast.addEventListener("click", function () { hideToast(toast); });
      }
    });
  });
})();
