"""The project's own checks, as frictionless custom checks: one small class each, with a `type` name.

Each check sees the rows of one figure resource (targets, investments, ...) and a CheckContext with the
whole package, so that totals, ratios and provenance can be verified across resources. Errors are
CellErrors, so they report row and field like frictionless's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

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
    """The figure's value as printed, converted exactly (Decimal) to its canonical unit."""
    return units.convert(row["value_as_printed"], row["printed_unit"], row["unit"])


def half_unit(row: dict) -> Decimal:
    """Half a unit of the last printed digit, in the canonical unit: the rounding a printed figure allows."""
    f = units.factor(row["printed_unit"], row["unit"]) or Decimal(1)
    return Decimal(5) * Decimal(10) ** -(units.decimals(row["value_as_printed"]) + 1) * f


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


class PortalError(errors.CellError):
    type = "portal-error"
    title = "Portal check"
    description = "A project check failed."


def cell_error(row_number: int, field_name: str, cell, note: str, cls=PortalError):
    return cls(note=note, cells=[], row_number=row_number, cell=str(cell), field_name=field_name, field_number=0)


class PortalCheck(Check):
    """Base: gets its context after construction, keeps row numbers for errors reported at the end."""

    Errors = [PortalError, errors.CellError]
    ctx: CheckContext

    @classmethod
    def make(cls, ctx: CheckContext) -> "PortalCheck":
        check = cls()
        check.ctx = ctx
        return check


class FigureIdCheck(PortalCheck):
    """Figure ids start with their family's letter, so an id says where the figure lives."""

    type = "figure-id"
    letter = ""

    def validate_row(self, row):
        if self.letter and not str(row["figure_id"]).startswith(self.letter):
            yield errors.CellError.from_row(
                row, note=f"figure ids in this resource start with {self.letter!r}", field_name="figure_id"
            )


class DocumentCheck(PortalCheck):
    """Every row of a package belongs to the package's own document."""

    type = "document-id"

    def validate_row(self, row):
        if row["doc_id"] != self.ctx.doc_id:
            yield errors.CellError.from_row(
                row, note=f"doc_id must be {self.ctx.doc_id!r}, this package's document", field_name="doc_id"
            )


class CanonicalUnitCheck(PortalCheck):
    """Values are stored in one canonical unit per quantity (money in 万元)."""

    type = "canonical-unit"

    def validate_row(self, row):
        if not units.is_canonical(row["unit"]):
            yield errors.CellError.from_row(
                row, note=f"unit {row['unit']!r} is not canonical; use {units.canonical_for(row['unit'])!r}", field_name="unit"
            )


class ValueConversionCheck(PortalCheck):
    """`value` is `value_as_printed` converted by the code's factor, never by hand."""

    type = "value-conversion"

    def validate_row(self, row):
        if not Decimal(str(row["value"])).is_finite():  # frictionless reads "NaN" and "inf" as numbers
            yield errors.CellError.from_row(row, note=f"value must be a finite number, not {row['value']}", field_name="value")
            return
        number = units.parse_printed_number(row["value_as_printed"])
        if number is None:
            yield errors.CellError.from_row(
                row, note="value_as_printed must start with the printed number", field_name="value_as_printed"
            )
            return
        if units.factor(row["printed_unit"], row["unit"]) is None:
            yield errors.CellError.from_row(
                row, note=f"no conversion from printed unit {row['printed_unit']!r} to {row['unit']!r}", field_name="printed_unit"
            )
            return
        expected = exact_value(row)
        if abs(Decimal(str(row["value"])) - expected) > Decimal("1e-9") * max(Decimal(1), abs(expected)):
            yield errors.CellError.from_row(
                row,
                note=f"value {row['value']} does not match {row['value_as_printed']} in {row['unit']} (expected {fmt(expected)})",
                field_name="value",
            )


class LineRangeCheck(PortalCheck):
    """A locator is an ordered line range inside the source text."""

    type = "line-range"

    def validate_row(self, row):
        if row["line_end"] < row["line_start"]:
            yield errors.CellError.from_row(row, note="line_end is before line_start", field_name="line_end")
        elif self.ctx.source_lines is not None and row["line_end"] > len(self.ctx.source_lines):
            yield errors.CellError.from_row(
                row, note=f"the source text has only {len(self.ctx.source_lines)} lines", field_name="line_end"
            )


class PrintedInSourceCheck(PortalCheck):
    """Provenance: the value as printed stands in the source text on the lines the row names."""

    type = "printed-in-source"

    def validate_row(self, row):
        lines = self.ctx.source_lines
        if lines is None or row["line_end"] < row["line_start"] or row["line_end"] > len(lines):
            return
        text = "\n".join(lines[row["line_start"] - 1 : row["line_end"]])
        if not occurrences(text, row["value_as_printed"]):
            where = (
                f"line {row['line_start']}"
                if row["line_start"] == row["line_end"]
                else f"lines {row['line_start']}-{row['line_end']}"
            )
            yield errors.CellError.from_row(
                row, note=f"{row['value_as_printed']!r} is not printed on {where} of the source", field_name="value_as_printed"
            )


class ReferenceCheck(PortalCheck):
    """part_of and ratio_of name figures that exist in this package."""

    type = "figure-reference"

    def validate_row(self, row):
        for ref in (row.get("part_of") or "").split():
            if ref not in self.ctx.index:
                yield errors.CellError.from_row(row, note=f"part_of names unknown figure {ref!r}", field_name="part_of")
            elif ref == row["figure_id"]:
                yield errors.CellError.from_row(row, note="a figure cannot be part of itself", field_name="part_of")
        ratio = row.get("ratio_of") or ""
        if ratio:
            ids = ratio.split("/")
            if len(ids) != 2 or not all(i in self.ctx.index for i in ids):
                yield errors.CellError.from_row(
                    row,
                    note=f"ratio_of must be NUMERATOR_ID/DENOMINATOR_ID of figures in this package, not {ratio!r}",
                    field_name="ratio_of",
                )


class ErratumAwareCheck(PortalCheck):
    """A consistency check whose failures are accepted only when recorded in errata.yaml."""

    def judge(self, row, computed: Decimal, printed: Decimal, tolerance: Decimal, field_name: str, describe: str):
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
            }
        )
        if erratum is not None:
            self.ctx.used_errata.add((self.type, fid))
            if ok:
                yield cell_error(
                    row["_n"],
                    field_name,
                    row["value_as_printed"],
                    f"errata.yaml records {erratum.get('id')!r} for {fid}, but the check now passes: remove the erratum",
                )
                return
            recorded = units.parse_printed_number(str(erratum.get("computed", "")))
            f = units.factor(row["printed_unit"], row["unit"]) or Decimal(1)
            if recorded is None or abs(recorded * f - computed) > tolerance:
                yield cell_error(
                    row["_n"],
                    field_name,
                    row["value_as_printed"],
                    f"errata.yaml {erratum.get('id')!r} says the parts give {erratum.get('computed')!r}, but they give {fmt(computed / f)} ({describe})",
                )
            return
        if not ok:
            yield cell_error(
                row["_n"],
                field_name,
                row["value_as_printed"],
                f"{describe}: printed {row['value_as_printed']}, computed {fmt(computed)} {row['unit']}; fix the data or record the source's error in errata.yaml (check {self.type}, figure_id {fid})",
            )


class PartOfTotalCheck(ErratumAwareCheck):
    """Parts add up to the printed total they name in part_of (to half a unit of the last printed digit)."""

    type = "part-of-total"

    def validate_row(self, row):
        return iter(())

    def validate_end(self):
        for fid, (family, row) in sorted(self.ctx.index.items()):
            if family != self.family:
                continue
            parts = self.ctx.parts_of(fid)
            if not parts:
                continue
            values = [exact_value(p) for p in parts]
            total = exact_value(row)
            if total is None or any(v is None for v in values):
                continue  # reported by value-conversion
            tolerance = max(half_unit(r) for r in parts + [row])
            yield from self.judge(row, sum(values), total, tolerance, "value", f"sum of {len(parts)} parts")


class RatioCheck(ErratumAwareCheck):
    """A printed share equals 100 × numerator / denominator (to half a unit of its last digit)."""

    type = "ratio"

    def validate_row(self, row):
        ratio = row.get("ratio_of") or ""
        ids = ratio.split("/")
        if len(ids) != 2 or not all(i in self.ctx.index for i in ids):
            return
        num, den = (exact_value(self.ctx.index[i][1]) for i in ids)
        share = exact_value(row)
        if num is None or den in (None, 0) or share is None:
            return
        computed = Decimal(100) * num / den if row["unit"] == "%" else num / den
        row = {**row, "_n": row.row_number}
        yield from self.judge(row, computed, share, half_unit(row) + Decimal("1e-9"), "value", f"{ids[0]} / {ids[1]}")


ROW_CHECKS = (
    FigureIdCheck,
    DocumentCheck,
    CanonicalUnitCheck,
    ValueConversionCheck,
    LineRangeCheck,
    PrintedInSourceCheck,
    ReferenceCheck,
    RatioCheck,
)
END_CHECKS = (PartOfTotalCheck,)
CHECK_TYPES = tuple(c.type for c in ROW_CHECKS + END_CHECKS)


def checks_for(family: str, letter: str, ctx: CheckContext) -> list[Check]:
    made = []
    for cls in ROW_CHECKS + END_CHECKS:
        check = cls.make(ctx)
        check.family = family
        if cls is FigureIdCheck:
            check.letter = letter
        made.append(check)
    return made
