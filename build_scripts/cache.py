"""Content-hash caches, all in settings.work and all off with --no-cache.

- The build record: a build whose inputs (data, schemas, source texts, hand-written docs, templates
  and code, mkdocs.yml, settings, git HEAD, the newest commit of the data, installed packages) are those
  of the last successful build into an output that is still byte for byte what that build wrote does nothing.
- The validation cache: a data package whose files, schemas, source texts and validation code are
  unchanged reuses its last validation; the others are validated on the worker pool.
- The history cache (stages/history.py): what one commit changed in the data, by commit sha.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import pickle
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .errors import DataError
from .settings import Settings
from .stages import history, load, validate
from .workers import parallel_map

CODE_DIR = Path(__file__).resolve().parent
MIN_PACKAGES_PER_WORKER = 3  # a worker process costs about what validating one package does (imports)


def tree_digest(root: Path | None, h=None):
    """sha256 over every file below root (relative path and content), symlinks followed, in a fixed order."""
    h = h or hashlib.sha256()
    if root is None or not root.exists():
        h.update(b"<none>\0")
        return h
    if root.is_file():
        h.update(b"<file>\0" + hashlib.sha256(root.read_bytes()).digest())
        return h
    seen = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.endswith(".pyc") or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h


def git(settings: Settings, *args: str) -> str:
    import subprocess

    try:
        return subprocess.run(
            ["git", *args], cwd=settings.root, capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def build_inputs(settings: Settings) -> dict[str, str]:
    """A digest of each input a build reads: builds with equal digests make the same site."""
    digests = {}
    for label, root in (
        ("datasets", settings.datasets),
        ("sources", settings.sources),
        ("docs", settings.docs),
        ("code and templates", CODE_DIR),
        ("mkdocs.yml", settings.root / "mkdocs.yml"),
    ):
        digests[label] = tree_digest(root).hexdigest()
    fields = {k: str(v) for k, v in settings.__dict__.items() if k not in ("quiet", "debug")}
    digests["settings"] = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    # the sitemap dates come from the repository's git history; the changelog, feed and data version from that
    # of the datasets folder, which may be another repository (a commit there changes no file a build reads)
    digests["git HEAD"] = git(settings, "rev-parse", "HEAD") or "-"
    newest = history.commits(settings, limit=1)  # a commit's sha names its whole ancestry
    digests["data history"] = newest[0][0] if newest else "-"
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digests["Python and packages"] = hashlib.sha256((sys.version + "\0" + "\n".join(dists)).encode()).hexdigest()
    return digests


@dataclass(frozen=True)
class BuildRecord:
    """What the last successful build into one output folder read and wrote."""

    inputs: dict[str, str]
    output: str
    pages: int
    datasets: int


def state_path(settings: Settings) -> Path:
    return settings.work / "state" / f"{hashlib.sha256(str(settings.out).encode()).hexdigest()[:16]}.json"


def up_to_date(settings: Settings, inputs: dict[str, str]) -> tuple[BuildRecord | None, str]:
    """(the last build's record, "") when it had these inputs and its output is still exactly what it
    wrote; else (None, why the site must be built)."""
    try:
        state = json.loads(state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, "no earlier build into this folder"
    if not isinstance(state, dict) or not isinstance(state.get("inputs"), dict):
        return None, "the record of the last build is unreadable"
    changed = [k for k in inputs if state["inputs"].get(k) != inputs[k]]
    if changed:
        return None, "changed since the last build: " + ", ".join(changed)
    if not settings.out.is_dir() or tree_digest(settings.out).hexdigest() != state.get("output"):
        return None, f"{settings.out} is not what the last build wrote"
    return BuildRecord(state["inputs"], state["output"], state.get("pages", 0), state.get("datasets", 0)), ""


def record_build(settings: Settings, inputs: dict[str, str], pages: int, datasets: int) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "inputs": inputs,
        "output": tree_digest(settings.out).hexdigest(),
        "out": str(settings.out),
        "pages": pages,
        "datasets": datasets,
    }
    write_atomic(path, json.dumps(state, indent=1).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """Never a half-written file: write beside it, then rename over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


# --- validation ------------------------------------------------------------------------------------


def module_closure(module: str) -> list[Path]:
    """The source files of `module` and of every build_scripts module it imports, transitively: the
    code whose change must invalidate a cached validation (read from the code, not a hand-kept list)."""
    package = CODE_DIR.name
    todo, seen = [module], {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        rel = Path(*name.split(".")[1:])
        path = CODE_DIR / rel / "__init__.py" if (CODE_DIR / rel).is_dir() else CODE_DIR / rel.with_suffix(".py")
        if not path.is_file():
            continue
        seen[name] = path
        parent = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = parent.split(".")[: len(parent.split(".")) - node.level + 1] if node.level else []
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                todo += [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names]
    return sorted(p for n, p in seen.items() if n.split(".")[0] == package)


def validation_keys(settings: Settings, packages: list[load.DataPackage]) -> dict[str, str]:
    """Per package: a hash of its files as load read them (pkg.texts: not read again), the shared schemas,
    the source texts, the validation code and the frictionless version, i.e. of everything its validation reads."""
    base = hashlib.sha256(b"portal-validation-v3\0")
    for path in module_closure(f"{CODE_DIR.name}.stages.validate"):
        base.update(path.relative_to(CODE_DIR).as_posix().encode() + b"\0")
        tree_digest(path, base)
    tree_digest(settings.datasets / load.SCHEMA_DIR, base)
    base.update(b"sources\0")
    tree_digest(settings.sources, base)
    base.update(f"{sys.version}\0frictionless=={metadata.version('frictionless')}".encode())
    keys = {}
    for pkg in packages:
        h = base.copy()
        for path in sorted(pkg.texts):
            h.update(path.relative_to(pkg.dir).as_posix().encode() + b"\0" + hashlib.sha256(pkg.texts[path].encode()).digest())
        keys[pkg.id] = h.hexdigest()
    return keys


def validate_group(job: tuple[Settings, dict[str, dict], list[load.DataPackage]]) -> dict[str, validate.ValidPackage] | None:
    """Worker: validate some packages (as loaded, with their texts) on their own.

    None when anything fails: the caller then validates the whole corpus in one process, so that the
    messages are exactly those of an uncached build.
    """
    settings, schemas, packages = job
    try:
        report = validate.run(load.Corpus(settings=settings, schemas=schemas, packages=packages))
    except DataError:
        return None
    return {p.id: p for p in report.packages}


def groups_by_size(packages: list[load.DataPackage], n: int) -> list[list[load.DataPackage]]:
    """n groups of about equal size: biggest package first, each to the least loaded group."""
    groups: list[list] = [[] for _ in range(n)]
    loads = [0] * n
    size = {p.id: sum(len(t) for t in p.texts.values()) for p in packages}
    for pkg in sorted(packages, key=lambda p: -size[p.id]):
        i = loads.index(min(loads))
        groups[i].append(pkg)
        loads[i] += size[pkg.id]
    return [g for g in groups if g]


def cached_validation(corpus: load.Corpus, settings: Settings) -> validate.ValidationReport:
    """validate.run, reusing the result of every package whose validation inputs did not change.

    Only packages that validated cleanly are stored. Packages are validated independently of each other
    (the new ones in parallel) except for the cross-package region check, which always runs on the
    whole corpus. If anything fails, the plain validate.run of the whole corpus reports it.
    """
    store = settings.work / "cache" / "validate"
    keys = validation_keys(settings, corpus.packages)
    done = {pkg.id: hit for pkg in corpus.packages if (hit := read_entry(store / f"{pkg.id}.pickle", keys[pkg.id]))}
    todo = [pkg for pkg in corpus.packages if pkg.id not in done]
    from .workers import worker_count

    jobs = [(settings, corpus.schemas, g) for g in groups_by_size(todo, worker_count(len(todo), MIN_PACKAGES_PER_WORKER))]
    fresh: dict[str, validate.ValidPackage] = {}
    for result in parallel_map(validate_group, jobs):
        if result is None:
            return validate.run(corpus)
        fresh.update(result)
    packages = [fresh.get(pkg.id) or done[pkg.id] for pkg in corpus.packages]
    if validate.region_problems(packages, settings.rel):
        return validate.run(corpus)
    store.mkdir(parents=True, exist_ok=True)
    for pkg_id, pkg in fresh.items():
        stored = dataclasses.replace(pkg, source=dataclasses.replace(pkg.source, texts={}))  # the texts are not needed again
        write_atomic(store / f"{pkg_id}.pickle", pickle.dumps({"key": keys[pkg_id], "package": stored}, protocol=5))
    return validate.ValidationReport(packages, settings.sources is not None)


def read_entry(path: Path, key: str) -> validate.ValidPackage | None:
    try:
        with path.open("rb") as fh:
            entry = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    return entry.get("package")
