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
XLSX_LAYOUT = 2  # part of the workbook cache's key: change it when xlsx_bytes writes a different workbook
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
    merged_package: dict | None = None  # downloads/all/datapackage.json, describing the merged tables


def long_description(ds, lang: str = "zh") -> str:
    """A dataset's description for catalogs and schema.org (which wants 50 to 5000 characters), in one language:
    its summary, the family's description and the provenance of every figure."""
    if lang == "en":
        text = (
            f"{ds.summary('en')} Every figure comes with the line of the source text where it is printed and the number "
            f"as printed ({ds.family.description_en.lower()})."
        )
    else:
        text = f"{ds.summary_zh()}{ds.family.description_zh}；每个数字都注明出自原文第几行、原文怎么写。"
    return text[:5000]


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


def field_rows(fields) -> list[tuple[str, str, str, str]]:
    """(name, title_zh, title_en, type) of each field; a bare (name, title) pair has no English title and is text."""
    return [(*f, "", "string")[:4] if len(f) == 2 else tuple(f) for f in fields]


def xlsx_bytes(title: str, fields, rows: list[dict], creator: str, readme: list[tuple[str, str]] | None = None) -> bytes:
    """A workbook: `data` (text columns stay text), `fields` (titles in both languages), `README` (title, source,
    licence, citation, address)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    fields = field_rows(fields)
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append([name for name, *_ in fields])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([xlsx_value(r.get(name), kind) for name, _, _, kind in fields])
        for cell, (_, _, _, kind) in zip(ws[ws.max_row], fields):
            if kind == "string" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                # text stays text: a formula-like string, an id like 632521, a value_as_printed like 95%
                cell.data_type = "s"
                cell.number_format = "@"
    meta = wb.create_sheet("fields")
    meta.append(["field", "title_zh", "title_en", "type"])
    for row in fields:
        meta.append(list(row))
    info = wb.create_sheet("README")  # last: `data` stays the first sheet, the one programs read by default
    info.append(["key", "value"])
    for key, value in readme or [("title", title)]:
        info.append([key, value])
        info.cell(info.max_row, 2).data_type = "s"
    wb.properties.title = title
    wb.properties.creator = creator
    fixed = dt.datetime(2020, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    # wb.save() stamps the current time over `modified` in docProps/core.xml; the writer it wraps does not
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    return normalize_zip(buf.getvalue())


def xlsx_value(v, kind: str = ""):
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if kind == "string" and v is not None and not isinstance(v, str):
        return fmt_cell(v)
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


def field_names(corpus_schemas: dict, name: str) -> list[tuple[str, str, str, str]]:
    """(name, title_zh, title_en, type) of each field of a schema, as the schema file declares them."""
    return [
        (f["name"], f.get("title", ""), f.get("title_en", ""), f.get("type", "string")) for f in corpus_schemas[name]["fields"]
    ]


# every CSV the site publishes: UTF-8 with a BOM, comma, CRLF, double quotes (the Frictionless dialect, declared)
DIALECT = {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "doubleQuote": True, "header": True}


def csv_resource(name: str, path: str, schema: dict, **extra) -> dict:
    return {
        "name": name,
        "profile": "tabular-data-resource",
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": DIALECT,
        **extra,
        "schema": schema,
    }


def source_entry(doc: dict) -> dict:
    """The package's source: its title, its file name and checksum; a path only where a public address is known."""
    entry = {"title": doc["title_zh"], "source_file": doc["source_file"], "sha256": doc["source_sha256"]}
    url = doc.get("source_url") or ""
    if url.startswith(("https://", "http://")):
        entry["path"] = url
    return entry


def package_descriptor(pkg, schemas: dict, site_url: str) -> dict:
    """A standalone datapackage.json: schemas inlined, resource paths relative to it (data/*.csv beside it),
    so it validates where it is published and after download. The source text is named, not linked: the
    portal knows no public address for it."""
    doc = pkg.document
    return {
        "profile": "tabular-data-package",
        "name": pkg.id,
        "title": doc["title_zh"],
        "title_en": doc["title_en"],
        "description": f"{doc['title_zh']}中的全部数字及其出处（原文行号与原文数值）。",
        "homepage": f"{site_url}documents/{pkg.id}/",
        "licenses": [LICENSE],
        "sources": [source_entry(doc)],
        "resources": [csv_resource(r["name"], f"data/{r['name']}.csv", schemas[r["name"]]) for r in pkg.descriptor["resources"]],
    }


ID_FIELD_SUFFIX = "_id"

# a reader's name beside each id column of the downloads (CSV, XLSX, JSON and the merged tables): id column ->
# (name column, title_zh, title_en). Tables that carry the name themselves (regions.name_zh, ...) are left alone.
NAME_COLUMNS = {
    "doc_id": ("document_zh", "来源文件名称", "Document title"),
    "region_id": ("region_zh", "地区名称", "Region name"),
    "parent_id": ("parent_zh", "上级地区名称", "Parent region name"),
    "plan_id": ("plan_zh", "规划名称", "Plan title"),
}
OWN_NAMES = {"documents": {"doc_id"}, "regions": {"region_id"}, "plans": {"plan_id"}}


def name_fields(table: str, fields: list[tuple]) -> list[tuple]:
    """fields (name, title_zh, title_en, type) with a name column after each id column named in NAME_COLUMNS."""
    out = []
    for f in fields:
        out.append(f)
        if f[0] in NAME_COLUMNS and f[0] not in OWN_NAMES.get(table, set()):
            name, zh, en = NAME_COLUMNS[f[0]]
            out.append((name, zh, en, "string"))
    return out


def names_of(derived: Derived, row: dict) -> dict:
    """The names of the ids a row holds (an id the portal does not know stays without a name)."""
    doc = derived.documents.get(row.get("doc_id"), {})
    regions = derived.regions
    plan = (doc.get("plans") or {}).get(row.get("plan_id"), {})
    return {
        "document_zh": doc.get("title_zh", ""),
        "region_zh": regions.get(row.get("region_id"), {}).get("name_zh", ""),
        "parent_zh": regions.get(row.get("parent_id"), {}).get("name_zh", ""),
        "plan_zh": plan.get("title_zh", ""),
    }


def named_rows(derived: Derived, rows: list[dict]) -> list[dict]:
    return [{**r, **names_of(derived, r)} for r in rows]


PER_DOCUMENT_KEYS = ("figure_id", "plan_id")  # unique within one document only: doc_id joins them in merged tables


def merged_schema(table: str, schema: dict, is_figures: bool, names: set[str]) -> dict:
    """A family's schema for the portal-wide table: ids are text; figure and plan ids are unique per document only,
    so their keys, and the foreign keys that point at them, are (doc_id, id)."""
    fields = []
    for f in schema["fields"]:
        f = {**f, "constraints": dict(f.get("constraints", {}))}
        if f["name"].endswith(ID_FIELD_SUFFIX):
            f["type"] = "string"
        if f["name"] in PER_DOCUMENT_KEYS:
            f["constraints"].pop("unique", None)
        if not f["constraints"]:
            del f["constraints"]
        fields.append(f)
        if f["name"] in NAME_COLUMNS and f["name"] not in OWN_NAMES.get(table, set()):
            name, zh, en = NAME_COLUMNS[f["name"]]
            fields.append(
                {"name": name, "type": "string", "title": zh, "title_en": en, "description": f"{f.get('title', '')}对应的名称"}
            )
    out = {k: v for k, v in schema.items() if k not in ("fields", "primaryKey", "foreignKeys")}
    out["fields"] = fields
    key = list(schema.get("primaryKey", []))
    out["primaryKey"] = ["doc_id", "figure_id"] if is_figures else ["doc_id", *key] if key[:1] == ["plan_id"] else key
    fks = [per_document(fk) for fk in schema.get("foreignKeys", []) if fk["reference"]["resource"] in names | {""}]
    if fks:
        out["foreignKeys"] = fks
    return out


def per_document(fk: dict) -> dict:
    """A foreign key to a per-document id (plan_id) names its document too."""
    if fk["fields"] in PER_DOCUMENT_KEYS:
        return {
            "fields": ["doc_id", fk["fields"]],
            "reference": {**fk["reference"], "fields": ["doc_id", fk["reference"]["fields"]]},
        }
    return fk


def merged_descriptor(schemas: dict, site_url: str) -> dict:
    """downloads/all/datapackage.json: the merged tables, built from the schema files in datasets/schemas/."""
    names = set(schemas)
    resources = []
    for name in merged_names(schemas):
        fam = families.BY_NAME.get(name)
        extra = {"title": fam.title_zh, "title_en": fam.title_en, "description": fam.description_zh} if fam else {}
        schema = merged_schema(name, schemas[name], bool(fam and fam.is_figures), names)
        resources.append(csv_resource(name, f"{name}.csv", schema, **extra))
    return {
        "profile": "tabular-data-package",
        "name": "poverty-plans-all",
        "title": "全部规划文件的合并表",
        "title_en": "All documents: merged tables",
        "description": "全部数据包合并后的表：每个数据类别一张表，另有文件、地区等参照表。数字编号在同一文件内唯一，"
        "因此数字表的主键是（doc_id, figure_id）。",
        "homepage": f"{site_url}downloads/",
        "licenses": [LICENSE],
        "sources": [{"title": "脱贫攻坚规划文件原文（各文件的数据包列出原文文件名与 SHA-256）"}],
        "resources": resources,
    }


def merged_names(schemas: dict) -> list[str]:
    """Reference tables first (the registry's, then any other table the schemas define), then the figure tables."""
    known = [f.name for f in families.ALL if f.name in schemas]
    extra = sorted(n for n in schemas if n not in families.BY_NAME)
    ref = [n for n in known if not families.BY_NAME[n].is_figures]
    return ref + extra + [n for n in known if families.BY_NAME[n].is_figures]


def record(out: Path, rel: str, data: bytes, fmt: str, label: str) -> dict:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"format": fmt, "label": label, "path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def cached_xlsx(settings: Settings, title: str, fields, rows: list[dict], readme: list[tuple[str, str]]) -> bytes:
    """XLSX is the slowest format to write: reuse the workbook of identical content (a content-hash cache)."""
    if not settings.cache:
        return xlsx_bytes(title, fields, rows, settings.publisher_zh, readme)
    blob = json.dumps([XLSX_LAYOUT, title, fields, rows, readme], ensure_ascii=False, sort_keys=True, default=str)
    path = settings.work / "cache" / "xlsx" / f"{hashlib.sha256(blob.encode()).hexdigest()[:24]}.xlsx"
    if path.is_file():
        return path.read_bytes()
    data = xlsx_bytes(title, fields, rows, settings.publisher_zh, readme)
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


def xlsx_readme(ds, settings: Settings) -> list[tuple[str, str]]:
    """The README sheet: what the workbook is, where its numbers come from, how to cite it."""
    url = settings.site_url + ds.url
    doc = ds.document
    return [
        ("title", ds.title_zh),
        ("title_en", ds.title_en),
        ("source document", f"{doc['title_zh']}（{doc['source_file']}，SHA-256 {doc['source_sha256']}）"),
        ("licence", f"{LICENSE['title']} ({LICENSE['name']}) {LICENSE['path']}"),
        ("citation", f"{settings.publisher_zh}. {ds.title_zh}[DS/OL]. {url}."),
        ("address", url),
        ("publisher", f"{settings.publisher_zh} / {settings.publisher_en}"),
        ("note", "编号（*_id）与原文数值（value_as_printed）列是文本，不是数字。Id and value_as_printed columns are text."),
    ]


def package_files(derived: Derived, settings: Settings) -> dict[str, dict[str, bytes]]:
    """Per package: its CSVs (data/*.csv), its datapackage.json and errata, keyed by path inside the package."""
    schemas = derived.corpus.schemas
    out: dict[str, dict[str, bytes]] = {}
    for pkg in derived.packages:
        files = {}
        for res in pkg.descriptor["resources"]:
            fields = [n for n, *_ in field_names(schemas, res["name"])]
            files[f"data/{res['name']}.csv"] = csv_bytes(fields, pkg.tables[res["name"]])
        desc = package_descriptor(pkg, schemas, settings.site_url)
        files["datapackage.json"] = json.dumps(desc, ensure_ascii=False, indent=1).encode()
        errata = pkg.dir / "errata.yaml"
        if errata.exists():
            files["errata.yaml"] = errata.read_bytes()
        out[pkg.id] = files
    return out


def dataset_files(ds, derived: Derived, settings: Settings, out: Path, schemas: dict, pkg_files: dict[str, bytes]) -> list[dict]:
    """A dataset's downloads: CSV, XLSX, JSON, and its package as published beside them (datapackage.json
    with the package's CSVs in data/, so that its resource paths resolve) and as a zip."""
    base = f"downloads/{ds.id}/{ds.id}"
    fields = name_fields(ds.family.name, field_names(schemas, ds.family.name))
    names = [n for n, *_ in fields]
    rows = named_rows(derived, [public_row(r) for r in ds.rows])
    for rel, data in pkg_files.items():
        if rel.startswith("data/"):
            record(out, f"downloads/{ds.id}/{rel}", data, "CSV", rel)
    doc_json = {
        "dataset": ds.id,
        "title": ds.title_zh,
        "title_en": ds.title_en,
        "license": LICENSE["name"],
        "source": ds.document["title_zh"],
        "fields": names,
        "rows": rows,
    }
    xlsx = cached_xlsx(settings, ds.title_zh, fields, rows, xlsx_readme(ds, settings))
    return [
        record(out, f"{base}.csv", csv_bytes(names, rows), "CSV", "CSV（UTF-8，Excel 可直接打开）"),
        record(out, f"{base}.xlsx", xlsx, "XLSX", "Excel 工作簿"),
        record(out, f"{base}.json", json.dumps(doc_json, ensure_ascii=False, indent=1).encode(), "JSON", "JSON"),
        record(
            out,
            f"downloads/{ds.id}/datapackage.json",
            pkg_files["datapackage.json"],
            "datapackage.json",
            "Frictionless 数据包描述",
        ),
        record(out, f"downloads/{ds.id}/{ds.package.id}.zip", zip_bytes(pkg_files), "ZIP", "整个数据包（zip）"),
    ]


def all_schemas(derived: Derived, settings: Settings) -> dict[str, dict]:
    """The registry's schemas, plus any other table a schema file in datasets/schemas/ defines."""
    import yaml

    schemas = dict(derived.corpus.schemas)
    for path in sorted((settings.datasets / "schemas").glob("*.schema.yaml")):
        name = path.name.removesuffix(".schema.yaml")
        if name not in schemas:
            schemas[name] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return schemas


def merged_files(derived: Derived, settings: Settings, out: Path) -> tuple[dict[str, dict], dict]:
    """downloads/all/<table>.csv for every table, and the datapackage.json that describes them."""
    schemas = all_schemas(derived, settings)
    merged = {}
    for name in merged_names(schemas):
        rows = list(derived.regions.values()) if name == "regions" else derived.tables.get(name, [])
        fam = families.BY_NAME.get(name)
        names = [n for n, *_ in name_fields(name, field_names(schemas, name))]
        title = fam.title_zh if fam else name
        data = csv_bytes(names, named_rows(derived, rows))
        merged[name] = record(out, f"downloads/all/{name}.csv", data, "CSV", f"{title}（全部文件）")
        merged[name]["rows"] = len(rows)
        merged[name]["family"] = fam
    desc = json.dumps(merged_descriptor(schemas, settings.site_url), ensure_ascii=False, indent=1).encode()
    package = record(out, "downloads/all/datapackage.json", desc, "datapackage.json", "合并表的 Frictionless 数据包描述")
    return merged, package


def run(derived: Derived, settings: Settings, docs_dir: Path) -> Downloads:
    schemas = derived.corpus.schemas
    out = docs_dir
    packages = package_files(derived, settings)
    by_dataset = {ds.id: dataset_files(ds, derived, settings, out, schemas, packages[ds.package.id]) for ds in derived.datasets}
    bulk = {f"{pkg_id}/{rel}": data for pkg_id, files in packages.items() for rel, data in files.items()}
    merged, merged_package = merged_files(derived, settings, out)
    readme = bulk_readme(settings, merged)
    bulk["README.txt"] = readme
    record(out, "downloads/all/README.txt", readme, "TXT", "说明（相加规则）")
    bulk_rec = record(out, "downloads/all/all-datapackages.zip", zip_bytes(bulk), "ZIP", "全部数据包（zip）")
    return Downloads(by_dataset, bulk_rec, merged, merged_package)
