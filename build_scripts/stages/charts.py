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
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import pandas as pd

from ..families import LABELS
from ..settings import Settings
from ..workers import parallel_map
from .derive import Dataset, Derived, exact, planned_exits

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, sans-serif"
WIDTH = 520
CONFIG = {
    "font": FONT,
    "title": {"font": FONT, "fontSize": 15, "anchor": "start"},
    "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 12, "titleFontSize": 12, "labelLimit": 220},
    "legend": {"labelFont": FONT, "titleFont": FONT, "labelLimit": 220},
    "header": {"labelFont": FONT, "titleFont": FONT},
    "view": {"stroke": None},
}
MAX_PANELS = 12  # documents shown in one comparison chart
PALETTE = ["#1f5fa8", "#e07b24", "#2e9a5e", "#c23b3b", "#7a5bb5", "#8a6d3b", "#d35fa6", "#6f7378", "#a6a53a", "#2aa5b8"]


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

    def path(self, ext: str) -> str:
        return f"charts/{self.key}.{ext}"


def line_span(rows: list[dict]) -> str:
    a = min(r["line_start"] for r in rows)
    b = max(r["line_end"] for r in rows)
    return f"第{a}行" if a == b else f"第{a}–{b}行"


def make_chart(
    title: str,
    description: str,
    unit: str,
    doc: dict,
    src_rows: list[dict],
    frame: pd.DataFrame,
    columns: list[tuple[str, str]],
    build,
) -> Chart:
    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title=title, width=WIDTH), description)
    source = f"来源：《{doc['title_zh'].strip('《》')}》{line_span(src_rows)}"
    return Chart(key, title, description, unit, source, columns, frame.to_dict("records"), spec)


def spec_and_key(chart, description: str) -> tuple[dict, str]:
    """The Vega-Lite spec with the portal's config and its content hash (the chart's file name)."""
    spec = chart.configure(**CONFIG).to_dict()
    spec.pop("$schema", None)
    spec["description"] = description
    return spec, hashlib.sha256(json.dumps(spec, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def investment_charts(ds: Dataset) -> list[Chart]:
    charts = []
    rows = [r for r in ds.rows if r["metric"] == "amount" and not r["is_total"]]
    by_breakdown: dict[str, list[dict]] = {}
    for r in rows:
        by_breakdown.setdefault(r["breakdown"], []).append(r)
    for breakdown, group in sorted(by_breakdown.items()):
        dims = [
            d
            for d in ("category_zh", "funding_source_zh", "year", "project_zh")
            if any(r.get(d) not in (None, "") for r in group)
        ]
        if not dims:
            continue
        # a 2-D table's row and column totals are parts too; chart only the innermost cells
        cells = [r for r in group if all(r.get(d) not in (None, "") for d in dims)] or group
        if len(cells) < 2:
            continue  # one bar is not a chart; the table shows it
        labels = {"category_zh": "类别", "funding_source_zh": "资金来源", "year": "年度", "project_zh": "项目"}
        frame = pd.DataFrame([{**{labels[d]: str(r.get(d) or "") for d in dims}, "金额（万元）": float(exact(r))} for r in cells])
        main = labels[dims[0]]
        color = labels[dims[1]] if len(dims) > 1 else None
        title = f"{ds.document['short_zh']}：按{'、'.join(labels[d] for d in dims)}的投资"
        total = sum(float(exact(r)) for r in cells)
        desc = f"条形图：{len(cells)}项投资，合计{total:,.2f}万元，按{main}分列" + (f"并按{color}堆叠" if color else "") + "。"

        def build(c, main=main, color=color):
            enc = {
                "y": alt.Y(f"{main}:N", sort=None, title=None),
                "x": alt.X("金额（万元）:Q", title="金额（万元）"),
                "tooltip": list(frame.columns),
            }
            if color:
                enc["color"] = alt.Color(f"{color}:N", scale=alt.Scale(range=PALETTE), title=color)
            else:
                enc["color"] = alt.value(PALETTE[0])
            return c.mark_bar().encode(**enc)

        charts.append(make_chart(title, desc, "万元", ds.document, cells, frame, [(c, c) for c in frame.columns], build))
    return charts


def exit_charts(ds: Dataset) -> list[Chart]:
    rows = [r for r in ds.rows if r.get("year") and not r["is_total"]]
    if not rows:
        return []
    records = []
    for unit, unit_zh in LABELS["unit_counted"].items():
        for status, label in (("planned", "计划"), ("achieved", "已实现")):
            for year, value in planned_exits(ds.rows, unit, ds.document["region_id"], status).items():
                records.append({"年度": str(year), "对象": unit_zh, "状态": label, "数量": float(value)})
    frame = pd.DataFrame(records)
    title = f"{ds.document['short_zh']}：分年度脱贫退出"
    desc = "分面条形图：各年度计划或已实现退出的" + "、".join(sorted(set(frame["对象"]))) + "数量。"

    def build(c):
        return (
            c.mark_bar()
            .encode(
                x=alt.X("年度:O", title="年度"),
                y=alt.Y("数量:Q", title="数量"),
                color=alt.Color("状态:N", scale=alt.Scale(domain=["计划", "已实现"], range=[PALETTE[0], PALETTE[2]])),
                tooltip=list(frame.columns),
            )
            .properties(width=150, height=160)
            .facet(column=alt.Column("对象:N", title=None))
            .resolve_scale(y="independent")
        )

    spec, key = spec_and_key(build(alt.Chart(frame)).properties(title=title), desc)
    source = f"来源：《{ds.document['title_zh'].strip('《》')}》{line_span(rows)}"
    return [Chart(key, title, desc, "个、户、人", source, [(c, c) for c in frame.columns], frame.to_dict("records"), spec)]


def cause_charts(ds: Dataset) -> list[Chart]:
    rows = [r for r in ds.rows if not r["is_total"]]
    if not rows:
        return []
    # one chart, in the unit most causes are given in (households, persons or shares)
    unit = max(("户", "人", "%"), key=lambda u: sum(r["unit"] == u for r in rows))
    rows = [r for r in rows if r["unit"] == unit]
    if not rows:
        return []
    frame = pd.DataFrame([{"致贫原因": r["cause_zh"], f"数量（{unit}）": float(r["value"])} for r in rows])
    title = f"{ds.document['short_zh']}：致贫原因"
    desc = f"横向条形图：{len(rows)}类致贫原因（单位：{unit}），由多到少排列。"
    col = f"数量（{unit}）"
    return [
        make_chart(
            title,
            desc,
            unit,
            ds.document,
            rows,
            frame,
            [(c, c) for c in frame.columns],
            lambda c: c.mark_bar(color=PALETTE[1]).encode(
                y=alt.Y("致贫原因:N", sort="-x", title=None), x=alt.X(f"{col}:Q", title=col), tooltip=list(frame.columns)
            ),
        )
    ]


def comparison_charts(derived: Derived) -> list[Chart]:
    # small multiples stay readable (and cheap to render) with a dozen panels; the page's table lists all
    rows = sorted((c for c in derived.comparison if c["exit_persons"]), key=lambda c: -sum(c["exit_persons"].values()))[
        :MAX_PANELS
    ]
    rows.sort(key=lambda c: c["doc"]["doc_id"])
    out = []
    if rows:
        frame = pd.DataFrame(
            [
                {"文件": c["doc"]["short_zh"], "年度": str(y), "计划脱贫人口（人）": v}
                for c in rows
                for y, v in c["exit_persons"].items()
            ]
        )
        desc = "小多图：各文件计划的分年度脱贫人口，各自纵轴。"

        def build(c):
            return (
                c.mark_bar(color=PALETTE[0])
                .encode(x=alt.X("年度:O"), y=alt.Y("计划脱贫人口（人）:Q"), tooltip=list(frame.columns))
                .properties(width=160, height=140)
                .facet(column=alt.Column("文件:N", title=None))
                .resolve_scale(y="independent")
            )

        spec, key = spec_and_key(build(alt.Chart(frame)).properties(title="分年度计划脱贫人口"), desc)
        src = [r for c in rows for r in c["doc"]["package"].tables.get("exit_schedules", [])]
        out.append(
            Chart(
                key,
                "分年度计划脱贫人口",
                desc,
                "人",
                "来源：各文件脱贫退出计划" + f"（{len(src)}条记录）",
                [(c, c) for c in frame.columns],
                frame.to_dict("records"),
                spec,
            )
        )
    with_shares = [c for c in derived.comparison if c["category_shares"]][:MAX_PANELS]
    shares = [(c, s) for c in with_shares for s in c["category_shares"]]
    if shares:
        frame = pd.DataFrame(
            [{"文件": c["doc"]["short_zh"], "类别": s[0], "比重（%）": round(float(s[2]), 2)} for c, s in shares]
        )
        desc = "堆叠条形图：各文件投资按类别的构成（由金额计算的百分比）。"
        out.append(
            make_chart(
                "投资构成（按类别）",
                desc,
                "%",
                {"title_zh": "各文件投资估算"},
                [{"line_start": 1, "line_end": 1}],
                frame,
                [(c, c) for c in frame.columns],
                lambda c: c.mark_bar().encode(
                    y=alt.Y("文件:N", title=None),
                    x=alt.X("比重（%）:Q", stack="normalize", title="比重"),
                    color=alt.Color("类别:N", scale=alt.Scale(range=PALETTE)),
                    tooltip=list(frame.columns),
                ),
            )
        )
        out[-1].source = "来源：各文件投资估算按类别的金额，由本门户计算比重"
    return out


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
    import re

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


def run(derived: Derived, settings: Settings, docs_dir: Path) -> ChartSet:
    """Charts for every dataset and for the comparison page, rendered into docs_dir/charts."""
    cache = settings.work / "cache" / "charts" if settings.cache else None
    by_id = {}
    for ds in derived.datasets:
        # the family registry names each family's builder (families.py)
        by_id[ds.id] = globals()[ds.family.chart](ds) if ds.family.chart else []
    chart_set = ChartSet(by_id, comparison_charts(derived))
    unique = {c.key: c for c in chart_set.all()}
    todo = [c for c in unique.values() if not is_cached(c, cache)]
    fresh = dict(zip([c.key for c in todo], parallel_map(images, [c.spec for c in todo], MIN_CHARTS_PER_WORKER)))
    for chart in unique.values():
        render(chart, docs_dir / "charts", cache, fresh.get(chart.key))
    # a chart shown on several pages is one object per page: each gets the size of the rendering
    for chart in chart_set.all():
        chart.width, chart.height = unique[chart.key].width, unique[chart.key].height
    return chart_set
