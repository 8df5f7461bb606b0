"""Each pipeline stage on its own, in process (no mkdocs): load → validate → derive → charts → downloads →
pages → catalog. On the real packages when their source texts are here, else on the fixture corpus."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import CORPUS

from build_scripts.settings import Settings
from build_scripts.stages import catalog, charts, derive, downloads, history, load, pages, validate


def corpus_settings(tmp: Path) -> Settings:
    return Settings.from_env(datasets=CORPUS.datasets(tmp / "ds"), sources=CORPUS.sources, work=tmp / "work", quiet=True)


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    settings = corpus_settings(tmp_path_factory.mktemp("stages"))
    corpus = load.run(settings)
    return derive.run(corpus, validate.run(corpus)), settings


def test_load_finds_every_package_with_schemas_inlined(tmp_path):
    corpus = load.run(corpus_settings(tmp_path))
    assert {p.id for p in corpus.packages} == {d.name for d in CORPUS.package_dirs()}
    for pkg in corpus.packages:
        assert all(isinstance(r["schema"], dict) for r in pkg.descriptor["resources"])


def test_validate_reads_typed_rows_and_records_consistency_results(derived):
    d, _ = derived
    row = d.tables["investments"][0]
    assert isinstance(row["line_start"], int) and isinstance(row["value"], float)
    assert d.checks and all({"check", "figure_id", "ok"} <= set(c) for c in d.checks)
    # every failing check is one the package's errata record
    recorded = {(e["doc_id"], e["check"], e["figure_id"]) for e in d.errata}
    assert all((c["doc_id"], c["check"], c["figure_id"]) in recorded for c in d.checks if not c["ok"])


def test_derive_headline_total_only_where_the_document_prints_one(derived, sources):
    d, _ = derived
    heads = {h["doc"]["doc_id"]: h for h in d.headline}
    assert heads["gonghe-2018"]["investment"]["value_as_printed"].startswith("6.909")
    assert heads["xining-2016"]["investment"] is None  # 17 plans, a total each, none for the notice


def test_derive_exit_years_do_not_double_count_prose_and_table(derived, sources):
    """Gonghe's 2018 plan, read from the source text's own sentence, is the headline figure."""
    d, _ = derived
    text = (sources / d.documents["gonghe-2018"]["source_file"]).read_text(encoding="utf-8")
    import re

    printed = int(re.search(r"2018年计划\d+个贫困村退出、贫困人口\d+户、(\d+)人脱贫", text).group(1))
    heads = {h["doc"]["doc_id"]: h for h in d.headline}
    assert heads["gonghe-2018"]["exits"]["person"][2018] == printed


def test_charts_specs_have_title_description_and_source(derived):
    d, _ = derived
    ds = d.dataset(CORPUS.document, "investments")
    made = charts.investment_charts(ds)
    assert made
    for c in made:
        assert c.spec["description"] == c.description and c.title and c.source.startswith("来源：")
        assert c.spec["config"]["font"].startswith("Noto Sans CJK")
        assert len(c.key) == 16
    assert charts.investment_charts(ds)[0].key == made[0].key  # same data, same file name


def test_downloads_are_reproducible_bytes(derived, tmp_path):
    d, settings = derived
    a = downloads.run(d, settings, tmp_path / "a")
    b = downloads.run(d, settings, tmp_path / "b")
    assert a.bulk["sha256"] == b.bulk["sha256"]
    with zipfile.ZipFile(tmp_path / "a" / a.bulk["path"]) as z:
        assert all(i.date_time == downloads.FIXED_TIME for i in z.infolist())


def test_downloads_csv_has_bom_and_xlsx_keeps_formula_like_text_as_text():
    import openpyxl

    data = downloads.csv_bytes(["a"], [{"a": "=1+1"}])
    assert data.startswith(b"\xef\xbb\xbf")
    wb = openpyxl.load_workbook(io.BytesIO(downloads.xlsx_bytes("t", [("a", "A")], [{"a": "=HYPERLINK(x)"}], "portal")))
    cell = wb["data"]["A2"]
    assert cell.value == "=HYPERLINK(x)" and cell.data_type == "s"


@pytest.mark.parametrize("text", ["<script>x</script>", "a|b", "*b*", "`c`", "{{ 7*7 }}", "line\nbreak", "[x](javascript:y)"])
def test_pages_md_filter_escapes_markdown_and_html(text):
    out = str(pages.md(text))
    assert "<" not in out and "\n" not in out
    for ch in "|*`[](){}":
        assert ch not in out.replace("\\" + ch, "")


def test_pages_cell_filter_keeps_rows_on_one_block():
    assert str(pages.cell("a\n\nb<c>")) == "a<br>b&lt;c&gt;"


def test_catalog_feed_escapes_values():
    hostile = history.Figure("TA001", "<b>&\x01", "1", "人", "]]></content>")
    change = history.DatasetChange("x-2020-targets", "x-2020", "targets", "<i>题</i>", "某县", "changed")
    change.corrected = [history.Correction(hostile, history.Figure("TA001", "<b>&", "2", "人", "2人"))]
    xml = catalog.atom(history.History([history.Release("0" * 40, "2026-01-01T00:00:00+00:00", [change])]), Settings())
    assert "&lt;b&gt;&amp;" in xml and "&lt;i&gt;" in xml and "]]&gt;" in xml
    assert "<b>" not in xml and "<i>" not in xml
    ElementTree.fromstring(xml.encode())  # well-formed: the control character is dropped


def test_catalog_writes_api_for_every_dataset(derived, tmp_path):
    d, settings = derived
    files = downloads.run(d, settings, tmp_path)
    catalog.run(d, settings, tmp_path, [], files)
    listed = json.loads((tmp_path / "api" / "datasets.json").read_text(encoding="utf-8"))
    assert listed["count"] == len(d.datasets) == len(list((tmp_path / "api" / "datasets").glob("*.json")))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "downloads" / "all" / "investments.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == sum(len(p.tables.get("investments", [])) for p in d.packages)
