"""Problems in the data, reported as `FILE:ROW:FIELD: message` lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    row: int | None  # spreadsheet row: the header is row 1; None when not row-specific
    field: str  # field name, or a descriptor key; "-" when not field-specific
    message: str

    def __str__(self) -> str:
        row = "-" if self.row is None else str(self.row)
        msg = " ".join(self.message.split())  # one line per error, whatever the data holds
        return f"{self.file}:{row}:{self.field or '-'}: {msg}"


class DataError(Exception):
    """Raised when the data is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.field, p.message))
        super().__init__(f"{len(self.problems)} problem(s) in the data")


class UsageError(Exception):
    """A command-line or configuration mistake (exit code 2)."""
