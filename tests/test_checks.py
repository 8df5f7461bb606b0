"""One test (or a few) per check class, on a one-resource package in memory: each check bites."""

from __future__ import annotations

from pathlib import Path

import pytest
from frictionless import Checklist, Resource, Schema

from build_scripts.stages import checks

SOURCE = ["表4-1 总投资估算表 单位：亿元", "\t合计", "\t6.909 ", "\t特色产业", "\t3.149 ", "\t45.58%", "\t其他", "\t3.760 "]
HEADER = "figure_id,doc_id,value,unit,value_as_printed,printed_unit,line_start,line_end,is_total,part_of,ratio_of"
FIELDS = [
    ("figure_id", "string"),
    ("doc_id", "string"),
    ("value", "number"),
    ("unit", "string"),
    ("value_as_printed", "string"),
    ("printed_unit", "string"),
    ("line_start", "integer"),
    ("line_end", "integer"),
    ("is_total", "boolean"),
    ("part_of", "string"),
    ("ratio_of", "string"),
]
GOOD = [
    "IA001,doc,69090,万元,6.909,亿元,3,3,true,,",
    "IA002,doc,31490,万元,3.149,亿元,5,5,false,IA001,",
    "IA003,doc,45.58,%,45.58%,%,6,6,false,,IA002/IA001",
    "IA004,doc,37600,万元,3.760,亿元,8,8,false,IA001,",
]


def run(tmp_path: Path, rows: list[str], check_cls, errata=None, source=SOURCE, letter="I"):
    (tmp_path / "t.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    schema = Schema.from_descriptor({"fields": [{"name": n, "type": t} for n, t in FIELDS], "missingValues": [""]})
    resource = Resource(path="t.csv", basepath=str(tmp_path), schema=schema)
    index = {}
    for n, row in enumerate(resource.read_rows(), 2):
        d = {k: (float(v) if k == "value" else v) for k, v in row.to_dict().items()}
        d["_n"] = n
        index[d["figure_id"]] = ("investments", d)
    ctx = checks.CheckContext(doc_id="doc", index=index, source_lines=source, errata=errata or {})
    extra = {"letter": letter} if check_cls is checks.FigureIdCheck else {}
    check = check_cls(ctx=ctx, family="investments", **extra)
    resource = Resource(path="t.csv", basepath=str(tmp_path), schema=schema)
    report = resource.validate(checklist=Checklist(checks=[check]))
    found = [e for t in report.tasks for e in t.errors]
    # each check reports its own error type, named like the check
    assert all(type(e) is check_cls.Error and e.type == check_cls.type for e in found), [(type(e), e.type) for e in found]
    return [(e.row_number, e.field_name, e.note) for e in found], ctx


@pytest.mark.parametrize(
    "cls",
    [
        checks.FigureIdCheck,
        checks.DocumentCheck,
        checks.CanonicalUnitCheck,
        checks.ValueConversionCheck,
        checks.LineRangeCheck,
        checks.PrintedInSourceCheck,
        checks.ReferenceCheck,
        checks.RatioCheck,
        checks.PartOfTotalCheck,
    ],
)
def test_every_check_passes_good_rows(tmp_path, cls):
    errors, _ = run(tmp_path, GOOD, cls)
    assert errors == []


def test_check_types_are_unique_and_named():
    types = [c.type for c in checks.ROW_CHECKS + checks.END_CHECKS]
    assert len(types) == len(set(types)) and all(t and t == t.lower() for t in types)


def test_each_check_has_its_own_error_class():
    classes = [c.Error for c in checks.ROW_CHECKS + checks.END_CHECKS]
    assert len(set(classes)) == len(classes)
    for c in checks.ROW_CHECKS + checks.END_CHECKS:
        assert issubclass(c.Error, checks.CheckError) and c.Errors == [c.Error]
        assert c.Error.type == c.type and c.Error.title and c.Error.description


def test_figure_id_must_carry_family_letter(tmp_path):
    errors, _ = run(tmp_path, ["TA001" + GOOD[0][5:]], checks.FigureIdCheck)
    assert errors and errors[0][:2] == (2, "figure_id")


def test_document_id_must_be_the_packages(tmp_path):
    errors, _ = run(tmp_path, [GOOD[0].replace(",doc,", ",other,")], checks.DocumentCheck)
    assert errors[0][:2] == (2, "doc_id")


def test_scaled_unit_is_not_canonical(tmp_path):
    errors, _ = run(tmp_path, ["IA001,doc,6.909,亿元,6.909,亿元,3,3,true,,"], checks.CanonicalUnitCheck)
    assert errors[0][:2] == (2, "unit") and "万元" in errors[0][2]


def test_value_must_equal_conversion(tmp_path):
    errors, _ = run(tmp_path, [GOOD[0].replace("69090", "6909")], checks.ValueConversionCheck)
    assert errors[0][:2] == (2, "value") and "69090" in errors[0][2]


def test_unknown_conversion_is_reported(tmp_path):
    errors, _ = run(tmp_path, ["IA001,doc,6.909,人,6.909,亿元,3,3,true,,"], checks.ValueConversionCheck)
    assert errors[0][1] == "printed_unit"


def test_line_range_must_be_ordered_and_inside_source(tmp_path):
    errors, _ = run(
        tmp_path,
        ["IA001,doc,69090,万元,6.909,亿元,5,3,true,,", "IA002,doc,31490,万元,3.149,亿元,99,99,false,,"],
        checks.LineRangeCheck,
    )
    assert [(r, f) for r, f, _ in errors] == [(2, "line_end"), (3, "line_end")]


def test_value_must_be_printed_on_its_line(tmp_path):
    errors, _ = run(tmp_path, [GOOD[0].replace(",3,3,", ",4,4,")], checks.PrintedInSourceCheck)
    assert errors[0][:2] == (2, "value_as_printed") and "line 4" in errors[0][2]


def test_a_number_inside_a_longer_number_does_not_count(tmp_path):
    errors, _ = run(tmp_path, ["IA001,doc,6.9,万元,6.9,万元,3,3,true,,"], checks.PrintedInSourceCheck)
    assert errors and errors[0][1] == "value_as_printed"


def test_references_must_exist(tmp_path):
    errors, _ = run(tmp_path, [GOOD[0], GOOD[1].replace("IA001,", "IA999,")], checks.ReferenceCheck)
    assert errors[0][:2] == (3, "part_of")


def test_broken_total_fails_until_recorded_as_erratum(tmp_path):
    rows = [GOOD[0], GOOD[1], GOOD[3].replace("37600", "37590").replace("3.760", "3.759").replace(",8,8,", ",8,8,")]
    source = SOURCE[:7] + ["\t3.759 "]
    errors, _ = run(tmp_path, rows, checks.PartOfTotalCheck, source=source)
    assert errors and errors[0][:2] == (2, "value") and "sum of 2 parts" in errors[0][2]
    erratum = {"id": "e1", "check": "part-of-total", "figure_id": "IA001", "computed": "6.908"}
    errors, ctx = run(tmp_path, rows, checks.PartOfTotalCheck, errata={("part-of-total", "IA001"): erratum}, source=source)
    assert errors == [] and ctx.results[0]["ok"] is False and ctx.results[0]["erratum"]


def test_erratum_with_wrong_computed_value_fails(tmp_path):
    rows = [GOOD[0], GOOD[1], GOOD[3].replace("37600", "37590").replace("3.760", "3.759")]
    erratum = {"id": "e1", "check": "part-of-total", "figure_id": "IA001", "computed": "6.800"}
    errors, _ = run(
        tmp_path, rows, checks.PartOfTotalCheck, errata={("part-of-total", "IA001"): erratum}, source=SOURCE[:7] + ["\t3.759 "]
    )
    assert errors and "6.908" in errors[0][2]


def test_stale_erratum_fails(tmp_path):
    erratum = {"id": "e1", "check": "part-of-total", "figure_id": "IA001", "computed": "6.909"}
    errors, _ = run(tmp_path, GOOD, checks.PartOfTotalCheck, errata={("part-of-total", "IA001"): erratum})
    assert errors and "remove the erratum" in errors[0][2]


def test_printed_share_must_match_its_ratio(tmp_path):
    source = SOURCE[:5] + ["\t45.60%"] + SOURCE[6:]
    errors, _ = run(tmp_path, [GOOD[0], GOOD[1], GOOD[2].replace("45.58", "45.60"), GOOD[3]], checks.RatioCheck, source=source)
    assert errors[0][:2] == (4, "value") and "45.578" in errors[0][2]
