"""The build orchestrator: every stage in data-flow order, then an atomic swap into settings.out.

load → validate → derive → history → charts → downloads → pages → catalog → site (mkdocs) → search. The new
site is built in a temporary folder beside the output and swapped in only when everything succeeded,
so a failed build leaves the last good site untouched. Caches: see cache.py.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import http.server
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from . import cache, i18n, incremental
from .errors import UsageError
from .settings import Settings
from .stages import load, search, site, validate


class Progress:
    """Stage timings, shown as they finish (rich), silent in CI."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.timings: dict[str, float] = {}
        self.memory: dict[str, dict[str, int]] = {}  # stage -> peak RSS so far (KB): this process, its largest child
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
        self.memory[name] = peak_rss_kb()
        if self.console:
            self.console.print(f"[green]✓[/] {label} [dim]{self.timings[name]:.2f} s[/]")

    def say(self, rich_text: str, plain: str) -> None:
        if self.console:
            self.console.print(rich_text)
        else:
            print(plain)


def peak_rss_kb() -> dict[str, int]:
    """Peak resident memory so far (getrusage ru_maxrss, KB on Linux): of this process, and of the largest of
    its finished children (pool workers, which exit with their pool). A stage whose figure is higher than
    the one before it set the new peak."""
    import resource

    return {
        "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


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
    memory: dict[str, dict[str, int]] = field(default_factory=dict)  # Progress.memory
    generated: Generated | None = field(default=None, repr=False)  # None when the build was skipped
    search: search.SearchIndex | None = None  # Pagefind's time and peak memory; None when skipped


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
    final, docs_dir = docs_dir, docs_dir.with_name(docs_dir.name + ".new")  # staged, then synced: see incremental.py
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True)
    eds = i18n.editions(settings.editions)  # the Chinese site at the root, the English under en/
    with progress.stage("charts", "图表 charts"):
        chart_sets = charts.run_editions(derived, settings, docs_dir, eds)  # drawn per language, rendered in one batch
    with progress.stage("downloads", "下载文件 downloads"):
        files = downloads.run(derived, settings, docs_dir)  # one set, bilingual: every edition links it
    with progress.stage("pages", "页面 pages"):
        written = []
        for ed in eds:
            written += pages.run(derived, settings, docs_dir, chart_sets[ed.lang], files, changes, version, releases, quotes, ed)
    chart_set = chart_sets[eds[0].lang]
    with progress.stage("catalog", "目录 catalog"):
        catalog.run(derived, settings, docs_dir, changes, files, releases)
    with progress.stage("sync", "更新生成的文件 sync"):
        incremental.sync_tree(docs_dir, final)
    return Generated(derived, chart_set, files, written, changes)


def run(settings: Settings, progress: Progress | None = None) -> BuildResult:
    """Build the whole site into settings.out, or do nothing when the last build is still current."""
    if settings.deploy:
        settings.check_deployable()  # before anything is built or written
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
        return BuildResult(progress.timings, record.pages, skipped=True, memory=progress.memory)
    if progress.console:
        progress.console.print(f"[dim]building: {why}[/]")
    docs = settings.work / "docs"
    generated = generate(settings, progress, docs)
    out = settings.out
    out.parent.mkdir(parents=True, exist_ok=True)
    plan = incremental.plan(settings, inputs, docs)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        epoch = cache.git(settings, "log", "-1", "--format=%ct") or "1577836800"
        with progress.stage("mkdocs", "mkdocs build"):
            render(settings, plan, docs, tmp, epoch, progress)
        incremental.forget(settings)
        with progress.stage("search", "搜索索引 search"):
            index = search.run(settings, tmp)  # Pagefind, into tmp/pagefind/: see stages/search.py
        swap(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    pages, datasets = len(generated.pages), len(generated.derived.datasets)
    progress.say(f"[bold green]site built[/] → {out} ({pages} pages, {datasets} datasets)", f"site built: {out} ({pages} pages)")
    with contextlib.suppress(OSError):  # the site is built; without a record the next build is just not skipped
        cache.record_build(settings, inputs, pages, datasets)
        incremental.record(settings, plan)
    return BuildResult(
        progress.timings, pages, skipped=False, built_because=why, memory=progress.memory, generated=generated, search=index
    )


def render(settings: Settings, plan: incremental.Plan, docs: Path, tmp: Path, epoch: str, progress: Progress) -> None:
    """mkdocs into tmp: every page, or (dirty) only the changed ones over a hard-linked copy of the last site."""
    if plan.dirty:
        rebuilt = incremental.prepare_dirty(settings.out, tmp, docs, plan)
        if progress.console:
            progress.console.print(f"[dim]mkdocs: {rebuilt} changed outputs re-rendered, the rest kept[/]")
    elif progress.console:
        progress.console.print(f"[dim]mkdocs: every page ({plan.why})[/]")
    site.run(settings, docs, tmp, epoch, dirty=plan.dirty)


def swap(new: Path, out: Path) -> None:
    """Replace out by new with two renames; the old site is removed only after the swap."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    new.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """The built site as it is deployed: under the path of site_url (`/` redirects there), and every
    unknown path answered with the site's 404.html and status 404, as GitHub Pages does."""

    prefix = "/"

    def __init__(self, *args, prefix: str | None = None, **kwargs):
        if prefix is not None:  # before super().__init__, which handles the request
            self.prefix = prefix
        super().__init__(*args, **kwargs)

    def do_GET(self):
        if not self.redirected():
            super().do_GET()

    def do_HEAD(self):
        if not self.redirected():
            super().do_HEAD()

    def redirected(self) -> bool:
        """`/` (and the prefix without its slash) lead to the site: nothing else is served outside it."""
        url = urlsplit(self.path)
        if url.path == self.prefix or url.path not in ("/", self.prefix.rstrip("/")):
            return False
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", self.prefix + (f"?{url.query}" if url.query else ""))  # ?q= opens the search
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def translate_path(self, path):
        if not urlsplit(path).path.startswith(self.prefix):
            return str(Path(self.directory) / ".outside-the-site-prefix")  # no such file: 404
        return super().translate_path("/" + path[len(self.prefix) :])

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND)  # a folder without index.html is not a page
        return None

    def not_found_page(self) -> Path:
        """The edition's own 404 page for an address inside it (en/…), as Cloudflare Pages and Netlify answer
        (the nearest 404.html up the path); GitHub Pages answers the root one, which links the English home."""
        path = urlsplit(self.path).path
        for lang in i18n.LANGS[1:]:
            if path.startswith(f"{self.prefix}{lang}/") and (Path(self.directory) / lang / "404.html").is_file():
                return Path(self.directory) / lang / "404.html"
        return Path(self.directory) / "404.html"

    def send_error(self, code, message=None, explain=None):
        page = self.not_found_page()
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None


def site_prefix(settings: Settings) -> str:
    """The path of the site's public address: '/poverty-plans/' for https://example.org/poverty-plans/."""
    return urlsplit(settings.site_url).path or "/"


def listen(settings: Settings, port: int) -> http.server.ThreadingHTTPServer:
    """The preview's server, bound but not yet serving: bound before the build, so that a busy port is a
    usage error at once rather than a failure after a whole rebuild."""
    handler = functools.partial(SiteHandler, directory=str(settings.out), prefix=site_prefix(settings))
    try:
        return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OverflowError:
        raise UsageError(f"port {port} is not a port number (0-65535; 0 picks a free one)") from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is in use: choose another with --port") from None
        if err.errno == errno.EACCES:
            raise UsageError(f"port {port} needs privileges: choose one above 1023 with --port") from None
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {err.strerror}") from None


def serve(server: http.server.ThreadingHTTPServer, settings: Settings) -> None:
    """Serve the built site on the bound server until Ctrl+C."""
    port = server.server_address[1]
    # flushed: a script reading our output learns the address (and the port that --port 0 picked) at once
    print(f"serving {settings.out} at http://127.0.0.1:{port}{site_prefix(settings)} (Ctrl+C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
