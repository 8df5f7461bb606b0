"""axe-core in a Playwright page: the serious and critical WCAG violations a page has.

axe.min.js comes from the pinned Node tools (build_scripts/tools/npm/), installed on demand by
build_scripts.tools.npm.ensure into .build/npm/ (npm ci, only when the lock file changed).
"""

from __future__ import annotations

from pathlib import Path

SERIOUS = ("serious", "critical")


def axe_script() -> Path:
    """axe.min.js of the pinned axe-core; a UsageError (its message says what to install) without node and npm."""
    from build_scripts.settings import Settings
    from build_scripts.tools import npm

    return npm.package_file(Settings(), "axe-core/axe.min.js")


def serious_violations(page, axe: Path) -> list[dict]:
    """Inject axe into the loaded page and run it on the whole document; its serious and critical violations."""
    page.add_script_tag(path=str(axe))
    # axe's default rules: WCAG 2.1 A and AA, and its best practices (a dialog's accessible name is one)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in SERIOUS]


def describe(violations: list[dict], targets: int = 3) -> str:
    """One line per rule: id, impact, how many elements, the first few of them (CSS selectors) and axe's summary."""
    lines = []
    for v in violations:
        first = ", ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:targets])
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements: {first}): {v['help']}")
    return "\n".join(lines)
