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
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")  # ideographs, CJK punctuation


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
        if any(isinstance(v, Markup) for v in values.values()):  # a name with its marked Chinese: stays HTML
            return Markup(escape(text)).format(**values)
        return text.format(**values) if values else text

    def pick(self, obj, name: str, default: str = ""):
        """The `name_zh` or `name_en` field of a row, document or family (attribute or key), in this edition."""
        for lang in (self.lang, "zh"):
            key = f"{name}_{lang}"
            value = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
            if value not in (None, ""):
                return self.marked(value) if lang == self.lang else zh_span(value)
        return default

    def marked(self, text):
        """English data text that quotes a Chinese term ("villages without collective income (空壳村)"): the term
        marked as a quote; any other text as it is."""
        if not self.en or not isinstance(text, str) or isinstance(text, Markup) or not HAN.search(text):
            return text
        out, at = Markup(), 0
        for m in HAN.finditer(text):
            out += escape(text[at : m.start()]) + zh_span(m.group(), "quote")
            at = m.end()
        return out + escape(text[at:])

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
            return self.marked(self.pick(row, column[:-3]))
        return self.label(column, row.get(column))

    def unit(self, unit: str, one: bool = False):
        """A canonical unit as the edition writes it (units.unit_en; one: after exactly 1; a unit without English
        is shown marked)."""
        if not self.en or not unit:
            return unit or ""
        from .units import unit_en

        text = unit_en(unit, one)
        return zh_span(unit) if text is None else text

    def amount(self, value, unit: str) -> tuple:
        """(value, unit) as the edition shows a figure. English readers count money in yuan, millions and
        billions, not in 万 (10k): 69,090 万元 reads 690.9 million yuan, 70 万元/村 700,000 yuan per village.
        Exact (Decimal, no rounding); the data and the downloads keep 万元."""
        one = value not in (None, "") and float(value) == 1
        if not self.en or value in (None, "") or not unit:
            return value, self.unit(unit, one)
        from decimal import Decimal

        from .units import unit_en

        head, sep, per = unit.partition("/")
        yuan = {"万元": Decimal(10_000), "亿元": Decimal(100_000_000), "元": Decimal(1)}.get(head)
        if yuan is None:
            return value, self.unit(unit, one)
        amount = Decimal(str(value)) * yuan
        scale = next((s for s in (("billion", 9), ("million", 6)) if abs(amount) >= Decimal(10) ** s[1]), None)
        words = "yuan" if scale is None else f"{scale[0]} yuan"
        shown = amount if scale is None else amount / Decimal(10) ** scale[1]
        rest = unit_en("个/" + per) if sep else ""  # the denominators' English ("per village")
        return shown, f"{words} {rest}".strip()

    def quote(self, text):
        """Source text (a section heading, a list of names as printed): itself in Chinese, a marked quote in English."""
        return zh_span(text, "quote") if self.en and text else text or ""

    def printed(self, row: dict):
        """The value as printed in the source: itself in Chinese (escaped where it is shown), a marked quote in English."""
        text = row.get("value_as_printed") or ""
        return zh_span(text, "printed") if self.en and text else text


def zh_span(text, cls: str = "") -> Markup:
    """Chinese inside an English page, marked lang=zh-CN so that screen readers switch voice. The English-only
    test allows it only with a class saying why it is there: zh (a name), printed (a value as printed), quote
    (source text). Without one (English missing from the data) it counts as untranslated."""
    if cls:
        return Markup('<span lang="zh-CN" class="{}">{}</span>').format(cls, text)
    return Markup('<span lang="zh-CN">{}</span>').format(text)


def editions(langs: tuple[str, ...]) -> list[Edition]:
    return [Edition(lang) for lang in langs]
