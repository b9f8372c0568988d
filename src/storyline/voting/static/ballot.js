// The ballot's ranking widget, and the receipt kept in this browser.
//
// The ballot page works without this file: one rank select per candidate.
// Here the selects are hidden and a ranking is drawn from them: tiers of
// candidates, best first (candidates in one tier tie), an "unranked" area
// and, where the election allows it, a "no opinion" area. Candidates move
// by drag and drop (onto a tier to tie, onto the gap between tiers for a
// new tier) or by keyboard (Space picks up, arrows move, Space or Enter
// drops, Escape cancels), and every change is written back to the selects,
// so the form posts exactly what the no-script form would.
(function () {
  "use strict";

  // One receipt per election and person: a browser shared by two voters
  // must not offer one the other's receipt.
  var RECEIPT_KEY = "storyline.election-receipt.";

  function storeReceipt() {
    var shown = document.querySelector("[data-receipt-store]");
    if (!shown) return;
    try {
      window.localStorage.setItem(RECEIPT_KEY + shown.dataset.receiptStore, shown.textContent.trim());
    } catch (e) {
      // Storage refused (private mode, quota): the page tells voters to keep it.
    }
  }

  function recallReceipt(form) {
    var field = form.querySelector("input[name=receipt]");
    if (!field || field.value) return;
    try {
      var kept = window.localStorage.getItem(RECEIPT_KEY + form.dataset.receiptKey);
      if (kept) field.value = kept;
    } catch (e) {
      // As above: no storage, nothing to fill in.
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function Ballot(form) {
    this.form = form;
    this.allowNoOpinion = form.dataset.noOpinion === "true";
    this.selects = {};
    this.names = {};
    this.order = [];
    var items = form.querySelectorAll("[data-candidate]");
    for (var i = 0; i < items.length; i++) {
      var id = items[i].dataset.candidate;
      this.order.push(id);
      this.names[id] = items[i].dataset.name;
      this.selects[id] = items[i].querySelector("select");
    }
    this.grabbed = null;
    this.snapshot = null;
    this.readSelects();
    this.build();
    this.render();
  }

  // The model: `tiers` (arrays of candidate ids, best first), `unranked`
  // and `noOpinion`, each in the voter's shuffled order.
  Ballot.prototype.readSelects = function () {
    var byRank = {};
    this.tiers = [];
    this.unranked = [];
    this.noOpinion = [];
    for (var i = 0; i < this.order.length; i++) {
      var id = this.order[i];
      var value = this.selects[id].value;
      if (value === "-") this.noOpinion.push(id);
      else if (value === "") this.unranked.push(id);
      else (byRank[value] = byRank[value] || []).push(id);
    }
    var ranks = Object.keys(byRank).map(Number).sort(function (a, b) { return a - b; });
    for (var r = 0; r < ranks.length; r++) this.tiers.push(byRank[ranks[r]]);
  };

  Ballot.prototype.writeSelects = function () {
    var self = this;
    this.tiers.forEach(function (tier, t) {
      tier.forEach(function (id) { self.selects[id].value = String(t + 1); });
    });
    this.unranked.forEach(function (id) { self.selects[id].value = ""; });
    this.noOpinion.forEach(function (id) { self.selects[id].value = "-"; });
  };

  Ballot.prototype.build = function () {
    var fieldset = this.form.querySelector(".ballot-selects");
    fieldset.hidden = true;
    var widget = el("div", "ranking-widget");
    widget.setAttribute("role", "group");
    widget.setAttribute("aria-labelledby", "ranking-widget-label");
    var label = el("p", "ranking-widget-label", "Your ranking");
    label.id = "ranking-widget-label";
    var keys = el(
      "p",
      "hint",
      "Drag a candidate onto a rank to tie it there, or between ranks for a new rank. " +
        "By keyboard: focus a candidate, press Space to pick it up, the up and down arrows " +
        "to move it, Space or Enter to drop it, Escape to cancel."
    );
    keys.id = "ranking-keys";
    this.live = el("div", "visually-hidden");
    this.live.setAttribute("aria-live", "assertive");
    this.live.id = "ranking-announce";
    this.board = el("div", "ranking-board");
    widget.append(label, keys, this.board, this.live);
    fieldset.parentNode.insertBefore(widget, fieldset);
    this.listen();
  };

  // Where a candidate can go, in keyboard order: a gap before each tier
  // (a new tier there), each tier, the gap after the last, the unranked
  // area and the no-opinion area.
  Ballot.prototype.slots = function () {
    var slots = [];
    for (var t = 0; t < this.tiers.length; t++) {
      slots.push({ kind: "gap", index: t });
      slots.push({ kind: "tier", index: t });
    }
    slots.push({ kind: "gap", index: this.tiers.length });
    slots.push({ kind: "unranked" });
    if (this.allowNoOpinion) slots.push({ kind: "noopinion" });
    return slots;
  };

  // Take a candidate out; answers the slot it leaves (its tier, or the gap
  // its tier leaves when it was alone in it).
  Ballot.prototype.remove = function (id) {
    for (var t = 0; t < this.tiers.length; t++) {
      var at = this.tiers[t].indexOf(id);
      if (at < 0) continue;
      this.tiers[t].splice(at, 1);
      if (this.tiers[t].length === 0) {
        this.tiers.splice(t, 1);
        return { kind: "gap", index: t };
      }
      return { kind: "tier", index: t };
    }
    var u = this.unranked.indexOf(id);
    if (u >= 0) {
      this.unranked.splice(u, 1);
      return { kind: "unranked" };
    }
    this.noOpinion.splice(this.noOpinion.indexOf(id), 1);
    return { kind: "noopinion" };
  };

  Ballot.prototype.insert = function (id, slot) {
    if (slot.kind === "gap") this.tiers.splice(slot.index, 0, [id]);
    else if (slot.kind === "tier") this.tiers[slot.index].push(id);
    else if (slot.kind === "unranked") this.unranked.push(id);
    else this.noOpinion.push(id);
  };

  Ballot.prototype.move = function (id, slot) {
    var left = this.remove(id);
    // The slot was counted before the removal: when the candidate was alone
    // in its tier, that tier is gone (dropping on it puts it back) and the
    // tiers and gaps below it move up by one.
    if (left.kind === "gap" && slot.kind === "tier" && slot.index === left.index) {
      slot = { kind: "gap", index: left.index };
    } else if (left.kind === "gap" && (slot.kind === "gap" || slot.kind === "tier") && slot.index > left.index) {
      slot = { kind: slot.kind, index: slot.index - 1 };
    }
    this.insert(id, slot);
    this.changed(id);
  };

  Ballot.prototype.step = function (id, delta) {
    var left = this.remove(id);
    var slots = this.slots();
    var here = 0;
    for (var i = 0; i < slots.length; i++) {
      if (slots[i].kind === left.kind && slots[i].index === left.index) here = i;
    }
    var to = Math.max(0, Math.min(slots.length - 1, here + delta));
    this.insert(id, slots[to]);
    this.changed(id);
  };

  Ballot.prototype.placeOf = function (id) {
    for (var t = 0; t < this.tiers.length; t++) {
      var tier = this.tiers[t];
      if (tier.indexOf(id) < 0) continue;
      var others = tier.filter(function (o) { return o !== id; });
      var text = "rank " + (t + 1);
      if (others.length) text += ", tied with " + others.map(this.nameOf, this).join(", ");
      return text;
    }
    if (this.unranked.indexOf(id) >= 0) return "unranked";
    return "no opinion";
  };

  Ballot.prototype.nameOf = function (id) {
    return this.names[id];
  };

  Ballot.prototype.announce = function (text) {
    this.live.textContent = text;
  };

  Ballot.prototype.changed = function (id) {
    this.writeSelects();
    // Redrawing takes the focused candidate out of the page: that is not
    // the voter leaving it (see the focusout listener).
    this.redrawing = true;
    this.render();
    var chip = this.chip(id);
    if (chip) chip.focus();
    this.redrawing = false;
  };

  Ballot.prototype.chip = function (id) {
    return this.board.querySelector('[data-chip="' + id + '"]');
  };

  Ballot.prototype.makeChip = function (id) {
    var chip = el("button", "chip", this.names[id]);
    chip.type = "button";
    chip.draggable = true;
    chip.dataset.chip = id;
    chip.setAttribute("aria-describedby", "ranking-keys");
    chip.setAttribute("aria-pressed", this.grabbed === id ? "true" : "false");
    chip.setAttribute("aria-label", this.names[id] + ": " + this.placeOf(id));
    return chip;
  };

  Ballot.prototype.makeArea = function (kind, index, title, ids) {
    var area = el("div", "drop " + kind);
    area.dataset.slot = kind;
    if (index !== undefined) area.dataset.index = String(index);
    var heading = el("span", "drop-title", title);
    area.appendChild(heading);
    if (ids) {
      var list = el("div", "chips");
      for (var i = 0; i < ids.length; i++) list.appendChild(this.makeChip(ids[i]));
      area.appendChild(list);
    }
    return area;
  };

  Ballot.prototype.render = function () {
    var board = this.board;
    board.textContent = "";
    var ranked = el("div", "tiers");
    for (var t = 0; t < this.tiers.length; t++) {
      ranked.appendChild(this.makeArea("gap", t, "New rank here"));
      ranked.appendChild(this.makeArea("tier", t, "Rank " + (t + 1), this.tiers[t]));
    }
    ranked.appendChild(
      this.makeArea("gap", this.tiers.length, this.tiers.length ? "New rank here" : "Drop here for rank 1")
    );
    board.appendChild(ranked);
    board.appendChild(this.makeArea("unranked", undefined, "Unranked (ranked last)", this.unranked));
    if (this.allowNoOpinion) {
      board.appendChild(this.makeArea("noopinion", undefined, "No opinion", this.noOpinion));
    }
  };

  Ballot.prototype.slotOf = function (area) {
    var index = area.dataset.index;
    return { kind: area.dataset.slot, index: index === undefined ? undefined : Number(index) };
  };

  Ballot.prototype.listen = function () {
    var self = this;
    var board = this.board;
    var dragged = null;
    board.addEventListener("dragstart", function (event) {
      var chip = event.target.closest && event.target.closest("[data-chip]");
      if (!chip) return;
      dragged = chip.dataset.chip;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", self.names[dragged]);
      board.classList.add("dragging");
    });
    board.addEventListener("dragend", function () {
      dragged = null;
      board.classList.remove("dragging");
    });
    board.addEventListener("dragover", function (event) {
      if (dragged === null || !event.target.closest("[data-slot]")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    });
    board.addEventListener("drop", function (event) {
      var area = event.target.closest("[data-slot]");
      if (dragged === null || !area) return;
      event.preventDefault();
      var id = dragged;
      dragged = null;
      board.classList.remove("dragging");
      self.move(id, self.slotOf(area));
      self.announce(self.names[id] + ": " + self.placeOf(id));
    });
    board.addEventListener("keydown", function (event) {
      var chip = event.target.closest && event.target.closest("[data-chip]");
      if (!chip) return;
      var id = chip.dataset.chip;
      var key = event.key;
      if (self.grabbed === null) {
        if (key === " " || key === "Spacebar") {
          event.preventDefault();
          self.grabbed = id;
          self.snapshot = JSON.stringify([self.tiers, self.unranked, self.noOpinion]);
          self.changed(id);
          self.announce(
            "Picked up " + self.names[id] + ", " + self.placeOf(id) +
              ". Up and down arrows move it; Space or Enter drops it; Escape cancels."
          );
        }
        return;
      }
      if (self.grabbed !== id) return;
      if (key === "ArrowUp" || key === "ArrowDown") {
        event.preventDefault();
        self.step(id, key === "ArrowUp" ? -1 : 1);
        self.announce(self.names[id] + ": " + self.placeOf(id));
      } else if (key === " " || key === "Spacebar" || key === "Enter") {
        event.preventDefault();
        self.grabbed = null;
        self.changed(id);
        self.announce("Dropped " + self.names[id] + ": " + self.placeOf(id) + ".");
      } else if (key === "Escape") {
        event.preventDefault();
        var kept = JSON.parse(self.snapshot);
        self.tiers = kept[0];
        self.unranked = kept[1];
        self.noOpinion = kept[2];
        self.grabbed = null;
        self.changed(id);
        self.announce("Move cancelled: " + self.names[id] + " is back at " + self.placeOf(id) + ".");
      }
    });
    // Leaving the candidate while carrying it drops it where it is.
    board.addEventListener("focusout", function (event) {
      if (self.redrawing || self.grabbed === null || !event.target.closest("[data-chip]")) return;
      if (board.contains(event.relatedTarget)) return;
      var id = self.grabbed;
      self.grabbed = null;
      var chip = self.chip(id);
      if (chip) chip.setAttribute("aria-pressed", "false");
    });
  };

  function start() {
    storeReceipt();
    var forms = document.querySelectorAll("form[data-ballot]");
    for (var i = 0; i < forms.length; i++) {
      recallReceipt(forms[i]);
      new Ballot(forms[i]);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
