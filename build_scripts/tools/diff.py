"""`portal diff [REV]`: what a change to the data packages does, as Markdown for a reviewer.

Compares every data package under settings.datasets as committed at git revision REV with the working
tree: rows added, removed and changed per resource (rows matched by their primary key), each changed cell
with the row's source lines, changes to errata.yaml and ignore.yaml, and the site pages that change.
The old side is read straight from git (`git ls-tree` + `git cat-file`), so nothing is checked out.
"""

from __future__ import annotations

import csv
import io
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .. import families
from ..errors import UsageError
from ..settings import Settings
from ..stages.load import DESCRIPTOR_NAMES, SCHEMA_DIR

KEY_FIELDS = ("figure_id", "region_id", "doc_id")  # the first one a table has is its primary key
MAX_ITEMS = 60  # rows listed per section; a PR comment must stay readable (and under GitHub's limit)
FOLD_AFTER = 12  # longer lists are folded


# --- reading both sides -------------------------------------------------------------------------------


def git(args: list[str], cwd: Path, data: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise UsageError("portal diff needs git on the PATH") from exc


def repo_of(datasets: Path, settings: Settings) -> tuple[Path, str]:
    """The git work tree holding the datasets folder, and that folder's path inside it ('' = top)."""
    probe = datasets
    while not probe.is_dir() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        probe = settings.root
    res = git(["rev-parse", "--show-toplevel"], probe)
    if res.returncode != 0:
        raise UsageError(f"{settings.rel(datasets)} is not inside a git repository, so there is nothing to compare with")
    top = Path(res.stdout.decode().strip()).resolve()
    try:
        prefix = datasets.resolve().relative_to(top).as_posix()
    except ValueError as exc:
        raise UsageError(f"{datasets} is outside the git repository {top}") from exc
    return top, "" if prefix == "." else prefix


def resolve_rev(top: Path, rev: str) -> str:
    if not rev or rev.startswith("-"):
        raise UsageError(f"not a git revision: {rev!r}")
    res = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], top)
    if res.returncode != 0:
        raise UsageError(
            f"unknown git revision {rev!r}: give a commit, branch or tag that exists here "
            f"(in CI fetch the base branch first, e.g. `git fetch origin main`)"
        )
    return res.stdout.decode().strip()


def files_at_rev(top: Path, commit: str, prefix: str) -> dict[str, bytes]:
    """Every file under `prefix` at `commit`, by path relative to prefix; {} when it did not exist."""
    spec = [prefix] if prefix else []
    res = git(["ls-tree", "-r", "-z", "--full-name", commit, "--", *spec], top)
    if res.returncode != 0:
        raise UsageError(f"git ls-tree failed: {res.stderr.decode(errors='replace').strip()}")
    entries = []
    for item in res.stdout.decode("utf-8", errors="surrogateescape").split("\0"):
        if not item:
            continue
        meta, _, path = item.partition("\t")
        _mode, kind, sha = meta.split()
        if kind != "blob":
            continue
        relpath = path[len(prefix) + 1 :] if prefix else path
        entries.append((relpath, sha))
    if not entries:
        return {}
    batch = git(["cat-file", "--batch"], top, "".join(f"{sha}\n" for _, sha in entries).encode())
    if batch.returncode != 0:
        raise UsageError(f"git cat-file failed: {batch.stderr.decode(errors='replace').strip()}")
    out, pos, files = batch.stdout, 0, {}
    for relpath, _ in entries:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl].split()[2])
        files[relpath] = out[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1
    return files


def files_in_tree(datasets: Path) -> dict[str, bytes]:
    if not datasets.is_dir():
        return {}
    files = {}
    for path in sorted(datasets.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(datasets).parts):
            files[path.relative_to(datasets).as_posix()] = path.read_bytes()
    return files


def text_of(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def load_yaml(data: bytes | None):
    if data is None:
        return None
    try:
        return yaml.safe_load(text_of(data))
    except yaml.YAMLError:
        return None


@dataclass
class Side:
    """One package as stored on one side of the comparison."""

    descriptor: dict | None = None
    tables: dict[str, tuple[list[str], list[dict]]] = field(default_factory=dict)  # name -> (header, rows)
    errata: list | None = None
    ignore: list | None = None
    raw: dict[str, bytes] = field(default_factory=dict)  # every file, by path inside the package


def read_csv(data: bytes) -> tuple[list[str], list[dict]]:
    reader = csv.reader(io.StringIO(text_of(data), newline=""))
    rows = list(reader)
    if not rows:
        return [], []
    header = rows[0]
    out = []
    for n, cells in enumerate(rows[1:], 2):  # spreadsheet rows: the header is row 1
        if not any(c.strip() for c in cells):
            continue
        row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)}
        row["_n"] = n
        out.append(row)
    return header, out


def by_package(files: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """Files grouped by their package folder, by path inside it; the shared schemas are left out."""
    grouped: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        parts = PurePosixPath(path).parts
        if len(parts) < 2 or parts[0] == SCHEMA_DIR:
            continue
        grouped.setdefault(parts[0], {})["/".join(parts[1:])] = data
    return grouped


def resource_paths(descriptor: dict, raw: dict[str, bytes]) -> dict[str, str]:
    """Each resource's CSV path, by name: those the descriptor names, then data/<name>.csv it does not (or cannot) name."""
    paths = {}
    for res in descriptor.get("resources") or []:
        if isinstance(res, dict) and isinstance(res.get("name"), str) and isinstance(res.get("path"), str):
            paths[res["name"]] = str(PurePosixPath(res["path"]))
    for path in raw:
        p = PurePosixPath(path)
        if p.parent.as_posix() == "data" and p.suffix == ".csv" and p.stem not in paths and path not in paths.values():
            paths[p.stem] = path
    return paths


def read_side(raw: dict[str, bytes]) -> Side | None:
    """One package's files read as a Side; None when it has no descriptor (not a data package, yet)."""
    desc_name = next((n for n in DESCRIPTOR_NAMES if n in raw), None)
    if desc_name is None:
        return None
    side = Side(raw=raw)
    desc = load_yaml(raw[desc_name])
    side.descriptor = desc if isinstance(desc, dict) else {}
    for name, path in resource_paths(side.descriptor, raw).items():
        if path in raw:
            side.tables[name] = read_csv(raw[path])
    for attr in ("errata", "ignore"):
        data = load_yaml(raw.get(f"{attr}.yaml"))
        setattr(side, attr, data if isinstance(data, list) else ([] if data is None else [data]))
    return side


def packages(files: dict[str, bytes]) -> dict[str, Side]:
    sides = {pkg_id: read_side(raw) for pkg_id, raw in by_package(files).items()}
    return {pkg_id: side for pkg_id, side in sides.items() if side is not None}


# --- comparing ----------------------------------------------------------------------------------------


@dataclass
class TableDiff:
    name: str
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[tuple[dict, dict, list[tuple[str, str, str]]]] = field(default_factory=list)  # old, new, cells
    header_added: list[str] = field(default_factory=list)
    header_removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.header_added or self.header_removed)


def key_field(header: list[str]) -> str | None:
    return next((k for k in KEY_FIELDS if k in header), None)


def keyed(rows: list[dict], key: str | None) -> dict:
    out = {}
    for row in rows:
        k = row.get(key, "") if key else f"row {row['_n']}"
        if not k or k in out:  # a missing or duplicate key (validate reports it): keep the row by position
            k = f"{k or '?'} (row {row['_n']})"
        out[k] = row
    return out


def diff_table(name: str, old: tuple[list[str], list[dict]], new: tuple[list[str], list[dict]]) -> TableDiff:
    (old_header, old_rows), (new_header, new_rows) = old, new
    key = key_field(new_header) or key_field(old_header)
    a, b = keyed(old_rows, key), keyed(new_rows, key)
    td = TableDiff(name)
    td.header_added = [h for h in new_header if h not in old_header] if old_header else []
    td.header_removed = [h for h in old_header if h not in new_header] if new_header else []
    fields = list(dict.fromkeys([*new_header, *old_header]))
    for k, row in b.items():
        if k not in a:
            td.added.append(row)
            continue
        before = a[k]
        cells = [(f, before.get(f, ""), row.get(f, "")) for f in fields if before.get(f, "") != row.get(f, "")]
        if cells:
            td.changed.append((before, row, cells))
    td.removed = [row for k, row in a.items() if k not in b]
    return td


def canonical(entry) -> str:
    return yaml.safe_dump(entry, allow_unicode=True, sort_keys=True, default_flow_style=True, width=10_000).strip()


def diff_list(old: list | None, new: list | None, key: str | None) -> tuple[list, list, list]:
    """(added, removed, changed) entries of a YAML list; `key` matches entries (errata ids)."""
    old, new = old or [], new or []
    if key:
        a = {e.get(key): e for e in old if isinstance(e, dict) and key in e}
        b = {e.get(key): e for e in new if isinstance(e, dict) and key in e}
        if len(a) == len(old) and len(b) == len(new):
            added = [e for k, e in b.items() if k not in a]
            removed = [e for k, e in a.items() if k not in b]
            changed = [(a[k], e) for k, e in b.items() if k in a and canonical(a[k]) != canonical(e)]
            return added, removed, changed
    a_texts, b_texts = [canonical(e) for e in old], [canonical(e) for e in new]
    added = [e for e, t in zip(new, b_texts) if t not in a_texts]
    removed = [e for e, t in zip(old, a_texts) if t not in b_texts]
    return added, removed, []


# --- writing ------------------------------------------------------------------------------------------


def code(value) -> str:
    s = " ".join(str(value).split())
    if not s:
        return "*(empty)*"
    return f"`` {s} ``" if "`" in s else f"`{s}`"


def lines_of(row: dict) -> str:
    a, b = row.get("line_start", ""), row.get("line_end", "")
    if not a and not row.get("line"):
        return ""
    if not a:
        return f"line {row['line']}"
    return f"line {a}" if not b or a == b else f"lines {a}–{b}"


def label(row: dict, key: str | None) -> str:
    k = row.get(key, "") if key else ""
    head = f"{code(k)}" if k else f"row {row['_n']}"
    desc = row.get("indicator_zh") or row.get("name_zh") or row.get("title_zh") or ""
    if row.get("value_as_printed"):
        desc = f"{desc} {row['value_as_printed']}".strip()
    where = lines_of(row)
    bits = [head]
    if desc:
        bits.append(" ".join(desc.split()))
    if where:
        bits.append(f"({where})")
    return " ".join(bits)


def capped(items: list[str]) -> list[str]:
    if len(items) <= MAX_ITEMS:
        return items
    return items[:MAX_ITEMS] + [f"- … and {len(items) - MAX_ITEMS} more"]


def block(title: str, items: list[str], titled: bool = True) -> list[str]:
    """A titled list; a long one folds into <details> (GitHub renders it closed in a PR comment)."""
    if not items:
        return []
    if len(items) <= FOLD_AFTER:
        return [f"**{title}**", "", *items, ""] if titled else [*items, ""]
    return ["<details>", f"<summary>{title} ({len(items)})</summary>", "", *capped(items), "", "</details>", ""]


def entry_label(e) -> str:
    """An errata.yaml or ignore.yaml entry on one line: what a reviewer needs to judge it."""
    if not isinstance(e, dict):
        return code(canonical(e))
    if "id" in e or "check" in e:  # an erratum
        head = f"{code(e.get('id', '?'))} ({e.get('check', '?')} on {e.get('figure_id', '?')}, lines {e.get('lines', '?')})"
        desc = e.get("description_zh") or e.get("description_en") or ""
        return f"{head}: printed {code(e.get('printed', ''))}, computed {code(e.get('computed', ''))}" + (
            f" — {' '.join(str(desc).split())}" if desc else ""
        )
    bits = [f"lines {e.get('lines', '?')}", f"reason {e.get('reason', '?')}"]
    if "pattern" in e:
        bits.append(f"pattern {code(e['pattern'])}")
    rest = {k: v for k, v in e.items() if k not in ("lines", "reason", "pattern", "note")}
    if rest:
        bits.append(code(canonical(rest)))
    note = f": {' '.join(str(e['note']).split())}" if e.get("note") else ""
    return ", ".join(bits) + note


def dataset_page(doc_id: str, resource: str) -> str:
    return f"datasets/{families.BY_NAME[resource].dataset_id(doc_id)}/"


def change_kind(path: str, old, new) -> str:
    """'added', 'removed' or 'changed': whether `path` is missing on the old side, the new side, or neither."""
    return "added" if path not in old else "removed" if path not in new else "changed"


@dataclass
class PackageReport:
    """What describe_package gathers for one package: a summary item and lines per section, pages and regions."""

    summary: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    regions: set[str] = field(default_factory=set)

    def add(self, summary: str, lines: list[str]) -> None:
        self.summary.append(summary)
        self.lines += lines


def changed_row(before: dict, after: dict, cells: list[tuple[str, str, str]], key: str | None) -> str:
    where = lines_of(after) or lines_of(before)
    k = after.get(key, "") if key else f"row {after['_n']}"
    head = f"- {code(k)}" + (f" (source {where}; row {after['_n']})" if where else f" (row {after['_n']})")
    return head + ": " + "; ".join(f"{f}: {code(a)} → {code(b)}" for f, a, b in cells)


def table_section(td: TableDiff, key: str | None) -> tuple[str, list[str]]:
    """The summary item and the section of one resource's changes: columns, added, removed and changed rows."""
    counts = f"{len(td.added)} added, {len(td.removed)} removed, {len(td.changed)} changed"
    out = [f"### {td.name}: {counts}", ""]
    if td.header_added or td.header_removed:
        out.append(f"- columns: added {', '.join(td.header_added) or 'none'}; removed {', '.join(td.header_removed) or 'none'}")
    out += block("Added rows", [f"- {label(r, key)}" for r in td.added])
    out += block("Removed rows", [f"- {label(r, key)}" for r in td.removed])
    out += block("Changed rows", [changed_row(before, after, cells, key) for before, after, cells in td.changed])
    return f"{td.name} ({counts})", out


def add_tables(report: PackageReport, pkg_id: str, old: Side, new: Side) -> None:
    figure_names = set(families.FIGURE_NAMES)
    for name in list(dict.fromkeys([*new.tables, *old.tables])):
        td = diff_table(name, old.tables.get(name, ([], [])), new.tables.get(name, ([], [])))
        if not td:
            continue
        header = new.tables.get(name, old.tables.get(name))[0]
        key = key_field(header) or key_field(old.tables.get(name, ([], []))[0])
        report.add(*table_section(td, key))
        rows = td.added + td.removed + [r for pair in td.changed for r in pair[:2]]
        report.regions.update(r.get("region_id", "") for r in rows)  # rows of regions.csv and figure rows alike
        if name in figure_names:
            report.pages.append(dataset_page(pkg_id, name))


def changed_entry(before: dict, after: dict, key: str | None) -> str:
    cells = [
        f"{k}: {code(before.get(k, ''))} → {code(after.get(k, ''))}"
        for k in dict.fromkeys([*after, *before])
        if canonical(before.get(k)) != canonical(after.get(k))
    ]
    return f"- {code(after.get(key))}: " + "; ".join(cells)


def add_lists(report: PackageReport, old: Side, new: Side) -> None:
    """Sections for errata.yaml (entries matched by id) and ignore.yaml (entries matched whole)."""
    for attr, key in (("errata", "id"), ("ignore", None)):
        added, removed, changed = diff_list(getattr(old, attr), getattr(new, attr), key)
        if not (added or removed or changed):
            continue
        counts = f"{len(added)} added, {len(removed)} removed, {len(changed)} changed"
        items = [f"- added: {entry_label(e)}" for e in added]
        items += [f"- removed: {entry_label(e)}" for e in removed]
        items += [changed_entry(before, after, key) for before, after in changed]
        report.add(f"{attr}.yaml ({counts})", [f"### {attr}.yaml: {counts}", "", *block("Entries", items)])


def add_other_files(report: PackageReport, old: Side, new: Side) -> None:
    """A section for the package's other files that differ (its descriptor, a README, ...)."""
    other = sorted(
        p
        for p in set(old.raw) | set(new.raw)
        if old.raw.get(p) != new.raw.get(p) and not p.endswith(".csv") and p not in ("errata.yaml", "ignore.yaml")
    )
    if other:
        report.add("other files", ["### Other files", "", *(f"- {p}: {change_kind(p, old.raw, new.raw)}" for p in other), ""])


def pages_section(pkg_id: str, status: str, report: PackageReport) -> list[str]:
    regions = sorted(report.regions - {""})
    page_list = [f"documents/{pkg_id}/"] + sorted(set(report.pages)) + [f"regions/{r}/" for r in regions]
    verb = {"added": "new", "removed": "removed", "changed": "changed"}[status]
    items = [
        f"- `{p}`" + (f" ({verb})" if status != "changed" and p.startswith(("documents/", "datasets/")) else "")
        for p in page_list
    ]
    return ["### Pages that change", "", *block("Pages", items, titled=False)]


def describe_package(pkg_id: str, old: Side | None, new: Side | None) -> list[str] | None:
    status = "added" if old is None else "removed" if new is None else "changed"
    old, new = old or Side(), new or Side()
    report = PackageReport()
    add_tables(report, pkg_id, old, new)
    add_lists(report, old, new)
    if status == "changed":
        add_other_files(report, old, new)
        if not report.summary:
            return None
    out = report.lines + pages_section(pkg_id, status, report)
    return [f"## {pkg_id} ({status})", "", f"{'; '.join(report.summary) or 'no rows'}.", "", *out]


def run(settings: Settings, rev: str = "HEAD") -> str:
    """A Markdown summary of the changes to the data packages between `rev` and the working tree."""
    datasets = Path(settings.datasets)
    top, prefix = repo_of(datasets, settings)
    commit = resolve_rev(top, rev)
    old_files = files_at_rev(top, commit, prefix)
    new_files = files_in_tree(datasets)
    old, new = packages(old_files), packages(new_files)
    where = prefix or "."
    out = [f"# Data changes: `{rev}` ({commit[:10]}) → working tree", ""]
    if not old_files:
        out += [f"`{where}/` did not exist at `{rev}`: every package is new.", ""]
    schema_changes = sorted(
        p for p in set(old_files) | set(new_files) if p.startswith(f"{SCHEMA_DIR}/") and old_files.get(p) != new_files.get(p)
    )
    sections, counts = [], {"added": 0, "removed": 0, "changed": 0}
    for pkg_id in sorted(set(old) | set(new)):
        section = describe_package(pkg_id, old.get(pkg_id), new.get(pkg_id))
        if section:
            counts[change_kind(pkg_id, old, new)] += 1
            sections.append(section)
    if not sections and not schema_changes:
        out.append(f"No changes to the data packages in `{where}/`.")
        return "\n".join(out)
    out.append(f"{len(sections)} package(s): {counts['added']} added, {counts['removed']} removed, {counts['changed']} changed.")
    out.append("")
    if schema_changes:
        out.append("## Shared schemas")
        out.append("")
        out += [f"- `{p}`: {change_kind(p, old_files, new_files)} (every dataset page may change)" for p in schema_changes]
        out.append("")
    for section in sections:
        out += section
    return "\n".join(out).rstrip() + "\n"
