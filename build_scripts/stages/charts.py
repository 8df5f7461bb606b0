"""Stage 4, charts: altair specs rendered at build time to SVG and PNG with vl-convert (no JavaScript).

A chart is named by the hash of its spec, so an unchanged chart is never rendered twice (the cache),
and a region page and a dataset page that show the same data share one file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import pandas as pd
from markupsafe import Markup

from ..families import LABELS, LABELS_EN
from ..i18n import Edition, zh_span
from ..settings import LICENSE, Settings
from ..units import unit_en
from ..workers import parallel_map
from .derive import Dataset, Derived, addable_groups, exact, exits_by_year, first_statements, period_of

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, sans-serif"
# Drawn for a phone: about 340 px wide in all, so that at 360 px text stays at 11 px or more as displayed
# (CSS shows them larger on a desktop). Labels longer than LABEL_LIMIT are cut; the data table has them whole.
WIDTH = 190
FACET_WIDTH = 115
TEXT = 13
LABEL_LIMIT = 130
CONFIG = {
    "font": FONT,
    "title": {"font": FONT, "fontSize": 15, "anchor": "start", "subtitleFont": FONT, "subtitleFontSize": TEXT,
              "subtitleColor": "#444", "offset": 8},
    "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": TEXT, "titleFontSize": TEXT, "labelLimit": LABEL_LIMIT},
    "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": TEXT, "titleFontSize": TEXT, "labelLimit": LABEL_LIMIT * 2,
               "orient": "bottom", "direction": "vertical", "columns": 1},
    "header": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": TEXT, "titleFontSize": TEXT, "labelLimit": 150},
    "view": {"stroke": None},
}  # fmt: skip
TITLE_CHARS = 21  # characters of a title line at 15 px in about 330 px
NOTE_CHARS = 25  # of a subtitle line at 13 px
# English is about half as wide per character; its labels wrap at spaces onto lines LINE px apart
TITLE_CHARS_EN, NOTE_CHARS_EN = 40, 48
AXIS_CHARS_EN = 18  # of an axis label in LABEL_LIMIT px
LEGEND_CHARS_EN = 30  # of a legend entry (it starts under the bars, past the axis labels)
HEADER_CHARS_EN = 17  # of a small multiple's header over FACET_WIDTH px
LINE = 15
ZH = Edition("zh")
MAX_PANELS = 12  # documents shown in one comparison chart
# twenty distinct colours (no two alike): a chart with more categories than this gets no colour legend
PALETTE = [
    "#1f5fa8", "#e07b24", "#2e9a5e", "#c23b3b", "#7a5bb5", "#8a6d3b", "#d35fa6", "#6f7378", "#a6a53a", "#2aa5b8",
    "#9ec5e8", "#f5b971", "#93d19f", "#f09a9a", "#c4b3e0", "#c9ad84", "#f2b5d9", "#b9bcc0", "#d9d67e", "#8fd6e0",
]  # fmt: skip


@dataclass
class Chart:
    key: str  # content hash: file stem
    title: str
    description: str  # accessible description (alt text)
    unit: str
    source: str  # "来源：… 第 a–b 行"
    columns: list[tuple[str, str]]  # (field, header) of the data table beside the chart, in the edition's language
    rows: list[dict]
    spec: dict = field(repr=False, default_factory=dict)
    width: int = 0
    height: int = 0
    figures: list[dict] = field(repr=False, default_factory=list)  # the data rows the chart shows
    totals: list[dict] = field(default_factory=list)  # printed totals its parts make up: check outcome
    note: str = ""  # what the reader is told about those totals

    def path(self, ext: str) -> str:
        return f"charts/{self.key}.{ext}"

    @property
    def filename(self) -> str:
        """A download's name a reader recognises: the title, without characters file systems refuse."""
        return re.sub(r'[\\/:*?"<>|\s（）()：，,]+', "-", self.title).strip("-")[:80] or self.key


def tr(ed: Edition, zh: str, en: str) -> str:
    """A chart text in the edition's language: charts are built in Python, so both are written here."""
    return en if ed.en else zh


def line_span(rows: list[dict], ed: Edition = ZH) -> str:
    a = min(r["line_start"] for r in rows)
    b = max(r["line_end"] for r in rows)
    return tr(ed, f"第{a}行", f"line {a}") if a == b else tr(ed, f"第{a}–{b}行", f"lines {a}–{b}")


def unit_text(unit: str, ed: Edition) -> str:
    """A unit as the edition writes it inside a chart (an image: a unit without English stays as it is)."""
    return unit_en(unit) or unit if ed.en else unit


def in_unit(head: str, unit: str, ed: Edition) -> str:
    """A column's name with its unit: 金额（万元）, Amount (10k yuan); a count (个) has no unit word in English."""
    u = unit_text(unit, ed)
    return tr(ed, f"{head}（{unit}）", f"{head} ({u})" if u else head)


def text_of(row: dict, column: str, ed: Edition) -> str:
    """A row's cell as a chart labels it: a `_zh` column's English twin in the English edition."""
    value = row.get(column)
    if ed.en and column.endswith("_zh"):
        value = row.get(f"{column[:-3]}_en") or value
    return str(value or "")


def region_en(doc: dict) -> str:
    rid = doc["region_id"]
    rows = doc["package"].tables.get("regions", []) if doc.get("package") else []
    return next((r.get("name_en") for r in rows if r["region_id"] == rid and r.get("name_en")), doc.get("region_zh") or rid)


def short_name(doc: dict, ed: Edition) -> str:
    """A document as a chart names it among others: its region and period."""
    return tr(ed, doc["short_zh"], f"{region_en(doc)} ({doc['period_start']}–{doc['period_end']})")


def source_line(doc: dict, rows: list[dict], ed: Edition) -> str:
    title = doc["title_zh"].strip("《》")
    return tr(
        ed, f"来源：《{title}》{line_span(rows)}", f"Source: {doc.get('title_en')} [translated title], {line_span(rows, ed)}"
    )


def titled(ds: Dataset, rows: list[dict], what: str, ed: Edition = ZH) -> str:
    """A chart title naming the jurisdiction, the plan (when a document bundles several) and the period
    of the rows shown, not the document's period."""
    a, b = period_of(rows, ds.document)
    plans = {r.get("plan_id") for r in rows}
    plan = ds.document["plans"].get(next(iter(plans)), {}) if len(plans) == 1 and len(ds.document["plans"]) > 1 else {}
    if ed.en:
        where = plan.get("title_en") or plan.get("title_zh") if plan else region_en(ds.document)
        return f"{where} ({a}–{b}): {what}" if a != b else f"{where} ({a}): {what}"
    where = plan["title_zh"] if plan else ds.document["region_zh"]
    return f"{where}（{a}—{b}）：{what}" if a != b else f"{where}（{a}年）：{what}"


def lines_of(values, chars: int) -> dict[str, list[str]]:
    """English labels longer than `chars`, as the lines they are drawn on (broken at spaces, hyphens and
    slashes: "Provincial/prefecture/county" is one word to textwrap)."""
    out = {}
    for v in dict.fromkeys(str(x) for x in values):
        lines = [x.replace("/ ", "/") for x in textwrap.wrap(v.replace("/", "/ "), chars, break_long_words=False)]
        if len(lines) > 1:
            out[v] = lines
    return out


def wrapped(values, chars: int, kind: str = "axis") -> tuple[dict, int]:
    """Axis, legend or header properties that draw long English labels on several lines, whole instead of
    cut at the label limit (Vega draws an array as lines), and the most lines a label takes. On an axis
    a label moves up by half its extra lines, so that it stays centred on its bar."""
    table = lines_of(values, chars)
    if not table:
        return {}, 1
    lookup = json.dumps(table, ensure_ascii=False, sort_keys=True)
    props = {"labelExpr": f"{lookup}[datum.value] || datum.value"}
    if kind != "legend":  # a legend has no line height of its own
        props["labelLineHeight"] = LINE
    if kind == "axis":
        props["labelOffset"] = {"expr": f"-{LINE / 2}*(length({lookup}[datum.value] || [0]) - 1)"}
    return props, max(len(x) for x in table.values())


def band_height(lines: int) -> dict:
    """Bars tall enough for labels of `lines` lines (Vega-Lite's default step is 20 px)."""
    return {"height": {"step": LINE * lines + 6}} if lines > 1 else {}


def make_chart(title: str, description: str, unit: str, source: str, src_rows: list[dict], frame: pd.DataFrame, build) -> Chart:
    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title=title, width=WIDTH), description)
    columns = [(c, c) for c in frame.columns]
    return Chart(key, title, description, unit, source, columns, frame.to_dict("records"), spec, figures=src_rows)


def spec_and_key(chart, description: str) -> tuple[dict, str]:
    """The Vega-Lite spec with the portal's config and its content hash (the chart's file name)."""
    spec = chart.configure(**CONFIG).to_dict()
    spec.pop("$schema", None)
    spec["description"] = description
    return spec, hashlib.sha256(json.dumps(spec, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def with_totals(chart: Chart, ds: Dataset, derived_checks: dict, ed: Edition = ZH) -> Chart:
    """Attach the printed totals whose parts the chart shows, with the outcome of their check
    (part-of-total: the parts add up, or an erratum records the source's own error)."""
    by_id = {r["figure_id"]: r for r in ds.rows}
    shown = {r["figure_id"] for r in chart.figures}
    notes = []
    for total_id in sorted({t for r in chart.figures for t in (r.get("part_of") or "").split()}):
        parts = [r for r in ds.rows if total_id in (r.get("part_of") or "").split()]
        total = by_id.get(total_id)
        if total is None or not {r["figure_id"] for r in parts} <= shown:
            continue  # the chart shows only some parts: no claim about the total
        outcome = derived_checks.get((ds.package.id, "part-of-total", total_id), {})
        chart.totals.append({"figure_id": total_id, "value": total["value"], "parts": sorted(r["figure_id"] for r in parts),
                             "sum": sum(float(exact(r)) for r in parts), "ok": outcome.get("ok", True),
                             "erratum": outcome.get("erratum", False)})  # fmt: skip
        if ed.en:  # the total as printed is a quote from the source, marked as such
            printed = Markup("{} ({})").format(line_span([total], ed), zh_span(total["value_as_printed"], "printed"))
            verdict = "match" if outcome.get("ok", True) else "do not match: the source's discrepancy is recorded in the errata"
            notes.append(Markup("the {} items shown and the total printed on {} {}").format(len(parts), printed, verdict))
            continue
        verdict = "相符" if outcome.get("ok", True) else "原文不符，差异已记入勘误"
        notes.append(f"图中{len(parts)}项之和与原文合计 {total['value_as_printed']}（第{total['line_start']}行）{verdict}")
    if len(notes) > 2:  # a two-way table: its row and column totals, in one sentence
        bad = sum(1 for t in chart.totals if not t["ok"])
        n, good = len(notes), len(notes) - bad
        notes = [
            tr(ed, f"图中各项与原文印出的{n}个合计逐一核对：{good}个相符",
               f"the items shown were checked against each of the {n} totals printed in the source: {good} match")
            + (tr(ed, f"，{bad}个原文不符，差异已记入勘误", f", {bad} do not (the source's errors are recorded in the errata)")
               if bad else "")
        ]  # fmt: skip
    chart.note = Markup("; ").join(notes) if ed.en else "；".join(notes)
    return chart


FIGURE_COL = "编号"  # the figure ids behind each bar, in every chart's data table: a reader can look each one up
AXIS_LABELS = {"category_zh": "类别", "funding_source_zh": "资金来源", "year": "年度", "project_zh": "项目"}
AXIS_LABELS_EN = {"category_zh": "Category", "funding_source_zh": "Funding source", "year": "Year", "project_zh": "Project"}


def figure_col(ed: Edition) -> str:
    return tr(ed, FIGURE_COL, "Figure ID")


def axis_label(dim: str, ed: Edition) -> str:
    return (AXIS_LABELS_EN if ed.en else AXIS_LABELS)[dim]


def investment_charts(ds: Dataset, ed: Edition = ZH) -> list[Chart]:
    """One chart per group of amounts that may be added (derive.addable_groups): one plan, breakdown,
    status and unit each, so planned money is never stacked on money already spent."""
    charts = []
    for key, group in sorted(addable_groups("investments", ds.rows).items(), key=lambda kv: [str(x) for x in kv[0]]):
        dims = [d for d in AXIS_LABELS if any(r.get(d) not in (None, "") for r in group)]
        # a 2-D table's row and column totals are parts too; chart only the innermost cells
        cells = [r for r in group if all(r.get(d) not in (None, "") for d in dims)] or group
        if not dims or len(cells) < 2:
            continue  # one bar is not a chart; the table shows it
        charts.append(investment_chart(ds, key, dims, cells, ed))
    return charts


def investment_chart(ds: Dataset, key: tuple, dims: list[str], cells: list[dict], ed: Edition = ZH) -> Chart:
    unit, status = key[5], key[4]
    # English readers count money in millions, as the English pages show it (i18n.Edition.amount): 69,090 万元 → 690.9
    per = 100 if ed.en and unit == "万元" else 1
    unit = "million yuan" if per != 1 else unit
    value_col = in_unit(tr(ed, "金额", "Amount"), unit, ed)
    main = axis_label(dims[0], ed)
    # a second dimension colours the bars only while every colour stays distinct
    color = axis_label(dims[1], ed) if len(dims) > 1 and len({r.get(dims[1]) for r in cells}) <= len(PALETTE) else None
    label = lambda r: " · ".join(text_of(r, d, ed) for d in dims[: 1 if color else len(dims)])  # noqa: E731
    frame = pd.DataFrame([{main: label(r), **({color: text_of(r, dims[1], ed)} if color else {}),
                           value_col: float(exact(r) / per), figure_col(ed): r["figure_id"]} for r in cells])  # fmt: skip
    total = sum(float(exact(r)) for r in cells)
    if ed.en:
        what = f"{'investment made' if status == 'achieved' else 'planned investment'} by " + " and ".join(
            axis_label(d, ed).lower() for d in dims
        )
        what = what[0].upper() + what[1:]
        from .pages import money_en  # pages imports this module

        money = money_en(total) if per != 1 else f"{total:,.2f} {unit_text(unit, ed)}".strip()
        desc = f"Bar chart: {len(cells)} investment items totalling {money}, by {main.lower()}" + (
            f", stacked by {color.lower()}." if color else "."
        )
    else:
        what = f"{'已完成' if status == 'achieved' else '计划'}投资，按{'、'.join(AXIS_LABELS[d] for d in dims)}"
        desc = f"条形图：{len(cells)}项投资，合计{total:,.2f}{unit}，按{main}分列" + (f"并按{color}堆叠" if color else "") + "。"
    y_props, lines = wrapped(frame[main], AXIS_CHARS_EN) if ed.en else ({}, 1)
    legend_props, _ = wrapped(frame[color], LEGEND_CHARS_EN, "legend") if ed.en and color else ({}, 1)

    def build(c):
        enc = {
            "y": alt.Y(f"{main}:N", sort=None, title=None, **({"axis": alt.Axis(**y_props)} if y_props else {})),
            "x": alt.X(f"{value_col}:Q", title=value_col),
            "tooltip": list(frame.columns),
        }
        legend = {"legend": alt.Legend(**legend_props)} if legend_props else {}
        enc["color"] = (
            alt.Color(f"{color}:N", scale=alt.Scale(range=PALETTE), title=color, **legend) if color else alt.value(PALETTE[0])
        )
        return c.mark_bar().encode(**enc).properties(**band_height(lines))

    source = source_line(ds.document, cells, ed)
    return make_chart(titled(ds, cells, what, ed), desc, unit_text(unit, ed), source, cells, frame, build)


def exit_charts(ds: Dataset, ed: Edition = ZH) -> list[Chart]:
    """Exits by year for the whole jurisdiction, one chart per status: exits already reached and
    planned exits are never stacked together."""
    charts = []
    year, counted, number = tr(ed, "年度", "Year"), tr(ed, "对象", "Counted"), tr(ed, "数量", "Number")
    names = LABELS_EN["unit_counted"] if ed.en else LABELS["unit_counted"]
    for status in ("achieved", "planned"):
        records, shown = [], []
        for unit in LABELS["unit_counted"]:
            for y, rows in exits_by_year(ds.rows, unit, ds.document["region_id"], status).items():
                ids = " ".join(r["figure_id"] for r in rows)
                records.append({year: str(y), counted: names[unit], number: sum(r["value"] for r in rows), figure_col(ed): ids})
                shown += rows
        if records:
            charts.append(exit_chart(ds, status, records, shown, ed))
    return charts


def exit_chart(ds: Dataset, status: str, records: list[dict], shown: list[dict], ed: Edition = ZH) -> Chart:
    frame = pd.DataFrame(records)
    year, counted, number = frame.columns[:3]
    objects = list(dict.fromkeys(frame[counted]))  # counties to persons; English panels keep this order
    if ed.en:
        label = LABELS_EN["status"][status]
        title = titled(ds, shown, f"Exits from poverty by year ({label})", ed)
        desc = f"Faceted bar chart: {label} exits per year, of {', '.join(objects)}, each panel with its own vertical scale."
        unit = ", ".join(objects)
    else:
        label = LABELS["status"][status]
        title = titled(ds, shown, f"分年度脱贫退出（{label}）")
        desc = f"分面条形图：各年度{label}退出的" + "、".join(objects) + "数量，各自纵轴。"
        unit = "个、户、人"
    color = PALETTE[2] if status == "achieved" else PALETTE[0]

    def build(c):
        bars = c.mark_bar(color=color).encode(
            x=alt.X(f"{year}:O", title=None, axis=alt.Axis(labelAngle=0)), y=alt.Y(f"{number}:Q", title=None),
            tooltip=list(frame.columns),
        )  # fmt: skip
        return (
            bars.properties(width=FACET_WIDTH, height=110)
            .facet(facet=alt.Facet(f"{counted}:N", title=None, **({"sort": objects} if ed.en else {})), columns=2)
            .resolve_scale(y="independent")
        )

    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title=title), desc)
    source = source_line(ds.document, shown, ed)
    return Chart(key, title, desc, unit, source, [(c, c) for c in frame.columns], frame.to_dict("records"), spec, figures=shown)


def cause_charts(ds: Dataset, ed: Edition = ZH) -> list[Chart]:
    """Households (or persons) by cause: the largest group of causes that may be added; shares of
    causes when the document gives only shares (bars side by side, never stacked)."""
    groups = sorted(addable_groups("poverty_causes", ds.rows).values(), key=len, reverse=True)
    rows = groups[0] if groups else [r for r in first_statements(ds.rows) if r.get("basis") == "share" and not r["is_total"]]
    units_ = {r["unit"] for r in rows}
    if not rows or len(units_) != 1:
        return []
    unit = units_.pop()
    cause = tr(ed, "致贫原因", "Cause of poverty")
    col = in_unit(tr(ed, "数量", "Share" if unit == "%" else "Number"), unit, ed)
    frame = pd.DataFrame(
        [{cause: text_of(r, "cause_zh", ed), col: float(r["value"]), figure_col(ed): r["figure_id"]} for r in rows]
    )
    desc = tr(ed, f"横向条形图：{len(rows)}类致贫原因（单位：{unit}），由多到少排列。",
              f"Horizontal bar chart: {len(rows)} causes of poverty ({unit_text(unit, ed)}), largest first.")  # fmt: skip
    y_props, lines = wrapped(frame[cause], AXIS_CHARS_EN) if ed.en else ({}, 1)

    def build(c):
        y = alt.Y(f"{cause}:N", sort="-x", title=None, **({"axis": alt.Axis(**y_props)} if y_props else {}))
        return c.mark_bar(color=PALETTE[1]).encode(y=y, x=alt.X(f"{col}:Q", title=col),
                                                   tooltip=list(frame.columns)).properties(**band_height(lines))  # fmt: skip

    title = titled(ds, rows, tr(ed, "致贫原因", "Causes of poverty"), ed)
    return [make_chart(title, desc, unit_text(unit, ed), source_line(ds.document, rows, ed), rows, frame, build)]


def comparison_charts(derived: Derived, ed: Edition = ZH) -> list[Chart]:
    # small multiples stay readable (and cheap to render) with a dozen panels; the page's table lists all
    rows = sorted((c for c in derived.comparison if c["exit_persons"]), key=lambda c: -sum(c["exit_persons"].values()))
    rows = sorted(rows[:MAX_PANELS], key=lambda c: c["doc"]["doc_id"])
    out = []
    if rows:
        out.append(compare_exits(rows, ed))
    with_shares = [c for c in derived.comparison if c["category_shares"]][:MAX_PANELS]
    shares = [(c, s) for c in with_shares for s in c["category_shares"]]
    if shares:
        out.append(compare_shares(shares, ed))
    return out


def compare_exits(rows: list[dict], ed: Edition = ZH) -> Chart:
    doc, year, persons = (
        tr(ed, "文件", "Document"),
        tr(ed, "年度", "Year"),
        tr(ed, "计划脱贫人口（人）", "Persons planned to exit"),
    )
    frame = pd.DataFrame(
        [{doc: short_name(c["doc"], ed), year: str(y), persons: v} for c in rows for y, v in c["exit_persons"].items()]
    )
    desc = tr(ed, "小多图：各文件计划的分年度脱贫人口，各自纵轴。",
              "Small multiples: persons each document plans to lift out of poverty, by year;"
              " each panel has its own scale.")  # fmt: skip
    header, _ = wrapped(frame[doc], HEADER_CHARS_EN, "header") if ed.en else ({}, 1)

    def build(c):
        bars = c.mark_bar(color=PALETTE[0]).encode(
            x=alt.X(
                f"{year}:O", title=None, axis=alt.Axis(labelAngle=-45)
            ),  # upright, four years in a third of a phone run together
            y=alt.Y(f"{persons}:Q", title=None),
            tooltip=list(frame.columns),
        )
        facet = alt.Facet(f"{doc}:N", title=None, **({"header": alt.Header(**header)} if header else {}))
        return bars.properties(width=FACET_WIDTH, height=110).facet(facet=facet, columns=2).resolve_scale(y="independent")

    heading = tr(ed, "分年度计划脱贫人口", "Persons planned to exit poverty, by year")
    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title=heading), desc)
    shown = [r for c in rows for r in c["exit_rows"]]
    source = tr(
        ed, f"来源：各文件脱贫退出计划（{len(shown)}条记录）", f"Source: the documents' exit schedules ({len(shown)} records)"
    )
    return Chart(
        key,
        tr(ed, "分年度计划脱贫人口（人）", "Persons planned to exit poverty, by year"),
        desc,
        tr(ed, "人", "persons"),
        source,
        [(c, c) for c in frame.columns],
        frame.to_dict("records"),
        spec,
        figures=shown,
    )


def compare_shares(shares: list, ed: Edition = ZH) -> Chart:
    doc, cat, share = tr(ed, "文件", "Document"), tr(ed, "类别", "Category"), tr(ed, "比重（%）", "Share (%)")
    frame = pd.DataFrame(
        [{doc: short_name(c["doc"], ed), cat: s[1] if ed.en else s[0], share: round(float(s[2]), 2)} for c, s in shares]
    )
    desc = tr(ed, "堆叠条形图：各文件投资按类别的构成（由金额计算的百分比）。",
              "Stacked bar chart: each document's investment by category (percentages computed from the amounts).")  # fmt: skip
    y_props, lines = wrapped(frame[doc], AXIS_CHARS_EN) if ed.en else ({}, 1)
    legend_props, _ = wrapped(frame[cat], LEGEND_CHARS_EN, "legend") if ed.en else ({}, 1)

    def build(c):
        x = alt.X(f"{share}:Q", stack="normalize", title=tr(ed, "比重", "Share"))
        color = alt.Color(
            f"{cat}:N", scale=alt.Scale(range=PALETTE), **({"legend": alt.Legend(**legend_props)} if legend_props else {})
        )
        y = alt.Y(f"{doc}:N", title=None, **({"axis": alt.Axis(**y_props)} if y_props else {}))
        return c.mark_bar().encode(y=y, x=x, color=color, tooltip=list(frame.columns)).properties(**band_height(lines))

    source = tr(ed, "来源：各文件投资估算按类别的金额，由本门户计算比重",
                "Source: the documents' investment estimates by category; shares computed by this portal")  # fmt: skip
    chart = make_chart(tr(ed, "投资构成（按类别）", "Investment by category"), desc, "%", source, [], frame, build)
    chart.figures = [r for c, _ in shares for r in c["category_rows"]]
    return chart


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters (Chinese text has no spaces to break at), breaking after punctuation
    when one is near the end of a line."""
    lines, rest = [], text
    while len(rest) > width:
        cut = max((rest.rfind(p, width // 2, width) + 1 for p in "，、：；）—· "), default=0) or width
        lines.append(rest[:cut].strip())
        rest = rest[cut:]
    return [*lines, rest.strip()] if rest.strip() else lines


def credited(chart: Chart, credit: str, ed: Edition = ZH) -> Chart:
    """The chart as downloaded carries its title, source lines, site name and licence inside the image."""
    spec = dict(chart.spec)
    if ed.en:
        title, source = textwrap.wrap(chart.title, TITLE_CHARS_EN), textwrap.wrap(chart.source, NOTE_CHARS_EN)
        credits = textwrap.wrap(credit, NOTE_CHARS_EN)
    else:
        title, source, credits = wrap(chart.title, TITLE_CHARS), wrap(chart.source, NOTE_CHARS), [credit]
    spec["title"] = {"text": title, "subtitle": [*source, *credits]}
    chart.spec = spec
    chart.key = hashlib.sha256(json.dumps(spec, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]
    return chart


def images(spec: dict) -> tuple[bytes, bytes]:
    """SVG and PNG of one spec. The PNG is rasterized from the SVG (byte-identical to vegalite_to_png,
    which renders the same SVG internally), so the spec is laid out once, not twice."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec)
    return svg.encode(), vlc.svg_to_png(svg, scale=2)


def is_cached(chart: Chart, cache: Path | None) -> bool:
    return bool(cache) and (cache / f"{chart.key}.svg").exists() and (cache / f"{chart.key}.png").exists()


def cached_images(chart: Chart, cache: Path | None) -> tuple[bytes, bytes] | None:
    if not is_cached(chart, cache):
        return None
    return (cache / f"{chart.key}.svg").read_bytes(), (cache / f"{chart.key}.png").read_bytes()


def store_images(chart: Chart, cache: Path | None, svg: bytes, png: bytes) -> None:
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        for ext, data in (("svg", svg), ("png", png)):
            tmp = cache / f".{chart.key}.{ext}.{os.getpid()}"
            tmp.write_bytes(data)
            tmp.replace(cache / f"{chart.key}.{ext}")  # never a half-written file in the cache


def render(chart: Chart, outdir: Path, cache: Path | None, rendered: tuple[bytes, bytes] | None = None) -> None:
    """Write SVG, PNG, Vega-Lite spec and CSV; reuse a cached rendering of the same spec."""
    outdir.mkdir(parents=True, exist_ok=True)
    files = {}
    pair = rendered or cached_images(chart, cache)
    if pair is None:
        pair = images(chart.spec)
        store_images(chart, cache, *pair)
    elif rendered is not None:
        store_images(chart, cache, *pair)
    files["svg"], files["png"] = pair
    files["vl.json"] = json.dumps(
        {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", **chart.spec}, ensure_ascii=False, indent=1, sort_keys=True
    ).encode()
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[c for c, _ in chart.columns], lineterminator="\r\n")
    w.writeheader()
    w.writerows(chart.rows)
    files["csv"] = ("\ufeff" + buf.getvalue()).encode()
    svg = files["svg"].decode()
    m = re.search(r'<svg[^>]*width="([\d.]+)"[^>]*height="([\d.]+)"', svg)
    if m:
        chart.width, chart.height = int(float(m.group(1))), int(float(m.group(2)))
    for ext, data in files.items():
        (outdir / f"{chart.key}.{ext}").write_bytes(data)


MIN_CHARTS_PER_WORKER = 6  # below this, starting a worker (its own Vega engine) costs more than it saves


@dataclass(frozen=True)
class ChartSet:
    """Every chart of the build: per dataset, and the comparison page's."""

    by_dataset: dict[str, list[Chart]]
    compare: list[Chart]

    def for_dataset(self, dataset_id: str) -> list[Chart]:
        return self.by_dataset.get(dataset_id, [])

    def all(self) -> list[Chart]:
        return [c for charts in (*self.by_dataset.values(), self.compare) for c in charts]


def run(derived: Derived, settings: Settings, docs_dir: Path, edition: Edition | None = None) -> ChartSet:
    """Charts for every dataset and for the comparison page in the edition's language, rendered into
    docs_dir/charts (docs_dir is the edition's folder)."""
    ed = edition or ZH
    return run_editions(derived, settings, docs_dir, [ed])[ed.lang]


def chart_set(derived: Derived, settings: Settings, ed: Edition) -> ChartSet:
    """Every chart of one edition, specified (not yet rendered)."""
    by_id = {}
    outcomes = {(c["doc_id"], c["check"], c["figure_id"]): c for c in derived.checks}
    for ds in derived.datasets:
        # the family registry names each family's builder (families.py)
        made = globals()[ds.family.chart](ds, ed) if ds.family.chart else []
        by_id[ds.id] = [with_totals(c, ds, outcomes, ed) for c in made]
    charts = ChartSet(by_id, comparison_charts(derived, ed))
    credit = tr(
        ed, f"{settings.publisher_zh} · 数据许可 {LICENSE['name']}", f"{settings.publisher_en} · data licence {LICENSE['name']}"
    )
    for chart in charts.all():
        credited(chart, credit, ed)
    return charts


def run_editions(derived: Derived, settings: Settings, docs_dir: Path, eds: list[Edition]) -> dict[str, ChartSet]:
    """The charts of every edition, each into its edition's folder of docs_dir (en/charts for English), rendered
    in one batch: one pool of workers for all languages, not one per language (a worker's start costs a second)."""
    cache = settings.work / "cache" / "charts" if settings.cache else None
    sets = {ed.lang: chart_set(derived, settings, ed) for ed in eds}
    unique = {ed.lang: {c.key: c for c in sets[ed.lang].all()} for ed in eds}
    todo = list({k: c for u in unique.values() for k, c in u.items() if not is_cached(c, cache)}.values())
    fresh = dict(zip([c.key for c in todo], parallel_map(images, [c.spec for c in todo], MIN_CHARTS_PER_WORKER)))
    for ed in eds:
        for chart in unique[ed.lang].values():
            render(chart, docs_dir / ed.prefix / "charts", cache, fresh.get(chart.key))
        # a chart shown on several pages is one object per page: each gets the size of the rendering
        for chart in sets[ed.lang].all():
            chart.width, chart.height = unique[ed.lang][chart.key].width, unique[ed.lang][chart.key].height
    return sets
