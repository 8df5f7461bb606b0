"""Stage 8, site: mkdocs builds the generated Markdown tree into a folder (the orchestrator swaps it in).

The config inherits mkdocs.yml and points it at this build's folders; mkdocs' own warnings become one
`mkdocs.yml:-:-:` problem line, so that a strict build fails like any other data problem.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from html import escape
from multiprocessing import get_context
from pathlib import Path

import yaml

from ..errors import DataError, Problem
from ..i18n import HTML_LANG, LANGS, Edition, editions
from ..settings import Settings


@dataclass(frozen=True)
class SiteBuild:
    site_dir: Path
    config_file: Path


def mkdocs_config(
    settings: Settings, docs_dir: Path, site_dir: Path, edition: Edition | None = None, out: Path | None = None
) -> Path:
    """A config inheriting mkdocs.yml, pointing at the generated tree and this build's folders. The English
    edition builds docs_dir/en/ into site_dir/en/ with mkdocs.yml's names and nav translated (i18n catalog),
    Material in English and its own address; the Chinese one leaves en/ out."""
    edition = edition or Edition("zh")
    cfg = {
        "INHERIT": str(settings.root / "mkdocs.yml"),
        "docs_dir": str(docs_dir / edition.prefix),
        "site_dir": str(out or site_dir / edition.prefix),
        "site_url": settings.site_url + edition.prefix,
        "theme": {"name": "material", "custom_dir": str(settings.docs / "overrides"), "language": edition.lang},
        "plugins": [],  # no Material search: Pagefind indexes the built site (stages/search.py)
    }
    if edition.prefix:
        base = base_config(settings)
        cfg.update(
            site_name=edition.t(base["site_name"]),
            site_description=edition.t(base["site_description"]),
            copyright=edition.t(base["copyright"]),
            nav=translated_nav(base["nav"], edition),
        )
    else:
        cfg["exclude_docs"] = "\n".join(f"/{lang}/" for lang in LANGS[1:])
    path = settings.work / f"mkdocs.generated.{edition.lang}.yml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


class _Tolerant(yaml.SafeLoader):
    """mkdocs.yml names Python objects (the slugify function): read past them, only names and nav are wanted."""


_Tolerant.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def base_config(settings: Settings) -> dict:
    return yaml.load((settings.root / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Tolerant)  # noqa: S506


def translated_nav(nav, edition: Edition):
    """mkdocs.yml's nav with every title in the edition's language; the paths are the same in both editions."""
    if isinstance(nav, list):
        return [translated_nav(x, edition) for x in nav]
    if isinstance(nav, dict):
        return {edition.t(k): translated_nav(v, edition) for k, v in nav.items()}
    return nav


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
    """`mkdocs build` of each edition of docs_dir into site_dir; DataError with mkdocs' warnings when one aborts.

    The Chinese edition builds here while the others build at the same time in worker processes, each into a
    folder beside site_dir, moved to site_dir/en/ when all are done: a full build empties the folder it builds
    into, and two builds of about 300 pages each take one build's time on two CPUs."""
    eds = editions(settings.editions)
    first, rest = eds[0], eds[1:]
    aside = {ed.lang: site_dir.parent / f".{site_dir.name}-{ed.lang}" for ed in rest}
    try:
        for ed in rest:
            shutil.rmtree(aside[ed.lang], ignore_errors=True)
            if (site_dir / ed.lang).exists():  # a dirty build: the last site's English pages, hard-linked
                (site_dir / ed.lang).rename(aside[ed.lang])
        with ProcessPoolExecutor(max_workers=max(1, len(rest)), mp_context=get_context("spawn")) as pool:
            others = [
                pool.submit(build_elsewhere, settings, docs_dir, site_dir, epoch, dirty, ed.lang, aside[ed.lang]) for ed in rest
            ]
            config = build_edition(settings, docs_dir, site_dir, epoch, dirty, first)
            failed = [problem for f in others if (problem := f.result())]
        if failed:
            raise DataError([Problem("mkdocs.yml", None, "-", failed[0])])
        for ed in rest:
            aside[ed.lang].rename(site_dir / ed.lang)
    finally:
        for folder in aside.values():
            shutil.rmtree(folder, ignore_errors=True)
    if rest:
        write_sitemap(site_dir, settings.site_url, eds, int(epoch))
    return SiteBuild(site_dir, config)


def build_elsewhere(settings: Settings, docs_dir: Path, site_dir: Path, epoch: str, dirty: bool, lang: str, out: Path) -> str:
    """One edition's build in a worker process, into out; mkdocs' complaint as text ('' when it built)."""
    try:
        build_edition(settings, docs_dir, site_dir, epoch, dirty, Edition(lang), out)
    except DataError as err:
        return err.problems[0].message
    return ""


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def write_sitemap(site_dir: Path, site_url: str, eds: list[Edition], epoch: int) -> None:
    """One sitemap for both editions (mkdocs writes one per build): every page of each, with an `xhtml:link`
    alternate per language (hreflang, as search engines read it), replacing the editions' own sitemaps."""
    from xml.etree import ElementTree as ET

    pages: dict[str, dict[str, str]] = {}  # page path -> lang -> lastmod
    for ed in eds:
        path = site_dir / ed.prefix / "sitemap.xml"
        for url in ET.parse(path).getroot().findall(f"{{{SITEMAP_NS}}}url"):
            loc = url.findtext(f"{{{SITEMAP_NS}}}loc", "")
            rel = loc[len(site_url + ed.prefix) :] if loc.startswith(site_url + ed.prefix) else loc
            pages.setdefault(rel, {})[ed.lang] = url.findtext(f"{{{SITEMAP_NS}}}lastmod", "")
        if ed.prefix:
            path.unlink()
            path.with_name("sitemap.xml.gz").unlink(missing_ok=True)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">']
    for rel, langs in pages.items():
        for ed in (e for e in eds if e.lang in langs):
            lines.append(f"  <url><loc>{escape(site_url + ed.prefix + rel)}</loc><lastmod>{langs[ed.lang]}</lastmod>")
            for other in (e for e in eds if e.lang in langs):
                href = escape(site_url + other.prefix + rel, quote=True)
                lines.append(f'    <xhtml:link rel="alternate" hreflang="{HTML_LANG[other.lang]}" href="{href}"/>')
            default = escape(site_url + eds[0].prefix + rel, quote=True)  # a reader of neither language: the Chinese
            lines.append(f'    <xhtml:link rel="alternate" hreflang="x-default" href="{default}"/>')
            lines.append("  </url>")
    lines.append("</urlset>\n")
    data = "\n".join(lines).encode()
    (site_dir / "sitemap.xml").write_bytes(data)
    with (site_dir / "sitemap.xml.gz").open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=epoch, filename="") as gz:
        gz.write(data)  # the dates and bytes of a build are reproducible


def build_edition(
    settings: Settings, docs_dir: Path, site_dir: Path, epoch: str, dirty: bool, edition: Edition, out: Path | None = None
) -> Path:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config_file = mkdocs_config(settings, docs_dir, site_dir, edition, out)
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
        where = f" ({edition.lang} edition)" if edition.prefix else ""
        raise DataError(
            [Problem("mkdocs.yml", None, "-", f"mkdocs build failed{where}: {'; '.join(captured.messages) or exc}")]
        ) from None
    finally:
        logger.removeHandler(captured)
        build_logger.removeFilter(not_the_dirty_warning)
    return config_file
