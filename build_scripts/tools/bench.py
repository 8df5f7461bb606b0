"""`portal bench`: what a build costs on this machine, printed as a table and written as JSON.

Every build runs as a fresh `python` process (as `portal build` does), so its time includes starting
Python and importing the pipeline; the stage times come from build.run. Nothing here touches the
repository's datasets/, .build/ or site/: the real corpus is copied, and every build gets its own scratch
and output folders in a temporary directory that is removed at the end.

- the real corpus: a cold build (empty cache), a rebuild with no change (the up-to-date check), a rebuild
  after one changed cell (a notes cell of one CSV); pages per second; the built site's size, largest
  HTML page, search index, and the bytes a dataset page needs (HTML, CSS, JS, images; JS for charts
  counted on its own); `mkdocs build` alone on the same generated tree, and `zensical build` on it when
  zensical is installed;
- synthetic corpora (build_scripts/tools/synth.py) of N documents, each built cold: seconds per page as N grows.

With --skip-real, the smallest synthetic corpus gets the whole real-corpus protocol instead, so every
figure is still measured. The targets of the issue are checked at the end; a missed time target names
the stage that costs most.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import html.parser
import io
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

from ..errors import UsageError
from ..i18n import LANGS
from ..settings import ROOT, Settings
from ..workers import usable_cpus

STAGES = ("inputs", "load", "validate", "derive", "charts", "downloads", "pages", "catalog", "sync", "mkdocs")
LARGE_N = 1000  # --large: the synthetic corpus of about 10,000 pages
SELF = __spec__.name  # this module, for `python -m` (the same when it runs as __main__)
SPIN_STEPS = 12_000_000  # the probe's CPU-bound work: about a second
CHART_JS = re.compile(r"vega|vegaembed|echarts|chart(?:\.min)?\.js|plotly|highcharts|apexcharts|d3(?:\.min)?\.js", re.IGNORECASE)
KB = 1024
TARGETS = {  # name -> limit (seconds, bytes, or a ratio)
    "real_cold_vs_mkdocs_alone": 2.0,
    "real_two_editions_vs_one": 1.6,  # issue 15: the English edition may cost at most 60 % more
    "real_one_cell_s": 3.0,
    "real_no_change_s": 1.0,
    "large_s": 20 * 60.0,
    "large_peak_rss_bytes": 16 * KB**3,
    "synthetic_200_s": 120.0,
    "s_per_page_200_vs_50": 1.0,
    "dataset_page_chart_js_bytes": 0,
    "dataset_page_bytes": 250 * KB,
    "first_query_real_bytes": 150 * KB,
    "first_query_large_bytes": 300 * KB,
}


class BenchError(Exception):
    pass


# --- one build, in its own process ---------------------------------------------------------------------


def child(spec_path: str) -> int:
    """A build process (`python -m build_scripts.tools.bench --child SPEC`): build.run with the folders
    the bench gives, result as JSON."""
    from .. import build
    from ..errors import DataError

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    settings = Settings.from_env(
        datasets=Path(spec["datasets"]), sources=spec["sources"] and Path(spec["sources"]), out=Path(spec["out"]), quiet=True
    )
    settings = replace(settings, work=Path(spec["work"]), editions=tuple(spec.get("editions") or Settings.editions))
    try:
        r = build.run(settings)
    except DataError as err:
        Path(spec["result"]).write_text(json.dumps({"error": [str(p) for p in err.problems[:20]]}), encoding="utf-8")
        return 1
    result = {"timings": r.timings, "pages": r.pages, "skipped": r.skipped, "built_because": r.built_because, "memory": r.memory}
    if r.generated is not None:
        derived = r.generated.derived
        result["documents"] = len(derived.documents)
        result["datasets"] = len(derived.datasets)
        result["figures"] = derived.report.figure_count
        result["charts"] = len({c.key for c in r.generated.charts.all()})
        result["provenance_verified"] = derived.report.provenance_verified
    if r.search is not None:  # Pagefind's indexing of the built site
        result["search_indexing"] = {"seconds": round(r.search.seconds, 3), "peak_mb": round(r.search.peak_kb / KB, 1)}
    Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_SOURCES"}  # the bench passes sources explicitly
    env.update({"CI": "true", "NO_MKDOCS_2_WARNING": "1"})
    return env


def build(datasets: Path, sources: Path | None, out: Path, work: Path, label: str, editions: tuple[str, ...] = ()) -> dict:
    """One `portal build` in a fresh Python process (editions: the languages, default all); wall time, stage
    times and what it built."""
    spec = work.parent / f"{label}.spec.json"
    result = work.parent / f"{label}.result.json"
    spec.write_text(
        json.dumps(
            {
                "datasets": str(datasets),
                "sources": str(sources) if sources else None,
                "out": str(out),
                "work": str(work),
                "result": str(result),
                "editions": list(editions),
            }
        ),
        encoding="utf-8",
    )
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", SELF, "--child", str(spec)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t
    data = json.loads(result.read_text(encoding="utf-8")) if result.exists() else {}
    if proc.returncode != 0 or "timings" not in data:
        detail = "; ".join(data.get("error", [])) or (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"{label}: build failed ({detail})")
    stages = {k: round(v, 4) for k, v in data.pop("timings").items()}
    memory = stage_memory(data.pop("memory", {}))
    return {
        "wall_s": round(wall, 3),
        "stages_s": stages,
        "startup_s": round(max(0.0, wall - sum(stages.values())), 3),
        **memory,
        **data,
    }


def stage_memory(memory: dict[str, dict[str, int]]) -> dict:
    """Peak RSS per stage and of the whole build, in bytes, from the build's getrusage high-water marks
    (build.peak_rss_kb): a stage's figure is the peak of the build process, or of its largest worker,
    reached by the end of that stage; the stage that raised it most is named."""
    per_stage, last, raised = {}, 0, {}
    for stage, m in memory.items():
        peak = max(m.get("self_kb", 0), m.get("children_kb", 0)) * KB
        per_stage[stage] = peak
        raised[stage] = peak - last
        last = max(last, peak)
    top = max(raised, key=raised.get) if raised else ""
    return {"peak_rss_bytes": last, "stage_peak_rss_bytes": per_stage, "peak_rss_stage": top}


def costliest(run: dict, besides: str = "") -> tuple[str, float]:
    """The stage (or interpreter startup and imports) that took longest in a build, other than `besides`."""
    parts = {**run.get("stages_s", {}), "startup": run.get("startup_s", 0.0)}
    parts.pop(besides, None)
    name = max(parts, key=parts.get)
    return name, parts[name]


# --- the built site -------------------------------------------------------------------------------------


class Refs(html.parser.HTMLParser):
    """Resources a page loads: stylesheets, scripts (external and inline), images, icons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.css, self.js, self.img, self.inline_js = [], [], [], []
        self._script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower().split()
            if "stylesheet" in rel:
                self.css.append(a["href"])
            elif "icon" in rel or "shortcut" in rel:
                self.img.append(a["href"])
        elif tag == "script":
            if a.get("src"):
                self.js.append(a["src"])
            elif (a.get("type") or "text/javascript").lower() in ("text/javascript", "module", "application/javascript"):
                self._script = []
        elif tag == "img" and a.get("src"):
            self.img.append(a["src"])

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.inline_js.append("".join(self._script))
            self._script = None


def local(site: Path, page_rel: str, url: str) -> Path | None:
    """The file a relative URL on a page points to, or None for another host or data: URLs."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.IGNORECASE) or url.startswith("//"):
        return None
    path = url.split("#")[0].split("?")[0]
    if not path:
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_rel), path))
    p = site / target
    if p.is_dir():
        p = p / "index.html"
    return p if p.is_file() else None


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 6, mtime=0))


def page_weight(site: Path, page: Path) -> dict:
    """Bytes a page needs to show itself and its charts, by kind; JS for charts on its own."""
    rel = page.relative_to(site).as_posix()
    raw = page.read_bytes()
    refs = Refs()
    refs.feed(raw.decode("utf-8", errors="replace"))
    kinds = {"html": len(raw), "css": 0, "js": 0, "images": 0}
    zipped = {"html": gz(raw), "css": 0, "js": 0, "images": 0}
    external, chart_js, seen = [], 0, set()
    for kind, urls in (("css", refs.css), ("js", refs.js), ("images", refs.img)):
        for url in urls:
            f = local(site, rel, url)
            if f is None:
                if not url.startswith("data:"):
                    external.append(url)
                continue
            if f in seen:
                continue
            seen.add(f)
            data = f.read_bytes()
            kinds[kind] += len(data)
            zipped[kind] += gz(data)
            if kind == "js" and CHART_JS.search(f.name):
                chart_js += len(data)
            if kind == "css":  # fonts and images a stylesheet pulls in
                for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", data.decode("utf-8", errors="replace")):
                    g = local(site, f.relative_to(site).as_posix(), u)
                    if g is not None and g not in seen:
                        seen.add(g)
                        kinds["images"] += g.stat().st_size
                        zipped["images"] += gz(g.read_bytes())
    chart_js += sum(len(s.encode()) for s in refs.inline_js if CHART_JS.search(s))
    charts = [u for u in refs.img if u.split("?")[0].endswith(".svg") and "/charts/" in u]
    return {
        "page": rel,
        **{f"{k}_bytes": v for k, v in kinds.items()},
        "total_bytes": sum(kinds.values()),
        "gzip_total_bytes": sum(zipped.values()),
        "chart_js_bytes": chart_js,
        "charts_as_img": len(charts),
        "external_urls": external,
    }


def site_metrics(site: Path) -> dict:
    files = [p for p in site.rglob("*") if p.is_file()]
    htmls = [p for p in files if p.suffix == ".html"]
    largest = max(htmls, key=lambda p: p.stat().st_size)
    # the Pagefind bundle on the server, by kind (a reader fetches only the chunks a query needs)
    bundle = [p for p in (site / "pagefind").rglob("*") if p.is_file()]
    by_section: dict[str, int] = {}
    for p in bundle:
        kind = p.relative_to(site / "pagefind").parts[0] if len(p.relative_to(site / "pagefind").parts) > 1 else "scripts"
        by_section[kind] = by_section.get(kind, 0) + p.stat().st_size
    dataset_pages = sorted((site / "datasets").glob("*/index.html"))
    weights = [page_weight(site, p) for p in dataset_pages]
    heaviest = max(weights, key=lambda w: w["total_bytes"]) if weights else None
    totals = sorted(w["total_bytes"] for w in weights)
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "html_pages": len(htmls),
        "largest_html": {"page": largest.relative_to(site).as_posix(), "bytes": largest.stat().st_size},
        "search_index_bytes": sum(p.stat().st_size for p in bundle),
        "search_index_by_section_bytes": dict(sorted(by_section.items(), key=lambda kv: -kv[1])),
        "dataset_pages": len(weights),
        "dataset_page_heaviest": heaviest,
        "dataset_page_median_bytes": totals[len(totals) // 2] if totals else 0,
        "dataset_page_chart_js_bytes_max": max((w["chart_js_bytes"] for w in weights), default=0),
        "dataset_page_charts_as_img": sum(w["charts_as_img"] for w in weights),
    }


# --- what a search costs a reader ------------------------------------------------------------------------

SEARCH_QUERIES = ("共和县", "易地扶贫搬迁")  # a place, then a measure: the second reuses what the first fetched
CHROMIUM = Path("/usr/bin/chromium")


def search_fetch(site: Path, queries: tuple[str, ...] = SEARCH_QUERIES) -> dict:
    """Bytes chromium fetches for each query typed into the search page (everything requested after typing
    starts: Pagefind's script, WebAssembly, index chunks and the result fragments), the site served locally.
    {"status": why not} when chromium or playwright is missing."""
    if not CHROMIUM.exists():
        return {"status": "not measured: no /usr/bin/chromium"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"status": "not measured: playwright is not installed"}
    import threading

    from .audit import serve

    server = serve(site, "/")  # gzip, as GitHub Pages serves it: the bytes a reader's browser transfers
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fetched: list[int] = []
    out: dict = {"status": "ok", "queries": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/search/", wait_until="networkidle")
            page.on(
                "requestfinished",
                lambda r: fetched.append(sum(r.sizes().get(k, 0) for k in ("responseBodySize", "responseHeadersSize"))),
            )
            for q in queries:
                fetched.clear()
                page.fill(".pagefind-ui__search-input", q)
                page.wait_for_function(
                    "q => (document.querySelector('.pagefind-ui__message') || {}).textContent?.includes(q)", arg=q
                )
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(500)  # result fragments load after the count line
                out["queries"].append({"query": q, "bytes": sum(fetched), "requests": len(fetched)})
            browser.close()
    finally:
        server.shutdown()
    return out


# --- changes, mkdocs alone, zensical --------------------------------------------------------------------


def change_one_cell(datasets: Path) -> dict:
    """Change one notes cell of one CSV (the first package's investments, else its first figure file)."""
    from .. import families

    for pkg in sorted(p for p in datasets.iterdir() if p.is_dir() and p.name != "schemas"):
        for fam in ("investments", *families.FIGURE_NAMES):
            path = pkg / "data" / f"{fam}.csv"
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            nl = "\r\n" if "\r\n" in text else "\n"
            lines = text.split(nl)
            header = next(csv.reader([lines[0]]))
            if "notes" not in header:
                continue
            col = header.index("notes")
            for n, line in enumerate(lines[1:], 2):
                if not line or '"' in line:
                    continue
                row = next(csv.reader([line]))
                if len(row) != len(header):
                    continue
                mark = "（bench：改动的单元格）"
                row[col] = row[col][: -len(mark)] if row[col].endswith(mark) else row[col] + mark
                buf = io.StringIO()
                csv.writer(buf, lineterminator="").writerow(row)
                lines[n - 1] = buf.getvalue()
                path.write_text(nl.join(lines), encoding="utf-8")
                return {"file": path.relative_to(datasets).as_posix(), "row": n, "field": "notes"}
    raise BenchError("no CSV with a notes cell to change")


def epoch() -> str:
    try:
        proc = subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
        return proc.stdout.strip() or "1577836800"
    except (OSError, subprocess.SubprocessError):
        return "1577836800"


def mkdocs_alone(work: Path, tmp: Path) -> dict:
    """`mkdocs build --strict` on the tree the pipeline generated, with its generated configs (one per edition,
    the Chinese first, the English into en/): the floor."""
    out = tmp / "mkdocs-alone-site"
    env = {**child_env(), "SOURCE_DATE_EPOCH": epoch()}
    wall, proc = 0.0, None
    for lang in LANGS:
        generated = work / f"mkdocs.generated.{lang}.yml"
        if not generated.exists():
            continue
        cfg = yaml.safe_load(generated.read_text(encoding="utf-8"))
        cfg["site_dir"] = str(out / ("" if lang == LANGS[0] else lang))
        path = tmp / f"mkdocs-alone.{lang}.yml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall += time.perf_counter() - t
        if proc.returncode:
            break
    result = {
        "wall_s": round(wall, 3),
        "ok": proc is not None and proc.returncode == 0,
        "html_pages": len(list(out.rglob("*.html"))) if out.exists() else 0,
    }
    if not result["ok"]:
        result["error"] = (proc.stderr.strip().splitlines() or ["failed"])[-1] if proc else "no generated config"
    shutil.rmtree(out, ignore_errors=True)
    return result


def zensical(work: Path) -> dict:
    """`zensical build` on the same tree: once with its cache cleaned, once more with its cache."""
    import importlib.util

    if importlib.util.find_spec("zensical") is None:
        return {"status": "not installed"}
    from importlib import metadata

    generated = yaml.safe_load((work / "mkdocs.generated.zh.yml").read_text(encoding="utf-8"))
    # zensical wants docs_dir and site_dir inside the folder of its config file
    cfg = {**generated, "docs_dir": "docs", "site_dir": "zensical-site"}
    path = work / "zensical.yml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    result = {"status": "ok", "version": metadata.version("zensical")}
    for label, extra in (("clean", ["--clean"]), ("cached", [])):
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "zensical", "build", *extra, "-f", str(path)],
            cwd=work,
            env=child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        result[f"{label}_wall_s"] = round(time.perf_counter() - t, 3)
        if proc.returncode:
            lines = [ln for ln in (proc.stderr + proc.stdout).strip().splitlines() if ln.strip()]
            panic = next((ln for ln in lines if "panicked" in ln or "Error" in ln), lines[-1] if lines else "failed")
            return {"status": f"failed: {panic.strip()[:300]}", "version": result["version"]}
    out = work / "zensical-site"
    result["html_pages"] = len(list(out.rglob("*.html")))
    index = out / "search.json"
    result["search_index_bytes"] = index.stat().st_size if index.exists() else 0
    result["bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    shutil.rmtree(out, ignore_errors=True)
    return result


# --- protocols ------------------------------------------------------------------------------------------


def corpus_result(name: str, cold: dict, site: dict, runs: dict, **shares) -> dict:
    """What every corpus reports: its size and cold build, the other runs, pages per second and its site."""
    return {
        "corpus": name,
        "documents": cold.get("documents"),
        "datasets": cold.get("datasets"),
        "figures": cold.get("figures"),
        "charts": cold.get("charts"),
        "provenance_verified": cold.get("provenance_verified"),
        "cold": cold,
        **runs,
        "pages": cold["pages"],
        "pages_per_s": round(cold["pages"] / cold["wall_s"], 2),
        "s_per_page": round(cold["wall_s"] / cold["pages"], 4),
        **shares,
        "site": site,
    }


def no_change(name: str, datasets: Path, sources: Path | None, out: Path, work: Path, say) -> dict:
    """A rebuild with no change; measured again (three times at most) when something else changed meanwhile."""
    say(f"{name}: rebuild, no change")
    same = build(datasets, sources, out, work, "no-change")
    attempts = [same]
    # the repository is shared: code, docs or git HEAD may change while the bench runs; measure again then
    while not same["skipped"] and same["built_because"].startswith("changed") and len(attempts) < 3:
        say(f"{name}: it was built ({same['built_because']}); rebuild again, no change")
        same = build(datasets, sources, out, work, f"no-change-{len(attempts) + 1}")
        attempts.append(same)
    same["attempts"] = [{"wall_s": a["wall_s"], "skipped": a["skipped"], "built_because": a["built_because"]} for a in attempts]
    return same


def full_protocol(name: str, datasets: Path, sources: Path | None, tmp: Path, say) -> dict:
    """Cold build, no-change and one-cell rebuilds, site figures, mkdocs alone and zensical, on one corpus."""
    out, work = tmp / "site", tmp / "work"
    say(f"{name}: cold build")
    cold = build(datasets, sources, out, work, "cold")
    say(f"{name}: cold build of the Chinese edition alone (what the English edition costs)")
    one_language = build(datasets, sources, tmp / "site-zh", tmp / "work-zh", "cold-zh", editions=LANGS[:1])
    shutil.rmtree(tmp / "site-zh", ignore_errors=True)
    same = no_change(name, datasets, sources, out, work, say)
    changed = change_one_cell(datasets)
    say(f"{name}: rebuild, one cell changed ({changed['file']}:{changed['row']}:{changed['field']})")
    one = build(datasets, sources, out, work, "one-cell")
    say(f"{name}: site figures")
    metrics = site_metrics(out)
    say(f"{name}: bytes a Chinese search fetches in chromium")
    metrics["search_fetch"] = search_fetch(out)
    say(f"{name}: mkdocs build alone")
    alone = mkdocs_alone(work, tmp)
    say(f"{name}: zensical build")
    zen = zensical(work)
    share = round(one["stages_s"].get("mkdocs", 0) / one["wall_s"], 3) if one["wall_s"] else None
    runs = {"no_change": same, "one_cell": {**one, "changed": changed}, "chinese_alone": one_language}
    result = corpus_result(name, cold, metrics, runs, mkdocs_share_of_one_cell=share)
    return {**result, "mkdocs_alone": alone, "zensical": zen}


def a_county(datasets: Path) -> str:
    """The name of a county of a synthetic corpus: the place a first query asks for."""
    for path in sorted(datasets.glob("*/data/regions.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            if row.get("level") == "county":
                return row["name_zh"]
    return "县"


def synthetic(n: int, tmp: Path, full: bool, say) -> dict:
    say(f"synthetic N={n}: generating")
    from . import synth

    t = time.perf_counter()
    synth.generate(n, tmp / "datasets", tmp / "sources")
    generated = round(time.perf_counter() - t, 3)
    if full:
        result = full_protocol(f"synthetic-{n}", tmp / "datasets", tmp / "sources", tmp, say)
    else:
        say(f"synthetic N={n}: cold build")
        cold = build(tmp / "datasets", tmp / "sources", tmp / "site", tmp / "work", "cold")
        metrics = site_metrics(tmp / "site")
        say(f"synthetic N={n}: bytes a Chinese search fetches in chromium")
        metrics["search_fetch"] = search_fetch(tmp / "site", (a_county(tmp / "datasets"), "易地扶贫搬迁"))
        result = corpus_result(f"synthetic-{n}", cold, metrics, {})
    result["generate_s"] = generated
    result["n"] = n
    result["stage_s_per_page"] = {k: round(v / result["pages"], 5) for k, v in result["cold"]["stages_s"].items()}
    return result


def loadavg() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "loadavg_start": loadavg(),
        "parallel_speedup_2_processes": parallel_probe(),
    }


def parallel_probe() -> float:
    """How much faster two CPU-bound processes finish together than one after the other (2.0 = two free cores)."""
    cmd = [sys.executable, "-m", SELF, "--spin"]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    one = time.perf_counter() - t
    t = time.perf_counter()
    procs = [subprocess.Popen(cmd, cwd=ROOT) for _ in range(2)]
    for p in procs:
        p.wait()
    both = time.perf_counter() - t
    return round(2 * one / both, 2)


def spin(steps: int = SPIN_STEPS) -> int:
    """CPU-bound work for parallel_probe (`python -m build_scripts.tools.bench --spin`)."""
    total = 0
    for i in range(steps):
        total += i
    return total


# --- targets and the table ------------------------------------------------------------------------------


def target(name: str, value, limit, met, why: str = "", **extra) -> dict:
    return {"target": name, "value": value, "limit": limit, "met": met, "costliest": why, **extra}


def stage_why(run: dict, besides: str = "") -> str:
    name, seconds = costliest(run, besides)
    return f"{name} {seconds:.2f} s of {run['wall_s']:.2f} s"


def evaluate(report: dict) -> list[dict]:
    out = []
    real = report.get("real")
    if real:
        cold, alone = real["cold"], real["mkdocs_alone"]
        ratio = round(cold["wall_s"] / alone["wall_s"], 2) if alone.get("ok") and alone["wall_s"] else None
        ok = ratio is not None and ratio <= TARGETS["real_cold_vs_mkdocs_alone"]
        why = "" if ok else (stage_why(cold, besides="mkdocs") if ratio else "mkdocs alone failed")  # what adds to mkdocs
        out.append(target("real corpus, cold build ÷ mkdocs build alone", ratio, TARGETS["real_cold_vs_mkdocs_alone"], ok, why))
        out.append(editions_target(real))
        for key, run, label in (
            ("real_one_cell_s", real["one_cell"], "real corpus, rebuild after one changed cell (s)"),
            ("real_no_change_s", real["no_change"], "real corpus, rebuild with no change (s)"),
        ):
            ok = run["wall_s"] <= TARGETS[key]
            out.append(target(label, run["wall_s"], TARGETS[key], ok, "" if ok else stage_why(run)))
    else:
        for label in (
            "real corpus, cold build ÷ mkdocs build alone",
            "real corpus, cold build of both editions ÷ the Chinese alone",
            "real corpus, rebuild after one changed cell (s)",
            "real corpus, rebuild with no change (s)",
        ):
            out.append(target(label, None, None, None, "not measured (--skip-real)"))
    by_n = {s["n"]: s for s in report["synthetic"]}
    if 200 in by_n:
        run = by_n[200]["cold"]
        ok = run["wall_s"] <= TARGETS["synthetic_200_s"]
        out.append(
            target(
                "synthetic N=200, cold build (s)",
                run["wall_s"],
                TARGETS["synthetic_200_s"],
                ok,
                "" if ok else stage_why(run),
                pages=by_n[200]["pages"],
            )
        )
    else:
        out.append(
            target(
                "synthetic N=200, cold build (s)", None, TARGETS["synthetic_200_s"], None, "not measured (N=200 not in --sizes)"
            )
        )
    if 200 in by_n and 50 in by_n:
        a, b = by_n[50]["s_per_page"], by_n[200]["s_per_page"]
        ok = b <= a
        grew = {k: by_n[200]["stage_s_per_page"].get(k, 0) - v for k, v in by_n[50]["stage_s_per_page"].items()}
        worst = max(grew, key=grew.get)
        out.append(
            target(
                "seconds per page, N=200 vs N=50",
                round(b / a, 3),
                1.0,
                ok,
                "" if ok else f"{worst} grew most: {grew[worst] * 1000:+.1f} ms per page",
                s_per_page_50=a,
                s_per_page_200=b,
            )
        )
    else:
        out.append(target("seconds per page, N=200 vs N=50", None, 1.0, None, "not measured (needs N=50 and N=200)"))
    out += large_targets(by_n)
    subject = real or (report["synthetic"][0] if report["synthetic"] and "mkdocs_alone" in report["synthetic"][0] else None)
    if subject:
        site = subject["site"]
        h = site["dataset_page_heaviest"] or {}
        label = "" if real else f" ({subject['corpus']}, real corpus skipped)"
        ok = site["dataset_page_chart_js_bytes_max"] == 0
        out.append(
            target(
                f"JS for charts on a dataset page (bytes){label}",
                site["dataset_page_chart_js_bytes_max"],
                0,
                ok,
                "" if ok else "a dataset page loads a charting script",
            )
        )
        parts = {k: h.get(f"{k}_bytes", 0) for k in ("html", "css", "js", "images")}
        big = max(parts, key=parts.get) if parts else ""
        ok = h.get("total_bytes", 0) <= TARGETS["dataset_page_bytes"]
        out.append(
            target(
                f"bytes a dataset page needs (heaviest page){label}",
                h.get("total_bytes"),
                TARGETS["dataset_page_bytes"],
                ok,
                ""
                if ok
                else f"{big} {parts[big] / KB:.0f} KB of {h.get('total_bytes', 0) / KB:.0f} KB ({h.get('page')}); "
                f"gzip {h.get('gzip_total_bytes', 0) / KB:.0f} KB",
                gzip_bytes=h.get("gzip_total_bytes"),
            )
        )
        out.append(query_target("a first Chinese query fetches (bytes, gzip)", real, TARGETS["first_query_real_bytes"]))
    return out


def editions_target(real: dict) -> dict:
    """The second edition's cost: both editions' cold build against the Chinese edition's alone, with the stage
    that grew most when the target is missed."""
    both, alone = real["cold"], real.get("chinese_alone")
    label = "real corpus, cold build of both editions ÷ the Chinese alone"
    if not alone:
        return target(label, None, TARGETS["real_two_editions_vs_one"], None, "not measured")
    ratio = round(both["wall_s"] / alone["wall_s"], 2)
    ok = ratio <= TARGETS["real_two_editions_vs_one"]
    grew = max(both["stages_s"], key=lambda k: both["stages_s"][k] - alone["stages_s"].get(k, 0))
    extra = round(both["stages_s"][grew] - alone["stages_s"].get(grew, 0), 2)
    return target(label, ratio, TARGETS["real_two_editions_vs_one"], ok, "" if ok else f"{grew} +{extra} s",
                  both_s=both["wall_s"], chinese_alone_s=alone["wall_s"])  # fmt: skip


def query_target(name: str, corpus: dict | None, limit: int) -> dict:
    """The bytes the first query of search_fetch transferred, against its limit; the index is the costliest part
    when missed (Pagefind's scripts and WebAssembly are fetched once, whatever the corpus)."""
    queries = ((corpus or {}).get("site", {}).get("search_fetch") or {}).get("queries") or []
    if not queries:
        return target(name, None, limit, None, "not measured" if corpus else "not measured (no such corpus)")
    first = queries[0]
    ok = first["bytes"] <= limit
    return target(
        name, first["bytes"], limit, ok, "" if ok else f"{first['query']}: {first['requests']} requests", query=first["query"]
    )


def large_targets(by_n: dict[int, dict]) -> list[dict]:
    """N = LARGE_N (--large): the cold build's time and peak memory, and its seconds per page against N = 50."""
    names = (f"synthetic N={LARGE_N}, cold build (s)", f"synthetic N={LARGE_N}, peak memory (bytes)")
    if LARGE_N not in by_n:
        why = "not measured (no --large)"
        return [
            target(names[0], None, TARGETS["large_s"], None, why),
            target(names[1], None, TARGETS["large_peak_rss_bytes"], None, why),
        ]
    run = by_n[LARGE_N]["cold"]
    query = query_target(
        f"synthetic N={LARGE_N}, a first Chinese query fetches (bytes, gzip)", by_n[LARGE_N], TARGETS["first_query_large_bytes"]
    )
    ok_t, ok_m = run["wall_s"] <= TARGETS["large_s"], run["peak_rss_bytes"] <= TARGETS["large_peak_rss_bytes"]
    out = [
        target(names[0], run["wall_s"], TARGETS["large_s"], ok_t, "" if ok_t else stage_why(run), pages=by_n[LARGE_N]["pages"]),
        target(
            names[1],
            run["peak_rss_bytes"],
            TARGETS["large_peak_rss_bytes"],
            ok_m,
            "" if ok_m else f"{run['peak_rss_stage']} raised it most",
            stage=run["peak_rss_stage"],
        ),
        query,
    ]
    if 50 in by_n:
        a, b = by_n[50]["s_per_page"], by_n[LARGE_N]["s_per_page"]
        grew = {k: by_n[LARGE_N]["stage_s_per_page"].get(k, 0) - v for k, v in by_n[50]["stage_s_per_page"].items()}
        worst = max(grew, key=grew.get)
        out.append(
            target(
                f"seconds per page, N={LARGE_N} vs N=50",
                round(b / a, 3),
                1.0,
                b <= a,
                "" if b <= a else f"{worst} grew most: {grew[worst] * 1000:+.1f} ms per page",
            )
        )
    return out


def fmt_bytes(n) -> str:
    if n is None:
        return "—"
    return f"{n / KB / KB:.2f} MB" if n >= KB * KB else f"{n / KB:.0f} KB"


def machine_line(m: dict) -> str:
    load = ", ".join(f"{x:.1f}" for x in m["loadavg_start"] or [])
    return (
        f"[bold]portal bench[/] — {m['cpus']} CPUs ({m['usable_cpus']} usable; two processes run "
        f"{m['parallel_speedup_2_processes']}× as fast as one), load {load} at start, "
        f"Python {m['python']}"
    )


def builds_table(corpora: list[dict]):
    """Every build of every corpus, a row each: wall time, startup and stage times, seconds per page (cold)."""
    from rich.table import Table

    runs = Table(title="Builds (wall time of a fresh process; stages from build.run)", show_lines=False)
    for col in ("corpus", "run", "pages", "total s", "startup", *STAGES, "s/page", "peak MB", "peak set by"):
        runs.add_column(col, justify="left" if col in ("corpus", "run") else "right")
    for c in corpora:
        for key, label in (("cold", "cold"), ("no_change", "no change"), ("one_cell", "one cell changed")):
            run = c.get(key)
            if not run:
                continue
            st = run["stages_s"]
            per = f"{run['wall_s'] / c['pages']:.4f}" if key == "cold" else ""
            runs.add_row(
                c["corpus"],
                label + (" (skipped)" if run.get("skipped") else ""),
                str(run["pages"]),
                f"{run['wall_s']:.2f}",
                f"{run['startup_s']:.2f}",
                *(f"{st[s]:.2f}" if s in st else "" for s in STAGES),
                per,
                f"{run.get('peak_rss_bytes', 0) / KB**2:.0f}",
                run.get("peak_rss_stage", ""),
            )
    return runs


def corpus_lines(c: dict) -> list[str]:
    """What the whole protocol measured on one corpus: its size, its site, the heaviest dataset page,
    the one-cell rebuild, mkdocs alone and zensical."""
    s, z, a = c["site"], c["zensical"], c["mkdocs_alone"]
    h = s["dataset_page_heaviest"] or {}
    sections = ", ".join(f"{k}/ {fmt_bytes(v)}" for k, v in list(s["search_index_by_section_bytes"].items())[:3])
    one = c["one_cell"]
    lines = [
        f"[bold]{c['corpus']}[/]: {c['documents']} documents, {c['datasets']} datasets, {c['figures']} figures, "
        f"{c['charts']} charts; provenance {'verified' if c['provenance_verified'] else 'NOT verified (no source texts)'}",
        f"  pages built per second (cold): {c['pages_per_s']}; site {fmt_bytes(s['bytes'])} in {s['files']} files, "
        f"{s['html_pages']} HTML pages; largest {s['largest_html']['page']} {fmt_bytes(s['largest_html']['bytes'])}; "
        f"search index {fmt_bytes(s['search_index_bytes'])} ({sections})",
        f"  heaviest dataset page {h.get('page')}: HTML {fmt_bytes(h.get('html_bytes'))} + "
        f"CSS {fmt_bytes(h.get('css_bytes'))} + JS {fmt_bytes(h.get('js_bytes'))} "
        f"(for charts: {s['dataset_page_chart_js_bytes_max']} B; charts are {s['dataset_page_charts_as_img']} SVG <img> "
        f"on {s['dataset_pages']} pages) + images {fmt_bytes(h.get('images_bytes'))} = {fmt_bytes(h.get('total_bytes'))} "
        f"(gzip {fmt_bytes(h.get('gzip_total_bytes'))}); median page {fmt_bytes(s['dataset_page_median_bytes'])}",
        f"  one changed cell: {one['changed']['file']} row {one['changed']['row']} ({one['changed']['field']}); "
        f"mkdocs is {one['stages_s'].get('mkdocs', 0):.2f} s of its {one['wall_s']:.2f} s",
        f"  mkdocs build alone on the same tree: {a['wall_s']:.2f} s ({'ok' if a['ok'] else a.get('error')}, "
        f"{a['html_pages']} pages); pipeline's mkdocs stage in the cold build {c['cold']['stages_s'].get('mkdocs', 0):.2f} s",
    ]
    lines.append(search_line(c))
    if z["status"] == "ok":
        lines.append(
            f"  zensical {z['version']} on the same tree: {z['clean_wall_s']:.2f} s with its cache cleaned, "
            f"{z['cached_wall_s']:.2f} s with its cache; {z['html_pages']} pages, "
            f"search index {fmt_bytes(z['search_index_bytes'])}"
        )
    else:
        lines.append(f"  zensical: {z['status']}")
    return lines


def search_line(c: dict) -> str:
    """Pagefind: indexing time and memory in the cold build, the bytes a first and a second query fetch."""
    idx, fetch = c["cold"].get("search_indexing") or {}, c["site"].get("search_fetch") or {}
    queries = "; ".join(f"{q['query']} {fmt_bytes(q['bytes'])} in {q['requests']} requests" for q in fetch.get("queries", []))
    return (
        f"  Pagefind: indexed in {idx.get('seconds', 0):.2f} s, peak {idx.get('peak_mb', 0)} MB; "
        f"a search fetches {queries or fetch.get('status', 'not measured')} (first query target ≤ 150 KB)"
    )


def shown(target_name: str, value) -> str:
    """A measured value or a limit as the targets table shows it: bytes in KB or MB, — when there is none."""
    if value is None:
        return "—"
    return fmt_bytes(value) if "bytes" in target_name and value else str(value)


def targets_table(targets: list[dict]):
    from rich.table import Table

    table = Table(title="Targets")
    for col in ("", "target", "measured", "limit", "costliest where missed"):
        table.add_column(col)
    for t in targets:
        mark = "—" if t["met"] is None else ("[green]met[/]" if t["met"] else "[red]missed[/]")
        table.add_row(mark, t["target"], shown(t["target"], t["value"]), shown(t["target"], t["limit"]), t["costliest"])
    return table


def print_report(report: dict) -> None:
    from rich.console import Console

    con = Console(width=160, highlight=False)
    con.print(machine_line(report["machine"]))
    corpora = ([report["real"]] if report.get("real") else []) + report["synthetic"]
    con.print(builds_table(corpora))
    for c in corpora:
        if "mkdocs_alone" in c:
            for line in corpus_lines(c):
                con.print(line)
    con.print(targets_table(report["targets"]))


# --- entry point ----------------------------------------------------------------------------------------


def default_sources(given: Path | None) -> Path | None:
    if given:
        return given.resolve()
    env = os.environ.get("PORTAL_SOURCES")
    if env:
        return Path(env).resolve()
    seeds = ROOT.parent / "shared" / "seeds"
    return seeds.resolve() if seeds.is_dir() else None


def sizes_of(args) -> list[int]:
    """The synthetic corpus sizes asked for with --sizes (and N = LARGE_N with --large); a UsageError when
    they leave nothing to measure."""
    try:
        sizes = [int(x) for x in str(args.sizes).split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--sizes must be numbers separated by commas, not {args.sizes!r}") from None
    if getattr(args, "large", False):
        sizes.append(LARGE_N)
    if any(n < 1 for n in sizes):
        raise UsageError("--sizes must be positive numbers of documents")
    if args.skip_real and not sizes:
        raise UsageError("nothing to measure: --skip-real and no --sizes")
    return sizes


def progress(quiet: bool):
    """A function that tells on stderr what the bench is doing (nothing when quiet)."""

    def say(msg: str) -> None:
        if not quiet:
            print(f"… {msg}", file=sys.stderr, flush=True)

    return say


def measure(report: dict, tmp: Path, sizes: list[int], sources: Path | None, skip_real: bool, keep: bool, say) -> None:
    """The real corpus (a copy) unless skip_real, then each synthetic size, in folders under tmp."""
    if not skip_real:
        real = tmp / "real"
        shutil.copytree(Settings().datasets, real / "datasets")
        report["real"] = full_protocol("real", real / "datasets", sources, real, say)
        if not keep:
            shutil.rmtree(real, ignore_errors=True)
    for i, n in enumerate(sorted(set(sizes))):
        folder = tmp / f"synthetic-{n}"
        report["synthetic"].append(synthetic(n, folder, full=skip_real and i == 0, say=say))
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def write_json(path: Path, report: dict) -> None:
    with contextlib.suppress(FileExistsError):
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"figures written to {path}")


def run(args) -> int:
    sizes = sizes_of(args)
    sources = default_sources(args.sources)
    say = progress(quiet=os.environ.get("CI", "").lower() == "true")
    keep = getattr(args, "debug", False)
    report: dict = {"machine": machine(), "real": None, "synthetic": []}
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        measure(report, tmp, sizes, sources, args.skip_real, keep, say)
    except BenchError as err:
        print(f"portal bench: {err}", file=sys.stderr)
        return 1
    finally:
        if keep:
            print(f"bench folder kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report["machine"]["loadavg_end"] = loadavg()
    report["targets"] = evaluate(report)
    print_report(report)
    if args.json:
        write_json(args.json, report)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The processes the bench starts: one build (--child SPEC) or the parallel probe's work (--spin)."""
    ap = argparse.ArgumentParser(
        prog=f"python -m {SELF}", description="a process `portal bench` starts; run `portal bench` to measure"
    )
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--child", metavar="SPEC", help="build with the folders this JSON file names; write the result it names")
    what.add_argument("--spin", action="store_true", help="CPU-bound work for the parallel probe")
    args = ap.parse_args(argv)
    if args.spin:
        spin()
        return 0
    return child(args.child)


if __name__ == "__main__":
    raise SystemExit(main())
