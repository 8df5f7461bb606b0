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
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import pandas as pd

from ..families import LABELS
from ..i18n import Edition
from ..settings import LICENSE, Settings
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
    columns: list[tuple[str, str]]  # (field, Chinese header) of the data table beside the chart
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


def line_span(rows: list[dict]) -> str:
    a = min(r["line_start"] for r in rows)
    b = max(r["line_end"] for r in rows)
    return f"第{a}行" if a == b else f"第{a}–{b}行"


def titled(ds: Dataset, rows: list[dict], what: str) -> str:
    """A chart title naming the jurisdiction, the plan (when a document bundles several) and the period
    of the rows shown, not the document's period."""
    a, b = period_of(rows, ds.document)
    plans = {r.get("plan_id") for r in rows}
    plan = ds.document["plans"].get(next(iter(plans)), {}) if len(plans) == 1 and len(ds.document["plans"]) > 1 else {}
    where = plan["title_zh"] if plan else ds.document["region_zh"]
    return f"{where}（{a}—{b}）：{what}" if a != b else f"{where}（{a}年）：{what}"


def make_chart(title: str, description: str, unit: str, doc: dict, src_rows: list[dict], frame: pd.DataFrame, build) -> Chart:
    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title=title, width=WIDTH), description)
    source = f"来源：《{doc['title_zh'].strip('《》')}》{line_span(src_rows)}"
    columns = [(c, c) for c in frame.columns]
    return Chart(key, title, description, unit, source, columns, frame.to_dict("records"), spec, figures=src_rows)


def spec_and_key(chart, description: str) -> tuple[dict, str]:
    """The Vega-Lite spec with the portal's config and its content hash (the chart's file name)."""
    spec = chart.configure(**CONFIG).to_dict()
    spec.pop("$schema", None)
    spec["description"] = description
    return spec, hashlib.sha256(json.dumps(spec, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def with_totals(chart: Chart, ds: Dataset, derived_checks: dict) -> Chart:
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
        verdict = "相符" if outcome.get("ok", True) else "原文不符，差异已记入勘误"
        notes.append(f"图中{len(parts)}项之和与原文合计 {total['value_as_printed']}（第{total['line_start']}行）{verdict}")
    if len(notes) > 2:  # a two-way table: its row and column totals, in one sentence
        bad = sum(1 for t in chart.totals if not t["ok"])
        notes = [
            f"图中各项与原文印出的{len(notes)}个合计逐一核对：{len(notes) - bad}个相符"
            + (f"，{bad}个原文不符，差异已记入勘误" if bad else "")
        ]
    chart.note = "；".join(notes)
    return chart


FIGURE_COL = "编号"  # the figure ids behind each bar, in every chart's data table: a reader can look each one up
AXIS_LABELS = {"category_zh": "类别", "funding_source_zh": "资金来源", "year": "年度", "project_zh": "项目"}


def investment_charts(ds: Dataset) -> list[Chart]:
    """One chart per group of amounts that may be added (derive.addable_groups): one plan, breakdown,
    status and unit each, so planned money is never stacked on money already spent."""
    charts = []
    for key, group in sorted(addable_groups("investments", ds.rows).items(), key=lambda kv: [str(x) for x in kv[0]]):
        dims = [d for d in AXIS_LABELS if any(r.get(d) not in (None, "") for r in group)]
        # a 2-D table's row and column totals are parts too; chart only the innermost cells
        cells = [r for r in group if all(r.get(d) not in (None, "") for d in dims)] or group
        if not dims or len(cells) < 2:
            continue  # one bar is not a chart; the table shows it
        charts.append(investment_chart(ds, key, dims, cells))
    return charts


def investment_chart(ds: Dataset, key: tuple, dims: list[str], cells: list[dict]) -> Chart:
    unit, status = key[5], key[4]
    value_col = f"金额（{unit}）"
    main = AXIS_LABELS[dims[0]]
    # a second dimension colours the bars only while every colour stays distinct
    color = AXIS_LABELS[dims[1]] if len(dims) > 1 and len({r.get(dims[1]) for r in cells}) <= len(PALETTE) else None
    label = lambda r: " · ".join(str(r.get(d) or "") for d in dims[: 1 if color else len(dims)])  # noqa: E731
    frame = pd.DataFrame([{main: label(r), **({color: str(r.get(dims[1]) or "")} if color else {}), value_col: float(exact(r)),
                           FIGURE_COL: r["figure_id"]} for r in cells])  # fmt: skip
    what = f"{'已完成' if status == 'achieved' else '计划'}投资，按{'、'.join(AXIS_LABELS[d] for d in dims)}"
    total = sum(float(exact(r)) for r in cells)
    desc = f"条形图：{len(cells)}项投资，合计{total:,.2f}{unit}，按{main}分列" + (f"并按{color}堆叠" if color else "") + "。"

    def build(c):
        enc = {
            "y": alt.Y(f"{main}:N", sort=None, title=None),
            "x": alt.X(f"{value_col}:Q", title=value_col),
            "tooltip": list(frame.columns),
        }
        enc["color"] = alt.Color(f"{color}:N", scale=alt.Scale(range=PALETTE), title=color) if color else alt.value(PALETTE[0])
        return c.mark_bar().encode(**enc)

    return make_chart(titled(ds, cells, what), desc, unit, ds.document, cells, frame, build)


def exit_charts(ds: Dataset) -> list[Chart]:
    """Exits by year for the whole jurisdiction, one chart per status: exits already reached and
    planned exits are never stacked together."""
    charts = []
    for status in ("achieved", "planned"):
        records, shown = [], []
        for unit, unit_zh in LABELS["unit_counted"].items():
            for year, rows in exits_by_year(ds.rows, unit, ds.document["region_id"], status).items():
                ids = " ".join(r["figure_id"] for r in rows)
                records.append({"年度": str(year), "对象": unit_zh, "数量": sum(r["value"] for r in rows), FIGURE_COL: ids})
                shown += rows
        if records:
            charts.append(exit_chart(ds, status, records, shown))
    return charts


def exit_chart(ds: Dataset, status: str, records: list[dict], shown: list[dict]) -> Chart:
    frame = pd.DataFrame(records)
    label = LABELS["status"][status]
    title = titled(ds, shown, f"分年度脱贫退出（{label}）")
    desc = f"分面条形图：各年度{label}退出的" + "、".join(dict.fromkeys(frame["对象"])) + "数量，各自纵轴。"
    color = PALETTE[2] if status == "achieved" else PALETTE[0]

    def build(c):
        bars = c.mark_bar(color=color).encode(
            x=alt.X("年度:O", title=None, axis=alt.Axis(labelAngle=0)), y=alt.Y("数量:Q", title=None), tooltip=list(frame.columns)
        )
        return (
            bars.properties(width=FACET_WIDTH, height=110)
            .facet(facet=alt.Facet("对象:N", title=None), columns=2)
            .resolve_scale(y="independent")
        )

    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title=title), desc)
    source = f"来源：《{ds.document['title_zh'].strip('《》')}》{line_span(shown)}"
    return Chart(
        key, title, desc, "个、户、人", source, [(c, c) for c in frame.columns], frame.to_dict("records"), spec, figures=shown
    )


def cause_charts(ds: Dataset) -> list[Chart]:
    """Households (or persons) by cause: the largest group of causes that may be added; shares of
    causes when the document gives only shares (bars side by side, never stacked)."""
    groups = sorted(addable_groups("poverty_causes", ds.rows).values(), key=len, reverse=True)
    rows = groups[0] if groups else [r for r in first_statements(ds.rows) if r.get("basis") == "share" and not r["is_total"]]
    units_ = {r["unit"] for r in rows}
    if not rows or len(units_) != 1:
        return []
    unit = units_.pop()
    col = f"数量（{unit}）"
    frame = pd.DataFrame([{"致贫原因": r["cause_zh"], col: float(r["value"]), FIGURE_COL: r["figure_id"]} for r in rows])
    desc = f"横向条形图：{len(rows)}类致贫原因（单位：{unit}），由多到少排列。"

    def build(c):
        return c.mark_bar(color=PALETTE[1]).encode(y=alt.Y("致贫原因:N", sort="-x", title=None), x=alt.X(f"{col}:Q", title=col),
                                                   tooltip=list(frame.columns))  # fmt: skip

    return [make_chart(titled(ds, rows, "致贫原因"), desc, unit, ds.document, rows, frame, build)]


def comparison_charts(derived: Derived) -> list[Chart]:
    # small multiples stay readable (and cheap to render) with a dozen panels; the page's table lists all
    rows = sorted((c for c in derived.comparison if c["exit_persons"]), key=lambda c: -sum(c["exit_persons"].values()))
    rows = sorted(rows[:MAX_PANELS], key=lambda c: c["doc"]["doc_id"])
    out = []
    if rows:
        out.append(compare_exits(rows))
    with_shares = [c for c in derived.comparison if c["category_shares"]][:MAX_PANELS]
    shares = [(c, s) for c in with_shares for s in c["category_shares"]]
    if shares:
        out.append(compare_shares(shares))
    return out


def compare_exits(rows: list[dict]) -> Chart:
    frame = pd.DataFrame(
        [
            {"文件": c["doc"]["short_zh"], "年度": str(y), "计划脱贫人口（人）": v}
            for c in rows
            for y, v in c["exit_persons"].items()
        ]
    )
    desc = "小多图：各文件计划的分年度脱贫人口，各自纵轴。"

    def build(c):
        bars = c.mark_bar(color=PALETTE[0]).encode(
            x=alt.X("年度:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("计划脱贫人口（人）:Q", title=None),
            tooltip=list(frame.columns),
        )
        return (
            bars.properties(width=FACET_WIDTH, height=110)
            .facet(facet=alt.Facet("文件:N", title=None), columns=2)
            .resolve_scale(y="independent")
        )

    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title="分年度计划脱贫人口"), desc)
    shown = [r for c in rows for r in c["exit_rows"]]
    source = f"来源：各文件脱贫退出计划（{len(shown)}条记录）"
    return Chart(
        key,
        "分年度计划脱贫人口（人）",
        desc,
        "人",
        source,
        [(c, c) for c in frame.columns],
        frame.to_dict("records"),
        spec,
        figures=shown,
    )


def compare_shares(shares: list) -> Chart:
    frame = pd.DataFrame([{"文件": c["doc"]["short_zh"], "类别": s[0], "比重（%）": round(float(s[2]), 2)} for c, s in shares])
    desc = "堆叠条形图：各文件投资按类别的构成（由金额计算的百分比）。"

    def build(c):
        x = alt.X("比重（%）:Q", stack="normalize", title="比重")
        color = alt.Color("类别:N", scale=alt.Scale(range=PALETTE))
        return c.mark_bar().encode(y=alt.Y("文件:N", title=None), x=x, color=color, tooltip=list(frame.columns))

    chart = make_chart(
        "投资构成（按类别）", desc, "%", {"title_zh": "各文件投资估算"}, [{"line_start": 1, "line_end": 1}], frame, build
    )
    chart.source = "来源：各文件投资估算按类别的金额，由本门户计算比重"
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


def credited(chart: Chart, credit: str) -> Chart:
    """The chart as downloaded carries its title, source lines, site name and licence inside the image."""
    spec = dict(chart.spec)
    spec["title"] = {"text": wrap(chart.title, TITLE_CHARS), "subtitle": [*wrap(chart.source, NOTE_CHARS), credit]}
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
    """Charts for every dataset and for the comparison page, rendered into docs_dir/charts."""
    cache = settings.work / "cache" / "charts" if settings.cache else None
    by_id = {}
    outcomes = {(c["doc_id"], c["check"], c["figure_id"]): c for c in derived.checks}
    for ds in derived.datasets:
        # the family registry names each family's builder (families.py)
        made = globals()[ds.family.chart](ds) if ds.family.chart else []
        by_id[ds.id] = [with_totals(c, ds, outcomes) for c in made]
    chart_set = ChartSet(by_id, comparison_charts(derived))
    credit = f"{settings.publisher_zh} · 数据许可 {LICENSE['name']}"
    for chart in chart_set.all():
        credited(chart, credit)
    unique = {c.key: c for c in chart_set.all()}
    todo = [c for c in unique.values() if not is_cached(c, cache)]
    fresh = dict(zip([c.key for c in todo], parallel_map(images, [c.spec for c in todo], MIN_CHARTS_PER_WORKER)))
    for chart in unique.values():
        render(chart, docs_dir / "charts", cache, fresh.get(chart.key))
    # a chart shown on several pages is one object per page: each gets the size of the rendering
    for chart in chart_set.all():
        chart.width, chart.height = unique[chart.key].width, unique[chart.key].height
    return chart_set
