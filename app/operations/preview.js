// The author's preview only (PREVIEW=true): reload the page once its text changes on disk.
// Served from /preview/_reload.js, which exists only in preview; production pages never name it.
(function () {
  "use strict";
  var me = document.currentScript, seen = me && me.getAttribute("data-version");
  var url = me && me.getAttribute("data-version-url");
  if (!url) return;
  var notice = null;
  // A save that does not load keeps the page as it was: say why at the top, as text.
  function say(failed) {
    if (!notice && failed) {
      notice = document.createElement("p");
      notice.className = "notice";
      notice.setAttribute("role", "alert");
      (document.querySelector("main") || document.body).prepend(notice);
    }
    if (notice) {
      notice.hidden = !failed;
      notice.textContent = "Filen kan ikke leses, så siden viser forrige versjon: " + failed;
    }
  }
  function poll() {
    fetch(url, {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.version !== seen) return location.reload();
        say(body && body.failed);
        setTimeout(poll, 250);
      }, function () { setTimeout(poll, 1000); });  // the preview is restarting: wait a little longer
  }
  setTimeout(poll, 250);
})();
