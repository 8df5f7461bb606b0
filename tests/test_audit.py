"""`portal audit` and the Node tools it runs: the pinned packages are installed once per lock file, the
local server answers as GitHub Pages does, and a real Lighthouse run on the fixture site prints the
scores of its report.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import helpers
import pytest
from conftest import CHROMIUM
from helpers import MINI_SOURCES, ROOT, mini_datasets, portal_env

from build_scripts.errors import UsageError
from build_scripts.settings import Settings
from build_scripts.tools import audit, npm

# --- npm.ensure ---------------------------------------------------------------------------------------------


class FakeNpm:
    """Stands in for `npm ci`: records each call and creates node_modules as npm would."""

    def __init__(self):
        self.calls: list[Path] = []

    def __call__(self, cmd, cwd, **kwargs):
        assert cmd[1] == "ci", cmd
        self.calls.append(Path(cwd))
        (Path(cwd) / "node_modules" / "axe-core").mkdir(parents=True, exist_ok=True)
        (Path(cwd) / "node_modules" / "axe-core" / "axe.min.js").write_text("/* axe */", encoding="utf-8")
        return subprocess.CompletedProcess(cmd, 0, "", "")


@pytest.fixture
def fake_npm(tmp_path, monkeypatch):
    package = tmp_path / "package"
    shutil.copytree(npm.PACKAGE, package)
    fake = FakeNpm()
    monkeypatch.setattr(npm, "PACKAGE", package)
    monkeypatch.setattr(npm.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(npm.subprocess, "run", fake)
    return fake, package, replace(Settings(), work=tmp_path / "work")


def test_npm_installs_once_per_lock_file(fake_npm):
    fake, package, settings = fake_npm
    modules = npm.ensure(settings)
    assert modules == settings.work / "npm" / "node_modules" and modules.is_dir()
    assert (modules.parent / "package-lock.json").read_bytes() == (package / "package-lock.json").read_bytes()
    assert npm.package_file(settings, "axe-core/axe.min.js").is_file()
    assert len(fake.calls) == 1, "a second ensure with the same lock file must not install again"
    lock = package / "package-lock.json"
    lock.write_text(lock.read_text(encoding="utf-8").replace('"version": "0.0.0"', '"version": "0.0.1"', 1), encoding="utf-8")
    npm.ensure(settings)
    assert len(fake.calls) == 2, "a changed lock file must be installed"


def test_npm_failure_and_missing_node_are_one_clear_line(fake_npm, monkeypatch):
    _, _, settings = fake_npm
    monkeypatch.setattr(
        npm.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "npm error\nnpm error network down")
    )
    with pytest.raises(UsageError, match=r"npm ci failed in .*: npm error network down$"):
        npm.ensure(settings)
    assert not (settings.work / "npm" / npm.STAMP).exists(), "a failed install must not be taken for a good one"
    monkeypatch.setattr(npm.shutil, "which", lambda name: None)
    with pytest.raises(UsageError, match="apt-get install nodejs npm"):
        npm.ensure(settings)


def test_audit_without_node_says_what_to_install(tmp_path):
    # CHROME_PATH names any existing file, so the check for chromium passes wherever this runs
    env = {"PATH": str(tmp_path), "CHROME_PATH": sys.executable}
    proc = helpers.run_portal("audit", "--out", str(tmp_path / "site"), env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "portal: node and npm are needed for the audit tools and the accessibility tests (Debian: apt-get install nodejs npm)"
    ]


# --- the local server ---------------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path):
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "index.html").write_text("<p>首页</p>", encoding="utf-8")
    (site / "a" / "index.html").write_text("<p>页面 a</p>" * 50, encoding="utf-8")
    (site / "404.html").write_text("<h1>404 · 页面不存在</h1>", encoding="utf-8")
    server = audit.serve(site, "/poverty-plans/")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield site, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str, gzip_ok: bool = False) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_audit_server_answers_as_github_pages(served):
    site, origin = served
    status, headers, body = fetch(f"{origin}/poverty-plans/a/", gzip_ok=True)
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == (site / "a" / "index.html").read_bytes()
    status, headers, body = fetch(f"{origin}/poverty-plans/a/")
    assert status == 200 and "Content-Encoding" not in headers and body == (site / "a" / "index.html").read_bytes()
    for missing in ("/poverty-plans/no/such/page/", "/a/"):  # a missing page, and a page outside site_url's path
        status, _, body = fetch(origin + missing)
        assert status == 404 and body == (site / "404.html").read_bytes(), missing


# --- a real Lighthouse run ----------------------------------------------------------------------------------


def run_audit(work: Path, *args: str) -> subprocess.CompletedProcess:
    """`portal audit ARGS` in its own process with a private scratch folder (see helpers.main_with_work)."""
    return subprocess.run(
        [sys.executable, helpers.__file__, "audit", *args],
        cwd=ROOT,
        env=portal_env(PORTAL_TEST_WORK=str(work)),
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.browser
@pytest.mark.slow
def test_audit_prints_the_scores_of_lighthouse_reports(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium fonts-noto-cjk)")
    try:
        modules = npm.ensure(Settings())  # the checkout's install, shared with the private scratch folder below
    except UsageError as err:
        pytest.skip(str(err))
    work = tmp_path / "work"
    work.mkdir()
    (work / "npm").symlink_to(modules.parent, target_is_directory=True)
    args = ["--datasets", str(mini_datasets(tmp_path)), "--sources", str(MINI_SOURCES), "--out", str(tmp_path / "site")]
    proc = run_audit(work, *args, "--pages", "/", "regions/990101/")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    names = {"(home)": "home", "regions/990101/": "regions-990101"}  # page as printed -> its report's file name
    reports = {page: json.loads((work / "lighthouse" / f"{name}.json").read_text()) for page, name in names.items()}
    prefix = urlsplit(Settings.from_env().site_url).path  # the site is served under it, as deployed
    missed = False
    for page, report in reports.items():
        assert re.match(rf"http://127\.0\.0\.1:\d+{re.escape(prefix)}", report["finalDisplayedUrl"]), report["finalDisplayedUrl"]
        assert report["configSettings"]["formFactor"] == "mobile"
        expected = [round(100 * report["categories"][c]["score"]) for c in audit.CATEGORIES]
        row = next(line for line in proc.stdout.splitlines() if line.startswith(page + " "))
        assert [int(x) for x in row.split()[1:]] == expected, f"{row!r} is not the report's {expected}"
        missed |= any(s < t for s, t in zip(expected, audit.CATEGORIES.values()))
        for category, score in zip(audit.CATEGORIES, expected):
            if score < 100:  # what lowers the score is listed under the page and category
                assert f"{page} · {category} {score}:" in proc.stdout
    assert proc.returncode == (1 if missed else 0), proc.stdout
    again = run_audit(work, *args, "--pages", "no/such/page/")
    assert again.returncode == 2 and again.stderr.strip().splitlines()[-1].startswith(
        "portal: no page no/such/page/ in the built site"
    )
    assert "Traceback" not in again.stderr
