// Small enhancements only: every page works without this file (no inline scripts anywhere).
(function () {
  "use strict";

  // "/" focuses the search box, as in most ops tools, unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var active = document.activeElement;
    if (active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) return;
    var box = document.getElementById("timestamp");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // Copy buttons stay hidden without JavaScript, where they could not work.
  function enableCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      if (button.dataset.copyBound) return;
      button.dataset.copyBound = "1";
      button.addEventListener("click", function () {
        var source = document.querySelector(button.dataset.copy);
        if (!source) return;
        navigator.clipboard.writeText(source.textContent).then(function () {
          var label = button.textContent;
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 1500);
        }, function () {
          button.textContent = "Copy failed: select the text";
        });
      });
    });
  }

  // A link that changes the search (Clear, a quick range) also sets the form that stays on the page when
  // only the table is swapped: each field takes the link's value for it, or empties.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-fill-search]");
    var form = document.querySelector("form.search");
    if (!link || !form) return;
    var asked = new URL(link.href, document.baseURI).searchParams;
    ["timestamp", "from", "to", "order", "event_type", "source", "event_name", "key"].forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (!field) return;
      field.value = asked.get(name) || (field.tagName === "SELECT" ? field.options[0].value : "");
    });
  });

  // An alert from an earlier request is stale once a new one starts.
  document.addEventListener("htmx:beforeRequest", function () {
    var alerts = document.getElementById("alerts");
    if (alerts) alerts.innerHTML = "";
  });

  // A failed swap or a dead server still tells the user something.
  document.addEventListener("htmx:sendError", function () {
    var alerts = document.getElementById("alerts");
    if (alerts) alerts.textContent = "The dashboard did not answer. Check that it is running, then try again.";
  });

  // A form answered with errors (422, 409) is swapped in place: put the focus on the first field to fix,
  // rather than leaving it on the replaced button, lost to the keyboard and to screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.target;
    if (!form || form.id !== "event-form") return;
    var invalid = form.querySelector("[aria-invalid='true']");
    if (invalid) invalid.focus();
  });

  document.addEventListener("DOMContentLoaded", function () { enableCopyButtons(document); });
  document.addEventListener("htmx:afterSettle", function (event) { enableCopyButtons(event.target); });
})();
