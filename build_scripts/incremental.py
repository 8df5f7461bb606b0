"""Incremental builds: the generated tree changes only where its content does, and mkdocs re-renders
only the pages whose Markdown changed.

1. generate() writes into a staging folder; `sync_tree` moves a file into the generated tree only when
   its bytes differ and deletes what is no longer generated, so a file's mtime is that of its last change.
2. `plan` decides between a full and a dirty mkdocs build. Dirty needs the last site to be exactly what
   the last build wrote (its recorded digest) and a render key equal to the last one: the set of pages,
   the settings, hand-written docs and theme, code, mkdocs.yml and packages. A change to any of them can
   change the nav, the header or the footer of every page, so it re-renders everything.
3. `prepare_dirty` hard-links the last site into the new temporary folder and unlinks every output that
   mkdocs will write (changed pages, changed copied files, templates, theme assets, search index): mkdocs
   writes in place, and a write through a hard link would change the live site before the swap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import cache
from .i18n import LANGS
from .settings import Settings

# inputs whose change may change every page (nav, theme, code); data changes show in the Markdown itself
RENDER_INPUTS = ("docs", "code and templates", "mkdocs.yml", "settings", "Python and packages")
# outputs mkdocs writes on every build, dirty or not: never linked from the last site
ALWAYS_WRITTEN = ("assets", "pagefind", "404.html", "sitemap.xml", "sitemap.xml.gz")  # pagefind/: the search stage
EDITION_FOLDERS = tuple(f"{lang}/" for lang in LANGS[1:])  # a second edition's mkdocs writes the same there (site.py)


def sync_tree(staging: Path, target: Path) -> int:
    """Make target hold exactly staging's files, touching only those whose bytes differ; returns how many
    files were written or deleted. staging is consumed (moved or removed)."""
    target.mkdir(parents=True, exist_ok=True)
    changed = 0
    wanted = set()
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        rel = path.relative_to(staging)
        wanted.add(rel)
        dest = target / rel
        if dest.is_file() and dest.stat().st_size == path.stat().st_size and dest.read_bytes() == path.read_bytes():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_dir():
            shutil.rmtree(dest)
        os.replace(path, dest)
        changed += 1
    for path in sorted(target.rglob("*"), reverse=True):  # children before their folders
        rel = path.relative_to(target)
        if path.is_file() or path.is_symlink():
            if rel not in wanted:
                path.unlink()
                changed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    shutil.rmtree(staging, ignore_errors=True)
    return changed


def docs_files(docs: Path) -> list[str]:
    return sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file())


def render_key(inputs: dict[str, str], files: list[str]) -> str:
    pages = [f for f in files if f.endswith(".md")]
    payload = json.dumps({"pages": pages, **{k: inputs.get(k, "") for k in RENDER_INPUTS}}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def state_path(settings: Settings) -> Path:
    return cache.state_path(settings).with_suffix(".render.json")


@dataclass(frozen=True)
class Plan:
    dirty: bool
    why: str  # why every page is rendered (empty when dirty)
    key: str
    files: list[str]
    gone: list[str]  # files of the last build's tree no longer generated (never pages: those force a full build)


def plan(settings: Settings, inputs: dict[str, str], docs: Path) -> Plan:
    files = docs_files(docs)
    key = render_key(inputs, files)
    if not settings.cache:
        return Plan(False, "--no-cache", key, files, [])
    try:
        last = json.loads(state_path(settings).read_text(encoding="utf-8"))
        record = json.loads(cache.state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Plan(False, "no record of an earlier build", key, files, [])
    if not isinstance(last, dict) or last.get("key") != key:
        return Plan(False, "the pages, the nav, the theme or the code changed", key, files, [])
    if not settings.out.is_dir() or cache.tree_digest(settings.out).hexdigest() != record.get("output"):
        return Plan(False, f"{settings.out} is not what the last build wrote", key, files, [])
    gone = sorted(set(last.get("files", [])) - set(files))
    return Plan(True, "", key, files, gone)


def record(settings: Settings, p: Plan) -> None:
    cache.write_atomic(state_path(settings), json.dumps({"key": p.key, "files": p.files}).encode())


def forget(settings: Settings) -> None:
    """Before the output changes: until a new record is written, no later build may trust it."""
    state_path(settings).unlink(missing_ok=True)


def dest_of(rel: str) -> str:
    """Where mkdocs writes a docs file (use_directory_urls: a.md → a/index.html, a/index.md → a/index.html)."""
    if not rel.endswith(".md"):
        return rel
    stem = rel[:-3]
    if stem == "index" or stem.endswith("/index"):
        return stem + ".html"
    return stem + "/index.html"


def prepare_dirty(out: Path, tmp: Path, docs: Path, p: Plan) -> int:
    """Hard-link the last site into tmp, without what mkdocs will write; returns how many outputs will be rebuilt."""
    for dirpath, dirnames, filenames in os.walk(out):
        rel = Path(dirpath).relative_to(out)
        if rel == Path(".") or (rel.parts and rel.as_posix() + "/" in EDITION_FOLDERS):  # each edition's own
            dirnames[:] = [d for d in dirnames if d not in ALWAYS_WRITTEN]
            filenames = [f for f in filenames if f not in ALWAYS_WRITTEN]
        (tmp / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            os.link(Path(dirpath) / name, tmp / rel / name)
    rebuilt = 0
    for rel in p.files:
        dest = tmp / dest_of(rel)
        # mkdocs' own test (File.is_modified): the source is newer than the output
        if dest.is_file() and dest.stat().st_mtime < (docs / rel).stat().st_mtime:
            dest.unlink()
        if not dest.is_file():
            rebuilt += 1
    for rel in p.gone:
        (tmp / dest_of(rel)).unlink(missing_ok=True)
    return rebuilt
