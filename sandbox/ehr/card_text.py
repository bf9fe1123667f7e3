"""A card's markdown `detail` as HTML, the way an EHR renders it: CommonMark, raw HTML refused."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

# `html` off: any HTML in the detail is shown as text; markdown-it refuses javascript:, vbscript:,
# file: and data: link targets (other than images) on its own.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def card_html(detail: object) -> Markup:
    """The detail rendered; nothing when there is none."""
    if not isinstance(detail, str) or not detail:
        return Markup("")
    return Markup(_MARKDOWN.render(detail))  # noqa: S704  # markdown-it escapes all text
