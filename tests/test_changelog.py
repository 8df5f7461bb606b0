"""The changelog page, the home page's 最近更新 and the Atom feed tell readers what each release changed in the
figures (added, corrected old → new, removed), per dataset, from the data's git history: never a commit
subject, a sha outside the version string or a file path.

A git repository is made here from the fixture package: one commit imports it, a second corrects one value,
adds a figure (with a label full of Markdown and HTML), removes one and revises another's notes; the site is
built from it (without sources: provenance is not what is tested).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from helpers import MINI, SCHEMAS, Page, build_isolated, mini_datasets, read_csv, squash, write_csv

from build_scripts import cache
from build_scripts.families import BY_NAME, FIGURE_NAMES
from build_scripts.settings import Settings
from build_scripts.stages import history, pages

DOC = "mini-2020"
SITE_URL = "https://example.org/poverty-plans/"  # the default; the build is given no other
ATOM = "{http://www.w3.org/2005/Atom}"
SUBJECTS = ("Import qzxv fixture package", "Fix qzxv targets and drop a measure")  # must never reach a page
DATES = ("2026-01-05T10:00:00+00:00", "2026-02-01T09:30:00+00:00")
HOSTILE_LABEL = "新增<b>指标</b>|*`x`*\n第二行"
# figures per dataset of the fixture package, as first committed
FIRST_COUNTS = {p.stem: len(read_csv(p)) for p in sorted((MINI / DOC / "data").glob("*.csv")) if p.stem in FIGURE_NAMES}


def git(repo: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **({"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {})}
    ident = ["-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]
    return subprocess.run(["git", *ident, *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


@dataclasses.dataclass
class Repo:
    root: Path
    datasets: Path
    shas: list[str]
    corrected: dict  # the row before and after, by "old" / "new"
    added: dict
    removed: dict
    revised: list[dict]


def edit(datasets: Path, family: str, change) -> list[dict]:
    """Rewrite one figure table of the fixture package through `change(rows) -> rows`; returns the old rows."""
    path = datasets / DOC / "data" / f"{family}.csv"
    rows = read_csv(path)
    fields = list(rows[0])
    write_csv(path, change([dict(r) for r in rows]), fields)
    return rows


def make_repo(tmp: Path) -> Repo:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    datasets = mini_datasets(tmp)
    git(tmp, "init", "-q")
    git(tmp, "add", "datasets")
    git(tmp, "commit", "-q", "-m", SUBJECTS[0], date=DATES[0])

    targets = read_csv(datasets / DOC / "data" / "targets.csv")
    old, other = targets[0], targets[1]
    new = {**old, "value": f"{float(old['value']) * 2:g}"}  # the printed number doubles, and so does the value
    new["value_as_printed"] = old["value_as_printed"].replace(old["value"], new["value"])
    added = {**other, "figure_id": "TA999", "indicator_zh": HOSTILE_LABEL, "notes": ""}
    revised = {**other, "notes": "说明已修订"}
    edit(datasets, "targets", lambda rows: [new, revised, *rows[2:], added])
    measures = read_csv(datasets / DOC / "data" / "measures.csv")
    removed = measures[-1]
    edit(datasets, "measures", lambda rows: rows[:-1])
    git(tmp, "add", "datasets")
    git(tmp, "commit", "-q", "-m", SUBJECTS[1], "-m", "Body text qzxv with datasets/mini-2020/data/targets.csv", date=DATES[1])
    shas = git(tmp, "log", "--format=%H").split()[::-1]
    return Repo(tmp, datasets, shas, {"old": old, "new": new}, added, removed, [revised])


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Repo:
    return make_repo(tmp_path_factory.mktemp("history-repo"))


@pytest.fixture(scope="module")
def site(repo: Repo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("history-site") / "site"
    proc = build_isolated(repo.root / "work", "--datasets", str(repo.datasets), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def version(sha: str, date: str) -> str:
    return f"{date[:10]}-{sha[:7]}"


class Rows(HTMLParser):
    """The visible text of each table row of a page."""

    def __init__(self, raw: str):
        super().__init__(convert_charrefs=True)
        self.rows: list[str] = []
        self._row: list[str] | None = None
        self.feed(raw)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(squash("".join(self._row)))
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row.append(data)


def row_with(raw: str, figure_id: str) -> str:
    found = [r for r in Rows(raw).rows if r.startswith(figure_id)]
    assert len(found) == 1, (figure_id, found)
    return found[0]


def shown(row: dict) -> str:
    """A figure's value as the changelog shows it, without spaces (history.Figure.shown, from the raw row)."""
    return squash(history.Figure.of(row).shown())


# --- the changelog page ----------------------------------------------------------------------------------------


def test_changelog_lists_each_release_newest_first_with_its_version(repo: Repo, site: Path):
    page = Page.of(site / "changelog" / "index.html")
    anchors = [f"v-{version(sha, date)}" for sha, date in zip(repo.shas, DATES)]
    assert set(anchors) <= page.ids
    raw = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert raw.index(f'id="{anchors[1]}"') < raw.index(f'id="{anchors[0]}"')  # newest first
    assert "首次发布" in page.visible
    # the first release: a count per dataset, not its rows
    first = raw[raw.index(f'id="{anchors[0]}"') :]
    doc_title = read_csv(MINI / DOC / "data" / "documents.csv")[0]["title_zh"]
    for family, count in FIRST_COUNTS.items():
        assert f'href="../datasets/{BY_NAME[family].dataset_id(DOC)}/"' in first
        assert squash(f"{doc_title} · {BY_NAME[family].title_zh}{count}") in Rows(first).rows


def test_changelog_shows_the_correction_old_to_new_linking_to_the_figure(repo: Repo, site: Path):
    raw = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    old, new = repo.corrected["old"], repo.corrected["new"]
    row = row_with(raw, old["figure_id"])
    assert f"{shown(old)}→{shown(new)}" in row
    page = Page.of(site / "changelog" / "index.html")
    href = f"../documents/{DOC}/#{old['figure_id']}"
    assert href in [a["href"] for a in page.links]
    assert old["figure_id"] in Page.of(site / "documents" / DOC / "index.html").ids


def test_changelog_lists_added_and_removed_figures_with_escaped_labels(repo: Repo, site: Path):
    raw = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    page = Page.of(site / "changelog" / "index.html")
    added = row_with(raw, repo.added["figure_id"])
    assert squash(HOSTILE_LABEL) in added  # shown as written: no tag, no Markdown
    assert not any(tag == "b" for tag, _ in page.elements)
    assert f"../documents/{DOC}/#{repo.added['figure_id']}" in [a["href"] for a in page.links]
    removed = row_with(raw, repo.removed["figure_id"])
    assert shown(repo.removed) in removed
    # a removed figure has no anchor any more: it is not linked
    assert not any(a["href"].endswith(f"#{repo.removed['figure_id']}") for a in page.links)


def test_changelog_sums_up_each_dataset_in_chinese(repo: Repo, site: Path):
    page = Page.of(site / "changelog" / "index.html")
    text = page.visible
    schema = yaml.safe_load((SCHEMAS / "targets.schema.yaml").read_text(encoding="utf-8"))
    notes = next(f["title"] for f in schema["fields"] if f["name"] == "notes")
    assert squash(f"更正 1 个、新增 1 个数字；另有 {len(repo.revised)} 个数字修订了其他信息（{notes}）") in text
    assert squash("删除 1 个数字") in text
    for family in ("targets", "measures"):
        assert f"../datasets/{DOC}-{family}/" in [a["href"] for a in page.links]


def test_changelog_shows_no_commit_subject_sha_or_file_path(repo: Repo, site: Path):
    raw = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    text = Page(raw).visible
    assert "qzxv" not in raw
    for sha, date in zip(repo.shas, DATES):
        assert sha not in raw
        # the short sha only ever inside the version string
        for m in re.finditer(sha[:7], raw):
            assert raw[max(0, m.start() - 11) : m.start()] == f"{date[:10]}-", raw[m.start() - 40 : m.end() + 10]
    for path_like in ("datasets/", ".csv", ".yaml", "data/"):
        assert path_like not in text, path_like


def test_home_links_the_recent_releases_to_the_changelog(repo: Repo, site: Path):
    home = Page.of(site / "index.html")
    changelog_ids = Page.of(site / "changelog" / "index.html").ids
    links = [a["href"] for a in home.links if a["href"].startswith("changelog/#")]
    assert len(links) == len(repo.shas)
    assert all(href.split("#", 1)[1] in changelog_ids for href in links)
    assert "qzxv" not in (site / "index.html").read_text(encoding="utf-8")
    assert squash("更正 1 个、新增 1 个数字") in home.visible
    assert "首次发布" in home.visible


# --- the Atom feed ---------------------------------------------------------------------------------------------


def feed_entries(site: Path) -> list[ElementTree.Element]:
    return ElementTree.parse(site / "feed.xml").getroot().findall(f"{ATOM}entry")


def test_feed_has_one_entry_per_release_and_dataset_linking_to_the_dataset_page(repo: Repo, site: Path):
    entries = feed_entries(site)
    assert len(entries) == len([n for n in FIRST_COUNTS.values() if n]) + 2  # every dataset once, then targets and measures
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids)
    for e in entries:
        href = next(link.get("href") for link in e.findall(f"{ATOM}link") if link.get("rel") == "alternate")
        assert href.startswith(SITE_URL + "datasets/"), href
        assert (site / href.removeprefix(SITE_URL) / "index.html").is_file(), href
        assert e.findtext(f"{ATOM}updated") in DATES
    newest = entries[0]
    text = newest.findtext(f"{ATOM}content")
    assert f"{history.Figure.of(repo.corrected['old']).shown()} → {history.Figure.of(repo.corrected['new']).shown()}" in text
    assert "qzxv" not in (site / "feed.xml").read_text(encoding="utf-8")


def test_feed_passes_the_atom_relax_ng_grammar(site: Path, validators: Path):
    jing = shutil.which("jing")
    if jing is None:
        pytest.skip("jing is not installed (apt-get install jing)")
    for feed in (site / "feed.xml",):
        proc = subprocess.run([jing, "-c", str(validators / "atom" / "atom.rnc"), str(feed)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-2000:]


def test_empty_feed_passes_the_atom_relax_ng_grammar(tmp_path: Path, validators: Path):
    jing = shutil.which("jing")
    if jing is None:
        pytest.skip("jing is not installed (apt-get install jing)")
    from build_scripts.stages import catalog

    feed = tmp_path / "feed.xml"
    feed.write_text(catalog.atom(history.History([]), Settings()), encoding="utf-8")
    assert not ElementTree.parse(feed).getroot().findall(f"{ATOM}entry")
    proc = subprocess.run([jing, "-c", str(validators / "atom" / "atom.rnc"), str(feed)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]


# --- outside git, the cache, the build inputs ------------------------------------------------------------------


def test_outside_a_git_checkout_there_is_no_release_and_the_page_says_so(tmp_path: Path):
    settings = Settings(datasets=mini_datasets(tmp_path), work=tmp_path / "work")
    found = history.run(settings)
    assert found.releases == [] and history.commits(settings) == []
    text = (
        pages.env()
        .get_template("changelog.md.j2")
        .render(base="../", root="../", history=found, links=history.Links({}, {}, set()), field_titles={})
    )
    assert "暂无记录" in text


@pytest.mark.parametrize("depth", [1, 2])
def test_a_shallow_clone_leaves_out_what_it_cannot_compare(repo: Repo, tmp_path: Path, depth: int):
    """The oldest commit of a shallow clone has no parent there: it is no release, and no later one is the first."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"--depth={depth}", repo.root.as_uri(), str(clone))
    found = history.run(Settings(datasets=clone / "datasets", work=tmp_path / "work"))
    assert [r.sha for r in found.releases] == repo.shas[::-1][: depth - 1]
    assert not any(r.first for r in found.releases)


def test_a_warm_run_reads_each_release_from_the_cache(repo: Repo, tmp_path: Path, monkeypatch):
    settings = Settings(datasets=repo.datasets, work=tmp_path / "work")
    cold = history.run(settings)
    assert sorted(p.stem for p in (tmp_path / "work" / "cache" / "history").glob("*.json")) == sorted(repo.shas)

    def no_git(*args, **kwargs):
        raise AssertionError("a cached release was read from git again")

    monkeypatch.setattr(history.diff, "files_at_rev", no_git)
    assert history.run(settings) == cold


def test_committing_what_was_built_rebuilds(tmp_path: Path):
    """The working tree is the same before and after the commit, but the history has one more release."""
    repo = make_repo(tmp_path)
    settings = Settings(datasets=repo.datasets, work=tmp_path / "work")
    edit(repo.datasets, "targets", lambda rows: rows[:-1])
    before = cache.build_inputs(settings)
    git(repo.root, "commit", "-q", "-am", "third")
    after = cache.build_inputs(settings)
    assert before["datasets"] == after["datasets"]
    assert [k for k in before if before[k] != after[k]] == ["data history"]
