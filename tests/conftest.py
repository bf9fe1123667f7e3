"""Shared test configuration: the project's folders, and the app and its test client.

As in Flask's tutorial, `app` is the application made by `create_app` from `app_config` (a
folder's conftest or a test module overrides `app_config` to configure it differently) and
`client` its test client. Helpers to make sessions and post forms are in tests/app_helpers.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["tests.postgres"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
UNDER_CI = bool(os.environ.get("CI"))

# Property tests judge behaviour, not speed: a busy CI host must not fail them on a timer, and
# under CI they replay the same examples every run so a failure can be reproduced.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if UNDER_CI else "default")


def skip_or_fail(reason: str) -> None:
    """Skip a test whose layer cannot run here; under CI (`CI` set), fail it instead, so a
    missing tool (Node, Chromium, wrk, PostgreSQL, ../shared) never passes as a skip."""
    if UNDER_CI:
        pytest.fail(f"cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, str]:
    """The settings the `app` fixture is made with (names without the SMARTAPP_ prefix)."""
    from tests.app_helpers import app_settings

    return app_settings(tmp_path)


@pytest.fixture
def app(app_config: dict[str, str]):
    """The app, closed after the test."""
    from smartapp.app import create_app

    application = create_app(app_config)
    yield application
    application.extensions["smartapp"].close()


@pytest.fixture
def client(app):
    """The app's test client."""
    return app.test_client()


@pytest.fixture(autouse=True)
def _forget_ehr_key_sets():
    """Each test reads the EHR key sets it serves: none is kept from another test's EHR."""
    from launch.ehr_key_sets import ehr_key_sets

    ehr_key_sets.clear()
    yield
    ehr_key_sets.clear()
