// Sends the page's own write-back update (retire what no longer holds, and, where the
// organisation switched it on, write what is not yet in the chart) once the page has loaded.
// A POST with the page's CSRF token and launch handle: it works inside the EHR's iframe and
// without third-party cookies, and the page the server redirects to does not send it again.
(function () {
  "use strict";
  var form = document.querySelector('form[data-testid="writeback-sync"][data-auto-submit="true"]');
  if (!form) { return; }
  var button = form.querySelector("button");
  if (button) { button.disabled = true; button.textContent = "Bringing the chart up to date…"; }
  form.submit();
}());
