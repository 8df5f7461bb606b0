"""Shared fixtures: the source texts, a CLI runner, and the real site built once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def find_sources() -> Path | None:
    env = os.environ.get("PORTAL_SOURCES")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "seeds"]:
        if cand.is_dir() and any(cand.glob("*.txt")):
            return cand.resolve()
    return None


SOURCES = find_sources()


@pytest.fixture(scope="session")
def sources() -> Path:
    if SOURCES is None:
        pytest.skip("source texts not found (set PORTAL_SOURCES or put them at ../shared/seeds)")
    return SOURCES


def run_portal(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `python -m build_scripts ARGS` as a user would; returns the completed process (text)."""
    full_env = {k: v for k, v in os.environ.items() if k != "PORTAL_SOURCES"}  # tests pass --sources explicitly
    full_env.update({"CI": "true", "NO_MKDOCS_2_WARNING": "1", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "build_scripts", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def portal():
    return run_portal


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, sources) -> Path:
    """The real corpus built once, provenance verified, into a temporary folder."""
    out = tmp_path_factory.mktemp("site") / "site"
    proc = run_portal("build", "--sources", str(sources), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def copy_datasets(dest: Path) -> Path:
    """A writable copy of the real datasets folder, for tests that break it."""
    target = dest / "datasets"
    shutil.copytree(ROOT / "datasets", target)
    return target


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One Debian chromium for the whole session: Playwright's sync API allows one driver per process."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium fonts-noto-cjk)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright python package is not installed (.[test])")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
