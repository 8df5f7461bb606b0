"""The family registry: what every resource family of a data package is, declared once.

A family is one shared Table Schema in datasets/schemas/ (every package uses the same schemas, so the
build can merge them into portal-wide tables) plus one entry here: its titles, the label columns that
describe a figure, the columns its dataset page shows, the chart builder of stages/charts.py that draws
it, and how region pages show it. Adding a family means a schema and one entry in FIGURES.

LABELS is the one table of every code a reader might see, with its Chinese (and English) label.
"""

from __future__ import annotations

from dataclasses import dataclass

# dataset pages: the indicator first (it stays in view while a phone scrolls the table sideways), then the value
# with its unit, where, the family's own columns, and how to check it; the id last
ID_COLUMNS = ("indicator_zh", "value", "region_id")
VALUE_COLUMNS = ("value_as_printed", "line_start", "status", "basis", "is_total", "restates", "figure_id")


@dataclass(frozen=True)
class Family:
    name: str  # resource name and schema file stem
    letter: str  # first letter of figure ids in this family ("" for reference tables)
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    labels: tuple[str, ...] = ()  # label columns that describe a figure, besides the indicator
    dims: tuple[str, ...] = ()  # columns the dataset page shows between the ids and the value
    chart: str = ""  # name of the chart builder in stages/charts.py ("" draws none)
    region_view: str = "table"  # on region pages: "table" of figures, or "timeline" (exits by year)

    @property
    def is_figures(self) -> bool:
        return bool(self.letter)

    def dataset_id(self, doc_id: str) -> str:
        """The id of this family's dataset of one document: its page, download folder and API name."""
        return f"{doc_id}-{self.name.replace('_', '-')}"

    @property
    def columns(self) -> list[str]:
        """Columns of the dataset page's table, in order."""
        return [*ID_COLUMNS, *self.dims, *VALUE_COLUMNS]


REFERENCE = (
    Family("documents", "", "来源文件", "Documents", "规划文件的元数据与原文校验值",
           "Metadata and checksum of each source document"),
    Family("regions", "", "地区", "Regions", "文件涉及的省、市、县、乡镇和村",
           "Provinces, prefectures, counties, townships and villages named"),
    Family("plans", "", "规划", "Plans", "文件包含的规划或方案", "Plans bundled in the document (one for most documents)"),
)  # fmt: skip

FIGURES = (
    Family(
        "targets", "T", "目标任务", "Targets", "规划确定的目标值", "Goals set for a future year",
        labels=("sector_zh",), dims=("sector_zh", "target_year", "comparator"),
    ),
    Family(
        "investments", "I", "投资与资金", "Investments", "投资估算、资金来源、分年度与项目资金",
        "Planned investment by category, funding source, year and project",
        labels=("breakdown", "category_zh", "funding_source_zh", "project_zh"),
        dims=("breakdown", "category_zh", "funding_source_zh", "year", "project_zh"),
        chart="investment_charts",
    ),
    Family(
        "exit_schedules", "E", "脱贫退出计划", "Exit schedules", "各年度退出的县、乡镇、村、户和人口（计划与实现）",
        "Counties, townships, villages, households and persons exiting poverty by year",
        labels=("unit_counted", "status"), dims=("year", "unit_counted", "village_names_zh"),
        chart="exit_charts", region_view="timeline",
    ),
    Family(
        "baselines", "B", "基线与成效", "Baselines", "基准年现状与已取得的成效",
        "Situation at a reference date and outcomes already reached",
        labels=("kind",), dims=("kind", "reference_year", "reference_period"),
    ),
    Family(
        "poverty_causes", "C", "致贫原因", "Causes of poverty", "按致贫原因统计的贫困户", "Poor households by cause of poverty",
        labels=("cause_zh",), dims=("cause_zh", "reference_year"), chart="cause_charts",
    ),
    Family(
        "measures", "M", "建设任务", "Measures", "道路、搬迁、培训、住房等实物量任务",
        "Physical quantities: roads, relocation, training, housing, projects",
        labels=("sector_zh", "project_zh"), dims=("sector_zh", "project_zh", "year"),
    ),
)  # fmt: skip

ALL = REFERENCE + FIGURES
BY_NAME = {f.name: f for f in ALL}
FIGURE_NAMES = tuple(f.name for f in FIGURES)

# code -> label, per coded column; templates and charts read labels only from here
LABELS: dict[str, dict[str, str]] = {
    "level": {"province": "省", "prefecture": "市（州）", "county": "县（区）", "township": "乡镇", "village": "村"},
    "level_en": {
        "province": "Province",
        "prefecture": "Prefecture",
        "county": "County",
        "township": "Township",
        "village": "Village",
    },
    "unit_counted": {"county": "县", "township": "乡镇", "village": "村", "household": "户", "person": "人"},
    "status": {"planned": "计划", "achieved": "已实现", "baseline": "基期现状"},
    "basis": {"amount": "总量", "rate": "单位量", "share": "比重", "level": "水平"},
    "comparator": {"=": "达到", ">=": "不低于", "<=": "不高于", ">": "高于", "<": "低于"},
    "kind": {"status": "现状", "achievement": "已取得成效"},
    "title_status": {"printed": "原文印有标题", "inferred": "标题据正文推定"},
    "family": {f.name: f.title_zh for f in ALL},
    # the project's checks (stages/checks.py), as the quality page and errata name them
    "check": {
        "part-of-total": "分项之和与合计",
        "ratio": "比率与分子分母",
        "restates": "重复表述一致",
        "basis": "数值性质",
        "figure-id": "数字编号",
        "document-id": "文件编号",
        "canonical-unit": "标准单位",
        "value-conversion": "单位换算",
        "line-range": "原文行号",
        "printed-in-source": "原文出处",
        "figure-reference": "引用的数字",
        "x-y": "相关数字",
    },
    # a breakdown code is made of these words (by_category_source → 按类别、资金来源): see breakdown_label
    "breakdown_word": {
        "by": "按",
        "category": "类别",
        "source": "资金来源",
        "year": "年度",
        "project": "项目",
        "county": "县",
        "target": "对象",
        "group": "",
        "total": "合计",
        "single": "单项",
        "unit": "单位",
        "cost": "成本",
        "share": "分配比例",
        "rules": "规则",
        "allocation": "分配",
        "rule": "规则",
        "annual": "年度",
        "per": "每",
        "village": "村",
        "water": "水利",
        "culture": "文化",
        "edu": "教育",
        "transport": "交通",
        "safety": "安全",
        "power": "电力",
        "ecommerce": "电商",
        "finance": "金融",
        "dibao": "低保",
        "telecom": "通信",
        "science": "科技",
        "forestry": "林业",
        "relocation": "易地搬迁",
        "industry": "产业",
        "dw": "饮水",
        "2": "二",
        "3": "三",
    },  # fmt: skip
}


# the same codes in English (the English edition); a test fails when a code has no English here
LABELS_EN: dict[str, dict[str, str]] = {
    "level": LABELS["level_en"],
    "unit_counted": {"county": "counties", "township": "townships", "village": "villages", "household": "households",
                     "person": "persons"},
    "status": {"planned": "planned", "achieved": "achieved", "baseline": "baseline"},
    "basis": {"amount": "amount", "rate": "per unit", "share": "share", "level": "level"},
    "comparator": {"=": "reach", ">=": "at least", "<=": "at most", ">": "above", "<": "below"},
    "kind": {"status": "situation", "achievement": "outcome achieved"},
    "title_status": {"printed": "title printed in the source", "inferred": "title inferred from the text"},
    "family": {f.name: f.title_en for f in ALL},
    "check": {
        "part-of-total": "parts and their total",
        "ratio": "ratio, numerator and denominator",
        "restates": "restatements agree",
        "basis": "kind of value",
        "figure-id": "figure id",
        "document-id": "document id",
        "canonical-unit": "standard unit",
        "value-conversion": "unit conversion",
        "line-range": "source line",
        "printed-in-source": "printed in the source",
        "figure-reference": "referenced figure",
        "x-y": "related figures",
    },
    "breakdown_word": {
        "by": "by", "category": "category", "source": "funding source", "year": "year", "project": "project",
        "county": "county", "target": "target group", "group": "", "total": "total", "single": "single item",
        "unit": "unit", "cost": "cost", "share": "share", "rules": "rules", "allocation": "allocation", "rule": "rule",
        "annual": "annual", "per": "per", "village": "village", "water": "water", "culture": "culture",
        "edu": "education", "transport": "transport", "safety": "safety", "power": "power", "ecommerce": "e-commerce",
        "finance": "finance", "dibao": "dibao", "telecom": "telecom", "science": "science", "forestry": "forestry",
        "relocation": "relocation", "industry": "industry", "dw": "drinking water", "2": "2", "3": "3",
    },
}  # fmt: skip


def breakdown_label_en(code: str) -> str:
    """A breakdown code in English, word by word (by_category_source → by category, funding source)."""
    words = LABELS_EN["breakdown_word"]
    head, topic = [], []
    for p in code.split("_"):
        (topic if p in TOPIC_WORDS or p.isdigit() else head).append(words.get(p, p))
    text = " ".join(w for w in head if w)
    for w in LIST_WORDS:  # by category funding source → by category, funding source
        text = text.replace(f" {LABELS_EN['breakdown_word'][w]} ", f" {LABELS_EN['breakdown_word'][w]}, ")
    return text + (f" ({' '.join(topic)})" if topic else "")


def breakdown_label(code: str) -> str:
    """The Chinese name of a breakdown code, word by word (by_year_transport_safety → 按年度（交通安全）); the topic
    words go in brackets at the end, numbers become （二）. A word the table lacks is kept as it is (a test fails)."""
    words = LABELS["breakdown_word"]
    head, topic, after_by = [], [], 0
    for p in code.split("_"):
        if p in TOPIC_WORDS:
            topic.append(words[p])
        elif p.isdigit():
            topic.append(words.get(p, p))
        else:
            if after_by > 1 and p in LIST_WORDS:
                head.append("、")
            head.append(words.get(p, p))
            after_by = after_by + 1 if (after_by or p == "by") else 0
    return "".join(head) + (f"（{''.join(topic)}）" if topic else "")


TOPIC_WORDS = {
    "water",
    "culture",
    "edu",
    "transport",
    "safety",
    "power",
    "ecommerce",
    "finance",
    "dibao",
    "telecom",
    "science",
    "dw",
}
LIST_WORDS = {"category", "source", "year", "project", "county", "target"}


def label(column: str, code, lang: str = "zh") -> str:
    """What a reader sees for a coded cell: its label, or the value itself when the column is not coded."""
    if code in (None, ""):
        return ""
    en = lang == "en"
    if isinstance(code, bool):
        return ("yes" if code else "no") if en else ("是" if code else "否")
    if column == "breakdown":
        return breakdown_label_en(str(code)) if en else breakdown_label(str(code))
    table = (LABELS_EN if en else LABELS).get(column)
    return table.get(code, str(code)) if table else str(code)
