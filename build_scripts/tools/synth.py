"""Synthetic corpora for `portal bench`: N valid data packages shaped like the real ones, with their source texts.

Each document is a county plan: a county under one of a few prefectures of one province, with three
townships; baselines (county totals and their township parts), targets, investments (a printed total in
亿元, its by_category parts in 万元 with part_of, and each category's share with ratio_of), exit
schedules by year (with a multi-year total and township rows) and measures (some printed in 万人, 兆瓦,
万平方米, with thousands separators). The generator also writes the source text every figure is printed
in, one statement a line, and records its sha256, so the whole corpus validates with provenance verified.
Every third document in ten prints an investment total that its parts do not add up to, recorded in
errata.yaml as real documents do. Texts and names are marked as synthetic: they are not real plans.

Deterministic: the same N and seed give byte-identical files.

    python -m build_scripts.tools.synth --documents 50 --out /tmp/synth   # writes /tmp/synth/{datasets,sources}
"""

from __future__ import annotations

import argparse
import random
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from .. import families
from ..settings import ROOT
from .scaffold import descriptor, main_plan, schema_fields, sha256_of, write_csv, write_descriptor

# syllables for place names, with their pinyin (unique names from a number in base 20)
SYLLABLES = [
    ("安", "an"),
    ("平", "ping"),
    ("清", "qing"),
    ("河", "he"),
    ("西", "xi"),
    ("东", "dong"),
    ("南", "nan"),
    ("北", "bei"),
    ("新", "xin"),
    ("宁", "ning"),
    ("永", "yong"),
    ("乐", "le"),
    ("长", "chang"),
    ("兴", "xing"),
    ("丰", "feng"),
    ("泰", "tai"),
    ("德", "de"),
    ("福", "fu"),
    ("云", "yun"),
    ("山", "shan"),
]
PROVINCE = {"region_id": "990000", "name_zh": "样例省", "name_en": "Sample Province", "level": "province", "parent_id": ""}
COUNTIES_PER_PREFECTURE = 20
TOWNSHIPS = 3
CATEGORIES = [
    ("产业发展", "Industry development"),
    ("易地扶贫搬迁", "Relocation"),
    ("基础设施", "Infrastructure"),
    ("教育扶贫", "Education"),
    ("健康扶贫", "Health"),
    ("社会保障", "Social security"),
]
MEASURES = [  # sector_zh, sector_en, project_zh, project_en, indicator_zh, indicator_en, unit, printed unit, scale, template
    (
        "交通",
        "Transport",
        "农村公路建设",
        "Rural roads",
        "新建改建农村公路",
        "Rural roads built or upgraded",
        "公里",
        "公里",
        1,
        "新建改建农村公路{v}",
    ),
    (
        "交通",
        "Transport",
        "通村硬化路",
        "Village road paving",
        "硬化通村道路",
        "Village roads paved",
        "公里",
        "公里",
        1,
        "硬化通村道路{v}",
    ),
    (
        "住房",
        "Housing",
        "易地扶贫搬迁",
        "Relocation",
        "搬迁贫困户",
        "Poor households relocated",
        "户",
        "户",
        1,
        "实施易地扶贫搬迁{v}",
    ),
    (
        "住房",
        "Housing",
        "农村危房改造",
        "Dilapidated housing renovation",
        "改造危房",
        "Dilapidated houses renovated",
        "户",
        "户",
        1,
        "改造农村危房{v}",
    ),
    (
        "产业",
        "Industry",
        "光伏扶贫",
        "Photovoltaic poverty alleviation",
        "光伏电站装机",
        "PV capacity",
        "千瓦",
        "兆瓦",
        1000,
        "建设村级光伏电站{v}",
    ),
    (
        "产业",
        "Industry",
        "设施农业",
        "Protected agriculture",
        "新建日光温室",
        "Greenhouses built",
        "平方米",
        "万平方米",
        10000,
        "新建日光温室{v}",
    ),
    (
        "产业",
        "Industry",
        "特色种养业",
        "Specialty farming",
        "带动贫困人口",
        "Poor persons supported",
        "人",
        "万人",
        10000,
        "发展特色种养业带动贫困人口{v}",
    ),
    (
        "就业",
        "Employment",
        "技能培训",
        "Skills training",
        "培训贫困劳动力",
        "Poor workers trained",
        "人次",
        "人次",
        1,
        "培训贫困劳动力{v}",
    ),
    (
        "就业",
        "Employment",
        "公益岗位",
        "Public-welfare jobs",
        "开发公益岗位",
        "Public-welfare jobs created",
        "个",
        "个",
        1,
        "开发生态管护等公益岗位{v}",
    ),
    (
        "教育",
        "Education",
        "学校建设",
        "School construction",
        "改扩建校舍",
        "School buildings extended",
        "平方米",
        "平方米",
        1,
        "改扩建中小学校舍{v}",
    ),
    (
        "教育",
        "Education",
        "教育资助",
        "Student aid",
        "资助贫困学生",
        "Poor students aided",
        "人次",
        "人次",
        1,
        "资助建档立卡贫困学生{v}",
    ),
    (
        "健康",
        "Health",
        "村卫生室",
        "Village clinics",
        "新建村卫生室",
        "Village clinics built",
        "个",
        "个",
        1,
        "新建标准化村卫生室{v}",
    ),
    (
        "饮水",
        "Water",
        "饮水安全",
        "Safe drinking water",
        "巩固提升饮水安全人口",
        "Persons with improved drinking water",
        "人",
        "人",
        1,
        "巩固提升农村饮水安全人口{v}",
    ),
    (
        "电力",
        "Power",
        "农网改造",
        "Rural grid upgrade",
        "改造农网线路",
        "Rural power lines upgraded",
        "公里",
        "千米",
        1,
        "改造农村电网线路{v}",
    ),
]
TARGETS = [  # sector_zh, sector_en, indicator_zh, indicator_en, comparator, unit, template (before/after the value)
    ("综合", "Overall", "贫困发生率", "Poverty incidence", "<=", "%", ("到2020年，贫困发生率降至", "以下。")),
    (
        "综合",
        "Overall",
        "农村居民人均可支配收入年均增长",
        "Annual growth of rural disposable income",
        ">=",
        "%",
        ("农村常住居民人均可支配收入年均增长", "以上。"),
    ),
    (
        "教育",
        "Education",
        "九年义务教育巩固率",
        "Nine-year compulsory education retention rate",
        "=",
        "%",
        ("九年义务教育巩固率达到", "。"),
    ),
    (
        "健康",
        "Health",
        "贫困人口参加基本医疗保险比例",
        "Poor persons in basic medical insurance",
        "=",
        "%",
        ("贫困人口参加基本医疗保险比例达到", "。"),
    ),
    ("饮水", "Water", "农村自来水普及率", "Rural tap-water coverage", ">=", "%", ("农村自来水普及率达到", "以上。")),
    ("交通", "Transport", "建制村通硬化路比例", "Villages with paved roads", "=", "%", ("建制村通硬化路比例达到", "。")),
    ("住房", "Housing", "危房改造完成率", "Dilapidated housing renovated", "=", "%", ("建档立卡贫困户危房改造完成率达到", "。")),
]


def place_name(number: int, min_syllables: int = 2) -> tuple[str, str]:
    """A unique Chinese name (and its pinyin) for a number: its digits in base 20 as syllables."""
    digits = []
    while number or len(digits) < min_syllables:
        number, d = divmod(number, len(SYLLABLES))
        digits.append(d)
    parts = [SYLLABLES[d] for d in reversed(digits)]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


def fmt(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


@dataclass
class Document:
    """One synthetic document while it is written: its text lines and its rows by family."""

    doc_id: str
    lines: list[str] = field(default_factory=list)
    rows: dict[str, list[dict]] = field(default_factory=lambda: {f.name: [] for f in families.FIGURES})

    def line(self, *segments) -> int:
        """Append a line made of text and (value_as_printed, row) segments; the rows get this line."""
        n = len(self.lines) + 1
        text = []
        for seg in segments:
            if isinstance(seg, str):
                text.append(seg)
            else:
                printed, row = seg
                text.append(printed)
                row.update(value_as_printed=printed, line_start=n, line_end=n)
        self.lines.append("".join(text))
        return n

    def figure(
        self, family: str, printed_number: str, printed_unit: str, unit: str, scale: int | Decimal, **row
    ) -> tuple[str, dict]:
        fam = families.BY_NAME[family]
        rows = self.rows[family]
        number = Decimal(printed_number.replace(",", ""))
        full = {
            "figure_id": f"{fam.letter}A{len(rows) + 1:03d}",
            "doc_id": self.doc_id,
            "value": fmt(number * Decimal(scale)),
            "unit": unit,
            "printed_unit": printed_unit,
            "is_total": "false",
            "part_of": "",
            "ratio_of": "",
            "plan_id": "main",
            "status": "baseline" if row.get("kind") == "status" else "achieved" if family == "baselines" else "planned",
            "basis": "share" if unit in ("%", "‰") else "amount",
            "implied": "false",
            "notes": "",
            **row,
        }
        rows.append(full)
        return f"{printed_number}{printed_unit}", full


def regions_for(i: int) -> tuple[dict, dict, list[dict]]:
    p = i // COUNTIES_PER_PREFECTURE + 1
    c = i % COUNTIES_PER_PREFECTURE + 1
    if p > 99:
        raise ValueError("at most 1980 synthetic documents")
    pname, ppy = place_name(p * 37 + 11)
    prefecture = {
        "region_id": f"99{p:02d}00",
        "name_zh": f"{pname}市",
        "name_en": f"{ppy.capitalize()} Prefecture",
        "level": "prefecture",
        "parent_id": PROVINCE["region_id"],
    }
    cname, cpy = place_name(i + len(SYLLABLES))  # two syllables at least
    county = {
        "region_id": f"99{p:02d}{c:02d}",
        "name_zh": f"{cname}县",
        "name_en": f"{cpy.capitalize()} County",
        "level": "county",
        "parent_id": prefecture["region_id"],
    }
    townships, slugs = [], set()
    for j in range(TOWNSHIPS):
        tname, tpy = place_name((i * 7 + j * 131 + 5) % 400 + 20)
        slug = tpy if tpy not in slugs else f"{tpy}{j + 1}"
        slugs.add(slug)
        kind, kind_en = ("镇", "Town") if j % 2 == 0 else ("乡", "Township")
        townships.append(
            {
                "region_id": f"{county['region_id']}-{slug}",
                "name_zh": f"{tname}{kind}",
                "name_en": f"{tpy.capitalize()} {kind_en}",
                "level": "township",
                "parent_id": county["region_id"],
            }
        )
    return prefecture, county, townships


def split(total: int, parts: int, rng: random.Random, minimum: int = 0) -> list[int]:
    """total as `parts` integers of at least `minimum` each (total >= parts * minimum)."""
    rest = total - minimum * parts
    cuts = sorted(rng.randint(0, rest) for _ in range(parts - 1))
    return [b - a + minimum for a, b in zip([0, *cuts], [*cuts, rest])]


@dataclass(frozen=True)
class Plan:
    """What document number i is about: its id, places and period."""

    i: int
    doc_id: str
    prefecture: dict
    county: dict
    townships: list[dict]
    start: int
    end: int = 2020

    @classmethod
    def of(cls, i: int) -> Plan:
        prefecture, county, townships = regions_for(i)
        return cls(i, f"synth-{i + 1:03d}", prefecture, county, townships, start=2016 + i % 3)

    @property
    def cid(self) -> str:
        return self.county["region_id"]

    @property
    def years(self) -> list[int]:
        return list(range(self.start, self.end + 1))

    @property
    def title(self) -> str:
        return f"{self.county['name_zh']}脱贫攻坚规划（{self.start}—{self.end}年）"

    @property
    def title_en(self) -> str:
        return f"{self.county['name_en']} Poverty Alleviation Plan ({self.start}–{self.end}), synthetic"


# --- chapter 1: baselines, county totals with township parts ------------------------------------------

POOR_PERSONS = ("建档立卡贫困人口", "Registered poor population")
POOR_HOUSEHOLDS = ("建档立卡贫困户", "Registered poor households")
POOR_VILLAGES = ("贫困村", "Poor villages")
INCIDENCE = ("贫困发生率", "Poverty incidence")
REDUCED = ("累计减少贫困人口", "Reduction of the poor population")


def baseline(d: Document, sec: str, region: str, printed: str, unit: str, indicator, when, **extra) -> tuple[str, dict]:
    """A baselines figure; `when` is (kind, reference_year, reference_period)."""
    kind, year, period = when
    return d.figure(
        "baselines",
        printed,
        unit,
        unit,
        1,
        region_id=region,
        section_zh=sec,
        kind=kind,
        reference_year=year,
        reference_period=period,
        indicator_zh=indicator[0],
        indicator_en=indicator[1],
        **extra,
    )


def chapter_baselines(d: Document, plan: Plan, rng: random.Random) -> tuple[int, list[int]]:
    """The county's poor population, households, villages and incidence, then each township's part."""
    sec = "第一章 基本情况"
    d.line(sec)
    persons = [rng.randint(800, 9000) for _ in plan.townships]
    villages = [rng.randint(2, 12) for _ in plan.townships]
    poor_total = sum(persons)
    households = poor_total // 3 + rng.randint(0, 50)
    base_year = plan.start - 1
    when = ("status", base_year, "")
    printed_total = f"{poor_total:,}" if plan.i % 4 == 0 else str(poor_total)
    b_persons = baseline(d, sec, plan.cid, printed_total, "人", POOR_PERSONS, when, is_total="true")
    b_households = baseline(d, sec, plan.cid, str(households), "户", POOR_HOUSEHOLDS, when)
    b_villages = baseline(d, sec, plan.cid, str(sum(villages)), "个", POOR_VILLAGES, when, is_total="true")
    incidence = Decimal(rng.randint(30, 250)) / 10
    b_incidence = baseline(d, sec, plan.cid, fmt(incidence), "%", INCIDENCE, when)
    d.line(
        f"截至{base_year}年底，全县共有建档立卡贫困人口",
        b_persons,
        "、贫困户",
        b_households,
        "，贫困村",
        b_villages,
        "，贫困发生率",
        b_incidence,
        "。",
    )
    for t, p, v in zip(plan.townships, persons, villages):
        tp = baseline(d, sec, t["region_id"], str(p), "人", POOR_PERSONS, when, part_of=b_persons[1]["figure_id"])
        tv = baseline(d, sec, t["region_id"], str(v), "个", POOR_VILLAGES, when, part_of=b_villages[1]["figure_id"])
        d.line(f"其中{t['name_zh']}贫困人口", tp, "，贫困村", tv, "。")
    period = f"{plan.start - 5}-{plan.start - 1}"
    reduced = baseline(d, sec, plan.cid, str(rng.randint(2000, 20000)), "人", REDUCED, ("achievement", "", period))
    d.line("“十二五”期间，全县累计减少贫困人口", reduced, "。")
    return poor_total, villages


# --- chapter 2: targets -------------------------------------------------------------------------------

ALL_LIFTED = ("综合", "Overall", "建档立卡贫困人口全部脱贫", "Registered poor population lifted out of poverty", "=", "人")


def target_figure(d: Document, sec: str, plan: Plan, printed: str, target: tuple) -> tuple[str, dict]:
    """A targets figure; `target` is (sector_zh, sector_en, indicator_zh, indicator_en, comparator, unit)."""
    sector_zh, sector_en, ind_zh, ind_en, comparator, unit = target
    return d.figure(
        "targets",
        printed,
        unit,
        unit,
        1,
        region_id=plan.cid,
        section_zh=sec,
        sector_zh=sector_zh,
        sector_en=sector_en,
        indicator_zh=ind_zh,
        indicator_en=ind_en,
        target_year=plan.end,
        comparator=comparator,
    )


def target_value(ind_zh: str, rng: random.Random) -> Decimal:
    value = {"贫困发生率": Decimal(rng.randint(5, 29)) / 10}.get(ind_zh, Decimal(rng.randint(850, 1000)) / 10)
    if "增长" in ind_zh:
        value = Decimal(rng.randint(80, 140)) / 10
    return value


def chapter_targets(d: Document, plan: Plan, rng: random.Random, poor_total: int) -> None:
    sec = "第二章 目标任务"
    d.line(sec)
    for *target, (before, after) in TARGETS:
        fig = target_figure(d, sec, plan, fmt(target_value(target[2], rng)), tuple(target))
        d.line(before, fig, after)
    fig = target_figure(d, sec, plan, str(poor_total), ALL_LIFTED)
    d.line(f"到{plan.end}年，现行标准下", fig, "建档立卡贫困人口全部脱贫。")


# --- chapter 3: exit schedules by year, a multi-year total, township villages -------------------------

EXITS = {  # unit_counted -> unit, indicator_zh, indicator_en
    "person": ("人", "计划脱贫人口", "Planned exits of poor persons"),
    "household": ("户", "计划脱贫户", "Planned exits of poor households"),
    "village": ("个", "计划退出贫困村", "Planned exits of poor villages"),
}


def exit_figure(d: Document, sec: str, region: str, year, counted: str, number: int, **extra) -> tuple[str, dict]:
    unit, ind_zh, ind_en = EXITS[counted]
    return d.figure(
        "exit_schedules",
        str(number),
        unit,
        unit,
        1,
        region_id=region,
        section_zh=sec,
        year=year,
        unit_counted=counted,
        status="planned",
        village_names_zh="",
        indicator_zh=ind_zh,
        indicator_en=ind_en,
        **extra,
    )


def chapter_exits(d: Document, plan: Plan, rng: random.Random, poor_total: int, villages: list[int]) -> None:
    sec = "第三章 脱贫退出计划"
    d.line(sec)
    total = exit_figure(d, sec, plan.cid, "", "person", poor_total, is_total="true")
    d.line(f"{plan.start}—{plan.end}年，全县计划脱贫", total, "。")
    years = plan.years
    by_year = split(poor_total, len(years), rng, minimum=50)
    village_years = split(sum(villages), len(years), rng)
    for y, n, v in zip(years, by_year, village_years):
        p = exit_figure(d, sec, plan.cid, y, "person", n, part_of=total[1]["figure_id"])
        h = exit_figure(d, sec, plan.cid, y, "household", max(1, n // 3))
        if v:
            d.line(f"{y}年计划脱贫", p, "、", h, "，退出贫困村", exit_figure(d, sec, plan.cid, y, "village", v), "。")
        else:
            d.line(f"{y}年计划脱贫", p, "、", h, "。")
    y = years[len(years) // 2]
    for t, v in zip(plan.townships, villages):
        d.line(f"{y}年{t['name_zh']}计划退出贫困村", exit_figure(d, sec, t["region_id"], y, "village", v), "。")


# --- chapter 4: investments, a total in 亿元 and its parts by category in 万元, each with its share -----


def investment(d: Document, dims: dict, printed: str, units: tuple, metric: str, indicator, **extra) -> tuple[str, dict]:
    """An investments figure; `units` is (printed_unit, unit, scale), `dims` what investment_dims gives."""
    printed_unit, unit, scale = units
    return d.figure(
        "investments",
        printed,
        printed_unit,
        unit,
        scale,
        basis="share" if metric == "share" else "amount",
        indicator_zh=indicator[0],
        indicator_en=indicator[1],
        **dims,
        **extra,
    )


def investment_dims(sec: str, cid: str, breakdown: str, category: tuple[str, str]) -> dict:
    return {
        "region_id": cid,
        "section_zh": sec,
        "breakdown": breakdown,
        "category_zh": category[0],
        "category_en": category[1],
        "funding_source_zh": "",
        "funding_source_en": "",
        "year": "",
        "project_zh": "",
        "project_en": "",
    }


def category_line(d: Document, sec: str, cid: str, category: tuple[str, str], amount: int, printed_total: int, total_id: str):
    """A category's amount (a part of the total) and its share of the printed total, on one line."""
    cat_zh, cat_en = category
    dims = investment_dims(sec, cid, "by_category", category)
    a = investment(
        d, dims, str(amount), ("万元", "万元", 1), "amount", (f"{cat_zh}投资", f"{cat_en} investment"), part_of=total_id
    )
    share = (Decimal(100) * amount / printed_total).quantize(Decimal("0.01"))
    indicator = (f"{cat_zh}投资占比", f"Share of {cat_en.lower()}")
    s = investment(d, dims, fmt(share), ("%", "%", 1), "share", indicator, ratio_of=f"{a[1]['figure_id']}/{total_id}")
    d.line(f"{cat_zh}投资", a, "，占总投资的", s, "；")


def chapter_investments(d: Document, plan: Plan, rng: random.Random) -> list[dict]:
    """The investments chapter; returns the document's errata (every third document in ten prints a total off its parts)."""
    sec = "第四章 投资估算"
    d.line(sec)
    amounts = [rng.randint(800, 60000) for _ in CATEGORIES]
    parts_sum = sum(amounts)
    printed_total = parts_sum
    erratum = plan.i % 10 == 3
    if erratum:  # the source's own inconsistency: the printed total is a little off its parts
        printed_total = next(parts_sum + k for k in range(1, 10) if (parts_sum + k) % 10)
    total_yi = Decimal(printed_total) / 10000
    dims = investment_dims(sec, plan.cid, "total", ("", ""))
    indicator = ("规划总投资", "Total planned investment")
    total = investment(d, dims, fmt(total_yi), ("亿元", "万元", 10000), "amount", indicator, is_total="true")
    d.line("规划期内，全县脱贫攻坚总投资", total, "，其中：")
    for category, amount in zip(CATEGORIES, amounts):
        category_line(d, sec, plan.cid, category, amount, printed_total, total[1]["figure_id"])
    return [total_vs_categories(total[1], total_yi, Decimal(parts_sum) / 10000)] if erratum else []


def total_vs_categories(row: dict, total_yi: Decimal, parts_yi: Decimal) -> dict:
    """The errata.yaml entry of a printed total its category parts do not add up to."""
    return {
        "id": "total-vs-categories",
        "check": "part-of-total",
        "figure_id": row["figure_id"],
        "lines": f"{row['line_start']}-{row['line_start'] + len(CATEGORIES)}",
        "printed": fmt(total_yi),
        "computed": fmt(parts_yi),
        "description_zh": f"分类投资合计{fmt(parts_yi)}亿元，与总投资{fmt(total_yi)}亿元不符（合成数据）",
        "description_en": "The categories add up to a little less than the printed total (synthetic data)",
    }


# --- chapter 5: measures, some per township, some in scaled printed units -----------------------------


def measure_printed(unit: str, scale: int, rng: random.Random) -> str:
    """A measure's value as printed: in 万 or 千 units with decimals, kilometres with one decimal."""
    if scale == 10000:
        return fmt(Decimal(rng.randint(11, 299)) / 100)
    if scale == 1000:
        return fmt(Decimal(rng.randint(5, 200)) / 10)
    if unit == "公里":
        return fmt(Decimal(rng.randint(50, 3000)) / 10)
    if unit == "个":
        return str(rng.randint(5, 120))
    return str(rng.randint(100, 5000))


def measure_line(d: Document, plan: Plan, sec: str, k: int, measure: tuple, rng: random.Random) -> None:
    sector_zh, sector_en, proj_zh, proj_en, ind_zh, ind_en, unit, printed_unit, scale, template = measure
    printed = measure_printed(unit, scale, rng)
    region = plan.townships[k % len(plan.townships)]["region_id"] if k % 4 == 3 else plan.cid
    year = plan.years[k % len(plan.years)] if k % 3 == 0 else ""
    fig = d.figure(
        "measures",
        printed,
        printed_unit,
        unit,
        scale,
        region_id=region,
        section_zh=sec,
        sector_zh=sector_zh,
        sector_en=sector_en,
        project_zh=proj_zh,
        project_en=proj_en,
        year=year,
        status="achieved" if k % 5 == 4 else "planned",
        indicator_zh=ind_zh,
        indicator_en=ind_en,
    )
    before, after = template.split("{v}")
    who = next((t["name_zh"] for t in plan.townships if t["region_id"] == region), "")
    d.line(f"{year}年" if year else "", who, before, fig, after + "。")


def chapter_measures(d: Document, plan: Plan, rng: random.Random) -> None:
    sec = "第五章 主要任务"
    d.line(sec)
    for k, measure in enumerate(MEASURES):
        measure_line(d, plan, sec, k, measure, rng)


# --- files: source text, package, errata and ignore lists ---------------------------------------------


def ignore_entries(last: int) -> list[dict]:
    """The ignore list of every synthetic document: the years its lines print."""
    return [
        {
            "lines": f"1-{last}",
            "pattern": r"(?:19|20)\d\d(?=年)",
            "reason": "year",
            "note": "years are dimensions of figures, not figures",
        },
        {"lines": f"1-{last}", "pattern": r"(?:19|20)\d\d(?=—)", "reason": "year", "note": "first year of a year range"},
    ]


def write_yaml(path: Path, data: list) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_package(d: Document, plan: Plan, errata: list[dict], datasets: Path, sources: Path) -> None:
    """The source text into sources/, the data package with its errata and ignore lists into datasets/."""
    source_file = f"{plan.doc_id}.txt"
    (sources / source_file).write_text("\n".join(d.lines) + "\n", encoding="utf-8")
    pkg = datasets / plan.doc_id
    (pkg / "data").mkdir(parents=True, exist_ok=True)
    names = ["documents", "regions", "plans"] + [f.name for f in families.FIGURES if d.rows[f.name]]
    write_descriptor(pkg, descriptor(plan.doc_id, plan.title, plan.title_en, names))
    document = {
        "doc_id": plan.doc_id,
        "title_zh": plan.title,
        "title_en": plan.title_en,
        "title_status": "printed",
        "region_id": plan.cid,
        "period_start": plan.start,
        "period_end": plan.end,
        "source_file": source_file,
        "source_sha256": sha256_of(sources / source_file),
        "notes": "Synthetic document generated by build_scripts/synth.py for `portal bench`; not a real plan.",
        "notes_zh": "由 portal bench 生成的虚构文件，不是真实的规划。",
    }
    write_csv(pkg / "data" / "documents.csv", schema_fields(datasets, "documents"), [document])
    regions = [PROVINCE, plan.prefecture, plan.county, *plan.townships]
    write_csv(
        pkg / "data" / "regions.csv",
        schema_fields(datasets, "regions"),
        [{**r, "gb_code": "", "line": 1, "parent_inferred": "false"} for r in regions],
    )
    write_csv(
        pkg / "data" / "plans.csv",
        schema_fields(datasets, "plans"),
        [main_plan(plan.doc_id, plan.title, plan.title_en, len(d.lines))],
    )
    for fam in families.FIGURES:
        if d.rows[fam.name]:
            write_csv(pkg / "data" / f"{fam.name}.csv", schema_fields(datasets, fam.name), d.rows[fam.name])
    write_yaml(pkg / "ignore.yaml", ignore_entries(len(d.lines)))
    write_yaml(pkg / "errata.yaml", errata)


def write_document(i: int, datasets: Path, sources: Path, rng: random.Random) -> str:
    """Document number i: its text chapter by chapter (drawing from rng in that order), then its files."""
    plan = Plan.of(i)
    d = Document(plan.doc_id)
    d.line(plan.title)
    d.line("（样例文本：由 portal bench 生成的合成文件，用于测量构建性能，不是真实的政府文件。）")
    poor_total, villages = chapter_baselines(d, plan, rng)
    chapter_targets(d, plan, rng, poor_total)
    chapter_exits(d, plan, rng, poor_total, villages)
    errata = chapter_investments(d, plan, rng)
    chapter_measures(d, plan, rng)
    write_package(d, plan, errata, datasets, sources)
    return plan.doc_id


def generate(n: int, datasets: Path, sources: Path, seed: int = 0) -> list[str]:
    """Write n documents into datasets/ (with the real shared schemas) and their texts into sources/."""
    datasets.mkdir(parents=True, exist_ok=True)
    sources.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "datasets" / "schemas", datasets / "schemas", dirs_exist_ok=True)
    return [write_document(i, datasets, sources, random.Random(seed * 1_000_003 + i)) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m build_scripts.tools.synth", description="write a synthetic corpus for benchmarks"
    )
    ap.add_argument("--documents", type=int, default=50)
    ap.add_argument("--out", type=Path, required=True, help="folder for datasets/ and sources/")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    ids = generate(args.documents, args.out / "datasets", args.out / "sources", args.seed)
    print(f"{len(ids)} synthetic documents in {args.out / 'datasets'}, source texts in {args.out / 'sources'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
