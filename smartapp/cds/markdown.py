"""Markdown escaping for card text: what came from FHIR is shown as written, never as markup."""

from __future__ import annotations

import re

# CommonMark: any ASCII punctuation may be backslash-escaped; these are the ones that make
# emphasis, links, images, code, tables (GFM), strikethrough, raw HTML or entities inline. Block
# markup (headings, lists) needs a line start, and the text is always put after other text.
_SPECIAL = re.compile(r"([\\`*_\[\]<>&~|])")
_SPACE = re.compile(r"\s+")


def escape_markdown(text: str) -> str:
    """The text, for use inside a line, with every inline markdown character escaped and runs of
    white space (new lines included, which would start a block) made one space."""
    return _SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text).strip())
