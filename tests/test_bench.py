"""`portal bench` smoke test: it runs and reports every figure (not how fast), and its synthetic corpus is valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from build_scripts.tools import synth

STAGES = ("inputs", "load", "validate", "derive", "charts", "downloads", "pages", "catalog", "mkdocs")


def positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0


@pytest.fixture(scope="module")
def bench(tmp_path_factory, portal) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = portal("bench", "--sizes", "5", "--skip-real", "--json", str(out), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Targets" in proc.stdout, proc.stdout
    return json.loads(out.read_text(encoding="utf-8"))


def test_bench_reports_every_figure(bench):
    m = bench["machine"]
    assert positive(m["cpus"]) and positive(m["usable_cpus"]) and positive(m["parallel_speedup_2_processes"])
    assert bench["real"] is None  # --skip-real
    (s,) = bench["synthetic"]
    assert s["n"] == s["documents"] == 5 and s["provenance_verified"] is True
    for key in ("datasets", "figures", "charts", "pages", "pages_per_s", "s_per_page", "generate_s"):
        assert positive(s[key]), key
    cold = s["cold"]
    assert positive(cold["wall_s"]) and cold["skipped"] is False
    # peak memory: of the whole build, and reached by the end of each stage (never lower than an earlier stage's)
    assert positive(cold["peak_rss_bytes"]) and cold["peak_rss_stage"] in cold["stage_peak_rss_bytes"]
    peaks = [cold["stage_peak_rss_bytes"][stage] for stage in STAGES]
    assert all(positive(p) for p in peaks) and peaks == sorted(peaks) and max(peaks) <= cold["peak_rss_bytes"]
    for stage in STAGES:
        assert positive(cold["stages_s"][stage]), stage
        assert stage in s["stage_s_per_page"]
    # with --skip-real the smallest synthetic corpus gets the whole protocol
    assert s["no_change"]["skipped"] is True and positive(s["no_change"]["wall_s"])
    one = s["one_cell"]
    assert one["skipped"] is False and positive(one["wall_s"]) and positive(one["stages_s"]["mkdocs"])
    assert one["changed"]["field"] == "notes" and one["changed"]["file"].endswith(".csv")
    site = s["site"]
    for key in (
        "files",
        "bytes",
        "html_pages",
        "search_index_bytes",
        "dataset_pages",
        "dataset_page_median_bytes",
        "dataset_page_charts_as_img",
    ):
        assert positive(site[key]), key
    assert positive(site["largest_html"]["bytes"]) and site["largest_html"]["page"].endswith(".html")
    heaviest = site["dataset_page_heaviest"]
    for key in ("html_bytes", "css_bytes", "js_bytes", "images_bytes", "total_bytes", "gzip_total_bytes"):
        assert positive(heaviest[key]), key
    assert heaviest["chart_js_bytes"] == 0 and heaviest["external_urls"] == []
    assert s["mkdocs_alone"]["ok"] and positive(s["mkdocs_alone"]["wall_s"]) and positive(s["mkdocs_alone"]["html_pages"])
    zen = s["zensical"]
    if zen["status"] == "ok":
        assert positive(zen["clean_wall_s"]) and positive(zen["cached_wall_s"]) and positive(zen["html_pages"])
    else:
        assert zen["status"] == "not installed" or zen["status"].startswith("failed: ")
    names = [t["target"] for t in bench["targets"]]
    assert len(names) == 11, names
    assert "real corpus, cold build of both editions ÷ the Chinese alone" in names  # listed, not measured with --skip-real
    assert "synthetic N=1000, peak memory (bytes)" in names  # not measured without --large, but listed
    for t in bench["targets"]:
        assert t["met"] in (True, False, None) and (t["met"] is not None or t["costliest"]), t
        if t["met"] is False:
            assert t["costliest"], t  # a missed target says where the cost is


def test_synthetic_corpus_is_valid_and_deterministic(tmp_path, portal):
    ids = synth.generate(3, tmp_path / "a" / "datasets", tmp_path / "a" / "sources")
    synth.generate(3, tmp_path / "b" / "datasets", tmp_path / "b" / "sources")
    assert ids == ["synth-001", "synth-002", "synth-003"]
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    proc = portal("validate", "--datasets", str(tmp_path / "a" / "datasets"), "--sources", str(tmp_path / "a" / "sources"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "provenance verified" in proc.stdout
    proc = portal("coverage", "--datasets", str(tmp_path / "a" / "datasets"), "--sources", str(tmp_path / "a" / "sources"))
    assert proc.returncode == 0, proc.stdout + proc.stderr  # every printed number is a figure or explained
    regions = (tmp_path / "a" / "datasets" / "synth-001" / "data" / "regions.csv").read_text(encoding="utf-8")
    assert ",township," in regions
    errata = (tmp_path / "a" / "datasets" / "synth-001" / "errata.yaml").read_text(encoding="utf-8")
    assert errata.strip() == "[]"


def test_bench_refuses_bad_sizes(portal, tmp_path):
    proc = portal("bench", "--sizes", "five", "--skip-real", "--json", str(Path(tmp_path) / "x.json"))
    assert proc.returncode == 2 and "--sizes" in proc.stderr
