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
