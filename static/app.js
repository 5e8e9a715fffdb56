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
  // A button copies the text of the element its data-copy names, or its own data-copy-text exactly.
  function enableCopyButtons(root) {
    root.querySelectorAll("[data-copy], [data-copy-text]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      if (button.dataset.copyBound) return;
      button.dataset.copyBound = "1";
      button.addEventListener("click", function () {
        var source = button.dataset.copy ? document.querySelector(button.dataset.copy) : null;
        var text = "copyText" in button.dataset ? button.dataset.copyText : source && source.textContent;
        if (text === null) return;
        navigator.clipboard.writeText(text).then(function () {
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
    ["q", "timestamp", "from", "to", "order", "event_type", "source", "event_name", "key", "inserted"].forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (!field) return;
      if (field.type === "checkbox") {
        field.checked = asked.get(name) === field.value;
        return;
      }
      field.value = asked.get(name) || (field.tagName === "SELECT" ? field.options[0].value : "");
    });
  });

  // An alert from an earlier request is stale once a new one starts.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (fromLiveTail(event)) return;  // a poll in the background is not a new request of the user's
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
    if (!events || !asked || !(events.contains(asked) || asked.closest("form.search")) || fromLiveTail(event)) return;
    // A timeline that could not be counted leaves its link in place: the rows on screen are still the answer.
    if (asked.closest("[data-timeline]")) return;
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

  // The breakdown's lag per bar goes beside the count timeline, in place of its slot (templates/events/_lag.html),
  // taking the slot's id so that paging keeps it (hx-preserve). A breakdown that arrives after its window was left
  // finds no slot and keeps its chart.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("[data-lag-beside]").forEach(function (chart) {
      var slot = document.getElementById(chart.dataset.lagBeside);
      if (!slot || !slot.matches(".window-charts > [data-lag-chart]")) return;
      chart.removeAttribute("data-lag-beside");
      slot.replaceWith(chart);
      chart.id = slot.id;
    });
  });

  // Back from an event (browser Back or the back link): the row that was opened has the focus again.
  var OPENED = "events-dashboard:opened";
  document.addEventListener("click", function (event) {
    // The live tail's own table (an empty range has no other) returns to the same list.
    var link = event.target.closest && event.target.closest("#events td.id a, [data-tail-table] td.id a");
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
    // The live tail's own table (an empty range has no other) returns to the same list.
    var link = event.target.closest && event.target.closest("#events td.id a, [data-tail-table] td.id a");
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
    enableLiveTail(document);
    enableSelectAll(document);
    returnToOpenedRow();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    enableCopyButtons(event.target);
    enableNowButtons(event.target);
    enableLiveTail(event.target);
    enableSelectAll(event.target);
  });

  // ------------------------------------------------------------------------------------------- Test events
  // The bulk delete's "Select all" (templates/events/_bulk_delete.html) ticks every box of its form, or clears them
  // all when every one is ticked already; hidden without JavaScript, where each box is ticked by hand.
  function enableSelectAll(root) {
    root.querySelectorAll("[data-select-all]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-select-all]");
    if (!button || !button.form) return;
    var boxes = Array.prototype.slice.call(button.form.querySelectorAll("input[type=checkbox][name=id]"));
    var all = boxes.every(function (box) { return box.checked; });
    boxes.forEach(function (box) { box.checked = !all; });
  });

  // ------------------------------------------------------------------------------------------- Live tail
  // A range that ends now can follow what arrives (templates/events/_tail.html, dashboard/questions/tail.py): every few
  // seconds htmx asks /tail for the seconds not read yet, from where the last poll stopped; the rows go on top
  // of the table, skipping any it shows already. Paused while the tab is hidden; stopped by the toggle, after
  // the stated time (hidden time counts) or by a poll that failed, whose error is in #alerts.
  var tails = new WeakMap();

  function liveTailOf(element) {
    return element && element.closest ? element.closest("[data-live-tail]") : null;
  }

  function fromLiveTail(event) {
    return !!liveTailOf(event.detail && event.detail.elt);
  }

  function tailOf(box) {
    if (!tails.has(box)) tails.set(box, {timer: null, startedAt: 0, polling: false, arrived: 0});
    return tails.get(box);
  }

  function tailRunning(box) {
    return box.dataset.tailState === "on" || box.dataset.tailState === "paused";
  }

  function setTailState(box, state) {
    box.dataset.tailState = state;
    box.querySelector("[data-tail-toggle]").setAttribute("aria-pressed", tailRunning(box) ? "true" : "false");
    box.querySelectorAll("[data-tail-message]").forEach(function (message) {
      message.hidden = message.dataset.tailMessage !== state;
    });
  }

  function stopTail(box, state) {
    clearTimeout(tailOf(box).timer);
    setTailState(box, state);
  }

  function pollTail(box) {
    var tail = tailOf(box);
    clearTimeout(tail.timer);  // one chain of polls only, however this one was started
    tail.timer = null;
    if (!document.body.contains(box) || !tailRunning(box) || tail.polling) return;
    if (Date.now() - tail.startedAt >= Number(box.dataset.tailMax)) return stopTail(box, "stopped");
    if (document.visibilityState !== "visible") return setTailState(box, "paused");
    setTailState(box, "on");
    tail.polling = true;
    var url = new URL(box.dataset.tailUrl, document.baseURI);
    url.searchParams.set("after", box.dataset.tailAfter);
    if (box.dataset.tailAfterId) url.searchParams.set("after_id", box.dataset.tailAfterId);
    window.htmx.ajax("GET", url.pathname + url.search,
                     {source: box, target: box.querySelector("[data-tail-inbox]"), swap: "innerHTML"});
  }

  // The poll's rows go on top of the table (newest first), its note into the status; the next poll reads on
  // from where this one stopped.
  function takeTailBatch(box, inbox) {
    var batch = inbox.querySelector("[data-tail-batch]");
    var events = document.getElementById("events");
    var body = events && events.querySelector("table.events tbody");
    if (!batch || !body) return;
    box.dataset.tailAfter = batch.dataset.after;
    box.dataset.tailAfterId = batch.dataset.afterId;
    var shown = new Set(Array.prototype.map.call(body.querySelectorAll("tr[data-event-id]"),
                                                  function (row) { return row.dataset.eventId; }));
    var rows = Array.prototype.filter.call(batch.querySelectorAll("tr[data-event-id]"),
                                           function (row) { return !shown.has(row.dataset.eventId); });
    var top = body.firstChild;
    rows.forEach(function (row) {
      row.classList.add("tail-new");
      body.insertBefore(row, top);
    });
    if (rows.length) {
      var table = box.querySelector("[data-tail-table]");
      if (table) table.hidden = false;
      events.querySelectorAll("[data-empty]").forEach(function (empty) { empty.hidden = true; });
    }
    if (rows.length) countArrivals(rows);
    var tail = tailOf(box);
    tail.arrived += rows.length;
    box.querySelector("[data-tail-arrived]").textContent = String(tail.arrived);
    box.querySelector("[data-tail-count]").hidden = false;
    var note = box.querySelector(".live-tail-status [data-tail-note]");
    var fresh = batch.querySelector("[data-tail-note]");
    if (note && fresh) note.replaceWith(fresh);
    inbox.textContent = "";
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var inbox = event.detail && event.detail.target;
    if (inbox && inbox.matches && inbox.matches("[data-tail-inbox]")) takeTailBatch(liveTailOf(inbox), inbox);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = event.detail && event.detail.elt;
    if (!box || !box.matches || !box.matches("[data-live-tail]")) return;
    var tail = tailOf(box);
    tail.polling = false;
    if (!event.detail.successful) return stopTail(box, "failed");
    clearTimeout(tail.timer);
    if (tailRunning(box)) tail.timer = setTimeout(function () { pollTail(box); }, Number(box.dataset.tailInterval));
  });

  document.addEventListener("click", function (event) {
    var box = liveTailOf(event.target.closest && event.target.closest("[data-tail-toggle]"));
    if (!box) return;
    if (tailRunning(box)) return stopTail(box, "off");
    tailOf(box).startedAt = Date.now();
    setTailState(box, "on");
    pollTail(box);
  });

  document.addEventListener("visibilitychange", function () {
    document.querySelectorAll("[data-live-tail]").forEach(function (box) {
      if (!tailRunning(box)) return;
      if (document.visibilityState !== "visible") return stopTail(box, "paused");
      pollTail(box);  // at once, then every interval again
    });
  });

  // What the tail adds also counts: the window's total (its timeline) and the freshness line (the newest event, the
  // last 5 minutes). The rows come newest first.
  function addTo(element, more) {
    if (!element) return;
    var count = Number(element.dataset.total || element.textContent.replace(/[^0-9]/g, "")) + more;
    if (element.dataset.total !== undefined) element.dataset.total = String(count);
    element.textContent = element.textContent.replace(/[0-9][0-9,]*/, count.toLocaleString("en"));
  }
  function countArrivals(rows) {
    addTo(document.querySelector("#events [data-timeline] [data-total]"), rows.length);
    addTo(document.querySelector("[data-freshness-recent]"), rows.length);
    var time = rows[0].querySelector("time[datetime]");
    var line = document.querySelector("[data-freshness]");
    if (!time || !line) return;
    var newest = time.getAttribute("datetime");
    var shown = line.querySelector("[data-freshness-newest]");
    if (shown && shown.getAttribute("datetime") >= newest) return;
    var finding = line.querySelector("[data-freshness-finding]");
    if (!finding) return;
    finding.textContent = "Newest event arrived just now, " + newest + " (live tail)";
    line.dataset.fresh = "true";
    line.classList.remove("freshness-stale");
    line.classList.add("freshness-fresh");
  }

  // Auto-refresh (templates/events/_window.html): where the window ends now, the page reloads itself every period
  // chosen (refresh= in its URL), unless the tab is hidden, the reader is typing or the live tail is on.
  var refreshTimer = null;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    var box = document.querySelector("[data-auto-refresh]");
    var period = box ? Number(box.dataset.autoRefresh) : 0;
    if (!period) return;
    refreshTimer = setTimeout(function () {
      var still = document.querySelector("[data-auto-refresh]");
      if (!still || Number(still.dataset.autoRefresh) !== period) return;
      var tailing = Array.prototype.some.call(document.querySelectorAll("[data-live-tail]"), tailRunning);
      if (document.visibilityState !== "visible" || typing() || tailing) return scheduleRefresh();
      location.reload();
    }, period);
  }
  document.addEventListener("DOMContentLoaded", scheduleRefresh);
  document.addEventListener("htmx:afterSettle", scheduleRefresh);

  // Hidden without JavaScript (and without htmx), where nothing could poll.
  function enableLiveTail(root) {
    if (!window.htmx) return;
    root.querySelectorAll("[data-live-tail], [data-live-tail-offer]").forEach(function (box) { box.hidden = false; });
  }
  // "Only this" and "all but this" for a value of the events table: a click on a cell offers both, as links to this
  // listing with the condition added to the query box, quoted as questions/query.py quotes it (the breakdown and an
  // event's page offer the same links from the server, without JavaScript).
  var PLAIN = /^[^\s()"*\\\[][^\s()"*\\]*$/, NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/, SIZED = /^-?\d+(\.\d+)?(B|KiB|MiB|GiB|TiB)?$/;
  function quotedValue(value) {
    if (PLAIN.test(value) && !NUMBER.test(value) && !SIZED.test(value)) return value;
    return '"' + value.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  }
  function refinedUrl(field, value, negate) {
    var url = new URL(window.location.href);
    url.searchParams.delete("cursor");
    var asked = (url.searchParams.get("q") || "").trim();
    var term = (negate ? "-" : "") + field + ":" + quotedValue(value);
    url.searchParams.set("q", asked ? asked + " " + term : term);
    return url.pathname + url.search;
  }
  function closeValueMenus() {
    document.querySelectorAll(".value-menu").forEach(function (menu) { menu.remove(); });
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".value-menu")) return;
    closeValueMenus();
    var cell = event.target.closest && event.target.closest("#events td[data-field]");
    var link = event.target.closest && event.target.closest("a");
    if (!cell || (link && !link.classList.contains("cell-value")) || cell.dataset.field === "event_id" || !cell.title) return;
    // The value's own link opens the event's "only this / all but this" (without JavaScript); here, both in place.
    event.preventDefault();
    var menu = document.createElement("div");
    menu.className = "value-menu";
    menu.setAttribute("role", "menu");
    [["Only this", false, "data-only-this"], ["All but this", true, "data-all-but-this"]].forEach(function (choice) {
      var link = document.createElement("a");
      link.href = refinedUrl(cell.dataset.field, cell.title, choice[1]);
      link.textContent = choice[0];
      link.setAttribute("role", "menuitem");
      link.setAttribute(choice[2], "");
      // Like the listing's own links: htmx swaps the table and the search form takes the new query.
      [["hx-get", link.getAttribute("href")], ["hx-target", "#events"], ["hx-swap", "outerHTML"],
       ["hx-push-url", "true"], ["hx-indicator", "#loading"], ["data-fill-search", ""]].forEach(function (pair) {
        link.setAttribute(pair[0], pair[1]);
      });
      menu.appendChild(link);
    });
    cell.appendChild(menu);
    if (window.htmx) window.htmx.process(menu);
    menu.querySelector("a").focus();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector(".value-menu");
      if (open) {
        var value = open.parentNode.querySelector("a.cell-value");
        closeValueMenus();
        if (value) value.focus();
      }
      return;
    }
    // The table as a grid for the keyboard: from an event's link, ArrowRight and ArrowLeft move along the row's
    // values (out of the Tab order, so that Tab goes row to row); Enter on a value opens its menu.
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    var from = event.target.closest && event.target.closest("#events table.events tbody tr a");
    if (!from || from.closest(".value-menu")) return;
    var stops = Array.prototype.slice.call(from.closest("tr").querySelectorAll("td > a"));
    var next = stops[stops.indexOf(from) + (event.key === "ArrowRight" ? 1 : -1)];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
})();
