"""What the English edition may show in Chinese: names in parentheses (class "zh"), values as printed
(class "printed") and quoted source text (class "quote"), each marked lang="zh-CN". Everything else a reader
sees or hears on an English page (text, title, alt, aria-label, placeholder) must have no Han character.

`python tests/english.py SITE` lists, per English page, the Chinese found outside those marks.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script: the repository's package
from build_scripts.i18n import HAN  # noqa: E402  ideographs and CJK punctuation, as the build marks them

ALLOWED = {"zh", "printed", "quote"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
READ_ATTRS = ("title", "alt", "aria-label", "placeholder", "value", "content")


class EnglishOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, inside an allowed quote)
        self.found: list[str] = []
        self.in_body = False

    def allowed(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.in_body = True
        ok = self.allowed() or (a.get("lang", "").startswith("zh") and bool(ALLOWED & set(a.get("class", "").split())))
        if self.in_body and not ok and not (tag == "meta"):
            for k in READ_ATTRS:
                if k in a and HAN.search(a[k]) and not (tag == "input" and a.get("type") == "hidden"):
                    self.found.append(f"<{tag} {k}=…> {a[k][:80]}")
        if tag not in VOID:
            self.stack.append((tag, ok or tag in ("script", "style", "template")))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):  # close up to the matching open element (HTML is forgiving)
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.in_body and not self.allowed() and HAN.search(data):
            self.found.append(data.strip()[:80])


def chinese_outside_quotes(html: str) -> list[str]:
    p = EnglishOnly()
    p.feed(html)
    p.close()
    return p.found


def main(site: Path) -> int:
    total = 0
    for page in sorted((site / "en").rglob("*.html")):
        found = chinese_outside_quotes(page.read_text(encoding="utf-8"))
        if found:
            total += len(found)
            print(f"{page.relative_to(site)}: {len(found)}")
            for f in dict.fromkeys(found):
                print(f"    {f}")
    print(f"{total} Chinese texts outside names, printed values and quotes")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
