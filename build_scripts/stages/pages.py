"""Stage 6, pages: the Markdown tree that mkdocs builds, from jinja2 templates in templates/.

Data never becomes template code: values are passed to templates, which escape them for HTML (jinja
autoescape) and, where they land in Markdown, also for Markdown (the `md` filter).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup

from .. import families
from ..families import LABELS
from ..i18n import Edition
from ..settings import LICENSE, Settings
from . import derive
from .charts import ChartSet
from .derive import Derived
from .downloads import MEDIA_TYPES, Downloads, long_description
from .history import History, Links

SHOWN_ROWS = 200  # rows of a dataset's table on its page
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>])")


def md(value) -> Markup:
    """Text for a Markdown context: HTML-escaped, Markdown syntax backslash-escaped, one line. Markup (a name
    with its Chinese marked) keeps its tags: only the text between them is escaped for Markdown."""
    if isinstance(value, Markup):
        parts = re.split(r"(<[^>]*>)", " ".join(str(value).split()))
        return Markup("".join(p if p.startswith("<") else md(html.unescape(p)) for p in parts))
    text = " ".join(str("" if value is None else value).split())
    # quote=False: Markdown text, never an attribute; an entity there would show as "&#x27;" in the page title
    return Markup(MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("\\&", "&"))


def cell(value, lang: str = "zh") -> Markup:
    """Text for an HTML table cell inside Markdown: escaped, newlines as <br>, never a blank line; a yes/no in
    the edition's language; Markup (a marked Chinese name or quote) as it is."""
    if value is None:
        return Markup("")
    if isinstance(value, bool):
        return Markup(families.label("", value, lang))
    if isinstance(value, Markup):
        return Markup(" ".join(value.split("\n")))
    lines = [html.escape(x) for x in str(value).splitlines() if x.strip()]
    return Markup("<br>".join(lines))


def num(value, digits: int | None = None) -> str:
    if value is None or value == "":
        return ""
    v = float(value)
    if digits is None:
        digits = 0 if v.is_integer() else min(4, len(repr(v).split(".")[-1]))
    s = f"{v:,.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def yi(value) -> str:
    """万元 shown as 亿元 for headlines (the data stays in 万元)."""
    return "" if value is None else f"{float(value) / 10000:,.2f}"


def money_en(value) -> str:
    """万元 as English readers count money: yuan, million or billion yuan, exactly (the data stays in 万元)."""
    if value is None:
        return ""
    amount, unit = Edition("en").amount(value, "万元")
    return f"{num(amount)} {unit}"


def env(edition: Edition | None = None) -> jinja2.Environment:
    """The templates' environment for one edition: `_` translates a Chinese UI text, `name` gives a place or
    document name, `pick` a row's `_zh`/`_en` field, `label` a code, all in the edition's language."""
    edition = edition or Edition("zh")
    e = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    e.filters.update(md=md, cell=lambda v: cell(v, edition.lang), num=num, yi=yi, money_en=money_en, tojson_ld=jsonld)
    e.globals.update(
        LABELS=LABELS,
        label=edition.label,
        FAMILIES=families,
        LICENSE=LICENSE,
        E=edition,
        lang=edition.lang,
        _=edition.t,
        name=edition.name,
        pick=edition.pick,
    )
    return e


def jsonld(obj) -> str:
    # no "<" at all: "</script" would close the element early, "<!--" and "<script" move where it ends
    return json.dumps(obj, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")


def base_of(rel: str) -> str:
    p = Path(rel)
    depth = len(p.parent.parts) if p.name == "index.md" else len(p.with_suffix("").parts)
    return "../" * depth


class Writer:
    """Pages of one edition into its folder of the tree (en/ for English). `base` leads to the edition's home,
    `root` to the site's root, where the one set of downloads is; `site_url` is the edition's address."""

    def __init__(self, out: Path, environment: jinja2.Environment, settings: Settings, edition: Edition):
        self.out, self.env, self.settings, self.edition = out / edition.prefix, environment, settings, edition
        self.written: list[str] = []

    def page(self, rel: str, template: str, meta: dict | None = None, **ctx) -> None:
        self.edition.new_page()  # a name is given with its Chinese once per page
        base = base_of(rel)
        up = "../" * self.edition.prefix.count("/")
        site_url = self.settings.site_url + self.edition.prefix
        text = self.env.get_template(template).render(base=base, root=base + up, site_url=site_url, **ctx)
        if meta and "description" in meta:  # the theme writes it into an attribute as it is (no autoescape)
            meta = {**meta, "description": html.escape(meta["description"])}
        front = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=True, width=10_000) + "---\n\n" if meta else ""
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(front + text, encoding="utf-8")
        self.written.append(self.edition.prefix + rel)


def dataset_title(ds, lang: str = "zh") -> str:
    """The dataset's name as its page gives it: the document's title, then the family (plain text)."""
    return ds.title_zh if lang != "en" else f"{ds.document['title_en']} · {ds.family.title_en}"


def dataset_jsonld(ds, files: list[dict], settings: Settings, edition: Edition | None = None) -> dict:
    """schema.org Dataset of the dataset's page, in the page's language; the downloads are the one bilingual set."""
    en = bool(edition and edition.en)
    prefix = edition.prefix if edition else ""
    url = settings.site_url + prefix + ds.url
    publisher = settings.publisher_en if en else settings.publisher_zh
    return {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": dataset_title(ds, "en") if en else ds.title_zh,
        "alternateName": ds.title_zh if en else ds.title_en,
        "description": long_description(ds, "en" if en else "zh"),
        "url": url,
        "identifier": ds.id,
        "inLanguage": "en" if en else "zh-CN",
        "keywords": keywords(ds, "en" if en else "zh"),
        "license": LICENSE["path"],
        "isAccessibleForFree": True,
        "creator": {"@type": "Organization", "name": publisher, "url": settings.site_url + prefix},
        "publisher": {"@type": "Organization", "name": publisher, "url": settings.site_url + prefix},
        "includedInDataCatalog": {"@type": "DataCatalog", "name": publisher, "url": settings.site_url + prefix + "catalog/"},
        "isBasedOn": {"@type": "CreativeWork", "name": ds.document["title_zh"], "sha256": ds.document["source_sha256"]},
        "temporalCoverage": f"{ds.document['period_start']}/{ds.document['period_end']}",
        "spatialCoverage": {"@type": "Place", "name": region_name(ds, "en" if en else "zh")},
        "variableMeasured": (ds.indicators_in("en") if en else ds.indicators)[:30],
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": MEDIA_TYPES[d["format"]],
                "contentUrl": settings.site_url + d["path"],
                "contentSize": f"{d['size']} B",
                "sha256": d["sha256"],
            }
            for d in files
        ],
    }


def region_of(ds) -> dict:
    """The row of the dataset's jurisdiction in its package's regions table."""
    rid = ds.document["region_id"]
    return next((r for r in ds.package.tables["regions"] if r["region_id"] == rid), {"region_id": rid})


def region_name(ds, lang: str = "zh") -> str:
    r = region_of(ds)
    return (lang == "en" and r.get("name_en")) or r.get("name_zh") or r["region_id"]


def keywords(ds, lang: str = "zh") -> list[str]:
    if lang == "en":
        words = [ds.family.title_en, region_name(ds, "en"), "poverty alleviation", "targeted poverty alleviation", "China"]
        columns = ("indicator_en", "category_en", "funding_source_en", "sector_en", "cause_en", "project_en")
    else:
        words = [ds.family.title_zh, ds.family.title_en, region_name(ds), "脱贫攻坚", "扶贫"]
        columns = ("indicator_zh", "category_zh", "funding_source_zh", "sector_zh", "cause_zh", "project_zh")
    counts = Counter()
    for r in ds.rows:
        for k in columns:
            if r.get(k):
                counts[r[k]] += 1
    words += [w for w, _ in counts.most_common(12)]
    return list(dict.fromkeys(words))


def citation(
    title: str, title_en: str, note_en: str, year, url: str, settings: Settings, version: str, lang: str = "zh", key_url: str = ""
) -> dict:
    """GB/T 7714 (Chinese pages) or an APA-like reference (English pages), and BibTeX, as HTML: the access date
    is a span the page's script fills with the reader's date (the data version's date until then: the build
    stays reproducible), the address a span it may replace when the build had no public address."""
    dated = re.match(r"\d{4}-\d\d-\d\d", version)
    en = lang == "en"
    date = Markup("<span data-cite-date>{}</span>").format(version[:10] if dated else ("access date" if en else "引用日期"))
    link = Markup("<span data-cite-url>{}</span>").format(url)
    if en:  # APA 7 for a data set: author, (year), title [Data set] (version), where, when read
        style = "APA"
        ref = Markup("{}. ({}). {} [Data set] (Version {}). {}, accessed {}.").format(
            settings.publisher_en, version[:4] if dated else year, title, version, link, date
        )
    else:
        style = "GB/T 7714"
        ref = Markup("{}. {}[DS/OL]. 版本 {}. [{}]. {}.").format(settings.publisher_zh, title, version, date, link)
    key = re.sub(r"[^a-z0-9]", "", (key_url or url).lower())[-40:] or "portal"  # one key for both editions
    bib = Markup(
        "@misc{{{key},\n  title = {{{title}}},\n  author = {{{{{author}}}}},\n  year = {{{year}}},\n"
        "  note = {{Dataset version {version}, {note}}},\n  howpublished = {{\\url{{{link}}}}},\n  urldate = {{{date}}}\n}}"
    ).format(
        key=key, title=title_en, author=settings.publisher_en, year=year, version=version, note=note_en, link=link, date=date
    )
    return {"style": style, "ref": ref, "bibtex": bib, "site_url": settings.site_url}


def dataset_citation(ds, settings: Settings, version: str, edition: Edition | None = None) -> dict:
    lang = edition.lang if edition else "zh"
    note = f"derived from: {ds.document['title_en']}"
    url = settings.site_url + (edition.prefix if edition else "") + ds.url
    title = dataset_title(ds, lang)
    return citation(title, ds.title_en, note, ds.document["period_end"], url, settings, version, lang, settings.site_url + ds.url)


def run(
    derived: Derived,
    settings: Settings,
    docs_dir: Path,
    charts: ChartSet,
    downloads: Downloads,
    changes: list[dict],
    version: str,
    history: History | None = None,
    quotes: dict | None = None,
    edition: Edition | None = None,
) -> list[str]:
    """Write every generated page of one edition; copy its hand-written pages; return the written paths."""
    edition = edition or Edition("zh")
    e = env(edition)
    w = Writer(docs_dir, e, settings, edition)
    schemas = derived.corpus.schemas
    common = dict(d=derived, version=version, changes=changes, downloads=downloads, history=history or History([]))
    copy_handwritten(settings, edition, w.out, e, derived.counts)

    w.page("index.md", "home.md.j2", {"hide": ["navigation", "toc"]}, **common)
    facets = catalog_facets(derived, edition)
    w.page("catalog.md", "catalog.md.j2", None, facets=facets, **common)
    lang = edition.lang
    for ds in derived.datasets:
        fields = schemas[ds.family.name]["fields"]
        w.page(
            f"{ds.url}index.md",
            "dataset.md.j2",
            {
                "description": ds.summary(lang),
                "jsonld": jsonld(dataset_jsonld(ds, downloads.by_dataset[ds.id], settings, edition)),
                "hide": ["navigation"],  # the table gets the width of the empty left column
                "keywords": ", ".join(keywords(ds, lang)),
                **english_title(edition, dataset_title(ds, lang)),
            },
            ds=ds,
            fields=fields,
            columns=ds.family.columns,
            charts=charts.for_dataset(ds.id),
            files=downloads.by_dataset[ds.id],
            cite=dataset_citation(ds, settings, version, edition),
            keywords=keywords(ds, lang),
            shown_rows=SHOWN_ROWS,
            keys=[dict(r, family=ds.family.name) for r in derive.key_figures(ds.rows)],
            **common,
        )
    w.page("documents/index.md", "documents.md.j2", None, **common)
    uses = figure_uses(derived, charts, edition)
    for doc_id, doc in derived.documents.items():
        rows = sorted((dict(r, family=f) for f, r in doc["package"].figures()), key=lambda r: (r["line_start"], r["figure_id"]))
        w.page(
            f"documents/{doc_id}/index.md",
            "document.md.j2",
            {"description": edition.pick(doc, "title"), **english_title(edition, doc["title_en"])},
            doc=doc,
            rows=rows,
            errata=[x for x in derived.errata if x["doc_id"] == doc_id],
            datasets=[x for x in derived.datasets if x.package.id == doc_id],
            quotes=quotes,
            uses=uses,
            **common,
        )
    w.page("regions/index.md", "regions.md.j2", None, tree=region_tree(derived), **common)
    for rid, region in derived.regions.items():
        w.page(
            f"regions/{rid}/index.md",
            "region.md.j2",
            {
                "description": edition.t("{name}的脱贫攻坚规划数据", name=region.get(f"name_{lang}") or region["name_zh"]),
                **english_title(edition, region.get("name_en")),
            },
            region=region,
            **region_context(derived, rid, charts),
            **common,
        )
    w.page("about.md", "about.md.j2", None, settings=settings, **common)
    w.page("compare.md", "compare.md.j2", None, charts=charts.compare, **common)
    w.page("quality.md", "quality.md.j2", None, counts=derived.counts, **common)
    w.page("downloads.md", "downloads.md.j2", None, **common)
    key = "title_en" if edition.en else "title"  # the changelog names revised fields in the edition's language
    titles = {f["name"]: f[key] for schema in schemas.values() for f in schema["fields"] if f.get(key)}
    w.page("changelog.md", "changelog.md.j2", None, links=Links.of(derived), field_titles=titles, **common)
    return w.written


def english_title(edition: Edition, title: str | None) -> dict:
    """English pages: the browser's title, the header and the nav give the plain English name (the page's H1 also
    gives the Chinese); Chinese pages take their title from the H1 as before."""
    return {"title": title} if edition.en and title else {}


def handwritten(settings: Settings, edition: Edition) -> list[tuple[Path, str]]:
    """(file, path in the edition) of the hand-written docs: docs/ for Chinese, docs/en/ for English; the
    assets (stylesheets, scripts) are the same for both."""
    lang_dir = settings.docs / edition.prefix if edition.prefix else settings.docs
    skip = {"overrides", "en"}
    out = []
    for src in sorted(lang_dir.rglob("*")):
        rel = src.relative_to(lang_dir)
        if src.is_file() and rel.parts[0] not in skip:
            out.append((src, rel.as_posix()))
    if edition.prefix:
        out += [
            (src, src.relative_to(settings.docs).as_posix())
            for src in sorted((settings.docs / "assets").rglob("*"))
            if src.is_file()
        ]
    return out


def copy_handwritten(settings: Settings, edition: Edition, out: Path, e: jinja2.Environment, counts) -> None:
    # a marker comment is the one place hand-written pages take generated content
    for src, rel in handwritten(settings, edition):
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".md":
            text = src.read_text(encoding="utf-8")
            # rendered for this page: its links are relative to where the page is served
            text = text.replace("<!-- figure-counts -->", e.get_template("counts.md.j2").render(base=base_of(rel), counts=counts))
            dest.write_text(text, encoding="utf-8")
        else:
            shutil.copyfile(src, dest)


def figure_uses(
    derived: Derived, charts: ChartSet, edition: Edition | None = None
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(doc_id, figure_id) -> (link text, site path) of every page that shows the figure: its dataset's row,
    the charts drawn from it, its region's page. The document page links each figure back to them."""
    edition = edition or Edition("zh")
    uses = defaultdict(list)
    for ds in derived.datasets:
        title = edition.t("数据集：{title}", title=edition.pick(ds.family, "title"))
        for n, r in enumerate(ds.rows):
            anchor = f"#{r['figure_id']}" if n < SHOWN_ROWS else ""  # the page lists the first rows; the downloads have all
            uses[(r["doc_id"], r["figure_id"])].append((title, f"{ds.url}{anchor}"))
        for n, c in enumerate(charts.for_dataset(ds.id), 1):
            for r in c.figures:
                uses[(r["doc_id"], r["figure_id"])].append(
                    (edition.t("图表{n}：{title}", n=n, title=c.title), f"{ds.url}#chart-{c.key}")
                )
    for rid, figs in derived.region_figures.items():
        region = derived.regions[rid]
        name = region.get(f"name_{edition.lang}") or region["name_zh"]
        for _fam, r in figs:
            uses[(r["doc_id"], r["figure_id"])].append((edition.t("地区：{name}", name=name), f"regions/{rid}/"))
    return {k: list(dict.fromkeys(v)) for k, v in uses.items()}


def catalog_facets(derived: Derived, edition: Edition | None = None) -> dict:
    """The catalog's groups (region, level, family, year), named and sorted in the edition's language."""
    edition = edition or Edition("zh")
    facets = {"region": defaultdict(list), "level": defaultdict(list), "family": defaultdict(list), "year": defaultdict(list)}
    for ds in derived.datasets:
        reg = derived.regions.get(ds.document["region_id"], {})
        facets["region"][edition.pick(reg, "name", ds.document["region_id"])].append(ds)
        facets["level"][edition.label("level", reg.get("level")) or edition.t("其他")].append(ds)
        facets["family"][edition.pick(ds.family, "title")].append(ds)
        for y in range(ds.document["period_start"], ds.document["period_end"] + 1):
            facets["year"][str(y)].append(ds)
    return {k: dict(sorted(v.items())) for k, v in facets.items()}


def region_tree(derived: Derived) -> list[tuple[int, dict]]:
    roots = [r for rid, r in derived.regions.items() if not r.get("parent_id") or r["parent_id"] not in derived.regions]
    out = []

    def walk(r, depth):
        out.append((depth, r))
        for c in sorted(derived.children.get(r["region_id"], []), key=lambda x: derived.regions[x]["name_zh"]):
            walk(derived.regions[c], depth + 1)

    for r in sorted(roots, key=lambda x: x["region_id"]):
        walk(r, 0)
    return out


def region_context(derived: Derived, rid: str, charts: ChartSet) -> dict:
    figs = derived.region_figures.get(rid, [])
    by_family = defaultdict(list)
    for fam, row in figs:
        if not row.get("restates"):  # each figure once; its restatements are listed with it
            by_family[fam].append(row)
    docs = derived.region_docs(rid)
    jurisdiction_of = [d for d, doc in derived.documents.items() if doc["region_id"] == rid]
    region_charts = []
    for ds in derived.datasets:
        if ds.package.id in jurisdiction_of and ds.family.chart:
            region_charts.extend(charts.for_dataset(ds.id))
    timeline = [r for fam in families.FIGURES if fam.region_view == "timeline" for r in by_family.get(fam.name, [])]
    exits = sorted(timeline, key=lambda r: (r.get("year") or 9999, r["unit_counted"]))
    own = [dict(r, family=fam) for fam, r in figs]
    return {
        "keys": [r for fam in families.FIGURES for r in derive.key_figures([x for x in own if x["family"] == fam.name], 2)][:6],
        "figure_count": len(own),
        "ancestors": derived.ancestors(rid),
        "children": [
            derived.regions[c] for c in sorted(derived.children.get(rid, []), key=lambda x: derived.regions[x]["name_zh"])
        ],
        "by_family": dict(by_family),
        "docs": [derived.documents[d] for d in docs],
        "region_charts": region_charts,
        "exits": exits,
        "mentions": derived.village_mentions.get(rid, []),
    }
