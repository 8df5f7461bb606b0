"""Chinese search: what the site stage does to Material's search worker after mkdocs has built it.

mkdocs-material 9.8.1 cuts a Chinese query into words of the search index, but never tries the whole
query as one word (`j < query.length`): 共和县 becomes 共* 和*, 上新庄镇 becomes 上* 新* (庄镇 is lost).
It also ORs the pieces (共和县投资 ranks every page about 共和县 or 投资 alike) and glues a run to what
comes before it (2019投资* matches no word). The patches let the cut reach the end of the query, and
make every piece of a Chinese run a separate, required term (a run right after + or - keeps the
user's operator). The build fails loudly when Material's code changes, so a new Material is reviewed
rather than silently left with broken Chinese search.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError, Problem

SEARCH_WORKER_PATCHES = [
    ("for(let o=s+1;o<t.length;o++)t.slice(s,o)in e", "for(let o=s+1;o<=t.length;o++)t.slice(s,o)in e"),
    (
        's=>[...fe(s,this.index.invertedIndex)].join("* ")',
        '(s,i,q)=>(/[-+]$/.test(q.slice(0,i))?"":" +")+[...fe(s,this.index.invertedIndex)].join("* +")+"* "',
    ),
]


def run(site_dir: Path) -> Path:
    """Stage 9, search: make the built site's search answer Chinese queries; returns the patched worker."""
    return patch_search_worker(site_dir)


def patch_search_worker(site_dir: Path) -> Path:
    """Apply SEARCH_WORKER_PATCHES to Material's search worker; fail the build if Material changed."""
    for worker in (site_dir / "assets" / "javascripts" / "workers").glob("search.*.min.js"):
        text = worker.read_text(encoding="utf-8")
        if all(text.count(old) == 1 for old, _ in SEARCH_WORKER_PATCHES):
            for old, new in SEARCH_WORKER_PATCHES:
                text = text.replace(old, new)
            worker.write_text(text, encoding="utf-8")
            return worker
    raise DataError(
        [Problem("mkdocs.yml", None, "-", "mkdocs-material's search worker changed: review build_scripts/stages/search.py")]
    )
