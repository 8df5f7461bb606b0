"""Coverage: every number printed in a source text is either a published figure or explained.

A maintainer adding a document runs `portal coverage --sources DIR` to see what is still to extract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..stages.checks import occurrences
from ..stages.load import DataPackage
from ..units import NUMBER_RE


@dataclass(frozen=True)
class Uncovered:
    line: int
    number: str
    context: str


def parse_lines(spec) -> tuple[int, int]:
    a, _, b = str(spec).partition("-")
    return int(a), int(b or a)


Spans = dict[int, list[tuple[int, int]]]  # line number -> (start, end) offsets inside that line


def figure_spans(pkg: DataPackage, lines: list[str], spans: Spans) -> None:
    """Add where each figure row's value_as_printed stands on its lines (a value may run over several)."""
    for _, row in pkg.figures():
        a, b = row["line_start"], row["line_end"]
        if a < 1 or b > len(lines) or b < a:
            continue
        starts, text = [], ""
        for n in range(a, b + 1):  # offsets of each line inside the joined range
            starts.append(len(text))
            text += lines[n - 1] + "\n"
        for i, j in occurrences(text, row["value_as_printed"]):
            for k, n in enumerate(range(a, b + 1)):
                s, e = starts[k], starts[k] + len(lines[n - 1])
                if i < e and j > s:
                    spans.setdefault(n, []).append((max(i, s) - s, min(j, e) - s))


def ignore_spans(pkg: DataPackage, lines: list[str], spans: Spans) -> None:
    """Add what each ignore entry explains: its pattern's matches on its lines, or the whole lines."""
    for entry in pkg.ignore:
        try:
            a, b = parse_lines(entry.get("lines"))
        except ValueError:
            continue
        pattern = entry.get("pattern")
        for n in range(max(a, 1), min(b, len(lines)) + 1):
            if pattern is None:
                spans.setdefault(n, []).append((0, len(lines[n - 1])))
            else:
                for m in re.finditer(str(pattern), lines[n - 1]):
                    spans.setdefault(n, []).append(m.span())


def covered_spans(pkg: DataPackage, lines: list[str], figures: bool = True, ignored: bool = True) -> Spans:
    """Spans of each line explained by a figure row and/or by an ignore entry."""
    spans: Spans = {}
    if figures:
        figure_spans(pkg, lines, spans)
    if ignored:
        ignore_spans(pkg, lines, spans)
    return spans


def uncovered(pkg: DataPackage, lines: list[str], first: int = 1, last: int | None = None) -> list[Uncovered]:
    spans = covered_spans(pkg, lines)
    last = min(last or len(lines), len(lines))
    found = []
    for n in range(first, last + 1):
        line = lines[n - 1]
        for m in NUMBER_RE.finditer(line):
            if not any(s <= m.start() and m.end() <= e for s, e in spans.get(n, [])):
                ctx = line[max(0, m.start() - 12) : m.end() + 12].strip()
                found.append(Uncovered(n, m.group(0), ctx))
    return found


def ignored_numbers(pkg: DataPackage, lines: list[str]) -> int:
    """How many printed numbers only the ignore list explains (not figures: years, numbering, ...)."""
    by_figures = covered_spans(pkg, lines, ignored=False)
    by_ignore = covered_spans(pkg, lines, figures=False)
    count = 0
    for n, line in enumerate(lines, 1):
        for m in NUMBER_RE.finditer(line):
            inside = lambda spans: any(s <= m.start() and m.end() <= e for s, e in spans.get(n, []))  # noqa: E731
            if inside(by_ignore) and not inside(by_figures):
                count += 1
    return count
