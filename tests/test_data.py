"""The real packages: they validate, every figure stands on its source line, and the checks bite."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE, ROOT
from helpers import copy_datasets, read_csv, write_csv

ERROR_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<row>\d+|-):(?P<field>[^:\n]+): (?P<msg>.+)$", re.M)
FIGURE_FILES = sorted(p for p in (ROOT / "datasets").glob("*/data/*.csv") if p.stem not in ("documents", "regions", "plans"))
PACKAGES = sorted(p.parent.name for p in (ROOT / "datasets").glob("*/datapackage.yaml"))


def source_lines(sources: Path, pkg: Path) -> list[str]:
    doc = read_csv(pkg / "data" / "documents.csv")[0]
    return (sources / doc["source_file"]).read_text(encoding="utf-8").split("\n")


def test_all_packages_validate_with_provenance(portal, sources):
    proc = portal("validate", "--sources", str(sources))
    assert proc.returncode == 0, proc.stderr
    # the counts it reports are those of the files: packages on disk, rows of the figure tables
    figures = sum(len(read_csv(p)) for p in FIGURE_FILES)
    assert f"{len(PACKAGES)} data package(s), {figures} figures" in proc.stdout
    assert "provenance verified" in proc.stdout


def test_without_sources_validation_says_provenance_was_not_verified(portal):
    proc = portal("validate")
    assert proc.returncode == 0, proc.stderr
    assert "provenance NOT verified" in proc.stdout


def test_every_printed_number_is_covered_or_explained(portal, sources):
    proc = portal("coverage", "--sources", str(sources))
    assert proc.returncode == 0, proc.stdout
    summaries = [line for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert all(line.endswith(" 0 uncovered number(s)") for line in summaries), proc.stdout
    assert sorted(line.split(":")[0] for line in summaries) == PACKAGES


def test_source_checksums_match_documents_table(sources):
    for pkg in sorted((ROOT / "datasets").glob("*/datapackage.yaml")):
        doc = read_csv(pkg.parent / "data" / "documents.csv")[0]
        assert hashlib.sha256((sources / doc["source_file"]).read_bytes()).hexdigest() == doc["source_sha256"]


@pytest.mark.parametrize("path", FIGURE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_every_value_as_printed_stands_on_its_lines(path, sources):
    """An independent re-reading of the source (plain substring search, not the pipeline's check)."""
    lines = source_lines(sources, path.parent.parent)
    for row in read_csv(path):
        text = "\n".join(lines[int(row["line_start"]) - 1 : int(row["line_end"])])
        assert row["value_as_printed"] in text, (path.name, row["figure_id"], row["value_as_printed"], row["line_start"])


def test_the_portal_holds_the_order_of_1300_figures():
    """A floor, not the count: a change that loses a package's rows (not a reader's count) fails here."""
    total = sum(len(read_csv(p)) for p in FIGURE_FILES)
    assert total >= 1200


def test_money_is_stored_in_wan_yuan_only():
    """Amounts of money are in 万元; a rate keeps its printed numerator (50 元/人/月 is never 0.005 万元)."""
    for path in FIGURE_FILES:
        for row in read_csv(path):
            assert row["unit"] not in ("元", "亿元", "千元"), (path, row["figure_id"])
            if row["basis"] == "rate":
                assert row["unit"].split("/")[0] == row["printed_unit"], (path, row["figure_id"])


def test_gonghe_investment_total_against_the_source(sources):
    """表4-1's printed total, read from the source text itself, is the package's 69090 万元."""
    pkg = ROOT / "datasets" / "gonghe-2018"
    lines = source_lines(sources, pkg)
    start = next(i for i, line in enumerate(lines) if line.startswith("表4-1"))
    printed_total = next(line.strip() for line in lines[start : start + 10] if re.fullmatch(r"\s*\d+\.\d+\s*", line))
    rows = [
        r
        for r in read_csv(pkg / "data" / "investments.csv")
        if r["breakdown"] == "by_category" and r["is_total"] == "true" and r["basis"] == "amount"
    ]
    assert float(rows[0]["value"]) == pytest.approx(float(printed_total) * 10000)
    parts = [r for r in read_csv(pkg / "data" / "investments.csv") if rows[0]["figure_id"] in r["part_of"].split()]
    assert sum(float(p["value"]) for p in parts) == pytest.approx(float(rows[0]["value"]), abs=5)


def test_known_source_errors_are_recorded_as_errata():
    errata = yaml.safe_load((ROOT / "datasets" / "gonghe-2018" / "errata.yaml").read_text(encoding="utf-8"))
    printed = {str(e["printed"]) for e in errata}
    assert {"6.909", "56.03%"} <= printed | {p.rstrip("%") + "%" for p in printed}


def mutate(path: Path, figure_id: str, **changes) -> int:
    rows = read_csv(path)
    for n, row in enumerate(rows, 2):
        if row["figure_id"] == figure_id:
            row.update(changes)
            break
    write_csv(path, rows, list(rows[0]))
    return n


def first_row(path: Path, pred) -> dict:
    return next(r for r in read_csv(path) if pred(r))


@pytest.mark.parametrize("case", ["changed-value", "wrong-line", "broken-total", "unknown-region"])
def test_checks_bite_with_file_row_field(tmp_path, portal, sources, case):
    ds = copy_datasets(tmp_path)
    inv = ds / "gonghe-2018" / "data" / "investments.csv"
    part = first_row(inv, lambda r: r["part_of"] and r["basis"] == "amount" and r["breakdown"] == "by_category")
    if case == "changed-value":
        n = mutate(inv, part["figure_id"], value=str(float(part["value"]) + 1))
        field = "value"
    elif case == "wrong-line":
        n = mutate(inv, part["figure_id"], line_start=str(int(part["line_start"]) + 2), line_end=str(int(part["line_end"]) + 2))
        field = "value_as_printed"
    elif case == "broken-total":
        # a part that no longer adds up: the printed value and its conversion move together
        new = f"{float(part['value_as_printed']) + 0.1:.3f}"
        n = mutate(inv, part["figure_id"], value_as_printed=new, value=str(round(float(new) * 10000, 6)))
        field = "value"
    else:
        n = mutate(inv, part["figure_id"], region_id="632521-nowhere")
        field = "region_id"
    proc = portal("validate", "--datasets", str(ds), "--sources", str(sources))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [m.groupdict() for m in ERROR_LINE.finditer(proc.stderr)]
    assert errors, proc.stderr
    if case == "broken-total":
        total = next(r for r in read_csv(inv) if r["figure_id"] == part["part_of"].split()[0])
        total_row = [i for i, r in enumerate(read_csv(inv), 2) if r["figure_id"] == total["figure_id"]][0]
        assert any(
            e["file"].endswith("gonghe-2018/data/investments.csv") and e["row"] == str(total_row) and e["field"] == field
            for e in errors
        ), proc.stderr
    else:
        assert any(
            e["file"].endswith("gonghe-2018/data/investments.csv") and e["row"] == str(n) and e["field"] == field for e in errors
        ), proc.stderr


def test_the_fixture_package_validates_and_every_printed_number_is_covered(portal, tmp_path):
    """The invented package the site tests use without the real texts obeys the same rules, provenance verified."""
    ds = FIXTURE.datasets(tmp_path)
    proc = portal("validate", "--datasets", str(ds), "--sources", str(FIXTURE.sources))
    figures = sum(
        len(read_csv(p)) for p in FIXTURE.packages.glob("*/data/*.csv") if p.stem not in ("documents", "regions", "plans")
    )
    assert proc.returncode == 0 and f"1 data package(s), {figures} figures" in proc.stdout, proc.stdout + proc.stderr
    assert "provenance verified" in proc.stdout
    proc = portal("coverage", "--datasets", str(ds), "--sources", str(FIXTURE.sources))
    assert proc.returncode == 0 and proc.stdout.strip().endswith(" 0 uncovered number(s)"), proc.stdout + proc.stderr
