"""Stage 8, site: runs every stage in order and builds the site with mkdocs, atomically.

load → validate → derive → charts → downloads → pages → catalog → mkdocs build. The new site is built
in a temporary folder beside the output and swapped in only when everything succeeded, so a failed
build leaves the last good site untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from . import catalog, charts, derive, downloads, load, pages, validate
from .errors import DataError, Problem
from .settings import Settings


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


def git(settings: Settings, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=settings.root, capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def data_version(settings: Settings, changes: list[dict]) -> str:
    return f"{changes[0]['date']}-{changes[0]['sha'][:7]}" if changes else "dev"


def mkdocs_config(settings: Settings, docs_dir: Path, site_dir: Path) -> Path:
    """A config inheriting mkdocs.yml, pointing at the generated tree and this build's folders."""
    cfg = {
        "INHERIT": str(settings.root / "mkdocs.yml"),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "site_url": settings.site_url,
        "theme": {"name": "material", "custom_dir": str(settings.docs / "overrides")},
        "plugins": [{"search": {"lang": "zh", "jieba_dict_user": str(settings.work / "jieba_user.txt")}}],
    }
    path = settings.work / "mkdocs.generated.yml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def mkdocs_build(config_file: Path, strict: bool, epoch: str) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    os.environ["SOURCE_DATE_EPOCH"] = epoch  # sitemap dates: reproducible builds
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    captured = CaptureWarnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(captured)
    try:
        cfg = load_config(str(config_file), strict=strict)
        build(cfg)
    except SystemExit as exc:  # mkdocs aborts with SystemExit in strict mode
        raise DataError([Problem("mkdocs.yml", None, "-", f"mkdocs build failed: {'; '.join(captured.messages) or exc}")]) from None
    except Exception as exc:  # noqa: BLE001 - mkdocs raises many kinds; the user gets one line
        if type(exc).__name__ == "Abort":
            raise DataError([Problem("mkdocs.yml", None, "-", f"mkdocs build failed: {'; '.join(captured.messages) or exc}")]) from None
        raise
    finally:
        logger.removeHandler(captured)


class CaptureWarnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def generate(settings: Settings, progress: Progress, docs_dir: Path):
    """Every stage before mkdocs: returns what the later stages and the bench need."""
    with progress.stage("load", "读取数据包 load"):
        corpus = load.run(settings)
    with progress.stage("validate", "校验 validate"):
        report = validate.run(corpus)
    with progress.stage("derive", "派生 derive"):
        derived = derive.run(corpus, report)
        changes = catalog.git_changes(settings)
        version = data_version(settings, changes)
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True)
    with progress.stage("charts", "图表 charts"):
        all_charts = charts.run(derived, settings, docs_dir)
    with progress.stage("downloads", "下载文件 downloads"):
        files = downloads.run(derived, settings, docs_dir)
    with progress.stage("pages", "页面 pages"):
        written = pages.run(derived, settings, docs_dir, all_charts, files, changes, version)
    with progress.stage("catalog", "目录 catalog"):
        catalog.run(derived, settings, docs_dir, changes)
    return derived, changes, written


def run(settings: Settings, progress: Progress | None = None) -> dict:
    """Build the whole site into settings.out; returns stage timings."""
    progress = progress or Progress(settings.quiet)
    settings.work.mkdir(parents=True, exist_ok=True)
    docs_dir = settings.work / "docs"
    derived, changes, written = generate(settings, progress, docs_dir)
    out = settings.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        epoch = git(settings, "log", "-1", "--format=%ct") or "1577836800"
        with progress.stage("mkdocs", "mkdocs build"):
            mkdocs_build(mkdocs_config(settings, docs_dir, tmp), settings.strict, epoch)
        swap(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if progress.console:
        progress.console.print(f"[bold green]site built[/] → {out} ({len(written)} pages, {len(derived.datasets)} datasets)")
    elif not settings.quiet:
        pass
    else:
        print(f"site built: {out} ({len(written)} pages)")
    return {"timings": progress.timings, "pages": len(written), "derived": derived}


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
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(settings.out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {settings.out} at http://127.0.0.1:{port}/ (Ctrl+C to stop)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
