"""Accessibility: axe-core finds no serious or critical violation on any kind of page, on a desktop
(1280 px) and on a phone (390 px).

The built site (real corpus, or the fixture without the source texts) is served on 127.0.0.1 as in
test_browser.py and driven in Debian's headless chromium; axe-core (pinned in build_scripts/tools/npm/,
installed with npm on demand) is injected into each page after it has loaded.
"""

from __future__ import annotations

import pytest
from a11y import axe_script, describe, serious_violations
from conftest import CHROMIUM, CORPUS

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium fonts-noto-cjk)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="the playwright python package is not installed (.[test])")

MISSING_PAGE = "no-such-page/"  # the site's 404 page, as GitHub Pages serves it for a missing path
PAGES = {  # page type -> site path
    "home": "",
    "catalog": "catalog/",
    "dataset": f"datasets/{CORPUS.chart_dataset}/",
    "region": f"regions/{CORPUS.region}/",
    "document": f"documents/{CORPUS.document}/",
    "compare": "compare/",
    "quality": "quality/",
    "downloads": "downloads/",
    "changelog": "changelog/",
    "about": "about/",
    "search": "search/?q=共和县",
    "regions": "regions/",
    "documents": "documents/",
    "methodology": "methodology/",
    "404": MISSING_PAGE,
}
# the English edition's twins (issue 15), on a phone
PAGES.update({f"en-{kind}": "en/" + path.replace("?q=共和县", "?q=county") for kind, path in list(PAGES.items())})
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(scope="session")
def axe():
    from build_scripts.errors import UsageError

    try:
        return axe_script()
    except UsageError as err:  # no node or npm here; .ci/run installs them
        pytest.skip(str(err))


# every Chinese page type on both viewports; the English twins (their layout is the Chinese pages') on a phone
CASES = [(kind, view) for kind in PAGES for view in VIEWPORTS if not kind.startswith("en-") or view == "phone"]


@pytest.mark.browser
@pytest.mark.parametrize(("kind", "viewport"), CASES, ids=[f"{k}-{v}" for k, v in CASES])
def test_no_serious_accessibility_violation(browser, site_url, axe, kind, viewport):
    path = PAGES[kind]
    ctx = browser.new_context(locale="zh-CN", **VIEWPORTS[viewport])
    ctx.set_default_timeout(30_000)
    try:
        page = ctx.new_page()
        response = page.goto(site_url + path, wait_until="load")
        expected = 404 if path.endswith(MISSING_PAGE) else 200
        assert response is not None and response.status == expected, f"{path}: HTTP {response and response.status}"
        page.wait_for_load_state("networkidle")  # Material's JavaScript has finished changing the page
        assert page.locator("article h1").first.is_visible(), f"{path or '(home)'}: no visible page title"
        found = serious_violations(page, axe)
        where = f"{path or '(home)'} at {viewport}"
        assert found == [], f"{where}: {len(found)} serious or critical axe violations:\n" + describe(found)
    finally:
        ctx.close()
