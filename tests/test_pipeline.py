"""The pipeline end to end on a small package, the CLI's contract, and the declared settings."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from dataclasses import fields

import pytest
import yaml
from conftest import ROOT

from build_scripts import cli
from build_scripts.settings import Settings


def small_datasets(tmp_path):
    ds = tmp_path / "datasets"
    shutil.copytree(ROOT / "datasets" / "schemas", ds / "schemas")
    shutil.copytree(ROOT / "datasets" / "xinping-2018", ds / "xinping-2018")
    return ds


@pytest.mark.slow
def test_build_small_package_end_to_end(tmp_path, portal, sources):
    ds = small_datasets(tmp_path)
    out = tmp_path / "site"
    proc = portal("build", "--datasets", str(ds), "--sources", str(sources), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for page in (
        "index.html",
        "catalog/index.html",
        "documents/xinping-2018/index.html",
        "regions/530427/index.html",
        "datasets/xinping-2018-investments/index.html",
        "quality/index.html",
        "downloads/index.html",
        "data.json",
        "api/datasets.json",
        "feed.xml",
        "sitemap.xml",
        "search/search_index.json",
    ):
        assert (out / page).is_file(), page
    # every stage left its mark: a chart, a download, a catalog entry
    assert list((out / "charts").glob("*.svg"))
    assert (out / "downloads" / "xinping-2018-investments" / "xinping-2018-investments.csv").is_file()
    api = json.loads((out / "api" / "datasets.json").read_text(encoding="utf-8"))
    assert {d["id"] for d in api["datasets"]} >= {"xinping-2018-investments", "xinping-2018-measures"}
    # no leftovers of the atomic swap beside the output
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_failed_build_keeps_last_good_site(tmp_path, portal, sources):
    ds = small_datasets(tmp_path)
    out = tmp_path / "site"
    assert portal("build", "--datasets", str(ds), "--sources", str(sources), "--out", str(out)).returncode == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    csv_path = ds / "xinping-2018" / "data" / "targets.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    value_col = lines[0].split(",").index("value")
    cells[value_col] = "not-a-number"
    lines[1] = ",".join(cells)
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = portal("build", "--datasets", str(ds), "--sources", str(sources), "--out", str(out))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "xinping-2018/data/targets.csv:2:value:" in proc.stderr
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
    search = next(p["search"] for p in cfg["plugins"] if isinstance(p, dict) and "search" in p)
    assert search["lang"] == "zh"
    assert "navigation.prune" in cfg["theme"]["features"]


def test_generated_pages_are_not_committed():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert "site/" in ignored and ".build/" in ignored


def test_check_extract_checks_a_workspace_without_descriptor(tmp_path, portal, sources):
    """The extraction loop: one document's CSVs and lists in a folder, checked before they become a package."""
    pkg = ROOT / "datasets" / "xinping-2018"
    ws = tmp_path / "ws"
    ws.mkdir()
    for f in (pkg / "data").glob("*.csv"):
        if f.name != "documents.csv":
            shutil.copy(f, ws / f.name)
    for f in ("ignore.yaml", "errata.yaml"):
        shutil.copy(pkg / f, ws / f)
    source = sources / "003_3c24fdc0372bba72.txt"
    proc = portal("check-extract", "--workspace", str(ws), "--doc", "xinping-2018", "--source", str(source))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 uncovered number(s)" in proc.stdout
    (ws / "ignore.yaml").write_text("[]\n", encoding="utf-8")
    proc = portal("check-extract", "--workspace", str(ws), "--doc", "xinping-2018", "--source", str(source))
    assert proc.returncode == 1 and "uncovered: line 1:" in proc.stdout
