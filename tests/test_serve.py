"""`portal serve`, as a maintainer previews the site: the fixture package built and served by the real
command in its own process, under the path of site_url, as it is deployed.

`/` redirects to that path, unknown addresses (deep, shallow, outside the site) answer with the site's
Chinese 404 page and status 404, and every link of that page works wherever it is served. A busy port
is a usage error found before anything is built.
"""

from __future__ import annotations

import http.client
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import helpers
import pytest
from helpers import MINI_SOURCES, Page, mini_datasets, portal_env

# not the default address: the served path must come from site_url, whatever it is
SITE_URL = "https://data.example.net/plans/2020/"
PREFIX = urlsplit(SITE_URL).path
SERVING = re.compile(r"^serving (?P<out>.+) at (?P<url>http://127\.0\.0\.1:(?P<port>\d+)\S*) \(Ctrl\+C to stop\)$")


def isolated(work: Path, *args: str, **env: str) -> dict:
    """subprocess arguments for `portal ARGS` with its scratch folder in `work` (helpers.main_with_work:
    the checkout's .build/ is shared with other builds)."""
    return {"args": [sys.executable, helpers.__file__, *args], "env": portal_env(PORTAL_TEST_WORK=str(work), **env)}


def read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`portal serve --port 0` on the fixture package, until the module's tests are done: (site URL, out)."""
    tmp = tmp_path_factory.mktemp("serve")
    out = tmp / "site"
    args = ["serve", "--port", "0", "--datasets", str(mini_datasets(tmp)), "--sources", str(MINI_SOURCES), "--out", str(out)]
    proc = subprocess.Popen(
        **isolated(tmp / "work", *args, PORTAL_SITE_URL=SITE_URL),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True).start()
    seen, match, deadline = [], None, time.monotonic() + 300
    while match is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        match = SERVING.match(line)
    try:
        assert match, "portal serve did not print its address:\n" + "\n".join(seen)
        yield match["url"], out
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl+C
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""))
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def test_serve_prints_the_address_under_the_path_of_site_url(served):
    url, _ = served
    assert urlsplit(url).path == PREFIX


def test_the_site_answers_under_its_path(served):
    url, out = served
    for path in ("", "catalog/", "downloads/", "about/"):
        status, headers, body = get(url + path)
        assert status == 200, path
        assert body == (out / path / "index.html").read_bytes(), path


@pytest.mark.parametrize(
    ("path", "location"),
    [("/", PREFIX), (PREFIX.rstrip("/"), PREFIX), ("/?q=%E5%8E%BF", PREFIX + "?q=%E5%8E%BF")],
    ids=["root", "prefix-without-slash", "root-with-query"],
)
def test_the_root_redirects_to_the_site(served, path, location):
    url, _ = served
    status, headers, _ = get(urljoin(url, path))
    assert status in (301, 302, 307, 308)
    assert headers["location"] == location


@pytest.mark.parametrize(
    "path",
    [PREFIX + "no/such/deep/page/", PREFIX + "nope.html", PREFIX + "assets/", "/elsewhere/x/"],
    ids=["deep", "shallow", "folder-without-page", "outside-the-site"],
)
def test_unknown_paths_answer_the_chinese_404_page(served, path):
    url, out = served
    status, headers, body = get(urljoin(url, path))
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert body == (out / "404.html").read_bytes()
    page = Page(body.decode("utf-8"))
    assert "页面不存在" in page.visible
    status, _, body = get(urljoin(url, path), method="HEAD")
    assert status == 404 and body == b""


def test_every_link_of_the_404_page_works_where_it_is_served(served):
    """Served at a deep path, the page's stylesheets, scripts and links all answer 200: they are absolute
    paths under site_url's path, never relative to the unknown address."""
    url, _ = served
    deep = url + "a/b/c/d/"
    page = Page(get(deep)[2].decode("utf-8"))
    refs = {urljoin(deep, ref) for _, ref in page.refs if not ref.startswith("#")}
    local = sorted(r for r in refs if r.startswith(url))
    assert {url, url + "catalog/", url + "documents/", url + "regions/", url + "downloads/"} <= set(local)
    stylesheets = [a["href"] for tag, a in page.elements if tag == "link" and a.get("rel") == "stylesheet"]
    assert stylesheets and all(h.startswith(PREFIX) for h in stylesheets), stylesheets
    failing = [(r, status) for r in local if (status := get(r)[0]) != 200]
    assert failing == []
    others = sorted(r for r in refs if not r.startswith(url))
    assert all(urlsplit(r).hostname != "127.0.0.1" for r in others), others  # nothing leaves the site's path


def test_a_busy_port_is_a_usage_error_before_building(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out, work = tmp_path / "site", tmp_path / "work"
        args = ["serve", "--port", str(port), "--datasets", str(mini_datasets(tmp_path)), "--out", str(out)]
        proc = subprocess.run(**isolated(work, *args), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [f"portal: port {port} is in use: choose another with --port"]
    assert not out.exists() and not work.exists(), "something was built before the port was found busy"
