"""Part of derive: each figure's source sentence, with the figure marked, for its anchor on the document page.
The sentence is the source's Chinese in both editions: the English page shows it as a marked quote, introduced
in English, with its lines from the row (templates/document.md.j2).

Only when the build has the source texts (settings.sources); validate has already checked each text's sha256
and that every figure's value as printed stands on its lines, so the sentence found here is the one checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .checks import occurrences
from .derive import Derived

SENTENCE_END = re.compile(r"[。！？；\n]")
MAX_SIDE = 90  # characters kept on each side of the figure when its sentence is longer


@dataclass(frozen=True)
class Excerpt:
    before: str
    printed: str  # the figure as printed, shown marked
    after: str


def sentence_around(text: str, i: int, j: int) -> tuple[str, str]:
    """The text before i and after j up to the sentence's ends, cut to MAX_SIDE characters with an ellipsis."""
    starts = [m.end() for m in SENTENCE_END.finditer(text, 0, i)]
    start = starts[-1] if starts else 0
    end_m = SENTENCE_END.search(text, j)
    end = end_m.end() if end_m and end_m.group() != "\n" else (end_m.start() if end_m else len(text))
    before, after = text[start:i].lstrip(), text[j:end].rstrip()
    if len(before) > MAX_SIDE:
        before = "…" + before[-MAX_SIDE:]
    if len(after) > MAX_SIDE:
        after = after[:MAX_SIDE] + "…"
    return before, after


def excerpt(lines: list[str], row: dict) -> Excerpt | None:
    a, b = row["line_start"], row["line_end"]
    if a < 1 or b > len(lines) or b < a:
        return None
    text = "\n".join(x.strip() for x in lines[a - 1 : b])
    spans = occurrences(text, row["value_as_printed"])
    if not spans:
        return None
    i, j = spans[0]
    before, after = sentence_around(text, i, j)
    return Excerpt(" ".join(before.split("\n")), text[i:j], " ".join(after.split("\n")))


def run(derived: Derived, sources: Path | None) -> dict[tuple[str, str], Excerpt] | None:
    """(doc_id, figure_id) -> Excerpt for every figure; None when the build has no source texts."""
    if sources is None:
        return None
    out = {}
    for pkg in derived.packages:
        path = Path(sources) / pkg.document["source_file"]
        if not path.is_file():
            return None  # validate reports a missing text; without all of them the site says excerpts are unavailable
        lines = path.read_bytes().decode("utf-8").split("\n")  # as validate numbers them
        for _family, row in pkg.figures():
            found = excerpt(lines, row)
            if found:
                out[(pkg.id, row["figure_id"])] = found
    return out
