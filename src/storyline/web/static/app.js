// Storyline's small layer of enhancement: keyboard shortcuts, the theme
// switch without a page load, and the CSRF header for htmx requests. Every
// page works without it.
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the same token as the page's forms.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // Lists: every row marked data-row (or data-nav-item) takes part in j/k;
  // Enter follows the row's data-row-link, else its first link.
  var ROW = "[data-row], [data-nav-item]";

  function navItems() {
    return Array.prototype.filter.call(
      document.querySelectorAll(ROW),
      function (item) { return item.offsetParent !== null || item.getClientRects().length > 0; }
    );
  }

  function select(items, index) {
    items.forEach(function (item) { item.classList.remove("is-selected"); });
    var item = items[index];
    if (!item) return;
    item.classList.add("is-selected");
    if (!item.hasAttribute("tabindex")) item.setAttribute("tabindex", "-1");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var items = navItems();
    if (!items.length) return;
    var current = items.findIndex(function (item) {
      return item.classList.contains("is-selected") || item.contains(document.activeElement);
    });
    var next = current < 0 ? (step > 0 ? 0 : items.length - 1)
      : Math.min(items.length - 1, Math.max(0, current + step));
    select(items, next);
  }

  function open(item) {
    var href = item.getAttribute("data-nav-href");
    if (href) { window.location.assign(href); return; }
    var link = item.matches("a[href]") ? item
      : item.querySelector("a[data-row-link]") || item.querySelector("a[href]");
    if (link) link.click();
  }

  function dialog() { return document.getElementById("shortcuts-dialog"); }

  function showShortcuts() {
    var d = dialog();
    if (d && typeof d.showModal === "function") {
      if (!d.open) d.showModal();
      return true;
    }
    return false;
  }

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-show-shortcuts]");
    if (trigger && showShortcuts()) event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (event.key === "Escape" && target && target.type === "search") {
      target.blur();
      return;
    }
    if (isTyping(target)) return;
    var d = dialog();
    if (d && d.open) return;
    switch (event.key) {
      case "?":
        if (showShortcuts()) event.preventDefault();
        break;
      case "/": {
        // A page's own search box (the search page's) before the header's.
        var search = document.querySelector('[data-shortcut-focus="/"]') ||
          document.getElementById("site-search");
        if (search) { event.preventDefault(); search.focus(); search.select(); }
        break;
      }
      case "c": {
        var create = document.querySelector('[data-shortcut="c"]');
        if (create) { event.preventDefault(); create.click(); }
        break;
      }
      case "j":
        event.preventDefault(); move(1);
        break;
      case "k":
        event.preventDefault(); move(-1);
        break;
      case "Enter": {
        var selected = target && target.closest && target.closest(ROW);
        // A focused link or button inside the row does its own thing.
        if (selected && target === selected) { event.preventDefault(); open(selected); }
        break;
      }
    }
  });

  // The theme switch applies at once; the form still posts (without a page
  // load) so that the choice is kept in the cookie and the preference.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select || select.id !== "theme-choice") return;
    var value = select.value;
    if (value === "light" || value === "dark") {
      root.setAttribute("data-theme", value);
    } else {
      root.removeAttribute("data-theme");
    }
    var meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) meta.setAttribute("content", value === "system" ? "light dark" : value);
    var form = select.form;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" }
    }).catch(function () { /* The page already shows the theme. */ });
  });
})();
