"""`portal audit`: Lighthouse (mobile, Debian's chromium) on a few pages of the built site, scores printed.

The site is built first when it is missing or outdated (the normal build, which does nothing when it is
current), then served on 127.0.0.1 as GitHub Pages serves it: `portal serve`'s handler (under the path
of site_url, 404.html for a missing path), gzip-compressed when the browser accepts it. Lighthouse
(pinned in build_scripts/tools/npm/, installed by tools/npm.py) runs once per page with its default
mobile settings; its JSON reports are kept in `.build/lighthouse/`. The table gives the four category
scores per page, then the failing audits of every category under 100. Exit 1 when a page misses a
target (performance 90, the others 100).
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from .. import build
from ..errors import UsageError
from ..settings import Settings
from . import npm

DEFAULT_PAGES = ("", "datasets/gonghe-2018-targets/", "regions/632521/")
CATEGORIES = {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100}  # id -> target score
CHROMIUM = Path("/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".csv", ".jsonld"}
TIMEOUT_S = 300  # one Lighthouse run; about 15 s on an idle 2-core machine


class AuditHandler(build.SiteHandler):
    """`portal serve`'s handler (the site under site_url's path, 404.html for an unknown path), quiet, and
    gzip-compressing text files when the browser accepts it, as GitHub Pages does: Lighthouse's simulated
    network times what is transferred."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and urlsplit(self.path).path.endswith("/"):
            path = path / "index.html"
        if path.suffix not in COMPRESSIBLE or not path.is_file() or "gzip" not in self.headers.get("Accept-Encoding", ""):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def serve(site: Path, prefix: str) -> http.server.ThreadingHTTPServer:
    """A server of site under prefix on a free port of 127.0.0.1; the caller runs serve_forever in a thread."""
    handler = functools.partial(AuditHandler, directory=str(site), prefix=prefix)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    return server


def chromium() -> str:
    path = Path(os.environ.get("CHROME_PATH") or CHROMIUM)
    if not path.is_file():
        raise UsageError(f"Lighthouse needs chromium at {path} (Debian: apt-get install chromium fonts-noto-cjk)")
    return str(path)


def lighthouse(modules: Path, url: str, chrome: str) -> dict:
    """One Lighthouse run (mobile, its defaults) on url; its JSON report."""
    cmd = [npm.node(), str(modules / "lighthouse" / "cli" / "index.js"), url, "--output=json", "--quiet"]
    cmd += [f"--chrome-flags={CHROME_FLAGS}", "--only-categories=" + ",".join(CATEGORIES)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env={**os.environ, "CHROME_PATH": chrome})
    except subprocess.TimeoutExpired:
        raise UsageError(f"Lighthouse did not finish on {url} within {TIMEOUT_S} s") from None
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {}
    error = (report.get("runtimeError") or {}).get("message")
    if proc.returncode != 0 or error or "categories" not in report:
        last = error or (proc.stderr.strip() or "no output").splitlines()[-1]
        raise UsageError(f"Lighthouse failed on {url} (exit {proc.returncode}): {last}")
    return report


def scores(report: dict) -> dict[str, int]:
    return {cat: round(100 * (report["categories"][cat]["score"] or 0)) for cat in CATEGORIES}


def failing(report: dict, category: str) -> list[str]:
    """Titles of the audits that lower a category's score, heaviest first (with their measured value)."""
    out = []
    refs = sorted(report["categories"][category]["auditRefs"], key=lambda r: -r.get("weight", 0))
    for ref in refs:
        audit = report["audits"][ref["id"]]
        if audit.get("score") is None or audit["score"] >= 1 or audit.get("scoreDisplayMode") not in ("binary", "numeric"):
            continue
        value = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
        out.append(f"{audit['title']}{value} [{ref['id']}, weight {ref.get('weight', 0)}]")
    return out


def check_pages(site: Path, pages: list[str]) -> list[str]:
    """The pages as site paths ('' is the home page); a UsageError names one the built site lacks."""
    paths = [p.strip("/") + "/" if p.strip("/") else "" for p in pages]
    for p in paths:
        if not (site / p / "index.html").is_file():
            raise UsageError(f"no page {p or '(home)'} in the built site {site}: give site paths, e.g. --pages / regions/632521/")
    return paths


def slug(page: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", page.lower()).strip("-") or "home"


def print_table(results: dict[str, dict[str, int]]) -> None:
    width = max(len(p or "(home)") for p in results)
    print(f"{'page':<{width}}  " + "  ".join(f"{c:>14}" for c in CATEGORIES))
    for page, s in results.items():
        print(f"{page or '(home)':<{width}}  " + "  ".join(f"{s[c]:>14}" for c in CATEGORIES))


def run(settings: Settings, pages: list[str] | None) -> int:
    import threading

    chrome = chromium()
    modules = npm.ensure(settings)
    build.run(settings)  # nothing happens when the built site is current
    paths = check_pages(settings.out, list(pages or DEFAULT_PAGES))
    prefix = build.site_prefix(settings)
    reports_dir = settings.work / "lighthouse"
    reports_dir.mkdir(parents=True, exist_ok=True)
    server = serve(settings.out, prefix)
    threading.Thread(target=server.serve_forever, name="audit-server", daemon=True).start()
    reports: dict[str, dict] = {}
    try:
        for page in paths:
            url = f"http://127.0.0.1:{server.server_port}{prefix}{page}"
            reports[page] = lighthouse(modules, url, chrome)
            (reports_dir / f"{slug(page)}.json").write_text(json.dumps(reports[page]), encoding="utf-8")
    finally:
        server.shutdown()
        server.server_close()
    return report(reports, settings.rel(reports_dir))


def report(reports: dict[str, dict], where: str) -> int:
    """Print the scores and what lowers them; 1 when a page misses a target."""
    results = {page: scores(r) for page, r in reports.items()}
    first = next(iter(reports.values()))
    print(f"Lighthouse {first['lighthouseVersion']}, {first['configSettings']['formFactor']}, {first['userAgent']}")
    print_table(results)
    for page, r in reports.items():
        for cat in CATEGORIES:
            if results[page][cat] < 100:
                print(f"\n{page or '(home)'} · {cat} {results[page][cat]}:")
                for line in failing(r, cat):
                    print(f"  - {line}")
    missed = [f"{p or '(home)'} {c} {s[c]} < {t}" for p, s in results.items() for c, t in CATEGORIES.items() if s[c] < t]
    print(f"\nreports: {where}/*.json")
    print("targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 1 if missed else 0
