"""Stage 8, site: mkdocs builds the generated Markdown tree into a folder (the orchestrator swaps it in).

The config inherits mkdocs.yml and points it at this build's folders; mkdocs' own warnings become one
`mkdocs.yml:-:-:` problem line, so that a strict build fails like any other data problem.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import DataError, Problem
from ..settings import Settings


@dataclass(frozen=True)
class SiteBuild:
    site_dir: Path
    config_file: Path


def mkdocs_config(settings: Settings, docs_dir: Path, site_dir: Path) -> Path:
    """A config inheriting mkdocs.yml, pointing at the generated tree and this build's folders."""
    cfg = {
        "INHERIT": str(settings.root / "mkdocs.yml"),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "site_url": settings.site_url,
        "theme": {"name": "material", "custom_dir": str(settings.docs / "overrides")},
        "plugins": [],  # no Material search: Pagefind indexes the built site (stages/search.py)
    }
    path = settings.work / "mkdocs.generated.yml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


class CaptureWarnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def not_the_dirty_warning(record: logging.LogRecord) -> bool:
    # mkdocs warns that a dirty build may leave the nav stale; ours is dirty only when the nav cannot have changed
    return not record.getMessage().startswith("A 'dirty' build is being performed")


def run(settings: Settings, docs_dir: Path, site_dir: Path, epoch: str, dirty: bool = False) -> SiteBuild:
    """`mkdocs build` of docs_dir into site_dir (dirty: only pages newer than their output in site_dir);
    DataError with mkdocs' warnings when it aborts."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config_file = mkdocs_config(settings, docs_dir, site_dir)
    os.environ["SOURCE_DATE_EPOCH"] = epoch  # sitemap dates: reproducible builds
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    captured = CaptureWarnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(captured)
    build_logger = logging.getLogger("mkdocs.commands.build")
    build_logger.addFilter(not_the_dirty_warning)
    try:
        build(load_config(str(config_file), strict=settings.strict), dirty=dirty)
    except SystemExit as exc:  # mkdocs aborts (mkdocs.exceptions.Abort is a SystemExit) in strict mode
        raise DataError(
            [Problem("mkdocs.yml", None, "-", f"mkdocs build failed: {'; '.join(captured.messages) or exc}")]
        ) from None
    finally:
        logger.removeHandler(captured)
        build_logger.removeFilter(not_the_dirty_warning)
    return SiteBuild(site_dir, config_file)
