// The search page (search/): Pagefind's own UI, in Chinese, opened with ?q= (the 404 page's form sends it).
(function () {
  var box = document.getElementById("portal-search");
  if (!box || typeof PagefindUI === "undefined") return;
  var ui = new PagefindUI({ element: "#portal-search", showSubResults: true, showImages: false, autofocus: true });
  var q = new URLSearchParams(location.search).get("q");
  if (q) ui.triggerSearch(q);
})();
