"""Browser tests: the built site (real corpus, or the fixture without the source texts) served on
127.0.0.1 and driven in Debian's headless chromium.

Covers what only a browser shows: pages load without console errors or failed requests, Chinese
search through Pagefind's search page, charts that render, downloads that answer and parse, no
request to any other host on any page, no horizontal scrolling on a phone, and screenshots for
people to look at (in /tmp/shots/, not asserted).

Never run `playwright install`: the tests use Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree

import pytest
from conftest import CORPUS
from helpers import ROOT, parse_csv, read_csv

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium fonts-noto-cjk)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright python package is not installed (.[test])")

DATASETS = CORPUS.packages
SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1280, "height": 900}
SEARCH_BOX = ".pagefind-ui__search-input"
RESULT_LINKS = ".pagefind-ui__result-title > a.pagefind-ui__result-link"  # a page's result; its sections are nested

DATASET_PAGE = f"datasets/{CORPUS.chart_dataset}/"
REGION_PAGE = f"regions/{CORPUS.region}/"
KEY_PAGES = ["", "catalog/", DATASET_PAGE, REGION_PAGE, f"documents/{CORPUS.document}/", "compare/"]


# ---------------------------------------------------------------------------------------------------
# fixtures: a browser context (site_url, the built site on a local server, and browser are in conftest.py)


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    ctx.set_default_timeout(20_000)
    try:
        yield ctx
    finally:
        ctx.close()


class Problems:
    """Console errors, uncaught exceptions, failed requests and HTTP errors seen by one page."""

    def __init__(self, page, ignore_aborted: bool = False):
        self.items: list[str] = []
        self.ignore_aborted = ignore_aborted
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.items.append(f"pageerror: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.items.append(f"HTTP {r.status}: {r.url}"))
        page.on("worker", lambda w: w.on("console", self._console))

    def _console(self, msg):
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            self.items.append(f"console error: {msg.text} ({where})")

    def _failed(self, request):
        failure = request.failure or ""
        if self.ignore_aborted and "ERR_ABORTED" in failure:  # cancelled by the next navigation
            return
        self.items.append(f"request failed: {request.url} ({failure})")


def site_path(url: str, base: str) -> str:
    """A result link as a site-relative page path: no query, no fragment, decoded."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    base_path = urlsplit(base).path
    return path[len(base_path) :] if path.startswith(base_path) else path


# ---------------------------------------------------------------------------------------------------
# 1. key pages load cleanly


@pytest.mark.browser
@pytest.mark.parametrize("path", KEY_PAGES, ids=lambda p: p.strip("/") or "home")
def test_page_loads_without_errors(context, site_url, path):
    page = context.new_page()
    problems = Problems(page)
    response = page.goto(site_url + path, wait_until="load")
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.wait_for_load_state("networkidle")  # the search worker fetches its index after load
    assert page.locator("article h1").first.is_visible(), f"{path}: no visible page title"
    assert problems.items == [], f"{path}:\n" + "\n".join(problems.items)


# ---------------------------------------------------------------------------------------------------
# 2. Chinese search through the header's search button and Pagefind's search page


def open_search(page, site_url):
    """From the home page, the header's search button opens the search page with its box ready."""
    page.goto(site_url, wait_until="load")
    page.locator("header .portal-search-button").click()
    page.wait_for_url(f"{site_url}search/")
    page.wait_for_selector(SEARCH_BOX)


def results_of(page, site_url, query: str) -> list[str]:
    """The result pages shown for query, best first, once Pagefind has answered and the list stopped growing."""
    # the count line names the query once it is answered (找到 … 个 QUERY 的相关结果 / 未找到 QUERY 的相关结果;
    # in English: … results for QUERY / No results for QUERY)
    page.wait_for_function(
        "q => { const m = document.querySelector('.pagefind-ui__message'); return m && m.textContent.includes(q); }",
        arg=query,
        timeout=15_000,
    )
    # the count line comes before the results' fragments: wait for a first result, unless none was found
    page.wait_for_function(
        """sel => document.querySelector(sel) ||
                 /^(未找到|No results)/.test(document.querySelector('.pagefind-ui__message').textContent.trim())""",
        arg=RESULT_LINKS,
        timeout=15_000,
    )
    signature = f"() => [...document.querySelectorAll('{RESULT_LINKS}')].map(a => a.href)"
    previous, deadline = None, time.monotonic() + 10  # each result loads its own fragment: wait until the list is still
    while time.monotonic() < deadline:
        current = page.evaluate(signature)
        if current == previous:
            break
        previous = current
        page.wait_for_timeout(150)
    return list(dict.fromkeys(site_path(href, site_url) for href in previous))


def search(page, site_url, query: str, typed: bool = True) -> list[str]:
    """Type query into the search box (search already open); return the result pages, best first. typed=False
    puts the whole query in at once (one input event, one search: for checking hundreds of queries)."""
    box = page.locator(SEARCH_BOX)
    box.fill("")  # an empty query clears the previous results and their count line
    page.wait_for_function("() => !document.querySelector('.pagefind-ui__message')")
    if typed:
        box.press_sequentially(query)  # typed as a reader types it: Pagefind searches on each input event
    else:
        box.fill(query)
    return results_of(page, site_url, query)


def regions_of(doc_id: str, level: str) -> list[dict]:
    return [r for r in read_csv(DATASETS / doc_id / "data" / "regions.csv") if r["level"] == level]


def figure_rows():
    """(doc_id, family, row) for every figure of the corpus."""
    for path in sorted(DATASETS.glob("*/data/*.csv")):
        doc_id, family = path.parent.parent.name, path.stem
        if family in ("regions", "documents", "plans"):
            continue
        for row in read_csv(path):
            yield doc_id, family, row


def dataset_page(doc_id: str, family: str) -> str:
    return f"datasets/{doc_id}-{family.replace('_', '-')}/"


def pages_holding(term: str) -> set[str]:
    """The pages that show a figure whose row contains term: its dataset, document and region pages."""
    out = set()
    for doc_id, family, row in figure_rows():
        if any(term in v for v in row.values() if v):
            out |= {dataset_page(doc_id, family), f"documents/{doc_id}/", f"regions/{row['region_id']}/"}
    return out


def investments_in(year: str) -> set[str]:
    return {dataset_page(d, f) for d, f, row in figure_rows() if f == "investments" and row.get("year") == year}


@pytest.mark.browser
def test_search_township_names_find_their_region_page(context, site_url):
    """Every township of the corpus's main plan (regions.csv, level township), 恰卜恰镇 among them in the real one."""
    townships = regions_of(CORPUS.document, "township")
    assert townships and (not CORPUS.is_real or "恰卜恰镇" in {r["name_zh"] for r in townships})
    page = context.new_page()
    open_search(page, site_url)
    misses = []
    for r in townships:
        results = search(page, site_url, r["name_zh"])
        if f"regions/{r['region_id']}/" not in results[:5]:
            misses.append(f"{r['name_zh']} → expected regions/{r['region_id']}/ in {results[:5]}")
    assert misses == [], "\n".join(misses)
    # a region's own page comes first for its name: the county of the plan, and each of its townships
    for r in [*regions_of(CORPUS.document, "county"), *townships]:
        results = search(page, site_url, r["name_zh"])
        assert results[:1] == [f"regions/{r['region_id']}/"], f"{r['name_zh']}: first results {results[:3]}"


TOPICS = {
    "real": {
        # relocation: the Xining plan's investments print 易地扶贫搬迁总投资; its dataset or document page
        "易地扶贫搬迁": ({"datasets/xining-2016-investments/", "documents/xining-2016/"}, 5),
        # dilapidated-house renovation: only gonghe-2018 measures.csv holds the term
        "危房改造": ({"datasets/gonghe-2018-measures/", "documents/gonghe-2018/", "regions/632521/"}, 3),
    },
    "fixture": {
        # skills training: only the fixture's measures.csv holds it; exiting villages: only its exit_schedules.csv
        "技能培训": ({"datasets/mini-2020-measures/", "documents/mini-2020/", "regions/990101/"}, 3),
        "退出贫困村": ({"datasets/mini-2020-exit-schedules/", "documents/mini-2020/", "regions/990101/"}, 3),
    },
}[CORPUS.name]


@pytest.mark.browser
@pytest.mark.parametrize("query", list(TOPICS), ids=["topic-1", "topic-2"])
def test_search_topics(context, site_url, query):
    expected, top = TOPICS[query]
    holders = pages_holding(query)
    assert expected <= holders, f"test data drifted: {sorted(expected - holders)} no longer hold {query}"
    page = context.new_page()
    open_search(page, site_url)
    results = search(page, site_url, query)
    assert expected & set(results[:top]), (
        f"{query!r}: expected one of {sorted(expected)} in the first {top} results, got {results[:top]}"
    )
    assert results[0] in holders, f"{query!r}: the first result {results[0]} shows no figure with {query}"


def exits_in(year: str) -> set[str]:
    return {dataset_page(d, f) for d, f, row in figure_rows() if f == "exit_schedules" and row.get("year") == year}


# a year and a topic: the query, and the datasets with figures for that year (the real corpus has investments by year)
YEAR_TOPIC = ("2019", "投资", investments_in) if CORPUS.is_real else ("2019", "退出", exits_in)


@pytest.mark.browser
def test_search_year_and_topic(context, site_url):
    """'2019 投资' (the fixture: '2019 退出') finds a dataset with figures for 2019 among the first 5 results."""
    year, topic, holders = YEAR_TOPIC
    expected = holders(year)
    assert f"datasets/{CORPUS.chart_dataset}/" in expected or not CORPUS.is_real
    assert expected, f"no dataset of the corpus has {topic} figures for {year}"
    page = context.new_page()
    open_search(page, site_url)
    results = search(page, site_url, f"{year} {topic}")
    assert expected & set(results[:5]), f"expected one of {sorted(expected)} in the first 5 results, got {results[:5]}"


# ---------------------------------------------------------------------------------------------------
# 3. charts render


@pytest.mark.browser
def test_dataset_charts_visible(context, site_url):
    page = context.new_page()
    page.goto(site_url + DATASET_PAGE, wait_until="load")
    images = page.locator("figure.portal-chart img")
    assert images.count() > 0, "the dataset page has no chart"
    for i in range(images.count()):
        img = images.nth(i)
        img.scroll_into_view_if_needed()  # loading="lazy"
        img.evaluate(
            "el => el.complete && el.naturalWidth > 0 ? null : Promise.race(["
            "new Promise(r => { el.addEventListener('load', r, {once: true}); el.addEventListener('error', r, {once: true}); }),"
            "new Promise(r => setTimeout(r, 10000))])"
        )
        box = img.bounding_box()
        src = img.get_attribute("src")
        assert box and box["width"] > 0 and box["height"] > 0, f"chart {src} has an empty box: {box}"
        assert img.evaluate("el => el.naturalWidth") > 0, f"chart {src} did not load"


# ---------------------------------------------------------------------------------------------------
# 4. downloads answer and parse


def source_rows(doc_id: str, family: str) -> int:
    return len(read_csv(DATASETS / doc_id / "data" / f"{family}.csv"))


@pytest.mark.browser
def test_dataset_downloads(context, site_url):
    openpyxl = pytest.importorskip("openpyxl")
    page = context.new_page()
    page.goto(site_url + DATASET_PAGE, wait_until="load")
    hrefs = list(dict.fromkeys(page.eval_on_selector_all("a[download]", "as => as.map(a => a.href)")))
    expected_rows = source_rows(CORPUS.document, "investments")
    kinds = set()
    for url in hrefs:
        assert url.startswith(site_url), f"download outside the site: {url}"
        resp = page.request.get(url)
        assert resp.status == 200, f"{url}: HTTP {resp.status}"
        body, name = resp.body(), urlsplit(url).path.rsplit("/", 1)[-1]
        assert body, f"{url}: empty"
        if name == f"{CORPUS.chart_dataset}.csv":
            rows = parse_csv(body.decode("utf-8"))
            assert len(rows) == expected_rows, f"{name}: {len(rows)} rows, the data package has {expected_rows}"
            kinds.add("csv")
        elif name.endswith(".csv"):  # chart data
            assert parse_csv(body.decode("utf-8")), f"{name}: no rows"
        elif name.endswith(".xlsx"):
            wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
            ws = wb.worksheets[0]
            n = sum(1 for row in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in row))
            assert n == expected_rows, f"{name}: {n} rows in sheet {ws.title}, the data package has {expected_rows}"
            kinds.add("xlsx")
        elif name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(body)) as z:
                assert z.testzip() is None, f"{name}: corrupt member"
                assert "datapackage.json" in z.namelist(), f"{name}: no datapackage.json in {z.namelist()}"
                json.loads(z.read("datapackage.json"))
            kinds.add("zip")
        elif name.endswith(".json"):
            data = json.loads(body)
            if name == f"{CORPUS.chart_dataset}.json":
                assert len(data["rows"]) == expected_rows, f"{name}: {len(data['rows'])} rows"
            kinds.add("json")
        elif name.endswith(".svg"):
            assert ElementTree.fromstring(body).tag.endswith("svg"), f"{name}: not an SVG"
        elif name.endswith(".png"):
            assert body.startswith(b"\x89PNG\r\n\x1a\n"), f"{name}: not a PNG"
        else:
            pytest.fail(f"unexpected download {url}")
    assert kinds == {"csv", "xlsx", "json", "zip"}, f"download formats found: {sorted(kinds)} in {hrefs}"


# ---------------------------------------------------------------------------------------------------
# 5. no request leaves the local server, on any page


ALLOWED_SCHEMES = ("data:", "blob:", "about:")


@pytest.fixture(scope="session")
def crawl(browser, site_url, built_site):
    """Every HTML page of the built site loaded once in one page; requests and problems per page."""
    pages = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html"))
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    current = {"path": ""}
    requests: dict[str, list[str]] = {}
    problems = Problems(page, ignore_aborted=True)
    bad_by_page: dict[str, list[str]] = {}
    ctx.on("request", lambda r: requests.setdefault(current["path"], []).append(r.url))
    started = time.perf_counter()
    try:
        for rel in pages:
            current["path"] = rel
            before = len(problems.items)
            url = site_url + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
            response = page.goto(url, wait_until="load")
            status = response.status if response else None
            # 404.html is served with 200 when asked for by name; everything else must be 200 too
            if status != 200:
                problems.items.append(f"HTTP {status}: {url}")
            if len(problems.items) > before:
                bad_by_page[rel] = problems.items[before:]
        # let the last page's worker finish before the context goes away
        page.wait_for_load_state("networkidle")
    finally:
        elapsed = time.perf_counter() - started
        ctx.close()
    return {"pages": pages, "requests": requests, "problems": bad_by_page, "seconds": elapsed}


@pytest.mark.browser
def test_no_request_to_other_hosts(crawl, site_url, capsys):
    # one page per region, document and dataset, and the fixed pages (home, catalog, compare, ...)
    regions = len({r["region_id"] for p in DATASETS.glob("*/data/regions.csv") for r in read_csv(p)})  # shared by plans
    datasets = len({dataset_page(d, f) for d, f, _ in figure_rows()})
    expected = regions + datasets + len(list(DATASETS.glob("*/datapackage.yaml"))) + 10
    assert len(crawl["pages"]) >= expected, f"only {len(crawl['pages'])} html pages found, expected {expected} or more"
    parts = urlsplit(site_url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    offsite = sorted(
        {
            (page, url)
            for page, urls in crawl["requests"].items()
            for url in urls
            if not url.startswith(origin) and not url.startswith(ALLOWED_SCHEMES)
        }
    )
    with capsys.disabled():
        total = sum(len(v) for v in crawl["requests"].values())
        print(f"\n[browser] crawled {len(crawl['pages'])} pages, {total} requests, in {crawl['seconds']:.1f} s")
    assert offsite == [], f"{len(offsite)} requests to other hosts:\n" + "\n".join(f"{p}: {u}" for p, u in offsite[:50])
    # the search page loads Pagefind's UI from this site: the recorder would show a CDN it fetched
    assert any(u.endswith("pagefind/pagefind-ui.js") for urls in crawl["requests"].values() for u in urls)
    assert crawl["seconds"] < 300, f"crawling every page took {crawl['seconds']:.0f} s"


@pytest.mark.browser
def test_no_page_loads_materials_search_index(crawl, built_site, context, site_url):
    """Pagefind replaced Material's search: its whole-site index is not built and no page asks for it or
    starts its worker, not on load and not while searching; the search fetches Pagefind's chunks instead."""
    assert not (built_site / "search" / "search_index.json").exists()
    old = ("search_index.json", "/workers/search.")
    assert [u for urls in crawl["requests"].values() for u in urls if any(o in u for o in old)] == []
    regions = read_csv(DATASETS / CORPUS.document / "data" / "regions.csv")
    name = next(r["name_zh"] for r in regions if r["region_id"] == CORPUS.region)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    open_search(page, site_url)
    assert f"regions/{CORPUS.region}/" in search(page, site_url, name)
    assert [u for u in requested if any(o in u for o in old)] == []
    assert any(u.startswith(f"{site_url}pagefind/index/") for u in requested), "no Pagefind index chunk was fetched"


@pytest.mark.browser
def test_every_page_loads_without_errors(crawl):
    """Same crawl: no console error, uncaught exception, failed request or HTTP error on any page."""
    bad = crawl["problems"]
    assert bad == {}, f"{len(bad)} pages with problems:\n" + "\n".join(
        f"{page}: {'; '.join(items[:3])}" for page, items in list(bad.items())[:40]
    )


# ---------------------------------------------------------------------------------------------------
# 6. phone-sized viewport


@pytest.mark.browser
def test_dataset_page_fits_a_phone(browser, site_url):
    ctx = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2, locale="zh-CN"
    )
    try:
        page = ctx.new_page()
        page.goto(site_url + DATASET_PAGE, wait_until="load")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "dataset-phone.png"), full_page=True)
        width = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
        culprits = page.evaluate("""() => {
            const w = window.innerWidth, out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.width && r.right > w + 1) {
                    let ok = false;  // inside a scrolling box is fine
                    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                        const s = getComputedStyle(p);
                        if (['auto', 'scroll', 'hidden'].includes(s.overflowX)
                            && p.getBoundingClientRect().right <= w + 1) { ok = true; break; }
                    }
                    if (!ok) out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(r.right)}`);
                }
            }
            return out.slice(0, 15);
        }""")
        assert width["scroll"] <= width["inner"] + 1, f"horizontal scrolling on a phone: {width}; wider elements: {culprits}"
    finally:
        ctx.close()


# ---------------------------------------------------------------------------------------------------
# 7. screenshots for people (not assertions on the pixels)


@pytest.mark.browser
def test_screenshots(context, site_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = context.new_page()
    for name, path in [("home", ""), ("dataset", DATASET_PAGE), ("region", REGION_PAGE), ("compare", "compare/")]:
        page.goto(site_url + path, wait_until="load")
        # lazy images: scroll through the page so every chart is in the shot
        page.evaluate(
            "async () => { for (let y = 0; y < document.body.scrollHeight; y += 600) {"
            " window.scrollTo(0, y); await new Promise(r => setTimeout(r, 30)); } window.scrollTo(0, 0); }"
        )
        page.wait_for_load_state("networkidle")
        target = SHOTS / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000, f"{target} looks empty"


# ---------------------------------------------------------------------------------------------------
# 8. the 404 page, wherever a lost reader lands

NOT_FOUND = {"deep": "no/such/deep/page/", "shallow": "nope"}


@pytest.mark.browser
@pytest.mark.parametrize("path", NOT_FOUND.values(), ids=NOT_FOUND.keys())
def test_unknown_address_shows_the_chinese_404_page(context, site_url, path):
    page = context.new_page()
    problems = Problems(page)
    url = site_url + path
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 404
    assert page.locator("article h1").first.inner_text().startswith("页面不存在")
    # styled: Material's and the portal's stylesheets loaded and apply (compared with all of them off)
    style = """() => { const s = getComputedStyle(document.querySelector('.md-header'));
        return [s.position, s.backgroundColor, s.height].join(' '); }"""
    styled = page.evaluate(style)
    page.evaluate("() => { for (const sheet of document.styleSheets) sheet.disabled = true; }")
    assert page.evaluate(style) != styled, "the 404 page looks the same without its stylesheets: they did not load"
    page.evaluate("() => { for (const sheet of document.styleSheets) sheet.disabled = false; }")
    sheets = page.evaluate("() => [...document.styleSheets].map(s => s.href || '')")
    assert any(h.startswith(site_url) and h.endswith("assets/portal.css") for h in sheets), sheets
    assert page.evaluate("() => getComputedStyle(document.querySelector('form.portal-search-form')).display") == "flex"
    own = (
        f"HTTP 404: {url}",
        f"console error: Failed to load resource: the server responded with a status of 404 (Not Found) ({url})",
    )
    assert [p for p in problems.items if p not in own] == []  # the page's own status is the one error
    # every link answers 200 from here: absolute paths under the site's path, not relative to this address
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
    local = {h.split("#")[0] for h in hrefs if h.startswith(site_url) and h.split("#")[0] != url}
    assert {site_url + p for p in ("", "catalog/", "documents/", "regions/", "downloads/")} <= local
    failing = {h: status for h in sorted(local) if (status := context.request.get(h).status) != 200}
    assert failing == {}


@pytest.mark.browser
def test_the_404_search_form_finds_pages(context, site_url):
    """The form sends its query to the search page as ?q=, where Pagefind runs it."""
    regions = read_csv(DATASETS / CORPUS.document / "data" / "regions.csv")
    name = next(r["name_zh"] for r in regions if r["region_id"] == CORPUS.region)
    page = context.new_page()
    page.goto(site_url + NOT_FOUND["deep"], wait_until="load")
    page.locator("form.portal-search-form input[name=q]").fill(name)
    page.locator("form.portal-search-form button[type=submit]").click()
    page.wait_for_url(f"{site_url}search/?q=*")
    assert page.locator(SEARCH_BOX).input_value() == name
    results = results_of(page, site_url, name)
    expected = place_pages()[name]  # as in test_search_every_place_name: its region page, or its plan's pages
    assert expected & set(results[:5]), f"{name}: expected one of {sorted(expected)[:3]} in {results[:5]}"


# ---------------------------------------------------------------------------------------------------
# 2b. every place name of the corpus (last in the file: it fails until the site fixes query segmentation)


# the ranking the search page gives Pagefind (docs/assets/search.js), read from it: the same for the API below
SEARCH_JS = (ROOT / "docs" / "assets" / "search.js").read_text(encoding="utf-8")
SEARCH_RANKING = re.search(r"ranking:\s*(\{[^}]*\})", SEARCH_JS).group(1)


def first_results(page, queries: list[str]) -> dict[str, list[str]]:
    """The first 5 result URLs of each query, from Pagefind's own API on the search page, with the search page's
    base and ranking: what its box shows for the query, for hundreds of queries in seconds (typing each one
    into the box, as the tests above do, takes half a second a query)."""
    return page.evaluate(
        f"""async (queries) => {{
            const bundle = new URL('../pagefind/', location.href);
            const pagefind = await import(new URL('pagefind.js', bundle).href);
            await pagefind.options({{ baseUrl: new URL('..', bundle).pathname, ranking: {SEARCH_RANKING} }});
            const out = {{}};
            for (const q of queries) {{
                const found = await pagefind.search(q);
                out[q] = await Promise.all(found.results.slice(0, 5).map(async r => (await r.data()).url));
            }}
            return out;
        }}""",
        queries,
    )


def place_pages() -> dict[str, set[str]]:
    """Each region name → the pages a search for it should find first: the region's page and, for a
    region that has its own plan, that plan's document and dataset pages."""
    docs_of: dict[str, set[str]] = {}
    for path in sorted(DATASETS.glob("*/data/documents.csv")):
        for d in read_csv(path):
            docs_of.setdefault(d["region_id"], set()).add(d["doc_id"])
    datasets = {(d, f) for d, f, _ in figure_rows()}
    names: dict[str, set[str]] = {}
    for path in sorted(DATASETS.glob("*/data/regions.csv")):
        for r in read_csv(path):
            pages = names.setdefault(r["name_zh"], set())
            pages.add(f"regions/{r['region_id']}/")
            for doc_id in docs_of.get(r["region_id"], ()):
                pages |= {f"documents/{doc_id}/"} | {dataset_page(d, f) for d, f in datasets if d == doc_id}
    return names


@pytest.mark.browser
def test_search_every_place_name(context, site_url):
    """Every province, prefecture, county, township and village name, typed as printed, finds its page
    among the first 5 results (Material's search lost 上新庄镇 and 共和县 among their characters' words;
    Pagefind 1.6 cuts a query as it cut the index, see build_scripts/stages/search.py)."""
    names = place_pages()
    page = context.new_page()
    open_search(page, site_url)
    found = first_results(page, sorted(names))
    misses = []
    for name, pages in sorted(names.items()):
        results = [site_path(url, site_url) for url in found[name]]
        if not pages & set(results[:5]):
            misses.append(f"{name} → expected one of {sorted(pages)[:3]} in {results[:5]}")
    assert misses == [], f"{len(misses)} of {len(names)} place names miss their page:\n" + "\n".join(misses)


RUN_TOGETHER = {
    "real": [
        ("2019投资", investments_in("2019"), 5),  # a year and a topic typed without a space
        ("共和县投资", {"datasets/gonghe-2018-investments/"}, 1),  # a place and a topic typed as one run
    ],
    "fixture": [
        ("2019退出", exits_in("2019"), 5),
        ("示例县投资", {"datasets/mini-2020-investments/"}, 1),
    ],
}[CORPUS.name]


@pytest.mark.browser
@pytest.mark.parametrize(("query", "expected", "top"), RUN_TOGETHER, ids=["year-topic", "place-topic"])
def test_search_words_run_together(context, site_url, query, expected, top):
    """Chinese is typed without spaces: a query of two words finds the pages that hold both
    (Material's search glued 2019 to 投资 and ORed the words of a run)."""
    page = context.new_page()
    open_search(page, site_url)
    results = search(page, site_url, query)
    assert expected & set(results[:top]), (
        f"{query!r}: expected one of {sorted(expected)} in the first {top} results, got {results[:top]}"
    )


# ---------------------------------------------------------------------------------------------------
# 8. readers: every page type on a desktop and a phone (issue 12)

PAGE_TYPES = {
    "home": "",
    "catalog": "catalog/",
    "dataset": DATASET_PAGE,
    "region": REGION_PAGE,
    "document": f"documents/{CORPUS.document}/",
    "documents": "documents/",
    "regions": "regions/",
    "compare": "compare/",
    "quality": "quality/",
    "downloads": "downloads/",
    "changelog": "changelog/",
    "methodology": "methodology/",
    "about": "about/",
    "search": "search/?q=共和县",
}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def code_tokens() -> set[str]:
    """The codes of the label table a reader must never see as words: every coded value with letters in it,
    and the comparators >= and <= ('=' alone is too common in plain text to tell apart)."""
    from build_scripts.families import LABELS

    out = set()
    for column, table in LABELS.items():
        if column in ("level_en", "breakdown_word"):
            continue
        out |= {code for code in table if any(c.isalpha() and c.isascii() for c in code) or code in (">=", "<=")}
    return out | {"True", "False", "None"}  # Python's words for booleans and missing values


# visible article text without code spans, small print (codes may follow a name there) and English alternates
VISIBLE_TEXT = """() => {
    const skip = 'code, pre, small, [lang=en], .headerlink, script, style';
    const walker = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    const out = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!el.closest(skip) && el.checkVisibility()) out.push(n.textContent);  // not inside a closed <details>
    }
    return out.join(' ');
}"""

NUMERIC_CELLS_WRAPPED = """() => {
    const out = [];
    for (const el of document.querySelectorAll('article td.num, article .nb')) {
        if (!el.offsetParent) continue;  // hidden (closed <details>)
        const range = document.createRange();
        range.selectNodeContents(el);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) out.push(el.textContent.trim());
    }
    return out.slice(0, 10);
}"""


def phone_or_desktop(browser, viewport):
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    ctx.set_default_timeout(20_000)
    return ctx


@pytest.mark.browser
@pytest.mark.parametrize("view", list(VIEWPORTS))
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_page_types_for_readers(browser, site_url, kind, view):
    """No horizontal page scroll, no number broken across lines, no code of the label table as a word."""
    ctx = phone_or_desktop(browser, VIEWPORTS[view])
    try:
        page = ctx.new_page()
        response = page.goto(site_url + PAGE_TYPES[kind], wait_until="load")
        assert response is not None and response.status == 200
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] + 1, f"{kind} ({view}): the page scrolls sideways: {width}"
        wrapped = page.evaluate(NUMERIC_CELLS_WRAPPED)
        assert wrapped == [], f"{kind} ({view}): numbers broken across lines: {wrapped}"
        text = page.evaluate(VISIBLE_TEXT)
        tokens = sorted(code_tokens(), key=len, reverse=True)
        pattern = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(t) for t in tokens) + r")(?![\w/.-])")
        seen = sorted(set(pattern.findall(text)))
        assert seen == [], f"{kind} ({view}): codes shown to readers: {seen}"
    finally:
        ctx.close()


ENGLISH_TEXT = VISIBLE_TEXT.replace("small, [lang=en], ", "[lang^=zh], ")  # the article's English words


@pytest.mark.browser
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_english_page_types_for_readers(browser, site_url, kind):
    """The English twin of every page type on a phone: no sideways scroll, no number broken across lines, no
    code (snake_case, >=, True/None) shown as a word."""
    ctx = phone_or_desktop(browser, PHONE)
    try:
        page = ctx.new_page()
        path = "en/" + PAGE_TYPES[kind].replace("?q=共和县", "?q=Gonghe" if CORPUS.is_real else "?q=Example")
        response = page.goto(site_url + path, wait_until="load")
        assert response is not None and response.status == 200, path
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] + 1, f"{path}: the page scrolls sideways: {width}"
        wrapped = page.evaluate(NUMERIC_CELLS_WRAPPED)
        assert wrapped == [], f"{path}: numbers broken across lines: {wrapped}"
        text = page.evaluate(ENGLISH_TEXT)
        codes = {t for t in code_tokens() if "_" in t or not t.isalpha()}
        pattern = re.compile(
            r"(?<![\w/.-])(" + "|".join(re.escape(t) for t in sorted(codes, key=len, reverse=True)) + r")(?![\w/.-])"
        )
        assert not pattern.findall(text), f"{path}: codes shown to readers: {sorted(set(pattern.findall(text)))}"
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 390])
def test_charts_legible_on_a_phone(browser, site_url, width):
    """Chart text is at least 11 px as displayed: the smallest font size in the SVG times the image's scale,
    in both editions (English charts are drawn separately, with their own labels)."""
    ctx = phone_or_desktop(browser, {"width": width, "height": 800})
    try:
        page = ctx.new_page()
        small = []
        for path in (DATASET_PAGE, REGION_PAGE, "compare/", f"en/{DATASET_PAGE}", f"en/{REGION_PAGE}", "en/compare/"):
            page.goto(site_url + path, wait_until="load")
            imgs = page.locator("figure.portal-chart img")
            for i in range(imgs.count()):
                img = imgs.nth(i)
                src, shown = img.get_attribute("src"), img.evaluate("el => el.getBoundingClientRect().width")
                svg = page.request.get(urljoin(page.url, src)).text()
                natural = float(re.search(r'<svg[^>]*\swidth="([\d.]+)"', svg).group(1))
                sizes = [float(x) for x in re.findall(r'font-size="([\d.]+)(?:px)?"', svg)]
                displayed = min(sizes) * shown / natural
                if displayed < 11:
                    small.append(f"{path} {src}: {displayed:.1f} px")
        assert small == [], f"chart text under 11 px at {width} px: {small}"
    finally:
        ctx.close()


def source_lines(doc_id: str) -> list[str] | None:
    doc = read_csv(DATASETS / doc_id / "data" / "documents.csv")[0]
    path = CORPUS.sources / doc["source_file"]
    return path.read_bytes().decode("utf-8").split("\n") if path.is_file() else None


@pytest.mark.browser
@pytest.mark.parametrize("view", list(VIEWPORTS))
def test_figure_anchor_shows_its_source_sentence(browser, site_url, view):
    """One click from a dataset row to the sentence: the figure is marked, the sentence is the source's own text
    on the row's lines, and the figure links back to its dataset."""
    lines = source_lines(CORPUS.document)
    assert lines is not None, f"the source text of {CORPUS.document} is missing in {CORPUS.sources}"
    ctx = phone_or_desktop(browser, VIEWPORTS[view])
    try:
        page = ctx.new_page()
        page.goto(site_url + DATASET_PAGE, wait_until="load")
        row = page.locator("table.portal-sticky tbody tr").nth(1)
        figure_id = row.get_attribute("id")
        row.locator("a.src").click()
        page.wait_for_url(f"**/documents/{CORPUS.document}/#{figure_id}")
        target = page.locator(f"[id='{figure_id}']")
        target.wait_for(state="visible")
        assert target.locator("blockquote.portal-excerpt").is_visible(), f"{figure_id}: no source sentence shown"
        in_view = target.evaluate("el => { const r = el.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }")
        assert in_view, f"{figure_id}: the anchor is not scrolled into view"
        expected = next(
            r for r in read_csv(DATASETS / CORPUS.document / "data" / "investments.csv") if r["figure_id"] == figure_id
        )
        assert target.locator("mark").inner_text() == expected["value_as_printed"]
        quote = target.locator("blockquote p").inner_text().strip("…")
        text = "\n".join(x.strip() for x in lines[int(expected["line_start"]) - 1 : int(expected["line_end"])])
        assert " ".join(quote.split()) in " ".join(text.split()), f"{figure_id}: {quote!r} is not on its source lines"
        back = target.locator(".portal-fig-links a", has_text="数据集")
        assert back.count() >= 1 and back.first.get_attribute("href").endswith(f"{CORPUS.chart_dataset}/#{figure_id}")
    finally:
        ctx.close()


@pytest.mark.browser
def test_pages_open_with_key_figures_then_charts(context, site_url):
    """Dataset and region pages: a summary of key figures, each with its source link, before the charts;
    checksums are folded away."""
    page = context.new_page()
    for path in (DATASET_PAGE, REGION_PAGE):
        page.goto(site_url + path, wait_until="load")
        keys = page.locator(".portal-keys .portal-key")
        assert keys.count() >= 2, f"{path}: no key figures"
        for i in range(keys.count()):
            href = keys.nth(i).locator("a.src").get_attribute("href")
            assert f"documents/{CORPUS.document}/#" in href, f"{path}: key figure {i} has no source link ({href})"
        order = page.evaluate(
            "() => { const k = document.querySelector('.portal-keys'), c = document.querySelector('figure.portal-chart');"
            " return c ? !!(k.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING) : true; }"
        )
        assert order, f"{path}: charts come before the key figures"
        for sha in page.locator("code.sha").all():
            assert not sha.is_visible(), f"{path}: a checksum is shown before the reader asks for it"


@pytest.mark.browser
def test_citation_has_address_date_and_copy(browser, site_url):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        page = ctx.new_page()
        page.goto(site_url + DATASET_PAGE, wait_until="load")
        cite = page.locator("#cite-gbt")
        today = page.evaluate("() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()]; }")
        text = cite.inner_text()
        assert "%04d-%02d-%02d" % tuple(today) in text, f"no access date of today in {text!r}"
        assert "引用日期" not in text and "example.org" not in text, text
        assert (site_url + DATASET_PAGE) in text or "http" in text, text
        page.locator("button[data-copy='cite-gbt']").click()
        assert page.evaluate("() => navigator.clipboard.readText()") == text
    finally:
        ctx.close()


@pytest.mark.browser
def test_chart_downloads_are_named_and_credited(context, site_url):
    page = context.new_page()
    page.goto(site_url + DATASET_PAGE, wait_until="load")
    figure = page.locator("figure.portal-chart").first
    img = figure.locator("img")
    assert img.get_attribute("role") == "img" and img.get_attribute("alt"), "a chart needs role=img and a title"
    described = img.get_attribute("aria-describedby")
    assert described and page.locator(f"[id='{described}']").inner_text().strip(), "a chart needs a description"
    details = page.locator("details.portal-chart-data").first
    details.locator("summary").click()  # the data table is one click away
    assert details.locator("table").is_visible()
    link = details.locator("a[download$='.svg']")
    name = link.get_attribute("download")
    assert not re.fullmatch(r"[0-9a-f]{16}\.svg", name) and re.search(r"[\u4e00-\u9fff]", name), f"unreadable file name {name}"
    svg = page.request.get(urljoin(page.url, link.get_attribute("href"))).text()
    texts = re.sub(r"<[^>]+>", "", " ".join(re.findall(r"<text\b.*?</text>", svg, re.S)))  # lines may be <tspan>s
    for must in ("来源", "脱贫攻坚规划开放数据门户", "CC-BY-4.0"):
        assert must in texts, f"the downloaded chart does not carry {must!r}"
