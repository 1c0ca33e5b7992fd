// Progressive enhancement only: every page works without this file.
// Sends the CSRF token with every HTMX request (the token is in <meta name="csrf-token">).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
});
// Buttons that ask for confirmation: <button data-confirm="…">.
document.addEventListener("click", function (event) {
  var target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.getAttribute("data-confirm"))) { event.preventDefault(); }
});
// Menu drop-downs (<details class="nav-group">) work without this; with it, one is open
// at a time and a click elsewhere or Escape closes them, as people expect of a menu.
(function () {
  function closeGroups(except) {
    document.querySelectorAll(".main-nav details.nav-group[open]").forEach(function (d) {
      if (d !== except && !d.contains(except)) { d.open = false; }
    });
  }
  document.addEventListener("click", function (event) {
    closeGroups(event.target.closest ? event.target.closest(".main-nav details.nav-group") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = document.querySelector(".main-nav details.nav-group[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });
})();
// Logging out forgets the unsent drafts kept by upload.js (a shared phone or PC).
document.addEventListener("submit", function (event) {
  if (event.target.getAttribute("action") !== "/logout") { return; }
  try {
    Object.keys(window.localStorage).forEach(function (key) {
      if (key.indexOf("aspirasi.draft.") === 0) { window.localStorage.removeItem(key); }
    });
  } catch (e) { /* no storage, no drafts */ }
});
// Classifying: the sub-category list shows only the chosen category's group
// (<select data-filters="id of the sub-category select">, <optgroup data-category>).
// Without this file every group shows, and the server refuses a mismatch.
(function () {
  function filter(category) {
    var sub = document.getElementById(category.getAttribute("data-filters"));
    if (!sub) { return; }
    sub.querySelectorAll("optgroup[data-category]").forEach(function (group) {
      var show = !category.value || group.getAttribute("data-category") === category.value;
      group.hidden = !show;
      group.disabled = !show;
    });
    var chosen = sub.options[sub.selectedIndex];
    if (chosen && chosen.parentNode.disabled) { sub.value = ""; }
  }
  document.querySelectorAll("select[data-filters]").forEach(function (category) {
    filter(category);
    category.addEventListener("change", function () { filter(category); });
  });
})();
// The waiting page's resend button, paused after a link was sent: the server
// writes the seconds left (<p data-countdown="42" data-template="… {s} …">) and
// disables the button; this counts down and enables it at zero. Without this
// file the page shows the seconds, and pressing early re-shows them.
(function () {
  var note = document.querySelector("[data-countdown]");
  var button = document.querySelector("[data-countdown-button]");
  if (!note || !button) { return; }
  var end = Date.now() + parseInt(note.getAttribute("data-countdown"), 10) * 1000;
  var template = note.getAttribute("data-template");
  function tick() {
    var left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) {
      note.hidden = true;
      button.disabled = false;
      button.removeAttribute("aria-describedby");
      return;
    }
    note.textContent = template.replace("{s}", String(left));
    window.setTimeout(tick, 1000);
  }
  tick();
})();
