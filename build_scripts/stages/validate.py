"""Stage 2, validate: frictionless v5 (schemas, keys) plus the project's checks, and provenance.

Every problem becomes one `FILE:ROW:FIELD: message` line. Provenance (sha256 of each source text, every
value on its printed line) is verified only when a folder of source texts is given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from frictionless import Checklist, Package, Resource, Schema

from .. import families
from ..errors import DataError, Problem
from . import checks
from .load import Corpus, DataPackage

ERRATUM_KEYS = ("id", "check", "figure_id", "lines", "printed", "computed", "description_zh", "description_en")
ERRATUM_CHECKS = ("part-of-total", "ratio", "restates", "manual")
IGNORE_REASONS = (
    "year",
    "date",
    "list-numbering",
    "cited-document",
    "boilerplate",
    "ocr-residue",
    "name",
    "table-label",
    "other",
)


def iter_figures(tables: dict[str, list[dict]]):
    """Every figure row of one package's tables, with its family name, in family order."""
    for fam in families.FIGURE_NAMES:
        for row in tables.get(fam, []):
            yield fam, row


@dataclass(frozen=True)
class ValidPackage:
    """A data package that passed validation: the package as loaded, its typed rows, and the outcome of
    every consistency check (for the quality page)."""

    source: DataPackage
    tables: dict[str, list[dict]]  # resource name -> typed rows (numbers as float, `_n` = spreadsheet row)
    provenance_verified: bool
    results: list[dict] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.source.id

    @property
    def dir(self) -> Path:
        return self.source.dir

    @property
    def descriptor(self) -> dict:
        return self.source.descriptor

    @property
    def resource_paths(self) -> dict[str, Path]:
        return self.source.resource_paths

    @property
    def errata(self) -> list[dict]:
        return self.source.errata

    @property
    def ignore(self) -> list[dict]:
        return self.source.ignore

    @property
    def document(self) -> dict:
        return self.tables["documents"][0]

    def figures(self):
        return iter_figures(self.tables)


@dataclass(frozen=True)
class ValidationReport:
    packages: list[ValidPackage]
    provenance_verified: bool

    @property
    def figure_count(self) -> int:
        return sum(len(list(p.figures())) for p in self.packages)


def in_memory(resource: Resource, pkg: DataPackage) -> Resource:
    """The resource parsed from the text load read (pkg.texts), not read from disk again."""
    text = pkg.texts.get(pkg.resource_paths.get(resource.name))
    if text is not None:
        resource.path, resource.data, resource.scheme = None, text.encode("utf-8"), "buffer"
        resource.format, resource.encoding = "csv", "utf-8"
    return resource


def frictionless_problems(pkg: DataPackage, rel) -> list[Problem]:
    """Types, constraints, primary and foreign keys, as frictionless reports them."""
    problems = []
    package = Package.from_descriptor(pkg.descriptor, basepath=str(pkg.dir))
    for resource in package.resources:
        in_memory(resource, pkg)
    report = package.validate()
    for task in report.tasks:
        res_path = pkg.resource_paths.get(task.name)
        path = rel(res_path) if res_path else rel(pkg.descriptor_path)
        for err in task.errors:
            row = getattr(err, "row_number", None)
            # foreign-key and primary-key errors name their fields in a list
            fname = getattr(err, "field_name", None) or ",".join(getattr(err, "field_names", None) or []) or "-"
            message = f"{err.title}: {err.note}" if err.note else err.title
            if err.type in ("blank-label", "duplicate-label", "missing-label", "extra-label", "incorrect-label"):
                row = 1
                # the schema's field where there is one; the message names the header's label too
                fname = fname if fname != "-" else getattr(err, "label", None) or "-"
                message = err.message
            problems.append(Problem(path, row, fname, message))
    for err in report.errors:
        problems.append(Problem(rel(pkg.descriptor_path), None, "-", err.note or err.title))
    return problems


def plain_resource(pkg: DataPackage, res: dict) -> Resource:
    """A resource read on its own: foreign keys were checked by the package validation already."""
    schema = {k: v for k, v in res["schema"].items() if k != "foreignKeys"}
    return in_memory(
        Resource(path=res["path"], basepath=str(pkg.dir), schema=Schema.from_descriptor(schema), name=res["name"]), pkg
    )


def read_tables(pkg: DataPackage) -> dict[str, list[dict]]:
    tables = {}
    for res in pkg.descriptor["resources"]:
        resource = plain_resource(pkg, res)
        rows = []
        for row in resource.read_rows():
            # numbers as floats for charts, JSON and templates; exact checks reparse value_as_printed
            d = {k: float(v) if isinstance(v, Decimal) else v for k, v in row.to_dict().items()}
            d["_n"] = row.row_number  # spreadsheet row, for messages about this row later
            rows.append(d)
        tables[res["name"]] = rows
    return tables


def source_problems(pkg: DataPackage, doc: dict, sources: Path, rel) -> tuple[list[Problem], list[str] | None]:
    docs_file = rel(pkg.resource_paths["documents"])
    path = sources / doc["source_file"]
    if not path.is_file():
        return [Problem(docs_file, doc["_n"], "source_file", f"source text {doc['source_file']} not found in {sources}")], None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != doc["source_sha256"]:
        return [
            Problem(
                docs_file,
                doc["_n"],
                "source_sha256",
                f"sha256 of {doc['source_file']} is {digest}, the package records {doc['source_sha256']}",
            )
        ], None
    return [], data.decode("utf-8").split("\n")


def package_problems(pkg: DataPackage, tables: dict, rel) -> list[Problem]:
    problems = []
    docs_file = rel(pkg.resource_paths["documents"])
    if len(tables["documents"]) != 1:
        problems.append(Problem(docs_file, None, "-", "a package describes exactly one document"))
    elif tables["documents"][0]["doc_id"] != pkg.id:
        problems.append(
            Problem(docs_file, tables["documents"][0]["_n"], "doc_id", f"doc_id must be the package folder's name {pkg.id!r}")
        )
    for doc in tables["documents"]:
        name = doc["source_file"]
        # a path would let the provenance check read (and report the hash of) any file on the machine
        if "/" in name or "\\" in name or name in (".", ".."):
            problems.append(
                Problem(
                    docs_file,
                    doc["_n"],
                    "source_file",
                    f"source_file must be a file name in the sources folder, not the path {name!r}",
                )
            )
    return problems


def errata_problems(pkg: DataPackage, index: dict, rel) -> list[Problem]:
    problems, seen = [], set()
    path = rel(pkg.dir / "errata.yaml")
    for i, e in enumerate(pkg.errata):
        where = f"{i}"
        missing = [k for k in ERRATUM_KEYS if k not in e]
        if missing:
            problems.append(Problem(path, None, where, f"erratum is missing {', '.join(missing)}"))
            continue
        # they become dictionary keys: a YAML list or mapping here would crash the build
        not_text = [k for k in ("id", "check", "figure_id") if not isinstance(e[k], (str, int))]
        if not_text:
            problems.append(Problem(path, None, where, f"{', '.join(not_text)} must be text, not a list or mapping"))
            continue
        if e["check"] not in ERRATUM_CHECKS:
            problems.append(Problem(path, None, f"{where}/check", f"check must be one of {', '.join(ERRATUM_CHECKS)}"))
        if e["figure_id"] not in index:
            problems.append(Problem(path, None, f"{where}/figure_id", f"unknown figure {e['figure_id']!r}"))
        if e["id"] in seen:
            problems.append(Problem(path, None, f"{where}/id", f"duplicate erratum id {e['id']!r}"))
        seen.add(e["id"])
    return problems


def ignore_problems(pkg: DataPackage, rel) -> list[Problem]:
    import re

    problems = []
    path = rel(pkg.dir / "ignore.yaml")
    for i, entry in enumerate(pkg.ignore):
        if entry.get("reason") not in IGNORE_REASONS:
            problems.append(Problem(path, None, f"{i}/reason", f"reason must be one of {', '.join(IGNORE_REASONS)}"))
        if not re.fullmatch(r"\d+(-\d+)?", str(entry.get("lines", ""))):
            problems.append(Problem(path, None, f"{i}/lines", "lines must be a line number or a range A-B"))
        if "pattern" in entry and not isinstance(entry["pattern"], str):
            problems.append(Problem(path, None, f"{i}/pattern", "pattern must be one regular expression (text)"))
        elif "pattern" in entry:
            try:
                re.compile(str(entry["pattern"]))
            except re.error as exc:
                problems.append(Problem(path, None, f"{i}/pattern", f"bad regular expression: {exc}"))
    return problems


def check_package(pkg: DataPackage, tables: dict, source_lines, rel) -> tuple[list[Problem], list[dict]]:
    index = {row["figure_id"]: (fam, row) for fam, row in iter_figures(tables)}
    problems = errata_problems(pkg, index, rel) + ignore_problems(pkg, rel)
    errata = {
        (e["check"], e["figure_id"]): e
        for e in pkg.errata
        if isinstance(e.get("check"), (str, int)) and isinstance(e.get("figure_id"), (str, int))
    }  # others: errata_problems
    ctx = checks.CheckContext(doc_id=pkg.id, index=index, source_lines=source_lines, errata=errata)
    dup = {}
    for fam, row in iter_figures(tables):
        dup.setdefault(row["figure_id"], []).append(fam)
    for fid, fams in dup.items():
        if len(fams) > 1:
            problems.append(Problem(rel(pkg.dir), None, "figure_id", f"figure id {fid} is used in {' and '.join(fams)}"))
    for res in pkg.descriptor["resources"]:
        fam = families.BY_NAME[res["name"]]
        if not fam.is_figures:
            continue
        resource = plain_resource(pkg, res)
        report = resource.validate(checklist=Checklist(checks=checks.checks_for(fam.name, fam.letter, ctx)))
        file = rel(pkg.resource_paths[res["name"]])
        for task in report.tasks:
            for err in task.errors:
                problems.append(
                    Problem(
                        file, getattr(err, "row_number", None), getattr(err, "field_name", None) or "-", err.note or err.title
                    )
                )
    for key, e in errata.items():
        if e["check"] != "manual" and key not in ctx.used_errata and e["figure_id"] in index:
            problems.append(
                Problem(
                    rel(pkg.dir / "errata.yaml"),
                    None,
                    str(e.get("id")),
                    f"erratum names {key[0]} on {key[1]}, but no such check runs there (is part_of / ratio_of set?)",
                )
            )
    return problems, ctx.results


def region_problems(packages: list[ValidPackage], rel) -> list[Problem]:
    """A region id means the same place in every package, and no region lies above itself."""
    problems, seen = [], {}
    for pkg in packages:
        for row in pkg.tables.get("regions", []):
            key = (row["name_zh"], row["level"], row.get("parent_id"), row.get("gb_code"))
            first = seen.setdefault(row["region_id"], (key, pkg))
            if first[0] != key:
                problems.append(
                    Problem(
                        rel(pkg.resource_paths["regions"]),
                        row["_n"],
                        "region_id",
                        f"region {row['region_id']} differs from its row in package {first[1].id} "
                        "(name, level, parent and code must agree)",
                    )
                )
        # a region above itself would send every walk up or down the tree round forever
        parents = {r["region_id"]: r.get("parent_id") for r in pkg.tables.get("regions", [])}
        for row in pkg.tables.get("regions", []):
            visited, up = set(), row["region_id"]
            while up in parents and up not in visited:
                visited.add(up)
                up = parents[up]
            if up == row["region_id"]:
                problems.append(
                    Problem(
                        rel(pkg.resource_paths["regions"]),
                        row["_n"],
                        "parent_id",
                        f"region {row['region_id']} is its own ancestor (parent_id goes round in a circle)",
                    )
                )
    return problems


def run(corpus: Corpus) -> ValidationReport:
    settings = corpus.settings
    rel = settings.rel
    problems: list[Problem] = []
    for pkg in corpus.packages:
        problems += frictionless_problems(pkg, rel)
    if problems:
        raise DataError(problems)
    reports = []
    for pkg in corpus.packages:
        tables = read_tables(pkg)
        own = package_problems(pkg, tables, rel)
        problems += own
        source_lines = None
        # this package's problems only: one broken package must not hide the provenance errors of the next
        if settings.sources is not None and not own:
            found, source_lines = source_problems(pkg, tables["documents"][0], settings.sources, rel)
            problems += found
        found, results = check_package(pkg, tables, source_lines, rel)
        problems += found
        reports.append(ValidPackage(pkg, tables, source_lines is not None, results))
    problems += region_problems(reports, rel)
    if problems:
        raise DataError(problems)
    return ValidationReport(reports, settings.sources is not None)
