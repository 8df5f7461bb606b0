"""Honest numbers: every total, chart and timeline on the site is one the sources support.

These tests read what a reader gets (the merged CSV downloads, the charts' data tables, the built pages)
and check it against the source texts and the errata, with their own arithmetic, not the pipeline's.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import CORPUS
from helpers import ROOT, copy_datasets, read_csv, write_csv

FAMILIES = ("targets", "investments", "exit_schedules", "baselines", "poverty_causes", "measures")
ERROR_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<row>\d+|-):(?P<field>[^:\n]+): (?P<msg>.+)$", re.M)


def merged(site: Path) -> dict[str, list[dict]]:
    """The merged tables exactly as a journalist downloads them."""
    return {f: read_csv(site / "downloads" / "all" / f"{f}.csv") for f in FAMILIES}


def errata_ids(check: str) -> set[tuple[str, str]]:
    out = set()
    for path in (ROOT / "datasets").glob("*/errata.yaml"):
        for e in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if e.get("check") == check:
                out.add((path.parent.name, str(e["figure_id"])))
    return out


def printed_number(text: str) -> Decimal:
    m = re.match(r"^[-−－]?\d[\d,]*(\.\d+)?", text.strip())
    return Decimal(m.group(0).replace(",", "").replace("−", "-").replace("－", "-"))


def half_unit(row: dict) -> Decimal:
    """Half a unit of the last printed digit, in the row's unit (value / printed number = the factor)."""
    if row["implied"] == "true":
        return Decimal(0)  # 全部: no printed digits, no rounding
    number = printed_number(row["value_as_printed"])
    digits = len(row["value_as_printed"].split(".")[1].rstrip("%万亿元人户个") or "") if "." in row["value_as_printed"] else 0
    factor = Decimal(row["value"]) / number if number else Decimal(1)
    return Decimal(5) * Decimal(10) ** -(digits + 1) * abs(factor)


def journalists_rule(row: dict) -> bool:
    return row["basis"] == "amount" and not row["restates"] and row["is_total"] == "false"


def leaves_under(total: dict, rows: list[dict]) -> list[dict]:
    """Rows below a printed total through part_of, at any depth, that the rule lets us add: each once."""
    children = defaultdict(list)
    for r in rows:
        for parent in r["part_of"].split():
            children[parent].append(r)
    seen, out, stack = set(), [], [total["figure_id"]]
    while stack:
        for child in children[stack.pop()]:
            if child["figure_id"] not in seen:
                seen.add(child["figure_id"])
                stack.append(child["figure_id"])
                if journalists_rule(child):
                    out.append(child)
    return out


def test_journalists_rule_reproduces_every_printed_total(built_site, sources):
    """For each printed total in the merged tables (an amount), the rule's rows below it add up to it, or the
    source's own error is in errata.yaml. The total itself is read from its source line."""
    recorded = errata_ids("part-of-total")
    checked = 0
    for family, rows in merged(built_site).items():
        by_doc = defaultdict(list)
        for r in rows:
            by_doc[r["doc_id"]].append(r)
        for doc, doc_rows in by_doc.items():
            text = (sources / read_csv(ROOT / "datasets" / doc / "data" / "documents.csv")[0]["source_file"]).read_text(
                encoding="utf-8"
            )
            lines = text.split("\n")
            for total in (r for r in doc_rows if r["is_total"] == "true" and r["basis"] == "amount"):
                leaves = leaves_under(total, doc_rows)
                if not leaves:
                    continue
                assert total["value_as_printed"] in "\n".join(lines[int(total["line_start"]) - 1 : int(total["line_end"])])
                # the rule adds within one plan, status and unit: the parts of one total share them
                assert len({(r["plan_id"], r["status"], r["unit"]) for r in leaves + [total]}) == 1, (doc, total["figure_id"])
                tolerance = max(half_unit(r) for r in leaves + [total]) * max(1, len(leaves) // 2)
                gap = abs(sum(Decimal(r["value"]) for r in leaves) - Decimal(total["value"]))
                below = {
                    p
                    for r in doc_rows
                    if r["is_total"] == "true" and total["figure_id"] in r["part_of"].split()
                    for p in [r["figure_id"]]
                }
                explained = {(doc, total["figure_id"])} | {(doc, b) for b in below}
                assert gap <= tolerance or explained & recorded, (doc, family, total["figure_id"], str(gap))
                checked += 1
    assert checked >= 40  # the five documents print dozens of totals with parts


def test_restatements_repeat_their_figure_or_are_recorded(built_site):
    recorded = errata_ids("restates")
    for family, rows in merged(built_site).items():
        by_key = {(r["doc_id"], r["figure_id"]): r for rows_ in merged(built_site).values() for r in rows_}
        for r in rows:
            if not r["restates"]:
                continue
            first = by_key[(r["doc_id"], r["restates"])]
            assert not first["restates"], r["figure_id"]  # one level: no chains, so no cycles
            same = abs(Decimal(r["value"]) - Decimal(first["value"])) <= half_unit(r) + half_unit(first)
            assert same or (r["doc_id"], r["figure_id"]) in recorded, (r["doc_id"], r["figure_id"], r["value"], first["value"])


class ChartLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.csv: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and re.search(r"charts/[0-9a-f]{16}\.csv$", href):
            self.csv.append(href.rsplit("/", 1)[1])


def chart_tables(site: Path) -> list[tuple[str, str, list[dict]]]:
    """(dataset, chart file, rows of the chart's data table) for every chart on every dataset page."""
    out = []
    for page in sorted((site / "datasets").glob("*/index.html")):
        parser = ChartLinks()
        parser.feed(page.read_text(encoding="utf-8"))
        for name in dict.fromkeys(parser.csv):
            out.append((page.parent.name, name, read_csv(site / "charts" / name)))
    return out


def test_charts_never_mix_status_basis_or_unit_and_their_parts_add_up(built_site):
    tables = merged(built_site)
    rows = {(r["doc_id"], r["figure_id"]): r for fam in tables.values() for r in fam}
    recorded = errata_ids("part-of-total")
    charts = chart_tables(built_site)
    assert len(charts) >= (20 if CORPUS.is_real else 3)
    for dataset, name, data in charts:
        doc = next(d for d in {r[0] for r in rows} if dataset.startswith(d + "-"))
        ids = [i for record in data for i in record["编号"].split()]
        shown = [rows[(doc, i)] for i in ids]
        assert len(ids) == len(set(ids)), (dataset, name)  # no figure twice
        assert all(not r["restates"] for r in shown), (dataset, name)
        assert len({r["status"] for r in shown}) == 1, (dataset, name, {r["status"] for r in shown})
        assert len({r["basis"] for r in shown}) == 1, (dataset, name)
        panels = defaultdict(set)
        for r in shown:
            panels[r.get("unit_counted", "")].add(r["unit"])
        assert all(len(u) == 1 for u in panels.values()), (dataset, name, panels)
        values = {
            i: Decimal(str(sum(Decimal(rows[(doc, x)]["value"]) for x in rec["编号"].split())))
            for rec in data
            for i in [rec["编号"]]
        }
        shown_ids = set(ids)
        for total_id in {t for r in shown for t in r["part_of"].split()}:
            parts = [r for r in tables_rows(tables, doc) if total_id in r["part_of"].split()]
            if not {p["figure_id"] for p in parts} <= shown_ids:
                continue
            total = rows[(doc, total_id)]
            gap = abs(sum(Decimal(rows[(doc, p["figure_id"])]["value"]) for p in parts) - Decimal(total["value"]))
            tolerance = max(half_unit(r) for r in parts + [total])
            assert gap <= tolerance or (doc, total_id) in recorded, (dataset, name, total_id, str(gap))
        assert values


def tables_rows(tables: dict, doc: str) -> list[dict]:
    return [r for fam in tables.values() for r in fam if r["doc_id"] == doc]


def test_chart_titles_state_the_period_of_their_rows(built_site, sources):
    """Qinghai's 十二五 money (2011–2015) is never titled with the plan's period 2016—2020."""
    tables = merged(built_site)
    rows = {(r["doc_id"], r["figure_id"]): r for fam in tables.values() for r in fam}
    seen = 0
    for dataset, name, data in chart_tables(built_site):
        if not dataset.startswith("qinghai-2016-investments"):
            continue
        spec = json.loads((built_site / "charts" / name.replace(".csv", ".vl.json")).read_text(encoding="utf-8"))
        title = spec["title"]["text"] if isinstance(spec["title"], dict) else spec["title"]
        title = "".join(title) if isinstance(title, list) else title  # a long title is drawn in lines
        shown = [rows[("qinghai-2016", i)] for rec in data for i in rec["编号"].split()]
        if all(r["period_end"] and int(r["period_end"]) <= 2015 for r in shown):
            assert "2016" not in title and ("2015" in title or "2014" in title), title
            seen += 1
    assert seen >= 1


class PrimaryLinks(HTMLParser):
    """Figure links of a region page's rows, except the "又见" (also printed at) links and the key figures
    the page opens with (a summary of figures listed below)."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.also = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "small" and "also" in (a.get("class") or ""):
            self.also += 1
        m = re.search(r"documents/([^/]+)/#([A-Z]{2}\d{3,4})$", a.get("href") or "")
        if tag == "a" and m and not self.also and "key" not in (a.get("class") or "").split():
            self.links.append(f"{m.group(1)}#{m.group(2)}")

    def handle_endtag(self, tag):
        if tag == "small" and self.also:
            self.also -= 1


def test_region_pages_show_each_figure_once(built_site):
    tables = merged(built_site)
    restates = {
        f"{r['doc_id']}#{r['figure_id']}": f"{r['doc_id']}#{r['restates']}"
        for fam in tables.values()
        for r in fam
        if r["restates"]
    }
    pages = sorted((built_site / "regions").glob("*/index.html"))
    assert pages
    for page in pages:
        parser = PrimaryLinks()
        parser.feed(page.read_text(encoding="utf-8"))
        firsts = [restates.get(link, link) for link in parser.links]
        # a village's exit list may link the same exit row from the timeline and the list of mentions
        counted = [f for f in firsts if "#E" not in f] + sorted(set(f for f in firsts if "#E" in f))
        dupes = {f for f in counted if counted.count(f) > 1}
        assert not dupes, (page.parent.name, sorted(dupes)[:5])


def test_gonghe_reader_sums_match_the_source(built_site, sources):
    """The reader's complaints, against the source text: 缺资金 922 户 once; 15 villages exit in 2018."""
    text = (sources / "000_5314cf41c61d6f9d.txt").read_text(encoding="utf-8")
    tables = merged(built_site)
    causes = [
        r for r in tables["poverty_causes"] if r["doc_id"] == "gonghe-2018" and journalists_rule(r) and r["cause_zh"] == "缺资金"
    ]
    assert [r["value"] for r in causes] == ["922"] and "922" in text
    exits = [r for r in tables["exit_schedules"] if r["doc_id"] == "gonghe-2018" and not r["restates"] and r["year"] == "2018"
             and r["unit_counted"] == "village" and r["region_id"] == "632521"]  # fmt: skip
    printed = int(re.search(r"2018年计划(\d+)个贫困村退出", text).group(1))
    assert sum(int(r["value"]) for r in exits) == printed


def test_rates_keep_their_denominator_and_levels_their_sign(built_site, sources):
    tables = merged(built_site)
    rows = [r for fam in tables.values() for r in fam]
    for r in rows:
        if r["basis"] == "rate":
            assert "/" in r["unit"], r["figure_id"]
        if r["unit"] == "万元":
            assert r["basis"] != "rate"
    cold = [r for r in rows if r["doc_id"] == "qinghai-2016" and r["unit"] == "℃" and r["value"].startswith("-")]
    text = (sources / "001_7fa4a1ad9908e1e6.txt").read_text(encoding="utf-8")
    assert cold and all(r["value_as_printed"] in text for r in cold)


def test_every_document_has_its_plans_and_every_row_one_of_them(built_site, sources):
    plans = read_csv(built_site / "downloads" / "all" / "plans.csv")
    known = {(p["doc_id"], p["plan_id"]) for p in plans}
    for fam, rows in merged(built_site).items():
        assert all((r["doc_id"], r["plan_id"]) in known for r in rows), fam
    xining = [p for p in plans if p["doc_id"] == "xining-2016"]
    assert len(xining) == 17  # the notice bundles eight action plans and nine sector plans


def test_methodology_and_bulk_readme_state_the_rule(built_site):
    rule = "basis `amount`, `restates` empty and `is_total` false"
    assert rule in (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")
    readme = (built_site / "downloads" / "all" / "README.txt").read_text(encoding="utf-8")
    assert rule in readme.replace("\r\n", "\n")


def test_no_ignore_entry_hides_a_duplicate():
    for path in (ROOT / "datasets").glob("*/ignore.yaml"):
        assert all(e.get("reason") != "duplicate" for e in yaml.safe_load(path.read_text(encoding="utf-8")))


# --- bad input in the new columns: FILE:ROW:FIELD, exit 1 -------------------------------------------


def edit_row(datasets: Path, doc: str, family: str, figure_id: str, **changes) -> int:
    """Change one row of a copied package; returns its spreadsheet row (header = 1)."""
    path = datasets / doc / "data" / f"{family}.csv"
    rows = read_csv(path)
    for n, r in enumerate(rows, 2):
        if r["figure_id"] == figure_id:
            r.update(changes)
            write_csv(path, rows, list(rows[0]))
            return n
    raise AssertionError(figure_id)


def first(doc: str, family: str, **where) -> dict:
    return next(
        r for r in read_csv(ROOT / "datasets" / doc / "data" / f"{family}.csv") if all(r[k] == v for k, v in where.items())
    )


CASES = {
    "restates-missing": ("investments", {"restates": "IZ999"}, "restates", "unknown figure"),
    "restates-chain": ("investments", None, "restates", "is itself a restatement"),
    "restates-other-value": ("exit_schedules", None, "value", "restatement of"),
    "unknown-status": ("investments", {"status": "maybe"}, "status", ""),
    "unknown-basis": ("investments", {"basis": "guess"}, "basis", ""),
    "unknown-plan": ("investments", {"plan_id": "nosuchplan"}, "plan_id", ""),
    "rate-without-denominator": ("investments", {"basis": "rate"}, "unit", "denominator"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_new_columns_are_refused_with_file_row_field(case, tmp_path, portal, sources):
    family, changes, field, words = CASES[case]
    ds = copy_datasets(tmp_path)
    doc = "gonghe-2018"
    if case == "restates-chain":  # a restatement naming another restatement (A → B → C, or a cycle)
        r = first(doc, family, restates="IB002")
        other = first(doc, family, basis="amount", restates="", is_total="false")
        edit_row(ds, doc, family, other["figure_id"], restates=r["figure_id"])
        row = edit_row(ds, doc, family, other["figure_id"])
    elif case == "restates-other-value":
        r = first(doc, family, figure_id="EA014")  # restates EA002: 2654 人
        row = edit_row(ds, doc, family, "EA014", value="2655", value_as_printed="2655人")
        lines = (sources / "000_5314cf41c61d6f9d.txt").read_text(encoding="utf-8").split("\n")
        lines[int(r["line_start"]) - 1] = lines[int(r["line_start"]) - 1].replace("2654", "2655", 1)
        src = tmp_path / "src"
        src.mkdir()
        for f in sources.iterdir():
            (src / f.name).write_bytes(f.read_bytes())
        (src / "000_5314cf41c61d6f9d.txt").write_text("\n".join(lines), encoding="utf-8")
        sources = src
        edit_docs_sha(ds, doc, src)
    else:
        target = first(doc, family, basis="amount", restates="", is_total="false", part_of="")
        row = edit_row(ds, doc, family, target["figure_id"], **changes)
    proc = portal("validate", "--datasets", str(ds), "--sources", str(sources))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    found = [m.groupdict() for m in ERROR_LINE.finditer(proc.stderr)]
    where = f"{doc}/data/{family}.csv"
    hits = [m for m in found if m["file"].endswith(where) and m["row"] == str(row) and m["field"] == field and words in m["msg"]]
    assert hits, proc.stderr


def edit_docs_sha(ds: Path, doc: str, src: Path) -> None:
    import hashlib

    path = ds / doc / "data" / "documents.csv"
    rows = read_csv(path)
    rows[0]["source_sha256"] = hashlib.sha256((src / rows[0]["source_file"]).read_bytes()).hexdigest()
    write_csv(path, rows, list(rows[0]))
