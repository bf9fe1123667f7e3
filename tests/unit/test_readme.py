"""The README's integrator tables name every setting the app reads and every issuer key."""

from __future__ import annotations

import re

import pytest

from launch.issuers import _KEY_TYPES
from tests.conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
SETTINGS = (PROJECT_ROOT / "smartapp" / "settings.py").read_text(encoding="utf-8")
GUNICORN = (PROJECT_ROOT / "config" / "gunicorn.conf.py").read_text(encoding="utf-8")


def settings_read() -> list[str]:
    """SMARTAPP_* names settings.py and the gunicorn config read."""
    app = re.findall(r'(?:\(source, |source\.get\()"([A-Z_]+)"', SETTINGS)
    server = re.findall(r'os\.environ\.get\("SMARTAPP_([A-Z_]+)"', GUNICORN)
    return sorted({*app, *server})


def test_the_settings_scan_finds_what_it_should() -> None:
    assert {"BASE_URL", "TOKEN_KEY", "AUDIT_RETENTION_DAYS", "BIND", "THREADS"} <= set(
        settings_read()
    )


@pytest.mark.parametrize("name", settings_read())
def test_readme_names_every_setting(name: str) -> None:
    assert re.search(rf"^\| [^\n]*`SMARTAPP_{name}`", README, re.M), f"SMARTAPP_{name}"


@pytest.mark.parametrize("key", sorted(_KEY_TYPES))
def test_readme_explains_every_issuer_key(key: str) -> None:
    assert re.search(rf"^\| `{key}` \| .+ \| .+ \|$", README, re.M), key
