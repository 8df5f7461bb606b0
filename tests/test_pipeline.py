"""The pipeline end to end on a small package of the corpus (real, or the fixture), the CLI's contract, and the
declared settings."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from dataclasses import fields

import pytest
import yaml
from conftest import CORPUS, ROOT
from helpers import SCHEMAS, read_csv

from build_scripts import cli
from build_scripts.settings import Settings

# one small package of the corpus, with its source texts: the real xinping-2018, or the fixture's mini-2020
SMALL = "xinping-2018" if CORPUS.is_real else "mini-2020"


def small_datasets(tmp_path):
    ds = tmp_path / "datasets"
    shutil.copytree(SCHEMAS, ds / "schemas")
    shutil.copytree(CORPUS.packages / SMALL, ds / SMALL)
    return ds


def small_region() -> str:
    return read_csv(CORPUS.packages / SMALL / "data" / "documents.csv")[0]["region_id"]


@pytest.mark.slow
def test_build_small_package_end_to_end(tmp_path, portal):
    ds = small_datasets(tmp_path)
    out = tmp_path / "site"
    proc = portal("build", "--datasets", str(ds), "--sources", str(CORPUS.sources), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for page in (
        "index.html",
        "catalog/index.html",
        f"documents/{SMALL}/index.html",
        f"regions/{small_region()}/index.html",
        f"datasets/{SMALL}-investments/index.html",
        "quality/index.html",
        "downloads/index.html",
        "data.json",
        "api/datasets.json",
        "feed.xml",
        "sitemap.xml",
        "search/index.html",
        "pagefind/pagefind-entry.json",
        "pagefind/pagefind-ui.js",
    ):
        assert (out / page).is_file(), page
    # every stage left its mark: a chart, a download, a catalog entry
    assert list((out / "charts").glob("*.svg"))
    assert (out / "downloads" / f"{SMALL}-investments" / f"{SMALL}-investments.csv").is_file()
    api = json.loads((out / "api" / "datasets.json").read_text(encoding="utf-8"))
    assert {d["id"] for d in api["datasets"]} >= {f"{SMALL}-investments", f"{SMALL}-measures"}
    # no leftovers of the atomic swap beside the output
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_failed_build_keeps_last_good_site(tmp_path, portal):
    ds = small_datasets(tmp_path)
    out = tmp_path / "site"
    sources = CORPUS.sources
    assert portal("build", "--datasets", str(ds), "--sources", str(sources), "--out", str(out)).returncode == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    csv_path = ds / SMALL / "data" / "targets.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    value_col = lines[0].split(",").index("value")
    cells[value_col] = "not-a-number"
    lines[1] = ",".join(cells)
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = portal("build", "--datasets", str(ds), "--sources", str(sources), "--out", str(out))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{SMALL}/data/targets.csv:2:value:" in proc.stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_usage_error_exits_2(portal):
    proc = portal("build", "--no-such-option")
    assert proc.returncode == 2
    proc = portal("coverage")  # needs --sources
    assert proc.returncode == 2 and "--sources" in proc.stderr


def test_missing_datasets_folder_is_one_clear_line(tmp_path, portal):
    proc = portal("validate", "--datasets", str(tmp_path / "nope"))
    assert proc.returncode == 1
    assert "datasets folder does not exist" in proc.stderr and "Traceback" not in proc.stderr


def readme_section(title: str) -> str:
    """The text of README.md's section `## title`, up to the next `## ` heading."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n## {title}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def test_readme_command_table_is_the_cli():
    """Every subcommand of `portal` has a row `portal NAME ...` in README's command table, and every row a subcommand."""
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    rows = re.findall(r"^\| `portal ([a-z][a-z-]*)\b", readme_section("The `portal` command"), re.M)
    assert len(rows) == len(set(rows)), f"a subcommand has two rows: {rows}"
    assert sorted(rows) == sorted(sub.choices), f"README rows {sorted(rows)} != subcommands {sorted(sub.choices)}"


def test_readme_settings_table_is_the_settings():
    """README's settings table has one row per field of Settings, and no other; every field has help text."""
    rows = re.findall(r"^\| `([a-z_]+)` \|", readme_section("Settings"), re.M)
    names = [f.name for f in fields(Settings)]
    assert sorted(rows) == sorted(names), f"README rows {sorted(rows)} != Settings fields {sorted(names)}"
    for f in fields(Settings):
        assert f.metadata.get("help"), f"setting {f.name} has no help text"


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```")[1].strip().splitlines()
    commands = [line.split("#")[0].strip() for line in block[1:] if line.strip()]
    assert commands == ["make site", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_mkdocs_config_is_offline_and_chinese():
    cfg = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.Loader)  # has a !!python tag
    assert cfg["theme"]["font"] is False
    assert cfg["theme"]["language"] == "zh"
    assert cfg["plugins"] == []  # no Material search (MkDocs' default): Pagefind indexes the built site
    assert "navigation.prune" in cfg["theme"]["features"]


def test_generated_pages_are_not_committed():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert "site/" in ignored and ".build/" in ignored


def test_check_extract_checks_a_workspace_without_descriptor(tmp_path, portal):
    """The extraction loop: one document's CSVs and lists in a folder, checked before they become a package."""
    pkg = CORPUS.packages / SMALL
    ws = tmp_path / "ws"
    ws.mkdir()
    for f in (pkg / "data").glob("*.csv"):
        if f.name != "documents.csv":
            shutil.copy(f, ws / f.name)
    for f in ("ignore.yaml", "errata.yaml"):
        shutil.copy(pkg / f, ws / f)
    source = CORPUS.sources / read_csv(pkg / "data" / "documents.csv")[0]["source_file"]
    proc = portal("check-extract", "--workspace", str(ws), "--doc", SMALL, "--source", str(source))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 uncovered number(s)" in proc.stdout
    (ws / "ignore.yaml").write_text("[]\n", encoding="utf-8")
    proc = portal("check-extract", "--workspace", str(ws), "--doc", SMALL, "--source", str(source))
    assert proc.returncode == 1 and "uncovered: line " in proc.stdout
