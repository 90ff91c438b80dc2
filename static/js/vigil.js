/* What pages ask for with data attributes, since the Content-Security-Policy refuses inline scripts and on* handlers.
   Loaded by base.html, deferred. */
(function () {
  "use strict";

  // <form data-confirm="Question?">: asks before submitting.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // <select data-autosubmit>: submits its form when changed.
  document.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-autosubmit")) {
      event.target.form.submit();
    }
  });

  // <button data-copy="element id">: copies that element's text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) {
      navigator.clipboard.writeText(document.getElementById(button.getAttribute("data-copy")).textContent);
      button.textContent = "Copied";
    }
  });

  // <form data-show-by="kind" data-show-when='{"field": "value", ...}'>: each named field is shown only while the
  // radio choice named by data-show-by has that field's value (the kill switch's model or desk, a schedule's kind).
  document.querySelectorAll("form[data-show-by]").forEach(function (form) {
    var choice = form.getAttribute("data-show-by");
    var when = JSON.parse(form.getAttribute("data-show-when"));
    function show() {
      var chosen = (form.querySelector('input[name="' + choice + '"]:checked') || {}).value;
      Object.keys(when).forEach(function (name) {
        form.querySelector('[name="' + name + '"]').closest(".field").style.display = chosen === when[name] ? "" : "none";
      });
    }
    form.addEventListener("change", show);
    show();
  });
  // <details data-menu> (the bar's menus): one open at a time; Escape or a click elsewhere closes it, Escape
  // returning the focus to its summary.
  var menus = document.querySelectorAll("details[data-menu]");
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) menus.forEach(function (other) { if (other !== menu) other.open = false; });
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    menus.forEach(function (menu) {
      if (menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) { if (menu.open && !menu.contains(event.target)) menu.open = false; });
  });
  // A table that scrolls sideways in its box (.table-scroll) says so above it while it is wider than the box.
  var scrollers = document.querySelectorAll(".table-scroll");
  function hint(box) {
    var said = box.previousElementSibling;
    if (said && said.classList.contains("scroll-hint")) said.hidden = box.scrollWidth <= box.clientWidth + 1;
  }
  scrollers.forEach(hint);
  if (window.ResizeObserver) {
    var watcher = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { hint(entry.target); });
    });
    scrollers.forEach(function (box) { watcher.observe(box); });
  }
  // A page in sections (?section=...): a link from before the split, /models/x/#monitoring, names a part of the page
  // that now has a section of its own; when nothing here has that id, open the section of that name.
  var wanted = window.location.hash.slice(1);
  if (wanted && !document.getElementById(wanted)) {
    var tab = document.querySelector('.section-nav a[data-section="' + wanted.replace(/[^a-z0-9_-]/gi, "") + '"]');
    if (tab) window.location.replace(tab.href + "#" + wanted);
  }
})();
