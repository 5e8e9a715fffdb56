// Small enhancements only: every page works without this file (no inline scripts anywhere).
(function () {
  "use strict";

  function typing() {
    var active = document.activeElement;
    return !!active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
  }

  function focusBox(id) {
    var box = document.getElementById(id);
    if (!box) return false;
    box.focus();
    box.select();
    return true;
  }

  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#events tbody tr[data-event-id] td.id a"));
  }

  // j/k: the next or previous row's link gets the focus (Enter then opens it, as any link).
  function moveRow(step) {
    var links = rowLinks();
    if (!links.length) return false;
    var at = links.indexOf(document.activeElement);
    var next = at === -1 ? (step > 0 ? 0 : links.length - 1) : Math.min(Math.max(at + step, 0), links.length - 1);
    links[next].focus();
    links[next].scrollIntoView({block: "nearest"});
    return true;
  }

  function follow(rel) {
    var link = document.querySelector("#events a[rel='" + rel + "']");
    if (!link) return false;
    link.click();
    return true;
  }

  function help() { return document.getElementById("shortcuts"); }

  // Keyboard shortcuts, listed on "?": never while typing in a field, never with a modifier.
  var shortcuts = {
    "/": function () { return focusBox("timestamp"); },
    "g": function () { return focusBox("goto-id"); },
    "j": function () { return moveRow(1); },
    "k": function () { return moveRow(-1); },
    "n": function () { return follow("next"); },
    "p": function () { return follow("prev"); },
    "?": function () {
      var dialog = help();
      if (!dialog || dialog.open) return false;
      dialog.showModal();
      return true;
    }
  };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing()) return;
    var dialog = help();
    if (dialog && dialog.open) return;  // the dialog itself closes on Esc
    var action = shortcuts[event.key];
    if (action && action()) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-close-shortcuts]");
    if (close && help()) help().close();
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

  // After a failed request for the table, the table on screen is not its answer: say so on the table itself.
  function markStale(event) {
    var events = document.getElementById("events");
    var asked = event.detail && event.detail.elt;
    if (!events || !asked || !(events.contains(asked) || asked.closest("form.search"))) return;
    events.setAttribute("data-stale", "");
    if (!events.querySelector(".stale-note")) {
      var note = document.createElement("p");
      note.className = "stale-note";
      note.textContent = "These results are from before the request that failed: they are not its answer.";
      events.insertBefore(note, events.firstChild);
    }
  }
  document.addEventListener("htmx:responseError", markStale);
  document.addEventListener("htmx:sendError", markStale);

  // Paging by keyboard: after the swap the focus lands on the same pager link again (or the heading when
  // that link is gone), every time, so that Enter, Enter pages on. Each swap knows the element that asked
  // for it (requestConfig.elt), so overlapping requests cannot mix their answers up.
  function refocusPager(event) {
    var config = event.detail && event.detail.requestConfig;
    var asked = config && config.elt;
    if (!asked || !asked.matches || !asked.matches(".pager a[rel], .pager a[data-pager]")) return;
    var rel = asked.getAttribute("rel");
    var selector = rel ? "#events a[rel='" + rel + "']" : "#events a[data-pager='" + asked.dataset.pager + "']";
    var target = document.querySelector(selector) || document.getElementById("events-heading");
    var active = document.activeElement;
    if (!target || active === target) return;
    // Only a focus the swap lost (on the body, or still in the table) is put back: never one the user moved on.
    var events = document.getElementById("events");
    if (active && active !== document.body && !(events && events.contains(active))) return;
    if (target.tagName === "H2") target.setAttribute("tabindex", "-1");
    target.focus({preventScroll: true});
  }
  // htmx wires the swapped-in links up when it settles, a moment after the swap: an Enter pressed in between
  // would follow the plain link and reload the page. Wire them up at once.
  document.addEventListener("htmx:afterSwap", function () {
    var events = document.getElementById("events");
    if (events && window.htmx) window.htmx.process(events);
  });
  document.addEventListener("htmx:afterSwap", refocusPager);
  document.addEventListener("htmx:afterSettle", refocusPager);

  // Back from an event (browser Back or the back link): the row that was opened has the focus again.
  var OPENED = "events-dashboard:opened";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#events td.id a");
    if (!link) return;
    var row = link.closest("tr[data-event-id]");
    try {
      sessionStorage.setItem(OPENED, JSON.stringify({list: location.pathname + location.search, id: row.dataset.eventId}));
    } catch (ignored) { /* storage off: nothing to return to */ }
  });
  // A row's link carries no way back to its list (deep in the table the list's URL is kilobytes long, and a page
  // has up to 100 rows): the link being opened gets it now, from the table's data-back, so that the event's page
  // links back to this very page. Without JavaScript the server reads the Referer instead.
  var MAX_LINK_LENGTH = 8000;  // as views/common.py: within gunicorn's request line
  function addWayBack(event) {
    var link = event.target.closest && event.target.closest("#events td.id a");
    var events = document.getElementById("events");
    if (!link || !events || !events.dataset.back) return;
    var url = new URL(link.href);
    if (url.searchParams.has("back")) return;
    url.searchParams.set("back", events.dataset.back);
    if ((url.pathname + url.search).length <= MAX_LINK_LENGTH) link.href = url.href;
  }
  document.addEventListener("click", addWayBack);
  document.addEventListener("auxclick", addWayBack);  // the middle button opens a tab, without a click event
  function returnToOpenedRow() {
    var opened;
    try { opened = JSON.parse(sessionStorage.getItem(OPENED) || "null"); } catch (ignored) { return; }
    if (!opened || opened.list !== location.pathname + location.search) return;
    var rows = document.querySelectorAll("#events tbody tr[data-event-id]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].dataset.eventId === opened.id) {
        var link = rows[i].querySelector("td.id a");
        link.focus({preventScroll: true});
        link.scrollIntoView({block: "center"});
        return;
      }
    }
  }

  // Changing the page size keeps the reader where they are: the page-size change carries the current
  // position (the cursor of the table on screen), a new search does not. Capture phase: before htmx sends.
  document.addEventListener("change", function (event) {
    if (!event.target || event.target.id !== "limit") return;
    var keep = document.getElementById("keep-cursor");
    var events = document.getElementById("events");
    if (!keep || !events || !events.dataset.cursor) return;
    keep.value = events.dataset.cursor;
    keep.disabled = false;
  }, true);
  document.addEventListener("htmx:afterRequest", function () {
    var keep = document.getElementById("keep-cursor");
    if (keep) { keep.disabled = true; keep.value = ""; }
  });

  // "Now" beside the insert form's time: the current second in the stored form.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-now]");
    if (!button) return;
    var box = document.querySelector(button.dataset.now);
    if (box) box.value = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  });
  function enableNowButtons(root) {
    root.querySelectorAll("[data-now]").forEach(function (button) { button.hidden = false; });
  }

  // A form answered with errors (422, 409) is swapped in place: put the focus on the first field to fix,
  // rather than leaving it on the replaced button, lost to the keyboard and to screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.target;
    if (!form || form.id !== "event-form") return;
    var invalid = form.querySelector("[aria-invalid='true']");
    if (invalid) invalid.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    enableCopyButtons(document);
    enableNowButtons(document);
    returnToOpenedRow();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    enableCopyButtons(event.target);
    enableNowButtons(event.target);
  });
})();
