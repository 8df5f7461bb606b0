"""The built site, as a journalist and a machine would read it: the real corpus when its source texts are
here, else the fixture package (conftest.CORPUS)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import CORPUS
from helpers import Page, parse_csv, read_csv

from build_scripts.families import FIGURE_NAMES


def expected_datasets() -> dict[str, Path]:
    """Dataset ids read straight from the packages: one per non-empty figure resource."""
    out = {}
    for pkg in CORPUS.package_dirs():
        for res in yaml.safe_load((pkg / "datapackage.yaml").read_text(encoding="utf-8"))["resources"]:
            path = pkg / res["path"]
            if res["name"] in FIGURE_NAMES and read_csv(path):
                out[f"{pkg.name}-{res['name'].replace('_', '-')}"] = path
    return out


DATASETS = expected_datasets()


def page(site: Path, url: str) -> Page:
    return Page.of(site / url / "index.html")


def test_the_corpus_has_every_family():
    """The fixture exists so that no family goes untested: every family has a dataset in the corpus."""
    assert {ds_id.split("-", 2)[-1].replace("-", "_") for ds_id in DATASETS} == set(FIGURE_NAMES)


@pytest.mark.parametrize("ds_id", sorted(DATASETS))
def test_dataset_page_downloads_parse_and_hold_the_package_rows(built_site, ds_id):
    source_rows = read_csv(DATASETS[ds_id])
    ids = [r["figure_id"] for r in source_rows]
    p = page(built_site, f"datasets/{ds_id}")
    hrefs = [a["href"] for a in p.links if "download" in a]
    files = {
        Path(h).suffix: (built_site / "datasets" / ds_id / h).resolve()
        for h in hrefs
        if "/downloads/" in h and not h.endswith("datapackage.json")
    }
    assert {".csv", ".xlsx", ".json", ".zip"} <= set(files), hrefs
    raw = files[".csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must carry a BOM so that Excel reads UTF-8"
    csv_rows = parse_csv(raw.decode("utf-8"))
    assert [r["figure_id"] for r in csv_rows] == ids
    assert [r["value_as_printed"] for r in csv_rows] == [r["value_as_printed"] for r in source_rows]
    wb = openpyxl.load_workbook(files[".xlsx"], read_only=True)
    xrows = list(wb["data"].iter_rows(values_only=True))
    assert [r[0] for r in xrows[1:]] == ids
    data = json.loads(files[".json"].read_text(encoding="utf-8"))
    assert [r["figure_id"] for r in data["rows"]] == ids
    jsons = [f for f in hrefs if f.endswith("datapackage.json")]
    assert jsons
    with zipfile.ZipFile(files[".zip"]) as z:
        names = z.namelist()
        assert "datapackage.json" in names
        desc = json.loads(z.read("datapackage.json"))
        assert {r["name"] for r in desc["resources"]} >= {"documents", "regions"}


def test_zipped_package_validates_on_its_own(built_site, tmp_path):
    from frictionless import Package

    ds_id = sorted(DATASETS)[0]
    z = next((built_site / "downloads" / ds_id).glob("*.zip"))
    zipfile.ZipFile(z).extractall(tmp_path)
    report = Package(str(tmp_path / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "note"])[:5]


@pytest.mark.parametrize("ds_id", sorted(DATASETS))
def test_dataset_page_has_json_ld_and_schema_table(built_site, ds_id):
    html = (built_site / "datasets" / ds_id / "index.html").read_text(encoding="utf-8")
    head = html.split("</head>")[0]
    p = Page(head)
    assert len(p.jsonld) == 1
    ld = json.loads(p.jsonld[0])
    assert ld["@type"] == "Dataset" and ld["name"] and ld["license"].startswith("https://creativecommons.org/licenses/by/4.0")
    formats = {d["encodingFormat"] for d in ld["distribution"]}
    assert {"text/csv", "application/json", "application/zip"} <= formats
    for field in ("figure_id", "value_as_printed", "line_start"):
        assert f"<code>{field}</code>" in html
    assert "GB/T 7714" in html and "@misc{" in html


def chartable(rows: list[dict]) -> bool:
    """Two or more parts that describe the same thing: causes, yearly exits, or amounts of one breakdown
    labelled by the same dimensions (a chart of one bar, or of a yearly sum beside a one-off, is not made)."""
    groups: dict = {}
    for r in rows:
        # the journalist's rule: amounts that are neither totals nor restatements, within one group
        if r.get("is_total") != "false" or r.get("basis") != "amount" or r.get("restates"):
            continue
        dims = tuple(k for k in ("category_zh", "funding_source_zh", "year", "project_zh", "cause_zh") if r.get(k))
        group = (
            r.get("plan_id"),
            r.get("breakdown") or r.get("part_of"),
            r.get("status"),
            r.get("unit"),
            dims,
            r.get("unit_counted"),
        )
        if dims or r.get("unit_counted"):
            groups.setdefault(group, []).append(r)
    return any(len(g) >= 2 for g in groups.values())


# datasets with two or more parts that may be added up (the rule, written out again above); the others,
# e.g. Gansu's investments (one programme, shares and rates), have nothing to chart
CHARTABLE = [
    d
    for d in sorted(DATASETS)
    if d.split("-", 2)[-1] in ("investments", "exit-schedules", "poverty-causes") and chartable(read_csv(DATASETS[d]))
]


@pytest.mark.parametrize("ds_id", CHARTABLE)
def test_chart_pages_show_svg_charts_with_downloads(built_site, ds_id):
    p = page(built_site, f"datasets/{ds_id}")
    svgs = [i for i in p.imgs if i.get("src", "").endswith(".svg")]
    assert svgs, "a dataset with chartable rows shows at least one chart"
    for img in svgs:
        target = (built_site / "datasets" / ds_id / img["src"]).resolve()
        svg = target.read_text(encoding="utf-8")
        assert svg.startswith("<svg") and "<text" in svg  # text stays text
        assert img.get("alt")
        for ext in (".png", ".vl.json", ".csv"):
            assert target.with_name(target.name.replace(".svg", ext)).is_file()
        png = target.with_name(target.name.replace(".svg", ".png")).read_bytes()
        assert png.startswith(b"\x89PNG")


HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("path", [f"datasets/{d}" for d in CHARTABLE] + ["compare"])
def test_english_charts_are_drawn_in_english(built_site, path):
    """The English edition's charts are renderings of their own: no Chinese inside the image (title, axes,
    legend, source, credit), in the chart's CSV or in the names its downloads are saved under, no label
    cut short, and none of them is the Chinese page's image."""
    en, zh = page(built_site, f"en/{path}"), page(built_site, path)
    svgs = [i["src"] for i in en.imgs if i.get("src", "").endswith(".svg")]
    assert svgs and not {Path(s).name for s in svgs} & {Path(i.get("src", "")).name for i in zh.imgs}
    for src in svgs:
        target = (built_site / "en" / path / src).resolve()
        texts = re.sub(r"<[^>]+>", " ", " ".join(re.findall(r"<text\b.*?</text>", target.read_text(encoding="utf-8"), re.S)))
        assert not HAN.search(texts), (src, HAN.findall(texts)[:5])
        assert "…" not in texts, f"{src}: a label is cut short"
        assert "Source" in texts and "CC-BY-4.0" in texts, src
        assert not HAN.search(target.with_suffix(".csv").read_text(encoding="utf-8-sig")), src
    names = [a["download"] for a in en.links if "/charts/" in a.get("href", "") and a.get("download")]
    assert names and not [n for n in names if HAN.search(n)]


def test_api_and_data_json_list_every_dataset(built_site):
    api = json.loads((built_site / "api" / "datasets.json").read_text(encoding="utf-8"))
    assert {d["id"] for d in api["datasets"]} == set(DATASETS)
    for ds_id in DATASETS:
        one = json.loads((built_site / "api" / "datasets" / f"{ds_id}.json").read_text(encoding="utf-8"))
        assert one["id"] == ds_id and one["rows"] == len(read_csv(DATASETS[ds_id]))
    pod = json.loads((built_site / "data.json").read_text(encoding="utf-8"))
    assert pod["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert len(pod["dataset"]) == len(DATASETS)
    for d in pod["dataset"]:
        assert {
            "title",
            "description",
            "keyword",
            "modified",
            "publisher",
            "contactPoint",
            "identifier",
            "accessLevel",
            "distribution",
        } <= set(d)
    dcat = json.loads((built_site / "catalog.jsonld").read_text(encoding="utf-8"))
    assert len(dcat["dcat:dataset"]) == len(DATASETS)
    feed = (built_site / "feed.xml").read_text(encoding="utf-8")
    assert feed.startswith("<?xml") and "<feed" in feed


def test_pagefind_indexes_each_content_page_once(built_site):
    """Pagefind indexes the article of every page but the search page and the 404 page, one index per
    edition (Chinese at the root, English under en/), with the filters 类别, 层级 and 文件 (Category, Level
    and Document in English); Material's whole-site index is gone."""
    entry = json.loads((built_site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    bodies = [p for p in built_site.rglob("*.html") if "data-pagefind-body" in p.read_text(encoding="utf-8")]
    by_lang = {"zh": [p for p in bodies if p.relative_to(built_site).parts[0] != "en"]}
    by_lang["en"] = [p for p in bodies if p not in by_lang["zh"]]
    assert sorted(entry["languages"]) == ["en", "zh"]
    for lang, pages in by_lang.items():
        assert entry["languages"][lang]["page_count"] == len(pages), lang
    assert not {"404.html", "search/index.html", "en/404.html", "en/search/index.html"} & {
        p.relative_to(built_site).as_posix() for p in bodies
    }
    assert not (built_site / "search" / "search_index.json").exists()
    filters = {
        lang: {f for p in pages for f in re.findall(r'data-pagefind-filter="([^:"]+):', p.read_text(encoding="utf-8"))}
        for lang, pages in by_lang.items()
    }
    assert filters == {"zh": {"类别", "层级", "文件"}, "en": {"Category", "Level", "Document"}}


def test_every_page_kind_is_built(built_site):
    regions = {r["region_id"] for pkg in CORPUS.package_dirs() for r in read_csv(pkg / "data" / "regions.csv")}
    for url in ["", "catalog", "documents", "regions", "compare", "quality", "downloads", "changelog", "methodology", "about"]:
        assert (built_site / url / "index.html").is_file(), url
    for rid in regions:
        assert (built_site / "regions" / rid / "index.html").is_file(), rid
    for pkg in CORPUS.package_dirs():
        assert (built_site / "documents" / pkg.name / "index.html").is_file()


def test_quality_page_publishes_every_erratum(built_site):
    html = (built_site / "quality" / "index.html").read_text(encoding="utf-8")
    for pkg in CORPUS.package_dirs():
        for e in yaml.safe_load((pkg / "errata.yaml").read_text(encoding="utf-8")) or []:
            assert f">{e['id']}<" in html, e["id"]


def test_methodology_counts_figures_per_document_and_family(built_site):
    html = (built_site / "methodology" / "index.html").read_text(encoding="utf-8")
    totals = {}
    for path in DATASETS.values():
        totals[path.parent.parent.name] = totals.get(path.parent.parent.name, 0) + len(read_csv(path))
    for doc, total in totals.items():
        assert re.search(rf">{doc}</a></td>(<td class=\"num\">\d+</td>){{6}}<td class=\"num\">{total}</td>", html), doc


def test_site_makes_no_reference_to_another_host(built_site):
    """No CDN, font or analytics: every src/href that loads something is relative or same-site."""
    loaders = re.compile(r"<(?:script|img|link|iframe|source)\b[^>]*?(?:src|href)=\"(https?:)?//", re.I)
    for html in built_site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        for m in loaders.finditer(text):
            tag = text[m.start() : text.find(">", m.start()) + 1]
            assert 'rel="alternate"' in tag or 'rel="canonical"' in tag, (html, tag)
