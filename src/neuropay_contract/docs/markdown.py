"""Spec text (Markdown that may hold HTML) made safe for the docs' HTML and Markdown pages."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# Spec text is Markdown that may hold HTML (PayPal's does: links, lists, <code>). It is rendered,
# then sanitised by Ammonia (nh3) to an allowlist: text markup and http(s) links only. No script,
# style, event handler, image or iframe survives, so the page still loads nothing from outside.
_MD = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h3", "h4",
    "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


def sanitise(html: str) -> str:
    """HTML reduced to the allowlist: what is not allowed is dropped (script and style with
    their content), links keep only http, https and mailto targets."""
    return nh3.clean(
        html,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def markdown_html(text: str) -> str:
    """Markdown from the spec as sanitised HTML."""
    return sanitise(str(_MD.render(text or "")))


def markdown_inline(text: str) -> str:
    """One line of Markdown (field descriptions) as sanitised inline HTML."""
    return sanitise(str(_MD.renderInline(text or "")))


def markdown_text(text: str) -> str:
    """Spec text for the Markdown page: ``<`` outside code spans becomes ``&lt;`` so raw HTML in the
    spec stays text on GitHub and wikis, while code spans (which show ``&lt;`` literally) are kept."""
    pieces = re.split(r"(`+[^`]*`+)", text or "")
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in pieces)


def breakable(text: str) -> Markup:
    """Escaped text that may wrap inside camelCase and snake_case names (narrow table columns)."""

    def split(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < 18:  # short names read better whole
            return word
        return re.sub(r"(?<=[a-z_])(?=[A-Z])|(?<=_)(?=[a-z])", "<wbr>", word)

    words = re.sub(r"[A-Za-z_]+", split, str(escape(text)))
    return Markup(re.sub(r"(?<=\.)(?=[A-Za-z_])|(?=\[\])", "<wbr>", words))  # dotted field paths


def table_cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table (one line, escaped pipes)."""
    return markdown_text(" ".join(str(text).split())).replace("|", "\\|")
