"""Stage 1, load: find the data packages, read their descriptors, errata and ignore lists safely.

Nothing here trusts the data: resource paths must stay inside their package, schemas must be the
shared ones in datasets/schemas/, and every file must be UTF-8 text without a byte-order mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .. import families
from ..errors import DataError, Problem
from ..settings import Settings

SCHEMA_DIR = "schemas"
DESCRIPTOR_NAMES = ("datapackage.yaml", "datapackage.yml", "datapackage.json")
MAX_FIELD_CHARS = 5000  # a longer cell is almost certainly a broken file, not data
SCHEMA_REF_RE = re.compile(r"^\.\./schemas/([a-z_]+)\.schema\.yaml$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class DataPackage:
    id: str
    dir: Path
    descriptor_path: Path
    descriptor: dict  # schemas inlined; resource paths relative to dir
    resource_paths: dict[str, Path]
    errata: list[dict] = field(default_factory=list)
    ignore: list[dict] = field(default_factory=list)
    # every file of the package as read here (descriptor, CSVs, errata, ignore list): validation parses the
    # CSVs from these and hashes these for its cache, so that a build reads each file from disk once
    texts: dict[Path, str] = field(default_factory=dict, repr=False)


@dataclass
class Corpus:
    settings: Settings
    schemas: dict[str, dict]
    packages: list[DataPackage]


def read_yaml(path: Path, settings: Settings, problems: list[Problem], keep: dict | None = None):
    text = read_text(path, settings, problems, keep)
    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark else None
        problems.append(Problem(settings.rel(path), row, "-", f"broken YAML: {getattr(exc, 'problem', exc)}"))
        return None


def read_text(path: Path, settings: Settings, problems: list[Problem], keep: dict | None = None) -> str | None:
    """The file as text, or None with a problem naming the line of the first bad byte; kept in `keep` when given."""
    rel = settings.rel(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(rel, None, "-", f"cannot read file: {exc.strerror or exc}"))
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(rel, 1, "-", "file starts with a byte-order mark (BOM); save it as UTF-8 without BOM"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(rel, line, "-", f"not valid UTF-8 (byte {exc.start})"))
        return None
    if not text.strip():
        problems.append(Problem(rel, None, "-", "file is empty"))
        return None
    # control characters are never data, and XLSX and XML downloads cannot hold them
    bad = CONTROL_RE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        problems.append(Problem(rel, line, "-", f"control character U+{ord(bad.group()):04X} in the text"))
        return None
    for n, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_FIELD_CHARS:
            problems.append(Problem(rel, n, "-", f"line is {len(line)} characters long (limit {MAX_FIELD_CHARS})"))
            return None
    if keep is not None:
        keep[path] = text
    return text


def load_schemas(settings: Settings, problems: list[Problem]) -> dict[str, dict]:
    schemas = {}
    for fam in families.ALL:
        path = settings.datasets / SCHEMA_DIR / f"{fam.name}.schema.yaml"
        schema = read_yaml(path, settings, problems)
        if isinstance(schema, dict):
            schemas[fam.name] = schema
        elif schema is not None:
            problems.append(Problem(settings.rel(path), None, "-", "a schema must be a mapping"))
    return schemas


def safe_resource_path(raw, pkg_dir: Path) -> tuple[Path | None, str]:
    """Resolve a resource path, refusing URLs, absolute paths and paths leaving the package."""
    if not isinstance(raw, str) or not raw:
        return None, "path must be a relative file path (one string)"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", raw) or raw.startswith("//"):
        return None, f"remote path {raw!r} is not allowed: data must be committed in the package"
    pure = PurePosixPath(raw)
    if pure.is_absolute() or raw.startswith("\\") or re.match(r"^[a-zA-Z]:", raw):
        return None, f"absolute path {raw!r} is not allowed"
    if ".." in pure.parts:
        return None, f"path {raw!r} escapes the package folder"
    resolved = (pkg_dir / pure).resolve()
    if pkg_dir.resolve() not in resolved.parents:
        return None, f"path {raw!r} escapes the package folder"
    return resolved, ""


def resource_entry(
    res, where: str, pkg_dir: Path, declared: set, settings: Settings, problems: list[Problem], keep: dict
) -> tuple[Path | None, str, str]:
    """(path, "", "") for a resource the build can read; else (None, the descriptor key, why not), or
    (None, "", "") when its file's problem is already in `problems`.

    A name is added to `declared` as soon as it is known, so that a missing resource is reported only
    when it was not declared at all (a declared but broken one is reported where it breaks)."""
    if not isinstance(res, dict):
        return None, where, "a resource must be a mapping"
    name = res.get("name")
    if not isinstance(name, str) or name not in families.BY_NAME:  # a YAML list here is unhashable
        return None, f"{where}/name", f"unknown resource {name!r}; expected one of {', '.join(families.BY_NAME)}"
    if name in declared:
        return None, f"{where}/name", f"resource {name!r} is declared twice"
    declared.add(name)
    path, why = safe_resource_path(res.get("path"), pkg_dir)
    if path is None:
        return None, f"{where}/path", why
    if not path.is_file():
        return None, f"{where}/path", f"resource file {res.get('path')} does not exist"
    # frictionless would strip a BOM silently and report bad bytes or empty files without a row
    if read_text(path, settings, problems, keep) is None:
        return None, "", ""
    schema_ref = res.get("schema")
    m = SCHEMA_REF_RE.match(schema_ref) if isinstance(schema_ref, str) else None
    if not m or m.group(1) != name:
        return None, f"{where}/schema", f"schema must be the shared ../schemas/{name}.schema.yaml"
    return path, "", ""


def load_package(desc_path: Path, schemas: dict, settings: Settings, problems: list[Problem]) -> DataPackage | None:
    pkg_dir = desc_path.parent
    rel = settings.rel(desc_path)
    texts: dict[Path, str] = {}
    raw = read_yaml(desc_path, settings, problems, texts)  # JSON is valid YAML
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("resources"), list):
        problems.append(Problem(rel, None, "resources", "a data package needs a list of resources"))
        return None
    resources, paths, declared = [], {}, set()
    for i, res in enumerate(raw["resources"]):
        path, key, why = resource_entry(res, f"resources/{i}", pkg_dir, declared, settings, problems, texts)
        if key:
            problems.append(Problem(rel, None, key, why))
        elif path is not None and res["name"] in schemas:
            paths[res["name"]] = path
            resources.append({**res, "schema": schemas[res["name"]]})
    for required in ("documents", "regions", "plans"):
        if required not in declared:  # a declared but broken resource is reported where it breaks
            problems.append(Problem(rel, None, "resources", f"the package has no {required!r} resource"))
    return DataPackage(
        id=pkg_dir.name,
        dir=pkg_dir,
        descriptor_path=desc_path,
        descriptor={**raw, "resources": resources},
        resource_paths=paths,
        errata=read_optional_list(pkg_dir / "errata.yaml", settings, problems, texts),
        ignore=read_optional_list(pkg_dir / "ignore.yaml", settings, problems, texts),
        texts=texts,
    )


def read_optional_list(path: Path, settings: Settings, problems: list[Problem], keep: dict | None = None) -> list[dict]:
    if not path.exists():
        return []
    data = read_yaml(path, settings, problems, keep)
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        problems.append(Problem(settings.rel(path), None, "-", "must be a YAML list of mappings"))
        return []
    return data


def find_descriptors(datasets: Path) -> list[Path]:
    found = []
    for d in sorted(p for p in datasets.iterdir() if p.is_dir() and p.name != SCHEMA_DIR):
        for name in DESCRIPTOR_NAMES:
            if (d / name).exists():
                found.append(d / name)
                break
    return found


def run(settings: Settings) -> Corpus:
    """Load every package under settings.datasets; raise DataError listing every problem."""
    problems: list[Problem] = []
    if not settings.datasets.is_dir():
        raise DataError([Problem(settings.rel(settings.datasets), None, "-", "datasets folder does not exist")])
    schemas = load_schemas(settings, problems)
    packages = []
    for desc in find_descriptors(settings.datasets):
        pkg = load_package(desc, schemas, settings, problems)
        if pkg:
            packages.append(pkg)
    if not packages and not problems:
        problems.append(
            Problem(settings.rel(settings.datasets), None, "-", "no data package found (datasets/<id>/datapackage.yaml)")
        )
    if problems:
        raise DataError(problems)
    return Corpus(settings=settings, schemas=schemas, packages=packages)
