"""The build orchestrator: every stage in data-flow order, then an atomic swap into settings.out.

load → validate → derive → history → charts → downloads → pages → catalog → site (mkdocs) → search. The new
site is built in a temporary folder beside the output and swapped in only when everything succeeded,
so a failed build leaves the last good site untouched. Caches: see cache.py.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cache
from .settings import Settings
from .stages import load, search, site, validate


class Progress:
    """Stage timings, shown as they finish (rich), silent in CI."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.timings: dict[str, float] = {}
        self.console = None
        if not quiet:
            from rich.console import Console

            self.console = Console(stderr=True)

    @contextlib.contextmanager
    def stage(self, name: str, label: str):
        t = time.perf_counter()
        status = self.console.status(f"[bold]{label}…") if self.console else contextlib.nullcontext()
        with status:
            yield
        self.timings[name] = time.perf_counter() - t
        if self.console:
            self.console.print(f"[green]✓[/] {label} [dim]{self.timings[name]:.2f} s[/]")

    def say(self, rich_text: str, plain: str) -> None:
        if self.console:
            self.console.print(rich_text)
        else:
            print(plain)


@dataclass
class Generated:
    """What the stages before mkdocs made: the generated Markdown tree and what it was made from."""

    derived: object  # stages.derive.Derived
    charts: object  # stages.charts.ChartSet
    downloads: object  # stages.downloads.Downloads
    pages: list[str]
    changes: list[dict]


@dataclass
class BuildResult:
    timings: dict[str, float]
    pages: int
    skipped: bool
    built_because: str = ""
    generated: Generated | None = field(default=None, repr=False)  # None when the build was skipped


def data_version(changes: list[dict]) -> str:
    return f"{changes[0]['date']}-{changes[0]['sha'][:7]}" if changes else "dev"


def generate(settings: Settings, progress: Progress, docs_dir: Path) -> Generated:
    """Every stage before mkdocs, writing the Markdown tree into docs_dir."""
    from .stages import catalog, charts, derive, downloads, excerpts, history, pages  # here: an up-to-date build imports none

    with progress.stage("load", "读取数据包 load"):
        corpus = load.run(settings)
    with progress.stage("validate", "校验 validate"):
        report = cache.cached_validation(corpus, settings) if settings.cache else validate.run(corpus)
    with progress.stage("derive", "派生 derive"):
        derived = derive.run(corpus, report)
        quotes = excerpts.run(derived, settings.sources)
        changes = catalog.git_changes(settings)
        version = data_version(changes)
    with progress.stage("history", "更新记录 history"):
        releases = history.run(settings)  # what each commit changed in the data, for the changelog and the feed
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True)
    with progress.stage("charts", "图表 charts"):
        chart_set = charts.run(derived, settings, docs_dir)
    with progress.stage("downloads", "下载文件 downloads"):
        files = downloads.run(derived, settings, docs_dir)
    with progress.stage("pages", "页面 pages"):
        written = pages.run(derived, settings, docs_dir, chart_set, files, changes, version, releases, quotes)
    with progress.stage("catalog", "目录 catalog"):
        catalog.run(derived, settings, docs_dir, changes, files, releases)
    return Generated(derived, chart_set, files, written, changes)


def run(settings: Settings, progress: Progress | None = None) -> BuildResult:
    """Build the whole site into settings.out, or do nothing when the last build is still current."""
    progress = progress or Progress(settings.quiet)
    settings.work.mkdir(parents=True, exist_ok=True)
    with progress.stage("inputs", "检查输入 inputs"):
        inputs = cache.build_inputs(settings)
        record, why = cache.up_to_date(settings, inputs) if settings.cache else (None, "--no-cache")
    if record is not None:
        message = (
            f"site up to date: {settings.out} (inputs unchanged since the last build, {record.pages} pages; nothing rebuilt)"
        )
        progress.say(f"[bold green]{message}[/]", message)
        return BuildResult(progress.timings, record.pages, skipped=True)
    if progress.console:
        progress.console.print(f"[dim]building: {why}[/]")
    generated = generate(settings, progress, settings.work / "docs")
    out = settings.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        epoch = cache.git(settings, "log", "-1", "--format=%ct") or "1577836800"
        with progress.stage("mkdocs", "mkdocs build"):
            site.run(settings, settings.work / "docs", tmp, epoch)
            search.run(tmp)  # Chinese queries: see stages/search.py
        swap(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    pages, datasets = len(generated.pages), len(generated.derived.datasets)
    progress.say(f"[bold green]site built[/] → {out} ({pages} pages, {datasets} datasets)", f"site built: {out} ({pages} pages)")
    with contextlib.suppress(OSError):  # the site is built; without a record the next build is just not skipped
        cache.record_build(settings, inputs, pages, datasets)
    return BuildResult(progress.timings, pages, skipped=False, built_because=why, generated=generated)


def swap(new: Path, out: Path) -> None:
    """Replace out by new with two renames; the old site is removed only after the swap."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    new.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def serve(settings: Settings, port: int) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(settings.out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {settings.out} at http://127.0.0.1:{port}/ (Ctrl+C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()
