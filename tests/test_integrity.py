"""Integrity of the built site: the same input builds the same bytes, and every internal link resolves.

(a) Two clean builds (--no-cache, separate --out and scratch folders, same settings) of the same input,
    the mini fixture and the real corpus, must give byte-identical trees: a download's sha256 is published
    on its page and in the catalog, so one unstable byte makes every checksum a reader verifies a lie.
(b) In the built site (the session's `built_site`: the real corpus, or the fixture without the source
    texts), every href/src of every page, resolved against the
    page's URL, names a file that exists, and every #fragment names an id (or a[name]) in the target
    page. External links are allowed only to known licence and specification hosts, and are listed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree

import pytest
from helpers import MINI_SOURCES, ROOT, Page, build_isolated, copy_datasets, mini_datasets, read_rows, tree_hashes, write_rows

from build_scripts.settings import Settings

SITE_URL = Settings.from_env().site_url  # the built folder is served here: 404.html links from its path
# external hosts a page may link to: licences, vocabularies and specifications, the theme's credit
KNOWN_EXTERNAL = {
    "creativecommons.org",
    "schema.org",
    "www.w3.org",
    "purl.org",
    "xmlns.com",
    "project-open-data.cio.gov",
    "vega.github.io",
    "specs.frictionlessdata.io",
    "squidfunk.github.io",
    "www.mkdocs.org",
}


# --- (a) reproducible builds ------------------------------------------------------------------------------


def differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    only = [f"only in one build: {k}" for k in sorted(set(a) ^ set(b))]
    return only + [f"differs: {k}" for k in sorted(set(a) & set(b)) if a[k] != b[k]]


def git_head() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def two_clean_builds(tmp: Path, *args: str) -> tuple[Path, Path]:
    """Two builds, each with its own --out and scratch folder. The data version and the sitemap's dates
    come from git, so a commit landing between the two (other people work here) skips the test."""
    head = git_head()

    def build(name: str) -> Path:
        out = tmp / name / "site"
        proc = build_isolated(tmp / name / "work", *args, "--out", str(out), "--no-cache")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return out

    # one after the other, seconds apart: builds side by side would hide a clock that leaks into a file
    first, second = build("first"), build("second")
    if git_head() != head:
        pytest.skip("a commit landed between the two builds")
    return first, second


@pytest.mark.slow
def test_two_clean_builds_are_byte_identical(tmp_path):
    ds = mini_datasets(tmp_path)
    first, second = two_clean_builds(tmp_path, "--datasets", str(ds), "--sources", str(MINI_SOURCES))
    a, b = tree_hashes(first), tree_hashes(second)
    assert len(a) > 50
    diff = differences(a, b)
    assert not diff, "two builds of the same input differ:\n" + "\n".join(diff)


@pytest.mark.slow
def test_two_clean_builds_of_the_real_corpus_are_byte_identical(tmp_path, sources):
    """The same on the real corpus (exit charts, causes, every family), from one copy of its data."""
    ds = copy_datasets(tmp_path)
    first, second = two_clean_builds(tmp_path, "--datasets", str(ds), "--sources", str(sources))
    diff = differences(tree_hashes(first), tree_hashes(second))
    assert not diff, "two builds of the real corpus differ:\n" + "\n".join(diff[:40])


def changed_notes(ds: Path) -> None:
    """One cell a reader sees on the dataset page (a target's indicator), as a maintainer's fix would change it."""
    path = ds / "mini-2020" / "data" / "targets.csv"
    rows = read_rows(path)
    rows[1][rows[0].index("indicator_zh")] += "（核对原文后补记）"
    write_rows(path, rows)


@pytest.mark.slow
def test_warm_rebuild_after_a_change_equals_a_clean_build(tmp_path):
    """(c) A cached build after one changed cell re-renders only what changed (dirty mkdocs over the last
    site), yet gives the same bytes as a clean build of the changed input: nav, sitemap, search index whole."""
    head = git_head()
    ds = mini_datasets(tmp_path)
    args = ("--datasets", str(ds), "--sources", str(MINI_SOURCES))
    warm = tmp_path / "warm" / "site"
    proc = build_isolated(tmp_path / "warm" / "work", *args, "--out", str(warm))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    home, dataset = warm / "about" / "index.html", warm / "datasets" / "mini-2020-targets" / "index.html"
    before = {p: (p.stat().st_ino, p.read_bytes()) for p in (home, dataset)}
    changed_notes(ds)
    proc = build_isolated(tmp_path / "warm" / "work", *args, "--out", str(warm))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert dataset.read_bytes() != before[dataset][1] and "（核对原文后补记）" in dataset.read_text(encoding="utf-8")
    assert home.stat().st_ino == before[home][0], "a page whose Markdown did not change was rendered again"
    clean = tmp_path / "clean" / "site"
    proc = build_isolated(tmp_path / "clean" / "work", *args, "--out", str(clean), "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if git_head() != head:
        pytest.skip("a commit landed between the builds")
    diff = differences(tree_hashes(warm), tree_hashes(clean))
    assert not diff, "the warm rebuild differs from a clean build:\n" + "\n".join(diff)


# --- (b) links and anchors ----------------------------------------------------------------------------------


def target_file(out: Path, url_path: str) -> Path | None:
    """The file a site path serves: directory URLs serve their index.html."""
    rel = unquote(url_path).lstrip("/")
    path = out / rel
    if url_path.endswith("/") or path.is_dir():
        path = path / "index.html"
    return path if path.is_file() else None


def check_links(out: Path) -> tuple[list[str], dict[str, set[str]]]:
    pages = {p: Page.of(p) for p in sorted(out.rglob("*.html"))}
    ids = {p: links.ids for p, links in pages.items()}
    broken, external = [], {}
    for page, links in pages.items():
        rel = page.relative_to(out).as_posix()
        page_url = SITE_URL + rel
        for tag, raw in links.refs:
            ref = raw.strip()
            if not ref or ref.startswith(("mailto:", "data:")):
                continue
            if ref.lower().startswith("javascript:"):
                broken.append(f"{rel}: <{tag}> {ref!r} is a javascript: URL")
                continue
            url = urljoin(page_url, ref)
            parts = urlsplit(url)
            if not url.startswith(SITE_URL):
                if parts.netloc == urlsplit(SITE_URL).netloc:
                    broken.append(f"{rel}: <{tag}> {ref!r} leaves the site's folder {SITE_URL}")
                else:
                    external.setdefault(parts.netloc, set()).add(url)
                continue
            target = target_file(out, urlsplit(url[len(SITE_URL) :]).path)
            if target is None:
                broken.append(f"{rel}: <{tag}> {ref!r} -> {url.split('#')[0]} does not exist")
                continue
            if parts.fragment and target.suffix == ".html":
                fragment = unquote(parts.fragment)
                if fragment not in ids.get(target, set()):
                    broken.append(f"{rel}: <{tag}> {ref!r} -> no id {fragment!r} in {target.relative_to(out)}")
    return broken, external


@pytest.fixture(scope="module")
def link_report(built_site):
    return check_links(built_site)


def test_every_internal_link_and_anchor_resolves(link_report):
    broken, _ = link_report
    assert not broken, f"{len(broken)} broken link(s):\n" + "\n".join(broken[:60])


def test_external_links_are_known_licence_or_spec_links(link_report):
    _, external = link_report
    print("external links:")
    for host in sorted(external):
        for url in sorted(external[host]):
            print(f"  {url}")
    unknown = sorted(h for h in external if h not in KNOWN_EXTERNAL)
    assert not unknown, f"links to unexpected hosts: {unknown}: {[sorted(external[h])[:3] for h in unknown]}"


def test_sitemap_lists_only_pages_that_exist(built_site):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ElementTree.parse(built_site / "sitemap.xml").getroot().findall("s:url/s:loc", ns)]
    assert locs
    missing = [loc for loc in locs if not loc.startswith(SITE_URL) or target_file(built_site, loc[len(SITE_URL) :]) is None]
    assert not missing, missing[:20]


def test_the_link_checker_finds_broken_links(tmp_path):
    """The checker itself: a missing page and a missing anchor are both reported."""
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="a/">ok</a><a href="a/#here">ok</a><a href="#top">x</a><p id="top"></p>'
        '<a href="b/">gone</a><a href="a/#nowhere">gone</a>',
        encoding="utf-8",
    )
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">h</h2><a href="../index.html#top">ok</a>', encoding="utf-8")
    broken, _ = check_links(tmp_path)
    assert len(broken) == 2 and any("b/" in b for b in broken) and any("nowhere" in b for b in broken), broken
    assert not re.search(r"index\.html.*#top", "\n".join(broken))
