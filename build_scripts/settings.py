"""Typed settings, declared once with their defaults and passed down to every stage.

Every field here is documented in README.md (a test fails when one is not): this is the one place
that says what can be configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
# the licence of every published dataset (the code is MIT): one declaration for packages, pages and catalogs
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}

# hosts of addresses that are not a published site: documentation domains (RFC 2606) and this machine
PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")
PLACEHOLDER_HOSTS = {*PLACEHOLDER_DOMAINS, "localhost", "127.0.0.1", "0.0.0.0", "::1"}


@dataclass(frozen=True)
class Settings:
    root: Path = field(default=ROOT, metadata={"help": "Repository root."})
    datasets: Path = field(default=ROOT / "datasets", metadata={"help": "Folder of data packages (--datasets)."})
    sources: Path | None = field(
        default=None,
        metadata={"help": "Folder of the source texts; enables provenance checks (--sources, PORTAL_SOURCES)."},
    )
    out: Path = field(default=ROOT / "site", metadata={"help": "Where the built site goes (--out)."})
    docs: Path = field(default=ROOT / "docs", metadata={"help": "Hand-written pages and theme overrides."})
    work: Path = field(
        default=ROOT / ".build",
        metadata={"help": "Scratch folder: generated Markdown tree and the build cache (git-ignored)."},
    )
    site_url: str = field(
        default="https://example.org/poverty-plans/",
        metadata={"help": "Public address of the site, for sitemap, feeds and citations (PORTAL_SITE_URL)."},
    )
    publisher_zh: str = field(
        default="脱贫攻坚规划开放数据门户", metadata={"help": "Publisher's name in Chinese (pages, catalogs, citations)."}
    )
    publisher_en: str = field(
        default="Poverty-Alleviation Plans Open Data Portal",
        metadata={"help": "Publisher's name in English (citations, metadata)."},
    )
    contact_email: str = field(
        default="data@example.org", metadata={"help": "Contact address in the catalogs (data.json) and on the about page."}
    )
    update_policy_zh: str = field(
        default=(
            "新增或更正一份规划文件的数据时，本站随即更新；每一次修改都列在更新记录中。"
            "发现错误请在项目仓库提交 issue，核实后更正。"
        ),
        metadata={"help": "Update policy in Chinese, shown on the about page."},
    )
    update_policy_en: str = field(
        default=(
            "The site is updated whenever the data of a plan document are added or corrected; every change is listed "
            "in the changelog. If you find an error, please open an issue in the project repository: it is corrected "
            "once verified."
        ),
        metadata={"help": "Update policy in English, shown on the English about page."},
    )
    deploy: bool = field(
        default=False,
        metadata={"help": "A build to publish: refuse a placeholder site_url (example.org, localhost …) at once (--deploy)."},
    )
    editions: tuple[str, ...] = field(
        default=("zh", "en"),
        metadata={"help": "Languages built: Chinese at the root, English under en/ (--editions zh builds the Chinese alone)."},
    )
    quiet: bool = field(default=False, metadata={"help": "No progress display (set when CI=true)."})
    debug: bool = field(default=False, metadata={"help": "Show tracebacks (--debug)."})
    cache: bool = field(default=True, metadata={"help": "Reuse charts and pages whose inputs did not change (--no-cache)."})
    strict: bool = field(default=True, metadata={"help": "Run mkdocs build with --strict."})

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        s = cls()
        env = {}
        if os.environ.get("PORTAL_SOURCES"):
            env["sources"] = Path(os.environ["PORTAL_SOURCES"])
        if os.environ.get("PORTAL_SITE_URL"):
            env["site_url"] = os.environ["PORTAL_SITE_URL"]
        if os.environ.get("CI", "").lower() == "true":
            env["quiet"] = True
        env.update({k: v for k, v in overrides.items() if v is not None})
        s = replace(s, **env)
        if not s.site_url.endswith("/"):
            s = replace(s, site_url=s.site_url + "/")
        return s

    def check_deployable(self) -> None:
        """A published site with a placeholder address would cite, feed and map the wrong host: refuse it."""
        parts = urlsplit(self.site_url)
        host = (parts.hostname or "").lower()
        fix = "set PORTAL_SITE_URL to the site's public address to build with --deploy"
        if parts.scheme not in ("http", "https") or not host:
            raise UsageError(f"site_url {self.site_url!r} is not an http(s) address: {fix}")
        if host in PLACEHOLDER_HOSTS or host.endswith(tuple("." + h for h in (*PLACEHOLDER_DOMAINS, "localhost"))):
            raise UsageError(f"site_url {self.site_url} is a placeholder: {fix}")

    def rel(self, path: Path) -> str:
        """A path as users see it in messages: relative to the repository when inside it."""
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)
