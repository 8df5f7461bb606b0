"""Stage 7, catalog: machine-readable metadata — data.json (Project Open Data 1.1), a DCAT catalog in
JSON-LD, a static JSON API with stable URLs, and an Atom feed of data changes (from git history).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from ..settings import LICENSE, Settings
from .derive import Derived
from .downloads import MEDIA_TYPES, Downloads


def git_changes(settings: Settings) -> list[dict]:
    """Commits that touched the data, newest first; empty outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "log", "--format=%x1e%H%x1f%cI%x1f%s%x1f%b%x1f", "--name-only", "--", "datasets"],
            cwd=settings.root,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    changes = []
    for chunk in out.split("\x1e")[1:]:
        parts = chunk.split("\x1f")
        if len(parts) < 5:
            continue
        sha, when, subject, body, files = parts[:5]
        changes.append(
            {
                "sha": sha,
                "date": when[:10],
                "datetime": when,
                "subject": subject,
                "body": body.strip(),
                "files": [f for f in files.split("\n") if f.strip()],
            }
        )
    return changes


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


def dcat(derived: Derived, files: Downloads, settings: Settings, modified: str) -> dict:
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": settings.site_url + "catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": settings.publisher_zh,
        "dct:modified": modified,
        "dct:license": {"@id": LICENSE["path"]},
        "dcat:dataset": [
            {
                "@id": settings.site_url + ds.url,
                "@type": "dcat:Dataset",
                "dct:title": [{"@value": ds.title_zh, "@language": "zh"}, {"@value": ds.title_en, "@language": "en"}],
                "dct:description": ds.summary_zh(),
                "dct:identifier": ds.id,
                "dct:license": {"@id": LICENSE["path"]},
                "dct:source": ds.document["title_zh"],
                "dcat:keyword": [ds.family.title_zh, ds.family.title_en],
                "dcat:distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "dcat:downloadURL": {"@id": settings.site_url + d["path"]},
                        "dcat:mediaType": MEDIA_TYPES[d["format"]],
                        "dcat:byteSize": d["size"],
                        "spdx:checksum": {"spdx:algorithm": "sha256", "spdx:checksumValue": d["sha256"]},
                    }
                    for d in files.by_dataset[ds.id]
                ],
            }
            for ds in derived.datasets
        ],
    }


def atom(changes: list[dict], settings: Settings) -> str:
    updated = changes[0]["datetime"] if changes else "2020-01-01T00:00:00+00:00"
    entries = []
    for c in changes[:50]:
        entries.append(
            "<entry>"
            f"<id>{escape(settings.site_url)}changelog/#{c['sha'][:12]}</id>"
            f"<title>{escape(c['subject'])}</title>"
            f"<updated>{escape(c['datetime'])}</updated>"
            f'<link href="{escape(settings.site_url)}changelog/"/>'
            f"<summary>{escape(', '.join(c['files'][:20]))}</summary>"
            "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">'
        f"<title>{escape(settings.publisher_zh)}：数据更新</title><id>{escape(settings.site_url)}feed.xml</id>"
        f'<link rel="self" href="{escape(settings.site_url)}feed.xml"/><updated>{escape(updated)}</updated>'
        f"<author><name>{escape(settings.publisher_zh)}</name></author>" + "".join(entries) + "</feed>\n"
    )


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def run(derived: Derived, settings: Settings, out: Path, changes: list[dict], files: Downloads) -> list[Path]:
    """Write the catalog files into the docs tree (mkdocs copies them as they are); returns their paths."""
    modified = changes[0]["date"] if changes else "2020-01-01"
    records = [dataset_record(ds, files.by_dataset[ds.id], settings) for ds in derived.datasets]
    write_json(out / "api" / "datasets.json", {"count": len(records), "datasets": records})
    for r in records:
        write_json(out / "api" / "datasets" / f"{r['id']}.json", r)
    write_json(out / "data.json", data_json(derived, files, settings, modified))
    write_json(out / "catalog.jsonld", dcat(derived, files, settings, modified))
    (out / "feed.xml").write_text(atom(changes, settings), encoding="utf-8")
    return [
        out / "api" / "datasets.json",
        *(out / "api" / "datasets" / f"{r['id']}.json" for r in records),
        out / "data.json",
        out / "catalog.jsonld",
        out / "feed.xml",
    ]
