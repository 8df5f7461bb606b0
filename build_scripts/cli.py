"""The `portal` command: validate, build, serve, coverage, bench, new-document, diff, audit."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

from . import families
from .errors import DataError, UsageError
from .i18n import LANGS
from .settings import Settings
from .stages import load, validate
from .tools import coverage


def add_common(p: argparse.ArgumentParser, out: bool = False) -> None:
    p.add_argument("--datasets", type=Path, help="folder of data packages (default: datasets/)")
    p.add_argument("--sources", type=Path, help="folder of source texts; verifies provenance (or PORTAL_SOURCES)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    if out:
        p.add_argument("--out", type=Path, help="output folder (default: site/)")
        p.add_argument("--no-cache", action="store_true", help="regenerate every chart and page")
        p.add_argument("--editions", type=editions_arg, help="languages to build, comma-separated (default: zh,en)")


def editions_arg(text: str) -> tuple[str, ...]:
    """--editions zh or zh,en: known languages, the root edition (zh) first and always built."""
    langs = tuple(x.strip() for x in text.split(",") if x.strip())
    if not langs or langs[0] != LANGS[0] or any(x not in LANGS for x in langs) or len(set(langs)) != len(langs):
        raise argparse.ArgumentTypeError(f"expected {LANGS[0]} first, then any of {', '.join(LANGS[1:])} (e.g. zh or zh,en)")
    return langs


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="portal", description="脱贫攻坚规划开放数据门户: validate the data packages and build the site."
    )
    sub = ap.add_subparsers(dest="command", required=True)
    add_common(sub.add_parser("validate", help="validate every data package (and provenance with --sources)"))
    p = sub.add_parser("build", help="validate, generate pages and charts, build the site atomically")
    add_common(p, out=True)
    p.add_argument("--deploy", action="store_true", help="a build to publish: refuse a placeholder site_url (PORTAL_SITE_URL)")
    p = sub.add_parser("serve", help="build, then preview on 127.0.0.1 under the path of site_url")
    add_common(p, out=True)
    p.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0: any free port)")
    p = sub.add_parser("coverage", help="list printed numbers no row covers and no ignore entry explains")
    add_common(p)
    p.add_argument("--doc", help="only this document id")
    p = sub.add_parser("check-extract", help="check an extraction workspace (CSV files of one document)")
    p.add_argument("--workspace", type=Path, required=True)
    p.add_argument("--doc", required=True)
    p.add_argument("--source", type=Path, required=True)
    p.add_argument("--lines", default=None, help="line range A-B for coverage")
    p.add_argument("--debug", action="store_true")
    p = sub.add_parser("bench", help="measure build cost on the real corpus and synthetic corpora")
    p.add_argument("--sources", type=Path)
    p.add_argument("--sizes", default="5,50,200", help="synthetic corpus sizes (documents)")
    p.add_argument("--json", type=Path, default=Path("bench.json"), help="where to write the figures as JSON")
    p.add_argument("--skip-real", action="store_true", help="only the synthetic corpora")
    p.add_argument("--large", action="store_true", help="also N = 1000 synthetic documents (about 10,000 pages, up to 20 min)")
    p.add_argument("--debug", action="store_true")
    p = sub.add_parser("new-document", help="scaffold datasets/<id>/ for a new source text")
    p.add_argument("--source", type=Path, required=True)
    p.add_argument("--id", required=True, dest="doc_id")
    p.add_argument("--region", required=True, help="region id of the jurisdiction (GB/T 2260 code)")
    p.add_argument("--region-name", required=True, help="Chinese name of the jurisdiction")
    p.add_argument("--region-name-en", default="", help="English name of the jurisdiction")
    p.add_argument("--level", default="county", choices=["province", "prefecture", "county", "township", "village"])
    p.add_argument("--datasets", type=Path)
    p.add_argument("--debug", action="store_true")
    p = sub.add_parser("diff", help="compare the data packages at a git revision with the working tree")
    p.add_argument("rev", nargs="?", default="HEAD")
    p.add_argument("--datasets", type=Path)
    p.add_argument("--debug", action="store_true")
    p = sub.add_parser("audit", help="build if needed, run Lighthouse (mobile) on pages of the site, print the scores")
    add_common(p, out=True)
    p.add_argument("--pages", nargs="+", metavar="PATH", help="site paths (default: home, a dataset and a region page)")
    return ap


def settings_from(args) -> Settings:
    return Settings.from_env(
        datasets=getattr(args, "datasets", None) and args.datasets.resolve(),
        sources=getattr(args, "sources", None) and args.sources.resolve(),
        out=getattr(args, "out", None) and args.out.resolve(),
        debug=getattr(args, "debug", False) or None,
        cache=False if getattr(args, "no_cache", False) else None,
        deploy=getattr(args, "deploy", False) or None,
        editions=getattr(args, "editions", None),
    )


def print_problems(err: DataError) -> None:
    for p in err.problems:
        print(p, file=sys.stderr)
    print(f"{len(err.problems)} problem(s) found; nothing was published.", file=sys.stderr)


def cmd_validate(settings: Settings) -> int:
    corpus = load.run(settings)
    report = validate.run(corpus)
    print(f"valid: {len(corpus.packages)} data package(s), {report.figure_count} figures")
    if report.provenance_verified:
        print(f"provenance verified against the source texts in {settings.sources}")
    else:
        print("provenance NOT verified: give --sources DIR (or PORTAL_SOURCES) to check every figure against its source text")
    return 0


def cmd_coverage(settings: Settings, doc: str | None) -> int:
    if settings.sources is None:
        raise UsageError("coverage needs the source texts: --sources DIR (or PORTAL_SOURCES)")
    report = validate.run(load.run(settings))
    total = 0
    for pkg in report.packages:
        if doc and pkg.id != doc:
            continue
        lines = (settings.sources / pkg.document["source_file"]).read_text(encoding="utf-8").split("\n")
        missing = coverage.uncovered(pkg, lines)
        total += len(missing)
        print(
            f"{pkg.id}: {len(list(pkg.figures()))} figures, {coverage.ignored_numbers(pkg, lines)} printed numbers ignored "
            f"({len(pkg.ignore)} ignore entries), {len(missing)} uncovered number(s)"
        )
        for u in missing:
            print(f"  {pkg.document['source_file']}:{u.line}: {u.number}  …{u.context}…")
    return 1 if total else 0


def wrap_workspace(ws: Path, source: Path, doc: str, ds: Path) -> None:
    """A temporary data package around an extraction workspace: its CSVs, lists, and made-up metadata."""
    import csv

    from .tools import scaffold

    pkg = ds / doc
    (pkg / "data").mkdir(parents=True)
    names = ["documents", "regions", "plans"]
    for fam in families.FIGURES:
        if (ws / f"{fam.name}.csv").exists():
            shutil.copy(ws / f"{fam.name}.csv", pkg / "data" / f"{fam.name}.csv")
            names.append(fam.name)
    for extra in ("errata.yaml", "ignore.yaml"):
        if (ws / extra).exists():
            shutil.copy(ws / extra, pkg / extra)
    if (ws / "regions.csv").exists():
        shutil.copy(ws / "regions.csv", pkg / "data" / "regions.csv")
    else:
        scaffold.write_csv(pkg / "data" / "regions.csv", scaffold.schema_fields(ds, "regions"), [])
    if (ws / "plans.csv").exists():
        shutil.copy(ws / "plans.csv", pkg / "data" / "plans.csv")
    else:  # one plan, the whole text
        lines = len(source.read_text(encoding="utf-8", errors="replace").split("\n"))
        plan = scaffold.main_plan(doc, "x", "x", lines, "inferred")
        scaffold.write_csv(pkg / "data" / "plans.csv", scaffold.schema_fields(ds, "plans"), [plan])
    used = Counter()
    for name in names[3:]:
        with (pkg / "data" / f"{name}.csv").open(encoding="utf-8", errors="replace") as fh:
            used.update(r.get("region_id", "") for r in csv.DictReader(fh))
    region = used.most_common(1)[0][0] if used else ""
    scaffold.write_csv(
        pkg / "data" / "documents.csv",
        scaffold.schema_fields(ds, "documents"),
        [
            {
                "doc_id": doc,
                "title_zh": "x",
                "title_en": "x",
                "title_status": "inferred",
                "region_id": region,
                "period_start": 2016,
                "period_end": 2020,
                "source_file": source.name,
                "source_sha256": scaffold.sha256_of(source),
            }
        ],
    )
    scaffold.write_descriptor(pkg, scaffold.descriptor(doc, "x", "x", names))


def cmd_check_extract(args) -> int:
    """Check an extraction workspace (one document's CSVs, regions, ignore and errata lists, without a
    descriptor) by wrapping it in a temporary data package: how the five documents were extracted."""

    ws, source = args.workspace.resolve(), args.source.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        ds = Path(tmp) / "datasets"
        shutil.copytree(Settings().datasets / "schemas", ds / "schemas")
        wrap_workspace(ws, source, args.doc, ds)
        settings = Settings.from_env(datasets=ds, sources=source.parent)
        settings = Settings(**{**settings.__dict__, "root": Path(tmp)})
        try:
            corpus = load.run(settings)
            report = validate.run(corpus)
        except DataError as err:
            for p in err.problems:
                print(str(p).replace(f"datasets/{args.doc}/data/", "").replace(f"datasets/{args.doc}/", ""))
            print(f"{len(err.problems)} problem(s)")
            return 1
        p = report.packages[0]
        counts = Counter(fam for fam, _ in p.figures())
        print(
            "rows:",
            dict(counts),
            "regions:",
            len(p.tables["regions"]),
            "errata:",
            len(p.errata),
            "ignore entries:",
            len(p.ignore),
        )
        failing = [r for r in p.results if not r["ok"]]
        print(f"consistency checks: {len(p.results)} run, {len(failing)} failing and recorded as errata")
        lines = source.read_text(encoding="utf-8").split("\n")
        first, last = coverage.parse_lines(args.lines) if args.lines else (1, len(lines))
        missing = coverage.uncovered(p, lines, first, last)
        for u in missing:
            print(f"uncovered: line {u.line}: {u.number}  …{u.context}…")
        print(f"{len(missing)} uncovered number(s) in lines {first}-{last}")
        return 1 if missing else 0


def cmd_build(args) -> int:
    from . import build

    settings = settings_from(args)
    if args.command == "build":
        build.run(settings)
        return 0
    with build.listen(settings, args.port) as server:  # bound first: a busy port is found before building
        build.run(settings)
        build.serve(server, settings)
    return 0


def cmd_bench(args) -> int:
    from .tools import bench

    return bench.run(args)


def cmd_new_document(args) -> int:
    from .tools import scaffold

    ds = (args.datasets or settings_from(args).datasets).resolve()
    source = args.source.resolve()
    name_en = args.region_name_en or args.region_name
    pkg = scaffold.new_document(ds, args.doc_id, source, args.region, args.region_name, name_en, args.level)
    print(f"created {pkg}; now run: portal coverage --sources {source.parent} --doc {args.doc_id}")
    return 0


def cmd_diff(args) -> int:
    from .tools import diff

    print(diff.run(settings_from(args), args.rev))
    return 0


def cmd_audit(args) -> int:
    from .tools import audit

    return audit.run(settings_from(args), args.pages)


# subcommand -> its function (args -> exit code); parser() declares each one's arguments
COMMANDS = {
    "validate": lambda args: cmd_validate(settings_from(args)),
    "build": cmd_build,
    "serve": cmd_build,
    "coverage": lambda args: cmd_coverage(settings_from(args), args.doc),
    "check-extract": cmd_check_extract,
    "bench": cmd_bench,
    "new-document": cmd_new_document,
    "diff": cmd_diff,
    "audit": cmd_audit,
}


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except DataError as err:
        print_problems(err)
        return 1
    except UsageError as err:
        print(f"portal: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `portal diff | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0
    except Exception as err:  # noqa: BLE001 - the user sees one line, --debug shows the traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"portal: internal error: {type(err).__name__}: {err} (run with --debug for details)", file=sys.stderr)
        return 3
