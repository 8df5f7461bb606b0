// Catalog filter: plain local script, no library. Material's instant navigation is off, but
// document$ is used where available so the filter also works after an in-page swap.
(function () {
  function setup() {
    var input = document.getElementById("catalog-filter");
    var table = document.getElementById("catalog-table");
    if (!input || !table) return;
    input.closest(".portal-filter").hidden = false;
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var text = (tr.getAttribute("data-facets") + " " + tr.textContent).toLowerCase();
        tr.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
    });
  }
  if (typeof document$ !== "undefined") { document$.subscribe(setup); } else { document.addEventListener("DOMContentLoaded", setup); }
})();

// Citations: the access date is the reader's today; a build without a public address (a local preview)
// cites the address the page is read at. Copy buttons put a citation on the clipboard.
(function () {
  var PLACEHOLDER = /^https?:\/\/(example\.(org|com)|localhost|127\.0\.0\.1)[:/]/;
  function today() {
    var d = new Date();
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  }
  function copy(text, button) {
    // the page gives the button's words in its language: its label, and "copied" in data-done
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);  // before a 2nd click
    var label = button.getAttribute("data-label"), copied = button.getAttribute("data-done") || "已复制";
    var done = function () { button.textContent = copied; setTimeout(function () { button.textContent = label; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else { fallback(text); done(); }
  }
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "absolute"; area.style.left = "-9999px";
    document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } catch (e) { /* the reader can still select the text */ }
    document.body.removeChild(area);
  }
  function setup() {
    document.querySelectorAll("[data-cite-date]").forEach(function (el) { el.textContent = today(); });
    document.querySelectorAll(".portal-cite-box").forEach(function (box) {
      var base = box.getAttribute("data-site-url") || "";
      if (PLACEHOLDER.test(base)) {
        box.querySelectorAll("[data-cite-url]").forEach(function (el) { el.textContent = location.href.split("#")[0]; });
      }
    });
    document.querySelectorAll("button.portal-copy").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (target) copy(target.textContent, button);
      });
    });
  }
  if (typeof document$ !== "undefined") { document$.subscribe(setup); } else { document.addEventListener("DOMContentLoaded", setup); }
})();

// A link to a figure (#TA001) opens the folded list that holds it and brings it into view
// (chromium opens <details> on fragment navigation by itself; other browsers may not).
(function () {
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (!el) return;
    var opened = false;
    for (var p = el.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS" && !p.open) { p.open = true; opened = true; }
    }
    if (opened) el.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  if (typeof document$ !== "undefined") { document$.subscribe(reveal); } else { document.addEventListener("DOMContentLoaded", reveal); }
})();

// ?q= on the home page (the address `portal serve` and older links send a search to) opens the search page
(function () {
  var config = document.getElementById("__config");
  var q = new URLSearchParams(location.search).get("q");
  if (q && config && JSON.parse(config.textContent).base === ".") {
    location.replace("search/?q=" + encodeURIComponent(q));
  }
})();
