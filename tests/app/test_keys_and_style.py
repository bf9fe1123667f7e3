"""Key rotation from the command line, and the EHR's style document turned into safe CSS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
import responses
from cryptography.fernet import Fernet

from smartapp.chart.ehr_style import fetch_style, same_origin, style_css
from smartapp.commands.db import upgrade


def _keys(url: str, token_key: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartapp.commands.cli", "keys", command, "--database-url", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "SMARTAPP_TOKEN_KEY": token_key},
    )


def test_keys_rotate_keeps_the_old_keys_published_until_their_overlap_ends(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    token_key = Fernet.generate_key().decode()
    first = _keys(url, token_key, "show")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(" current") == 2  # one RS384 and one ES384, created on first use
    again = _keys(url, token_key, "show")
    # persisted, never regenerated (listed in whatever order the database returns them)
    assert sorted(again.stdout.splitlines()) == sorted(first.stdout.splitlines())
    rotated = _keys(url, token_key, "rotate")
    lines = rotated.stdout.splitlines()
    assert sum(" current" in line for line in lines) == 2
    assert sum(" retired " in line for line in lines) == 2
    old_kids = {line.split()[0] for line in first.stdout.splitlines()}
    assert old_kids <= {line.split()[0] for line in lines}


def test_keys_without_the_token_key_is_a_one_line_refusal(tmp_path: Path) -> None:
    done = _keys(f"sqlite:///{tmp_path / 'k.db'}", "", "show")
    assert done.returncode == 2 and "SMARTAPP_TOKEN_KEY" in done.stderr
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("document", "present", "absent"),
    [
        (
            {"color_background": "#edeae3", "color_text": "#222"},
            ["--bg: #edeae3;", "--fg: #222;"],
            [],
        ),
        (
            {"dim_border_radius": 6, "font_family_body": "Georgia, serif"},
            ["--radius: 6px;", "--font-body: Georgia, serif;"],
            [],
        ),
        (
            {"color_background": "red;} body{display:none", "color_text": "url(javascript:x)"},
            [],
            ["display:none", "javascript"],
        ),
        ({"font_family_body": "x</style><script>alert(1)</script>"}, [], ["<script>"]),
        ("not an object", [], [":root"]),
    ],
)
def test_ehr_style_values_are_checked_before_they_reach_css(document, present, absent) -> None:
    css = style_css(document)
    for text in present:
        assert text in css
    for text in absent:
        assert text not in css


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://ehr.example.org/smart-style.json", True),
        ("https://ehr.example.org:8443/smart-style.json", False),
        ("http://ehr.example.org/smart-style.json", False),
        ("https://evil.example.com/smart-style.json", False),
    ],
)
def test_ehr_style_is_read_only_from_the_issuers_origin(url, allowed) -> None:
    assert same_origin(url, "https://ehr.example.org/fhir") is allowed


STYLE_URL = "https://ehr.example.org/smart-style.json"
STYLE_ISS = "https://ehr.example.org/fhir"


def test_ehr_style_redirect_to_another_origin_is_not_followed() -> None:
    elsewhere = "https://evil.example.com/smart-style.json"
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        requests.Session() as http,
    ):
        mock.get(STYLE_URL, status=302, headers={"Location": elsewhere})
        other = mock.get(elsewhere, json={"color_text": "#ff0000"})
        assert fetch_style(STYLE_URL, STYLE_ISS, http) == ""
        assert not other.calls


def test_ehr_style_redirect_within_the_issuers_origin_is_followed() -> None:
    moved = "https://ehr.example.org/styles/v2.json"
    with responses.RequestsMock() as mock, requests.Session() as http:
        mock.get(STYLE_URL, status=301, headers={"Location": "/styles/v2.json"})
        mock.get(moved, json={"color_text": "#102030"})
        assert "--fg: #102030;" in fetch_style(STYLE_URL, STYLE_ISS, http)


def test_ehr_style_redirect_loop_gives_no_style() -> None:
    with responses.RequestsMock() as mock, requests.Session() as http:
        looped = mock.get(STYLE_URL, status=302, headers={"Location": STYLE_URL})
        assert fetch_style(STYLE_URL, STYLE_ISS, http) == ""
        assert len(looped.calls) <= 4
