"""Stage 3, derive: from validated packages to what the site shows.

Merged portal-wide tables, one Dataset per (document, family), regions with their children, each
region's figures, the headline figures, and the comparison table. Every number shown on the site is
computed here or in the data, never typed into a template.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .. import families
from ..families import Family
from .checks import exact_value
from .load import Corpus
from .validate import ValidationReport, ValidPackage


def public_row(row: dict) -> dict:
    """A row as published: internal keys (row numbers) dropped, dates as ISO text."""
    out = {}
    for k, v in row.items():
        if k.startswith("_"):
            continue
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


@dataclass
class Dataset:
    """One family of one document: the unit a reader finds, downloads and cites."""

    package: ValidPackage
    family: Family
    rows: list[dict]
    document: dict
    id: str = field(init=False)  # "<doc>-<family>": the dataset's page, download folder and API name
    url: str = field(init=False)
    title_zh: str = field(init=False)
    title_en: str = field(init=False)

    def __post_init__(self):
        self.id = self.family.dataset_id(self.package.id)
        self.url = f"datasets/{self.id}/"
        self.title_zh = f"{self.document['title_zh']} · {self.family.title_zh}"
        self.title_en = f"{self.document['title_en']} — {self.family.title_en}"

    @property
    def indicators(self) -> list[str]:
        seen = []
        for r in self.rows:
            if r["indicator_zh"] not in seen:
                seen.append(r["indicator_zh"])
        return seen

    def indicators_in(self, lang: str) -> list[str]:
        """The indicators in their order of first appearance, in a language (the Chinese where an English is missing)."""
        seen = {}
        for r in self.rows:
            seen.setdefault(r["indicator_zh"], r.get(f"indicator_{lang}") or r["indicator_zh"])
        return list(seen.values())

    def summary(self, lang: str = "zh") -> str:
        """One sentence on what the dataset holds, for its page, the catalog and search results."""
        if lang == "en":
            ind = "; ".join(self.indicators_in("en")[:8])
            return f"{self.family.title_en} in the {self.document['title_en']}: {len(self.rows)} figures, among them {ind}."
        ind = "、".join(self.indicators[:8])
        return f"{self.document['title_zh']}中的{self.family.title_zh}数据，共{len(self.rows)}条，含{ind}等指标。"

    def summary_zh(self) -> str:
        return self.summary("zh")


@dataclass
class Derived:
    corpus: Corpus
    report: ValidationReport
    documents: dict[str, dict]
    regions: dict[str, dict]
    children: dict[str, list[str]]
    datasets: list[Dataset]
    region_figures: dict[str, list[tuple[str, dict]]]  # region id -> (family, row)
    village_mentions: dict[str, list[tuple[str, dict]]]
    tables: dict[str, list[dict]]  # portal-wide merged tables, by resource name
    headline: list[dict]
    comparison: list[dict]
    errata: list[dict]
    checks: list[dict]
    counts: list[dict]  # per document: figures by family, ignore entries, errata, checks run and passed
    restatements: dict[tuple[str, str], list[dict]]  # (doc_id, figure_id) -> the rows that print it again

    def also_printed(self, row: dict) -> list[dict]:
        """The other places the source prints this figure (its restatements), in text order."""
        return self.restatements.get((row["doc_id"], row["figure_id"]), [])

    @property
    def packages(self) -> list[ValidPackage]:
        return self.report.packages

    def counts_for(self, doc_id: str) -> dict:
        return next(c for c in self.counts if c["id"] == doc_id)

    def dataset(self, doc_id: str, family: str) -> Dataset | None:
        for d in self.datasets:
            if d.package.id == doc_id and d.family.name == family:
                return d
        return None

    def ancestors(self, region_id: str) -> list[dict]:
        out, seen = [], set()
        parent = self.regions.get(region_id, {}).get("parent_id")
        while parent and parent in self.regions and parent not in seen:
            seen.add(parent)
            out.insert(0, self.regions[parent])
            parent = self.regions[parent].get("parent_id")
        return out

    def region_docs(self, region_id: str) -> list[str]:
        """Documents with a figure about this region or below it, or whose jurisdiction it is."""
        ids = {region_id} | set(self.descendants(region_id))
        docs = {row["doc_id"] for rid in ids for _, row in self.region_figures.get(rid, [])}
        docs |= {d for d, doc in self.documents.items() if doc["region_id"] == region_id}
        docs |= {row["doc_id"] for _, row in self.village_mentions.get(region_id, [])}
        return sorted(docs)

    def descendants(self, region_id: str) -> list[str]:
        out, stack = [], list(self.children.get(region_id, []))
        while stack:
            r = stack.pop()
            out.append(r)
            stack.extend(self.children.get(r, []))
        return out


def exact(row: dict) -> Decimal:
    """The row's value as printed, exactly (the checks' conversion), or its stored value."""
    return exact_value(row) or Decimal(str(row["value"]))


# --- What may be added up ----------------------------------------------------------------------------
# The one rule every total, chart, timeline, region summary, home card and comparison goes through:
# figures add up only within one document, plan, family, breakdown, status and unit; only amounts
# (never rates, shares or levels); never a restatement (it would count the figure twice) and never a
# printed total together with its own parts.

SumKey = tuple  # (doc_id, plan_id, family, breakdown, status, unit)


def breakdown_of(row: dict) -> str:
    """The set of rows a figure belongs to: its investment breakdown, else the printed total it is part of."""
    return row.get("breakdown") or row.get("part_of") or ""


def sum_key(family: str, row: dict) -> SumKey | None:
    """The group within which this row may be added to others, or None when it is never added."""
    if row.get("basis") != "amount" or row.get("restates") or row.get("is_total"):
        return None
    return (row["doc_id"], row.get("plan_id"), family, breakdown_of(row), row.get("status"), row["unit"])


def addable_groups(family: str, rows: list[dict]) -> dict[SumKey, list[dict]]:
    """Rows that may be added up, in groups that may each be summed; every other row is left out."""
    groups: dict[SumKey, list[dict]] = defaultdict(list)
    for r in rows:
        key = sum_key(family, r)
        if key is not None:
            groups[key].append(r)
    return dict(groups)


def first_statements(rows: list[dict]) -> list[dict]:
    """Each figure once: rows that restate another are left out (they are shown as "also printed at")."""
    return [r for r in rows if not r.get("restates")]


def key_figures(rows: list[dict], n: int = 4) -> list[dict]:
    """The figures a page opens with: first statements only, printed totals and amounts before parts, rates
    and shares; shown in the order of the source text."""
    firsts = [r for r in rows if not r.get("restates")]
    ranked = sorted(firsts, key=lambda r: (not r.get("is_total"), r.get("basis") != "amount", r["line_start"], r["figure_id"]))
    return sorted(ranked[:n], key=lambda r: (r["doc_id"], r["line_start"], r["figure_id"]))


def period_of(rows: list[dict], doc: dict) -> tuple[int, int]:
    """The years the rows are about: their own period or years where they have them, else the document's."""
    years = set()
    for r in rows:
        if r.get("period_start") and r.get("period_end"):
            years |= {r["period_start"], r["period_end"]}
        for k in ("year", "target_year", "reference_year"):
            if isinstance(r.get(k), int):
                years.add(r[k])
    return (min(years), max(years)) if years else (doc["period_start"], doc["period_end"])


def grand_total_investment(rows: list[dict]) -> dict | None:
    """The document's planned investment: its `total` breakdown, when that names one figure.

    A restatement counts as the figure it restates. A notice that bundles several plans (Xining) prints
    one total per plan and none for the whole: then there is no document total, and none is made up
    by adding plans together.
    """
    by_id = {r["figure_id"]: r for r in rows}
    totals = [
        by_id.get(r.get("restates"), r)
        for r in rows
        if r["breakdown"] == "total" and r.get("basis") == "amount" and r.get("status") == "planned" and not r.get("part_of")
        and r.get("year") is None
    ]  # fmt: skip
    if len({r["figure_id"] for r in totals}) != 1:
        return None
    return totals[0]


def exits_by_year(rows: list[dict], unit_counted: str, jurisdiction: str, status: str = "planned") -> dict[int, list[dict]]:
    """The rows that make each year's exits for one unit counted and status, for the whole jurisdiction.

    Each figure counts once (restatements are left out). A year's figure is the jurisdiction's own
    (a printed total or a plain figure); where only lower regions are printed for a year, their
    figures are added up, by the one rule above.
    """
    rows = [r for r in first_statements(rows) if r["unit_counted"] == unit_counted and r["status"] == status and r.get("year")]
    out: dict[int, list[dict]] = {}
    for r in rows:
        if r["region_id"] == jurisdiction:
            out.setdefault(r["year"], []).append(r)
    below = [r for g in addable_groups("exit_schedules", [r for r in rows if r["region_id"] != jurisdiction]).values() for r in g]
    for r in below:
        if r["year"] not in out or out[r["year"]][0]["region_id"] != jurisdiction:
            out.setdefault(r["year"], []).append(r)
    return dict(sorted(out.items()))


def planned_exits(rows: list[dict], unit_counted: str, jurisdiction: str, status: str = "planned") -> dict[int, float]:
    """Exits by year (see exits_by_year), as numbers."""
    return {y: sum(r["value"] for r in rs) for y, rs in exits_by_year(rows, unit_counted, jurisdiction, status).items()}


POOR_POPULATION_RE = re.compile(r"(建档立卡)?贫困人口")


def registered_poor(pkg: ValidPackage, jurisdiction: str) -> dict | None:
    """The baseline count of registered poor persons in the document's jurisdiction (earliest year)."""
    rows = [
        r
        for r in pkg.tables.get("baselines", [])
        if r["region_id"] == jurisdiction
        and r["unit"] == "人"
        and r["status"] == "baseline"
        and not r.get("restates")
        and POOR_POPULATION_RE.search(r["indicator_zh"])
        and "减少" not in r["indicator_zh"]
    ]
    rows.sort(key=lambda r: (r.get("reference_year") or 9999, -r["value"]))
    return rows[0] if rows else None


def document_entry(pkg: ValidPackage, regions: dict) -> dict:
    """The document's row, with its package and a short name for chart titles and lists (jurisdiction, period)."""
    doc = pkg.document
    name = regions.get(doc["region_id"], {}).get("name_zh", doc["region_id"])
    plans = {p["plan_id"]: p for p in pkg.tables.get("plans", [])}
    return {
        **doc,
        "package": pkg,
        "region_zh": name,
        "region_en": regions.get(doc["region_id"], {}).get("name_en") or "",
        "plans": plans,
        "short_zh": f"{name}（{doc['period_start']}—{doc['period_end']}）",
    }


def village_mentions_in(tables: dict, regions: dict) -> dict[str, list[tuple[str, dict]]]:
    """Villages named in an exit schedule's list of names, by region id."""
    names = {r["name_zh"]: rid for rid, r in regions.items() if r["level"] == "village"}
    mentions = defaultdict(list)
    for row in tables.get("exit_schedules", []):
        for name in re.split(r"[、,，\s]+", row.get("village_names_zh") or ""):
            if name in names:
                mentions[names[name]].append(("exit_schedules", row))
    return dict(mentions)


def headline_and_comparison(pkg: ValidPackage, doc: dict, regions: dict) -> tuple[dict, dict]:
    """The home page's headline figures and the comparison page's row for one document."""
    inv = grand_total_investment(pkg.tables.get("investments", []))
    exits = {
        u: planned_exits(pkg.tables.get("exit_schedules", []), u, doc["region_id"])
        for u in ("person", "household", "village", "township", "county")
    }
    poor = registered_poor(pkg, doc["region_id"])
    groups = [
        g
        for k, g in addable_groups("investments", pkg.tables.get("investments", [])).items()
        if k[3:5] == ("by_category", "planned")
    ]
    by_cat = groups[0] if len(groups) == 1 else []  # categories of one plan's one breakdown, or none
    cat_total = sum(exact(r) for r in by_cat)
    comparison = {
        "doc": doc,
        "region": regions.get(doc["region_id"]),
        "investment": inv,
        "poor": poor,
        "per_person": (exact(inv) * 10000 / exact(poor)) if inv and poor else None,  # 万元 -> 元 per person
        "category_shares": [(r["category_zh"], r["category_en"], exact(r) * 100 / cat_total) for r in by_cat]
        if cat_total
        else [],
        "exit_persons": exits["person"],
        "exit_villages": exits["village"],
        "exit_rows": [
            r for rs in exits_by_year(pkg.tables.get("exit_schedules", []), "person", doc["region_id"]).values() for r in rs
        ],
        "category_rows": by_cat,
    }
    return {"doc": doc, "investment": inv, "exits": exits, "poor": poor}, comparison


def run(corpus: Corpus, report: ValidationReport) -> Derived:
    documents, regions, children = {}, {}, defaultdict(list)
    tables: dict[str, list[dict]] = defaultdict(list)
    datasets, region_figures = [], defaultdict(list)
    for pkg in report.packages:
        for row in pkg.tables["regions"]:
            regions.setdefault(row["region_id"], row)
        documents[pkg.id] = doc = document_entry(pkg, regions)
        for res in pkg.descriptor["resources"]:
            tables[res["name"]].extend(pkg.tables[res["name"]])
        for fam in families.FIGURES:
            rows = pkg.tables.get(fam.name, [])
            if rows:
                datasets.append(Dataset(pkg, fam, rows, doc))
            for row in rows:
                region_figures[row["region_id"]].append((fam.name, row))
    for rid, row in sorted(regions.items()):
        if row.get("parent_id") and row["parent_id"] in regions:
            children[row["parent_id"]].append(rid)
    pairs = [headline_and_comparison(pkg, documents[pkg.id], regions) for pkg in report.packages]
    return Derived(
        corpus=corpus,
        report=report,
        documents=documents,
        regions=regions,
        children=dict(children),
        datasets=datasets,
        region_figures=dict(region_figures),
        village_mentions=village_mentions_in(tables, regions),
        tables=dict(tables),
        headline=[h for h, _ in pairs],
        comparison=[c for _, c in pairs],
        errata=[{**e, "doc_id": pkg.id} for pkg in report.packages for e in pkg.errata],
        checks=[{**r, "doc_id": pkg.id} for pkg in report.packages for r in pkg.results],
        counts=[package_counts(pkg, documents[pkg.id]) for pkg in report.packages],
        restatements=restatement_index(report.packages),
    )


def restatement_index(packages: list[ValidPackage]) -> dict[tuple[str, str], list[dict]]:
    index: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for pkg in packages:
        for _, row in pkg.figures():
            if row.get("restates"):
                index[(pkg.id, row["restates"])].append(row)
    return {k: sorted(v, key=lambda r: r["line_start"]) for k, v in index.items()}


def package_counts(pkg: ValidPackage, doc: dict) -> dict:
    """What the documents, quality and methodology pages count for one package."""
    by_family = defaultdict(int)
    for fam, _ in pkg.figures():
        by_family[fam] += 1
    return {
        "doc": doc,
        "id": pkg.id,
        "counts": [by_family.get(f.name, 0) for f in families.FIGURES],
        "total": sum(by_family.values()),
        "ignored": len(pkg.ignore),
        "errata": len(pkg.errata),
        "checks": len(pkg.results),
        "checks_ok": sum(1 for r in pkg.results if r["ok"]),
        "provenance_verified": pkg.provenance_verified,
    }
