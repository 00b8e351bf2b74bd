"""HTML helpers for the docs tests: a strict well-formedness check and sample extraction."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
# Elements whose end tag HTML lets you leave out; the generator closes them anyway, so a
# missing one is still a bug worth failing on.


class Checked(HTMLParser):
    """Parses a page and records what a test needs: tag balance problems, ids, everything the page
    would load by itself, and the text of each ``<pre>`` by id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.loads: list[str] = []
        self.pre: dict[str, str] = {}
        self._pre_id: str | None = None
        self._svg_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        for name in ("src", "srcset", "poster", "data"):
            if values.get(name):
                self.loads.append(str(values[name]))
        if tag == "link" and values.get("href"):
            self.loads.append(str(values["href"]))
        if tag == "pre" and values.get("id"):
            self._pre_id = str(values["id"])
            self.pre[self._pre_id] = ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if values.get("src"):
            self.loads.append(str(values["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "pre":
            self._pre_id = None

    def handle_data(self, data: str) -> None:
        if self._pre_id is not None:
            self.pre[self._pre_id] += data


def check(html: str) -> Checked:
    parser = Checked()
    parser.feed(html)
    parser.close()
    if parser.stack:
        parser.problems.append(f"unclosed: {parser.stack}")
    return parser
