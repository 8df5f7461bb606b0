"""The data's history for readers: what each release added, corrected and removed, per dataset.

A release is one commit that changed the datasets folder, on the first-parent line of the git repository
holding it (a merged branch is one release, and each release starts where the one before ended). Each is
compared with its first parent by the reading and comparing code of tools/diff.py. The changelog page,
the home page's 最近更新 and the Atom feed are written from the result, never from commit messages.
Commits never change, so each release is cached under settings.work by its commit sha.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import families
from ..errors import UsageError
from ..settings import Settings
from ..tools import diff

VALUE_FIELDS = ("value", "unit", "value_as_printed")  # a change to one of these is a correction
TABLES_ZH = {**{f.name: f"{f.title_zh}表" for f in families.REFERENCE}, "errata": "原文勘误"}
CACHE_VERSION = "history-v1"
SAFE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


# --- what a release changed ----------------------------------------------------------------------------------


@dataclass
class Figure:
    """One figure as the changelog shows it."""

    figure_id: str
    indicator_zh: str
    value: str
    unit: str
    value_as_printed: str

    @classmethod
    def of(cls, row: dict) -> Figure:
        return cls(*(row.get(k, "") for k in ("figure_id", "indicator_zh", *VALUE_FIELDS)))

    def shown(self) -> str:
        """The value in its unit, and the text as printed where that says more."""
        text = f"{self.value} {self.unit}".strip() or "（空）"
        if self.value_as_printed and self.value_as_printed != f"{self.value}{self.unit}":
            text += f"（原文“{self.value_as_printed}”）"
        return text


@dataclass
class Correction:
    old: Figure
    new: Figure


@dataclass
class DatasetChange:
    """One dataset (a family of one document) in one release."""

    id: str
    doc_id: str
    family: str
    title_zh: str  # as of the release (pages show the current title when the dataset is still published)
    region_zh: str
    status: str  # "new", "changed" or "removed"
    added: list[Figure] = field(default_factory=list)
    corrected: list[Correction] = field(default_factory=list)
    removed: list[Figure] = field(default_factory=list)
    revised: int = 0  # figures whose other fields (lines, labels, notes ...) changed
    revised_fields: list[str] = field(default_factory=list)

    @property
    def short_zh(self) -> str:
        return f"{self.region_zh}{families.BY_NAME[self.family].title_zh}"

    @property
    def weight(self) -> int:
        return len(self.added) + len(self.corrected) + len(self.removed)

    def brief_zh(self) -> str:
        """The counts alone, for the home page: 更正 2 个、新增 1 个数字."""
        if self.status != "changed" or self.weight:
            return self.summary_zh().partition("；")[0]
        return f"修订 {self.revised:,} 个数字的其他信息"

    def summary_zh(self, field_titles: dict[str, str] | None = None) -> str:
        """What changed, in one Chinese phrase: 更正 2 个数字、新增 1 个 ……"""
        if self.status == "new":
            return f"新发布，共 {len(self.added):,} 个数字"
        if self.status == "removed":
            return f"不再发布（原有 {len(self.removed):,} 个数字）"
        parts = [
            f"{verb} {n:,} 个"
            for verb, n in (("更正", len(self.corrected)), ("新增", len(self.added)), ("删除", len(self.removed)))
            if n
        ]
        text = ("、".join(parts) + "数字") if parts else ""
        if self.revised:
            # field names are English: only those the current schemas give a Chinese title are named
            titles = [field_titles[f] for f in self.revised_fields if f in (field_titles or {})]
            which = f"（{'、'.join(titles)}）" if titles else ""
            text += ("；另有" if text else "") + f" {self.revised:,} 个数字修订了其他信息{which}"
        return text.strip()


@dataclass
class TableChange:
    """Rows of a non-figure table (documents, regions, plans) or errata of one document, in one release."""

    doc_id: str
    doc_title_zh: str
    table: str
    added: int
    removed: int
    changed: int

    def summary_zh(self) -> str:
        parts = [f"{verb} {n:,} 条" for verb, n in (("新增", self.added), ("修改", self.changed), ("删除", self.removed)) if n]
        return TABLES_ZH.get(self.table, self.table) + "、".join(parts)


@dataclass
class Release:
    sha: str
    datetime: str  # committer date, ISO 8601 (RFC 3339)
    datasets: list[DatasetChange] = field(default_factory=list)
    tables: list[TableChange] = field(default_factory=list)
    published: bool = False  # the release holds any data package at all
    first: bool = False  # the first publication: there was no data package before it

    @property
    def date(self) -> str:
        return self.datetime[:10]

    @property
    def version(self) -> str:
        return f"{self.date}-{self.sha[:7]}"  # the data version of build.data_version

    @property
    def anchor(self) -> str:
        return f"v-{self.version}"

    def dataset_anchor(self, change: DatasetChange) -> str:
        # ids of a past commit were never validated: anything else than a plain id becomes a hash
        plain = SAFE_ID.fullmatch(change.id)
        return f"{self.anchor}-{change.id if plain else hashlib.sha256(change.id.encode()).hexdigest()[:12]}"

    def total(self, attr: str) -> int:
        return sum(len(getattr(c, attr)) for c in self.datasets)

    def summary_zh(self) -> str:
        """The release's totals in one plain Chinese sentence."""
        if self.first:
            return f"首次发布：{len(self.datasets):,} 个数据集，共 {self.total('added'):,} 个数字。"
        if not self.datasets and not self.tables:
            return "本次更新没有改动已发布的数字和表格。"
        parts = [
            f"{verb} {n:,} 个数字"
            for verb, n in (("新增", self.total("added")), ("更正", self.total("corrected")), ("删除", self.total("removed")))
            if n
        ]
        revised = sum(c.revised for c in self.datasets)
        if revised:
            parts.append(f"修订 {revised:,} 个数字的其他信息")
        new = sum(c.status == "new" for c in self.datasets)
        text = f"本次更新涉及 {len(self.datasets):,} 个数据集：{'、'.join(parts)}" if self.datasets else "本次更新没有改动数字"
        text += f"，其中 {new:,} 个数据集为新发布" if new else ""
        if self.tables:
            text += f"；另有 {len({t.doc_id for t in self.tables}):,} 份文件的地区、规划等表格或勘误有修改"
        return text + "。"

    def headline_zh(self, most: int = 3) -> str:
        """One line for the home page: the first datasets and what changed in each."""
        if self.first:
            return f"首次发布 {len(self.datasets):,} 个数据集，共 {self.total('added'):,} 个数字"
        shown = sorted(self.datasets, key=lambda c: -c.weight)[:most]  # what changed most first
        text = "；".join(f"{c.short_zh}{c.brief_zh()}" for c in shown)
        if len(self.datasets) > most:
            text += f"……共 {len(self.datasets):,} 个数据集"
        return text or self.summary_zh().rstrip("。")

    def headline(self, lang: str = "zh") -> str:
        """The home page's line in the edition's language (English: the totals, not each dataset's words)."""
        if lang != "en":
            return self.headline_zh()
        if self.first:
            return f"First release: {len(self.datasets):,} datasets, {self.total('added'):,} figures"
        parts = [
            f"{n:,} figures {verb}"
            for verb, n in (
                ("added", self.total("added")),
                ("corrected", self.total("corrected")),
                ("removed", self.total("removed")),
            )
            if n
        ]
        if not self.datasets:
            return "No published figure changed"
        return f"{len(self.datasets):,} datasets changed" + (f": {', '.join(parts)}" if parts else "")

    @classmethod
    def from_json(cls, d: dict) -> Release:
        datasets = [
            DatasetChange(
                **{
                    **c,
                    "added": [Figure(**f) for f in c["added"]],
                    "removed": [Figure(**f) for f in c["removed"]],
                    "corrected": [Correction(Figure(**x["old"]), Figure(**x["new"])) for x in c["corrected"]],
                }
            )
            for c in d["datasets"]
        ]
        return cls(**{**d, "datasets": datasets, "tables": [TableChange(**t) for t in d["tables"]]})


@dataclass
class History:
    releases: list[Release]  # newest first

    def recent(self, n: int = 5) -> list[Release]:
        """The last n releases that changed anything a reader sees."""
        return [r for r in self.releases if r.datasets or r.tables][:n]


# --- comparing two sides ---------------------------------------------------------------------------------------


def describe(side: diff.Side | None) -> tuple[str, str]:
    """(document title, region name) of a package as stored on one side."""
    if side is None:
        return "", ""
    docs = table(side, "documents")[1]
    doc = docs[0] if docs else {}
    region = next((r for r in table(side, "regions")[1] if r.get("region_id") == doc.get("region_id")), {})
    return doc.get("title_zh", ""), region.get("name_zh", "") or doc.get("region_id", "")


def table(side: diff.Side | None, name: str) -> tuple[list[str], list[dict]]:
    """(header, rows) of one table of a package on one side; empty when the package or table is missing."""
    return side.tables.get(name, ([], [])) if side else ([], [])


def dataset_change(pkg_id: str, family: families.Family, old: diff.Side | None, new: diff.Side | None) -> DatasetChange | None:
    before, after = table(old, family.name), table(new, family.name)
    td = diff.diff_table(family.name, before, after)
    if not (td.added or td.removed or td.changed):
        return None
    status = "new" if not before[1] else "removed" if not after[1] else "changed"
    title, region = describe(new if after[1] else old)
    title = f"{title or pkg_id} · {family.title_zh}"
    change = DatasetChange(family.dataset_id(pkg_id), pkg_id, family.name, title, region, status)
    change.added = [Figure.of(r) for r in td.added]
    change.removed = [Figure.of(r) for r in td.removed]
    revised_fields: set[str] = set()
    for a, b, cells in td.changed:
        if any(f in VALUE_FIELDS for f, _, _ in cells):
            change.corrected.append(Correction(Figure.of(a), Figure.of(b)))
        else:
            change.revised += 1
            revised_fields.update(f for f, _, _ in cells)
    change.revised_fields = sorted(revised_fields)
    return change


def table_changes(pkg_id: str, old: diff.Side | None, new: diff.Side | None) -> list[TableChange]:
    title = describe(new or old)[0] or pkg_id
    out = []
    for fam in families.REFERENCE:
        td = diff.diff_table(fam.name, table(old, fam.name), table(new, fam.name))
        if td.added or td.removed or td.changed:
            out.append(TableChange(pkg_id, title, fam.name, len(td.added), len(td.removed), len(td.changed)))
    added, removed, changed = diff.diff_list(old.errata if old else [], new.errata if new else [], "id")
    if added or removed or changed:
        out.append(TableChange(pkg_id, title, "errata", len(added), len(removed), len(changed)))
    return out


def compare(sha: str, when: str, old: dict[str, diff.Side], new: dict[str, diff.Side]) -> Release:
    release = Release(sha, when, published=bool(new), first=bool(new) and not old)
    for pkg_id in sorted(set(old) | set(new)):
        for fam in families.FIGURES:
            change = dataset_change(pkg_id, fam, old.get(pkg_id), new.get(pkg_id))
            if change:
                release.datasets.append(change)
        release.tables += table_changes(pkg_id, old.get(pkg_id), new.get(pkg_id))
    return release


# --- git and the cache -----------------------------------------------------------------------------------------


def data_repo(settings: Settings) -> tuple[Path, str] | None:
    """The git work tree holding the datasets folder and the folder's path in it; None outside git."""
    try:
        return diff.repo_of(Path(settings.datasets), settings)
    except UsageError:
        return None


def commits(settings: Settings, limit: int = 0) -> list[tuple[str, str, str]]:
    """(sha, first parent or "", committer date) of each commit that changed the datasets folder on the
    first-parent line, newest first; [] outside git."""
    located = data_repo(settings)
    if located is None:
        return []
    top, prefix = located
    count = [f"-{limit}"] if limit else []
    res = diff.git(["log", "--first-parent", "--format=%H %P%x1f%cI", *count, "--", prefix or "."], top)
    if res.returncode != 0:
        return []
    out = []
    for line in res.stdout.decode().splitlines():
        shas, _, when = line.partition("\x1f")
        sha, *parents = shas.split()
        out.append((sha, parents[0] if parents else "", when.strip()))
    return out


def shallow_boundary(top: Path) -> set[str]:
    """The commits whose parents a shallow clone does not have (none in a full clone)."""
    res = diff.git(["rev-parse", "--git-path", "shallow"], top)
    path = top / res.stdout.decode().strip() if res.returncode == 0 else None
    try:
        return set(path.read_text(encoding="utf-8").split()) if path else set()
    except OSError:
        return set()


def cache_key(prefix: str) -> str:
    """What a cached release depends on besides its commit: the folder compared and the code comparing."""
    from .. import cache  # here: cache imports this module

    h = hashlib.sha256(f"{CACHE_VERSION}\0{prefix}\0".encode())
    for path in cache.module_closure(__name__):
        cache.tree_digest(path, h)
    return h.hexdigest()


def read_cached(path: Path, key: str) -> Release | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        return Release.from_json(entry["release"]) if entry.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def release_of(top: Path, prefix: str, commit: tuple[str, str, str], store: Path | None, key: str) -> Release:
    sha, parent, when = commit
    path = store / f"{sha}.json" if store else None
    hit = read_cached(path, key) if path else None
    if hit:
        return hit
    old = diff.packages(diff.files_at_rev(top, parent, prefix)) if parent else {}
    release = compare(sha, when, old, diff.packages(diff.files_at_rev(top, sha, prefix)))
    if path:
        from ..cache import write_atomic  # here: cache imports this module

        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"key": key, "release": asdict(release)}, ensure_ascii=False).encode())
    return release


def run(settings: Settings) -> History:
    """Every release, newest first; those before the first data package are left out (nothing was published)."""
    located = data_repo(settings)
    if located is None:
        return History([])
    top, prefix = located
    store = settings.work / "cache" / "history" if settings.cache else None
    key = cache_key(prefix)
    # a shallow clone's oldest commits have no parent here: what they changed is unknown, so they are left out
    cut = shallow_boundary(top)
    try:
        releases = [release_of(top, prefix, c, store, key) for c in reversed(commits(settings)) if c[0] not in cut]
    except UsageError:  # git could not read a commit: no history rather than no site
        return History([])
    while releases and not releases[0].published:
        releases.pop(0)
    return History(releases[::-1])


@dataclass
class Links:
    """What the current site has a page or an anchor for: old releases link only to what still exists."""

    datasets: dict[str, str]  # dataset id -> current Chinese title
    documents: dict[str, str]  # doc_id -> current Chinese title
    figures: set[tuple[str, str]]  # (doc_id, figure_id)

    @classmethod
    def of(cls, derived) -> Links:
        figures = {(pkg.id, row["figure_id"]) for pkg in derived.packages for _, row in pkg.figures()}
        documents = {doc_id: doc["title_zh"] for doc_id, doc in derived.documents.items()}
        return cls({ds.id: ds.title_zh for ds in derived.datasets}, documents, figures)
