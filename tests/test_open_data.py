"""Open data that other software accepts: the built site's downloads, catalogs and metadata, each checked
with the validator the software that reads it uses.

- every published datapackage.json: `frictionless validate`, by path, by URL from a local server, and
  after download (the descriptor and its files fetched into an empty folder; the zip extracted);
- downloads/all/datapackage.json: the merged tables, described from the schema files in datasets/schemas/;
- catalog.jsonld: the DCAT-AP 3.0.1 SHACL shapes (mandatory, range, recommended) with pyshacl: no violation;
- data.json: the Project Open Data v1.1 non-federal JSON schema (also in test_catalogs.py);
- sitemap.xml: the sitemaps.org 0.9 XSD (xmllint); feed.xml: the RFC 4287 RELAX NG grammar (jing);
- every dataset page's JSON-LD: Google's required and recommended Dataset properties;
- spreadsheets: every CSV (also inside zips) has a BOM and one dialect; every XLSX has a README sheet,
  titles in both languages and text cells for text columns.

The validators live outside the repository, in ../shared/validators (PORTAL_VALIDATORS to point
elsewhere); without them the tests that need them skip, saying so.
"""

from __future__ import annotations

import csv
import http.server
import io
import json
import shutil
import subprocess
import urllib.request
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import CORPUS
from helpers import ROOT, Page, read_csv, serve_folder
from test_catalogs import pod_validator

FIXTURES = Path(__file__).parent / "fixtures"

SCHEMAS = ROOT / "datasets" / "schemas"
DCAT_AP = "dcat-ap-3.0.1"
# the shapes of DCAT-AP 3.0.1, as validated together: (mandatory + ranges) and the HTML release's three files
SHAPE_SETS = {
    "shacl": ("shacl_dcat-ap-SHACL.ttl", "shacl_ranges.ttl"),
    "html": ("html_shacl_shapes.ttl", "html_shacl_range.ttl", "html_shacl_shapes_recommended.ttl"),
}
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def served(built_site):
    """The built site served from its root on 127.0.0.1 (a free port)."""
    with serve_folder(QuietHandler, built_site, "open-data-server") as port:
        yield f"http://127.0.0.1:{port}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def descriptors(site: Path) -> list[Path]:
    return sorted(site.glob("downloads/*/datapackage.json"))


def schema_files() -> dict[str, dict]:
    return {p.name.removesuffix(".schema.yaml"): yaml.safe_load(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.yaml")}


def report_text(report) -> str:
    errors = [e.message[:300] for e in report.errors]
    for task in report.tasks:
        errors += [f"{task.name}: {e.message[:300]}" for e in task.errors]
    return "\n".join(errors[:20])


# --- Frictionless ---------------------------------------------------------------------------------------------


def test_every_dataset_folder_publishes_a_descriptor(built_site):
    folders = [p for p in (built_site / "downloads").iterdir() if p.is_dir() and p.name != "all"]
    assert folders
    assert {p.parent for p in descriptors(built_site)} == {*folders, built_site / "downloads" / "all"}


def test_published_descriptors_validate_where_they_are(built_site):
    from frictionless import validate

    failed = {}
    for path in descriptors(built_site):
        report = validate(str(path))
        if not report.valid:
            failed[str(path.relative_to(built_site))] = report_text(report)
    assert not failed, failed


def test_published_descriptors_validate_by_url(built_site, served):
    from frictionless import validate

    failed = {}
    for path in descriptors(built_site):
        rel = path.relative_to(built_site).as_posix()
        report = validate(served + rel)
        if not report.valid:
            failed[rel] = report_text(report)
    assert not failed, failed


def test_published_descriptors_validate_after_download(built_site, served, tmp_path):
    """Fetch each descriptor and the files it names into an empty folder, as a user would; it validates there."""
    from frictionless import validate

    failed = {}
    for path in descriptors(built_site):
        rel = path.relative_to(built_site).as_posix()
        base = served + rel.rsplit("/", 1)[0] + "/"
        dest = tmp_path / rel.replace("/", "_")
        dest.mkdir()
        desc = json.loads(urllib.request.urlopen(served + rel, timeout=30).read())
        (dest / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
        for res in desc["resources"]:
            assert not res["path"].startswith(("/", "..")) and "://" not in res["path"], res["path"]
            (dest / res["path"]).parent.mkdir(parents=True, exist_ok=True)
            (dest / res["path"]).write_bytes(urllib.request.urlopen(base + res["path"], timeout=30).read())
        report = validate(str(dest / "datapackage.json"))
        if not report.valid:
            failed[rel] = report_text(report)
    assert not failed, failed


def test_every_zipped_package_validates_on_its_own(built_site, tmp_path):
    from frictionless import validate

    zips = sorted(p for p in built_site.glob("downloads/*/*.zip") if p.parent.name != "all")
    assert zips
    failed = {}
    for i, z in enumerate(zips):
        dest = tmp_path / str(i)
        zipfile.ZipFile(z).extractall(dest)
        report = validate(str(dest / "datapackage.json"))
        if not report.valid:
            failed[z.name] = report_text(report)
    assert not failed, failed


def test_descriptors_declare_profile_licence_and_sources(built_site):
    for path in descriptors(built_site):
        desc = json.loads(path.read_text(encoding="utf-8"))
        where = path.relative_to(built_site)
        assert desc["profile"] == "tabular-data-package", where
        assert desc["licenses"] and all(lic.get("name") and lic.get("path") for lic in desc["licenses"]), where
        assert desc["sources"] and all(s.get("title") for s in desc["sources"]), where
        # a source's path is a real address or absent: never a file name published nowhere
        assert all(s["path"].startswith(("https://", "http://")) for s in desc["sources"] if "path" in s), where
        for res in desc["resources"]:
            assert res["profile"] == "tabular-data-resource" and res["dialect"]["delimiter"] == ",", (where, res["name"])
            assert (path.parent / res["path"]).is_file(), (where, res["path"])


NAME_OF = {"doc_id": "document_zh", "region_id": "region_zh", "parent_id": "parent_zh", "plan_id": "plan_zh"}


def test_merged_tables_descriptor_is_built_from_the_schema_files(built_site):
    desc = json.loads((built_site / "downloads" / "all" / "datapackage.json").read_text(encoding="utf-8"))
    schemas = schema_files()
    resources = {r["name"]: r for r in desc["resources"]}
    assert set(resources) == set(schemas), "one table per family plus every reference table of the schemas"
    for name, schema in schemas.items():
        res = resources[name]
        assert (built_site / "downloads" / "all" / res["path"]).is_file()
        # a name column follows each id column a reader could not read (region_id → region_zh): that is all that is added
        added = [f for f in res["schema"]["fields"] if f["name"] in NAME_OF.values()]
        fields = [f for f in res["schema"]["fields"] if f not in added]
        names = [f["name"] for f in res["schema"]["fields"]]
        for f in added:
            id_col = next(k for k, v in NAME_OF.items() if v == f["name"])
            assert names[names.index(f["name"]) - 1] == id_col, (name, f["name"])
        assert [f["name"] for f in fields] == [f["name"] for f in schema["fields"]], name
        for got, want in zip(fields, schema["fields"]):
            for key in ("title", "title_en", "description", "description_en"):
                assert got.get(key) == want.get(key), (name, got["name"], key)
            if got["name"].endswith("_id"):
                assert got["type"] == "string", (name, got["name"])
        fks = {
            fk["fields"] if isinstance(fk["fields"], str) else fk["fields"][-1]: fk for fk in res["schema"].get("foreignKeys", [])
        }
        if "figure_id" in {f["name"] for f in fields}:
            assert res["schema"]["primaryKey"] == ["doc_id", "figure_id"], name
            assert fks["doc_id"]["reference"]["resource"] == "documents", name
            assert fks["region_id"]["reference"]["resource"] == "regions", name
            if "plans" in schemas and "plan_id" in fks:  # plan ids are unique per document: (doc_id, plan_id)
                assert fks["plan_id"]["reference"] == {"resource": "plans", "fields": ["doc_id", "plan_id"]}, name
                assert fks["plan_id"]["fields"] == ["doc_id", "plan_id"], name
        elif schema["primaryKey"] == ["plan_id"]:
            assert res["schema"]["primaryKey"] == ["doc_id", "plan_id"], name
        else:
            assert res["schema"]["primaryKey"] == schema["primaryKey"], name
    assert resources["documents"]["schema"]["foreignKeys"][0]["reference"]["resource"] == "regions"


# --- DCAT-AP --------------------------------------------------------------------------------------------------


def shapes(folder: Path, files: tuple[str, ...]):
    """The shapes graph of `files`. Two property shapes that the range file lists (sh:property) are defined in
    none of the release's files; pyshacl refuses a shape without sh:path, so such dangling references are
    dropped (they constrain nothing)."""
    import rdflib

    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    graph = rdflib.Graph()
    for name in files:
        graph.parse(folder / DCAT_AP / name, format="turtle")
    for node, prop in list(graph.subject_objects(sh.property)):
        if graph.value(prop, sh.path) is None:
            graph.remove((node, sh.property, prop))
    return graph


def shacl_results(data_graph, shapes_graph) -> list[tuple[str, str, str, str]]:
    """(severity, focus node, path, message) of every result pyshacl reports."""
    import pyshacl
    import rdflib

    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    _, report, _ = pyshacl.validate(data_graph, shacl_graph=shapes_graph, advanced=True)
    return [
        (
            str(report.value(r, sh.resultSeverity)).rsplit("#", 1)[-1],
            str(report.value(r, sh.focusNode)),
            str(report.value(r, sh.resultPath)),
            str(report.value(r, sh.resultMessage))[:200],
        )
        for r in report.subjects(rdflib.RDF.type, sh.ValidationResult)
    ]


def catalog_graph(site: Path):
    import rdflib

    return rdflib.Graph().parse(site / "catalog.jsonld", format="json-ld")


@pytest.mark.parametrize("shape_set", sorted(SHAPE_SETS))
def test_catalog_jsonld_has_no_dcat_ap_violation(built_site, validators, shape_set):
    pytest.importorskip("pyshacl", reason="pyshacl is not installed (.[test])")
    results = shacl_results(catalog_graph(built_site), shapes(validators, SHAPE_SETS[shape_set]))
    violations = [r for r in results if r[0] == "Violation"]
    assert not violations, "\n".join(map(str, violations[:20]))


def test_the_shapes_reject_a_catalog_without_title_and_a_bad_byte_size(built_site, validators):
    """The check itself: the shapes do see a missing dct:title and an xsd:integer byte size."""
    pytest.importorskip("pyshacl", reason="pyshacl is not installed (.[test])")
    import rdflib

    dct = rdflib.Namespace("http://purl.org/dc/terms/")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    g = catalog_graph(built_site)
    g.remove((None, dct.title, None))
    for dist, size in list(g.subject_objects(dcat.byteSize))[:1]:
        g.set((dist, dcat.byteSize, rdflib.Literal(int(size), datatype=rdflib.XSD.integer)))
    results = shacl_results(g, shapes(validators, SHAPE_SETS["shacl"]))
    paths = {r[2] for r in results if r[0] == "Violation"}
    assert str(dct.title) in paths and str(dcat.byteSize) in paths, paths


def test_catalog_terms_are_iris_and_typed_literals(built_site):
    cat = json.loads((built_site / "catalog.jsonld").read_text(encoding="utf-8"))
    assert {"spdx", "xsd", "dcat", "dct"} <= set(cat["@context"])
    assert cat["dct:description"] and cat["dct:publisher"]["@id"]
    assert cat["dct:modified"]["@type"] == "xsd:date"
    for ds in cat["dcat:dataset"]:
        assert "dct:source" not in ds or "@id" in ds["dct:source"]
        for dist in ds["dcat:distribution"]:
            assert dist["dcat:mediaType"]["@id"].startswith("http://www.iana.org/assignments/media-types/")
            assert dist["dcat:byteSize"]["@type"] == "xsd:nonNegativeInteger"
            assert dist["dcat:accessURL"]["@id"] and dist["dcat:downloadURL"]["@id"]


# --- data.json, sitemap, Atom ---------------------------------------------------------------------------------


def test_data_json_passes_the_pod_non_federal_schema(built_site, validators):
    data = json.loads((built_site / "data.json").read_text(encoding="utf-8"))
    errors = list(pod_validator(validators / "pod-v1.1-nonfederal").iter_errors(data))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:20]]


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    return path


def test_sitemap_passes_the_sitemaps_xsd(built_site, validators, tmp_path):
    """The sitemaps.org XSD, with the xhtml:link alternates (English and Chinese twins) declared beside it."""
    xmllint = tool("xmllint", "libxml2-utils")
    both, sitemaps = tmp_path / "sitemap-with-alternates.xsd", validators / "sitemap" / "sitemap.xsd"
    both.write_text(
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f'<xsd:import namespace="http://www.sitemaps.org/schemas/sitemap/0.9" schemaLocation="{sitemaps}"/>'
        f'<xsd:import namespace="http://www.w3.org/1999/xhtml" schemaLocation="{FIXTURES / "xhtml-link.xsd"}"/>'
        "</xsd:schema>",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [xmllint, "--noout", "--nonet", "--schema", str(both), str(built_site / "sitemap.xml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_feed_passes_the_atom_relax_ng_grammar(built_site, validators):
    jing = tool("jing", "jing")
    proc = subprocess.run(
        [jing, "-c", str(validators / "atom" / "atom.rnc"), str(built_site / "feed.xml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


# --- schema.org (Google's Dataset rules) ----------------------------------------------------------------------


def dataset_jsonlds(site: Path) -> dict[str, dict]:
    out = {}
    for index in sorted(site.glob("datasets/*/index.html")):
        head = index.read_text(encoding="utf-8").split("</head>")[0]
        (ld,) = Page(head).jsonld
        out[index.parent.name] = json.loads(ld) if isinstance(ld, str) else ld
    return out


def google_dataset_problems(ld: dict) -> list[str]:
    """Google's required (name, description of 50 to 5000 characters) and recommended Dataset properties."""
    problems = []
    for key in ("name", "url", "identifier", "keywords", "license", "temporalCoverage", "isAccessibleForFree"):
        if ld.get(key) in (None, "", []):
            problems.append(f"no {key}")
    if not 50 <= len(ld.get("description", "")) <= 5000:
        problems.append(f"description of {len(ld.get('description', ''))} characters")
    if not (ld.get("creator") or {}).get("name"):
        problems.append("no creator name")
    if not (ld.get("spatialCoverage") or {}).get("name") and not isinstance(ld.get("spatialCoverage"), str):
        problems.append("no spatialCoverage")
    cat = ld.get("includedInDataCatalog") or {}
    if cat.get("@type") != "DataCatalog" or not cat.get("name") or not cat.get("url"):
        problems.append("no includedInDataCatalog with name and url")
    dists = ld.get("distribution") or []
    if not dists or not all(d.get("@type") == "DataDownload" and d.get("contentUrl") and d.get("encodingFormat") for d in dists):
        problems.append("a distribution without contentUrl and encodingFormat")
    return problems


def test_dataset_pages_have_googles_dataset_properties(built_site):
    lds = dataset_jsonlds(built_site)
    assert lds
    problems = {ds: p for ds, ld in lds.items() if (p := google_dataset_problems(ld))}
    assert not problems, problems


def test_dataset_jsonld_links_resolve_on_the_site(built_site):
    for ds, ld in dataset_jsonlds(built_site).items():
        base = ld["includedInDataCatalog"]["url"].rsplit("catalog/", 1)[0]
        for d in ld["distribution"]:
            assert (built_site / d["contentUrl"].removeprefix(base)).is_file(), (ds, d["contentUrl"])


# --- spreadsheets ---------------------------------------------------------------------------------------------


def published_csvs(site: Path):
    """(where, bytes) of every CSV the site publishes, inside zips too."""
    for path in sorted(site.rglob("*.csv")):
        yield str(path.relative_to(site)), path.read_bytes()
    for path in sorted(site.rglob("*.zip")):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith(".csv"):
                    yield f"{path.relative_to(site)}!{name}", z.read(name)


def test_every_published_csv_has_a_bom_and_one_dialect(built_site):
    seen = 0
    for where, data in published_csvs(built_site):
        seen += 1
        assert data.startswith(BOM), f"{where}: no UTF-8 BOM"
        text = data[len(BOM) :].decode("utf-8")
        first = text.split("\r\n", 1)[0]
        assert "\r\n" in text and "\n" not in first, f"{where}: lines must end with CRLF"
        header = next(csv.reader(io.StringIO(first)))
        assert header and all(header) and first == ",".join(header), f"{where}: header must be plain comma-separated names"
    assert seen > 25


def test_every_xlsx_has_a_readme_and_titles_in_both_languages(built_site):
    import openpyxl

    schemas = schema_files()
    books = sorted(built_site.rglob("*.xlsx"))
    assert books
    for path in books:
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames[0] == "data", f"{path.name}: programs read the first sheet: it must be the data"
        readme = {r[0]: r[1] for r in wb["README"].iter_rows(min_row=2, values_only=True)}
        for key in ("title", "source document", "licence", "citation", "address"):
            assert readme.get(key), (path.name, key)
        assert readme["address"].startswith("http"), path.name
        header = [c.value for c in wb["data"][1]]
        own = [h for h in header if h not in NAME_OF.values()]  # the name columns beside the ids are the download's own
        family = next(name for name, s in schemas.items() if [f["name"] for f in s["fields"]] == own)
        want = {f["name"]: (f.get("title"), f.get("title_en")) for f in schemas[family]["fields"]}
        for name, zh, en, *_ in wb["fields"].iter_rows(min_row=2, values_only=True):
            assert zh and en and (name in NAME_OF.values() or (zh, en) == want[name]), (path.name, name)
        kinds = {f["name"]: f["type"] for f in schemas[family]["fields"]}
        text_columns = [i for i, h in enumerate(header) if kinds.get(h, "string") == "string"]
        for row in wb["data"].iter_rows(min_row=2):
            for i in text_columns:
                if row[i].value is not None:
                    assert row[i].data_type == "s" and isinstance(row[i].value, str), (path.name, header[i], row[i].value)


def test_xlsx_keeps_number_like_text_as_text():
    import openpyxl

    from build_scripts.stages import downloads

    fields = [("region_id", "地区", "Region", "string"), ("value_as_printed", "原文数值", "Value as printed", "string")]
    data = downloads.xlsx_bytes("t", fields, [{"region_id": 632521, "value_as_printed": "95%"}], "portal")
    ws = openpyxl.load_workbook(io.BytesIO(data))["data"]
    assert ws["A2"].value == "632521" and ws["A2"].data_type == "s"
    assert ws["B2"].value == "95%" and ws["B2"].data_type == "s"


def test_methodology_tells_csv_users_what_to_do():
    text = (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")
    assert "UTF-8" in text and "value_as_printed" in text and "文本" in text and "{#csv}" in text


def test_downloads_name_each_id(built_site):
    """Beside each region, document and plan id, the CSV a journalist opens gives its name, as the regions,
    documents and plans tables of the data packages spell it."""
    regions = {r["region_id"]: r["name_zh"] for p in CORPUS.package_dirs() for r in read_csv(p / "data" / "regions.csv")}
    docs = {r["doc_id"]: r["title_zh"] for p in CORPUS.package_dirs() for r in read_csv(p / "data" / "documents.csv")}
    rows = read_csv(built_site / "downloads" / CORPUS.chart_dataset / f"{CORPUS.chart_dataset}.csv")
    assert rows and all(r["region_zh"] == regions[r["region_id"]] and r["document_zh"] == docs[r["doc_id"]] for r in rows)
    merged = read_csv(built_site / "downloads" / "all" / "regions.csv")
    assert all(r["parent_zh"] == regions.get(r["parent_id"], "") for r in merged)
