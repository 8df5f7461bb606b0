"""Malformed input, one case per row: the build refuses it with one `FILE:ROW:FIELD: message` line per
error, exit code 1, no traceback, and the last good site left byte for byte as it was.

Each case copies the tiny fixture package tests/fixtures/mini/ (an invented source text in
tests/fixtures/mini-sources/), breaks one thing, and runs `build` (cli.main in this process, so the
pipeline is imported once; a few cases again as a separate `python -m build_scripts` process).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helpers import (
    MINI_SOURCES,
    build_isolated,
    copy_datasets,
    main_with_work,
    mini_datasets,
    read_rows,
    run_portal,
    tree_hashes,
    write_rows,
)

PKG = "mini-2020"
ERROR_LINE = re.compile(r"^([^:\n]+):(\d+|-):([^:\n]+): (.+)$")
SUMMARY_LINE = re.compile(r"^(\d+) problem\(s\) found; nothing was published\.$")


# --- mutations: each takes the datasets folder and breaks one file --------------------------------------


def data(ds: Path, name: str) -> Path:
    return ds / PKG / "data" / f"{name}.csv"


def replace_bytes(path: Path, old: bytes, new: bytes) -> None:
    raw = path.read_bytes()
    assert raw.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_bytes(raw.replace(old, new))


def replace_text(path: Path, old: str, new: str) -> None:
    replace_bytes(path, old.encode(), new.encode())


def set_csv_cell(path: Path, row: int, field: str, value: str) -> None:
    """Set one cell; `row` is the spreadsheet row (the header is row 1), as in the error lines."""
    rows = read_rows(path)
    rows[row - 1][rows[0].index(field)] = value
    write_rows(path, rows)


def set_cell(ds: Path, name: str, row: int, field: str, value: str) -> None:
    set_csv_cell(data(ds, name), row, field, value)


def rename_document(ds: Path, doc_id: str) -> None:
    """Every doc_id of the package, in every table, set to doc_id: consistent, but not the folder's name."""
    for path in sorted((ds / PKG / "data").glob("*.csv")):
        rows = read_rows(path)
        if "doc_id" in rows[0]:
            i = rows[0].index("doc_id")
            write_rows(path, [rows[0]] + [r[:i] + [doc_id] + r[i + 1 :] for r in rows[1:]])


def drop_column(ds: Path, name: str, field: str) -> None:
    path = data(ds, name)
    rows = read_rows(path)
    i = rows[0].index(field)
    write_rows(path, [r[:i] + r[i + 1 :] for r in rows])


def add_column(ds: Path, name: str, field: str, value: str) -> None:
    path = data(ds, name)
    rows = read_rows(path)
    write_rows(path, [rows[0] + [field]] + [r + [value] for r in rows[1:]])


def invest_row_4(**cells: str):
    """A mutation: set these cells of the fixture's investments row 4."""
    return lambda ds: [set_cell(ds, "investments", 4, k, v) for k, v in cells.items()]


def drop_row(ds: Path, name: str, row: int) -> None:
    path = data(ds, name)
    rows = read_rows(path)
    del rows[row - 1]
    write_rows(path, rows)


def set_resource(ds: Path, name: str, key: str, value) -> None:
    path = ds / PKG / "datapackage.yaml"
    desc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for res in desc["resources"]:
        if res["name"] == name:
            res[key] = value
    path.write_text(yaml.safe_dump(desc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def drop_resource(ds: Path, name: str) -> None:
    path = ds / PKG / "datapackage.yaml"
    desc = yaml.safe_load(path.read_text(encoding="utf-8"))
    desc["resources"] = [r for r in desc["resources"] if r["name"] != name]
    path.write_text(yaml.safe_dump(desc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_file(rel: str, content: bytes):
    return lambda ds: (ds / rel).write_bytes(content)


def symlink_out(ds: Path) -> None:
    target = data(ds, "measures")
    target.unlink()
    target.symlink_to("/etc/passwd")


@dataclass(frozen=True)
class Case:
    id: str
    mutate: object  # callable(datasets folder)
    file: str  # the file the error line names, relative to the datasets folder
    row: str | None = None  # "2", "-", or None: not checked
    field: str | None = None
    says: str | None = None  # a word the message holds (case-insensitive)


DESC = f"{PKG}/datapackage.yaml"
ERRATA = f"{PKG}/errata.yaml"
IGNORE = f"{PKG}/ignore.yaml"
DOCS = f"{PKG}/data/documents.csv"
REGIONS = f"{PKG}/data/regions.csv"
TARGETS = f"{PKG}/data/targets.csv"
INVEST = f"{PKG}/data/investments.csv"
MEASURES = f"{PKG}/data/measures.csv"

CASES = [
    # encoding and file shape
    Case(
        "invalid-utf8",
        lambda ds: replace_bytes(data(ds, "targets"), "贫困村全部退出".encode(), b"\xff\xfe"),
        TARGETS,
        "3",
        "-",
        "UTF-8",
    ),
    Case(
        "bom",
        lambda ds: data(ds, "targets").write_bytes(b"\xef\xbb\xbf" + data(ds, "targets").read_bytes()),
        TARGETS,
        "1",
        "-",
        "BOM",
    ),
    Case(
        "bom-in-yaml", lambda ds: (ds / ERRATA).write_bytes(b"\xef\xbb\xbf" + (ds / ERRATA).read_bytes()), ERRATA, "1", "-", "BOM"
    ),
    Case("empty-file", write_file(MEASURES, b""), MEASURES, "-", "-", "empty"),
    Case("very-long-line", lambda ds: set_cell(ds, "measures", 3, "notes", "长" * 20_000), MEASURES, "3", "-", "characters long"),
    Case(
        "unclosed-quote",
        lambda ds: replace_text(data(ds, "measures"), ",Village roads,", ',"Village roads,'),
        MEASURES,
        "2",
        None,
    ),
    Case(
        "nul-byte",
        lambda ds: replace_text(data(ds, "measures"), "Village roads", "Village\x00roads"),
        MEASURES,
        "2",
        "-",
        "control",
    ),
    # table shape and types
    Case("missing-column", lambda ds: drop_column(ds, "measures", "unit"), MEASURES, "1", "unit", "value_as_printed"),
    Case("extra-column", lambda ds: add_column(ds, "measures", "comment", "x"), MEASURES, "1", "comment"),
    Case("wrong-type", lambda ds: set_cell(ds, "measures", 2, "value", "三十五"), MEASURES, "2", "value", "type"),
    Case("bad-date", lambda ds: set_cell(ds, "documents", 2, "issue_date", "2018-02-30"), DOCS, "2", "issue_date"),
    Case("bad-enum", lambda ds: set_cell(ds, "measures", 2, "status", "maybe"), MEASURES, "2", "status"),
    Case("missing-required", lambda ds: set_cell(ds, "targets", 2, "indicator_zh", ""), TARGETS, "2", "indicator_zh"),
    Case("year-out-of-range", lambda ds: set_cell(ds, "targets", 2, "target_year", "20200"), TARGETS, "2", "target_year"),
    # keys and references
    Case("duplicate-figure-id", lambda ds: set_cell(ds, "measures", 3, "figure_id", "MA001"), MEASURES, "3", "figure_id"),
    Case("figure-id-wrong-family", lambda ds: set_cell(ds, "measures", 3, "figure_id", "TA009"), MEASURES, "3", "figure_id"),
    Case("unknown-region", lambda ds: set_cell(ds, "measures", 2, "region_id", "990199"), MEASURES, "2", "region_id"),
    Case("unknown-parent-region", lambda ds: set_cell(ds, "regions", 3, "parent_id", "990077"), REGIONS, "3", "parent_id"),
    Case("unknown-document", lambda ds: set_cell(ds, "targets", 2, "doc_id", "other-2020"), TARGETS, "2", "doc_id"),
    Case("doc-id-not-folder", lambda ds: rename_document(ds, "mini-2021"), DOCS, "2", "doc_id"),
    Case(
        "region-parent-cycle", lambda ds: set_cell(ds, "regions", 2, "parent_id", "990101"), REGIONS, "2", "parent_id", "ancestor"
    ),
    Case("unknown-part-of", lambda ds: set_cell(ds, "investments", 3, "part_of", "IB999"), INVEST, "3", "part_of"),
    # provenance and numbers
    Case(
        "not-on-its-line",
        lambda ds: [set_cell(ds, "targets", 2, k, "5") for k in ("line_start", "line_end")],
        TARGETS,
        "2",
        "value_as_printed",
        "not printed",
    ),
    Case(
        "line-past-end",
        lambda ds: [set_cell(ds, "measures", 2, k, "99") for k in ("line_start", "line_end")],
        MEASURES,
        "2",
        "line_end",
    ),
    Case("line-end-before-start", lambda ds: set_cell(ds, "measures", 2, "line_end", "6"), MEASURES, "2", "line_end"),
    Case(
        "wrong-sha256", lambda ds: set_cell(ds, "documents", 2, "source_sha256", "0" * 64), DOCS, "2", "source_sha256", "sha256"
    ),
    Case("missing-source-text", lambda ds: set_cell(ds, "documents", 2, "source_file", "absent.txt"), DOCS, "2", "source_file"),
    Case(
        "source-file-escapes",
        lambda ds: set_cell(ds, "documents", 2, "source_file", "../../../../../../etc/hostname"),
        DOCS,
        "2",
        "source_file",
    ),
    # only a level (a temperature, an altitude) may be negative, whatever the printed form says
    Case("negative-amount", invest_row_4(value="-6000"), INVEST, "4", "value", "only a level"),
    Case(
        "negative-amount-printed", invest_row_4(value="-6000", value_as_printed="-6000万元"), INVEST, "4", "value", "only a level"
    ),
    Case("total-does-not-add-up", lambda ds: drop_row(ds, "investments", 4), INVEST, "2", "value", "computed"),
    Case(
        "wrong-value-conversion",
        lambda ds: set_cell(ds, "investments", 2, "value", "1500"),
        INVEST,
        "2",
        "value",
        "expected 15000",
    ),
    Case(
        "unknown-unit-conversion",
        lambda ds: set_cell(ds, "investments", 2, "printed_unit", "亿美元"),
        INVEST,
        "2",
        "printed_unit",
        "no conversion",
    ),
    Case("value-not-a-number", lambda ds: set_cell(ds, "measures", 2, "value", "NaN"), MEASURES, "2", "value", "finite"),
    Case(
        "non-canonical-unit",
        lambda ds: [set_cell(ds, "investments", 2, k, v) for k, v in (("unit", "亿元"), ("value", "1.5"))],
        INVEST,
        "2",
        "unit",
        "canonical",
    ),
    # YAML
    Case("broken-yaml-descriptor", lambda ds: replace_text(ds / DESC, "resources:\n", "resources: [\n"), DESC, None, "-", "YAML"),
    Case("broken-yaml-errata", write_file(ERRATA, b"- id: x\n  check: [manual\n"), ERRATA, None, "-", "YAML"),
    Case("yaml-python-tag", write_file(ERRATA, b"- !!python/object/apply:os.system ['true']\n"), ERRATA, None, "-", "YAML"),
    Case("errata-not-a-list", write_file(ERRATA, b"id: x\ncheck: manual\n"), ERRATA, "-", "-", "list"),
    Case(
        "erratum-unknown-figure",
        write_file(
            ERRATA,
            "- {id: e1, check: manual, figure_id: MA999, lines: '7', printed: '1', computed: '2', "
            "description_zh: 测试, description_en: test}\n".encode(),
        ),
        ERRATA,
        "-",
        "0/figure_id",
        "unknown figure",
    ),
    Case(
        "erratum-figure-id-is-a-list",
        write_file(
            ERRATA,
            "- {id: e1, check: ratio, figure_id: [MA001], lines: '7', printed: '1', "
            "computed: '2', description_zh: 测试, description_en: test}\n".encode(),
        ),
        ERRATA,
        "-",
        "0",
        "must be text",
    ),
    Case(
        "ignore-pattern-is-a-list", write_file(IGNORE, b"- {lines: 1-7, pattern: [a], reason: year}\n"), IGNORE, "-", "0/pattern"
    ),
    Case(
        "ignore-bad-regex", write_file(IGNORE, b"- {lines: 1-7, pattern: '(unclosed', reason: year}\n"), IGNORE, "-", "0/pattern"
    ),
    # resource paths and descriptor
    Case("missing-resource-file", lambda ds: data(ds, "measures").unlink(), DESC, "-", "resources/4/path", "does not exist"),
    Case(
        "path-escapes-package",
        lambda ds: set_resource(ds, "measures", "path", "../../etc/passwd"),
        DESC,
        "-",
        "resources/4/path",
        "escapes",
    ),
    Case(
        "absolute-path", lambda ds: set_resource(ds, "measures", "path", "/etc/passwd"), DESC, "-", "resources/4/path", "absolute"
    ),
    Case(
        "url-path",
        lambda ds: set_resource(ds, "measures", "path", "https://example.org/measures.csv"),
        DESC,
        "-",
        "resources/4/path",
        "remote",
    ),
    Case("symlink-escapes-package", symlink_out, DESC, "-", "resources/4/path", "escapes"),
    Case(
        "foreign-schema",
        lambda ds: set_resource(ds, "measures", "schema", "https://example.org/evil.schema.yaml"),
        DESC,
        "-",
        "resources/4/schema",
    ),
    Case("resource-name-is-a-list", lambda ds: set_resource(ds, "measures", "name", ["measures"]), DESC, "-", "resources/4/name"),
    Case("unknown-resource", lambda ds: set_resource(ds, "measures", "name", "secrets"), DESC, "-", "resources/4/name"),
    Case(
        "duplicate-resource", lambda ds: set_resource(ds, "documents", "name", "targets"), DESC, "-", "resources/2/name", "twice"
    ),
    Case("no-documents-resource", lambda ds: drop_resource(ds, "documents"), DESC, "-", "resources", "no 'documents' resource"),
]


@pytest.fixture(scope="module")
def good_site(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The mini fixture built once: the last good site every failed build must leave as it was."""
    tmp = tmp_path_factory.mktemp("mini-good")
    out = tmp / "site"
    proc = build_isolated(tmp / "work", "--datasets", str(mini_datasets(tmp)), "--sources", str(MINI_SOURCES), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, tree_hashes(out)


def main_in_process(argv: list[str], work: Path) -> tuple[int, str]:
    """cli.main, the function behind `python -m build_scripts`, run here: importing the pipeline once
    instead of once per case keeps the table fast. Returns the exit code and everything printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CI", "true")
        mp.delenv("PORTAL_SOURCES", raising=False)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main_with_work(argv, work)
            except BaseException:  # noqa: BLE001 - what escapes main would be a traceback for the user
                traceback.print_exc()
                code = -1
    return code, stdout.getvalue() + stderr.getvalue()


def refused(case: Case, tmp: Path, good: Path, in_process: bool) -> tuple[int, str, Path, Path]:
    ds = mini_datasets(tmp)
    case.mutate(ds)
    out = tmp / "published" / "site"
    shutil.copytree(good, out, symlinks=True)
    argv = ["build", "--datasets", str(ds), "--sources", str(MINI_SOURCES), "--out", str(out)]
    if in_process:
        code, output = main_in_process(argv, tmp / "work")
    else:
        proc = run_portal(*argv, timeout=300)
        code, output = proc.returncode, proc.stdout + proc.stderr
    return code, output, ds, out


def check_refusal(case: Case, code: int, output: str, ds: Path, out: Path, good_hashes: dict) -> None:
    assert "Traceback" not in output, output
    assert code == 1, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    summary = SUMMARY_LINE.match(lines[-1]) if lines else None
    assert summary, output
    errors = lines[:-1]
    assert len(errors) == int(summary.group(1)) >= 1, output
    bad = [ln for ln in errors if not ERROR_LINE.match(ln)]
    assert not bad, f"not FILE:ROW:FIELD: message lines: {bad}"
    expected = ds / case.file
    hits = []
    for ln in errors:
        file, row, field, message = ERROR_LINE.match(ln).groups()
        if Path(file) != expected:
            continue
        if case.row is not None and row != case.row:
            continue
        if case.field is not None and field != case.field:
            continue
        if case.says is not None and case.says.lower() not in message.lower():
            continue
        hits.append(ln)
    assert hits, f"no error names {case.file}:{case.row or '*'}:{case.field or '*'} ({case.says or ''}):\n{output}"
    # the last good site is untouched, and the failed build left nothing beside it
    assert tree_hashes(out) == good_hashes
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]


def test_enough_cases():
    assert len({c.id for c in CASES}) == len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_is_refused(case: Case, tmp_path, good_site):
    code, output, ds, out = refused(case, tmp_path, good_site[0], in_process=True)
    check_refusal(case, code, output, ds, out, good_site[1])


SUBPROCESS_CASES = ("invalid-utf8", "wrong-type", "path-escapes-package", "broken-yaml-descriptor")


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SUBPROCESS_CASES], ids=SUBPROCESS_CASES)
def test_malformed_input_is_refused_by_the_command(case: Case, tmp_path, good_site):
    """A few cases again as a user runs them, `python -m build_scripts build`, in its own process."""
    code, output, ds, out = refused(case, tmp_path, good_site[0], in_process=False)
    check_refusal(case, code, output, ds, out, good_site[1])


def off_its_line(ds: Path, sources: Path, pkg: str) -> None:
    """The package's first target moved to a line of its source that does not print the value."""
    path = ds / pkg / "data" / "targets.csv"
    rows = read_rows(path)
    printed = rows[1][rows[0].index("value_as_printed")]
    docs = read_rows(ds / pkg / "data" / "documents.csv")
    lines = (sources / docs[1][docs[0].index("source_file")]).read_text(encoding="utf-8").split("\n")
    n = next(i for i, line in enumerate(lines, 1) if printed not in line)
    set_csv_cell(path, 2, "line_start", str(n))
    set_csv_cell(path, 2, "line_end", str(n))


def another_sha256(ds: Path, pkg: str) -> None:
    path = ds / pkg / "data" / "documents.csv"
    rows = read_rows(path)
    sha = rows[1][rows[0].index("source_sha256")]
    set_csv_cell(path, 2, "source_sha256", sha[:-1] + ("0" if sha[-1] != "0" else "1"))


def test_malformed_real_corpus(tmp_path, sources):
    """The real corpus, provenance verified: a figure moved off its line (gonghe-2018) and a source text
    that changed (xinping-2018), both reported by one build."""
    ds = copy_datasets(tmp_path)
    off_its_line(ds, sources, "gonghe-2018")
    another_sha256(ds, "xinping-2018")
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("last good site", encoding="utf-8")
    before = tree_hashes(out)
    proc = run_portal("build", "--datasets", str(ds), "--sources", str(sources), "--out", str(out))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in output, output
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()][:-1]
    assert errors and all(ERROR_LINE.match(ln) for ln in errors), output
    assert f"{ds / 'gonghe-2018/data/targets.csv'}:2:value_as_printed:" in output, output
    assert f"{ds / 'xinping-2018/data/documents.csv'}:2:source_sha256:" in output, output
    assert tree_hashes(out) == before
