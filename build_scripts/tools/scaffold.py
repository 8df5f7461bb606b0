"""Scaffolding of data packages: the descriptor and empty resources, for `portal new-document`."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import yaml

from .. import families
from ..settings import LICENSE


def schema_fields(datasets: Path, family: str) -> list[str]:
    schema = yaml.safe_load((datasets / "schemas" / f"{family}.schema.yaml").read_text(encoding="utf-8"))
    return [f["name"] for f in schema["fields"]]


def descriptor(doc_id: str, title_zh: str, title_en: str, resource_names: list[str]) -> dict:
    return {
        "name": doc_id,
        "title": title_zh,
        "title_en": title_en,
        "licenses": [LICENSE],
        "resources": [
            {
                "name": name,
                "path": f"data/{name}.csv",
                "format": "csv",
                "encoding": "utf-8",
                "schema": f"../schemas/{name}.schema.yaml",
            }
            for name in resource_names
        ],
    }


def write_descriptor(pkg_dir: Path, desc: dict) -> None:
    (pkg_dir / "datapackage.yaml").write_text(yaml.safe_dump(desc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: row.get(k, "") for k in header})


def main_plan(doc_id: str, title_zh: str, title_en: str, lines: int, status: str = "printed") -> dict:
    """The plans row of a document that is one plan: `main`, its whole text."""
    return {"plan_id": "main", "doc_id": doc_id, "title_zh": title_zh, "title_en": title_en, "title_status": status,
            "line_start": 1, "line_end": max(lines, 1), "notes": ""}  # fmt: skip


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def new_document(
    datasets: Path,
    doc_id: str,
    source: Path,
    region_id: str,
    region_name_zh: str,
    region_name_en: str,
    level: str,
    parent_id: str = "",
) -> Path:
    """Create datasets/<doc_id>/ with its documents row, a region, empty figure resources and lists."""
    pkg = datasets / doc_id
    if pkg.exists():
        raise FileExistsError(f"{pkg} already exists")
    names = [f.name for f in families.ALL]
    pkg.mkdir(parents=True)
    write_descriptor(pkg, descriptor(doc_id, f"（待填写）{doc_id}", doc_id, names))
    doc = {
        "doc_id": doc_id,
        "title_zh": f"（待填写）{doc_id}",
        "title_en": doc_id,
        "title_status": "inferred",
        "region_id": region_id,
        "period_start": "2016",
        "period_end": "2020",
        "source_file": source.name,
        "source_sha256": sha256_of(source),
        "notes": "Scaffolded: fill in title, issuer, date and period from the text; leave empty what the text does not print.",
        "notes_zh": "（待填写）关于原文的说明。",
    }
    write_csv(pkg / "data" / "documents.csv", schema_fields(datasets, "documents"), [doc])
    region = {
        "region_id": region_id,
        "gb_code": region_id if region_id.isdigit() else "",
        "name_zh": region_name_zh,
        "name_en": region_name_en,
        "level": level,
        "parent_id": parent_id,
        "parent_inferred": "false",
    }
    regions = [region]
    write_csv(pkg / "data" / "regions.csv", schema_fields(datasets, "regions"), regions)
    lines = len(source.read_text(encoding="utf-8", errors="replace").split("\n"))
    plans = [main_plan(doc_id, doc["title_zh"], doc["title_en"], lines, "inferred")]
    write_csv(pkg / "data" / "plans.csv", schema_fields(datasets, "plans"), plans)
    for fam in families.FIGURES:
        write_csv(pkg / "data" / f"{fam.name}.csv", schema_fields(datasets, fam.name), [])
    (pkg / "ignore.yaml").write_text("# Numbers in the source that are not figures, each with a reason.\n[]\n", encoding="utf-8")
    (pkg / "errata.yaml").write_text("# Inconsistencies of the source itself, published on the site.\n[]\n", encoding="utf-8")
    return pkg
