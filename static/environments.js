// The environment switcher keeps the view on screen as htmx left it (search, range, filters): the same path and
// query in the other environment, less what binds to one table (cursor, back, copy). Without JavaScript the
// server's own links do the same for the page as it was served.
(function () {
  "use strict";
  var DROPS = ["cursor", "back", "copy"];

  function refresh() {
    var nav = document.querySelector("[data-env-here]");
    if (!nav) return;
    var here = nav.dataset.envHere;
    var url = new URL(window.location.href);
    if (url.pathname !== here && url.pathname.indexOf(here + "/") !== 0) return;
    var rest = url.pathname.slice(here.length) || "/";
    DROPS.forEach(function (name) { url.searchParams.delete(name); });
    nav.querySelectorAll("a[data-env-mount]").forEach(function (link) {
      link.href = link.dataset.envMount + rest + url.search;
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("a[data-env-mount]")) refresh();
  }, true);
  document.addEventListener("htmx:pushedIntoHistory", refresh);
  document.addEventListener("htmx:replacedInHistory", refresh);
})();
