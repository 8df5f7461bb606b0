"""The English edition (issue 15): every Chinese page has an English twin under en/ and back, each leads to
the other (switch, hreflang), English pages show Chinese only in names, printed values and quoted source
text, the hand-written pages exist in both languages, and in a browser the switch, English search and the
English 404 work.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import CORPUS
from english import chinese_outside_quotes
from helpers import ROOT, Page, read_csv

from build_scripts.errors import DataError
from build_scripts.i18n import Edition, catalog

DATASETS = CORPUS.packages
NOT_PAGES = ("en", "pagefind", "assets", "charts", "data", "api")  # folders of the root that hold no Chinese page


def chinese_pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in NOT_PAGES}


def english_pages(site: Path) -> set[str]:
    en = site / "en"
    return {p.relative_to(en).as_posix() for p in en.rglob("*.html") if p.relative_to(en).parts[0] not in NOT_PAGES}


def test_every_page_has_its_twin_and_back(built_site):
    zh, en = chinese_pages(built_site), english_pages(built_site)
    assert len(zh) > 20, sorted(zh)[:5]
    assert not zh - en, f"Chinese pages without an English twin: {sorted(zh - en)[:20]}"
    assert not en - zh, f"English pages without a Chinese twin: {sorted(en - zh)[:20]}"


def site_home(site: Path) -> str:
    """The site's public address, as the build wrote it: the sitemap's first page."""
    from xml.etree import ElementTree

    return ElementTree.parse(site / "sitemap.xml").find(".//{http://www.sitemaps.org/schemas/sitemap/0.9}loc").text


def url_of(rel: str) -> str:
    """The address path of a built file: a/index.html is served as a/."""
    return rel[: -len("index.html")] if rel.endswith("index.html") else rel


def test_each_page_declares_its_language_and_links_its_twin(built_site):
    """html lang, and the header's switch (<a hreflang>) to the same page in the other edition, on every page."""
    home = site_home(built_site)
    problems = []
    for rel in sorted(chinese_pages(built_site)):
        if rel == "404.html":
            continue
        for lang, prefix, other, other_lang in (("zh", "", "en/", "en"), ("en", "en/", "", "zh-CN")):
            page = Page.of(built_site / prefix / rel)
            html = next(a for t, a in page.elements if t == "html")
            if html.get("lang") != lang:
                problems.append(f"{prefix}{rel}: html lang={html.get('lang')!r}")
            switch = [a for t, a in page.elements if t == "a" and "data-lang-switch" in a]
            target = urljoin(f"{home}{prefix}{url_of(rel)}", switch[0]["href"]) if switch else None
            if target != f"{home}{other}{url_of(rel)}" or switch[0].get("hreflang") != other_lang:
                problems.append(f"{prefix}{rel}: the switch leads to {target} ({switch[0].get('hreflang') if switch else ''})")
            # Material fetches sitemap.xml beside every <link rel=alternate hreflang>: the alternates are in the sitemap
            if any(t == "link" and a.get("hreflang") for t, a in page.elements):
                problems.append(f"{prefix}{rel}: a <link hreflang> (Material would fetch a sitemap beside it)")
    assert not problems, "\n".join(problems[:20])


def test_english_pages_show_chinese_only_in_names_printed_values_and_quotes(built_site):
    """Han characters (and CJK punctuation) outside lang="zh-CN" names, printed values and source quotes."""
    found = {}
    for rel in sorted(english_pages(built_site)):
        texts = chinese_outside_quotes((built_site / "en" / rel).read_text(encoding="utf-8"))
        if texts:
            found[rel] = list(dict.fromkeys(texts))[:5]
    assert not found, f"{len(found)} English pages show Chinese: " + json.dumps(
        dict(list(found.items())[:10]), ensure_ascii=False, indent=1
    )


def test_the_english_check_finds_chinese_outside_quotes():
    """The checker itself: allowed marks pass, anything else is reported (text and read attributes)."""
    ok = (
        '<body><p>Gonghe County (<span lang="zh-CN" class="zh">共和县</span>): '
        '885 (<span lang="zh-CN" class="printed">885万元</span>)</p></body>'
    )
    assert chinese_outside_quotes(ok) == []
    bad = '<body><p>计划</p><img alt="图表"><span lang="zh-CN">未译</span><span class="zh">无语言</span></body>'
    assert len(chinese_outside_quotes(bad)) == 4


def handwritten(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.md")
        if p.relative_to(folder).parts[0] not in ("en", "overrides")
    }


def test_handwritten_pages_exist_in_both_languages():
    zh, en = handwritten(ROOT / "docs"), handwritten(ROOT / "docs" / "en")
    assert zh, "no hand-written pages found"
    assert zh == en, f"only in Chinese: {sorted(zh - en)}; only in English: {sorted(en - zh)}"


def test_a_chinese_text_without_english_fails_the_english_build_by_name():
    with pytest.raises(DataError) as err:
        Edition("en").t("一句没有英文的界面文字")
    assert "一句没有英文的界面文字" in str(err.value.problems[0])
    assert Edition("zh").t("一句没有英文的界面文字") == "一句没有英文的界面文字"


def test_the_catalog_has_no_empty_or_chinese_english():
    bad = {zh: en for zh, en in catalog().items() if not en.strip() or re.search(r"[\u4e00-\u9fff]", en)}
    assert not bad, bad


# ---------------------------------------------------------------------------------------------------
# what an English reader sees, checked against the packages


def region_row(region_id: str) -> dict:
    for path in sorted(DATASETS.glob("*/data/regions.csv")):
        for r in read_csv(path):
            if r["region_id"] == region_id:
                return r
    raise AssertionError(f"region {region_id} not in the packages")


def test_place_names_are_english_with_the_chinese_on_first_use(built_site):
    r = region_row(CORPUS.region)
    page = (built_site / "en" / "regions" / CORPUS.region / "index.html").read_text(encoding="utf-8")
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", h1)
    assert f"{r['name_en']} ({r['name_zh']})" in text, text
    assert re.search(rf'<span lang="zh-CN" class="zh">{re.escape(r["name_zh"])}</span>', h1)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert r["name_en"] in title and r["name_zh"] not in title, title


def test_english_dataset_rows_keep_the_printed_value_beside_the_value(built_site):
    ds = CORPUS.chart_dataset
    doc_id, family = CORPUS.document, ds[len(CORPUS.document) + 1 :].replace("-", "_")
    rows = read_csv(DATASETS / doc_id / "data" / f"{family}.csv")
    page = Page.of(built_site / "en" / "datasets" / ds / "index.html")
    raw = page.raw
    shown = [r for r in rows if f'id="{r["figure_id"]}"' in raw]
    assert shown, "no figure row of the dataset on its English page"
    for r in shown:
        row = raw[raw.index(f'id="{r["figure_id"]}"') :].split("</tr>", 1)[0]
        printed = re.findall(r'<span lang="zh-CN" class="printed">(.*?)</span>', row)
        assert printed and printed[0].replace("&amp;", "&") == r["value_as_printed"], (r["figure_id"], printed)
        assert r["indicator_en"] in row.replace("&amp;", "&").replace("&#39;", "'"), (r["figure_id"], r["indicator_en"])


def test_document_titles_are_marked_as_translated(built_site):
    doc = read_csv(DATASETS / CORPUS.document / "data" / "documents.csv")[0]
    page = (built_site / "en" / "documents" / CORPUS.document / "index.html").read_text(encoding="utf-8")
    assert doc["title_en"] in page.replace("&#39;", "'")
    # the note under the heading: the English title is ours, the Chinese original beside it
    assert "english title is the portal's translation" in page.replace("&#39;", "'").lower()


def test_english_dataset_pages_have_english_metadata_and_citation(built_site):
    page = Page.of(built_site / "en" / "datasets" / CORPUS.chart_dataset / "index.html")
    ld = json.loads(page.jsonld[0])
    assert ld["inLanguage"] == "en" and not re.search(r"[\u4e00-\u9fff]", ld["name"]), ld["name"]
    assert ld["url"].endswith(f"/en/datasets/{CORPUS.chart_dataset}/")
    zh = json.loads(Page.of(built_site / "datasets" / CORPUS.chart_dataset / "index.html").jsonld[0])
    assert zh["inLanguage"] == "zh-CN"
    text = page.visible
    assert "[Dataset]" in text.replace(" ", "") or "[Dataset]" in text, "no APA-like citation"
    assert "@misc{" in text


def test_dcat_titles_and_descriptions_carry_both_languages(built_site):
    graph = json.loads((built_site / "catalog.jsonld").read_text(encoding="utf-8"))
    for ds in graph["dcat:dataset"]:
        for key in ("dct:title", "dct:description"):
            tags = {v["@language"] for v in ds[key]} if isinstance(ds[key], list) else {ds[key]["@language"]}
            assert tags == {"zh", "en"}, (ds["@id"], key, tags)
        pages = {p["@id"] for p in ds["dcat:landingPage"]}
        assert any("/en/datasets/" in p for p in pages) and len(pages) == 2, pages


def test_the_sitemap_lists_both_editions_with_alternates(built_site):
    from xml.etree import ElementTree

    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = ElementTree.parse(built_site / "sitemap.xml").getroot().findall("s:url", ns)
    locs = {u.findtext("s:loc", namespaces=ns) for u in urls}
    english = {loc for loc in locs if "/en/" in urlsplit(loc).path}
    assert english and len(english) == len(locs) - len(english), (len(english), len(locs))
    for u in urls:
        langs = {link.get("hreflang") for link in u.findall("x:link", ns)}
        assert langs == {"zh-CN", "en", "x-default"}, (u.findtext("s:loc", namespaces=ns), langs)
    assert not (built_site / "en" / "sitemap.xml").exists()


def test_an_address_under_en_gets_the_english_404(site_url):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(site_url + "en/no-such-page/", timeout=10)
    assert err.value.code == 404
    body = err.value.read().decode("utf-8")
    assert '<html lang="en"' in body and not chinese_outside_quotes(body), chinese_outside_quotes(body)[:5]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(site_url + "no-such-page/", timeout=10)
    assert '<html lang="zh"' in err.value.read().decode("utf-8")


# ---------------------------------------------------------------------------------------------------
# in a browser: the switch, English search


@pytest.fixture
def en_context(browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True, has_touch=True)
    ctx.set_default_timeout(20_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.mark.browser
def test_the_switch_lands_on_the_twin_and_back(en_context, site_url):
    page = en_context.new_page()
    start = f"{site_url}regions/{CORPUS.region}/"
    page.goto(start, wait_until="load")
    page.locator("[data-lang-switch]").click()
    page.wait_for_url(f"{site_url}en/regions/{CORPUS.region}/")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert region_row(CORPUS.region)["name_en"] in page.locator("article h1").inner_text()
    page.locator("[data-lang-switch]").click()
    page.wait_for_url(start)
    assert page.evaluate("document.documentElement.lang") == "zh"


def english_results(page, site_url, query: str) -> list[str]:
    from test_browser import SEARCH_BOX, results_of

    page.goto(f"{site_url}en/search/", wait_until="load")
    page.wait_for_selector(SEARCH_BOX)
    page.locator(SEARCH_BOX).press_sequentially(query)
    return results_of(page, site_url, query)


def pages_with_english(term: str) -> set[str]:
    """English pages that show a figure whose English fields contain term: its dataset, document and region pages."""
    out = set()
    for path in sorted(DATASETS.glob("*/data/*.csv")):
        doc_id, family = path.parent.parent.name, path.stem
        if family in ("regions", "documents", "plans"):
            continue
        for row in read_csv(path):
            if any(term.lower() in (v or "").lower() for k, v in row.items() if k.endswith("_en")):
                out |= {
                    f"en/datasets/{doc_id}-{family.replace('_', '-')}/",
                    f"en/documents/{doc_id}/",
                    f"en/regions/{row['region_id']}/",
                }
    return out


@pytest.mark.browser
def test_english_search_finds_english_pages(en_context, site_url):
    page = en_context.new_page()
    # a place by its English name: its region page first, and only English pages
    name = region_row(CORPUS.region)["name_en"].split()[0]
    results = english_results(page, site_url, name)
    assert results[:1] == [f"en/regions/{CORPUS.region}/"], (name, results[:5])
    assert all(r.startswith("en/") for r in results), results
    # a topic in English: the pages of the figures that name it
    topic = "relocation" if CORPUS.is_real else "training"
    holders = pages_with_english(topic)
    assert holders, f"test data drifted: no English field holds {topic!r}"
    results = english_results(page, site_url, topic)
    assert results and results[0] in holders, (topic, results[:5])
    assert all(r.startswith("en/") for r in results), results
