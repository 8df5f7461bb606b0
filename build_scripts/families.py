"""The family registry: what every resource family of a data package is, declared once.

A family is one shared Table Schema in datasets/schemas/ (every package uses the same schemas, so the
build can merge them into portal-wide tables) plus one entry here: its titles, the label columns that
describe a figure, the columns its dataset page shows, the chart builder of stages/charts.py that draws
it, and how region pages show it. Adding a family means a schema and one entry in FIGURES.

LABELS is the one table of every code a reader might see, with its Chinese (and English) label.
"""

from __future__ import annotations

from dataclasses import dataclass

ID_COLUMNS = ("figure_id", "region_id", "indicator_zh")  # first on every dataset page
VALUE_COLUMNS = ("value", "unit", "value_as_printed", "line_start", "status", "basis", "is_total", "restates")  # last


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
}
