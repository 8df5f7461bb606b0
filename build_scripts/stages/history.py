"""The data's history for readers: what each release added, corrected and removed, per dataset.

A release is one commit that changed the datasets folder, on the first-parent line of the git repository
holding it (a merged branch is one release, and each release starts where the one before ended). Each is
compared with its first parent by the reading and comparing code of tools/diff.py. The changelog page,
the home page's 最近更新 and the Atom feed are written from the result, never from commit messages; the
English changelog from the same result, by the same methods with lang="en" (the feed stays Chinese).
Commits never change, so each release is cached under settings.work by its commit sha.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from markupsafe import Markup, escape

from .. import families
from ..errors import UsageError
from ..i18n import Edition, zh_span
from ..settings import Settings
from ..tools import diff
from ..units import unit_en

VALUE_FIELDS = ("value", "unit", "value_as_printed")  # a change to one of these is a correction
TABLES_ZH = {**{f.name: f"{f.title_zh}表" for f in families.REFERENCE}, "errata": "原文勘误"}
TABLES_EN = {**{f.name: f"{f.title_en.lower()} table" for f in families.REFERENCE}, "errata": "errata"}
CACHE_VERSION = "history-v1"
SAFE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def grouped(value: str) -> str:
    """A number as English readers group it (80000 → 80,000); anything else as it is."""
    try:
        return f"{Decimal(value):,}" if value.strip() else value
    except (InvalidOperation, ValueError):
        return value


def count_en(n: int, noun: str, plural: str = "") -> str:
    """`3 figures`, `1 figure`: a count with its noun, for the English edition."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


# --- what a release changed ----------------------------------------------------------------------------------


@dataclass
class Figure:
    """One figure as the changelog shows it."""

    figure_id: str
    indicator_zh: str
    value: str
    unit: str
    value_as_printed: str
    indicator_en: str = ""

    @classmethod
    def of(cls, row: dict) -> Figure:
        return cls(*(row.get(k, "") for k in ("figure_id", "indicator_zh", *VALUE_FIELDS, "indicator_en")))

    def shown(self, lang: str = "zh") -> str | Markup:
        """The value in its unit, and the text as printed where that says more. In English (Markup) the unit is
        in English and the print a marked Chinese quote; a unit without English stays Chinese, marked."""
        printed = self.value_as_printed if self.value_as_printed != f"{self.value}{self.unit}" else ""
        if lang != "en":
            text = f"{self.value} {self.unit}".strip() or "（空）"
            return text + (f"（原文“{printed}”）" if printed else "")
        value, unit = grouped(self.value), unit_en(self.unit)
        if self.unit.partition("/")[0] in MONEY and self.value not in ("", None):  # yuan, millions: as the pages show it
            amount, unit = Edition("en").amount(self.value, self.unit)
            value = grouped(f"{amount:f}")
        if unit and value == "1" and not unit[0].isdigit():  # 1 person, 1 household per village
            head, sep, per = unit.partition(" per ")
            unit = re.sub(r"ies$", "y", head) if head.endswith("ies") else re.sub(r"(?<=[a-z])s$", "", head)
            unit += sep + per
        unit = zh_span(self.unit) if unit is None else escape(unit)
        # "5 10k yuan" would read as one number: a unit that starts with a digit multiplies
        text = Markup("{} × {}" if unit[:1].isdigit() else "{} {}").format(value, unit) if unit else escape(value)
        text = Markup(" ".join(text.split())) or Markup("(empty)")
        return text + (Markup(" (printed {})").format(zh_span(" ".join(printed.split()), "printed")) if printed else "")


MONEY = ("万元", "亿元", "元")


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
    title_en: str = ""
    region_en: str = ""

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
        return self.summary("zh", field_titles)

    def summary(self, lang: str = "zh", field_titles: dict[str, str] | None = None) -> str:
        """What changed, in one phrase of the edition's language (field_titles: the schemas' titles in it)."""
        en = lang == "en"
        if self.status == "new":
            return f"Newly published, {count_en(len(self.added), 'figure')}" if en else f"新发布，共 {len(self.added):,} 个数字"
        if self.status == "removed":
            n = len(self.removed)
            return f"No longer published (it had {count_en(n, 'figure')})" if en else f"不再发布（原有 {n:,} 个数字）"
        counts = [(n, zh, e) for n, zh, e in ((len(self.corrected), "更正", "corrected"), (len(self.added), "新增", "added"),
                                              (len(self.removed), "删除", "removed")) if n]  # fmt: skip
        if en:  # 3 figures corrected, 1 added
            text = ", ".join(f"{count_en(n, 'figure') if i == 0 else f'{n:,}'} {e}" for i, (n, _, e) in enumerate(counts))
        else:
            text = ("、".join(f"{zh} {n:,} 个" for n, zh, _ in counts) + "数字") if counts else ""
        if self.revised:
            # field names are English: only those the current schemas give a title are named
            titles = [field_titles[f] for f in self.revised_fields if f in (field_titles or {})]
            if en:
                which = f" ({', '.join(titles)})" if titles else ""
                more = f"other fields of {count_en(self.revised, 'figure')} revised{which}"
                text = f"{text}; {more}" if text else more[0].upper() + more[1:]
            else:
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
    doc_title_en: str = ""

    def summary_zh(self) -> str:
        return self.summary("zh")

    def summary(self, lang: str = "zh") -> str:
        """`来源文件表修改 1 条`, `Documents table: 1 row changed`."""
        counts = [(n, zh, en) for n, zh, en in ((self.added, "新增", "added"), (self.changed, "修改", "changed"),
                                                (self.removed, "删除", "removed")) if n]  # fmt: skip
        if lang == "en":  # 1 row changed (documents table)
            noun = ("entry", "entries") if self.table == "errata" else ("row",)
            parts = [f"{count_en(n, *noun) if i == 0 else f'{n:,}'} {en}" for i, (n, _, en) in enumerate(counts)]
            return f"{', '.join(parts)} ({TABLES_EN.get(self.table, self.table)})"
        return TABLES_ZH.get(self.table, self.table) + "、".join(f"{zh} {n:,} 条" for n, zh, _ in counts)


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
        return self.summary("zh")

    def summary(self, lang: str = "zh") -> str:
        """The release's totals in one plain sentence of the edition's language."""
        en = lang == "en"
        n_sets, added = len(self.datasets), self.total("added")
        if self.first:
            if en:
                return f"First release: {count_en(n_sets, 'dataset')}, {count_en(added, 'figure')} in all."
            return f"首次发布：{n_sets:,} 个数据集，共 {added:,} 个数字。"
        if not self.datasets and not self.tables:
            return "This update changed no published figure or table." if en else "本次更新没有改动已发布的数字和表格。"
        counts = [(n, zh, e) for n, zh, e in ((added, "新增", "added"), (self.total("corrected"), "更正", "corrected"),
                                              (self.total("removed"), "删除", "removed")) if n]  # fmt: skip
        parts = [f"{count_en(n, 'figure')} {e}" if en else f"{zh} {n:,} 个数字" for n, zh, e in counts]
        revised = sum(c.revised for c in self.datasets)
        if revised:
            parts.append(f"other fields of {count_en(revised, 'figure')} revised" if en else f"修订 {revised:,} 个数字的其他信息")
        new = sum(c.status == "new" for c in self.datasets)
        docs = len({t.doc_id for t in self.tables})
        if en:
            text = f"This update touches {count_en(n_sets, 'dataset')}: {', '.join(parts)}" if n_sets else "No figure changed"
            text += f" ({new:,} of the datasets newly published)" if new else ""
            text += (
                f"; other tables (documents, regions, plans) or errata changed in {count_en(docs, 'document')}" if docs else ""
            )
            return text + "."
        text = f"本次更新涉及 {n_sets:,} 个数据集：{'、'.join(parts)}" if n_sets else "本次更新没有改动数字"
        text += f"，其中 {new:,} 个数据集为新发布" if new else ""
        text += f"；另有 {docs:,} 份文件的地区、规划等表格或勘误有修改" if docs else ""
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


def describe(side: diff.Side | None) -> tuple[str, str, str, str]:
    """(document title, region name, the title in English, the name in English) of a package on one side."""
    if side is None:
        return "", "", "", ""
    docs = table(side, "documents")[1]
    doc = docs[0] if docs else {}
    region = next((r for r in table(side, "regions")[1] if r.get("region_id") == doc.get("region_id")), {})
    rid = doc.get("region_id", "")
    return doc.get("title_zh", ""), region.get("name_zh", "") or rid, doc.get("title_en", ""), region.get("name_en", "") or rid


def table(side: diff.Side | None, name: str) -> tuple[list[str], list[dict]]:
    """(header, rows) of one table of a package on one side; empty when the package or table is missing."""
    return side.tables.get(name, ([], [])) if side else ([], [])


def dataset_change(pkg_id: str, family: families.Family, old: diff.Side | None, new: diff.Side | None) -> DatasetChange | None:
    before, after = table(old, family.name), table(new, family.name)
    td = diff.diff_table(family.name, before, after)
    if not (td.added or td.removed or td.changed):
        return None
    status = "new" if not before[1] else "removed" if not after[1] else "changed"
    title, region, title_en, region_en = describe(new if after[1] else old)
    title = f"{title or pkg_id} · {family.title_zh}"
    change = DatasetChange(family.dataset_id(pkg_id), pkg_id, family.name, title, region, status)
    change.title_en, change.region_en = f"{title_en or pkg_id} — {family.title_en}", region_en  # as derive's Dataset
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
    title, _, title_en, _ = describe(new or old)
    title, title_en = title or pkg_id, title_en or pkg_id
    out = []
    for fam in families.REFERENCE:
        td = diff.diff_table(fam.name, table(old, fam.name), table(new, fam.name))
        if td.added or td.removed or td.changed:
            out.append(TableChange(pkg_id, title, fam.name, len(td.added), len(td.removed), len(td.changed), title_en))
    added, removed, changed = diff.diff_list(old.errata if old else [], new.errata if new else [], "id")
    if added or removed or changed:
        out.append(TableChange(pkg_id, title, "errata", len(added), len(removed), len(changed), title_en))
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
    datasets_en: dict[str, str] = field(default_factory=dict)  # the same titles in English
    documents_en: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, derived) -> Links:
        figures = {(pkg.id, row["figure_id"]) for pkg in derived.packages for _, row in pkg.figures()}
        return cls(
            {ds.id: ds.title_zh for ds in derived.datasets},
            {doc_id: doc["title_zh"] for doc_id, doc in derived.documents.items()},
            figures,
            {ds.id: ds.title_en for ds in derived.datasets},
            {doc_id: doc["title_en"] for doc_id, doc in derived.documents.items()},
        )
