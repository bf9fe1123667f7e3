"""The EHR's look (SMART `smart_style_url`) as CSS variables, read from the EHR's own origin.

SMART App Launch lets the EHR send a style document (colours, radius, fonts). Values go into
CSS, so each is checked against a strict pattern and anything else is dropped; the document is
fetched only from the issuer's origin (no fetching arbitrary URLs on the EHR's say-so), and a
redirect is followed only while it stays on that origin.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

_COLOUR = re.compile(r"^(#[0-9A-Fa-f]{3,8}|rgba?\([0-9., %]{5,40}\))$")
_DIMENSION = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?(px|em|rem|%)?$")
# Redirects followed within the issuer's origin before the style is given up.
MAX_REDIRECTS = 3
_FONT = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,120}$")
# SMART style property -> (the app's CSS variable, the pattern its value must match)
_PROPERTIES = {
    "color_background": ("--bg", _COLOUR),
    "color_text": ("--fg", _COLOUR),
    "color_error": ("--action", _COLOUR),
    "color_success": ("--ok", _COLOUR),
    "color_highlight": ("--attention", _COLOUR),
    "dim_border_radius": ("--radius", _DIMENSION),
    "dim_font_size": ("--font-size", _DIMENSION),
    "font_family_body": ("--font-body", _FONT),
}


def same_origin(url: str, iss: str) -> bool:
    """True when `url` is on the issuer's scheme, host and port."""
    a, b = urlsplit(url), urlsplit(iss)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and a.scheme == "https"


def style_css(document: Any) -> str:
    """CSS custom properties for the values that pass their pattern; the rest are ignored."""
    if not isinstance(document, dict):
        return ""
    lines = []
    for name, (variable, pattern) in _PROPERTIES.items():
        value = document.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value}px"
        if isinstance(value, str) and pattern.match(value.strip()):
            lines.append(f"  {variable}: {value.strip()};")
    if not lines:
        return ""
    return (
        ":root {\n" + "\n".join(lines) + "\n}\nbody { font-family: var(--font-body, inherit); }\n"
    )


def fetch_style(url: str, iss: str, http: requests.Session, timeout: float = 5.0) -> str:
    """The EHR's style as CSS; empty when the URL (or a redirect) is off-origin or unusable."""
    for _ in range(MAX_REDIRECTS + 1):
        if not same_origin(url, iss):
            return ""
        try:
            response = http.get(
                url, timeout=timeout, headers={"Accept": "application/json"}, allow_redirects=False
            )
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            response.raise_for_status()
            return style_css(response.json())
        except (requests.RequestException, ValueError):
            return ""
    return ""
