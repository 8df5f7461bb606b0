"""Stage 7, catalog: machine-readable metadata — data.json (Project Open Data 1.1), a DCAT-AP 3.0.1 catalog in
JSON-LD, a static JSON API with stable URLs, and an Atom feed of data changes (stages/history.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from ..i18n import editions
from ..settings import LICENSE, Settings
from .derive import Derived
from .downloads import MEDIA_TYPES, Downloads, long_description
from .history import DatasetChange, History, Links, Release, commits
from .pages import region_of

ISSUED = "2020-01-01"  # first publication of the catalogue


def git_changes(settings: Settings) -> list[dict]:
    """The commits that changed the data (see history.commits), newest first; empty outside a git checkout."""
    return [{"sha": sha, "date": when[:10], "datetime": when} for sha, _, when in commits(settings)]


def dataset_record(ds, files: list[dict], settings: Settings) -> dict:
    url = settings.site_url + ds.url
    return {
        "id": ds.id,
        "url": url,
        "title": ds.title_zh,
        "title_en": ds.title_en,
        "description": ds.summary_zh(),
        "family": ds.family.name,
        "document": {
            "id": ds.document["doc_id"],
            "title": ds.document["title_zh"],
            "url": f"{settings.site_url}documents/{ds.document['doc_id']}/",
            "source_sha256": ds.document["source_sha256"],
        },
        "region": ds.document["region_id"],
        "period": [ds.document["period_start"], ds.document["period_end"]],
        "rows": len(ds.rows),
        "license": LICENSE["path"],
        "distributions": [{**d, "url": settings.site_url + d["path"]} for d in files],
    }


def data_json(derived: Derived, files: Downloads, settings: Settings, modified: str) -> dict:
    return {
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dataset": [
            {
                "@type": "dcat:Dataset",
                "title": ds.title_zh,
                "description": ds.summary_zh(),
                "keyword": [ds.family.title_zh, ds.family.title_en, "脱贫攻坚"],
                "modified": modified,
                "publisher": {"@type": "org:Organization", "name": settings.publisher_zh},
                "contactPoint": {
                    "@type": "vcard:Contact",
                    "fn": settings.publisher_zh,
                    "hasEmail": f"mailto:{settings.contact_email}",
                },
                "identifier": settings.site_url + ds.url,
                "accessLevel": "public",
                "license": LICENSE["path"],
                "spatial": ds.document["region_id"],
                "temporal": f"{ds.document['period_start']}-01-01/{ds.document['period_end']}-12-31",
                "landingPage": settings.site_url + ds.url,
                "language": ["zh-CN"],
                "distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "downloadURL": settings.site_url + d["path"],
                        "mediaType": MEDIA_TYPES[d["format"]],
                        "format": d["format"],
                        "title": d["label"],
                    }
                    for d in files.by_dataset[ds.id]
                ],
            }
            for ds in derived.datasets
        ],
    }


IANA = "http://www.iana.org/assignments/media-types/"
EU = "http://publications.europa.eu/resource/authority/"
# the EU file-type vocabulary's term for each download format (dct:format)
FILE_TYPES = {"CSV": "CSV", "XLSX": "XLSX", "JSON": "JSON", "datapackage.json": "JSON", "ZIP": "ZIP"}
DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatap": "http://data.europa.eu/r5r/",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def typed(value, datatype: str) -> dict:
    return {"@value": str(value), "@type": datatype}


def langs(zh: str, en: str) -> list[dict]:
    return [{"@value": zh, "@language": "zh"}, {"@value": en, "@language": "en"}]


def dcat_license() -> dict:
    return {
        "@id": LICENSE["path"],
        "@type": "dct:LicenseDocument",
        "dct:type": concept(f"{EU}licence/CC_BY_4_0", LICENSE["title"]),
    }


def concept(iri: str, label: str) -> dict:
    """A term of a controlled vocabulary, typed and labelled in place (SHACL checks the data graph alone)."""
    return {"@id": iri, "@type": "skos:Concept", "skos:prefLabel": {"@value": label, "@language": "en"}}


def dcat_publisher(settings: Settings) -> dict:
    return {
        "@id": settings.site_url + "about/",
        "@type": "foaf:Agent",
        "foaf:name": langs(settings.publisher_zh, settings.publisher_en),
    }


def dcat_theme() -> dict:
    return {**concept(f"{EU}data-theme/SOCI", "Population and society"), "skos:inScheme": {"@id": f"{EU}data-theme"}}


def dcat_location(rid: str, region: dict, settings: Settings) -> dict:
    """A region, by its page on this site (the portal has no coordinates: no dcat:bbox or dcat:centroid)."""
    name_zh = region.get("name_zh", rid)
    return {
        "@id": f"{settings.site_url}regions/{rid}/",
        "@type": "dct:Location",
        "skos:prefLabel": langs(name_zh, region["name_en"]) if region.get("name_en") else {"@value": name_zh, "@language": "zh"},
    }


def dcat_languages(settings: Settings) -> list[dict]:
    """The languages of the site's editions (EU language authority): the catalog's and every dataset's pages."""
    codes = {"zh": "ZHO", "en": "ENG"}
    return [{"@id": f"{EU}language/{codes[lang]}", "@type": "dct:LinguisticSystem"} for lang in settings.editions]


def landing_pages(settings: Settings, path: str) -> list[dict]:
    """A dataset's page in each edition (Chinese at the root, English under en/)."""
    return [{"@id": settings.site_url + ed.prefix + path, "@type": "foaf:Document"} for ed in editions(settings.editions)]


def dcat_distribution(d: dict, ds_url: str, settings: Settings) -> dict:
    media = MEDIA_TYPES[d["format"]]
    return {
        "@id": settings.site_url + d["path"],
        "@type": "dcat:Distribution",
        "dct:title": d["label"],
        "dct:description": f"{d['label']}：{d['path'].rsplit('/', 1)[-1]}",
        "dcat:accessURL": {"@id": ds_url},
        "dcat:downloadURL": {"@id": settings.site_url + d["path"]},
        "dcat:mediaType": {"@id": IANA + media, "@type": "dct:MediaType"},
        "dct:format": {"@id": f"{EU}file-type/{FILE_TYPES[d['format']]}", "@type": "dct:MediaTypeOrExtent"},
        "dct:license": dcat_license(),
        "dcatap:availability": concept(f"{EU}planned-availability/STABLE", "stable"),
        "dcat:byteSize": typed(d["size"], "xsd:nonNegativeInteger"),
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256", "@type": "spdx:ChecksumAlgorithm"},
            "spdx:checksumValue": typed(d["sha256"], "xsd:hexBinary"),
        },
    }


def dcat_dataset(ds, files: list[dict], settings: Settings, modified: str) -> dict:
    url = settings.site_url + ds.url
    doc = ds.document
    return {
        "@id": url,
        "@type": "dcat:Dataset",
        "dct:title": langs(ds.title_zh, ds.title_en),
        "dct:description": langs(long_description(ds, "zh"), long_description(ds, "en")),
        "dct:identifier": ds.id,
        "dct:modified": typed(modified, "xsd:date"),
        "dct:publisher": dcat_publisher(settings),
        "dcat:contactPoint": {
            "@type": ["vcard:Kind", "vcard:Organization"],
            "vcard:fn": settings.publisher_zh,
            "vcard:hasEmail": {"@id": f"mailto:{settings.contact_email}"},
        },
        "dct:temporal": {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": typed(f"{doc['period_start']}-01-01", "xsd:date"),
            "dcat:endDate": typed(f"{doc['period_end']}-12-31", "xsd:date"),
        },
        "dcat:theme": dcat_theme(),
        "dct:spatial": dcat_location(doc["region_id"], region_of(ds), settings),
        "dct:language": dcat_languages(settings),
        "dcat:landingPage": landing_pages(settings, ds.url),
        # the source text is a document, not a catalogued dataset: provenance says where the figures come from
        "dct:provenance": {
            "@type": "dct:ProvenanceStatement",
            "rdfs:label": langs(
                f"摘自《{doc['title_zh']}》原文（{doc['source_file']}，SHA-256 {doc['source_sha256']}）",
                f"From the text of {doc['title_en']} ({doc['source_file']}, SHA-256 {doc['source_sha256']})",
            ),
        },
        "foaf:page": {"@id": f"{settings.site_url}documents/{doc['doc_id']}/", "@type": "foaf:Document"},
        "dcat:keyword": [{"@value": ds.family.title_zh, "@language": "zh"}, {"@value": ds.family.title_en, "@language": "en"}],
        "dcat:distribution": [dcat_distribution(d, url, settings) for d in files],
    }


def dcat(derived: Derived, files: Downloads, settings: Settings, modified: str) -> dict:
    return {
        "@context": DCAT_CONTEXT,
        "@id": settings.site_url + "catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": langs(settings.publisher_zh, settings.publisher_en),
        "dct:description": langs(
            f"{settings.publisher_zh}的数据目录：脱贫攻坚规划文件中的数字，按文件和数据类别分为数据集，每个数字注明原文出处。",
            f"Catalogue of the {settings.publisher_en}: the figures of poverty-alleviation plans, one dataset per document "
            "and family, each figure with its source line.",
        ),
        "dct:publisher": dcat_publisher(settings),
        "dct:modified": typed(modified, "xsd:date"),
        "dct:issued": typed(ISSUED, "xsd:date"),
        "dct:language": dcat_languages(settings),
        "dct:license": dcat_license(),
        "foaf:homepage": {"@id": settings.site_url, "@type": "foaf:Document"},
        "dct:spatial": [
            dcat_location(rid, derived.regions.get(rid, {}), settings)
            for rid in sorted({doc["region_id"] for doc in derived.documents.values()})
        ],
        "dcat:themeTaxonomy": {"@id": f"{EU}data-theme", "@type": "skos:ConceptScheme", "dct:title": "Data theme"},
        "dcat:dataset": [dcat_dataset(ds, files.by_dataset[ds.id], settings, modified) for ds in derived.datasets],
    }


FEED_ENTRIES = 100  # the newest (release, dataset) pairs
FEED_CORRECTIONS = 5  # corrections spelled out in an entry; the changelog lists them all
XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not even escaped: XML 1.0 has no such characters


def xml_text(value: str) -> str:
    """Text of a value for the feed: escaped, and without the characters XML cannot hold (old commits were not validated)."""
    return escape(XML_FORBIDDEN.sub("", value))


def feed_entry(r: Release, c: DatasetChange, settings: Settings, links: Links) -> str:
    """One dataset in one release: what changed, linking to the dataset page (to the changelog once it is gone)."""
    anchor = f"{settings.site_url}changelog/#{r.dataset_anchor(c)}"
    page = f"{settings.site_url}datasets/{c.id}/" if c.id in links.datasets else anchor
    title = links.datasets.get(c.id, c.title_zh)
    summary = f"{r.date}：{c.summary_zh()}。"
    lines = [summary] + [f"{x.new.figure_id} {x.new.indicator_zh}：{x.old.shown()} → {x.new.shown()}" for x in c.corrected]
    if len(c.corrected) > FEED_CORRECTIONS:
        lines[FEED_CORRECTIONS + 1 :] = [f"……另有 {len(c.corrected) - FEED_CORRECTIONS} 个更正，见更新记录。"]
    return (
        "<entry>"
        f"<id>{escape(anchor)}</id>"
        f"<title>{xml_text(f'{title}：{c.summary_zh()}')}</title>"
        f"<updated>{escape(r.datetime)}</updated>"
        f'<link rel="alternate" type="text/html" href={quoteattr(page)}/>'
        f'<link rel="related" type="text/html" href={quoteattr(anchor)}/>'
        f"<summary>{xml_text(summary)}</summary>"
        f'<content type="text">{xml_text(chr(10).join(lines))}</content>'
        "</entry>"
    )


def atom(history: History, settings: Settings, links: Links | None = None) -> str:
    links = links or Links({}, {}, set())
    updated = history.releases[0].datetime if history.releases else "2020-01-01T00:00:00+00:00"
    pairs = [(r, c) for r in history.releases for c in r.datasets][:FEED_ENTRIES]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">'
        f"<title>{escape(settings.publisher_zh)}：数据更新</title><id>{escape(settings.site_url)}feed.xml</id>"
        f'<link rel="self" href={quoteattr(settings.site_url + "feed.xml")}/>'
        f'<link rel="alternate" type="text/html" href={quoteattr(settings.site_url + "changelog/")}/>'
        f"<updated>{escape(updated)}</updated>"
        f"<author><name>{escape(settings.publisher_zh)}</name></author>"
        + "".join(feed_entry(r, c, settings, links) for r, c in pairs)
        + "</feed>\n"
    )


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def run(
    derived: Derived, settings: Settings, out: Path, changes: list[dict], files: Downloads, history: History | None = None
) -> list[Path]:
    """Write the catalog files into the docs tree (mkdocs copies them as they are); returns their paths."""
    modified = changes[0]["date"] if changes else "2020-01-01"
    records = [dataset_record(ds, files.by_dataset[ds.id], settings) for ds in derived.datasets]
    write_json(out / "api" / "datasets.json", {"count": len(records), "datasets": records})
    for r in records:
        write_json(out / "api" / "datasets" / f"{r['id']}.json", r)
    write_json(out / "data.json", data_json(derived, files, settings, modified))
    write_json(out / "catalog.jsonld", dcat(derived, files, settings, modified))
    (out / "feed.xml").write_text(atom(history or History([]), settings, Links.of(derived)), encoding="utf-8")
    return [
        out / "api" / "datasets.json",
        *(out / "api" / "datasets" / f"{r['id']}.json" for r in records),
        out / "data.json",
        out / "catalog.jsonld",
        out / "feed.xml",
    ]
