"""Hostile text in the data: every value is shown as text, never becomes markup, Markdown or template code.

The mini fixture package (tests/fixtures/mini/) is rewritten so that every free-text field — document
titles, issuer and notes, region names, sections, indicators, categories, figure notes, errata — holds
HTML (`<script>`, `<img onerror>`, attribute and `</title>` break-outs), Markdown (`|`, `*bold*`,
backticks, links, a heading after a newline), jinja syntax (`{{ 7*7 }}`, `{% if %}`) and newlines inside
quoted CSV fields. The site is built once; each test reads the built HTML with html.parser.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml
from helpers import MINI_SOURCES, Page, build_isolated, mini_datasets, parse_csv, read_csv, squash, write_csv

from build_scripts.families import FIGURE_NAMES

PKG = "mini-2020"

PAYLOAD = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> a | b | c *bold* _em_ `tick` ``` "
    "{{ 7*7 }} {% if true %}jinja{% endif %} {# note #} [x](javascript:alert(3)) &amp; "
    "\"'><script>alert(2)</script><img src=x onerror=alert(2)> </title><script>alert(4)</script> "
    "<!--<script> </textarea>\n# not a heading\n| x | y |\nlast line"
)
JINJA = ("{{ 7*7 }}", "{% if true %}jinja{% endif %}", "{# note #}")


def text(tag: str) -> str:
    """The hostile value of one field: a marker to find it by, then the payload."""
    return f"{tag}{PAYLOAD}"


def rewrite_csv(path: Path, change) -> None:
    rows = read_csv(path)
    for i, row in enumerate(rows):
        change(i, row)
    write_csv(path, rows, list(rows[0]))


class Hostile:
    """Rewrites the mini package's text fields; `values` holds every hostile value by its marker."""

    def __init__(self, ds: Path):
        self.values: dict[str, str] = {}
        self.data = ds / PKG / "data"
        self.errata = ds / PKG / "errata.yaml"

    def put(self, row: dict, fields: tuple[tuple[str, str], ...]) -> None:
        for field, tag in fields:
            row[field] = self.values[tag] = text(tag)

    def document(self, i: int, r: dict) -> None:
        self.put(r, (("title_zh", "TITLEZH"), ("title_en", "TITLEEN"), ("issuer_zh", "ISSUER"), ("notes", "DOCNOTES")))

    def region(self, i: int, r: dict) -> None:
        self.put(r, (("name_zh", f"REGZH{i}"), ("name_en", f"REGEN{i}"), ("notes", f"REGNOTES{i}")))

    def figure(self, fam: str, i: int, r: dict) -> None:
        self.put(r, (("section_zh", f"SEC{fam}{i}"), ("indicator_zh", f"IND{fam}{i}"), ("notes", f"NOTE{fam}{i}")))
        if r.get("category_zh"):
            self.put(r, (("category_zh", f"CAT{i}"),))

    def erratum(self) -> None:
        erratum = {"id": "e1", "check": "manual", "figure_id": "MA001", "lines": "7"}
        fields = (("printed", "PRINTED"), ("computed", "COMPUTED"), ("description_zh", "ERRZH"), ("description_en", "ERREN"))
        self.put(erratum, fields)
        self.errata.write_text(yaml.safe_dump([erratum], allow_unicode=True), encoding="utf-8")

    def apply(self) -> dict[str, str]:
        rewrite_csv(self.data / "documents.csv", self.document)
        rewrite_csv(self.data / "regions.csv", self.region)
        for fam in FIGURE_NAMES:
            rewrite_csv(self.data / f"{fam}.csv", lambda i, r, fam=fam: self.figure(fam, i, r))
        self.erratum()
        return self.values


def make_hostile(ds: Path) -> dict[str, str]:
    """Rewrite the mini package's text fields; returns every hostile value by its marker."""
    return Hostile(ds).apply()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    ds = mini_datasets(tmp)
    values = make_hostile(ds)
    out = tmp / "site"
    proc = build_isolated(tmp / "work", "--datasets", str(ds), "--sources", str(MINI_SOURCES), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"out": out, "ds": ds, "values": values, "work": tmp / "work"}


# --- reading HTML as a browser does ----------------------------------------------------------------------


def html_pages(out: Path) -> dict[str, Page]:
    return {str(p.relative_to(out)): Page(p.read_text(encoding="utf-8")) for p in sorted(out.rglob("*.html"))}


@pytest.fixture(scope="module")
def pages(hostile) -> dict[str, Page]:
    return html_pages(hostile["out"])


def injected_elements(page: Page) -> list[str]:
    """Elements and attributes (event handlers, javascript: URLs) that only hostile data could have made."""
    found = []
    for tag, attrs in page.elements:
        if tag == "img" and attrs.get("src") == "x":
            found.append(f"<img src=x> element {attrs}")
        if tag in ("iframe", "object", "embed"):
            found.append(f"<{tag}> element")
        found += [f"<{tag} {name}=…> event handler" for name in attrs if name.startswith("on")]
        found += [
            f"<{tag} {name}={value!r}>"
            for name, value in attrs.items()
            if name in ("href", "src", "action") and value.strip().lower().startswith("javascript:")
        ]
    return found


def broken_json_ld(body: str) -> list[str]:
    """A JSON-LD script whose text the data cut or whose end the data moved."""
    found = []
    try:
        json.loads(body)
    except ValueError:
        found.append("JSON-LD that is not JSON (its text was cut by the data)")
    # "<!--" and "<script" inside a script element change how the browser finds its end
    found += [f"{bad!r} inside a JSON-LD <script> element" for bad in ("</", "<!--", "<script") if bad in body.lower()]
    return found


def injected_scripts(page: Page) -> list[str]:
    found = []
    for attrs, body in page.scripts:
        if attrs.get("type") == "application/ld+json":
            found += broken_json_ld(body)
        elif "alert(" in body:
            found.append(f"<script> element running {body.strip()[:60]!r}")
    return found


def injected(page: Page) -> list[str]:
    """Elements, attributes and scripts that only hostile data could have made."""
    return injected_elements(page) + injected_scripts(page)


# --- the tests ------------------------------------------------------------------------------------------


def test_no_element_or_attribute_comes_from_the_data(pages):
    report = {name: found for name, page in pages.items() if (found := injected(page))}
    assert not report, "markup made from data:\n" + "\n".join(f"{n}: {f}" for n, fs in report.items() for f in sorted(set(fs)))


def test_every_page_showing_a_value_shows_all_of_it_as_text(pages, hostile):
    """Wherever a value's marker is visible, the whole value follows, unchanged but for whitespace."""
    broken = []
    for name, page in pages.items():
        visible = page.visible
        for tag, value in hostile["values"].items():
            for m in re.finditer(re.escape(tag) + r"(?!\d)", visible):
                if not visible.startswith(squash(value), m.start()):
                    broken.append(f"{name}: {tag} shown as {visible[m.start() : m.start() + 220]!r}")
    assert not broken, "\n".join(broken[:20])


# where each value must be visible: the pages that show it
SHOWN_ON = {
    "documents/mini-2020/index.html": [
        "TITLEZH",
        "TITLEEN",
        "ISSUER",
        "DOCNOTES",
        "REGZH1",
        "ERRZH",
        "ERREN",
        "PRINTED",
        "COMPUTED",
        "SECtargets0",
        "INDtargets1",
        "SECinvestments2",
        "INDmeasures1",
    ],
    "documents/index.html": ["TITLEZH", "TITLEEN", "ISSUER", "REGZH1"],
    "datasets/mini-2020-investments/index.html": [
        "TITLEZH",
        "TITLEEN",
        "REGZH1",
        "INDinvestments0",
        "INDinvestments2",
        "CAT1",
        "CAT2",
    ],
    "datasets/mini-2020-targets/index.html": ["TITLEZH", "INDtargets0", "INDtargets1"],
    "datasets/mini-2020-measures/index.html": ["TITLEZH", "INDmeasures0"],
    "regions/990101/index.html": ["REGZH1", "REGEN1", "REGZH0", "TITLEZH", "INDtargets0", "INDinvestments1", "CAT1"],
    "regions/990000/index.html": ["REGZH0", "REGEN0", "REGZH1"],
    "regions/index.html": ["REGZH0", "REGZH1"],
    "catalog/index.html": ["TITLEZH", "REGZH1"],
    "quality/index.html": ["ERRZH", "PRINTED", "COMPUTED"],
    "index.html": ["TITLEZH", "REGZH1"],
    "downloads/index.html": ["TITLEZH"],
}


@pytest.mark.parametrize("page_name", sorted(SHOWN_ON))
def test_hostile_values_are_visible_as_text(page_name, pages, hostile):
    page = pages[page_name]
    missing = [tag for tag in SHOWN_ON[page_name] if squash(hostile["values"][tag]) not in page.visible]
    assert not missing, f"{page_name} does not show {missing} as text"
    for snippet in JINJA:  # template syntax in data is never evaluated
        assert squash(snippet) in page.visible
    assert squash(PAYLOAD.split("{{")[0]) + "49" not in page.visible
    # no double escaping: the data holds "&amp;" and nothing else that looks like an entity
    for entity in ("&lt;", "&gt;", "&quot;", "&#", "&amp;amp;"):
        assert entity not in page.visible, f"{page_name} shows the entity {entity!r} as text"


def test_tables_keep_their_shape(pages, hostile):
    """Every table row has as many cells as the header; the figure tables have one row per data row."""
    bad = []
    for name, page in pages.items():
        for t in page.tables:
            width = len(t["head"])
            for i, row in enumerate(t["rows"]):
                if row and width and len(row) != width:
                    bad.append(f"{name}: table with {width} columns has a row {i} of {len(row)} cells")
    assert not bad, "\n".join(bad)
    ids = {fam: [r["figure_id"] for r in read_csv(hostile["ds"] / PKG / "data" / f"{fam}.csv")] for fam in FIGURE_NAMES}

    def rows_by_id(page_name: str, prefix: str = "") -> list[list[str]]:
        """The row ids of each table whose rows are named by figure (or erratum) id."""
        return [
            t["ids"]
            for t in pages[page_name].tables
            if t["ids"] and all(re.fullmatch(prefix + r"[A-Z]{2}\d{3,4}|" + prefix + r"e\d", i) for i in t["ids"])
        ]

    # the document page gives each figure a section with its source sentence, in the order of the text
    sections = re.findall(r'<section class="portal-fig" id="([^"]+)"', pages["documents/mini-2020/index.html"].raw)
    assert sorted(sections) == sorted(sum(ids.values(), []))
    for fam, fam_ids in ids.items():
        assert rows_by_id(f"datasets/mini-2020-{fam.replace('_', '-')}/index.html") == [fam_ids], fam
    assert rows_by_id("documents/mini-2020/index.html", "erratum-") == [["erratum-e1"]]


def test_markdown_in_data_makes_no_headings_or_links(pages):
    """A newline then `#` in a title, or a [link](javascript:) in data, stays text."""
    for name in SHOWN_ON:
        page = pages[name]
        assert page.headings.count("h1") == 1, f"{name}: {page.headings}"
        hrefs = [a.get("href", "") for tag, a in page.elements if tag == "a"]
        assert not [h for h in hrefs if re.sub(r"\s", "", h).lower().startswith("javascript:")], name


def test_search_filters_hold_no_markup_from_data(hostile):
    """Pagefind shows filter values and page text as HTML: the attributes that carry data are escaped."""
    bad = []
    for path in hostile["out"].rglob("*.html"):
        for value in re.findall(r'data-pagefind-[a-z]+="([^"]*)"', path.read_text(encoding="utf-8")):
            if "<" in value or ">" in value:
                bad.append(f"{path.relative_to(hostile['out'])}: {value[:80]}")
    assert (hostile["out"] / "pagefind" / "pagefind-entry.json").is_file()
    assert not bad, "\n".join(bad[:20])


def test_downloads_hold_the_exact_strings(hostile):
    """CSV, JSON, XLSX and the package zip carry every value byte for byte, newlines included."""
    from openpyxl import load_workbook

    out, ds = hostile["out"], hostile["ds"]
    for fam in FIGURE_NAMES:
        source = read_csv(ds / PKG / "data" / f"{fam}.csv")
        dsid = f"{PKG}-{fam.replace('_', '-')}"
        base = out / "downloads" / dsid
        got_csv = read_csv(base / f"{dsid}.csv")
        got_json = json.loads((base / f"{dsid}.json").read_text(encoding="utf-8"))["rows"]
        sheet = load_workbook(base / f"{dsid}.xlsx", read_only=True)["data"]
        cells = list(sheet.iter_rows(values_only=True))
        got_xlsx = [dict(zip(cells[0], r)) for r in cells[1:]]
        with zipfile.ZipFile(base / f"{PKG}.zip") as z:
            got_zip = parse_csv(z.read(f"data/{fam}.csv").decode("utf-8"))
        assert len(got_csv) == len(got_json) == len(got_xlsx) == len(got_zip) == len(source)
        for field in ("section_zh", "indicator_zh", "notes", "category_zh"):
            if field not in source[0]:
                continue
            want = [r[field] for r in source]
            assert [r[field] for r in got_csv] == want, (fam, field, "csv")
            assert [r[field] for r in got_zip] == want, (fam, field, "zip")
            assert [r[field] or "" for r in got_json] == want, (fam, field, "json")
            assert [r[field] or "" for r in got_xlsx] == want, (fam, field, "xlsx")
    regions = read_csv(out / "downloads" / "all" / "regions.csv")
    assert sorted(r["name_zh"] for r in regions) == sorted(v for k, v in hostile["values"].items() if k.startswith("REGZH"))
    docs = read_csv(out / "downloads" / "all" / "documents.csv")
    assert [d["title_zh"] for d in docs] == [hostile["values"]["TITLEZH"]]
    assert [d["notes"] for d in docs] == [hostile["values"]["DOCNOTES"]]
    with zipfile.ZipFile(out / "downloads" / "all" / "all-datapackages.zip") as z:
        errata = yaml.safe_load(z.read(f"{PKG}/errata.yaml").decode("utf-8"))
    assert errata[0]["description_zh"] == hostile["values"]["ERRZH"]
    api = json.loads((out / "api" / "datasets.json").read_text(encoding="utf-8"))
    assert {d["document"]["title"] for d in api["datasets"]} == {hostile["values"]["TITLEZH"]}


def test_machine_readable_files_parse(hostile):
    from xml.etree import ElementTree

    out = hostile["out"]
    for name in ("data.json", "catalog.jsonld", "api/datasets.json"):
        json.loads((out / name).read_text(encoding="utf-8"))
    ElementTree.parse(out / "feed.xml")
    ElementTree.parse(out / "sitemap.xml")
    for svg in (out / "charts").glob("*.svg"):
        tree = ElementTree.parse(svg)  # chart labels hold hostile categories: still well-formed, no script
        tags = {e.tag.rsplit("}", 1)[-1] for e in tree.iter()}
        assert not tags & {"script", "foreignObject", "a", "image"}, svg.name
        assert not [k for e in tree.iter() for k in e.attrib if k.lower().startswith("on")], svg.name


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
def test_no_script_runs_in_a_browser(hostile, browser):
    """Open the pages that show the values in chromium (file://): no alert() may run."""
    called = []
    page = browser.new_page()
    try:
        page.on("dialog", lambda d: (called.append(d.message), d.dismiss()))
        page.add_init_script("window.alert = (m) => { window.__alerts = (window.__alerts || []).concat([String(m)]); };")
        for name in sorted(SHOWN_ON):
            page.goto((hostile["out"] / name).as_uri(), wait_until="load")
            called += [f"{name}: alert({m})" for m in page.evaluate("window.__alerts || []")]
    finally:
        page.close()
    assert not called, called
