"""A comment's Markdown as safe HTML: markdown-it-py (CommonMark, raw HTML off) renders, then nh3 keeps only the
tags, attributes and link schemes below. Raw HTML is escaped by the renderer and whatever still looks like markup
is cleaned, so a script, an event handler or a `javascript:` link is inert text or gone, never run."""

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def render(text: str) -> str:
    """Safe HTML of a comment (to be marked safe by the template only through this function)."""
    html = _markdown.render(text or "")
    return nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, link_rel="noopener noreferrer nofollow"
    )
