"""Fixtures of the program-screen tests: a frozen clock and the app on a fresh database."""

from __future__ import annotations

import pytest
import time_machine

from tests.app.program_app import NOW, make_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def app(tmp_path):
    application = make_app(tmp_path)
    yield application
    application.extensions["smartapp"].close()


@pytest.fixture
def client(app):
    return app.test_client()
