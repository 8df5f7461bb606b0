"""Stage 9, search: Pagefind indexes the built HTML into `pagefind/` of the site, before the swap.

Pagefind (pinned in build_scripts/tools/npm/package.json, installed with `npm ci` by tools/npm.py) writes
an index split in small chunks: a reader's browser fetches only the chunks a query needs (about 100 KB for
a first query) instead of Material's whole index (1.3 MB at 300 pages, 20 MB at 1,000). The extended
binary cuts Chinese into words (`<html lang="zh">`), and Pagefind 1.6 cuts queries the same way (1.5 did
not). What is indexed is marked in the templates: `data-pagefind-body` on the article (docs/overrides/
main.html), `data-pagefind-filter` for 类别/层级/文件, `data-pagefind-weight` on a region's name; tables
marked `data-search-exclude` are left out (their words are in the key figures and summaries).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import DataError, Problem
from ..settings import Settings

BINARY = "@pagefind/linux-x64/bin/pagefind_extended"  # the extended binary segments Chinese
OUTPUT = "pagefind"  # the bundle's folder in the site: pagefind-ui.js, pagefind-ui.css, the index
EXCLUDE = "[data-search-exclude], .headerlink"  # the tables; the ¶ of each heading (else in every title)


@dataclass(frozen=True)
class SearchIndex:
    folder: Path
    seconds: float
    peak_kb: int  # Pagefind's peak resident memory (the child's ru_maxrss); 0 where unknown


def command(binary: Path, site_dir: Path) -> list[str]:
    return [str(binary), "--site", str(site_dir), "--output-subdir", OUTPUT, "--exclude-selectors", EXCLUDE, "--silent"]


def binary(settings: Settings) -> Path:
    from ..tools import npm

    # installed once per checkout (.build/npm/), not per scratch folder: the bench and tests build with their own
    return npm.package_file(replace(settings, work=settings.root / ".build"), BINARY)


def run(settings: Settings, site_dir: Path) -> SearchIndex:
    """Index site_dir with Pagefind; a DataError naming Pagefind's last message when it fails."""
    exe = binary(settings)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a long log cannot block the child
        proc = subprocess.Popen(command(exe, site_dir), stdout=log, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # wait4: this child's own peak memory
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().strip()
    seconds = time.perf_counter() - start
    if code != 0 or not (site_dir / OUTPUT / "pagefind-entry.json").is_file():
        last = (output or "no output").splitlines()[-1]
        raise DataError([Problem("build_scripts/stages/search.py", None, "-", f"pagefind failed (exit {code}): {last}")])
    return SearchIndex(site_dir / OUTPUT, seconds, usage.ru_maxrss)
