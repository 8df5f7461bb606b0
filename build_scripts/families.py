"""The resource families every data package may hold, declared once.

A family is one shared Table Schema in datasets/schemas/; every package uses the same schemas so the
build can merge them into portal-wide tables.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str  # resource name and schema file stem
    letter: str  # first letter of figure ids in this family ("" for reference tables)
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    labels: tuple[str, ...] = ()  # label columns that describe a figure, besides the indicator

    @property
    def is_figures(self) -> bool:
        return bool(self.letter)


REFERENCE = (
    Family("documents", "", "来源文件", "Documents", "规划文件的元数据与原文校验值", "Metadata and checksum of each source document"),
    Family("regions", "", "地区", "Regions", "文件涉及的省、市、县、乡镇和村", "Provinces, prefectures, counties, townships and villages named"),
)

FIGURES = (
    Family("targets", "T", "目标任务", "Targets", "规划确定的目标值", "Goals set for a future year", ("sector_zh",)),
    Family(
        "investments", "I", "投资与资金", "Investments", "投资估算、资金来源、分年度与项目资金",
        "Planned investment by category, funding source, year and project",
        ("breakdown", "category_zh", "funding_source_zh", "project_zh"),
    ),
    Family(
        "exit_schedules", "E", "脱贫退出计划", "Exit schedules",
        "各年度退出的县、乡镇、村、户和人口（计划与实现）",
        "Counties, townships, villages, households and persons exiting poverty by year", ("unit_counted", "status"),
    ),
    Family("baselines", "B", "基线与成效", "Baselines", "基准年现状与已取得的成效", "Situation at a reference date and outcomes already reached", ("kind",)),
    Family("poverty_causes", "C", "致贫原因", "Causes of poverty", "按致贫原因统计的贫困户", "Poor households by cause of poverty", ("cause_zh",)),
    Family("measures", "M", "建设任务", "Measures", "道路、搬迁、培训、住房等实物量任务", "Physical quantities: roads, relocation, training, housing, projects", ("sector_zh", "project_zh")),
)

ALL = REFERENCE + FIGURES
BY_NAME = {f.name: f for f in ALL}
FIGURE_NAMES = tuple(f.name for f in FIGURES)
