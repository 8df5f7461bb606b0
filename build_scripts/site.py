"""Stage 8, site: runs every stage in order and builds the site with mkdocs, atomically.

load → validate → derive → charts → downloads → pages → catalog → mkdocs build. The new site is built
in a temporary folder beside the output and swapped in only when everything succeeded, so a failed
build leaves the last good site untouched.

Two caches, both keyed by content hashes and both off with --no-cache: a build whose inputs (data,
schemas, source texts, hand-written docs, templates and code, mkdocs.yml, settings, git HEAD, installed
packages) are those of the last successful build into an output that is still byte for byte what that
build wrote does nothing (and says so); and a data package whose files, schemas, source texts and
validation code are unchanged reuses its last validation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from . import load, search, validate
from .errors import DataError, Problem
from .settings import Settings

CODE_DIR = Path(__file__).resolve().parent
# the modules whose code decides whether a package is valid and what validation reads from it
VALIDATION_CODE = ("load.py", "validate.py", "checks.py", "units.py", "families.py", "errors.py")


class Progress:
    """Stage timings, shown as they finish (rich), silent in CI."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.timings: dict[str, float] = {}
        self.console = None
        if not quiet:
            from rich.console import Console

            self.console = Console(stderr=True)

    @contextlib.contextmanager
    def stage(self, name: str, label: str):
        t = time.perf_counter()
        status = self.console.status(f"[bold]{label}…") if self.console else contextlib.nullcontext()
        with status:
            yield
        self.timings[name] = time.perf_counter() - t
        if self.console:
            self.console.print(f"[green]✓[/] {label} [dim]{self.timings[name]:.2f} s[/]")


def git(settings: Settings, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=settings.root, capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def data_version(settings: Settings, changes: list[dict]) -> str:
    return f"{changes[0]['date']}-{changes[0]['sha'][:7]}" if changes else "dev"


def mkdocs_config(settings: Settings, docs_dir: Path, site_dir: Path) -> Path:
    """A config inheriting mkdocs.yml, pointing at the generated tree and this build's folders."""
    cfg = {
        "INHERIT": str(settings.root / "mkdocs.yml"),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "site_url": settings.site_url,
        "theme": {"name": "material", "custom_dir": str(settings.docs / "overrides")},
        "plugins": [{"search": {"lang": "zh", "jieba_dict_user": str(settings.work / "jieba_user.txt")}}],
    }
    path = settings.work / "mkdocs.generated.yml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def mkdocs_build(config_file: Path, strict: bool, epoch: str) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    os.environ["SOURCE_DATE_EPOCH"] = epoch  # sitemap dates: reproducible builds
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    captured = CaptureWarnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(captured)
    try:
        cfg = load_config(str(config_file), strict=strict)
        build(cfg)
    except SystemExit as exc:  # mkdocs aborts with SystemExit in strict mode
        raise DataError([Problem("mkdocs.yml", None, "-", f"mkdocs build failed: {'; '.join(captured.messages) or exc}")]) from None
    except Exception as exc:  # noqa: BLE001 - mkdocs raises many kinds; the user gets one line
        if type(exc).__name__ == "Abort":
            raise DataError([Problem("mkdocs.yml", None, "-", f"mkdocs build failed: {'; '.join(captured.messages) or exc}")]) from None
        raise
    finally:
        logger.removeHandler(captured)


class CaptureWarnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


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


def build_inputs(settings: Settings) -> dict[str, str]:
    """A digest of each input a build reads: builds with equal digests make the same site."""
    digests = {}
    for label, root in (("datasets", settings.datasets), ("sources", settings.sources), ("docs", settings.docs),
                        ("code and templates", CODE_DIR), ("mkdocs.yml", settings.root / "mkdocs.yml")):
        digests[label] = tree_digest(root).hexdigest()
    fields = {k: str(v) for k, v in settings.__dict__.items() if k not in ("quiet", "debug")}
    digests["settings"] = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    # the changelog, feed, data version and sitemap dates come from the git history
    digests["git HEAD"] = git(settings, "rev-parse", "HEAD") or "-"
    from importlib import metadata

    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digests["Python and packages"] = hashlib.sha256((sys.version + "\0" + "\n".join(dists)).encode()).hexdigest()
    return digests


def state_path(settings: Settings) -> Path:
    return settings.work / "state" / f"{hashlib.sha256(str(settings.out).encode()).hexdigest()[:16]}.json"


def up_to_date(settings: Settings, inputs: dict[str, str]) -> tuple[dict | None, str]:
    """(the last build's record, "") when it had these inputs and its output is still exactly what it
    wrote; else (None, why the site must be built)."""
    try:
        state = json.loads(state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, "no earlier build into this folder"
    if not isinstance(state, dict) or not isinstance(state.get("inputs"), dict):
        return None, "the record of the last build is unreadable"
    changed = [k for k in inputs if state.get("inputs", {}).get(k) != inputs[k]]
    if changed:
        return None, "changed since the last build: " + ", ".join(changed)
    if not settings.out.is_dir() or tree_digest(settings.out).hexdigest() != state.get("output"):
        return None, f"{settings.out} is not what the last build wrote"
    return state, ""


def record_build(settings: Settings, inputs: dict[str, str], pages: int, datasets: int) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"inputs": inputs, "output": tree_digest(settings.out).hexdigest(), "out": str(settings.out), "pages": pages,
             "datasets": datasets}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    tmp.replace(path)


def validation_keys(settings: Settings, package_dirs: list[Path]) -> dict[str, str]:
    """Per package: a hash of its files, the shared schemas, the source texts, the validation code and
    the frictionless version, i.e. of everything its validation reads."""
    from importlib import metadata

    base = hashlib.sha256(b"portal-validation-v1\0")
    for name in VALIDATION_CODE:
        base.update(name.encode() + b"\0")
        tree_digest(CODE_DIR / name, base)
    tree_digest(settings.datasets / load.SCHEMA_DIR, base)
    base.update(b"sources\0")
    tree_digest(settings.sources, base)
    base.update(f"{sys.version}\0frictionless=={metadata.version('frictionless')}".encode())
    return {d.name: tree_digest(d, base.copy()).hexdigest() for d in package_dirs}


MIN_PACKAGES_PER_WORKER = 3  # a worker process costs about what validating one package does (imports)
VALIDATE_WORKER = """
import pickle, sys
sys.path.insert(0, sys.argv[1])
from build_scripts import load, site, validate
from build_scripts.errors import DataError
settings, wanted = pickle.load(sys.stdin.buffer)  # descriptor path -> validation key
problems = []
schemas = load.load_schemas(settings, problems)
packages = [load.load_package(d, schemas, settings, problems) for d in wanted]
out = None
if not problems and all(packages):
    try:
        report = validate.run(load.Corpus(settings=settings, schemas=schemas, packages=packages))
        keys = site.validation_keys(settings, [p.dir for p in packages])
        if all(keys[p.id] == wanted[p.descriptor_path] for p in packages):  # nothing changed while it ran
            out = {r.package.id: (r.package.tables, r.results, r.provenance_verified) for r in report.packages}
    except DataError:
        pass
pickle.dump(out, sys.stdout.buffer, protocol=5)
"""


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def validate_fresh(corpus: load.Corpus, settings: Settings, todo: list, keys: dict[str, str]) -> dict[str, tuple]:
    """validate.run on the packages in todo, shared between this process and (cpus - 1) workers.

    Each worker loads and validates its packages with the same load and validate code and checks that
    their files did not change meanwhile; any problem raises DataError, so that the caller validates
    the whole corpus in this process and reports exactly what validate.run reports.
    """
    import subprocess

    workers = min(usable_cpus() - 1, len(todo) // MIN_PACKAGES_PER_WORKER)
    groups: list[list] = [[] for _ in range(max(workers, 0) + 1)]
    loads = [0] * len(groups)
    size = {pkg.id: sum(f.stat().st_size for f in pkg.dir.rglob("*") if f.is_file()) for pkg in todo}
    for pkg in sorted(todo, key=lambda p: -size[p.id]):  # biggest first, each to the least loaded group
        i = loads.index(min(loads))
        groups[i].append(pkg)
        loads[i] += size[pkg.id]
    procs = []
    try:
        for group in groups[1:]:
            proc = subprocess.Popen([sys.executable, "-c", VALIDATE_WORKER, str(CODE_DIR.parent)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)
            procs.append(proc)
            proc.stdin.write(pickle.dumps((settings, {p.descriptor_path: keys[p.id] for p in group}), protocol=5))
            proc.stdin.close()
        mine = groups[0]
        report = validate.run(load.Corpus(settings=corpus.settings, schemas=corpus.schemas, packages=mine)) if mine else None
        out = {r.package.id: (r.package.tables, r.results, r.provenance_verified) for r in (report.packages if report else [])}
        for proc in procs:
            try:
                data = pickle.load(proc.stdout)
            except (EOFError, pickle.UnpicklingError):
                data = None
            if proc.wait() != 0 or data is None:
                raise DataError([])
            out.update(data)
        return out
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def validate_cached(corpus: load.Corpus, settings: Settings) -> validate.ValidationReport:
    """validate.run, reusing the result of every package whose validation inputs did not change.

    Only packages that validated cleanly are stored, keyed by validation_keys. Packages are validated
    independently of each other (so the new ones are validated in parallel) except for the
    cross-package region check, which always runs on the whole corpus. If anything fails, the plain
    validate.run of the whole corpus reports it, so the messages are exactly those of an uncached build.
    """
    cache = settings.work / "cache" / "validate"
    keys = validation_keys(settings, [pkg.dir for pkg in corpus.packages])
    hits = {}
    for pkg in corpus.packages:
        try:
            with (cache / f"{pkg.id}.pickle").open("rb") as fh:
                entry = pickle.load(fh)
            if entry.get("key") == keys[pkg.id]:
                hits[pkg.id] = entry
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            pass
    todo = [pkg for pkg in corpus.packages if pkg.id not in hits]
    try:
        fresh = validate_fresh(corpus, settings, todo, keys) if todo else {}
        for pkg in corpus.packages:
            pkg.tables = fresh[pkg.id][0] if pkg.id in fresh else hits[pkg.id]["tables"]
        problems = validate.region_problems(corpus, settings.rel)
        if problems:
            raise DataError(problems)
    except DataError:
        for pkg in corpus.packages:
            pkg.tables = {}
        return validate.run(corpus)
    cache.mkdir(parents=True, exist_ok=True)
    for pkg_id, (tables, results, verified) in fresh.items():
        entry = {"key": keys[pkg_id], "tables": tables, "results": results, "provenance_verified": verified}
        tmp = cache / f".{pkg_id}.pickle.{os.getpid()}"
        tmp.write_bytes(pickle.dumps(entry, protocol=5))
        tmp.replace(cache / f"{pkg_id}.pickle")
    reports = []
    for pkg in corpus.packages:
        _, results, verified = fresh[pkg.id] if pkg.id in fresh else (None, hits[pkg.id]["results"], hits[pkg.id]["provenance_verified"])
        reports.append(validate.PackageReport(pkg, verified, results))
    return validate.ValidationReport(reports, settings.sources is not None)


def generate(settings: Settings, progress: Progress, docs_dir: Path):
    """Every stage before mkdocs: returns what the later stages and the bench need."""
    from . import catalog, charts, derive, downloads, pages  # here, so that an up-to-date build imports none of them

    with progress.stage("load", "读取数据包 load"):
        corpus = load.run(settings)
    with progress.stage("validate", "校验 validate"):
        report = validate_cached(corpus, settings) if settings.cache else validate.run(corpus)
    with progress.stage("derive", "派生 derive"):
        derived = derive.run(corpus, report)
        changes = catalog.git_changes(settings)
        version = data_version(settings, changes)
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True)
    with progress.stage("charts", "图表 charts"):
        all_charts = charts.run(derived, settings, docs_dir)
    with progress.stage("downloads", "下载文件 downloads"):
        files = downloads.run(derived, settings, docs_dir)
    with progress.stage("pages", "页面 pages"):
        written = pages.run(derived, settings, docs_dir, all_charts, files, changes, version)
    with progress.stage("catalog", "目录 catalog"):
        catalog.run(derived, settings, docs_dir, changes)
    return derived, changes, written


def run(settings: Settings, progress: Progress | None = None) -> dict:
    """Build the whole site into settings.out; returns stage timings.

    With the cache on, a build whose inputs and output are those of the last successful build stops
    after the check and returns {"skipped": True, "derived": None, ...}.
    """
    progress = progress or Progress(settings.quiet)
    settings.work.mkdir(parents=True, exist_ok=True)
    with progress.stage("inputs", "检查输入 inputs"):
        inputs = build_inputs(settings)
        state, why = up_to_date(settings, inputs) if settings.cache else (None, "--no-cache")
    if state is not None:
        message = f"site up to date: {settings.out} (inputs unchanged since the last build, {state['pages']} pages; nothing rebuilt)"
        if progress.console:
            progress.console.print(f"[bold green]{message}[/]")
        else:
            print(message)
        return {"timings": progress.timings, "pages": state["pages"], "derived": None, "skipped": True, "built_because": ""}
    if progress.console:
        progress.console.print(f"[dim]building: {why}[/]")
    docs_dir = settings.work / "docs"
    derived, changes, written = generate(settings, progress, docs_dir)
    out = settings.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        epoch = git(settings, "log", "-1", "--format=%ct") or "1577836800"
        with progress.stage("mkdocs", "mkdocs build"):
            mkdocs_build(mkdocs_config(settings, docs_dir, tmp), settings.strict, epoch)
            search.patch_search_worker(tmp)  # Chinese queries: see build_scripts/search.py
        swap(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if progress.console:
        progress.console.print(f"[bold green]site built[/] → {out} ({len(written)} pages, {len(derived.datasets)} datasets)")
    else:
        print(f"site built: {out} ({len(written)} pages)")
    with contextlib.suppress(OSError):  # the site is built; without a record the next build is just not skipped
        record_build(settings, inputs, len(written), len(derived.datasets))
    return {"timings": progress.timings, "pages": len(written), "derived": derived, "skipped": False, "built_because": why}


def swap(new: Path, out: Path) -> None:
    """Replace out by new with two renames; the old site is removed only after the swap."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    new.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def serve(settings: Settings, port: int) -> None:
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(settings.out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {settings.out} at http://127.0.0.1:{port}/ (Ctrl+C to stop)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
