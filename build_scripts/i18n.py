"""Editions: the Chinese site at the root and its English twin under en/, from one template set.

Templates and stages write their Chinese text and pass it through `t()`: the Chinese is the key, its English
is in build_scripts/templates/en/*.yaml (one file per area; a key may be in only one file). A Chinese text
without English fails the English build, naming the text. Data carries its own English (`*_en` columns,
family and schema titles): `Edition.pick` chooses the column of the edition. Place and document names in the
English edition are `name()`: the English, then the Chinese in parentheses the first time a page names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from markupsafe import Markup, escape

from .errors import DataError, Problem

CATALOG = Path(__file__).resolve().parent / "templates" / "en"
LANGS = ("zh", "en")  # the first is the site's root edition
HTML_LANG = {"zh": "zh-CN", "en": "en"}  # what marks Chinese inside an English page (lang attribute)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")  # as tests/english.py


@cache
def catalog() -> dict[str, str]:
    """Every Chinese UI text with its English, from all files of the catalog."""
    merged: dict[str, str] = {}
    where: dict[str, str] = {}
    for path in sorted(CATALOG.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for zh, en in data.items():
            if zh in merged and merged[zh] != en:
                raise DataError([Problem(f"build_scripts/templates/en/{path.name}", None, str(zh),
                                         f"also in {where[zh]} with another English")])  # fmt: skip
            merged[str(zh)], where[str(zh)] = str(en), path.name
    return merged


@dataclass
class Edition:
    """One language of the site: where its pages are and how a Chinese text, a code or a name reads in it."""

    lang: str
    named: set = field(default_factory=set)  # names already given with their Chinese on the current page

    @property
    def prefix(self) -> str:
        """The edition's folder in the site: '' for Chinese, 'en/' for English."""
        return "" if self.lang == LANGS[0] else f"{self.lang}/"

    @property
    def en(self) -> bool:
        return self.lang == "en"

    def t(self, zh: str, **values) -> str:
        """A UI text in this edition's language; `{name}` fields are filled from values after translating."""
        text = zh
        if self.en:
            text = catalog().get(zh)
            if text is None:
                raise DataError(
                    [Problem("build_scripts/templates/en/", None, "-", f"no English for {zh!r}: add it to a catalog file")]
                )
        return text.format(**values) if values else text

    def pick(self, obj, name: str, default: str = ""):
        """The `name_zh` or `name_en` field of a row, document or family (attribute or key), in this edition."""
        for lang in (self.lang, "zh"):
            key = f"{name}_{lang}"
            value = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
            if value not in (None, ""):
                return value if lang == self.lang else zh_span(value)
        return default

    def name(self, zh: str, en: str | None) -> Markup:
        """A place or document name: English (Chinese) the first time a page gives it, then the English alone."""
        if not self.en:
            return escape(zh)
        if not en:
            return zh_span(zh)
        if zh in self.named:
            return escape(en)
        self.named.add(zh)
        return Markup('{} (<span lang="zh-CN" class="zh">{}</span>)').format(en, zh)

    def new_page(self) -> None:
        self.named = set()

    def label(self, column: str, code) -> str:
        """A coded cell as a reader sees it (families.LABELS, or LABELS_EN in English)."""
        from . import families

        return families.label(column, code, self.lang)

    def cell(self, row: dict, column: str):
        """A row's cell in this edition: a `_zh` column shows its `_en` twin in English, a code its label."""
        if self.en and column.endswith("_zh"):
            return self.pick(row, column[:-3])
        return self.label(column, row.get(column))

    def unit(self, unit: str):
        """A canonical unit as the edition writes it (units.unit_en; a unit without English is shown marked)."""
        if not self.en or not unit:
            return unit or ""
        from .units import unit_en

        text = unit_en(unit)
        return zh_span(unit) if text is None else text

    def printed(self, row: dict) -> Markup:
        """The value as printed in the source: itself in Chinese, a marked quote in English."""
        text = row.get("value_as_printed") or ""
        return zh_span(text, "printed") if self.en and text else escape(text)

    def marked(self, text, cls: str = "quote"):
        """A text of the data that may hold Chinese (an erratum's English naming 表4-2, a value in the source's
        notation): as it is in Chinese; in English each word with Chinese in it marked, class cls (quote: source
        text; printed: a value written as the source prints it), the rest escaped."""
        if isinstance(text, Markup):  # marked already (pick's Chinese where the English is missing)
            return text
        text = "" if text is None else str(text)
        if not self.en or not HAN.search(text):
            return text
        return Markup("").join(zh_span(w, cls) if HAN.search(w) else escape(w) for w in re.split(r"(\S+)", text))


def zh_span(text, cls: str = "") -> Markup:
    """Chinese inside an English page, marked lang=zh-CN so that screen readers switch voice. The English-only
    test allows it only with a class saying why it is there: zh (a name), printed (a value as printed), quote
    (source text). Without one (English missing from the data) it counts as untranslated."""
    if cls:
        return Markup('<span lang="zh-CN" class="{}">{}</span>').format(cls, text)
    return Markup('<span lang="zh-CN">{}</span>').format(text)


def editions(langs: tuple[str, ...]) -> list[Edition]:
    return [Edition(lang) for lang in langs]
