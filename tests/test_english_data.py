"""The English data pages (datasets, documents, regions, their lists, the catalog) as an English reader sees
them: no Chinese but names in parentheses, values as printed and quoted source text; a citation, a title
and schema.org in English; the Chinese pages keep theirs."""

from __future__ import annotations

import json
import re

from conftest import CORPUS
from english import chinese_outside_quotes
from helpers import Page, read_csv

HAN = re.compile(r"[\u3400-\u9fff]")
DATA_PAGES = re.compile(r"en/(datasets|documents|regions)/|en/catalog/index\.html")
# chart titles, captions and data tables are drawn by stages/charts.py in the edition's language: not these templates'
CHART_PARTS = (
    r'<figure class="portal-chart".*?</figure>',
    r'<details class="portal-chart-data".*?</details>',
    r'<a href="[^"]*#chart-[^"]*">.*?</a>',
)


def data_pages(site):
    return [p for p in sorted((site / "en").rglob("*.html")) if DATA_PAGES.match(p.relative_to(site).as_posix())]


def without_charts(html: str) -> str:
    for part in CHART_PARTS:
        html = re.sub(part, "", html, flags=re.S)
    return html


def first_dataset(site) -> str:
    return sorted(p.name for p in (site / "datasets").iterdir() if p.is_dir())[0]


def test_english_data_pages_have_no_chinese_but_names_printed_values_and_quotes(built_site):
    pages = data_pages(built_site)
    assert len(pages) >= len(list((built_site / "regions").iterdir()))
    found = {
        p.relative_to(built_site).as_posix(): f
        for p in pages
        if (f := chinese_outside_quotes(without_charts(p.read_text(encoding="utf-8"))))
    }
    assert not found, found


def test_english_dataset_page_titles_cites_and_describes_itself_in_english(built_site):
    ds = first_dataset(built_site)
    en, zh = Page.of(built_site / "en/datasets" / ds / "index.html"), Page.of(built_site / "datasets" / ds / "index.html")
    title = re.search(r"<title>(.*?)</title>", en.raw, re.S).group(1)
    assert not HAN.search(title), title
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", en.raw, re.S).group(1)
    assert re.search(r'\(<span lang="zh-CN" class="zh">[^<]+</span>\)', h1), h1  # English (中文)
    cite = re.search(r'<p class="portal-cite" id="cite-gbt">(.*?)</p>', en.raw, re.S).group(1)
    assert "[Data set]" in cite and "data-cite-date" in cite and "data-cite-url" in cite and "accessed" in cite, cite
    assert ">APA<" in en.raw and "GB/T 7714" not in en.raw and "GB/T 7714" in zh.raw
    ld_en, ld_zh = json.loads(en.jsonld[0]), json.loads(zh.jsonld[0])
    assert (ld_en["inLanguage"], ld_zh["inLanguage"]) == ("en", "zh-CN")
    assert ld_en["url"].endswith(f"en/datasets/{ds}/") and not ld_zh["url"].endswith(f"en/datasets/{ds}/")
    assert not any(HAN.search(x) for x in [ld_en["name"], ld_en["description"], *ld_en["keywords"]]), ld_en
    assert ld_en["distribution"] == ld_zh["distribution"]  # one set of downloads


def figure_table(html: str) -> tuple[list[str], list[list[str]]]:
    """The dataset page's table of figures as text: its header cells and its rows' cells."""
    table = re.search(r'<table class="portal-table portal-sticky">(.*?)</table>', html, re.S).group(1)

    def cells(row: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]

    head, *rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return cells(head), [cells(r) for r in rows]


def test_english_tables_say_yes_and_no(built_site):
    ds = first_dataset(built_site)
    head_en, rows_en = figure_table((built_site / "en/datasets" / ds / "index.html").read_text(encoding="utf-8"))
    head_zh, rows_zh = figure_table((built_site / "datasets" / ds / "index.html").read_text(encoding="utf-8"))
    col_en, col_zh = head_en.index("Is total"), head_zh.index("是否合计")
    assert rows_en and {r[col_en] for r in rows_en} <= {"yes", "no"}
    assert [r[col_zh] for r in rows_zh] == [{"yes": "是", "no": "否"}[r[col_en]] for r in rows_en]


def test_a_place_is_named_with_its_chinese_once_per_english_page(built_site):
    regions = {r["region_id"]: r for pkg in CORPUS.package_dirs() for r in read_csv(pkg / "data" / "regions.csv")}
    for rid, r in regions.items():
        html = (built_site / "en/regions" / rid / "index.html").read_text(encoding="utf-8")
        article = html[html.index("<article") : html.index("</article>")]
        assert article.count(f'<span lang="zh-CN" class="zh">{r["name_zh"]}</span>') == 1, rid
        assert r["name_en"] in article, rid
