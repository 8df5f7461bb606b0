"""The project's own checks, as frictionless custom checks: one small class each, with a `type` name.

Each check sees the rows of one figure resource (targets, investments, ...) and a CheckContext with the
whole package, so that totals, ratios and provenance can be verified across resources. Each check
raises its own error type (a CellError named by the check's type), so a report says which check
failed, at which row and field, like frictionless's own errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import attrs
from frictionless import Check, errors

from .. import units

BOUNDARY_BEFORE = re.compile(r"\d[.,]?$")  # inside a longer number; a lone comma is punctuation
BOUNDARY_AFTER = re.compile(r"^(?:\d|[.,]\d)")


def occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    """Spans where `needle` is printed in `text` as a whole number (not inside a longer number)."""
    spans, start = [], 0
    while needle:
        i = text.find(needle, start)
        if i < 0:
            break
        j = i + len(needle)
        ok_before = not BOUNDARY_BEFORE.search(text[:i])
        ok_after = not (needle[-1].isdigit() and BOUNDARY_AFTER.match(text[j:]))
        if ok_before and ok_after:
            spans.append((i, j))
        start = i + 1
    return spans


def exact_value(row: dict) -> Decimal | None:
    """The figure's value as printed, converted exactly (Decimal) to its canonical unit.

    An implied value (全部 → 100 %) has no printed number: its value is the row's own."""
    if row.get("implied"):
        return Decimal(str(row["value"]))
    return units.convert(row["value_as_printed"], row["printed_unit"], row["unit"])


def half_unit(row: dict) -> Decimal:
    """Half a unit of the last printed digit, in the canonical unit: the rounding a printed figure allows."""
    f = units.factor(row["printed_unit"], row["unit"]) or Decimal(1)
    return Decimal(5) * Decimal(10) ** -(units.decimals(row["value_as_printed"]) + 1) * f


def unlike(part: dict, total: dict) -> str:
    """What a part must share with its printed total to be added up to it (derive's rule); "" when it does."""
    for field_name in ("plan_id", "status", "unit"):
        if field_name in part and part.get(field_name) != total.get(field_name):
            return f"{field_name} ({total.get(field_name)}, not {part.get(field_name)})"
    return ""


def fmt(d: Decimal, places: int = 6) -> str:
    s = format(round(d, places).normalize(), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


@dataclass
class CheckContext:
    """What the checks of one package share: every figure by id, its source text, its errata."""

    doc_id: str
    index: dict[str, tuple[str, dict]]  # figure_id -> (family, row)
    source_lines: list[str] | None = None  # None: provenance not verified
    errata: dict[tuple[str, str], dict] = field(default_factory=dict)  # (check, figure_id) -> erratum
    used_errata: set = field(default_factory=set)
    results: list[dict] = field(default_factory=list)  # every consistency check run, for the quality page

    def parts_of(self, total_id: str) -> list[dict]:
        return [row for _, row in self.index.values() if total_id in (row.get("part_of") or "").split()]

    def ratio_ids(self, ratio_of: str) -> list[str]:
        """[numerator, denominator] when ratio_of names two figures of this package, else []."""
        ids = ratio_of.split("/")
        return ids if len(ids) == 2 and all(i in self.index for i in ids) else []


class CheckError(errors.CellError):
    """Base of the project's check errors: a cell error (row and field), typed by the check that found it."""

    type = "portal-check"
    title = "Portal check"
    description = "A project check failed."

    @classmethod
    def at(cls, row: dict, field_name: str, note: str) -> CheckError:
        """An error about a row seen outside frictionless's row loop (a total checked at the end)."""
        return cls(
            note=note, cells=[], row_number=row["_n"], cell=str(row.get(field_name, "")), field_name=field_name, field_number=0
        )


def error_type(type_: str, description: str) -> type[CheckError]:
    """One error class per check, named by the check's type, so reports say which check failed."""
    name = "".join(part.title() for part in type_.split("-")) + "Error"
    title = type_.replace("-", " ").capitalize()
    return type(name, (CheckError,), {"type": type_, "title": title, "description": description})


@attrs.define(kw_only=True, repr=False)
class PortalCheck(Check):
    """Base: every project check sees one figure resource (its family) and the package's CheckContext."""

    ctx: CheckContext
    family: str = ""
    Error: ClassVar[type[CheckError]] = CheckError

    def __init_subclass__(cls, type: str = "", **kwargs):
        """`class XCheck(PortalCheck, type="x-y")` declares the check and its error (described by the docstring)."""
        super().__init_subclass__(**kwargs)
        if type:
            cls.type = type
            cls.Error = error_type(type, " ".join((cls.__doc__ or "").split()))
            cls.Errors = [cls.Error]

    def error(self, row, field_name: str, note: str) -> CheckError:
        return self.Error.from_row(row, note=note, field_name=field_name)

    def validate_row(self, row):
        note, field_name = self.problem(row)
        if note:
            yield self.error(row, field_name, note)

    @staticmethod
    def problem(row) -> tuple[str, str]:
        """(note, field) of what is wrong with one row, or ("", ""): a check of one row at a time says only this."""
        return "", ""


@attrs.define(kw_only=True, repr=False)
class FigureIdCheck(PortalCheck, type="figure-id"):
    """Figure ids start with their family's letter, so an id says where the figure lives."""

    letter: str = ""

    def validate_row(self, row):
        if self.letter and not str(row["figure_id"]).startswith(self.letter):
            yield self.error(row, "figure_id", f"figure ids in this resource start with {self.letter!r}")


class DocumentCheck(PortalCheck, type="document-id"):
    """Every row of a package belongs to the package's own document."""

    def validate_row(self, row):
        if row["doc_id"] != self.ctx.doc_id:
            yield self.error(row, "doc_id", f"doc_id must be {self.ctx.doc_id!r}, this package's document")


class CanonicalUnitCheck(PortalCheck, type="canonical-unit"):
    """Values are stored in one canonical unit per quantity (money in 万元)."""

    def validate_row(self, row):
        if units.rate_numerator(row["unit"]) is not None:
            return  # a rate (元/人/月) keeps its printed numerator: value-conversion checks it
        if not units.is_canonical(row["unit"]):
            yield self.error(row, "unit", f"unit {row['unit']!r} is not canonical; use {units.canonical_for(row['unit'])!r}")


class ValueConversionCheck(PortalCheck, type="value-conversion"):
    """`value` is `value_as_printed` converted by the code's factor, never by hand."""

    @staticmethod
    def problem(row) -> tuple[str, str]:
        if not Decimal(str(row["value"])).is_finite():  # frictionless reads "NaN" and "inf" as numbers
            return f"value must be a finite number, not {row['value']}", "value"
        if row.get("implied"):
            return "", ""  # no printed number: value_as_printed holds the words that imply the value
        if units.parse_printed_number(row["value_as_printed"]) is None:
            return "value_as_printed must start with the printed number", "value_as_printed"
        if units.factor(row["printed_unit"], row["unit"]) is None:
            return f"no conversion from printed unit {row['printed_unit']!r} to {row['unit']!r}", "printed_unit"
        expected = exact_value(row)
        if abs(Decimal(str(row["value"])) - expected) > Decimal("1e-9") * max(Decimal(1), abs(expected)):
            return (
                f"value {row['value']} does not match {row['value_as_printed']} in {row['unit']} (expected {fmt(expected)})",
                "value",
            )
        return "", ""


class LineRangeCheck(PortalCheck, type="line-range"):
    """A locator is an ordered line range inside the source text."""

    def validate_row(self, row):
        if row["line_end"] < row["line_start"]:
            yield self.error(row, "line_end", "line_end is before line_start")
        elif self.ctx.source_lines is not None and row["line_end"] > len(self.ctx.source_lines):
            yield self.error(row, "line_end", f"the source text has only {len(self.ctx.source_lines)} lines")


class PrintedInSourceCheck(PortalCheck, type="printed-in-source"):
    """Provenance: the value as printed stands in the source text on the lines the row names."""

    def validate_row(self, row):
        lines = self.ctx.source_lines
        if lines is None or row["line_end"] < row["line_start"] or row["line_end"] > len(lines):
            return
        text = "\n".join(lines[row["line_start"] - 1 : row["line_end"]])
        if not occurrences(text, row["value_as_printed"]):
            a, b = row["line_start"], row["line_end"]
            where = f"line {a}" if a == b else f"lines {a}-{b}"
            yield self.error(row, "value_as_printed", f"{row['value_as_printed']!r} is not printed on {where} of the source")


class ReferenceCheck(PortalCheck, type="figure-reference"):
    """part_of and ratio_of name figures that exist in this package."""

    def validate_row(self, row):
        for ref in (row.get("part_of") or "").split():
            if ref not in self.ctx.index:
                yield self.error(row, "part_of", f"part_of names unknown figure {ref!r}")
            elif ref == row["figure_id"]:
                yield self.error(row, "part_of", "a figure cannot be part of itself")
            elif mismatch := unlike(row, self.ctx.index[ref][1]):
                yield self.error(row, "part_of", f"a part adds up only with its total's {mismatch}: {ref} differs")
        ratio = row.get("ratio_of") or ""
        if ratio and not self.ctx.ratio_ids(ratio):
            note = f"ratio_of must be NUMERATOR_ID/DENOMINATOR_ID of figures in this package, not {ratio!r}"
            yield self.error(row, "ratio_of", note)


class BasisCheck(PortalCheck, type="basis"):
    """The basis says how a figure may be combined; its unit, sign and printed form must fit it."""

    @staticmethod
    def problem(row) -> tuple[str, str]:
        basis, unit, per = row.get("basis"), row["unit"], units.rate_numerator(row["unit"])
        if basis == "rate" and per is None:
            return f"a rate's unit keeps its denominator (元/人/月, 万元/村), not {unit!r}", "unit"
        if basis in ("amount", "share") and per is not None:
            return f"unit {unit!r} is per something: basis must be 'rate' or 'level'", "basis"
        if basis == "share" and unit not in ("%", "‰"):
            return f"a share is in % or ‰, not {unit!r}", "unit"
        if Decimal(str(row["value"])).is_finite() and row["value"] < 0 and basis != "level":
            return "only a level (temperature, altitude, ...) can be negative", "value"
        if row.get("implied") and units.parse_printed_number(row["value_as_printed"]) is not None:
            return "an implied value has no printed number: value_as_printed holds the words (全部)", "implied"
        return "", ""


class ErratumAwareCheck(PortalCheck):
    """A consistency check whose failures are accepted only when recorded in errata.yaml."""

    def judge(
        self, row, computed: Decimal, printed: Decimal, tolerance: Decimal, describe: str, describe_zh: str, describe_en: str
    ):
        """Record the outcome for the quality page; an error unless it passes or an erratum explains it. `describe`
        words the error messages; `describe_zh` and `describe_en` are what the quality page shows in each edition."""
        fid = row["figure_id"]
        ok = abs(computed - printed) <= tolerance
        erratum = self.ctx.errata.get((self.type, fid))
        self.ctx.results.append(
            {
                "check": self.type,
                "figure_id": fid,
                "ok": ok,
                "erratum": erratum is not None,
                "printed": row["value_as_printed"],
                "computed": computed,
                "unit": row["unit"],
                "describe": describe,
                "describe_zh": describe_zh,  # what the quality page shows
                "describe_en": describe_en,
            }
        )
        note = self.verdict(row, erratum, ok, computed, tolerance, describe) if erratum is not None or not ok else ""
        if note:
            yield self.Error.at(row, "value", note)

    def verdict(self, row, erratum: dict | None, ok: bool, computed: Decimal, tolerance: Decimal, describe: str) -> str:
        fid = row["figure_id"]
        if erratum is None:
            return (
                f"{describe}: printed {row['value_as_printed']}, computed {fmt(computed)} {row['unit']}; "
                f"fix the data or record the source's error in errata.yaml (check {self.type}, figure_id {fid})"
            )
        self.ctx.used_errata.add((self.type, fid))
        if ok:
            return f"errata.yaml records {erratum.get('id')!r} for {fid}, but the check now passes: remove the erratum"
        recorded = units.parse_printed_number(str(erratum.get("computed", "")))
        f = units.factor(row["printed_unit"], row["unit"]) or Decimal(1)
        if recorded is None or abs(recorded * f - computed) > tolerance:
            return (
                f"errata.yaml {erratum.get('id')!r} says the parts give {erratum.get('computed')!r}, "
                f"but they give {fmt(computed / f)} ({describe})"
            )
        return ""


class PartOfTotalCheck(ErratumAwareCheck, type="part-of-total"):
    """Parts add up to the printed total they name in part_of (to half a unit of the last printed digit)."""

    def validate_row(self, row):
        return iter(())

    def validate_end(self):
        for fid, (family, row) in sorted(self.ctx.index.items()):
            parts = self.ctx.parts_of(fid) if family == self.family else []
            values = [exact_value(p) for p in parts]
            total = exact_value(row)
            if not parts or total is None or any(v is None for v in values):
                continue  # no parts, or a conversion that value-conversion reports
            tolerance = max(half_unit(r) for r in parts + [row])
            n = len(parts)
            yield from self.judge(
                row, sum(values), total, tolerance, f"sum of {n} parts", f"{n}项分项之和", f"Sum of its {n} parts"
            )


class RestatesCheck(ErratumAwareCheck, type="restates"):
    """A restatement names the first statement of its figure in this package and prints the same value."""

    def validate_row(self, row):
        ref = row.get("restates") or ""
        if not ref:
            return
        note, field_name = self.problem(row, ref)
        if note:
            yield self.error(row, field_name, note)
            return
        target = self.ctx.index[ref][1]
        mine, theirs = exact_value(row), exact_value(target)
        if mine is not None and theirs is not None:
            tolerance = max(half_unit(row), half_unit(target))
            yield from self.judge(
                {**row, "_n": row.row_number},
                theirs,
                mine,
                tolerance,
                f"restatement of {ref}",
                f"重复表述{ref}的数",
                f"Restates {ref}",
            )

    def problem(self, row, ref: str) -> tuple[str, str]:
        if ref == row["figure_id"]:
            return "a figure cannot restate itself", "restates"
        if ref not in self.ctx.index:
            return f"restates names unknown figure {ref!r}", "restates"
        target = self.ctx.index[ref][1]
        if target.get("restates"):  # one level only: no chains, so no cycles
            return f"{ref} is itself a restatement (of {target['restates']}): name the first statement", "restates"
        if row.get("part_of") or row.get("is_total"):
            field_name = "part_of" if row.get("part_of") else "is_total"
            return f"a restatement is never added up: part_of and is_total belong on {ref}", field_name
        if target["unit"] != row["unit"]:
            return f"restates {ref} in {target['unit']}, but this row is in {row['unit']}", "unit"
        return "", ""


class RatioCheck(ErratumAwareCheck, type="ratio"):
    """A printed share equals 100 × numerator / denominator (to half a unit of its last digit)."""

    def validate_row(self, row):
        ids = self.ctx.ratio_ids(row.get("ratio_of") or "")
        if not ids:
            return
        num, den = (exact_value(self.ctx.index[i][1]) for i in ids)
        share = exact_value(row)
        if num is None or den in (None, 0) or share is None:
            return
        computed = Decimal(100) * num / den if row["unit"] == "%" else num / den
        row = {**row, "_n": row.row_number}
        yield from self.judge(
            row,
            computed,
            share,
            half_unit(row) + Decimal("1e-9"),
            f"{ids[0]} / {ids[1]}",
            f"{ids[0]}除以{ids[1]}",
            f"{ids[0]} divided by {ids[1]}",
        )


ROW_CHECKS = (
    FigureIdCheck,
    DocumentCheck,
    CanonicalUnitCheck,
    ValueConversionCheck,
    LineRangeCheck,
    PrintedInSourceCheck,
    ReferenceCheck,
    BasisCheck,
    RestatesCheck,
    RatioCheck,
)
END_CHECKS = (PartOfTotalCheck,)


def checks_for(family: str, letter: str, ctx: CheckContext) -> list[Check]:
    """Every project check, set up for one figure resource of one package."""
    return [FigureIdCheck(ctx=ctx, family=family, letter=letter)] + [
        cls(ctx=ctx, family=family) for cls in ROW_CHECKS + END_CHECKS if cls is not FigureIdCheck
    ]
