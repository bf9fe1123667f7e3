"""The program-screen tests: a frozen clock, and the app with the organisation's program."""

from __future__ import annotations

import pytest
import time_machine

from tests.app_helpers import NOW, program_settings


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def app_config(tmp_path):
    return program_settings(tmp_path)
