"""Deploying: `portal build --deploy` refuses a placeholder address before building, and the workflow's
build job finds the source texts where the repository variables say, checks an archive's sha256, warns
when there are none, and passes them to `portal build --deploy --sources DIR`.

The workflow's shell steps are run here as GitHub runs them (bash), with a `portal` that only prints its
arguments, on invented texts: no network, no real source text.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import helpers
import pytest
import yaml
from helpers import ROOT, mini_datasets, portal_env

from build_scripts.errors import UsageError
from build_scripts.settings import Settings

WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"
WARNING = "::warning::built without the source texts: no source excerpts, provenance not verified"


# --- portal build --deploy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "site_url",
    [
        None,  # the default, https://example.org/poverty-plans/
        "https://www.example.com/plans/",
        "http://localhost:8000/",
        "http://127.0.0.1/poverty-plans/",
        "poverty-plans/",
    ],
    ids=["default", "example-com", "localhost", "loopback", "no-host"],
)
def test_deploy_refuses_a_placeholder_site_url_before_building(tmp_path, site_url):
    out, work = tmp_path / "site", tmp_path / "work"
    env = portal_env(PORTAL_TEST_WORK=str(work))
    env.pop("PORTAL_SITE_URL", None)
    if site_url:
        env["PORTAL_SITE_URL"] = site_url
    args = ["build", "--deploy", "--datasets", str(mini_datasets(tmp_path)), "--out", str(out)]
    proc = subprocess.run([sys.executable, helpers.__file__, *args], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("portal: site_url ") and (site_url or Settings().site_url) in line
    assert ("is a placeholder" in line or "is not an http(s) address" in line) and "PORTAL_SITE_URL" in line
    assert not out.exists() and not work.exists(), "something was built before the address was checked"


@pytest.mark.parametrize(
    "site_url",
    ["https://someone.github.io/poverty-plans/", "https://data.gov.example.cn/", "https://example.org.cn/plans/"],
)
def test_deploy_accepts_a_public_site_url(site_url):
    Settings(site_url=site_url, deploy=True).check_deployable()  # raises nothing


def test_the_placeholder_check_is_a_usage_error():
    with pytest.raises(UsageError, match="placeholder"):
        Settings(site_url="https://docs.example.org/", deploy=True).check_deployable()


# --- the workflow's build job -------------------------------------------------------------------------------


def build_steps() -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]


def step(name_starts: str) -> dict:
    return next(s for s in build_steps() if s.get("name", "").startswith(name_starts))


def fake_portal(bin_dir: Path) -> Path:
    """A `portal` that prints its arguments, one a line."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "portal"
    exe.write_text('#!/bin/sh\nfor a in "$@"; do echo "arg: $a"; done\n', encoding="utf-8")
    exe.chmod(0o755)
    return exe


def run_step(s: dict, cwd: Path, **env: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run a `run:` step with bash as GitHub does (shell: bash), in cwd; returns the process and its outputs."""
    assert s.get("shell") == "bash", s.get("name")
    outputs = cwd / "github-output"
    outputs.write_text("", encoding="utf-8")
    temp = cwd / "runner-temp"
    temp.mkdir(exist_ok=True)
    full = {
        "PATH": f"{cwd / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(cwd),
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(outputs),
        **env,
    }
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = outputs.read_text(encoding="utf-8").splitlines()
    return proc, dict(line.split("=", 1) for line in lines if "=" in line)


def locate(cwd: Path, **variables: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """The 'Locate the source texts' step with these repository variables (PORTAL_SOURCES_X → SOURCES_X)."""
    s = step("Locate the source texts")
    env = {name: "" for name in s["env"]}  # an unset variable is an empty string in ${{ vars.X }}
    for name, expr in s["env"].items():
        var = expr.removeprefix("${{ vars.").removesuffix(" }}")
        if var in variables:
            env[name] = variables[var]
    return run_step(s, cwd, **env)


def texts(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = ["a.txt", "b.txt"]
    for name in names:
        (folder / name).write_text(f"invented text {name}\n", encoding="utf-8")
    return names


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def shell_tools():
    missing = [t for t in ("bash", "curl", "tar", "unzip", "sha256sum") if not shutil.which(t)]
    if missing:
        pytest.skip(f"the workflow's shell steps need {', '.join(missing)}")


def test_the_build_job_passes_the_source_repository_and_its_token():
    checkout = next(s for s in build_steps() if "PORTAL_SOURCES_REPO" in s.get("name", ""))
    assert checkout["uses"].startswith("actions/checkout@")
    assert "vars.PORTAL_SOURCES_REPO" in checkout["if"]
    assert checkout["with"]["repository"] == "${{ vars.PORTAL_SOURCES_REPO }}"
    assert "secrets.PORTAL_SOURCES_TOKEN" in checkout["with"]["token"]
    assert checkout["with"]["persist-credentials"] is False  # the token does not outlive the step
    names = [s.get("name", s.get("uses", "")) for s in build_steps()]
    assert names.index(checkout["name"]) < names.index("Locate the source texts") < names.index(step("Build the site")["name"])


def test_without_variables_the_log_warns_and_the_build_has_no_sources(tmp_path):
    proc, outputs = locate(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert WARNING in proc.stdout and outputs == {}
    fake_portal(tmp_path / "bin")
    proc, _ = run_step(step("Build the site"), tmp_path, SOURCES_DIR=outputs.get("dir", ""))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["arg: build", "arg: --deploy", "arg: --out", "arg: site"]


def test_a_checked_out_repository_gives_its_folder_to_the_build(tmp_path):
    names = texts(tmp_path / ".sources-checkout" / "seeds")
    proc, outputs = locate(tmp_path, PORTAL_SOURCES_REPO="someone/plan-texts", PORTAL_SOURCES_PATH="seeds")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = Path(outputs["dir"])
    assert found == (tmp_path / ".sources-checkout" / "seeds").resolve()
    assert sorted(p.name for p in found.glob("*.txt")) == names
    fake_portal(tmp_path / "bin")
    proc, _ = run_step(step("Build the site"), tmp_path, SOURCES_DIR=outputs["dir"])
    assert proc.stdout.splitlines() == [f"arg: {a}" for a in ["build", "--deploy", "--out", "site", "--sources", str(found)]]
    # a wrong folder is an error, not a build without the texts
    proc, outputs = locate(tmp_path, PORTAL_SOURCES_REPO="someone/plan-texts", PORTAL_SOURCES_PATH="elsewhere")
    assert proc.returncode == 1 and "::error::no source texts" in proc.stdout and outputs == {}


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_an_archive_is_used_only_when_its_sha256_matches(tmp_path, kind):
    names = texts(tmp_path / "made" / "texts-v1")
    archive = tmp_path / f"texts.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as z:
            for name in names:
                z.write(tmp_path / "made" / "texts-v1" / name, f"texts-v1/{name}")
    else:
        with tarfile.open(archive, "w:gz") as t:
            t.add(tmp_path / "made" / "texts-v1", "texts-v1")
    work = tmp_path / "job"
    work.mkdir()
    url = archive.as_uri()
    proc, outputs = locate(
        work, PORTAL_SOURCES_ARCHIVE=url, PORTAL_SOURCES_SHA256=sha256(archive).upper(), PORTAL_SOURCES_PATH="texts-v1"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in Path(outputs["dir"]).glob("*.txt")) == names
    assert "found 2 source texts" in proc.stdout

    wrong = hashlib.sha256(b"another archive").hexdigest()
    proc, outputs = locate(work, PORTAL_SOURCES_ARCHIVE=url, PORTAL_SOURCES_SHA256=wrong, PORTAL_SOURCES_PATH="texts-v1")
    assert proc.returncode == 1 and f"PORTAL_SOURCES_SHA256 says {wrong}" in proc.stdout and outputs == {}

    proc, outputs = locate(work, PORTAL_SOURCES_ARCHIVE=url)  # no checksum: not used at all
    assert proc.returncode == 1 and "PORTAL_SOURCES_SHA256 is not" in proc.stdout and outputs == {}
