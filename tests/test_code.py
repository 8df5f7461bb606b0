"""The code itself: ruff's lint and format (the configuration in pyproject.toml) pass on the repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT


def ruff() -> list[str]:
    """The ruff installed beside this Python (.[test] pins it), else one on PATH."""
    here = Path(sys.executable).parent / "ruff"
    if here.exists():
        return [str(here)]
    found = shutil.which("ruff")
    if not found:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    return [found]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(args):
    proc = subprocess.run([*ruff(), *args, "."], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"ruff {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"


def test_pre_commit_runs_the_pinned_ruff_check_and_format():
    """The commit hooks run both ruff commands, with the ruff version that .[test] pins (the one of this test)."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    repo = next(r for r in config["repos"] if r["repo"].endswith("/ruff-pre-commit"))
    assert {"ruff-check", "ruff-format"} <= {h["id"] for h in repo["hooks"]}
    pinned = re.search(r'"ruff==([0-9.]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8")).group(1)
    assert repo["rev"] == f"v{pinned}", f"pre-commit runs ruff {repo['rev']}, .[test] pins {pinned}"


def run_pytest_with_conftest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """pytest on one test file in tmp_path, with tests/conftest.py loaded as a plugin (its skip rule)."""
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / "a.txt").write_text("a source text\n", encoding="utf-8")
    full_env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_NO_SKIPS", "PORTAL_SOURCES")}
    full_env.update({"PYTHONPATH": str(ROOT / "tests"), "PORTAL_SOURCES": str(sources), **env})
    args = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path)]
    return subprocess.run([*args, "-c", os.devnull, "test_one.py"], cwd=tmp_path, env=full_env, capture_output=True, text=True)


def test_an_undeclared_skip_fails_the_ci_run(tmp_path):
    (tmp_path / "test_one.py").write_text("import pytest\n\n\ndef test_skips():\n    pytest.skip('because')\n", encoding="utf-8")
    proc = run_pytest_with_conftest(tmp_path, PORTAL_NO_SKIPS="1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "undeclared skips" in proc.stdout and "test_one.py::test_skips: Skipped: because" in proc.stdout, proc.stdout
    proc = run_pytest_with_conftest(tmp_path)  # outside CI a skip is a skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_declared_skip_patterns_match_parametrized_ids(monkeypatch):
    import conftest
    from conftest import declared

    monkeypatch.setitem(conftest.DECLARED_SKIPS, "tests/test_x.py::test_y[*]", "a parametrized test may skip")
    assert declared("tests/test_x.py::test_y[xinping-2018-investments]")
    assert declared("tests/test_integrity.py::test_two_clean_builds_are_byte_identical")
    assert not declared("tests/test_site.py::test_every_page_kind_is_built")
