"""The site's catalogs read by other software, checked with that software's own schemas.

The schemas live outside the repository, in ../shared/validators (PORTAL_VALIDATORS to point elsewhere):
data.json against the data.gov dashboard's Project Open Data v1.1 schema for non-federal publishers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from helpers import ROOT

NO_VALIDATORS = "the validators other software uses are missing: put them at ../shared/validators or set PORTAL_VALIDATORS"


def find_validators() -> Path | None:
    env = os.environ.get("PORTAL_VALIDATORS")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "validators"]:
        if (cand / "pod-v1.1-nonfederal" / "catalog.json").is_file():
            return cand.resolve()
    return None


def pod_validator(folder: Path):
    """A draft-4 validator of catalog.json whose $refs resolve to the schema files beside it, by their ids."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry = Registry()
    for path in sorted(folder.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(schema["id"].rstrip("#"), Resource.from_contents(schema, default_specification=DRAFT4))
    return Draft4Validator(json.loads((folder / "catalog.json").read_text(encoding="utf-8")), registry=registry)


def test_data_json_is_valid_project_open_data(built_site, validators):
    data = json.loads((built_site / "data.json").read_text(encoding="utf-8"))
    errors = sorted(pod_validator(validators / "pod-v1.1-nonfederal").iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:20])


def test_the_validator_rejects_a_catalog_without_its_datasets(validators):
    """The check itself: a catalog that lacks `dataset` is refused."""
    errors = list(pod_validator(validators / "pod-v1.1-nonfederal").iter_errors({"conformsTo": "x"}))
    assert any("dataset" in e.message for e in errors), [e.message for e in errors]
