"""Units: the one place where printed numbers become canonical values.

Money is always 万元 across the portal. Every conversion is a factor in SCALED; a printed unit that
equals the canonical unit converts with factor 1. Nothing is ever converted by hand in the data.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# printed unit -> (canonical unit, factor)
SCALED: dict[str, tuple[str, Decimal]] = {
    "元": ("万元", Decimal("0.0001")),
    "千元": ("万元", Decimal("0.1")),
    "亿元": ("万元", Decimal("10000")),
    "万人": ("人", Decimal("10000")),
    "万户": ("户", Decimal("10000")),
    "万亩": ("亩", Decimal("10000")),
    "万人次": ("人次", Decimal("10000")),
    "万平方米": ("平方米", Decimal("10000")),
    "万平米": ("平方米", Decimal("10000")),
    "平米": ("平方米", Decimal("1")),
    "千米": ("公里", Decimal("1")),
    "万千瓦": ("千瓦", Decimal("10000")),
    "兆瓦": ("千瓦", Decimal("1000")),
    "万平方公里": ("平方公里", Decimal("10000")),
    "兆伏安": ("千伏安", Decimal("1000")),
    "万立方米": ("立方米", Decimal("10000")),
    "万吨": ("吨", Decimal("10000")),
    "万只": ("只", Decimal("10000")),
    "万头": ("头", Decimal("10000")),
    "万株": ("株", Decimal("10000")),
    "名": ("人", Decimal("1")),  # 名 counts persons: one unit, so parts in 人 add up to a total in 名
    "万名": ("人", Decimal("10000")),
    "万个": ("个", Decimal("10000")),
}

NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
LEADING_NUMBER_RE = re.compile(r"^([-−－]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
MINUS = "-−－"


def parse_printed_number(text: str) -> Decimal | None:
    """The number a printed value starts with ("6.909亿元" -> 6.909, "1,234户" -> 1234)."""
    m = LEADING_NUMBER_RE.match(text.strip())
    if not m:
        return None
    try:
        number = Decimal((m.group(2) + (m.group(3) or "")).replace(",", ""))
    except InvalidOperation:
        return None
    return -number if m.group(1) else number


def decimals(text: str) -> int:
    """Digits after the decimal point in a printed number (its precision)."""
    m = LEADING_NUMBER_RE.match(text.strip())
    if not m or not m.group(3):
        return 0
    return len(m.group(3)) - 1


def rate_numerator(unit: str) -> str | None:
    """The numerator of a rate unit ("元/人/月" -> "元"), or None when the unit has no denominator."""
    head, sep, _ = unit.partition("/")
    return head if sep and head else None


def factor(printed_unit: str, unit: str) -> Decimal | None:
    """Factor from the printed unit to the canonical unit, or None if the pair is unknown.

    A rate keeps its printed numerator: 50元 per person and month is 50 元/人/月, never 0.005 万元."""
    if printed_unit == unit or rate_numerator(unit) == printed_unit:
        return Decimal(1)  # a scaled canonical unit is reported by the canonical-unit check
    target = SCALED.get(printed_unit)
    if target and target[0] == unit:
        return target[1]
    return None


def is_canonical(unit: str) -> bool:
    return unit not in SCALED


def canonical_for(printed_unit: str) -> str:
    return SCALED.get(printed_unit, (printed_unit, 1))[0]


def convert(value_as_printed: str, printed_unit: str, unit: str) -> Decimal | None:
    number = parse_printed_number(value_as_printed)
    f = factor(printed_unit, unit)
    if number is None or f is None:
        return None
    return number * f


# the English of each unit's parts, for the English edition: a count word (个: none), then "per" each denominator
UNIT_WORDS_EN: dict[str, str] = {
    "个": "", "%": "%", "万元": "10k yuan", "亿元": "100m yuan", "元": "yuan", "人": "persons", "户": "households",
    "平方米": "m²", "平米": "m²", "年": "years", "公里": "km", "亩": "mu", "人次": "person-times", "台": "units",
    "个月": "months", "所": "institutions", "条": "", "次": "times", "百分点": "percentage points", "千伏安": "kVA",
    "倍": "times", "处": "sites", "项": "items", "米": "m", "名": "persons", "套": "sets", "Mbps": "Mbps",
    "类": "categories", "件": "items", "家": "organisations", "℃": "°C", "种": "kinds", "座": "structures", "遍": "rounds",
    "州": "prefectures", "门": "skills", "千瓦": "kW", "平方公里": "km²", "头": "head", "天": "days", "支": "teams",
    "场": "sessions", "岁": "years of age", "县": "counties", "万人": "10k persons",
}  # fmt: skip
PER_EN: dict[str, str] = {
    "人": "person", "户": "household", "年": "year", "月": "month", "村": "village", "中心": "centre", "县": "county",
    "乡镇": "township", "次": "session", "季度": "quarter", "亩": "mu", "卫生院": "health centre", "处": "site",
    "企业": "enterprise", "点": "site", "所": "institution", "天": "day", "两年": "two years",
}  # fmt: skip


# the count word for exactly one (1 person per household, not 1 persons)
ONE_EN = {
    "persons": "person", "households": "household", "years": "year", "units": "unit", "months": "month",
    "institutions": "institution", "times": "time", "percentage points": "percentage point", "sites": "site",
    "items": "item", "sets": "set", "categories": "category", "organisations": "organisation", "kinds": "kind",
    "structures": "structure", "rounds": "round", "prefectures": "prefecture", "skills": "skill", "days": "day",
    "teams": "team", "sessions": "session", "years of age": "year of age", "counties": "county",
    "person-times": "person-time",
}  # fmt: skip


def unit_en(unit: str, one: bool = False) -> str | None:
    """A canonical unit in English ("万元/人/年" → "10k yuan per person per year"; one: the count word for exactly
    one, "1 person per household"); None when a part has no English."""
    if not unit:
        return ""
    head, *per = unit.split("/")
    if head not in UNIT_WORDS_EN or any(p not in PER_EN for p in per):
        return None
    count = UNIT_WORDS_EN[head]
    words = [ONE_EN.get(count, count) if one else count, *(f"per {PER_EN[p]}" for p in per)]
    return " ".join(w for w in words if w)
