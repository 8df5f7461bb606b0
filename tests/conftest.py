"""Shared fixtures: the corpus the site tests read (the real one, or the invented fixture), the site
built from it once per session, one chromium, and the rule that CI may skip only declared tests.

With the real source texts (PORTAL_SOURCES, or ../shared/seeds beside the checkout) the site, download,
browser, integrity and link tests run on the real corpus. Without them they run on the fixture package
tests/fixtures/mini/ (an invented source text in tests/fixtures/mini-sources/, every family and page
kind), so a checkout without the texts, such as the public GitHub workflow, still tests the site; only
tests that need the real texts themselves skip, saying so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import MINI, MINI_SOURCES, ROOT, mini_datasets, public_path, run_portal, serve_folder, site_handler

NO_SOURCES = "the real source texts are missing: set PORTAL_SOURCES or put them at ../shared/seeds"


def find_sources() -> Path | None:
    env = os.environ.get("PORTAL_SOURCES")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "seeds"]:
        if cand.is_dir() and any(cand.glob("*.txt")):
            return cand.resolve()
    return None


SOURCES = find_sources()


@dataclass(frozen=True)
class Corpus:
    """What the site tests build and read: its packages, its source texts, and the pages a browser visits."""

    name: str  # "real" or "fixture"
    packages: Path  # the folder holding the package folders (read by the tests for expected values)
    sources: Path
    document: str  # a document with every kind of page: its id
    region: str  # its region's id
    chart_dataset: str  # a dataset page with charts and every download

    @property
    def is_real(self) -> bool:
        return self.name == "real"

    def datasets(self, tmp: Path) -> Path:
        """A datasets folder to build from (the fixture's is assembled with the shared schemas in tmp)."""
        return self.packages if self.is_real else mini_datasets(tmp)

    def package_dirs(self) -> list[Path]:
        return sorted(p.parent for p in self.packages.glob("*/datapackage.yaml"))


REAL = Corpus("real", ROOT / "datasets", SOURCES, "gonghe-2018", "632521", "gonghe-2018-investments") if SOURCES else None
FIXTURE = Corpus("fixture", MINI, MINI_SOURCES, "mini-2020", "990101", "mini-2020-investments")
CORPUS = REAL or FIXTURE  # the corpus of the site tests


@pytest.fixture(scope="session")
def sources() -> Path:
    """The real source texts; tests that need them skip without them."""
    if SOURCES is None:
        pytest.skip(NO_SOURCES)
    return SOURCES


@pytest.fixture(scope="session")
def validators() -> Path:
    """The validators other software uses (../shared/validators or PORTAL_VALIDATORS); tests skip without them."""
    from test_catalogs import NO_VALIDATORS, find_validators

    found = find_validators()
    if found is None:
        pytest.skip(NO_VALIDATORS)
    return found


@pytest.fixture(scope="session")
def portal():
    return run_portal


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The corpus (real when its source texts are here, else the fixture) built once, provenance verified."""
    tmp = tmp_path_factory.mktemp("site")
    out = tmp / "site"
    proc = run_portal("build", "--datasets", str(CORPUS.datasets(tmp)), "--sources", str(CORPUS.sources), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="session")
def site_url(built_site):
    """The built site served by a threaded http.server on 127.0.0.1 (random free port), under the
    path of its public address; yields the site's local address, e.g. http://127.0.0.1:PORT/poverty-plans/."""
    prefix = public_path(built_site)
    with serve_folder(site_handler(prefix), built_site, "site-server") as port:
        yield f"http://127.0.0.1:{port}{prefix}"


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


# --- markers ------------------------------------------------------------------------------------------------
# A test that needs a whole built site is `slow`, marked here from the fixtures it uses (others are marked
# where they are defined); `browser` tests are marked in their files. `make test` runs them all.
SITE_FIXTURES = {"built_site", "site_url", "hostile", "good_site", "bench"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SITE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# --- no silent skips in CI ----------------------------------------------------------------------------------
# With the real source texts and PORTAL_NO_SKIPS=1 (.ci/run sets both), a skipped test fails the run unless
# it is declared here: node id, or a pattern of node ids where `*` is any text (brackets are literal, as
# in parametrized ids) -> why it may skip.
DECLARED_SKIPS: dict[str, str] = {
    "tests/test_integrity.py::test_two_clean_builds*": "a commit landed in the checkout between the two builds",
}


def declared(nodeid: str) -> bool:
    return any(re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), nodeid) for pattern in DECLARED_SKIPS)


def enforcing_no_skips() -> bool:
    return SOURCES is not None and bool(os.environ.get("PORTAL_SOURCES")) and os.environ.get("PORTAL_NO_SKIPS") == "1"


_undeclared: list[str] = []


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail") and not declared(report.nodeid):
        _undeclared.append(f"{report.nodeid}: {_skip_reason(report)}")


def pytest_collectreport(report):
    if report.skipped and not declared(report.nodeid):
        _undeclared.append(f"{report.nodeid} (whole module): {_skip_reason(report)}")


def pytest_sessionfinish(session, exitstatus):
    if enforcing_no_skips() and _undeclared and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if enforcing_no_skips() and _undeclared:
        terminalreporter.section("undeclared skips (PORTAL_NO_SKIPS=1)", red=True)
        terminalreporter.line(
            f"{len(_undeclared)} test(s) skipped with the real source texts present; fix them or declare them in "
            "DECLARED_SKIPS (tests/conftest.py) with a reason:",
            red=True,
        )
        for line in _undeclared:
            terminalreporter.line(f"  {line}")
