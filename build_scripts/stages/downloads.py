"""Stage 5, downloads: every dataset as CSV (UTF-8 with BOM, for Excel), XLSX, JSON; every package as
datapackage.json and a zip; all packages in one zip; the portal-wide merged tables.

Runs before the pages stage because the pages show each file's size and sha256. Files are written
byte-for-byte reproducibly (fixed zip timestamps), so two builds of the same data are identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import families
from ..settings import LICENSE, Settings
from .derive import Derived, public_row

FIXED_TIME = (2020, 1, 1, 0, 0, 0)
# the IANA media type of each download format, for pages (schema.org) and catalogs (DCAT, data.json)
MEDIA_TYPES = {
    "CSV": "text/csv",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "JSON": "application/json",
    "datapackage.json": "application/json",
    "ZIP": "application/zip",
}


@dataclass(frozen=True)
class Downloads:
    """Every file the downloads stage wrote, with size and sha256: per dataset, the bulk zip, the merged tables."""

    by_dataset: dict[str, list[dict]]
    bulk: dict
    merged: dict[str, dict]


def csv_bytes(fields: list[str], rows: list[dict], bom: bool = True) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\r\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: fmt_cell(r.get(k)) for k in fields})
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def fmt_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def xlsx_bytes(title: str, fields: list[tuple[str, str]], rows: list[dict], creator: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append([name for name, _ in fields])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([xlsx_value(r.get(name)) for name, _ in fields])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text, exactly as in the data
    meta = wb.create_sheet("fields")
    meta.append(["field", "title_zh", "title_en"])
    for name, label in fields:
        meta.append([name, label, ""])
    wb.properties.title = title
    wb.properties.creator = creator
    fixed = dt.datetime(2020, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    # wb.save() stamps the current time over `modified` in docProps/core.xml; the writer it wraps does not
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    return normalize_zip(buf.getvalue())


def xlsx_value(v):
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def normalize_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps and order, for reproducible bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            zi = zipfile.ZipInfo(info.filename, FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, src.read(info.filename))
    return out.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            zi = zipfile.ZipInfo(name, FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, files[name])
    return out.getvalue()


def field_names(corpus_schemas: dict, name: str) -> list[tuple[str, str]]:
    return [(f["name"], f.get("title", "")) for f in corpus_schemas[name]["fields"]]


def package_descriptor(pkg, schemas: dict, site_url: str) -> dict:
    """A standalone datapackage.json: schemas inlined, so the zip validates on its own."""
    doc = pkg.document
    return {
        "profile": "data-package",
        "name": pkg.id,
        "title": doc["title_zh"],
        "title_en": doc["title_en"],
        "description": f"{doc['title_zh']}中的全部数字及其出处（原文行号与原文数值）。",
        "homepage": f"{site_url}documents/{pkg.id}/",
        "licenses": [LICENSE],
        "sources": [{"title": doc["title_zh"], "path": doc["source_file"], "sha256": doc["source_sha256"]}],
        "resources": [
            {
                "name": r["name"],
                "path": f"data/{r['name']}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schemas[r["name"]],
            }
            for r in pkg.descriptor["resources"]
        ],
    }


def record(out: Path, rel: str, data: bytes, fmt: str, label: str) -> dict:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"format": fmt, "label": label, "path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def cached_xlsx(settings: Settings, title: str, fields: list[tuple[str, str]], rows: list[dict]) -> bytes:
    """XLSX is the slowest format to write: reuse the workbook of identical content (a content-hash cache)."""
    if not settings.cache:
        return xlsx_bytes(title, fields, rows, settings.publisher_zh)
    blob = json.dumps([title, fields, rows], ensure_ascii=False, sort_keys=True, default=str)
    path = settings.work / "cache" / "xlsx" / f"{hashlib.sha256(blob.encode()).hexdigest()[:24]}.xlsx"
    if path.is_file():
        return path.read_bytes()
    data = xlsx_bytes(title, fields, rows, settings.publisher_zh)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # never a half-written file in the cache
    return data


def bulk_readme(settings: Settings, merged: dict) -> bytes:
    """The bulk download's README: what the files are, the licence, and which figures may be added up."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"), autoescape=False
    )
    text = env.get_template("bulk-readme.txt.j2").render(
        publisher_zh=settings.publisher_zh, publisher_en=settings.publisher_en, site_url=settings.site_url,
        license=LICENSE, merged=merged,
    )  # fmt: skip
    return text.replace("\n", "\r\n").encode("utf-8")  # CRLF: Notepad opens it as written


def run(derived: Derived, settings: Settings, docs_dir: Path) -> Downloads:
    schemas = derived.corpus.schemas
    out = docs_dir
    package_files: dict[str, dict[str, bytes]] = {}
    for pkg in derived.packages:
        files = {}
        for res in pkg.descriptor["resources"]:
            fields = [n for n, _ in field_names(schemas, res["name"])]
            files[f"{pkg.id}/data/{res['name']}.csv"] = csv_bytes(fields, pkg.tables[res["name"]], bom=False)
        desc = package_descriptor(pkg, schemas, settings.site_url)
        files[f"{pkg.id}/datapackage.json"] = json.dumps(desc, ensure_ascii=False, indent=1).encode()
        errata = pkg.dir / "errata.yaml"
        if errata.exists():
            files[f"{pkg.id}/errata.yaml"] = errata.read_bytes()
        package_files[pkg.id] = files
    by_dataset = {}
    for ds in derived.datasets:
        base = f"downloads/{ds.id}/{ds.id}"
        fields = field_names(schemas, ds.family.name)
        names = [n for n, _ in fields]
        rows = [public_row(r) for r in ds.rows]
        pkg_files = package_files[ds.package.id]
        pkg_zip = {k.split("/", 1)[1]: v for k, v in pkg_files.items()}
        by_dataset[ds.id] = [
            record(out, f"{base}.csv", csv_bytes(names, ds.rows), "CSV", "CSV（UTF-8，Excel 可直接打开）"),
            record(out, f"{base}.xlsx", cached_xlsx(settings, ds.title_zh, fields, rows), "XLSX", "Excel 工作簿"),
            record(
                out,
                f"{base}.json",
                json.dumps(
                    {
                        "dataset": ds.id,
                        "title": ds.title_zh,
                        "title_en": ds.title_en,
                        "license": LICENSE["name"],
                        "source": ds.document["title_zh"],
                        "fields": names,
                        "rows": rows,
                    },
                    ensure_ascii=False,
                    indent=1,
                ).encode(),
                "JSON",
                "JSON",
            ),
            record(
                out,
                f"downloads/{ds.id}/datapackage.json",
                pkg_files[f"{ds.package.id}/datapackage.json"],
                "datapackage.json",
                "Frictionless 数据包描述",
            ),
            record(out, f"downloads/{ds.id}/{ds.package.id}.zip", zip_bytes(pkg_zip), "ZIP", "整个数据包（zip）"),
        ]
    bulk = {}
    for files in package_files.values():
        bulk.update(files)
    merged = {}
    for fam in families.ALL:
        rows = derived.tables.get(fam.name, [])
        if fam.name == "regions":
            rows = list(derived.regions.values())
        names = [n for n, _ in field_names(schemas, fam.name)]
        merged[fam.name] = record(
            out, f"downloads/all/{fam.name}.csv", csv_bytes(names, rows), "CSV", f"{fam.title_zh}（全部文件）"
        )
        merged[fam.name]["rows"] = len(rows)
        merged[fam.name]["family"] = fam
    readme = bulk_readme(settings, merged)
    bulk["README.txt"] = readme
    record(out, "downloads/all/README.txt", readme, "TXT", "说明（相加规则）")
    bulk_rec = record(out, "downloads/all/all-datapackages.zip", zip_bytes(bulk), "ZIP", "全部数据包（zip）")
    return Downloads(by_dataset, bulk_rec, merged)
