// Drag and drop on boards and manual worklists (SortableJS), on top of the
// per-card Up/Down/lane forms that work without it. A drop posts the card's
// new rank to the same form handler those buttons use, asking for JSON; the
// result is read out in the page's live region. Without Sortable (npm not
// installed) the forms are all there is.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function announce(text, failed) {
    var status = document.getElementById("move-status");
    if (!status) return;
    status.classList.toggle("error", !!failed);
    status.textContent = text;
  }

  function cards(list) {
    return Array.prototype.filter.call(list.children, function (el) {
      return el.hasAttribute("data-card");
    });
  }

  // Ranks of the cards a lane shows, after a move: they stay contiguous from
  // the first card's rank (a lane shows its first cards, then more).
  function renumber(list, first) {
    cards(list).forEach(function (card, index) {
      card.setAttribute("data-position", String(first + index));
    });
  }

  function laneTotal(list, change) {
    var lane = list.closest("[data-lane]");
    var count = lane && lane.querySelector("[data-lane-count]");
    if (!count) return;
    var n = parseInt(count.textContent.replace(/[^0-9]/g, ""), 10) || 0;
    count.textContent = "(" + (n + change) + ")";
  }

  // The rank to ask for: the number of the target list's other items that
  // will be before the card (the service leaves the moved card out).
  function rankFor(card, from, to, oldRank) {
    var same = from === to;
    var next = card.nextElementSibling;
    while (next && !next.hasAttribute("data-card")) next = next.nextElementSibling;
    var prev = card.previousElementSibling;
    while (prev && !prev.hasAttribute("data-card")) prev = prev.previousElementSibling;
    if (next) {
      var nextRank = parseInt(next.getAttribute("data-position"), 10);
      return nextRank - (same && oldRank < nextRank ? 1 : 0);
    }
    if (prev) {
      var prevRank = parseInt(prev.getAttribute("data-position"), 10);
      return prevRank + 1 - (same && oldRank < prevRank ? 1 : 0);
    }
    return 0;
  }

  function firstRank(list, ranks) {
    var first = cards(list)[0];
    if (!first) return 0;
    var known = ranks.get(list);
    return known === undefined ? 0 : known;
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf_token", csrfToken());
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.message || "The card could not be moved.");
        return data;
      });
    });
  }

  function start() {
    if (typeof window.Sortable === "undefined") return;
    var lists = document.querySelectorAll("[data-sortable]");
    // The rank of each list's first card when the page loaded.
    var ranks = new Map();
    Array.prototype.forEach.call(lists, function (list) {
      var first = cards(list)[0];
      ranks.set(list, first ? parseInt(first.getAttribute("data-position"), 10) : 0);
      window.Sortable.create(list, {
        group: list.getAttribute("data-group"),
        handle: ".card-handle",
        draggable: "[data-card]",
        forceFallback: true,
        animation: 0,
        onEnd: function (event) {
          var card = event.item;
          var from = event.from;
          var to = event.to;
          if (from === to && event.oldIndex === event.newIndex) return;
          var oldRank = parseInt(card.getAttribute("data-position"), 10);
          var rank = rankFor(card, from, to, oldRank);
          var target = to.getAttribute("data-list-id");
          var title = card.getAttribute("data-title") || "The card";
          post("/worklists/" + target + "/items/" + card.getAttribute("data-item-id") + "/move",
            { position: String(rank), to_list: target })
            .then(function (data) {
              renumber(from, firstRank(from, ranks));
              if (to !== from) {
                renumber(to, firstRank(to, ranks));
                laneTotal(from, -1);
                laneTotal(to, 1);
                // The card's own forms now belong to its new lane.
                Array.prototype.forEach.call(card.querySelectorAll("form[data-move-form]"), function (form) {
                  form.action = form.action.replace(/\/worklists\/\d+\//, "/worklists/" + target + "/");
                });
                var select = card.querySelector("select[name=to_list]");
                if (select) select.value = target;
              }
              announce(data.message || title + " moved.", false);
            })
            .catch(function (error) {
              announce(error.message + " Reloading the page…", true);
              window.setTimeout(function () { window.location.reload(); }, 1500);
            });
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
