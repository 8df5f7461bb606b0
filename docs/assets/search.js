// The search page (search/): Pagefind's own UI (build_scripts/stages/search.py builds its index), in Chinese
// from <html lang="zh">, opened with ?q= (the 404 page's form sends it). The query stays in the address, so a
// search can be linked and Back returns to it.
(function () {
  var box = document.getElementById("portal-search");
  if (!box || typeof PagefindUI === "undefined") return;
  // result paths are relative to the site's root, which is a path under the host when deployed (site_url)
  // (the English edition's pages are under en/, Pagefind's bundle is the site's: its script is in pagefind/)
  var bundle = document.querySelector('script[src$="pagefind/pagefind-ui.js"]');
  var root = new URL("../", bundle ? bundle.src : new URL("../", document.currentScript.src)).pathname;
  var en = document.documentElement.lang === "en";
  var ui = new PagefindUI({
    element: "#portal-search",
    baseUrl: root,
    showSubResults: true,
    showImages: false,
    autofocus: true,
    pageSize: 5,  // each result shown fetches its fragment: five keep a first query near 150 KB
    // an exact word counts more than a longer word it begins: 文县 is cut 文/县, and 文 alone also matches 文件
    ranking: { termSimilarity: 3, pageLength: 0.5 },  // a township page lists its villages: its length must not rank a village above it
    processTerm: function (term) {
      var url = new URL(location.href);
      if (term) { url.searchParams.set("q", term); } else { url.searchParams.delete("q"); }
      history.replaceState(null, "", url);
      return term;
    },
  });
  var q = new URLSearchParams(location.search).get("q");
  if (q) ui.triggerSearch(q);
  // Pagefind names its box only with a hidden text: give it a visible label (WCAG: labels or instructions)
  (function label() {
    var input = box.querySelector(".pagefind-ui__search-input");
    if (!input) return requestAnimationFrame(label);
    input.id = "portal-search-input";
    var tag = document.createElement("label");
    tag.htmlFor = input.id;
    tag.className = "portal-search-label";
    tag.textContent = en
      ? "Search regions, documents or indicators (e.g. Gonghe, relocation, 2019 investment)"
      : "搜索地区、规划文件或指标（如：共和县、易地扶贫搬迁、2019 投资）";
    box.insertBefore(tag, box.firstChild);
  })();
})();
