"""Helpers shared by the tests: run the `portal` command, read and write CSV files, parse built HTML.

Also a small program: `python tests/helpers.py build ARGS` is `portal build ARGS` with a private scratch
folder (PORTAL_TEST_WORK), see main_with_work.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import hashlib
import html
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
MINI = FIXTURES / "mini"  # folder of the one invented package, mini-2020 (schemas are the repository's)
MINI_SOURCES = FIXTURES / "mini-sources"  # its invented source text
SCHEMAS = ROOT / "datasets" / "schemas"


# --- running the CLI ----------------------------------------------------------------------------------------


def portal_env(**extra: str) -> dict[str, str]:
    """The environment of a `portal` run: no PORTAL_SOURCES (tests pass --sources explicitly), CI=true."""
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_SOURCES"}
    env.update({"CI": "true", "NO_MKDOCS_2_WARNING": "1", **extra})
    return env


def run_portal(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `python -m build_scripts ARGS` as a user would; returns the completed process (text)."""
    return subprocess.run(
        [sys.executable, "-m", "build_scripts", *args],
        cwd=cwd or ROOT,
        env=portal_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def main_with_work(argv: list[str], work: Path) -> int:
    """cli.main with its scratch folder moved to `work`. The default .build/ is shared by every build of
    the checkout, and a concurrent one (another test session) would delete the Markdown tree under ours;
    Settings has no option for it, so from_env is wrapped."""
    from build_scripts import cli
    from build_scripts.settings import Settings

    base = Settings.from_env.__func__
    original = Settings.__dict__["from_env"]
    Settings.from_env = classmethod(lambda cls, **kw: dataclasses.replace(base(cls, **kw), work=work))
    try:
        return cli.main(argv)
    finally:
        Settings.from_env = original


def build_isolated(work: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`portal build ARGS` in its own process, with a private scratch folder `work`."""
    return subprocess.run(
        [sys.executable, __file__, "build", *args],
        cwd=ROOT,
        env=portal_env(PORTAL_TEST_WORK=str(work)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def mini_datasets(dest: Path) -> Path:
    """A writable datasets folder holding the mini package and the repository's shared schemas."""
    ds = dest / "datasets"
    shutil.copytree(MINI, ds)
    shutil.copytree(SCHEMAS, ds / "schemas")
    return ds


def copy_datasets(dest: Path) -> Path:
    """A writable copy of the real datasets folder, for tests that break it."""
    target = dest / "datasets"
    shutil.copytree(ROOT / "datasets", target)
    return target


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


# --- CSV ----------------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV file as dicts (a BOM, as in the downloads, is dropped)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def parse_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def read_rows(path: Path) -> list[list[str]]:
    """Rows of a CSV file as lists of cells, the header first."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_csv(path: Path, rows: list[dict], fields: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


# --- HTML ---------------------------------------------------------------------------------------------------

RCDATA = re.compile(r"(<(title|textarea)\b[^>]*>)(.*?)(</\2\s*>)", re.S | re.I)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def squash(s: str) -> str:
    """Whitespace removed: a newline may be shown as a space or a <br>; nothing else may change."""
    return re.sub(r"\s+", "", s)


def browser_html(raw: str) -> str:
    """html.parser (3.11) reads tags inside <title> and <textarea>; a browser reads text up to the first
    closing tag. Escape that text so the parser sees what the browser sees (and a break-out stays one)."""
    return RCDATA.sub(lambda m: m.group(1) + html.escape(html.unescape(m.group(3))) + m.group(4), raw)


class Page(HTMLParser):
    """One HTML page as a browser reads it: elements and their attributes, links, images, ids, the URLs
    it refers to, scripts (and JSON-LD), visible text, tables and headings."""

    def __init__(self, raw: str):
        super().__init__(convert_charrefs=True)
        self.raw = raw
        self.elements: list[tuple[str, dict]] = []
        self.links: list[dict] = []  # attributes of every <a href>
        self.imgs: list[dict] = []
        self.ids: set[str] = set()  # ids, and names of <a name>: what a #fragment may name
        self.refs: list[tuple[str, str]] = []  # (tag, url) of every href and src
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []  # visible text, <title> included
        self.tables: list[dict] = []  # {"head": [cells], "rows": [[cells]], "ids": [row ids]}
        self.headings: list[str] = []
        self._script: dict | None = None
        self._script_text: list[str] = []
        self._skip = 0  # inside <style>
        self._stack: list[dict] = []  # open tables
        self._heading: str | None = None
        self.feed(browser_html(raw))
        self.close()

    @classmethod
    def of(cls, path: Path) -> Page:
        return cls(path.read_text(encoding="utf-8"))

    @property
    def jsonld(self) -> list[str]:
        return [body for attrs, body in self.scripts if attrs.get("type") == "application/ld+json"]

    @property
    def visible(self) -> str:
        return squash("".join(self.text))

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        self._note_refs(tag, dict(attrs))
        if tag == "script":
            self._script, self._script_text = a, []
        elif tag == "style":
            self._skip += 1
        elif tag in ("table", "thead", "tr", "td", "th"):
            self._table_start(tag, a)
        elif tag in HEADINGS:
            self._heading = tag

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def _note_refs(self, tag: str, a: dict) -> None:
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and "href" in a:
            self.links.append(a)
        if tag == "img":
            self.imgs.append(a)
        self.refs += [(tag, a[key]) for key in ("href", "src") if a.get(key) is not None and tag != "base"]

    def _table_start(self, tag: str, a: dict) -> None:
        if tag == "table":
            self._stack.append({"head": [], "rows": [], "ids": [], "in_head": False})
            return
        if not self._stack:
            return
        t = self._stack[-1]
        if tag == "thead":
            t["in_head"] = True
        elif tag == "tr" and not t["in_head"]:
            t["rows"].append([])
            t["ids"].append(a.get("id", ""))
        elif tag in ("td", "th"):
            (t["head"] if t["in_head"] or not t["rows"] else t["rows"][-1]).append(tag)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._script_text)))
            self._script = None
        elif tag == "style":
            self._skip = max(0, self._skip - 1)
        elif tag == "table" and self._stack:
            t = self._stack.pop()
            self.tables.append({"head": t["head"], "rows": t["rows"], "ids": t["ids"]})
        elif tag == "thead" and self._stack:
            self._stack[-1]["in_head"] = False
        elif tag == self._heading:
            self.headings.append(tag)
            self._heading = None

    def handle_data(self, data):
        if self._script is not None:
            self._script_text.append(data)
        elif not self._skip:
            self.text.append(data)


if __name__ == "__main__":
    sys.exit(main_with_work(sys.argv[1:], Path(os.environ["PORTAL_TEST_WORK"])))


@contextlib.contextmanager
def serve_folder(handler: type, directory: Path, name: str):
    """Serve `directory` with `handler` (an http.server handler class) on 127.0.0.1, on a free port, in a
    thread; yields the port and stops the server on exit."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def site_handler(prefix: str) -> type:
    """`portal serve`'s handler, quiet, serving a site folder under `prefix`, the path of the site's public
    address, as deployed (the 404 page links its assets absolutely, and a root-absolute link elsewhere
    would break); unknown paths get the site's 404.html with status 404, as on GitHub Pages."""
    from build_scripts import build  # here: most tests never serve a site, and build imports every stage

    class SiteHandler(build.SiteHandler):
        def log_message(self, format, *args):  # noqa: A002 - signature of the base class
            pass

    return type("Handler", (SiteHandler,), {"prefix": prefix})


def public_path(site: Path) -> str:
    """The path of the site's public address (site_url), read from the built sitemap: '/poverty-plans/'."""
    sitemap = site / "sitemap.xml"
    if sitemap.exists():
        loc = ElementTree.parse(sitemap).find(".//{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
        if loc is not None and loc.text:
            path = urlsplit(loc.text.strip()).path
            return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"
    return "/"
