"""The about page (关于本站) is made from the settings: built with a publisher, contact and update policy
that are not the defaults, it shows those, escaped, and none of the defaults."""

from __future__ import annotations

from dataclasses import fields

import pytest
from helpers import MINI_SOURCES, Page, mini_datasets

from build_scripts import build
from build_scripts.settings import LICENSE, Settings

OURS = {
    "publisher_zh": "某某大学<b>数据</b>中心 *甲*",  # markup in a value is shown as text
    "publisher_en": "Data Centre of Some University",
    "contact_email": "open.data+plans@example.cn",
    "update_policy_zh": "每季度核对一次原文；新增文件随时发布。",
}
DEFAULTS = {f.name: f.default for f in fields(Settings) if f.name in OURS}


@pytest.fixture(scope="module")
def about(tmp_path_factory) -> Page:
    tmp = tmp_path_factory.mktemp("about")
    settings = Settings.from_env(
        datasets=mini_datasets(tmp), sources=MINI_SOURCES, out=tmp / "site", work=tmp / "work", quiet=True, **OURS
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)  # the build sets it for mkdocs: not for the rest of the session
        build.run(settings)
    return Page.of(tmp / "site" / "about" / "index.html")


def article_text(page: Page) -> str:
    return page.visible.split("关于本站About", 1)[-1]  # the page's own text: after its heading


@pytest.mark.slow
def test_about_page_shows_the_settings(about):
    text = article_text(about)
    for name, value in OURS.items():
        assert "".join(value.split()) in text, name
        assert "".join(DEFAULTS[name].split()) not in text, f"the default {name} is still shown"
    mailto = [a["href"] for a in about.links if a["href"].startswith("mailto:")]
    assert mailto and set(mailto) == {"mailto:" + OURS["contact_email"]}
    assert not [tag for tag, _ in about.elements if tag in ("b", "em")], "markup in a value became an element"


@pytest.mark.slow
def test_about_page_states_licence_privacy_and_where_to_report(about):
    hrefs = {a["href"] for a in about.links}
    assert LICENSE["path"] in hrefs and LICENSE["name"] in about.visible
    assert {"../methodology/", "../changelog/"} <= hrefs
    text = article_text(about)
    for heading in ("发布者", "更新", "许可", "隐私", "纠错"):
        assert heading in text, heading
