// 共治 Community: small behaviour layered on htmx. No inline scripts (CSP).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) { return; }
    // Print buttons on poster pages.
    htmx.onLoad(function (root) {
      root.querySelectorAll("[data-print]").forEach(function (btn) {
        btn.addEventListener("click", function () { window.print(); });
      });
    });
  });
})();
